//! Prepared statements owned by the sync client, for the few statements run once per op or
//! per row (FFI edge).
//!
//! rusqlite's cached statements cost, per execution, a lookup of the SQL text in the cache
//! (hashing the whole text, which for multi-row inserts is kilobytes), a copy of every bound
//! text, and freeing those copies again; on the sync hot path that was a fifth of all work.
//! [`RawStatement`] binds text in place (`SQLITE_STATIC`) for the duration of one execution
//! and is kept by the caller, so none of that happens.

use crate::error::{PowerSyncError, Result};
use rusqlite::ffi;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::ffi::{c_char, c_int, CStr};
use std::marker::PhantomData;
use std::ptr::NonNull;

/// A prepared statement, finalized on drop.
pub(crate) struct RawStatement {
    stmt: NonNull<ffi::sqlite3_stmt>,
    db: *mut ffi::sqlite3,
    sql: String,
}

// SAFETY: SQLite statements may be used from any thread as long as uses of the connection
// are not concurrent; the sync client keeps them in a mutex-protected state and only uses
// them while handling a call on their connection.
unsafe impl Send for RawStatement {}

/// The parameters of one execution. Values borrowed for `'v` stay bound (without copies)
/// until the execution ends.
pub(crate) struct Bind<'s, 'v> {
    stmt: &'s RawStatement,
    error: c_int,
    _values: PhantomData<&'v [u8]>,
}

impl<'v> Bind<'_, 'v> {
    /// Binds parameter `index` (1-based).
    pub(crate) fn value(&mut self, index: usize, value: ValueRef<'v>) {
        let stmt = self.stmt.stmt.as_ptr();
        let i = index as c_int;
        // SAFETY: `stmt` is a live statement. Text and blobs are bound as SQLITE_STATIC: they
        // outlive the execution (`'v`), and `RawStatement::execute` clears the bindings
        // before returning, so SQLite never reads them afterwards.
        let rc = unsafe {
            match value {
                ValueRef::Null => ffi::sqlite3_bind_null(stmt, i),
                ValueRef::Integer(v) => ffi::sqlite3_bind_int64(stmt, i, v),
                ValueRef::Real(v) => ffi::sqlite3_bind_double(stmt, i, v),
                ValueRef::Text(t) => ffi::sqlite3_bind_text64(
                    stmt,
                    i,
                    t.as_ptr().cast::<c_char>(),
                    t.len() as ffi::sqlite3_uint64,
                    ffi::SQLITE_STATIC(),
                    ffi::SQLITE_UTF8 as _,
                ),
                ValueRef::Blob(b) => ffi::sqlite3_bind_blob64(
                    stmt,
                    i,
                    b.as_ptr().cast(),
                    b.len() as ffi::sqlite3_uint64,
                    ffi::SQLITE_STATIC(),
                ),
            }
        };
        if rc != ffi::SQLITE_OK && self.error == ffi::SQLITE_OK {
            self.error = rc;
        }
    }

    /// Binds an integer.
    pub(crate) fn int(&mut self, index: usize, value: i64) {
        self.value(index, ValueRef::Integer(value));
    }

    /// Binds text, or NULL for `None`.
    pub(crate) fn text(&mut self, index: usize, value: Option<&'v str>) {
        self.value(
            index,
            value.map_or(ValueRef::Null, |s| ValueRef::Text(s.as_bytes())),
        );
    }
}

/// The current row of a query run with [`RawStatement::query`].
pub(crate) struct Row<'s> {
    stmt: &'s RawStatement,
}

impl Row<'_> {
    /// Column `index` (0-based) as an integer (SQLite's conversion).
    pub(crate) fn int(&self, index: usize) -> i64 {
        // SAFETY: the statement is live and positioned on a row.
        unsafe { ffi::sqlite3_column_int64(self.stmt.stmt.as_ptr(), index as c_int) }
    }

    /// Column `index` (0-based) if it is text (invalid UTF-8 reads as empty), else `None`.
    pub(crate) fn text(&self, index: usize) -> Option<&str> {
        let stmt = self.stmt.stmt.as_ptr();
        let i = index as c_int;
        // SAFETY: the statement is live and positioned on a row; the text pointer stays
        // valid until the next step or reset, which need `&mut` of the statement while this
        // row borrows it.
        unsafe {
            if ffi::sqlite3_column_type(stmt, i) != ffi::SQLITE_TEXT {
                return None;
            }
            let p = ffi::sqlite3_column_text(stmt, i);
            let len = ffi::sqlite3_column_bytes(stmt, i) as usize;
            if p.is_null() {
                return Some("");
            }
            Some(std::str::from_utf8(std::slice::from_raw_parts(p, len)).unwrap_or_default())
        }
    }
}

