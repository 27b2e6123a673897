//! SIGKILL during a sync: a child process (this test binary, re-run with an environment
//! variable) syncs into a file database and is killed at varying moments, while downloading
//! with local writes queued and while applying. After every kill the database passes
//! `integrity_check` and `ps_crud` is exactly as before; the sync resumed after the kills
//! reaches the same state as an uninterrupted one.
//!
//! Where the kills land depends on timing; what is asserted does not.
mod common;
mod sync_common;

use rusqlite::types::Value;
use rusqlite::Connection;
use serde_json::{json, Value as Json};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use sync_common::*;

const CHILD_ENV: &str = "POWERSYNC_SIGKILL_CHILD_DB";
const BUCKETS: i64 = 4;
const LINES_PER_BUCKET: i64 = 8;
const OPS_PER_LINE: i64 = 500;

fn open(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    powersync_core::register(&conn).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")
        .unwrap();
    conn
}

fn must(conn: &Connection, op: &str, payload: Json) -> String {
    match call(conn, op, &Payload::from(payload)) {
        Ok(Value::Text(t)) => t,
        other => panic!("{op}: {other:?}"),
    }
}

/// The whole sync: `(bucket, lines)`, the checkpoint and `checkpoint_complete`.
fn session() -> (Vec<(String, Vec<Json>)>, Json, Json) {
    let mut buckets = Vec::new();
    let mut sums = Vec::new();
    let mut op = 0;
    for b in 0..BUCKETS {
        let mut sum = 0i64;
        let lines = (0..LINES_PER_BUCKET)
            .map(|_| {
                let ops: Vec<Json> = (0..OPS_PER_LINE)
                    .map(|_| {
                        op += 1;
                        sum += op;
                        put(
                            op,
                            &format!("row-{op}"),
                            op,
                            &format!(r#"{{"col":"row {op} of bucket {b}, padded to look like a real row"}}"#),
                        )
                    })
                    .collect();
                data_line(&format!("b{b}"), json!(ops))
            })
            .collect();
        buckets.push((format!("b{b}"), lines));
        sums.push((format!("b{b}"), sum));
    }
    let cp_buckets: Vec<(&str, i64, i32, Option<i64>)> =
        sums.iter().map(|(b, s)| (b.as_str(), *s, 3, None)).collect();
    (buckets, checkpoint(op, None, &cp_buckets), complete(op))
}

/// One sync iteration as an SDK runs it after (re)connecting: the service sends each bucket's
/// ops after the last one stored.
fn sync(conn: &Connection) {
    let (buckets, cp, done) = session();
    must(conn, "start", json!({}));
    must(conn, "line_text", cp);
    for (name, lines) in buckets {
        let have: i64 = conn
            .query_row(
                "SELECT ifnull((SELECT last_op FROM ps_buckets WHERE name = ?1), 0)",
                [&name],
                |r| r.get(0),
            )
            .unwrap();
        for line in lines {
            let last: i64 = line["data"]["data"][OPS_PER_LINE as usize - 1]["op_id"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            if last > have {
                must(conn, "line_text", line);
            }
        }
    }
    must(conn, "line_text", done);
    must(conn, "stop", Json::Null);
}

/// The child: syncs into the database named by the environment, then exits.
#[test]
fn child_sync() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    sync(&open(Path::new(&path)));
}

fn prepare(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let conn = open(path);
    init(&conn, ITEMS_SCHEMA);
    for i in 0..3 {
        conn.execute(
            "INSERT INTO items (id, col) VALUES (?1, 'local')",
            [format!("local{i}")],
        )
        .unwrap();
    }
}

/// The upload of the local writes: the SDK deletes them from the queue and clears the target.
fn upload(conn: &Connection) {
    conn.execute("DELETE FROM ps_crud", []).unwrap();
    call(conn, "target_checkpoint_request_id", &Payload::Int(0)).unwrap();
}

/// Kills children at increasing delays; returns how many kills happened mid-run.
fn kill_rounds(path: &Path) -> usize {
    let crud_before = durable_state(&open(path))[3].clone();
    let mut killed = 0;
    for round in 0..16u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_sync", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(2 + round * 7));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        child.wait().unwrap();
        let conn = open(path);
        assert_eq!(
            common::eval(&conn, "PRAGMA integrity_check"),
            Ok(Value::Text("ok".into())),
            "round {round}"
        );
        assert_eq!(
            durable_state(&conn)[3],
            crud_before,
            "round {round}: ps_crud changed"
        );
    }
    killed
}

#[test]
fn sigkill_mid_sync_loses_nothing_and_resumes() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("ps_sigkill_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    // The uninterrupted run: download with local writes queued (not applied), upload, apply.
    let clean = dir.join("clean.db");
    prepare(&clean);
    let conn = open(&clean);
    sync(&conn);
    let want_downloaded = durable_state(&conn);
    upload(&conn);
    sync(&conn);
    let want_applied = durable_state(&conn);
    drop(conn);
    // The local rows were uploaded and are not in any bucket: the apply removes them.
    assert_eq!(
        want_applied[0].len() as i64,
        BUCKETS * LINES_PER_BUCKET * OPS_PER_LINE
    );

    let path = dir.join("killed.db");
    prepare(&path);
    let downloading = kill_rounds(&path);
    let conn = open(&path);
    sync(&conn);
    assert_eq!(durable_state(&conn), want_downloaded, "download did not converge");
    upload(&conn);
    // The apply is the last call: kill rounds now hit it too (the download is complete).
    conn.execute("UPDATE ps_buckets SET last_applied_op = 0", [])
        .unwrap();
    drop(conn);
    let applying = kill_rounds(&path);
    let conn = open(&path);
    sync(&conn);
    assert_eq!(durable_state(&conn), want_applied, "apply did not converge");
    println!("SIGKILL: {downloading} kills while downloading, {applying} while applying");
    let _ = std::fs::remove_dir_all(&dir);
}
