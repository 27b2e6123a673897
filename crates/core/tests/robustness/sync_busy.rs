//! BUSY is recoverable: the error is returned, the in-memory state is unchanged, and
//! delivering the same event again after a rollback succeeds. Since 0.5.4 this holds for
//! every event (lines, `completed_upload`, `start`), not only for lines.
//! Differential: the same steps on file databases for ours and the reference.
use crate::common;
use crate::sync_common;

use common::Impl;
use rusqlite::Connection;
use serde_json::json;
use std::time::Duration;
use sync_common::*;

struct Side {
    main: Connection,
    other: Connection,
}

fn open(which: Impl, dir: &std::path::Path) -> Side {
    let path = dir.join(format!("{which:?}.db"));
    let main = common::open_file(which, &path);
    main.busy_timeout(Duration::ZERO).unwrap();
    main.execute_batch("PRAGMA journal_mode = WAL").unwrap();
    init(&main, ITEMS_SCHEMA);
    let other = Connection::open(&path).unwrap();
    other.busy_timeout(Duration::ZERO).unwrap();
    Side { main, other }
}

/// The result with the statement text and the row context removed from BUSY errors: our
/// SQL differs, and which statement meets the lock first is not what this suite is about
/// (error texts are compared by the other suites).
fn shape(r: CallResult) -> Result<String, (i32, String)> {
    match r {
        Ok(rusqlite::types::Value::Text(t)) => Ok(normalize_text(&t)),
        Ok(other) => Ok(format!("{other:?}")),
        Err((code, msg)) => {
            let tail = msg.rsplit(": internal SQLite call returned ").next().unwrap();
            Err((code, tail.split(" (context: ").next().unwrap().to_string()))
        }
    }
}

/// The reference's side: its connection (or recording) and a plain connection taking the
/// write lock.
struct RefSide {
    main: common::RefConn,
    other: Connection,
}

fn open_reference(dir: &std::path::Path) -> RefSide {
    let path = dir.join("Reference.db");
    let main = common::RefConn::open_with("reference", |lib| {
        let c = Connection::open(&path).unwrap();
        common::load_extension(&c, lib);
        c.busy_timeout(Duration::ZERO).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        c
    });
    init(&main, ITEMS_SCHEMA);
    // Only takes the lock in live runs; in transcript mode its database stays empty.
    let other = Connection::open(&path).unwrap();
    other.busy_timeout(Duration::ZERO).unwrap();
    RefSide { main, other }
}

/// One call on `main`, with `other` holding the write lock if `lock`.
fn locked_call(
    main: &Connection,
    other: &Connection,
    op: &str,
    payload: &Payload,
    lock: bool,
) -> Result<String, (i32, String)> {
    if lock {
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
    }
    let r = call(main, op, payload);
    if lock {
        other.execute_batch("COMMIT").unwrap();
    }
    assert_eq!(busy_statements(main), 0);
    shape(r)
}

#[test]
fn busy_lines_are_recoverable() {
    let dir = std::env::temp_dir().join(format!("ps_busy_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ours = open(Impl::Ours, &dir);
    let theirs = open_reference(&dir);
    let mut cases = 0;
    let mut step = |op: &str, payload: Payload, lock: bool| {
        let a = locked_call(&ours.main, &ours.other, op, &payload, lock);
        let b = theirs
            .main
            .ask("step", &format!("{op} {} lock={lock}", payload.key()), |c| {
                locked_call(c, &theirs.other, op, &payload, lock)
            });
        assert_eq!(a, b, "{op} {payload:?} lock={lock}");
        cases += 1;
        a
    };
    let line = |v: serde_json::Value| Payload::Text(v.to_string());

    step("start", Payload::Null, false).unwrap();
    step(
        "line_text",
        line(checkpoint(2, None, &[("a", 12, 3, Some(2))])),
        false,
    )
    .unwrap();
    let data = line(data_line(
        "a",
        json!([
            put(1, "r1", 5, r#"{"col":"one"}"#),
            put(2, "r2", 7, r#"{"col":"two"}"#)
        ]),
    ));
    let err = step("line_text", data.clone(), true).unwrap_err();
    assert_eq!(err, (5, "BUSY: database is locked".to_string()));
    // Same line again: progress counted once.
    step("line_text", data, false).unwrap();
    let err = step("line_text", line(complete(2)), true).unwrap_err();
    assert_eq!(err.0, 5);
    step("line_text", line(complete(2)), false).unwrap();
    // A checkpoint deleting a bucket: BUSY on the delete, then retried.
    step("line_text", line(checkpoint(3, None, &[("b", 0, 3, None)])), true).unwrap_err();
    step(
        "line_text",
        line(checkpoint(3, None, &[("b", 0, 3, None)])),
        false,
    )
    .unwrap();
    // BUSY during start: the new iteration is not built, the previous one carries on.
    assert_eq!(step("start", Payload::Null, true).unwrap_err().0, 5);
    let keepalive = || line(json!({"token_expires_in": 3600}));
    // A new iteration would report `connected` here; the old one already is.
    let r = step("line_text", keepalive(), false).unwrap();
    assert_eq!(r, "[]", "still the previous iteration");
    // BUSY during completed_upload: recoverable too (0.5.3 ended the iteration).
    step("start", Payload::Null, false).unwrap();
    step("line_text", line(checkpoint(3, None, &[])), false).unwrap();
    const QUEUE: &str = "BEGIN; INSERT INTO ps_crud (data, tx_id) VALUES ('{}', 1); COMMIT";
    common::each(&ours.main, &theirs.main, QUEUE, |c| {
        c.execute_batch(QUEUE).unwrap()
    });
    step("line_text", line(complete(3)), false).unwrap();
    const UNQUEUE: &str = "BEGIN; DELETE FROM ps_crud; COMMIT";
    common::each(&ours.main, &theirs.main, UNQUEUE, |c| {
        c.execute_batch(UNQUEUE).unwrap()
    });
    step("completed_upload", Payload::Null, true).unwrap_err();
    let r = step("completed_upload", Payload::Null, false).unwrap();
    assert!(
        r.contains("Applied pending checkpoint after completed upload"),
        "{r}"
    );
    // BUSY in the keepalive's subscription cleanup, then the keepalive again.
    assert_eq!(step("line_text", keepalive(), true).unwrap_err().0, 5);
    step("line_text", keepalive(), false).unwrap();

    assert_eq!(sync_tables(&ours.main), sync_tables(&theirs.main));
    drop((ours, theirs));
    let _ = std::fs::remove_dir_all(&dir);
    common::report("sync_busy", cases);
}
