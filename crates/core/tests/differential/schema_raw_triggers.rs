//! Differential tests of `powersync_create_raw_table_crud_trigger` (docs/sql-surface.md#raw-table-triggers):
//! generated triggers for random raw-table definitions, and the error cases.

use crate::common;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;
use serde_json::{json, Value as Json};

const TABLES: &[&str] = &["users", "we\"ird'table", "Items", "sp ace", "tàble"];
const COLUMNS: &[&str] = &[
    "email",
    "email_verified",
    "co\"l'x",
    "a.b",
    "with space",
    "ünï",
    "order",
    "x[0]",
    "\"",
    "'",
];
const TYPES: &[&str] = &["sync_type", "users", "we\"ird'type", "t"];

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Calls the function with SQL expressions as arguments.
fn call(
    conn: &Connection,
    json: &str,
    trigger: &str,
    write: &str,
) -> Result<rusqlite::types::Value, (i32, String)> {
    common::eval(
        conn,
        &format!("SELECT powersync_create_raw_table_crud_trigger({json}, {trigger}, {write})"),
    )
}

/// A random local table: `CREATE TABLE` SQL and its column names (with `id` somewhere).
fn random_table(rng: &mut StdRng, name: &str) -> (String, Vec<String>) {
    let count = match rng.random_range(0..8) {
        0 => 0,
        1 => rng.random_range(48..60),
        2 => rng.random_range(99..103),
        _ => rng.random_range(1..6),
    };
    let mut columns: Vec<String> = Vec::new();
    for i in 0..count {
        let candidate = if rng.random_bool(0.5) {
            COLUMNS[rng.random_range(0..COLUMNS.len())].to_string()
        } else {
            format!("c{i}")
        };
        columns.push(if columns.contains(&candidate) {
            format!("col_{i}")
        } else {
            candidate
        });
    }
    let position = rng.random_range(0..=columns.len());
    columns.insert(position, "id".into());
    let defs: Vec<String> = columns
        .iter()
        .map(|c| {
            if c == "id" && rng.random_bool(0.5) {
                "id TEXT PRIMARY KEY".to_string()
            } else {
                format!("{} {}", quote(c), ["TEXT", "INTEGER", ""][rng.random_range(0..3)])
            }
        })
        .collect();
    (
        format!("CREATE TABLE {}({})", quote(name), defs.join(", ")),
        columns,
    )
}

/// A random raw-table definition for `table` with `columns`.
fn random_definition(rng: &mut StdRng, table: &str, columns: &[String]) -> Json {
    let mut def = serde_json::Map::new();
    def.insert("name".into(), json!(TYPES[rng.random_range(0..TYPES.len())]));
    def.insert("table_name".into(), json!(table));
    let pick = |rng: &mut StdRng| -> Vec<String> {
        let mut list: Vec<String> = columns
            .iter()
            .filter(|c| *c != "id" && rng.random_bool(0.5))
            .cloned()
            .collect();
        if rng.random_bool(0.3) {
            list.push("not_a_column".into());
        }
        list
    };
    if rng.random_bool(0.4) {
        let list = pick(rng);
        def.insert("synced_columns".into(), json!(list));
    }
    match rng.random_range(0..6) {
        0 => {
            def.insert("include_old".into(), json!(true));
        }
        1 => {
            def.insert("include_old".into(), json!(false));
        }
        2 | 3 => {
            let list = pick(rng);
            def.insert("include_old".into(), json!(list));
        }
        _ => {}
    }
    for flag in [
        "local_only",
        "insert_only",
        "include_metadata",
        "include_old_only_when_changed",
        "ignore_empty_update",
    ] {
        if rng.random_bool(0.25) {
            def.insert(flag.into(), json!(true));
        }
    }
    if rng.random_bool(0.3) {
        def.insert(
            "put".into(),
            json!({"sql": "INSERT INTO x VALUES (?)", "params": ["Id", {"Column": "a"}, "Rest"]}),
        );
        def.insert("clear".into(), json!("DELETE FROM x"));
    }
    Json::Object(def)
}

