//! SQL helpers of the differential tests, one copy for both sides: each works on our
//! connection directly and on the reference through its cassette ([`Db`]).

use crate::oracle::{self, Db, RefConn};
use rusqlite::types::Value;
use rusqlite::Connection;

/// An SQLite error as the tests compare it: (extended code, message).
pub type SqlError = (i32, String);

/// Opens an in-memory connection with our implementation registered.
pub fn open_ours() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    powersync_core::register(&conn).unwrap();
    conn
}

/// Opens an in-memory database on the reference (or its recording), named `label` within
/// the running test.
pub fn open_reference(label: &str) -> RefConn {
    RefConn::open(label)
}

/// Both implementations: ours, and the reference named `label`.
pub fn both(label: &str) -> (Connection, RefConn) {
    (open_ours(), open_reference(label))
}

/// Which implementation a connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    /// Ours, registered through `powersync_core::register`.
    Ours,
    /// The reference binary, loaded as an extension.
    Reference,
}

/// Opens a file database for `which` (the reference must be available: see
/// [`oracle::reference_path`]).
pub fn open_file(which: Impl, path: &std::path::Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    match which {
        Impl::Ours => powersync_core::register(&conn).unwrap(),
        Impl::Reference => oracle::load_extension(&conn, &oracle::reference_path().unwrap()),
    }
    conn
}

/// The (extended code, message) of an SQLite error, or `None` on success.
pub fn error_of<T>(result: rusqlite::Result<T>) -> Option<SqlError> {
    match result {
        Ok(_) => None,
        Err(rusqlite::Error::SqliteFailure(e, msg)) => Some((e.extended_code, msg.unwrap_or_default())),
        Err(other) => Some((-1, other.to_string())),
    }
}

/// Runs a query and returns all values, row by row (panics on an error).
pub fn rows(conn: &impl Db, sql: &str) -> Vec<Vec<Value>> {
    conn.ask("rows", sql, |c| raw_rows(c, sql))
}

/// [`rows`] on a connection, unrecorded.
pub fn raw_rows(conn: &Connection, sql: &str) -> Vec<Vec<Value>> {
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Runs a query and returns all values or the error.
pub fn try_rows(conn: &impl Db, sql: &str) -> Result<Vec<Vec<Value>>, SqlError> {
    conn.ask("try_rows", sql, |c| raw_try_rows(c, sql))
}

/// [`try_rows`] on a connection, unrecorded.
pub fn raw_try_rows(conn: &Connection, sql: &str) -> Result<Vec<Vec<Value>>, SqlError> {
    let run = || -> rusqlite::Result<Vec<Vec<Value>>> {
        let mut stmt = conn.prepare(sql)?;
        let n = stmt.column_count();
        let rows = stmt.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())?;
        rows.collect()
    };
    run().map_err(|e| error_of::<()>(Err(e)).unwrap())
}

/// Runs `sql` (one statement returning one value) and returns the value or the error.
pub fn eval(conn: &impl Db, sql: &str) -> Result<Value, SqlError> {
    conn.ask("eval", sql, |c| raw_eval(c, sql))
}

/// [`eval`] on a connection, unrecorded.
pub fn raw_eval(conn: &Connection, sql: &str) -> Result<Value, SqlError> {
    conn.query_row(sql, [], |r| r.get::<_, Value>(0))
        .map_err(|e| error_of::<()>(Err(e)).unwrap())
}

/// Runs statements (`execute_batch`) and returns the error, if any.
pub fn exec(conn: &impl Db, sql: &str) -> Result<(), SqlError> {
    conn.ask("exec", sql, |c| raw_exec(c, sql))
}

/// [`exec`] on a connection, unrecorded.
pub fn raw_exec(conn: &Connection, sql: &str) -> Result<(), SqlError> {
    conn.execute_batch(sql)
        .map_err(|e| error_of::<()>(Err(e)).unwrap())
}

/// A row of `sqlite_master`: type, name, table name, SQL.
pub type MasterRow = (String, String, String, Option<String>);

/// All rows of `sqlite_master`, ordered by type and name.
pub fn master(conn: &impl Db) -> Vec<MasterRow> {
    conn.ask("master", "", raw_master)
}

/// [`master`] on a connection, unrecorded.
pub fn raw_master(conn: &Connection) -> Vec<MasterRow> {
    let mut stmt = conn
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A table's name and its rows.
pub type TableDump = (String, Vec<Vec<Value>>);

/// Every table of the database with all its rows (sorted), excluding `sqlite_*` tables.
pub fn dump_tables(conn: &impl Db) -> Vec<TableDump> {
    conn.ask("dump_tables", "", raw_dump_tables)
}

/// [`dump_tables`] on a connection, unrecorded.
pub fn raw_dump_tables(conn: &Connection) -> Vec<TableDump> {
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
            let mut data = raw_rows(conn, &format!("SELECT * FROM {quoted}"));
            data.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            (name, data)
        })
        .collect()
}

/// Every table's rows except the client id, for whole-database comparisons.
pub fn all_data(conn: &impl Db) -> Vec<TableDump> {
    conn.ask("all_data", "", raw_all_data)
}

/// [`all_data`] on a connection, unrecorded.
pub fn raw_all_data(conn: &Connection) -> Vec<TableDump> {
    raw_dump_tables(conn)
        .into_iter()
        .map(|(name, mut rows)| {
            if name == "ps_kv" {
                rows.retain(|r| r[0] != Value::Text("client_id".into()));
            }
            (name, rows)
        })
        .collect()
}

/// Number of statements of `conn` that are mid-step (`sqlite3_stmt_busy`); must be 0 after
/// every call.
pub fn busy_statements(conn: &impl Db) -> usize {
    conn.ask("busy_statements", "", raw_busy_statements)
}

/// [`busy_statements`] on a connection, unrecorded.
pub fn raw_busy_statements(conn: &Connection) -> usize {
    let mut n = 0;
    // SAFETY: walking the statement list of a live connection on its own thread; the
    // pointers are only passed back to SQLite.
    unsafe {
        let db = conn.handle();
        let mut stmt = rusqlite::ffi::sqlite3_next_stmt(db, std::ptr::null_mut());
        while !stmt.is_null() {
            if rusqlite::ffi::sqlite3_stmt_busy(stmt) != 0 {
                n += 1;
            }
            stmt = rusqlite::ffi::sqlite3_next_stmt(db, stmt);
        }
    }
    n
}

/// A value as a request string names it.
pub fn value_key(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Integer(i) => format!("int:{i}"),
        Value::Real(f) => format!("real:{f:?}"),
        Value::Text(t) => format!("text:{t}"),
        Value::Blob(b) => format!(
            "blob:{}",
            b.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}

/// Runs `f` on our connection and on the reference (recorded as `request`, which must name
/// every input of `f`); returns both answers.
pub fn each<T: oracle::Answer>(
    ours: &Connection,
    reference: &RefConn,
    request: &str,
    f: impl Fn(&Connection) -> T,
) -> (T, T) {
    let a = f(ours);
    let b = reference.ask("each", request, &f);
    (a, b)
}
