//! Arguments of a virtual-table write, read through SQLite's C conversions (`Arg`, in
//! `ffi/value.rs`); the writes bind them back through our prepared statements
//! (`ffi/stmt.rs`), which take text bytes that need not be valid UTF-8.

pub(super) use crate::ffi::value::{Arg, Values};
