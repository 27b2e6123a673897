// The crate documentation is the README: its example is a doc test, so it cannot drift from
// the code (and `examples/quickstart.rs` is the same program, checked by a test below).
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
// Unsafe code is confined to the `ffi` module, which wraps SQLite's C interface in safe
// functions and types for the rest of the crate.
#![deny(unsafe_code)]

#[cfg(all(feature = "static", feature = "loadable_extension"))]
compile_error!(
    "features `static` (SQLite linked into the application) and `loadable_extension` exclude each other"
);

// The public API is small on purpose: `register` (everything else is reached through SQL), the
// error type, the version, the doctor, and the C entry points. The other modules are private
// and their items `pub(crate)`, with the two exceptions explained below.

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

pub(crate) use ffi::function as sql_fn;
pub use ffi::init_raw;
#[cfg(feature = "static")]
pub use ffi::static_entry::{powersync_init_static, sqlite3_powersync_init};

use rusqlite::Connection;
use std::sync::Arc;

pub use error::{PowerSyncError, Result};
use state::ConnectionState;

/// Registers every PowerSync function and virtual table on `conn`: what loading the extension
/// does. Does not touch the database file: internal tables are created by `powersync_init()`.
///
/// Call it once per connection; each call gives the connection its own state (sync client,
/// CRUD transaction, update hooks), never shared with another connection.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let conn = rusqlite::Connection::open_in_memory()?;
/// powersync_core::register(&conn)?;
/// let version: String = conn.query_row("SELECT powersync_rs_version()", [], |r| r.get(0))?;
/// assert!(version.starts_with("0.5.4/"));
///
/// // Functions that create or change tables must run in a transaction, as the SDKs do.
/// let err = conn.query_row("SELECT powersync_init()", [], |r| r.get::<_, String>(0));
/// assert_eq!(
///     err.unwrap_err().to_string(),
///     "powersync_init: This function may only be called in transactions."
/// );
/// conn.execute_batch("BEGIN; SELECT powersync_init(); COMMIT;")?;
/// # Ok(())
/// # }
/// ```
pub fn register(conn: &Connection) -> Result<()> {
    let state = Arc::new(ConnectionState::default());
    util::register(conn, &state)?;
    migrations::register(conn, &state)?;
    sync::register(conn, &state)?;
    schema::register(conn, &state)?;
    crud::register(conn, &state)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The README's example (the crate documentation's, run as a doc test) is
    /// `examples/quickstart.rs` word for word, after the example's header comment.
    #[test]
    fn readme_example_is_the_quickstart_program() {
        let example = include_str!("../examples/quickstart.rs");
        let header_end = example.find("\n\n").expect("a header comment") + 2;
        let readme = include_str!("../README.md");
        assert!(
            readme.contains(&format!("```rust\n{}```\n", &example[header_end..])),
            "crates/core/README.md must show examples/quickstart.rs"
        );
    }
}
