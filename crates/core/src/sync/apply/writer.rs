//! Writing published rows into their tables (docs/protocol.md#applying-rows), in the order they come.
//!
//! Rows go to the raw or direct table of their type from the `start` schema if there is
//! one, else to `ps_data__<type>`, else to `ps_untyped`.
//!
//! Puts into `ps_data__<type>` and `ps_untyped` are buffered and written with multi-row
//! `REPLACE` statements. Rows arrive grouped by type, and the buffer is flushed before any
//! other write (a delete, a raw table, another type), so the sequence of row changes — and
//! with it every rowid — is the one of writing row by row.

use super::raw::RawTableCache;
use crate::error::{Result, SqlResultExt};
use crate::sync::batch::{InsertFailure, MultiInsert};
use crate::sync::raw_tables::RawTable;
use crate::sync::statements::HotStatements;
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection};
use std::collections::HashSet;

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Chunk sizes of the `REPLACE` statements. Smaller than for `ps_oplog`: a multi-row REPLACE
/// needs a statement journal, which should stay in memory (SQLite spills it to a temporary
/// file past 64 KiB of copied pages). Into a large table with random ids each row copies
/// about three random pages (old row, its index entry, new index entry), so 4 rows stay
/// below 64 KiB where 32 did not: measured on 100 checkpoints × 100 rows over 1M rows,
/// 59.1 kB written per op with 32-row chunks, 50.8 kB with 4 (the reference: 50.6 kB).
const REPLACE_CHUNKS: &[usize] = &[4, 1];

// Single-row texts as the reference's (errors quote them).
const UNTYPED_PUT: &str = "REPLACE INTO ps_untyped(type, id, data) VALUES(?, ?, ?)";
const UNTYPED_DELETE: &str = "DELETE FROM ps_untyped WHERE type = ? AND id = ?";

/// Chunk sizes of the plain inserts into tables that were empty (no statement journal).
const INSERT_CHUNKS: &[usize] = &[128, 32, 8, 1];

/// Where rows of the current type go.
enum Destination<'a> {
    /// `ps_data__<type>`, with the DELETE statement, and whether the table was empty when
    /// the apply reached the type.
    Data(String, bool),
    /// A raw table of the `start` schema.
    Raw(&'a RawTable),
    /// `ps_untyped`.
    Untyped,
}

/// Writes rows, batching puts per type.
pub(super) struct Writer<'a> {
    conn: &'a Connection,
    raw_tables: &'a [RawTable],
    raw_cache: &'a mut RawTableCache,
    statements: &'a mut HotStatements,
    data_tables: HashSet<String>,
    /// The type of the previous row and its destination.
    current: Option<(String, Destination<'a>)>,
    /// Buffered puts of the current type: ids and data concatenated, with their ends.
    text: String,
    ends: Vec<(usize, usize)>,
}

impl<'a> Writer<'a> {
    /// A writer; `data_tables` are the types that have a `ps_data__<type>` table.
    pub(super) fn new(
        conn: &'a Connection,
        raw_tables: &'a [RawTable],
        raw_cache: &'a mut RawTableCache,
        statements: &'a mut HotStatements,
        data_tables: HashSet<String>,
    ) -> Self {
        Self {
            conn,
            raw_tables,
            raw_cache,
            statements,
            data_tables,
            current: None,
            text: String::new(),
            ends: Vec::new(),
        }
    }

