//! Views, INSTEAD OF triggers and indexes generated for schema tables (see
//! docs/sql-surface.md#generated-sql).

use super::raw_trigger::{after_write_trigger, AfterWriteTrigger, WriteType};
use super::sql::{
    extract_column, json_object_fragment, quote_identifier, quote_string, CrudInsert, ID_CHECK,
    ID_UNCHANGED_CHECK,
};
use super::{Index, Table};
use crate::error::Result;

/// The view of a table and the SQL of its triggers, in the shape used to decide whether an
/// existing view is up to date. Empty strings stand for absent triggers. Direct tables have
/// no view, only the three AFTER triggers on the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewDefinition {
    /// View name (the table's name for direct tables).
    pub name: String,
    /// Whether this is the trigger set of a direct table.
    pub direct: bool,
    /// `CREATE VIEW` statement (empty for direct tables).
    pub view: String,
    /// Delete trigger, followed by `;\n` and the `delete2` trigger for synced tables with
    /// `include_metadata`.
    pub delete: String,
    /// Insert trigger.
    pub insert: String,
    /// Update trigger.
    pub update: String,
}

impl ViewDefinition {
    /// Generates the definition of `table`'s view.
    pub fn for_table(table: &Table) -> Result<Self> {
        if table.direct {
            return Self::for_direct_table(table);
        }
        let generator = Generator::new(table);
        Ok(Self {
            name: table.view_name().to_string(),
            direct: false,
            view: generator.view(),
            delete: generator.delete_triggers()?,
            insert: generator.insert_trigger()?,
            update: generator.update_trigger()?,
        })
    }

    /// The AFTER triggers of a direct table: generated like raw-table triggers, with the
    /// table name as CRUD type and all declared columns.
    fn for_direct_table(table: &Table) -> Result<Self> {
        let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        let trigger = |write: WriteType| {
            after_write_trigger(&AfterWriteTrigger {
                trigger_name: &direct_trigger_name(&table.name, write),
                table: &table.name,
                type_name: &table.name,
                columns: &columns,
                options: &table.options,
                only_synced_changes: false,
                write,
            })
        };
        Ok(Self {
            name: table.name.clone(),
            direct: true,
            view: String::new(),
            delete: trigger(WriteType::Delete)?,
            insert: trigger(WriteType::Insert)?,
            update: trigger(WriteType::Update)?,
        })
    }
}

/// `ps_view_{insert,update,delete}_<table>`: the names of a direct table's triggers.
pub(super) fn direct_trigger_name(table: &str, write: WriteType) -> String {
    let kind = match write {
        WriteType::Insert => "insert",
        WriteType::Update => "update",
        WriteType::Delete => "delete",
    };
    format!("ps_view_{kind}_{table}")
}

/// Marks indexes of direct tables (and any index containing it) as PowerSync's: indexes of
/// JSON tables are recognised by their `ps_data_` prefix instead.
pub(super) const MANAGED_INDEX_MARKER: &str = "/* ps-managed */";

/// `CREATE INDEX "{internal}__{index}" ON "{internal}"(...)` and the index name. Direct
/// tables index their plain columns (declared types are ignored) and carry
/// `MANAGED_INDEX_MARKER` right after the name.
pub fn index_sql(table: &Table, index: &Index) -> (String, String) {
    let internal = table.internal_name();
    let name = format!("{internal}__{}", index.name);
    let columns: Vec<String> = index
        .columns
        .iter()
        .map(|c| {
            let mut value = if table.direct {
                quote_identifier(&c.name)
            } else {
                extract_column(&c.name, &c.type_name)
            };
            if !c.ascending {
                value.push_str(" DESC");
            }
            value
        })
        .collect();
    let (marker, target) = if table.direct {
        (MANAGED_INDEX_MARKER, quote_identifier(&table.name))
    } else {
        ("", quote_identifier(&internal))
    };
    let sql = format!(
        "CREATE INDEX {}{marker} ON {target}({})",
        quote_identifier(&name),
        columns.join(", ")
    );
    (name, sql)
}

/// Fragments of one table shared by its view and triggers.
struct Generator<'a> {
    table: &'a Table,
    /// Quoted view name.
    view: String,
    /// Quoted data table name.
    internal: String,
    columns: Vec<&'a str>,
}

impl<'a> Generator<'a> {
    fn new(table: &'a Table) -> Self {
        Self {
            table,
            view: quote_identifier(table.view_name()),
            internal: quote_identifier(&table.internal_name()),
            columns: table.columns.iter().map(|c| c.name.as_str()).collect(),
        }
    }

    fn fragment(&self, prefix: &str) -> Result<String> {
        json_object_fragment(prefix, self.columns.iter().copied())
    }

