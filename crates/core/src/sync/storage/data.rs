//! Storing a `data` line (spec §6.2) — the hot path of a sync. Every statement is cached;
//! the op data text is bound straight from the decoded line without re-serialising.

use crate::error::{Result, SqlResultExt};
use crate::sync::protocol::{DataLine, OpType};
use rusqlite::{params, Connection};

const UPSERT_BUCKET: &str = "INSERT INTO ps_buckets (name) VALUES (?1) ON CONFLICT DO UPDATE SET last_applied_op = last_applied_op RETURNING id, last_applied_op";
const SUPERSEDE: &str = "DELETE FROM ps_oplog WHERE bucket = ?1 AND key = ?2 RETURNING hash";
const INSERT_OP: &str = "INSERT INTO ps_oplog (bucket, op_id, key, row_type, row_id, data, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
const UPDATED_ROW: &str = "INSERT OR IGNORE INTO ps_updated_rows (row_type, row_id) VALUES (?1, ?2)";
const CLEAR_UPDATED: &str = "INSERT OR IGNORE INTO ps_updated_rows (row_type, row_id) SELECT row_type, row_id FROM ps_oplog WHERE bucket = ?1 AND row_type IS NOT NULL AND row_id IS NOT NULL";
const CLEAR_OPS: &str = "DELETE FROM ps_oplog WHERE bucket = ?1";
const CLEAR_BUCKET: &str =
    "UPDATE ps_buckets SET last_applied_op = 0, add_checksum = ?2, op_checksum = 0 WHERE id = ?1";
const FINISH: &str = "UPDATE ps_buckets SET last_op = ?2, add_checksum = (add_checksum + ?3) & 0xffffffff, op_checksum = (op_checksum + ?4) & 0xffffffff, count_since_last = count_since_last + ?5, downloaded_size = downloaded_size + ?6 WHERE id = ?1";

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
    let mut supersede = conn.prepare_cached(SUPERSEDE).sql_context(SUPERSEDE)?;
    let mut insert = conn.prepare_cached(INSERT_OP).sql_context(INSERT_OP)?;

    let mut add: u32 = 0;
    let mut opsum: u32 = 0;
    let mut last: i64 = 0;
    let mut key = String::new();
    for op in &line.data {
        last = op.op_id;
        let row = match (&op.object_type, &op.object_id) {
            (Some(t), Some(id)) => Some((t.as_ref(), id.as_ref())),
            _ => None,
        };
        key.clear();
        if let Some((t, id)) = row {
            key.push_str(t);
            key.push('/');
            key.push_str(id);
            key.push('/');
            key.push_str(op.subkey.as_deref().unwrap_or("null"));
        }
        match op.op {
            OpType::Put | OpType::Remove => {
                let mut superseded = false;
                if row.is_some() {
                    let mut rows = supersede.query(params![bucket, key]).sql_context(SUPERSEDE)?;
                    while let Some(r) = rows.next().sql_context(SUPERSEDE)? {
                        let h: i64 = r.get(0).sql_context(SUPERSEDE)?;
                        add = add.wrapping_add(h as u32);
                        opsum = opsum.wrapping_sub(h as u32);
                        if !is_empty {
                            superseded = true;
                        }
                    }
                }
                if op.op == OpType::Remove {
                    add = add.wrapping_add(op.checksum.0);
                    if superseded {
                        if let Some((t, id)) = row {
                            conn.prepare_cached(UPDATED_ROW)
                                .and_then(|mut s| s.execute([t, id]))
                                .sql_context(UPDATED_ROW)?;
                        }
                    }
                } else {
                    insert
                        .execute(params![
                            bucket,
                            op.op_id,
                            row.map(|_| key.as_str()),
                            row.map(|r| r.0),
                            row.map(|r| r.1),
                            op.data.as_deref(),
                            op.checksum.as_i32()
                        ])
                        .sql_context(INSERT_OP)?;
                    opsum = opsum.wrapping_add(op.checksum.0);
                }
            }
            OpType::Move => add = add.wrapping_add(op.checksum.0),
            OpType::Clear => {
                for sql in [CLEAR_UPDATED, CLEAR_OPS] {
                    conn.prepare_cached(sql)
                        .and_then(|mut s| s.execute([bucket]))
                        .sql_context(sql)?;
                }
                conn.prepare_cached(CLEAR_BUCKET)
                    .and_then(|mut s| s.execute(params![bucket, op.checksum.0 as i64]))
                    .sql_context(CLEAR_BUCKET)?;
                add = 0;
                opsum = 0;
                is_empty = true;
            }
        }
    }
    conn.prepare_cached(FINISH)
        .and_then(|mut s| {
            s.execute(params![
                bucket,
                last,
                add as i64,
                opsum as i64,
                line.data.len() as i64,
                size as i64
            ])
        })
        .sql_context(FINISH)?;
    Ok(())
}
