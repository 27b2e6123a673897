//! BSON: a small zero-copy decoder for sync lines, and an encoder for building them.
//!
//! The decoder is chosen over the `bson` crate (3.1, raw borrowed serde deserialisation through the same
//! `Deserialize` impls) for two reasons:
//! - speed, measured with `examples/bench_sync_decode.rs` (realistic PUT ops with ~200-byte
//!   rows, best of 7 interleaved rounds, 2-core machine): a 1000-op data line (441 kB) decodes
//!   in 229 µs (1.93 GB/s, 4.4 M ops/s) here vs 403 µs (1.09 GB/s) with the crate, 1.73–1.77x
//!   faster, also for 100-op lines (for comparison, serde_json decodes the same line as JSON
//!   in 491 µs);
//! - error fidelity: its messages and offsets match the reference's decoder, so protocol
//!   errors read the same (`bson error, at <offset>: <kind>`), and it accepts and rejects the
//!   same element types. It also avoids the crate's dependency tree in the extension.
//!
//! It supports the element types the reference supports; decimal128, regex, JavaScript code,
//! symbols, db pointers and min/max keys are rejected as unknown element codes.

//!
//! The encoder ([`Document`], [`Value`]) writes what the decoder reads: documents of strings,
//! integers, doubles, booleans, nulls, arrays, nested documents and binary data. Tools, tests
//! and fuzzers use it to build `line_binary` payloads.

mod de;
mod encode;
mod error;
mod parser;

pub(crate) use de::Deserializer;
pub use encode::{Document, Integers, Value};
pub(crate) use error::BsonError;

/// Decodes a `T` from the BSON document at the start of `input` (bytes after the document are
/// ignored, as are elements the `T` does not read).
pub(crate) fn from_slice<'de, T: serde::Deserialize<'de>>(input: &'de [u8]) -> Result<T, BsonError> {
    T::deserialize(&mut Deserializer::from_slice(input))
}
