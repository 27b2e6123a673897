//! `powersync_core::doctor`: each wedged state is found, explained, repaired without touching
//! `ps_crud`, and sync continues to the state an unbroken database reaches.
use crate::common;
use crate::sync_common;

use powersync_core::doctor::{self, Severity};
use rusqlite::types::Value;
use rusqlite::Connection;
use serde_json::{json, Value as Json};
use sync_common::*;

fn control(conn: &Connection, op: &str, payload: impl Into<Payload>) -> Value {
    call(conn, op, &payload.into()).unwrap_or_else(|e| panic!("{op}: {e:?}"))
}

fn start(conn: &Connection) {
    control(conn, "start", Payload::Null);
}

fn line(conn: &Connection, line: serde_json::Value) -> String {
    match control(conn, "line_text", line) {
        Value::Text(t) => t,
        other => panic!("unexpected {other:?}"),
    }
}

/// `start` and the checkpoint of buckets `a` (a1, a2) and `b` (b1).
fn connect(conn: &Connection) {
    start(conn);
    line(conn, checkpoint(3, None, &[("a", 3, 3, None), ("b", 4, 3, None)]));
}

/// The data line of bucket `a`.
fn data_a() -> Json {
    data_line(
        "a",
        json!([
            put(1, "a1", 1, r#"{"col":"1"}"#),
            put(2, "a2", 2, r#"{"col":"2"}"#)
        ]),
    )
}

/// A database with `items` a1, a2 (bucket `a`) and b1 (bucket `b`) synced and applied.
fn synced() -> Connection {
    let conn = common::open_ours();
    init(&conn, ITEMS_SCHEMA);
    connect(&conn);
    line(&conn, data_a());
    line(&conn, data_line("b", json!([put(3, "b1", 4, r#"{"col":"3"}"#)])));
    let out = line(&conn, complete(3));
    assert!(out.contains("DidCompleteSync"), "{out}");
    control(&conn, "stop", Payload::Null);
    conn
}

fn items(conn: &Connection) -> Vec<Vec<Value>> {
    common::rows(conn, "SELECT id, col FROM items ORDER BY id")
}

fn crud(conn: &Connection) -> Vec<Vec<Value>> {
    common::rows(conn, "SELECT id, tx_id, data FROM ps_crud ORDER BY id")
}

fn checks(report: &doctor::Report) -> Vec<(&'static str, Severity)> {
    report.findings.iter().map(|f| (f.check, f.severity)).collect()
}

/// Repairs inside a transaction (as the CLI does) and checks that `ps_crud` is unchanged and a
/// second diagnosis finds no problem.
fn repair(conn: &Connection) -> doctor::Report {
    let before = crud(conn);
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    let report = doctor::repair(conn).unwrap();
    conn.execute_batch("COMMIT").unwrap();
    assert_eq!(crud(conn), before, "ps_crud changed by a repair");
    let after = doctor::diagnose(conn).unwrap();
    assert!(!after.has_problems(), "problems left: {after:#?}");
    report
}

#[test]
fn a_healthy_database_passes_every_check() {
    let conn = synced();
    let report = doctor::diagnose(&conn).unwrap();
    assert_eq!(report.findings, vec![]);
    assert_eq!(
        report.passed,
        vec![
            "installed",
            "schema-version",
            "integrity",
            "write-gate",
            "orphaned-ops",
            "bucket-checksums",
            "applied-beyond-downloaded",
            "missing-rows",
            "untyped-rows-with-table",
            "orphaned-data-tables",
            "internal-tables",
            "crud-queue",
            "transaction-counter",
        ]
    );
}

#[test]
fn a_database_without_powersync_is_reported_and_left_alone() {
    let conn = common::open_ours();
    conn.execute_batch("CREATE TABLE t(x)").unwrap();
    let report = doctor::diagnose(&conn).unwrap();
    assert_eq!(checks(&report), vec![("installed", Severity::Fatal)]);
    assert!(report.findings[0]
        .explanation
        .starts_with("This is not a PowerSync database"));
    conn.execute_batch("BEGIN").unwrap();
    doctor::repair(&conn).unwrap();
    conn.execute_batch("COMMIT").unwrap();
    assert_eq!(
        common::rows(&conn, "SELECT name FROM sqlite_master"),
        vec![vec![Value::Text("t".into())]]
    );
}

#[test]
fn an_older_internal_schema_is_migrated_and_a_newer_one_is_not_touched() {
    let conn = common::open_ours();
    conn.execute_batch("BEGIN; SELECT powersync_test_migration(10); COMMIT")
        .unwrap();
    let report = doctor::diagnose(&conn).unwrap();
    assert_eq!(checks(&report), vec![("schema-version", Severity::Problem)]);
    assert_eq!(
        report.findings[0].explanation,
        "The internal schema is at version 10, older than this library's 14: an SDK with this core \
         migrates it when it opens the database, but until then the sync client cannot use it."
    );
    repair(&conn);
    assert_eq!(
        common::eval(&conn, "SELECT max(id) FROM ps_migration"),
        Ok(Value::Integer(14))
    );

    conn.execute(
        "INSERT INTO ps_migration (id, down_migrations) VALUES (15, '[]')",
        [],
    )
    .unwrap();
    let report = doctor::diagnose(&conn).unwrap();
    assert_eq!(checks(&report), vec![("schema-version", Severity::Fatal)]);
    assert!(report.findings[0]
        .explanation
        .contains("version 15, written by a newer PowerSync core"));
}

#[test]
fn a_stuck_write_gate_is_opened_and_the_next_checkpoint_applies() {
    let conn = synced();
    // A local write, uploaded by hand without the SDK ever setting a write checkpoint.
    conn.execute("UPDATE items SET col = 'local' WHERE id = 'a1'", [])
        .unwrap();
    conn.execute("DELETE FROM ps_crud", []).unwrap();
    let report = doctor::diagnose(&conn).unwrap();
    assert_eq!(checks(&report), vec![("write-gate-stuck", Severity::Problem)]);
    assert!(report.findings[0]
        .explanation
        .contains("the SDK never replaced the write-gate target with a write checkpoint"));

    // Before the repair, a new checkpoint is held back.
    start(&conn);
    line(
        &conn,
        checkpoint(4, None, &[("a", 8, 3, None), ("b", 4, 3, None)]),
    );
    line(
        &conn,
        data_line("a", json!([put(4, "a1", 5, r#"{"col":"server"}"#)])),
    );
    let out = line(&conn, complete(4));
    assert!(
        out.contains("Could not apply checkpoint due to local data"),
        "{out}"
    );
    control(&conn, "stop", Payload::Null);

    repair(&conn);
    start(&conn);
    line(
        &conn,
        checkpoint(4, None, &[("a", 8, 3, None), ("b", 4, 3, None)]),
    );
    let out = line(&conn, complete(4));
    assert!(out.contains("DidCompleteSync"), "{out}");
    assert_eq!(
        items(&conn)[0],
        vec![Value::Text("a1".into()), Value::Text("server".into())]
    );
}

#[test]
fn a_target_never_requested_is_stuck_but_a_requested_one_is_not() {
    let conn = synced();
    conn.execute_batch(
        "INSERT OR REPLACE INTO ps_kv (key, value) VALUES ('target_checkpoint_request_id', 7), ('last_requested_checkpoint_request_id', 3)",
    )
    .unwrap();
    let report = doctor::diagnose(&conn).unwrap();
    assert_eq!(checks(&report), vec![("write-gate-stuck", Severity::Problem)]);
    assert!(report.findings[0].explanation.contains(
        "the write-gate target is checkpoint request 7, but this client only ever requested up to 3"
    ));
    conn.execute(
        "UPDATE ps_kv SET value = 7 WHERE key = 'last_requested_checkpoint_request_id'",
        [],
    )
    .unwrap();
    assert_eq!(doctor::diagnose(&conn).unwrap().findings, vec![]);
}

#[test]
fn pending_local_writes_keep_the_gate_closed_and_are_never_touched() {
    let conn = synced();
    conn.execute("INSERT INTO items (id, col) VALUES ('new', 'x')", [])
        .unwrap();
    conn.execute("DELETE FROM ps_data__items WHERE id = 'a2'", [])
        .unwrap();
    // Pending writes explain both the target and rows missing from the table.
    assert_eq!(doctor::diagnose(&conn).unwrap().findings, vec![]);
    // An undecodable queue entry is reported, never repaired.
    conn.execute("INSERT INTO ps_crud (tx_id, data) VALUES (1, 'not json')", [])
        .unwrap();
    let report = doctor::diagnose(&conn).unwrap();
    assert_eq!(checks(&report), vec![("crud-queue", Severity::Problem)]);
    let before = crud(&conn);
    conn.execute_batch("BEGIN").unwrap();
    let repaired = doctor::repair(&conn).unwrap();
    conn.execute_batch("COMMIT").unwrap();
    assert_eq!(repaired.findings[0].repair, None);
    assert_eq!(crud(&conn), before);
}

#[test]
fn drifted_checksums_drop_the_bucket_which_then_downloads_again() {
    let conn = synced();
    conn.execute("UPDATE ps_oplog SET hash = hash + 1 WHERE row_id = 'a1'", [])
        .unwrap();
    let report = doctor::diagnose(&conn).unwrap();
    assert_eq!(checks(&report), vec![("bucket-checksums", Severity::Problem)]);
    assert_eq!(
        report.findings[0].explanation,
        "Bucket a: its recorded op checksum is 0x00000003 but its stored ops add up to 0x00000004. \
         The ops were changed outside the sync client; the next checkpoint will fail validation for \
         this bucket and download it again."
    );
    repair(&conn);
    assert_eq!(
        common::rows(&conn, "SELECT name FROM ps_buckets ORDER BY name"),
        vec![vec![Value::Text("b".into())]]
    );
    connect(&conn);
    line(&conn, data_a());
    let out = line(&conn, complete(3));
    assert!(out.contains("DidCompleteSync"), "{out}");
    assert_eq!(items(&conn).len(), 3);
    assert_eq!(doctor::diagnose(&conn).unwrap().findings, vec![]);
}

#[test]
fn missing_rows_are_re_applied_at_the_next_checkpoint() {
    let conn = synced();
    conn.execute("DELETE FROM ps_data__items WHERE id = 'b1'", [])
        .unwrap();
    let report = doctor::diagnose(&conn).unwrap();
    assert_eq!(checks(&report), vec![("missing-rows", Severity::Problem)]);
    assert_eq!(
        report.findings[0].explanation,
        "1 rows of items were downloaded and marked as applied (buckets b) but are not in \
         ps_data__items, and no local write explains it: the app does not see them."
    );
    repair(&conn);
    connect(&conn);
    line(&conn, complete(3));
    assert_eq!(items(&conn).len(), 3);
}

#[test]
fn applied_beyond_downloaded_is_reset() {
    let conn = synced();
    conn.execute("UPDATE ps_buckets SET last_applied_op = 99 WHERE name = 'a'", [])
        .unwrap();
    let report = doctor::diagnose(&conn).unwrap();
    assert_eq!(
        checks(&report),
        vec![("applied-beyond-downloaded", Severity::Problem)]
    );
    repair(&conn);
    assert_eq!(
        common::eval(&conn, "SELECT last_applied_op FROM ps_buckets WHERE name = 'a'"),
        Ok(Value::Integer(0))
    );
}

#[test]
fn orphaned_ops_are_removed_with_their_rows() {
    let conn = synced();
    conn.execute("DELETE FROM ps_buckets WHERE name = 'b'", [])
        .unwrap();
    let report = doctor::diagnose(&conn).unwrap();
    assert_eq!(checks(&report), vec![("orphaned-ops", Severity::Problem)]);
    repair(&conn);
    start(&conn);
    line(&conn, checkpoint(3, None, &[("a", 3, 3, None)]));
    line(&conn, complete(3));
    assert_eq!(items(&conn).len(), 2, "b1 is gone with its bucket");
}

#[test]
fn untyped_rows_move_into_their_table() {
    let conn = synced();
    conn.execute(
        "INSERT INTO ps_untyped (type, id, data) VALUES ('items', 'u1', '{\"col\":\"u\"}'), ('items', 'a1', '{\"col\":\"old\"}')",
        [],
    )
    .unwrap();
    let report = doctor::diagnose(&conn).unwrap();
    assert_eq!(
        checks(&report),
        vec![("untyped-rows-with-table", Severity::Problem)]
    );
    repair(&conn);
    assert_eq!(
        items(&conn),
        vec![
            vec![Value::Text("a1".into()), Value::Text("1".into())],
            vec![Value::Text("a2".into()), Value::Text("2".into())],
            vec![Value::Text("b1".into()), Value::Text("3".into())],
            vec![Value::Text("u1".into()), Value::Text("u".into())],
        ]
    );
    assert_eq!(
        common::eval(&conn, "SELECT count(*) FROM ps_untyped"),
        Ok(Value::Integer(0))
    );
}

#[test]
fn leftover_tables_are_reported_only() {
    let conn = synced();
    conn.execute_batch(
        "CREATE TABLE ps_data__gone(id TEXT PRIMARY KEY, data TEXT); CREATE TABLE ps_buckets_old(x); DROP TABLE ps_sync_state",
    )
    .unwrap();
    let report = doctor::diagnose(&conn).unwrap();
    assert_eq!(
        checks(&report),
        vec![
            ("orphaned-data-tables", Severity::Info),
            ("internal-tables", Severity::Fatal),
            ("internal-tables", Severity::Info),
        ]
    );
    assert!(report.findings[0]
        .explanation
        .starts_with("No view reads ps_data__gone:"));
    assert!(report.findings[1]
        .explanation
        .contains("missing although the schema version says they exist: ps_sync_state"));
    assert!(report.findings[2].explanation.contains("ps_buckets_old"));
    assert!(report.findings.iter().all(|f| f.repair.is_none()));
}

#[test]
fn a_transaction_counter_behind_the_queue_is_moved_forward() {
    let conn = synced();
    conn.execute("INSERT INTO items (id, col) VALUES ('n1', 'x')", [])
        .unwrap();
    conn.execute("INSERT INTO items (id, col) VALUES ('n2', 'y')", [])
        .unwrap();
    conn.execute("UPDATE ps_tx SET next_tx = 1", []).unwrap();
    let report = doctor::diagnose(&conn).unwrap();
    assert_eq!(checks(&report), vec![("transaction-counter", Severity::Problem)]);
    repair(&conn);
    conn.execute("INSERT INTO items (id, col) VALUES ('n3', 'z')", [])
        .unwrap();
    assert_eq!(
        common::rows(&conn, "SELECT tx_id FROM ps_crud ORDER BY id"),
        vec![
            vec![Value::Integer(1)],
            vec![Value::Integer(2)],
            vec![Value::Integer(3)]
        ]
    );
}
