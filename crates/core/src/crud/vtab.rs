//! The virtual-table machinery shared by both CRUD tables: declaration, rejecting reads and
//! updates, and transaction ids (docs/sql-surface.md#transaction-ids).

use super::args::{Arg, Values};
use crate::error::{PowerSyncError, Result};
use crate::ffi::stmt::RawStatement;
use crate::state::ConnectionState;
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
    /// Non-owning handle on the table's connection. Our prepared statements (here and in
    /// `mode`) are finalized when SQLite disconnects the table, before closing the connection.
    conn: Connection,
    state: Arc<ConnectionState>,
    tx: Option<ActiveTx>,
    mode: M,
    bump_tx: Option<RawStatement>,
    read_tx: Option<RawStatement>,
}

/// The statement in `slot`, prepared on first use; errors name `report`.
///
/// The CRUD tables run a few statements on every local write. Kept prepared here they cost
/// neither rusqlite's cache lookup (hashing the SQL text) nor copies of the bound texts.
pub(super) fn prepared<'s>(
    slot: &'s mut Option<RawStatement>,
    conn: &Connection,
    sql: &str,
    report: &str,
) -> Result<&'s mut RawStatement> {
    Ok(match slot {
        Some(stmt) => stmt,
        slot => slot.insert(RawStatement::prepare_reporting(conn, sql, report)?),
    })
}

/// The reference's statement, named in errors.
const NEXT_TX: &str = "UPDATE ps_tx SET next_tx = next_tx + 1 WHERE id = 1 RETURNING next_tx";
/// The same as two statements: RETURNING materialises its rows in an ephemeral table (a
/// temporary b-tree and page cache opened and closed on every local-write transaction),
/// which cost more than a second lookup of the same row.
const BUMP_TX: &str = "UPDATE ps_tx SET next_tx = next_tx + 1 WHERE id = 1";
const READ_TX: &str = "SELECT next_tx FROM ps_tx WHERE id = 1";

impl<M: CrudMode> CrudTab<M> {
    fn shared(&self) -> MutexGuard<'_, super::CrudTxState> {
        self.state.crud.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the next id from `ps_tx` (as part of the SQLite transaction, so a rollback
    /// returns it). A NULL `next_tx` yields -1, as in the reference.
    fn allocate_tx_id(&mut self) -> Result<i64> {
        let bump = prepared(&mut self.bump_tx, &self.conn, BUMP_TX, NEXT_TX)?;
        bump.execute(|_| {})?;
        if bump.changes() == 0 {
            return Err(PowerSyncError::Internal(None));
        }
        let read = prepared(&mut self.read_tx, &self.conn, READ_TX, NEXT_TX)?;
        let mut next = None;
        read.query(
            |_| {},
            |row| {
                next = Some(row.int(0));
                Ok(())
            },
        )?;
        next.map(|n| n.wrapping_sub(1))
            .ok_or(PowerSyncError::Internal(None))
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
            bump_tx: None,
            read_tx: None,
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
