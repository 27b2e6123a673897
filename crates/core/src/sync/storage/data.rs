//! Storing a `data` line (docs/protocol.md#storing-a-data-line) — the hot path of a sync.
//!
//! The spec describes it op by op: delete the stored ops with the op's key (supersede), then
//! insert the op. [`insert_line`] produces exactly that database — the same rows with the same
//! hidden rowids of `ps_oplog` — with a handful of statements per line instead of two per op:
//!
//! - a key is looked up in the ops stored before the line once (not at all when the bucket
//!   had none); keys repeated within the line are resolved in memory;
//! - deletions are collected and run as one statement by rowid;
//! - inserts are collected and run as multi-row INSERTs.
//!
//! One deliberate difference from the spec's writes: a PUT superseding the one stored op of
//! its key rewrites that row in place ([`rewrite_in_place`]) instead of deleting it and
//! inserting a new one. Same columns, same checksums; only the op keeps its old hidden
//! rowid, which matters solely where the apply breaks ties between ops of one row with the
//! same op id (the lower rowid wins), so it is not done when such a tie could change.
//!
//! Reordering writes must not change rowids. SQLite gives an inserted row `max(rowid) + 1`,
//! so inserts can wait while deletions go ahead as long as no deletion removes the current
//! maximum; when one would, or when an op supersedes a pending insert other than the last
//! one, pending writes are flushed first (see [`Batch`]).

use super::bulk;
use crate::error::{Result, SqlResultExt};
use crate::sync::batch::MultiInsert;
use crate::sync::protocol::{DataLine, OpType, OplogEntry};
use crate::sync::statements::HotStatements;
use crate::sync::stmt::RawStatement;
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection};
use std::collections::hash_map::{Entry, HashMap};

/// Hasher of the per-line key map (keys come from the service; collisions only cost time).
type FastHash = foldhash::fast::RandomState;

const UPSERT_BUCKET: &str = "INSERT INTO ps_buckets (name) VALUES (?1) ON CONFLICT DO UPDATE SET last_applied_op = last_applied_op RETURNING id, last_applied_op";
/// The greatest rowid of `ps_oplog` (0 when empty), and whether bucket ?1 has ops.
const LINE_START: &str =
    "SELECT (SELECT ifnull(max(rowid), 0) FROM ps_oplog), EXISTS (SELECT 1 FROM ps_oplog WHERE bucket = ?1)";
const MAX_ROWID: &str = "SELECT ifnull(max(rowid), 0) FROM ps_oplog";
/// Stored ops of bucket ?1 with key ?2.
const FIND_KEY: &str = "SELECT rowid, hash FROM ps_oplog WHERE bucket = ?1 AND key = ?2";
/// The same for a key naming row (?3, ?4), through the `(row_type, row_id)` index (the `+`
/// keeps SQLite off the `(bucket, key)` one), see [`Stored::find`].
const FIND_ROW_KEY: &str =
    "SELECT rowid, hash FROM ps_oplog WHERE row_type = ?3 AND row_id = ?4 AND +bucket = ?1 AND +key = ?2";
const DELETE_ROWIDS: &str = "DELETE FROM ps_oplog WHERE rowid IN (SELECT value FROM json_each(?1))";
const DELETE_KEY: &str = "DELETE FROM ps_oplog WHERE bucket = ?1 AND key = ?2";
const INSERT_OP: &str = "INSERT INTO ps_oplog (bucket, op_id, key, row_type, row_id, data, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
/// Whether an op of row (?1, ?2) other than rowid ?4 has op id ?3 and a greater rowid.
const TIE_AFTER: &str = "SELECT EXISTS (SELECT 1 FROM ps_oplog WHERE row_type = ?1 AND row_id = ?2 AND op_id = ?3 AND rowid > ?4)";
/// The greatest op id stored, bucket by bucket through the `(bucket, op_id)` index.
const MAX_STORED_OP: &str =
    "SELECT ifnull(max((SELECT max(op_id) FROM ps_oplog WHERE bucket = b.id)), 0) FROM ps_buckets AS b";
/// The new op of a key, written over the stored one of the same row (same bucket, key,
/// row type and id). Naming the row columns in the SET would make SQLite rewrite their
/// index entry even when the values stay the same.
const REWRITE_OP: &str =
    "UPDATE ps_oplog SET op_id = ?2, data = ?5, hash = ?6 WHERE rowid = ?1 AND row_type = ?3 AND row_id = ?4";
