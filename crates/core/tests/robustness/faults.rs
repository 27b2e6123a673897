//! Fault injection: every write, sync and truncate that a sync call makes (the call and its
//! COMMIT) fails in turn, once as an I/O error and once as a full disk. After each fault the
//! database passes `integrity_check`, `ps_crud` is exactly as before, and a new connection that
//! reconnects (a new iteration re-delivering the checkpoint) converges to the state of an
//! uninterrupted sync.
//!
//! The fault VFS's counters are process-wide, so this binary holds a single test.
use crate::common;
use crate::sync_common;

use powersync_testkit::vfs::{self, Fault};
use rusqlite::{Connection, OpenFlags};
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};
use sync_common::*;

fn open(path: &Path) -> Connection {
    let name = vfs::install(false);
    let conn = Connection::open_with_flags_and_vfs(path, OpenFlags::default(), name).unwrap();
    powersync_core::register(&conn).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 20",
    )
    .unwrap();
    conn
}

/// `powersync_control` in a transaction, as an SDK runs it; any failure (of the call or of the
/// COMMIT) rolls back. Returns whether it committed.
fn try_call(conn: &Connection, op: &str, payload: &Json) -> bool {
    if conn.execute_batch("BEGIN").is_err() {
        return false;
    }
    let ok = conn
        .query_row(
            "SELECT powersync_control(?1, ?2)",
            rusqlite::params![op, payload.to_string()],
            |_| Ok(()),
        )
        .is_ok()
        && conn.execute_batch("COMMIT").is_ok();
    if !ok {
        let _ = conn.execute_batch("ROLLBACK");
    }
    ok
}

fn must(conn: &Connection, op: &str, payload: Json) {
    assert!(try_call(conn, op, &payload), "{op} failed without a fault");
}

