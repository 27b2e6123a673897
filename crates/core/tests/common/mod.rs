//! Shared harness for integration and differential tests: the test-support crate
//! (`powersync-testkit`) under the names the test files use.
//!
//! Differential tests run the same input through our implementation and through the reference
//! extension (PowerSync core v0.5.4): live when the reference is available, otherwise from its
//! recorded answers (`tests/transcripts`, see `powersync_testkit::oracle`).
#![allow(dead_code, unused_imports)]

pub(crate) use powersync_testkit::oracle::{
    digest, load_extension, mode, reference_path, reference_writes_file, report, report_skipped,
    workspace_root, Answer, Db, Mode, RefConn,
};
pub(crate) use powersync_testkit::sql::{
    both, busy_statements, dump_tables, each, error_of, eval, exec, master, open_file, open_ours,
    open_reference, raw_eval, raw_exec, raw_master, raw_rows, rows, try_rows, Impl, MasterRow, SqlError,
};

use std::path::PathBuf;

/// The reference's recorded sync sessions (two sessions recorded from the reference binary, kept in
/// the repository so the tests do not depend on anything outside it).
pub(crate) fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/goldens")
}
