//! The `replay` subcommand: feeds recorded sync lines through `powersync_control`.
//!
//! Each call runs in its own transaction, as SDKs do. Input is NDJSON (one JSON sync line
//! per line) or a stream of BSON documents (each document starts with its own length).

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use rusqlite::Connection;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `powersync replay`.
#[derive(clap::Args)]
pub(crate) struct ReplayArgs {
    /// Recorded sync lines: `.ndjson`/`.jsonl` (JSON text lines) or `.bson` (BSON documents).
    input: PathBuf,
    /// Database file (default: a temporary in-memory database).
    #[arg(long, default_value = ":memory:")]
    db: String,
    /// Schema JSON applied with `powersync_replace_schema` before syncing (also passed as the
    /// `schema` of the `start` payload, so raw tables work).
    #[arg(long)]
    schema: Option<PathBuf>,
    /// Extra `start` payload fields as a JSON object (e.g. '{"parameters":{"a":1}}').
    #[arg(long)]
    start: Option<String>,
    /// Input format; guessed from the file extension by default.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Show a progress bar and a summary instead of printing every instruction.
    #[arg(long)]
    progress: bool,
    /// Load this SQLite extension instead of the built-in PowerSync (e.g. to compare with
    /// another build of the core extension).
    #[arg(long)]
    extension: Option<PathBuf>,
}

/// Encoding of the input file.
#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq, Debug)]
pub(crate) enum Format {
    /// One JSON sync line per text line.
    Ndjson,
    /// Concatenated BSON documents.
    Bson,
}

enum Line<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
}

/// Runs the replay.
pub(crate) fn run(args: ReplayArgs) -> anyhow::Result<()> {
    let conn = open(&args.db, args.extension.as_deref())?;
    let schema_json = match &args.schema {
        Some(p) => Some(std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?),
        None => None,
    };
    {
        let tx = conn.unchecked_transaction()?;
        tx.query_row("SELECT powersync_init()", [], |_| Ok(()))?;
        if let Some(schema) = &schema_json {
            tx.query_row("SELECT powersync_replace_schema(?)", [schema], |_| Ok(()))
                .context("applying the schema")?;
        }
        tx.commit()?;
    }
    let mut start = match &args.start {
        Some(s) => serde_json::from_str::<serde_json::Map<String, Value>>(s)
            .context("--start must be a JSON object")?,
        None => Default::default(),
    };
    if let Some(schema) = &schema_json {
        start.entry("schema").or_insert(serde_json::from_str(schema)?);
    }
    let data = std::fs::read(&args.input).with_context(|| format!("reading {}", args.input.display()))?;
    let format = args.format.unwrap_or_else(|| guess_format(&args.input));
    let lines = split_lines(&data, format)?;

    let mut summary = Summary::default();
    let started = Instant::now();
    let bar = args.progress.then(|| {
        let bar = ProgressBar::new(lines.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} lines {per_sec}")
                .unwrap()
                .progress_chars("=> "),
        );
        bar
    });
    let start_payload = Value::Object(start).to_string();
    control(
        &conn,
        "start",
        rusqlite::types::Value::Text(start_payload),
        &mut summary,
        args.progress,
        "start",
    )?;
    for (i, line) in lines.iter().enumerate() {
        let (op, payload, bytes) = match line {
            Line::Text(t) => ("line_text", rusqlite::types::Value::Text(t.to_string()), t.len()),
            Line::Binary(b) => ("line_binary", rusqlite::types::Value::Blob(b.to_vec()), b.len()),
        };
        summary.bytes += bytes;
        control(
            &conn,
            op,
            payload,
            &mut summary,
            args.progress,
            &format!("line {}", i + 1),
        )?;
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    }
    control(
        &conn,
        "stop",
        rusqlite::types::Value::Null,
        &mut summary,
        args.progress,
        "stop",
    )?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    summary.print(&conn, lines.len(), started.elapsed())?;
    Ok(())
}

