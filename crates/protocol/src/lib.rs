//! The PowerSync sync protocol, sans IO.
//!
//! Everything of the sync client that does not touch SQLite: decoding sync lines from JSON
//! and BSON ([`mod@line`]), a BSON encoder ([`bson`]), the payloads of `powersync_control`
//! commands ([`options`], the app [`schema`] carried by `start`), the instructions returned
//! to the SDK ([`instructions`]), the sync status ([`status`]) and the state machine
//! ([`client`]), which reaches storage only through the [`client::SyncStore`] trait.
//!
//! `powersync_core` implements that trait on SQLite and exposes all of this through SQL;
//! this crate depends on neither, so tests, fuzzers and tools can drive the protocol alone.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bson;
pub mod client;
pub mod error;
pub mod instructions;
pub mod line;
pub mod options;
pub mod schema;
pub mod status;

pub use error::{Error, Result};
