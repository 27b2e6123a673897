//! PowerSync client core: everything the PowerSync SQLite extension does, on any rusqlite
//! [`Connection`].
//!
//! [`register`] installs the SQL surface of the reference extension (PowerSync core 0.5.4) on
//! a connection: internal tables and migrations, schema management (views and triggers), the
//! CRUD upload queue, utility functions and the sync client behind `powersync_control`. The
//! thin `powersync-loadable` and `powersync-static` crates expose it to C as
//! `sqlite3_powersync_init`; with the `static` feature this crate itself exports the C entry
//! points `sqlite3_powersync_init` and `powersync_init_static()` (as the reference crate does,
//! which is what lets the PowerSync Rust SDK use this crate in its place).
#![warn(missing_docs)]

#[cfg(all(feature = "static", feature = "loadable_extension"))]
compile_error!(
    "features `static` (SQLite linked into the application) and `loadable_extension` exclude each other"
);

pub mod crud;
pub mod doctor;
pub mod error;
pub mod migrations;
pub mod schema;
pub mod sql_fn;
pub mod state;
#[cfg(feature = "static")]
mod static_entry;
pub mod sync;
pub mod util;
pub mod version;

#[cfg(feature = "static")]
pub use static_entry::{powersync_init_static, sqlite3_powersync_init};

use rusqlite::{ffi, Connection};
use std::ffi::{c_char, c_int};
use std::sync::Arc;

pub use error::{PowerSyncError, Result};
pub use state::ConnectionState;

/// Registers every PowerSync function and virtual table on `conn`. Does not touch the
/// database file: internal tables are created by `powersync_init()`.
pub fn register(conn: &Connection) -> Result<()> {
    let state = Arc::new(ConnectionState::default());
    util::register(conn, &state)?;
    migrations::register(conn, &state)?;
    sync::register(conn, &state)?;
    schema::register(conn, &state)?;
    crud::register(conn, &state)?;
    Ok(())
}

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
        .and_then(|c| register(&c));
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
