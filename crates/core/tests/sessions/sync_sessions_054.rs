//! Differential sessions for the sync-client changes of reference core 0.5.4, one suite per
//! change: Y1 `CheckpointDelayedDueToLocalData`, Y2 priority-0 checkpoints published despite
//! local writes, Y3 errors keep the iteration, Y4 a failed `start` keeps the previous
//! iteration, Y5 the disconnected status before every `CloseSyncStream`, Y6 the partial
//! checksum warning, Y7 which events mark the stream connected, Y8 per-bucket progress reset,
//! Y9/Y10 the pending checkpoint kept by `completed_upload` / cleared by any apply, Y11 the
//! progress statement in errors on an uninitialised database.
//!
//! Every call runs on ours and on the 0.5.4 reference; instructions and all tables are
//! compared after each call. The assertions on top only guard that a script still reaches
//! the behaviour it is about.
use crate::common;
use crate::sync_common;
use crate::sync_sessions_support;

use serde_json::{json, Value as Json};
use sync_common::*;
use sync_sessions_support::*;

const DELAYED: &str = r#"{"CheckpointDelayedDueToLocalData":{}}"#;
const DELAYED_INFO: &str =
    "Could not apply checkpoint due to local data. Will retry at completed upload or next checkpoint.";
const UPLOAD_WARNING: &str = "Could not apply pending checkpoint even after completed upload";
const DISCONNECTED: &str = r#"{"connected":false,"connecting":false"#;
const CONNECTED: &str = r#"{"connected":true,"connecting":false"#;

fn new(name: &str) -> Session {
    Session::new(name, ITEMS_SCHEMA)
}

fn new_enc(name: &str, enc: Enc) -> Session {
    Session::new(&format!("{name}[{enc:?}]"), ITEMS_SCHEMA)
}

/// A local write through the `items` view (queues CRUD, sets the target to the max op id).
fn local_insert(s: &mut Session, id: &str) {
    s.sql(&format!(
        "INSERT INTO items(id, col) VALUES ('{id}', 'local {id}')"
    ));
}

/// The upload finished: the queue is empty and the target is cleared.
fn uploaded(s: &mut Session) {
    s.sql("DELETE FROM ps_crud");
    s.ctl("target_checkpoint_request_id", Payload::Int(0)).unwrap();
}

fn items(s: &mut Session) {
    s.query("SELECT id, data FROM ps_data__items ORDER BY id");
}

fn sync_state(s: &mut Session) {
    s.query("SELECT priority FROM ps_sync_state ORDER BY priority");
}

/// Asserts that a compared call failed (the code is compared with the reference anyway).
fn failed(r: &R) {
    assert!(r.is_err(), "expected an error, got {r:?}");
}

/// Asserts that a result does not contain `needle`.
fn lacks(r: &R, needle: &str) {
    match r {
        Ok(Json::String(t)) => assert!(!t.contains(needle), "unexpected {needle} in {t}"),
        other => panic!("expected instructions, got {other:?}"),
    }
}

