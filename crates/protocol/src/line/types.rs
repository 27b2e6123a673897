//! Sync lines as sent by the PowerSync service (docs/protocol.md#sync-lines).
//!
//! One set of types for both encodings (JSON text and BSON). Strings borrow from the input
//! where the encoding allows it (`Cow::Borrowed`), so decoding a data line allocates only the
//! vectors, not the row payloads.
//!
//! The `Deserialize` implementations mirror the reference's serde model (struct names, field
//! order, which fields default), because its decoder errors quote them, e.g. `invalid type:
//! null, expected struct DataLine` or `invalid length 1, expected struct BucketChecksum with 5
//! elements` (structs may also be sent as arrays). Scalars with special rules live in
//! `super::de`.

use super::de;
use serde::Deserialize;
use std::borrow::Cow;

/// An op id (`last_op_id`, `op_id`, `write_checkpoint`): sent as a decimal string.
pub type OpId = i64;

/// A bucket checksum: any integer in [-2^31, 2^32-1] (or a whole float) taken modulo 2^32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Checksum(pub u32);

impl Checksum {
    /// Wrapping addition, as checksums are sums modulo 2^32.
    pub fn wrapping_add(self, other: Checksum) -> Checksum {
        Checksum(self.0.wrapping_add(other.0))
    }

    /// Wrapping subtraction.
    pub fn wrapping_sub(self, other: Checksum) -> Checksum {
        Checksum(self.0.wrapping_sub(other.0))
    }

    /// The value as stored in `ps_oplog.hash` (reinterpreted as signed 32-bit).
    pub fn as_i32(self) -> i32 {
        self.0 as i32
    }
}

/// A bucket priority: 0 is the highest; 3 is the default; 2147483647 is reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketPriority(pub i32);

impl BucketPriority {
    /// Priority used when a checkpoint omits it.
    pub const DEFAULT: BucketPriority = BucketPriority(3);
    /// The sentinel meaning "complete sync of everything" (never a bucket's priority).
    pub const SENTINEL: BucketPriority = BucketPriority(i32::MAX);
    /// The highest priority, whose partial checkpoints bypass the local write gate.
    pub const HIGHEST: BucketPriority = BucketPriority(0);
}

impl Default for BucketPriority {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One decoded sync line.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncLine<'a> {
    /// `checkpoint`: a new target checkpoint.
    Checkpoint(Checkpoint<'a>),
    /// `checkpoint_diff`: changes to the current target.
    CheckpointDiff(CheckpointDiff<'a>),
    /// `checkpoint_complete`: all data of the target has been sent.
    CheckpointComplete,
    /// `partial_checkpoint_complete`: all data up to a priority has been sent.
    PartialCheckpointComplete(PartialCheckpointComplete),
    /// `data`: operations of one bucket.
    Data(DataLine<'a>),
    /// `token_expires_in`: seconds until the token expires; also the keepalive.
    TokenExpiresIn(i32),
    /// A line type this client does not know.
    Unknown,
}

impl SyncLine<'_> {
    /// The line type as it appears on the wire, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            SyncLine::Checkpoint(_) => "checkpoint",
            SyncLine::CheckpointDiff(_) => "checkpoint_diff",
            SyncLine::CheckpointComplete => "checkpoint_complete",
            SyncLine::PartialCheckpointComplete(_) => "partial_checkpoint_complete",
            SyncLine::Data(_) => "data",
            SyncLine::TokenExpiresIn(_) => "token_expires_in",
            SyncLine::Unknown => "unknown",
        }
    }
}

/// Body of a `checkpoint` line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Checkpoint<'a> {
    /// Op id the checkpoint is at.
    #[serde(deserialize_with = "de::op_id")]
    pub last_op_id: OpId,
    /// Write checkpoint / checkpoint request id acknowledged by this checkpoint.
    #[serde(default, deserialize_with = "de::optional_op_id")]
    pub write_checkpoint: Option<OpId>,
    /// Buckets with their checksums (a later entry with the same name wins).
    #[serde(borrow)]
    pub buckets: Vec<BucketChecksum<'a>>,
    /// Stream descriptions.
    #[serde(default, borrow)]
    pub streams: Vec<StreamDescription<'a>>,
}

