//! Publishing downloaded rows into the app's tables ("sync_local", docs/protocol.md#applying-rows) and recording
//! the sync in `ps_buckets` / `ps_sync_state`.

mod raw;
mod rows;
#[cfg(test)]
mod tests;
mod writer;

pub use raw::RawTableCache;

use crate::error::{Result, SqlResultExt};
use crate::sync::client::store::ApplyMode;
use crate::sync::raw_tables::RawTable;
use crate::sync::statements::HotStatements;
use crate::sync::status::FULL_SYNC_PRIORITY;
use rusqlite::{params, Connection};
use std::collections::HashSet;
use writer::Writer;

const DATA_TABLES_SQL: &str =
    "SELECT substr(name, 10) FROM sqlite_master WHERE type = 'table' AND name GLOB 'ps_data__*'";

/// Writes the rows selected by `mode` into their tables. Call with the in-sync-local flag
/// set, so that CRUD triggers ignore these writes.
pub fn sync_local(
    conn: &Connection,
    raw_tables: &[RawTable],
    raw_cache: &mut RawTableCache,
    statements: &mut HotStatements,
    mode: ApplyMode<'_>,
) -> Result<()> {
    let data_tables: HashSet<String> = {
        let mut stmt = conn
            .prepare_cached(DATA_TABLES_SQL)
            .sql_context(DATA_TABLES_SQL)?;
        let names = stmt
            .query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<_>>())
            .sql_context(DATA_TABLES_SQL)?;
        names
    };
    raw_cache.refresh(conn)?;
    let mut writer = Writer::new(conn, raw_tables, raw_cache, statements, data_tables);
    rows::for_each_row(conn, mode, &mut |t, id, data| writer.row(t, id, data))?;
    writer.flush()
}

fn exec(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<()> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute(p))
        .sql_context(sql)
        .map(drop)
}

/// Bookkeeping after an apply: `last_applied_op`, `ps_updated_rows`, `ps_sync_state`.
pub fn record_sync(conn: &Connection, mode: ApplyMode<'_>, now: i64) -> Result<()> {
    let priority = match mode {
        ApplyMode::Full => {
            exec(
                conn,
                "UPDATE ps_buckets SET last_applied_op = last_op WHERE last_applied_op != last_op",
                [],
            )?;
            exec(conn, "DELETE FROM ps_updated_rows", [])?;
            FULL_SYNC_PRIORITY
        }
        ApplyMode::Partial { priority, buckets } => {
            const SQL: &str = "UPDATE ps_buckets SET last_applied_op = last_op WHERE name = ?1";
            let mut stmt = conn.prepare_cached(SQL).sql_context(SQL)?;
            for name in buckets {
                stmt.execute([name]).sql_context(SQL)?;
            }
            priority
        }
    };
    exec(conn, "DELETE FROM ps_sync_state WHERE priority < ?1", [priority])?;
    exec(
        conn,
        "INSERT OR REPLACE INTO ps_sync_state (priority, last_synced_at) VALUES (?1, ?2)",
        params![priority, now],
    )
}