impl RawStatement {
    /// Prepares `sql` on `conn` (flagged persistent: it is kept for many executions).
    pub(crate) fn prepare(conn: &Connection, sql: String) -> Result<Self> {
        // SAFETY: the handle is the live connection behind `conn`.
        let db = unsafe { conn.handle() };
        let mut stmt = std::ptr::null_mut();
        // SAFETY: `sql` is valid for its length; `stmt` receives the statement.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db,
                sql.as_ptr().cast::<c_char>(),
                sql.len() as c_int,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(error(db, rc, &sql));
        }
        match NonNull::new(stmt) {
            Some(stmt) => Ok(Self { stmt, db, sql }),
            None => Err(PowerSyncError::Internal(Some(format!("empty statement: {sql}")))),
        }
    }

    /// Prepares `sql`, naming `report` instead in every error: for a statement standing in
    /// for one of the reference's, whose text its errors quote.
    pub(crate) fn prepare_reporting(conn: &Connection, sql: &str, report: &str) -> Result<Self> {
        match Self::prepare(conn, sql.to_string()) {
            Ok(mut stmt) => {
                stmt.sql = report.to_string();
                Ok(stmt)
            }
            Err(PowerSyncError::Sqlite {
                code,
                message,
                context,
                ..
            }) => Err(PowerSyncError::Sqlite {
                sql: Some(report.to_string()),
                code,
                message,
                context,
            }),
            Err(e) => Err(e),
        }
    }

    /// Names `sql` in the errors of later executions.
    pub(crate) fn report_as(&mut self, sql: &str) {
        self.sql = sql.to_string();
    }

    /// Rows changed by the last completed INSERT, UPDATE or DELETE on the connection
    /// (`sqlite3_changes64`), e.g. by this statement's last execution.
    pub(crate) fn changes(&self) -> i64 {
        // SAFETY: `db` is the live connection the statement belongs to.
        unsafe { ffi::sqlite3_changes64(self.db) }
    }

    /// Binds parameters with `bind`, runs the statement to completion and resets it.
    pub(crate) fn execute<'v>(&mut self, bind: impl FnOnce(&mut Bind<'_, 'v>)) -> Result<()> {
        self.query(bind, |_| Ok(()))
    }

    /// Like [`Self::execute`], calling `row` for each result row.
    pub(crate) fn query<'v>(
        &mut self,
        bind: impl FnOnce(&mut Bind<'_, 'v>),
        mut row: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        let stmt = self.stmt.as_ptr();
        let mut b = Bind {
            stmt: self,
            error: ffi::SQLITE_OK,
            _values: PhantomData,
        };
        bind(&mut b);
        let mut result = match b.error {
            ffi::SQLITE_OK => Ok(()),
            rc => Err(error(self.db, rc, &self.sql)),
        };
        while result.is_ok() {
            // SAFETY: a live statement with all parameters bound.
            match unsafe { ffi::sqlite3_step(stmt) } {
                ffi::SQLITE_ROW => result = row(&Row { stmt: self }),
                ffi::SQLITE_DONE => break,
                // The detailed (extended) code and message come from the reset below.
                _ => {
                    // SAFETY: as above; reset reports the step's error.
                    let rc = unsafe { ffi::sqlite3_reset(stmt) };
                    result = Err(error(self.db, rc, &self.sql));
                }
            }
        }
        // SAFETY: resetting and unbinding a live statement; afterwards SQLite holds no
        // pointer to the borrowed values.
        unsafe {
            ffi::sqlite3_reset(stmt);
            ffi::sqlite3_clear_bindings(stmt);
        }
        result
    }
}

impl Drop for RawStatement {
    fn drop(&mut self) {
        // SAFETY: the statement is live and not used after this.
        unsafe { ffi::sqlite3_finalize(self.stmt.as_ptr()) };
    }
}

/// The error of the last call on `db`, as the other statements report it.
fn error(db: *mut ffi::sqlite3, rc: c_int, sql: &str) -> PowerSyncError {
    // SAFETY: `db` is a live connection; the message is copied before any other call.
    let (code, message) = unsafe {
        let code = ffi::sqlite3_extended_errcode(db);
        let msg = ffi::sqlite3_errmsg(db);
        let message = if msg.is_null() {
            String::new()
        } else {
            CStr::from_ptr(msg).to_string_lossy().into_owned()
        };
        // A failed bind leaves no error on the connection.
        (if code == ffi::SQLITE_OK { rc } else { code }, message)
    };
    PowerSyncError::Sqlite {
        sql: Some(sql.to_string()),
        code,
        message,
        context: None,
    }
}
