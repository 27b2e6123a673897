//! Multi-row `INSERT … VALUES (…), (…)` statements: one statement step per chunk of rows
//! instead of one per row, which is what makes storing and applying large checkpoints cheap.
//!
//! Rows are inserted in the order given, exactly as the same rows inserted one by one would
//! be (same rowids, same conflict handling per row), so callers can batch freely as long as
//! they flush before any other write to the same table.

use crate::error::{Result, SqlResultExt};
use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, ToSql};

/// Chunk sizes, largest first; a batch is split greedily. The largest keeps the parameter
/// count below 999 (the limit of SQLite builds before 3.32) for up to 7 parameters a row.
const CHUNKS: [usize; 4] = [128, 32, 8, 1];

/// The statement texts of one multi-row insert, for each chunk size.
pub struct MultiInsert {
    sql: [String; CHUNKS.len()],
    /// Parameters bound once per statement (`?1..=?shared`), e.g. the bucket id.
    shared: usize,
    /// Parameters per row.
    per_row: usize,
}

impl MultiInsert {
    /// `prefix` is e.g. `INSERT INTO t (a, b, c)`; each row is `(<row>)` where `row` is a
    /// template using `?1..?shared` for shared parameters and `$1..$per_row` for the row's own.
    pub fn new(prefix: &str, row: &str, shared: usize, per_row: usize) -> Self {
        let sql = CHUNKS.map(|n| {
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
        });
        Self { sql, shared, per_row }
    }

    /// Inserts `rows` (in order). `shared` binds the shared parameters; `bind_row(i, k)`
    /// returns the `k`-th (0-based) parameter of row `i`. Errors are returned as they come
    /// (only I/O-like failures are possible for the statements we batch).
    pub fn insert<'v>(
        &self,
        conn: &Connection,
        rows: usize,
        shared: &[&dyn ToSql],
        bind_row: impl Fn(usize, usize) -> ToSqlOutput<'v>,
    ) -> Result<()> {
        debug_assert_eq!(shared.len(), self.shared);
        let mut done = 0;
        for (c, &size) in CHUNKS.iter().enumerate() {
            while rows - done >= size {
                self.run_chunk(conn, c, size, done, shared, &bind_row)?;
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