    /// The columns whose old values are recorded, or `None` without `include_old`.
    fn old_columns(&self) -> Option<Vec<&'a str>> {
        let include = self.table.options.include_old.as_ref()?;
        Some(
            self.columns
                .iter()
                .copied()
                .filter(|c| include.includes(c))
                .collect(),
        )
    }

    fn trigger_head(&self, kind: &str, event: &str) -> String {
        format!(
            "CREATE TRIGGER {} INSTEAD OF {event} ON {} FOR EACH ROW",
            quote_identifier(&format!("ps_view_{kind}_{}", self.table.view_name())),
            self.view
        )
    }

    fn metadata(&self) -> Option<&'static str> {
        self.table
            .options
            .flags
            .include_metadata()
            .then_some("NEW._metadata")
    }

    fn view(&self) -> String {
        let mut names = vec![quote_identifier("id")];
        let mut values = vec!["id".to_string()];
        for column in &self.table.columns {
            names.push(quote_identifier(&column.name));
            values.push(extract_column(&column.name, &column.type_name));
        }
        if self.table.options.flags.include_metadata() {
            names.push(quote_identifier("_metadata"));
            names.push(quote_identifier("_deleted"));
            values.push("NULL".into());
            values.push("NULL".into());
        }
        format!(
            "CREATE VIEW {}({}) AS SELECT {} FROM {} -- powersync-auto-generated",
            self.view,
            names.join(", "),
            values.join(", "),
            self.internal
        )
    }

    fn delete_triggers(&self) -> Result<String> {
        let table = self.table;
        if table.insert_only() {
            return Ok(String::new());
        }
        let mut sql = format!(
            "{} BEGIN\nDELETE FROM {} WHERE id = OLD.id;\n",
            self.trigger_head("delete", "DELETE"),
            self.internal
        );
        if table.local_only() {
            sql.push_str("END");
            return Ok(sql);
        }
        let old_values = self.old_values(false)?;
        sql.push_str(
            &CrudInsert {
                op: "DELETE",
                id: "OLD.id",
                type_name: &table.name,
                data: None,
                old_values: old_values.clone(),
                metadata: None,
                options: None,
            }
            .sql(),
        );
        sql.push_str("END");
        if table.options.flags.include_metadata() {
            sql.push_str(";\n");
            sql.push_str(&format!(
                "{} WHEN NEW._deleted IS TRUE BEGIN DELETE FROM {} WHERE id = OLD.id; ",
                self.trigger_head("delete2", "UPDATE"),
                self.internal
            ));
            sql.push_str(
                &CrudInsert {
                    op: "DELETE",
                    id: "OLD.id",
                    type_name: &table.name,
                    data: None,
                    old_values,
                    metadata: Some("NEW._metadata"),
                    options: None,
                }
                .sql(),
            );
            sql.push_str("END");
        }
        Ok(sql)
    }

    fn insert_trigger(&self) -> Result<String> {
        let table = self.table;
        let new = self.fragment("NEW")?;
        let head = self.trigger_head("insert", "INSERT");
        if table.local_only() {
            return Ok(format!(
                "{head} BEGIN\nINSERT INTO {} SELECT NEW.id, {new};\nEND",
                self.internal
            ));
        }
        if table.insert_only() {
            return Ok(format!(
                "{head} BEGIN\n{ID_CHECK}INSERT INTO powersync_crud_(data) VALUES(json_object('op', 'PUT', 'type', {}, 'id', NEW.id, 'data', json(powersync_diff('{{}}', {new}))));END",
                quote_string(&table.name)
            ));
        }
        let crud = CrudInsert {
            op: "PUT",
            id: "NEW.id",
            type_name: &table.name,
            data: Some(format!("json(powersync_diff('{{}}', {new}))")),
            old_values: None,
            metadata: self.metadata(),
            options: None,
        };
        Ok(format!(
            "{head} BEGIN\n{ID_CHECK}INSERT INTO {} SELECT NEW.id, {new};\n{}END",
            self.internal,
            crud.sql()
        ))
    }

    fn update_trigger(&self) -> Result<String> {
        let table = self.table;
        if table.insert_only() {
            return Ok(String::new());
        }
        let new = self.fragment("NEW")?;
        let mut sql = self.trigger_head("update", "UPDATE");
        if table.options.flags.include_metadata() {
            sql.push_str("  WHEN NEW._deleted IS NOT TRUE");
        }
        sql.push_str(" BEGIN\n");
        sql.push_str(ID_UNCHANGED_CHECK);
        sql.push_str(&format!(
            "UPDATE {} SET data = {new} WHERE id = NEW.id;\n",
            self.internal
        ));
        if !table.local_only() {
            let old = self.fragment("OLD")?;
            sql.push_str(
                &CrudInsert {
                    op: "PATCH",
                    id: "NEW.id",
                    type_name: &table.name,
                    data: Some(format!("json(powersync_diff({old}, {new}))")),
                    old_values: self.old_values(true)?,
                    metadata: self.metadata(),
                    options: Some(table.options.flags.0),
                }
                .sql(),
            );
        }
        sql.push_str("END");
        Ok(sql)
    }

    fn old_values(&self, patch: bool) -> Result<Option<String>> {
        let Some(columns) = self.old_columns() else {
            return Ok(None);
        };
        old_values_expression(
            &columns,
            patch && self.table.options.flags.include_old_only_when_changed(),
        )
        .map(Some)
    }
}

/// `OLDV` of docs/sql-surface.md#sql-fragments: the old values of `columns`, or (for `PATCH` with
/// `include_old_only_when_changed`) only of those that changed.
pub(super) fn old_values_expression(columns: &[&str], only_changed: bool) -> Result<String> {
    let old = json_object_fragment("OLD", columns.iter().copied())?;
    if only_changed {
        let new = json_object_fragment("NEW", columns.iter().copied())?;
        Ok(format!("json(powersync_diff({new}, {old}))"))
    } else {
        Ok(old)
    }
}
