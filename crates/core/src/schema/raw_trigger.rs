//! `powersync_create_raw_table_crud_trigger(raw_table_json, trigger_name, write_type)`
//! (docs/sql-surface.md#raw-table-triggers): a trigger on an app-managed table that records local writes
//! in the CRUD queue.

use super::sql::{
    exec, json_object_fragment, quote_identifier, quote_string, CrudInsert, ID_UNCHANGED_CHECK_ABORT,
};
use super::views::old_values_expression;
use super::RawTable;
use super::TableOptions;
use crate::error::{PowerSyncError, Result, SqlResultExt};
use crate::sql_fn::{self, Output};
use rusqlite::Connection;

/// The write a trigger fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteType {
    /// `AFTER INSERT`: records a `PUT`.
    Insert,
    /// `AFTER UPDATE`: records a `PATCH`.
    Update,
    /// `AFTER DELETE`: records a `DELETE`.
    Delete,
}

impl WriteType {
    /// Parses `INSERT`, `UPDATE` or `DELETE` (case-sensitive).
    pub(crate) fn parse(text: &str) -> Result<Self> {
        match text {
            "INSERT" => Ok(Self::Insert),
            "UPDATE" => Ok(Self::Update),
            "DELETE" => Ok(Self::Delete),
            other => Err(PowerSyncError::argument(format!("unexpected write type {other}"))),
        }
    }

    /// All write types, in the order the reference drops a direct table's triggers.
    pub(crate) const ALL: [WriteType; 3] = [Self::Insert, Self::Update, Self::Delete];

    /// `INSERT`, `UPDATE` or `DELETE`.
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            Self::Insert => "INSERT",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
        }
    }
}

/// The synced columns of the raw table's SQLite table: table order, without `id`,
/// restricted to `synced_columns` when given.
fn resolve_columns(conn: &Connection, table: &RawTable, local_name: &str) -> Result<Vec<String>> {
    const SQL: &str = "select name from pragma_table_info(?)";
    let mut stmt = conn.prepare(SQL).sql_context(SQL)?;
    let names = stmt
        .query_map([local_name], |row| row.get::<_, String>(0))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .sql_context(SQL)?;
    let has_id = names.iter().any(|n| n == "id");
    let columns: Vec<String> = names
        .into_iter()
        .filter(|n| n != "id")
        .filter(|n| {
            table
                .synced_columns
                .as_ref()
                .is_none_or(|synced| synced.contains(n))
        })
        .collect();
    // As the reference: "not found" only when nothing at all was kept, so a table without
    // `id` whose columns are all filtered out counts as missing.
    if !has_id && columns.is_empty() {
        return Err(PowerSyncError::argument(format!(
            "Could not find {local_name} in local schema."
        )));
    }
    if !has_id {
        return Err(PowerSyncError::argument(format!(
            "Table {local_name} has no id column."
        )));
    }
    Ok(columns)
}

/// Generates the `CREATE TRIGGER` statement for `table` (reads the table's columns). Empty
/// when the trigger would do nothing (local-only tables on INSERT and DELETE).
pub(crate) fn generate_raw_table_trigger(
    conn: &Connection,
    table: &RawTable,
    trigger_name: &str,
    write: WriteType,
) -> Result<String> {
    let Some(local_name) = table.table_name.as_deref() else {
        return Err(PowerSyncError::argument(format!(
            "Raw table {} has no local name",
            table.name
        )));
    };
    let columns = resolve_columns(conn, table, local_name)?;
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    after_write_trigger(&AfterWriteTrigger {
        trigger_name,
        table: local_name,
        type_name: &table.name,
        columns: &columns,
        options: &table.options,
        only_synced_changes: table.synced_columns.is_some(),
        write,
    })
}

/// An AFTER trigger recording local writes on a real table (raw or direct) in the CRUD
/// queue.
pub(super) struct AfterWriteTrigger<'a> {
    /// Name of the trigger.
    pub trigger_name: &'a str,
    /// The table it fires on.
    pub table: &'a str,
    /// The CRUD `type`.
    pub type_name: &'a str,
    /// The recorded columns (without `id`).
    pub columns: &'a [&'a str],
    /// Flags and `include_old`.
    pub options: &'a TableOptions,
    /// UPDATE only fires when one of `columns` changed (raw tables with `synced_columns`).
    pub only_synced_changes: bool,
    /// The write it fires on.
    pub write: WriteType,
}

