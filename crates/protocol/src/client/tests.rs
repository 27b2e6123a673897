//! Unit tests of the state machine with an in-memory store (no SQL).

use super::iteration::Transition;
use super::store::{ApplyMode, BucketCounters, ChecksumFailure, SubscriptionRow, SyncStore};
use super::{SyncClient, SyncEvent};
use crate::error::{Error, Result};
use crate::instructions::{to_json, Instruction};
use crate::line::{DataLine, OpType};
use crate::options::StreamKey;
use crate::status::PriorityStatus;
use std::collections::{BTreeMap, HashMap};

/// An error of the fake store (the SQL store's are `PowerSyncError`s).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct StoreFailure(&'static str);

#[derive(Default, Clone)]
struct Bucket {
    last_op: i64,
    add: u32,
    op: u32,
    count_at_last: i64,
    since_last: i64,
}

/// A store keeping just enough state to drive the machine.
#[derive(Default)]
struct FakeStore {
    buckets: BTreeMap<String, Bucket>,
    kv: HashMap<String, i64>,
    crud_pending: bool,
    subscriptions: Vec<SubscriptionRow>,
    applied: Vec<String>,
    sync_state: Vec<PriorityStatus>,
    now: i64,
    /// Error returned by the next `insert_data_line`.
    fail_data: Option<Error>,
    /// `client_id` fails as on a database without one.
    fail_client_id: bool,
}

impl SyncStore for FakeStore {
    fn now(&mut self) -> Result<i64> {
        self.now += 1000;
        Ok(self.now)
    }
    fn priority_status(&mut self) -> Result<Vec<PriorityStatus>> {
        Ok(self.sync_state.clone())
    }
    fn subscriptions(&mut self) -> Result<Vec<SubscriptionRow>> {
        Ok(self.subscriptions.clone())
    }
    fn request_buckets(&mut self) -> Result<Vec<(String, i64)>> {
        Ok(self.buckets.iter().map(|(n, b)| (n.clone(), b.last_op)).collect())
    }
    fn refresh_ttl(&mut self, _: &[StreamKey], _: i64) -> Result<()> {
        Ok(())
    }
    fn delete_outdated_subscriptions(&mut self, _: i64) -> Result<()> {
        Ok(())
    }
    fn client_id(&mut self) -> Result<String> {
        if self.fail_client_id {
            return Err(Error::store(StoreFailure("No client_id found in ps_kv")));
        }
        Ok("client".into())
    }
    fn checkpoint_request_id(&mut self) -> Result<i64> {
        Ok(1)
    }
    fn target_checkpoint_request_id(&mut self) -> Result<Option<i64>> {
        Ok(self.kv.get("target_checkpoint_request_id").copied())
    }
    fn delete_buckets(&mut self, names: &[&str]) -> Result<()> {
        for n in names {
            self.buckets.remove(*n);
        }
        Ok(())
    }
    fn bucket_counters(&mut self) -> Result<HashMap<String, BucketCounters>> {
        Ok(self
            .buckets
            .iter()
            .enumerate()
            .map(|(i, (n, b))| {
                (
                    n.clone(),
                    BucketCounters {
                        id: i as i64,
                        at_last: b.count_at_last,
                        since_last: b.since_last,
                    },
                )
            })
            .collect())
    }
    fn reset_counters(&mut self, ids: &[i64]) -> Result<()> {
        for (i, b) in self.buckets.values_mut().enumerate() {
            if ids.contains(&(i as i64)) {
                b.count_at_last = 0;
                b.since_last = 0;
            }
        }
        Ok(())
    }
    fn insert_data_line(&mut self, line: &DataLine<'_>, _: usize) -> Result<()> {
        if let Some(e) = self.fail_data.take() {
            return Err(e);
        }
        let b = self.buckets.entry(line.bucket.to_string()).or_default();
        for op in &line.data {
            b.last_op = op.op_id;
            match op.op {
                OpType::Put => b.op = b.op.wrapping_add(op.checksum.0),
                _ => b.add = b.add.wrapping_add(op.checksum.0),
            }
        }
        b.since_last += line.data.len() as i64;
        Ok(())
    }
    fn validate_checksums(&mut self, buckets: &[(&str, u32)]) -> Result<Vec<ChecksumFailure>> {
        Ok(buckets
            .iter()
            .filter_map(|(n, c)| {
                let b = self.buckets.get(*n).cloned().unwrap_or_default();
                (b.add.wrapping_add(b.op) != *c).then(|| ChecksumFailure {
                    bucket: n.to_string(),
                    expected: *c,
                    add: b.add,
                    op: b.op,
                })
            })
            .collect())
    }
    fn set_last_op(&mut self, buckets: &[&str], last_op: i64) -> Result<()> {
        for n in buckets {
            if let Some(b) = self.buckets.get_mut(*n) {
                b.last_op = last_op;
            }
        }
        Ok(())
    }
    fn set_kv(&mut self, key: &str, value: i64) -> Result<()> {
        self.kv.insert(key.into(), value);
        Ok(())
    }
    fn write_gate_closed(&mut self) -> Result<bool> {
        let target = self.kv.get("target_checkpoint_request_id").copied();
        let seen = self
            .kv
            .get("last_seen_checkpoint_request_id")
            .copied()
            .unwrap_or(0);
        Ok(self.crud_pending || target.is_some_and(|t| t > seen))
    }
    fn apply(&mut self, mode: ApplyMode<'_>, _: i64) -> Result<()> {
        self.applied.push(match mode {
            ApplyMode::Full => "full".into(),
            ApplyMode::Partial { priority, buckets } => format!("partial {priority} {buckets:?}"),
        });
        Ok(())
    }
    fn set_counts(&mut self, counts: &[(&str, i64)]) -> Result<()> {
        for (n, c) in counts {
            if let Some(b) = self.buckets.get_mut(*n) {
                b.count_at_last = *c;
                b.since_last = 0;
            }
        }
        Ok(())
    }
    fn update_subscription(&mut self, row: &SubscriptionRow) -> Result<()> {
        if let Some(r) = self.subscriptions.iter_mut().find(|r| r.id == row.id) {
            *r = row.clone();
        }
        Ok(())
    }
    fn delete_subscription(&mut self, id: i64) -> Result<()> {
        self.subscriptions.retain(|r| r.id != id);
        Ok(())
    }
    fn insert_default_subscription(&mut self, stream: &str) -> Result<i64> {
        let id = self.subscriptions.iter().map(|r| r.id).max().unwrap_or(0) + 1;
        self.subscriptions.push(SubscriptionRow {
            id,
            stream_name: stream.into(),
            active: true,
            is_default: true,
            local_priority: None,
            local_params: "null".into(),
            ttl: None,
            expires_at: None,
            last_synced_at: None,
        });
        Ok(id)
    }
    fn set_subscriptions_synced(&mut self, _: &[i64], _: i64) -> Result<()> {
        Ok(())
    }
}

