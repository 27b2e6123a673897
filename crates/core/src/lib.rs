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
// Unsafe code is confined to the `ffi` module, which wraps SQLite's C interface in safe
// functions and types for the rest of the crate.
#![deny(unsafe_code)]

#[cfg(all(feature = "static", feature = "loadable_extension"))]
compile_error!(
    "features `static` (SQLite linked into the application) and `loadable_extension` exclude each other"
);

pub mod crud;
pub mod doctor;
pub mod error;
#[allow(unsafe_code)]
mod ffi;
pub mod migrations;
pub mod schema;
pub mod state;
pub mod sync;
pub mod util;
pub mod version;

#[cfg(feature = "static")]
pub use ffi::static_entry::{powersync_init_static, sqlite3_powersync_init};
pub use ffi::{function as sql_fn, init_raw};

use rusqlite::Connection;
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
