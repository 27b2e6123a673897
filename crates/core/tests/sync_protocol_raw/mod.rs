//! The test-support crate's BSON encoder, able to produce malformed documents too (raw
//! element types and payloads), which the `bson` crate refuses to write.
#![allow(unused_imports)]

pub(crate) use powersync_testkit::lines::{doc, encode, from_json, hex, json_to_bson, raw_str, s, B};
