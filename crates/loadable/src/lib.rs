//! The PowerSync core as a SQLite loadable extension (`libpowersync.so`).
//!
//! Load it with `.load libpowersync sqlite3_powersync_init` (or the SDK's equivalent). It
//! calls SQLite only through the API routines pointer handed to the entry point.

use rusqlite::ffi;
use std::ffi::{c_char, c_int};

/// SQLite extension entry point.
///
/// # Safety
/// Called by SQLite with a valid connection and API routines.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sqlite3_powersync_init(
    db: *mut ffi::sqlite3,
    pz_err_msg: *mut *mut c_char,
    p_api: *mut ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: SQLite passes a valid api routines table for its own version.
    let mut routines = unsafe { routines_for_runtime(p_api) };
    // SAFETY: `routines` holds valid function pointers (or None) for every field; the bindings
    // copy the pointers out, so the table itself need not outlive this call.
    if unsafe { ffi::rusqlite_extension_init2(&mut routines) }.is_err() {
        return ffi::SQLITE_ERROR;
    }
    // SAFETY: `db` is the connection SQLite is loading us into.
    unsafe { powersync_core::init_raw(db, pz_err_msg) }
}

/// The version our bindings were generated for; rusqlite refuses any older runtime.
unsafe extern "C" fn bindings_version() -> c_int {
    ffi::SQLITE_VERSION_NUMBER
}

/// A copy of SQLite's API table that rusqlite accepts on SQLite older than its bindings.
///
/// rusqlite's loadable-extension support rejects a runtime older than the headers it was
/// generated from (3.45 for rusqlite 0.43, 3.34 for 0.39), but we promise to load into 3.40
/// (Debian stable). The table only grows at its end, so we copy the entries the runtime has,
/// leave the newer ones empty (we never call them), and report the bindings' version to the
/// check.
///
/// # Safety
/// `p_api` must point to the API table of the running SQLite.
unsafe fn routines_for_runtime(p_api: *const ffi::sqlite3_api_routines) -> ffi::sqlite3_api_routines {
    // SAFETY: `libversion_number` exists in every SQLite version that supports extensions.
    let runtime = unsafe { (*p_api).libversion_number.map(|f| f()).unwrap_or(0) };
    let size = std::mem::size_of::<ffi::sqlite3_api_routines>();
    // Every entry is one function pointer. The counts are the positions (in sqlite3ext.h) of
    // the first entry SQLite added in the next version: `value_encoding` (3.41),
    // `stmt_explain` (3.43), `get_clientdata` (3.44). Positions rather than `offset_of!`
    // because older bindings (rusqlite 0.39) do not have these fields at all.
    let entries = match runtime {
        v if v >= 3_044_000 => usize::MAX,
        v if v >= 3_043_000 => 268,
        v if v >= 3_041_000 => 267,
        _ => 265,
    };
    let known = size.min(entries.saturating_mul(std::mem::size_of::<Option<unsafe extern "C" fn()>>()));
    // SAFETY: the table is a plain struct of nullable function pointers, so all-zero is a
    // valid value; we copy only the prefix the runtime's table is known to contain.
    unsafe {
        let mut copy: ffi::sqlite3_api_routines = std::mem::zeroed();
        std::ptr::copy_nonoverlapping(p_api as *const u8, &mut copy as *mut _ as *mut u8, known);
        if runtime < ffi::SQLITE_VERSION_NUMBER {
            copy.libversion_number = Some(bindings_version);
        }
        copy
    }
}
