//! Which rows an apply publishes, and with which data (docs/protocol.md#applying-rows), in the reference's order:
//! grouped by `(row_type, row_id)`, ascending (BINARY).
//!
//! The reference runs one query: the rows of the ops newer than their bucket's
//! `last_applied_op` (plus `ps_updated_rows`), grouped, each group's data found by a
//! correlated subquery (`candidates`, kept as the tests' oracle). Two ways to the same rows:
//! - [`lookups`]: that query taken apart — the rows of the new ops sorted and deduplicated in
//!   memory, then each row's ops looked up. Cheap when few ops are new (incremental
//!   checkpoints over a large database).
//! - [`scan`]: one ordered pass over the `(row_type, row_id)` index of `ps_oplog`, merged with
//!   `ps_updated_rows`, deciding per group in memory. No sort and no per-row lookups, so much
//!   cheaper when most ops are new (initial syncs).
//!
//! [`for_each_row`] picks one by a bounded count of the new ops.

use crate::error::{Result, SqlResultExt};
use crate::sync::client::store::ApplyMode;
use crate::sync::stmt::RawStatement;
use crate::sync::storage::sort_memory::SortMemory;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::collections::HashMap;

/// Full mode: the reference's query (kept as the oracle of the tests) (ops newer than their bucket's `last_applied_op`, plus
/// `ps_updated_rows`); the value is the data of the newest op for the row in any bucket
/// (`iif(max(op_id), …)`: an op id of 0 counts as no data; among equal op ids the first in
/// rowid order wins).
#[cfg(test)]
const FULL_SQL: &str = "WITH updated_rows AS (SELECT b.row_type, b.row_id FROM ps_buckets AS buckets CROSS JOIN ps_oplog AS b ON b.bucket = buckets.id AND b.op_id > buckets.last_applied_op UNION ALL SELECT row_type, row_id FROM ps_updated_rows) SELECT b.row_type, b.row_id, (SELECT iif(max(r.op_id), r.data, NULL) FROM ps_oplog r WHERE r.row_type = b.row_type AND r.row_id = b.row_id) AS data FROM updated_rows b WHERE b.row_type IS NOT NULL AND b.row_id IS NOT NULL GROUP BY b.row_type, b.row_id";

/// Partial mode: only the buckets named in the JSON array ?1, without `ps_updated_rows`.
#[cfg(test)]
const PARTIAL_SQL: &str = "WITH involved_buckets (id) AS MATERIALIZED (SELECT id FROM ps_buckets WHERE name IN (SELECT value FROM json_each(?1))), updated_rows AS (SELECT b.row_type, b.row_id FROM ps_buckets AS buckets CROSS JOIN ps_oplog AS b ON b.bucket = buckets.id AND b.op_id > buckets.last_applied_op WHERE buckets.id IN (SELECT id FROM involved_buckets)) SELECT b.row_type, b.row_id, (SELECT iif(max(r.op_id), r.data, NULL) FROM ps_oplog r WHERE r.row_type = b.row_type AND r.row_id = b.row_id AND r.bucket IN (SELECT id FROM involved_buckets)) AS data FROM updated_rows b WHERE b.row_type IS NOT NULL AND b.row_id IS NOT NULL GROUP BY b.row_type, b.row_id";

/// Rows of the new ops (and `ps_updated_rows`), unordered and with repetitions.
const NEW_ROWS_FULL: &str = "SELECT b.row_type, b.row_id FROM ps_buckets AS buckets CROSS JOIN ps_oplog AS b ON b.bucket = buckets.id AND b.op_id > buckets.last_applied_op WHERE b.row_type IS NOT NULL AND b.row_id IS NOT NULL UNION ALL SELECT row_type, row_id FROM ps_updated_rows";
/// Rows of the new ops of the buckets named in the JSON array ?1.
const NEW_ROWS_PARTIAL: &str = "SELECT b.row_type, b.row_id FROM ps_buckets AS buckets CROSS JOIN ps_oplog AS b ON b.bucket = buckets.id AND b.op_id > buckets.last_applied_op WHERE buckets.name IN (SELECT value FROM json_each(?1)) AND b.row_type IS NOT NULL AND b.row_id IS NOT NULL";
/// The ops of one row, in rowid order (the `(row_type, row_id)` index).
const ROW_OPS: &str = "SELECT op_id, bucket, data FROM ps_oplog WHERE row_type = ?1 AND row_id = ?2";

