//! `ps_kv` access: client id, write-gate keys and the checkpoint-request commands (docs/protocol.md#the-write-gate, docs/protocol.md#checkpoint-requests).

use super::exec;
use crate::error::{PowerSyncError, Result, SqlResultExt};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

/// Key of the write-gate target.
pub const TARGET: &str = "target_checkpoint_request_id";
/// Key of the checkpoint-request counter.
pub const REQUESTED: &str = "last_requested_checkpoint_request_id";

fn as_int(v: Value) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(i),
        // Values that overflowed into REAL (the counter at i64::MAX) saturate, as in the
        // reference.
        Value::Real(r) => Some(r as i64),
        Value::Null => None,
        Value::Text(t) => Some(t.trim().parse::<i64>().unwrap_or(0)),
        Value::Blob(_) => Some(0),
    }
}

/// `ps_kv[key]` as an integer.
pub fn get_int(conn: &Connection, key: &str) -> Result<Option<i64>> {
    const SQL: &str = "SELECT value FROM ps_kv WHERE key = ?1";
    let v: Option<Value> = conn
        .prepare_cached(SQL)
        .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
        .sql_context(SQL)?;
    Ok(v.and_then(as_int))
}

/// Stores an INTEGER value.
pub fn set_int(conn: &Connection, key: &str, value: i64) -> Result<()> {
    exec(
        conn,
        "INSERT INTO ps_kv(key, value)\nVALUES(?1, ?2)\nON CONFLICT(key) DO UPDATE SET value = excluded.value",
        rusqlite::params![key, value],
    )
    .map(drop)
}

/// `ps_kv['client_id']`.
pub fn client_id(conn: &Connection) -> Result<String> {
    const SQL: &str = "SELECT value FROM ps_kv WHERE key = 'client_id'";
    let v: Option<Value> = conn
        .prepare_cached(SQL)
        .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
        .sql_context(SQL)?;
    match v {
        Some(Value::Text(t)) => Ok(t),
        Some(Value::Blob(b)) => Ok(String::from_utf8_lossy(&b).into_owned()),
        Some(Value::Integer(i)) => Ok(i.to_string()),
        Some(Value::Real(r)) => Ok(r.to_string()),
        Some(Value::Null) | None => Err(PowerSyncError::MissingClientId),
    }
}

/// Decodes a checkpoint-request payload (docs/protocol.md#request-id-payloads): `None` for NULL.
pub fn parse_id(arg: rusqlite::types::ValueRef<'_>, type_error: &str) -> Result<Option<i64>> {
    use rusqlite::types::ValueRef;
    match arg {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(i) => Ok(Some(i)),
        ValueRef::Text(t) => std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .map(Some)
            .ok_or_else(|| PowerSyncError::argument(type_error)),
        _ => Err(PowerSyncError::argument(type_error)),
    }
}

/// `seed_checkpoint_request_id`: stores `n` (> 0) as the counter.
pub fn seed(conn: &Connection, arg: rusqlite::types::ValueRef<'_>) -> Result<i64> {
    const TYPE: &str = "checkpoint request id must be an integer or integer string";
    let n = parse_id(arg, TYPE)?.ok_or_else(|| PowerSyncError::argument(TYPE))?;
    // The reference rejects negatives and 0 with different texts.
    if n < 0 {
        return Err(PowerSyncError::argument(
            "checkpoint request id must be a non-negative integer",
        ));
    }
    if n == 0 {
        return Err(PowerSyncError::argument(
            "checkpoint request id must be a positive integer",
        ));
    }
    set_int(conn, REQUESTED, n)?;
    Ok(n)
}

/// `next_checkpoint_request_id`: increments the counter.
pub fn next(conn: &Connection) -> Result<i64> {
    const SQL: &str = "UPDATE ps_kv SET value = CAST(value AS INTEGER) + 1 WHERE key = 'last_requested_checkpoint_request_id' RETURNING value";
    let v: Option<Value> = conn
        .prepare_cached(SQL)
        .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
        .sql_context(SQL)?;
    v.and_then(as_int)
        .ok_or_else(|| PowerSyncError::state("Checkpoint request state has not been seeded"))
}

/// `target_checkpoint_request_id`: NULL reads, 0 deletes, n stores; returns the previous.
pub fn target(conn: &Connection, arg: rusqlite::types::ValueRef<'_>) -> Result<Option<i64>> {
    let n = parse_id(
        arg,
        "target checkpoint request id must be an integer, integer string, or null",
    )?;
    if n.is_some_and(|n| n < 0) {
        return Err(PowerSyncError::argument(
            "target checkpoint request id must be a non-negative integer",
        ));
    }
    let previous = get_int(conn, TARGET)?;
    match n {
        None => {}
        Some(0) => {
            exec(conn, "DELETE FROM ps_kv WHERE key = ?1", [TARGET])?;
        }
        Some(n) => set_int(conn, TARGET, n)?,
    }
    Ok(previous)
}
