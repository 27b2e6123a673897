//! Raw tables (docs/sql-surface.md#raw-tables-in-the-schema): tables the app manages itself. The extension
//! never creates or drops them; the sync client writes downloaded rows with `put`/`delete`,
//! `powersync_clear` runs `clear`, and `powersync_create_raw_table_crud_trigger` generates
//! triggers from `table_name`, `synced_columns` and the options.

use super::options::TableOptions;
use crate::error::{Error, Result};
use serde::Deserialize;

/// A raw table definition.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "wire::RawTable")]
pub struct RawTable {
    /// The sync `type` routed to this table (and the CRUD `type` of its triggers).
    pub name: String,
    /// Statement applying a downloaded row; inferred from `table_name` when absent.
    pub put: Option<PendingStatementSource>,
    /// Statement removing a row; inferred from `table_name` when absent.
    pub delete: Option<PendingStatementSource>,
    /// SQL run by `powersync_clear` to empty the table.
    pub clear: Option<String>,
    /// The SQLite table, needed for triggers and inferred statements.
    pub table_name: Option<String>,
    /// The columns that are synced (all but `id` when absent).
    pub synced_columns: Option<Vec<String>>,
    /// Flags and `include_old`.
    pub options: TableOptions,
}

impl RawTable {
    /// Parses one raw table definition (the first argument of
    /// `powersync_create_raw_table_crud_trigger`).
    pub fn from_json(json: &[u8]) -> Result<Self> {
        serde_json::from_slice(json).map_err(Error::json_argument)
    }
}

/// The shape the reference decodes raw tables with: `table_name`, `synced_columns` and the
/// options sit in a flattened struct, which decides the positions and the order of decoding
/// errors (they are reported at the end of the object, after `name`, `put`, `delete` and
/// `clear`).
mod wire {
    use super::{PendingStatementSource, TableOptions};
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(rename = "RawTable")]
    pub struct RawTable {
        name: String,
        put: Option<PendingStatementSource>,
        delete: Option<PendingStatementSource>,
        clear: Option<String>,
        #[serde(flatten)]
        schema: RawTableSchema,
    }

    #[derive(Deserialize)]
    struct RawTableSchema {
        table_name: Option<String>,
        synced_columns: Option<Vec<String>>,
        #[serde(flatten)]
        options: TableOptions,
    }

    impl From<RawTable> for super::RawTable {
        fn from(wire: RawTable) -> Self {
            Self {
                name: wire.name,
                put: wire.put,
                delete: wire.delete,
                clear: wire.clear,
                table_name: wire.schema.table_name,
                synced_columns: wire.schema.synced_columns,
                options: wire.schema.options,
            }
        }
    }
}

/// A statement with its parameter sources.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PendingStatementSource {
    /// SQL text with `?` placeholders.
    pub sql: String,
    /// What to bind to each placeholder, in order.
    pub params: Vec<PendingStatementValue>,
}

/// The source of one statement parameter.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub enum PendingStatementValue {
    /// The row id.
    Id,
    /// The value of a column of the downloaded row.
    Column(String),
    /// A JSON object of all columns not bound otherwise.
    Rest,
    /// The row's data text exactly as downloaded (not parsed, not re-serialised).
    Row,
}

impl PendingStatementValue {
    /// Whether binding this parameter needs the row's data parsed as a JSON object.
    pub fn needs_parsed_data(&self) -> bool {
        matches!(self, Self::Column(_) | Self::Rest)
    }
}