/// Delivers data lines as the service does after a reconnect: only ops after what each bucket
/// already has (each line here holds one bucket's ops of one round).
fn resend(conn: &Connection, data: Vec<Json>) {
    for line in data {
        let bucket = line["data"]["bucket"].as_str().unwrap().to_string();
        let last: i64 = line["data"]["data"].as_array().unwrap().last().unwrap()["op_id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let have: i64 = conn
            .query_row(
                "SELECT ifnull((SELECT last_op FROM ps_buckets WHERE name = ?1), 0)",
                [&bucket],
                |r| r.get(0),
            )
            .unwrap();
        if have < last {
            must(conn, "line_text", line);
        }
    }
}

/// Round `round` of a sync: 600 rows in three buckets (every round replaces the same rows with
/// new data), with op ids and checksums continuing from the earlier rounds.
fn lines(round: i64) -> (Json, Vec<Json>, Json) {
    let mut data = Vec::new();
    let mut sums = [0i64; 3];
    let mut last = 0;
    for r in 0..=round {
        let mut op = r * 600;
        for (b, sum) in sums.iter_mut().enumerate() {
            let ops: Vec<Json> = (0..200)
                .map(|i| {
                    op += 1;
                    *sum += op;
                    put(
                        op,
                        &format!("{b}-{i}"),
                        op,
                        &format!(r#"{{"col":"round {r} {b} {i} with some padding to fill pages"}}"#),
                    )
                })
                .collect();
            if r == round {
                data.push(data_line(&format!("b{b}"), json!(ops)));
            }
        }
        last = op;
    }
    let cp = checkpoint(
        last,
        None,
        &[
            ("b0", sums[0], 3, None),
            ("b1", sums[1], 3, None),
            ("b2", sums[2], 3, None),
        ],
    );
    (cp, data, complete(last))
}

fn integrity(conn: &Connection) {
    assert_eq!(
        common::eval(conn, "PRAGMA integrity_check"),
        Ok(rusqlite::types::Value::Text("ok".into()))
    );
}

struct Scenario {
    name: &'static str,
    /// Builds the database up to the faulted call (no faults armed).
    setup: fn(&Connection),
    /// The faulted call.
    step: fn(&Connection) -> bool,
    /// Reconnecting after the fault, until the same end state.
    resume: fn(&Connection),
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("ps_faults_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fresh(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join(format!("db{n}"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

fn run(s: &Scenario, dir: &Path) -> usize {
    // The uninterrupted run, counting the faultable operations of the step.
    let path = fresh(dir, 0);
    let conn = open(&path);
    (s.setup)(&conn);
    let before = vfs::mutations();
    assert!((s.step)(&conn), "{}: step failed without a fault", s.name);
    let ops = vfs::mutations() - before;
    (s.resume)(&conn);
    let want = durable_state(&conn);
    drop(conn);
    assert!(ops > 0, "{}: no writes to fault", s.name);

    let mut cases = 0;
    for n in 1..=ops {
        for fault in [Fault::IoError, Fault::DiskFull] {
            let path = fresh(dir, 1);
            let conn = open(&path);
            (s.setup)(&conn);
            let crud_before = durable_state(&conn)[3].clone();
            vfs::arm(n, fault);
            let _ = (s.step)(&conn);
            vfs::disarm();
            integrity(&conn);
            assert_eq!(
                durable_state(&conn)[3],
                crud_before,
                "{} fault {n} {fault:?}: ps_crud changed",
                s.name
            );
            drop(conn);
            // Reconnect with a new connection, as an SDK would after the error.
            let conn = open(&path);
            integrity(&conn);
            assert_eq!(
                durable_state(&conn)[3],
                crud_before,
                "{} fault {n} {fault:?}: ps_crud changed",
                s.name
            );
            (s.resume)(&conn);
            let got = durable_state(&conn);
            for (part, (a, b)) in ["ps_data__items", "ps_oplog", "ps_buckets", "ps_crud"]
                .iter()
                .zip(got.iter().zip(&want))
            {
                assert!(
                    a == b,
                    "{} fault {n} {fault:?}: {part} did not converge ({} rows, want {})",
                    s.name,
                    a.len(),
                    b.len()
                );
            }
            cases += 1;
        }
    }
    cases
}

fn base(conn: &Connection) {
    init(conn, ITEMS_SCHEMA);
}

#[test]
fn every_write_of_a_sync_can_fail() {
    let dir = dir();
    let scenarios = [
        // A data line while local writes wait in ps_crud.
        Scenario {
            name: "data line with pending local writes",
            setup: |c| {
                base(c);
                for i in 0..5 {
                    c.execute(
                        "INSERT INTO items (id, col) VALUES (?1, 'local')",
                        [format!("local{i}")],
                    )
                    .unwrap();
                }
                let (cp, _, _) = lines(0);
                must(c, "start", json!({}));
                must(c, "line_text", cp);
            },
            step: |c| try_call(c, "line_text", &lines(0).1[0]),
            resume: |c| {
                let (cp, data, done) = lines(0);
                must(c, "start", json!({}));
                must(c, "line_text", cp);
                resend(c, data);
                must(c, "line_text", done);
                must(c, "stop", json!(null));
            },
        },
        // The apply of a complete checkpoint (ps_crud empty: the write gate is open).
        Scenario {
            name: "checkpoint apply",
            setup: |c| {
                base(c);
                let (cp, data, _) = lines(0);
                must(c, "start", json!({}));
                must(c, "line_text", cp);
                for d in data {
                    must(c, "line_text", d);
                }
            },
            step: |c| try_call(c, "line_text", &lines(0).2),
            resume: |c| {
                let (cp, _, done) = lines(0);
                must(c, "start", json!({}));
                must(c, "line_text", cp);
                must(c, "line_text", done);
                must(c, "stop", json!(null));
            },
        },
        // An incremental apply replacing every row.
        Scenario {
            name: "incremental apply",
            setup: |c| {
                base(c);
                let (cp, data, done) = lines(0);
                must(c, "start", json!({}));
                must(c, "line_text", cp);
                for d in data {
                    must(c, "line_text", d);
                }
                must(c, "line_text", done);
                let (cp, data, _) = lines(1);
                must(c, "line_text", cp);
                for d in data {
                    must(c, "line_text", d);
                }
            },
            step: |c| try_call(c, "line_text", &lines(1).2),
            resume: |c| {
                let (cp, _, done) = lines(1);
                must(c, "start", json!({}));
                must(c, "line_text", cp);
                must(c, "line_text", done);
                must(c, "stop", json!(null));
            },
        },
    ];
    let mut total = 0;
    for s in &scenarios {
        let n = run(s, &dir);
        println!("{}: {n} faults survived", s.name);
        total += n;
    }
    let _ = std::fs::remove_dir_all(&dir);
    // Listed with the differential counts at the end of scripts/test.sh.
    use std::io::Write;
    let line = format!("fault injection: {total} write/sync/truncate failures survived (I/O error and disk full), 0 lost ps_crud rows, all converged");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(common::workspace_root().join("target/differential-cases.txt"))
    {
        let _ = writeln!(f, "{line}");
    }
}
