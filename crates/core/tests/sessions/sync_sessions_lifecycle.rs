//! Scripted differential sync sessions: iteration lifecycle (token expiry and keepalive,
//! `refreshed_token`, `stop`, `connection`, `start` while active, reconnects with `after`),
//! `powersync_clear` / `powersync_trigger_resync` while active, raw tables, and triggers
//! observing `powersync_in_sync_operation()`.
use crate::common;
use crate::sync_common;
use crate::sync_sessions_support;

use serde_json::{json, Value as Json};
use sync_common::*;
use sync_sessions_support::*;

fn new(name: &str) -> Session {
    Session::new(name, ITEMS_SCHEMA)
}

/// Token thresholds 31, 30, 1, 0, −5, both before and after the stream is connected.
fn token_thresholds(enc: Enc) -> usize {
    let mut s = new(&format!("token_thresholds[{enc:?}]"));
    for t in [31, 30, 1, 0, -5, i32::MAX as i64, i32::MIN as i64] {
        s.start_null().unwrap();
        s.send(enc, token(t)).unwrap();
        let _ = s.send(enc, token(t));
    }
    s.start_null().unwrap();
    s.ctl("connection", "established").unwrap();
    empty(&s.send(enc, token(31)));
    has(
        &s.send(enc, token(30)),
        r#"[{"FetchCredentials":{"did_expire":false}}]"#,
    );
    has(&s.send(enc, token(1)), "did_expire\":false");
    let r = s.send(enc, token(0));
    // The disconnected status comes between the two (0.5.3 had none).
    has(
        &r,
        r#"[{"FetchCredentials":{"did_expire":true}},{"UpdateSyncStatus":{"status":{"connected":false,"connecting":false,"priority_status":[],"downloading":null,"streams":[]}}},{"CloseSyncStream":{"hide_disconnect":false}}]"#,
    );
    fails(&s.send(enc, token(60)), 21);
    s.cases
}

/// `refreshed_token` in each state ends the iteration, reporting the disconnected status
/// first (0.5.3 closed without a status).
fn refreshed_token() -> usize {
    let mut s = new("refreshed_token");
    fails(&s.cmd("refreshed_token"), 21);
    s.start_null().unwrap();
    assert_eq!(
        s.cmd("refreshed_token"),
        Ok(Json::String(
            r#"[{"UpdateSyncStatus":{"status":{"connected":false,"connecting":false,"priority_status":[],"downloading":null,"streams":[]}}},{"CloseSyncStream":{"hide_disconnect":true}}]"#.into()
        ))
    );
    s.start_null().unwrap();
    s.json(cp(1, None, vec![bucket("a", 0, None, Some(3))])).unwrap();
    s.ctl("refreshed_token", "ignored payload").unwrap();
    fails(&s.json(complete(1)), 21);
    s.start_null().unwrap();
    s.json(cp(1, None, vec![bucket("a", 0, None, Some(3))])).unwrap();
    s.json(complete(1)).unwrap();
    s.ctl("refreshed_token", Payload::Int(3)).unwrap();
    s.cases
}

