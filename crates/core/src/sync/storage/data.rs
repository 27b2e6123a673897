//! Storing a `data` line (spec §6.2) — the hot path of a sync.
//!
//! The result is exactly that of running the spec's steps op by op (supersede-delete, then
//! insert), including the hidden rowids of `ps_oplog`, but with far fewer statements:
//! - supersede lookups are skipped when no stored op can have the key: the bucket held no
//!   ops when the line started (or a CLEAR emptied it), and the key was not inserted earlier
//!   in the line (tracked in memory);
//! - otherwise a read-only lookup decides whether a delete is needed at all (the common
//!   case, a new row, needs none);
//! - consecutive inserts go into multi-row INSERT statements, flushed before every delete so
//!   that rowids are assigned in the same order as one insert at a time.

use crate::error::{Result, SqlResultExt};
use crate::sync::batch::MultiInsert;
use crate::sync::protocol::{DataLine, OpType, OplogEntry};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{params, Connection};
use std::collections::HashMap;
use std::sync::LazyLock;

const UPSERT_BUCKET: &str = "INSERT INTO ps_buckets (name) VALUES (?1) ON CONFLICT DO UPDATE SET last_applied_op = last_applied_op RETURNING id, last_applied_op";
const BUCKET_HAS_OPS: &str = "SELECT EXISTS (SELECT 1 FROM ps_oplog WHERE bucket = ?1)";
const FIND_KEY: &str = "SELECT hash FROM ps_oplog WHERE bucket = ?1 AND key = ?2";
const DELETE_KEY: &str = "DELETE FROM ps_oplog WHERE bucket = ?1 AND key = ?2";
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
static INSERT_OPS: LazyLock<MultiInsert> = LazyLock::new(|| {
    const PREFIX: &str = "INSERT OR FAIL INTO ps_oplog (bucket, op_id, key, row_type, row_id, data, hash)";
    MultiInsert::new(
        format!("{PREFIX} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        PREFIX,
        "?1, $1, $2, $3, $4, $5, $6",
        1,
        6,
        // 7 + 6 × 128 parameters stays below 999, the limit of SQLite builds before 3.32.
        &[128, 32, 8, 1],
        false,
    )
});

/// The supersede key of an op: `type/id/subkey` (`null` without subkey), if it has a row.
fn key_of(op: &OplogEntry<'_>) -> Option<String> {
    let (t, id) = (op.object_type.as_deref()?, op.object_id.as_deref()?);
    let subkey = op.subkey.as_deref().unwrap_or("null");
    let mut key = String::with_capacity(t.len() + id.len() + subkey.len() + 2);
    key.push_str(t);
    key.push('/');
    key.push_str(id);
    key.push('/');
    key.push_str(subkey);
    Some(key)
}

/// PUT ops waiting to be inserted (indices into the line), in order.
struct PendingInserts<'l, 'a> {
    ops: &'l [OplogEntry<'a>],
    keys: &'l [Option<String>],
    bucket: i64,
    pending: Vec<usize>,
}

impl PendingInserts<'_, '_> {
    fn flush(&mut self, conn: &Connection) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let (ops, keys, pending) = (self.ops, self.keys, &self.pending);
        INSERT_OPS.insert(conn, pending.len(), &[&self.bucket], |r, k| {
            let i = pending[r];
            let op = &ops[i];
            let key = keys[i].as_deref();
            fn text(s: Option<&str>) -> ToSqlOutput<'_> {
                match s {
                    Some(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
                    None => ToSqlOutput::Borrowed(ValueRef::Null),
                }
            }
            match k {
                0 => ToSqlOutput::Borrowed(ValueRef::Integer(op.op_id)),
                1 => text(key),
                2 => text(key.and(op.object_type.as_deref())),
                3 => text(key.and(op.object_id.as_deref())),
                4 => text(op.data.as_deref()),
                _ => ToSqlOutput::Borrowed(ValueRef::Integer(op.checksum.as_i32().into())),
            }
        })?;
        self.pending.clear();
        Ok(())
    }
}

