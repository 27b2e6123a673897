//! The update, commit and rollback hooks behind `powersync_update_hooks`
//! (`util/update_hooks.rs`, docs/sql-surface.md#update-hooks).
//!
//! An update hook collects table names into a *pending* set, the commit hook moves them to
//! the *committed* set (a rollback discards them). The three SQLite hooks are installed
//! through the C API because rusqlite's hook API lives on the owning `Connection`, which a
//! SQL function cannot reach.

use crate::error::{PowerSyncError, Result};
use crate::state::ConnectionState;
use rusqlite::{ffi, Connection};
use std::collections::BTreeSet;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::{Arc, MutexGuard};

/// Pending and committed sets of changed tables.
#[derive(Debug, Default)]
pub(crate) struct HookState {
    /// Whether our hooks are installed; they then own one strong count of the connection
    /// state, handed to SQLite as the hooks' user data.
    installed: bool,
    /// Tables changed by the current transaction.
    pending: BTreeSet<String>,
    /// Tables changed by committed transactions since the last `'get'`.
    committed: BTreeSet<String>,
}

fn lock(state: &ConnectionState) -> MutexGuard<'_, HookState> {
    state.update_hooks.lock().unwrap_or_else(|e| e.into_inner())
}

/// Connects the pre-close virtual table (so that closing the connection uninstalls the
/// hooks) and installs the update, commit and rollback hooks. Installing again replaces
/// our own hooks harmlessly.
///
/// SQLite only reveals a previously installed hook by replacing it. If another library's
/// hook was installed, the reference aborts the process; we remove our hooks again and fail
/// with an error instead (the other library's hook cannot be restored).
pub(crate) fn install(conn: &Connection, state: &Arc<ConnectionState>) -> Result<()> {
    const CONNECT_PRE_CLOSE: &str = "SELECT 1 FROM powersync_internal_close;";
    crate::migrations::exec_script(conn, CONNECT_PRE_CLOSE)?;

    let mut hooks = lock(state);
    let arg = if hooks.installed {
        Arc::as_ptr(state)
    } else {
        Arc::into_raw(state.clone())
    } as *mut c_void;
    // SAFETY: `arg` points to the connection state, kept alive by the strong count created
    // above until `uninstall` reclaims it; the callbacks only read it as `&ConnectionState`.
    let previous = unsafe {
        let db = conn.handle();
        [
            ffi::sqlite3_update_hook(db, Some(on_update), arg),
            ffi::sqlite3_commit_hook(db, Some(on_commit), arg),
            ffi::sqlite3_rollback_hook(db, Some(on_rollback), arg),
        ]
    };
    hooks.installed = true;
    if previous.iter().all(|p| p.is_null() || *p == arg) {
        return Ok(());
    }
    drop(hooks);
    uninstall(conn, state);
    Err(PowerSyncError::state(
        "another library installed an update, commit or rollback hook on this connection",
    ))
}

/// Removes our hooks if they are installed (pre-close, failed install). `conn` is the
/// connection they were installed on; the caller's `state` is a strong reference, so
/// releasing the hooks' own one here cannot free the state.
pub(crate) fn uninstall(conn: &Connection, state: &Arc<ConnectionState>) {
    // SAFETY: `conn` is open (it is borrowed), and only its handle value is taken.
    let db = unsafe { conn.handle() };
    // SAFETY: as stated above: an open connection, and another strong reference.
    unsafe { uninstall_raw(db, state) }
}

/// [`uninstall`] on a raw handle.
///
/// # Safety
/// `db` must be the open connection the hooks were installed on, and the caller must hold
/// another strong reference to `state` (the hooks' own reference is released here).
unsafe fn uninstall_raw(db: *mut ffi::sqlite3, state: &ConnectionState) {
    let mut hooks = lock(state);
    if !hooks.installed {
        return;
    }
    hooks.installed = false;
    hooks.pending.clear();
    drop(hooks);
    // SAFETY: per the function's contract `db` is open and the caller keeps the state alive;
    // the pointer reclaimed here is the strong count created by `install`.
    unsafe {
        ffi::sqlite3_update_hook(db, None, std::ptr::null_mut());
        ffi::sqlite3_commit_hook(db, None, std::ptr::null_mut());
        ffi::sqlite3_rollback_hook(db, None, std::ptr::null_mut());
        drop(Arc::from_raw(state as *const ConnectionState));
    }
}

/// Returns the committed table names as a JSON array (byte order) and empties the set.
pub(crate) fn take_committed(state: &ConnectionState) -> String {
    let committed = std::mem::take(&mut lock(state).committed);
    serde_json::to_string(&committed).expect("a set of strings serializes")
}

/// # Safety
/// Called by SQLite with the `arg` passed in [`install`] and a NUL-terminated table name.
unsafe extern "C" fn on_update(
    arg: *mut c_void,
    _op: c_int,
    _db_name: *const c_char,
    table: *const c_char,
    _rowid: ffi::sqlite3_int64,
) {
    // SAFETY: see the function's contract; the state outlives the installed hook.
    let (state, table) = unsafe { (&*(arg as *const ConnectionState), CStr::from_ptr(table)) };
    let table = table.to_string_lossy();
    let mut hooks = lock(state);
    // Avoid allocating for every changed row: most rows hit an already-recorded table.
    if !hooks.pending.contains(table.as_ref()) {
        hooks.pending.insert(table.into_owned());
    }
}

/// # Safety
/// Called by SQLite with the `arg` passed in [`install`].
unsafe extern "C" fn on_commit(arg: *mut c_void) -> c_int {
    // SAFETY: see the function's contract.
    let state = unsafe { &*(arg as *const ConnectionState) };
    let mut hooks = lock(state);
    let pending = std::mem::take(&mut hooks.pending);
    hooks.committed.extend(pending);
    0
}

/// # Safety
/// Called by SQLite with the `arg` passed in [`install`].
unsafe extern "C" fn on_rollback(arg: *mut c_void) {
    // SAFETY: see the function's contract.
    let state = unsafe { &*(arg as *const ConnectionState) };
    lock(state).pending.clear();
}

/// Uninstalls the hooks when SQLite destroys the function's user data (the function was
/// replaced, or the connection is closing and the pre-close table did not run first).
pub(crate) struct UninstallOnDrop {
    db: *mut ffi::sqlite3,
    state: Arc<ConnectionState>,
}

impl Drop for UninstallOnDrop {
    fn drop(&mut self) {
        // SAFETY: SQLite destroys function user data while the connection is still usable
        // (when the function is replaced, or during close, where the pre-close table has
        // normally uninstalled the hooks already); `self.state` is a strong reference.
        unsafe { uninstall_raw(self.db, &self.state) };
    }
}

impl UninstallOnDrop {
    /// A guard for the hooks of `conn` (only its handle value is kept).
    pub(crate) fn new(conn: &Connection, state: &Arc<ConnectionState>) -> Self {
        Self {
            // SAFETY: only the handle value is stored; it is used while the connection lives.
            db: unsafe { conn.handle() },
            state: state.clone(),
        }
    }

    /// The connection state the guard holds.
    pub(crate) fn state(&self) -> &Arc<ConnectionState> {
        &self.state
    }
}
