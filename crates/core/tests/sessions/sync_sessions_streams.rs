//! Scripted differential sync sessions: sync streams and subscriptions (subscribe /
//! unsubscribe / ttl / priority, default streams, stream errors, stream priority and
//! progress, `update_subscriptions`, TTL refresh and expiry), and diagnostics.
use crate::sync_common;
use crate::sync_sessions_support;

use serde_json::{json, Value as Json};
use sync_common::*;
use sync_sessions_support::*;

fn new(name: &str) -> Session {
    Session::new(name, ITEMS_SCHEMA)
}

fn subs(s: &mut Session) {
    s.query("SELECT id, stream_name, active, is_default, local_priority, local_params, ttl, expires_at IS NOT NULL, last_synced_at IS NOT NULL FROM ps_stream_subscriptions ORDER BY id");
}

fn sub(s: &mut Session, payload: Json) {
    assert_eq!(s.ctl("subscriptions", payload), Ok(Json::Null));
}

/// A checkpoint with stream descriptions and bucket reasons.
fn stream_cp(last_op_id: i64, buckets: Json, streams: Json) -> Json {
    json!({"checkpoint": {"last_op_id": last_op_id.to_string(), "buckets": buckets, "streams": streams}})
}

/// Upserts: ttl default and overwrite, priority can only decrease and stays NULL; textual
/// params matching; unsubscribe; the request lists explicit subscriptions verbatim.
fn subscribe_upserts() -> usize {
    let mut s = new("subscribe_upserts");
    sub(&mut s, subscribe("a", Some(json!({"x": 1})), Some(3600), Some(2)));
    sub(&mut s, subscribe("a", Some(json!({"x": 1})), Some(5000), Some(3)));
    subs(&mut s);
    sub(&mut s, subscribe("a", Some(json!({"x": 1})), None, Some(0)));
    sub(&mut s, subscribe("b", None, None, None));
    sub(&mut s, subscribe("b", None, Some(7000), Some(1)));
    sub(
        &mut s,
        json!({"subscribe": {"stream": {"name": "b", "params": null}, "ttl": null}}),
    );
    s.ctl(
        "subscriptions",
        r#"{"subscribe":{"stream":{"name":"a","params":{ "x" : 1 }}}}"#,
    )
    .unwrap();
    s.ctl(
        "subscriptions",
        r#"{"subscribe":{"stream":{"name":"c","params":[1, "two", {"z": null}]},"ttl":0}}"#,
    )
    .unwrap();
    subs(&mut s);
    // ttl 0 expires "now": make sure the clock has moved on for both implementations.
    std::thread::sleep(std::time::Duration::from_millis(3));
    let r = s.start_null();
    has(
        &r,
        r#""subscriptions":[{"stream":"a","parameters":{"x":1},"override_priority":0},{"stream":"b","parameters":null,"override_priority":null}"#,
    );
    has(
        &r,
        r#"{"stream":"a","parameters":{ "x" : 1 },"override_priority":null}"#,
    );
    sub(&mut s, json!({"unsubscribe": {"name": "a", "params": {"x": 1}}}));
    sub(&mut s, json!({"unsubscribe": {"name": "nope"}}));
    subs(&mut s);
    // Unsubscribed rows are not active: the next start cleans them up.
    s.start_null().unwrap();
    subs(&mut s);
    s.cases
}

