//! Multi-row `INSERT … VALUES (…), (…)` statements: one statement step per chunk of rows
//! instead of one per row, which is what makes storing and applying large checkpoints cheap.
//!
//! Rows are inserted in the order given, exactly as the same rows inserted one by one would
//! be (same rowids, same conflict handling per row), so callers can batch freely as long as
//! they flush before any other write to the same table.

use super::stmt::RawStatement;
use crate::error::Result;
use rusqlite::types::ValueRef;
use rusqlite::Connection;

/// The statements of one multi-row insert, for each chunk size (prepared on first use).
pub struct MultiInsert {
    /// Chunk sizes, largest first, ending with 1; a batch is split greedily.
    chunks: &'static [usize],
    /// One text per chunk size.
    sql: Vec<String>,
    /// The prepared statements, by chunk.
    statements: Vec<Option<RawStatement>>,
    /// Parameters bound once per statement (`?1..=?shared`), e.g. the bucket id.
    shared: usize,
    /// Parameters per row.
    per_row: usize,
    /// Whether a failing chunk is replayed row by row (see [`Self::insert`]).
    replay: bool,
}

impl MultiInsert {
    /// `single` is the one-row statement (used verbatim, so that its text is the one errors
    /// quote); `prefix` (e.g. `INSERT INTO t (a, b, c)`) and `row` build the others: each row
    /// is `(<row>)` where `row` uses `?1..?shared` for shared parameters and `$1..$per_row`
    /// for the row's own.
    ///
    /// `replay` suits statements with ABORT semantics: SQLite undoes a failed statement, so
    /// the failing chunk can be replayed one row at a time to stop at the same row, with the
    /// same error and the same rows written before it as without batching. Statements whose
    /// failures keep earlier rows (`OR FAIL`) must not replay.
    pub fn new(
        single: String,
        prefix: &str,
        row: &str,
        shared: usize,
        per_row: usize,
        chunks: &'static [usize],
        replay: bool,
    ) -> Self {
        debug_assert_eq!(chunks.last(), Some(&1));
        // `row` split at its `$n` placeholders: literal parts and parameter numbers.
        let mut parts: Vec<(&str, Option<usize>)> = Vec::new();
        let mut rest = row;
        while let Some(at) = rest.find('$') {
            let digits = rest[at + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(rest.len(), |d| at + 1 + d);
            let n = rest[at + 1..digits].parse().expect("placeholder number");
            parts.push((&rest[..at], Some(n)));
            rest = &rest[digits..];
        }
        parts.push((rest, None));
        let sql = chunks
            .iter()
            .map(|&n| {
                if n == 1 {
                    return single.clone();
                }
                let mut sql = format!("{prefix} VALUES ");
                for i in 0..n {
                    sql.push_str(if i == 0 { "(" } else { ", (" });
                    for (text, param) in &parts {
                        sql.push_str(text);
                        if let Some(p) = param {
                            use std::fmt::Write;
                            let _ = write!(sql, "?{}", shared + i * per_row + p);
                        }
                    }
                    sql.push(')');
                }
                sql
            })
            .collect();
        Self {
            chunks,
            statements: chunks.iter().map(|_| None).collect(),
            sql,
            shared,
            per_row,
            replay,
        }
    }

    /// Inserts `rows` (in order). `shared` binds the shared parameters; `bind_row(i, k)`
    /// returns the `k`-th (0-based) parameter of row `i`.
    pub fn insert<'v>(
        &mut self,
        conn: &Connection,
        rows: usize,
        shared: &[ValueRef<'v>],
        bind_row: impl Fn(usize, usize) -> ValueRef<'v>,
    ) -> Result<()> {
        debug_assert_eq!(shared.len(), self.shared);
        let single = self.chunks.len() - 1;
        let mut done = 0;
        for (c, &size) in self.chunks.iter().enumerate() {
            while rows - done >= size {
                if let Err(e) = self.run_chunk(conn, c, size, done, shared, &bind_row) {
                    // Only while our transaction is alive: some errors (I/O, out of
                    // memory) make SQLite roll back the whole transaction, and replaying
                    // then would write outside of it.
                    if !self.replay || size == 1 || conn.is_autocommit() {
                        return Err(e);
                    }
                    for r in done..done + size {
                        self.run_chunk(conn, single, 1, r, shared, &bind_row)?;
                    }
                }
                done += size;
            }
        }
        Ok(())
    }

    fn run_chunk<'v>(
        &mut self,
        conn: &Connection,
        chunk: usize,
        size: usize,
        first: usize,
        shared: &[ValueRef<'v>],
        bind_row: &impl Fn(usize, usize) -> ValueRef<'v>,
    ) -> Result<()> {
        let stmt = match &mut self.statements[chunk] {
            Some(stmt) => stmt,
            slot => slot.insert(RawStatement::prepare(conn, self.sql[chunk].clone())?),
        };
        let (n_shared, per_row) = (self.shared, self.per_row);
        stmt.execute(|b| {
            for (i, v) in shared.iter().enumerate() {
                b.value(i + 1, *v);
            }
            let mut index = n_shared;
            for r in first..first + size {
                for k in 0..per_row {
                    index += 1;
                    b.value(index, bind_row(r, k));
                }
            }
        })
    }
}
