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

// The public API is small on purpose: `register` (everything else is reached through SQL), the
// error type, the version, the doctor, and the C entry points. Modules are private unless
// listed below; items inside them are `pub(crate)`.

// `crud`, `sync::storage` and `sync::apply` are private modules whose items are written `pub`
// (they are reached from sibling modules); no path leads to them from outside the crate, so
// `unreachable_pub` is allowed at the module rather than repeated on each item.
#[allow(unreachable_pub)]
mod crud;
pub mod doctor;
mod error;
#[allow(unsafe_code)]
mod ffi;
mod state;
mod util;
pub mod version;

// Reachable for the repository's own integration tests and tools (`crates/core/tests`, the
// decode benchmark), which check generated SQL, migrations and line decoding directly. Not
// part of the API: hidden from the docs, and only the items those tests name are public.
#[doc(hidden)]
pub mod migrations;
#[doc(hidden)]
pub mod schema;
#[doc(hidden)]
pub mod sync;

#[cfg(feature = "static")]
pub use ffi::static_entry::{powersync_init_static, sqlite3_powersync_init};
pub use ffi::init_raw;
pub(crate) use ffi::function as sql_fn;

use rusqlite::Connection;
use std::sync::Arc;

pub use error::{PowerSyncError, Result};
use state::ConnectionState;

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
