//! Scripted differential sync sessions: checkpoints, data lines and op types, checksums,
//! bucket deletion, routing, progress and partial checkpoints, in both line encodings.
//! Every call runs on ours and on the reference; instructions and all tables are compared
//! after each call (see `sync_common::Session`).
use crate::sync_common;
use crate::sync_sessions_support;

use serde_json::json;
use sync_common::*;
use sync_sessions_support::*;

fn new(name: &str, enc: Enc) -> Session {
    Session::new(&format!("{name}[{enc:?}]"), ITEMS_SCHEMA)
}

/// The reference's golden `simple_iteration`: checkpoint, data, complete; then an unchanged
/// reconnect.
fn simple_iteration(enc: Enc) -> usize {
    let mut s = new("simple_iteration", enc);
    has(&s.start_null(), "EstablishSyncStream");
    s.send(enc, token(60)).unwrap();
    s.send(enc, cp(1, None, vec![bucket("a", 0, Some(3), Some(1))]))
        .unwrap();
    s.send(enc, data_line("a", json!([put(1, "1", 0, r#"{"col":"hi"}"#)])))
        .unwrap();
    has(&s.send(enc, complete(1)), "DidCompleteSync");
    s.value("SELECT data FROM ps_data__items WHERE id = '1'").unwrap();
    s.cmd("stop").unwrap();
    has(&s.start_null(), r#""after":"1""#);
    s.send(enc, cp(1, None, vec![bucket("a", 0, Some(3), Some(1))]))
        .unwrap();
    s.send(enc, complete(1)).unwrap();
    s.cases
}

/// The worked example of docs/protocol.md#storing-a-data-line (PUT, supersede, REMOVE, MOVE) before and after the
/// bucket was applied once.
fn op_types(enc: Enc) -> usize {
    let mut s = new("op_types", enc);
    s.start_null().unwrap();
    s.send(enc, cp(5, None, vec![bucket("a", 42 + 11, None, Some(5))]))
        .unwrap();
    s.send(
        enc,
        data_line(
            "a",
            json!([
                put(1, "r1", 5, r#"{"col":"1"}"#),
                put(2, "r2", 7, r#"{"col":"2"}"#),
                put(3, "r1", 11, r#"{"col":"3"}"#),
                remove(4, "r2", 13),
                mv(5, 17)
            ]),
        ),
    )
    .unwrap();
    has(&s.send(enc, complete(5)), "DidCompleteSync");
    // The bucket has been applied: superseding REMOVE now records ps_updated_rows.
    s.send(enc, cp(7, None, vec![bucket("a", 53 + 19 + 23, None, Some(7))]))
        .unwrap();
    s.send(
        enc,
        data_line(
            "a",
            json!([put(6, "r2", 19, r#"{"col":"again"}"#), remove(7, "r1", 23)]),
        ),
    )
    .unwrap();
    s.query("SELECT * FROM ps_updated_rows");
    has(&s.send(enc, complete(7)), "DidCompleteSync");
    s.query("SELECT id, data FROM ps_data__items ORDER BY id");
    s.cases
}

/// REMOVE of an applied row in a later checkpoint; PUT without data deletes; MOVE only adds.
fn remove_after_apply(enc: Enc) -> usize {
    let mut s = new("remove_after_apply", enc);
    s.start_null().unwrap();
    s.send(enc, cp(2, None, vec![bucket("a", 12, None, None)]))
        .unwrap();
    s.send(
        enc,
        data_line(
            "a",
            json!([
                put(1, "r1", 5, r#"{"col":"1"}"#),
                put(2, "r2", 7, r#"{"col":"2"}"#)
            ]),
        ),
    )
    .unwrap();
    s.send(enc, complete(2)).unwrap();
    s.send(enc, cp(5, None, vec![bucket("a", 12 + 13 + 3 + 1, None, None)]))
        .unwrap();
    s.send(
        enc,
        data_line(
            "a",
            json!([
                remove(3, "r2", 13),
                op(4, "PUT", Some("items"), Some("r1"), 3, None),
                mv(5, 1)
            ]),
        ),
    )
    .unwrap();
    s.value("SELECT count(*) FROM ps_updated_rows").unwrap();
    has(&s.send(enc, complete(5)), "DidCompleteSync");
    s.value("SELECT count(*) FROM ps_data__items").unwrap();
    s.cases
}

/// CLEAR in the middle of a line resets the bucket's checksum and records every row.
fn clear_op(enc: Enc) -> usize {
    let mut s = new("clear_op", enc);
    s.start_null().unwrap();
    s.send(enc, cp(2, None, vec![bucket("a", 3, None, Some(2))]))
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
    s.send(enc, complete(2)).unwrap();
    // CLEAR (checksum 100) then a PUT (5): total 105.
    s.send(enc, cp(4, None, vec![bucket("a", 105, None, Some(4))]))
        .unwrap();
    s.send(
        enc,
        data_line(
            "a",
            json!([
                put(3, "r3", 9, r#"{"col":"3"}"#),
                clear(3, 100),
                put(4, "r4", 5, r#"{"col":"4"}"#)
            ]),
        ),
    )
    .unwrap();
    s.value("SELECT count(*) FROM ps_updated_rows").unwrap();
    has(&s.send(enc, complete(4)), "DidCompleteSync");
    s.value("SELECT group_concat(id) FROM (SELECT id FROM ps_data__items ORDER BY id)")
        .unwrap();
    s.cases
}

/// Checksums: negative, above 2^31, whole floats, sums wrapping past 2^32.
fn checksum_forms(enc: Enc) -> usize {
    let mut s = new("checksum_forms", enc);
    s.start_null().unwrap();
    // -5 + 3573495687 + 4294967295 (== -1) wraps to 3573495681.
    s.send(
        enc,
        json!({"checkpoint": {"last_op_id": "3", "buckets": [
            {"bucket": "a", "checksum": 3573495681u64, "priority": 3},
            {"bucket": "b", "checksum": -721471609},
            {"bucket": "c", "checksum": 4294967295u64}]}}),
    )
    .unwrap();
    s.send(
        enc,
        data_line(
            "a",
            json!([
                put(1, "r1", -5, r#"{"col":"1"}"#),
                put(2, "r2", 3573495687, r#"{"col":"2"}"#),
                put(3, "r3", 4294967295, r#"{"col":"3"}"#)
            ]),
        ),
    )
    .unwrap();
    s.send(
        enc,
        data_line(
            "b",
            json!([{"op_id": "1", "op": "PUT", "object_type": "items", "object_id": "b1", "checksum": 3573495687.0, "data": "{}"}]),
        ),
    )
    .unwrap();
    s.send(
        enc,
        data_line("c", json!([{"op_id": "2", "op": "MOVE", "checksum": -1}])),
    )
    .unwrap();
    has(&s.send(enc, complete(3)), "DidCompleteSync");
    s.query("SELECT name, add_checksum, op_checksum FROM ps_buckets ORDER BY name");
    s.query("SELECT op_id, hash FROM ps_oplog ORDER BY op_id");
    // A checkpoint checksum as a whole float.
    s.send(
        enc,
        json!({"checkpoint": {"last_op_id": "3", "buckets": [{"bucket": "b", "checksum": 3573495687.0}]}}),
    )
    .unwrap();
    has(&s.send(enc, complete(3)), "DidCompleteSync");
    s.cases
}

/// Full checkpoint checksum failure: warning with the sorted list, bucket deleted, stream
/// closed; the reconnect re-downloads the deleted bucket from scratch.
fn checksum_failure_recovery(enc: Enc) -> usize {
    let mut s = new("checksum_failure_recovery", enc);
    s.start_null().unwrap();
    s.send(
        enc,
        cp(
            3,
            None,
            vec![
                bucket("zeta", 1234, None, None),
                bucket("alpha", 99, None, None),
                bucket("ok", 3, None, None),
            ],
        ),
    )
    .unwrap();
    s.send(
        enc,
        data_line("zeta", json!([put(1, "z", 4321, r#"{"col":"z"}"#)])),
    )
    .unwrap();
    s.send(
        enc,
        data_line("alpha", json!([put(2, "a", -1, r#"{"col":"a"}"#)])),
    )
    .unwrap();
    s.send(enc, data_line("ok", json!([put(3, "o", 3, r#"{"col":"o"}"#)])))
        .unwrap();
    let r = s.send(enc, complete(3));
    has(&r, "Checksums didn't match, failed for: alpha");
    has(&r, r#""CloseSyncStream":{"hide_disconnect":false}"#);
    // The iteration is over.
    fails(&s.send(enc, token(60)), 21);
    has(&s.start_null(), r#"{"name":"ok","after":"3"}"#);
    s.send(
        enc,
        cp(
            3,
            None,
            vec![
                bucket("zeta", 1234, None, None),
                bucket("alpha", 99, None, None),
                bucket("ok", 3, None, None),
            ],
        ),
    )
    .unwrap();
    s.send(
        enc,
        data_line("zeta", json!([put(1, "z", 1234, r#"{"col":"z"}"#)])),
    )
    .unwrap();
    s.send(
        enc,
        data_line("alpha", json!([put(2, "a", 99, r#"{"col":"a"}"#)])),
    )
    .unwrap();
    has(&s.send(enc, complete(3)), "DidCompleteSync");
    s.cases
}

/// Partial checkpoint checksum failure only checks buckets up to the priority.
fn checksum_failure_partial(enc: Enc) -> usize {
    let mut s = new("checksum_failure_partial", enc);
    s.start_null().unwrap();
    s.send(
        enc,
        cp(
            2,
            None,
            vec![
                bucket("hi", 10, Some(0), None),
                bucket("mid", 20, Some(1), None),
                bucket("lo", 30, Some(3), None),
            ],
        ),
    )
    .unwrap();
    s.send(enc, data_line("hi", json!([put(1, "h", 10, r#"{"col":"h"}"#)])))
        .unwrap();
    // lo is wrong but not checked at priority 0 or 1.
    s.send(enc, data_line("lo", json!([put(1, "l", 31, r#"{"col":"l"}"#)])))
        .unwrap();
    has(&s.send(enc, partial(2, 0)), "UpdateSyncStatus");
    // mid has no data: expected 20, got 0.
    let r = s.send(enc, partial(2, 1));
    // Same wording as for a full checkpoint (0.5.3 said "partial checkpoint").
    has(&r, "Could not apply checkpoint, Checksums didn't match, failed for: mid (expected 0x00000014, got 0x00000000 = 0x00000000 (op) + 0x00000000 (add))");
    has(&r, r#"{"connected":false,"connecting":false"#);
    s.cases
}

/// Bucket deletion via a new checkpoint (dropped buckets), and rows held by another bucket.
fn bucket_deletion_checkpoint(enc: Enc) -> usize {
    let mut s = new("bucket_deletion_checkpoint", enc);
    s.start_null().unwrap();
    s.send(
        enc,
        cp(
            3,
            None,
            vec![bucket("a", 3, None, None), bucket("b", 5, None, None)],
        ),
    )
    .unwrap();
    s.send(
        enc,
        data_line(
            "a",
            json!([
                put(1, "shared", 1, r#"{"col":"from a"}"#),
                put(2, "only_a", 2, r#"{"col":"a"}"#)
            ]),
        ),
    )
    .unwrap();
    s.send(
        enc,
        data_line("b", json!([put(3, "shared", 5, r#"{"col":"from b"}"#)])),
    )
    .unwrap();
    s.send(enc, complete(3)).unwrap();
    s.value("SELECT data FROM ps_data__items WHERE id = 'shared'")
        .unwrap();
    // b is dropped: shared falls back to a's version, only_a stays.
    s.send(enc, cp(4, None, vec![bucket("a", 3, None, None)]))
        .unwrap();
    s.query("SELECT * FROM ps_updated_rows ORDER BY row_id");
    s.send(enc, complete(4)).unwrap();
    s.value("SELECT data FROM ps_data__items WHERE id = 'shared'")
        .unwrap();
    // Now a is dropped too: both rows disappear.
    s.send(enc, cp(5, None, vec![])).unwrap();
    has(&s.send(enc, complete(5)), "DidCompleteSync");
    s.value("SELECT count(*) FROM ps_data__items").unwrap();
    s.cases
}

/// Bucket deletion through `checkpoint_diff`, including names not tracked or never seen.
fn bucket_deletion_diff(enc: Enc) -> usize {
    let mut s = new("bucket_deletion_diff", enc);
    s.start_null().unwrap();
    s.send(
        enc,
        cp(
            2,
            None,
            vec![bucket("a", 1, None, Some(1)), bucket("b", 2, None, Some(1))],
        ),
    )
    .unwrap();
    s.send(enc, data_line("a", json!([put(1, "x", 1, r#"{"col":"x"}"#)])))
        .unwrap();
    s.send(enc, data_line("b", json!([put(2, "y", 2, r#"{"col":"y"}"#)])))
        .unwrap();
    s.send(
        enc,
        data_line("untracked", json!([put(3, "z", 2, r#"{"col":"z"}"#)])),
    )
    .unwrap();
    s.send(enc, complete(2)).unwrap();
    s.send(
        enc,
        diff(
            3,
            None,
            vec![bucket("c", 0, Some(1), Some(0))],
            &["b", "untracked", "never"],
        ),
    )
    .unwrap();
    s.query("SELECT name FROM ps_buckets ORDER BY name");
    s.send(enc, complete(3)).unwrap();
    s.query("SELECT id FROM ps_data__items ORDER BY id");
    // A diff removing everything and adding back a.
    s.send(enc, diff(4, Some(9), vec![], &["a", "c"])).unwrap();
    s.send(enc, diff(5, None, vec![bucket("a", 0, None, None)], &[]))
        .unwrap();
    s.send(enc, complete(5)).unwrap();
    s.cases
}

/// `ps_untyped` routing: unknown types, local-only tables, then deletes.
fn untyped_routing(enc: Enc) -> usize {
    let mut s = new("untyped_routing", enc);
    s.start_null().unwrap();
    s.send(enc, cp(5, None, vec![bucket("a", 15, None, None)]))
        .unwrap();
    s.send(
        enc,
        data_line(
            "a",
            json!([
                put_t(1, "unknown", "u1", 1, r#"{"a":1}"#),
                put_t(2, "local_stuff", "l1", 2, r#"{"x":"y"}"#),
                put_t(3, "ps_data__items", "weird", 3, r#"{}"#),
                put_t(4, "items", "i1", 4, r#"{"col":"i"}"#),
                put_t(5, "unknown", "u2", 5, r#"not json at all"#)
            ]),
        ),
    )
    .unwrap();
    s.send(enc, complete(5)).unwrap();
    s.query("SELECT * FROM ps_untyped ORDER BY type, id");
    s.send(enc, cp(7, None, vec![bucket("a", 15 + 6 + 7, None, None)]))
        .unwrap();
    s.send(
        enc,
        data_line(
            "a",
            json!([
                remove_t(6, "unknown", "u1", 6),
                remove_t(7, "local_stuff", "l1", 7)
            ]),
        ),
    )
    .unwrap();
    s.send(enc, complete(7)).unwrap();
    s.query("SELECT * FROM ps_untyped ORDER BY type, id");
    s.cases
}

/// Several buckets hold the same row: the greatest op id wins, whichever bucket it is in.
fn multi_bucket_latest_op(enc: Enc) -> usize {
    let mut s = new("multi_bucket_latest_op", enc);
    s.start_null().unwrap();
    s.send(
        enc,
        cp(
            9,
            None,
            vec![
                bucket("a", 1 + 3, None, None),
                bucket("b", 2, None, None),
                bucket("c", 4, None, None),
            ],
        ),
    )
    .unwrap();
    s.send(
        enc,
        data_line(
            "a",
            json!([
                put(1, "r", 1, r#"{"col":"a1"}"#),
                put(9, "q", 3, r#"{"col":"a9"}"#)
            ]),
        ),
    )
    .unwrap();
    s.send(enc, data_line("b", json!([put(5, "r", 2, r#"{"col":"b5"}"#)])))
        .unwrap();
    s.send(enc, data_line("c", json!([put(2, "q", 4, r#"{"col":"c2"}"#)])))
        .unwrap();
    s.send(enc, complete(9)).unwrap();
    s.query("SELECT id, data FROM ps_data__items ORDER BY id");
    s.cases
}

/// Data lines before any checkpoint, for untracked buckets, and empty data lines.
fn data_before_checkpoint(enc: Enc) -> usize {
    let mut s = new("data_before_checkpoint", enc);
    s.start_null().unwrap();
    s.send(enc, data_line("early", json!([put(1, "e", 1, r#"{"col":"e"}"#)])))
        .unwrap();
    s.send(enc, data_line("empty", json!([]))).unwrap();
    s.query("SELECT name, last_op, count_since_last, downloaded_size > 0 FROM ps_buckets ORDER BY id");
    s.send(
        enc,
        cp(
            1,
            None,
            vec![bucket("early", 1, None, Some(1)), bucket("never", 0, None, None)],
        ),
    )
    .unwrap();
    // Untracked bucket while tracking: stored, no progress change.
    s.send(enc, data_line("other", json!([put(2, "o", 7, r#"{"col":"o"}"#)])))
        .unwrap();
    has(&s.send(enc, complete(1)), "DidCompleteSync");
    s.query("SELECT id FROM ps_data__items ORDER BY id");
    s.cases
}

/// Duplicate bucket names in a checkpoint (later entry wins), op ids with signs, large
/// priorities, string-only ids.
fn checkpoint_shapes(enc: Enc) -> usize {
    let mut s = new("checkpoint_shapes", enc);
    s.start_null().unwrap();
    s.send(
        enc,
        json!({"checkpoint": {"last_op_id": "+7", "write_checkpoint": null, "buckets": [
            {"bucket": "a", "checksum": 999, "priority": 0, "count": 100},
            {"bucket": "a", "checksum": 3, "priority": 100, "count": 2},
            {"bucket": "b", "checksum": 0, "priority": 2147483646}]}}),
    )
    .unwrap();
    s.send(
        enc,
        data_line(
            "a",
            json!([
                {"op_id": "-5", "op": "PUT", "object_type": "items", "object_id": "neg", "checksum": 1, "data": "{}"},
                {"op_id": "+0007", "op": "PUT", "object_type": "items", "object_id": "pos", "checksum": 2, "data": "{}", "subkey": "sk"}
            ]),
        ),
    )
    .unwrap();
    s.query("SELECT op_id, key FROM ps_oplog ORDER BY op_id");
    s.send(enc, partial(7, 100)).unwrap();
    s.send(enc, json!({"checkpoint_complete": {}})).unwrap();
    s.offline_status();
    s.cases
}

/// Status de-duplication: identical checkpoints, empty diffs and untracked data emit `[]`.
fn status_dedup(enc: Enc) -> usize {
    let mut s = new("status_dedup", enc);
    s.start_null().unwrap();
    has(
        &s.send(enc, cp(1, None, vec![bucket("a", 0, None, Some(3))])),
        "UpdateSyncStatus",
    );
    empty(&s.send(enc, cp(1, None, vec![bucket("a", 0, None, Some(3))])));
    empty(&s.send(enc, diff(1, None, vec![], &[])));
    empty(&s.send(enc, data_line("untracked", json!([]))));
    empty(&s.send(enc, token(3600)));
    has(
        &s.send(enc, data_line("a", json!([put(1, "x", 0, "{}")]))),
        "since_last\":1",
    );
    // Same last_op_id but a different write checkpoint: status unchanged.
    s.send(enc, cp(1, Some(3), vec![bucket("a", 0, None, Some(3))]))
        .unwrap();
    s.cases
}

/// Progress (docs/protocol.md#download-progress): restore after restart and reset when a bucket shrinks.
fn progress_restore_reset(enc: Enc) -> usize {
    let mut s = new("progress_restore_reset", enc);
    s.start_null().unwrap();
    has(
        &s.send(enc, cp(10, None, vec![bucket("a", 0, None, Some(10))])),
        r#""prio_3":{"priority":3,"at_last":0,"since_last":0,"target_count":10}"#,
    );
    let ops: Vec<_> = (1..=5).map(|i| put(i, &format!("r{i}"), 0, "{}")).collect();
    s.send(enc, data_line("a", json!(ops))).unwrap();
    s.cmd("stop").unwrap();
    s.start_null().unwrap();
    has(
        &s.send(enc, cp(10, None, vec![bucket("a", 0, None, Some(10))])),
        r#""since_last":5,"target_count":10"#,
    );
    // Shrunk: reset to 0/4 and counters zeroed on every bucket row.
    s.send(enc, cp(10, None, vec![bucket("a", 0, None, Some(4))]))
        .unwrap();
    s.query("SELECT count_at_last, count_since_last FROM ps_buckets");
    s.cases
}

/// Progress reset by a checkpoint without counts; aggregation over several priorities;
/// counters after full and partial applies.
fn progress_priorities(enc: Enc) -> usize {
    let mut s = new("progress_priorities", enc);
    s.start_null().unwrap();
    s.send(
        enc,
        cp(
            6,
            None,
            vec![
                bucket("p0", 0, Some(0), Some(2)),
                bucket("p1a", 0, Some(1), Some(1)),
                bucket("p1b", 0, Some(1), Some(3)),
                bucket("p3", 0, None, Some(1)),
            ],
        ),
    )
    .unwrap();
    s.send(
        enc,
        data_line("p0", json!([put(1, "a", 0, "{}"), put(2, "b", 0, "{}")])),
    )
    .unwrap();
    s.send(enc, data_line("p1b", json!([put(3, "c", 0, "{}")])))
        .unwrap();
    s.send(enc, partial(6, 1)).unwrap();
    s.query("SELECT name, count_at_last, count_since_last FROM ps_buckets ORDER BY name");
    s.send(enc, data_line("p3", json!([put(6, "d", 0, "{}")])))
        .unwrap();
    s.send(enc, complete(6)).unwrap();
    s.query("SELECT name, count_at_last, count_since_last FROM ps_buckets ORDER BY name");
    // Next checkpoint: more ops; then one without counts resets everything.
    s.send(
        enc,
        cp(
            8,
            None,
            vec![bucket("p0", 0, Some(0), Some(4)), bucket("p3", 0, None, Some(2))],
        ),
    )
    .unwrap();
    s.send(enc, data_line("p0", json!([put(7, "a", 0, "{}")])))
        .unwrap();
    s.send(enc, cp(8, None, vec![bucket("p0", 0, Some(0), None)]))
        .unwrap();
    s.query("SELECT name, count_at_last, count_since_last FROM ps_buckets ORDER BY name");
    s.cases
}

/// Partial checkpoints (docs/protocol.md#priorities-and-partial-checkpoints): priority entries, full collapse, `ps_sync_state`.
fn partial_sequence(enc: Enc) -> usize {
    let mut s = new("partial_sequence", enc);
    s.start_null().unwrap();
    let buckets = || {
        vec![
            bucket("p0", 1, Some(0), None),
            bucket("p2", 2, Some(2), None),
            bucket("p5", 3, Some(5), None),
        ]
    };
    s.send(enc, cp(3, None, buckets())).unwrap();
    s.send(enc, data_line("p0", json!([put(1, "a", 1, r#"{"col":"0"}"#)])))
        .unwrap();
    s.send(enc, data_line("p2", json!([put(2, "b", 2, r#"{"col":"2"}"#)])))
        .unwrap();
    s.send(enc, data_line("p5", json!([put(3, "c", 3, r#"{"col":"5"}"#)])))
        .unwrap();
    s.send(enc, complete(3)).unwrap();
    s.send(enc, cp(4, None, buckets())).unwrap();
    has(
        &s.send(enc, partial(4, 2)),
        r#""priority_status":[{"priority":2,"#,
    );
    s.query("SELECT priority FROM ps_sync_state ORDER BY priority");
    s.send(enc, partial(4, 0)).unwrap();
    s.query("SELECT priority FROM ps_sync_state ORDER BY priority");
    s.send(enc, partial(4, 5)).unwrap();
    s.query("SELECT priority FROM ps_sync_state ORDER BY priority");
    s.offline_status();
    s.send(enc, complete(4)).unwrap();
    s.query("SELECT priority FROM ps_sync_state ORDER BY priority");
    s.cmd("stop").unwrap();
    has(&s.start_null(), "2147483647");
    s.cases
}

/// A REMOVE in a priority-1 bucket of a previously applied row only shows at the next
/// full apply (partial applies do not consult `ps_updated_rows`).
fn partial_remove_deferred(enc: Enc) -> usize {
    let mut s = new("partial_remove_deferred", enc);
    s.start_null().unwrap();
    s.send(enc, cp(1, None, vec![bucket("hi", 5, Some(1), None)]))
        .unwrap();
    s.send(enc, data_line("hi", json!([put(1, "r", 5, r#"{"col":"x"}"#)])))
        .unwrap();
    s.send(enc, complete(1)).unwrap();
    s.send(enc, cp(2, None, vec![bucket("hi", 5 + 6, Some(1), None)]))
        .unwrap();
    s.send(enc, data_line("hi", json!([remove(2, "r", 6)]))).unwrap();
    s.send(enc, partial(2, 1)).unwrap();
    s.value("SELECT count(*) FROM ps_data__items").unwrap();
    s.send(enc, complete(2)).unwrap();
    s.value("SELECT count(*) FROM ps_data__items").unwrap();
    s.cases
}

/// Unknown line types of any value shape.
fn unknown_lines(enc: Enc) -> usize {
    let mut s = new("unknown_lines", enc);
    s.start_null().unwrap();
    has(
        &s.send(enc, json!({"new_feature": {"x": 1}})),
        "Unknown sync line",
    );
    has(&s.send(enc, json!({"number": 5})), "Unknown sync line");
    has(&s.send(enc, json!({"str": "s"})), "Unknown sync line");
    has(&s.send(enc, json!({"nothing": null})), "Unknown sync line");
    has(&s.send(enc, json!({"arr": [1, 2]})), "Unknown sync line");
    s.send(enc, cp(1, None, vec![])).unwrap();
    has(&s.send(enc, json!({"Checkpoint": {}})), "Unknown sync line");
    s.send(enc, complete(1)).unwrap();
    s.cases
}

/// `powersync_trigger_resync` between iterations: every stored op re-applied; the quirk of
/// REMOVEs that arrive while `last_applied_op` is 0.
fn trigger_resync_reapply(enc: Enc) -> usize {
    let mut s = new("trigger_resync_reapply", enc);
    s.start_null().unwrap();
    s.send(enc, cp(2, None, vec![bucket("a", 3, Some(1), None)]))
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
    s.send(enc, complete(2)).unwrap();
    s.cmd("stop").unwrap();
    s.sql("DELETE FROM ps_data__items WHERE id = 'r1'");
    s.sql("SELECT powersync_trigger_resync(1)");
    s.offline_status();
    s.start_null().unwrap();
    s.send(enc, cp(3, None, vec![bucket("a", 3 + 4, Some(1), None)]))
        .unwrap();
    s.send(enc, data_line("a", json!([remove(3, "r2", 4)]))).unwrap();
    s.send(enc, complete(3)).unwrap();
    s.query("SELECT id, data FROM ps_data__items ORDER BY id");
    s.cases
}

/// BSON specifics: int64 and double fields, extra elements after the line, trailing bytes.
fn bson_specifics() -> usize {
    use bson::{doc, Bson};
    let mut s = new("bson_specifics", Enc::Bson);
    s.start_null().unwrap();
    let checkpoint = doc! {"checkpoint": {"last_op_id": "2", "buckets": [
    {"bucket": "a", "checksum": Bson::Int64(7), "priority": Bson::Int64(1), "count": Bson::Int64(2)},
    {"bucket": "b", "checksum": Bson::Double(3573495687.0), "count": Bson::Int32(0)}]},
    "ignored": "second element"};
    s.binary(doc_bytes(&checkpoint)).unwrap();
    let data = doc! {"data": {"bucket": "a", "has_more": false, "after": Bson::Null, "next_after": Bson::Null, "data": [
    {"op_id": "1", "op": "PUT", "object_type": "items", "object_id": "x", "checksum": Bson::Int64(3), "data": "{\"col\":\"x\"}", "subkey": Bson::Null},
    {"op_id": "2", "op": "PUT", "object_type": "items", "object_id": "y", "checksum": Bson::Double(4.0), "data": Bson::Null}]}};
    let mut bytes = doc_bytes(&data);
    bytes.extend_from_slice(b"trailing garbage");
    s.binary(bytes).unwrap();
    s.query("SELECT name, downloaded_size FROM ps_buckets");
    let tok = doc! {"token_expires_in": Bson::Int64(20)};
    has(&s.binary(doc_bytes(&tok)), "FetchCredentials");
    let tok = doc! {"token_expires_in": Bson::Int32(3600), "extra": 1};
    s.binary(doc_bytes(&tok)).unwrap();
    let b = doc! {"data": {"bucket": "b", "data": [
    {"op_id": "2", "op": "PUT", "object_type": "items", "object_id": "z", "checksum": Bson::Int64(3573495687), "data": "{}"}]}};
    s.binary(doc_bytes(&b)).unwrap();
    let complete = doc! {"checkpoint_complete": {"last_op_id": "2"}};
    has(&s.binary(doc_bytes(&complete)), "DidCompleteSync");
    s.cases
}

/// Mixed encodings within one iteration, and the downloaded size of each.
fn mixed_encodings() -> usize {
    let mut s = new("mixed_encodings", Enc::Json);
    s.start_null().unwrap();
    s.send(Enc::Bson, cp(3, None, vec![bucket("a", 6, None, Some(3))]))
        .unwrap();
    s.send(
        Enc::Json,
        data_line("a", json!([put(1, "j", 1, r#"{"col":"json"}"#)])),
    )
    .unwrap();
    s.send(
        Enc::Bson,
        data_line("a", json!([put(2, "b", 2, r#"{"col":"bson"}"#)])),
    )
    .unwrap();
    s.ctl(
        "line_text",
        format!("  {}  \n", data_line("a", json!([put(3, "w", 3, "{}")]))),
    )
    .unwrap();
    s.query("SELECT downloaded_size FROM ps_buckets");
    s.send(Enc::Json, complete(3)).unwrap();
    s.cases
}

/// A long bucket history in several data lines with supersedes across lines.
fn supersede_across_lines(enc: Enc) -> usize {
    let mut s = new("supersede_across_lines", enc);
    s.start_null().unwrap();
    let mut total: i64 = 0;
    let mut id = 0;
    for round in 0..4 {
        let mut ops = Vec::new();
        for k in 0..5 {
            id += 1;
            let ck = id * 7 + round;
            total += ck;
            ops.push(put(
                id,
                &format!("r{k}"),
                ck,
                &format!(r#"{{"col":"{round}-{k}"}}"#),
            ));
        }
        s.send(enc, data_line("a", json!(ops))).unwrap();
    }
    s.query("SELECT count(*), sum(hash) FROM ps_oplog");
    s.send(enc, cp(id, None, vec![bucket("a", total, None, Some(id))]))
        .unwrap();
    has(&s.send(enc, complete(id)), "DidCompleteSync");
    s.query("SELECT id, data FROM ps_data__items ORDER BY id");
    s.cases
}

/// Names and values that need escaping: quotes, backslashes, control characters and
/// non-ASCII text in bucket names (also in the checksum-failure message), ids and data.
fn escaping(enc: Enc) -> usize {
    let mut s = new("escaping", enc);
    let weird = "a\"b\\c\u{1}ü🙂";
    s.start_null().unwrap();
    s.send(
        enc,
        cp(
            2,
            None,
            vec![
                bucket(weird, 3, None, Some(2)),
                bucket("tab\tname", 5, None, None),
            ],
        ),
    )
    .unwrap();
    s.send(
        enc,
        data_line(
            weird,
            json!([
                put(
                    1,
                    "id \"quoted\" ü",
                    1,
                    r#"{"col":"line\nbreak \"q\" \u00e9 🙂"}"#
                ),
                put_t(2, "ty\"pe", "x\\y", 2, r#"{"k":"\u0000"}"#)
            ]),
        ),
    )
    .unwrap();
    s.query("SELECT row_type, row_id, key, data FROM ps_oplog ORDER BY op_id");
    let r = s.send(enc, complete(2));
    has(&r, "Checksums didn't match, failed for: ");
    // The matching bucket was kept (with its data); only "tab\tname" was deleted.
    has(&s.start_null(), "ü🙂");
    s.send(enc, cp(2, None, vec![bucket(weird, 3, None, Some(2))]))
        .unwrap();
    has(&s.send(enc, complete(2)), "DidCompleteSync");
    s.query("SELECT * FROM ps_data__items");
    s.query("SELECT * FROM ps_untyped");
    s.cases
}

/// Subkeys: the same row from several subkeys of one bucket; CLEAR as the very first op;
/// a REMOVE without object type or id. (PUTs lacking the type or the id are left out on
/// purpose: the reference then fails every later apply with "another row available", and
/// the engine skips such rows instead — a documented deviation.)
fn subkeys_and_keyless_ops(enc: Enc) -> usize {
    let mut s = new("subkeys_and_keyless_ops", enc);
    s.start_null().unwrap();
    let with_subkey = |op_id: i64, sub: &str, checksum: i64, data: &str| {
        let mut o = put(op_id, "r", checksum, data);
        o["subkey"] = json!(sub);
        o
    };
    s.send(enc, cp(4, None, vec![bucket("a", 7 + 1 + 2 + 3, None, Some(4))]))
        .unwrap();
    s.send(
        enc,
        data_line(
            "a",
            json!([
                clear(1, 7),
                with_subkey(2, "s1", 1, r#"{"col":"from s1"}"#),
                with_subkey(3, "s2", 2, r#"{"col":"from s2"}"#),
                op(4, "REMOVE", None, None, 3, None)
            ]),
        ),
    )
    .unwrap();
    s.query("SELECT op_id, row_type, row_id, key, data, hash FROM ps_oplog ORDER BY op_id");
    s.send(enc, complete(4)).unwrap();
    s.query("SELECT id, data FROM ps_data__items ORDER BY id");
    // Superseding only one subkey: the newest op (s1 again) wins.
    s.send(enc, cp(7, None, vec![bucket("a", 13 + 9, None, Some(5))]))
        .unwrap();
    s.send(
        enc,
        data_line("a", json!([with_subkey(7, "s1", 9, r#"{"col":"s1 again"}"#)])),
    )
    .unwrap();
    s.send(enc, complete(7)).unwrap();
    s.query("SELECT id, data FROM ps_data__items ORDER BY id");
    s.cases
}

/// Rows of several tables in one checkpoint, including tables whose rows are deleted by a
/// later REMOVE in a different bucket than the one that inserted them.
fn cross_bucket_remove(enc: Enc) -> usize {
    let mut s = Session::new(&format!("cross_bucket_remove[{enc:?}]"), RICH_SCHEMA);
    s.start_null().unwrap();
    s.send(
        enc,
        cp(
            3,
            None,
            vec![bucket("x", 1 + 2, None, None), bucket("y", 3, None, None)],
        ),
    )
    .unwrap();
    s.send(
        enc,
        data_line(
            "x",
            json!([
                put_t(1, "lists", "L", 1, r#"{"name":"l","n":1,"r":0.5}"#),
                put(2, "I", 2, r#"{"col":"i"}"#)
            ]),
        ),
    )
    .unwrap();
    s.send(
        enc,
        data_line("y", json!([put_t(3, "lists", "L", 3, r#"{"name":"newer"}"#)])),
    )
    .unwrap();
    s.send(enc, complete(3)).unwrap();
    s.query("SELECT * FROM ps_data__lists");
    s.query("SELECT * FROM lists");
    s.send(
        enc,
        cp(
            5,
            None,
            vec![bucket("x", 3 + 4, None, None), bucket("y", 3 + 5, None, None)],
        ),
    )
    .unwrap();
    s.send(enc, data_line("y", json!([remove_t(4, "lists", "L", 5)])))
        .unwrap();
    s.send(enc, data_line("x", json!([remove_t(5, "items", "I", 4)])))
        .unwrap();
    s.send(enc, complete(5)).unwrap();
    s.query("SELECT * FROM ps_data__lists");
    s.query("SELECT * FROM ps_data__items");
    s.cases
}

/// Two buckets hold the same row, and new ops of both get the same op id: the apply breaks
/// the tie by rowid (the op stored first wins). Ours rewrites a superseded op in place,
/// keeping its rowid, unless that could change such a tie (docs/storage.md): here the line
/// sent second would win if it were rewritten in place, in both orders.
fn same_op_id_ties(enc: Enc) -> usize {
    let mut s = new("same_op_id_ties", enc);
    s.start_null().unwrap();
    s.send(
        enc,
        cp(
            2,
            None,
            vec![bucket("a", 1, None, Some(1)), bucket("b", 2, None, Some(1))],
        ),
    )
    .unwrap();
    s.send(enc, data_line("a", json!([put(1, "x", 1, r#"{"col":"a1"}"#)])))
        .unwrap();
    s.send(enc, data_line("b", json!([put(2, "x", 2, r#"{"col":"b2"}"#)])))
        .unwrap();
    has(&s.send(enc, complete(2)), "DidCompleteSync");
    // One round: op `op_id` for row x in both buckets (checksums `ca`, `cb`, bucket totals
    // `ta`, `tb`), the lines sent in `order`.
    let mut round = |op_id: i64, (ca, ta): (i64, i64), (cb, tb): (i64, i64), order: [&str; 2]| {
        let buckets = vec![
            bucket("a", ta, None, Some(op_id - 1)),
            bucket("b", tb, None, Some(op_id - 1)),
        ];
        s.send(enc, cp(op_id, None, buckets)).unwrap();
        for name in order {
            let checksum = if name == "a" { ca } else { cb };
            let data = format!(r#"{{"col":"{name}{op_id}"}}"#);
            s.send(enc, data_line(name, json!([put(op_id, "x", checksum, &data)])))
                .unwrap();
        }
        has(&s.send(enc, complete(op_id)), "DidCompleteSync");
        s.query("SELECT id, data FROM ps_data__items");
    };
    // Op 3 in both; b's line first: the reference stores b's op before a's, so b wins.
    round(3, (3, 1 + 3), (4, 2 + 4), ["b", "a"]);
    // Op 4 in both; a's line first: a wins.
    round(4, (5, 4 + 5), (6, 6 + 6), ["a", "b"]);
    s.query("SELECT bucket, op_id, data FROM ps_oplog ORDER BY row_type, row_id, op_id, rowid");
    s.cases
}

/// A key splits into type and id at its first two `/`s only in the simple case: `a/b` + `c`
/// and `a` + `b/c` share the key `a/b/c/null`, so the second PUT supersedes the first and
/// its rewrite in place must change the row columns too.
fn ambiguous_key_supersede(enc: Enc) -> usize {
    let mut s = new("ambiguous_key_supersede", enc);
    s.start_null().unwrap();
    s.send(enc, cp(1, None, vec![bucket("a", 1, None, Some(1))]))
        .unwrap();
    s.send(
        enc,
        data_line("a", json!([put_t(1, "a/b", "c", 1, r#"{"v":1}"#)])),
    )
    .unwrap();
    has(&s.send(enc, complete(1)), "DidCompleteSync");
    s.send(enc, cp(2, None, vec![bucket("a", 1 + 2, None, Some(2))]))
        .unwrap();
    s.send(
        enc,
        data_line("a", json!([put_t(2, "a", "b/c", 2, r#"{"v":2}"#)])),
    )
    .unwrap();
    s.query("SELECT bucket, op_id, key, row_type, row_id, data FROM ps_oplog");
    has(&s.send(enc, complete(2)), "DidCompleteSync");
    s.query("SELECT type, id, data FROM ps_untyped ORDER BY type, id");
    s.cases
}

#[test]
fn checkpoint_sessions() {
    run_suite(
        "sync_sessions_checkpoints",
        &[
            ("simple_iteration_json", || simple_iteration(Enc::Json)),
            ("simple_iteration_bson", || simple_iteration(Enc::Bson)),
            ("op_types_json", || op_types(Enc::Json)),
            ("op_types_bson", || op_types(Enc::Bson)),
            ("remove_after_apply_json", || remove_after_apply(Enc::Json)),
            ("remove_after_apply_bson", || remove_after_apply(Enc::Bson)),
            ("clear_op_json", || clear_op(Enc::Json)),
            ("clear_op_bson", || clear_op(Enc::Bson)),
            ("checksum_forms_json", || checksum_forms(Enc::Json)),
            ("checksum_forms_bson", || checksum_forms(Enc::Bson)),
            ("checksum_forms_bson64", || checksum_forms(Enc::Bson64)),
            ("checksum_failure_recovery_json", || {
                checksum_failure_recovery(Enc::Json)
            }),
            ("checksum_failure_recovery_bson", || {
                checksum_failure_recovery(Enc::Bson)
            }),
            ("checksum_failure_partial", || checksum_failure_partial(Enc::Json)),
            ("bucket_deletion_checkpoint", || {
                bucket_deletion_checkpoint(Enc::Json)
            }),
            ("bucket_deletion_diff_json", || bucket_deletion_diff(Enc::Json)),
            ("bucket_deletion_diff_bson", || bucket_deletion_diff(Enc::Bson)),
            ("untyped_routing", || untyped_routing(Enc::Bson)),
            ("multi_bucket_latest_op", || multi_bucket_latest_op(Enc::Json)),
            ("data_before_checkpoint", || data_before_checkpoint(Enc::Bson)),
            ("checkpoint_shapes_json", || checkpoint_shapes(Enc::Json)),
            ("checkpoint_shapes_bson", || checkpoint_shapes(Enc::Bson)),
            ("status_dedup", || status_dedup(Enc::Json)),
            ("progress_restore_reset", || progress_restore_reset(Enc::Bson)),
            ("progress_priorities", || progress_priorities(Enc::Json)),
            ("progress_priorities_bson64", || progress_priorities(Enc::Bson64)),
            ("partial_sequence_json", || partial_sequence(Enc::Json)),
            ("partial_sequence_bson", || partial_sequence(Enc::Bson)),
            ("partial_sequence_bson64", || partial_sequence(Enc::Bson64)),
            ("partial_remove_deferred", || partial_remove_deferred(Enc::Json)),
            ("unknown_lines_json", || unknown_lines(Enc::Json)),
            ("unknown_lines_bson", || unknown_lines(Enc::Bson)),
            ("trigger_resync_reapply", || trigger_resync_reapply(Enc::Json)),
            ("bson_specifics", bson_specifics),
            ("mixed_encodings", mixed_encodings),
            ("supersede_across_lines", || supersede_across_lines(Enc::Bson)),
            ("escaping_json", || escaping(Enc::Json)),
            ("escaping_bson", || escaping(Enc::Bson)),
            ("subkeys_and_keyless_ops_json", || {
                subkeys_and_keyless_ops(Enc::Json)
            }),
            ("subkeys_and_keyless_ops_bson", || {
                subkeys_and_keyless_ops(Enc::Bson)
            }),
            ("cross_bucket_remove_json", || cross_bucket_remove(Enc::Json)),
            ("cross_bucket_remove_bson", || cross_bucket_remove(Enc::Bson)),
            ("same_op_id_ties_json", || same_op_id_ties(Enc::Json)),
            ("same_op_id_ties_bson", || same_op_id_ties(Enc::Bson)),
            ("ambiguous_key_supersede", || ambiguous_key_supersede(Enc::Json)),
        ],
    );
}
