//! Eponymous-only virtual tables on SQLite's C interface.
//!
//! Our virtual tables (`powersync_crud`, `powersync_crud_`, `powersync_internal_close`) have no
//! rows and only take inserts and transaction callbacks. They are implemented on the raw
//! `sqlite3_module` rather than rusqlite's virtual-table traits because those traits changed
//! incompatibly between rusqlite 0.39 and 0.43 (callback signatures, module constructors), and
//! this crate must build with every rusqlite an application may already use.

use super::value::Values;
use crate::error::PowerSyncError;
use crate::state::ConnectionState;
use rusqlite::{ffi, Connection};
use std::ffi::{c_char, c_int, c_void, CStr};
use std::marker::PhantomData;
use std::sync::Arc;

/// How a virtual-table callback fails.
#[derive(Debug)]
pub(crate) enum VtabError {
    /// `SQLITE_MISUSE` without a message, so SQLite reports its generic "bad parameter or
    /// other API misuse" (what the reference returns for unsupported operations).
    Misuse,
    /// The error's code, with its text as the table's error message.
    Error(PowerSyncError),
}

impl From<PowerSyncError> for VtabError {
    fn from(err: PowerSyncError) -> Self {
        Self::Error(err)
    }
}

/// Result of a virtual-table callback.
pub(crate) type VtabResult<T> = Result<T, VtabError>;

/// An eponymous-only virtual table without rows.
pub(crate) trait EponymousTable: Sized + 'static {
    /// The `CREATE TABLE` statement declared when SQLite connects the table.
    const SCHEMA: &'static CStr;
    /// Whether SELECTs see an empty table; otherwise every query plan is refused with
    /// [`VtabError::Misuse`] (and so are UPDATE and DELETE, which need to scan).
    const READABLE: bool;
    /// Whether SQLite calls [`begin`](Self::begin) and [`end`](Self::end) around
    /// transactions writing the table.
    const TRANSACTIONS: bool;

    /// Creates the table's instance for a connection. `conn` does not own the handle; the
    /// connection outlives the table (SQLite disconnects eponymous tables before closing).
    fn connect(conn: Connection, state: &Arc<ConnectionState>) -> VtabResult<Self>;

    /// An INSERT: `args` are the values of SQLite's xUpdate (old rowid, new rowid, columns).
    /// The reported rowid is always 0, as with the reference.
    fn insert(&mut self, args: Values<'_>) -> VtabResult<()> {
        let _ = args;
        Err(VtabError::Misuse)
    }

    /// xBegin: a statement that may write the table starts a transaction.
    fn begin(&mut self) -> VtabResult<()> {
        Ok(())
    }

    /// xCommit or xRollback: the transaction ended.
    fn end(&mut self) {}
}

/// Registers `T` as module (and eponymous table) `name` on `conn`.
pub(crate) fn register<T: EponymousTable>(
    conn: &Connection,
    name: &CStr,
    state: &Arc<ConnectionState>,
) -> crate::error::Result<()> {
    let module: &'static ffi::sqlite3_module = &Module::<T>::MODULE;
    let aux = Box::into_raw(Box::new(state.clone()));
    // SAFETY: FFI edge. The module table is a promoted constant ('static); SQLite owns `aux`
    // from here on and releases it through `drop_aux` (also when registration fails).
    let rc = unsafe {
        ffi::sqlite3_create_module_v2(
            conn.handle(),
            name.as_ptr(),
            module,
            aux.cast::<c_void>(),
            Some(drop_aux),
        )
    };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(PowerSyncError::from_rusqlite(
            None,
            rusqlite::Error::SqliteFailure(ffi::Error::new(rc), None),
        ))
    }
}

/// What SQLite allocates per connected table: the base struct it reads (error message) first.
#[repr(C)]
struct Tab<T> {
    base: ffi::sqlite3_vtab,
    table: T,
}

/// The module table of `T`.
struct Module<T>(PhantomData<T>);

impl<T: EponymousTable> Module<T> {
    const MODULE: ffi::sqlite3_module = ffi::sqlite3_module {
        // Only the version-1 callbacks are needed.
        iVersion: 1,
        // No xCreate: eponymous-only.
        xCreate: None,
        xConnect: Some(x_connect::<T>),
        xBestIndex: Some(x_best_index::<T>),
        xDisconnect: Some(x_disconnect::<T>),
        xDestroy: None,
        xOpen: Some(x_open::<T>),
        xClose: Some(x_close),
        xFilter: Some(x_filter),
        xNext: Some(x_next),
        xEof: Some(x_eof),
        xColumn: Some(x_column),
        xRowid: Some(x_rowid),
        xUpdate: Some(x_update::<T>),
        xBegin: if T::TRANSACTIONS { Some(x_begin::<T>) } else { None },
        xSync: if T::TRANSACTIONS { Some(x_sync) } else { None },
        xCommit: if T::TRANSACTIONS { Some(x_end::<T>) } else { None },
        xRollback: if T::TRANSACTIONS { Some(x_end::<T>) } else { None },
        // SAFETY: the remaining fields (their number depends on the SQLite headers) are
        // nullable function pointers, for which all-zero is `None`.
        ..unsafe { std::mem::zeroed() }
    };
}

