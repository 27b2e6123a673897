//! Migrations under the system `sqlite3` shell (Debian's SQLite 3.40, older than the reference
//! supports), with the loadable library: `ALTER TABLE ADD/DROP COLUMN` must rewrite DDL text
//! exactly as newer SQLite versions do, and every query we run must exist in 3.40 (`->>`,
//! `unixepoch`). Results are compared with the reference's recorded fixtures.
//!
//! `scripts/test.sh` builds the library before running the tests. Paths through version 3
//! from scratch need `uuid()` (util module) and are covered by `tests/differential/migrations.rs`.
use crate::common;

use serde_json::Value as Json;
use std::process::Command;

fn fixtures() -> Json {
    serde_json::from_str(include_str!("../migrations_fixtures/migration-fixtures.json")).unwrap()
}

fn at(f: &Json, key: &str, version: i64) -> String {
    f[key]["items"][version.to_string()].as_str().unwrap().to_string()
}

/// Schema and `ps_migration` rows in the fixtures' format, as one JSON array of `{"e": …}`.
const SCHEMA: &str = "SELECT rtrim(sql, char(10)) AS e FROM sqlite_master \
    WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' \
    UNION ALL SELECT 'INSERT INTO ps_migration(id, down_migrations) VALUES(' || id || ', ' || \
    iif(down_migrations IS NULL, 'null', quote(down_migrations)) || ')' FROM ps_migration;";

/// The data tables the fixtures record (`ps_updated_rows` exists from version 5).
fn data_queries(with_updated_rows: bool) -> String {
    let mut q = "SELECT * FROM ps_buckets ORDER BY name;\nSELECT * FROM ps_oplog ORDER BY bucket, op_id;\n"
        .to_string();
    if with_updated_rows {
        q.push_str("SELECT * FROM ps_updated_rows ORDER BY row_type, row_id;\n");
    }
    q
}

/// Runs `script` in the shell (with or without our library) and returns the JSON result of
/// each query printed in `.mode json`.
fn shell(load: bool, script: &str) -> Vec<Json> {
    let mut cmd = if load {
        crate::shell_with_library(":memory:")
    } else {
        let mut cmd = Command::new("sqlite3");
        cmd.arg("-batch").arg(":memory:");
        cmd
    };
    let out = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(script.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.is_empty(), "{stderr}\n{script}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    // Empty results print nothing; every other query prints one JSON array.
    stdout
        .trim()
        .replace("]\n[", "]\u{0}[")
        .split('\u{0}')
        .filter(|s| !s.is_empty())
        .map(|s| serde_json::from_str(s).unwrap())
        .collect()
}

fn statements(parts: &[String]) -> String {
    parts
        .iter()
        .map(|s| format!("{};\n", s.trim_end().trim_end_matches(';')))
        .collect()
}

fn sorted_entries(schema: &Json) -> Vec<String> {
    let mut v: Vec<String> = schema
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["e"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn fixture_entries(dump: &str) -> Vec<String> {
    let dump = dump.trim();
    let mut v: Vec<String> = dump
        .strip_prefix(';')
        .unwrap_or(dump)
        .split("\n;")
        .map(|s| s.trim_end().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    v.sort();
    v
}

/// Runs `steps` with our library, returns the schema entries and the data query results.
fn ours(steps: &[String], data: Option<bool>) -> (Vec<String>, Vec<Json>) {
    let mut script = format!("BEGIN;\n{}.mode json\n{SCHEMA}\n", statements(steps));
    if let Some(updated_rows) = data {
        script.push_str(&data_queries(updated_rows));
    }
    let mut results = shell(true, &script);
    let schema = results.remove(0);
    (sorted_entries(&schema), results)
}

/// The data a fixture describes, read back through the plain shell.
fn expected_data(schema: &str, data: &str, updated_rows: bool) -> Vec<Json> {
    shell(
        false,
        &format!(
            "{}.mode json\n{}",
            statements(&[schema.to_string(), data.to_string()]),
            data_queries(updated_rows)
        ),
    )
}

#[test]
fn migrations_on_sqlite_3_40() {
    if Command::new("sqlite3").arg("--version").output().is_err() {
        common::report_skipped(
            "migrations_sqlite340",
            "no sqlite3 shell on this machine (apt-get install sqlite3)",
        );
        return;
    }
    let f = fixtures();
    let final_state = f["finalState"].as_str().unwrap().to_string();
    let final_data = f["finalData1"].as_str().unwrap().to_string();
    let init = "SELECT powersync_init()".to_string();
    let mut cases = 0;

    for v in 3..=14 {
        let (schema, _) = ours(&[at(&f, "expectedState", v), init.clone()], None);
        assert_eq!(schema, fixture_entries(&final_state), "state {v} -> 14");
        let (schema, data) = ours(
            &[at(&f, "expectedState", v), at(&f, "data1", v), init.clone()],
            Some(true),
        );
        assert_eq!(schema, fixture_entries(&final_state), "data1 at {v} -> 14");
        assert_eq!(
            data,
            expected_data(&final_state, &final_data, true),
            "data1 at {v} -> 14"
        );
        cases += 2;
    }
    for v in 2..=13 {
        let migrate = format!("SELECT powersync_test_migration({v})");
        let (schema, data) = ours(
            &[final_state.clone(), final_data.clone(), migrate.clone()],
            Some(v >= 5),
        );
        assert_eq!(schema, fixture_entries(&at(&f, "expectedState", v)), "14 -> {v}");
        assert_eq!(
            data,
            expected_data(&at(&f, "expectedState", v), &at(&f, "dataDown1", v), v >= 5),
            "data 14 -> {v}"
        );
        cases += 1;
        if v >= 3 {
            let (schema, _) = ours(&[final_state.clone(), migrate, init.clone()], None);
            assert_eq!(schema, fixture_entries(&final_state), "14 -> {v} -> 14");
            cases += 1;
        }
    }

    // Old-style views: kept without their triggers.
    let (schema, _) = ours(
        &[
            at(&f, "expectedState", 3),
            f["schema3"].as_str().unwrap().to_string(),
            at(&f, "data1", 3),
            init.clone(),
        ],
        None,
    );
    assert!(!schema.iter().any(|e| e.starts_with("CREATE TRIGGER")));
    assert!(schema.iter().any(|e| e.starts_with("CREATE VIEW \"lists\"")));

    // Version 13's timestamp conversion uses unixepoch (3.38+).
    let results = shell(
        true,
        &format!(
            "BEGIN;\n{}\n.mode json\nSELECT * FROM ps_sync_state;\n",
            statements(&[
                at(&f, "expectedState", 12),
                "INSERT INTO ps_sync_state VALUES (1, '2024-01-02 03:04:05')".into(),
                init,
            ])
        ),
    );
    assert_eq!(
        results.last().unwrap(),
        &serde_json::json!([{"priority": 1, "last_synced_at": 1_704_164_645_000_000i64}])
    );
    eprintln!("migrations on the system SQLite: {} cases", cases + 2);
}
