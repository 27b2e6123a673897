//! Error cases of `powersync_replace_schema` (docs/sql-surface.md#schema-validation-errors, docs/sql-surface.md#replacing-the-schema, docs/sql-surface.md#sql-fragments): code and
//! message must equal the reference's, and our database must be unchanged afterwards.

use crate::common;

use powersync_testkit::schema::{numbered_columns, replace, schema_version};
use powersync_testkit::sql::all_data;
use rusqlite::Connection;
use serde_json::json;

/// Malformed or mistyped schema JSON, as SQL expressions for the argument.
fn parse_error_args() -> Vec<String> {
    let texts = [
        "not json",
        "",
        "{}",
        "[]",
        "{\"tables\": null}",
        "{\"tables\": {}}",
        "{\"tables\": [3]}",
        "{\"tables\": [[]]}",
        "{\"tables\": [[\"a\",[]]]}",
        "{\"raw_tables\": []}",
        "{\"tables\": [], \"tables\": []}",
        "{\"tables\": []} x",
        "{\"tables\": [{\"name\":\"a\"}]}",
        "{\"tables\": [{\"columns\":[]}]}",
        "{\"tables\": [{\"name\":5,\"columns\":[]}]}",
        "{\"tables\": [{\"name\":\"a\",\"name\":\"b\",\"columns\":[]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":{}}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[3]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[[]]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[{}]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[{\"name\":\"x\"}]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[{\"type\":\"TEXT\"}]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[{\"name\":\"a\",\"type\":\"TEXT\",\"name\":\"b\"}]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[{\"name\":\"a\",\"type\":1}]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[],\"columns\":[]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[],\"view_name\":3}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[],\"view_name\":\"v\",\"view_name\":\"w\"}]}",
        "{\"tables\": [{\"name\":\"a\",\"local_only\":\"yes\"}]}",
        "{\"tables\": [{\"local_only\":\"yes\"}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"local_only\": \"yes\"}]}",
        "{\"tables\": [{\"local_only\": \"yes\", \"name\":\"a\",\"columns\":[]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"local_only\": \"yes\", \"extra\": 1}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"local_only\": null}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"local_only\": 1}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"insert_only\": 0}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"include_metadata\": {}}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"include_metadata\": []}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"include_old_only_when_changed\": 1.5}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"ignore_empty_update\": \"true\"}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"insert_only\":true, \"local_only\":true, \"local_only\":\"x\"}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"local\\u005fonly\": true}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"include_old\": \"x\"}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"include_old\": null}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"include_old\": 1}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"include_old\": -1}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"include_old\": 1.5}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"include_old\": {}}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"include_old\": [1]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"include_old\": [\"a\", null]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"include_old\": true, \"include_old\": false}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"include\\u005fold\": 3, \"local\\u005fonly\": true}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"include_old\": \"x\", \"local_only\": \"yes\"}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"local_only\": \"yes\", \"include_old\": \"x\"}]}",
        "{\"tables\": [{\"name\":\"a\",\"include_old\": \"x\"}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"indexes\": null}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"indexes\": [3]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"indexes\": [{}]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"indexes\": [{\"name\":\"i\"}]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"indexes\": [{\"name\":\"i\",\"columns\":[3]}]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"indexes\": [{\"name\":\"i\",\"columns\":[{}]}]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"indexes\": [{\"name\":\"i\",\"columns\":[{\"name\":\"x\"}]}]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"indexes\": [{\"name\":\"i\",\"columns\":[{\"name\":\"x\",\"type\":\"TEXT\"}]}]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"indexes\": [{\"name\":\"i\",\"columns\":[{\"type\":\"x\"}]}]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"indexes\": [{\"name\":\"i\",\"columns\":[{\"name\":\"x\",\"ascending\":1,\"type\":\"TEXT\"}]}]}]}",
        "{\"tables\": [{\"name\":\"a\",\"columns\":[], \"indexes\":[],\"indexes\":[]}]}",
        "{\"tables\": [], \"raw_tables\": null}",
        "{\"tables\": [], \"raw_tables\": {}}",
        "{\"tables\": [], \"raw_tables\": [{}]}",
        "{\"raw_tables\": [{}]}",
        "{\"tables\": [], \"raw_tables\": [[\"r\"]]}",
        "{\"tables\": [], \"raw_tables\": [{\"local_only\":3}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"name\": \"b\"}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"local_only\": 3}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"include_old\": \"x\"}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"x\",\"local_only\":3, \"include_old\":\"x\"}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"x\",\"include_old\":true,\"include_old\":true}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"clear\": 3}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"x\",\"clear\":\"a\",\"clear\":\"b\"}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"synced_columns\": \"a\"}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"synced_columns\": [1]}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"x\",\"synced_columns\":[\"a\"],\"synced_columns\":[\"b\"]}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"table_name\": 3}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"x\",\"table_name\":\"a\",\"table_name\":\"b\"}]}",
        "{\"tables\": [], \"raw_tables\": [{\"table_name\":3}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": 3}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": []}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": [\"a\"]}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"delete\": [\"a\", [], 3]}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": {}}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": {\"sql\": \"x\"}}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": {\"params\": []}}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": {\"sql\":\"x\",\"params\":[],\"sql\":\"y\"}}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"x\",\"put\":null,\"put\":null}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": {\"sql\": \"x\", \"params\": {}}}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": {\"sql\": \"x\", \"params\": [\"Bogus\"]}}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": {\"sql\": \"x\", \"params\": [\"id\"]}}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": {\"sql\": \"x\", \"params\": [\"Column\"]}}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": {\"sql\": \"x\", \"params\": [3]}}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": {\"sql\": \"x\", \"params\": [null]}}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": {\"sql\": \"x\", \"params\": [{}]}}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": {\"sql\": \"x\", \"params\": [{\"Column\": 1}]}}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": {\"sql\": \"x\", \"params\": [{\"Bogus\": 1}]}}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": {\"sql\": \"x\", \"params\": [{\"Id\": 1}]}}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": {\"sql\": \"x\", \"params\": [{\"Rest\": {}}]}}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": {\"sql\": \"x\", \"params\": [{\"Column\": \"a\", \"x\": 1}]}}]}",
        "{\"tables\": [], \"raw_tables\": [{\"name\":\"r\", \"put\": {\"sql\": \"x\", \"params\": [{\"Column\":\"a\",\"Column\":\"b\"}]}}]}",
        "{\"tables\":[{\"name\":\"a\",\"columns\":[], \"local_only\":true,}]}",
        "{\"tables\":[{\"name\":\"a\",\"columns\":[], \"local_only\":tru}]}",
        "{\"tables\":[{\"name\":\"a\\ud800\",\"columns\":[]}]}",
        "{\"tables\":[{\"name\":\"a\",\"columns\":[]}",
        "{\"tables\":[{\"name\":\"a\",\"columns\":[]}]}}",
    ];
    let mut args: Vec<String> = texts
        .iter()
        .map(|t| format!("'{}'", t.replace('\'', "''")))
        .collect();
    args.extend(
        [
            "NULL",
            "5",
            "1.5",
            "x'7b22746162'",
            "x'7b227461626c6573223a5b5dff7d'",
            "'{\"tables\": []}' || char(0)",
        ]
        .map(String::from),
    );
    args
}

/// Schemas that parse but (mostly) fail while being applied: SQLite errors, NULs, the
/// column limit.
fn apply_error_schemas() -> Vec<String> {
    let col = |name: &str, ty: &str| json!({"name": name, "type": ty});
    let wide = |n: usize| json!({"tables": [{"name": "w", "columns": numbered_columns(n)}]});
    let mut wide_old = wide(2000);
    wide_old["tables"][0]["include_old"] = json!([]);
    let mut wide_local = wide(2500);
    wide_local["tables"][0]["local_only"] = json!(true);
    [
        json!({"tables": [{"name": "d", "columns": []}, {"name": "d", "columns": []}]}),
        json!({"tables": [{"name": "d", "columns": []}, {"name": "e", "view_name": "d", "columns": []}, {"name": "f", "columns": [], "view_name": "ps_crud"}]}),
        json!({"tables": [{"name": "e", "view_name": "ps_crud", "columns": []}]}),
        json!({"tables": [{"name": "lists", "columns": []}, {"name": "e", "view_name": "ps_data__lists", "columns": []}]}),
        json!({"tables": [{"name": "e", "view_name": "sqlite_master", "columns": []}]}),
        json!({"tables": [{"name": "bad", "columns": [col("a", "TEXT COLLATE NOCASE")]}]}),
        json!({"tables": [{"name": "bad", "columns": [col("a", "TEXT)")]}]}),
        json!({"tables": [{"name": "dup", "columns": [col("a", "TEXT"), col("a", "TEXT")]}]}),
        json!({"tables": [{"name": "hasid", "columns": [col("id", "TEXT")]}]}),
        json!({"tables": [{"name": "meta", "include_metadata": true, "columns": [col("_metadata", "TEXT")]}]}),
        json!({"tables": [{"name": "i", "columns": [col("a", "TEXT")], "indexes": [["e", []]]}]}),
        json!({"tables": [{"name": "i", "columns": [col("a", "TEXT")], "indexes": [{"name": "x", "columns": [{"name": "a", "ascending": true, "type": "TEXT"}]}, {"name": "x", "columns": [{"name": "a", "ascending": false, "type": "TEXT"}]}]}]}),
        json!({"tables": [{"name": "i", "columns": [col("a", "TEXT")], "indexes": [{"name": "x", "columns": [{"name": "a", "ascending": true, "type": "NOT A TYPE("}]}]}]}),
        json!({"tables": [{"name": "a\u{0}b", "columns": []}]}),
        json!({"tables": [{"name": "nul", "columns": [col("a\u{0}", "TEXT")]}]}),
        json!({"tables": [{"name": "nul", "view_name": "v\u{0}", "columns": []}]}),
        json!({"tables": [{"name": "nul", "columns": [col("a", "TEXT\u{0}")]}]}),
        json!({"tables": [{"name": "nul", "columns": [col("a", "TEXT")], "indexes": [{"name": "i\u{0}", "columns": [{"name": "a", "ascending": true, "type": "TEXT"}]}]}]}),
        json!({"tables": [{"name": "ok", "columns": []}, {"name": "nul", "view_name": "v\u{0}", "columns": []}]}),
        json!({"tables": [{"name": "ok", "columns": numbered_columns(2000)}, {"name": "nul\u{0}", "columns": []}]}),
        json!({"tables": [{"name": "first", "columns": []}, {"name": "w", "columns": numbered_columns(2000)}]}),
        wide(2000),
        wide_old,
        wide_local,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// A database with a schema and some data, so that "unchanged" means something.
fn with_base_state(conn: &Connection) {
    conn.execute_batch("BEGIN").unwrap();
    let base = json!({"tables": [
        {"name": "lists", "columns": [{"name": "name", "type": "TEXT"}],
         "indexes": [{"name": "by_name", "columns": [{"name": "name", "ascending": true, "type": "TEXT"}]}]},
        {"name": "drafts", "local_only": true, "columns": [{"name": "title", "type": "TEXT"}]}
    ]});
    replace(conn, &base.to_string()).unwrap();
    conn.execute_batch(
        r#"INSERT INTO ps_data__lists VALUES ('l1', '{"name":"x"}');
           INSERT INTO ps_data_local__drafts VALUES ('d1', '{"title":"t"}');
           INSERT INTO ps_untyped VALUES ('other', 'o1', '{}');
           COMMIT"#,
    )
    .unwrap();
}

/// Calls `powersync_replace_schema(<arg>)` on both in a transaction and compares the
/// results. After an error ours must have left the database as it was; after a success both
/// databases must be equal. Returns whether it failed.
fn compare_call(ours: &Connection, reference: &common::RefConn, arg: &str) -> bool {
    let sql = format!("SELECT powersync_replace_schema({arg})");
    ours.execute_batch("BEGIN").unwrap();
    let before = (common::master(ours), all_data(ours), schema_version(ours));
    let ours_result = common::eval(ours, &sql);
    // The reference's result, and its database after a success.
    let (ref_result, ref_state) = reference.ask("call", &sql, |c| {
        c.execute_batch("BEGIN").unwrap();
        let r = common::raw_eval(c, &sql);
        let state = r.is_ok().then(|| (common::raw_master(c), all_data(c)));
        c.execute_batch("ROLLBACK").unwrap();
        (r, state)
    });
    assert_eq!(ours_result, ref_result, "{arg}");
    if ours_result.is_err() {
        assert_eq!(
            (common::master(ours), all_data(ours), schema_version(ours)),
            before,
            "database changed by {arg}"
        );
    } else {
        let (master, tables) = ref_state.unwrap();
        assert_eq!(common::master(ours), master, "{arg}");
        assert_eq!(all_data(ours), tables, "{arg}");
    }
    ours.execute_batch("ROLLBACK").unwrap();
    ours_result.is_err()
}

/// Like [`compare_call`], for inputs that must fail.
fn compare_error(ours: &Connection, reference: &common::RefConn, arg: &str) {
    assert!(compare_call(ours, reference, arg), "expected an error for {arg}");
}

#[test]
fn parse_errors() {
    let (ours, reference) = common::both("reference");
    let args = parse_error_args();
    // On an uninitialised database: nothing may be created.
    for arg in &args {
        compare_error(&ours, &reference, arg);
        assert!(common::master(&ours).is_empty());
        assert!(common::master(&reference).is_empty());
    }
    // On a database with a schema and data.
    with_base_state(&ours);
    reference.ask("with_base_state", "", with_base_state);
    for arg in &args {
        compare_error(&ours, &reference, arg);
    }
    common::report("schema parse errors", args.len() * 2);
}

#[test]
fn apply_errors() {
    let (ours, reference) = common::both("reference");
    with_base_state(&ours);
    reference.ask("with_base_state", "", with_base_state);
    let schemas = apply_error_schemas();
    let mut failed = 0;
    for schema in &schemas {
        if compare_call(&ours, &reference, &format!("'{}'", schema.replace('\'', "''"))) {
            failed += 1;
        }
    }
    // A few are accepted by SQLite (e.g. duplicate view columns) and only compared.
    assert!(failed >= schemas.len() - 3, "{failed} of {}", schemas.len());
    common::report("schema apply errors", schemas.len());
}

#[test]
fn column_limit() {
    let (ours, reference) = common::both("reference");
    // 1999 columns is the largest table the reference accepts.
    let schema = json!({"tables": [{"name": "w", "columns": numbered_columns(1999), "include_old": true}]})
        .to_string();
    common::each(&ours, &reference, &schema, |conn| {
        conn.execute_batch("BEGIN").unwrap();
        assert_eq!(
            replace(conn, &schema),
            Ok(rusqlite::types::Value::Text(String::new()))
        );
        conn.execute_batch("COMMIT").unwrap();
    });
    assert_eq!(common::master(&ours), common::master(&reference));
    common::report("schema column limit", 1);
}

#[test]
fn requires_transaction() {
    let (ours, reference) = common::both("reference");
    let cases = ["'{\"tables\": []}'", "'not json'", "NULL"];
    for arg in cases {
        let sql = format!("SELECT powersync_replace_schema({arg})");
        let ours_result = common::eval(&ours, &sql);
        assert_eq!(ours_result, common::eval(&reference, &sql));
        assert_eq!(
            ours_result,
            Err((
                21,
                "powersync_replace_schema: This function may only be called in transactions.".into()
            ))
        );
        assert!(common::master(&ours).is_empty());
    }
    common::report("schema transaction requirement", cases.len());
}

/// Called from a writing statement, SQLite cannot release our savepoint, so the function
/// runs without one, like the reference.
#[test]
fn from_a_writing_statement() {
    let (ours, reference) = common::both("reference");
    let schemas = [
        json!({"tables": [{"name": "t", "columns": [{"name": "a", "type": "TEXT"}]}]}),
        json!({"tables": [{"name": "t", "columns": [{"name": "a", "type": "TEXT"}]}, {"name": "u", "columns": []}]}),
        json!({"tables": [{"name": "d", "columns": []}, {"name": "d", "columns": []}]}),
    ];
    common::each(&ours, &reference, "CREATE TABLE log(x); init", |conn| {
        conn.execute_batch("CREATE TABLE log(x); BEGIN; SELECT powersync_init(); COMMIT")
            .unwrap();
    });
    for schema in &schemas {
        let schema = schema.to_string();
        let run = |conn: &Connection| {
            conn.execute_batch("BEGIN").unwrap();
            let result = conn
                .execute("INSERT INTO log SELECT powersync_replace_schema(?)", [&schema])
                .map_err(|e| common::error_of::<()>(Err(e)).unwrap());
            conn.execute_batch("COMMIT").unwrap();
            result
        };
        assert_eq!(run(&ours), reference.ask("run", &schema, run), "{schema}");
        assert_eq!(common::master(&ours), common::master(&reference), "{schema}");
        assert_eq!(all_data(&ours), all_data(&reference), "{schema}");
    }
    common::report("schema from writing statement", schemas.len());
}

/// Invalid UTF-8 inside JSON strings: the reference stores it in table names unchecked; we
/// reject the schema (documented deviation). Outside strings both fail identically (covered
/// by `parse_errors`).
#[test]
fn invalid_utf8_in_names_is_rejected() {
    let ours = common::open_ours();
    ours.execute_batch("BEGIN").unwrap();
    let result = common::eval(
        &ours,
        "SELECT powersync_replace_schema(x'7b227461626c6573223a5b7b226e616d65223a2261ff222c22636f6c756d6e73223a5b5d7d5d7d')",
    );
    assert_eq!(
        result,
        Err((3091, "powersync_replace_schema: invalid argument: . cause: invalid unicode code point at line 1 column 22".into()))
    );
    assert!(common::master(&ours).is_empty());
}