unsafe extern "C" fn drop_aux(aux: *mut c_void) {
    // SAFETY: FFI edge; `aux` is the box `register` handed to SQLite, released exactly once.
    drop(unsafe { Box::from_raw(aux.cast::<Arc<ConnectionState>>()) });
}

/// Allocates `message` with `sqlite3_malloc` (SQLite frees error messages with
/// `sqlite3_free`); null when out of memory.
fn sqlite_string(message: &str) -> *mut c_char {
    let len = message.len();
    // SAFETY: FFI edge; the buffer has room for the text and its NUL terminator.
    unsafe {
        let buf = ffi::sqlite3_malloc64((len + 1) as u64).cast::<u8>();
        if !buf.is_null() {
            std::ptr::copy_nonoverlapping(message.as_ptr(), buf, len);
            *buf.add(len) = 0;
        }
        buf.cast::<c_char>()
    }
}

/// The code to return for `result`, storing an error's message in `*message` (any previous
/// message is freed).
///
/// # Safety
/// `message` must point to a message slot SQLite owns (null or `sqlite3_malloc`'d).
unsafe fn report(result: VtabResult<()>, message: *mut *mut c_char) -> c_int {
    match result {
        Ok(()) => ffi::SQLITE_OK,
        Err(VtabError::Misuse) => ffi::SQLITE_MISUSE,
        Err(VtabError::Error(err)) => {
            // SAFETY: FFI edge; guaranteed by the caller.
            unsafe {
                if !(*message).is_null() {
                    ffi::sqlite3_free((*message).cast::<c_void>());
                }
                *message = sqlite_string(&err.to_string());
            }
            err.code()
        }
    }
}

/// # Safety
/// Called by SQLite with the aux pointer given to `sqlite3_create_module_v2`.
unsafe extern "C" fn x_connect<T: EponymousTable>(
    db: *mut ffi::sqlite3,
    aux: *mut c_void,
    _argc: c_int,
    _argv: *const *const c_char,
    pp_vtab: *mut *mut ffi::sqlite3_vtab,
    err_msg: *mut *mut c_char,
) -> c_int {
    // SAFETY: FFI edge; `aux` is the live `Arc<ConnectionState>` box of `register`.
    let state = unsafe { &*aux.cast::<Arc<ConnectionState>>() };
    // SAFETY: `db` is the connection declaring the table, which outlives it (SQLite
    // disconnects eponymous tables before closing); the Connection does not own the handle.
    let conn = match unsafe { Connection::from_handle(db) } {
        Ok(conn) => conn,
        // SAFETY: `err_msg` is SQLite's message slot for this call.
        Err(err) => return unsafe { report(Err(PowerSyncError::from(err).into()), err_msg) },
    };
    let table = match T::connect(conn, state) {
        Ok(table) => table,
        // SAFETY: `err_msg` is SQLite's message slot for this call.
        Err(err) => return unsafe { report(Err(err), err_msg) },
    };
    // SAFETY: FFI edge; xConnect is where a table must declare its schema.
    let rc = unsafe { ffi::sqlite3_declare_vtab(db, T::SCHEMA.as_ptr()) };
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    let tab = Box::new(Tab {
        // SAFETY: a plain C struct; SQLite fills in its fields.
        base: unsafe { std::mem::zeroed() },
        table,
    });
    // SAFETY: FFI edge; SQLite keeps the pointer until xDisconnect.
    unsafe { *pp_vtab = Box::into_raw(tab).cast::<ffi::sqlite3_vtab>() };
    ffi::SQLITE_OK
}

/// # Safety
/// `vtab` must come from `x_connect::<T>` and not be disconnected.
unsafe fn table<'a, T>(vtab: *mut ffi::sqlite3_vtab) -> &'a mut T {
    // SAFETY: `Tab<T>` is `#[repr(C)]` with the base first; SQLite never calls one table
    // concurrently (a connection is used by one thread at a time).
    unsafe { &mut (*vtab.cast::<Tab<T>>()).table }
}

