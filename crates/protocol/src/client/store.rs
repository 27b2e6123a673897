//! What the state machine needs from storage. The state machine never runs SQL: it calls
//! this interface, implemented over SQLite by `powersync_core` (its `sync::storage` module)
//! and by an in-memory fake in the unit tests.

use crate::error::Result;
use crate::line::DataLine;
use crate::options::StreamKey;
use crate::status::PriorityStatus;

/// A row of `ps_stream_subscriptions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRow {
    /// Row id.
    pub id: i64,
    /// Stream name.
    pub stream_name: String,
    /// Whether the last checkpoint described the stream.
    pub active: bool,
    /// Whether it is a default stream.
    pub is_default: bool,
    /// Priority override requested by the app.
    pub local_priority: Option<i32>,
    /// Raw JSON text of the parameters (`'null'` when none).
    pub local_params: String,
    /// Seconds; set ⇔ explicit subscription.
    pub ttl: Option<i64>,
    /// Timestamp (µs).
    pub expires_at: Option<i64>,
    /// Timestamp (µs).
    pub last_synced_at: Option<i64>,
}

/// A bucket whose stored checksum does not match the checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumFailure {
    /// Bucket name.
    pub bucket: String,
    /// Checkpoint checksum.
    pub expected: u32,
    /// Stored `add_checksum`.
    pub add: u32,
    /// Stored `op_checksum`.
    pub op: u32,
}

impl ChecksumFailure {
    /// `<bucket> (expected 0x…, got 0x… = 0x… (op) + 0x… (add))` (docs/protocol.md#logline).
    pub fn describe(&self) -> String {
        format!(
            "{} (expected 0x{:08x}, got 0x{:08x} = 0x{:08x} (op) + 0x{:08x} (add))",
            self.bucket,
            self.expected,
            self.op.wrapping_add(self.add),
            self.op,
            self.add
        )
    }
}

/// The stored progress counters of one bucket (`ps_buckets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BucketCounters {
    /// Row id, used to reset exactly this bucket.
    pub id: i64,
    /// `count_at_last`: ops the bucket had at the last applied checkpoint.
    pub at_last: i64,
    /// `count_since_last`: ops downloaded since then.
    pub since_last: i64,
}

/// Which rows an apply publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyMode<'a> {
    /// Every bucket, plus `ps_updated_rows`.
    Full,
    /// Only these buckets (a partial checkpoint at `priority`).
    Partial {
        /// The priority of the partial checkpoint.
        priority: i32,
        /// Names of the included buckets.
        buckets: &'a [&'a str],
    },
}

/// Storage operations used by the sync state machine.
pub trait SyncStore {
    /// Current timestamp (µs, millisecond resolution) read through SQLite.
    fn now(&mut self) -> Result<i64>;
    /// `ps_sync_state` rows ordered by priority.
    fn priority_status(&mut self) -> Result<Vec<PriorityStatus>>;
    /// Every `ps_stream_subscriptions` row ordered by id.
    fn subscriptions(&mut self) -> Result<Vec<SubscriptionRow>>;
    /// `(name, last_op)` of every bucket not pending deletion, in table order.
    fn request_buckets(&mut self) -> Result<Vec<(String, i64)>>;
    /// Refreshes `expires_at` of the explicit subscriptions matching `streams`.
    fn refresh_ttl(&mut self, streams: &[StreamKey], now: i64) -> Result<()>;
    /// Deletes expired subscriptions and inactive ones without TTL.
    fn delete_outdated_subscriptions(&mut self, now: i64) -> Result<()>;
    /// `ps_kv['client_id']` (error if missing).
    fn client_id(&mut self) -> Result<String>;
    /// The id for `checkpoint_request` (docs/protocol.md#the-checkpoint-request-sent-on-connect).
    fn checkpoint_request_id(&mut self) -> Result<i64>;
    /// `ps_kv['target_checkpoint_request_id']`.
    fn target_checkpoint_request_id(&mut self) -> Result<Option<i64>>;
    /// Deletes buckets and their ops, recording their rows in `ps_updated_rows`.
    fn delete_buckets(&mut self, names: &[&str]) -> Result<()>;
    /// Progress counters of every bucket, by name.
    fn bucket_counters(&mut self) -> Result<std::collections::HashMap<String, BucketCounters>>;
    /// Zeroes the progress counters of the buckets with these row ids.
    fn reset_counters(&mut self, ids: &[i64]) -> Result<()>;
    /// Stores the ops of a data line; `size` is the byte length of the line payload.
    fn insert_data_line(&mut self, line: &DataLine<'_>, size: usize) -> Result<()>;
    /// Compares stored checksums with `(name, checksum)` pairs; returns failures.
    fn validate_checksums(&mut self, buckets: &[(&str, u32)]) -> Result<Vec<ChecksumFailure>>;
    /// Sets `last_op` of the named buckets.
    fn set_last_op(&mut self, buckets: &[&str], last_op: i64) -> Result<()>;
    /// Writes an INTEGER value into `ps_kv`.
    fn set_kv(&mut self, key: &str, value: i64) -> Result<()>;
    /// Whether local writes block applying (docs/protocol.md#the-write-gate).
    fn write_gate_closed(&mut self) -> Result<bool>;
    /// Publishes downloaded rows and records the sync in `ps_sync_state` at `now`.
    fn apply(&mut self, mode: ApplyMode<'_>, now: i64) -> Result<()>;
    /// Sets `count_at_last = count, count_since_last = 0` for the given buckets.
    fn set_counts(&mut self, counts: &[(&str, i64)]) -> Result<()>;
    /// Writes back a subscription row (active, is_default, ttl, expires_at, last_synced_at).
    fn update_subscription(&mut self, row: &SubscriptionRow) -> Result<()>;
    /// Deletes a subscription row.
    fn delete_subscription(&mut self, id: i64) -> Result<()>;
    /// Inserts a default-stream row (active, default, no TTL) and returns its id.
    fn insert_default_subscription(&mut self, stream: &str) -> Result<i64>;
    /// Sets `last_synced_at` of the given subscription rows.
    fn set_subscriptions_synced(&mut self, ids: &[i64], now: i64) -> Result<()>;
}
