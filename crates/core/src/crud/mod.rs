//! The local write queue: `powersync_crud` / `powersync_crud_` virtual tables, `ps_crud` rows
//! and `ps_tx` transaction ids. Spec: schema-and-crud §9.

use crate::error::Result;
use crate::state::ConnectionState;
use rusqlite::Connection;
use std::sync::Arc;

/// The CRUD transaction id shared by both CRUD virtual tables within one SQLite transaction.
#[derive(Debug, Default)]
pub struct CrudTxState {}

/// Registers the CRUD virtual tables.
pub fn register(_conn: &Connection, _state: &Arc<ConnectionState>) -> Result<()> {
    Ok(())
}