fn open(path: &str, extension: Option<&Path>) -> anyhow::Result<Connection> {
    match extension {
        None => crate::shell::open(path),
        Some(ext) => {
            let conn = Connection::open(path)?;
            // SAFETY: the user explicitly asked to load this extension library.
            unsafe {
                let _guard = rusqlite::LoadExtensionGuard::new(&conn)?;
                conn.load_extension(ext, Some("sqlite3_powersync_init"))
                    .with_context(|| format!("loading {}", ext.display()))?;
            }
            Ok(conn)
        }
    }
}

fn guess_format(path: &Path) -> Format {
    match path.extension().and_then(|e| e.to_str()) {
        Some("bson") => Format::Bson,
        _ => Format::Ndjson,
    }
}

fn split_lines(data: &[u8], format: Format) -> anyhow::Result<Vec<Line<'_>>> {
    match format {
        Format::Ndjson => {
            let text = std::str::from_utf8(data).context("NDJSON input is not UTF-8")?;
            Ok(text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(Line::Text)
                .collect())
        }
        Format::Bson => {
            let mut out = Vec::new();
            let mut rest = data;
            while !rest.is_empty() {
                if rest.len() < 4 {
                    bail!("truncated BSON document at byte {}", data.len() - rest.len());
                }
                let len = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
                if len < 5 || len > rest.len() {
                    bail!(
                        "invalid BSON document length {len} at byte {}",
                        data.len() - rest.len()
                    );
                }
                out.push(Line::Binary(&rest[..len]));
                rest = &rest[len..];
            }
            Ok(out)
        }
    }
}

#[derive(Default)]
struct Summary {
    instructions: BTreeMap<String, usize>,
    bytes: usize,
}

fn control(
    conn: &Connection,
    op: &str,
    payload: rusqlite::types::Value,
    summary: &mut Summary,
    quiet: bool,
    what: &str,
) -> anyhow::Result<()> {
    let tx = conn.unchecked_transaction()?;
    let result: String = tx
        .query_row(
            "SELECT powersync_control(?, ?)",
            rusqlite::params![op, payload],
            |r| r.get(0),
        )
        .with_context(|| format!("powersync_control('{op}') failed at {what}"))?;
    tx.commit()?;
    // Raw values keep each instruction's text exactly as the extension produced it.
    let instructions: Vec<&serde_json::value::RawValue> = serde_json::from_str(&result)?;
    for instruction in &instructions {
        let tagged: BTreeMap<String, &serde_json::value::RawValue> = serde_json::from_str(instruction.get())?;
        if let Some(name) = tagged.keys().next() {
            *summary.instructions.entry(name.clone()).or_default() += 1;
        }
        if !quiet {
            crate::out!("{what}: {instruction}");
        }
    }
    Ok(())
}

impl Summary {
    fn print(&self, conn: &Connection, lines: usize, elapsed: std::time::Duration) -> anyhow::Result<()> {
        crate::out!(
            "replayed {lines} lines ({} bytes) in {:.3}s",
            self.bytes,
            elapsed.as_secs_f64()
        );
        for (name, count) in &self.instructions {
            crate::out!("  {name}: {count}");
        }
        let buckets: i64 = conn.query_row("SELECT count(*) FROM ps_buckets", [], |r| r.get(0))?;
        let ops: i64 = conn.query_row("SELECT count(*) FROM ps_oplog", [], |r| r.get(0))?;
        crate::out!("ps_buckets: {buckets} rows, ps_oplog: {ops} rows");
        let mut stmt = conn.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND (name GLOB 'ps_data__*' OR name = 'ps_untyped') ORDER BY name",
        )?;
        let tables: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        for table in tables {
            let n: i64 = conn.query_row(
                &format!("SELECT count(*) FROM \"{}\"", table.replace('"', "\"\"")),
                [],
                |r| r.get(0),
            )?;
            crate::out!("{table}: {n} rows");
        }
        Ok(())
    }
}
