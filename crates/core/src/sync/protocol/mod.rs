//! Sync lines and their decoding from JSON text and BSON.

pub mod lines;

pub use lines::*;
