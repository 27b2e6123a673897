//! Sync lines and their decoding: `powersync_protocol::line`, with errors as
//! [`PowerSyncError`]s (the message is unchanged; the SQL layer adds the result code).

pub use powersync_protocol::line::*;

use crate::error::PowerSyncError;

/// Decodes a JSON sync line ([`powersync_protocol::line::parse_text`]).
pub fn parse_text(line: &str) -> Result<SyncLine<'_>, PowerSyncError> {
    powersync_protocol::line::parse_text(line).map_err(PowerSyncError::from)
}

/// Decodes a BSON sync line ([`powersync_protocol::line::parse_binary`]).
pub fn parse_binary(line: &[u8]) -> Result<SyncLine<'_>, PowerSyncError> {
    powersync_protocol::line::parse_binary(line).map_err(PowerSyncError::from)
}
