//! Differential tests of direct tables (`"direct": true`, core 0.5.4): validation (S2), the
//! generated table, triggers and indexes and local writes through them (S1), every migration
//! `powersync_replace_schema` performs into, out of and between direct tables, including
//! the resync and its failure while a sync iteration is active (S3), and the recognition of
//! PowerSync-owned tables and indexes by their `ps-managed` marker (S4).
//!
//! Every step runs on our implementation and on the reference in its own transaction (rolled
//! back on error, as SDKs do) and compares the result or error (code and message),
//! `sqlite_master`, every table's rows (with their SQLite types) and `PRAGMA
//! schema_version`.
use crate::common;
use crate::sync_common;

use serde_json::{json, Value as Json};
use sync_common::Session;

/// Both databases, compared after every step.
struct Db {
    s: Session,
}

fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl Db {
    fn new(name: &str) -> Db {
        let s = Session::new(name, r#"{"tables":[]}"#);
        let db = Db { s };
        db.compare_master("init");
        db
    }

    fn compare_master(&self, label: &str) {
        assert_eq!(
            common::master(&self.s.ours),
            common::master(&self.s.reference),
            "{}: {label}: sqlite_master differs",
            self.s.name
        );
        let version = |c: &rusqlite::Connection| -> i64 {
            c.query_row("PRAGMA schema_version", [], |r| r.get(0)).unwrap()
        };
        assert_eq!(
            version(&self.s.ours),
            self.s.reference.ask("schema_version", "", version),
            "{}: {label}: schema_version differs",
            self.s.name
        );
    }

    /// Runs SQL on both (in a transaction, rolled back on error) and compares everything.
    fn sql(&mut self, sql: &str) {
        self.s.sql(sql);
        self.compare_master(sql);
    }

    /// `powersync_replace_schema(schema)`.
    fn schema(&mut self, schema: Json) {
        self.sql(&format!(
            "SELECT powersync_replace_schema({})",
            sql_string(&schema.to_string())
        ));
    }

    /// Compares the result of a query.
    fn query(&mut self, sql: &str) -> Vec<Vec<rusqlite::types::Value>> {
        self.s.query(sql)
    }

    fn finish(self, suite: &str) {
        common::report(suite, self.s.cases);
    }
}

fn users(extra: Json) -> Json {
    let mut t = json!({"name": "users", "direct": true, "columns": [{"name": "name", "type": "TEXT"}, {"name": "age", "type": "INTEGER"}]});
    if let (Json::Object(t), Json::Object(extra)) = (&mut t, extra) {
        t.extend(extra);
    }
    t
}

fn schema(tables: Vec<Json>) -> Json {
    json!({ "tables": tables })
}

#[test]
fn s2_validation() {
    let mut db = Db::new("direct/validation");
    // `direct` must be a boolean.
    for bad in [json!("yes"), json!(1), json!(null), json!([])] {
        db.schema(schema(vec![users(json!({"direct": bad}))]));
    }
    // No custom view names (an explicit null is no view name).
    db.schema(schema(vec![users(json!({"view_name": "people"}))]));
    db.schema(schema(vec![users(
        json!({"view_name": "people", "direct": false}),
    )]));
    db.schema(schema(vec![users(json!({"view_name": null}))]));
    db.schema(schema(vec![
        users(json!({})),
        json!({"name": "b", "direct": true, "view_name": "bv", "columns": []}),
    ]));
    // `direct: false` is a JSON table.
    db.schema(schema(vec![
        json!({"name": "plain", "direct": false, "columns": []}),
    ]));
    // The same check in the `start` payload (position after the schema value).
    for payload in [
        json!({"schema": schema(vec![users(json!({"view_name": "people"}))])}),
        json!({"schema": schema(vec![users(json!({"direct": "yes"}))])}),
        json!({"schema": null}),
        json!({"parameters": {}, "schema": schema(vec![users(json!({"view_name": "v"}))]), "include_defaults": false}),
    ] {
        let _ = db.s.control("start", payload);
    }
    db.finish("S2 direct tables: validation");
}

#[test]
fn s1_ddl_triggers_indexes() {
    let mut db = Db::new("direct/ddl");
    let many: Vec<Json> = (0..51)
        .map(|i| json!({"name": format!("c{i}"), "type": "TEXT"}))
        .collect();
    let variants = vec![
        users(json!({})),
        json!({"name": "empty", "direct": true, "columns": []}),
        users(json!({"local_only": true})),
        json!({"name": "we\"ird", "direct": true, "columns": [{"name": "c\"1", "type": "TEXT"}, {"name": "it's", "type": "BLOB"}]}),
        users(
            json!({"indexes": [{"name": "by_name", "columns": [{"name": "name", "ascending": true, "type": "TEXT"}, {"name": "age", "ascending": false, "type": "INTEGER"}]}]}),
        ),
        users(
            json!({"local_only": true, "indexes": [{"name": "i", "columns": [{"name": "age", "ascending": true, "type": "x"}]}]}),
        ),
        users(json!({"include_old": true})),
        users(json!({"include_old": ["age", "missing"], "include_old_only_when_changed": true})),
        users(json!({"ignore_empty_update": true})),
        users(json!({"include_metadata": true})),
        users(json!({"insert_only": true})),
        users(json!({"insert_only": true, "local_only": true})),
        json!({"name": "wide", "direct": true, "columns": many}),
    ];
    for table in &variants {
        db.schema(schema(vec![table.clone()]));
        // Applying the same schema again changes nothing.
        db.schema(schema(vec![table.clone()]));
        db.schema(schema(vec![]));
    }
    // All at once, next to JSON tables.
    let mut all: Vec<Json> = variants
        .iter()
        .filter(|t| t["name"] != "users")
        .cloned()
        .collect();
    all.push(users(json!({"include_old": true})));
    all.push(json!({"name": "json_t", "columns": [{"name": "x", "type": "TEXT"}]}));
    db.schema(schema(all));
    db.schema(schema(vec![]));
    // A user table of that name without the marker.
    db.sql("CREATE TABLE users(id TEXT PRIMARY KEY, name TEXT)");
    db.schema(schema(vec![users(json!({}))]));
    db.sql("DROP TABLE users");
    // A user view of that name.
    db.sql("CREATE VIEW users AS SELECT 1 AS id");
    db.schema(schema(vec![users(json!({}))]));
    db.sql("DROP VIEW users");
    // An index not in the schema any more, an index changing.
    let idx = |asc: bool| {
        users(
            json!({"indexes": [{"name": "a", "columns": [{"name": "age", "ascending": asc, "type": "INTEGER"}]}]}),
        )
    };
    db.schema(schema(vec![idx(true)]));
    db.schema(schema(vec![idx(false)]));
    db.schema(schema(vec![users(json!({}))]));
    db.finish("S1 direct tables: DDL, triggers, indexes");
}

#[test]
fn s1_local_writes() {
    let mut db = Db::new("direct/writes");
    let options = [
        json!({}),
        json!({"include_old": true}),
        json!({"include_old": ["age"], "include_old_only_when_changed": true}),
        json!({"ignore_empty_update": true}),
        json!({"include_metadata": true}),
        json!({"insert_only": true}),
        json!({"local_only": true}),
        json!({"local_only": true, "insert_only": true}),
    ];
    for o in options {
        db.schema(schema(vec![users(o)]));
        db.sql("INSERT INTO users(id, name, age) VALUES ('u1', 'A', 1), ('u2', '12', 2.5)");
        db.sql("INSERT INTO users(id, name, age) VALUES ('u3', json_object('a', 1), x'00ff')");
        db.sql("UPDATE users SET age = age + 1");
        db.sql("UPDATE users SET name = name");
        db.sql("UPDATE users SET name = 'changed' WHERE id = 'u1'");
        db.sql("UPDATE users SET id = id || 'x'");
        db.sql("INSERT INTO users(id, name) VALUES (NULL, 'n')");
        db.sql("INSERT INTO users(id, name) VALUES (5, 'n')");
        db.sql("DELETE FROM users WHERE id = 'u2'");
        db.query("SELECT id, name, typeof(name), age, typeof(age) FROM users ORDER BY id");
        db.sql("DELETE FROM users; DELETE FROM ps_crud");
        db.schema(schema(vec![]));
    }
    db.finish("S1 direct tables: local writes");
}

/// A JSON `users` table (synced or local-only) with the same columns.
fn json_users(local: bool) -> Json {
    json!({"name": "users", "local_only": local, "columns": [{"name": "name", "type": "TEXT"}, {"name": "age", "type": "INTEGER"}]})
}

const JSON_ROWS: &str =
    r#"INSERT INTO users(id, name, age) VALUES ('u1', 'A', 8.5), ('u2', '12', 3), ('u3', NULL, NULL)"#;
const DIRECT_ROWS: &str =
    r#"INSERT INTO users(id, name, age) VALUES ('u1', 'A', 8.5), ('u2', 12, 3), ('u3', NULL, x'01')"#;

/// Untyped rows of type `users` (as left by syncing before the table existed).
const UNTYPED_ROWS: &str = r#"INSERT INTO ps_untyped(type, id, data) VALUES ('users', 'p1', '{"name":"P","age":7,"extra":[1],"flag":true}'), ('users', 'p2', '{"age":1e2,"name":{"x":1}}'), ('other', 'o1', '{"name":"O"}')"#;

#[test]
fn s3_json_and_direct_migrations() {
    let mut db = Db::new("direct/migrations");
    for (from_local, to_local) in [(false, false), (true, true), (false, true), (true, false)] {
        // JSON → direct.
        db.schema(schema(vec![json_users(from_local)]));
        db.sql(JSON_ROWS);
        db.sql(r#"UPDATE ps_data__users SET data = '{"name":"A","age":8.5,"b":true,"o":{"x":1},"extra":"e"}' WHERE id = 'u1'"#);
        db.sql(UNTYPED_ROWS);
        db.sql("DELETE FROM ps_crud");
        db.schema(schema(vec![users(json!({"local_only": to_local}))]));
        db.query("SELECT id, name, typeof(name), age, typeof(age) FROM users ORDER BY id");
        // Direct → JSON.
        db.sql("DELETE FROM users; DELETE FROM ps_untyped");
        db.sql(DIRECT_ROWS);
        db.sql(UNTYPED_ROWS);
        db.sql("DELETE FROM ps_crud");
        db.schema(schema(vec![json_users(!to_local)]));
        db.query("SELECT * FROM users ORDER BY id");
        db.schema(schema(vec![]));
        db.sql("DELETE FROM ps_untyped");
    }
    // JSON table with a custom view name → direct table.
    db.schema(schema(vec![
        json!({"name": "users", "view_name": "people", "columns": [{"name": "name", "type": "TEXT"}]}),
    ]));
    db.sql("INSERT INTO people(id, name) VALUES ('v1', 'V')");
    db.schema(schema(vec![users(json!({}))]));
    db.schema(schema(vec![]));
    // Direct tables back to JSON; the copy names the table unquoted as column qualifier, so
    // names that are not plain identifiers fail.
    for name in ["we'ird t", "order", "plain_name"] {
        let direct = json!({"name": name, "direct": true, "columns": [{"name": "a", "type": "TEXT"}]});
        db.schema(schema(vec![direct]));
        db.sql(&format!("INSERT INTO \"{name}\"(id, a) VALUES ('1', 'x')"));
        db.schema(schema(vec![
            json!({"name": name, "columns": [{"name": "a", "type": "TEXT"}]}),
        ]));
        db.schema(schema(vec![]));
        db.sql("DELETE FROM ps_untyped");
    }
    // Wide direct table → JSON (the copy merges column chunks).
    let many: Vec<Json> = (0..60)
        .map(|i| json!({"name": format!("c{i}"), "type": "TEXT"}))
        .collect();
    db.schema(schema(vec![
        json!({"name": "wide", "direct": true, "columns": many.clone()}),
    ]));
    db.sql("INSERT INTO wide(id, c0, c59) VALUES ('w', 'first', 'last')");
    db.schema(schema(vec![json!({"name": "wide", "columns": many.clone()})]));
    db.schema(schema(vec![
        json!({"name": "wide", "direct": true, "columns": many}),
    ]));
    db.schema(schema(vec![]));
    db.finish("S3 migrations: JSON <-> direct");
}

#[test]
fn s3_direct_to_direct() {
    let mut db = Db::new("direct/direct");
    let bucket = "INSERT INTO ps_buckets(name, last_applied_op, last_op) VALUES ('b', 5, 5)";
    db.sql(bucket);
    // Local-only flag changed, both ways.
    for (from, to) in [(false, true), (true, false)] {
        db.schema(schema(vec![users(json!({"local_only": from}))]));
        db.sql(DIRECT_ROWS);
        db.sql(UNTYPED_ROWS);
        db.schema(schema(vec![users(json!({"local_only": to}))]));
        db.schema(schema(vec![]));
        db.sql("DELETE FROM ps_untyped; DELETE FROM ps_crud");
    }
    let index =
        json!([{"name": "by_age", "columns": [{"name": "age", "ascending": true, "type": "INTEGER"}]}]);
    let with = |columns: Json, extra: Json| {
        let mut t = json!({"name": "users", "direct": true, "columns": columns, "indexes": index});
        if let (Json::Object(t), Json::Object(extra)) = (&mut t, extra) {
            t.extend(extra);
        }
        t
    };
    let col = |name: &str, ty: &str| json!({"name": name, "type": ty});
    let base = json!([col("name", "TEXT"), col("age", "INTEGER")]);
    for local in [false, true] {
        let lo = json!({"local_only": local});
        db.schema(schema(vec![with(base.clone(), lo.clone())]));
        db.sql(DIRECT_ROWS);
        // Declared types only: nothing changes (schema_version included).
        db.schema(schema(vec![with(
            json!([col("name", "INTEGER"), col("age", "TEXT")]),
            lo.clone(),
        )]));
        // Reordered: the table stays, triggers are re-created.
        db.schema(schema(vec![with(
            json!([col("age", "INTEGER"), col("name", "TEXT")]),
            lo.clone(),
        )]));
        // Options changing the triggers.
        db.schema(schema(vec![with(
            base.clone(),
            json!({"local_only": local, "include_old": true}),
        )]));
        db.schema(schema(vec![with(
            base.clone(),
            json!({"local_only": local, "insert_only": true}),
        )]));
        // Columns added (in name order, resync) and removed (no resync).
        db.sql("UPDATE ps_buckets SET last_applied_op = 5");
        db.schema(schema(vec![with(
            json!([
                col("name", "TEXT"),
                col("zeta", "TEXT"),
                col("age", "INTEGER"),
                col("alpha", "REAL")
            ]),
            lo.clone(),
        )]));
        db.query("SELECT name, last_applied_op FROM ps_buckets");
        db.sql("UPDATE ps_buckets SET last_applied_op = 5");
        db.schema(schema(vec![with(
            json!([col("age", "INTEGER"), col("alpha", "REAL")]),
            lo.clone(),
        )]));
        db.query("SELECT name, last_applied_op FROM ps_buckets");
        db.schema(schema(vec![with(
            json!([col("age", "INTEGER"), col("beta", "TEXT")]),
            lo.clone(),
        )]));
        // A user index on the table survives when it has no marker.
        db.sql("CREATE INDEX user_idx ON users(age)");
        db.schema(schema(vec![with(
            json!([col("age", "INTEGER"), col("gamma", "TEXT")]),
            lo.clone(),
        )]));
        // Dropping a column a user index uses fails.
        db.schema(schema(vec![with(json!([col("gamma", "TEXT")]), lo.clone())]));
        db.sql("DROP INDEX user_idx");
        db.query("SELECT * FROM users ORDER BY id");
        db.schema(schema(vec![]));
        db.sql("DELETE FROM ps_untyped; DELETE FROM ps_crud");
    }
    db.finish("S3 migrations: direct -> direct");
}

#[test]
fn s3_resync_while_syncing() {
    let mut db = Db::new("direct/resync");
    db.sql("INSERT INTO ps_buckets(name, last_applied_op, last_op) VALUES ('b', 5, 5)");
    db.schema(schema(vec![users(json!({}))]));
    db.s.control("start", json!({})).unwrap();
    // Adding a column needs a resync, refused while an iteration is active.
    db.schema(schema(vec![
        users(json!({})),
        json!({"name": "other", "direct": true, "columns": []}),
    ]));
    db.schema(schema(vec![json!({"name": "users", "direct": true, "columns": [{"name": "name", "type": "TEXT"}, {"name": "age", "type": "INTEGER"}, {"name": "new", "type": "TEXT"}]})]));
    // Removing one does not.
    db.schema(schema(vec![
        json!({"name": "users", "direct": true, "columns": [{"name": "name", "type": "TEXT"}]}),
    ]));
    db.s.control("stop", sync_common::Payload::Null).unwrap();
    db.schema(schema(vec![json!({"name": "users", "direct": true, "columns": [{"name": "name", "type": "TEXT"}, {"name": "new", "type": "TEXT"}]})]));
    db.query("SELECT last_applied_op FROM ps_buckets");
    db.finish("S3 migrations: resync and active iteration");
}

#[test]
fn s3_tables_leaving_and_arriving() {
    let mut db = Db::new("direct/leave");
    for local in [false, true] {
        // Leaves the schema: synced rows parked as a JSON object of the columns.
        db.schema(schema(vec![users(json!({"local_only": local}))]));
        db.sql(DIRECT_ROWS);
        db.schema(schema(vec![]));
        // Arrives: takes its untyped rows (keys not in the schema are dropped).
        db.sql(UNTYPED_ROWS);
        db.schema(schema(vec![users(json!({"local_only": local}))]));
        db.query("SELECT id, name, typeof(name), age, typeof(age) FROM users ORDER BY id");
        db.schema(schema(vec![]));
        db.sql("DELETE FROM ps_untyped; DELETE FROM ps_crud");
    }
    // Untyped data that cannot fill the table.
    for data in [
        "[1, 2]",
        "not json",
        "\"text\"",
        "{\"name\": \"ok\"}",
        "{}",
        "null",
    ] {
        db.sql(&format!(
            "INSERT INTO ps_untyped(type, id, data) VALUES ('users', 'bad', {})",
            sql_string(data)
        ));
        db.schema(schema(vec![users(json!({}))]));
        db.schema(schema(vec![]));
        db.sql("DELETE FROM ps_untyped");
    }
    // JSON rows that cannot fill the direct table.
    db.schema(schema(vec![json_users(false)]));
    db.sql("INSERT INTO users(id, name) VALUES ('j', 'J')");
    db.sql("UPDATE ps_data__users SET data = '[1]'");
    db.schema(schema(vec![users(json!({}))]));
    db.sql("UPDATE ps_data__users SET data = 'nope'");
    db.schema(schema(vec![users(json!({}))]));
    // A direct table without columns still parses its rows.
    db.schema(schema(vec![
        json!({"name": "users", "direct": true, "columns": []}),
    ]));
    db.schema(schema(vec![]));
    db.finish("S3 migrations: tables leaving and arriving");
}

#[test]
fn s4_ps_managed_recognition() {
    let mut db = Db::new("direct/managed");
    db.sql("INSERT INTO ps_buckets(name, last_applied_op, last_op) VALUES ('b', 5, 5)");
    // A marked user table not in the schema: parked in ps_untyped and dropped.
    db.sql("CREATE TABLE mine(id TEXT PRIMARY KEY NOT NULL /* ps-managed */, v); INSERT INTO mine VALUES ('m1', 'a'), ('m2', 2)");
    // Marked local-only: dropped without copy.
    db.sql("CREATE TABLE mine_local(id TEXT /* ps-managed local-only */, v); INSERT INTO mine_local VALUES ('l1', 'x')");
    // A marked user index, an unmarked one, a comment only looking similar.
    db.sql("CREATE TABLE plain(id, v); CREATE INDEX plain_idx /* ps-managed */ ON plain(v); CREATE INDEX plain_idx2 ON plain(id); CREATE INDEX plain_idx3 /*ps-managed*/ ON plain(v, id)");
    db.sql("CREATE INDEX ps_data_userindex ON plain(id, v)");
    db.schema(schema(vec![]));
    db.query("SELECT type, id, data FROM ps_untyped ORDER BY id");
    // A marked user table the schema declares as direct: adopted and migrated.
    db.sql("CREATE TABLE users(id TEXT PRIMARY KEY NOT NULL /* ps-managed */, name TEXT, legacy INTEGER); INSERT INTO users VALUES ('u1', 'A', 1)");
    db.schema(schema(vec![users(json!({}))]));
    db.query("SELECT last_applied_op FROM ps_buckets");
    db.sql("INSERT INTO users(id, name, age) VALUES ('u2', 'B', 2)");
    // A marked table without an id column breaks every schema update.
    db.sql("CREATE TABLE noid(a /* ps-managed */, b)");
    db.schema(schema(vec![users(json!({}))]));
    db.sql("SELECT powersync_clear(0)");
    db.sql("DROP TABLE noid");
    // A marked table named like a JSON table's public name.
    db.sql("CREATE TABLE items(id TEXT /* ps-managed */, col)");
    db.schema(schema(vec![
        json!({"name": "items", "columns": [{"name": "col", "type": "TEXT"}]}),
    ]));
    db.finish("S4 ps-managed tables and indexes");
}
