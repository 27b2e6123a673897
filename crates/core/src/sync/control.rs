//! `powersync_control(command, payload)` and `powersync_offline_sync_status()` (docs/protocol.md#the-control-function):
//! argument validation in the reference's order, then dispatch to the state machine or to
//! the stateless commands.

use super::client::subscriptions::offline_streams;
use super::client::SyncEvent;
use super::instructions;
use super::options::{StartSyncStream, StreamKey, SubscriptionChange};
use super::status::SyncStatus;
use super::storage::{self, kv, SqlStore};
use super::SyncState;
use crate::error::{PowerSyncError, Result};
use crate::sql_fn::{self, Call, Output};
use crate::state::ConnectionState;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::sync::Arc;

/// Statement cache size: internal statements plus a few per synced table.
const STATEMENT_CACHE: usize = 128;

/// Registers the functions.
pub(crate) fn register(conn: &Connection, state: &Arc<ConnectionState>) -> Result<()> {
    let s = state.clone();
    sql_fn::register(
        conn,
        "powersync_control",
        2,
        sql_fn::DIRECTONLY | sql_fn::RESULT_SUBTYPE,
        move |call| control(call, &s),
    )?;
    let s = state.clone();
    sql_fn::register(
        conn,
        "powersync_offline_sync_status",
        0,
        sql_fn::DIRECTONLY | sql_fn::RESULT_SUBTYPE,
        move |call| {
            let status = |conn: &Connection| -> Result<String> {
                storage::ensure_ready(conn)?;
                let status = SyncStatus {
                    priority_status: storage::priority_status(conn)?,
                    streams: offline_streams(storage::subscriptions::all(conn)?),
                    ..Default::default()
                };
                Ok(status.to_json())
            };
            // Read-only, so it also works from SQL a powersync_control call runs (e.g. a
            // raw-table statement), through a fresh handle instead of the busy cached one.
            Ok(Output::Text(match s.try_sync() {
                Some(mut sync) => status(connection(&mut sync, call))?,
                None => status(&call.connection())?,
            }))
        },
    )?;
    Ok(())
}

/// The cached connection of `sync`, created on first use.
fn connection<'a>(sync: &'a mut SyncState, call: &Call<'_>) -> &'a Connection {
    sync.conn.get_or_insert_with(|| {
        let conn = call.connection();
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // Connecting the pre-close table makes SQLite call its xDisconnect on close, which
        // drops this connection and finalises the cached statements before SQLite checks
        // for unfinalised ones.
        let _ = conn.execute_batch("SELECT 1 FROM powersync_internal_close");
        conn
    })
}

/// A decoded command.
enum Command<'a> {
    Event(SyncEvent<'a>),
    Subscriptions(SubscriptionChange),
    Seed,
    Next,
    Current,
    Target,
}

fn text_arg<'a>(call: &'a Call<'_>, op: &str, desc: &str) -> Result<&'a str> {
    match call.arg(1) {
        ValueRef::Text(t) => utf8_payload(op, t),
        _ => Err(PowerSyncError::argument(desc)),
    }
}

/// A TEXT payload as `&str`. Text that is not valid UTF-8 is named as such, with the offset of
/// the first bad byte (the reference answers "Second argument must be a string" for lines and
/// a JSON "EOF while parsing" for `start`, which send people looking in the wrong place).
fn utf8_payload<'a>(op: &str, bytes: &'a [u8]) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        PowerSyncError::argument(format!(
            "the {op} payload is not valid UTF-8: byte 0x{:02X} at offset {at}",
            bytes[at]
        ))
    })
}

fn json<'a, T: serde::Deserialize<'a>>(text: &'a str) -> Result<T> {
    serde_json::from_str(text).map_err(PowerSyncError::json_argument)
}

