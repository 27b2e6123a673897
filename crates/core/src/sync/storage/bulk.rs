//! Bulk mode: an initial sync stores its ops without the two random-order indexes of
//! `ps_oplog`, and builds them once, sorted, before the first apply (docs/storage.md).
//!
//! With random row ids every op of a line lands on a different leaf of `ps_oplog_row`
//! `(row_type, row_id)` and of `ps_oplog_key` `(bucket, key)`. Once those indexes outgrow the
//! page cache, each 1000-op line dirties about 1,800 pages, and as every line is its own
//! transaction, all of them go to the WAL (and, past the autocheckpoint, to the database
//! again) on every line: 15 kB written per op. Without the two indexes a line appends to the
//! table and to the sequential `(bucket, op_id)` index only; `CREATE INDEX` later sorts once.
//!
//! What bulk mode changes, and what it keeps:
//! - The rows of every table are exactly those of indexed mode; only the two indexes are
//!   missing between the first data line of an empty `ps_oplog` and the next apply.
//! - Supersedes need "stored ops of this bucket with this key". Instead of the key index,
//!   [`KeySet`] keeps in memory a Bloom filter of every `(bucket, key)` stored; only keys
//!   it may hold are looked up, all of a line's at once, by one pass over the bucket's ops.
//!   The set may hold more than the table (rolled-back lines, deleted ops): that only costs
//!   a lookup. It must never hold less, so it is trusted only while no other connection has
//!   committed since it was last brought up to date (`PRAGMA data_version`), and otherwise
//!   rebuilt from the table.
//! - Interchange: entering bulk mode records schema version 15 in `ps_migration`, with a
//!   down script that re-creates the indexes. A library that knows only version 14 (the
//!   reference) runs it when it opens the database and continues in indexed mode; leaving
//!   bulk mode runs the same statements, so the database is then at version 14 again,
//!   identical to one written in indexed mode (`sqlite_master` text included).

use crate::error::{Result, SqlResultExt};
use crate::migrations::exec_script;
use crate::sync::stmt::RawStatement;
use crate::sync::storage::sort_memory::SortMemory;
use growable_bloom_filter::GrowableBloom;
use rusqlite::Connection;
use std::collections::HashMap;

/// The schema version that marks bulk mode.
pub(crate) const BULK_VERSION: i32 = 15;

/// The down script of version 15, stored in `ps_migration` while in bulk mode (and compared
/// byte for byte to recognise our marker). `IF NOT EXISTS`: SQLite stores the index text
/// without it, so the indexes come back exactly as version 5 created them.
pub(crate) const BULK_DOWN: &str = r#"[{"sql":"CREATE INDEX IF NOT EXISTS ps_oplog_row ON ps_oplog (row_type, row_id)"},{"sql":"CREATE INDEX IF NOT EXISTS ps_oplog_key ON ps_oplog (bucket, key)"},{"sql":"DELETE FROM ps_migration WHERE id >= 15"}]"#;

/// Number of the two indexes present, the schema version, and its down script.
const MODE: &str = "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('ps_oplog_row', 'ps_oplog_key')), (SELECT ifnull(max(id), 0) FROM ps_migration), EXISTS (SELECT 1 FROM ps_migration WHERE id = 15 AND down_migrations = ?1)";
const DROP_INDEXES: &str = "DROP INDEX IF EXISTS ps_oplog_row; DROP INDEX IF EXISTS ps_oplog_key";
const MARK: &str = "INSERT INTO ps_migration (id, down_migrations) VALUES (15, ?1)";
/// Whether the database is at version 15 (and no higher) with our down script.
const MARKED: &str = "SELECT EXISTS (SELECT 1 FROM ps_migration WHERE id = 15 AND down_migrations = ?1) AND NOT EXISTS (SELECT 1 FROM ps_migration WHERE id > 15)";
const DATA_VERSION: &str = "PRAGMA data_version";
/// Every stored key (rebuilding the [`KeySet`]).
const ALL_KEYS: &str = "SELECT bucket, key FROM ps_oplog WHERE key IS NOT NULL";
/// The stored ops of a bucket (through the `(bucket, op_id)` index).
const BUCKET_OPS: &str = "SELECT rowid, key, hash FROM ps_oplog WHERE bucket = ?1 AND key IS NOT NULL";

