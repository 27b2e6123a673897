//! Test support shared by the workspace's tests and benchmark: the reference oracle and its
//! transcripts, the differential SQL helpers (and those of the CRUD and schema suites), the sync-session
//! driver, sync-line builders and
//! the BSON encoder, a seeded generator, and the fault-injecting VFS.

pub mod crud;
pub mod lines;
pub mod oracle;
pub mod rng;
pub mod schema;
pub mod session;
pub mod sql;
pub mod vfs;
