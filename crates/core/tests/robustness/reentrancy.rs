//! PowerSync functions called from SQL that `powersync_control` runs on the same connection
//! (a user trigger on a synced table during an apply, a raw-table statement): read-only ones
//! work, the others fail at once with an error naming them. None may block: each case runs
//! under a watchdog, because the bug this guards against was a self-deadlock that kept the
//! write lock forever.
use crate::common;
use crate::sync_common;

use rusqlite::types::Value;
use rusqlite::Connection;
use serde_json::json;
use std::time::Duration;
use sync_common::*;

/// Runs `f` on its own thread and fails the test if it does not finish in time.
fn watchdog(name: &str, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    // Named after the test: the oracle keys transcripts by the thread's name.
    let mut builder = std::thread::Builder::new();
    if let Some(test) = std::thread::current().name() {
        builder = builder.name(test.to_string());
    }
    let handle = builder
        .spawn(move || {
            f();
            let _ = tx.send(());
        })
        .unwrap();
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => handle.join().unwrap(),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("{name}: blocked (deadlock)"),
    }
}

fn control(conn: &Connection, op: &str, payload: impl Into<Payload>) -> CallResult {
    call(conn, op, &payload.into())
}

/// Starts, delivers a checkpoint with two rows, and returns the result of `checkpoint_complete`.
fn sync_two_rows(conn: &Connection, start: Payload) -> CallResult {
    control(conn, "start", start).unwrap();
    control(conn, "line_text", checkpoint(2, None, &[("a", 3, 3, None)])).unwrap();
    control(
        conn,
        "line_text",
        data_line(
            "a",
            json!([
                put(1, "i1", 1, r#"{"col":"1"}"#),
                put(2, "i2", 2, r#"{"col":"2"}"#)
            ]),
        ),
    )
    .unwrap();
    control(conn, "line_text", complete(2))
}

fn items(conn: &Connection) -> Vec<Vec<Value>> {
    common::rows(conn, "SELECT id, col FROM items ORDER BY id")
}

fn prepare(conn: &Connection, trigger_body: &str) {
    init(conn, ITEMS_SCHEMA);
    conn.execute_batch(&format!(
        "CREATE TRIGGER reenter AFTER INSERT ON ps_data__items BEGIN {trigger_body}; END"
    ))
    .unwrap();
}

/// A user trigger on a synced table calling a resync during the apply: the apply fails with
/// the error the reference gives for a resync during an iteration, nothing is applied, and
/// once the trigger is gone the same checkpoint applies. (The 0.5.4 reference itself never
/// returns from this call, so there is no differential comparison.)
fn trigger_case(name: &'static str, body: &'static str) {
    watchdog(name, move || {
        let ours = common::open_ours();
        prepare(&ours, body);
        let a = sync_two_rows(&ours, Payload::Null);
        let (code, message) = a.clone().unwrap_err();
        assert_eq!(code, 3091, "{message}");
        assert!(
            message.contains("Cannot clear or trigger resync while a sync iteration is active."),
            "{message}"
        );
        assert_eq!(items(&ours), Vec::<Vec<Value>>::new());
        ours.execute_batch("DROP TRIGGER reenter").unwrap();
        let out = control(&ours, "line_text", complete(2)).unwrap();
        assert!(format!("{out:?}").contains("DidCompleteSync"), "{out:?}");
        assert_eq!(items(&ours).len(), 2);
    });
}

#[test]
fn trigger_resync_from_a_trigger_during_apply() {
    trigger_case("trigger_resync", "SELECT powersync_trigger_resync(0)");
}

#[test]
fn soft_clear_from_a_trigger_during_apply() {
    trigger_case("soft_clear", "SELECT powersync_clear(2)");
}

/// Calls whose effect would pull data from under the running call are refused with an error
/// naming them (the reference would run them half-way through its apply).
fn refused_from_trigger(name: &'static str, body: &'static str, function: &'static str) {
    watchdog(name, move || {
        let conn = common::open_ours();
        prepare(&conn, body);
        let (code, message) = sync_two_rows(&conn, Payload::Null).unwrap_err();
        assert_eq!(code, 21, "{message}");
        let want = format!(
            "{function}: invalid state: {function} was called from SQL that powersync_control runs \
             on the same connection (a trigger on a synced table or a raw-table statement); it \
             cannot run until powersync_control returns"
        );
        assert!(message.contains(&want), "{message}");
        assert_eq!(items(&conn), Vec::<Vec<Value>>::new());
        assert_eq!(
            common::eval(&conn, "SELECT count(*) FROM ps_oplog"),
            Ok(Value::Integer(2))
        );
    });
}

#[test]
fn hard_clear_from_a_trigger_during_apply() {
    refused_from_trigger("hard_clear", "SELECT powersync_clear(0)", "powersync_clear");
}

#[test]
fn replace_schema_from_a_trigger_during_apply() {
    refused_from_trigger(
        "replace_schema",
        r#"SELECT powersync_replace_schema('{"tables":[]}')"#,
        "powersync_replace_schema",
    );
}

fn raw_start(put_sql: &str) -> Payload {
    Payload::from(json!({"schema": {"tables": [], "raw_tables": [{
        "name": "items",
        "put": {"sql": put_sql, "params": ["Id", {"Column": "col"}]},
        "delete": {"sql": "DELETE FROM raw_items WHERE id = ?", "params": ["Id"]}
    }]}}))
}

fn raw_prepare(conn: &Connection) {
    init(conn, r#"{"tables":[]}"#);
    conn.execute_batch("CREATE TABLE raw_items (id TEXT PRIMARY KEY, col TEXT, extra TEXT)")
        .unwrap();
}

/// A read-only function from a raw-table statement works, as in the reference.
#[test]
fn offline_sync_status_from_a_raw_table_statement() {
    watchdog("offline_sync_status", || {
        let sql = "INSERT INTO raw_items (id, col, extra) VALUES (?1, ?2, powersync_offline_sync_status())";
        let ours = common::open_ours();
        raw_prepare(&ours);
        let a = sync_two_rows(&ours, raw_start(sql));
        assert!(format!("{a:?}").contains("DidCompleteSync"), "{a:?}");
        let rows = common::rows(&ours, "SELECT id, col, extra FROM raw_items ORDER BY id");
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0][2],
            Value::Text(r#"{"connected":false,"connecting":false,"priority_status":[],"downloading":null,"streams":[]}"#.into())
        );
        let reference = common::open_reference("reference");
        let (b, theirs) = reference.ask("sync two rows", sql, |c| {
            raw_prepare(c);
            let b = normalize_result(&sync_two_rows(c, raw_start(sql)));
            (
                b,
                common::raw_rows(c, "SELECT id, col, extra FROM raw_items ORDER BY id"),
            )
        });
        assert_eq!(normalize_result(&a), b);
        assert_eq!(rows, theirs);
        common::report("reentrancy::offline_sync_status", 1);
    });
}

/// powersync_control and trigger_resync from a raw-table statement fail at once, naming the
/// call; the database is as before and the iteration goes on.
#[test]
fn control_and_resync_from_a_raw_table_statement() {
    for (function, sql) in [
        (
            "powersync_control",
            "INSERT INTO raw_items (id, col, extra) VALUES (?1, ?2, powersync_control('stop', NULL))",
        ),
        (
            "powersync_trigger_resync",
            "INSERT INTO raw_items (id, col, extra) VALUES (?1, ?2, powersync_trigger_resync(0))",
        ),
    ] {
        watchdog(function, move || {
            let conn = common::open_ours();
            raw_prepare(&conn);
            let (_, message) = sync_two_rows(&conn, raw_start(sql)).unwrap_err();
            let want = if function == "powersync_control" {
                "powersync_control: invalid state: powersync_control was called from SQL that powersync_control runs on the same connection"
            } else {
                "Cannot clear or trigger resync while a sync iteration is active."
            };
            assert!(message.contains(want), "{function}: {message}");
            assert_eq!(
                common::eval(&conn, "SELECT count(*) FROM raw_items"),
                Ok(Value::Integer(0))
            );
            // The iteration is still there and usable.
            let out = control(&conn, "stop", Payload::Null).unwrap();
            assert!(format!("{out:?}").contains("CloseSyncStream"), "{out:?}");
        });
    }
}