/// The `(bucket, key)` of every op stored (and maybe more), see the module docs.
///
/// A scalable Bloom filter (layers of doubling size, each tighter than the one before)
/// rather than a set of 64-bit hashes. It answers "maybe stored" for a key that is not
/// about once in three million lookups, which costs one pass over the bucket's ops for that
/// line. Measured on the benchmark's 1M-op initial sync: the hash set (18 MB, and its
/// previous table alive while it grew) put our peak memory at 146 MB, above the reference's
/// 118 MB; with the filter (about 9 MB in layers that are never copied) it is 111 MB, at
/// the same speed.
pub(crate) struct KeySet {
    keys: GrowableBloom,
    /// `PRAGMA data_version` when the set was last known to cover the table.
    data_version: i64,
}

/// False positives per lookup of the filter's first layer (later layers are tighter).
const FALSE_POSITIVES: f64 = 1e-7;
/// Keys the first layer holds; each later layer holds twice as many as the one before.
const FIRST_LAYER: usize = 1 << 16;

impl KeySet {
    fn empty(data_version: i64) -> Self {
        Self::with_false_positives(FALSE_POSITIVES, data_version)
    }

    fn with_false_positives(rate: f64, data_version: i64) -> Self {
        Self {
            keys: GrowableBloom::new(rate, FIRST_LAYER),
            data_version,
        }
    }

    /// Reads every stored key.
    fn rebuild(conn: &Connection, data_version: i64) -> Result<Self> {
        let mut set = Self::empty(data_version);
        let mut stmt = RawStatement::prepare(conn, ALL_KEYS.to_string())?;
        stmt.query(
            |_| {},
            |row| {
                if let Some(key) = row.text(1) {
                    set.keys.insert((row.int(0), key));
                }
                Ok(())
            },
        )?;
        Ok(set)
    }

    /// Notes the keys of a line as stored (after its writes).
    pub(crate) fn add<'k>(&mut self, bucket: i64, keys: impl IntoIterator<Item = &'k str>) {
        for key in keys {
            self.keys.insert((bucket, key));
        }
    }

    /// The stored ops `(rowid, hash)`, in rowid order, of those of `keys` that bucket
    /// `bucket` may hold; keys absent from the result have none. One pass over the bucket's
    /// ops when any key may be stored, none otherwise.
    pub(crate) fn stored<'k>(
        &self,
        conn: &Connection,
        bucket: i64,
        keys: impl IntoIterator<Item = &'k str>,
    ) -> Result<HashMap<&'k str, Vec<(i64, u32)>>> {
        let mut found: HashMap<&'k str, Vec<(i64, u32)>> = keys
            .into_iter()
            .filter(|k| self.keys.contains((bucket, *k)))
            .map(|k| (k, Vec::new()))
            .collect();
        if found.is_empty() {
            return Ok(found);
        }
        let mut stmt = RawStatement::prepare(conn, BUCKET_OPS.to_string())?;
        stmt.query(
            |b| b.int(1, bucket),
            |row| {
                if let Some(ops) = row.text(1).and_then(|k| found.get_mut(k)) {
                    ops.push((row.int(0), row.int(2) as u32));
                }
                Ok(())
            },
        )?;
        found.retain(|_, ops| !ops.is_empty());
        for ops in found.values_mut() {
            ops.sort_unstable();
        }
        Ok(found)
    }
}

fn data_version(conn: &Connection) -> Result<i64> {
    conn.prepare_cached(DATA_VERSION)
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .sql_context(DATA_VERSION)
}

