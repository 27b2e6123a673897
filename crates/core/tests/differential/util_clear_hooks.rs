//! Differential tests of `powersync_clear` (every flag value), `powersync_trigger_resync`,
//! `powersync_update_hooks` (install/get across commits, rollbacks, savepoints) and the
//! pre-close table, against the reference, on databases populated through the real
//! `powersync_init` / `powersync_replace_schema`.
use crate::common;

use powersync_testkit::crud::{run, same_script};
use powersync_testkit::sql::all_data;
use rusqlite::types::Value;
use rusqlite::Connection;

const SCHEMA: &str = r#"{"tables":[
  {"name":"a","columns":[{"name":"v","type":"TEXT"}]},
  {"name":"l","local_only":true,"columns":[{"name":"v","type":"TEXT"}]},
  {"name":"q\"uote","columns":[{"name":"v","type":"TEXT"}]}
 ],
 "raw_tables":[
  {"name":"users","table_name":"users",
   "clear":"DELETE FROM users; INSERT INTO clear_log SELECT 'users', powersync_in_sync_operation()",
   "put":{"sql":"INSERT OR REPLACE INTO users(id, name) VALUES (?, ?)","params":["Id",{"Column":"name"}]},
   "delete":{"sql":"DELETE FROM users WHERE id = ?","params":["Id"]}},
  {"name":"no_clear","table_name":"users"},
  {"name":"second","clear":"INSERT INTO clear_log VALUES ('second', powersync_in_sync_operation())"}
 ]}"#;

/// Populates every table `powersync_clear` touches.
const POPULATE: &str = r#"
INSERT INTO a(id, v) VALUES ('a1', 'x'), ('a2', 'y');
INSERT INTO l(id, v) VALUES ('l1', 'x'), ('l2', 'y');
INSERT INTO "q""uote"(id, v) VALUES ('q1', 'x');
INSERT INTO users VALUES ('u1', 'n'), ('u2', 'm');
INSERT INTO ps_buckets(name, last_applied_op, last_op) VALUES ('b1', 5, 6), ('b2', 7, 7);
INSERT INTO ps_oplog(bucket, op_id, row_type, row_id, key, data, hash) VALUES (1, 5, 'a', 'a1', 'a/a1', '{}', 1);
INSERT INTO ps_untyped(type, id, data) VALUES ('gone', 'g1', '{}');
INSERT INTO ps_sync_state VALUES (1, 100), (2147483647, 200);
INSERT INTO ps_stream_subscriptions(stream_name, last_synced_at) VALUES ('s', 123), ('t', NULL);
INSERT OR REPLACE INTO ps_kv VALUES ('last_seen_checkpoint_request_id', 3), ('last_requested_checkpoint_request_id', 4);
"#;

