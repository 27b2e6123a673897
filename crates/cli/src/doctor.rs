//! The `doctor` subcommand: explains database states that stop sync, and repairs the safe ones.

use anyhow::Context;
use powersync_core::doctor::{self, Report, Severity};
use rusqlite::{Connection, OpenFlags};

/// Arguments of `powersync doctor`.
#[derive(clap::Args)]
pub(crate) struct DoctorArgs {
    /// Database file to check (opened read-only unless `--fix` is given).
    database: std::path::PathBuf,
    /// Repair what can be repaired without losing data (never touches `ps_crud`), in one
    /// transaction, then check again.
    #[arg(long)]
    fix: bool,
}

/// Runs the checks (and repairs). Exits with status 1 when problems remain.
pub(crate) fn run(args: DoctorArgs) -> anyhow::Result<()> {
    let path = &args.database;
    if !path.exists() {
        anyhow::bail!("{}: no such file", path.display());
    }
    let flags = if args.fix {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    } else {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    };
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_context(|| format!("opening {}", path.display()))?;
    powersync_core::register(&conn).context("registering PowerSync")?;
    let remaining = if args.fix {
        conn.execute_batch("BEGIN IMMEDIATE")
            .context("the database is busy: stop the app that uses it first")?;
        let done = match doctor::repair(&conn) {
            Ok(report) => report,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e).context("repairing (nothing was changed)");
            }
        };
        conn.execute_batch("COMMIT")?;
        print(&done, true);
        let after = doctor::diagnose(&conn)?;
        out!("");
        out!("after repair:");
        print(&after, false);
        after
    } else {
        let report = doctor::diagnose(&conn)?;
        print(&report, false);
        report
    };
    if remaining.has_problems() {
        std::process::exit(1);
    }
    Ok(())
}

fn print(report: &Report, repaired: bool) {
    for f in &report.findings {
        let tag = match f.severity {
            Severity::Info => "info",
            Severity::Problem => "PROBLEM",
            Severity::Fatal => "FATAL",
        };
        out!("{tag} [{}] {}", f.check, f.explanation);
        match (&f.repair, repaired) {
            (Some(r), true) => out!("    repaired: {r}"),
            (Some(r), false) => out!("    --fix would {r}"),
            (None, _) => {}
        }
    }
    if report.findings.is_empty() {
        out!("ok: {} checks passed, nothing found", report.passed.len());
    } else {
        out!(
            "{} findings, {} checks passed ({})",
            report.findings.len(),
            report.passed.len(),
            report.passed.join(", ")
        );
    }
}
