//! The sync client: decoder and protocol suites, scripted and generated sync sessions, goldens,
//! malformed lines and a database handed between the implementations, compared with the
//! reference (live or its transcripts). One test binary; each module was a test binary of its
//! own before.
#[path = "../common/mod.rs"]
mod common;
#[path = "../sync_common/mod.rs"]
mod sync_common;
#[path = "../sync_protocol_raw/mod.rs"]
mod sync_protocol_raw;
#[path = "../sync_sessions_support/mod.rs"]
mod sync_sessions_support;

mod interchange;
mod sync_differential;
mod sync_goldens;
mod sync_malformed;
mod sync_protocol;
mod sync_protocol_differential;
mod sync_randomized;
mod sync_sessions_054;
mod sync_sessions_checkpoints;
mod sync_sessions_gate;
mod sync_sessions_lifecycle;
mod sync_sessions_random;
mod sync_sessions_streams;
