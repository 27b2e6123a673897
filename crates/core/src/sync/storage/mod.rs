//! SQL storage of the sync client: [`SqlStore`] implements the state machine's
//! [`SyncStore`] over the `ps_*` tables with cached prepared statements. Its errors go
//! through the state machine boxed (`powersync_protocol::Error::Store`) and come back
//! unchanged.
//!
//! Statements are compiled once per connection: most through `prepare_cached` on the
//! long-lived connection kept in `SyncState`, the few run per op or per row as our own
//! statements (`sync::stmt`, kept in [`HotStatements`]). Both are reset when their
//! execution finishes, so none is left mid-step when a call returns.

pub(crate) mod bulk;
mod data;
pub mod kv;
pub(crate) mod sort_memory;
pub mod subscriptions;
pub mod time;

use crate::error::{PowerSyncError, Result, SqlResultExt};
use crate::state::ConnectionState;
use crate::sync::apply::{self, RawTableCache};
use crate::sync::client::store::{ApplyMode, BucketCounters, ChecksumFailure, SubscriptionRow, SyncStore};
use crate::sync::options::StreamKey;
use crate::sync::protocol::DataLine;
use crate::sync::raw_tables::RawTable;
use crate::sync::statements::HotStatements;
use crate::sync::status::PriorityStatus;
use powersync_protocol::Result as StoreResult;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;

/// The statement the reference prepares first; it doubles as the check that
/// `powersync_init()` has run, so its text appears in the error on a database without
/// `ps_buckets`.
pub const PROGRESS_SQL: &str = "SELECT id, name, count_at_last, count_since_last FROM ps_buckets";

/// Prepares the progress statement, failing like the reference when `ps_buckets` is missing.
pub fn ensure_ready(conn: &Connection) -> Result<()> {
    conn.prepare_cached(PROGRESS_SQL)
        .sql_context(PROGRESS_SQL)
        .map(drop)
}

/// Runs a cached statement that returns no rows.
pub(crate) fn exec(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<usize> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute(p))
        .sql_context(sql)
}

/// [`SyncStore`] over SQLite.
pub struct SqlStore<'a> {
    /// The connection (non-owning, long-lived).
    pub conn: &'a Connection,
    /// For `while_syncing_local`.
    pub state: &'a ConnectionState,
    /// Raw tables from the `start` schema.
    pub raw_tables: &'a [RawTable],
    /// Inferred raw-table statements.
    pub raw_cache: &'a mut RawTableCache,
    /// Statements of the hot path.
    pub statements: &'a mut HotStatements,
    /// The timestamp query for this SQLite version.
    pub now_sql: &'static str,
}

impl SqlStore<'_> {
    fn query_one<T: rusqlite::types::FromSql>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
    ) -> Result<Option<T>> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.query_row(p, |r| r.get::<_, T>(0)).optional())
            .sql_context(sql)
    }
}

/// Removes the ops of bucket `id` after noting their rows in `ps_updated_rows`, so that the
/// next apply revisits those rows: what deleting a bucket means besides its `ps_buckets` row,
/// which the caller deletes (the sync client by name, before; `powersync doctor` by id).
pub fn delete_bucket_ops(conn: &Connection, id: i64) -> Result<()> {
    // Rows without type or id are skipped by OR IGNORE (primary-key columns of a WITHOUT
    // ROWID table are NOT NULL).
    const UPDATED: &str = "INSERT OR IGNORE INTO ps_updated_rows(row_type, row_id)\nSELECT row_type, row_id\nFROM ps_oplog\nWHERE bucket = ?1";
    const OPS: &str = "DELETE FROM ps_oplog WHERE bucket=?1";
    exec(conn, UPDATED, [id])?;
    exec(conn, OPS, [id])?;
    Ok(())
}