#[test]
fn random_raw_tables() {
    let (ours, reference) = common::both("reference");
    let mut rng = StdRng::seed_from_u64(0x4a77);
    let mut cases = 0;
    for round in 0..80 {
        let table = format!("{}{}", TABLES[rng.random_range(0..TABLES.len())], round);
        let (create, columns) = random_table(&mut rng, &table);
        common::each(&ours, &reference, &create, |conn| {
            conn.execute_batch(&create).unwrap();
        });
        let definition = random_definition(&mut rng, &table, &columns).to_string();
        for write in ["INSERT", "UPDATE", "DELETE"] {
            let trigger = format!("trg_{round}_{write}{}", ["", "\"q'"][rng.random_range(0..2)]);
            let args = (sql_string(&definition), sql_string(&trigger), sql_string(write));
            let ours_result = call(&ours, &args.0, &args.1, &args.2);
            assert_eq!(
                ours_result,
                reference.ask("call", &format!("{:?}", (&args.0, &args.1, &args.2)), |c| call(
                    c, &args.0, &args.1, &args.2
                )),
                "{definition} {write}"
            );
            cases += 1;
        }
        assert_eq!(common::master(&ours), common::master(&reference), "{definition}");
    }
    common::report("raw-table triggers", cases);
}

#[test]
fn spec_examples() {
    let (ours, reference) = common::both("reference");
    let definitions = [
        json!({"name": "sync_type", "table_name": "users"}),
        json!({"name": "sync_type", "table_name": "users", "synced_columns": ["email", "email_verified"]}),
        json!({"name": "sync_type", "table_name": "users", "insert_only": true}),
        json!({"name": "sync_type", "table_name": "users", "local_only": true, "insert_only": true}),
        json!({"name": "sync_type", "table_name": "users", "include_old": true, "include_old_only_when_changed": true, "include_metadata": true, "ignore_empty_update": true}),
        json!({"name": "sync_type", "table_name": "ids"}),
        json!({"name": "sync_type", "table_name": "ids", "include_old": true}),
    ];
    common::each(&ours, &reference, "CREATE TABLE users, ids", |conn| {
        conn.execute_batch(
            "CREATE TABLE users(id TEXT, email TEXT, email_verified INTEGER); CREATE TABLE ids(id TEXT)",
        )
        .unwrap();
    });
    let mut cases = 0;
    for (i, definition) in definitions.iter().enumerate() {
        for write in ["INSERT", "UPDATE", "DELETE"] {
            let args = (
                sql_string(&definition.to_string()),
                sql_string(&format!("test_{i}_{}", write.to_lowercase())),
                sql_string(write),
            );
            let result = call(&ours, &args.0, &args.1, &args.2);
            assert_eq!(result, Ok(rusqlite::types::Value::Null));
            assert_eq!(
                result,
                reference.ask("call", &format!("{:?}", (&args.0, &args.1, &args.2)), |c| call(
                    c, &args.0, &args.1, &args.2
                ))
            );
            cases += 1;
        }
    }
    assert_eq!(common::master(&ours), common::master(&reference));
    let sql: String = ours
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'test_0_update'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        sql,
        r#"CREATE TRIGGER "test_0_update" AFTER UPDATE ON "users" FOR EACH ROW WHEN NOT powersync_in_sync_operation() BEGIN
SELECT CASE WHEN (OLD.id != NEW.id) THEN RAISE (ABORT, 'Cannot update id') END;
INSERT INTO powersync_crud(op,id,type,data,options) VALUES ('PATCH', NEW.id, 'sync_type', json(powersync_diff(json_object('email', powersync_strip_subtype(OLD."email"), 'email_verified', powersync_strip_subtype(OLD."email_verified")), json_object('email', powersync_strip_subtype(NEW."email"), 'email_verified', powersync_strip_subtype(NEW."email_verified")))), 0);
END"#
    );
    common::report("raw-table trigger examples", cases);
}

