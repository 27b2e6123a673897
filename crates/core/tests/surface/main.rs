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

use std::path::PathBuf;
use std::process::Command;

/// `target/release/libpowersync.so`, which `scripts/test.sh` builds before the tests.
fn library() -> PathBuf {
    let path = common::workspace_root().join("target/release/libpowersync.so");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --release -p powersync-loadable` (scripts/test.sh does)",
        path.display()
    );
    path
}

/// The system `sqlite3` shell in batch mode with our loadable library loaded, on `db` (a
/// path or `:memory:`); the caller adds the script.
fn shell_with_library(db: impl AsRef<std::ffi::OsStr>) -> Command {
    let lib = library();
    let mut cmd = Command::new("sqlite3");
    cmd.arg("-batch").arg("-cmd").arg(format!(
        ".load {} sqlite3_powersync_init",
        lib.to_str().unwrap().trim_end_matches(".so")
    ));
    cmd.arg(db);
    cmd
}
