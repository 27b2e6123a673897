//! Utility SQL functions (docs/sql-surface.md#helper-functions): version, uuid, diff, json_merge,
//! strip_subtype, key-encoding repair, client id, clear, resync, update hooks,
//! in_sync_operation and the pre-close virtual table.

pub(crate) mod clear;
pub(crate) mod client_id;
pub(crate) mod diff;
pub(crate) mod json_merge;
pub(crate) mod key_encoding;
pub(crate) mod pre_close;
pub(crate) mod sqlite_value;
pub(crate) mod update_hooks;
pub(crate) mod uuid;
pub(crate) use crate::ffi::vtab;

use crate::error::Result;
use crate::sql_fn::{self, Output, DETERMINISTIC, RESULT_SUBTYPE, SUBTYPE};
use crate::state::ConnectionState;
use rusqlite::Connection;
use std::sync::Arc;

/// Registers the utility functions and the pre-close virtual table. Flags follow the
/// reference exactly (docs/sql-surface.md#functions-and-flags): nothing is INNOCUOUS, so generated triggers calling these
/// functions fail under `PRAGMA trusted_schema=OFF` just as they do with the reference.
pub(crate) fn register(conn: &Connection, state: &Arc<ConnectionState>) -> Result<()> {
    sql_fn::register(conn, "powersync_rs_version", 0, 0, |_| {
        Ok(Output::Text(crate::version::version_string()))
    })?;
    uuid::register(conn)?;
    diff::register(conn)?;
    key_encoding::register(conn)?;
    json_merge::register(conn)?;
    // The argument is returned unchanged; `Output::Arg` clears its subtype, which is the
    // whole point: `json_object('k', NEW.col)` must embed JSON-looking text as a string.
    sql_fn::register(
        conn,
        "powersync_strip_subtype",
        1,
        DETERMINISTIC | SUBTYPE | RESULT_SUBTYPE,
        |_| Ok(Output::Arg(0)),
    )?;
    clear::register(conn, state)?;
    client_id::register(conn)?;
    let in_sync = state.clone();
    sql_fn::register(conn, "powersync_in_sync_operation", 0, 0, move |_| {
        Ok(Output::Integer(in_sync.in_sync_local().into()))
    })?;
    update_hooks::register(conn, state)?;
    pre_close::register(conn, state)?;
    Ok(())
}
