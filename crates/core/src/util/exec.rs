//! `sqlite3_exec` with the reference's error wording.
//!
//! The reference runs multi-statement scripts (and user-provided raw-table `clear` SQL) with
//! `sqlite3_exec`, which steps every statement to completion. rusqlite's `execute_batch`
//! steps each statement only once, so rows-returning statements would be cut short; hence
//! this thin FFI wrapper.

use crate::error::{PowerSyncError, Result};
use rusqlite::{ffi, Connection};
use std::ffi::{CStr, CString};

/// Executes `sql` (one or more statements). Errors name the whole script, like the
/// reference: `statement <sql>: internal SQLite call returned <CODE>: <message>`.
pub fn exec(conn: &Connection, sql: &str) -> Result<()> {
    let c_sql = CString::new(sql).map_err(|e| PowerSyncError::Plain {
        code: ffi::SQLITE_FORMAT,
        message: format!("Allocating c string: {e}"),
    })?;
    // SAFETY: the handle belongs to a live connection used on this thread; the SQL is a
    // NUL-terminated copy alive for the call; no callback and no error-string out pointer.
    let (rc, message) = unsafe {
        let db = conn.handle();
        let rc = ffi::sqlite3_exec(
            db,
            c_sql.as_ptr(),
            None,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        let message = if rc == ffi::SQLITE_OK {
            String::new()
        } else {
            CStr::from_ptr(ffi::sqlite3_errmsg(db))
                .to_string_lossy()
                .into_owned()
        };
        (rc, message)
    };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(PowerSyncError::Sqlite {
            sql: Some(sql.to_string()),
            code: rc,
            message,
            context: None,
        })
    }
}
