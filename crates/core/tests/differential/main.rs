//! Differential suites of the SQL surface outside the sync client: schema, CRUD, utility
//! functions and migrations, each compared with the reference (live or its transcripts). One
//! test binary for all of them (one link instead of one per suite); each module was a test
//! binary of its own before, and names its transcripts folder (`transcripts/differential/`).
#[path = "../common/mod.rs"]
mod common;
#[path = "../sync_common/mod.rs"]
mod sync_common;
#[path = "../sync_sessions_support/mod.rs"]
mod sync_sessions_support;

mod crud_views;
mod crud_vtab;
mod migrations;
mod ref054_changes;
mod schema_diff;
mod schema_direct_tables;
mod schema_errors;
mod schema_generate;
mod schema_raw_triggers;
mod util_clear_hooks;
mod util_diff;
mod util_functions;
