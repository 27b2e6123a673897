//! The eponymous virtual table `powersync_internal_close`: a "before close" callback
//! (spec §10.11).
//!
//! Once connected, SQLite disconnects it during `sqlite3_close()` *before* checking for
//! unfinalized statements. The disconnect releases the sync client (whose cached statements
//! would otherwise make the close fail with BUSY) and uninstalls our update hooks. The table
//! itself has no rows and rejects inserts.

use crate::error::Result;
use crate::state::ConnectionState;
use crate::util::update_hooks;
use rusqlite::types::ValueRef;
use rusqlite::vtab::{
    Context, CreateVTab, Filters, IndexInfo, Inserts, Module, UpdateVTab, Updates, VTab, VTabConnection,
    VTabCursor, VTabKind,
};
use rusqlite::{ffi, Connection};
use std::borrow::Cow;
use std::ffi::{c_int, CStr};
use std::marker::PhantomData;
use std::sync::Arc;

/// The error virtual tables return for unsupported operations: `SQLITE_MISUSE` without a
/// message, so SQLite reports its generic "bad parameter or other API misuse".
pub fn misuse() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_MISUSE), None)
}

/// A cursor over no rows.
#[repr(C)]
pub struct NoRows<'vtab> {
    /// Base class, must be first.
    base: ffi::sqlite3_vtab_cursor,
    phantom: PhantomData<&'vtab ()>,
}

impl Default for NoRows<'_> {
    fn default() -> Self {
        Self {
            base: ffi::sqlite3_vtab_cursor::default(),
            phantom: PhantomData,
        }
    }
}

// SAFETY: `#[repr(C)]` with the base cursor first, as rusqlite requires.
unsafe impl VTabCursor for NoRows<'_> {
    fn filter(&mut self, _: c_int, _: Option<&str>, _: &Filters<'_>) -> rusqlite::Result<()> {
        Ok(())
    }

    fn next(&mut self) -> rusqlite::Result<()> {
        Ok(())
    }

    fn eof(&self) -> bool {
        true
    }

    fn column(&self, _: &mut Context, _: c_int) -> rusqlite::Result<()> {
        Ok(())
    }

    fn rowid(&self) -> rusqlite::Result<i64> {
        Ok(0)
    }
}

/// The `powersync_internal_close` table of one connection.
#[repr(C)]
pub struct PreCloseTab {
    /// Base class, must be first.
    base: ffi::sqlite3_vtab,
    db: *mut ffi::sqlite3,
    state: Arc<ConnectionState>,
}

/// xDisconnect: the connection is closing (or the table is being discarded).
impl Drop for PreCloseTab {
    fn drop(&mut self) {
        // Replacing the sync client drops it, finalizing its cached statements.
        *self.state.sync.lock().unwrap_or_else(|e| e.into_inner()) = Default::default();
        update_hooks::uninstall(self.db, &self.state);
    }
}

// SAFETY: `#[repr(C)]` with the base vtab first, as rusqlite requires.
unsafe impl<'vtab> VTab<'vtab> for PreCloseTab {
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
        let tab = Self {
            base: ffi::sqlite3_vtab::default(),
            // SAFETY: only the handle value is kept, for uninstalling hooks on disconnect.
            db: unsafe { db.handle() },
            state,
        };
        Ok((
            Cow::Borrowed(c"CREATE TABLE powersync_internal_close(_ TEXT);"),
            tab,
        ))
    }

    fn best_index(&self, _info: &mut IndexInfo) -> rusqlite::Result<bool> {
        Ok(true)
    }

    fn open(&'vtab mut self) -> rusqlite::Result<Self::Cursor> {
        Ok(NoRows::default())
    }
}

impl CreateVTab<'_> for PreCloseTab {
    const KIND: VTabKind = VTabKind::EponymousOnly;
}

impl UpdateVTab<'_> for PreCloseTab {
    fn delete(&mut self, _: ValueRef<'_>) -> rusqlite::Result<()> {
        Err(misuse())
    }

    fn insert(&mut self, _: &Inserts<'_>) -> rusqlite::Result<i64> {
        Err(misuse())
    }

    fn update(&mut self, _: &Updates<'_>) -> rusqlite::Result<()> {
        Err(misuse())
    }
}

/// Registers the `powersync_internal_close` module.
pub fn register(conn: &Connection, state: &Arc<ConnectionState>) -> Result<()> {
    const MODULE: Module<'static, PreCloseTab> = Module::update_module();
    conn.create_module(c"powersync_internal_close", &MODULE, Some(state.clone()))?;
    Ok(())
}
