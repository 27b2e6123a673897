//! Differential tests of the core 0.5.4 changes outside direct-table DDL: `powersync_clear`
//! (S5), `powersync_json_merge` (S6), raw-table triggers (R1, R2), writing synced rows into
//! raw tables (R4 integer binding, R5 the `Row` parameter, R6 lazy parsing, R7 raw tables
//! win over `ps_data__` tables), error context on `ps_data__` writes (R9) and direct tables
//! as sync targets (Y12).
//!
//! Each step runs on our implementation and on the reference (`powersync_control` calls and
//! SQL each in their own transaction) and compares results, errors (code and message) and
//! every table. Sync steps only use line sequences whose instructions did not change in
//! 0.5.4 (a `checkpoint` line first, a new `start` after an error).
use crate::common;
use crate::sync_common;
use crate::sync_sessions_support;

use serde_json::{json, Value as Json};
use sync_common::{checkpoint, complete, data_line, Session, ITEMS_SCHEMA};
use sync_sessions_support::{put_t, remove_t};

fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn replace_schema(s: &mut Session, schema: &Json) {
    s.sql(&format!(
        "SELECT powersync_replace_schema({})",
        sql_string(&schema.to_string())
    ));
}

/// Evaluates a one-value query on both and compares the value or the error.
fn eval_both(s: &mut Session, sql: &str) {
    let ours = common::eval(&s.ours, sql);
    let theirs = common::eval(&s.reference, sql);
    assert_eq!(ours, theirs, "{}: {sql}", s.name);
    s.cases += 1;
}

fn master_equal(s: &Session) {
    assert_eq!(
        common::master(&s.ours),
        common::master(&s.reference),
        "{}: sqlite_master differs",
        s.name
    );
}

/// Feeds ops into bucket `a` and completes a checkpoint; `ops` counts into the running
/// checksum (every op has checksum 1).
struct Feed {
    last_op: i64,
}

impl Feed {
    fn new() -> Self {
        Feed { last_op: 0 }
    }

    /// Ops as (type, id, data) — `None` data is a REMOVE.
    fn round(&mut self, s: &mut Session, ops: &[(&str, &str, Option<&str>)]) {
        let lines: Vec<Json> = ops
            .iter()
            .map(|(ty, id, data)| {
                self.last_op += 1;
                match data {
                    Some(d) => put_t(self.last_op, ty, id, 1, d),
                    None => remove_t(self.last_op, ty, id, 1),
                }
            })
            .collect();
        let n = self.last_op;
        s.line(checkpoint(n, None, &[("a", n, 3, None)])).unwrap();
        s.line(data_line("a", Json::Array(lines))).unwrap();
        let _ = s.line(complete(n));
    }
}

#[test]
fn s5_clear() {
    let mut s = Session::new("ref054/clear", ITEMS_SCHEMA);
    replace_schema(
        &mut s,
        &json!({"tables": [
            {"name": "items", "columns": [{"name": "col", "type": "text"}]},
            {"name": "local_stuff", "local_only": true, "columns": [{"name": "x", "type": "text"}]},
            {"name": "d", "direct": true, "columns": [{"name": "v", "type": "text"}]},
            {"name": "dl", "direct": true, "local_only": true, "columns": [{"name": "v", "type": "text"}]}
        ], "raw_tables": [{"name": "r", "table_name": "raw_local", "clear": "DELETE FROM raw_local"}]}),
    );
    s.sql("CREATE TABLE raw_local(id TEXT PRIMARY KEY, v)");
    s.sql("SELECT powersync_create_raw_table_crud_trigger('{\"name\":\"r\",\"table_name\":\"raw_local\"}', 'raw_del', 'DELETE')");
    // Tables named like data tables but with one underscore are not PowerSync's.
    s.sql("CREATE TABLE ps_data_other(id TEXT, v); CREATE TABLE ps_datax(id, v); CREATE TABLE mine(id TEXT /* ps-managed */, v)");
    s.sql("CREATE TABLE log(what, in_sync)");
    s.sql("CREATE TRIGGER items_del AFTER DELETE ON ps_data__items BEGIN INSERT INTO log VALUES ('items ' || OLD.id, powersync_in_sync_operation()); END");
    s.sql("CREATE TRIGGER other_del AFTER DELETE ON ps_data_other BEGIN INSERT INTO log VALUES ('other', powersync_in_sync_operation()); END");
    let fill = "INSERT INTO items(id, col) VALUES ('i1', 'a'), ('i2', 'b'); INSERT INTO local_stuff(id, x) VALUES ('l1', 'x'); \
                INSERT INTO d(id, v) VALUES ('d1', 'v'); INSERT INTO dl(id, v) VALUES ('dl1', 'v'); INSERT INTO raw_local VALUES ('r1', 1); \
                INSERT INTO ps_data_other VALUES ('o', 1); INSERT INTO ps_datax VALUES ('x', 1); INSERT INTO mine VALUES ('m', 1); DELETE FROM ps_crud; DELETE FROM log";
    for flags in [0, 1, 2, 3] {
        s.sql(fill);
        s.sql(&format!("SELECT powersync_clear({flags})"));
        s.query("SELECT * FROM log ORDER BY what");
        s.query("SELECT count(*) FROM ps_crud");
    }
    // Soft clear while an iteration is active.
    s.control("start", json!({})).unwrap();
    s.sql(fill);
    s.sql("SELECT powersync_clear(2)");
    s.sql("SELECT powersync_clear(1)");
    common::report("S5 powersync_clear", s.cases);
}

