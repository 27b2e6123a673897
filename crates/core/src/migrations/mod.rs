//! Internal schema migrations (versions 1..14, up and down): `powersync_init()`,
//! `powersync_test_migration(n)` and `powersync_drop_view(name)`. See docs/sql-surface.md#internal-tables,
//! docs/sql-surface.md#down-migrations.
//!
//! Compatibility hinges on two things, both checked against the reference by
//! `tests/differential/migrations.rs`:
//! - the up steps replay the reference's exact statement sequence (`sql/v*.sql`), because
//!   SQLite stores the DDL text as written and as rewritten by `ALTER TABLE ADD/DROP COLUMN`,
//!   and errors quote the failing script;
//! - the down scripts we store are byte-identical to the reference's, because a newer library
//!   downgrading a database to our version runs whatever we stored, and an older library runs
//!   the scripts a newer one stored above version 14 (see `down.rs`).

mod down;
mod drop_view;
mod exec;
mod up;
mod version;

pub(crate) use exec::exec_script;

use crate::error::Result;
use crate::sql_fn::{self, Output};
use crate::state::ConnectionState;
use rusqlite::Connection;
use std::sync::Arc;

/// The internal schema version this library creates and expects.
pub const LATEST_VERSION: i32 = 14;

/// Registers `powersync_drop_view`, `powersync_init` and `powersync_test_migration` (in the
/// reference's registration order).
pub(crate) fn register(conn: &Connection, _state: &Arc<ConnectionState>) -> Result<()> {
    drop_view::register(conn)?;
    sql_fn::register(conn, "powersync_init", 0, 0, |call| {
        call.require_transaction()?;
        powersync_init(&call.connection())?;
        Ok(Output::Text(String::new()))
    })?;
    sql_fn::register(conn, "powersync_test_migration", 1, 0, |call| {
        call.require_transaction()?;
        // Read like sqlite3_value_int: 'abc' and NULL are 0, 2.9 is 2, large values wrap.
        let target = crate::util::sqlite_value::int_of(call.arg(0));
        migrate_to(&call.connection(), target)?;
        Ok(Output::Text(String::new()))
    })?;
    Ok(())
}

/// Migrates the internal tables to [`LATEST_VERSION`] (what `powersync_init()` does).
///
/// Call it inside a transaction: like the reference, the steps are not wrapped in a savepoint,
/// so on error the caller must roll back. Needs the PowerSync functions registered on `conn`
/// (`uuid()` for version 3, `powersync_drop_view()` for stored down scripts).
pub fn powersync_init(conn: &Connection) -> Result<()> {
    exec_script(conn, version::CREATE_MIGRATION_TABLE)?;
    // Version 15 is ours too: an initial sync in progress with its oplog indexes deferred
    // (`sync::storage::bulk`). Running its down script here would build them for nothing.
    if version::current(conn)? == crate::sync::storage::bulk::BULK_VERSION
        && crate::sync::storage::bulk::is_bulk(conn)?
    {
        return Ok(());
    }
    migrate_to(conn, LATEST_VERSION)
}

/// Migrates the internal tables up or down to `target` (what `powersync_test_migration(n)`
/// does). Version 1 is always created, even for targets below 1. Same transaction and
/// registration requirements as [`powersync_init`].
pub fn migrate_to(conn: &Connection, target: i32) -> Result<()> {
    exec_script(conn, version::CREATE_MIGRATION_TABLE)?;
    let mut current = version::current(conn)?;
    while current > target {
        current = down::step(conn, current, target)?;
    }
    up::run(conn, current, target)
}
