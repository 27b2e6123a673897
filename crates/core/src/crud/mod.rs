//! The local write queue: `powersync_crud` / `powersync_crud_` virtual tables, `ps_crud` rows
//! and `ps_tx` transaction ids. See docs/sql-surface.md#the-crud-queue.
//!
//! Generated triggers (and raw-table triggers) record local changes by inserting into these
//! eponymous virtual tables. Virtual tables, unlike triggers, get xBegin/xCommit/xRollback
//! callbacks, which is how every change of one SQLite transaction gets the same `tx_id`.

mod args;
mod manual;
mod simple;
mod vtab;

use crate::error::Result;
use crate::state::ConnectionState;
use crate::util::vtab::register as register_table;
use rusqlite::Connection;
use std::sync::Arc;

/// The CRUD transaction id shared by both CRUD virtual tables within one SQLite transaction.
///
/// Whichever table SQLite begins first allocates the id from `ps_tx` and publishes it here;
/// the other one reuses it. The allocating table clears it when the transaction ends.
#[derive(Debug, Default)]
pub struct CrudTxState {
    current_tx: Option<i64>,
}

/// Registers the CRUD virtual tables.
pub fn register(conn: &Connection, state: &Arc<ConnectionState>) -> Result<()> {
    register_table::<vtab::CrudTab<manual::Manual>>(conn, c"powersync_crud_", state)?;
    register_table::<vtab::CrudTab<simple::Simple>>(conn, c"powersync_crud", state)?;
    Ok(())
}
