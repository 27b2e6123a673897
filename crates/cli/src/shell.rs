//! The `sql` subcommand.

use anyhow::Context;
use fallible_iterator::FallibleIterator;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::io::Read;

/// Arguments of `powersync sql`.
#[derive(clap::Args)]
pub(crate) struct SqlArgs {
    /// Database file (`:memory:` for a temporary one).
    database: String,
    /// Schema JSON file to apply with `powersync_replace_schema` before running the SQL.
    #[arg(long)]
    schema: Option<std::path::PathBuf>,
    /// SQL to run; each argument may hold several statements. Reads stdin if absent.
    sql: Vec<String>,
}

/// Opens the database and runs every statement, printing result rows.
pub(crate) fn run(args: SqlArgs) -> anyhow::Result<()> {
    let conn = open(&args.database)?;
    if let Some(path) = &args.schema {
        apply_schema(&conn, path)?;
    }
    let scripts = if args.sql.is_empty() {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        vec![s]
    } else {
        args.sql
    };
    for script in scripts {
        run_script(&conn, &script)?;
    }
    Ok(())
}

/// Opens `path` with PowerSync registered.
pub(crate) fn open(path: &str) -> anyhow::Result<Connection> {
    let conn = Connection::open(path).with_context(|| format!("opening {path}"))?;
    powersync_core::register(&conn).context("registering PowerSync")?;
    Ok(conn)
}

/// Runs `powersync_replace_schema` with the contents of `path` in its own transaction.
pub(crate) fn apply_schema(conn: &Connection, path: &std::path::Path) -> anyhow::Result<()> {
    let json = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let tx = conn.unchecked_transaction()?;
    tx.query_row("SELECT powersync_replace_schema(?)", [json], |_| Ok(()))
        .with_context(|| format!("applying schema {}", path.display()))?;
    tx.commit()?;
    Ok(())
}

fn run_script(conn: &Connection, script: &str) -> anyhow::Result<()> {
    let mut batch = rusqlite::Batch::new(conn, script);
    while let Some(stmt) = batch.next()? {
        print_rows(stmt)?;
    }
    Ok(())
}

fn print_rows(mut stmt: rusqlite::Statement<'_>) -> anyhow::Result<()> {
    let cols = stmt.column_count();
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next()? {
        let mut line = String::new();
        for i in 0..cols {
            if i > 0 {
                line.push('|');
            }
            match row.get_ref(i)? {
                ValueRef::Null => {}
                ValueRef::Integer(v) => line.push_str(&v.to_string()),
                ValueRef::Real(v) => line.push_str(&v.to_string()),
                ValueRef::Text(t) => line.push_str(&String::from_utf8_lossy(t)),
                ValueRef::Blob(b) => line.push_str(&String::from_utf8_lossy(b)),
            }
        }
        crate::out!("{line}");
    }
    Ok(())
}
