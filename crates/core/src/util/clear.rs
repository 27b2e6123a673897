//! `powersync_clear(flags)` and `powersync_trigger_resync(clear_progress)` (spec §10.7–10.8).
//!
//! Statement texts and their grouping into `sqlite3_exec` scripts follow the reference
//! exactly: they appear in error messages, and the update hook reports depend on which
//! statements delete row by row.

use crate::error::{PowerSyncError, Result, SqlResultExt};
use crate::sql_fn::{self, Output};
use crate::state::ConnectionState;
use crate::util::exec::exec;
use crate::util::sqlite_value::int_of;
use rusqlite::Connection;
use std::sync::Arc;

/// Bit 1 of the `powersync_clear` argument: also clear local-only tables.
const CLEAR_LOCAL: i32 = 1;
/// Bit 2: keep downloaded buckets and oplog, only force re-application.
const SOFT_CLEAR: i32 = 2;

/// Clears synced (and optionally local) data. See the module docs for the exact steps.
pub fn clear(conn: &Connection, state: &ConnectionState, flags: i32) -> Result<()> {
    if flags & SOFT_CLEAR == 0 {
        exec(conn, "DELETE FROM ps_oplog; DELETE FROM ps_buckets")?;
    } else {
        reset_applied_ops(conn, state)?;
    }
    exec(
        conn,
        "DELETE FROM ps_crud;\nDELETE FROM ps_untyped;\nDELETE FROM ps_updated_rows;\nDELETE FROM ps_kv WHERE key != 'client_id';\nDELETE FROM ps_stream_subscriptions;\n",
    )?;
    clear_progress(conn)?;

    let glob = if flags & CLEAR_LOCAL != 0 {
        "ps_data_*"
    } else {
        "ps_data__*"
    };
    const TABLES: &str = "SELECT name FROM sqlite_master WHERE type='table' AND name GLOB ?1";
    let tables: Vec<String> = {
        let mut stmt = conn.prepare(TABLES).sql_context(TABLES)?;
        let names = stmt
            .query_map([glob], |r| r.get(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<_>>());
        names.sql_context(TABLES)?
    };
    for name in tables {
        let table = quote_identifier(&name);
        // Deleting one row first makes the update hook report the table; the unconditional
        // DELETE then uses SQLite's truncate optimization, which reports nothing.
        exec(
            conn,
            &format!(
                "DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} LIMIT 1);\nDELETE FROM {table};"
            ),
        )?;
    }
    clear_raw_tables(conn, state)
}

/// Runs each raw table's `clear` statement of the schema installed on this connection, with
/// `in_sync_local` set so that CRUD triggers and virtual tables ignore the deletions.
fn clear_raw_tables(_conn: &Connection, _state: &ConnectionState) -> Result<()> {
    // PENDING(schema branch): iterate `state.schema` raw tables once the `Schema` type has
    // landed; for each table with a `clear` statement:
    //   state.while_syncing_local(|| exec(conn, clear))
    //       .map_err(|e| e.with_context(format!("Clearing raw table {name}")))?;
    Ok(())
}

/// `UPDATE ps_buckets SET last_applied_op = 0`, refused while a sync iteration runs (its
/// in-memory view of applied ops would go stale).
fn reset_applied_ops(conn: &Connection, state: &ConnectionState) -> Result<()> {
    let active = state
        .sync
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iteration_active();
    if active {
        return Err(PowerSyncError::argument(
            "Cannot clear or trigger resync while a sync iteration is active.",
        ));
    }
    exec(conn, "UPDATE ps_buckets SET last_applied_op = 0")
}

/// Forgets when buckets and streams were last synced.
fn clear_progress(conn: &Connection) -> Result<()> {
    exec(conn, "DELETE FROM ps_sync_state;")?;
    exec(conn, "UPDATE ps_stream_subscriptions SET last_synced_at = NULL")
}

/// Makes the next sync application re-apply every downloaded operation.
pub fn trigger_resync(conn: &Connection, state: &ConnectionState, clear: bool) -> Result<()> {
    reset_applied_ops(conn, state)?;
    if clear {
        clear_progress(conn)?;
    }
    Ok(())
}

/// `"name"` with embedded quotes doubled.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Registers `powersync_clear` and `powersync_trigger_resync` (no flags, transaction only).
pub fn register(conn: &Connection, state: &Arc<ConnectionState>) -> Result<()> {
    let s = state.clone();
    sql_fn::register(conn, "powersync_clear", 1, 0, move |call| {
        call.require_transaction()?;
        clear(&call.connection(), &s, int_of(call.arg(0)))?;
        Ok(Output::Text(String::new()))
    })?;
    let s = state.clone();
    sql_fn::register(conn, "powersync_trigger_resync", 1, 0, move |call| {
        call.require_transaction()?;
        trigger_resync(&call.connection(), &s, int_of(call.arg(0)) != 0)?;
        Ok(Output::Text(String::new()))
    })
}