/// A connection pair with the schema, raw-table triggers and data of this suite. With
/// `replace_schema` false the raw table exists but no schema was installed on the
/// connection (raw tables are then not cleared).
fn populated(replace_schema: bool) -> (Connection, common::RefConn) {
    let (ours, reference) = common::both("reference");
    common::each(
        &ours,
        &reference,
        &format!("populated replace_schema={replace_schema}"),
        |conn| {
            conn.execute_batch(
                "CREATE TABLE users(id TEXT PRIMARY KEY, name TEXT); CREATE TABLE clear_log(t, in_sync);",
            )
            .unwrap();
            conn.execute_batch("BEGIN; SELECT powersync_init();").unwrap();
            if replace_schema {
                conn.query_row("SELECT powersync_replace_schema(?)", [SCHEMA], |_| Ok(()))
                    .unwrap();
            } else {
                // The same views, installed by another connection's schema would not count; we
                // install them without raw tables here.
                let without_raw = SCHEMA.split(",\n \"raw_tables\"").next().unwrap().to_string() + "}";
                conn.query_row("SELECT powersync_replace_schema(?)", [without_raw], |_| Ok(()))
                    .unwrap();
            }
            conn.execute_batch("COMMIT").unwrap();
            for (name, op) in [
                ("users_i", "INSERT"),
                ("users_u", "UPDATE"),
                ("users_d", "DELETE"),
            ] {
                conn.query_row(
                    "SELECT powersync_create_raw_table_crud_trigger(?1, ?2, ?3)",
                    [r#"{"name":"users","table_name":"users"}"#, name, op],
                    |_| Ok(()),
                )
                .unwrap();
            }
            // A trigger without the in-sync guard: the CRUD table itself must ignore its writes
            // while raw tables are cleared.
            conn.execute_batch(
            "CREATE TRIGGER users_plain AFTER DELETE ON users BEGIN INSERT INTO powersync_crud(op, id, type) VALUES ('DELETE', OLD.id, 'users_plain'); INSERT INTO powersync_crud_(data) VALUES ('{\"plain\":1}'); END",
        )
        .unwrap();
            conn.execute_batch(POPULATE).unwrap();
        },
    );
    assert_eq!(all_data(&ours), all_data(&reference));
    (ours, reference)
}

fn client_id_kept(conn: &Connection) -> bool {
    run(
        conn,
        "SELECT count(*) FROM ps_kv WHERE key = 'client_id' AND value IS NOT NULL",
    )
    .unwrap()
        == vec![vec![Value::Integer(1)]]
}

#[test]
fn clear_matches_reference_for_every_flag() {
    let mut cases = 0;
    for replace_schema in [true, false] {
        for flags in ["0", "1", "2", "3", "4", "5", "'1'", "2.5", "NULL", "'x'", "-1"] {
            let (ours, reference) = populated(replace_schema);
            common::each(&ours, &reference, "install update hooks", |conn| {
                conn.query_row("SELECT powersync_update_hooks('install')", [], |_| Ok(()))
                    .unwrap();
            });
            let script = format!(
                "SELECT powersync_clear({flags})\n;;\nBEGIN\n;;\nSELECT powersync_clear({flags})\n;;\nSELECT powersync_update_hooks('get')\n;;\nCOMMIT\n;;\nSELECT powersync_update_hooks('get')\n;;\nSELECT powersync_update_hooks('get')"
            );
            cases += same_script(&ours, &reference, &script);
            assert_eq!(
                all_data(&ours),
                all_data(&reference),
                "after powersync_clear({flags})"
            );
            if flags == "0" && replace_schema {
                // Sanity check of what was compared: raw tables were cleared in sync mode.
                assert_eq!(
                    run(&ours, "SELECT * FROM clear_log"),
                    Ok(vec![
                        vec![Value::Text("users".into()), Value::Integer(1)],
                        vec![Value::Text("second".into()), Value::Integer(1)],
                    ])
                );
            }
            assert!(client_id_kept(&ours));
            // The ps_crud AUTOINCREMENT counter and ps_tx survive; writes continue from there.
            cases += same_script(
                &ours,
                &reference,
                "INSERT INTO a(id, v) VALUES ('new', 'z')\n;;\nSELECT id, data, tx_id FROM ps_crud\n;;\nSELECT * FROM ps_tx",
            );
        }
    }
    common::report("util_clear_hooks::clear", cases);
}

#[test]
fn clear_and_resync_errors_match_reference() {
    let (ours, reference) = common::both("reference");
    let script = r#"
SELECT powersync_clear(0)
;;
SELECT powersync_trigger_resync(1)
;;
BEGIN
;;
SELECT powersync_clear(0)
;;
SELECT powersync_clear(2)
;;
SELECT powersync_trigger_resync(0)
;;
SELECT powersync_clear()
;;
SELECT powersync_trigger_resync()
;;
SELECT powersync_init()
;;
DROP TABLE ps_crud
;;
SELECT powersync_clear(0)
;;
ROLLBACK
;;
BEGIN
;;
SELECT powersync_init()
;;
DROP TABLE ps_stream_subscriptions
;;
SELECT powersync_clear(0)
;;
SELECT powersync_trigger_resync(0)
;;
SELECT powersync_trigger_resync(1)
;;
ROLLBACK
;;
BEGIN
;;
SELECT powersync_init()
;;
DROP TABLE ps_sync_state
;;
SELECT powersync_clear(2)
;;
SELECT powersync_trigger_resync(1)
;;
ROLLBACK
;;
BEGIN
;;
SELECT powersync_init()
;;
CREATE TABLE ps_data__w(id TEXT PRIMARY KEY, data TEXT) WITHOUT ROWID
;;
SELECT powersync_clear(0)
;;
ROLLBACK
;;
BEGIN
;;
SELECT powersync_init()
;;
CREATE TABLE "ps_data_local__w""x"(id TEXT PRIMARY KEY, data TEXT)
;;
INSERT INTO "ps_data_local__w""x" VALUES ('1', '{}')
;;
CREATE TABLE ps_data_other(x)
;;
INSERT INTO ps_data_other VALUES (1)
;;
CREATE VIEW ps_data__view AS SELECT 1
;;
SELECT powersync_clear(0)
;;
SELECT count(*) FROM "ps_data_local__w""x"
;;
SELECT powersync_clear(1)
;;
SELECT count(*) FROM "ps_data_local__w""x"
;;
SELECT count(*) FROM ps_data_other
;;
SELECT powersync_replace_schema('{"tables":[],"raw_tables":[{"name":"r","clear":"SELECT 1 FROM nothere"}]}')
;;
SELECT powersync_clear(0)
;;
SELECT powersync_replace_schema('{"tables":[],"raw_tables":[{"name":"r","clear":"SELECT nosuch"}]}')
;;
SELECT powersync_clear(0)
;;
SELECT powersync_replace_schema('{"tables":[],"raw_tables":[{"name":"r","clear":"DELETE FROM ps_crud; INSERT INTO ps_crud(data) VALUES (powersync_in_sync_operation())"}]}')
;;
SELECT powersync_clear(0)
;;
SELECT data FROM ps_crud
;;
SELECT powersync_in_sync_operation()
;;
ROLLBACK
"#;
    let n = same_script(&ours, &reference, script);
    common::report("util_clear_hooks::clear_errors", n);
}

#[test]
fn trigger_resync_matches_reference() {
    let mut cases = 0;
    for arg in ["0", "1", "NULL", "'1'", "'x'", "0.5", "2"] {
        let (ours, reference) = populated(true);
        common::each(&ours, &reference, "install update hooks", |conn| {
            conn.query_row("SELECT powersync_update_hooks('install')", [], |_| Ok(()))
                .unwrap();
        });
        let script = format!(
            "SELECT powersync_trigger_resync({arg})\n;;\nBEGIN\n;;\nSELECT powersync_trigger_resync({arg})\n;;\nCOMMIT\n;;\nSELECT powersync_update_hooks('get')"
        );
        cases += same_script(&ours, &reference, &script);
        assert_eq!(
            all_data(&ours),
            all_data(&reference),
            "after trigger_resync({arg})"
        );
    }
    common::report("util_clear_hooks::trigger_resync", cases);
}

#[test]
fn update_hooks_match_reference() {
    let (ours, reference) = populated(true);
    let script = r#"
SELECT powersync_update_hooks('get')
;;
INSERT INTO a(id, v) VALUES ('before-install', 'x')
;;
SELECT powersync_update_hooks('get')
;;
SELECT powersync_update_hooks('install')
;;
SELECT powersync_update_hooks('install')
;;
INSERT INTO a(id, v) VALUES ('h1', 'x')
;;
SELECT powersync_update_hooks('get')
;;
SELECT json_array(powersync_update_hooks('get'))
;;
BEGIN
;;
INSERT INTO l(id, v) VALUES ('h2', 'x')
;;
UPDATE a SET v = 'changed' WHERE id = 'h1'
;;
SELECT powersync_update_hooks('get')
;;
COMMIT
;;
SELECT powersync_update_hooks('get')
;;
SELECT powersync_update_hooks('get')
;;
BEGIN
;;
DELETE FROM a WHERE id = 'h1'
;;
ROLLBACK
;;
SELECT powersync_update_hooks('get')
;;
BEGIN
;;
SAVEPOINT s
;;
INSERT INTO users VALUES ('u9', 'n')
;;
ROLLBACK TO s
;;
INSERT INTO "q""uote"(id, v) VALUES ('q9', 'x')
;;
COMMIT
;;
SELECT powersync_update_hooks('get')
;;
INSERT INTO ps_updated_rows VALUES ('x', 'y')
;;
DELETE FROM clear_log
;;
SELECT powersync_update_hooks('get')
;;
ATTACH ':memory:' AS other
;;
CREATE TABLE other.t(x)
;;
INSERT INTO other.t VALUES (1)
;;
CREATE TEMP TABLE tt(x)
;;
INSERT INTO tt VALUES (1)
;;
SELECT powersync_update_hooks('get')
;;
INSERT INTO a(id, v) VALUES ('h1', 'dup')
;;
INSERT INTO a(id, v) VALUES (NULL, 'x')
;;
SELECT powersync_update_hooks('get')
;;
BEGIN
;;
INSERT INTO a(id, v) VALUES ('h3', 'x')
;;
SELECT powersync_update_hooks('get')
;;
SELECT powersync_update_hooks('bad')
;;
COMMIT
;;
SELECT powersync_update_hooks('get')
"#;
    let n = same_script(&ours, &reference, script);
    // Sanity check of what was compared: an insert into a synced view reports these.
    run(&ours, "INSERT INTO a(id, v) VALUES ('h4', 'x')").unwrap();
    assert_eq!(
        run(&ours, "SELECT powersync_update_hooks('get')"),
        Ok(vec![vec![Value::Text(
            r#"["ps_crud","ps_data__a","ps_kv","ps_tx"]"#.into()
        )]])
    );
    common::report("util_clear_hooks::update_hooks", n);
}

#[test]
fn hooks_are_released_when_the_connection_closes() {
    let (ours, reference) = populated(true);
    let install_and_write = |conn: &rusqlite::Connection| {
        conn.query_row("SELECT powersync_update_hooks('install')", [], |_| Ok(()))
            .unwrap();
        conn.execute_batch("INSERT INTO a(id, v) VALUES ('closing', 'x')")
            .unwrap();
    };
    install_and_write(&ours);
    ours.close().map_err(|(_, e)| e).unwrap();
    // Dropping the reference's connection closes it.
    reference.ask("install hooks, write", "", install_and_write);
    drop(reference);
    // Connect the pre-close table without hooks, then close: nothing to release.
    let conn = common::open_ours();
    assert_eq!(
        run(&conn, "SELECT count(*) FROM powersync_internal_close"),
        Ok(vec![vec![Value::Integer(0)]])
    );
    conn.close().map_err(|(_, e)| e).unwrap();
}

#[test]
fn foreign_hooks_are_an_error() {
    // The reference aborts the process in this situation; we report an error instead.
    // rusqlite 0.43's update_hook takes `&mut self`, 0.39's `&self`.
    #[allow(unused_mut)]
    let mut conn = common::open_ours();
    conn.update_hook(Some(|_: rusqlite::hooks::Action, _: &str, _: &str, _: i64| {}))
        .unwrap();
    assert_eq!(
        powersync_testkit::crud::run(&conn, "SELECT powersync_update_hooks('install')"),
        Err((
            21,
            "powersync_update_hooks: invalid state: another library installed an update, commit or rollback hook on this connection".into()
        ))
    );
    // Our hooks are not left installed.
    conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1)")
        .unwrap();
    assert_eq!(
        run(&conn, "SELECT powersync_update_hooks('get')"),
        Ok(vec![vec![Value::Text("[]".into())]])
    );
}