/// `stop` and `connection` events in every state.
fn stop_and_connection() -> usize {
    let mut s = new("stop_and_connection");
    empty(&s.cmd("stop"));
    fails(&s.ctl("connection", "established"), 21);
    fails(&s.ctl("connection", "end"), 21);
    s.start_null().unwrap();
    has(
        &s.ctl("connection", "established"),
        r#""connected":true,"connecting":false"#,
    );
    empty(&s.ctl("connection", "established"));
    s.json(cp(2, None, vec![bucket("a", 0, None, Some(2))])).unwrap();
    s.json(data_line("a", json!([put(1, "x", 0, "{}")]))).unwrap();
    let r = s.cmd("stop");
    has(&r, r#""connected":false,"connecting":false"#);
    has(&r, r#""downloading":null"#);
    has(&r, r#"{"CloseSyncStream":{"hide_disconnect":false}}"#);
    empty(&s.ctl("stop", "payload ignored"));
    s.start_null().unwrap();
    s.json(cp(2, None, vec![bucket("a", 0, None, Some(2))])).unwrap();
    has(&s.ctl("connection", "end"), "CloseSyncStream");
    fails(&s.ctl("connection", "end"), 21);
    s.start_null().unwrap();
    // A line first, then the connection event: nothing new.
    s.json(token(100)).unwrap();
    empty(&s.ctl("connection", "established"));
    s.cmd("stop").unwrap();
    s.cases
}

/// `start` while active drops the old iteration silently (including a pending blocked
/// checkpoint) and starts a new one from the database.
fn start_while_active() -> usize {
    let mut s = new("start_while_active");
    s.start(json!({"parameters": {"first": true}})).unwrap();
    s.json(cp(
        3,
        None,
        vec![bucket("a", 6, None, Some(3)), bucket("b", 0, Some(1), None)],
    ))
    .unwrap();
    s.json(data_line(
        "a",
        json!([put(1, "x", 1, "{}"), put(2, "y", 2, "{}")]),
    ))
    .unwrap();
    let r = s.start(json!({"parameters": {"second": true}}));
    has(&r, r#"{"buckets":[{"name":"a","after":"2"}]"#);
    assert!(!format!("{r:?}").contains("CloseSyncStream"));
    // The new iteration is in BeforeCheckpoint.
    fails(&s.json(complete(3)), 4);
    s.start_null().unwrap();
    s.json(cp(3, None, vec![bucket("a", 6, None, Some(3))])).unwrap();
    s.json(data_line("a", json!([put(3, "z", 3, "{}")]))).unwrap();
    s.sql("INSERT INTO ps_crud (data, tx_id) VALUES ('{}', 1)");
    s.json(complete(3)).unwrap();
    s.start_null().unwrap();
    s.sql("DELETE FROM ps_crud");
    // The pending checkpoint went with the old iteration.
    empty(&s.cmd("completed_upload"));
    s.json(cp(3, None, vec![bucket("a", 6, None, Some(3))])).unwrap();
    has(&s.json(complete(3)), "DidCompleteSync");
    s.cases
}

/// Reconnect: `request.buckets` in rowid order with `after` = last_op, without buckets
/// pending deletion; buckets not listed by the first checkpoint are deleted.
fn reconnect_after() -> usize {
    let mut s = new("reconnect_after");
    s.start_null().unwrap();
    s.json(data_line("zz", json!([put(5, "a", 0, "{}")]))).unwrap();
    s.json(data_line("aa", json!([put(-3, "b", 0, "{}")]))).unwrap();
    s.json(data_line("mm", json!([put(9, "c", 0, "{}")]))).unwrap();
    s.json(data_line("pd", json!([put(1, "d", 0, "{}")]))).unwrap();
    s.sql("UPDATE ps_buckets SET pending_delete = 1 WHERE name = 'pd'");
    let r = s.start_null();
    has(
        &r,
        r#""buckets":[{"name":"zz","after":"5"},{"name":"aa","after":"-3"},{"name":"mm","after":"9"}]"#,
    );
    // First checkpoint keeps zz and mm: aa (requested) is deleted, pd is not.
    s.json(cp(
        9,
        None,
        vec![bucket("zz", 0, None, None), bucket("mm", 0, None, None)],
    ))
    .unwrap();
    s.query("SELECT name, pending_delete FROM ps_buckets ORDER BY id");
    s.json(complete(9)).unwrap();
    s.query("SELECT name, last_op, last_applied_op FROM ps_buckets ORDER BY id");
    s.cmd("stop").unwrap();
    has(&s.start_null(), r#"{"name":"zz","after":"9"}"#);
    s.cases
}

/// `powersync_clear` and `powersync_trigger_resync` while an iteration is active.
fn clear_while_active() -> usize {
    let mut s = new("clear_while_active");
    s.start_null().unwrap();
    s.json(cp(1, Some(1), vec![bucket("a", 1, None, Some(1))]))
        .unwrap();
    s.json(data_line("a", json!([put(1, "r", 1, r#"{"col":"x"}"#)])))
        .unwrap();
    s.json(complete(1)).unwrap();
    s.sql("INSERT INTO items(id, col) VALUES ('local', 'y')");
    s.sql("SELECT powersync_clear(2)");
    s.sql("SELECT powersync_clear(3)");
    s.sql("SELECT powersync_trigger_resync(0)");
    s.sql("SELECT powersync_trigger_resync(1)");
    // Hard clear is allowed while active.
    s.sql("SELECT powersync_clear(0)");
    s.offline_status();
    // The iteration goes on with an emptied database.
    s.json(cp(2, None, vec![bucket("a", 1, None, Some(1))])).unwrap();
    s.json(data_line("a", json!([put(1, "r", 1, r#"{"col":"x"}"#)])))
        .unwrap();
    has(&s.json(complete(2)), "DidCompleteSync");
    s.sql("SELECT powersync_clear(1)");
    s.cmd("stop").unwrap();
    s.cases
}

/// Soft clear between iterations: stored ops are reused and re-applied.
fn soft_clear_then_resync() -> usize {
    let mut s = new("soft_clear_then_resync");
    s.start_null().unwrap();
    s.json(cp(2, None, vec![bucket("a", 3, None, Some(2))])).unwrap();
    s.json(data_line(
        "a",
        json!([
            put(1, "r1", 1, r#"{"col":"1"}"#),
            put(2, "r2", 2, r#"{"col":"2"}"#)
        ]),
    ))
    .unwrap();
    s.json(complete(2)).unwrap();
    s.cmd("stop").unwrap();
    s.sql("SELECT powersync_clear(2)");
    s.offline_status();
    has(&s.start_null(), r#"{"name":"a","after":"2"}"#);
    s.json(cp(2, None, vec![bucket("a", 3, None, Some(2))])).unwrap();
    has(&s.json(complete(2)), "DidCompleteSync");
    s.query("SELECT id, data FROM ps_data__items ORDER BY id");
    s.cases
}

/// A missing client id makes `start` fail; the state is idle afterwards.
fn missing_client_id() -> usize {
    let mut s = new("missing_client_id");
    s.start_null().unwrap();
    s.sql("DELETE FROM ps_kv WHERE key = 'client_id'");
    fails(&s.start_null(), 4);
    // The failed start left the previous iteration active (0.5.3 had none left).
    has(&s.json(token(60)), r#""connected":true"#);
    s.sql("INSERT INTO ps_kv VALUES ('client_id', 'other-client')");
    has(&s.start_null(), r#""client_id":"other-client""#);
    s.sql("UPDATE ps_kv SET value = X'6869' WHERE key = 'client_id'");
    s.start(json!({"checkpoint_mode": "requests"})).unwrap();
    s.cases
}

const USERS_DDL: &str = "CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT, age, flags, rest TEXT)";

fn raw_start(s: &mut Session, raw_tables: Json) -> R {
    s.start(json!({"schema": {"tables": [], "raw_tables": raw_tables}}))
}

/// Raw tables with explicit statements: Id / Column / Rest binding, value types, deletes.
fn raw_tables_explicit(enc: Enc) -> usize {
    let mut s = new(&format!("raw_tables_explicit[{enc:?}]"));
    s.sql(USERS_DDL);
    raw_start(
        &mut s,
        json!([{"name": "user",
            "put": {"sql": "INSERT OR REPLACE INTO users (id, name, age, flags, rest) VALUES (?, ?, ?, ?, ?)",
                    "params": ["Id", {"Column": "name"}, {"Column": "age"}, {"Column": "flags"}, "Rest"]},
            "delete": {"sql": "DELETE FROM users WHERE id = ?", "params": ["Id"]}}]),
    )
    .unwrap();
    s.send(enc, cp(6, None, vec![bucket("u", 0, None, None)]))
        .unwrap();
    s.send(
        enc,
        data_line(
            "u",
            json!([
                put_t(
                    1,
                    "user",
                    "u1",
                    0,
                    r#"{"name":"Ann","age":3,"flags":true,"z":1,"a":[1,{"b":null}]}"#
                ),
                put_t(
                    2,
                    "user",
                    "u2",
                    0,
                    r#"{"name":7.25,"age":-1e3,"flags":false,"id":"inner"}"#
                ),
                put_t(3, "user", "u3", 0, r#"{"name":null,"age":[1],"flags":{"x":1}}"#),
                put_t(4, "user", "u4", 0, r#"{}"#),
                put_t(5, "user", "u5", 0, r#"{"age":9007199254740993}"#),
                put_t(6, "items", "i1", 0, r#"{"col":"normal"}"#)
            ]),
        ),
    )
    .unwrap();
    s.send(enc, complete(6)).unwrap();
    s.query("SELECT id, quote(name), quote(age), quote(flags), quote(rest) FROM users ORDER BY id");
    s.send(enc, cp(8, None, vec![bucket("u", 0, None, None)]))
        .unwrap();
    s.send(
        enc,
        data_line(
            "u",
            json!([
                remove_t(7, "user", "u1", 0),
                op(8, "PUT", Some("user"), Some("u2"), 0, None)
            ]),
        ),
    )
    .unwrap();
    s.send(enc, complete(8)).unwrap();
    s.query("SELECT id FROM users ORDER BY id");
    s.cases
}

/// Inferred statements from `table_name`, restricted by `synced_columns`, re-inferred after
/// a schema change.
fn raw_tables_inferred() -> usize {
    let mut s = new("raw_tables_inferred");
    s.sql("CREATE TABLE people (id TEXT PRIMARY KEY NOT NULL, name TEXT, age INTEGER, secret TEXT)");
    s.sql("CREATE TABLE \"odd \"\"name\" (id TEXT PRIMARY KEY, v)");
    raw_start(
        &mut s,
        json!([
            {"name": "person", "table_name": "people", "synced_columns": ["name", "age"]},
            {"name": "odd", "table_name": "odd \"name"}
        ]),
    )
    .unwrap();
    s.json(cp(3, None, vec![bucket("p", 0, None, None)])).unwrap();
    s.json(data_line(
        "p",
        json!([
            put_t(1, "person", "p1", 0, r#"{"name":"A","age":30,"secret":"s"}"#),
            put_t(2, "odd", "o1", 0, r#"{"v":"value","w":1}"#),
            put_t(3, "person", "p2", 0, r#"{"name":"B"}"#)
        ]),
    ))
    .unwrap();
    s.json(complete(3)).unwrap();
    s.query("SELECT id, quote(name), quote(age), quote(secret) FROM people ORDER BY id");
    s.sql("UPDATE people SET secret = 'kept' WHERE id = 'p1'");
    s.sql("ALTER TABLE \"odd \"\"name\" ADD COLUMN w");
    s.json(cp(5, None, vec![bucket("p", 0, None, None)])).unwrap();
    s.json(data_line(
        "p",
        json!([
            put_t(4, "person", "p1", 0, r#"{"name":"A2","age":31}"#),
            put_t(5, "odd", "o1", 0, r#"{"v":"value2","w":2}"#)
        ]),
    ))
    .unwrap();
    s.json(complete(5)).unwrap();
    s.query("SELECT id, quote(name), quote(age), quote(secret) FROM people ORDER BY id");
    s.json(cp(6, None, vec![bucket("p", 0, None, None)])).unwrap();
    s.json(data_line("p", json!([remove_t(6, "person", "p2", 0)])))
        .unwrap();
    s.json(complete(6)).unwrap();
    s.cases
}

/// A `ps_data__T` table wins over a raw table named T; raw tables given only to
/// `powersync_replace_schema` are not used by sync.
fn raw_table_precedence() -> usize {
    let mut s = new("raw_table_precedence");
    s.sql("CREATE TABLE raw_items (id TEXT PRIMARY KEY, col TEXT)");
    s.sql("CREATE TABLE only_schema (id TEXT PRIMARY KEY, col TEXT)");
    s.sql(r#"SELECT powersync_replace_schema('{"tables":[{"name":"items","columns":[{"name":"col","type":"text"}]}],"raw_tables":[{"name":"schemaonly","table_name":"only_schema"}]}')"#);
    raw_start(
        &mut s,
        json!([{"name": "items", "put": {"sql": "INSERT OR REPLACE INTO raw_items VALUES (?, ?)", "params": ["Id", {"Column": "col"}]},
                "delete": {"sql": "DELETE FROM raw_items WHERE id = ?", "params": ["Id"]}}]),
    )
    .unwrap();
    s.json(cp(2, None, vec![bucket("a", 0, None, None)])).unwrap();
    s.json(data_line(
        "a",
        json!([
            put(1, "i", 0, r#"{"col":"c"}"#),
            put_t(2, "schemaonly", "s", 0, r#"{"col":"c"}"#)
        ]),
    ))
    .unwrap();
    s.json(complete(2)).unwrap();
    s.query("SELECT count(*) FROM raw_items");
    s.query("SELECT * FROM ps_untyped");
    s.cases
}

/// Fatal raw-table errors: constraint failures with context, parameter count mismatches,
/// delete statements using columns, non-object and invalid JSON data.
fn raw_table_errors() -> usize {
    let mut s = new("raw_table_errors");
    s.sql("CREATE TABLE strict_users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)");
    let good_delete = json!({"sql": "DELETE FROM strict_users WHERE id = ?", "params": ["Id"]});
    let cases = vec![
        // NOT NULL constraint.
        (
            json!([{"name": "u", "put": {"sql": "INSERT OR REPLACE INTO strict_users (id, name) VALUES (?, ?);", "params": ["Id", {"Column": "name"}]}, "delete": good_delete}]),
            put_t(1, "u", "my_user", 0, "{}"),
        ),
        // Too few parameter sources.
        (
            json!([{"name": "u", "put": {"sql": "INSERT INTO strict_users (id, name) VALUES (?, ?)", "params": ["Id"]}, "delete": good_delete}]),
            put_t(1, "u", "x", 0, r#"{"name":"n"}"#),
        ),
        // Delete statement referencing a column.
        (
            json!([{"name": "u", "put": {"sql": "INSERT INTO strict_users (id, name) VALUES (?, ?)", "params": ["Id", {"Column": "name"}]},
                    "delete": {"sql": "DELETE FROM strict_users WHERE id = ? AND name = ?", "params": ["Id", {"Column": "name"}]}}]),
            put_t(1, "u", "x", 0, r#"{"name":"n"}"#),
        ),
        // Data that is JSON but not an object.
        (
            json!([{"name": "u", "put": {"sql": "INSERT INTO strict_users (id, name) VALUES (?, ?)", "params": ["Id", {"Column": "name"}]}, "delete": good_delete}]),
            put_t(1, "u", "x", 0, r#"[1,2]"#),
        ),
        // Data that is not JSON.
        (
            json!([{"name": "u", "put": {"sql": "INSERT INTO strict_users (id, name) VALUES (?, ?)", "params": ["Id", {"Column": "name"}]}, "delete": good_delete}]),
            put_t(1, "u", "x", 0, r#"{"name":"#),
        ),
        // Statement that does not compile.
        (
            json!([{"name": "u", "put": {"sql": "INSERT INTO nowhere VALUES (?)", "params": ["Id"]}, "delete": good_delete}]),
            put_t(1, "u", "x", 0, "{}"),
        ),
        // Delete failing through a constraint: deleting a row referenced elsewhere is not
        // needed; a delete of an unknown row is fine and must succeed.
        (
            json!([{"name": "u", "put": {"sql": "INSERT OR REPLACE INTO strict_users (id, name) VALUES (?, ?)", "params": ["Id", {"Column": "name"}]}, "delete": good_delete}]),
            remove_t(1, "u", "nobody", 0),
        ),
        // Missing put statement without table_name.
        (
            json!([{"name": "u", "delete": good_delete}]),
            put_t(1, "u", "x", 0, "{}"),
        ),
    ];
    for (i, (raw, op)) in cases.into_iter().enumerate() {
        raw_start(&mut s, raw).unwrap();
        s.json(cp(1, None, vec![bucket(&format!("b{i}"), 0, None, None)]))
            .unwrap();
        s.json(data_line(&format!("b{i}"), json!([op]))).unwrap();
        let _ = s.json(complete(1));
        // The iteration survives the error (0.5.3 ended it); the keepalive probes that.
        let _ = s.json(token(60));
        s.start_null().unwrap();
        s.json(cp(1, None, vec![])).unwrap();
        s.json(complete(1)).unwrap();
    }
    s.cases
}

/// User triggers on synced tables see `powersync_in_sync_operation()` = 1 during applies;
/// raw-table CRUD triggers do not queue synced rows.
fn in_sync_operation() -> usize {
    let mut s = new("in_sync_operation");
    s.sql("CREATE TABLE log (what TEXT, in_sync INTEGER)");
    s.sql("CREATE TRIGGER t_ins AFTER INSERT ON ps_data__items BEGIN INSERT INTO log VALUES ('ins ' || NEW.id, powersync_in_sync_operation()); END");
    s.sql("CREATE TRIGGER t_del AFTER DELETE ON ps_data__items BEGIN INSERT INTO log VALUES ('del ' || OLD.id, powersync_in_sync_operation()); END");
    s.sql("CREATE TABLE notes (id TEXT PRIMARY KEY NOT NULL, body TEXT)");
    let raw = json!({"name": "note", "table_name": "notes"});
    for (name, op) in [
        ("raw_ins", "INSERT"),
        ("raw_upd", "UPDATE"),
        ("raw_del", "DELETE"),
    ] {
        s.sql(&format!(
            "SELECT powersync_create_raw_table_crud_trigger('{raw}', '{name}', '{op}')"
        ));
    }
    s.start(json!({"schema": {"tables": [], "raw_tables": [raw]}}))
        .unwrap();
    s.json(cp(3, None, vec![bucket("a", 0, None, None)])).unwrap();
    s.json(data_line(
        "a",
        json!([
            put(1, "x", 0, r#"{"col":"1"}"#),
            put_t(2, "note", "n1", 0, r#"{"body":"b"}"#),
            put_t(3, "note", "n2", 0, r#"{"body":"c"}"#)
        ]),
    ))
    .unwrap();
    s.json(complete(3)).unwrap();
    s.value("SELECT powersync_in_sync_operation()").unwrap();
    s.sql("INSERT INTO items(id, col) VALUES ('mine', 'm')");
    s.sql("UPDATE notes SET body = 'edited' WHERE id = 'n1'");
    s.query("SELECT id, data FROM ps_crud ORDER BY id");
    s.sql("DELETE FROM ps_crud");
    s.json(cp(5, None, vec![bucket("a", 0, None, None)])).unwrap();
    s.json(data_line(
        "a",
        json!([remove(4, "x", 0), remove_t(5, "note", "n2", 0)]),
    ))
    .unwrap();
    s.json(complete(5)).unwrap();
    s.query("SELECT * FROM log ORDER BY rowid");
    s.query("SELECT count(*) FROM ps_crud");
    s.cases
}

/// Several starts in a row with varying payloads; stop in the middle of a data stream.
fn restart_storm(enc: Enc) -> usize {
    let mut s = new(&format!("restart_storm[{enc:?}]"));
    for round in 0..4i64 {
        s.start(json!({"parameters": {"round": round}, "include_defaults": round % 2 == 0}))
            .unwrap();
        s.send(
            enc,
            cp(10 + round, None, vec![bucket("a", 0, None, Some(10 + round))]),
        )
        .unwrap();
        let ops: Vec<_> = (0..3)
            .map(|k| {
                put(
                    round * 3 + k + 1,
                    &format!("r{k}"),
                    0,
                    &format!(r#"{{"col":"{round}"}}"#),
                )
            })
            .collect();
        s.send(enc, data_line("a", json!(ops))).unwrap();
        if round % 2 == 1 {
            s.cmd("stop").unwrap();
        }
    }
    s.start_null().unwrap();
    s.send(enc, cp(12, None, vec![bucket("a", 0, None, Some(12))]))
        .unwrap();
    s.send(enc, complete(12)).unwrap();
    s.query("SELECT id, data FROM ps_data__items ORDER BY id");
    s.cases
}

/// Two connections per implementation to one database file each.
struct TwoConnections {
    ours: (rusqlite::Connection, rusqlite::Connection),
    theirs: (common::RefConn, common::RefConn),
    cases: usize,
}

fn pick<T>(p: &(T, T), b: bool) -> &T {
    if b {
        &p.1
    } else {
        &p.0
    }
}

impl TwoConnections {
    /// A `powersync_control` call on connection A or B of both implementations.
    fn control(&mut self, b: bool, op: &str, payload: Payload) -> R {
        tick();
        let x = normalize_result(&call(pick(&self.ours, b), op, &payload));
        let y = pick(&self.theirs, b).ask("control", &format!("{op} {}", payload.key()), |c| {
            normalize_result(&call(c, op, &payload))
        });
        assert_eq!(x, y, "two_connections: {op} on {}", if b { "B" } else { "A" });
        assert_eq!(
            sync_tables(&self.ours.0),
            sync_tables(&self.theirs.0),
            "two_connections: tables after {op}"
        );
        self.cases += 1;
        x
    }

    /// A one-value statement in a transaction on connection A or B of both.
    fn eval(&mut self, b: bool, sql: &str) -> Result<rusqlite::types::Value, (i32, String)> {
        let run = |c: &rusqlite::Connection| {
            c.execute_batch("BEGIN").unwrap();
            let r = common::raw_eval(c, sql);
            c.execute_batch("COMMIT").unwrap();
            r
        };
        let x = run(pick(&self.ours, b));
        let y = pick(&self.theirs, b).ask("eval", sql, run);
        assert_eq!(x, y, "two_connections: {sql}");
        self.cases += 1;
        x
    }
}

/// Two connections to one database file have independent iterations, and the
/// clear/resync guard only looks at the calling connection's iteration.
fn two_connections() -> usize {
    let dir = std::env::temp_dir().join(format!("ps_sessions_two_conn_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let open_pair = |which: common::Impl, file: &str| {
        let path = dir.join(file);
        let a = common::open_file(which, &path);
        init(&a, ITEMS_SCHEMA);
        let b = common::open_file(which, &path);
        (a, b)
    };
    // The reference's two connections are recorded apart (each its own transcript), in the
    // order the test uses them.
    let path = dir.join("reference.db");
    let open_ref = |label: &str| {
        common::RefConn::open_with(label, |lib| {
            let c = rusqlite::Connection::open(&path).unwrap();
            common::load_extension(&c, lib);
            c
        })
    };
    let a = open_ref("two_connections A");
    init(&a, ITEMS_SCHEMA);
    let theirs = (a, open_ref("two_connections B"));
    let mut t = TwoConnections {
        ours: open_pair(common::Impl::Ours, "ours.db"),
        theirs,
        cases: 0,
    };
    const A: bool = false;
    const B: bool = true;
    t.control(A, "start", Payload::Null).unwrap();
    fails(
        &t.control(B, "line_text", json!({"token_expires_in": 60}).into()),
        21,
    );
    t.control(B, "start", Payload::Null).unwrap();
    t.control(
        A,
        "line_text",
        cp(1, None, vec![bucket("a", 0, None, None)]).into(),
    )
    .unwrap();
    t.control(B, "stop", Payload::Null).unwrap();
    t.control(
        A,
        "line_text",
        data_line("a", json!([put(1, "x", 0, "{}")])).into(),
    )
    .unwrap();
    has(&t.control(A, "line_text", complete(1).into()), "DidCompleteSync");
    assert!(t.eval(A, "SELECT powersync_trigger_resync(0)").is_err());
    assert!(t.eval(B, "SELECT powersync_trigger_resync(0)").is_ok());
    assert!(t.eval(B, "SELECT powersync_clear(2)").is_ok());
    t.control(
        A,
        "line_text",
        cp(1, None, vec![bucket("a", 0, None, None)]).into(),
    )
    .unwrap();
    has(&t.control(A, "line_text", complete(1).into()), "DidCompleteSync");
    empty(&t.control(B, "stop", Payload::Null));
    t.control(A, "stop", Payload::Null).unwrap();
    let cases = t.cases;
    drop(t);
    let _ = std::fs::remove_dir_all(&dir);
    cases
}

#[test]
fn lifecycle_sessions() {
    run_suite(
        "sync_sessions_lifecycle",
        &[
            ("token_thresholds_json", || token_thresholds(Enc::Json)),
            ("token_thresholds_bson", || token_thresholds(Enc::Bson)),
            ("token_thresholds_bson64", || token_thresholds(Enc::Bson64)),
            ("refreshed_token", refreshed_token),
            ("stop_and_connection", stop_and_connection),
            ("start_while_active", start_while_active),
            ("reconnect_after", reconnect_after),
            ("clear_while_active", clear_while_active),
            ("soft_clear_then_resync", soft_clear_then_resync),
            ("missing_client_id", missing_client_id),
            ("raw_tables_explicit_json", || raw_tables_explicit(Enc::Json)),
            ("raw_tables_explicit_bson", || raw_tables_explicit(Enc::Bson)),
            ("raw_tables_inferred", raw_tables_inferred),
            ("raw_table_precedence", raw_table_precedence),
            ("raw_table_errors", raw_table_errors),
            ("in_sync_operation", in_sync_operation),
            ("restart_storm_json", || restart_storm(Enc::Json)),
            ("restart_storm_bson", || restart_storm(Enc::Bson)),
            ("two_connections", two_connections),
        ],
    );
}