#[test]
fn s6_json_merge() {
    let mut s = Session::new("ref054/json_merge", ITEMS_SCHEMA);
    for args in [
        r#"'{"a":1}', NULL"#,
        r#"NULL"#,
        r#"NULL, NULL"#,
        r#"'{"a":1}', NULL, '{"b":2}'"#,
        r#"NULL, '{"b":2}'"#,
        r#"'{"a":1}', 'x'"#,
        r#"'{"a":1}', 5"#,
        r#"NULL, 'x'"#,
        r#"'{}', NULL, '{}'"#,
        r#"''"#,
    ] {
        eval_both(
            &mut s,
            &format!("SELECT powersync_json_merge({args}) || ' ' || typeof(powersync_json_merge({args}))"),
        );
        s.sql(&format!(
            "CREATE TABLE IF NOT EXISTS merged(v); INSERT INTO merged VALUES (powersync_json_merge({args}))"
        ));
    }
    eval_both(
        &mut s,
        r#"SELECT json_array(powersync_json_merge('{"a":1}', NULL))"#,
    );
    common::report("S6 powersync_json_merge", s.cases);
}

const USERS: &str = "CREATE TABLE users(id TEXT PRIMARY KEY, email TEXT, n)";

fn trigger(s: &mut Session, definition: &Json, prefix: &str) {
    for write in ["INSERT", "UPDATE", "DELETE"] {
        s.sql(&format!(
            "SELECT powersync_create_raw_table_crud_trigger({}, {}, '{write}')",
            sql_string(&definition.to_string()),
            sql_string(&format!("{prefix}_{}", write.to_lowercase()))
        ));
    }
    master_equal(s);
}

#[test]
fn r1_raise_abort() {
    let mut s = Session::new("ref054/raise_abort", ITEMS_SCHEMA);
    s.sql(USERS);
    trigger(
        &mut s,
        &json!({"name": "users", "table_name": "users", "insert_only": true}),
        "ins",
    );
    s.sql("INSERT INTO users VALUES ('1', 'a', 1), ('2', 'b', 2)");
    // Insert-only: the update and the delete are rolled back.
    s.sql("UPDATE users SET email = 'changed'");
    s.sql("DELETE FROM users WHERE id = '1'");
    s.query("SELECT * FROM users ORDER BY id");
    for t in ["ins_insert", "ins_update", "ins_delete"] {
        s.sql(&format!("DROP TRIGGER IF EXISTS {t}"));
    }
    trigger(&mut s, &json!({"name": "users", "table_name": "users"}), "all");
    // Changing ids over two rows: nothing changes.
    s.sql("UPDATE users SET id = id || 'x'");
    s.sql("UPDATE users SET id = 'same' WHERE id = '1'");
    s.query("SELECT * FROM users ORDER BY id");
    // A statement continuing after the failing row in a multi-statement script.
    s.sql("UPDATE users SET n = 5 WHERE id = '2'; UPDATE users SET id = 'z' WHERE id = '2'");
    s.query("SELECT * FROM users ORDER BY id");
    common::report("R1 raw-table RAISE(ABORT)", s.cases);
}