/// Reads `ps_sync_state` (for the status).
pub fn priority_status(conn: &Connection) -> Result<Vec<PriorityStatus>> {
    const SQL: &str = "SELECT priority, last_synced_at FROM ps_sync_state ORDER BY priority";
    let mut stmt = conn.prepare_cached(SQL).sql_context(SQL)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(PriorityStatus {
                priority: r.get(0)?,
                last_synced_at: r.get(1)?,
                has_synced: Some(true),
            })
        })
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .sql_context(SQL)?;
    Ok(rows)
}

impl SyncStore for SqlStore<'_> {
    fn now(&mut self) -> StoreResult<i64> {
        Ok(self.query_one(self.now_sql, [])?.unwrap_or(0))
    }

    fn priority_status(&mut self) -> StoreResult<Vec<PriorityStatus>> {
        Ok(priority_status(self.conn)?)
    }

    fn subscriptions(&mut self) -> StoreResult<Vec<SubscriptionRow>> {
        Ok(subscriptions::all(self.conn)?)
    }

    fn request_buckets(&mut self) -> StoreResult<Vec<(String, i64)>> {
        const SQL: &str = "SELECT name, last_op FROM ps_buckets WHERE pending_delete = 0 ORDER BY id";
        let mut stmt = self.conn.prepare_cached(SQL).sql_context(SQL)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .sql_context(SQL)?;
        Ok(rows)
    }

    fn refresh_ttl(&mut self, streams: &[StreamKey], now: i64) -> StoreResult<()> {
        Ok(subscriptions::refresh_ttl(self.conn, streams, now)?)
    }

    fn delete_outdated_subscriptions(&mut self, now: i64) -> StoreResult<()> {
        Ok(subscriptions::delete_outdated(self.conn, now)?)
    }

    fn client_id(&mut self) -> StoreResult<String> {
        Ok(kv::client_id(self.conn)?)
    }

    fn checkpoint_request_id(&mut self) -> StoreResult<i64> {
        let counter = kv::get_int(self.conn, kv::REQUESTED)?.unwrap_or(0);
        let target = kv::get_int(self.conn, kv::TARGET)?
            .filter(|t| *t > 0 && *t < i64::MAX)
            .unwrap_or(0);
        Ok(counter.max(target).max(1))
    }

    fn target_checkpoint_request_id(&mut self) -> StoreResult<Option<i64>> {
        Ok(kv::get_int(self.conn, kv::TARGET)?)
    }

    fn delete_buckets(&mut self, names: &[&str]) -> StoreResult<()> {
        // The reference's statement: the id comes back from deleting the row by name.
        const DELETE: &str = "DELETE FROM ps_buckets WHERE name = ?1 RETURNING id";
        for name in names {
            let id: Option<i64> = self.query_one(DELETE, [name])?;
            if let Some(id) = id {
                delete_bucket_ops(self.conn, id)?;
            }
        }
        Ok(())
    }

    fn bucket_counters(&mut self) -> StoreResult<HashMap<String, BucketCounters>> {
        let mut stmt = self.conn.prepare_cached(PROGRESS_SQL).sql_context(PROGRESS_SQL)?;
        let map = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(1)?,
                    BucketCounters {
                        id: r.get(0)?,
                        at_last: r.get(2)?,
                        since_last: r.get(3)?,
                    },
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<HashMap<_, _>>>())
            .sql_context(PROGRESS_SQL)?;
        Ok(map)
    }

    fn reset_counters(&mut self, ids: &[i64]) -> StoreResult<()> {
        const SQL: &str = "UPDATE ps_buckets SET count_since_last = 0, count_at_last = 0 WHERE id = ?";
        for id in ids {
            exec(self.conn, SQL, [id])?;
        }
        Ok(())
    }

    fn insert_data_line(&mut self, line: &DataLine<'_>, size: usize) -> StoreResult<()> {
        Ok(data::insert_line(self.conn, self.statements, line, size)?)
    }

    fn validate_checksums(&mut self, buckets: &[(&str, u32)]) -> StoreResult<Vec<ChecksumFailure>> {
        const SQL: &str = "SELECT add_checksum, op_checksum FROM ps_buckets WHERE name = ?1";
        let mut stmt = self.conn.prepare_cached(SQL).sql_context(SQL)?;
        let mut failures = Vec::new();
        for (name, expected) in buckets {
            let (add, op): (i64, i64) = stmt
                .query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .sql_context(SQL)?
                .unwrap_or((0, 0));
            let (add, op) = (add as u32, op as u32);
            if add.wrapping_add(op) != *expected {
                failures.push(ChecksumFailure {
                    bucket: name.to_string(),
                    expected: *expected,
                    add,
                    op,
                });
            }
        }
        Ok(failures)
    }

    fn set_last_op(&mut self, buckets: &[&str], last_op: i64) -> StoreResult<()> {
        const SQL: &str = "UPDATE ps_buckets SET last_op = ? WHERE name = ?";
        let mut stmt = self.conn.prepare_cached(SQL).sql_context(SQL)?;
        for name in buckets {
            stmt.execute(params![last_op, name]).sql_context(SQL)?;
        }
        Ok(())
    }

    fn set_kv(&mut self, key: &str, value: i64) -> StoreResult<()> {
        Ok(kv::set_int(self.conn, key, value)?)
    }

    fn write_gate_closed(&mut self) -> StoreResult<bool> {
        const SQL: &str = "SELECT (EXISTS (SELECT 1 FROM ps_kv t WHERE t.key = 'target_checkpoint_request_id' AND CAST(t.value AS INTEGER) > COALESCE((SELECT CAST(s.value AS INTEGER) FROM ps_kv s WHERE s.key = 'last_seen_checkpoint_request_id'), 0))) OR EXISTS (SELECT 1 FROM ps_crud)";
        Ok(self.query_one::<bool>(SQL, [])?.unwrap_or(false))
    }

    fn apply(&mut self, mode: ApplyMode<'_>, now: i64) -> StoreResult<()> {
        let (conn, raw_tables) = (self.conn, self.raw_tables);
        let (cache, statements) = (&mut *self.raw_cache, &mut *self.statements);
        // Applying reads ops by row: the indexes must exist.
        bulk::leave(conn, &mut statements.bulk)?;
        self.state
            .while_syncing_local(|| apply::sync_local(conn, raw_tables, cache, statements, mode))?;
        Ok(apply::record_sync(conn, mode, now)?)
    }

    fn set_counts(&mut self, counts: &[(&str, i64)]) -> StoreResult<()> {
        const SQL: &str = "UPDATE ps_buckets SET count_since_last = 0, count_at_last = ? WHERE name = ?";
        let mut stmt = self.conn.prepare_cached(SQL).sql_context(SQL)?;
        for (name, count) in counts {
            stmt.execute(params![count, name]).sql_context(SQL)?;
        }
        Ok(())
    }

    fn update_subscription(&mut self, row: &SubscriptionRow) -> StoreResult<()> {
        Ok(subscriptions::update(self.conn, row)?)
    }

    fn delete_subscription(&mut self, id: i64) -> StoreResult<()> {
        exec(
            self.conn,
            "DELETE FROM ps_stream_subscriptions WHERE id = ?",
            [id],
        )?;
        Ok(())
    }

    fn insert_default_subscription(&mut self, stream: &str) -> StoreResult<i64> {
        // `RETURNING *`: the id is the first column.
        const SQL: &str = "INSERT INTO ps_stream_subscriptions (stream_name, active, is_default) VALUES (?, TRUE, TRUE) RETURNING *;";
        Ok(self
            .query_one(SQL, [stream])?
            .ok_or_else(|| PowerSyncError::Internal(Some("no id returned".into())))?)
    }

    fn set_subscriptions_synced(&mut self, ids: &[i64], now: i64) -> StoreResult<()> {
        const SQL: &str = "UPDATE ps_stream_subscriptions SET last_synced_at = ?2 WHERE id = ?1";
        let mut stmt = self.conn.prepare_cached(SQL).sql_context(SQL)?;
        for id in ids {
            stmt.execute(params![id, now]).sql_context(SQL)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
