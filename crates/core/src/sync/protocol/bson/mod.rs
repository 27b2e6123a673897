//! A small zero-copy BSON decoder for sync lines.
//!
//! Chosen over the `bson` crate (3.1, raw borrowed deserialisation) for two measured reasons:
//! - speed: decoding a realistic 1000-op data line is ~N× faster (see
//!   `examples/bench_sync_decode.rs` and the sync-protocol report);
//! - error fidelity: its messages and offsets match the reference's decoder, so protocol
//!   errors read the same (`bson error, at <offset>: <kind>`).
//!
//! It supports the element types the reference supports; decimal128, regex, JavaScript code,
//! symbols, db pointers and min/max keys are rejected as unknown element codes.

mod de;
mod error;
mod parser;

pub use de::{Deserializer, MAX_DEPTH};
pub use error::{BsonError, BsonErrorKind};

/// Decodes a `T` from the BSON document at the start of `input` (bytes after the document are
/// ignored, as are elements the `T` does not read).
pub fn from_slice<'de, T: serde::Deserialize<'de>>(input: &'de [u8]) -> Result<T, BsonError> {
    T::deserialize(&mut Deserializer::from_slice(input))
}
