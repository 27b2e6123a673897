//! The target checkpoint being tracked (owned copy of a `checkpoint` line plus diffs).

use crate::line::{
    BucketChecksum, BucketSubscriptionReason, Checkpoint, CheckpointDiff, StreamDescription, SubscriptionRef,
};
use std::collections::BTreeMap;

/// One bucket of the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetBucket {
    /// Expected checksum (mod 2^32).
    pub checksum: u32,
    /// Priority (default 3).
    pub priority: i32,
    /// Total op count, for progress.
    pub count: Option<i64>,
    /// Stream subscriptions this bucket belongs to.
    pub reasons: Vec<BucketSubscriptionReason>,
}

impl TargetBucket {
    fn from_line(b: &BucketChecksum<'_>) -> Self {
        Self {
            checksum: b.checksum.0,
            priority: b.priority.map(|p| p.0).unwrap_or(3),
            count: b.count,
            reasons: b.subscriptions.clone(),
        }
    }
}

/// A stream error from the checkpoint line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamError {
    /// The stream's default subscription failed.
    Default(String),
    /// Request entry `i` failed.
    Explicit(usize, String),
}

/// A stream described by the last full checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetStream {
    /// Stream name.
    pub name: String,
    /// Default stream?
    pub is_default: bool,
    /// Errors to log at reconciliation.
    pub errors: Vec<StreamError>,
}

impl TargetStream {
    fn from_line(s: &StreamDescription<'_>) -> Self {
        Self {
            name: s.name.to_string(),
            is_default: s.is_default,
            errors: s
                .errors
                .iter()
                .map(|e| match &e.subscription {
                    SubscriptionRef::Default(_) => StreamError::Default(e.message.to_string()),
                    SubscriptionRef::Explicit(i) => StreamError::Explicit(*i, e.message.to_string()),
                })
                .collect(),
        }
    }
}

/// The checkpoint the client is downloading towards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Checkpoint op id.
    pub last_op_id: i64,
    /// Write checkpoint / checkpoint request id.
    pub write_checkpoint: Option<i64>,
    /// Buckets by name (sorted: failures and diagnostics are reported in name order).
    pub buckets: BTreeMap<String, TargetBucket>,
    /// Streams of the last full checkpoint line.
    pub streams: Vec<TargetStream>,
}

impl Target {
    /// From a `checkpoint` line (a later bucket entry with the same name wins).
    pub fn from_checkpoint(cp: &Checkpoint<'_>) -> Self {
        Self {
            last_op_id: cp.last_op_id,
            write_checkpoint: cp.write_checkpoint,
            buckets: cp
                .buckets
                .iter()
                .map(|b| (b.bucket.to_string(), TargetBucket::from_line(b)))
                .collect(),
            streams: cp.streams.iter().map(TargetStream::from_line).collect(),
        }
    }

    /// This target with a `checkpoint_diff` applied.
    pub fn with_diff(&self, diff: &CheckpointDiff<'_>) -> Self {
        let mut next = self.clone();
        for name in &diff.removed_buckets {
            next.buckets.remove(name.as_ref());
        }
        for b in &diff.updated_buckets {
            next.buckets
                .insert(b.bucket.to_string(), TargetBucket::from_line(b));
        }
        next.last_op_id = diff.last_op_id;
        next.write_checkpoint = diff.write_checkpoint;
        next
    }

    /// Names of buckets included in a sync at `priority` (all for `None`).
    pub fn included(&self, priority: Option<i32>) -> Vec<&str> {
        self.buckets
            .iter()
            .filter(|(_, b)| priority.is_none_or(|p| b.priority <= p))
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// `(name, checksum)` of the buckets included at `priority`.
    pub fn checksums(&self, priority: Option<i32>) -> Vec<(&str, u32)> {
        self.buckets
            .iter()
            .filter(|(_, b)| priority.is_none_or(|p| b.priority <= p))
            .map(|(n, b)| (n.as_str(), b.checksum))
            .collect()
    }
}
