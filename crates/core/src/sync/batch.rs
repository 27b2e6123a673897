//! Multi-row `INSERT … VALUES (…), (…)` statements: one statement step per chunk of rows
//! instead of one per row, which is what makes storing and applying large checkpoints cheap.
//!
//! Rows are inserted in the order given, exactly as the same rows inserted one by one would
//! be (same rowids, same conflict handling per row), so callers can batch freely as long as
//! they flush before any other write to the same table.

use super::stmt::RawStatement;
use crate::error::{PowerSyncError, Result};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

/// The statements of one multi-row insert, for each chunk size (prepared on first use).
pub(crate) struct MultiInsert {
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
    /// The one-row statement replays use instead of `single` (see
    /// [`Self::with_replay_statement`]), and its prepared form.
    replay_sql: Option<String>,
    replay_statement: Option<RawStatement>,
}

/// A failed [`MultiInsert::insert_rows`]: the error, and the index of the row whose one-row
/// statement failed (`None` when a multi-row statement failed without replay).
pub(crate) struct InsertFailure {
    /// What SQLite reported.
    pub error: PowerSyncError,
    /// The failing row.
    pub row: Option<usize>,
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
    pub(crate) fn new(
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
            replay_sql: None,
            replay_statement: None,
        }
    }

    /// Replays failing chunks with `single` — a one-row statement with the same parameters —
    /// instead of the batch's own one-row statement, starting after the rows the failed
    /// statement kept (`sqlite3_changes`: an `OR FAIL` insert keeps the rows before the
    /// failing one, an ABORTed statement none). For batches whose statements differ from the
    /// reference's row-by-row statement: the replayed row then fails with the reference's
    /// statement text and error, with the same rows written before it.
    pub(crate) fn with_replay_statement(mut self, single: String) -> Self {
        self.replay = true;
        self.replay_sql = Some(single);
        self
    }

    /// Inserts `rows` (in order). `shared` binds the shared parameters; `bind_row(i, k)`
    /// returns the `k`-th (0-based) parameter of row `i`.
    pub(crate) fn insert<'v>(
        &mut self,
        conn: &Connection,
        rows: usize,
        shared: &[ValueRef<'v>],
        bind_row: impl Fn(usize, usize) -> ValueRef<'v>,
    ) -> Result<()> {
        self.insert_rows(conn, rows, shared, bind_row)
            .map_err(|f| f.error)
    }

    /// Like [`Self::insert`], telling which row failed.
    pub(crate) fn insert_rows<'v>(
        &mut self,
        conn: &Connection,
        rows: usize,
        shared: &[ValueRef<'v>],
        bind_row: impl Fn(usize, usize) -> ValueRef<'v>,
    ) -> std::result::Result<(), InsertFailure> {
        debug_assert_eq!(shared.len(), self.shared);
        let single = self.chunks.len() - 1;
        let mut done = 0;
        for (c, &size) in self.chunks.iter().enumerate() {
            while rows - done >= size {
                if let Err(error) = self.run_chunk(conn, c, size, done, shared, &bind_row) {
                    let alternate = self.replay_sql.is_some();
                    // Only while our transaction is alive: some errors (I/O, out of
                    // memory) make SQLite roll back the whole transaction, and replaying
                    // then would write outside of it.
                    if !self.replay || (size == 1 && !alternate) || conn.is_autocommit() {
                        let row = (size == 1).then_some(done);
                        return Err(InsertFailure { error, row });
                    }
                    let kept = if alternate {
                        (conn.changes() as usize).min(size)
                    } else {
                        0
                    };
                    for r in done + kept..done + size {
                        let result = match self.replay_sql.clone() {
                            Some(sql) => {
                                let stmt = match &mut self.replay_statement {
                                    Some(stmt) => stmt,
                                    slot => match RawStatement::prepare(conn, sql) {
                                        Ok(stmt) => slot.insert(stmt),
                                        Err(error) => return Err(InsertFailure { error, row: Some(r) }),
                                    },
                                };
                                Self::run_on(stmt, self.shared, self.per_row, 1, r, shared, &bind_row)
                            }
                            None => self.run_chunk(conn, single, 1, r, shared, &bind_row),
                        };
                        result.map_err(|error| InsertFailure { error, row: Some(r) })?;
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
        Self::run_on(stmt, self.shared, self.per_row, size, first, shared, bind_row)
    }

    /// Binds rows `first..first + size` to `stmt` and runs it.
    fn run_on<'v>(
        stmt: &mut RawStatement,
        n_shared: usize,
        per_row: usize,
        size: usize,
        first: usize,
        shared: &[ValueRef<'v>],
        bind_row: &impl Fn(usize, usize) -> ValueRef<'v>,
    ) -> Result<()> {
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
