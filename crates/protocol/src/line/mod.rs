//! Sync lines and their decoding from JSON text and BSON (docs/protocol.md#sync-lines).
//!
//! Both encodings decode into the same borrowed [`SyncLine`] through one set of serde
//! `Deserialize` implementations ([`types`] and `de`), so scalar rules and error texts are
//! shared. JSON goes through serde_json (whose messages the reference reproduces verbatim);
//! BSON through the small zero-copy decoder in [`crate::bson`] (chosen over the `bson` crate,
//! see its module docs).

mod de;
pub mod types;

pub use types::*;

use crate::bson;
use crate::error::Error;

/// Description of protocol errors for undecodable `line_text` payloads.
pub const INVALID_TEXT_LINE: &str = "invalid text line";
/// Description of protocol errors for undecodable `line_binary` payloads.
pub const INVALID_BINARY_LINE: &str = "invalid binary line";

/// Decodes a JSON sync line: an object with exactly one key, the line type. Trailing
/// whitespace is allowed. Strings borrow from `line` unless they contain escapes.
///
/// ```
/// use powersync_protocol::line::{parse_text, SyncLine};
///
/// let line = parse_text(r#"{"token_expires_in": 600}"#).unwrap();
/// assert_eq!(line, SyncLine::TokenExpiresIn(600));
/// // Line types this client does not know are not an error.
/// assert_eq!(parse_text(r#"{"future_line": {}}"#).unwrap(), SyncLine::Unknown);
/// ```
pub fn parse_text(line: &str) -> Result<SyncLine<'_>, Error> {
    serde_json::from_str(line).map_err(|e| Error::protocol(INVALID_TEXT_LINE, Some(e.to_string())))
}

/// Decodes a BSON sync line: the first element of the document is the line type and its
/// value the body; further elements and bytes after the document are ignored. Strings borrow
/// from `line`.
///
/// ```
/// use powersync_protocol::bson::Document;
/// use powersync_protocol::line::{parse_binary, SyncLine};
///
/// let bson = Document::new()
///     .with("partial_checkpoint_complete", Document::new().with("last_op_id", "7").with("priority", 1))
///     .to_bytes();
/// let SyncLine::PartialCheckpointComplete(partial) = parse_binary(&bson).unwrap() else {
///     panic!("a partial checkpoint")
/// };
/// assert_eq!(partial.priority.0, 1);
/// ```
pub fn parse_binary(line: &[u8]) -> Result<SyncLine<'_>, Error> {
    bson::from_slice(line).map_err(|e| Error::protocol(INVALID_BINARY_LINE, Some(e.to_string())))
}
