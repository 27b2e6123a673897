//! The virtual-table machinery shared by both CRUD tables: declaration, rejecting reads and
//! updates, and transaction ids (docs/sql-surface.md#transaction-ids).

use super::args::{Arg, Values};
use crate::error::{PowerSyncError, Result, SqlResultExt};
use crate::state::ConnectionState;
use crate::util::sqlite_value::int64_of;
use crate::util::vtab::{EponymousTable, VtabResult};
use rusqlite::Connection;
use std::ffi::CStr;
use std::sync::{Arc, MutexGuard};

/// What differs between the simple and the manual CRUD table.
pub(super) trait CrudMode: Default + 'static {
    /// The exact `declare_vtab` statement.
    const SCHEMA: &'static CStr;

    /// Records one inserted row; `columns` gives the table's columns in declaration order
    /// (hidden `options` last).
    fn write(&mut self, conn: &Connection, tx: &mut ActiveTx, columns: Columns<'_>) -> Result<()>;
}

/// The column values of one xUpdate insert.
#[derive(Clone, Copy)]
pub(super) struct Columns<'a> {
    args: Values<'a>,
}

impl<'a> Columns<'a> {
    /// Column `i` in declaration order.
    pub(super) fn get(self, i: usize) -> Arg<'a> {
        // argv[0] is the old rowid (NULL), argv[1] the new rowid, then the columns.
        self.args.get(i + 2)
    }
}

/// The CRUD transaction a table takes part in.
#[derive(Debug)]
pub(super) struct ActiveTx {
    /// The `tx_id` of rows written in this transaction.
    pub id: i64,
    /// Whether this table allocated `id` (and must clear the shared state at the end).
    owns_id: bool,
    /// Whether this table already closed the local write gate in this transaction.
    pub gate_closed: bool,
}

/// One connection's instance of a CRUD virtual table.
pub(super) struct CrudTab<M: CrudMode> {
    /// Non-owning handle on the table's connection, caching our prepared statements (they
    /// are finalized when SQLite disconnects the table, before closing the connection).
    conn: Connection,
    state: Arc<ConnectionState>,
    tx: Option<ActiveTx>,
    mode: M,
}

const NEXT_TX: &str = "UPDATE ps_tx SET next_tx = next_tx + 1 WHERE id = 1 RETURNING next_tx";

impl<M: CrudMode> CrudTab<M> {
    fn shared(&self) -> MutexGuard<'_, super::CrudTxState> {
        self.state.crud.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the next id from `ps_tx` (as part of the SQLite transaction, so a rollback
    /// returns it). A NULL `next_tx` yields -1, as in the reference.
    fn allocate_tx_id(&self) -> Result<i64> {
        let mut stmt = self.conn.prepare_cached(NEXT_TX).sql_context(NEXT_TX)?;
        let mut rows = stmt.query([]).sql_context(NEXT_TX)?;
        match rows.next().sql_context(NEXT_TX)? {
            Some(row) => Ok(int64_of(row.get_ref(0).sql_context(NEXT_TX)?).wrapping_sub(1)),
            None => Err(PowerSyncError::Internal(None)),
        }
    }

    fn begin_tx(&mut self) -> Result<()> {
        let shared = self.shared().current_tx;
        let tx = match shared {
            Some(id) => ActiveTx {
                id,
                owns_id: false,
                gate_closed: false,
            },
            None => {
                let id = self.allocate_tx_id()?;
                self.shared().current_tx = Some(id);
                ActiveTx {
                    id,
                    owns_id: true,
                    gate_closed: false,
                }
            }
        };
        self.tx = Some(tx);
        Ok(())
    }

    fn end_tx(&mut self) {
        if let Some(tx) = self.tx.take() {
            if tx.owns_id {
                self.shared().current_tx = None;
            }
        }
    }
}

/// The tables are write-only: any query plan is refused, so SELECTs (and UPDATE/DELETE,
/// which need to scan) fail with "bad parameter or other API misuse".
impl<M: CrudMode> EponymousTable for CrudTab<M> {
    const SCHEMA: &'static CStr = M::SCHEMA;
    const READABLE: bool = false;
    const TRANSACTIONS: bool = true;

    fn connect(conn: Connection, state: &Arc<ConnectionState>) -> VtabResult<Self> {
        Ok(Self {
            conn,
            state: state.clone(),
            tx: None,
            mode: M::default(),
        })
    }

    /// Records a row, unless the sync client is applying data (then writes are ignored).
    /// Any explicit rowid is ignored.
    fn insert(&mut self, args: Values<'_>) -> VtabResult<()> {
        if self.state.in_sync_local() {
            return Ok(());
        }
        let tx = self
            .tx
            .as_mut()
            .ok_or_else(|| PowerSyncError::state("Not in tx"))?;
        self.mode.write(&self.conn, tx, Columns { args })?;
        Ok(())
    }

    /// SQLite calls this at the start of every statement that may write the table (also
    /// through triggers), once per transaction: that is when the transaction id is taken.
    fn begin(&mut self) -> VtabResult<()> {
        Ok(self.begin_tx()?)
    }

    fn end(&mut self) {
        self.end_tx();
    }
}