struct Harness {
    client: SyncClient,
    store: FakeStore,
}

impl Harness {
    fn new() -> Self {
        Self {
            client: SyncClient::default(),
            store: FakeStore::default(),
        }
    }

    fn start(&mut self) -> String {
        let out = self
            .client
            .handle(SyncEvent::Start(Box::default()), &mut self.store)
            .unwrap();
        to_json(&out)
    }

    fn line(&mut self, line: &str) -> Result<String> {
        self.client
            .handle(SyncEvent::TextLine(line), &mut self.store)
            .map(|out| to_json(&out))
    }

    fn event(&mut self, e: SyncEvent<'_>) -> Result<Vec<Instruction>> {
        self.client.handle(e, &mut self.store)
    }
}

const CP: &str = r#"{"checkpoint":{"last_op_id":"2","buckets":[{"bucket":"a","checksum":12,"priority":1,"count":2},{"bucket":"b","checksum":0,"count":0}]}}"#;
const DATA: &str = r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":"PUT","object_type":"t","object_id":"1","checksum":5,"data":"{}"},{"op_id":"2","op":"PUT","object_type":"t","object_id":"2","checksum":7,"data":"{}"}]}}"#;
const COMPLETE: &str = r#"{"checkpoint_complete":{"last_op_id":"2"}}"#;

#[test]
fn start_emits_status_and_request() {
    let mut h = Harness::new();
    h.store.buckets.insert(
        "x".into(),
        Bucket {
            last_op: 7,
            ..Default::default()
        },
    );
    assert_eq!(
        h.start(),
        r#"[{"UpdateSyncStatus":{"status":{"connected":false,"connecting":true,"priority_status":[],"downloading":null,"streams":[]}}},{"EstablishSyncStream":{"request":{"buckets":[{"name":"x","after":"7"}],"include_checksum":true,"raw_data":true,"binary_data":true,"client_id":"client","parameters":null,"streams":{"include_defaults":true,"subscriptions":[]}}}}]"#
    );
    assert!(h.client.is_active());
}

