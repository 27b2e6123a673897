//! The PowerSync core as a static library, linked against the application's own SQLite.
//!
//! Call `powersync_init_static()` once; every connection opened afterwards gets the extension.

use rusqlite::ffi;
use std::ffi::{c_char, c_int};

/// SQLite extension entry point (same as the loadable build's).
///
/// # Safety
/// Called by SQLite with a valid connection.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sqlite3_powersync_init(
    db: *mut ffi::sqlite3,
    pz_err_msg: *mut *mut c_char,
    _p_api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: SQLite hands us a valid connection.
    unsafe { powersync_core::init_raw(db, pz_err_msg) }
}

/// Registers [`sqlite3_powersync_init`] as an auto-extension, so every connection opened
/// afterwards has PowerSync. Returns the result of `sqlite3_auto_extension`.
#[unsafe(no_mangle)]
pub extern "C" fn powersync_init_static() -> c_int {
    // SAFETY: the entry point has exactly the signature sqlite3_auto_extension expects.
    unsafe { ffi::sqlite3_auto_extension(Some(sqlite3_powersync_init)) }
}