unsafe extern "C" fn x_disconnect<T: EponymousTable>(vtab: *mut ffi::sqlite3_vtab) -> c_int {
    // SAFETY: FFI edge; SQLite disconnects each table it connected exactly once.
    drop(unsafe { Box::from_raw(vtab.cast::<Tab<T>>()) });
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_best_index<T: EponymousTable>(
    _vtab: *mut ffi::sqlite3_vtab,
    _info: *mut ffi::sqlite3_index_info,
) -> c_int {
    if T::READABLE {
        ffi::SQLITE_OK
    } else {
        ffi::SQLITE_MISUSE
    }
}

unsafe extern "C" fn x_open<T: EponymousTable>(
    _vtab: *mut ffi::sqlite3_vtab,
    pp_cursor: *mut *mut ffi::sqlite3_vtab_cursor,
) -> c_int {
    if !T::READABLE {
        return ffi::SQLITE_MISUSE;
    }
    // SAFETY: a plain C struct; SQLite fills in its fields.
    let cursor: Box<ffi::sqlite3_vtab_cursor> = Box::new(unsafe { std::mem::zeroed() });
    // SAFETY: FFI edge; SQLite keeps the cursor until xClose.
    unsafe { *pp_cursor = Box::into_raw(cursor) };
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_close(cursor: *mut ffi::sqlite3_vtab_cursor) -> c_int {
    // SAFETY: FFI edge; the cursor was boxed by `x_open` and is closed exactly once.
    drop(unsafe { Box::from_raw(cursor) });
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_filter(
    _cursor: *mut ffi::sqlite3_vtab_cursor,
    _idx_num: c_int,
    _idx_str: *const c_char,
    _argc: c_int,
    _argv: *mut *mut ffi::sqlite3_value,
) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_next(_cursor: *mut ffi::sqlite3_vtab_cursor) -> c_int {
    ffi::SQLITE_OK
}

/// There are no rows: every cursor is at its end.
unsafe extern "C" fn x_eof(_cursor: *mut ffi::sqlite3_vtab_cursor) -> c_int {
    1
}

unsafe extern "C" fn x_column(
    _cursor: *mut ffi::sqlite3_vtab_cursor,
    _ctx: *mut ffi::sqlite3_context,
    _column: c_int,
) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_rowid(
    _cursor: *mut ffi::sqlite3_vtab_cursor,
    rowid: *mut ffi::sqlite3_int64,
) -> c_int {
    // SAFETY: FFI edge; SQLite passes a writable rowid slot.
    unsafe { *rowid = 0 };
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_update<T: EponymousTable>(
    vtab: *mut ffi::sqlite3_vtab,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
    rowid: *mut ffi::sqlite3_int64,
) -> c_int {
    // SAFETY: FFI edge; SQLite passes `argc` (at least one) protected values.
    let args = unsafe { std::slice::from_raw_parts(argv, argc.max(0) as usize) };
    // A single argument is a DELETE; a non-NULL old rowid an UPDATE; both are refused.
    // SAFETY: FFI edge; the value is valid for the duration of the call.
    let insert = args.len() > 1 && unsafe { ffi::sqlite3_value_type(args[0]) } == ffi::SQLITE_NULL;
    let result = if insert {
        // SAFETY: `vtab` is one of ours, connected.
        // SAFETY: the values are protected for the duration of this call.
        let values = unsafe { Values::new(args) };
        // SAFETY: `vtab` is one of ours, connected.
        unsafe { table::<T>(vtab) }.insert(values).inspect(|()| {
            // SAFETY: FFI edge; SQLite passes a writable rowid slot for inserts.
            unsafe { *rowid = 0 }
        })
    } else {
        Err(VtabError::Misuse)
    };
    // SAFETY: the table's own message slot.
    unsafe { report(result, &raw mut (*vtab).zErrMsg) }
}

unsafe extern "C" fn x_begin<T: EponymousTable>(vtab: *mut ffi::sqlite3_vtab) -> c_int {
    // SAFETY: `vtab` is one of ours, connected.
    let result = unsafe { table::<T>(vtab) }.begin();
    // SAFETY: the table's own message slot.
    unsafe { report(result, &raw mut (*vtab).zErrMsg) }
}

unsafe extern "C" fn x_sync(_vtab: *mut ffi::sqlite3_vtab) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_end<T: EponymousTable>(vtab: *mut ffi::sqlite3_vtab) -> c_int {
    // SAFETY: `vtab` is one of ours, connected.
    unsafe { table::<T>(vtab) }.end();
    ffi::SQLITE_OK
}
