//! Diagnosing databases that stopped syncing (`powersync doctor`).
//!
//! Field reports of "sync is stuck" mostly come down to a handful of database states that the
//! SDK does not leave by itself: a write-gate target that no checkpoint will ever reach, stored
//! ops whose checksums no longer add up, downloaded rows that never made it into the app's
//! tables, internal tables left behind by an interrupted schema change, an internal schema the
//! library does not know. [`diagnose`] looks for each of them with read-only queries and
//! explains what it found in plain words; [`repair`] fixes the ones that can be fixed without
//! losing anything, in one savepoint.
//!
//! Nothing here ever writes `ps_crud`: local writes that have not been uploaded are the one
//! thing a repair must never lose. Every repair leaves either data the next sync re-downloads
//! (buckets, ops) or bookkeeping the SDK rewrites (write-gate keys, transaction counter).
//!
//! ```
//! use powersync_core::doctor::{self, Severity};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let conn = rusqlite::Connection::open_in_memory()?;
//! powersync_core::register(&conn)?;
//! let schema = r#"{"tables": [{"name": "todos", "columns": [{"name": "done", "type": "INTEGER"}]}]}"#;
//! conn.execute_batch("BEGIN; SELECT powersync_init();")?;
//! conn.query_row("SELECT powersync_replace_schema(?)", [schema], |_| Ok(()))?;
//! conn.execute_batch("COMMIT")?;
//!
//! // A local write closes the write gate until the SDK confirms the upload with a write
//! // checkpoint. Emptying the upload queue by hand never does.
//! conn.execute("INSERT INTO todos (id, done) VALUES ('t1', 0)", [])?;
//! conn.execute("DELETE FROM ps_crud", [])?;
//!
//! let report = doctor::diagnose(&conn)?;
//! assert!(report.has_problems());
//! assert_eq!(report.findings[0].check, "write-gate-stuck");
//! assert_eq!(report.findings[0].severity, Severity::Problem);
//!
//! // Repairs run in one savepoint; the CLI wraps them in a transaction.
//! conn.execute_batch("BEGIN IMMEDIATE")?;
//! doctor::repair(&conn)?;
//! conn.execute_batch("COMMIT")?;
//! assert!(!doctor::diagnose(&conn)?.has_problems());
//! # Ok(())
//! # }
//! ```

mod checks;

use crate::error::Result;
use rusqlite::Connection;
use std::fmt;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing; sync is not affected.
    Info,
    /// Sync is stuck or will misbehave until this is repaired.
    Problem,
    /// The database cannot be used by this library at all.
    Fatal,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Problem => "problem",
            Severity::Fatal => "fatal",
        })
    }
}

/// One thing the doctor noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Stable identifier of the check, e.g. `write-gate-stuck` (for scripts and tests).
    pub check: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// What is wrong and why it matters, in plain words.
    pub explanation: String,
    /// What [`repair`] does about it, or `None` when it is left to a person.
    pub repair: Option<String>,
}

/// The result of a [`diagnose`] or [`repair`] run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// What was found, in the order the checks ran.
    pub findings: Vec<Finding>,
    /// Checks that found nothing.
    pub passed: Vec<&'static str>,
}

impl Report {
    /// Whether any finding is a problem or worse.
    pub fn has_problems(&self) -> bool {
        self.findings.iter().any(|f| f.severity >= Severity::Problem)
    }
}

/// Runs every check, read-only.
pub fn diagnose(conn: &Connection) -> Result<Report> {
    let mut report = Report::default();
    checks::run(conn, &mut report, false)?;
    Ok(report)
}

/// Runs every check and repairs what can be repaired safely, inside one savepoint that is
/// rolled back if any repair fails. Returns what was found (and, for each finding with a
/// `repair`, done). `ps_crud` is never written.
///
/// Needs the PowerSync functions registered on `conn` (migrating an old internal schema runs
/// `powersync_init()`'s steps).
pub fn repair(conn: &Connection) -> Result<Report> {
    let mut report = Report::default();
    conn.execute_batch("SAVEPOINT powersync_doctor")?;
    match checks::run(conn, &mut report, true) {
        Ok(()) => {
            conn.execute_batch("RELEASE powersync_doctor")?;
            Ok(report)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO powersync_doctor; RELEASE powersync_doctor");
            Err(e)
        }
    }
}