fn exec(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<()> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute(p))
        .sql_context(sql)
        .map(drop)
}

/// Stores the ops of one data line.
pub fn insert_line(conn: &Connection, line: &DataLine<'_>, size: usize) -> Result<()> {
    let (bucket, last_applied): (i64, i64) = conn
        .prepare_cached(UPSERT_BUCKET)
        .and_then(|mut s| s.query_row([line.bucket.as_ref()], |r| Ok((r.get(0)?, r.get(1)?))))
        .sql_context(UPSERT_BUCKET)?;
    if line.data.is_empty() {
        return Ok(());
    }
    let mut is_empty = last_applied == 0;
    // Whether ops stored before this line (and not cleared since) may have to be superseded.
    let mut stored_before: bool = conn
        .prepare_cached(BUCKET_HAS_OPS)
        .and_then(|mut s| s.query_row([bucket], |r| r.get(0)))
        .sql_context(BUCKET_HAS_OPS)?;

    let keys: Vec<Option<String>> = line.data.iter().map(key_of).collect();
    // Keys of this line's PUTs currently in `ps_oplog` (or pending): each such key has
    // exactly one row (earlier ones were superseded), with the hash of that PUT.
    let mut inserted: HashMap<&str, u32> = HashMap::new();
    let mut writer = PendingInserts {
        ops: &line.data,
        keys: &keys,
        bucket,
        pending: Vec::with_capacity(line.data.len()),
    };

    let mut add: u32 = 0;
    let mut opsum: u32 = 0;
    let mut last: i64 = 0;
    for (i, op) in line.data.iter().enumerate() {
        last = op.op_id;
        let key = keys[i].as_deref();
        match op.op {
            OpType::Put | OpType::Remove => {
                let mut superseded = false;
                if let Some(key) = key {
                    // The hashes of the rows a `DELETE … WHERE bucket AND key` would remove.
                    let mut removed: Vec<u32> = Vec::new();
                    if let Some(hash) = inserted.remove(key) {
                        removed.push(hash);
                    } else if stored_before {
                        let mut stmt = conn.prepare_cached(FIND_KEY).sql_context(FIND_KEY)?;
                        let mut rows = stmt.query(params![bucket, key]).sql_context(FIND_KEY)?;
                        while let Some(r) = rows.next().sql_context(FIND_KEY)? {
                            removed.push(r.get::<_, i64>(0).sql_context(FIND_KEY)? as u32);
                        }
                    }
                    if !removed.is_empty() {
                        writer.flush(conn)?;
                        exec(conn, DELETE_KEY, params![bucket, key])?;
                        for h in removed {
                            add = add.wrapping_add(h);
                            opsum = opsum.wrapping_sub(h);
                        }
                        superseded = !is_empty;
                    }
                }
                if op.op == OpType::Remove {
                    add = add.wrapping_add(op.checksum.0);
                    if superseded {
                        if let (Some(t), Some(id)) = (&op.object_type, &op.object_id) {
                            exec(conn, UPDATED_ROW, [t.as_ref(), id.as_ref()])?;
                        }
                    }
                } else {
                    writer.pending.push(i);
                    if let Some(key) = key {
                        inserted.insert(key, op.checksum.0);
                    }
                    opsum = opsum.wrapping_add(op.checksum.0);
                }
            }
            OpType::Move => add = add.wrapping_add(op.checksum.0),
            OpType::Clear => {
                writer.flush(conn)?;
                exec(conn, CLEAR_UPDATED, [bucket])?;
                exec(conn, CLEAR_OPS, [bucket])?;
                exec(conn, CLEAR_BUCKET, params![bucket, op.checksum.0 as i64])?;
                add = 0;
                opsum = 0;
                is_empty = true;
                stored_before = false;
                inserted.clear();
            }
        }
    }
    writer.flush(conn)?;
    exec(
        conn,
        FINISH,
        params![
            bucket,
            last,
            add as i64,
            opsum as i64,
            line.data.len() as i64,
            size as i64
        ],
    )
}
