//! The sync client behind `powersync_control` (spec: sync-client.md).
//!
//! Layers, each testable alone:
//! - [`protocol`]: decoding sync lines (JSON text and BSON) into borrowed types;
//! - [`client`]: the sans-IO state machine (state + event → new state + instructions);
//! - [`storage`]: cached prepared statements over the `ps_*` tables;
//! - [`apply`]: publishing validated checkpoints into the app's tables.

pub mod apply;
pub mod client;
pub mod protocol;
pub mod storage;

use crate::error::Result;
use crate::state::ConnectionState;
use rusqlite::Connection;
use std::sync::Arc;

/// The sync client of one connection (idle until `powersync_control('start', …)`).
#[derive(Default)]
pub struct SyncState {}

impl SyncState {
    /// Whether a sync iteration is active (used by `powersync_clear` / `trigger_resync`).
    pub fn iteration_active(&self) -> bool {
        false
    }
}

/// Registers `powersync_control` and `powersync_offline_sync_status`.
pub fn register(_conn: &Connection, _state: &Arc<ConnectionState>) -> Result<()> {
    Ok(())
}
