//! What PowerSync owns in a database, found through `sqlite_master`: JSON data tables
//! (`ps_data__*`, `ps_data_local__*`), direct tables (any table whose SQL contains the
//! `/* ps-managed` marker, user tables included), generated views and their triggers.

use super::views::ViewDefinition;
use crate::error::{PowerSyncError, Result, SqlResultExt};
use powersync_protocol::schema::parse_internal_name;
use rusqlite::Connection;
use std::collections::BTreeMap;

/// The marker in the `CREATE TABLE` text of a direct table.
pub(crate) const DIRECT_TABLE_MARKER: &str = "/* ps-managed";
/// Follows the marker in local-only direct tables.
const LOCAL_ONLY_MARKER: &str = "local-only */";

/// A table PowerSync manages.
#[derive(Debug, Clone)]
pub(crate) struct ExistingTable {
    /// Public name (JSON tables) or table name (direct tables).
    pub name: String,
    /// The SQLite table.
    pub internal: String,
    /// Local-only (never uploaded, not parked in `ps_untyped` when dropped).
    pub local_only: bool,
    /// For direct tables: the columns other than `id`, in table order.
    pub direct: Option<Vec<String>>,
}

impl ExistingTable {
    /// All managed tables in `sqlite_master` order; without direct tables if
    /// `ignore_direct`.
    pub(crate) fn list(conn: &Connection, ignore_direct: bool) -> Result<Vec<Self>> {
        const SQL: &str = "SELECT name, sql FROM sqlite_master WHERE type = 'table';";
        let tables: Vec<(String, Option<String>)> = {
            let mut stmt = conn.prepare(SQL).sql_context(SQL)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .sql_context(SQL)?;
            rows
        };
        let mut out = Vec::new();
        for (internal, sql) in tables {
            let Some(sql) = sql else { continue };
            if let Some((name, local_only)) = parse_internal_name(&internal) {
                out.push(Self {
                    name: name.to_string(),
                    internal: internal.clone(),
                    local_only,
                    direct: None,
                });
            } else if !ignore_direct && sql.contains(DIRECT_TABLE_MARKER) {
                let columns = direct_columns(conn, &internal)?;
                out.push(Self {
                    name: internal.clone(),
                    internal,
                    local_only: sql.contains(LOCAL_ONLY_MARKER),
                    direct: Some(columns),
                });
            }
        }
        Ok(out)
    }
}

/// The columns of a direct table other than `id`; fails like the reference when the table
/// has no `id` column.
fn direct_columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    const SQL: &str = "select name, type from pragma_table_info(?)";
    let names: Vec<String> = {
        let mut stmt = conn.prepare(SQL).sql_context(SQL)?;
        let rows = stmt
            .query_map([table], |r| r.get(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .sql_context(SQL)?;
        rows
    };
    let has_id = names.iter().any(|n| n == "id");
    let columns: Vec<String> = names.into_iter().filter(|n| n != "id").collect();
    if !has_id && columns.is_empty() {
        return Err(PowerSyncError::argument(format!(
            "Could not find {table} in local schema."
        )));
    }
    if !has_id {
        return Err(PowerSyncError::argument(format!(
            "Table {table} has no id column."
        )));
    }
    Ok(columns)
}

/// The generated views (ending with `-- powersync-auto-generated`) and the trigger sets of
/// direct tables, keyed by view / table name. The triggers of each are those on it whose
/// names start with `ps_view_delete`, `ps_view_insert` and `ps_view_update`, each kind
/// joined with `;\n` in descending name order (so extra triggers of a kind make the set
/// differ from the generated one).
pub(super) fn existing_views(
    conn: &Connection,
    tables: &[ExistingTable],
) -> Result<BTreeMap<String, ViewDefinition>> {
    const VIEWS: &str =
        "SELECT name, sql FROM sqlite_schema WHERE type = 'view' AND sql GLOB '*-- powersync-auto-generated'";
    const TRIGGERS: &str =
        "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ? ORDER BY name DESC";

    let views: Vec<(String, String)> = {
        let mut stmt = conn.prepare(VIEWS).sql_context(VIEWS)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .sql_context(VIEWS)?;
        rows
    };
    let mut find_triggers = conn.prepare(TRIGGERS).sql_context(TRIGGERS)?;
    let mut complete = |name: String, direct: bool, view: String| -> Result<ViewDefinition> {
        let triggers: Vec<(String, Option<String>)> = find_triggers
            .query_map([&name], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .sql_context(TRIGGERS)?;
        let (mut delete, mut insert, mut update) = (String::new(), String::new(), String::new());
        for (trigger, sql) in triggers {
            let target = if trigger.starts_with("ps_view_delete") {
                &mut delete
            } else if trigger.starts_with("ps_view_insert") {
                &mut insert
            } else if trigger.starts_with("ps_view_update") {
                &mut update
            } else {
                continue;
            };
            if !target.is_empty() {
                target.push_str(";\n");
            }
            target.push_str(sql.as_deref().unwrap_or_default());
        }
        Ok(ViewDefinition {
            name,
            direct,
            view,
            delete,
            insert,
            update,
        })
    };

    let mut out = BTreeMap::new();
    for (name, sql) in views {
        let definition = complete(name.clone(), false, sql)?;
        out.insert(name, definition);
    }
    for table in tables.iter().filter(|t| t.direct.is_some()) {
        let definition = complete(table.name.clone(), true, String::new())?;
        out.insert(table.name.clone(), definition);
    }
    Ok(out)
}