/// One bucket of a checkpoint.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BucketChecksum<'a> {
    /// Bucket name.
    #[serde(borrow)]
    pub bucket: Cow<'a, str>,
    /// Checksum of all ops of the bucket up to the checkpoint.
    pub checksum: Checksum,
    /// Priority (`None` if absent: default 3).
    #[serde(default)]
    pub priority: Option<BucketPriority>,
    /// Total number of ops, used for progress.
    #[serde(default)]
    pub count: Option<i64>,
    /// Why the client has this bucket (stream subscriptions).
    #[serde(default)]
    pub subscriptions: Vec<BucketSubscriptionReason>,
}

/// Why a bucket is synced: `{"default": i}` or `{"sub": i}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketSubscriptionReason {
    /// Index into the checkpoint's `streams`.
    DerivedFromDefaultStream(usize),
    /// Index into the request's explicit `streams.subscriptions`.
    DerivedFromExplicitSubscription(usize),
}

/// A stream described by a checkpoint.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StreamDescription<'a> {
    /// Stream name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// Whether it is a default stream (synced without explicit subscription).
    pub is_default: bool,
    /// Errors resolving subscriptions to it.
    #[serde(borrow)]
    pub errors: Vec<StreamSubscriptionError<'a>>,
}

/// An error of a stream subscription.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StreamSubscriptionError<'a> {
    /// Which subscription failed.
    #[serde(borrow)]
    pub subscription: SubscriptionRef<'a>,
    /// Message from the service.
    #[serde(borrow)]
    pub message: Cow<'a, str>,
}

/// Reference to a subscription in a stream error.
#[derive(Debug, Clone, PartialEq)]
pub enum SubscriptionRef<'a> {
    /// Any string: the stream's default subscription.
    Default(Cow<'a, str>),
    /// Index into the request's explicit subscriptions.
    Explicit(usize),
}

/// Body of a `checkpoint_diff` line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CheckpointDiff<'a> {
    /// New checkpoint op id.
    #[serde(deserialize_with = "de::op_id")]
    pub last_op_id: OpId,
    /// Buckets added or changed.
    #[serde(borrow)]
    pub updated_buckets: Vec<BucketChecksum<'a>>,
    /// Buckets removed.
    #[serde(borrow, deserialize_with = "de::cow_strs")]
    pub removed_buckets: Vec<Cow<'a, str>>,
    /// Write checkpoint of the new target (absent → none).
    #[serde(default, deserialize_with = "de::optional_op_id")]
    pub write_checkpoint: Option<OpId>,
}

/// Body of a `partial_checkpoint_complete` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
// Decoded through a struct with the reference's name, which decoder errors quote.
#[serde(from = "de::CheckpointPartiallyComplete")]
pub struct PartialCheckpointComplete {
    /// All buckets with priority ≤ this are complete.
    pub priority: BucketPriority,
}

/// Body of a `data` line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DataLine<'a> {
    /// Bucket the ops belong to.
    #[serde(borrow)]
    pub bucket: Cow<'a, str>,
    /// The ops, in order.
    #[serde(borrow)]
    pub data: Vec<OplogEntry<'a>>,
}

/// Kind of an op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpType {
    /// Insert or replace a row.
    Put,
    /// Remove a row.
    Remove,
    /// Compacted op; contributes only its checksum.
    Move,
    /// Clear the whole bucket.
    Clear,
}

/// One op of a data line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OplogEntry<'a> {
    /// Op checksum.
    pub checksum: Checksum,
    /// Op id.
    #[serde(deserialize_with = "de::op_id")]
    pub op_id: OpId,
    /// Op kind.
    pub op: OpType,
    /// Row id.
    #[serde(default, borrow, deserialize_with = "de::optional_cow_str")]
    pub object_id: Option<Cow<'a, str>>,
    /// Row type (table name).
    #[serde(default, borrow, deserialize_with = "de::optional_cow_str")]
    pub object_type: Option<Cow<'a, str>>,
    /// Sub key distinguishing several ops on one row in one bucket.
    #[serde(default, borrow, deserialize_with = "de::optional_cow_str")]
    pub subkey: Option<Cow<'a, str>>,
    /// Row data as JSON text.
    #[serde(default, borrow, deserialize_with = "de::optional_cow_str")]
    pub data: Option<Cow<'a, str>>,
}