#[test]
fn idle_events_fail_and_stop_is_empty() {
    let mut h = Harness::new();
    let e = h.line(COMPLETE).unwrap_err();
    assert_eq!(e.to_string(), "invalid state: No iteration is active");
    assert!(h.event(SyncEvent::Stop).unwrap().is_empty());
}

#[test]
fn full_iteration_and_deduplication() {
    let mut h = Harness::new();
    h.start();
    let out = h.line(CP).unwrap();
    assert!(out.contains(r#""prio_3":{"priority":3,"at_last":0,"since_last":0,"target_count":0},"prio_1":{"priority":1,"at_last":0,"since_last":0,"target_count":2}"#), "{out}");
    // The same checkpoint again changes nothing.
    assert_eq!(h.line(CP).unwrap(), "[]");
    let out = h.line(DATA).unwrap();
    assert!(out.contains(r#""since_last":2,"target_count":2"#), "{out}");
    let out = h.line(COMPLETE).unwrap();
    assert!(out.starts_with(r#"[{"LogLine":{"severity":"DEBUG","line":"Validated and applied checkpoint"}},{"DidCompleteSync":{}},{"UpdateSyncStatus":{"status":{"connected":true,"connecting":false,"priority_status":[{"priority":2147483647,"last_synced_at":"#), "{out}");
    assert!(out.ends_with(r#""has_synced":true}],"downloading":null,"streams":[]}}}]"#));
    assert_eq!(h.store.applied, vec!["full"]);
    assert_eq!(h.store.buckets["a"].count_at_last, 2);
    let out = to_json(&h.event(SyncEvent::Stop).unwrap());
    assert!(out.ends_with(r#"{"CloseSyncStream":{"hide_disconnect":false}}]"#));
    assert!(!h.client.is_active());
}

const DISCONNECTED: &str = r#"{"UpdateSyncStatus":{"status":{"connected":false,"connecting":false,"priority_status":[],"downloading":null,"streams":[]}}}"#;

#[test]
fn checksum_failure_ends_iteration() {
    let mut h = Harness::new();
    h.start();
    h.line(CP).unwrap();
    h.line(r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":"PUT","object_type":"t","object_id":"1","checksum":4321,"data":"{}"}]}}"#).unwrap();
    let out = h.line(COMPLETE).unwrap();
    assert_eq!(
        out,
        format!(
            r#"[{{"LogLine":{{"severity":"WARNING","line":"Could not apply checkpoint, Checksums didn't match, failed for: a (expected 0x0000000c, got 0x000010e1 = 0x000010e1 (op) + 0x00000000 (add))"}}}},{DISCONNECTED},{{"CloseSyncStream":{{"hide_disconnect":false}}}}]"#
        )
    );
    assert!(!h.client.is_active());
    assert!(!h.store.buckets.contains_key("a"));
}

#[test]
fn partial_checksum_failure_reads_like_the_full_one() {
    let mut h = Harness::new();
    h.start();
    h.line(CP).unwrap();
    let out = h
        .line(r#"{"partial_checkpoint_complete":{"last_op_id":"2","priority":1}}"#)
        .unwrap();
    assert!(
        out.starts_with(r#"[{"LogLine":{"severity":"WARNING","line":"Could not apply checkpoint, Checksums didn't match, failed for: a (expected 0x0000000c"#),
        "{out}"
    );
    assert!(out.ends_with(&format!(
        r#"{DISCONNECTED},{{"CloseSyncStream":{{"hide_disconnect":false}}}}]"#
    )));
    assert!(!h.client.is_active());
}

#[test]
fn write_gate_and_completed_upload() {
    let mut h = Harness::new();
    h.start();
    h.line(r#"{"checkpoint":{"last_op_id":"2","write_checkpoint":"3","buckets":[{"bucket":"a","checksum":12,"priority":1}]}}"#).unwrap();
    h.line(DATA).unwrap();
    h.store.kv.insert("target_checkpoint_request_id".into(), i64::MAX);
    let out = h.line(COMPLETE).unwrap();
    assert_eq!(
        out,
        r#"[{"CheckpointDelayedDueToLocalData":{}},{"LogLine":{"severity":"INFO","line":"Could not apply checkpoint due to local data. Will retry at completed upload or next checkpoint."}}]"#
    );
    assert_eq!(h.store.kv["last_seen_checkpoint_request_id"], 3);
    assert!(h.store.applied.is_empty());
    // Priority 0 would bypass the gate, priority 1 does not.
    assert_eq!(
        h.line(r#"{"partial_checkpoint_complete":{"last_op_id":"2","priority":1}}"#)
            .unwrap(),
        r#"[{"CheckpointDelayedDueToLocalData":{}}]"#
    );
    assert!(h.store.applied.is_empty());
    // Target newer than the pending write checkpoint: skipped silently, but kept pending.
    h.store.kv.insert("target_checkpoint_request_id".into(), 4);
    assert!(h.event(SyncEvent::CompletedUpload).unwrap().is_empty());
    // Local writes still pending: a warning, and still pending.
    h.store.kv.insert("target_checkpoint_request_id".into(), 3);
    h.store.crud_pending = true;
    let out = to_json(&h.event(SyncEvent::CompletedUpload).unwrap());
    assert_eq!(
        out,
        r#"[{"LogLine":{"severity":"WARNING","line":"Could not apply pending checkpoint even after completed upload"}}]"#
    );
    // Once the upload went through, the same pending checkpoint is applied.
    h.store.crud_pending = false;
    let out = to_json(&h.event(SyncEvent::CompletedUpload).unwrap());
    assert!(out.starts_with(r#"[{"LogLine":{"severity":"DEBUG","line":"Applied pending checkpoint after completed upload"}},{"LogLine":{"severity":"DEBUG","line":"Applied checkpoint request id 3"}},{"DidCompleteSync":{"applied_checkpoint_request_id":"3"}}"#), "{out}");
    assert!(out.contains(r#""internal_last_applied_checkpoint_request_id":"3""#));
    assert_eq!(h.store.kv["last_applied_checkpoint_request_id"], 3);
    // Applied: nothing pending any more.
    assert!(h.event(SyncEvent::CompletedUpload).unwrap().is_empty());
}

#[test]
fn partial_apply_discards_the_pending_checkpoint() {
    let mut h = Harness::new();
    h.start();
    h.line(r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":0,"priority":0},{"bucket":"b","checksum":0}]}}"#).unwrap();
    h.store.crud_pending = true;
    h.line(COMPLETE).unwrap();
    assert!(h.client.iteration().unwrap().pending.is_some());
    // Priority 0 is applied despite the local write, and that drops the pending checkpoint.
    h.line(r#"{"partial_checkpoint_complete":{"last_op_id":"1","priority":0}}"#)
        .unwrap();
    assert!(h.client.iteration().unwrap().pending.is_none());
    h.store.crud_pending = false;
    assert!(h.event(SyncEvent::CompletedUpload).unwrap().is_empty());
    assert_eq!(h.store.applied, vec![r#"partial 0 ["a"]"#]);
}

#[test]
fn all_priority_zero_checkpoint_is_published_despite_local_writes() {
    let mut h = Harness::new();
    h.start();
    h.line(r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":0,"priority":0},{"bucket":"b","checksum":0,"priority":0}]}}"#).unwrap();
    h.store.crud_pending = true;
    let out = h.line(COMPLETE).unwrap();
    assert!(
        out.starts_with(r#"[{"CheckpointDelayedDueToLocalData":{}},{"LogLine":{"severity":"INFO","#),
        "{out}"
    );
    assert!(out.contains(r#"{"UpdateSyncStatus":{"status":{"connected":true,"connecting":false,"priority_status":[{"priority":0,"last_synced_at":"#), "{out}");
    assert_eq!(h.store.applied, vec![r#"partial 0 ["a", "b"]"#]);
    // Still pending as a full checkpoint: applied fully once the writes are uploaded.
    h.store.crud_pending = false;
    let out = to_json(&h.event(SyncEvent::CompletedUpload).unwrap());
    assert!(
        out.contains("Applied pending checkpoint after completed upload"),
        "{out}"
    );
    assert_eq!(h.store.applied.last().unwrap(), "full");
}

#[test]
fn progress_reset_is_per_bucket() {
    let mut h = Harness::new();
    for name in ["a", "b"] {
        h.store.buckets.insert(
            name.into(),
            Bucket {
                count_at_last: 10,
                since_last: 5,
                ..Default::default()
            },
        );
    }
    h.start();
    let out = h
        .line(r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":0,"count":20},{"bucket":"b","checksum":0,"count":2}]}}"#)
        .unwrap();
    // a keeps 10 + 5 of 20; b shrank to 2 and starts again: 5 of (20 - 10) + 2.
    assert!(
        out.contains(r#""prio_3":{"priority":3,"at_last":0,"since_last":5,"target_count":12}"#),
        "{out}"
    );
    assert_eq!(
        (
            h.store.buckets["a"].count_at_last,
            h.store.buckets["a"].since_last
        ),
        (10, 5)
    );
    assert_eq!(
        (
            h.store.buckets["b"].count_at_last,
            h.store.buckets["b"].since_last
        ),
        (0, 0)
    );
}

#[test]
fn errors_keep_the_iteration_unchanged() {
    let mut h = Harness::new();
    h.start();
    h.line(CP).unwrap();
    for code in [5, 1299] {
        let before = format!("{:?}", h.client.iteration().unwrap());
        h.store.fail_data = Some(Error::store(StoreFailure(if code == 5 {
            "busy"
        } else {
            "constraint"
        })));
        h.line(DATA).unwrap_err();
        assert!(h.client.is_active());
        assert_eq!(format!("{:?}", h.client.iteration().unwrap()), before);
    }
    // The line delivered again is counted once.
    let out = h.line(DATA).unwrap();
    assert!(out.contains(r#""since_last":2,"target_count":2"#), "{out}");
}

#[test]
fn protocol_errors_keep_the_iteration() {
    let mut h = Harness::new();
    h.start();
    let before = format!("{:?}", h.client.iteration().unwrap());
    let e = h.line(COMPLETE).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Sync protocol error: Received checkpoint complete without previous checkpoint. cause: unknown"
    );
    let e = h
        .line(r#"{"partial_checkpoint_complete":{"last_op_id":"1","priority":1}}"#)
        .unwrap_err();
    assert!(matches!(e, Error::State(_)), "{e:?}");
    h.line("{").unwrap_err();
    assert_eq!(format!("{:?}", h.client.iteration().unwrap()), before);
    // The iteration goes on normally.
    assert!(h.line(CP).unwrap().contains(r#""connected":true"#));
    let out = to_json(&h.event(SyncEvent::Stop).unwrap());
    assert!(
        out.ends_with(r#"{"CloseSyncStream":{"hide_disconnect":false}}]"#),
        "{out}"
    );
}

#[test]
fn prepare_leaves_the_iteration_alone_and_commit_applies() {
    let mut h = Harness::new();
    h.start();
    h.line(CP).unwrap();
    let it = h.client.iteration.as_mut().unwrap();
    let before = format!("{it:?}");
    // Everything is written by prepare; the iteration does not change until commit.
    let plan = it.prepare(SyncEvent::TextLine(DATA), &mut h.store).unwrap();
    assert_eq!(h.store.buckets["a"].since_last, 2);
    assert_eq!(format!("{it:?}"), before);
    assert!(matches!(plan.draft.transition, Transition::Data { .. }));
    let outcome = it.commit(plan);
    assert!(!outcome.ended);
    assert_ne!(format!("{it:?}"), before);
    // A blocked checkpoint: the plan carries the pending checkpoint, commit stores it.
    h.store.crud_pending = true;
    let plan = it.prepare(SyncEvent::TextLine(COMPLETE), &mut h.store).unwrap();
    assert!(it.pending.is_none());
    assert!(matches!(
        plan.draft.transition,
        Transition::Delayed { partial: None, .. }
    ));
    it.commit(plan);
    assert!(it.pending.is_some());
    // A close: commit reports the end; the machine drops the iteration.
    let plan = it.prepare(SyncEvent::RefreshedToken, &mut h.store).unwrap();
    let outcome = it.commit(plan);
    assert!(outcome.ended);
    assert_eq!(
        to_json(&outcome.instructions),
        format!(r#"[{DISCONNECTED},{{"CloseSyncStream":{{"hide_disconnect":true}}}}]"#)
    );
}

#[test]
fn a_failed_prepare_aborts_without_a_plan() {
    let mut h = Harness::new();
    h.start();
    h.line(CP).unwrap();
    let it = h.client.iteration.as_mut().unwrap();
    let before = format!("{it:?}");
    h.store.fail_data = Some(Error::store(StoreFailure("busy")));
    let aborted = it.prepare(SyncEvent::TextLine(DATA), &mut h.store).unwrap_err();
    assert_eq!(aborted.error().to_string(), "busy");
    let e = it.abort(aborted);
    assert!(matches!(e, Error::Store(_)));
    assert_eq!(format!("{it:?}"), before);
}

/// A plan prepared from a state that has since changed is refused.
#[cfg(debug_assertions)]
#[test]
#[should_panic(expected = "plan prepared from an older state")]
fn a_stale_plan_cannot_be_committed() {
    let mut h = Harness::new();
    h.start();
    h.line(CP).unwrap();
    let it = h.client.iteration.as_mut().unwrap();
    let first = it
        .prepare(SyncEvent::ConnectionEstablished, &mut h.store)
        .unwrap();
    let second = it
        .prepare(SyncEvent::ConnectionEstablished, &mut h.store)
        .unwrap();
    let _ = it.commit(first);
    let _ = it.commit(second);
}

#[test]
fn failed_start_keeps_the_previous_iteration() {
    let mut h = Harness::new();
    h.start();
    h.line(CP).unwrap();
    let before = format!("{:?}", h.client.iteration().unwrap());
    h.store.fail_client_id = true;
    let e = h
        .client
        .handle(SyncEvent::Start(Box::default()), &mut h.store)
        .unwrap_err();
    assert!(matches!(e, Error::Store(_)), "{e:?}");
    assert_eq!(e.to_string(), "No client_id found in ps_kv");
    assert_eq!(format!("{:?}", h.client.iteration().unwrap()), before);
    // A successful start replaces it, without instructions for the old one.
    h.store.fail_client_id = false;
    let out = h.start();
    assert!(
        out.starts_with(r#"[{"UpdateSyncStatus":{"status":{"connected":false,"connecting":true"#),
        "{out}"
    );
    assert!(!out.contains("CloseSyncStream"));
}

#[test]
fn data_line_does_not_mark_connected() {
    let mut h = Harness::new();
    h.start();
    assert_eq!(h.line(DATA).unwrap(), "[]");
    assert!(h.client.iteration().unwrap().status().connecting);
    // Unknown lines and keepalives do.
    let out = h.line(r#"{"something_new":1}"#).unwrap();
    assert!(out.contains(r#""connected":true,"connecting":false"#), "{out}");
}

#[test]
fn token_expiry_thresholds() {
    for (secs, expected) in [
        (31, "[]".to_string()),
        (30, r#"[{"FetchCredentials":{"did_expire":false}}]"#.to_string()),
        (1, r#"[{"FetchCredentials":{"did_expire":false}}]"#.to_string()),
        (
            0,
            format!(
                r#"[{{"FetchCredentials":{{"did_expire":true}}}},{DISCONNECTED},{{"CloseSyncStream":{{"hide_disconnect":false}}}}]"#
            ),
        ),
        (
            -5,
            format!(
                r#"[{{"FetchCredentials":{{"did_expire":true}}}},{DISCONNECTED},{{"CloseSyncStream":{{"hide_disconnect":false}}}}]"#
            ),
        ),
    ] {
        let mut h = Harness::new();
        h.start();
        h.event(SyncEvent::ConnectionEstablished).unwrap();
        let out = h.line(&format!(r#"{{"token_expires_in":{secs}}}"#)).unwrap();
        assert_eq!(out, expected, "{secs}");
    }
}

#[test]
fn partial_checkpoints_update_priority_status() {
    let mut h = Harness::new();
    h.start();
    h.line(CP).unwrap();
    h.line(DATA).unwrap();
    let out = h
        .line(r#"{"partial_checkpoint_complete":{"last_op_id":"2","priority":1}}"#)
        .unwrap();
    assert!(out.contains(r#""priority_status":[{"priority":1,"#), "{out}");
    assert_eq!(h.store.applied, vec![r#"partial 1 ["a"]"#]);
}

#[test]
fn default_streams_are_created_and_resolved() {
    let mut h = Harness::new();
    h.start();
    let out = h.line(r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":0,"priority":2,"subscriptions":[{"default":0}]}],"streams":[{"name":"s","is_default":true,"errors":[{"subscription":"x","message":"m"}]}]}}"#).unwrap();
    assert!(
        out.starts_with(
            r#"[{"LogLine":{"severity":"WARNING","line":"Default subscription s has errors: m"}}"#
        ),
        "{out}"
    );
    assert!(out.contains(r#""streams":[{"name":"s","parameters":null,"priority":2,"active":true,"is_default":true,"has_explicit_subscription":false,"expires_at":null,"last_synced_at":null,"progress":{"total":0,"downloaded":0}}]"#), "{out}");
    assert_eq!(h.store.subscriptions.len(), 1);
}
