//! Raw tables as given in the `schema` of `start` (spec §6.8): the schema module's types,
//! re-exported under the names the sync code uses.

pub use crate::schema::{
    PendingStatementSource as PendingStatement, PendingStatementValue as StatementParam, RawTable,
};
