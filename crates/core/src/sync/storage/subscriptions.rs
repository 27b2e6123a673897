//! `ps_stream_subscriptions` access and the `subscriptions` command (docs/protocol.md#streams-and-subscriptions).

use super::exec;
use crate::error::{Result, SqlResultExt};
use crate::sync::client::store::SubscriptionRow;
use crate::sync::options::{StreamKey, SubscriptionChange};
use rusqlite::{params, Connection};

/// Default TTL of an explicit subscription, in seconds.
pub const DEFAULT_TTL: i64 = 86400;

/// All rows ordered by id.
pub fn all(conn: &Connection) -> Result<Vec<SubscriptionRow>> {
    const SQL: &str = "SELECT id, stream_name, active, is_default, local_priority, local_params, ttl, expires_at, last_synced_at FROM ps_stream_subscriptions ORDER BY id";
    let mut stmt = conn.prepare_cached(SQL).sql_context(SQL)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(SubscriptionRow {
                id: r.get(0)?,
                stream_name: r.get(1)?,
                active: r.get(2)?,
                is_default: r.get(3)?,
                local_priority: r.get(4)?,
                local_params: r.get(5)?,
                ttl: r.get(6)?,
                expires_at: r.get(7)?,
                last_synced_at: r.get(8)?,
            })
        })
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .sql_context(SQL)?;
    Ok(rows)
}

/// Refreshes `expires_at` of explicit subscriptions the app still holds.
///
/// The statements the sync client runs have the reference's exact text: SQLite errors (e.g.
/// from a user trigger) quote it, and since errors no longer end the iteration they are
/// ordinary results the SDK sees.
pub fn refresh_ttl(conn: &Connection, streams: &[StreamKey], now: i64) -> Result<()> {
    const SQL: &str = "UPDATE ps_stream_subscriptions SET expires_at = ? + ttl * 1000000 WHERE stream_name = ? AND local_params = ? AND ttl IS NOT NULL";
    if streams.is_empty() {
        return Ok(());
    }
    let mut stmt = conn.prepare_cached(SQL).sql_context(SQL)?;
    for s in streams {
        stmt.execute(params![now, s.name, s.params_text()])
            .sql_context(SQL)?;
    }
    Ok(())
}

/// Deletes expired rows and inactive rows without TTL.
pub fn delete_outdated(conn: &Connection, now: i64) -> Result<()> {
    exec(
        conn,
        "DELETE FROM ps_stream_subscriptions WHERE (expires_at < ?) OR (ttl IS NULL AND NOT active)",
        [now],
    )
    .map(drop)
}

/// Writes back the reconciled fields of a row.
pub fn update(conn: &Connection, row: &SubscriptionRow) -> Result<()> {
    exec(
        conn,
        "UPDATE ps_stream_subscriptions SET active = ?2, is_default = ?3, ttl = ?, expires_at = ?, last_synced_at = ? WHERE id = ?1",
        params![
            row.id,
            row.active,
            row.is_default,
            row.ttl,
            row.expires_at,
            row.last_synced_at
        ],
    )
    .map(drop)
}

/// Applies a `subscriptions` command.
pub fn apply_change(conn: &Connection, change: &SubscriptionChange, now: i64) -> Result<()> {
    match change {
        SubscriptionChange::Subscribe {
            stream,
            ttl,
            priority,
        } => {
            let ttl = ttl.map(|t| t as i64).unwrap_or(DEFAULT_TTL);
            exec(
                conn,
                "INSERT INTO ps_stream_subscriptions (stream_name, local_params, local_priority, ttl, expires_at) VALUES (?1, ?2, ?3, ?4, ?5 + ?4 * 1000000) ON CONFLICT (stream_name, local_params) DO UPDATE SET ttl = excluded.ttl, expires_at = excluded.expires_at, local_priority = min(coalesce(excluded.local_priority, local_priority), local_priority)",
                params![stream.name, stream.params_text(), priority, ttl, now],
            )?;
        }
        SubscriptionChange::Unsubscribe(stream) => {
            exec(
                conn,
                "UPDATE ps_stream_subscriptions SET ttl = NULL WHERE stream_name = ?1 AND local_params = ?2",
                params![stream.name, stream.params_text()],
            )?;
        }
    }
    Ok(())
}
