//! `powersync_drop_view(name)`: called by the down scripts of versions 5 and 10 stored in
//! `ps_migration`, so it must exist as long as such scripts may run. See docs/sql-surface.md#powersync_drop_view-and-powersync_in_sync_operation.

use super::exec::exec_script;
use crate::error::Result;
use crate::sql_fn::{self, Output};
use rusqlite::Connection;

/// Registers `powersync_drop_view` (one argument, no flags, returns NULL).
pub(super) fn register(conn: &Connection) -> Result<()> {
    sql_fn::register(conn, "powersync_drop_view", 1, 0, |call| {
        // NULL reads as "" (a no-op drop), like sqlite3_value_text in the reference.
        let name = call.text_lossy(0);
        exec_script(&call.connection(), &drop_view_sql(&name))?;
        Ok(Output::Null)
    })
}

/// `DROP VIEW IF EXISTS "<name>"` with the name quoted as an identifier.
pub(super) fn drop_view_sql(name: &str) -> String {
    format!("DROP VIEW IF EXISTS \"{}\"", name.replace('"', "\"\""))
}