#[test]
fn soft_clear_and_resync_refused_during_a_sync_iteration() {
    let (ours, reference) = populated(true);
    let has_control = run(
        &ours,
        "SELECT count(*) FROM pragma_function_list WHERE name = 'powersync_control'",
    )
    .unwrap();
    if has_control != vec![vec![Value::Integer(1)]] {
        // powersync_control belongs to the sync client (branch sync-engine); this comparison
        // runs once it is merged.
        common::report_skipped(
            "util_clear_hooks",
            "soft_clear_and_resync_refused_during_a_sync_iteration: powersync_control is not registered yet",
        );
        return;
    }
    let script = r#"
BEGIN
;;
SELECT powersync_control('start', NULL) IS NOT NULL
;;
SELECT powersync_clear(2)
;;
SELECT powersync_clear(3)
;;
SELECT powersync_trigger_resync(0)
;;
SELECT powersync_trigger_resync(1)
;;
SELECT powersync_clear(0)
;;
SELECT powersync_clear(1)
;;
SELECT powersync_control('stop', NULL) IS NOT NULL
;;
SELECT powersync_clear(2)
;;
SELECT powersync_trigger_resync(1)
;;
COMMIT
"#;
    let n = same_script(&ours, &reference, script);
    assert_eq!(all_data(&ours), all_data(&reference));
    common::report("util_clear_hooks::during_sync_iteration", n);
}
