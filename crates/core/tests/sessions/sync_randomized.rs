//! Randomised differential sync sessions (seeded, reproducible): many buckets, priorities,
//! supersedes within and across lines, REMOVE / MOVE / CLEAR, untyped rows, raw tables, bucket
//! removal, checksum failures and the write gate — the same calls into ours and the reference.
//!
//! Besides the harness' table comparison (contents), every step also compares state that is
//! invisible there but observable later: the hidden rowids of `ps_data__*` and `ps_untyped`
//! (which decide the order of `SELECT * FROM <view>`), the order of each row's ops in
//! `ps_oplog` (rowid order breaks ties between ops with the same op id) and the row order of
//! the views. This pins down that the sync hot path's batching produces exactly the
//! reference's database, not just the same contents. `ps_oplog`'s own rowids are not
//! compared: a PUT superseding a stored op rewrites it in place and keeps its rowid
//! (docs/storage.md), where the reference deletes it and inserts a new row.
use crate::common;
use crate::sync_common;

use serde_json::{json, Value as Json};
use sync_common::*;

/// Schema: two synced tables; `users` is a raw table given in `start`.
const SCHEMA: &str = r#"{"tables":[{"name":"items","columns":[{"name":"col","type":"text"}]},{"name":"others","columns":[{"name":"v","type":"integer"}]}]}"#;
const RAW: &str = r#"{"name":"users","put":{"sql":"INSERT OR REPLACE INTO users (id, name) VALUES (?, ?)","params":["Id",{"Column":"name"}]},"delete":{"sql":"DELETE FROM users WHERE id = ?","params":["Id"]}}"#;

/// Queries whose results (in order) must match after every step.
const HIDDEN_STATE: &[&str] = &[
    "SELECT bucket, op_id, key, row_type, row_id, data, hash FROM ps_oplog ORDER BY bucket, op_id, key, row_type, row_id, data, hash",
    "SELECT row_type, row_id, op_id, bucket FROM ps_oplog WHERE row_type IS NOT NULL ORDER BY row_type, row_id, op_id, rowid",
    "SELECT rowid, * FROM ps_data__items ORDER BY rowid",
    "SELECT rowid, * FROM ps_data__others ORDER BY rowid",
    "SELECT rowid, * FROM ps_untyped ORDER BY rowid",
    "SELECT rowid, * FROM users ORDER BY rowid",
    "SELECT * FROM items",
    "SELECT * FROM others",
];

/// xorshift64*: a small deterministic generator (no dependency, same sequence everywhere).
use powersync_testkit::rng::Rng;

/// Shape of a generated session.
struct Shape {
    /// Checkpoints to run.
    rounds: usize,
    /// Maximum ops per data line.
    max_ops: u64,
    /// Distinct row ids per type (small → many supersedes).
    ids: u64,
    /// Buckets.
    buckets: usize,
}

/// Per-bucket model on the test side: the checksum the service would announce.
#[derive(Default, Clone)]
struct BucketModel {
    checksum: u32,
    priority: i32,
    count: i64,
}

struct Generator {
    rng: Rng,
    op_id: i64,
    buckets: Vec<BucketModel>,
    shape: Shape,
}

impl Generator {
    fn name(b: usize) -> String {
        format!("bucket{b}")
    }

    fn op(&mut self, b: usize) -> Json {
        self.op_id += 1;
        let checksum = self.rng.next_u64() as u32;
        let kind = self.rng.below(1000);
        let (object_type, subkey) = match self.rng.below(10) {
            0..=4 => ("items", None),
            5 | 6 => ("others", None),
            7 => ("users", None),
            8 => ("untyped_things", None),
            _ => ("items", Some(format!("s{}", self.rng.below(2)))),
        };
        let id = format!("r{}", self.rng.below(self.shape.ids));
        let model = &mut self.buckets[b];
        let mut op = json!({"op_id": self.op_id.to_string(), "checksum": checksum});
        match kind {
            0..=649 => {
                op["op"] = json!("PUT");
                let data = match object_type {
                    "others" => json!({"v": self.op_id}).to_string(),
                    "users" => json!({"name": format!("n{}", self.op_id)}).to_string(),
                    _ => json!({"col": format!("v{}", self.op_id)}).to_string(),
                };
                // Occasionally a PUT without data (applied as a delete).
                op["data"] = if self.rng.chance(5) {
                    Json::Null
                } else {
                    json!(data)
                };
            }
            650..=849 => op["op"] = json!("REMOVE"),
            850..=994 => op["op"] = json!("MOVE"),
            _ => op["op"] = json!("CLEAR"),
        }
        if op["op"] == "CLEAR" {
            model.checksum = checksum;
        } else {
            model.checksum = model.checksum.wrapping_add(checksum);
        }
        model.count += 1;
        // MOVE and CLEAR have no row; some REMOVEs neither. (Not PUTs: the reference fails
        // every later apply while a PUT without row is stored, see the report.)
        if op["op"] == "PUT" || (op["op"] == "REMOVE" && !self.rng.chance(5)) {
            op["object_type"] = json!(object_type);
            op["object_id"] = json!(id);
            if let Some(s) = subkey {
                op["subkey"] = json!(s);
            }
        }
        op
    }

