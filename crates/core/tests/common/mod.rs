//! Shared harness for integration and differential tests.
//!
//! Differential tests run the same input through our implementation and through the reference
//! extension (PowerSync core v0.5.4, built from crates.io by `scripts/build-reference.sh`), then
//! compare results. When the reference cannot be built they print a loud SKIPPED line.
#![allow(dead_code)]

use rusqlite::types::Value;
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The workspace root.
pub(crate) fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The reference's recorded sync sessions (two sessions recorded from the reference binary, kept in
/// the repository so the tests do not depend on anything outside it).
pub(crate) fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/goldens")
}

/// Path of the reference extension, building it on first use. `None` if unavailable.
pub(crate) fn reference_path() -> Option<PathBuf> {
    static PATH: OnceLock<Option<PathBuf>> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Ok(p) = std::env::var("POWERSYNC_REFERENCE") {
            return Some(PathBuf::from(p));
        }
        let root = workspace_root();
        let file = root.join("target/reference/libpowersync.so");
        if !file.exists() {
            let status = std::process::Command::new("bash")
                .arg(root.join("scripts/build-reference.sh"))
                .status();
            if !matches!(status, Ok(s) if s.success()) {
                eprintln!("!!! SKIPPED: the reference extension (core 0.5.4) could not be built (scripts/build-reference.sh); differential tests do not run !!!");
                return None;
            }
        }
        Some(file)
    })
    .clone()
}

/// Which implementation a connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Impl {
    /// Ours, registered through `powersync_core::register`.
    Ours,
    /// The reference binary, loaded as an extension.
    Reference,
}

/// Opens an in-memory connection with our implementation registered.
pub(crate) fn open_ours() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    powersync_core::register(&conn).unwrap();
    conn
}

/// Opens an in-memory connection with the reference loaded, if available.
pub(crate) fn open_reference() -> Option<Connection> {
    let path = reference_path()?;
    let conn = Connection::open_in_memory().unwrap();
    load_extension(&conn, &path);
    Some(conn)
}

/// Opens a connection for `which` (panics if the reference is unavailable).
pub(crate) fn open(which: Impl) -> Connection {
    match which {
        Impl::Ours => open_ours(),
        Impl::Reference => open_reference().expect("reference unavailable"),
    }
}

/// Opens a file database for `which`.
pub(crate) fn open_file(which: Impl, path: &std::path::Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    match which {
        Impl::Ours => powersync_core::register(&conn).unwrap(),
        Impl::Reference => load_extension(&conn, &reference_path().unwrap()),
    }
    conn
}

/// Loads a SQLite extension library into `conn`.
pub(crate) fn load_extension(conn: &Connection, path: &std::path::Path) {
    // SAFETY: test-only loading of a trusted extension library.
    unsafe {
        let _guard = rusqlite::LoadExtensionGuard::new(conn).unwrap();
        conn.load_extension(path, Some("sqlite3_powersync_init")).unwrap();
    }
}

/// Both implementations, or `None` (after a loud skip message) when the reference is missing.
pub(crate) fn both() -> Option<(Connection, Connection)> {
    let reference = open_reference()?;
    Some((open_ours(), reference))
}

/// Records the number of cases a differential suite compared. Test output is captured for
/// passing tests, so the line also goes to `target/differential-cases.txt`, which
/// `scripts/test.sh` prints at the end of the run.
pub(crate) fn report(suite: &str, cases: usize) {
    use std::io::Write;
    let line = format!("differential suite {suite}: {cases} cases compared, 0 differences");
    println!("{line}");
    let path = workspace_root().join("target/differential-cases.txt");
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(file, "{line}");
    }
}

/// All rows of `sqlite_master` except internal sqlite objects, ordered by type and name.
pub(crate) fn master(conn: &Connection) -> Vec<(String, String, String, Option<String>)> {
    let mut stmt = conn
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Runs a query and returns all values, row by row.
pub(crate) fn rows(conn: &Connection, sql: &str) -> Vec<Vec<Value>> {
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The (extended code, message) of an SQLite error, or `None` on success.
pub(crate) fn error_of<T>(result: rusqlite::Result<T>) -> Option<(i32, String)> {
    match result {
        Ok(_) => None,
        Err(rusqlite::Error::SqliteFailure(e, msg)) => Some((e.extended_code, msg.unwrap_or_default())),
        Err(other) => Some((-1, other.to_string())),
    }
}

/// Runs `sql` (one statement returning one value) and returns the value or the error.
pub(crate) fn eval(conn: &Connection, sql: &str) -> Result<Value, (i32, String)> {
    conn.query_row(sql, [], |r| r.get::<_, Value>(0))
        .map_err(|e| error_of::<()>(Err(e)).unwrap())
}

/// Every table of the database with all its rows (sorted), excluding `sqlite_*` tables.
/// Use `normalize` to blank out values that differ by nature (client ids, timestamps).
pub(crate) fn dump_tables(conn: &Connection) -> Vec<(String, Vec<Vec<Value>>)> {
    let names: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    names
        .into_iter()
        .map(|name| {
            let quoted = format!("\"{}\"", name.replace('"', "\"\""));
            let mut data = rows(conn, &format!("SELECT * FROM {quoted}"));
            data.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            (name, data)
        })
        .collect()
}
