//! A database moves between our library and the reference in the middle of an initial sync
//! and after it, and ends up exactly where a sync on the reference alone ends up.
//!
//! Our initial sync stores ops in bulk mode (`sync::storage::bulk`: two `ps_oplog` indexes
//! deferred, schema version 15 with a down script that rebuilds them); these tests check that
//! the reference, which knows versions up to 14, takes such a database over and continues,
//! that we take over the reference's, and that our in-memory key set is never trusted after
//! another connection wrote (reopen, second connection).
//!
//! Every run is compared step by step with the same steps run by the reference alone on its
//! own file: instructions (timestamps normalised) and all sync tables after every call, and
//! `sqlite_master` plus the schema version at the end.
//!
//! Without the reference the tests run from its transcripts: the reference's answers, and at
//! each hand-off the bytes of the file it left, from which ours continues
//! ([`RefConn::hand_off`]). What the reference took over is part of its request (the file's
//! schema and version), so a change in what ours leaves is "not recorded", not a stale pass.
//! Tables are compared through digests (the whole oplog after every step is too large to
//! record).
use crate::common;
use crate::sync_common;

use common::{Answer, Db, Impl, RefConn};
use powersync_testkit::session::raw_sync_tables;
use rusqlite::Connection;
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};
use sync_common::*;

/// Ops per bucket and ops per data line: enough lines for supersedes across lines.
const OPS: i64 = 600;
const PER_LINE: usize = 50;
const BUCKETS: [&str; 2] = ["b0", "b1"];

/// The session: for each bucket a list of data lines, then the final op id. Rows are picked
/// from a pool smaller than the ops, so later lines supersede earlier ones (within a line
/// and across lines), and some ops are REMOVEs.
struct Script {
    lines: Vec<(String, Vec<Json>)>,
    last_op: i64,
    checksums: Vec<(String, u32, i64)>,
}

