//! Helpers for the scripted sync sessions (`sync_sessions_*.rs`): line builders, the BSON
//! encoding of lines, assertions on results and the suite runner, all from the test-support
//! crate.
#![allow(dead_code, unused_imports)]

pub(crate) use powersync_testkit::lines::{
    bson_line, bucket, clear, cp, diff, mv, op, put_t, remove_t, subscribe, token,
};
pub(crate) use powersync_testkit::session::{
    empty, fails, has, run_suite, shorten_blobs, tick, Enc, SessionFn, R, RICH_SCHEMA,
};

/// Serialises a document built with the `bson` crate (sessions that check our decoder on
/// documents written by another encoder).
pub(crate) fn doc_bytes(doc: &bson::Document) -> Vec<u8> {
    doc.to_vec().unwrap()
}
