//! Raw tables as given in the `schema` of `start` (spec §6.8, schema-and-crud §5.2).
//!
//! Only the parts sync needs are decoded here; `clear` and the trigger options belong to the
//! schema module and are ignored.

use serde::Deserialize;

/// One raw table.
#[derive(Debug, Clone, Deserialize)]
pub struct RawTable {
    /// The sync object type routed to this table.
    pub name: String,
    /// Actual SQLite table (for inferred statements).
    #[serde(default)]
    pub table_name: Option<String>,
    /// Columns to sync when statements are inferred.
    #[serde(default)]
    pub synced_columns: Option<Vec<String>>,
    /// Statement for inserts/updates.
    #[serde(default)]
    pub put: Option<PendingStatement>,
    /// Statement for deletes.
    #[serde(default)]
    pub delete: Option<PendingStatement>,
}

/// An SQL statement with the sources of its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PendingStatement {
    /// SQL text.
    pub sql: String,
    /// One source per `?` parameter.
    pub params: Vec<StatementParam>,
}

/// Where a raw-table statement parameter comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub enum StatementParam {
    /// The row id.
    Id,
    /// A key of the row's JSON object.
    Column(String),
    /// All other keys, as a JSON object.
    Rest,
}
