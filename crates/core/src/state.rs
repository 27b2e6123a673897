//! Per-connection state shared by the functions and virtual tables of one connection.
//!
//! One [`ConnectionState`] is created when the extension is registered on a connection and
//! is never shared with another connection or persisted (docs/sql-surface.md#per-connection-state). Fields
//! use atomics and mutexes because virtual-table auxiliary data must be `Send + Sync`; all
//! access happens on the connection's own thread, so the locks are never contended.

use crate::error::{PowerSyncError, Result};
use crate::sync::SyncState;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

/// State of one SQLite connection with the extension registered.
#[derive(Default)]
pub(crate) struct ConnectionState {
    /// True while the sync client applies downloaded rows, or `powersync_clear` runs raw-table
    /// `clear` statements. CRUD virtual tables ignore writes while it is set.
    in_sync_local: AtomicBool,
    /// The schema last installed with `powersync_replace_schema` on this connection.
    pub(crate) schema: Mutex<Option<crate::schema::Schema>>,
    /// Transaction id shared by the CRUD virtual tables within one SQLite transaction.
    pub(crate) crud: Mutex<crate::crud::CrudTxState>,
    /// Tables changed by committed transactions, for `powersync_update_hooks`.
    pub(crate) update_hooks: Mutex<crate::util::update_hooks::HookState>,
    /// The sync client (state machine and cached storage statements). Lock it through
    /// [`Self::lock_sync`].
    pub(crate) sync: Mutex<SyncState>,
}

impl ConnectionState {
    /// Locks the sync client for `function`, or fails at once when it is already locked.
    ///
    /// Only `powersync_control` holds the lock for longer than a moment, for the whole call,
    /// while it may run the app's SQL (triggers on synced tables, raw-table statements). All
    /// calls happen on the connection's thread, so finding the lock held means `function` was
    /// called from inside that SQL: waiting would deadlock, holding the write lock forever.
    pub(crate) fn lock_sync(&self, function: &str) -> Result<MutexGuard<'_, SyncState>> {
        self.try_sync().ok_or_else(|| {
            PowerSyncError::state(format!(
                "{function} was called from SQL that powersync_control runs on the same \
                 connection (a trigger on a synced table or a raw-table statement); it cannot \
                 run until powersync_control returns"
            ))
        })
    }

    /// The sync client when it is not in use by a `powersync_control` call on this
    /// connection (see [`Self::lock_sync`]), else `None`.
    pub(crate) fn try_sync(&self) -> Option<MutexGuard<'_, SyncState>> {
        match self.sync.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// Whether the sync client is currently writing downloaded data.
    pub(crate) fn in_sync_local(&self) -> bool {
        self.in_sync_local.load(Ordering::Relaxed)
    }

    /// Runs `f` with [`Self::in_sync_local`] set, restoring the previous value afterwards
    /// (also when `f` fails).
    pub(crate) fn while_syncing_local<T>(&self, f: impl FnOnce() -> T) -> T {
        let previous = self.in_sync_local.swap(true, Ordering::Relaxed);
        let out = f();
        self.in_sync_local.store(previous, Ordering::Relaxed);
        out
    }
}
