//! Reading the current internal schema version, with SQLite's integer conversion.

use crate::error::{Result, SqlResultExt};
use crate::util::sqlite_value::int_of;
use rusqlite::Connection;

/// Creates the migrations table itself (the only DDL outside the numbered steps).
pub(super) const CREATE_MIGRATION_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS ps_migration(id INTEGER PRIMARY KEY, down_migrations TEXT)";

/// The version query; its exact text appears in error messages.
const CURRENT_VERSION: &str = "SELECT ifnull(max(id), 0) as version FROM ps_migration";

/// The current version: the highest `ps_migration.id`, or 0.
pub(super) fn current(conn: &Connection) -> Result<i32> {
    let mut stmt = conn.prepare(CURRENT_VERSION).sql_context(CURRENT_VERSION)?;
    stmt.query_row([], |row| Ok(int_of(row.get_ref(0)?)))
        .sql_context(CURRENT_VERSION)
}
