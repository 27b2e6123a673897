//! The sync-session driver of the test-support crate: a [`Session`] runs the same steps on
//! our implementation and on the reference (or its transcript) and compares instructions and
//! every sync-relevant table after each step.
#![allow(dead_code, unused_imports)]

pub(crate) use powersync_testkit::lines::{checkpoint, complete, data_line, partial, put, remove, to_bson};
pub(crate) use powersync_testkit::session::{
    call, durable_state, init, normalize_json, normalize_result, normalize_text, sync_tables, CallResult,
    ErrorMatch, Payload, Session, CLIENT_ID, ITEMS_SCHEMA,
};
pub(crate) use powersync_testkit::sql::busy_statements;