/// Default streams create rows; rows without ttl disappear when no longer described;
/// explicit ones are kept.
fn default_streams() -> usize {
    let mut s = new("default_streams");
    sub(&mut s, subscribe("explicit", None, None, None));
    s.start_null().unwrap();
    let r = s.json(stream_cp(
        1,
        json!([{"bucket": "d1", "checksum": 0, "subscriptions": [{"default": 0}]},
               {"bucket": "e1", "checksum": 0, "priority": 1, "subscriptions": [{"sub": 0}]}]),
        json!([{"name": "dflt", "is_default": true, "errors": []},
               {"name": "explicit", "is_default": false, "errors": []},
               {"name": "other_default", "is_default": true, "errors": []},
               {"name": "not_default_unused", "is_default": false, "errors": []}]),
    ));
    has(&r, r#""name":"dflt""#);
    subs(&mut s);
    s.json(complete(1)).unwrap();
    subs(&mut s);
    s.offline_status();
    // The next full checkpoint no longer describes dflt.
    s.json(stream_cp(
        2,
        json!([{"bucket": "e1", "checksum": 0, "priority": 1, "subscriptions": [{"sub": 0}]}]),
        json!([{"name": "explicit", "is_default": false, "errors": []}]),
    ))
    .unwrap();
    subs(&mut s);
    s.json(complete(2)).unwrap();
    s.cmd("stop").unwrap();
    s.offline_status();
    s.start(json!({"include_defaults": false})).unwrap();
    s.cases
}

/// Stream errors: default-subscription messages, explicit ones with and without
/// parameters, out-of-range indexes ignored.
fn stream_errors() -> usize {
    let mut s = new("stream_errors");
    sub(
        &mut s,
        subscribe("withp", Some(json!({"id": "abc", "n": [1, 2]})), None, None),
    );
    sub(&mut s, subscribe("nop", None, None, None));
    s.start_null().unwrap();
    let r = s.json(stream_cp(
        1,
        json!([]),
        json!([{"name": "withp", "is_default": false, "errors": [
                    {"subscription": 0, "message": "no access"},
                    {"subscription": 1, "message": "wrong stream index"},
                    {"subscription": 99, "message": "ignored"}]},
               {"name": "dd", "is_default": true, "errors": [
                    {"subscription": "default", "message": "bad default"},
                    {"subscription": "anything", "message": "second"}]},
               {"name": "nop", "is_default": false, "errors": [{"subscription": 1, "message": "nope"}]}]),
    ));
    has(
        &r,
        r#"{"LogLine":{"severity":"WARNING","line":"Default subscription dd has errors: bad default"}}"#,
    );
    has(&r, "Subscription to stream withp (with parameters {\\\"id\\\":\\\"abc\\\",\\\"n\\\":[1,2]}) could not be resolved: no access");
    has(&r, "(without parameters) could not be resolved: nope");
    subs(&mut s);
    s.cases
}

/// Stream priority (largest number among associated buckets), progress per stream, and
/// `last_synced_at` after partial and full applies.
fn stream_priority_progress() -> usize {
    let mut s = new("stream_priority_progress");
    sub(&mut s, subscribe("ex", Some(json!({"p": 1})), None, Some(1)));
    s.start_null().unwrap();
    let r = s.json(stream_cp(
        4,
        json!([
            {"bucket": "a", "checksum": 0, "priority": 1, "count": 2, "subscriptions": [{"sub": 0}]},
            {"bucket": "b", "checksum": 0, "priority": 2, "count": 2, "subscriptions": [{"sub": 0}, {"default": 1}]},
            {"bucket": "c", "checksum": 0, "priority": 0, "count": 1, "subscriptions": [{"default": 1}, {"default": 7}, {"sub": 5}]},
            {"bucket": "n", "checksum": 0, "count": 1}
        ]),
        json!([{"name": "ex", "is_default": false, "errors": []},
               {"name": "dflt", "is_default": true, "errors": []}]),
    ));
    has(
        &r,
        r#""priority":2,"active":true,"is_default":false,"has_explicit_subscription":true"#,
    );
    s.json(data_line(
        "a",
        json!([put(1, "a1", 0, "{}"), put(2, "a2", 0, "{}")]),
    ))
    .unwrap();
    s.json(data_line("c", json!([put(3, "c1", 0, "{}")]))).unwrap();
    s.json(partial(4, 0)).unwrap();
    subs(&mut s);
    s.json(partial(4, 1)).unwrap();
    s.json(data_line("b", json!([put(4, "b1", 0, "{}")]))).unwrap();
    s.json(partial(4, 2)).unwrap();
    subs(&mut s);
    s.json(data_line("n", json!([put(5, "n1", 0, "{}")]))).unwrap();
    s.json(complete(4)).unwrap();
    subs(&mut s);
    s.offline_status();
    s.cases
}

/// `checkpoint_diff` keeps the stream descriptions; reasons pointing nowhere are ignored.
fn streams_across_diffs() -> usize {
    let mut s = new("streams_across_diffs");
    s.start_null().unwrap();
    s.json(stream_cp(
        1,
        json!([{"bucket": "a", "checksum": 0, "priority": 2, "subscriptions": [{"default": 0}]}]),
        json!([{"name": "s1", "is_default": true, "errors": []}]),
    ))
    .unwrap();
    s.json(diff(
        2,
        None,
        vec![json!({"bucket": "b", "checksum": 0, "priority": 1, "count": 3, "subscriptions": [{"default": 0}, {"default": 3}]})],
        &["a"],
    ))
    .unwrap();
    subs(&mut s);
    s.json(data_line("b", json!([put(1, "x", 0, "{}")]))).unwrap();
    s.json(complete(2)).unwrap();
    s.json(diff(3, None, vec![], &["b"])).unwrap();
    s.json(complete(3)).unwrap();
    subs(&mut s);
    s.cases
}

/// `update_subscriptions`: same request → `[]`, the new list replaces `active_streams`; a
/// changed explicit-subscription set restarts with `hide_disconnect:true`.
fn update_subscriptions() -> usize {
    let mut s = new("update_subscriptions");
    sub(&mut s, subscribe("a", None, Some(3600), None));
    s.start(json!({"active_streams": [{"name": "a"}]})).unwrap();
    empty(&s.ctl("update_subscriptions", json!([{"name": "a"}])));
    empty(&s.ctl("update_subscriptions", json!([])));
    // Subscribing during the iteration does not change it until update_subscriptions.
    sub(&mut s, subscribe("b", Some(json!(["p"])), Some(6000), Some(2)));
    s.json(token(20)).unwrap();
    let r = s.ctl(
        "update_subscriptions",
        json!([{"name": "a"}, {"name": "b", "params": ["p"]}]),
    );
    has(&r, r#"{"CloseSyncStream":{"hide_disconnect":true}}"#);
    fails(&s.json(token(60)), 21);
    has(
        &s.start(json!({"active_streams": [{"name": "b", "params": ["p"]}]})),
        r#""stream":"b""#,
    );
    // A keepalive also notices a subscription made during the iteration.
    sub(&mut s, subscribe("c", None, None, None));
    has(
        &s.json(token(3600)),
        r#"{"CloseSyncStream":{"hide_disconnect":true}}"#,
    );
    s.start(json!({"active_streams": [{"name": "b", "params": ["p"]}]}))
        .unwrap();
    // Unsubscribing a stream of the request: the row loses its ttl, the request changes.
    sub(&mut s, json!({"unsubscribe": {"name": "a"}}));
    has(&s.ctl("update_subscriptions", json!([])), "CloseSyncStream");
    subs(&mut s);
    fails(&s.ctl("update_subscriptions", json!([])), 21);
    s.cases
}

/// Keepalive (> 30 s) re-runs cleanup: an expired explicit subscription restarts the
/// stream, a refreshed active one does not.
fn keepalive_expiry() -> usize {
    let mut s = new("keepalive_expiry");
    sub(&mut s, subscribe("held", None, Some(3600), None));
    sub(&mut s, subscribe("loose", None, Some(3600), None));
    s.start(json!({"active_streams": [{"name": "held"}]})).unwrap();
    s.ctl("connection", "established").unwrap();
    // Only "held" expired; the keepalive's TTL refresh revives it: no restart.
    s.sql("UPDATE ps_stream_subscriptions SET expires_at = 1000 WHERE stream_name = 'held'");
    empty(&s.json(json!({"token_expires_in": 3600})));
    subs(&mut s);
    // Now "loose" expired: the request changes.
    s.sql("UPDATE ps_stream_subscriptions SET expires_at = 1000 WHERE stream_name = 'loose'");
    has(&s.json(json!({"token_expires_in": 3600})), "CloseSyncStream");
    subs(&mut s);
    s.cases
}

/// Keepalive after the request changed through expiry of a non-held subscription.
fn keepalive_restart() -> usize {
    let mut s = new("keepalive_restart");
    sub(&mut s, subscribe("held", None, Some(3600), None));
    sub(
        &mut s,
        subscribe("loose", Some(json!({"q": true})), Some(3600), Some(1)),
    );
    s.start(json!({"active_streams": [{"name": "held"}]})).unwrap();
    s.ctl("connection", "established").unwrap();
    s.sql("UPDATE ps_stream_subscriptions SET expires_at = 1000");
    // At or below 30 s only credentials are prefetched (no cleanup).
    has(&s.json(token(30)), r#"{"FetchCredentials":{"did_expire":false}}"#);
    subs(&mut s);
    let r = s.json(token(31));
    has(&r, r#"{"CloseSyncStream":{"hide_disconnect":true}}"#);
    subs(&mut s);
    has(&s.start_null(), r#""subscriptions":[{"stream":"held""#);
    s.cases
}

/// TTL refresh and cleanup at `start`: the status still shows the subscriptions deleted by
/// the cleanup.
fn start_refresh_and_cleanup() -> usize {
    let mut s = new("start_refresh_and_cleanup");
    sub(&mut s, subscribe("keep", Some(json!({"k": 1})), Some(1000), None));
    sub(&mut s, subscribe("gone", None, Some(1000), None));
    s.sql("UPDATE ps_stream_subscriptions SET expires_at = 1000");
    s.sql("INSERT INTO ps_stream_subscriptions (stream_name, active, is_default) VALUES ('inactive_default', 0, 1), ('active_default', 1, 1)");
    s.offline_status();
    let r = s.start(json!({"active_streams": [{"name": "keep", "params": {"k": 1}}, {"name": "unknown"}]}));
    has(&r, r#""name":"gone""#);
    subs(&mut s);
    s.cmd("stop").unwrap();
    s.offline_status();
    // Params text must match exactly for the refresh.
    s.sql("UPDATE ps_stream_subscriptions SET expires_at = 1000");
    s.ctl(
        "start",
        r#"{"active_streams": [{"name": "keep", "params": { "k": 1 }}]}"#,
    )
    .unwrap();
    subs(&mut s);
    s.cases
}

/// Start payload fields: parameters, include_defaults, app_metadata verbatim, unknown keys.
fn start_payload_fields() -> usize {
    let mut s = new("start_payload_fields");
    let r = s.ctl(
        "start",
        r#"{"parameters": {"z": 1, "a": {"nested": [true, null, 1.5]}}, "include_defaults": false, "app_metadata": {"k" : "v",  "n": [1, 2]}, "unknown": 5, "diagnostics": null}"#,
    );
    has(&r, r#""app_metadata":{"k" : "v",  "n": [1, 2]}"#);
    s.ctl("start", r#"{"app_metadata": null, "parameters": null}"#)
        .unwrap();
    s.ctl("start", r#"{"app_metadata": "text", "active_streams": []}"#)
        .unwrap();
    s.ctl("start", r#"{"app_metadata": 12.50, "checkpoint_mode": "legacy"}"#)
        .unwrap();
    s.ctl("start", r#"{"schema": {"tables": []}, "parameters": {}}"#)
        .unwrap();
    s.ctl("start", "{}").unwrap();
    s.ctl("start", Payload::Int(5)).unwrap();
    s.ctl("start", Payload::Blob(b"{\"parameters\":{}}".to_vec()))
        .unwrap();
    // Shapes serde accepts for the reference's types: diagnostics given as an (empty)
    // sequence, raw tables with neither statements nor table name (an error only once a
    // row of that type is applied), repeated Rest sources, extra keys in stream keys.
    s.ctl("start", r#"{"diagnostics": {"x": 1}}"#).unwrap();
    s.ctl(
        "start",
        r#"{"schema": {"tables": [], "raw_tables": [{"name": "x"}, {"name": "y", "put": {"sql": "s", "params": ["Id", "Rest", "Rest"]}}]}}"#,
    )
    .unwrap();
    s.ctl(
        "start",
        r#"{"active_streams": [{"name": "a", "params": null, "extra": 1}]}"#,
    )
    .unwrap();
    s.ctl("start", r#"{"diagnostics": []}"#).unwrap();
    s.ctl(
        "start",
        r#"[{"a":1},{"tables":[]},false,[{"name":"x"}],{ "m" : 1 },"requests",{}]"#,
    )
    .unwrap();
    s.cases
}

/// Diagnostics: bucket state changes after checkpoints and data lines, schema changes per
/// column type, the String rule, early stop at booleans/arrays/objects, invalid JSON.
fn diagnostics(enc: Enc) -> usize {
    let mut s = Session::new(&format!("diagnostics[{enc:?}]"), RICH_SCHEMA);
    s.start(json!({"diagnostics": {"anything": true}})).unwrap();
    has(
        &s.send(
            enc,
            cp(
                9,
                None,
                vec![bucket("b", 0, Some(1), Some(4)), bucket("a", 0, None, None)],
            ),
        ),
        r#"{"HandleDiagnostics":{"BucketStateChange":{"changes":[{"name":"a","#,
    );
    let r = s.send(
        enc,
        data_line(
            "a",
            json!([
                put_t(
                    1,
                    "lists",
                    "l1",
                    0,
                    r#"{"id":"x","name":"n","n":1,"r":1.5,"z":null}"#
                ),
                put_t(2, "lists", "l2", 0, r#"{"name":5,"n":"text","r":2}"#),
                put_t(3, "lists", "l3", 0, r#"{"a":1,"flag":true,"after":1}"#),
                put_t(4, "lists", "l4", 0, r#"{"arr":[1],"after2":1}"#),
                put_t(5, "other", "o1", 0, r#"{"obj":{"x":1},"after3":1}"#),
                put_t(6, "other", "o2", 0, r#"not json"#),
                put_t(7, "other", "o3", 0, r#"[1,2]"#),
                op(8, "PUT", Some("other"), Some("o4"), 0, None),
                op(9, "REMOVE", Some("other"), Some("o5"), 0, None)
            ]),
        ),
    );
    has(
        &r,
        r#"{"SchemaChange":{"table":"lists","column":"n","value_type":"Integer"}}"#,
    );
    has(&r, r#""incremental":true"#);
    s.send(
        enc,
        data_line(
            "b",
            json!([put_t(
                10,
                "lists",
                "l5",
                0,
                r#"{"n":2.5,"name":null,"big":12345678901234}"#
            )]),
        ),
    )
    .unwrap();
    s.send(
        enc,
        data_line(
            "untracked",
            json!([put_t(11, "lists", "l6", 0, r#"{"new":"s"}"#)]),
        ),
    )
    .unwrap();
    s.send(enc, complete(9)).unwrap();
    s.send(enc, diff(10, None, vec![], &["a"])).unwrap();
    // A new iteration forgets the inferred types.
    s.start(json!({"diagnostics": {}})).unwrap();
    s.send(
        enc,
        data_line("b", json!([put_t(12, "lists", "l7", 0, r#"{"n":1}"#)])),
    )
    .unwrap();
    s.start_null().unwrap();
    s.send(enc, cp(9, None, vec![])).unwrap();
    s.cases
}

/// `powersync_offline_sync_status()` with and without data, outside transactions.
fn offline_status_lifecycle() -> usize {
    let mut s = new("offline_status_lifecycle");
    s.offline_status();
    sub(&mut s, subscribe("st", Some(json!({"a": "b"})), None, Some(2)));
    s.offline_status();
    s.start_null().unwrap();
    s.json(stream_cp(
        2,
        json!([{"bucket": "p", "checksum": 0, "priority": 2, "subscriptions": [{"sub": 0}]}]),
        json!([{"name": "st", "is_default": false, "errors": []}, {"name": "d", "is_default": true, "errors": []}]),
    ))
    .unwrap();
    s.offline_status();
    s.json(partial(2, 2)).unwrap();
    s.offline_status();
    s.json(complete(2)).unwrap();
    s.offline_status();
    s.sql("INSERT INTO ps_sync_state VALUES (1, 1700000000000000), (0, 1600000000000000)");
    s.offline_status();
    s.cmd("stop").unwrap();
    s.start_null().unwrap();
    s.cases
}

/// The subscriptions command works while an iteration runs and never changes it; invalid
/// subscription payloads are rejected without effect.
fn subscriptions_during_iteration() -> usize {
    let mut s = new("subscriptions_during_iteration");
    s.start_null().unwrap();
    s.json(cp(1, None, vec![])).unwrap();
    sub(&mut s, subscribe("late", None, Some(3600), Some(5)));
    // (Invalid priorities are in the malformed-payload table, sync_malformed.rs.)
    // The next checkpoint's reconciliation lists the new row in the status.
    has(&s.json(cp(1, None, vec![])), r#""name":"late""#);
    subs(&mut s);
    let bad = [
        json!({"subscribe": {"stream": {"name": "x"}, "ttl": -1}}),
        json!({"subscribe": {"stream": {"name": "x"}, "ttl": 1.5}}),
        json!({"subscribe": {"stream": {}}}),
        json!({"unsubscribe": {}}),
        json!({"other": {}}),
    ];
    for b in bad {
        fails(&s.ctl_with("subscriptions", b, ErrorMatch::Exact), 3091);
    }
    s.json(complete(1)).unwrap();
    subs(&mut s);
    s.cases
}

/// An explicit subscription to a stream that the service also marks as default: bucket
/// reasons `{"default": k}` do not associate with the explicit row, `{"sub": i}` do.
fn explicit_subscription_to_default_stream() -> usize {
    let mut s = new("explicit_subscription_to_default_stream");
    sub(&mut s, subscribe("dflt", None, None, Some(1)));
    s.start_null().unwrap();
    s.json(stream_cp(
        2,
        json!([
            {"bucket": "viadefault", "checksum": 0, "priority": 3, "count": 2, "subscriptions": [{"default": 0}]},
            {"bucket": "viasub", "checksum": 0, "priority": 1, "count": 1, "subscriptions": [{"sub": 0}]}
        ]),
        json!([{"name": "dflt", "is_default": true, "errors": []}]),
    ))
    .unwrap();
    subs(&mut s);
    s.json(data_line("viasub", json!([put(1, "a", 0, "{}")])))
        .unwrap();
    s.json(partial(2, 1)).unwrap();
    subs(&mut s);
    s.json(data_line("viadefault", json!([put(2, "b", 0, "{}")])))
        .unwrap();
    s.json(complete(2)).unwrap();
    // Unsubscribing keeps the row while the stream is described (as default, active).
    sub(&mut s, json!({"unsubscribe": {"name": "dflt"}}));
    s.json(stream_cp(
        3,
        json!([{"bucket": "viadefault", "checksum": 0, "subscriptions": [{"default": 0}]}]),
        json!([{"name": "dflt", "is_default": true, "errors": []}]),
    ))
    .unwrap();
    subs(&mut s);
    s.cases
}

/// Several explicit subscriptions of one stream with different parameters: all rows become
/// active when the stream is described; `{"sub": i}` follows request order.
fn same_stream_several_params() -> usize {
    let mut s = new("same_stream_several_params");
    for p in [json!({"list": 1}), json!({"list": 2}), json!(null)] {
        sub(&mut s, subscribe("lists", Some(p), Some(600), None));
    }
    sub(&mut s, subscribe("undescribed", None, Some(600), Some(0)));
    let r = s.start(json!({"active_streams": [{"name": "lists", "params": {"list": 2}}]}));
    has(
        &r,
        r#"{"stream":"lists","parameters":{"list":1},"override_priority":null},{"stream":"lists","parameters":{"list":2},"override_priority":null},{"stream":"lists","parameters":null,"override_priority":null}"#,
    );
    s.json(stream_cp(
        1,
        json!([
            {"bucket": "l1", "checksum": 0, "priority": 2, "count": 1, "subscriptions": [{"sub": 0}]},
            {"bucket": "l2", "checksum": 0, "priority": 1, "count": 1, "subscriptions": [{"sub": 1}, {"sub": 3}]},
            {"bucket": "all", "checksum": 0, "priority": 0, "subscriptions": [{"sub": 2}, {"sub": 0}]}
        ]),
        json!([{"name": "lists", "is_default": false, "errors": [{"subscription": 3, "message": "denied"}]}]),
    ))
    .unwrap();
    subs(&mut s);
    s.json(data_line("l2", json!([put(1, "x", 0, "{}")]))).unwrap();
    s.json(partial(1, 1)).unwrap();
    s.json(complete(1)).unwrap();
    subs(&mut s);
    s.offline_status();
    s.cases
}

/// A default stream matching several rows without explicit subscription (unsubscribed
/// ones keep their rows while described): which row `{"default": k}` bucket reasons go to.
fn default_reason_with_several_rows() -> usize {
    let mut s = new("default_reason_with_several_rows");
    sub(&mut s, subscribe("s2", Some(json!({"p": 1})), None, None));
    sub(&mut s, subscribe("s2", None, None, None));
    sub(&mut s, subscribe("s2", Some(json!({"p": 3})), None, None));
    s.start_null().unwrap();
    let checkpoint = |n: i64| {
        stream_cp(
            n,
            json!([{"bucket": "b", "checksum": 0, "priority": 2, "count": 3, "subscriptions": [{"default": 0}]}]),
            json!([{"name": "s2", "is_default": true, "errors": []}]),
        )
    };
    s.json(checkpoint(1)).unwrap();
    sub(&mut s, json!({"unsubscribe": {"name": "s2", "params": {"p": 3}}}));
    sub(&mut s, json!({"unsubscribe": {"name": "s2"}}));
    has(&s.json(checkpoint(1)), r#""streams":[{"name":"s2""#);
    sub(&mut s, json!({"unsubscribe": {"name": "s2", "params": {"p": 1}}}));
    has(&s.json(checkpoint(1)), r#""streams":[{"name":"s2""#);
    s.json(data_line("b", json!([put(1, "x", 0, "{}")]))).unwrap();
    s.json(complete(1)).unwrap();
    subs(&mut s);
    s.cases
}

#[test]
fn stream_sessions() {
    run_suite(
        "sync_sessions_streams",
        &[
            ("subscribe_upserts", subscribe_upserts),
            ("default_streams", default_streams),
            ("stream_errors", stream_errors),
            ("stream_priority_progress", stream_priority_progress),
            ("streams_across_diffs", streams_across_diffs),
            ("update_subscriptions", update_subscriptions),
            ("keepalive_expiry", keepalive_expiry),
            ("keepalive_restart", keepalive_restart),
            ("start_refresh_and_cleanup", start_refresh_and_cleanup),
            ("start_payload_fields", start_payload_fields),
            ("diagnostics_json", || diagnostics(Enc::Json)),
            ("diagnostics_bson", || diagnostics(Enc::Bson)),
            ("offline_status_lifecycle", offline_status_lifecycle),
            ("subscriptions_during_iteration", subscriptions_during_iteration),
            (
                "explicit_subscription_to_default_stream",
                explicit_subscription_to_default_stream,
            ),
            ("same_stream_several_params", same_stream_several_params),
            (
                "default_reason_with_several_rows",
                default_reason_with_several_rows,
            ),
        ],
    );
}
