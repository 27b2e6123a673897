//! The statements of the sync hot path that the sync client owns (see `super::stmt`), kept
//! per connection for as long as the sync state.

use super::batch::MultiInsert;
use super::stmt::RawStatement;
use std::collections::HashMap;

/// Prepared on first use.
#[derive(Default)]
pub(crate) struct HotStatements {
    /// Multi-row inserts into `ps_oplog`.
    pub(crate) oplog: Option<MultiInsert>,
    /// Stored ops of a bucket with a key, through `(bucket, key)`.
    pub(crate) find_key: Option<RawStatement>,
    /// The same through `(row_type, row_id)`, for keys that name their row.
    pub(crate) find_row_key: Option<RawStatement>,
    /// Multi-row puts into `ps_data__<type>`, by type.
    pub(crate) data_puts: HashMap<String, MultiInsert>,
    /// Multi-row plain inserts into `ps_data__<type>` (tables that were empty), by type.
    pub(crate) data_inserts: HashMap<String, MultiInsert>,
    /// Multi-row puts into `ps_untyped`.
    pub(crate) untyped_puts: Option<MultiInsert>,
    /// The stored keys while `ps_oplog` is in bulk mode (`storage::bulk`).
    pub(crate) bulk: Option<crate::sync::storage::bulk::KeySet>,
}

impl std::fmt::Debug for HotStatements {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HotStatements")
            .field("data_puts", &self.data_puts.len())
            .finish_non_exhaustive()
    }
}
