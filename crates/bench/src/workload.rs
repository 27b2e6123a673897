//! The generated workloads: what real apps send, by default.
//!
//! 10 buckets named like the service names parameterised buckets (`items_by_group["g3"]`),
//! random UUIDv4 row ids (ordered ids hide the cost of random-key index maintenance, which is
//! what real apps pay), rows of 5 columns of about 200 bytes of JSON, 1000 ops per data line.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::types::Value;
use serde_json::json;

pub(crate) const BUCKETS: usize = 10;
pub(crate) const SCHEMA: &str = r#"{"tables":[{"name":"items","columns":[{"name":"name","type":"TEXT"},{"name":"description","type":"TEXT"},{"name":"group_id","type":"TEXT"},{"name":"n","type":"INTEGER"},{"name":"r","type":"REAL"}]}]}"#;

/// How row ids are made.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub(crate) enum Ids {
    /// Random UUIDv4, as apps generate them.
    Uuid,
    /// `b{bucket}-{i}`: sorted by insertion order, the cheap case for B-trees.
    Sequential,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Json,
    Bson,
}

/// One step of a workload, run in its own `BEGIN IMMEDIATE … COMMIT` as SDKs do.
#[derive(Clone)]
pub(crate) enum Step {
    /// `SELECT powersync_control(op, payload)`.
    Control { op: &'static str, payload: Value },
    /// A local write through the app's view.
    Sql { sql: &'static str, params: Vec<Value> },
}

/// A step with what it is, for `--breakdown`: the command, the line type of a line, or the SQL.
#[derive(Clone)]
pub(crate) struct Call {
    pub step: Step,
    pub kind: String,
}

/// A workload: steps to set up (not measured) and steps to measure.
pub(crate) struct Workload {
    pub name: String,
    pub ops: usize,
    pub setup: Vec<Call>,
    pub measured: Vec<Call>,
    /// The rows the sync writes, for the plain-SQLite floor (initial syncs only).
    pub floor: Option<Vec<(String, String)>>,
}

pub(crate) fn bucket_name(b: usize) -> String {
    format!("items_by_group[\"g{b}\"]")
}

fn line(encoding: Encoding, value: serde_json::Value) -> Call {
    let kind = value
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .unwrap_or_default();
    let step = match encoding {
        Encoding::Json => Step::Control {
            op: "line_text",
            payload: Value::Text(value.to_string()),
        },
        Encoding::Bson => {
            let doc = bson::to_document(&value).expect("JSON lines are valid BSON documents");
            let mut bytes = Vec::new();
            doc.to_writer(&mut bytes).expect("in-memory write");
            Step::Control {
                op: "line_binary",
                payload: Value::Blob(bytes),
            }
        }
    };
    Call { step, kind }
}

fn op_checksum(op_id: usize) -> u32 {
    // A cheap deterministic spread over the whole u32 range (exercises wrapping sums).
    (op_id as u32).wrapping_mul(2_654_435_761)
}

/// About 200 bytes of JSON in 5 columns.
fn row(n: usize, version: usize) -> String {
    json!({
        "name": format!("item {n}"),
        "description": format!("Description of item {n}, version {version}: enough words to make a realistic row of about two hundred bytes."),
        "group_id": format!("g{}", n % BUCKETS),
        "n": n,
        "r": n as f64 / 7.0,
    })
    .to_string()
}

/// Generates row ids, deterministically for a given seed.
pub(crate) struct IdGen {
    ids: Ids,
    rng: StdRng,
}

impl IdGen {
    pub(crate) fn new(ids: Ids, seed: u64) -> Self {
        IdGen {
            ids,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    fn next(&mut self, bucket: usize, i: usize) -> String {
        match self.ids {
            Ids::Uuid => uuid::Builder::from_random_bytes(self.rng.random())
                .into_uuid()
                .to_string(),
            Ids::Sequential => format!("b{bucket}-{i}"),
        }
    }
}

/// An initial sync of `ops` rows over the buckets: the lines, per-bucket checksums and ids, the
/// last op id, and the rows written.
pub(crate) struct InitialSync {
    pub calls: Vec<Call>,
    pub checksums: Vec<u32>,
    pub ids: Vec<Vec<String>>,
    pub last_op: usize,
    pub rows: Vec<(String, String)>,
}

pub(crate) fn initial_sync(encoding: Encoding, ids: Ids, ops: usize, per_line: usize) -> InitialSync {
    let mut gen = IdGen::new(ids, ops as u64);
    let mut checksums = vec![0u32; BUCKETS];
    let mut bucket_ids = vec![Vec::new(); BUCKETS];
    let mut rows = Vec::with_capacity(ops);
    let mut data_lines = Vec::new();
    let per_bucket = ops / BUCKETS;
    let mut op_id = 0;
    for b in 0..BUCKETS {
        let mut start = 0;
        while start < per_bucket {
            let end = (start + per_line).min(per_bucket);
            let entries: Vec<_> = (start..end)
                .map(|i| {
                    op_id += 1;
                    let cs = op_checksum(op_id);
                    checksums[b] = checksums[b].wrapping_add(cs);
                    let id = gen.next(b, i);
                    let data = row(b * per_bucket + i, 0);
                    bucket_ids[b].push(id.clone());
                    rows.push((id.clone(), data.clone()));
                    json!({"op_id": op_id.to_string(), "op": "PUT", "object_type": "items",
                           "object_id": id, "checksum": cs, "subkey": null, "data": data})
                })
                .collect();
            data_lines.push(line(
                encoding,
                json!({"data": {"bucket": bucket_name(b), "data": entries}}),
            ));
            start = end;
        }
    }
    let mut calls = vec![checkpoint(encoding, op_id, &checksums, per_bucket)];
    calls.extend(data_lines);
    calls.push(line(
        encoding,
        json!({"checkpoint_complete": {"last_op_id": op_id.to_string()}}),
    ));
    InitialSync {
        calls,
        checksums,
        ids: bucket_ids,
        last_op: op_id,
        rows,
    }
}

fn checkpoint(encoding: Encoding, last: usize, checksums: &[u32], count: usize) -> Call {
    let buckets: Vec<_> = checksums
        .iter()
        .enumerate()
        .map(|(b, cs)| json!({"bucket": bucket_name(b), "checksum": cs, "priority": 3, "count": count}))
        .collect();
    line(
        encoding,
        json!({"checkpoint": {"last_op_id": last.to_string(), "write_checkpoint": null, "buckets": buckets}}),
    )
}

pub(crate) fn start_call() -> Call {
    Call {
        step: Step::Control {
            op: "start",
            payload: Value::Text(
                json!({"schema": serde_json::from_str::<serde_json::Value>(SCHEMA).unwrap()}).to_string(),
            ),
        },
        kind: "start".into(),
    }
}

/// Initial syncs of each size, JSON and BSON.
pub(crate) fn initial_syncs(sizes: &[usize], ids: Ids, per_line: usize) -> Vec<Workload> {
    let mut out = Vec::new();
    for &ops in sizes {
        for encoding in [Encoding::Json, Encoding::Bson] {
            let name = format!(
                "initial sync {ops} ops, 10 buckets, {}",
                if encoding == Encoding::Json {
                    "JSON"
                } else {
                    "BSON"
                }
            );
            let sync = initial_sync(encoding, ids, ops, per_line);
            let mut measured = vec![start_call()];
            measured.extend(sync.calls);
            out.push(Workload {
                name,
                ops,
                setup: vec![],
                measured,
                floor: Some(sync.rows),
            });
        }
    }
    out
}

/// 100 checkpoints of 100 changed rows each over a database of `base` synced rows.
pub(crate) fn incremental(base: usize, ids: Ids, per_line: usize) -> Workload {
    let sync = initial_sync(Encoding::Json, ids, base, per_line);
    let (mut checksums, mut op_id) = (sync.checksums, sync.last_op);
    let mut setup = vec![start_call()];
    setup.extend(sync.calls);
    let per_bucket = base / BUCKETS;
    let mut rng = StdRng::seed_from_u64(7);
    let mut measured = Vec::new();
    for round in 0..100 {
        let bucket = round % BUCKETS;
        let entries: Vec<_> = (0..100)
            .map(|_| {
                op_id += 1;
                let cs = op_checksum(op_id);
                checksums[bucket] = checksums[bucket].wrapping_add(cs);
                let i = rng.random_range(0..per_bucket);
                json!({"op_id": op_id.to_string(), "op": "PUT", "object_type": "items",
                       "object_id": sync.ids[bucket][i], "checksum": cs, "subkey": null,
                       "data": row(bucket * per_bucket + i, round + 1)})
            })
            .collect();
        measured.push(line(
            Encoding::Json,
            json!({"checkpoint_diff": {"last_op_id": op_id.to_string(), "write_checkpoint": null, "removed_buckets": [],
                   "updated_buckets": [{"bucket": bucket_name(bucket), "checksum": checksums[bucket], "priority": 3, "count": per_bucket + 100 * (round / BUCKETS + 1)}]}}),
        ));
        measured.push(line(
            Encoding::Json,
            json!({"data": {"bucket": bucket_name(bucket), "data": entries}}),
        ));
        measured.push(line(
            Encoding::Json,
            json!({"checkpoint_complete": {"last_op_id": op_id.to_string()}}),
        ));
    }
    Workload {
        name: format!("100 incremental checkpoints x 100 rows over {base} rows, JSON"),
        ops: 10_000,
        setup,
        measured,
        floor: None,
    }
}

/// Local writes through the view, one per transaction: `n / 2` inserts, then `n / 2` updates
/// of random rows among them. Runs on a database with `base` synced rows.
pub(crate) fn local_writes(n: usize, base: usize, ids: Ids, per_line: usize) -> Workload {
    const INSERT: &str =
        "INSERT INTO items (id, name, description, group_id, n, r) VALUES (?, ?, ?, ?, ?, ?)";
    const UPDATE: &str = "UPDATE items SET description = ?2, n = ?3 WHERE id = ?1";
    let sync = initial_sync(Encoding::Json, ids, base, per_line);
    let mut setup = vec![start_call()];
    setup.extend(sync.calls);
    setup.push(Call {
        step: Step::Control {
            op: "stop",
            payload: Value::Null,
        },
        kind: "stop".into(),
    });
    let mut gen = IdGen::new(ids, 99);
    let inserted: Vec<String> = (0..n / 2).map(|i| gen.next(BUCKETS, i)).collect();
    let mut rng = StdRng::seed_from_u64(11);
    let description = |k: usize| {
        format!("Local description {k}: typed by a user on a phone, long enough to look like a real row.")
    };
    let mut measured = Vec::with_capacity(n);
    for (k, id) in inserted.iter().enumerate() {
        measured.push(Call {
            step: Step::Sql {
                sql: INSERT,
                params: vec![
                    Value::Text(id.clone()),
                    Value::Text(format!("local {k}")),
                    Value::Text(description(k)),
                    Value::Text(format!("g{}", k % BUCKETS)),
                    Value::Integer(k as i64),
                    Value::Real(k as f64 / 3.0),
                ],
            },
            kind: "insert".into(),
        });
    }
    for k in 0..n / 2 {
        let id = &inserted[rng.random_range(0..inserted.len())];
        measured.push(Call {
            step: Step::Sql {
                sql: UPDATE,
                params: vec![
                    Value::Text(id.clone()),
                    Value::Text(description(k + n)),
                    Value::Integer(k as i64),
                ],
            },
            kind: "update".into(),
        });
    }
    Workload {
        name: format!("{n} local writes through the view (half inserts, half updates) over {base} rows"),
        ops: n,
        setup,
        measured,
        floor: None,
    }
}