/// The same where a key splits into another row type and id than the stored op's (`/` in
/// the type or id).
const REWRITE_OP_ROW: &str =
    "UPDATE ps_oplog SET op_id = ?2, row_type = ?3, row_id = ?4, data = ?5, hash = ?6 WHERE rowid = ?1";
const UPDATED_ROW: &str = "INSERT OR IGNORE INTO ps_updated_rows (row_type, row_id) VALUES (?1, ?2)";
const CLEAR_UPDATED: &str = "INSERT OR IGNORE INTO ps_updated_rows (row_type, row_id) SELECT row_type, row_id FROM ps_oplog WHERE bucket = ?1 AND row_type IS NOT NULL AND row_id IS NOT NULL";
const CLEAR_OPS: &str = "DELETE FROM ps_oplog WHERE bucket = ?1";
const CLEAR_BUCKET: &str =
    "UPDATE ps_buckets SET last_applied_op = 0, add_checksum = ?2, op_checksum = 0 WHERE id = ?1";
const FINISH: &str = "UPDATE ps_buckets SET last_op = ?2, add_checksum = (add_checksum + ?3) & 0xffffffff, op_checksum = (op_checksum + ?4) & 0xffffffff, count_since_last = count_since_last + ?5, downloaded_size = downloaded_size + ?6 WHERE id = ?1";

/// `INSERT INTO ps_oplog` for many ops of one bucket (`?1`). `OR FAIL` changes nothing for
/// the values we bind (never NULL where the table forbids it) but spares SQLite a statement
/// journal: with the default ABORT, a multi-row insert inside our transaction copies every
/// page it touches into a sub-journal first, in case it has to undo its earlier rows.
fn insert_ops() -> MultiInsert {
    const PREFIX: &str = "INSERT OR FAIL INTO ps_oplog (bucket, op_id, key, row_type, row_id, data, hash)";
    MultiInsert::new(
        format!("{PREFIX} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        PREFIX,
        "?1, $1, $2, $3, $4, $5, $6",
        1,
        6,
        // 1 + 6 × 128 parameters stays below 999, the limit of SQLite builds before 3.32.
        &[128, 32, 8, 1],
        false,
    )
}

fn exec(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<()> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute(p))
        .sql_context(sql)
        .map(drop)
}

fn max_rowid(conn: &Connection) -> Result<i64> {
    conn.prepare_cached(MAX_ROWID)
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .sql_context(MAX_ROWID)
}

/// The supersede key of an op: `type/id/subkey` (`null` without subkey), if it has a row.
fn key_of(op: &OplogEntry<'_>) -> Option<String> {
    let mut key = String::new();
    push_key(&mut key, op).then_some(key)
}

/// Appends the supersede key of `op` to `buf`; returns whether it has one.
fn push_key(buf: &mut String, op: &OplogEntry<'_>) -> bool {
    let (Some(t), Some(id)) = (op.object_type.as_deref(), op.object_id.as_deref()) else {
        return false;
    };
    buf.push_str(t);
    buf.push('/');
    buf.push_str(id);
    buf.push('/');
    buf.push_str(op.subkey.as_deref().unwrap_or("null"));
    true
}