    fn buckets_json(&self, which: &[usize], wrong: Option<usize>) -> Vec<Json> {
        which
            .iter()
            .map(|&b| {
                let m = &self.buckets[b];
                let checksum = if wrong == Some(b) {
                    m.checksum.wrapping_add(1)
                } else {
                    m.checksum
                };
                json!({"bucket": Self::name(b), "checksum": checksum, "priority": m.priority, "count": m.count})
            })
            .collect()
    }
}

fn run(name: &str, seed: u64, shape: Shape, bson: bool) {
    let mut s = Session::new(name, SCHEMA);
    s.sql("CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT)");
    let start = format!(r#"{{"schema":{{"tables":[],"raw_tables":[{RAW}]}}}}"#);
    let mut g = Generator {
        rng: Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
        op_id: 0,
        buckets: vec![BucketModel::default(); shape.buckets],
        shape,
    };
    for b in 0..g.buckets.len() {
        g.buckets[b].priority = [0, 1, 3, 3][b % 4];
    }
    let line = |s: &mut Session, l: Json| {
        if bson {
            s.bson_line(l)
        } else {
            s.line(l)
        }
    };
    let compare_hidden = |s: &mut Session| {
        for q in HIDDEN_STATE {
            s.query(q);
        }
    };

    s.control("start", start.as_str()).unwrap();
    let mut tracked: Vec<usize> = Vec::new();
    for round in 0..g.shape.rounds {
        // The buckets of this checkpoint (occasionally one is dropped).
        let mut included: Vec<usize> = (0..g.buckets.len()).collect();
        if round > 0 && g.rng.chance(15) {
            let drop = g.rng.below(g.buckets.len() as u64) as usize;
            included.retain(|&b| b != drop);
            g.buckets[drop] = BucketModel {
                priority: g.buckets[drop].priority,
                ..Default::default()
            };
        }
        // Data first on the model, so the checkpoint announces the right checksums.
        let mut lines = Vec::new();
        for _ in 0..g.rng.below(6) + 1 {
            let b = included[g.rng.below(included.len() as u64) as usize];
            let n = g.rng.below(g.shape.max_ops) + 1;
            let ops: Vec<Json> = (0..n).map(|_| g.op(b)).collect();
            lines.push(data_line(&Generator::name(b), json!(ops)));
        }
        let wrong = g.rng.chance(8).then(|| included[0]);
        let last = g.op_id.to_string();
        let cp = if !tracked.is_empty() && g.rng.chance(50) {
            let removed: Vec<String> = tracked
                .iter()
                .filter(|b| !included.contains(b))
                .map(|&b| Generator::name(b))
                .collect();
            json!({"checkpoint_diff": {"last_op_id": last, "write_checkpoint": null,
                   "updated_buckets": g.buckets_json(&included, wrong), "removed_buckets": removed}})
        } else {
            json!({"checkpoint": {"last_op_id": last, "write_checkpoint": null,
                   "buckets": g.buckets_json(&included, wrong)}})
        };
        line(&mut s, cp).unwrap();
        tracked = included.clone();
        for l in lines {
            line(&mut s, l).unwrap();
        }
        compare_hidden(&mut s);
        if g.rng.chance(30) {
            let _ = line(
                &mut s,
                json!({"partial_checkpoint_complete": {"last_op_id": last, "priority": g.rng.below(2)}}),
            );
            compare_hidden(&mut s);
        }
        if g.rng.chance(10) {
            // A local write closes the write gate until the upload completes.
            s.sql("INSERT INTO items (id, col) VALUES ('local', 'x')");
            let _ = line(&mut s, json!({"checkpoint_complete": {"last_op_id": last}}));
            s.sql("DELETE FROM ps_crud");
            let _ = s.control("target_checkpoint_request_id", Payload::Int(0));
            let _ = s.control("completed_upload", Payload::Null);
        } else {
            let _ = line(&mut s, json!({"checkpoint_complete": {"last_op_id": last}}));
        }
        compare_hidden(&mut s);
        if wrong.is_some() {
            // A checksum failure ends the iteration and deletes the bucket: start over, and
            // let the model forget the bucket's ops like the service would resend them.
            s.control("start", start.as_str()).unwrap();
            let b = included[0];
            g.buckets[b] = BucketModel {
                priority: g.buckets[b].priority,
                ..Default::default()
            };
            tracked.clear();
        }
    }
    common::report(&format!("sync_randomized/{name}"), s.cases);
}

#[test]
fn small_lines_many_supersedes() {
    for seed in 1..=6 {
        run(
            &format!("small_lines_{seed}"),
            seed,
            Shape {
                rounds: 12,
                max_ops: 12,
                ids: 8,
                buckets: 4,
            },
            seed % 2 == 0,
        );
    }
}

#[test]
fn large_lines() {
    for seed in 11..=13 {
        run(
            &format!("large_lines_{seed}"),
            seed,
            Shape {
                rounds: 6,
                max_ops: 700,
                ids: 300,
                buckets: 3,
            },
            seed % 2 == 1,
        );
    }
}

#[test]
fn wide_id_space() {
    run(
        "wide_id_space",
        21,
        Shape {
            rounds: 8,
            max_ops: 200,
            ids: 100_000,
            buckets: 5,
        },
        false,
    );
}

/// User triggers on the synced tables see the rows written one at a time in the reference's
/// order (a log table records them), and a trigger failing in the middle of a batch yields
/// the reference's error.
#[test]
fn triggers_on_synced_tables() {
    let mut s = Session::new("triggers_on_synced_tables", SCHEMA);
    s.sql("CREATE TABLE log (event TEXT); CREATE TRIGGER log_ins AFTER INSERT ON ps_data__items BEGIN INSERT INTO log VALUES ('ins ' || NEW.id || ' ' || (SELECT count(*) FROM ps_data__items)); END; CREATE TRIGGER log_del AFTER DELETE ON ps_data__items BEGIN INSERT INTO log VALUES ('del ' || OLD.id); END");
    s.control("start", Payload::Null).unwrap();
    let mut op_id = 0;
    let mut checksum = 0u32;
    let mut ops = |n: usize, remove_every: usize, checksum: &mut u32| {
        let ops: Vec<Json> = (0..n)
            .map(|i| {
                op_id += 1;
                *checksum = checksum.wrapping_add(1);
                if remove_every > 0 && i % remove_every == 0 {
                    remove(op_id, &format!("r{}", (i * 7) % 90), 1)
                } else {
                    put(
                        op_id,
                        &format!("r{}", (i * 7) % 90),
                        1,
                        &format!("{{\"col\":\"{op_id}\"}}"),
                    )
                }
            })
            .collect();
        (json!(ops), op_id)
    };
    for (n, remove_every) in [(150, 0), (120, 9), (200, 4)] {
        let (data, last) = ops(n, remove_every, &mut checksum);
        s.line(checkpoint(last, None, &[("a", checksum as i64, 3, None)]))
            .unwrap();
        s.line(data_line("a", data)).unwrap();
        s.line(complete(last)).unwrap();
        s.query("SELECT rowid, * FROM log ORDER BY rowid");
        s.query("SELECT rowid, * FROM ps_data__items ORDER BY rowid");
    }
    s.sql("CREATE TRIGGER refuse BEFORE INSERT ON ps_data__items WHEN NEW.id = 'r63' BEGIN SELECT RAISE(ABORT, 'no r63'); END");
    let (data, last) = ops(100, 0, &mut checksum);
    s.line(checkpoint(last, None, &[("a", checksum as i64, 3, None)]))
        .unwrap();
    s.line(data_line("a", data)).unwrap();
    let failed = s.line(complete(last));
    assert!(failed.is_err(), "{failed:?}");
    common::report("sync_randomized/triggers_on_synced_tables", s.cases);
}

/// The statements the sync client keeps (its own and rusqlite's cached ones) are finalized
/// before the connection closes: closing succeeds.
#[test]
fn closing_after_a_sync_succeeds() {
    let conn = common::open_ours();
    init(&conn, SCHEMA);
    let line = |v: Json| Payload::Text(v.to_string());
    let ops: Vec<Json> = (1..=300)
        .map(|i| put(i, &format!("r{}", i % 50), 1, r#"{"col":"x"}"#))
        .collect();
    for (op, payload) in [
        ("start", Payload::Null),
        ("line_text", line(checkpoint(300, None, &[("a", 300, 3, None)]))),
        ("line_text", line(data_line("a", json!(ops)))),
        ("line_text", line(partial(300, 3))),
        ("line_text", line(complete(300))),
    ] {
        call(&conn, op, &payload).unwrap();
    }
    conn.close().map_err(|(_, e)| e).unwrap();
}
