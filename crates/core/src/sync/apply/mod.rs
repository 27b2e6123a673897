//! Publishing downloaded rows into the app's tables ("sync_local", spec §6.7) and recording
//! the sync in `ps_buckets` / `ps_sync_state`.

mod raw;

pub use raw::RawTableCache;

use crate::error::{Result, SqlResultExt};
use crate::sync::client::store::ApplyMode;
use crate::sync::raw_tables::RawTable;
use crate::sync::status::FULL_SYNC_PRIORITY;
use rusqlite::{params, Connection};
use std::collections::{HashMap, HashSet};

/// Rows to publish in full mode: ops newer than their bucket's `last_applied_op`, plus
/// `ps_updated_rows`; the value is the data of the newest op for the row in any bucket
/// (`iif(max(op_id), …)`: an op id of 0 counts as no data, as in the reference).
const FULL_SQL: &str = "WITH updated_rows AS (SELECT b.row_type, b.row_id FROM ps_buckets AS buckets CROSS JOIN ps_oplog AS b ON b.bucket = buckets.id AND b.op_id > buckets.last_applied_op UNION ALL SELECT row_type, row_id FROM ps_updated_rows) SELECT b.row_type, b.row_id, (SELECT iif(max(r.op_id), r.data, NULL) FROM ps_oplog r WHERE r.row_type = b.row_type AND r.row_id = b.row_id) AS data FROM updated_rows b WHERE b.row_type IS NOT NULL AND b.row_id IS NOT NULL GROUP BY b.row_type, b.row_id";

/// Partial mode: only the buckets named in the JSON array ?1, without `ps_updated_rows`.
const PARTIAL_SQL: &str = "WITH involved_buckets (id) AS MATERIALIZED (SELECT id FROM ps_buckets WHERE name IN (SELECT value FROM json_each(?1))), updated_rows AS (SELECT b.row_type, b.row_id FROM ps_buckets AS buckets CROSS JOIN ps_oplog AS b ON b.bucket = buckets.id AND b.op_id > buckets.last_applied_op WHERE buckets.id IN (SELECT id FROM involved_buckets)) SELECT b.row_type, b.row_id, (SELECT iif(max(r.op_id), r.data, NULL) FROM ps_oplog r WHERE r.row_type = b.row_type AND r.row_id = b.row_id AND r.bucket IN (SELECT id FROM involved_buckets)) AS data FROM updated_rows b WHERE b.row_type IS NOT NULL AND b.row_id IS NOT NULL GROUP BY b.row_type, b.row_id";

const DATA_TABLES_SQL: &str =
    "SELECT substr(name, 10) FROM sqlite_master WHERE type = 'table' AND name GLOB 'ps_data__*'";

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Where rows of one type go.
enum Destination<'a> {
    /// `ps_data__<type>`: (REPLACE sql, DELETE sql).
    Data(String, String),
    /// A raw table of the `start` schema.
    Raw(&'a RawTable),
    /// `ps_untyped`.
    Untyped,
}

/// Writes the rows selected by `mode` into their tables. Call with the in-sync-local flag
/// set, so that CRUD triggers ignore these writes.
pub fn sync_local(
    conn: &Connection,
    raw_tables: &[RawTable],
    raw_cache: &mut RawTableCache,
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
    let names_json;
    let (sql, mut stmt) = match mode {
        ApplyMode::Full => (FULL_SQL, conn.prepare_cached(FULL_SQL).sql_context(FULL_SQL)?),
        ApplyMode::Partial { buckets, .. } => {
            names_json = serde_json::to_string(buckets).expect("names serialise");
            let mut s = conn.prepare_cached(PARTIAL_SQL).sql_context(PARTIAL_SQL)?;
            s.raw_bind_parameter(1, &names_json).sql_context(PARTIAL_SQL)?;
            (PARTIAL_SQL, s)
        }
    };
    let mut destinations: HashMap<String, Destination<'_>> = HashMap::new();
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next().sql_context(sql)? {
        let row_type = row.get_ref(0).sql_context(sql)?.as_str().unwrap_or_default();
        let row_id = row.get_ref(1).sql_context(sql)?.as_str().unwrap_or_default();
        let data = match row.get_ref(2).sql_context(sql)? {
            rusqlite::types::ValueRef::Text(t) => Some(std::str::from_utf8(t).unwrap_or_default()),
            _ => None,
        };
        if !destinations.contains_key(row_type) {
            let dest = if data_tables.contains(row_type) {
                let t = quote(&format!("ps_data__{row_type}"));
                Destination::Data(
                    format!("REPLACE INTO {t}(id, data) VALUES(?1, ?2)"),
                    format!("DELETE FROM {t} WHERE id = ?1"),
                )
            } else if let Some(raw) = raw_tables.iter().find(|r| r.name == row_type) {
                Destination::Raw(raw)
            } else {
                Destination::Untyped
            };
            destinations.insert(row_type.to_string(), dest);
        }
        match &destinations[row_type] {
            Destination::Data(put, delete) => match data {
                Some(d) => exec(conn, put.as_str(), params![row_id, d])?,
                None => exec(conn, delete.as_str(), params![row_id])?,
            },
            Destination::Raw(table) => match data {
                Some(d) => raw_cache.put(conn, table, row_id, d)?,
                None => raw_cache.delete(conn, table, row_id)?,
            },
            Destination::Untyped => match data {
                Some(d) => exec(
                    conn,
                    "REPLACE INTO ps_untyped(type, id, data) VALUES(?1, ?2, ?3)",
                    params![row_type, row_id, d],
                )?,
                None => exec(
                    conn,
                    "DELETE FROM ps_untyped WHERE type = ?1 AND id = ?2",
                    params![row_type, row_id],
                )?,
            },
        }
    }
    Ok(())
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