/// The supersede keys of a line's ops, in one buffer. One allocation per line rather than
/// per op: measured on the benchmark's 1M-op initial sync, the per-op `String`s were 4% of
/// the time (in `malloc`).
fn line_keys<'b>(buf: &'b mut String, ops: &[OplogEntry<'_>]) -> Vec<Option<&'b str>> {
    buf.clear();
    let ends: Vec<Option<(usize, usize)>> = ops
        .iter()
        .map(|op| {
            let start = buf.len();
            push_key(buf, op).then_some((start, buf.len()))
        })
        .collect();
    let buf: &'b str = buf;
    ends.into_iter().map(|e| e.map(|(a, b)| &buf[a..b])).collect()
}

/// Supersedes the stored op `rowid` (the only one of its key) with the PUT `op` by
/// rewriting the row, if that publishes the same data as the spec's delete-and-insert;
/// returns whether it did.
///
/// Why: with random row ids over a large oplog, the delete and insert touch a random leaf of
/// the table and of each of the three indexes, about 4 of the 6 pages a changed row dirties
/// in an incremental sync; the rewrite leaves `ps_oplog_row` and `ps_oplog_key` alone (their
/// columns do not change) and writes the table leaf in place. Measured on the benchmark's
/// 100 checkpoints of 100 changes over 1M rows: 33 kB written per op instead of 51, about 1.4–1.5x the
/// reference's throughput instead of 1.03x.
///
/// The op keeps its rowid instead of getting a new, greatest one. The apply orders a row's
/// ops by rowid only to break ties between equal op ids (the first wins), so the rewrite is
/// refused when another op of the row has the new op id and a greater rowid (the caller also
/// requires the line's op ids to increase, so no earlier op of the line can tie).
///
/// `max_stored` is the greatest op id stored before the line: an op id above it cannot tie
/// with a stored op, so the check (an index read) is skipped, as it is for every op of an
/// ordinary incremental sync.
fn rewrite_in_place(conn: &Connection, op: &OplogEntry<'_>, rowid: i64, max_stored: i64) -> Result<bool> {
    let (Some(row_type), Some(row_id)) = (op.object_type.as_deref(), op.object_id.as_deref()) else {
        return Ok(false);
    };
    let tie: bool = op.op_id <= max_stored
        && conn
            .prepare_cached(TIE_AFTER)
            .and_then(|mut s| s.query_row(params![row_type, row_id, op.op_id, rowid], |r| r.get(0)))
            .sql_context(TIE_AFTER)?;
    if tie {
        return Ok(false);
    }
    let values = params![
        rowid,
        op.op_id,
        row_type,
        row_id,
        op.data.as_deref(),
        op.checksum.as_i32()
    ];
    let changed = conn
        .prepare_cached(REWRITE_OP)
        .and_then(|mut s| s.execute(values))
        .sql_context(REWRITE_OP)?;
    if changed == 0 {
        exec(conn, REWRITE_OP_ROW, values)?;
    }
    Ok(true)
}

/// Whether ops may be rewritten in place ([`rewrite_in_place`]): in indexed mode (the tie
/// check needs `ps_oplog_row`), for a line whose op ids increase. If so, the greatest op id
/// stored (of the buckets in `ps_buckets`, each one read from the end of its
/// `(bucket, op_id)` range).
fn may_rewrite(conn: &Connection, bulk: bool, ops: &[OplogEntry<'_>]) -> Result<Option<i64>> {
    if bulk || !ops.windows(2).all(|w| w[0].op_id < w[1].op_id) {
        return Ok(None);
    }
    conn.prepare_cached(MAX_STORED_OP)
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .sql_context(MAX_STORED_OP)
        .map(Some)
}

/// Checksum accumulators of a line (docs/protocol.md#storing-a-data-line).
struct Totals {
    add: u32,
    opsum: u32,
    /// The bucket was never applied (or was cleared): supersedes are not recorded.
    is_empty: bool,
}

impl Totals {
    /// Accounts for superseded ops; returns whether the supersede is recorded.
    fn superseded(&mut self, hashes: impl IntoIterator<Item = u32>) -> bool {
        let mut any = false;
        for h in hashes {
            self.add = self.add.wrapping_add(h);
            self.opsum = self.opsum.wrapping_sub(h);
            any = true;
        }
        any && !self.is_empty
    }

    /// Accounts for a stored op (hash `old`) rewritten in place by a PUT (hash `new`): the
    /// supersede and the new op, as delete-and-insert would.
    fn rewritten(&mut self, old: u32, new: u32) {
        self.superseded([old]);
        self.opsum = self.opsum.wrapping_add(new);
    }

    fn clear(&mut self) {
        self.add = 0;
        self.opsum = 0;
        self.is_empty = true;
    }
}

/// Writes of the ops of one bucket, deferred and batched.
///
/// Invariant: running the pending deletions, then the pending inserts (in order, rowids
/// assigned by SQLite), gives the database of running every op's writes in order.
/// Deletions never change a pending insert's rowid unless they remove the table's greatest
/// rowid (`max`), which is handled in [`Batch::delete`].
struct Batch<'l, 'a> {
    conn: &'l Connection,
    /// The multi-row insert into `ps_oplog`.
    oplog: &'l mut MultiInsert,
    ops: &'l [OplogEntry<'a>],
    keys: &'l [Option<&'l str>],
    bucket: i64,
    /// Greatest rowid in the table (pending writes excluded).
    max: i64,
    /// Rowids to delete.
    deletes: Vec<i64>,
    /// Every PUT of the line: its op index and, once inserted, its rowid. Those from
    /// `first_pending` on are still to be inserted.
    puts: Vec<(usize, i64)>,
    first_pending: usize,
}