/// New ops of all buckets, counted up to ?1. (`LIMIT ?1 + 0`, not `LIMIT ?1`: SQLite
/// re-prepares a statement whose plan may depend on a bound LIMIT each time the value
/// changes.)
const COUNT_FULL: &str = "SELECT (SELECT count(*) FROM (SELECT 1 FROM ps_buckets AS buckets CROSS JOIN ps_oplog AS b ON b.bucket = buckets.id AND b.op_id > buckets.last_applied_op LIMIT ?1 + 0)) + (SELECT count(*) FROM (SELECT 1 FROM ps_updated_rows LIMIT ?1 + 0))";
/// New ops of the buckets named in the JSON array ?2, counted up to ?1.
const COUNT_PARTIAL: &str = "SELECT count(*) FROM (SELECT 1 FROM ps_buckets AS buckets CROSS JOIN ps_oplog AS b ON b.bucket = buckets.id AND b.op_id > buckets.last_applied_op WHERE buckets.name IN (SELECT value FROM json_each(?2)) LIMIT ?1 + 0)";
/// An upper bound of the number of ops (rowids are assigned as max + 1).
const MAX_ROWID: &str = "SELECT ifnull(max(rowid), 0) FROM ps_oplog";

/// Every op with a row, in `(row_type, row_id)` order and, within a row, in rowid order
/// (the order in which the reference's correlated subquery visits them). Sorted from a
/// sequential read of the table rather than walked through `ps_oplog_row`: the index walk
/// fetches each op's data from a random table page, and once the oplog outgrows the page
/// cache (an initial sync with random ids) that was most of the apply. Measured on a 1M-op
/// initial sync: `checkpoint_complete` 7.3 s of CPU and 6.0 kB read per op walking the
/// index, 5.3 s and 2.4 kB sorting (which writes 0.25 kB per op to temporary files).
const SCAN_OPS: &str = "SELECT row_type, row_id, op_id, bucket, data FROM ps_oplog NOT INDEXED WHERE row_type IS NOT NULL AND row_id IS NOT NULL ORDER BY row_type, row_id, rowid";
/// [`SCAN_OPS`] without the data, which is then read by rowid for the one op of each group
/// that is published ([`DATA_OF`]). The sorter then holds ~60 bytes per op instead of the
/// whole op: used when the oplog fits in the page cache, where reading by rowid costs no I/O.
/// Measured on a 100k-op initial sync: the sort with data held 25 MB more than the
/// reference's apply at its peak.
const SCAN_KEYS: &str = "SELECT row_type, row_id, op_id, bucket, rowid FROM ps_oplog NOT INDEXED WHERE row_type IS NOT NULL AND row_id IS NOT NULL ORDER BY row_type, row_id, rowid";
const DATA_OF: &str = "SELECT data FROM ps_oplog WHERE rowid = ?1";
const SCAN_UPDATED: &str = "SELECT row_type, row_id FROM ps_updated_rows ORDER BY row_type, row_id";
const BUCKETS_FULL: &str = "SELECT id, last_applied_op FROM ps_buckets";
const BUCKETS_PARTIAL: &str =
    "SELECT id, last_applied_op FROM ps_buckets WHERE name IN (SELECT value FROM json_each(?1))";

/// Receives each row to publish: type, id, and the data (`None`: delete the row).
pub(super) type RowSink<'s> = dyn FnMut(&str, &str, Option<&str>) -> Result<()> + 's;

fn text(v: ValueRef<'_>) -> Option<&str> {
    match v {
        ValueRef::Text(t) => Some(std::str::from_utf8(t).unwrap_or_default()),
        _ => None,
    }
}

