//! The app schema: parsing schema JSON, generating views/triggers/indexes, and
//! `powersync_replace_schema` / `powersync_create_raw_table_crud_trigger`.
//! Spec: schema-and-crud §5–§8.

use crate::error::Result;
use crate::state::ConnectionState;
use rusqlite::Connection;
use std::sync::Arc;

/// A parsed schema as passed to `powersync_replace_schema`.
#[derive(Debug, Clone, Default)]
pub struct Schema {}

/// Registers `powersync_replace_schema` and `powersync_create_raw_table_crud_trigger`.
pub fn register(_conn: &Connection, _state: &Arc<ConnectionState>) -> Result<()> {
    Ok(())
}
