//! `powersync_clear(flags)` and `powersync_trigger_resync(clear_progress)` (docs/sql-surface.md#powersync_clear).
//!
//! Statement texts and their grouping into `sqlite3_exec` scripts follow the reference
//! exactly: they appear in error messages, and the update hook reports depend on which
//! statements delete row by row.

use crate::error::{PowerSyncError, Result};
use crate::migrations::exec_script as exec;
use crate::schema::ExistingTable;
use crate::sql_fn::{self, Output};
use crate::state::ConnectionState;
use crate::util::sqlite_value::int_of;
use rusqlite::Connection;
use std::sync::Arc;

/// Bit 1 of the `powersync_clear` argument: also clear local-only tables.
const CLEAR_LOCAL: i32 = 1;
/// Bit 2: keep downloaded buckets and oplog, only force re-application.
const SOFT_CLEAR: i32 = 2;

/// Clears synced (and optionally local) data. See the module docs for the exact steps.
pub(crate) fn clear(conn: &Connection, state: &ConnectionState, flags: i32) -> Result<()> {
    if flags & SOFT_CLEAR == 0 {
        // Refused from inside powersync_control (e.g. a trigger during an apply): deleting the
        // ops that call is applying would leave it working on a half-cleared state.
        drop(state.lock_sync("powersync_clear")?);
        exec(conn, "DELETE FROM ps_oplog; DELETE FROM ps_buckets")?;
    } else {
        reset_applied_ops(conn, state)?;
    }
    exec(
        conn,
        "DELETE FROM ps_crud;\nDELETE FROM ps_untyped;\nDELETE FROM ps_updated_rows;\nDELETE FROM ps_kv WHERE key != 'client_id';\nDELETE FROM ps_stream_subscriptions;\n",
    )?;
    clear_progress(conn)?;

    // Tables are emptied as if the sync client wrote: direct and raw tables have triggers on
    // the table itself, which must not queue CRUD entries for these deletions.
    state.while_syncing_local(|| {
        // JSON data tables by prefix, and direct tables (marked user tables included).
        let tables = ExistingTable::list(conn, false)?;
        for table in tables {
            if table.local_only && flags & CLEAR_LOCAL == 0 {
                continue;
            }
            let table = quote_identifier(&table.internal);
            // Deleting one row first makes the update hook report the table; the
            // unconditional DELETE then uses SQLite's truncate optimization, which reports
            // nothing.
            exec(
                conn,
                &format!(
                    "DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} LIMIT 1);\nDELETE FROM {table};"
                ),
            )?;
        }
        clear_raw_tables(conn, state)
    })
}

/// Runs each raw table's `clear` statement of the schema installed on this connection (the
/// caller sets `in_sync_local`, so that CRUD triggers and virtual tables ignore the
/// deletions).
///
/// Only the schema passed to `powersync_replace_schema` on this connection counts; without
/// one, raw tables are not cleared (as with the reference).
fn clear_raw_tables(conn: &Connection, state: &ConnectionState) -> Result<()> {
    // Copied out so that no lock is held while running user SQL.
    let statements: Vec<(String, String)> = match &*state.schema.lock().unwrap_or_else(|e| e.into_inner()) {
        Some(schema) => schema
            .raw_tables
            .iter()
            .filter_map(|t| Some((t.name.clone(), t.clear.clone()?)))
            .collect(),
        None => return Ok(()),
    };
    for (name, sql) in statements {
        exec(conn, &sql).map_err(|e| e.with_context(format!("Clearing raw table {name}")))?;
    }
    Ok(())
}

/// `UPDATE ps_buckets SET last_applied_op = 0`, refused while a sync iteration runs (its
/// in-memory view of applied ops would go stale).
fn reset_applied_ops(conn: &Connection, state: &ConnectionState) -> Result<()> {
    // From inside powersync_control (a trigger during an apply) the lock is taken, and that
    // call only runs the app's SQL while an iteration is active: same answer as the reference.
    let active = state.try_sync().is_none_or(|sync| sync.iteration_active());
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
pub(crate) fn trigger_resync(conn: &Connection, state: &ConnectionState, clear: bool) -> Result<()> {
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
pub(crate) fn register(conn: &Connection, state: &Arc<ConnectionState>) -> Result<()> {
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
