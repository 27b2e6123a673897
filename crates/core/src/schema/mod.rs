//! The app schema: parsing schema JSON, generating views/triggers/indexes, and
//! `powersync_replace_schema` / `powersync_create_raw_table_crud_trigger`.
//! Spec: schema-and-crud §5–§8.

mod model;
mod options;
mod raw_table;
mod raw_trigger;
mod replace;
mod sql;
mod views;

pub use model::{internal_name, Column, Index, IndexedColumn, Schema, Table};
pub use options::{DiffIncludeOld, TableInfoFlags, TableOptions};
pub use raw_table::{PendingStatementSource, PendingStatementValue, RawTable};
pub use raw_trigger::{generate_raw_table_trigger, WriteType};
pub use replace::replace_schema;
pub use sql::{quote_identifier, quote_string};
pub use views::{index_sql, ViewDefinition};

use crate::error::Result;
use crate::sql_fn::{self, Call, Output};
use crate::state::ConnectionState;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::borrow::Cow;
use std::sync::Arc;

/// Registers `powersync_replace_schema` and `powersync_create_raw_table_crud_trigger`.
pub fn register(conn: &Connection, state: &Arc<ConnectionState>) -> Result<()> {
    let state = state.clone();
    sql_fn::register(conn, "powersync_replace_schema", 1, 0, move |call| {
        call.require_transaction()?;
        let schema = Schema::from_json(&arg_text(call, 0))?;
        replace_schema(&call.connection(), &schema)?;
        // Only a successfully applied schema is remembered (used by powersync_clear).
        *state.schema.lock().unwrap_or_else(|e| e.into_inner()) = Some(schema);
        Ok(Output::Text(String::new()))
    })?;
    raw_trigger::register(conn)
}

/// Argument `i` as the bytes `sqlite3_value_text` would return (NULL → empty), without a
/// lossy UTF-8 conversion so that JSON error positions stay byte-exact.
fn arg_text<'a>(call: &'a Call<'_>, i: usize) -> Cow<'a, [u8]> {
    match call.arg(i) {
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => Cow::Borrowed(bytes),
        _ => Cow::Owned(call.text_lossy(i).into_bytes()),
    }
}