/// Decides the mode of a data line, entering bulk mode when `ps_oplog` is empty (`max_rowid`
/// 0) at schema version 14. In bulk mode, returns the key set, brought up to date.
pub(crate) fn for_line<'s>(
    conn: &Connection,
    slot: &'s mut Option<KeySet>,
    max_rowid: i64,
) -> Result<Option<&'s mut KeySet>> {
    let (indexes, version, marked): (i64, i64, bool) = conn
        .prepare_cached(MODE)
        .and_then(|mut s| s.query_row([BULK_DOWN], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))))
        .sql_context(MODE)?;
    let bulk = version == i64::from(BULK_VERSION) && marked;
    if !bulk {
        *slot = None;
        if version != 14 || max_rowid != 0 {
            return Ok(None);
        }
        // An empty oplog: the ops about to come are the whole of it, so build its indexes
        // at the end, sorted, rather than one random leaf per op.
        exec_script(conn, DROP_INDEXES)?;
        conn.prepare_cached(MARK)
            .and_then(|mut s| s.execute([BULK_DOWN]))
            .sql_context(MARK)?;
        *slot = Some(KeySet::empty(data_version(conn)?));
    } else if indexes != 0 {
        // Someone re-created them (by hand): they would be maintained for nothing.
        exec_script(conn, DROP_INDEXES)?;
    }
    let version = data_version(conn)?;
    match slot {
        Some(set) if set.data_version == version => {}
        // A new connection state, or another connection committed: what it wrote is unknown.
        _ => *slot = Some(KeySet::rebuild(conn, version)?),
    }
    Ok(slot.as_mut())
}

/// Whether the database is in bulk mode: at version 15 with our down script.
pub(crate) fn is_bulk(conn: &Connection) -> Result<bool> {
    conn.prepare_cached(MARKED)
        .and_then(|mut s| s.query_row([BULK_DOWN], |r| r.get(0)))
        .sql_context(MARKED)
}

/// Leaves bulk mode (before anything that reads `ps_oplog` by row or key, i.e. an apply):
/// builds the indexes and goes back to version 14. Nothing to do in indexed mode.
pub(crate) fn leave(conn: &Connection, slot: &mut Option<KeySet>) -> Result<()> {
    *slot = None;
    if !is_bulk(conn)? {
        return Ok(());
    }
    // The two `CREATE INDEX` sort every op.
    let memory = SortMemory::limit(conn)?;
    for step in serde_json::from_str::<Vec<serde_json::Value>>(BULK_DOWN).expect("valid JSON") {
        exec_script(conn, step["sql"].as_str().expect("sql text"))?;
    }
    memory.restore()
}

#[cfg(test)]
mod tests {
    use super::KeySet;
    use rusqlite::Connection;

    /// A "maybe" for a key the bucket does not hold (a false positive, here made common)
    /// costs a pass over the bucket's ops and never reports an op that is not there.
    #[test]
    fn false_positives_find_only_stored_ops() {
        let conn = Connection::open_in_memory().unwrap();
        crate::register(&conn).unwrap();
        conn.execute_batch(
            "BEGIN; SELECT powersync_init(); COMMIT;
             INSERT INTO ps_oplog (bucket, op_id, key, row_type, row_id, data, hash) VALUES
               (1, 1, 'items/a/null', 'items', 'a', '{}', 10),
               (2, 2, 'items/b/null', 'items', 'b', '{}', 20),
               (1, 3, 'items/c/null', 'items', 'c', '{}', 30),
               (1, 4, 'items/a/null', 'items', 'a', '{}', 40);",
        )
        .unwrap();
        let mut set = KeySet::with_false_positives(0.9, 0);
        set.add(1, ["items/a/null", "items/c/null"]);
        set.add(2, ["items/b/null"]);
        let keys = ["items/a/null", "items/b/null", "items/c/null", "items/d/null"];
        let mut found: Vec<_> = set.stored(&conn, 1, keys).unwrap().into_iter().collect();
        found.sort();
        assert_eq!(
            found,
            vec![
                ("items/a/null", vec![(1, 10), (4, 40)]),
                ("items/c/null", vec![(3, 30)]),
            ]
        );
        // An empty filter holds no key.
        let exact = KeySet::with_false_positives(1e-9, 0);
        assert!(exact.stored(&conn, 1, keys).unwrap().is_empty());
    }
}