/// The SQL of an [`AfterWriteTrigger`]; empty when it would have no statement.
pub(super) fn after_write_trigger(t: &AfterWriteTrigger<'_>) -> Result<String> {
    let (columns, flags, write) = (t.columns, t.options.flags, t.write);
    let mut sql = format!(
        "CREATE TRIGGER {} AFTER {} ON {} FOR EACH ROW WHEN NOT powersync_in_sync_operation()",
        quote_identifier(t.trigger_name),
        write.keyword(),
        quote_identifier(t.table)
    );
    if write == WriteType::Update && t.only_synced_changes {
        // Only changes of synced columns are recorded.
        let changed: Vec<String> = columns
            .iter()
            .map(|c| {
                let c = quote_identifier(c);
                format!("OLD.{c} IS NOT NEW.{c}")
            })
            .collect();
        sql.push_str(&format!(" AND\n({})", changed.join(" OR ")));
    }
    sql.push_str(" BEGIN\n");

    let fragment = |prefix: &str| json_object_fragment(prefix, columns.iter().copied());
    // `insert_only` is ignored on local-only tables.
    if flags.insert_only() && !flags.local_only() {
        if write == WriteType::Insert {
            sql.push_str(&format!(
                "INSERT INTO powersync_crud_(data) VALUES(json_object('op', 'PUT', 'type', {}, 'id', NEW.id, 'data', json(powersync_diff('{{}}', {}))));END",
                quote_string(t.type_name),
                fragment("NEW")?
            ));
        } else {
            // ABORT (not FAIL): the AFTER trigger runs once the row has changed, and only
            // ABORT reverts that change (and the statement's earlier rows).
            sql.push_str("SELECT RAISE(ABORT, 'Unexpected update on insert-only table');\nEND");
        }
        return Ok(sql);
    }

    if write == WriteType::Update {
        sql.push_str(ID_UNCHANGED_CHECK_ABORT);
    }
    if flags.local_only() {
        // Nothing is uploaded: only the id check of UPDATE remains, and triggers without
        // any statement are not created at all.
        if write != WriteType::Update {
            return Ok(String::new());
        }
        sql.push_str("END");
        return Ok(sql);
    }

    let old_values = |patch: bool| -> Result<Option<String>> {
        let Some(include) = &t.options.include_old else {
            return Ok(None);
        };
        let filtered: Vec<&str> = columns.iter().copied().filter(|c| include.includes(c)).collect();
        old_values_expression(&filtered, patch && flags.include_old_only_when_changed()).map(Some)
    };
    let crud = match write {
        WriteType::Insert => CrudInsert {
            op: "PUT",
            id: "NEW.id",
            type_name: t.type_name,
            data: Some(format!("json(powersync_diff('{{}}', {}))", fragment("NEW")?)),
            old_values: None,
            metadata: None,
            options: None,
        },
        WriteType::Update => CrudInsert {
            op: "PATCH",
            id: "NEW.id",
            type_name: t.type_name,
            data: Some(format!(
                "json(powersync_diff({}, {}))",
                fragment("OLD")?,
                fragment("NEW")?
            )),
            old_values: old_values(true)?,
            metadata: None,
            // Unlike regular tables, all flag bits are passed through.
            options: Some(flags.0),
        },
        WriteType::Delete => CrudInsert {
            op: "DELETE",
            id: "OLD.id",
            type_name: t.type_name,
            data: None,
            old_values: old_values(false)?,
            metadata: None,
            options: None,
        },
    };
    sql.push_str(&crud.sql());
    sql.push_str("END");
    Ok(sql)
}

/// Registers `powersync_create_raw_table_crud_trigger`.
pub(super) fn register(conn: &Connection) -> Result<()> {
    sql_fn::register(conn, "powersync_create_raw_table_crud_trigger", 3, 0, |call| {
        let table = RawTable::from_json(&super::arg_text(call, 0))?;
        let trigger_name = call.text_lossy(1);
        let write = WriteType::parse(&call.text_lossy(2))?;
        let conn = call.connection();
        let sql = generate_raw_table_trigger(&conn, &table, &trigger_name, write)?;
        exec(&conn, &sql)?;
        Ok(Output::Null)
    })
}
