//! Tests of the loadable library (`target/release/libpowersync.so`) as a loadable library:
//! loaded into a bundled-SQLite connection (compared with the reference's registrations) and
//! into the system `sqlite3` shell (Debian's SQLite 3.40, which the reference refuses).
//!
//! `scripts/test.sh` builds the library before running the tests.
use crate::common;

use std::process::Command;

const FUNCTIONS: &str = "SELECT name, type, enc, narg, flags FROM pragma_function_list \
     WHERE name LIKE 'powersync%' OR name IN ('uuid', 'gen_random_uuid') ORDER BY name, narg";
const MODULES: &str = "SELECT name FROM pragma_module_list WHERE name LIKE 'powersync%' ORDER BY name";

#[test]
fn loads_into_bundled_sqlite_with_the_reference_surface() {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    common::load_extension(&conn, &crate::library());
    let version: String = conn
        .query_row("SELECT powersync_rs_version()", [], |r| r.get(0))
        .unwrap();
    assert!(version.starts_with("0.5.4/"));
    let reference = common::open_reference("reference");
    let ours = common::rows(&conn, FUNCTIONS);
    let theirs = common::rows(&reference, FUNCTIONS);
    assert_eq!(
        ours, theirs,
        "registered functions (name, type, enc, narg, flags) differ"
    );
    assert_eq!(common::rows(&conn, MODULES), common::rows(&reference, MODULES));
    common::report("loadable_registration", ours.len() + 1);
}

fn sqlite3_shell() -> Option<String> {
    let out = Command::new("sqlite3").arg("--version").output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn loads_into_the_system_sqlite3_shell() {
    let Some(version) = sqlite3_shell() else {
        common::report_skipped(
            "loadable",
            "no sqlite3 shell on this machine (apt-get install sqlite3)",
        );
        return;
    };
    eprintln!("system sqlite3: {version}");
    let script = r#"
SELECT powersync_rs_version() LIKE '0.5.4/%';
BEGIN;
SELECT powersync_init();
SELECT powersync_replace_schema('{"tables":[{"name":"items","columns":[{"name":"name","type":"TEXT"},{"name":"n","type":"INTEGER"}]}]}');
COMMIT;
INSERT INTO items(id, name, n) VALUES ('i1', 'first', 1);
UPDATE items SET n = 2 WHERE id = 'i1';
DELETE FROM items WHERE id = 'i1';
SELECT tx_id, data FROM ps_crud ORDER BY id;
SELECT max(id) FROM ps_migration;
SELECT powersync_diff('{"a":1}', '{"a":2,"b":null}');
"#;
    let out = crate::shell_with_library(":memory:")
        .arg(script)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "sqlite3 failed: {stderr}");
    assert_eq!(
        stdout,
        "1\n\n\n\
         1|{\"op\":\"PUT\",\"id\":\"i1\",\"type\":\"items\",\"data\":{\"n\":1,\"name\":\"first\"}}\n\
         2|{\"op\":\"PATCH\",\"id\":\"i1\",\"type\":\"items\",\"data\":{\"n\":2}}\n\
         3|{\"op\":\"DELETE\",\"id\":\"i1\",\"type\":\"items\"}\n\
         14\n\
         {\"a\":2}\n"
    );
    common::report("sqlite3_shell", 1);
}
