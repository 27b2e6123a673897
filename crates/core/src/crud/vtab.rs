//! The virtual-table machinery shared by both CRUD tables: declaration, rejecting reads and
//! updates, and transaction ids (spec §9.4).

use super::args::Arg;
use crate::error::{PowerSyncError, Result, SqlResultExt};
use crate::state::ConnectionState;
use crate::util::pre_close::{misuse, NoRows};
use crate::util::sqlite_value::int64_of;
use rusqlite::types::ValueRef;
use rusqlite::vtab::{
    CreateVTab, IndexInfo, Inserts, TransactionVTab, UpdateVTab, Updates, VTab, VTabConnection, VTabKind,
};
use rusqlite::{ffi, Connection};
use std::borrow::Cow;
use std::ffi::CStr;
use std::sync::{Arc, MutexGuard};

/// What differs between the simple and the manual CRUD table.
pub trait CrudMode: Default + 'static {
    /// The exact `declare_vtab` statement.
    const SCHEMA: &'static CStr;

    /// Records one inserted row. `columns` are the table's columns in declaration order
    /// (hidden `options` last).
    fn write(&mut self, conn: &Connection, tx: &mut ActiveTx, columns: &[Arg<'_>]) -> Result<()>;
}

/// The CRUD transaction a table takes part in.
#[derive(Debug)]
pub struct ActiveTx {
    /// The `tx_id` of rows written in this transaction.
    pub id: i64,
    /// Whether this table allocated `id` (and must clear the shared state at the end).
    owns_id: bool,
    /// Whether this table already closed the local write gate in this transaction.
    pub gate_closed: bool,
}

/// One connection's instance of a CRUD virtual table.
#[repr(C)]
pub struct CrudTab<M: CrudMode> {
    /// Base class, must be first.
    base: ffi::sqlite3_vtab,
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

// SAFETY: `#[repr(C)]` with the base vtab first, as rusqlite requires.
unsafe impl<'vtab, M: CrudMode> VTab<'vtab> for CrudTab<M> {
    type Aux = Arc<ConnectionState>;
    type Cursor = NoRows<'vtab>;

    fn connect(
        db: &mut VTabConnection,
        aux: Option<&Self::Aux>,
        _module_name: &[u8],
        _database_name: &[u8],
        _table_name: &[u8],
        _args: &[&[u8]],
    ) -> rusqlite::Result<(Cow<'static, CStr>, Self)> {
        let state = aux.expect("registered with the connection state").clone();
        // SAFETY: the connection declaring this table outlives it (SQLite disconnects
        // eponymous tables before closing); the Connection does not own the handle.
        let conn = unsafe { Connection::from_handle(db.handle()) }?;
        let tab = Self {
            base: ffi::sqlite3_vtab::default(),
            conn,
            state,
            tx: None,
            mode: M::default(),
        };
        Ok((Cow::Borrowed(M::SCHEMA), tab))
    }

    /// The tables are write-only: any query plan is refused, so SELECTs (and UPDATE/DELETE,
    /// which need to scan) fail with "bad parameter or other API misuse".
    fn best_index(&self, _info: &mut IndexInfo) -> rusqlite::Result<bool> {
        Err(misuse())
    }

    fn open(&'vtab mut self) -> rusqlite::Result<Self::Cursor> {
        Err(misuse())
    }
}

impl<M: CrudMode> CreateVTab<'_> for CrudTab<M> {
    const KIND: VTabKind = VTabKind::EponymousOnly;
}

impl<M: CrudMode> UpdateVTab<'_> for CrudTab<M> {
    fn delete(&mut self, _: ValueRef<'_>) -> rusqlite::Result<()> {
        Err(misuse())
    }

    /// Records a row, unless the sync client is applying data (then writes are ignored).
    /// Any explicit rowid is ignored; the reported rowid is 0, as with the reference.
    fn insert(&mut self, args: &Inserts<'_>) -> rusqlite::Result<i64> {
        if self.state.in_sync_local() {
            return Ok(0);
        }
        let tx = self
            .tx
            .as_mut()
            .ok_or_else(|| PowerSyncError::state("Not in tx"))?;
        // argv[0] is the old rowid (NULL), argv[1] the new rowid, then the columns.
        let columns: Vec<Arg<'_>> = (2..args.len()).map(|i| Arg::of(args, i)).collect();
        self.mode.write(&self.conn, tx, &columns)?;
        Ok(0)
    }

    fn update(&mut self, _: &Updates<'_>) -> rusqlite::Result<()> {
        Err(misuse())
    }
}

impl<M: CrudMode> TransactionVTab<'_> for CrudTab<M> {
    /// SQLite calls this at the start of every statement that may write the table (also
    /// through triggers), once per transaction: that is when the transaction id is taken.
    fn begin(&mut self) -> rusqlite::Result<()> {
        Ok(self.begin_tx()?)
    }

    fn commit(&mut self) -> rusqlite::Result<()> {
        self.end_tx();
        Ok(())
    }

    fn rollback(&mut self) -> rusqlite::Result<()> {
        self.end_tx();
        Ok(())
    }
}
