//! The sync client behind `powersync_control` (docs/protocol.md).
//!
//! Layers, each testable alone:
//! - [`protocol`]: decoding sync lines (JSON text and BSON) into borrowed types;
//! - [`client`]: the sans-IO state machine (state + event → new state + instructions);
//! - [`storage`]: cached prepared statements over the `ps_*` tables;
//! - [`apply`]: publishing validated checkpoints into the app's tables.
//!
//! [`control`] decodes `powersync_control` calls into events and dispatches them.

pub mod apply;
mod batch;
pub mod client;
pub mod control;
pub mod instructions;
pub mod options;
pub mod protocol;
pub mod raw_tables;
pub mod statements;
pub mod status;
pub(crate) mod stmt;
pub mod storage;

use crate::error::Result;
use crate::state::ConnectionState;
use apply::RawTableCache;
use client::SyncClient;
use raw_tables::RawTable;
use rusqlite::Connection;
use statements::HotStatements;
use std::sync::Arc;

/// The sync client of one connection (idle until `powersync_control('start', …)`).
#[derive(Default)]
pub struct SyncState {
    /// The state machine.
    pub client: SyncClient,
    /// Long-lived non-owning connection whose statement cache holds our prepared
    /// statements; created on first use, dropped (finalising them) when the state is reset.
    conn: Option<Connection>,
    /// Raw and direct tables of the `start` schema of the current iteration.
    raw_tables: Vec<RawTable>,
    /// Inferred raw-table statements.
    raw_cache: RawTableCache,
    /// Statements of the hot path, owned by us.
    statements: HotStatements,
    /// The timestamp query for this connection's SQLite (decided on first use).
    now_sql: Option<&'static str>,
}

impl SyncState {
    /// Whether a sync iteration is active (used by `powersync_clear` / `trigger_resync`).
    pub fn iteration_active(&self) -> bool {
        self.client.is_active()
    }
}

/// Registers `powersync_control` and `powersync_offline_sync_status`.
pub fn register(conn: &Connection, state: &Arc<ConnectionState>) -> Result<()> {
    control::register(conn, state)
}