/// Calls `sink` for every row `mode` publishes, in the reference's order.
pub(super) fn for_each_row(conn: &Connection, mode: ApplyMode<'_>, sink: &mut RowSink<'_>) -> Result<()> {
    let names = match mode {
        ApplyMode::Full => None,
        ApplyMode::Partial { buckets, .. } => Some(serde_json::to_string(buckets).expect("names serialise")),
    };
    let max_rowid: i64 = conn
        .prepare_cached(MAX_ROWID)
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .sql_context(MAX_ROWID)?;
    // Scanning visits every op once; the query visits each new op about three times (find,
    // sort, look up). Scan when at least a quarter of the ops may be new.
    let threshold = max_rowid / 4;
    let new_ops: i64 = if threshold == 0 {
        0
    } else {
        match &names {
            None => conn
                .prepare_cached(COUNT_FULL)
                .and_then(|mut s| s.query_row([threshold], |r| r.get(0)))
                .sql_context(COUNT_FULL)?,
            Some(names) => conn
                .prepare_cached(COUNT_PARTIAL)
                .and_then(|mut s| s.query_row(rusqlite::params![threshold, names], |r| r.get(0)))
                .sql_context(COUNT_PARTIAL)?,
        }
    };
    if threshold > 0 && new_ops >= threshold {
        scan(conn, names.as_deref(), sink)
    } else {
        lookups(conn, names.as_deref(), sink)
    }
}

/// Bucket id → last_applied_op of the buckets whose ops count (all, or those named in the
/// JSON array `names`).
fn bucket_map(conn: &Connection, names: Option<&str>) -> Result<HashMap<i64, i64>> {
    let sql = if names.is_some() {
        BUCKETS_PARTIAL
    } else {
        BUCKETS_FULL
    };
    let mut stmt = conn.prepare_cached(sql).sql_context(sql)?;
    if let Some(names) = names {
        stmt.raw_bind_parameter(1, names).sql_context(sql)?;
    }
    let mut rows = stmt.raw_query();
    let mut map = HashMap::new();
    while let Some(row) = rows.next().sql_context(sql)? {
        map.insert(row.get(0).sql_context(sql)?, row.get(1).sql_context(sql)?);
    }
    Ok(map)
}

/// The reference's query taken apart: the rows of the new ops, sorted and deduplicated
/// here, then each row's ops looked up through the `(row_type, row_id)` index.
pub(super) fn lookups(conn: &Connection, names: Option<&str>, sink: &mut RowSink<'_>) -> Result<()> {
    let sql = if names.is_some() {
        NEW_ROWS_PARTIAL
    } else {
        NEW_ROWS_FULL
    };
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut stmt = RawStatement::prepare(conn, sql.to_string())?;
    stmt.query(
        |b| {
            if let Some(names) = names {
                b.text(1, Some(names));
            }
        },
        |row| {
            if let (Some(t), Some(id)) = (row.text(0), row.text(1)) {
                rows.push((t.to_string(), id.to_string()));
            }
            Ok(())
        },
    )?;
    // The byte order of the strings is SQLite's BINARY order.
    rows.sort_unstable_by(|a, b| (a.0.as_bytes(), a.1.as_bytes()).cmp(&(b.0.as_bytes(), b.1.as_bytes())));
    rows.dedup();
    // Partial applies only consider the ops of their buckets.
    let involved = match names {
        Some(names) => Some(bucket_map(conn, Some(names))?),
        None => None,
    };
    let mut ops = RawStatement::prepare(conn, ROW_OPS.to_string())?;
    let mut data = String::new();
    for (row_type, row_id) in &rows {
        let mut best: Option<i64> = None;
        let mut has_data = false;
        ops.query(
            |b| {
                b.text(1, Some(row_type));
                b.text(2, Some(row_id));
            },
            |op| {
                if involved.as_ref().is_some_and(|m| !m.contains_key(&op.int(1))) {
                    return Ok(());
                }
                let op_id = op.int(0);
                // Strictly greater: the first of equal op ids wins, as with max().
                if best.is_none_or(|b| op_id > b) {
                    best = Some(op_id);
                    let d = op.text(2);
                    has_data = d.is_some();
                    data.clear();
                    data.push_str(d.unwrap_or_default());
                }
                Ok(())
            },
        )?;
        let value = match best {
            Some(op_id) if op_id != 0 && has_data => Some(data.as_str()),
            _ => None,
        };
        sink(row_type, row_id, value)?;
    }
    Ok(())
}