    /// Where rows of `row_type` go: a raw or direct table of the `start` schema wins over a
    /// `ps_data__` table of the same type.
    fn destination(&self, row_type: &str) -> Result<Destination<'a>> {
        Ok(
            if let Some(raw) = self.raw_tables.iter().find(|r| r.name == row_type) {
                Destination::Raw(raw)
            } else if self.data_tables.contains(row_type) {
                let t = quote(&format!("ps_data__{row_type}"));
                let sql = format!("SELECT EXISTS (SELECT 1 FROM {t})");
                let any: bool = self
                    .conn
                    .prepare_cached(&sql)
                    .and_then(|mut s| s.query_row([], |r| r.get(0)))
                    .sql_context(&sql)?;
                Destination::Data(format!("DELETE FROM {t} WHERE id = ?"), !any)
            } else {
                Destination::Untyped
            },
        )
    }

    /// Writes the buffered puts.
    pub(super) fn flush(&mut self) -> Result<()> {
        if self.ends.is_empty() {
            return Ok(());
        }
        let (text, ends) = (self.text.as_str(), &self.ends);
        let field = |r: usize, k: usize| {
            let start = match (r, k) {
                (0, 0) => 0,
                (_, 0) => ends[r - 1].1,
                _ => ends[r].0,
            };
            let end = if k == 0 { ends[r].0 } else { ends[r].1 };
            ValueRef::Text(&text.as_bytes()[start..end])
        };
        let result = match &self.current {
            // The rows of a type come together and once each: into a table that was empty
            // no REPLACE can conflict, so a plain insert does the same (without the
            // statement journal a multi-row REPLACE needs). Should it fail anyway, the
            // failing row is replayed with the reference's REPLACE, which then reports the
            // reference's statement text.
            Some((row_type, Destination::Data(_, true))) => {
                let put = self
                    .statements
                    .data_inserts
                    .entry(row_type.clone())
                    .or_insert_with(|| {
                        let table = quote(&format!("ps_data__{row_type}"));
                        let prefix = format!("INSERT OR FAIL INTO {table}(id, data)");
                        MultiInsert::new(
                            format!("{prefix} VALUES (?, ?)"),
                            &prefix,
                            "$1, $2",
                            0,
                            2,
                            INSERT_CHUNKS,
                            false,
                        )
                        .with_replay_statement(format!("REPLACE INTO {table}(id, data) VALUES (?, ?)"))
                    });
                put.insert_rows(self.conn, ends.len(), &[], field)
            }
            Some((row_type, Destination::Data(_, false))) => {
                let put = self
                    .statements
                    .data_puts
                    .entry(row_type.clone())
                    .or_insert_with(|| {
                        let prefix = format!(
                            "REPLACE INTO {}(id, data)",
                            quote(&format!("ps_data__{row_type}"))
                        );
                        MultiInsert::new(
                            format!("{prefix} VALUES (?, ?)"),
                            &prefix,
                            "$1, $2",
                            0,
                            2,
                            REPLACE_CHUNKS,
                            true,
                        )
                    });
                put.insert_rows(self.conn, ends.len(), &[], field)
            }
            Some((row_type, Destination::Untyped)) => {
                let put = self.statements.untyped_puts.get_or_insert_with(|| {
                    MultiInsert::new(
                        UNTYPED_PUT.to_string(),
                        "REPLACE INTO ps_untyped(type, id, data)",
                        "?1, $1, $2",
                        1,
                        2,
                        REPLACE_CHUNKS,
                        true,
                    )
                });
                // Like the reference, failures of ps_untyped writes carry no context.
                put.insert(
                    self.conn,
                    ends.len(),
                    &[ValueRef::Text(row_type.as_bytes())],
                    field,
                )
                .map_err(|error| InsertFailure { error, row: None })
            }
            _ => unreachable!("only data and untyped puts are buffered"),
        };
        if let Err(InsertFailure { error, row }) = result {
            // Writes into ps_data__ tables name the row like the reference's statement
            // wrapper does.
            let context = match (&self.current, row) {
                (Some((row_type, Destination::Data(..))), Some(r)) => {
                    let id_start = if r == 0 { 0 } else { ends[r - 1].1 };
                    let (id, data) = (&text[id_start..ends[r].0], &text[ends[r].0..ends[r].1]);
                    Some(format!("replacing into {row_type}, id = {id}, data = {data}"))
                }
                _ => None,
            };
            return Err(match context {
                Some(context) => error.with_context(context),
                None => error,
            });
        }
        self.text.clear();
        self.ends.clear();
        Ok(())
    }

    /// Writes one row: `data` to put, `None` to delete.
    pub(super) fn row(&mut self, row_type: &str, row_id: &str, data: Option<&str>) -> Result<()> {
        if self.current.as_ref().is_none_or(|(t, _)| t != row_type) {
            self.flush()?;
            self.current = Some((row_type.to_string(), self.destination(row_type)?));
        }
        enum Action<'t> {
            Buffer,
            Delete,
            RawPut(&'t RawTable),
            RawDelete(&'t RawTable),
        }
        let action = match (&self.current, data) {
            (Some((_, Destination::Data(..) | Destination::Untyped)), Some(_)) => Action::Buffer,
            (Some((_, Destination::Data(..) | Destination::Untyped)), None) => Action::Delete,
            (Some((_, Destination::Raw(table))), Some(_)) => Action::RawPut(table),
            (Some((_, Destination::Raw(table))), None) => Action::RawDelete(table),
            (None, _) => unreachable!("set above"),
        };
        match (action, data) {
            (Action::Buffer, Some(d)) => {
                self.text.push_str(row_id);
                let id_end = self.text.len();
                self.text.push_str(d);
                self.ends.push((id_end, self.text.len()));
                if self.ends.len() >= INSERT_CHUNKS[0] {
                    self.flush()?;
                }
            }
            (Action::Delete, _) => {
                self.flush()?;
                match &self.current {
                    Some((_, Destination::Data(delete, _))) => exec(self.conn, delete, params![row_id])
                        .map_err(|e| e.with_context(format!("deleting from {row_type}, id = {row_id}")))?,
                    _ => exec(self.conn, UNTYPED_DELETE, params![row_type, row_id])?,
                }
            }
            (Action::RawPut(table), Some(d)) => self.raw_cache.put(self.conn, table, row_id, d)?,
            (Action::RawDelete(table), _) => self.raw_cache.delete(self.conn, table, row_id)?,
            (Action::Buffer | Action::RawPut(_), None) => unreachable!("puts have data"),
        }
        Ok(())
    }
}

fn exec(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<()> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute(p))
        .sql_context(sql)
        .map(drop)
}
