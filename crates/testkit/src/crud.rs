//! Helpers of the CRUD and utility differential suites: statements run to completion with
//! their outcome (rows or error, invalid UTF-8 kept comparable), scripts compared on both
//! implementations, the upload queue's tables.

use crate::oracle::{Db, RefConn};
use crate::sql::{error_of, SqlError};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

/// Rows of a statement, or its (extended code, message) error.
pub type Outcome = Result<Vec<Vec<Value>>, SqlError>;

/// Runs one statement to completion and returns all its rows or the error (at prepare or
/// step time).
pub fn run(conn: &impl Db, sql: &str) -> Outcome {
    conn.ask("run", sql, |c| run_with(c, sql, []))
}

/// Like [`run`] with bound parameters.
pub fn run_with<P: rusqlite::Params>(conn: &Connection, sql: &str, params: P) -> Outcome {
    let mut stmt = conn.prepare(sql).map_err(|e| error_of::<()>(Err(e)).unwrap())?;
    let n = stmt.column_count();
    let mut rows = stmt.query(params).map_err(|e| error_of::<()>(Err(e)).unwrap())?;
    let mut out = Vec::new();
    loop {
        match rows.next() {
            Ok(Some(row)) => out.push((0..n).map(|i| value(row.get_ref(i).unwrap())).collect()),
            Ok(None) => return Ok(out),
            Err(e) => return Err(error_of::<()>(Err(e)).unwrap()),
        }
    }
}

/// An owned value; TEXT that is not valid UTF-8 (SQLite allows it) becomes a tagged BLOB so
/// that it can still be compared.
pub fn value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => Value::Text(s.to_string()),
            Err(_) => Value::Blob([b"<invalid utf-8 text>".as_slice(), t].concat()),
        },
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// Runs `sql` on both connections and asserts identical outcomes.
/// Returns whether the statement succeeded.
pub fn same(ours: &Connection, reference: &RefConn, sql: &str) -> bool {
    same_outcome(ours, reference, sql).is_ok()
}

/// Like [`same`], returning the (common) outcome.
pub fn same_outcome(ours: &Connection, reference: &RefConn, sql: &str) -> Outcome {
    let a = run(ours, sql);
    let b = run(reference, sql);
    assert_eq!(a, b, "different outcome for: {sql}");
    a
}

/// Runs each statement of `script` (separated by lines containing only `;;`) on both
/// connections, comparing outcomes. Returns the number of statements compared.
pub fn same_script(ours: &Connection, reference: &RefConn, script: &str) -> usize {
    let mut n = 0;
    for sql in script.split("\n;;\n").map(str::trim).filter(|s| !s.is_empty()) {
        same(ours, reference, sql);
        n += 1;
    }
    n
}

/// The contents of the CRUD-related internal tables (ps_kv without the random client id),
/// for comparing both implementations after a sequence of writes.
pub fn crud_state(conn: &impl Db) -> Vec<(String, Vec<Vec<Value>>)> {
    conn.ask("crud_state", "", raw_crud_state)
}

fn raw_crud_state(conn: &Connection) -> Vec<(String, Vec<Vec<Value>>)> {
    let mut out = Vec::new();
    for (name, sql) in [
        ("ps_crud", "SELECT id, data, tx_id FROM ps_crud ORDER BY id"),
        ("ps_tx", "SELECT * FROM ps_tx ORDER BY id"),
        (
            "ps_kv",
            "SELECT key, value, typeof(value) FROM ps_kv WHERE key != 'client_id' ORDER BY key",
        ),
        (
            "ps_updated_rows",
            "SELECT row_type, row_id, typeof(row_type), typeof(row_id) FROM ps_updated_rows ORDER BY row_type, row_id",
        ),
        ("sqlite_sequence", "SELECT * FROM sqlite_sequence ORDER BY name"),
    ] {
        out.push((name.to_string(), run(conn, sql).unwrap_or_default()));
    }
    out
}