/// The reference's query (`names`: JSON array of the buckets of a partial apply): the
/// oracle [`lookups`] and [`scan`] are tested against.
#[cfg(test)]
pub(super) fn candidates(conn: &Connection, names: Option<&str>, sink: &mut RowSink<'_>) -> Result<()> {
    let sql = if names.is_some() { PARTIAL_SQL } else { FULL_SQL };
    let mut stmt = conn.prepare_cached(sql).sql_context(sql)?;
    if let Some(names) = names {
        stmt.raw_bind_parameter(1, names).sql_context(sql)?;
    }
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next().sql_context(sql)? {
        let row_type = text(row.get_ref(0).sql_context(sql)?).unwrap_or_default();
        let row_id = text(row.get_ref(1).sql_context(sql)?).unwrap_or_default();
        let data = text(row.get_ref(2).sql_context(sql)?);
        sink(row_type, row_id, data)?;
    }
    Ok(())
}

/// The group being read by [`scan`].
#[derive(Default)]
struct Group {
    row_type: String,
    row_id: String,
    /// Some op of the group is new.
    candidate: bool,
    /// Greatest op id so far (considered ops only) and its rowid.
    best: Option<(i64, i64)>,
    /// The best op's data (`has_data`: not NULL), when the scan reads data; otherwise
    /// read by rowid when the group is published.
    data: String,
    has_data: bool,
}

impl Group {
    fn is(&self, row_type: &str, row_id: &str) -> bool {
        self.row_type == row_type && self.row_id == row_id
    }

    fn start(&mut self, row_type: &str, row_id: &str) {
        self.row_type.clear();
        self.row_type.push_str(row_type);
        self.row_id.clear();
        self.row_id.push_str(row_id);
        self.candidate = false;
        self.best = None;
        self.has_data = false;
    }

    /// Publishes the group if it is a candidate (or listed in `ps_updated_rows`);
    /// `data_of` reads the best op's data when the scan did not.
    fn finish(
        &mut self,
        updated: bool,
        data_of: Option<&mut RawStatement>,
        sink: &mut RowSink<'_>,
    ) -> Result<()> {
        if self.candidate || updated {
            // `iif(max(op_id), data, NULL)`: no op, or a greatest op id of 0, is no data.
            let data = match self.best {
                Some((op_id, rowid)) if op_id != 0 => {
                    if let Some(stmt) = data_of {
                        let (data, has_data) = (&mut self.data, &mut self.has_data);
                        data.clear();
                        *has_data = false;
                        stmt.query(
                            |b| b.int(1, rowid),
                            |row| {
                                let d = row.text(0);
                                *has_data = d.is_some();
                                data.push_str(d.unwrap_or_default());
                                Ok(())
                            },
                        )?;
                    }
                    self.has_data.then_some(self.data.as_str())
                }
                _ => None,
            };
            sink(&self.row_type, &self.row_id, data)?;
        }
        Ok(())
    }
}

/// Reads `ps_updated_rows` in order (full mode only), merged into the scan.
struct Updated<'s> {
    rows: Option<rusqlite::Rows<'s>>,
    /// The next row not yet merged.
    next: Option<(String, String)>,
}