fn decode<'a>(call: &'a Call<'_>, op: &str, payload_text: &'a str) -> Result<Command<'a>> {
    Ok(match op {
        "start" => Command::Event(SyncEvent::Start(Box::new(match call.arg(1) {
            ValueRef::Text(_) => json::<StartSyncStream>(payload_text)?,
            _ => StartSyncStream::default(),
        }))),
        "stop" => Command::Event(SyncEvent::Stop),
        "line_text" => Command::Event(SyncEvent::TextLine(text_arg(
            call,
            op,
            "Second argument must be a string",
        )?)),
        "line_binary" => {
            let ValueRef::Blob(bytes) = call.arg(1) else {
                return Err(PowerSyncError::argument("Second argument must be a byte array"));
            };
            Command::Event(SyncEvent::BinaryLine(bytes))
        }
        "refreshed_token" => Command::Event(SyncEvent::RefreshedToken),
        "completed_upload" => Command::Event(SyncEvent::CompletedUpload),
        "connection" => Command::Event(match call.arg(1) {
            ValueRef::Text(b"established") => SyncEvent::ConnectionEstablished,
            ValueRef::Text(b"end") => SyncEvent::ConnectionEnd,
            _ => return Err(PowerSyncError::argument("unknown connection event")),
        }),
        "update_subscriptions" => Command::Event(SyncEvent::UpdateSubscriptions(json::<Vec<StreamKey>>(
            payload_text,
        )?)),
        "subscriptions" => Command::Subscriptions(json(payload_text)?),
        "seed_checkpoint_request_id" => Command::Seed,
        "next_checkpoint_request_id" => Command::Next,
        "current_checkpoint_request_id" => Command::Current,
        "target_checkpoint_request_id" => Command::Target,
        _ => return Err(PowerSyncError::argument("Unknown operation")),
    })
}

fn control(call: &Call<'_>, state: &Arc<ConnectionState>) -> Result<Output> {
    call.require_transaction()?;
    let op = match call.arg(0) {
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        _ => return Err(PowerSyncError::argument("First argument must be a string")),
    };
    // Commands taking JSON read the payload as text the way sqlite3_value_text would (NULL →
    // empty text); converted here without touching the SQLite value, whose type other
    // commands check. Only for those commands: lines can be large.
    let takes_json = matches!(op.as_str(), "start" | "update_subscriptions" | "subscriptions");
    let converted = match call.arg(1) {
        _ if !takes_json => None,
        ValueRef::Text(_) => None,
        ValueRef::Null => Some(String::new()),
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(r) => Some(r.to_string()),
        ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
    };
    let payload_str: &str = match (&converted, call.arg(1)) {
        (Some(s), _) => s.as_str(),
        (None, ValueRef::Text(t)) if takes_json => utf8_payload(&op, t)?,
        _ => "",
    };
    let command = decode(call, &op, payload_str)?;

    let mut guard = state.lock_sync("powersync_control")?;
    let sync = &mut *guard;
    connection(sync, call);
    let conn = sync.conn.as_ref().expect("connection created above");
    storage::ensure_ready(conn)?;
    let now_sql = *sync
        .now_sql
        .get_or_insert_with(|| storage::time::now_sql_for(conn));

    match command {
        Command::Event(event) => {
            // The new iteration's raw tables (and direct tables, as statement targets) take
            // effect only if `start` succeeds: a failed `start` keeps the previous iteration,
            // with its schema.
            let started_raw_tables = match &event {
                SyncEvent::Start(options) => Some(
                    options
                        .schema
                        .as_ref()
                        .map(crate::sync::raw_tables::sync_targets)
                        .unwrap_or_default(),
                ),
                _ => None,
            };
            let mut store = SqlStore {
                conn,
                state,
                raw_tables: &sync.raw_tables,
                raw_cache: &mut sync.raw_cache,
                statements: &mut sync.statements,
                now_sql,
            };
            let out = sync.client.handle(event, &mut store)?;
            if let Some(raw_tables) = started_raw_tables {
                sync.raw_tables = raw_tables;
            }
            Ok(Output::Json(instructions::to_json(&out)))
        }
        Command::Subscriptions(change) => {
            let now: i64 = conn
                .prepare_cached(now_sql)
                .and_then(|mut s| s.query_row([], |r| r.get(0)))
                .map_err(|e| PowerSyncError::sqlite(now_sql, e))?;
            storage::subscriptions::apply_change(conn, &change, now)?;
            Ok(Output::Null)
        }
        Command::Seed => {
            require_iteration(sync)?;
            Ok(Output::Integer(kv::seed(conn, call.arg(1))?))
        }
        Command::Next => {
            require_iteration(sync)?;
            Ok(Output::Integer(kv::next(conn)?))
        }
        Command::Current => Ok(kv::get_int(conn, kv::REQUESTED)?
            .map(Output::Integer)
            .unwrap_or(Output::Null)),
        Command::Target => Ok(kv::target(conn, call.arg(1))?
            .map(Output::Integer)
            .unwrap_or(Output::Null)),
    }
}

fn require_iteration(sync: &SyncState) -> Result<()> {
    if sync.client.is_active() {
        Ok(())
    } else {
        Err(PowerSyncError::state("No iteration is active"))
    }
}
