//! Per-connection state shared by the functions and virtual tables of one connection.
//!
//! One [`ConnectionState`] is created when the extension is registered on a connection and
//! is never shared with another connection or persisted (spec: schema-and-crud §1.4). Fields
//! use atomics and mutexes because virtual-table auxiliary data must be `Send + Sync`; all
//! access happens on the connection's own thread, so the locks are never contended.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// State of one SQLite connection with the extension registered.
#[derive(Default)]
pub struct ConnectionState {
    /// True while the sync client applies downloaded rows, or `powersync_clear` runs raw-table
    /// `clear` statements. CRUD virtual tables ignore writes while it is set.
    in_sync_local: AtomicBool,
    /// The schema last installed with `powersync_replace_schema` on this connection.
    pub schema: Mutex<Option<crate::schema::Schema>>,
    /// Transaction id shared by the CRUD virtual tables within one SQLite transaction.
    pub crud: Mutex<crate::crud::CrudTxState>,
    /// Tables changed by committed transactions, for `powersync_update_hooks`.
    pub update_hooks: Mutex<crate::util::update_hooks::HookState>,
    /// The sync client (state machine and cached storage statements).
    pub sync: Mutex<crate::sync::SyncState>,
}

impl ConnectionState {
    /// Whether the sync client is currently writing downloaded data.
    pub fn in_sync_local(&self) -> bool {
        self.in_sync_local.load(Ordering::Relaxed)
    }

    /// Runs `f` with [`Self::in_sync_local`] set, restoring the previous value afterwards
    /// (also when `f` fails).
    pub fn while_syncing_local<T>(&self, f: impl FnOnce() -> T) -> T {
        let previous = self.in_sync_local.swap(true, Ordering::Relaxed);
        let out = f();
        self.in_sync_local.store(previous, Ordering::Relaxed);
        out
    }
}