impl Updated<'_> {
    fn advance(&mut self) -> Result<()> {
        self.next = None;
        if let Some(rows) = self.rows.as_mut() {
            if let Some(row) = rows.next().sql_context(SCAN_UPDATED)? {
                let t = text(row.get_ref(0).sql_context(SCAN_UPDATED)?).unwrap_or_default();
                let id = text(row.get_ref(1).sql_context(SCAN_UPDATED)?).unwrap_or_default();
                self.next = Some((t.to_string(), id.to_string()));
            }
        }
        Ok(())
    }

    /// Publishes (as deletions or with their data from no op) the updated rows ordered
    /// before `(row_type, row_id)` (all remaining ones for `None`); returns whether the next
    /// one is exactly that row (and consumes it).
    fn drain_before(&mut self, until: Option<(&str, &str)>, sink: &mut RowSink<'_>) -> Result<bool> {
        while let Some((t, id)) = &self.next {
            let order = match until {
                Some((ut, uid)) => (t.as_bytes(), id.as_bytes()).cmp(&(ut.as_bytes(), uid.as_bytes())),
                None => std::cmp::Ordering::Less,
            };
            match order {
                std::cmp::Ordering::Less => {
                    sink(t, id, None)?;
                    self.advance()?;
                }
                std::cmp::Ordering::Equal => {
                    self.advance()?;
                    return Ok(true);
                }
                std::cmp::Ordering::Greater => return Ok(false),
            }
        }
        Ok(false)
    }
}

/// One ordered pass over all ops (`names`: JSON array of the buckets of a partial apply,
/// whose ops alone count, and without `ps_updated_rows`).
pub(super) fn scan(conn: &Connection, names: Option<&str>, sink: &mut RowSink<'_>) -> Result<()> {
    let memory = SortMemory::limit(conn)?;
    // Sorting only the keys pays when reading an op by rowid is a page-cache hit.
    scan_sorted(conn, names, memory.fits(), sink)?;
    memory.restore()
}

/// [`scan`], sorting the ops with their data or (`keys_only`) without.
pub(super) fn scan_sorted(
    conn: &Connection,
    names: Option<&str>,
    keys_only: bool,
    sink: &mut RowSink<'_>,
) -> Result<()> {
    let buckets = bucket_map(conn, names)?;
    let full = names.is_none();

    let mut updated_stmt = match full {
        true => Some(conn.prepare_cached(SCAN_UPDATED).sql_context(SCAN_UPDATED)?),
        false => None,
    };
    let mut updated = Updated {
        rows: updated_stmt.as_mut().map(|s| s.raw_query()),
        next: None,
    };
    updated.advance()?;
    let mut data_of = match keys_only {
        true => Some(RawStatement::prepare(conn, DATA_OF.to_string())?),
        false => None,
    };
    // Our own statement: its rows are read in place, without rusqlite's per-value checks.
    let mut stmt = RawStatement::prepare(conn, if keys_only { SCAN_KEYS } else { SCAN_OPS }.to_string())?;
    let mut group = Group::default();
    let mut in_group = false;
    stmt.query(
        |_| {},
        |row| {
            let (Some(row_type), Some(row_id)) = (row.text(0), row.text(1)) else {
                return Ok(());
            };
            if !in_group || !group.is(row_type, row_id) {
                if in_group {
                    let listed = updated.drain_before(Some((&group.row_type, &group.row_id)), sink)?;
                    group.finish(listed, data_of.as_mut(), sink)?;
                }
                group.start(row_type, row_id);
                in_group = true;
            }
            let op_id = row.int(2);
            let last_applied = buckets.get(&row.int(3));
            if full || last_applied.is_some() {
                // Strictly greater: among equal op ids the first (in rowid order) wins, as
                // with SQLite's max().
                if group.best.is_none_or(|(b, _)| op_id > b) {
                    if keys_only {
                        group.best = Some((op_id, row.int(4)));
                    } else {
                        group.best = Some((op_id, 0));
                        let data = row.text(4);
                        group.has_data = data.is_some();
                        group.data.clear();
                        group.data.push_str(data.unwrap_or_default());
                    }
                }
            }
            if last_applied.is_some_and(|&applied| op_id > applied) {
                group.candidate = true;
            }
            Ok(())
        },
    )?;
    if in_group {
        let listed = updated.drain_before(Some((&group.row_type, &group.row_id)), sink)?;
        group.finish(listed, data_of.as_mut(), sink)?;
    }
    updated.drain_before(None, sink)?;
    Ok(())
}
