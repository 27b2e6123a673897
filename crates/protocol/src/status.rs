//! The sync status reported through `UpdateSyncStatus` and `powersync_offline_sync_status()`
//! (docs/protocol.md#updatesyncstatus-and-the-status-object, docs/protocol.md#download-progress, docs/protocol.md#streams-in-the-status).
//!
//! Progress is kept per bucket (for streams and diagnostics) and, incrementally, per priority
//! (for the status itself), so that a data line updates the status in O(1) and serialising it
//! costs O(priorities + streams), not O(buckets).

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use std::collections::{BTreeMap, HashMap};

/// The priority number meaning "complete sync of everything".
pub const FULL_SYNC_PRIORITY: i32 = i32::MAX;

/// One `priority_status` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriorityStatus {
    /// Priority number (2147483647 = complete sync).
    pub priority: i32,
    /// Timestamp (µs) of the last sync at this priority.
    pub last_synced_at: Option<i64>,
    /// Always `true` for entries we create.
    pub has_synced: Option<bool>,
}

/// Raw progress counters of one bucket (also the diagnostics' `BucketProgress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BucketProgress {
    /// Bucket priority.
    pub priority: i32,
    /// `ps_buckets.count_at_last` when the checkpoint arrived.
    pub at_last: i64,
    /// Ops downloaded since the last applied checkpoint.
    pub since_last: i64,
    /// `count` of the checkpoint (0 if absent).
    pub target_count: i64,
    /// The stored counters were reset because the bucket shrank below them. Never shown, but
    /// part of what decides whether the status changed (the reference hashes its whole
    /// in-memory status, this flag included): the same checkpoint received again after a
    /// reset is reported again.
    #[serde(skip)]
    pub reset_counter: bool,
}

/// Progress towards the tracked checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownloadProgress {
    /// Per bucket name.
    pub buckets: HashMap<String, BucketProgress>,
    /// Per priority: (Σ target_count − at_last, Σ since_last), kept in step with `buckets`.
    by_priority: BTreeMap<i32, (i64, i64)>,
}

impl DownloadProgress {
    /// Builds progress from per-bucket values.
    pub fn new(buckets: HashMap<String, BucketProgress>) -> Self {
        let mut by_priority = BTreeMap::new();
        for p in buckets.values() {
            let e: &mut (i64, i64) = by_priority.entry(p.priority).or_default();
            e.0 += p.target_count - p.at_last;
            e.1 += p.since_last;
        }
        Self { buckets, by_priority }
    }

    /// Adds `n` downloaded ops to `bucket`, if it is tracked. Returns whether it was.
    pub fn add_downloaded(&mut self, bucket: &str, n: i64) -> bool {
        match self.buckets.get_mut(bucket) {
            Some(p) => {
                p.since_last += n;
                self.by_priority.entry(p.priority).or_default().1 += n;
                true
            }
            None => false,
        }
    }
}

impl Serialize for DownloadProgress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Buckets<'a>(&'a BTreeMap<i32, (i64, i64)>);
        impl Serialize for Buckets<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.0.len()))?;
                // Lowest priority (largest number) first, as the reference emits them.
                for (prio, (total, downloaded)) in self.0.iter().rev() {
                    map.serialize_entry(
                        &format!("prio_{prio}"),
                        &BucketProgress {
                            priority: *prio,
                            at_last: 0,
                            since_last: *downloaded,
                            target_count: *total,
                            reset_counter: false,
                        },
                    )?;
                }
                map.end()
            }
        }
        let mut st = s.serialize_struct("DownloadProgress", 1)?;
        st.serialize_field("buckets", &Buckets(&self.by_priority))?;
        st.end()
    }
}

/// A row of `ps_stream_subscriptions` as shown in the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamStatus {
    /// Row id.
    pub id: i64,
    /// Stream name.
    pub name: String,
    /// Raw `local_params` text (`None` for `'null'`).
    pub params: Option<String>,
    /// Lowest priority among associated buckets.
    pub priority: Option<i32>,
    /// Whether the last checkpoint described this stream.
    pub active: bool,
    /// Whether it is a default stream.
    pub is_default: bool,
    /// `ttl IS NOT NULL`.
    pub has_explicit_subscription: bool,
    /// Expiry timestamp (µs).
    pub expires_at: Option<i64>,
    /// Last sync timestamp (µs).
    pub last_synced_at: Option<i64>,
    /// Names of the buckets associated with this stream by the tracked checkpoint.
    pub buckets: Vec<String>,
}

/// The whole status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStatus {
    /// The stream is considered open.
    pub connected: bool,
    /// Between `start` and the first line / `connection established`.
    pub connecting: bool,
    /// Sorted by priority number, ascending.
    pub priority_status: Vec<PriorityStatus>,
    /// Progress while a checkpoint is tracked.
    pub downloading: Option<DownloadProgress>,
    /// Stream subscriptions.
    pub streams: Vec<StreamStatus>,
    /// The request id applied by the last full apply (runtime only).
    pub internal_last_applied_checkpoint_request_id: Option<i64>,
}

