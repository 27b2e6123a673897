//! Differential sync sessions: identical `powersync_control` calls into ours and the
//! reference, instructions and tables compared after every call.
use crate::common;
use crate::sync_common;

use serde_json::json;
use sync_common::*;

fn session(name: &str) -> Session {
    Session::new(name, ITEMS_SCHEMA)
}

/// Reports the session's compared steps (each session is its own suite, so that one
/// failing session does not hide the others).
fn finish(s: &Session) {
    common::report(&format!("sync_differential/{}", s.name), s.cases);
}

#[test]
fn initial_sync() {
    let mut s = session("initial_sync");
    s.control("start", Payload::Null).unwrap();
    s.line(checkpoint(3, None, &[("a", 12, 3, Some(2)), ("b", 0, 3, None)]))
        .unwrap();
    s.line(json!({"token_expires_in": 60})).unwrap();
    s.line(data_line(
        "a",
        json!([
            put(1, "r1", 5, r#"{"col":"one"}"#),
            put(3, "r2", 7, r#"{"col":"two"}"#)
        ]),
    ))
    .unwrap();
    s.line(complete(3)).unwrap();
    s.control("stop", Payload::Null).unwrap();
    s.control("stop", Payload::Null).unwrap();
    finish(&s);
}

#[test]
fn incremental() {
    let mut s = session("incremental");
    s.control("start", json!({"parameters": {"b": 1, "a": [1, 2.0]}}))
        .unwrap();
    s.line(checkpoint(2, None, &[("a", 12, 3, Some(2))])).unwrap();
    s.line(data_line(
        "a",
        json!([
            put(1, "r1", 5, r#"{"col":"one"}"#),
            put(2, "r2", 7, r#"{"col":"two"}"#)
        ]),
    ))
    .unwrap();
    s.line(complete(2)).unwrap();
    // Diff: r1 updated, r2 removed, a new bucket.
    s.line(json!({"checkpoint_diff": {"last_op_id": "5", "updated_buckets": [{"bucket": "a", "checksum": 12 + 11 + 13, "priority": 3, "count": 4}, {"bucket": "c", "checksum": 0}], "removed_buckets": [], "write_checkpoint": null}})).unwrap();
    s.line(data_line(
        "a",
        json!([put(4, "r1", 11, r#"{"col":"uno"}"#), remove(5, "r2", 13)]),
    ))
    .unwrap();
    s.line(complete(5)).unwrap();
    s.line(json!({"checkpoint_diff": {"last_op_id": "5", "updated_buckets": [], "removed_buckets": [], "write_checkpoint": null}})).unwrap();
    s.line(json!({"checkpoint_diff": {"last_op_id": "6", "updated_buckets": [], "removed_buckets": ["a"]}}))
        .unwrap();
    s.line(complete(6)).unwrap();
    s.control("connection", "end").unwrap();
    // Reconnect: buckets with `after`.
    s.control("start", Payload::Null).unwrap();
    s.control("connection", "established").unwrap();
    s.control("connection", "established").unwrap();
    s.line(json!({"checkpoint": {"last_op_id": "6", "buckets": []}}))
        .unwrap();
    finish(&s);
}

#[test]
fn priorities() {
    let mut s = session("priorities");
    s.control("start", Payload::Null).unwrap();
    s.line(checkpoint(
        4,
        None,
        &[
            ("hi", 5, 0, Some(1)),
            ("mid", 7, 1, Some(1)),
            ("lo", 9, 3, Some(2)),
        ],
    ))
    .unwrap();
    s.line(data_line("hi", json!([put(1, "h", 5, r#"{"col":"h"}"#)])))
        .unwrap();
    s.line(partial(4, 0)).unwrap();
    s.line(data_line("mid", json!([put(2, "m", 7, r#"{"col":"m"}"#)])))
        .unwrap();
    s.line(partial(4, 1)).unwrap();
    s.line(data_line(
        "lo",
        json!([
            put(3, "l", 4, r#"{"col":"l"}"#),
            put(4, "l2", 5, r#"{"col":"l2"}"#)
        ]),
    ))
    .unwrap();
    s.line(partial(4, 2)).unwrap();
    s.line(complete(4)).unwrap();
    s.line(partial(4, 1)).unwrap();
    s.control("stop", Payload::Null).unwrap();
    s.control("start", Payload::Null).unwrap();
    finish(&s);
}

#[test]
fn write_gate() {
    let mut s = session("write_gate");
    s.control("start", json!({"checkpoint_mode": "requests"}))
        .unwrap();
    s.line(checkpoint(1, None, &[("a", 5, 3, Some(1))])).unwrap();
    s.line(data_line("a", json!([put(1, "r1", 5, r#"{"col":"one"}"#)])))
        .unwrap();
    // Simulate a local write: queue entry plus MAX target.
    s.sql("INSERT INTO ps_crud (data, tx_id) VALUES ('{}', 1); INSERT OR REPLACE INTO ps_kv VALUES ('target_checkpoint_request_id', 9223372036854775807)");
    s.line(complete(1)).unwrap();
    s.control("completed_upload", Payload::Null).unwrap();
    s.line(checkpoint(2, Some(1), &[("a", 5, 3, Some(1))])).unwrap();
    s.line(complete(2)).unwrap();
    s.sql("DELETE FROM ps_crud");
    s.control("target_checkpoint_request_id", Payload::Int(1))
        .unwrap();
    s.control("completed_upload", Payload::Null).unwrap();
    s.control("completed_upload", Payload::Null).unwrap();
    s.control("seed_checkpoint_request_id", Payload::Int(3)).unwrap();
    s.control("next_checkpoint_request_id", Payload::Null).unwrap();
    s.control("current_checkpoint_request_id", Payload::Null).unwrap();
    s.control("stop", Payload::Null).unwrap();
    s.control("start", json!({"checkpoint_mode": "requests"}))
        .unwrap();
    finish(&s);
}

#[test]
fn checksum_failure() {
    let mut s = session("checksum_failure");
    s.control("start", Payload::Null).unwrap();
    s.line(checkpoint(2, None, &[("a", 1234, 3, None), ("b", 3, 3, None)]))
        .unwrap();
    s.line(data_line("a", json!([put(1, "r1", 4321, r#"{"col":"one"}"#)])))
        .unwrap();
    s.line(data_line("b", json!([put(2, "r2", 3, r#"{"col":"two"}"#)])))
        .unwrap();
    s.line(complete(2)).unwrap();
    s.control("start", Payload::Null).unwrap();
    s.line(checkpoint(2, None, &[("a", 1234, 1, None), ("b", 3, 3, None)]))
        .unwrap();
    s.line(data_line("a", json!([put(1, "r1", -5, r#"{"col":"one"}"#)])))
        .unwrap();
    s.line(partial(2, 1)).unwrap();
    finish(&s);
}

#[test]
fn token_expiry() {
    let mut s = session("token_expiry");
    for t in [31, 30, 1, 0] {
        s.control("start", Payload::Null).unwrap();
        s.line(json!({"token_expires_in": t})).unwrap();
    }
    s.control("start", Payload::Null).unwrap();
    s.line(json!({"token_expires_in": -5})).unwrap();
    s.control("start", Payload::Null).unwrap();
    s.control("refreshed_token", Payload::Null).unwrap();
    let _ = s.control("refreshed_token", Payload::Null);
    finish(&s);
}

#[test]
fn errors() {
    let mut s = session("errors");
    let _ = s.control("bogus", Payload::Null);
    let _ = s.control("line_text", Payload::Null);
    let _ = s.control("line_text", "{}");
    let _ = s.control("line_binary", "x");
    let _ = s.control("connection", "x");
    let _ = s.control("refreshed_token", Payload::Null);
    let _ = s.control("start", "null");
    let _ = s.control("start", r#"{"parameters": [1]}"#);
    let _ = s.control("start", r#"{"checkpoint_mode": "x"}"#);
    let _ = s.control("seed_checkpoint_request_id", Payload::Int(1));
    let _ = s.control("next_checkpoint_request_id", Payload::Null);
    s.control("start", Payload::Null).unwrap();
    let _ = s.control("next_checkpoint_request_id", Payload::Null);
    let _ = s.control("seed_checkpoint_request_id", Payload::Int(0));
    let _ = s.control("seed_checkpoint_request_id", "abc");
    let _ = s.control("target_checkpoint_request_id", Payload::Int(-1));
    let _ = s.control("target_checkpoint_request_id", "+0007");
    let _ = s.control("target_checkpoint_request_id", Payload::Null);
    let _ = s.control("line_text", Payload::Int(1));
    let _ = s.control("line_text", json!({"checkpoint_complete": {}}));
    let _ = s.control("stop", Payload::Null);
    s.control("start", Payload::Null).unwrap();
    let _ = s.control(
        "line_text",
        json!({"partial_checkpoint_complete": {"last_op_id": "1", "priority": 1}}),
    );
    s.control("start", Payload::Null).unwrap();
    let _ = s.control(
        "line_text",
        json!({"checkpoint_diff": {"last_op_id": "1", "updated_buckets": [], "removed_buckets": []}}),
    );
    s.control("start", Payload::Null).unwrap();
    let _ = s.line(json!({"whatever": 1}));
    let _ = s.control_with("line_text", "{", ErrorMatch::UpToCause);
    let _ = s.control("stop", Payload::Null);
    finish(&s);
}

#[test]
fn streams() {
    let mut s = session("streams");
    s.control(
        "subscriptions",
        json!({"subscribe": {"stream": {"name": "s", "params": {"x": 1}}, "priority": 1}}),
    )
    .unwrap();
    s.control(
        "subscriptions",
        r#"{"subscribe":{"stream":{"name":"s","params":{ "x" : 1 }},"ttl":3600}}"#,
    )
    .unwrap();
    s.control(
        "subscriptions",
        json!({"subscribe": {"stream": {"name": "t"}, "ttl": 3600}}),
    )
    .unwrap();
    s.control(
        "start",
        json!({"active_streams": [{"name": "t"}], "include_defaults": false, "app_metadata": {"k": "v"}}),
    )
    .unwrap();
    s.line(json!({"checkpoint": {"last_op_id": "1", "buckets": [
        {"bucket": "a", "checksum": 0, "priority": 1, "count": 2, "subscriptions": [{"sub": 0}, {"default": 1}]},
        {"bucket": "b", "checksum": 0, "subscriptions": [{"sub": 1}, {"default": 0}]}],
        "streams": [{"name": "s", "is_default": false, "errors": [{"subscription": 0, "message": "bad"}, {"subscription": 2, "message": "bad2"}]},
                    {"name": "d", "is_default": true, "errors": [{"subscription": "default", "message": "oops"}]}]}})).unwrap();
    s.line(data_line("a", json!([put(1, "x", 0, r#"{"col":"x"}"#)])))
        .unwrap();
    s.line(partial(1, 1)).unwrap();
    s.line(complete(1)).unwrap();
    s.control("subscriptions", json!({"unsubscribe": {"name": "t"}}))
        .unwrap();
    s.control("update_subscriptions", json!([{"name": "t"}])).unwrap();
    let _ = s.control("update_subscriptions", json!([]));
    s.control(
        "start",
        json!({"active_streams": [{"name": "s", "params": {"x": 1}}]}),
    )
    .unwrap();
    s.line(json!({"token_expires_in": 100})).unwrap();
    // Expiry without the clock: whether a TTL-0 row refreshed in one call is already outdated
    // in the cleanup of the same call depends on whether a millisecond passed in between (in
    // the reference too), so the stream leaves the active set first, and once stored with
    // TTL 0 the row is moved into the past through SQL.
    s.control("update_subscriptions", json!([])).unwrap();
    s.control(
        "subscriptions",
        json!({"subscribe": {"stream": {"name": "s", "params": {"x": 1}}, "ttl": 0}}),
    )
    .unwrap();
    s.sql("UPDATE ps_stream_subscriptions SET expires_at = 1000 WHERE ttl = 0");
    s.line(json!({"token_expires_in": 100})).unwrap();
    s.control("start", Payload::Null).unwrap();
    s.line(json!({"checkpoint": {"last_op_id": "1", "buckets": [], "streams": []}}))
        .unwrap();
    s.control("subscriptions", json!({"subscribe": {"stream": {"name": "z"}}}))
        .unwrap();
    s.control("update_subscriptions", json!([])).unwrap();
    finish(&s);
}

#[test]
fn bucket_ops() {
    let mut s = session("bucket_ops");
    s.control("start", Payload::Null).unwrap();
    s.line(checkpoint(
        9,
        None,
        &[("a", 3573495741, 3, Some(9)), ("u", 0, 3, None)],
    ))
    .unwrap();
    s.line(data_line("a", json!([
        put(1, "r1", 5, r#"{"col":"a"}"#), put(2, "r2", 7, r#"{"col":"b"}"#), put(3, "r1", 11, r#"{"col":"c"}"#),
        remove(4, "r2", 13), {"op_id": "5", "op": "MOVE", "checksum": 17},
        {"op_id": "6", "op": "PUT", "object_type": "other", "object_id": "o1", "checksum": 3573495687u64, "data": "{\"z\":1}"},
        {"op_id": "7", "op": "PUT", "object_type": "local_stuff", "object_id": "l1", "checksum": -1, "data": "{\"x\":1}"},
        {"op_id": "8", "op": "PUT", "object_type": "items", "object_id": "nodata", "checksum": 1},
        // (A PUT without object_type/object_id makes the reference fail every later apply
        // with "another row available"; we skip such rows instead — see the report.)
        {"op_id": "9", "op": "MOVE", "checksum": 1}
    ]))).unwrap();
    s.line(data_line("u", json!([]))).unwrap();
    s.line(data_line("untracked", json!([put(1, "q", 1, "{}")])))
        .unwrap();
    s.line(complete(9)).unwrap();
    s.line(checkpoint(10, None, &[("a", 42, 3, Some(10))])).unwrap();
    s.line(data_line(
        "a",
        json!([{"op_id": "10", "op": "CLEAR", "checksum": 42}]),
    ))
    .unwrap();
    s.line(complete(10)).unwrap();
    finish(&s);
}

#[test]
fn bson_lines() {
    let mut s = session("bson_lines");
    s.control("start", Payload::Null).unwrap();
    s.bson_line(checkpoint(
        3,
        Some(2),
        &[("a", 12, 3, Some(2)), ("b", 0, 1, None)],
    ))
    .unwrap();
    s.bson_line(json!({"token_expires_in": 60})).unwrap();
    s.bson_line(data_line(
        "a",
        json!([
            put(1, "r1", 5, r#"{"col":"one"}"#),
            put(3, "r2", 7, r#"{"col":"two"}"#)
        ]),
    ))
    .unwrap();
    s.bson_line(json!({"something_new": {"x": 1}})).unwrap();
    s.bson_line(partial(3, 1)).unwrap();
    s.bson_line(complete(3)).unwrap();
    // Trailing bytes after the document are ignored.
    let mut bytes = to_bson(
        &json!({"checkpoint_diff": {"last_op_id": "4", "updated_buckets": [], "removed_buckets": ["b"]}}),
    );
    bytes.extend_from_slice(b"trailing");
    s.control("line_binary", Payload::Blob(bytes)).unwrap();
    let _ = s.control_with(
        "line_binary",
        Payload::Blob(vec![5, 0, 0, 0, 0]),
        ErrorMatch::UpToCause,
    );
    finish(&s);
}

const RAW_SCHEMA: &str = r#"{"tables":[{"name":"items","columns":[{"name":"col","type":"text"}]}],"raw_tables":[
 {"name":"users","put":{"sql":"INSERT OR REPLACE INTO users (id, name, age, extra) VALUES (?, ?, ?, ?)","params":["Id",{"Column":"name"},{"Column":"age"},"Rest"]},
  "delete":{"sql":"DELETE FROM users WHERE id = ?","params":["Id"]}},
 {"name":"lists","table_name":"lists_local"},
 {"name":"items","put":{"sql":"INSERT OR REPLACE INTO items_raw VALUES (?)","params":["Id"]}}]}"#;

#[test]
fn raw_tables() {
    let mut s = Session::new("raw_tables", ITEMS_SCHEMA);
    s.sql("CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT, age, extra TEXT); CREATE TABLE lists_local (id TEXT PRIMARY KEY NOT NULL, title TEXT NOT NULL DEFAULT '', n)");
    // A raw table for `items` wins over ps_data__items (core 0.5.4).
    s.sql("CREATE TABLE items_raw (id TEXT PRIMARY KEY NOT NULL)");
    s.sql("CREATE TRIGGER users_in AFTER INSERT ON users BEGIN INSERT INTO ps_kv VALUES ('in_sync_' || NEW.id, powersync_in_sync_operation()); END");
    let start = format!(r#"{{"schema":{RAW_SCHEMA}}}"#);
    s.control("start", start.as_str()).unwrap();
    let ops = json!([
        {"op_id": "1", "op": "PUT", "object_type": "users", "object_id": "u1", "checksum": 1, "data": "{\"name\":\"A\",\"age\":3,\"z\":true,\"b\":[1]}"},
        {"op_id": "2", "op": "PUT", "object_type": "users", "object_id": "u2", "checksum": 1, "data": "{\"name\":false,\"id\":\"x\"}"},
        {"op_id": "3", "op": "PUT", "object_type": "lists", "object_id": "l1", "checksum": 1, "data": "{\"title\":\"t\",\"n\":1.5,\"other\":1}"},
        {"op_id": "4", "op": "PUT", "object_type": "items", "object_id": "i1", "checksum": 1, "data": "{\"col\":\"i\"}"}
    ]);
    s.line(checkpoint(4, None, &[("a", 4, 3, None)])).unwrap();
    s.line(data_line("a", ops)).unwrap();
    s.line(complete(4)).unwrap();
    s.line(checkpoint(6, None, &[("a", 4 + 2, 3, None)])).unwrap();
    s.line(data_line("a", json!([{"op_id": "5", "op": "REMOVE", "object_type": "users", "object_id": "u1", "checksum": 1}, {"op_id": "6", "op": "REMOVE", "object_type": "lists", "object_id": "l1", "checksum": 1}]))).unwrap();
    s.line(complete(6)).unwrap();
    // Local data that is not a JSON object / not JSON at all.
    s.line(checkpoint(8, None, &[("a", 4 + 2 + 2, 3, None)])).unwrap();
    s.line(data_line("a", json!([{"op_id": "7", "op": "PUT", "object_type": "users", "object_id": "u3", "checksum": 1, "data": "[1]"}, {"op_id": "8", "op": "MOVE", "checksum": 1}]))).unwrap();
    let _ = s.line(complete(8));
    s.control("start", start.as_str()).unwrap();
    s.sql("UPDATE ps_oplog SET data = 'not json' WHERE row_id = 'u3'");
    s.line(checkpoint(8, None, &[("a", 4 + 2 + 2, 3, None)])).unwrap();
    let _ = s.line(complete(8));
    // A failing statement (NOT NULL) carries context.
    s.control("start", start.as_str()).unwrap();
    s.sql("DELETE FROM ps_oplog WHERE row_id = 'u3'");
    s.line(checkpoint(9, None, &[("a", 4 + 2 + 2 + 1, 3, None)]))
        .unwrap();
    s.line(data_line("a", json!([{"op_id": "9", "op": "PUT", "object_type": "lists", "object_id": "l2", "checksum": 1, "data": "{\"title\":null}"}]))).unwrap();
    let _ = s.line(complete(9));
    // Parameter count mismatch.
    let bad = r#"{"schema":{"tables":[],"raw_tables":[{"name":"lists","put":{"sql":"INSERT INTO lists_local (id) VALUES (?)","params":["Id","Rest"]}}]}}"#;
    s.control("start", bad).unwrap();
    s.line(checkpoint(9, None, &[("a", 4 + 2 + 2 + 1, 3, None)]))
        .unwrap();
    let _ = s.line(complete(9));
    finish(&s);
}

#[test]
fn diagnostics() {
    let mut s = session("diagnostics");
    s.control("start", json!({"diagnostics": {}})).unwrap();
    s.line(checkpoint(3, None, &[("b", 0, 3, Some(3)), ("a", 0, 1, Some(1))]))
        .unwrap();
    s.line(data_line(
        "a",
        json!([put(
            1,
            "r1",
            0,
            r#"{"col":1,"r":2.5,"s":"x","n":null,"id":"q","t":true,"after":1}"#
        )]),
    ))
    .unwrap();
    s.line(data_line(
        "b",
        json!([
            put(2, "r2", 0, r#"{"col":"now text","r":1}"#),
            put(3, "r3", 0, r#"{"col":2,"r":"s"}"#)
        ]),
    ))
    .unwrap();
    s.line(data_line("zz", json!([put(4, "r4", 0, "not json")])))
        .unwrap();
    s.line(complete(3)).unwrap();
    finish(&s);
}

#[test]
fn offline_status() {
    let mut s = session("offline_status");
    s.query("SELECT powersync_offline_sync_status()");
    s.control(
        "subscriptions",
        json!({"subscribe": {"stream": {"name": "a", "params": [1]}}}),
    )
    .unwrap();
    s.control("start", Payload::Null).unwrap();
    s.line(checkpoint(1, None, &[("p", 0, 1, None), ("q", 0, 2, None)]))
        .unwrap();
    s.line(partial(1, 2)).unwrap();
    s.line(partial(1, 1)).unwrap();
    s.control("stop", Payload::Null).unwrap();
    let rows = s.query("SELECT json_extract(powersync_offline_sync_status(), '$.priority_status[#-1].priority'), json_extract(powersync_offline_sync_status(), '$.streams[0].name')");
    assert_eq!(rows.len(), 1);
    s.value("SELECT powersync_offline_sync_status()").unwrap();
    assert_eq!(busy_statements(&s.ours), 0);
    assert_eq!(busy_statements(&s.reference), 0);
    finish(&s);
}

#[test]
fn misc() {
    let mut s = session("misc");
    let _ = s.control("subscriptions", Payload::Null);
    let _ = s.control(
        "subscriptions",
        json!({"subscribe": {"stream": {"name": "a"}, "ttl": -1}}),
    );
    let _ = s.control(
        "subscriptions",
        json!({"subscribe": {"stream": {"name": "a"}, "ttl": 1.5}}),
    );
    let _ = s.control(
        "subscriptions",
        json!({"subscribe": {"stream": {"name": "a"}, "priority": 2147483647}}),
    );
    let _ = s.control(
        "subscriptions",
        json!({"subscribe": {"stream": {"name": "a"}, "priority": -1}}),
    );
    let _ = s.control("subscriptions", json!({"bogus": {}}));
    s.control(
        "subscriptions",
        json!({"subscribe": {"stream": {"name": "a"}, "ttl": null, "priority": 5}}),
    )
    .unwrap();
    s.control(
        "subscriptions",
        json!({"subscribe": {"stream": {"name": "a"}, "priority": 7}}),
    )
    .unwrap();
    s.control(
        "subscriptions",
        json!({"subscribe": {"stream": {"name": "a"}, "priority": 2}}),
    )
    .unwrap();
    s.control("subscriptions", json!({"subscribe": {"stream": {"name": "b"}}}))
        .unwrap();
    s.control(
        "subscriptions",
        json!({"subscribe": {"stream": {"name": "b"}, "priority": 1}}),
    )
    .unwrap();
    let _ = s.control("update_subscriptions", Payload::Null);
    s.control(
        "start",
        json!({"parameters": null, "unknown": 1, "diagnostics": null, "app_metadata": null}),
    )
    .unwrap();
    let _ = s.control("update_subscriptions", Payload::Null);
    s.control("start", json!({"schema": {"tables": [], "raw_tables": []}}))
        .unwrap();
    s.line(json!({"checkpoint": {"last_op_id": "1", "buckets": [{"bucket": "x", "checksum": 0, "subscriptions": [{"sub": 0}]}],
        "streams": [{"name": "a", "is_default": false, "errors": [{"subscription": 0, "message": "e"}]}]}})).unwrap();
    s.line(json!({"checkpoint_diff": {"last_op_id": "2", "updated_buckets": [{"bucket": "y", "checksum": 0, "priority": 0, "subscriptions": [{"sub": 1}]}], "removed_buckets": ["nope"], "write_checkpoint": "4"}})).unwrap();
    s.line(complete(2)).unwrap();
    // start while active: the old iteration's instructions are dropped.
    s.control("start", Payload::Null).unwrap();
    s.control("start", Payload::Null).unwrap();
    s.sql("DELETE FROM ps_kv WHERE key = 'client_id'");
    let _ = s.control("start", Payload::Null);
    let _ = s.control("stop", Payload::Null);
    let _ = s.query("SELECT powersync_offline_sync_status() IS NOT NULL");
    finish(&s);
}