fn script(first_op: i64, ops: i64, pool: u64, seed: u64) -> Script {
    let mut state = seed;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let mut op_id = first_op;
    let mut lines = Vec::new();
    let mut checksums = Vec::new();
    for bucket in BUCKETS {
        let mut sum = 0u32;
        let mut ops_of_bucket = Vec::new();
        for _ in 0..ops {
            op_id += 1;
            // Ids shaped like UUIDs, in random order.
            let id = format!(
                "{:08x}-0000-4000-8000-{:012x}",
                next(pool) * 2_654_435_761 % (1 << 32),
                next(7)
            );
            let checksum = next(1 << 31) as u32;
            sum = sum.wrapping_add(checksum);
            ops_of_bucket.push(if next(8) == 0 {
                remove(op_id, &id, checksum as i64)
            } else {
                put(
                    op_id,
                    &id,
                    checksum as i64,
                    &format!(r#"{{"col":"{bucket}-{op_id}"}}"#),
                )
            });
        }
        for chunk in ops_of_bucket.chunks(PER_LINE) {
            lines.push((bucket.to_string(), chunk.to_vec()));
        }
        checksums.push((bucket.to_string(), sum, ops));
    }
    // Interleave the buckets' lines, as a service streaming several buckets does.
    let (a, b): (Vec<_>, Vec<_>) = lines.into_iter().partition(|(bucket, _)| bucket == BUCKETS[0]);
    let mut interleaved = Vec::new();
    let (mut a, mut b) = (a.into_iter(), b.into_iter());
    loop {
        match (a.next(), b.next()) {
            (None, None) => break,
            (x, y) => interleaved.extend(x.into_iter().chain(y)),
        }
    }
    Script {
        lines: interleaved,
        last_op: op_id,
        checksums,
    }
}

/// A connection of either implementation on a side's file: ours, or the reference through
/// its cassette (live, or its recorded answers and the file images it left).
enum Conn {
    Ours(Connection),
    Reference(RefConn),
}

impl Db for Conn {
    fn ask<T: Answer>(&self, kind: &str, request: &str, f: impl FnOnce(&Connection) -> T) -> T {
        match self {
            Conn::Ours(c) => f(c),
            Conn::Reference(r) => r.ask(kind, request, f),
        }
    }
}

/// One side of the comparison: a file database opened, in turn, by each implementation.
struct Side {
    path: PathBuf,
    label: String,
    /// Whether another implementation continues on this file after the reference (the
    /// hopping side; not the reference-only oracle).
    handed_on: bool,
    conn: Option<Conn>,
}

impl Side {
    fn new(dir: &Path, name: &str, handed_on: bool) -> Side {
        let path = dir.join(format!("{name}.db"));
        Side {
            path,
            label: name.to_string(),
            handed_on,
            conn: None,
        }
    }

    /// Closes the current connection. The reference hands the file on: its bytes are recorded,
    /// and in transcript mode put back, so that ours continues from what the reference left.
    fn close(&mut self) {
        match self.conn.take() {
            Some(Conn::Reference(r)) if self.handed_on => r.hand_off(&self.path),
            _ => {}
        }
    }

    /// Opens the database with `which`, as an SDK does: WAL, `powersync_init()` and the
    /// schema in a transaction.
    fn open(&mut self, which: Impl) {
        self.close();
        // What the reference takes over is part of its input: the schema (and version) of
        // the file as the previous writer left it. (Only on the hopping side: the oracle's
        // file is the reference's own, and is not written in transcript mode.)
        let before = if self.handed_on {
            let c = Connection::open(&self.path).unwrap();
            format!(
                "{:?} {:?}",
                common::raw_master(&c),
                common::raw_eval(&c, "SELECT max(id) FROM ps_migration")
            )
        } else {
            String::new()
        };
        let conn = match which {
            Impl::Ours => Conn::Ours(common::open_file(Impl::Ours, &self.path)),
            Impl::Reference => Conn::Reference(RefConn::open_file(&self.label, &self.path)),
        };
        conn.ask("open", &format!("{which:?} {before}"), sdk_open);
        self.conn = Some(conn);
    }

    fn conn(&self) -> &Conn {
        self.conn.as_ref().unwrap()
    }

    fn call(&self, op: &str, payload: &Payload) -> Result<Json, (i32, String)> {
        control(self.conn(), op, payload)
    }

    fn version(&self) -> i64 {
        self.conn().ask("version", "", |c| {
            c.query_row("SELECT max(id) FROM ps_migration", [], |r| r.get(0))
                .unwrap()
        })
    }

    fn oplog_indexes(&self) -> i64 {
        self.conn().ask("oplog_indexes", "", |c| {
            c.query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('ps_oplog_row', 'ps_oplog_key')",
                [],
                |r| r.get(0),
            )
            .unwrap()
        })
    }
}

fn sdk_open(conn: &Connection) {
    conn.execute_batch("PRAGMA journal_mode = WAL").unwrap();
    let fresh: bool = conn
        .query_row("SELECT count(*) = 0 FROM sqlite_master", [], |r| r.get(0))
        .unwrap();
    if fresh {
        init(conn, ITEMS_SCHEMA);
    } else {
        conn.execute_batch("BEGIN").unwrap();
        conn.query_row("SELECT powersync_init()", [], |_| Ok(())).unwrap();
        conn.query_row("SELECT powersync_replace_schema(?1)", [ITEMS_SCHEMA], |_| Ok(()))
            .unwrap();
        conn.execute_batch("COMMIT").unwrap();
    }
}

/// `powersync_control` in its own transaction, the result normalised.
fn control(conn: &impl Db, op: &str, payload: &Payload) -> Result<Json, (i32, String)> {
    conn.ask("control", &format!("{op} {}", payload.key()), |c| {
        normalize_result(&call(c, op, payload))
    })
}

/// The sync tables, each as its name, row count and a digest of its rows: compared after
/// every step, and small enough to record for each (the whole oplog would not be).
fn tables(conn: &impl Db) -> Vec<(String, usize, String)> {
    conn.ask("sync tables digest", "", |c| {
        raw_sync_tables(c)
            .into_iter()
            .map(|(name, rows)| {
                let d = common::digest(format!("{rows:?}").as_bytes());
                (name, rows.len(), d)
            })
            .collect()
    })
}

