//! Arguments of a virtual-table write: read through SQLite's C conversions (`Arg`, in
//! `ffi/value.rs`), and bound back as text bytes.

use rusqlite::types::{ToSql, ToSqlOutput, ValueRef};

pub(super) use crate::ffi::value::{Arg, Values};

/// Binds optional text bytes (possibly not valid UTF-8, as SQLite allows) as TEXT or NULL,
/// like `sqlite3_bind_text` with a possibly-NULL pointer.
pub(super) struct TextBytes<'a>(pub Option<&'a [u8]>);

impl ToSql for TextBytes<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Some(bytes) => ValueRef::Text(bytes),
            None => ValueRef::Null,
        }))
    }
}
