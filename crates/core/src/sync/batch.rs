//! Multi-row `INSERT … VALUES (…), (…)` statements: one statement step per chunk of rows
//! instead of one per row, which is what makes storing and applying large checkpoints cheap.
//!
//! Rows are inserted in the order given, exactly as the same rows inserted one by one would
//! be (same rowids, same conflict handling per row), so callers can batch freely as long as
//! they flush before any other write to the same table.

use crate::error::{Result, SqlResultExt};
use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, ToSql};

/// The statement texts of one multi-row insert, for each chunk size.
pub struct MultiInsert {
    /// Chunk sizes, largest first, ending with 1; a batch is split greedily.
    chunks: &'static [usize],
    /// One text per chunk size.
    sql: Vec<String>,
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
        let sql = chunks
            .iter()
            .map(|&n| {
                if n == 1 {
                    return single.clone();
                }
                let mut sql = format!("{prefix} VALUES ");
                for i in 0..n {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    let mut r = row.to_string();
                    // Highest first, so that `$1` does not match the start of `$10`.
                    for p in (1..=per_row).rev() {
                        r = r.replace(&format!("${p}"), &format!("?{}", shared + i * per_row + p));
                    }
                    sql.push('(');
                    sql.push_str(&r);
                    sql.push(')');
                }
                sql
            })
            .collect();
        Self {
            chunks,
            sql,
            shared,
            per_row,
            replay,
        }
    }

    /// The largest chunk: callers buffering rows can flush when they have this many.
    pub fn max_chunk(&self) -> usize {
        self.chunks[0]
    }

    /// Inserts `rows` (in order). `shared` binds the shared parameters; `bind_row(i, k)`
    /// returns the `k`-th (0-based) parameter of row `i`.
    pub fn insert<'v>(
        &self,
        conn: &Connection,
        rows: usize,
        shared: &[&dyn ToSql],
        bind_row: impl Fn(usize, usize) -> ToSqlOutput<'v>,
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
        &self,
        conn: &Connection,
        chunk: usize,
        size: usize,
        first: usize,
        shared: &[&dyn ToSql],
        bind_row: &impl Fn(usize, usize) -> ToSqlOutput<'v>,
    ) -> Result<()> {
        let sql = self.sql[chunk].as_str();
        let mut stmt = conn.prepare_cached(sql).sql_context(sql)?;
        for (i, p) in shared.iter().enumerate() {
            stmt.raw_bind_parameter(i + 1, p).sql_context(sql)?;
        }
        let mut index = self.shared;
        for r in first..first + size {
            for k in 0..self.per_row {
                index += 1;
                stmt.raw_bind_parameter(index, bind_row(r, k)).sql_context(sql)?;
            }
        }
        stmt.raw_execute().sql_context(sql)?;
        Ok(())
    }
}