#[test]
fn errors() {
    let (ours, reference) = common::both("reference");
    common::each(
        &ours,
        &reference,
        "CREATE TABLE users, noid, upper, onlyid",
        |conn| {
            conn.execute_batch(
            "CREATE TABLE users(id TEXT, email TEXT); CREATE TABLE noid(a TEXT); CREATE TABLE upper(ID TEXT, a TEXT);
             CREATE TABLE onlyid(id TEXT)",
        )
        .unwrap();
        },
    );
    let users = r#"'{"name":"s","table_name":"users"}'"#;
    // (raw table JSON, trigger name, write type), as SQL expressions.
    let cases: Vec<(String, String, String)> = [
        (users, "'t'", "'insert'"),
        (users, "'t'", "'Insert'"),
        (users, "'t'", "''"),
        (users, "'t'", "NULL"),
        (users, "'t'", "'BOGUS'"),
        (users, "'t'", "'INSERT '"),
        (users, "'t'", "'INSERT' || char(0)"),
        (users, "'t'", "5"),
        (users, "'t' || char(0) || 'x'", "'INSERT'"),
        (users, "'t\"' || char(0)", "'DELETE'"),
        (r#"'{"name":"s"}'"#, "'t'", "'INSERT'"),
        (r#"'{"name":"s"}'"#, "'t'", "'BOGUS'"),
        (r#"'{"name":"s","table_name":null}'"#, "'t'", "'UPDATE'"),
        (r#"'{"name":"s","table_name":"nope"}'"#, "'t'", "'INSERT'"),
        (r#"'{"name":"s","table_name":"nope"}'"#, "'t'", "'BOGUS'"),
        (r#"'{"name":"s","table_name":"main.users"}'"#, "'t'", "'INSERT'"),
        (r#"'{"name":"s","table_name":"a\u0000b"}'"#, "'t'", "'INSERT'"),
        (r#"'{"name":"s","table_name":"noid"}'"#, "'t'", "'INSERT'"),
        (r#"'{"name":"s","table_name":"upper"}'"#, "'t'", "'DELETE'"),
        (
            r#"'{"name":"s","table_name":"users","synced_columns":[]}'"#,
            "'t'",
            "'UPDATE'",
        ),
        (
            r#"'{"name":"s","table_name":"users","synced_columns":["zz"]}'"#,
            "'t'",
            "'UPDATE'",
        ),
        (
            r#"'{"name":"s","table_name":"onlyid","synced_columns":[]}'"#,
            "'t'",
            "'UPDATE'",
        ),
        ("'not json'", "'t'", "'INSERT'"),
        ("'not json'", "'t'", "'BOGUS'"),
        ("NULL", "'t'", "'INSERT'"),
        ("5", "'t'", "'INSERT'"),
        ("'{}'", "'t'", "'INSERT'"),
        ("'[]'", "'t'", "'INSERT'"),
        (r#"'{"name":1}'"#, "'t'", "'INSERT'"),
        (r#"'{"name":"s","table_name":3}'"#, "'t'", "'INSERT'"),
        (r#"'{"name":"s","local_only":"x"}'"#, "'t'", "'INSERT'"),
        (r#"'{"name":"s","include_old":"x"}'"#, "'t'", "'INSERT'"),
        (r#"'{"name":"s","synced_columns":"a"}'"#, "'t'", "'INSERT'"),
        (r#"'{"name":"s","put":{"sql":"x"}}'"#, "'t'", "'INSERT'"),
        (r#"'{"name":"s","table_name":"users"} x'"#, "'t'", "'INSERT'"),
        // The second call finds the trigger already there.
        (users, "'dup'", "'INSERT'"),
        (users, "'dup'", "'INSERT'"),
        (users, "'dup'", "'DELETE'"),
    ]
    .into_iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    let mut failures = 0;
    for (json, trigger, write) in &cases {
        let before = common::master(&ours);
        let ours_result = call(&ours, json, trigger, write);
        assert_eq!(
            ours_result,
            reference.ask("call", &format!("{:?}", (json, trigger, write)), |c| call(
                c, json, trigger, write
            )),
            "{json} {trigger} {write}"
        );
        if ours_result.is_err() {
            failures += 1;
            assert_eq!(common::master(&ours), before);
        }
        assert_eq!(common::master(&ours), common::master(&reference));
    }
    // Only the first "dup" call succeeds.
    assert_eq!(failures, cases.len() - 1);
    common::report("raw-table trigger errors", cases.len());
}

/// Works outside transactions, and a NULL trigger name creates a trigger named "".
#[test]
fn null_trigger_name_outside_transaction() {
    let (ours, reference) = common::both("reference");
    common::each(
        &ours,
        &reference,
        "NULL trigger name outside a transaction",
        |conn| {
            conn.execute_batch("CREATE TABLE users(id TEXT, email TEXT)")
                .unwrap();
            assert_eq!(
                call(conn, r#"'{"name":"s","table_name":"users"}'"#, "NULL", "'DELETE'"),
                Ok(rusqlite::types::Value::Null)
            );
            assert_eq!(
                call(
                    conn,
                    r#"'{"name":"s","table_name":"users"}'"#,
                    "5",
                    "x'494e53455254'"
                ),
                Ok(rusqlite::types::Value::Null)
            );
        },
    );
    assert_eq!(common::master(&ours), common::master(&reference));
    common::report("raw-table trigger argument conversion", 2);
}
