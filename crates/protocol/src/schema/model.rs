//! The schema JSON passed to `powersync_replace_schema` (docs/sql-surface.md#the-schema-json).
//!
//! Decoded with serde_json so that error messages (`missing field`, `invalid type`, positions)
//! are those of the reference; struct names appear in messages (`expected struct Table`).

use super::options::TableOptions;
use super::raw_table::RawTable;
use crate::error::{Error, Result};
use serde::Deserialize;

/// A parsed app schema.
///
/// Decoded through `NonValidatedSchema` and then checked, like the reference: the check's
/// error is a custom serde error, which carries no position when the schema is the whole
/// document (`powersync_replace_schema`) and the position after the schema value when it is
/// nested (the `start` payload). The inner struct's name appears in serde messages
/// (`expected struct NonValidatedSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "NonValidatedSchema")]
pub struct Schema {
    /// Tables managed by PowerSync: JSON tables (`ps_data__*` / `ps_data_local__*` behind
    /// views) and direct tables.
    pub tables: Vec<Table>,
    /// Tables managed by the app; only their `clear` statements are used here.
    pub raw_tables: Vec<RawTable>,
}

/// The schema as decoded, before [`Schema`]'s checks.
#[derive(Deserialize)]
struct NonValidatedSchema {
    tables: Vec<Table>,
    #[serde(default)]
    raw_tables: Vec<RawTable>,
}

impl TryFrom<NonValidatedSchema> for Schema {
    type Error = &'static str;

    fn try_from(value: NonValidatedSchema) -> std::result::Result<Self, Self::Error> {
        // A direct table has no view, so a view name would be meaningless.
        if value
            .tables
            .iter()
            .any(|t| t.direct && t.view_name_override.is_some())
        {
            return Err("Direct tables can't have custom view names");
        }
        Ok(Schema {
            tables: value.tables,
            raw_tables: value.raw_tables,
        })
    }
}

impl Schema {
    /// Parses schema JSON; errors are argument errors with serde_json's message as cause.
    pub fn from_json(json: &[u8]) -> Result<Self> {
        serde_json::from_slice(json).map_err(Error::json_argument)
    }
}

/// A table of the schema.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Table {
    /// Public name: the CRUD `type` and the default view name.
    pub name: String,
    /// Overrides the view name.
    #[serde(rename = "view_name")]
    pub view_name_override: Option<String>,
    /// Columns in view order (`id` is implicit).
    pub columns: Vec<Column>,
    /// Indexes on the data table.
    #[serde(default)]
    pub indexes: Vec<Index>,
    /// Flags and `include_old`.
    #[serde(flatten)]
    pub options: TableOptions,
    /// A direct table: rows live in a real table named like the table, with one column per
    /// declared column, instead of JSON behind a view.
    #[serde(default)]
    pub direct: bool,
}

impl Table {
    /// Whether the table is local-only (stored in `ps_data_local__*`, never uploaded).
    pub fn local_only(&self) -> bool {
        self.options.flags.local_only()
    }

    /// Whether the table is insert-only. `insert_only` is ignored on local-only tables.
    pub fn insert_only(&self) -> bool {
        self.options.flags.insert_only() && !self.local_only()
    }

    /// The name of the view (for direct tables: of the table itself).
    pub fn view_name(&self) -> &str {
        self.view_name_override.as_deref().unwrap_or(&self.name)
    }

    /// The name of the `ps_data__` table storing the rows of a JSON table. Also the prefix of
    /// index names, direct tables included.
    pub fn internal_name(&self) -> String {
        internal_name(&self.name, self.local_only())
    }
}

/// `ps_data_local__{name}` or `ps_data__{name}`.
pub fn internal_name(name: &str, local_only: bool) -> String {
    if local_only {
        format!("ps_data_local__{name}")
    } else {
        format!("ps_data__{name}")
    }
}

/// Maps a data table name back to (public name, local-only); `None` for other `ps_data_*`
/// names.
pub fn parse_internal_name(internal: &str) -> Option<(&str, bool)> {
    if let Some(name) = internal.strip_prefix("ps_data_local__") {
        Some((name, true))
    } else {
        internal.strip_prefix("ps_data__").map(|name| (name, false))
    }
}

/// A column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Column {
    /// Column name (the JSON key in `data`).
    pub name: String,
    /// SQL type used verbatim in `CAST(... as <type>)`.
    #[serde(rename = "type")]
    pub type_name: String,
}

/// An index on a table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Index {
    /// Index name; the SQLite index is `{internal name}__{name}`.
    pub name: String,
    /// Indexed columns in order.
    pub columns: Vec<IndexedColumn>,
}

/// One column of an index.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IndexedColumn {
    /// Column name.
    pub name: String,
    /// Ascending (`true`) or descending order.
    pub ascending: bool,
    /// SQL type used verbatim in the cast.
    #[serde(rename = "type")]
    pub type_name: String,
}