#[test]
fn r2_local_only_raw_tables() {
    let mut s = Session::new("ref054/local_only_raw", ITEMS_SCHEMA);
    s.sql(USERS);
    for (i, definition) in [
        json!({"name": "users", "table_name": "users", "local_only": true}),
        json!({"name": "users", "table_name": "users", "local_only": true, "insert_only": true}),
        json!({"name": "users", "table_name": "users", "local_only": true, "include_old": true, "synced_columns": ["email"]}),
        json!({"name": "users", "table_name": "users", "local_only": false}),
    ]
    .iter()
    .enumerate()
    {
        trigger(&mut s, definition, &format!("t{i}"));
        s.sql("INSERT INTO users VALUES ('1', 'a', 1)");
        s.sql("UPDATE users SET email = 'b'");
        s.sql("UPDATE users SET id = '2'");
        s.sql("DELETE FROM users");
        s.query("SELECT data FROM ps_crud ORDER BY id");
        for t in ["insert", "update", "delete"] {
            s.sql(&format!("DROP TRIGGER IF EXISTS t{i}_{t}"));
        }
        s.sql("DELETE FROM ps_crud");
    }
    common::report("R2 local-only raw tables", s.cases);
}

/// A raw table for type `things` into `things_local` with columns of every affinity.
const THINGS: &str =
    "CREATE TABLE things_local(id TEXT PRIMARY KEY NOT NULL, plain, t TEXT, r REAL, i INTEGER, extra TEXT)";

fn start_with(s: &mut Session, schema: Json) {
    s.control("start", json!({ "schema": schema })).unwrap();
}