/// Starts and downloads one bucket `a` (priority `prio`) with two rows, checksum 3.
fn downloaded(s: &mut Session, enc: Enc, prio: Option<i32>, write_checkpoint: Option<i64>) {
    s.start_null().unwrap();
    s.send(enc, cp(2, write_checkpoint, vec![bucket("a", 3, prio, Some(2))]))
        .unwrap();
    s.send(
        enc,
        data_line(
            "a",
            json!([
                put(1, "r1", 1, r#"{"col":"1"}"#),
                put(2, "r2", 2, r#"{"col":"2"}"#)
            ]),
        ),
    )
    .unwrap();
}

// ---------------------------------------------------------------------------------------
// Y1: CheckpointDelayedDueToLocalData

/// A blocked `checkpoint_complete`: the new instruction, then the INFO line.
fn y1_full_blocked(enc: Enc) -> usize {
    let mut s = new_enc("y1_full_blocked", enc);
    downloaded(&mut s, enc, None, None);
    local_insert(&mut s, "l1");
    let r = s.send(enc, complete(2));
    has(
        &r,
        &format!(r#"[{DELAYED},{{"LogLine":{{"severity":"INFO","line":"{DELAYED_INFO}"}}}}]"#),
    );
    items(&mut s);
    // Blocked by a concrete target (not the queue) alike.
    s.sql("DELETE FROM ps_crud");
    s.ctl("target_checkpoint_request_id", Payload::Int(9)).unwrap();
    has(&s.send(enc, complete(2)), DELAYED);
    s.cases
}

/// A blocked `partial_checkpoint_complete` above priority 0 returns only the instruction.
fn y1_partial_blocked(enc: Enc) -> usize {
    let mut s = new_enc("y1_partial_blocked", enc);
    s.start_null().unwrap();
    s.send(
        enc,
        cp(
            2,
            None,
            vec![bucket("p1", 1, Some(1), None), bucket("p2", 2, Some(2), None)],
        ),
    )
    .unwrap();
    s.send(enc, data_line("p1", json!([put(1, "a", 1, r#"{"col":"a"}"#)])))
        .unwrap();
    s.send(enc, data_line("p2", json!([put(2, "b", 2, r#"{"col":"b"}"#)])))
        .unwrap();
    local_insert(&mut s, "l1");
    for p in [1, 2] {
        let r = s.send(enc, partial(2, p));
        assert_eq!(r, Ok(Json::String(format!("[{DELAYED}]"))));
    }
    items(&mut s);
    s.cases
}

/// `completed_upload` that still cannot apply warns, without the new instruction.
fn y1_not_from_completed_upload() -> usize {
    let mut s = new("y1_not_from_completed_upload");
    downloaded(&mut s, Enc::Json, None, None);
    s.sql("INSERT INTO ps_crud (data, tx_id) VALUES ('{\"op\":\"PUT\"}', 1)");
    has(&s.json(complete(2)), DELAYED);
    let r = s.cmd("completed_upload");
    has(&r, UPLOAD_WARNING);
    lacks(&r, "CheckpointDelayedDueToLocalData");
    s.cases
}

// ---------------------------------------------------------------------------------------
// Y2: all-priority-0 checkpoints are published despite local writes

/// Buckets `a` and `b`, both priority 0, one local write: applied as a priority-0 partial
/// sync; still pending as a full checkpoint, applied fully after the upload.
fn y2_all_priority_zero(enc: Enc) -> usize {
    let mut s = new_enc("y2_all_priority_zero", enc);
    s.start_null().unwrap();
    s.send(
        enc,
        cp(
            2,
            None,
            vec![bucket("a", 1, Some(0), Some(1)), bucket("b", 2, Some(0), Some(1))],
        ),
    )
    .unwrap();
    s.send(enc, data_line("a", json!([put(1, "r1", 1, r#"{"col":"1"}"#)])))
        .unwrap();
    s.send(enc, data_line("b", json!([put(2, "r2", 2, r#"{"col":"2"}"#)])))
        .unwrap();
    local_insert(&mut s, "l1");
    let r = s.send(enc, complete(2));
    has(&r, DELAYED);
    has(&r, r#""priority_status":[{"priority":0,"#);
    has(&r, r#""downloading":{"buckets":{"prio_0""#);
    items(&mut s);
    sync_state(&mut s);
    s.query("SELECT name, last_op, last_applied_op, count_at_last, count_since_last FROM ps_buckets ORDER BY name");
    // The same checkpoint completed again: published again at a new time.
    has(&s.send(enc, complete(2)), r#""priority":0"#);
    uploaded(&mut s);
    let r = s.cmd("completed_upload");
    has(&r, "Applied pending checkpoint after completed upload");
    has(&r, r#"{"DidCompleteSync":{}}"#);
    sync_state(&mut s);
    s.cases
}

/// Mixed priorities (0 and 1) are not published; an empty checkpoint neither.
fn y2_not_all_priority_zero() -> usize {
    let mut s = new("y2_not_all_priority_zero");
    s.start_null().unwrap();
    s.json(cp(
        2,
        None,
        vec![bucket("a", 1, Some(0), None), bucket("b", 2, Some(1), None)],
    ))
    .unwrap();
    s.json(data_line("a", json!([put(1, "r1", 1, r#"{"col":"1"}"#)])))
        .unwrap();
    s.json(data_line("b", json!([put(2, "r2", 2, r#"{"col":"2"}"#)])))
        .unwrap();
    local_insert(&mut s, "l1");
    let r = s.json(complete(2));
    has(&r, DELAYED);
    lacks(&r, "UpdateSyncStatus");
    items(&mut s);
    s.json(cp(3, None, vec![])).unwrap();
    let r = s.json(complete(3));
    has(&r, DELAYED);
    lacks(&r, "UpdateSyncStatus");
    sync_state(&mut s);
    s.cases
}

/// The retry in `completed_upload` publishes priority 0 too (after its warning), and a
/// stream whose buckets have priority 0 gets `last_synced_at`.
fn y2_completed_upload_and_streams() -> usize {
    let mut s = new("y2_completed_upload_and_streams");
    s.start_null().unwrap();
    s.json(json!({"checkpoint": {"last_op_id": "1", "buckets": [
        {"bucket": "a", "checksum": 1, "priority": 0, "subscriptions": [{"default": 0}]}],
        "streams": [{"name": "d", "is_default": true, "errors": []}]}}))
        .unwrap();
    s.json(data_line("a", json!([put(1, "r1", 1, r#"{"col":"1"}"#)])))
        .unwrap();
    s.sql("INSERT INTO ps_crud (data, tx_id) VALUES ('{\"op\":\"PUT\"}', 1)");
    has(&s.json(complete(1)), r#""last_synced_at":1,"progress""#);
    s.query("SELECT stream_name, last_synced_at IS NOT NULL FROM ps_stream_subscriptions");
    // Queue still full: warning, then the priority-0 publish again.
    let r = s.cmd("completed_upload");
    has(&r, UPLOAD_WARNING);
    has(&r, r#""priority_status":[{"priority":0,"#);
    s.sql("DELETE FROM ps_crud");
    has(&s.cmd("completed_upload"), "DidCompleteSync");
    s.offline_status();
    s.cases
}

// ---------------------------------------------------------------------------------------
// Y3: errors keep the iteration

/// Protocol errors of every kind, then the iteration carries on normally.
fn y3_protocol_errors(enc: Enc) -> usize {
    let mut s = new_enc("y3_protocol_errors", enc);
    s.start_null().unwrap();
    failed(&s.send(enc, complete(1)));
    failed(&s.send(enc, partial(1, 1)));
    failed(&s.send(enc, diff(1, None, vec![bucket("a", 0, None, None)], &[])));
    failed(&s.ctl("line_text", "{"));
    failed(&s.ctl("line_binary", Payload::Blob(vec![5, 0, 0, 0, 0])));
    failed(&s.send(enc, json!({"data": {"bucket": 1}})));
    // Still connecting: none of the failures touched the status.
    has(&s.send(enc, token(60)), CONNECTED);
    s.send(enc, cp(1, None, vec![bucket("a", 1, None, Some(1))]))
        .unwrap();
    failed(&s.send(enc, json!({"checkpoint": {"last_op_id": "x"}})));
    s.send(enc, data_line("a", json!([put(1, "r1", 1, r#"{"col":"1"}"#)])))
        .unwrap();
    has(&s.send(enc, complete(1)), "DidCompleteSync");
    items(&mut s);
    // Resync and soft clear stay refused while the iteration lives.
    s.sql("SELECT powersync_trigger_resync(0)");
    s.sql("SELECT powersync_clear(2)");
    let r = s.cmd("stop");
    has(&r, DISCONNECTED);
    has(&r, r#"{"CloseSyncStream":{"hide_disconnect":false}}"#);
    s.sql("SELECT powersync_trigger_resync(0)");
    s.cases
}

const USERS_DDL: &str = "CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)";

fn users_start() -> Json {
    json!({"schema": {"tables": [], "raw_tables": [{"name": "user",
        "put": {"sql": "INSERT OR REPLACE INTO users (id, name) VALUES (?, ?)", "params": ["Id", {"Column": "name"}]},
        "delete": {"sql": "DELETE FROM users WHERE id = ?", "params": ["Id"]}}]}})
}

/// A failing apply (NOT NULL in a raw table; data that is not an object): the error is
/// returned, nothing changes, and the same line succeeds once the data is fixed.
fn y3_apply_errors() -> usize {
    let mut s = new("y3_apply_errors");
    s.sql(USERS_DDL);
    s.start(users_start()).unwrap();
    s.json(cp(2, None, vec![bucket("a", 3, None, Some(2))])).unwrap();
    s.json(data_line(
        "a",
        json!([
            put_t(1, "user", "u1", 1, r#"{"name": null}"#),
            put_t(2, "user", "u2", 2, r#"{"name": "b"}"#)
        ]),
    ))
    .unwrap();
    fails(&s.json(complete(2)), 1299);
    // The status is untouched: still downloading.
    fails(&s.json(complete(2)), 1299);
    s.sql("UPDATE ps_oplog SET data = '[1]' WHERE row_id = 'u1'");
    fails(&s.json(complete(2)), 3091);
    s.sql("UPDATE ps_oplog SET data = '{\"name\": \"a\"}' WHERE row_id = 'u1'");
    has(&s.json(complete(2)), "DidCompleteSync");
    s.query("SELECT id, name FROM users ORDER BY id");
    s.cases
}

/// A failing `completed_upload` keeps the iteration and the pending checkpoint.
fn y3_completed_upload_error() -> usize {
    let mut s = new("y3_completed_upload_error");
    s.sql(USERS_DDL);
    s.start(users_start()).unwrap();
    s.json(cp(1, None, vec![bucket("a", 1, None, None)])).unwrap();
    s.json(data_line(
        "a",
        json!([put_t(1, "user", "u1", 1, r#"{"name": null}"#)]),
    ))
    .unwrap();
    s.sql("INSERT INTO ps_crud (data, tx_id) VALUES ('{\"op\":\"PUT\"}', 1)");
    has(&s.json(complete(1)), DELAYED);
    s.sql("DELETE FROM ps_crud");
    fails(&s.cmd("completed_upload"), 1299);
    fails(&s.cmd("completed_upload"), 1299);
    s.sql("UPDATE ps_oplog SET data = '{\"name\": \"n\"}'");
    has(
        &s.cmd("completed_upload"),
        "Applied pending checkpoint after completed upload",
    );
    empty(&s.cmd("completed_upload"));
    s.cases
}

/// Errors from a user trigger on the subscription table during `update_subscriptions` and
/// the keepalive's cleanup.
fn y3_subscription_errors() -> usize {
    let mut s = new("y3_subscription_errors");
    s.ctl("subscriptions", subscribe("s", None, Some(3600), None))
        .unwrap();
    s.start(json!({"active_streams": [{"name": "s"}]})).unwrap();
    s.json(token(60)).unwrap();
    s.sql("CREATE TRIGGER no_delete BEFORE DELETE ON ps_stream_subscriptions BEGIN SELECT RAISE(ABORT, 'kept'); END");
    s.sql("UPDATE ps_stream_subscriptions SET expires_at = 1000");
    s.sql("INSERT INTO ps_stream_subscriptions (stream_name, active, is_default) VALUES ('gone', 0, 0)");
    fails(&s.json(token(60)), 1811);
    fails(&s.ctl("update_subscriptions", json!([])), 1811);
    s.sql("DROP TRIGGER no_delete");
    // The expired subscription leaves the request: the stream is reopened.
    let r = s.ctl("update_subscriptions", json!([]));
    has(&r, DISCONNECTED);
    has(&r, r#"{"CloseSyncStream":{"hide_disconnect":true}}"#);
    s.cases
}

/// A write failing after the apply marked a stream synced (storing the applied request id):
/// the error is returned, but the stream's in-memory `last_synced_at` stays updated and
/// shows with the next status (the reference updates it while writing).
fn y3_failure_after_streams_synced() -> usize {
    let mut s = new("y3_failure_after_streams_synced");
    s.start_null().unwrap();
    s.json(
        json!({"checkpoint": {"last_op_id": "1", "write_checkpoint": "5", "buckets": [
        {"bucket": "a", "checksum": 0, "priority": 3, "subscriptions": [{"default": 0}]}],
        "streams": [{"name": "d", "is_default": true, "errors": []}]}}),
    )
    .unwrap();
    s.sql("CREATE TRIGGER no_applied BEFORE INSERT ON ps_kv WHEN NEW.key = 'last_applied_checkpoint_request_id' BEGIN SELECT RAISE(ABORT, 'no'); END");
    fails(&s.json(complete(1)), 1811);
    s.sql("DROP TRIGGER no_applied");
    has(&s.json(token(60)), r#""last_synced_at":1,"progress""#);
    has(&s.json(complete(1)), "DidCompleteSync");
    s.cases
}

// ---------------------------------------------------------------------------------------
// Y4: a failed start keeps the previous iteration

/// `start` without a client id fails; the previous iteration keeps tracking its checkpoint
/// (and its raw tables) and can complete it.
fn y4_failed_start() -> usize {
    let mut s = new("y4_failed_start");
    s.sql(USERS_DDL);
    s.start(users_start()).unwrap();
    s.json(cp(1, None, vec![bucket("a", 1, None, Some(1))])).unwrap();
    s.sql("DELETE FROM ps_kv WHERE key = 'client_id'");
    // Without raw tables: were they taken over, `user` rows would go to ps_untyped.
    fails(&s.start(json!({"schema": {"tables": []}})), 4);
    fails(&s.start_null(), 4);
    empty(&s.json(token(60)));
    s.json(data_line(
        "a",
        json!([put_t(1, "user", "u1", 1, r#"{"name": "n"}"#)]),
    ))
    .unwrap();
    has(&s.json(complete(1)), "DidCompleteSync");
    s.query("SELECT id, name FROM users");
    // Payload errors are reported before the iteration is involved at all.
    fails(&s.ctl("start", "{"), 3091);
    empty(&s.json(token(60)));
    let r = s.cmd("stop");
    has(&r, DISCONNECTED);
    fails(&s.start_null(), 4);
    // Nothing to keep: still idle.
    fails(&s.json(token(60)), 21);
    s.sql("INSERT INTO ps_kv (key, value) VALUES ('client_id', 'back')");
    has(&s.start_null(), r#""client_id":"back""#);
    s.cases
}

/// A successful `start` replaces an active iteration silently, at any stage.
fn y4_start_replaces() -> usize {
    let mut s = new("y4_start_replaces");
    downloaded(&mut s, Enc::Json, None, None);
    let r = s.start_null();
    lacks(&r, "CloseSyncStream");
    has(&r, r#"{"connected":false,"connecting":true"#);
    s.json(cp(2, None, vec![bucket("a", 3, None, Some(2))])).unwrap();
    has(&s.json(complete(2)), "DidCompleteSync");
    s.cases
}

// ---------------------------------------------------------------------------------------
// Y5 / Y6: the disconnected status before every CloseSyncStream

fn y5_refreshed_token() -> usize {
    let mut s = new("y5_refreshed_token");
    s.start_null().unwrap();
    let r = s.cmd("refreshed_token");
    has(&r, DISCONNECTED);
    has(&r, r#"{"CloseSyncStream":{"hide_disconnect":true}}"#);
    downloaded(&mut s, Enc::Json, None, None);
    has(&s.cmd("refreshed_token"), r#""downloading":null"#);
    fails(&s.cmd("refreshed_token"), 21);
    s.cases
}

fn y5_token_expired(enc: Enc) -> usize {
    let mut s = new_enc("y5_token_expired", enc);
    for t in [0, -1] {
        s.start_null().unwrap();
        s.ctl("connection", "established").unwrap();
        let r = s.send(enc, token(t));
        has(
            &r,
            r#"[{"FetchCredentials":{"did_expire":true}},{"UpdateSyncStatus""#,
        );
        has(&r, r#"{"CloseSyncStream":{"hide_disconnect":false}}]"#);
    }
    s.cases
}

fn y5_checksum_failures(enc: Enc) -> usize {
    let mut s = new_enc("y5_checksum_failures", enc);
    // Full checkpoint.
    s.start_null().unwrap();
    s.send(enc, cp(1, None, vec![bucket("a", 5, None, Some(1))]))
        .unwrap();
    s.send(enc, data_line("a", json!([put(1, "r1", 4, r#"{"col":"1"}"#)])))
        .unwrap();
    let r = s.send(enc, complete(1));
    has(&r, "Could not apply checkpoint, Checksums didn't match, failed for: a (expected 0x00000005, got 0x00000004 = 0x00000004 (op) + 0x00000000 (add))");
    has(&r, DISCONNECTED);
    // Partial checkpoint (Y6: worded like the full one).
    s.start_null().unwrap();
    s.send(
        enc,
        cp(
            1,
            None,
            vec![bucket("a", 5, Some(1), None), bucket("b", 1, None, None)],
        ),
    )
    .unwrap();
    let r = s.send(enc, partial(1, 1));
    has(&r, "Could not apply checkpoint, Checksums didn't match, failed for: a (expected 0x00000005, got 0x00000000 = 0x00000000 (op) + 0x00000000 (add))");
    lacks(&r, "partial checkpoint");
    has(&r, DISCONNECTED);
    // Partial at priority 0 with a pending local write.
    s.start_null().unwrap();
    s.send(enc, cp(1, None, vec![bucket("z", 9, Some(0), None)]))
        .unwrap();
    local_insert(&mut s, "l1");
    has(&s.send(enc, partial(1, 0)), "failed for: z (expected 0x00000009");
    s.cases
}

/// Subscription changes that reopen the stream: `update_subscriptions` and the keepalive.
fn y5_subscription_changes() -> usize {
    let mut s = new("y5_subscription_changes");
    s.start(json!({"active_streams": []})).unwrap();
    s.ctl("subscriptions", subscribe("s", None, Some(3600), None))
        .unwrap();
    let r = s.ctl("update_subscriptions", json!([{"name": "s"}]));
    has(&r, DISCONNECTED);
    has(&r, r#"{"CloseSyncStream":{"hide_disconnect":true}}"#);
    s.start(json!({"active_streams": [{"name": "s"}]})).unwrap();
    s.json(cp(1, None, vec![])).unwrap();
    empty(&s.ctl("update_subscriptions", json!([{"name": "s"}])));
    // Unsubscribed: no longer an explicit subscription, so the request changes.
    s.ctl("subscriptions", json!({"unsubscribe": {"name": "s"}}))
        .unwrap();
    has(
        &s.ctl("update_subscriptions", json!([])),
        r#"{"CloseSyncStream":{"hide_disconnect":true}}"#,
    );
    s.cases
}

fn y5_keepalive_expiry() -> usize {
    let mut s = new("y5_keepalive_expiry");
    s.ctl("subscriptions", subscribe("s", None, Some(3600), None))
        .unwrap();
    s.start(json!({"active_streams": []})).unwrap();
    s.json(cp(1, None, vec![bucket("a", 0, None, Some(4))])).unwrap();
    empty(&s.json(token(3600)));
    s.sql("UPDATE ps_stream_subscriptions SET expires_at = 1000");
    let r = s.json(token(3600));
    has(&r, r#""downloading":null"#);
    has(&r, r#"{"CloseSyncStream":{"hide_disconnect":true}}"#);
    s.cases
}

fn y5_stop_and_end() -> usize {
    let mut s = new("y5_stop_and_end");
    for op in ["stop", "connection"] {
        s.start_null().unwrap();
        let r = if op == "stop" {
            s.cmd("stop")
        } else {
            s.ctl("connection", "end")
        };
        has(&r, DISCONNECTED);
        has(&r, r#"{"CloseSyncStream":{"hide_disconnect":false}}"#);
    }
    empty(&s.cmd("stop"));
    s.cases
}

// ---------------------------------------------------------------------------------------
// Y7: which events mark the stream connected

/// Each event alone, right after `start`: does the status flip to connected?
fn y7_events(enc: Enc) -> usize {
    let mut s = new_enc("y7_events", enc);
    // A data line does not.
    s.start_null().unwrap();
    empty(&s.send(enc, data_line("a", json!([put(1, "r1", 1, r#"{"col":"1"}"#)]))));
    // update_subscriptions without a change does not.
    empty(&s.ctl("update_subscriptions", json!([])));
    // completed_upload does not.
    empty(&s.cmd("completed_upload"));
    // A failed line does not.
    failed(&s.send(enc, complete(1)));
    has(&s.ctl("connection", "established"), CONNECTED);
    for line in [
        token(3600),
        token(10),
        json!({"unknown_line": {"x": 1}}),
        cp(1, None, vec![]),
    ] {
        s.start_null().unwrap();
        has(&s.send(enc, line), CONNECTED);
    }
    // After data lines, a checkpoint connects; then a diff.
    s.start_null().unwrap();
    empty(&s.send(enc, data_line("a", json!([put(2, "r2", 2, r#"{"col":"2"}"#)]))));
    has(
        &s.send(enc, cp(2, None, vec![bucket("a", 3, None, None)])),
        CONNECTED,
    );
    s.send(enc, diff(3, None, vec![bucket("b", 0, None, None)], &[]))
        .unwrap();
    s.cases
}

/// Applied complete / partial lines and `completed_upload` leave the flag as it is: reached
/// through `connection established`, then lines that apply.
fn y7_applies_keep_the_flag() -> usize {
    let mut s = new("y7_applies_keep_the_flag");
    downloaded(&mut s, Enc::Json, Some(1), None);
    has(&s.json(partial(2, 1)), CONNECTED);
    has(&s.json(complete(2)), "DidCompleteSync");
    // A blocked partial marks connected (already so here).
    local_insert(&mut s, "l1");
    s.json(cp(3, None, vec![bucket("a", 3, Some(1), Some(2))]))
        .unwrap();
    has(&s.json(partial(3, 1)), DELAYED);
    s.cases
}

// ---------------------------------------------------------------------------------------
// Y8: per-bucket progress reset

/// `a` and `b` both count 10 with 5 downloaded; the reconnect shrinks `b` to 2: only `b`'s
/// counters are zeroed (in memory and in `ps_buckets`).
fn y8_per_bucket_reset(enc: Enc) -> usize {
    let mut s = new_enc("y8_per_bucket_reset", enc);
    // As left by an interrupted download (checkpoint lines alone create no bucket rows).
    s.sql("INSERT INTO ps_buckets (name, count_at_last, count_since_last) VALUES ('a', 10, 5), ('b', 10, 5)");
    s.start_null().unwrap();
    let counts = "SELECT name, count_at_last, count_since_last FROM ps_buckets ORDER BY name";
    let r = s.send(
        enc,
        cp(
            2,
            None,
            vec![bucket("a", 0, None, Some(20)), bucket("b", 0, None, Some(2))],
        ),
    );
    has(
        &r,
        r#""prio_3":{"priority":3,"at_last":0,"since_last":5,"target_count":12}"#,
    );
    s.query(counts);
    // The same checkpoint again: the progress shows the same, but the bucket no longer
    // needs a reset, which the reference counts as a change of status.
    s.send(
        enc,
        cp(
            2,
            None,
            vec![bucket("a", 0, None, Some(20)), bucket("b", 0, None, Some(2))],
        ),
    )
    .unwrap();
    empty(&s.send(
        enc,
        cp(
            2,
            None,
            vec![bucket("a", 0, None, Some(20)), bucket("b", 0, None, Some(2))],
        ),
    ));
    // A diff shrinking `a`.
    s.send(enc, diff(3, None, vec![bucket("a", 0, None, Some(1))], &[]))
        .unwrap();
    s.query(counts);
    s.cases
}

/// Negative and missing counts; buckets without a row are never reset.
fn y8_edge_counts() -> usize {
    let mut s = new("y8_edge_counts");
    s.sql("INSERT INTO ps_buckets (name, count_at_last, count_since_last) VALUES ('a', 0, 0), ('b', 2, 1)");
    s.start_null().unwrap();
    s.json(cp(
        2,
        None,
        vec![
            bucket("a", 0, None, Some(-1)),
            bucket("b", 0, Some(1), None),
            bucket("new", 0, None, Some(-2)),
        ],
    ))
    .unwrap();
    s.query("SELECT name, count_at_last, count_since_last FROM ps_buckets ORDER BY name");
    s.cases
}

// ---------------------------------------------------------------------------------------
// Y9 / Y10: the pending checkpoint

/// Blocked with write checkpoint 3; a newer target skips without dropping it; once the
/// target is lowered to 3 the same pending checkpoint is applied.
fn y9_newer_target_keeps_pending() -> usize {
    let mut s = new("y9_newer_target_keeps_pending");
    downloaded(&mut s, Enc::Json, None, Some(3));
    local_insert(&mut s, "l1");
    has(&s.json(complete(2)), DELAYED);
    s.sql("DELETE FROM ps_crud");
    empty(&s.cmd("completed_upload"));
    s.ctl("target_checkpoint_request_id", Payload::Int(4)).unwrap();
    empty(&s.cmd("completed_upload"));
    s.ctl("target_checkpoint_request_id", Payload::Int(3)).unwrap();
    let r = s.cmd("completed_upload");
    has(&r, "Applied pending checkpoint after completed upload");
    has(&r, r#"{"DidCompleteSync":{"applied_checkpoint_request_id":"3"}}"#);
    items(&mut s);
    empty(&s.cmd("completed_upload"));
    s.cases
}

/// The gate still closed: a warning and the checkpoint stays pending; after the queue is
/// emptied the next `completed_upload` applies it.
fn y9_retry_after_warning() -> usize {
    let mut s = new("y9_retry_after_warning");
    downloaded(&mut s, Enc::Json, None, None);
    local_insert(&mut s, "l1");
    has(&s.json(complete(2)), DELAYED);
    // Without a target the queue alone blocks.
    s.ctl("target_checkpoint_request_id", Payload::Int(0)).unwrap();
    has(&s.cmd("completed_upload"), UPLOAD_WARNING);
    has(&s.cmd("completed_upload"), UPLOAD_WARNING);
    s.sql("DELETE FROM ps_crud");
    let r = s.cmd("completed_upload");
    has(
        &r,
        r#"[{"LogLine":{"severity":"DEBUG","line":"Applied pending checkpoint after completed upload"}},{"DidCompleteSync":{}},{"UpdateSyncStatus""#,
    );
    items(&mut s);
    s.cases
}

/// A checksum failure in `completed_upload` (data arrived after the checkpoint was
/// deferred) deletes the bucket and warns; the checkpoint stays pending.
fn y9_checksum_failure_keeps_pending() -> usize {
    let mut s = new("y9_checksum_failure_keeps_pending");
    downloaded(&mut s, Enc::Json, None, None);
    local_insert(&mut s, "l1");
    has(&s.json(complete(2)), DELAYED);
    s.json(data_line("a", json!([put(3, "r3", 4, r#"{"col":"3"}"#)])))
        .unwrap();
    uploaded(&mut s);
    has(&s.cmd("completed_upload"), UPLOAD_WARNING);
    s.query("SELECT name FROM ps_buckets ORDER BY name");
    has(&s.cmd("completed_upload"), UPLOAD_WARNING);
    s.cases
}

/// Blocked full checkpoint, then `partial_checkpoint_complete` at priority 0 applied: the
/// pending checkpoint is gone, so `completed_upload` with the gate open does nothing and the
/// priority-3 rows wait for the next checkpoint.
fn y10_partial_apply_clears_pending(enc: Enc) -> usize {
    let mut s = new_enc("y10_partial_apply_clears_pending", enc);
    s.start_null().unwrap();
    s.send(
        enc,
        cp(
            2,
            None,
            vec![bucket("hi", 1, Some(0), None), bucket("lo", 2, None, None)],
        ),
    )
    .unwrap();
    s.send(enc, data_line("hi", json!([put(1, "h", 1, r#"{"col":"h"}"#)])))
        .unwrap();
    s.send(enc, data_line("lo", json!([put(2, "l", 2, r#"{"col":"l"}"#)])))
        .unwrap();
    local_insert(&mut s, "l1");
    has(&s.send(enc, complete(2)), DELAYED);
    has(&s.send(enc, partial(2, 0)), r#""priority":0"#);
    uploaded(&mut s);
    empty(&s.cmd("completed_upload"));
    items(&mut s);
    s.send(
        enc,
        cp(
            2,
            None,
            vec![bucket("hi", 1, Some(0), None), bucket("lo", 2, None, None)],
        ),
    )
    .unwrap();
    has(&s.send(enc, complete(2)), "DidCompleteSync");
    items(&mut s);
    s.cases
}

/// A full apply by `checkpoint_complete` clears the pending checkpoint; a new checkpoint
/// line discards it too.
fn y10_full_apply_and_new_checkpoint() -> usize {
    let mut s = new("y10_full_apply_and_new_checkpoint");
    downloaded(&mut s, Enc::Json, None, None);
    local_insert(&mut s, "l1");
    has(&s.json(complete(2)), DELAYED);
    uploaded(&mut s);
    has(&s.json(complete(2)), "DidCompleteSync");
    empty(&s.cmd("completed_upload"));
    local_insert(&mut s, "l2");
    has(&s.json(complete(2)), DELAYED);
    s.json(cp(2, None, vec![bucket("a", 3, None, Some(2))])).unwrap();
    uploaded(&mut s);
    empty(&s.cmd("completed_upload"));
    s.cases
}

// ---------------------------------------------------------------------------------------
// Y11: the progress statement on a database without ps_buckets

/// Every command, and the offline status, fail naming the progress statement until
/// `powersync_init()` has run; then the same commands work.
fn y11_uninitialised() -> usize {
    let (ours, reference) = common::both("uninitialised");
    let mut cases = 0;
    let run = |c: &rusqlite::Connection, sql: &str, op: &Option<(&str, Payload)>| match op {
        Some((op, payload)) => normalize_result(&call(c, op, payload)),
        None => common::raw_eval(c, sql).map(|v| match v {
            rusqlite::types::Value::Text(t) => Json::String(normalize_text(&t)),
            other => Json::String(format!("{other:?}")),
        }),
    };
    let mut compare = |sql: &str, op: Option<(&str, Payload)>| {
        let request = match &op {
            Some((op, payload)) => format!("{op} {}", payload.key()),
            None => sql.to_string(),
        };
        let ours_result = run(&ours, sql, &op);
        let theirs = reference.ask("call", &request, |c| run(c, sql, &op));
        assert_eq!(ours_result, theirs, "{sql} {op:?}");
        cases += 1;
        ours_result
    };
    let ops: Vec<(&str, Payload)> = vec![
        ("start", Payload::Null),
        ("stop", Payload::Null),
        ("line_text", Payload::Text(token(60).to_string())),
        ("completed_upload", Payload::Null),
        (
            "subscriptions",
            Payload::Text(subscribe("s", None, None, None).to_string()),
        ),
        ("target_checkpoint_request_id", Payload::Null),
    ];
    for (op, payload) in &ops {
        let r = compare("", Some((*op, payload.clone())));
        if *op != "line_text" || r.is_err() {
            assert!(
                matches!(&r, Err((1, m)) if m.contains("SELECT id, name, count_at_last, count_since_last FROM ps_buckets")),
                "{op}: {r:?}"
            );
        }
    }
    let r = compare("SELECT powersync_offline_sync_status()", None);
    assert!(r.is_err(), "{r:?}");
    let init = |c: &rusqlite::Connection| {
        c.execute_batch("BEGIN").unwrap();
        c.query_row("SELECT powersync_init()", [], |_| Ok(())).unwrap();
        c.execute("UPDATE ps_kv SET value = ?1 WHERE key = 'client_id'", [CLIENT_ID])
            .unwrap();
        c.execute_batch("COMMIT").unwrap();
    };
    init(&ours);
    reference.ask("init", CLIENT_ID, init);
    for (op, payload) in &ops {
        compare("", Some((*op, payload.clone()))).ok();
    }
    compare("SELECT powersync_offline_sync_status()", None).unwrap();
    cases
}

// ---------------------------------------------------------------------------------------

#[test]
fn y1_checkpoint_delayed_due_to_local_data() {
    run_suite(
        "sync_sessions_054/Y1",
        &[
            ("full_blocked_json", || y1_full_blocked(Enc::Json)),
            ("full_blocked_bson", || y1_full_blocked(Enc::Bson)),
            ("partial_blocked_json", || y1_partial_blocked(Enc::Json)),
            ("partial_blocked_bson64", || y1_partial_blocked(Enc::Bson64)),
            ("not_from_completed_upload", y1_not_from_completed_upload),
        ],
    );
}

#[test]
fn y2_priority_zero_despite_local_data() {
    run_suite(
        "sync_sessions_054/Y2",
        &[
            ("all_priority_zero_json", || y2_all_priority_zero(Enc::Json)),
            ("all_priority_zero_bson", || y2_all_priority_zero(Enc::Bson)),
            ("not_all_priority_zero", y2_not_all_priority_zero),
            ("completed_upload_and_streams", y2_completed_upload_and_streams),
        ],
    );
}

#[test]
fn y3_errors_keep_the_iteration() {
    run_suite(
        "sync_sessions_054/Y3",
        &[
            ("protocol_errors_json", || y3_protocol_errors(Enc::Json)),
            ("protocol_errors_bson", || y3_protocol_errors(Enc::Bson)),
            ("apply_errors", y3_apply_errors),
            ("completed_upload_error", y3_completed_upload_error),
            ("subscription_errors", y3_subscription_errors),
            ("failure_after_streams_synced", y3_failure_after_streams_synced),
        ],
    );
}

#[test]
fn y4_failed_start_keeps_the_iteration() {
    run_suite(
        "sync_sessions_054/Y4",
        &[
            ("failed_start", y4_failed_start),
            ("start_replaces", y4_start_replaces),
        ],
    );
}

#[test]
fn y5_y6_disconnected_status_before_close() {
    run_suite(
        "sync_sessions_054/Y5+Y6",
        &[
            ("refreshed_token", y5_refreshed_token),
            ("token_expired_json", || y5_token_expired(Enc::Json)),
            ("token_expired_bson", || y5_token_expired(Enc::Bson)),
            ("checksum_failures_json", || y5_checksum_failures(Enc::Json)),
            ("checksum_failures_bson", || y5_checksum_failures(Enc::Bson)),
            ("subscription_changes", y5_subscription_changes),
            ("keepalive_expiry", y5_keepalive_expiry),
            ("stop_and_end", y5_stop_and_end),
        ],
    );
}

#[test]
fn y7_connected_events() {
    run_suite(
        "sync_sessions_054/Y7",
        &[
            ("events_json", || y7_events(Enc::Json)),
            ("events_bson", || y7_events(Enc::Bson)),
            ("applies_keep_the_flag", y7_applies_keep_the_flag),
        ],
    );
}

#[test]
fn y8_progress_reset_per_bucket() {
    run_suite(
        "sync_sessions_054/Y8",
        &[
            ("per_bucket_reset_json", || y8_per_bucket_reset(Enc::Json)),
            ("per_bucket_reset_bson", || y8_per_bucket_reset(Enc::Bson)),
            ("edge_counts", y8_edge_counts),
        ],
    );
}

#[test]
fn y9_y10_pending_checkpoint() {
    run_suite(
        "sync_sessions_054/Y9+Y10",
        &[
            ("newer_target_keeps_pending", y9_newer_target_keeps_pending),
            ("retry_after_warning", y9_retry_after_warning),
            (
                "checksum_failure_keeps_pending",
                y9_checksum_failure_keeps_pending,
            ),
            ("partial_apply_clears_pending_json", || {
                y10_partial_apply_clears_pending(Enc::Json)
            }),
            ("partial_apply_clears_pending_bson", || {
                y10_partial_apply_clears_pending(Enc::Bson)
            }),
            ("full_apply_and_new_checkpoint", y10_full_apply_and_new_checkpoint),
        ],
    );
}

#[test]
fn y11_progress_statement() {
    run_suite("sync_sessions_054/Y11", &[("uninitialised", y11_uninitialised)]);
}
