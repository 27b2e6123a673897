//! Differential tests of `powersync_replace_schema`: generated DDL (`sqlite_master`),
//! idempotency (also across implementations sharing a database file), and table
//! transitions with data, against the reference extension.

use crate::common;

use powersync_testkit::schema::{numbered_columns, replace, schema_version, SchemaGen};
use powersync_testkit::sql::all_data;
use rusqlite::Connection;
use serde_json::{json, Value as Json};

fn cols(spec: &[(&str, &str)]) -> Json {
    Json::Array(spec.iter().map(|(n, t)| json!({"name": n, "type": t})).collect())
}

/// Hand-written schemas: every example of docs/sql-surface.md#example, every option and combination,
/// quoting, view names, column-count boundaries and indexes.
fn hand_written() -> Vec<Json> {
    let ab = cols(&[("a", "TEXT"), ("b", "TEXT")]);
    let one = |extra: Json| {
        let mut t = json!({"name": "t", "columns": ab.clone()});
        for (k, v) in extra.as_object().unwrap() {
            t[k] = v.clone();
        }
        json!({"tables": [t]})
    };
    let wide = |n: usize, extra: Json| {
        let mut t = json!({"name": "w", "columns": numbered_columns(n)});
        for (k, v) in extra.as_object().unwrap() {
            t[k] = v.clone();
        }
        json!({"tables": [t]})
    };
    let lists = json!({"name": "lists", "columns": cols(&[("name", "TEXT"), ("count", "INTEGER"), ("w", "REAL")]),
        "indexes": [{"name": "by_name", "columns": [{"name": "name", "ascending": true, "type": "TEXT"}, {"name": "count", "ascending": false, "type": "INTEGER"}]}]});
    vec![
        json!({"tables": []}),
        json!({"tables": [lists.clone()]}),
        json!({"tables": [{"name": "drafts", "local_only": true, "columns": cols(&[("title", "TEXT")])}]}),
        json!({"tables": [{"name": "logs", "insert_only": true, "columns": cols(&[("level", "TEXT"), ("msg", "TEXT")])}]}),
        json!({"tables": [{"name": "aliased", "view_name": "test1", "columns": cols(&[("a", "TEXT")])}]}),
        json!({"tables": [{"name": "customers", "include_metadata": true, "columns": cols(&[("name", "TEXT")])}]}),
        one(json!({"include_old": true})),
        one(json!({"include_old": ["b"]})),
        one(json!({"include_old": ["b"], "include_old_only_when_changed": true})),
        one(
            json!({"include_old": true, "include_old_only_when_changed": true, "include_metadata": true, "ignore_empty_update": true}),
        ),
        one(json!({"ignore_empty_update": true})),
        one(json!({"include_old": false})),
        one(json!({"include_old": []})),
        one(json!({"include_old": ["unknown", "other"]})),
        one(json!({"include_old": ["b", "unknown", "a"]})),
        one(json!({"include_old_only_when_changed": true})),
        one(json!({"local_only": true, "insert_only": true})),
        one(json!({"local_only": true, "include_metadata": true})),
        one(
            json!({"local_only": true, "include_old": true, "include_old_only_when_changed": true, "ignore_empty_update": true}),
        ),
        one(json!({"insert_only": true, "include_metadata": true})),
        one(json!({"insert_only": true, "include_old": true})),
        one(json!({"include_metadata": true, "include_old": ["a"], "include_old_only_when_changed": true})),
        one(json!({"include_metadata": true, "include_old": true})),
        one(json!({"view_name": null})),
        one(json!({"view_name": "we\"ird'view"})),
        one(
            json!({"local_only": false, "insert_only": false, "include_metadata": false, "include_old_only_when_changed": false, "ignore_empty_update": false}),
        ),
        json!({"tables": [{"name": "we\"ird'name", "columns": cols(&[("co\"l'x", "TEXT")])}]}),
        json!({"tables": [{"name": "tàble ü", "columns": cols(&[("ünï cödé", "TEXT"), ("a.b", "INTEGER"), ("x[0]", "REAL"), ("$x", "TEXT")])}]}),
        json!({"tables": [{"name": "types", "columns": cols(&[("a", "text"), ("b", "VARCHAR(255)"), ("c", "NUMERIC"), ("d", "BLOB"), ("e", "DOUBLE PRECISION"), ("f", "")])}]}),
        wide(0, json!({})),
        wide(1, json!({})),
        wide(50, json!({})),
        wide(51, json!({})),
        wide(100, json!({})),
        wide(101, json!({})),
        wide(101, json!({"include_old": true, "include_metadata": true})),
        wide(
            120,
            json!({"include_old": (0..60).map(|i| format!("c{i}")).collect::<Vec<_>>(), "include_old_only_when_changed": true}),
        ),
        wide(51, json!({"local_only": true})),
        wide(51, json!({"insert_only": true})),
        json!({"tables": [{"name": "idx", "columns": cols(&[("a", "TEXT"), ("b", "INTEGER"), ("we\"ird'", "REAL")]),
        "indexes": [
            {"name": "asc", "columns": [{"name": "a", "ascending": true, "type": "TEXT"}]},
            {"name": "desc", "columns": [{"name": "b", "ascending": false, "type": "INTEGER"}]},
            {"name": "both", "columns": [{"name": "a", "ascending": false, "type": "TEXT"}, {"name": "b", "ascending": true, "type": "INTEGER"}, {"name": "we\"ird'", "ascending": false, "type": "REAL"}]},
            {"name": "q\"uo'te", "columns": [{"name": "not_a_column", "ascending": true, "type": "TEXT"}]}
        ]}]}),
        json!({"tables": [{"name": "li", "local_only": true, "columns": cols(&[("a", "TEXT")]),
            "indexes": [{"name": "ia", "columns": [{"name": "a", "ascending": true, "type": "TEXT"}]}]}]}),
        json!({"tables": [{"name": "noidx", "columns": cols(&[("a", "TEXT")]), "indexes": []}]}),
        json!({"tables": [{"name": "emptyidx", "columns": cols(&[("a", "TEXT")]), "indexes": [{"name": "e", "columns": [{"name": "a", "ascending": true, "type": "TEXT"}, {"name": "a", "ascending": false, "type": "TEXT"}]}]}]}),
        json!({"tables": [
            lists,
            {"name": "todos", "columns": cols(&[("description", "TEXT"), ("list_id", "TEXT"), ("done", "INTEGER")]),
             "indexes": [{"name": "by_list", "columns": [{"name": "list_id", "ascending": true, "type": "TEXT"}]}], "include_old": ["done"]},
            {"name": "drafts", "local_only": true, "columns": cols(&[("title", "TEXT")])},
            {"name": "logs", "insert_only": true, "columns": cols(&[("level", "TEXT")])},
            {"name": "customers", "view_name": "clients", "include_metadata": true, "columns": cols(&[("name", "TEXT")])}
        ]}),
        json!({"tables": [{"name": "r", "columns": []}],
            "raw_tables": [{"name": "users", "table_name": "users_local", "put": {"sql": "INSERT INTO users_local (id) VALUES (?)", "params": ["Id", {"Column": "a"}, "Rest"]},
                            "delete": {"sql": "DELETE FROM users_local WHERE id = ?", "params": ["Id"]}, "clear": "DELETE FROM users_local", "synced_columns": ["a"], "include_old": ["a"]}]}),
        json!({"tables": [{"name": "unk", "columns": [{"name": "a", "type": "TEXT", "extra": 1}], "surprise": {"x": [1]}}], "other": null}),
        json!({"tables": [{"name": "ps_data__x", "columns": cols(&[("a", "TEXT")])}, {"name": "local__y", "columns": []}]}),
    ]
}

