//! Arguments of a virtual-table write, read through SQLite's C conversions.
//!
//! The reference reads CRUD columns with `sqlite3_value_text` / `sqlite3_value_int`, so any
//! SQL type is accepted and converted the SQLite way (e.g. REAL ids as `1.5`, NULL as no
//! text). rusqlite's `ValueRef` does not expose these conversions, hence raw access.

use rusqlite::ffi;
use std::ffi::c_int;
use std::marker::PhantomData;

/// One argument of an xUpdate call.
#[derive(Clone, Copy)]
pub(super) struct Arg<'a> {
    value: *mut ffi::sqlite3_value,
    phantom: PhantomData<&'a ()>,
}

impl<'a> Arg<'a> {
    /// Argument `i` of the xUpdate call's `values`.
    pub(super) fn of(values: &'a [*mut ffi::sqlite3_value], i: usize) -> Self {
        Self {
            value: values[i],
            phantom: PhantomData,
        }
    }

    /// `sqlite3_value_type` (read it before any text conversion of the same value).
    pub(super) fn value_type(self) -> c_int {
        // SAFETY: a protected value valid for the duration of the xUpdate call ('a).
        unsafe { ffi::sqlite3_value_type(self.value) }
    }

    /// `sqlite3_value_text`: the value converted to text, `None` for NULL.
    pub(super) fn text(self) -> Option<&'a [u8]> {
        // SAFETY: as in `value_type`; the buffer stays valid until the value is converted
        // again, and each argument is converted to text at most once per write.
        unsafe {
            let p = ffi::sqlite3_value_text(self.value);
            if p.is_null() {
                return None;
            }
            let n = ffi::sqlite3_value_bytes(self.value) as usize;
            Some(std::slice::from_raw_parts(p, n))
        }
    }

    /// The text if the value is TEXT, else `None` (the reference's "raw JSON" columns).
    pub(super) fn text_if_text(self) -> Option<&'a [u8]> {
        if self.value_type() == ffi::SQLITE_TEXT {
            self.text()
        } else {
            None
        }
    }

    /// `sqlite3_value_int`.
    pub(super) fn int(self) -> i32 {
        // SAFETY: as in `value_type`.
        unsafe { ffi::sqlite3_value_int(self.value) }
    }
}