/// Runs the same steps on a side hopping between implementations and on the reference
/// alone, comparing after every step.
struct Pair {
    hop: Side,
    oracle: Side,
    cases: usize,
    name: String,
}

impl Pair {
    fn new(dir: &Path, name: &str) -> Pair {
        Pair {
            hop: Side::new(dir, &format!("{name}-hop"), true),
            oracle: Side::new(dir, &format!("{name}-oracle"), false),
            cases: 0,
            name: name.to_string(),
        }
    }

    /// (Re)opens: the hopping side with `which`, the oracle with the reference. Then the SDK
    /// reconnects: `start`, and the service's checkpoint.
    fn open(&mut self, which: Impl, checkpoint: &Json) {
        self.hop.open(which);
        self.oracle.open(Impl::Reference);
        self.step("start", Payload::Null).unwrap();
        self.step("line_text", Payload::Text(checkpoint.to_string()))
            .unwrap();
    }

    fn step(&mut self, op: &str, payload: Payload) -> Result<Json, (i32, String)> {
        let a = self.hop.call(op, &payload);
        let b = self.oracle.call(op, &payload);
        let label = format!("{} step {} ({op})", self.name, self.cases);
        assert_eq!(a, b, "{label}: results differ");
        let (ta, tb) = (tables(self.hop.conn()), tables(self.oracle.conn()));
        assert_eq!(ta.len(), tb.len(), "{label}: table sets differ");
        for (x, y) in ta.iter().zip(&tb) {
            assert_eq!(x, y, "{label}: table {} differs (name, rows, digest)", x.0);
        }
        self.cases += 1;
        a
    }

    fn line(&mut self, bucket: &str, ops: &[Json]) {
        let line = data_line(bucket, json!(ops));
        self.step("line_text", Payload::Text(line.to_string())).unwrap();
    }

    /// Final checks: same schema (indexes included) and both at version 14.
    fn finish(self) -> usize {
        assert_eq!(
            common::master(self.hop.conn()),
            common::master(self.oracle.conn()),
            "{}: sqlite_master differs",
            self.name
        );
        assert_eq!(self.hop.version(), 14);
        self.cases
    }
}