/// Applies `schema` on fresh databases of both implementations and compares everything:
/// the result, `sqlite_master`, and that re-applying changes nothing (`schema_version`).
fn compare_fresh(ours: &Connection, reference: &common::RefConn, schema: &str) {
    let a = fresh(ours, schema);
    let b = reference.ask("fresh", schema, |c| fresh(c, schema));
    assert_eq!(a.0 .0, b.0 .0, "result for {schema}");
    assert_eq!(a.1, b.1, "sqlite_master for {schema}");
    for x in [&a, &b] {
        assert_eq!(x.0 .1, b.0 .0, "re-apply {schema}");
        assert_eq!(x.2 .1, x.2 .0, "schema_version changed re-applying {schema}");
        assert_eq!(x.3, x.1);
    }
}

type Outcome = Result<rusqlite::types::Value, (i32, String)>;

/// What [`fresh`] observes.
type Fresh = (
    (Outcome, Outcome),
    Vec<common::MasterRow>,
    (i64, i64),
    Vec<common::MasterRow>,
);

/// In one transaction: ((result, result of re-applying), sqlite_master, (schema_version
/// before and after re-applying), sqlite_master after).
fn fresh(conn: &Connection, schema: &str) -> Fresh {
    conn.execute_batch("BEGIN").unwrap();
    let result = replace(conn, schema);
    let master = common::raw_master(conn);
    let before = schema_version(conn);
    let again = replace(conn, schema);
    let after = schema_version(conn);
    let master_after = common::raw_master(conn);
    conn.execute_batch("COMMIT").unwrap();
    ((result, again), master, (before, after), master_after)
}

