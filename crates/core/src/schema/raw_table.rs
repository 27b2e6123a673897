//! Raw tables (spec: schema-and-crud §5.2): tables the app manages itself. The extension
//! never creates or drops them; the sync client writes downloaded rows with `put`/`delete`,
//! `powersync_clear` runs `clear`, and `powersync_create_raw_table_crud_trigger` generates
//! triggers from `table_name`, `synced_columns` and the options.

use super::options::TableOptions;
use crate::error::{PowerSyncError, Result};
use serde::Deserialize;

/// A raw table definition.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
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
    #[serde(flatten)]
    pub options: TableOptions,
}

impl RawTable {
    /// Parses one raw table definition (the first argument of
    /// `powersync_create_raw_table_crud_trigger`).
    pub fn from_json(json: &[u8]) -> Result<Self> {
        serde_json::from_slice(json).map_err(PowerSyncError::json_argument)
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
}
