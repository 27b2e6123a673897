//! Scripted differential sync sessions: the write gate with pending local writes (made
//! through the generated views and the CRUD vtab), `completed_upload` (skip / apply / warn),
//! checkpoint-request commands, `checkpoint_request` in the request, and
//! `internal_last_applied_checkpoint_request_id`.
use crate::sync_common;
use crate::sync_sessions_support;

use rusqlite::types::Value;
use serde_json::json;
use sync_common::*;
use sync_sessions_support::*;

const MAX: i64 = i64::MAX;

fn new(name: &str) -> Session {
    Session::new(name, ITEMS_SCHEMA)
}

/// A local write through the `items` view (queues CRUD, sets the target to MAX_OP_ID).
fn local_insert(s: &mut Session, id: &str) {
    s.sql(&format!(
        "INSERT INTO items(id, col) VALUES ('{id}', 'local {id}')"
    ));
}

/// The SDK finished uploading: the CRUD queue is emptied.
fn uploaded(s: &mut Session) {
    s.sql("DELETE FROM ps_crud");
}

fn kv(s: &mut Session) {
    s.query("SELECT key, quote(value) FROM ps_kv WHERE key != 'client_id' ORDER BY key");
}

/// Blocked by a local write; the upload's `completed_upload` skips the pending checkpoint
/// (no write checkpoint while the target is MAX); the SDK stores the target and the next
/// pending checkpoint is applied by `completed_upload`.
fn blocked_then_applied_by_upload() -> usize {
    let mut s = new("blocked_then_applied_by_upload");
    s.start_null().unwrap();
    s.json(cp(1, None, vec![bucket("a", 5, None, Some(1))])).unwrap();
    s.json(data_line("a", json!([put(1, "r1", 5, r#"{"col":"one"}"#)])))
        .unwrap();
    local_insert(&mut s, "l1");
    kv(&mut s);
    has(
        &s.json(complete(1)),
        "Could not apply checkpoint due to local data. Will retry at completed upload or next checkpoint.",
    );
    uploaded(&mut s);
    // Target is MAX and the pending checkpoint has no write checkpoint: skipped silently.
    empty(&s.cmd("completed_upload"));
    s.json(cp(2, Some(5), vec![bucket("a", 5, None, Some(1))]))
        .unwrap();
    has(
        &s.json(complete(2)),
        "Could not apply checkpoint due to local data",
    );
    kv(&mut s);
    s.ctl("target_checkpoint_request_id", Payload::Int(5)).unwrap();
    let r = s.cmd("completed_upload");
    has(&r, "Applied pending checkpoint after completed upload");
    has(&r, r#"{"DidCompleteSync":{"applied_checkpoint_request_id":"5"}}"#);
    kv(&mut s);
    s.query("SELECT id, data FROM ps_data__items ORDER BY id");
    // Nothing pending any more.
    empty(&s.cmd("completed_upload"));
    s.cases
}

/// Pending write checkpoint older than the target: skipped.
fn completed_upload_skip_older() -> usize {
    let mut s = new("completed_upload_skip_older");
    s.start(json!({"checkpoint_mode": "requests"})).unwrap();
    local_insert(&mut s, "l1");
    s.json(cp(1, Some(3), vec![bucket("a", 0, None, None)])).unwrap();
    s.json(complete(1)).unwrap();
    uploaded(&mut s);
    s.ctl("target_checkpoint_request_id", Payload::Int(4)).unwrap();
    empty(&s.cmd("completed_upload"));
    // The pending checkpoint was consumed by the skip.
    empty(&s.cmd("completed_upload"));
    // Seen 3 < target 4: a new checkpoint with W=3 is still blocked, W=4 applies.
    s.json(cp(2, Some(3), vec![bucket("a", 0, None, None)])).unwrap();
    has(
        &s.json(complete(2)),
        "Could not apply checkpoint due to local data",
    );
    s.json(cp(3, Some(4), vec![bucket("a", 0, None, None)])).unwrap();
    has(&s.json(complete(3)), "Applied checkpoint request id 4");
    kv(&mut s);
    s.cases
}

/// No target at all (queue filled directly): `completed_upload` applies once the queue is
/// empty, and warns while it is not.
fn completed_upload_without_target() -> usize {
    let mut s = new("completed_upload_without_target");
    s.start_null().unwrap();
    s.json(cp(2, None, vec![bucket("a", 3, None, Some(2))])).unwrap();
    s.json(data_line(
        "a",
        json!([
            put(1, "r1", 1, r#"{"col":"1"}"#),
            put(2, "r2", 2, r#"{"col":"2"}"#)
        ]),
    ))
    .unwrap();
    s.sql("INSERT INTO ps_crud (data, tx_id) VALUES ('{\"op\":\"PUT\"}', 7)");
    has(
        &s.json(complete(2)),
        "Could not apply checkpoint due to local data",
    );
    // Queue still non-empty: warning; the checkpoint stays pending, so a second call warns
    // again (0.5.3 dropped it and returned nothing).
    for _ in 0..2 {
        has(
            &s.cmd("completed_upload"),
            r#"{"LogLine":{"severity":"WARNING","line":"Could not apply pending checkpoint even after completed upload"}}"#,
        );
    }
    // A new checkpoint, blocked again; then the upload finishes and applies it.
    s.json(cp(2, None, vec![bucket("a", 3, None, Some(2))])).unwrap();
    s.json(complete(2)).unwrap();
    uploaded(&mut s);
    let r = s.cmd("completed_upload");
    has(&r, "Applied pending checkpoint after completed upload");
    has(&r, r#"{"DidCompleteSync":{}}"#);
    s.query("SELECT id FROM ps_data__items ORDER BY id");
    s.cases
}

/// Data arriving after the checkpoint was deferred changes the checksum: `completed_upload`
/// deletes the failing bucket and warns, the iteration continues.
fn completed_upload_checksum_changed() -> usize {
    let mut s = new("completed_upload_checksum_changed");
    s.start_null().unwrap();
    s.json(cp(
        1,
        None,
        vec![bucket("a", 5, None, None), bucket("b", 1, None, None)],
    ))
    .unwrap();
    s.json(data_line("a", json!([put(1, "r1", 5, r#"{"col":"1"}"#)])))
        .unwrap();
    s.json(data_line("b", json!([put(1, "r2", 1, r#"{"col":"2"}"#)])))
        .unwrap();
    s.sql("INSERT INTO ps_crud (data, tx_id) VALUES ('{}', 1)");
    s.json(complete(1)).unwrap();
    s.json(data_line("a", json!([put(2, "r3", 9, r#"{"col":"3"}"#)])))
        .unwrap();
    uploaded(&mut s);
    has(
        &s.cmd("completed_upload"),
        "Could not apply pending checkpoint even after completed upload",
    );
    s.query("SELECT name FROM ps_buckets ORDER BY name");
    // Still active.
    s.json(token(60)).unwrap();
    s.json(cp(
        2,
        None,
        vec![bucket("a", 9, None, None), bucket("b", 1, None, None)],
    ))
    .unwrap();
    s.json(data_line("a", json!([put(2, "r3", 9, r#"{"col":"3"}"#)])))
        .unwrap();
    has(&s.json(complete(2)), "DidCompleteSync");
    s.cases
}

/// `completed_upload` without pending checkpoint, before any checkpoint, and when idle.
fn completed_upload_edge_cases() -> usize {
    let mut s = new("completed_upload_edge_cases");
    fails(&s.cmd("completed_upload"), 21);
    s.start_null().unwrap();
    empty(&s.cmd("completed_upload"));
    s.json(cp(1, None, vec![])).unwrap();
    empty(&s.cmd("completed_upload"));
    s.json(complete(1)).unwrap();
    empty(&s.cmd("completed_upload"));
    s.cmd("stop").unwrap();
    fails(&s.cmd("completed_upload"), 21);
    s.cases
}

/// A successful `checkpoint_complete` keeps a stale pending copy, which a later
/// `completed_upload` re-applies harmlessly.
fn stale_pending_reapplied() -> usize {
    let mut s = new("stale_pending_reapplied");
    s.start_null().unwrap();
    s.json(cp(1, None, vec![bucket("a", 5, None, Some(1))])).unwrap();
    s.json(data_line("a", json!([put(1, "r1", 5, r#"{"col":"one"}"#)])))
        .unwrap();
    s.sql("INSERT INTO ps_crud (data, tx_id) VALUES ('{}', 1)");
    s.json(complete(1)).unwrap();
    uploaded(&mut s);
    has(&s.json(complete(1)), "Validated and applied checkpoint");
    s.cmd("completed_upload").unwrap();
    // A new checkpoint discards any pending copy.
    s.sql("INSERT INTO ps_crud (data, tx_id) VALUES ('{}', 2)");
    s.json(complete(1)).unwrap();
    s.json(cp(1, None, vec![bucket("a", 5, None, Some(1))])).unwrap();
    uploaded(&mut s);
    empty(&s.cmd("completed_upload"));
    s.cases
}

/// The write checkpoint is persisted as seen even while blocked; a target at or below it
/// opens the gate.
fn seen_persisted_while_blocked() -> usize {
    let mut s = new("seen_persisted_while_blocked");
    s.start_null().unwrap();
    local_insert(&mut s, "l1");
    s.json(cp(3, Some(7), vec![bucket("a", 0, None, None)])).unwrap();
    has(
        &s.json(complete(3)),
        "Could not apply checkpoint due to local data",
    );
    kv(&mut s);
    uploaded(&mut s);
    // Target 6 <= seen 7: a fresh checkpoint without write checkpoint applies.
    s.ctl("target_checkpoint_request_id", Payload::Int(6)).unwrap();
    s.json(cp(4, None, vec![bucket("a", 0, None, None)])).unwrap();
    let r = s.json(complete(4));
    has(&r, r#"{"DidCompleteSync":{}}"#);
    kv(&mut s);
    s.cases
}

/// Priority 0 bypasses the gate; other partials are silently skipped while it is closed.
fn partial_gate() -> usize {
    let mut s = new("partial_gate");
    s.start_null().unwrap();
    s.json(cp(
        3,
        None,
        vec![
            bucket("p0", 1, Some(0), None),
            bucket("p1", 2, Some(1), None),
            bucket("p3", 3, None, None),
        ],
    ))
    .unwrap();
    s.json(data_line("p0", json!([put(1, "a", 1, r#"{"col":"a"}"#)])))
        .unwrap();
    s.json(data_line("p1", json!([put(2, "b", 2, r#"{"col":"b"}"#)])))
        .unwrap();
    s.json(data_line("p3", json!([put(3, "c", 3, r#"{"col":"c"}"#)])))
        .unwrap();
    local_insert(&mut s, "mine");
    has(&s.json(partial(3, 0)), r#""priority":0"#);
    let delayed = r#"[{"CheckpointDelayedDueToLocalData":{}}]"#;
    has(&s.json(partial(3, 1)), delayed);
    s.query("SELECT id FROM ps_data__items ORDER BY id");
    has(
        &s.json(complete(3)),
        "Could not apply checkpoint due to local data",
    );
    has(&s.json(partial(3, 2)), delayed);
    s.query("SELECT name, last_op, last_applied_op FROM ps_buckets ORDER BY name");
    s.cases
}

/// `checkpoint_request` in `EstablishSyncStream` for combinations of counter and target.
fn checkpoint_request_computation() -> usize {
    let mut s = new("checkpoint_request_computation");
    let requests = || json!({"checkpoint_mode": "requests"});
    has(
        &s.start(requests()),
        r#""checkpoint_request":{"client_id":"test-test-test-test","checkpoint_request_id":"1"}"#,
    );
    s.ctl("target_checkpoint_request_id", Payload::Int(4)).unwrap();
    has(&s.start(requests()), r#""checkpoint_request_id":"4""#);
    s.ctl("seed_checkpoint_request_id", Payload::Int(7)).unwrap();
    has(&s.start(requests()), r#""checkpoint_request_id":"7""#);
    s.ctl("seed_checkpoint_request_id", Payload::Int(2)).unwrap();
    has(&s.start(requests()), r#""checkpoint_request_id":"4""#);
    s.ctl("target_checkpoint_request_id", Payload::Int(MAX)).unwrap();
    has(&s.start(requests()), r#""checkpoint_request_id":"2""#);
    s.ctl("target_checkpoint_request_id", Payload::Int(MAX - 1))
        .unwrap();
    s.start(requests()).unwrap();
    s.ctl("target_checkpoint_request_id", Payload::Int(0)).unwrap();
    s.sql("DELETE FROM ps_kv WHERE key = 'last_requested_checkpoint_request_id'");
    has(&s.start(requests()), r#""checkpoint_request_id":"1""#);
    // Legacy mode: no checkpoint_request at all.
    s.start(json!({"checkpoint_mode": "legacy"})).unwrap();
    // A local write sets the target to MAX: ignored for the request.
    local_insert(&mut s, "x");
    s.start(requests()).unwrap();
    s.cases
}

/// The counter commands: seeding (integers and decimal text), incrementing, reading, and the
/// overflow quirk at i64::MAX.
fn checkpoint_request_counter() -> usize {
    let mut s = new("checkpoint_request_counter");
    assert_eq!(s.cmd("current_checkpoint_request_id"), Ok(json!(null)));
    s.start(json!({"checkpoint_mode": "requests"})).unwrap();
    fails(&s.cmd("next_checkpoint_request_id"), 21);
    s.ctl("seed_checkpoint_request_id", "+0010").unwrap();
    s.cmd("next_checkpoint_request_id").unwrap();
    s.cmd("next_checkpoint_request_id").unwrap();
    assert_eq!(s.cmd("current_checkpoint_request_id"), Ok(json!(12)));
    s.ctl("seed_checkpoint_request_id", Payload::Int(3)).unwrap();
    s.cmd("next_checkpoint_request_id").unwrap();
    kv(&mut s);
    s.ctl("seed_checkpoint_request_id", Payload::Int(MAX - 1))
        .unwrap();
    s.cmd("next_checkpoint_request_id").unwrap();
    s.cmd("next_checkpoint_request_id").unwrap();
    s.cmd("next_checkpoint_request_id").unwrap();
    kv(&mut s);
    s.cmd("current_checkpoint_request_id").unwrap();
    s.cmd("stop").unwrap();
    // Without an iteration the counter stays readable but cannot be changed.
    s.cmd("current_checkpoint_request_id").unwrap();
    fails(&s.cmd("next_checkpoint_request_id"), 21);
    fails(&s.ctl("seed_checkpoint_request_id", Payload::Int(5)), 21);
    // A stored text value is read back through the commands.
    s.sql("UPDATE ps_kv SET value = '41' WHERE key = 'last_requested_checkpoint_request_id'");
    s.cmd("current_checkpoint_request_id").unwrap();
    s.start_null().unwrap();
    s.cmd("next_checkpoint_request_id").unwrap();
    kv(&mut s);
    s.cases
}

/// `target_checkpoint_request_id`: read, store, delete; returns the previous value; never
/// needs an iteration and never touches the counter.
fn target_command() -> usize {
    let mut s = new("target_command");
    assert_eq!(
        s.ctl("target_checkpoint_request_id", Payload::Null),
        Ok(json!(null))
    );
    s.ctl("target_checkpoint_request_id", Payload::Int(5)).unwrap();
    assert_eq!(s.ctl("target_checkpoint_request_id", "9"), Ok(json!(5)));
    s.ctl("target_checkpoint_request_id", Payload::Null).unwrap();
    s.ctl("target_checkpoint_request_id", "0").unwrap();
    kv(&mut s);
    s.ctl("target_checkpoint_request_id", Payload::Int(0)).unwrap();
    s.start_null().unwrap();
    local_insert(&mut s, "a");
    assert_eq!(
        s.ctl("target_checkpoint_request_id", Payload::Int(1)),
        Ok(json!(MAX))
    );
    s.sql("UPDATE ps_kv SET value = '12' WHERE key = 'target_checkpoint_request_id'");
    s.ctl("target_checkpoint_request_id", Payload::Null).unwrap();
    kv(&mut s);
    s.cases
}

/// Local writes (insert, update, delete through the view; the CRUD vtab directly) reset the
/// seen/applied keys and set the target, once per transaction.
fn local_writes_reset_gate() -> usize {
    let mut s = new("local_writes_reset_gate");
    s.start_null().unwrap();
    s.json(cp(1, Some(2), vec![bucket("a", 5, None, None)])).unwrap();
    s.json(data_line("a", json!([put(1, "r1", 5, r#"{"col":"one"}"#)])))
        .unwrap();
    has(&s.json(complete(1)), "Applied checkpoint request id 2");
    kv(&mut s);
    s.sql("UPDATE items SET col = 'changed' WHERE id = 'r1'");
    kv(&mut s);
    s.ctl("target_checkpoint_request_id", Payload::Int(2)).unwrap();
    s.sql("DELETE FROM items WHERE id = 'r1'");
    kv(&mut s);
    s.sql("INSERT INTO powersync_crud(op, id, type, data) VALUES ('PUT', 'v1', 'items', '{\"col\":1}')");
    s.sql("INSERT INTO items(id, col) VALUES ('t1', 'a'); INSERT INTO items(id, col) VALUES ('t2', 'b'); UPDATE items SET col = 'c' WHERE id = 't1'");
    s.query("SELECT id, data, tx_id FROM ps_crud ORDER BY id");
    kv(&mut s);
    // Blocked: the synced row stays deleted locally until uploaded.
    s.json(cp(2, Some(3), vec![bucket("a", 5, None, None)])).unwrap();
    has(
        &s.json(complete(2)),
        "Could not apply checkpoint due to local data",
    );
    s.query("SELECT id, data FROM ps_data__items ORDER BY id");
    uploaded(&mut s);
    s.ctl("target_checkpoint_request_id", Payload::Int(3)).unwrap();
    has(&s.cmd("completed_upload"), "Applied checkpoint request id 3");
    s.query("SELECT id, data FROM ps_data__items ORDER BY id");
    s.cases
}

/// `internal_last_applied_checkpoint_request_id` is repeated by later status updates and
/// cleared only by a full apply without write checkpoint, `start`, `stop`, `connection end`.
fn internal_applied_id() -> usize {
    let mut s = new("internal_applied_id");
    s.start_null().unwrap();
    s.json(cp(
        1,
        Some(7),
        vec![bucket("a", 0, Some(1), Some(1)), bucket("b", 0, None, None)],
    ))
    .unwrap();
    has(
        &s.json(complete(1)),
        r#""internal_last_applied_checkpoint_request_id":"7""#,
    );
    has(
        &s.json(cp(2, None, vec![bucket("a", 0, Some(1), Some(2))])),
        r#""internal_last_applied_checkpoint_request_id":"7""#,
    );
    has(
        &s.json(data_line("a", json!([put(2, "x", 0, "{}")]))),
        r#""internal_last_applied_checkpoint_request_id":"7""#,
    );
    has(
        &s.json(partial(2, 1)),
        r#""internal_last_applied_checkpoint_request_id":"7""#,
    );
    let r = s.json(complete(2));
    has(&r, r#"{"DidCompleteSync":{}}"#);
    assert!(!format!("{r:?}").contains("internal_last_applied"));
    s.json(cp(3, Some(8), vec![])).unwrap();
    s.json(complete(3)).unwrap();
    s.offline_status();
    let r = s.cmd("stop");
    assert!(!format!("{r:?}").contains("internal_last_applied"));
    s.start_null().unwrap();
    s.json(cp(3, Some(9), vec![])).unwrap();
    s.json(complete(3)).unwrap();
    let r = s.ctl("connection", "end");
    assert!(!format!("{r:?}").contains("internal_last_applied"));
    s.start_null().unwrap();
    s.json(cp(3, Some(10), vec![])).unwrap();
    s.json(complete(3)).unwrap();
    s.start_null().unwrap();
    s.cases
}

/// The intended SDK flow of docs/protocol.md#intended-sdk-flow end to end.
fn sdk_checkpoint_request_flow() -> usize {
    let mut s = new("sdk_checkpoint_request_flow");
    has(
        &s.start(json!({"checkpoint_mode": "requests"})),
        r#""checkpoint_request_id":"1""#,
    );
    s.ctl("seed_checkpoint_request_id", Payload::Int(1)).unwrap();
    s.json(cp(1, Some(1), vec![bucket("a", 5, None, Some(1))]))
        .unwrap();
    s.json(data_line("a", json!([put(1, "srv", 5, r#"{"col":"s"}"#)])))
        .unwrap();
    has(&s.json(complete(1)), r#""applied_checkpoint_request_id":"1""#);
    // The app writes; the SDK uploads and allocates a request id.
    local_insert(&mut s, "mine");
    s.sql("UPDATE items SET col = 'edited' WHERE id = 'srv'");
    assert_eq!(s.cmd("next_checkpoint_request_id"), Ok(json!(2)));
    uploaded(&mut s);
    assert_eq!(
        s.ctl("target_checkpoint_request_id", Payload::Int(2)),
        Ok(json!(MAX))
    );
    // The service has not processed request 2 yet.
    s.json(cp(2, Some(1), vec![bucket("a", 5 + 6, None, Some(2))]))
        .unwrap();
    s.json(data_line(
        "a",
        json!([put(2, "mine", 6, r#"{"col":"local mine"}"#)]),
    ))
    .unwrap();
    has(
        &s.json(complete(2)),
        "Could not apply checkpoint due to local data",
    );
    s.json(cp(3, Some(2), vec![bucket("a", 5 + 6 + 7, None, Some(3))]))
        .unwrap();
    s.json(data_line("a", json!([put(3, "srv", 7, r#"{"col":"edited"}"#)])))
        .unwrap();
    let r = s.json(complete(3));
    has(&r, "Applied checkpoint request id 2");
    s.query("SELECT id, data FROM ps_data__items ORDER BY id");
    kv(&mut s);
    // Reconnect: the request carries the counter.
    s.cmd("stop").unwrap();
    has(
        &s.start(json!({"checkpoint_mode": "requests"})),
        r#""checkpoint_request_id":"2""#,
    );
    s.cases
}

/// Several transactions of local writes, some rolled back, while syncing.
fn local_writes_while_syncing() -> usize {
    let mut s = new("local_writes_while_syncing");
    s.start_null().unwrap();
    s.json(cp(4, None, vec![bucket("a", 10, None, Some(4))])).unwrap();
    for i in 1..=4 {
        s.json(data_line(
            "a",
            json!([put(i, &format!("r{i}"), i, &format!(r#"{{"col":"{i}"}}"#))]),
        ))
        .unwrap();
        local_insert(&mut s, &format!("l{i}"));
    }
    // A failing statement rolls back its transaction entirely on both.
    s.sql("INSERT INTO items(id, col) VALUES ('bad', 'x'); SELECT powersync_control('bogus', NULL)");
    s.query("SELECT id, tx_id FROM ps_crud ORDER BY id");
    // Local writes also record their rows in ps_updated_rows.
    s.query("SELECT * FROM ps_updated_rows ORDER BY row_id");
    has(
        &s.json(complete(4)),
        "Could not apply checkpoint due to local data",
    );
    s.sql("DELETE FROM ps_crud WHERE id <= 2");
    // Target MAX and no write checkpoint: skipped.
    empty(&s.cmd("completed_upload"));
    uploaded(&mut s);
    s.ctl("target_checkpoint_request_id", Payload::Int(0)).unwrap();
    has(&s.json(complete(4)), "Validated and applied checkpoint");
    // The full apply re-evaluates the locally written rows: not on the server, so removed.
    let v = s.value("SELECT group_concat(id) FROM (SELECT id FROM ps_data__items ORDER BY id)");
    assert_eq!(v, Ok(Value::Text("r1,r2,r3,r4".into())));
    s.cases
}

/// Writes to local-only tables queue nothing and leave the gate open; writes to an
/// insert-only table queue CRUD through the manual vtab and close it.
fn local_only_and_insert_only() -> usize {
    const SCHEMA: &str = r#"{"tables":[{"name":"items","columns":[{"name":"col","type":"text"}]},{"name":"local_stuff","local_only":true,"columns":[{"name":"x","type":"text"}]},{"name":"logs","insert_only":true,"columns":[{"name":"msg","type":"text"}]}]}"#;
    let mut s = Session::new("local_only_and_insert_only", SCHEMA);
    s.start_null().unwrap();
    s.json(cp(1, None, vec![bucket("a", 1, None, None)])).unwrap();
    s.json(data_line("a", json!([put(1, "r", 1, r#"{"col":"x"}"#)])))
        .unwrap();
    s.sql("INSERT INTO local_stuff(id, x) VALUES ('l', 'local only')");
    kv(&mut s);
    has(&s.json(complete(1)), "DidCompleteSync");
    s.sql("INSERT INTO logs(id, msg) VALUES ('g', 'logged')");
    kv(&mut s);
    s.query("SELECT data FROM ps_crud");
    s.json(cp(2, None, vec![bucket("a", 1, None, None)])).unwrap();
    has(
        &s.json(complete(2)),
        "Could not apply checkpoint due to local data",
    );
    s.sql("DELETE FROM ps_crud");
    // The manual vtab (insert-only tables) does not set a target: applied right away.
    has(
        &s.cmd("completed_upload"),
        "Applied pending checkpoint after completed upload",
    );
    s.ctl("target_checkpoint_request_id", Payload::Int(0)).unwrap();
    s.json(cp(3, None, vec![bucket("a", 1, None, None)])).unwrap();
    has(&s.json(complete(3)), "DidCompleteSync");
    s.query("SELECT * FROM ps_data_local__local_stuff");
    s.cases
}

#[test]
fn gate_sessions() {
    run_suite(
        "sync_sessions_gate",
        &[
            ("blocked_then_applied_by_upload", blocked_then_applied_by_upload),
            ("completed_upload_skip_older", completed_upload_skip_older),
            ("completed_upload_without_target", completed_upload_without_target),
            (
                "completed_upload_checksum_changed",
                completed_upload_checksum_changed,
            ),
            ("completed_upload_edge_cases", completed_upload_edge_cases),
            ("stale_pending_reapplied", stale_pending_reapplied),
            ("seen_persisted_while_blocked", seen_persisted_while_blocked),
            ("partial_gate", partial_gate),
            ("checkpoint_request_computation", checkpoint_request_computation),
            ("checkpoint_request_counter", checkpoint_request_counter),
            ("target_command", target_command),
            ("local_writes_reset_gate", local_writes_reset_gate),
            ("internal_applied_id", internal_applied_id),
            ("sdk_checkpoint_request_flow", sdk_checkpoint_request_flow),
            ("local_writes_while_syncing", local_writes_while_syncing),
            ("local_only_and_insert_only", local_only_and_insert_only),
        ],
    );
}
