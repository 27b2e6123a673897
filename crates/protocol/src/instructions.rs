//! Instructions returned by `powersync_control` (docs/protocol.md#instructions). Serialised as an
//! externally tagged enum: `{"<Name>": <body>}`, compact, keys in the reference's order.

use serde::Serialize;
use serde_json::value::RawValue;

use super::status::BucketProgress;

/// Severity of a [`Instruction::LogLine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Severity {
    /// Debug information.
    #[serde(rename = "DEBUG")]
    Debug,
    /// Noteworthy but expected.
    #[serde(rename = "INFO")]
    Info,
    /// Something went wrong.
    #[serde(rename = "WARNING")]
    Warning,
}

/// One instruction for the SDK.
#[derive(Debug, Clone, Serialize)]
pub enum Instruction {
    /// Log a message.
    LogLine {
        /// Severity.
        severity: Severity,
        /// Message text.
        line: String,
    },
    /// The status changed; `status` is its pre-serialised JSON.
    UpdateSyncStatus {
        /// The new status.
        status: Box<RawValue>,
    },
    /// Open a sync stream with this request.
    EstablishSyncStream {
        /// The `StreamingSyncRequest`.
        request: Box<RawValue>,
        /// Present with `checkpoint_mode: "requests"`.
        #[serde(skip_serializing_if = "Option::is_none")]
        checkpoint_request: Option<CheckpointRequest>,
    },
    /// Fetch new credentials.
    FetchCredentials {
        /// True when the token already expired (the stream is closed next).
        did_expire: bool,
    },
    /// Close the sync stream; the iteration is over.
    CloseSyncStream {
        /// Reconnect immediately without showing a disconnected state.
        hide_disconnect: bool,
    },
    /// A full checkpoint was applied.
    DidCompleteSync {
        /// The applied checkpoint's `write_checkpoint`, as a decimal string.
        #[serde(skip_serializing_if = "Option::is_none")]
        applied_checkpoint_request_id: Option<String>,
    },
    /// A checkpoint could not be applied because of pending local writes (the SDK retries
    /// through `completed_upload`; download-only clients report it as an error). Serialised
    /// with an empty body: `{"CheckpointDelayedDueToLocalData":{}}`.
    CheckpointDelayedDueToLocalData {},
    /// Diagnostics for tooling (only with `diagnostics` enabled at `start`).
    HandleDiagnostics(Diagnostics),
}

/// `checkpoint_request` sibling of the request (docs/protocol.md#the-checkpoint-request-sent-on-connect).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointRequest {
    /// `ps_kv['client_id']`.
    pub client_id: String,
    /// Decimal string.
    pub checkpoint_request_id: String,
}

/// Diagnostics events (docs/protocol.md#diagnostics).
#[derive(Debug, Clone, Serialize)]
pub enum Diagnostics {
    /// Bucket progress changed.
    BucketStateChange {
        /// Changed buckets, sorted by name for full updates.
        changes: Vec<BucketChange>,
        /// True for data lines, false for checkpoints.
        incremental: bool,
    },
    /// A column was first seen or changed type.
    SchemaChange {
        /// Object type.
        table: String,
        /// Column name.
        column: String,
        /// Inferred type.
        value_type: ColumnType,
    },
}

/// One bucket in a [`Diagnostics::BucketStateChange`].
#[derive(Debug, Clone, Serialize)]
pub struct BucketChange {
    /// Bucket name.
    pub name: String,
    /// Raw per-bucket progress.
    pub progress: BucketProgress,
}

/// A column type inferred from downloaded data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ColumnType {
    /// JSON string.
    String,
    /// JSON integer.
    Integer,
    /// JSON float.
    Real,
}

impl Instruction {
    /// A log line.
    pub fn log(severity: Severity, line: impl Into<String>) -> Self {
        Instruction::LogLine {
            severity,
            line: line.into(),
        }
    }

    /// An `UpdateSyncStatus` from already serialised status JSON.
    pub fn status(json: String) -> Self {
        Instruction::UpdateSyncStatus {
            status: RawValue::from_string(json).expect("status JSON is valid"),
        }
    }
}

/// Serialises a list of instructions (compact JSON array): the text `powersync_control`
/// returns.
///
/// ```
/// use powersync_protocol::instructions::{to_json, Instruction};
///
/// let answer = [Instruction::FetchCredentials { did_expire: false }];
/// assert_eq!(to_json(&answer), r#"[{"FetchCredentials":{"did_expire":false}}]"#);
/// ```
pub fn to_json(instructions: &[Instruction]) -> String {
    serde_json::to_string(instructions).expect("instruction serialisation cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let list = vec![
            Instruction::log(Severity::Debug, "x"),
            Instruction::FetchCredentials { did_expire: false },
            Instruction::CloseSyncStream {
                hide_disconnect: true,
            },
            Instruction::DidCompleteSync {
                applied_checkpoint_request_id: None,
            },
            Instruction::DidCompleteSync {
                applied_checkpoint_request_id: Some("1".into()),
            },
            Instruction::CheckpointDelayedDueToLocalData {},
            Instruction::HandleDiagnostics(Diagnostics::SchemaChange {
                table: "items".into(),
                column: "int".into(),
                value_type: ColumnType::Integer,
            }),
        ];
        assert_eq!(
            to_json(&list),
            r#"[{"LogLine":{"severity":"DEBUG","line":"x"}},{"FetchCredentials":{"did_expire":false}},{"CloseSyncStream":{"hide_disconnect":true}},{"DidCompleteSync":{}},{"DidCompleteSync":{"applied_checkpoint_request_id":"1"}},{"CheckpointDelayedDueToLocalData":{}},{"HandleDiagnostics":{"SchemaChange":{"table":"items","column":"int","value_type":"Integer"}}}]"#
        );
    }
}
