//! The eponymous virtual table `powersync_internal_close`: a "before close" callback
//! (docs/sql-surface.md#the-pre-close-table).
//!
//! Once connected, SQLite disconnects it during `sqlite3_close()` *before* checking for
//! unfinalized statements. The disconnect releases the sync client (whose cached statements
//! would otherwise make the close fail with BUSY) and uninstalls our update hooks. The table
//! itself has no rows and rejects inserts.

use crate::error::Result;
use crate::ffi::hooks;
use crate::state::ConnectionState;
use crate::util::vtab::{self, EponymousTable, VtabResult};
use rusqlite::Connection;
use std::ffi::CStr;
use std::sync::Arc;

/// The `powersync_internal_close` table of one connection.
pub(crate) struct PreCloseTab {
    /// Non-owning, for uninstalling hooks on disconnect.
    conn: Connection,
    state: Arc<ConnectionState>,
}

/// xDisconnect: the connection is closing (or the table is being discarded).
impl Drop for PreCloseTab {
    fn drop(&mut self) {
        // Replacing the sync client drops it, finalizing its cached statements.
        *self.state.sync.lock().unwrap_or_else(|e| e.into_inner()) = Default::default();
        // SQLite disconnects the table before closing the connection, so it is still open.
        hooks::uninstall(&self.conn, &self.state);
    }
}

impl EponymousTable for PreCloseTab {
    const SCHEMA: &'static CStr = c"CREATE TABLE powersync_internal_close(_ TEXT);";
    const READABLE: bool = true;
    const TRANSACTIONS: bool = false;

    fn connect(conn: Connection, state: &Arc<ConnectionState>) -> VtabResult<Self> {
        Ok(Self {
            conn,
            state: state.clone(),
        })
    }
}

/// Registers the `powersync_internal_close` module.
pub(crate) fn register(conn: &Connection, state: &Arc<ConnectionState>) -> Result<()> {
    vtab::register::<PreCloseTab>(conn, c"powersync_internal_close", state)
}
