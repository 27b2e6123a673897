//! `powersync_replace_schema` in the system `sqlite3` shell (Debian's SQLite 3.40, older
//! than the 3.44 the reference needs), through the loadable library: the same DDL as the
//! reference produces under the bundled SQLite, idempotent, atomic on errors.
//!
//! `scripts/test.sh` builds `target/release/libpowersync.so` before running the tests.

use crate::common;

use powersync_testkit::schema::{replace, SchemaGen};
use serde_json::json;
use std::process::Command;

fn shell_available() -> bool {
    Command::new("sqlite3").arg("--version").output().is_ok()
}

/// Runs `script` in the system shell on `db` with our loadable library; returns stdout.
fn shell(db: &std::path::Path, script: &str) -> String {
    let out = crate::shell_with_library(db).arg(script).output().unwrap();
    // Errors are part of the expected output of some scripts; they go to stderr.
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

const VERSION: &str = "SELECT 'version ' || schema_version FROM pragma_schema_version;";

fn apply_script(schema: &str) -> String {
    format!(
        "BEGIN; SELECT powersync_replace_schema('{}'); COMMIT; {VERSION}\n",
        schema.replace('\'', "''")
    )
}

#[test]
fn replace_schema_on_sqlite_3_40() {
    if !shell_available() {
        common::report_skipped(
            "schema_sqlite340",
            "no sqlite3 shell on this machine (apt-get install sqlite3)",
        );
        return;
    }
    let mut schemas = vec![
        json!({"tables": [
            {"name": "lists", "include_metadata": true, "include_old": ["name"], "columns": [{"name": "name", "type": "TEXT"}],
             "indexes": [{"name": "i", "columns": [{"name": "name", "ascending": false, "type": "TEXT"}]}]},
            {"name": "l", "local_only": true, "columns": []},
            {"name": "logs", "insert_only": true, "columns": [{"name": "m", "type": "TEXT"}]}
        ]}),
        json!({"tables": [{"name": "w", "columns": powersync_testkit::schema::numbered_columns(101)}]}),
    ];
    let mut generator = SchemaGen::new(340);
    schemas.extend((0..20).map(|_| generator.schema()));

    let dir = common::workspace_root().join("target/tmp");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, schema) in schemas.iter().enumerate() {
        let schema = schema.to_string();
        let path = dir.join(format!("schema340_{i}_{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        // Initialised by our bundled build, then handed to the old SQLite.
        {
            let conn = common::open_file(common::Impl::Ours, &path);
            conn.execute_batch("BEGIN; SELECT powersync_init(); COMMIT")
                .unwrap();
        }
        let before: i64 = rusqlite::Connection::open(&path)
            .unwrap()
            .query_row("PRAGMA schema_version", [], |r| r.get(0))
            .unwrap();
        let output = shell(&path, &(apply_script(&schema) + &apply_script(&schema)));
        let versions: Vec<&str> = output.lines().filter(|l| l.starts_with("version ")).collect();
        assert_eq!(versions.len(), 2, "{output}");
        assert_eq!(
            versions[0], versions[1],
            "re-applying changed the schema: {schema}"
        );
        let has_tables = !serde_json::from_str::<serde_json::Value>(&schema).unwrap()["tables"]
            .as_array()
            .unwrap()
            .is_empty();
        assert_eq!(versions[0] != format!("version {before}"), has_tables, "{output}");

        // The same DDL as the reference's.
        let ours = common::master(&rusqlite::Connection::open(&path).unwrap());
        let reference = common::open_reference("reference");
        let theirs = reference.ask("replace and master", &schema, |c| {
            c.execute_batch("BEGIN").unwrap();
            replace(c, &schema).unwrap();
            common::raw_master(c)
        });
        assert_eq!(ours, theirs, "{schema}");

        // A failing schema leaves the database unchanged.
        let failing = json!({"tables": [{"name": "d", "columns": []}, {"name": "d", "columns": []}]});
        let output = shell(&path, &apply_script(&failing.to_string()));
        assert!(output.contains("table \"ps_data__d\" already exists"), "{output}");
        let output = shell(&path, VERSION);
        assert_eq!(output.trim(), versions[1]);
        assert_eq!(common::master(&rusqlite::Connection::open(&path).unwrap()), ours);
        std::fs::remove_file(&path).unwrap();
    }
    common::report("schema on SQLite 3.40", schemas.len());
}