fn checkpoint_of(s: &Script) -> Json {
    let buckets: Vec<(&str, i64, i32, Option<i64>)> = s
        .checksums
        .iter()
        .map(|(b, sum, n)| (b.as_str(), *sum as i32 as i64, 3, Some(*n)))
        .collect();
    checkpoint(s.last_op, None, &buckets)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ps_interchange_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An initial sync whose lines are stored by `order[i]` in turn (one third each), then an
/// incremental checkpoint after reopening with `after`.
fn hop(name: &str, order: [Impl; 3], after: [Impl; 2]) -> usize {
    let dir = temp_dir(name);
    let mut pair = Pair::new(&dir, name);
    let initial = script(0, OPS, 400, 0x9e37_79b9_7f4a_7c15);
    let cp = checkpoint_of(&initial);
    let thirds = initial.lines.len().div_ceil(3);
    for (part, lines) in initial.lines.chunks(thirds).enumerate() {
        pair.open(order[part], &cp);
        for (bucket, ops) in lines {
            pair.line(bucket, ops);
        }
        if order[part] == Impl::Ours && part == 0 {
            // The first of our parts starts on an empty oplog: bulk mode.
            assert_eq!(pair.hop.version(), 15, "{name}: bulk mode");
            assert_eq!(pair.hop.oplog_indexes(), 0);
        }
    }
    let r = pair.step("line_text", Payload::Text(complete(initial.last_op).to_string()));
    assert!(r.unwrap().as_str().unwrap().contains("Validated and applied"));
    assert_eq!(pair.hop.version(), 14);
    assert_eq!(pair.hop.oplog_indexes(), 2);

    // After the sync: the other implementation takes over for an incremental checkpoint,
    // and the first one for another.
    let mut last_op = initial.last_op;
    let mut totals: Vec<(String, u32, i64)> = initial.checksums.clone();
    for (round, which) in after.into_iter().enumerate() {
        let changes = script(last_op, 40, 400, 0x1234_5678 + round as u64);
        for (t, c) in totals.iter_mut().zip(&changes.checksums) {
            t.1 = t.1.wrapping_add(c.1);
            t.2 += c.2;
        }
        last_op = changes.last_op;
        let cp = checkpoint_of(&Script {
            lines: Vec::new(),
            last_op,
            checksums: totals.clone(),
        });
        pair.open(which, &cp);
        for (bucket, ops) in &changes.lines {
            pair.line(bucket, ops);
        }
        let r = pair.step("line_text", Payload::Text(complete(last_op).to_string()));
        assert!(r.unwrap().as_str().unwrap().contains("Validated and applied"));
    }
    let cases = pair.finish();
    let _ = std::fs::remove_dir_all(&dir);
    cases
}

#[test]
fn ours_then_reference_then_ours() {
    let cases = hop(
        "ours_ref_ours",
        [Impl::Ours, Impl::Reference, Impl::Ours],
        [Impl::Reference, Impl::Ours],
    );
    common::report("interchange ours->reference->ours", cases);
}

#[test]
fn reference_then_ours_then_reference() {
    let cases = hop(
        "ref_ours_ref",
        [Impl::Reference, Impl::Ours, Impl::Reference],
        [Impl::Ours, Impl::Reference],
    );
    common::report("interchange reference->ours->reference", cases);
}

/// Ours throughout, reopened twice mid-sync (a killed app): the key set starts empty and is
/// rebuilt from the table, so supersedes across the reopen are still found.
#[test]
fn ours_reopened_mid_sync() {
    let cases = hop("ours_reopened", [Impl::Ours; 3], [Impl::Ours, Impl::Ours]);
    common::report("interchange ours reopened", cases);
}

/// Two connections of ours take turns storing lines of the same initial sync: each must
/// notice the other's commits (`PRAGMA data_version`) before trusting its key set.
#[test]
fn two_connections_take_turns() {
    let dir = temp_dir("turns");
    let initial = script(0, OPS, 300, 0x5555_aaaa_1234_9876);
    let cp = Payload::Text(checkpoint_of(&initial).to_string());
    let mut ours = Side::new(&dir, "ours", false);
    ours.open(Impl::Ours);
    let other = common::open_file(Impl::Ours, &ours.path);
    let mut oracle = Side::new(&dir, "oracle", false);
    oracle.open(Impl::Reference);
    let Some(Conn::Ours(first)) = &ours.conn else {
        unreachable!()
    };
    for conn in [first, &other] {
        call(conn, "start", &Payload::Null).unwrap();
        call(conn, "line_text", &cp).unwrap();
    }
    control(oracle.conn(), "start", &Payload::Null).unwrap();
    control(oracle.conn(), "line_text", &cp).unwrap();
    let mut cases = 0;
    for (i, (bucket, ops)) in initial.lines.iter().enumerate() {
        let line = Payload::Text(data_line(bucket, json!(ops)).to_string());
        // Turns of uneven length, so each connection sees lines it did not write.
        let conn = if i % 3 == 1 { &other } else { first };
        // Progress in the instructions is per connection; the stored data is what counts.
        call(conn, "line_text", &line).unwrap();
        control(oracle.conn(), "line_text", &line).unwrap();
        assert_eq!(tables(conn), tables(oracle.conn()), "line {i}");
        cases += 1;
    }
    let done = Payload::Text(complete(initial.last_op).to_string());
    let a = control(first, "line_text", &done);
    assert_eq!(a, control(oracle.conn(), "line_text", &done));
    assert!(a.unwrap().as_str().unwrap().contains("Validated and applied"));
    assert_eq!(tables(first), tables(oracle.conn()));
    assert_eq!(common::master(first), common::master(oracle.conn()));
    drop((ours, other, oracle));
    let _ = std::fs::remove_dir_all(&dir);
    common::report("interchange two connections", cases + 1);
}