#[test]
fn r4_integer_binding() {
    let mut s = Session::new("ref054/binding", ITEMS_SCHEMA);
    s.sql(THINGS);
    start_with(
        &mut s,
        json!({"tables": [], "raw_tables": [{"name": "things", "table_name": "things_local"}]}),
    );
    let mut feed = Feed::new();
    let values = [
        "3",
        "-7",
        "0",
        "-9223372036854775808",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551615",
        "18446744073709551616",
        "9007199254740993",
        "1e2",
        "1.0",
        "2.5",
        "-0.0",
        "1.5e-7",
        "true",
        "false",
        "null",
        "\"s\"",
        "\"3\"",
        "[1]",
        "{\"a\":1}",
    ];
    let datas: Vec<String> = values
        .iter()
        .map(|v| format!(r#"{{"plain":{v},"t":{v},"r":{v},"i":{v}}}"#))
        .collect();
    let ops: Vec<(&str, String, Option<&str>)> = datas
        .iter()
        .enumerate()
        .map(|(n, d)| ("things", format!("t{n:02}"), Some(d.as_str())))
        .collect();
    let ops: Vec<(&str, &str, Option<&str>)> = ops.iter().map(|(t, id, d)| (*t, id.as_str(), *d)).collect();
    // All at once, then each value on its own (inserted, then updating an existing row).
    feed.round(&mut s, &ops);
    let select = "SELECT id, plain, typeof(plain), t, typeof(t), r, typeof(r), i, typeof(i) FROM things_local ORDER BY id";
    assert_eq!(s.query(select).len(), values.len(), "all rows applied");
    for op in &ops {
        s.sql("DELETE FROM things_local");
        feed.round(&mut s, &[*op]);
        s.query(select);
        feed.round(
            &mut s,
            &[("things", op.1, Some(r#"{"plain":1,"t":1,"r":1,"i":1}"#))],
        );
        feed.round(&mut s, &[*op]);
        s.query(select);
    }
    // The same through a direct table's binding (declared types do not matter).
    s.sql("CREATE TABLE things_direct(id TEXT PRIMARY KEY NOT NULL /* ps-managed */, plain ANY, t ANY, r ANY, i ANY) STRICT");
    start_with(
        &mut s,
        json!({"tables": [{"name": "things", "direct": true, "columns": [{"name": "plain", "type": "TEXT"}, {"name": "t", "type": "TEXT"}, {"name": "r", "type": "REAL"}, {"name": "i", "type": "INTEGER"}]}]}),
    );
    s.sql("ALTER TABLE things_direct RENAME TO things");
    feed.round(&mut s, &ops);
    s.query(
        "SELECT id, plain, typeof(plain), t, typeof(t), r, typeof(r), i, typeof(i) FROM things ORDER BY id",
    );
    // A number beyond f64 fails to parse.
    feed.round(&mut s, &[("things", "huge", Some(r#"{"i": 1E400}"#))]);
    common::report("R4 integer binding", s.cases);
}

#[test]
fn r5_r6_row_parameter_and_lazy_parsing() {
    let mut s = Session::new("ref054/row", ITEMS_SCHEMA);
    s.sql(THINGS);
    let raw = |put: Json, delete: Json| json!({"tables": [], "raw_tables": [{"name": "things", "put": put, "delete": delete}]});
    let mut feed = Feed::new();
    // Row with Column and Rest (Rest ignores Row); the text is bound verbatim.
    start_with(
        &mut s,
        raw(
            json!({"sql": "INSERT OR REPLACE INTO things_local(id, extra, t, plain) VALUES (?, ?, ?, ?)", "params": ["Id", "Row", {"Column": "name"}, "Rest"]}),
            json!({"sql": "DELETE FROM things_local WHERE id = ?", "params": ["Id"]}),
        ),
    );
    feed.round(
        &mut s,
        &[
            ("things", "a", Some(r#"{"name": "n",  "z": [1, 2]}"#)),
            ("things", "b", Some(r#"{"name":"only"}"#)),
        ],
    );
    feed.round(&mut s, &[("things", "a", None)]);
    // Only Id and Row: data is not parsed.
    start_with(
        &mut s,
        raw(
            json!({"sql": "INSERT OR REPLACE INTO things_local(id, extra) VALUES (?, ?)", "params": ["Id", "Row"]}),
            json!({"sql": "DELETE FROM things_local WHERE id = ?", "params": ["Id"]}),
        ),
    );
    feed.round(
        &mut s,
        &[
            ("things", "c", Some("[1, 2]")),
            ("things", "d", Some("not json")),
            ("things", "e", Some("{\"x\": 1}")),
        ],
    );
    // Only Row.
    start_with(
        &mut s,
        raw(
            json!({"sql": "INSERT OR REPLACE INTO things_local(id, extra) VALUES ('fixed', ?)", "params": ["Row"]}),
            json!({"sql": "DELETE FROM things_local WHERE id = ?", "params": ["Id"]}),
        ),
    );
    feed.round(&mut s, &[("things", "f", Some("7"))]);
    // With a Column the data must be an object again.
    start_with(
        &mut s,
        raw(
            json!({"sql": "INSERT OR REPLACE INTO things_local(id, extra, t) VALUES (?, ?, ?)", "params": ["Id", "Row", {"Column": "t"}]}),
            json!({"sql": "DELETE FROM things_local WHERE id = ?", "params": ["Id"]}),
        ),
    );
    feed.round(&mut s, &[("things", "g", Some("[1]"))]);
    start_with(
        &mut s,
        raw(
            json!({"sql": "INSERT OR REPLACE INTO things_local(id, extra, t) VALUES (?, ?, ?)", "params": ["Id", "Row", {"Column": "t"}]}),
            json!({"sql": "DELETE FROM things_local WHERE id = ?", "params": ["Id"]}),
        ),
    );
    s.sql("DELETE FROM ps_oplog WHERE row_id = 'g'");
    feed.round(&mut s, &[("things", "h", Some("nope"))]);
    // Row in a delete statement parses but fails when a row is deleted.
    start_with(
        &mut s,
        raw(
            json!({"sql": "INSERT OR REPLACE INTO things_local(id) VALUES (?)", "params": ["Id"]}),
            json!({"sql": "DELETE FROM things_local WHERE id = ? AND ? IS NOT NULL", "params": ["Id", "Row"]}),
        ),
    );
    s.sql("DELETE FROM ps_oplog WHERE row_id = 'h'");
    feed.round(&mut s, &[("things", "c", None)]);
    // Unknown parameter kinds are still rejected.
    let _ = s.control(
        "start",
        json!({"schema": raw(json!({"sql": "SELECT ?", "params": ["Rows"]}), json!(null))}),
    );
    common::report("R5/R6 Row parameter and lazy parsing", s.cases);
}

#[test]
fn r7_raw_table_wins() {
    let mut s = Session::new("ref054/precedence", ITEMS_SCHEMA);
    s.sql("CREATE TABLE items_raw(id TEXT PRIMARY KEY NOT NULL, col)");
    start_with(
        &mut s,
        json!({"tables": [], "raw_tables": [{"name": "items", "table_name": "items_raw"}]}),
    );
    let mut feed = Feed::new();
    feed.round(
        &mut s,
        &[
            ("items", "i1", Some(r#"{"col":"raw"}"#)),
            ("items", "i2", Some(r#"{"col":2}"#)),
        ],
    );
    assert_eq!(
        s.query("SELECT id FROM items_raw").len(),
        2,
        "rows in the raw table"
    );
    feed.round(&mut s, &[("items", "i1", None)]);
    // Without the raw table the rows go to ps_data__items again.
    s.control("start", json!({})).unwrap();
    feed.round(&mut s, &[("items", "i3", Some(r#"{"col":"json"}"#))]);
    // Two raw tables of the same type: the later one wins.
    s.sql("CREATE TABLE items_raw2(id TEXT PRIMARY KEY NOT NULL, col)");
    start_with(
        &mut s,
        json!({"tables": [], "raw_tables": [{"name": "items", "table_name": "items_raw"}, {"name": "items", "table_name": "items_raw2"}]}),
    );
    feed.round(&mut s, &[("items", "i4", Some(r#"{"col":"second"}"#))]);
    common::report("R7 raw table wins over ps_data__", s.cases);
}

#[test]
fn r9_error_context_on_data_tables() {
    let mut s = Session::new("ref054/context", ITEMS_SCHEMA);
    let mut feed = Feed::new();
    s.control("start", json!({})).unwrap();
    // Into the empty table (ours batches these as plain inserts).
    s.sql("CREATE TRIGGER boom BEFORE INSERT ON ps_data__items WHEN NEW.id = 'i3' BEGIN SELECT RAISE(ABORT, 'boom'); END");
    feed.round(
        &mut s,
        &[
            ("items", "i1", Some(r#"{"col": "x",  "b": 1}"#)),
            ("items", "i2", Some("{}")),
            ("items", "i3", Some(r#"{"col": "x",  "b": 1}"#)),
            ("items", "i4", Some("{}")),
        ],
    );
    // FAIL keeps the rows before the failing one within the statement.
    s.sql("DROP TRIGGER boom; CREATE TRIGGER boom BEFORE INSERT ON ps_data__items WHEN NEW.id = 'i3' BEGIN SELECT RAISE(FAIL, 'fail'); END");
    s.control("start", json!({})).unwrap();
    feed.round(&mut s, &[]);
    // A constraint on the data column.
    s.sql("DROP TRIGGER boom; CREATE TRIGGER boom BEFORE INSERT ON ps_data__items WHEN json_extract(NEW.data, '$.bad') BEGIN SELECT RAISE(ABORT, 'bad row'); END");
    s.control("start", json!({})).unwrap();
    let many: Vec<(String, String)> = (0..300)
        .map(|i| {
            (
                format!("m{i:03}"),
                if i == 170 {
                    r#"{"bad": 1}"#.to_string()
                } else {
                    format!(r#"{{"n": {i}}}"#)
                },
            )
        })
        .collect();
    let ops: Vec<(&str, &str, Option<&str>)> = many
        .iter()
        .map(|(id, d)| ("items", id.as_str(), Some(d.as_str())))
        .collect();
    feed.round(&mut s, &ops);
    // Into a table that already has rows (REPLACE batches), and a failing delete.
    s.sql("DROP TRIGGER boom; INSERT INTO ps_data__items VALUES ('pre', '{}')");
    s.sql("CREATE TRIGGER boom BEFORE INSERT ON ps_data__items WHEN NEW.id = 'm100' BEGIN SELECT RAISE(ABORT, 'again'); END");
    s.control("start", json!({})).unwrap();
    feed.round(&mut s, &[]);
    s.sql("DROP TRIGGER boom");
    s.control("start", json!({})).unwrap();
    feed.round(&mut s, &[("items", "del1", Some("{}"))]);
    // A failing delete.
    s.sql("CREATE TRIGGER boom BEFORE DELETE ON ps_data__items BEGIN SELECT RAISE(ABORT, 'no delete'); END");
    feed.round(&mut s, &[("items", "del1", None)]);
    s.sql("DROP TRIGGER boom");
    s.control("start", json!({})).unwrap();
    feed.round(&mut s, &[]);
    // ps_untyped failures carry no context.
    s.sql("CREATE TRIGGER boom BEFORE INSERT ON ps_untyped BEGIN SELECT RAISE(ABORT, 'untyped'); END");
    s.control("start", json!({})).unwrap();
    feed.round(&mut s, &[("unknown_type", "u1", Some("{}"))]);
    common::report("R9 error context on ps_data__ writes", s.cases);
}

#[test]
fn y12_direct_tables_as_sync_targets() {
    let mut s = Session::new("ref054/direct_sync", ITEMS_SCHEMA);
    let users = json!({"name": "users", "direct": true, "columns": [{"name": "name", "type": "TEXT"}, {"name": "age", "type": "INTEGER"}]});
    let local = json!({"name": "notes", "direct": true, "local_only": true, "columns": [{"name": "v", "type": "TEXT"}]});
    let empty = json!({"name": "flags", "direct": true, "columns": []});
    let items = json!({"name": "items", "columns": [{"name": "col", "type": "text"}]});
    let full = json!({"tables": [users, local, empty, items]});
    replace_schema(&mut s, &full);
    s.sql("CREATE TABLE log(what, in_sync); CREATE TRIGGER users_log AFTER INSERT ON users BEGIN INSERT INTO log VALUES (NEW.id, powersync_in_sync_operation()); END");
    s.sql("INSERT INTO users(id, name) VALUES ('local', 'mine')");
    s.query("SELECT data FROM ps_crud");
    // As if uploaded: the write gate opens again.
    s.sql("DELETE FROM ps_crud; DELETE FROM ps_kv WHERE key = 'target_checkpoint_request_id'");
    let mut feed = Feed::new();
    // Without the schema in `start`: rows go to ps_untyped.
    s.control("start", json!({})).unwrap();
    feed.round(&mut s, &[("users", "u0", Some(r#"{"name":"untyped"}"#))]);
    // With it: typed rows, JSON keys without a column ignored, triggers silent.
    start_with(&mut s, full.clone());
    feed.round(
        &mut s,
        &[
            ("users", "u1", Some(r#"{"name": 5, "age": 2.5, "extra": true}"#)),
            ("users", "u2", Some(r#"{"name": "b", "age": 9007199254740993}"#)),
            ("notes", "n1", Some(r#"{"v": "synced"}"#)),
            ("flags", "f1", Some(r#"{"x": 1}"#)),
            ("items", "i1", Some(r#"{"col": "c"}"#)),
        ],
    );
    s.query("SELECT id, name, typeof(name), age, typeof(age) FROM users ORDER BY id");
    feed.round(
        &mut s,
        &[
            ("users", "u1", None),
            ("users", "u2", Some(r#"{"name": "b2"}"#)),
            ("flags", "f1", None),
        ],
    );
    // Data that is not an object.
    feed.round(&mut s, &[("users", "u3", Some("[1]"))]);
    start_with(&mut s, full.clone());
    s.sql("DELETE FROM ps_oplog WHERE row_id = 'u3'");
    // A raw table of the same type wins over the direct table.
    s.sql("CREATE TABLE users_raw(id TEXT PRIMARY KEY NOT NULL, name)");
    let mut with_raw = full.clone();
    with_raw["raw_tables"] = json!([{"name": "users", "table_name": "users_raw"}]);
    start_with(&mut s, with_raw);
    feed.round(&mut s, &[("users", "u4", Some(r#"{"name": "raw"}"#))]);
    // A direct table in `start` named like an existing JSON table: the direct definition
    // wins over the discovered ps_data__items (and writes into the view, which fails).
    let items_direct =
        json!({"tables": [{"name": "items", "direct": true, "columns": [{"name": "col", "type": "TEXT"}]}]});
    start_with(&mut s, items_direct);
    feed.round(&mut s, &[("items", "i9", Some(r#"{"col": "direct"}"#))]);
    start_with(&mut s, full.clone());
    s.sql("DELETE FROM ps_oplog WHERE row_id = 'i9'");
    // A direct table listed in `start` but missing from the database.
    let ghost =
        json!({"tables": [{"name": "ghost", "direct": true, "columns": [{"name": "g", "type": "TEXT"}]}]});
    start_with(&mut s, ghost);
    feed.round(&mut s, &[("ghost", "g1", Some(r#"{"g": 1}"#))]);
    common::report("Y12 direct tables as sync targets", s.cases);
}
