//! The app schema JSON (docs/sql-surface.md#the-schema-json): passed to
//! `powersync_replace_schema` and carried by the `start` payload, whose raw tables the sync
//! client writes. Only the model and its decoding live here; the SQL generated from it is
//! `powersync_core`'s.

mod model;
mod options;
mod raw_table;

pub use model::{internal_name, parse_internal_name, Column, Index, IndexedColumn, Schema, Table};
pub use options::{DiffIncludeOld, TableInfoFlags, TableOptions};
pub use raw_table::{PendingStatementSource, PendingStatementValue, RawTable};