impl SyncStatus {
    /// Records a partial sync at `priority`: drops entries with priority number ≤ it and
    /// inserts the new entry at the front (docs/protocol.md#priorities-and-partial-checkpoints step 6).
    pub fn partial_synced(&mut self, priority: i32, now: i64) {
        self.priority_status.retain(|e| e.priority > priority);
        self.priority_status.insert(
            0,
            PriorityStatus {
                priority,
                last_synced_at: Some(now),
                has_synced: Some(true),
            },
        );
    }

    /// Records a complete sync (docs/protocol.md#completing-a-checkpoint step 8).
    pub fn full_synced(&mut self, now: i64) {
        self.priority_status = vec![PriorityStatus {
            priority: FULL_SYNC_PRIORITY,
            last_synced_at: Some(now),
            has_synced: Some(true),
        }];
        self.downloading = None;
    }

    /// Compact JSON of the status, as emitted.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("status serialisation cannot fail")
    }
}

struct StreamJson<'a>(&'a StreamStatus, Option<&'a DownloadProgress>);

impl Serialize for StreamJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Progress {
            total: i64,
            downloaded: i64,
        }
        let stream = self.0;
        let mut progress = Progress {
            total: 0,
            downloaded: 0,
        };
        if let Some(dl) = self.1 {
            for b in &stream.buckets {
                if let Some(p) = dl.buckets.get(b) {
                    progress.total += p.target_count - p.at_last;
                    progress.downloaded += p.since_last;
                }
            }
        }
        let params: Option<&RawValue> = stream
            .params
            .as_deref()
            .and_then(|p| serde_json::from_str::<&RawValue>(p).ok());
        let mut st = s.serialize_struct("Stream", 9)?;
        st.serialize_field("name", &stream.name)?;
        st.serialize_field("parameters", &params)?;
        st.serialize_field("priority", &stream.priority)?;
        st.serialize_field("active", &stream.active)?;
        st.serialize_field("is_default", &stream.is_default)?;
        st.serialize_field("has_explicit_subscription", &stream.has_explicit_subscription)?;
        st.serialize_field("expires_at", &stream.expires_at)?;
        st.serialize_field("last_synced_at", &stream.last_synced_at)?;
        st.serialize_field("progress", &progress)?;
        st.end()
    }
}

impl Serialize for SyncStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Streams<'a>(&'a SyncStatus);
        impl Serialize for Streams<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(
                    self.0
                        .streams
                        .iter()
                        .map(|st| StreamJson(st, self.0.downloading.as_ref())),
                )
            }
        }
        let mut st = s.serialize_struct("SyncStatus", 6)?;
        st.serialize_field("connected", &self.connected)?;
        st.serialize_field("connecting", &self.connecting)?;
        st.serialize_field("priority_status", &self.priority_status)?;
        st.serialize_field("downloading", &self.downloading)?;
        st.serialize_field("streams", &Streams(self))?;
        if let Some(id) = self.internal_last_applied_checkpoint_request_id {
            st.serialize_field("internal_last_applied_checkpoint_request_id", &id.to_string())?;
        }
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_status_json() {
        let s = SyncStatus {
            connecting: true,
            ..Default::default()
        };
        assert_eq!(
            s.to_json(),
            r#"{"connected":false,"connecting":true,"priority_status":[],"downloading":null,"streams":[]}"#
        );
    }

    #[test]
    fn progress_aggregates_per_priority_lowest_first() {
        let mut buckets = HashMap::new();
        let bp = |priority, at_last, since_last, target_count| BucketProgress {
            priority,
            at_last,
            since_last,
            target_count,
            reset_counter: false,
        };
        buckets.insert("a".to_string(), bp(1, 2, 1, 10));
        buckets.insert("b".to_string(), bp(3, 0, 0, 4));
        buckets.insert("c".to_string(), bp(1, 0, 2, 3));
        let mut p = DownloadProgress::new(buckets);
        assert!(p.add_downloaded("b", 2));
        assert!(!p.add_downloaded("x", 2));
        let s = SyncStatus {
            downloading: Some(p),
            internal_last_applied_checkpoint_request_id: Some(7),
            ..Default::default()
        };
        assert_eq!(
            s.to_json(),
            r#"{"connected":false,"connecting":false,"priority_status":[],"downloading":{"buckets":{"prio_3":{"priority":3,"at_last":0,"since_last":2,"target_count":4},"prio_1":{"priority":1,"at_last":0,"since_last":3,"target_count":11}}},"streams":[],"internal_last_applied_checkpoint_request_id":"7"}"#
        );
    }

    #[test]
    fn partial_then_full() {
        let mut s = SyncStatus::default();
        s.full_synced(10);
        s.partial_synced(2, 20);
        s.partial_synced(1, 30);
        let prios: Vec<i32> = s.priority_status.iter().map(|e| e.priority).collect();
        assert_eq!(prios, vec![1, 2, FULL_SYNC_PRIORITY]);
        s.partial_synced(2, 40);
        let prios: Vec<i32> = s.priority_status.iter().map(|e| e.priority).collect();
        assert_eq!(prios, vec![2, FULL_SYNC_PRIORITY]);
        s.full_synced(50);
        assert_eq!(s.priority_status.len(), 1);
    }
}
