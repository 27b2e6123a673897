//! C entry points for applications that link SQLite themselves (feature `static`), with the
//! reference crate's names and signatures: the PowerSync Rust SDK calls
//! `powersync_init_static()` once, and C programs link them through `powersync-static`.

use rusqlite::ffi;
use std::ffi::{c_char, c_int};

/// SQLite extension entry point: registers PowerSync on `db`.
///
/// # Safety
/// Called by SQLite (directly or as an auto-extension) with a valid connection.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sqlite3_powersync_init(
    db: *mut ffi::sqlite3,
    pz_err_msg: *mut *mut c_char,
    _p_api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: FFI edge; SQLite hands us a valid connection and error slot.
    unsafe { crate::init_raw(db, pz_err_msg) }
}

/// Registers [`sqlite3_powersync_init`] as an auto-extension, so every connection opened
/// afterwards has PowerSync. Returns the result of `sqlite3_auto_extension` (registering twice
/// is a no-op).
#[unsafe(no_mangle)]
pub extern "C" fn powersync_init_static() -> c_int {
    // SAFETY: FFI edge; the entry point has exactly the signature sqlite3_auto_extension
    // expects and lives as long as the program.
    unsafe { ffi::sqlite3_auto_extension(Some(sqlite3_powersync_init)) }
}
