//! The sync client behind `powersync_control` (docs/protocol.md).
//!
//! Layers, each testable alone:
//! - [`protocol`]: decoding sync lines (JSON text and BSON) into borrowed types;
//! - `client`: the sans-IO state machine (state + event → new state + instructions);
//! - `storage`: cached prepared statements over the `ps_*` tables;
//! - `apply`: publishing validated checkpoints into the app's tables.
//!
//! The first two, with the command payloads (`options`), `instructions` and `status`, are the
//! `powersync_protocol` crate, aliased here for the rest of the crate; this module adds
//! everything that runs SQL. `control` decodes `powersync_control` calls into events and
//! dispatches them. Only [`protocol`] is reachable from outside (for the decoding tests).

// `storage` and `apply` are crate-private; their items are written `pub` for the sibling
// modules that call them (see the note on `crud` in lib.rs).
#[allow(unreachable_pub)]
pub(crate) mod apply;
mod batch;
pub(crate) mod control;
// Public (the crate's `sync` module is hidden) for the decoding tests and benchmark.
pub mod protocol;
pub(crate) mod raw_tables;
pub(crate) mod statements;
#[allow(unreachable_pub)]
pub(crate) mod storage;

pub(crate) use powersync_protocol::{client, instructions, options, status};
// Our own prepared statements on the hot path: C API, hence in `ffi`.
use crate::ffi::stmt;

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
pub(crate) struct SyncState {
    /// The state machine.
    pub(crate) client: SyncClient,
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
    pub(crate) fn iteration_active(&self) -> bool {
        self.client.is_active()
    }
}

/// Registers `powersync_control` and `powersync_offline_sync_status`.
pub(crate) fn register(conn: &Connection, state: &Arc<ConnectionState>) -> Result<()> {
    control::register(conn, state)
}