impl Batch<'_, '_> {
    /// Adds a PUT; returns its index in `puts`.
    fn put(&mut self, op: usize) -> usize {
        self.puts.push((op, 0));
        self.puts.len() - 1
    }

    /// Runs the pending deletions.
    fn run_deletes(&mut self) -> Result<()> {
        if self.deletes.is_empty() {
            return Ok(());
        }
        let list = serde_json::to_string(&self.deletes).expect("integers serialise");
        exec(self.conn, DELETE_ROWIDS, [list])?;
        self.deletes.clear();
        Ok(())
    }

    /// Runs all pending writes.
    fn flush(&mut self) -> Result<()> {
        self.run_deletes()?;
        let pending = &mut self.puts[self.first_pending..];
        if pending.is_empty() {
            return Ok(());
        }
        let (ops, keys) = (self.ops, self.keys);
        let shared = [ValueRef::Integer(self.bucket)];
        self.oplog.insert(self.conn, pending.len(), &shared, |r, k| {
            fn text(s: Option<&str>) -> ValueRef<'_> {
                s.map_or(ValueRef::Null, |s| ValueRef::Text(s.as_bytes()))
            }
            let i = pending[r].0;
            let op = &ops[i];
            let key = keys[i];
            match k {
                0 => ValueRef::Integer(op.op_id),
                1 => text(key),
                2 => text(key.and(op.object_type.as_deref())),
                3 => text(key.and(op.object_id.as_deref())),
                4 => text(op.data.as_deref()),
                _ => ValueRef::Integer(op.checksum.as_i32().into()),
            }
        })?;
        // SQLite assigned max + 1, max + 2, …
        for p in pending.iter_mut() {
            self.max += 1;
            p.1 = self.max;
        }
        self.first_pending = self.puts.len();
        Ok(())
    }

    /// Deletes the stored row `rowid`.
    fn delete(&mut self, rowid: i64) -> Result<()> {
        if rowid != self.max {
            self.deletes.push(rowid);
        } else if self.first_pending < self.puts.len() {
            // Pending inserts were assigned rowids while this row was the greatest: insert
            // them first (the row is then no longer the greatest).
            self.flush()?;
            self.deletes.push(rowid);
        } else {
            // Inserts after this deletion get lower rowids: delete now, find the new max.
            self.deletes.push(rowid);
            self.run_deletes()?;
            self.max = max_rowid(self.conn)?;
        }
        Ok(())
    }

    /// Supersedes the PUT `index` (of `puts`).
    fn supersede_put(&mut self, index: usize) -> Result<()> {
        if index == self.puts.len() - 1 && index >= self.first_pending {
            // The last pending insert: as if inserted and deleted (the max goes back).
            self.puts.pop();
            return Ok(());
        }
        if index >= self.first_pending {
            // Later inserts got their rowids while it existed: insert, then delete it.
            self.flush()?;
        }
        self.delete(self.puts[index].1)
    }

    /// Starts over after a CLEAR (which the pending writes must precede).
    fn cleared(&mut self) -> Result<()> {
        self.max = max_rowid(self.conn)?;
        Ok(())
    }
}

/// What a line knows about a key.
#[derive(Clone, Copy)]
enum KeyState {
    /// Stored ops with this key were looked up (and deleted); no PUT of the line holds it.
    Gone,
    /// The PUT `index` (of `Batch::puts`) with this hash holds it.
    Put(usize, u32),
    /// The table's row `rowid` (stored before the line, maybe rewritten in place by it) with
    /// this hash holds it; a PUT may rewrite it (again).
    InTable(i64, u32),
}

