//! Utility SQL functions (schema-and-crud §10): version, uuid, diff, json_merge,
//! strip_subtype, key-encoding repair, client id, clear, resync, update hooks, drop_view,
//! in_sync_operation and the pre-close virtual table.

pub mod update_hooks;

use crate::error::Result;
use crate::sql_fn::{self, Output};
use crate::state::ConnectionState;
use rusqlite::Connection;
use std::sync::Arc;

/// Registers the utility functions.
pub fn register(conn: &Connection, _state: &Arc<ConnectionState>) -> Result<()> {
    sql_fn::register(conn, "powersync_rs_version", 0, 0, |_| {
        Ok(Output::Text(crate::version::version_string()))
    })?;
    Ok(())
}
