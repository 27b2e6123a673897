//! Test support shared by the workspace's tests and benchmark: the reference oracle and its
//! transcripts, the differential SQL helpers and sync-session driver, sync-line builders and
//! the BSON encoder, a seeded generator, and the fault-injecting VFS.

pub mod lines;
pub mod oracle;
pub mod rng;
pub mod session;
pub mod sql;
pub mod vfs;