/// Where a line finds the ops stored before it with a given key.
enum Stored<'s, 'k> {
    /// One lookup per key through an index: `(bucket, key)`, or `(row_type, row_id)` for a
    /// key that names its row.
    Index {
        by_key: &'s mut Option<RawStatement>,
        by_row: &'s mut Option<RawStatement>,
    },
    /// Looked up up front for all keys of the line (bulk mode, see [`super::bulk`]); keys
    /// absent have none.
    Found(HashMap<&'k str, Vec<(i64, u32)>>),
}

/// The row a key names, if every op with that key is of that row: a key `type/id/subkey`
/// with no `/` inside its parts (exactly two `/`) splits one way only, and stored ops get
/// their row from the same type and id as their key.
fn row_of_key(key: &str) -> Option<(&str, &str)> {
    let (row_type, rest) = key.split_once('/')?;
    let (row_id, subkey) = rest.split_once('/')?;
    (!subkey.contains('/')).then_some((row_type, row_id))
}

impl Stored<'_, '_> {
    /// Stored ops of `bucket` with `key`: (rowid, hash), in rowid order.
    ///
    /// A key naming its row is looked up through `(row_type, row_id)` rather than
    /// `(bucket, key)`: the apply reads that index leaf for the same row right after, so it is
    /// then in the page cache, and in an incremental sync (where supersedes rewrite in place)
    /// the key index is not read at all. Measured on the benchmark's 100 checkpoints × 100
    /// changed rows over 1M rows: one page read less per changed row.
    fn find(&mut self, conn: &Connection, bucket: i64, key: &str) -> Result<Vec<(i64, u32)>> {
        let (slot, sql, row) = match self {
            Stored::Found(found) => return Ok(found.remove(key).unwrap_or_default()),
            Stored::Index { by_key, by_row } => match row_of_key(key) {
                Some(row) => (by_row, FIND_ROW_KEY, Some(row)),
                None => (by_key, FIND_KEY, None),
            },
        };
        // One statement per key: cheaper than one JSON-driven lookup of all keys of the line.
        let stmt = match slot {
            Some(stmt) => stmt,
            slot => slot.insert(RawStatement::prepare(conn, sql.to_string())?),
        };
        let mut found = Vec::new();
        stmt.query(
            |b| {
                b.int(1, bucket);
                b.text(2, Some(key));
                if let Some((row_type, row_id)) = row {
                    b.text(3, Some(row_type));
                    b.text(4, Some(row_id));
                }
            },
            |row| {
                found.push((row.int(0), row.int(1) as u32));
                Ok(())
            },
        )?;
        Ok(found)
    }
}

/// Records a REMOVE's row in `ps_updated_rows` (when it superseded an applied op).
fn record_removed(conn: &Connection, op: &OplogEntry<'_>) -> Result<()> {
    match (&op.object_type, &op.object_id) {
        (Some(t), Some(id)) => exec(conn, UPDATED_ROW, [t.as_ref(), id.as_ref()]),
        _ => Ok(()),
    }
}

/// CLEAR: every row of the bucket's ops becomes an updated row, the ops are deleted and the
/// bucket's checksum is the CLEAR's.
fn clear(conn: &Connection, bucket: i64, op: &OplogEntry<'_>, totals: &mut Totals) -> Result<()> {
    exec(conn, CLEAR_UPDATED, [bucket])?;
    exec(conn, CLEAR_OPS, [bucket])?;
    exec(conn, CLEAR_BUCKET, params![bucket, op.checksum.0 as i64])?;
    totals.clear();
    Ok(())
}

/// The ops of a line, with deferred, batched writes (see the module docs).
#[allow(clippy::too_many_arguments)]
fn batched(
    conn: &Connection,
    oplog: &mut Option<MultiInsert>,
    stored: &mut Stored<'_, '_>,
    bucket: i64,
    ops: &[OplogEntry<'_>],
    keys: &[Option<&str>],
    max: i64,
    stored_before: bool,
    in_place: Option<i64>,
    totals: &mut Totals,
) -> Result<()> {
    // Whether ops stored before this line (and not cleared since) may hold a key. At a key's
    // first occurrence the table holds no row of the line with that key, so a lookup finds
    // exactly the stored ones.
    let mut stored_before = stored_before;
    let mut seen: HashMap<&str, KeyState, FastHash> =
        HashMap::with_capacity_and_hasher(ops.len(), FastHash::default());
    let mut batch = Batch {
        conn,
        oplog: oplog.get_or_insert_with(insert_ops),
        ops,
        keys,
        bucket,
        max,
        deletes: Vec::new(),
        puts: Vec::with_capacity(ops.len()),
        first_pending: 0,
    };
    for (i, op) in ops.iter().enumerate() {
        match op.op {
            OpType::Put | OpType::Remove => {
                let mut recorded = false;
                let state = match keys[i] {
                    None => None,
                    Some(key) => Some(match seen.entry(key) {
                        Entry::Occupied(e) => e.into_mut(),
                        Entry::Vacant(e) => {
                            let mut state = KeyState::Gone;
                            if stored_before {
                                let found = stored.find(conn, bucket, key)?;
                                match found[..] {
                                    [(rowid, hash)] if in_place.is_some() && op.op == OpType::Put => {
                                        // Superseded below, in place if it can be.
                                        state = KeyState::InTable(rowid, hash);
                                    }
                                    _ => {
                                        for &(rowid, _) in &found {
                                            batch.delete(rowid)?;
                                        }
                                        recorded = totals.superseded(found.iter().map(|f| f.1));
                                    }
                                }
                            }
                            e.insert(state)
                        }
                    }),
                };
                let mut state = state;
                if let Some(state) = state.as_deref_mut() {
                    match *state {
                        KeyState::Put(index, hash) => {
                            batch.supersede_put(index)?;
                            recorded = totals.superseded([hash]);
                        }
                        KeyState::InTable(rowid, hash) => {
                            let rewritten = match in_place {
                                Some(max_stored) if op.op == OpType::Put => {
                                    rewrite_in_place(conn, op, rowid, max_stored)?
                                }
                                _ => false,
                            };
                            if rewritten {
                                totals.rewritten(hash, op.checksum.0);
                                *state = KeyState::InTable(rowid, op.checksum.0);
                                continue;
                            }
                            batch.delete(rowid)?;
                            recorded = totals.superseded([hash]);
                        }
                        KeyState::Gone => {}
                    }
                    *state = KeyState::Gone;
                }
                if op.op == OpType::Remove {
                    totals.add = totals.add.wrapping_add(op.checksum.0);
                    if recorded {
                        record_removed(conn, op)?;
                    }
                } else {
                    let index = batch.put(i);
                    if let Some(state) = state {
                        *state = KeyState::Put(index, op.checksum.0);
                    }
                    totals.opsum = totals.opsum.wrapping_add(op.checksum.0);
                }
            }
            OpType::Move => totals.add = totals.add.wrapping_add(op.checksum.0),
            OpType::Clear => {
                batch.flush()?;
                clear(conn, bucket, op, totals)?;
                batch.cleared()?;
                stored_before = false;
                seen.clear();
            }
        }
    }
    batch.flush()
}

/// The ops of a line one at a time, as the spec describes them (with the rewrite in place,
/// see [`rewrite_in_place`]). Used when rowids near `i64::MAX` make SQLite pick random ones,
/// which batching cannot anticipate.
fn one_by_one(
    conn: &Connection,
    bucket: i64,
    ops: &[OplogEntry<'_>],
    in_place: Option<i64>,
    totals: &mut Totals,
) -> Result<()> {
    // Keys this line inserted a row for: those are superseded by delete and insert, as
    // [`batched`] does with its pending inserts.
    let mut inserted: std::collections::HashSet<String> = std::collections::HashSet::new();
    for op in ops {
        let key = key_of(op);
        match op.op {
            OpType::Put | OpType::Remove => {
                let mut recorded = false;
                if let Some(key) = &key {
                    let found: Vec<(i64, u32)> = {
                        let mut stmt = conn.prepare_cached(FIND_KEY).sql_context(FIND_KEY)?;
                        let mut rows = stmt.query(params![bucket, key]).sql_context(FIND_KEY)?;
                        let mut found = Vec::new();
                        while let Some(r) = rows.next().sql_context(FIND_KEY)? {
                            found.push((
                                r.get::<_, i64>(0).sql_context(FIND_KEY)?,
                                r.get::<_, i64>(1).sql_context(FIND_KEY)? as u32,
                            ));
                        }
                        found
                    };
                    if let ([(rowid, hash)], Some(max_stored)) = (&found[..], in_place) {
                        if op.op == OpType::Put
                            && !inserted.contains(key)
                            && rewrite_in_place(conn, op, *rowid, max_stored)?
                        {
                            let hash = *hash;
                            totals.rewritten(hash, op.checksum.0);
                            continue;
                        }
                    }
                    if !found.is_empty() {
                        exec(conn, DELETE_KEY, params![bucket, key])?;
                    }
                    recorded = totals.superseded(found.iter().map(|f| f.1));
                }
                if op.op == OpType::Remove {
                    totals.add = totals.add.wrapping_add(op.checksum.0);
                    if recorded {
                        record_removed(conn, op)?;
                    }
                } else {
                    let row = key
                        .as_ref()
                        .and(op.object_type.as_deref().zip(op.object_id.as_deref()));
                    exec(
                        conn,
                        INSERT_OP,
                        params![
                            bucket,
                            op.op_id,
                            key,
                            row.map(|r| r.0),
                            row.map(|r| r.1),
                            op.data.as_deref(),
                            op.checksum.as_i32()
                        ],
                    )?;
                    if let Some(key) = key {
                        inserted.insert(key);
                    }
                    totals.opsum = totals.opsum.wrapping_add(op.checksum.0);
                }
            }
            OpType::Move => totals.add = totals.add.wrapping_add(op.checksum.0),
            OpType::Clear => {
                clear(conn, bucket, op, totals)?;
                inserted.clear();
            }
        }
    }
    Ok(())
}

/// Stores the ops of one data line.
pub(super) fn insert_line(
    conn: &Connection,
    statements: &mut HotStatements,
    line: &DataLine<'_>,
    size: usize,
) -> Result<()> {
    insert_line_with(conn, statements, line, size, false)
}

/// [`insert_line`], optionally forced to write one op at a time (tests compare the two).
pub(super) fn insert_line_with(
    conn: &Connection,
    statements: &mut HotStatements,
    line: &DataLine<'_>,
    size: usize,
    one_at_a_time: bool,
) -> Result<()> {
    let (bucket, last_applied): (i64, i64) = conn
        .prepare_cached(UPSERT_BUCKET)
        .and_then(|mut s| s.query_row([line.bucket.as_ref()], |r| Ok((r.get(0)?, r.get(1)?))))
        .sql_context(UPSERT_BUCKET)?;
    let Some(last) = line.data.last() else {
        return Ok(());
    };
    let (max, stored_before): (i64, bool) = conn
        .prepare_cached(LINE_START)
        .and_then(|mut s| s.query_row([bucket], |r| Ok((r.get(0)?, r.get(1)?))))
        .sql_context(LINE_START)?;
    let mut totals = Totals {
        add: 0,
        opsum: 0,
        is_empty: last_applied == 0,
    };
    let mut key_text = String::new();
    let keys = line_keys(&mut key_text, &line.data);
    let HotStatements {
        oplog,
        find_key,
        find_row_key,
        bulk,
        ..
    } = statements;
    let bulk = bulk::for_line(conn, bulk, max)?;
    let in_place = may_rewrite(conn, bulk.is_some(), &line.data)?;
    if one_at_a_time || max > i64::MAX - line.data.len() as i64 - 1 {
        one_by_one(conn, bucket, &line.data, in_place, &mut totals)?;
    } else {
        let (mut stored, stored_before) = match bulk.as_deref() {
            None => (
                Stored::Index {
                    by_key: find_key,
                    by_row: find_row_key,
                },
                stored_before,
            ),
            Some(_) if !stored_before => (Stored::Found(HashMap::new()), false),
            Some(set) => {
                let found = set.stored(conn, bucket, keys.iter().flatten().copied())?;
                let any = !found.is_empty();
                (Stored::Found(found), any)
            }
        };
        batched(
            conn,
            oplog,
            &mut stored,
            bucket,
            &line.data,
            &keys,
            max,
            stored_before,
            in_place,
            &mut totals,
        )?;
    }
    if let Some(set) = bulk {
        set.add(bucket, keys.iter().flatten().copied());
    }
    exec(
        conn,
        FINISH,
        params![
            bucket,
            last.op_id,
            totals.add as i64,
            totals.opsum as i64,
            line.data.len() as i64,
            size as i64
        ],
    )
}
