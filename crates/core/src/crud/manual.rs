//! `powersync_crud_(data TEXT, options INT HIDDEN)`: stores complete CRUD entries built by
//! the caller (insert-only tables), without the simple table's side effects (docs/sql-surface.md#the-manual-crud-table).

use super::vtab::{ActiveTx, Columns, CrudMode};
use crate::error::Result;
use crate::ffi::stmt::RawStatement;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::ffi::CStr;

/// The manual CRUD table's behaviour, and its statement (prepared on first use).
#[derive(Default)]
pub(super) struct Manual {
    insert: Option<RawStatement>,
}

/// Inserts the entry verbatim, except that empty PATCHes are dropped when the table has
/// `ignore_empty_update` (bit 16). The emptiness test is JSON-aware, unlike the simple
/// table's; writing it in SQL keeps the reference's exact semantics (and its error for
/// malformed JSON when bit 16 is set). The trailing whitespace is part of the reference's
/// statement text: preparation errors show it, while execution errors show SQLite's copy of
/// the statement (`sqlite3_sql`), which ends at the semicolon.
const INSERT: &str = "WITH insertion (tx_id, data) AS (VALUES (?1, ?2))\nINSERT INTO ps_crud(tx_id, data)\nSELECT * FROM insertion WHERE (NOT (?3 & 16)) OR data->>'op' != 'PATCH' OR data->'data' != '{}';\n    ";

impl CrudMode for Manual {
    const SCHEMA: &'static CStr = c"CREATE TABLE powersync_crud_(data TEXT, options INT HIDDEN);";

    fn write(&mut self, conn: &Connection, tx: &mut ActiveTx, columns: Columns<'_>) -> Result<()> {
        let options = columns.get(1).int();
        let data = columns.get(0).text();
        let data = data.map_or(ValueRef::Null, ValueRef::Text);
        let stmt = match &mut self.insert {
            Some(stmt) => stmt,
            slot => {
                let mut stmt = RawStatement::prepare(conn, INSERT.to_string())?;
                stmt.report_as(INSERT.trim_end());
                slot.insert(stmt)
            }
        };
        stmt.execute(|b| {
            b.int(1, tx.id);
            b.value(2, data);
            b.int(3, options.into());
        })?;
        Ok(())
    }
}
