//! The extension as applications load it: registration and version, the loadable library in
//! a bundled SQLite and in the system `sqlite3` shell (SQLite 3.40: schema, migrations, a sync
//! iteration), the static library linked into a C program, the SQL surface of the sync client.
//! These load `target/release/libpowersync.so` at run time or build a C program in a child
//! process, so they share this binary (linked as the others). Each module was a test binary
//! of its own before.
#[path = "../common/mod.rs"]
mod common;
#[path = "../sync_common/mod.rs"]
mod sync_common;

mod loadable;
mod migrations_sqlite340;
mod schema_sqlite340;
mod smoke;
mod static_lib;
mod sync_sqlite340;
mod sync_surface;
