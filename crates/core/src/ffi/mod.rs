//! All of the crate's unsafe code: the edge to SQLite's C interface.
//!
//! Everything here wraps a C API in safe functions and types for the rest of the crate,
//! which denies `unsafe_code`. Every `unsafe` block states why it is sound (`SAFETY:`).
//!
//! - [`function`]: scalar SQL functions (the trampoline every function goes through);
//! - [`vtab`]: eponymous virtual tables on the raw `sqlite3_module`, and [`value`], the
//!   arguments of their writes;
//! - [`hooks`]: the update, commit and rollback hooks behind `powersync_update_hooks`;
//! - [`stmt`]: the sync client's own prepared statements on its hot path;
//! - `static_entry` (feature `static`) and [`init_raw`]: the C entry points;
//! - small helpers below: statement-list inspection and SQLite's randomness.

pub(crate) mod function;
pub(crate) mod hooks;
#[cfg(feature = "static")]
pub(crate) mod static_entry;
pub(crate) mod stmt;
pub(crate) mod value;
pub(crate) mod vtab;

use crate::error::PowerSyncError;
use rusqlite::{ffi, Connection};
use std::ffi::{c_char, c_int};

/// Shared body of the C entry points (`sqlite3_powersync_init`): registers everything on the
/// raw connection and reports failures through `pz_err_msg` as the reference does.
///
/// # Safety
/// `db` must be a valid open connection and `pz_err_msg` null or writable; in loadable builds
/// the SQLite API routines must already be initialised.
pub unsafe fn init_raw(db: *mut ffi::sqlite3, pz_err_msg: *mut *mut c_char) -> c_int {
    // SAFETY: the caller guarantees `db` is valid; the non-owning Connection never closes it.
    let result = unsafe { Connection::from_handle(db) }
        .map_err(PowerSyncError::from)
        .and_then(|c| crate::register(&c));
    match result {
        Ok(()) => ffi::SQLITE_OK,
        Err(err) => {
            if !pz_err_msg.is_null() {
                let msg = format!("Could not initialize PowerSync: {err}\0");
                // SAFETY: sqlite3_malloc'd buffer of the right size, NUL-terminated; SQLite
                // frees it with sqlite3_free.
                unsafe {
                    let buf = ffi::sqlite3_malloc(msg.len() as c_int) as *mut u8;
                    if !buf.is_null() {
                        std::ptr::copy_nonoverlapping(msg.as_ptr(), buf, msg.len());
                        *pz_err_msg = buf as *mut c_char;
                    }
                }
            }
            err.code()
        }
    }
}

/// Whether a statement that writes is currently executing on `conn`.
pub(crate) fn writing_statement_active(conn: &Connection) -> bool {
    // SAFETY: the handle is the live connection `conn` wraps, used from its own thread;
    // sqlite3_next_stmt walks its statement list, which nothing modifies during the loop, and
    // the flag queries only read statement state.
    unsafe {
        let db = conn.handle();
        let mut stmt = ffi::sqlite3_next_stmt(db, std::ptr::null_mut());
        while !stmt.is_null() {
            if ffi::sqlite3_stmt_busy(stmt) != 0 && ffi::sqlite3_stmt_readonly(stmt) == 0 {
                return true;
            }
            stmt = ffi::sqlite3_next_stmt(db, stmt);
        }
    }
    false
}

/// Fills `bytes` from SQLite's pseudo-random generator (`sqlite3_randomness`).
#[cfg(not(feature = "getrandom"))]
pub(crate) fn sqlite_randomness(bytes: &mut [u8]) {
    let len = c_int::try_from(bytes.len()).expect("a small buffer");
    // SAFETY: SQLite writes exactly `len` bytes into the buffer, which has that length.
    unsafe { ffi::sqlite3_randomness(len, bytes.as_mut_ptr().cast()) };
}
