//! Payloads of `powersync_control` commands that the state machine consumes (docs/protocol.md#the-start-payload,
//! docs/protocol.md#the-subscriptions-command, docs/protocol.md#reconciling-subscriptions-with-a-checkpoint), decoded with serde so that error texts are serde_json's.

use serde::de::Deserializer;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::line::BucketPriority;
use crate::schema::Schema;

/// Payload of `start` (all fields optional, unknown fields ignored). Named like the
/// reference's type because serde_json quotes the type name in errors.
#[derive(Debug, Deserialize)]
pub struct StartSyncStream {
    /// Copied into `request.parameters` (serde_json re-serialises it, keys sorted).
    #[serde(default)]
    pub parameters: Option<Map<String, Value>>,
    /// Only the raw tables matter to sync. The reference's field is a plain `Schema` with a
    /// default, so an explicit `null` is an error ("expected struct Schema").
    #[serde(default, deserialize_with = "present_schema")]
    pub schema: Option<Schema>,
    /// `request.streams.include_defaults`.
    #[serde(default = "default_true")]
    pub include_defaults: bool,
    /// Streams the app holds subscription handles for.
    #[serde(default)]
    pub active_streams: Vec<StreamKey>,
    /// Copied verbatim into `request.app_metadata`.
    #[serde(default)]
    pub app_metadata: Option<Box<RawValue>>,
    /// Whether the request carries a `checkpoint_request`.
    #[serde(default)]
    pub checkpoint_mode: CheckpointMode,
    /// Emit `HandleDiagnostics` when present. Deliberately without `#[serde(default)]`,
    /// like the reference: a missing key still means `None`, but the sequence form of the
    /// payload then requires all 7 elements ("invalid length 6, expected struct
    /// StartSyncStream with 7 elements" for `[]`).
    pub diagnostics: Option<DiagnosticOptions>,
}

/// `diagnostics` of `start`: content ignored; named like the reference's type because
/// serde_json quotes the type name in errors (and, like it, also accepts `[]`).
#[derive(Debug, Deserialize)]
pub struct DiagnosticOptions {}

fn present_schema<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Schema>, D::Error> {
    Schema::deserialize(d).map(Some)
}

impl Default for StartSyncStream {
    fn default() -> Self {
        Self {
            parameters: None,
            schema: None,
            include_defaults: true,
            active_streams: Vec::new(),
            app_metadata: None,
            checkpoint_mode: CheckpointMode::Legacy,
            diagnostics: None,
        }
    }
}

fn default_true() -> bool {
    true
}

/// `checkpoint_mode` of `start`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckpointMode {
    /// Service-issued write checkpoints.
    #[default]
    Legacy,
    /// Client-driven checkpoint requests (docs/protocol.md#checkpoint-requests).
    Requests,
}

/// A stream subscription key: name and raw parameter text.
#[derive(Debug, Clone, Deserialize)]
pub struct StreamKey {
    /// Stream name.
    pub name: String,
    /// Raw JSON text of the parameters (`None` for absent/null).
    #[serde(default)]
    pub params: Option<Box<RawValue>>,
}

impl StreamKey {
    /// The `local_params` text this key matches (`'null'` when absent).
    pub fn params_text(&self) -> &str {
        self.params.as_deref().map(RawValue::get).unwrap_or("null")
    }
}

/// Payload of the `subscriptions` command.
#[derive(Debug, Deserialize)]
pub enum SubscriptionChange {
    /// Create or refresh an explicit subscription.
    #[serde(rename = "subscribe")]
    Subscribe {
        /// Which stream.
        stream: StreamKey,
        /// Seconds to keep it after the app stops using it (default 86400).
        #[serde(default)]
        ttl: Option<u64>,
        /// Requested priority override.
        #[serde(default, deserialize_with = "priority_opt")]
        priority: Option<i32>,
    },
    /// Drop the explicit subscription.
    #[serde(rename = "unsubscribe")]
    Unsubscribe(StreamKey),
}

/// Decoded with the sync lines' priority type, as the reference does: same expectation
/// text, same nested "Invalid bucket priority value" error, raised while the number is
/// parsed (so serde_json reports the same column).
fn priority_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    let v: Option<BucketPriority> = Option::deserialize(d)?;
    Ok(v.map(|p| p.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_defaults() {
        let o: StartSyncStream = serde_json::from_str("{}").unwrap();
        assert!(o.include_defaults);
        assert_eq!(o.checkpoint_mode, CheckpointMode::Legacy);
        let o: StartSyncStream = serde_json::from_str(
            r#"{"app_metadata": { "k" : 1 }, "active_streams":[{"name":"a","params":{ "x":1}}]}"#,
        )
        .unwrap();
        assert_eq!(o.app_metadata.unwrap().get(), r#"{ "k" : 1 }"#);
        assert_eq!(o.active_streams[0].params_text(), r#"{ "x":1}"#);
        let e = serde_json::from_str::<StartSyncStream>(r#"{"schema":{}}"#).unwrap_err();
        assert_eq!(e.to_string(), "missing field `tables` at line 1 column 12");
    }

    #[test]
    fn subscription_payloads() {
        let s: SubscriptionChange =
            serde_json::from_str(r#"{"unsubscribe":{"name":"a","params":null}}"#).unwrap();
        assert!(matches!(s, SubscriptionChange::Unsubscribe(k) if k.params_text() == "null"));
        assert!(serde_json::from_str::<SubscriptionChange>(
            r#"{"subscribe":{"stream":{"name":"a"},"priority":-1}}"#
        )
        .is_err());
    }
}