fn temp_db(tag: &str) -> std::path::PathBuf {
    let dir = common::workspace_root().join("target/tmp");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("schema_{tag}_{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// A database written by one implementation is up to date for the other: applying the same
/// schema again is a no-op (views and triggers are compared textually).
fn cross_idempotent(writer: common::Impl, reader: common::Impl, schema: &str, tag: &str) {
    use common::Impl;
    let path = temp_db(tag);
    let write = |conn: &Connection| -> bool {
        conn.execute_batch("BEGIN").unwrap();
        if replace(conn, schema).is_err() {
            conn.execute_batch("ROLLBACK").unwrap();
            return false;
        }
        conn.execute_batch("COMMIT").unwrap();
        true
    };
    let written = match writer {
        Impl::Ours => write(&common::open_file(Impl::Ours, &path)),
        // In transcript mode the recorded file is written to `path`.
        Impl::Reference => common::reference_writes_file(&format!("writer {tag}"), schema, &path, write),
    };
    if !written {
        return;
    }
    // (schema_version and sqlite_master before and after re-applying the schema)
    let read = |conn: &Connection| {
        let before = (schema_version(conn), common::raw_master(conn));
        conn.execute_batch("BEGIN").unwrap();
        replace(conn, schema).unwrap();
        conn.execute_batch("COMMIT").unwrap();
        (before, (schema_version(conn), common::raw_master(conn)))
    };
    let (before, after) = match reader {
        Impl::Ours => read(&common::open_file(Impl::Ours, &path)),
        // The reference's answer for what ours wrote when the transcript was recorded.
        Impl::Reference => {
            common::RefConn::open_file(&format!("reader {tag}"), &path).ask("read", schema, read)
        }
    };
    assert_eq!(after.0, before.0, "{reader:?} re-applied {writer:?}'s {schema}");
    assert_eq!(after.1, before.1);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn hand_written_schemas() {
    let schemas = hand_written();
    assert!(schemas.len() >= 40);
    for (i, schema) in schemas.iter().enumerate() {
        let text = schema.to_string();
        let (ours, reference) = common::both("reference");
        compare_fresh(&ours, &reference, &text);
        cross_idempotent(
            common::Impl::Reference,
            common::Impl::Ours,
            &text,
            &format!("hw{i}a"),
        );
        cross_idempotent(
            common::Impl::Ours,
            common::Impl::Reference,
            &text,
            &format!("hw{i}b"),
        );
    }
    common::report("schema hand-written", schemas.len());
}

#[test]
fn generated_schemas() {
    let mut generator = SchemaGen::new(0x005c_4e3a);
    let count = 80;
    for i in 0..count {
        let text = generator.schema().to_string();
        let (ours, reference) = common::both("reference");
        compare_fresh(&ours, &reference, &text);
        cross_idempotent(
            common::Impl::Reference,
            common::Impl::Ours,
            &text,
            &format!("gen{i}"),
        );
    }
    common::report("schema generated", count);
}

/// One step of a transition scenario.
enum Step {
    /// Apply this schema.
    Schema(Json),
    /// Run this SQL (data or user objects).
    Sql(&'static str),
    /// Insert random rows (seeded) into every existing data table and into `ps_untyped`.
    Rows(u64),
}

/// Runs `steps` on both implementations, each in its own transaction, comparing results,
/// `sqlite_master` and all data after each step. A failing step must fail identically and
/// leave our database unchanged; both transactions are then rolled back.
fn run_steps(steps: &[Step]) -> usize {
    let (ours, reference) = common::both("reference");
    for (i, step) in steps.iter().enumerate() {
        common::each(&ours, &reference, "BEGIN", |conn| {
            conn.execute_batch("BEGIN").unwrap();
        });
        let before = (common::master(&ours), all_data(&ours));
        let (ours_result, ref_result) = match step {
            Step::Schema(schema) => {
                let text = schema.to_string();
                (
                    replace(&ours, &text),
                    reference.ask("replace", &text, |c| replace(c, &text)),
                )
            }
            Step::Sql(sql) => (exec(&ours, sql), reference.ask("exec", sql, |c| exec(c, sql))),
            Step::Rows(seed) => {
                // Both databases have the same tables (checked after every step).
                let sql = random_rows(&ours, *seed);
                (exec(&ours, &sql), reference.ask("exec", &sql, |c| exec(c, &sql)))
            }
        };
        assert_eq!(ours_result, ref_result, "step {i}");
        if ours_result.is_err() {
            if matches!(step, Step::Schema(_)) {
                assert_eq!(
                    (common::master(&ours), all_data(&ours)),
                    before,
                    "step {i} not atomic"
                );
            }
            common::each(&ours, &reference, "ROLLBACK", |conn| {
                conn.execute_batch("ROLLBACK").unwrap();
            });
        } else {
            common::each(&ours, &reference, "COMMIT", |conn| {
                conn.execute_batch("COMMIT").unwrap();
            });
        }
        assert_eq!(
            common::master(&ours),
            common::master(&reference),
            "master after step {i}"
        );
        assert_eq!(all_data(&ours), all_data(&reference), "data after step {i}");
    }
    steps.len()
}

fn exec(conn: &Connection, sql: &str) -> Result<rusqlite::types::Value, (i32, String)> {
    conn.execute_batch(sql)
        .map(|_| rusqlite::types::Value::Null)
        .map_err(|e| common::error_of::<()>(Err(e)).unwrap())
}

fn t(name: &str, extra: Json) -> Json {
    let mut t = json!({"name": name, "columns": cols(&[("x", "TEXT")])});
    for (k, v) in extra.as_object().unwrap() {
        t[k] = v.clone();
    }
    t
}

fn tables(list: Vec<Json>) -> Step {
    Step::Schema(json!({ "tables": list }))
}

#[test]
fn transitions_with_data() {
    let local = || json!({"local_only": true});
    let none = || json!({});
    let a_index = |ascending: bool| json!({"view_name": "A2", "indexes": [{"name": "ix", "columns": [{"name": "x", "ascending": ascending, "type": "TEXT"}]}]});
    let steps = vec![
        tables(vec![]),
        Step::Sql(
            r#"INSERT INTO ps_untyped(type, id, data) VALUES ('a', 'u1', '{"x":1}'), ('c', 'u2', '{}'), ('b', 'u3', '{"x":"untyped b"}'), ('zz', 'u4', NULL)"#,
        ),
        tables(vec![t("a", none()), t("b", local()), t("c", none())]),
        Step::Sql(
            r#"INSERT INTO ps_data__a VALUES ('a2', '{"x":2}'); INSERT INTO ps_data_local__b VALUES ('b1', '{"x":"l"}')"#,
        ),
        // a removed: its rows move to ps_untyped.
        tables(vec![t("b", local()), t("c", none())]),
        // a re-added: rows move back.
        tables(vec![t("a", none()), t("b", local()), t("c", none())]),
        // a becomes local-only: synced rows parked, new local table empty.
        tables(vec![t("a", local()), t("b", local()), t("c", none())]),
        Step::Sql(r#"INSERT INTO ps_data_local__a VALUES ('la', '{"x":"local"}')"#),
        // back to synced: local rows lost, synced rows restored.
        tables(vec![t("a", none()), t("b", local()), t("c", none())]),
        // b local -> synced: ps_untyped rows of type b move in.
        tables(vec![t("a", none()), t("b", none()), t("c", none())]),
        // View name, columns and flags change: data tables untouched.
        tables(vec![
            t("a", json!({"view_name": "A2", "include_metadata": true})),
            t(
                "b",
                json!({"include_old": true, "columns": cols(&[("x", "TEXT"), ("y", "INTEGER")])}),
            ),
            t("c", json!({"insert_only": true})),
        ]),
        Step::Sql(
            "CREATE INDEX ps_data_userindex ON ps_data__a(id); CREATE INDEX user_idx ON ps_data__a(data)",
        ),
        // Indexes: ps_data_* user index dropped, other user index kept.
        tables(vec![t("a", a_index(true)), t("b", none()), t("c", none())]),
        // Index definition changed: dropped and re-created.
        tables(vec![t("a", a_index(false)), t("b", none()), t("c", none())]),
        Step::Sql(
            r#"CREATE TRIGGER user_trig INSTEAD OF INSERT ON "A2" BEGIN SELECT 1; END; CREATE TRIGGER user_on_b INSTEAD OF INSERT ON b BEGIN SELECT 1; END"#,
        ),
        // Unchanged views keep user triggers.
        tables(vec![t("a", a_index(false)), t("b", none()), t("c", none())]),
        Step::Sql(
            r#"CREATE TRIGGER "ps_view_insert_A2_custom" INSTEAD OF INSERT ON "A2" BEGIN SELECT 1; END"#,
        ),
        // A second ps_view_insert* trigger makes the view outdated: re-created.
        tables(vec![t("a", a_index(false)), t("b", none()), t("c", none())]),
        Step::Sql("CREATE VIEW user_view AS SELECT 1 AS x; CREATE VIEW other_user_view AS SELECT 2 AS y"),
        // A user view with a schema view's name is replaced; others are left alone.
        tables(vec![
            t("a", a_index(false)),
            t("b", json!({"view_name": "user_view"})),
            t("c", none()),
        ]),
        Step::Sql(r#"CREATE VIEW manual_marker AS SELECT 1 AS x -- powersync-auto-generated"#),
        // A view with the marker but not in the schema is dropped.
        tables(vec![t("a", none()), t("b", none())]),
        // Duplicate names: the second CREATE TABLE fails.
        tables(vec![t("d", none()), t("d", none())]),
        // Same public name, different local-ness (distinct views).
        tables(vec![
            t("a", none()),
            t("a", json!({"local_only": true, "view_name": "a_local"})),
        ]),
        Step::Sql(
            r#"INSERT INTO ps_data_local__a VALUES ('l1', '{"x":"l1"}'); INSERT INTO ps_data__a VALUES ('s1', '{"x":"s1"}')"#,
        ),
        tables(vec![t("a", none())]),
        tables(vec![
            t("a", json!({"local_only": true, "view_name": "a_local"})),
            t("a", none()),
        ]),
        tables(vec![t("a", json!({"local_only": true, "view_name": "a_local"}))]),
        tables(vec![
            t("a", none()),
            t("a", json!({"local_only": true, "view_name": "a_local"})),
        ]),
        // View name equal to an internal table: DROP VIEW fails.
        tables(vec![t("e", json!({"view_name": "ps_crud"}))]),
        tables(vec![t("e", json!({"view_name": "ps_data__a"}))]),
        // Two tables with the same view name: re-created on every call.
        tables(vec![
            t("f", json!({"view_name": "same"})),
            t("g", json!({"view_name": "same"})),
        ]),
        tables(vec![
            t("f", json!({"view_name": "same"})),
            t("g", json!({"view_name": "same"})),
        ]),
        // Conflicting ps_untyped rows when parking data.
        Step::Sql(
            r#"INSERT INTO ps_data__f VALUES ('dup', '{}'); INSERT INTO ps_untyped VALUES ('f', 'dup', '{"other":1}')"#,
        ),
        tables(vec![]),
        tables(vec![t("f", none())]),
        tables(vec![]),
    ];
    let count = run_steps(&steps);
    common::report("schema transitions", count);
}

#[test]
fn random_transitions() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x7a11);
    let mut generator = SchemaGen::new(0xda7a);
    let names = ["a", "b", "c", "d", "we\"ird'"];
    let mut total = 0;
    for _ in 0..12 {
        let mut steps = Vec::new();
        for step in 0..8 {
            let mut list = Vec::new();
            for name in names {
                if rng.random_bool(0.6) {
                    let mut table = generator.table(name, None);
                    if rng.random_bool(0.1) {
                        table["view_name"] = json!(format!("v_{name}_{step}"));
                    }
                    list.push(table);
                }
            }
            // Occasionally the same name twice (local and synced, distinct views).
            if rng.random_bool(0.1) && !list.is_empty() {
                let mut twin = list[0].clone();
                let local = twin["local_only"].as_bool().unwrap_or(false);
                twin["local_only"] = json!(!local);
                twin["view_name"] = json!("twin");
                list.push(twin);
            }
            steps.push(Step::Schema(json!({ "tables": list })));
            steps.push(Step::Rows(rng.random()));
        }
        total += run_steps(&steps);
    }
    common::report("schema random transitions", total);
}

/// SQL inserting a few rows into every `ps_data_*` table of `conn` and into `ps_untyped`
/// (sometimes with types that have a data table, to provoke conflicts).
fn random_rows(conn: &Connection, seed: u64) -> String {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let tables: Vec<String> = common::rows(
        conn,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'ps_data_*' ORDER BY name",
    )
    .into_iter()
    .map(|r| match &r[0] {
        rusqlite::types::Value::Text(t) => t.clone(),
        other => panic!("{other:?}"),
    })
    .collect();
    let mut sql = String::new();
    for table in &tables {
        for _ in 0..rng.random_range(0..3) {
            let n: u32 = rng.random_range(0..50);
            sql.push_str(&format!(
                "INSERT OR IGNORE INTO \"{}\"(id, data) VALUES ('r{n}', '{{\"n\":{n}}}');\n",
                table.replace('"', "\"\"")
            ));
        }
    }
    for name in ["a", "b", "c", "d", "we\"ird'", "zz"] {
        if rng.random_bool(0.3) {
            let n: u32 = rng.random_range(0..50);
            sql.push_str(&format!(
                "INSERT OR IGNORE INTO ps_untyped(type, id, data) VALUES ('{}', 'r{n}', '{{\"u\":{n}}}');\n",
                name.replace('\'', "''")
            ));
        }
    }
    sql
}

/// With `PRAGMA trusted_schema=OFF` the schema is applied as usual, but the generated
/// triggers cannot run: none of the functions they call is innocuous (docs/sql-surface.md#functions-and-flags). (The
/// functions and virtual tables they use belong to the util and CRUD modules.)
#[test]
fn trusted_schema_off() {
    let (ours, reference) = common::both("reference");
    let schema = json!({"tables": [
        t("synced", json!({"include_metadata": true, "include_old": true})),
        t("local", json!({"local_only": true})),
        t("inserts", json!({"insert_only": true})),
    ]})
    .to_string();
    common::each(&ours, &reference, "PRAGMA trusted_schema=OFF; BEGIN", |conn| {
        conn.execute_batch("PRAGMA trusted_schema=OFF; BEGIN").unwrap();
    });
    assert_eq!(
        replace(&ours, &schema),
        reference.ask("replace", &schema, |c| replace(c, &schema))
    );
    common::each(&ours, &reference, "COMMIT", |conn| {
        conn.execute_batch("COMMIT").unwrap();
    });
    assert_eq!(common::master(&ours), common::master(&reference));
    let mut cases = 1;

    let writes = [
        "INSERT INTO synced(id, x) VALUES ('1', 'a')",
        "INSERT INTO local(id, x) VALUES ('1', 'a')",
        "INSERT INTO inserts(id, x) VALUES ('1', 'a')",
        "INSERT INTO ps_data__synced VALUES ('2', '{}'); UPDATE synced SET x = 'b' WHERE id = '2'",
        "DELETE FROM synced WHERE id = '2'",
        "UPDATE synced SET _deleted = TRUE WHERE id = '2'",
    ];
    for sql in writes {
        let result = exec(&ours, sql);
        assert_eq!(result, reference.ask("exec", sql, |c| exec(c, sql)), "{sql}");
        assert!(
            matches!(&result, Err((1, msg)) if msg.starts_with("unsafe use of ")),
            "{result:?}"
        );
        assert_eq!(all_data(&ours), all_data(&reference), "{sql}");
        cases += 1;
    }
    common::report("schema trusted_schema=OFF", cases);
}
