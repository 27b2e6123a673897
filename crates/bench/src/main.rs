//! `powersync-bench`: runs the same generated sync workload through our library and through
//! the reference extension in one run, and prints the throughput ratio.
//!
//! Measured the way SDKs run it: a file database in WAL mode, `synchronous=NORMAL`, a 50 MB
//! page cache, each `powersync_control` call in its own transaction.
//!
//! For profiling: `--only ours` runs one side; the measured calls go through
//! `measured_call` (`valgrind --tool=callgrind --toggle-collect='*measured_call*'` counts
//! just them); `--marks` prints the CLOCK_MONOTONIC span of the measured calls (to cut a
//! `perf record -k CLOCK_MONOTONIC` profile) and the final page count.

use anyhow::{bail, Context};
use clap::Parser;
use rusqlite::types::Value;
use rusqlite::Connection;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Sync throughput: ours vs the reference PowerSync extension")]
struct Args {
    /// Path of the reference extension (default: target/reference/libpowersync.so,
    /// built by scripts/build-reference.sh).
    #[arg(long)]
    reference: Option<PathBuf>,
    /// Initial-sync sizes (total ops over 10 buckets).
    #[arg(long, value_delimiter = ',', default_values_t = vec![100_000usize, 1_000_000])]
    ops: Vec<usize>,
    /// Rows in the database before the incremental checkpoints.
    #[arg(long, default_value_t = 100_000)]
    incremental_base: usize,
    /// Only run workloads whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Ops per data line.
    #[arg(long, default_value_t = 1000)]
    ops_per_line: usize,
    /// Run only one implementation (`ours` or `reference`), e.g. under a profiler.
    #[arg(long)]
    only: Option<Only>,
    /// Print the CPU time the measured calls of each kind took (data lines, checkpoint_complete, …).
    #[arg(long)]
    breakdown: bool,
    /// Runs of each workload per implementation (alternating); medians are reported.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Print to stderr the monotonic-clock span of each measured phase and the database's
    /// final page count.
    #[arg(long)]
    marks: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Only {
    Ours,
    Reference,
}

const BUCKETS: usize = 10;
const SCHEMA: &str = r#"{"tables":[{"name":"items","columns":[{"name":"name","type":"TEXT"},{"name":"description","type":"TEXT"},{"name":"n","type":"INTEGER"},{"name":"r","type":"REAL"}]}]}"#;

/// One `powersync_control` call.
#[derive(Clone)]
struct Call {
    op: &'static str,
    payload: Value,
    /// What the call is, for `--breakdown`: the op, or the line type of a line.
    kind: String,
}

/// A workload: calls to set up (not timed) and calls to measure.
struct Workload {
    name: String,
    ops: usize,
    setup: Vec<Call>,
    measured: Vec<Call>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Json,
    Bson,
}

fn line(encoding: Encoding, value: serde_json::Value) -> Call {
    let kind = value
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .unwrap_or_default();
    match encoding {
        Encoding::Json => Call {
            op: "line_text",
            payload: Value::Text(value.to_string()),
            kind,
        },
        Encoding::Bson => {
            let doc = bson::to_document(&value).expect("JSON lines are valid BSON documents");
            let mut bytes = Vec::new();
            doc.to_writer(&mut bytes).expect("in-memory write");
            Call {
                op: "line_binary",
                payload: Value::Blob(bytes),
                kind,
            }
        }
    }
}

fn op_checksum(op_id: usize) -> u32 {
    // A cheap deterministic spread over the whole u32 range (exercises wrapping sums).
    (op_id as u32).wrapping_mul(2_654_435_761)
}

fn row(id: usize, version: usize) -> String {
    json!({
        "name": format!("item {id}"),
        "description": format!("description of item {id}, version {version}, with some padding text"),
        "n": id,
        "r": id as f64 / 7.0,
    })
    .to_string()
}

/// Builds the lines of an initial sync of `ops` rows over 10 buckets.
/// Returns the lines, the per-bucket checksums and the last op id.
fn initial_sync(encoding: Encoding, ops: usize, per_line: usize) -> (Vec<Call>, Vec<u32>, usize) {
    let mut checksums = vec![0u32; BUCKETS];
    let mut data_lines = Vec::new();
    let per_bucket = ops / BUCKETS;
    let mut op_id = 0;
    for (b, checksum) in checksums.iter_mut().enumerate() {
        let mut start = 0;
        while start < per_bucket {
            let end = (start + per_bucket.min(per_line)).min(per_bucket);
            let entries: Vec<_> = (start..end)
                .map(|i| {
                    op_id += 1;
                    let cs = op_checksum(op_id);
                    *checksum = checksum.wrapping_add(cs);
                    json!({"op_id": op_id.to_string(), "op": "PUT", "object_type": "items",
                           "object_id": format!("b{b}-{i}"), "checksum": cs, "subkey": null,
                           "data": row(b * per_bucket + i, 0)})
                })
                .collect();
            data_lines.push(line(
                encoding,
                json!({"data": {"bucket": format!("bucket{b}"), "data": entries}}),
            ));
            start = end;
        }
    }
    let mut calls = vec![checkpoint(encoding, op_id, &checksums, per_bucket)];
    calls.extend(data_lines);
    calls.push(line(
        encoding,
        json!({"checkpoint_complete": {"last_op_id": op_id.to_string()}}),
    ));
    (calls, checksums, op_id)
}

fn checkpoint(encoding: Encoding, last: usize, checksums: &[u32], count: usize) -> Call {
    let buckets: Vec<_> = checksums
        .iter()
        .enumerate()
        .map(|(b, cs)| json!({"bucket": format!("bucket{b}"), "checksum": cs, "priority": 3, "count": count}))
        .collect();
    line(
        encoding,
        json!({"checkpoint": {"last_op_id": last.to_string(), "write_checkpoint": null, "buckets": buckets}}),
    )
}

fn start_call() -> Call {
    Call {
        op: "start",
        payload: Value::Text(
            json!({"schema": serde_json::from_str::<serde_json::Value>(SCHEMA).unwrap()}).to_string(),
        ),
        kind: "start".into(),
    }
}

fn workloads(args: &Args) -> Vec<Workload> {
    let mut out = Vec::new();
    for &ops in &args.ops {
        for encoding in [Encoding::Json, Encoding::Bson] {
            let name = format!(
                "initial sync {ops} ops, 10 buckets, {}",
                if encoding == Encoding::Json {
                    "JSON"
                } else {
                    "BSON"
                }
            );
            let (lines, _, _) = initial_sync(encoding, ops, args.ops_per_line);
            let mut measured = vec![start_call()];
            measured.extend(lines);
            out.push(Workload {
                name,
                ops,
                setup: vec![],
                measured,
            });
        }
    }
    // 100 incremental checkpoints of 100 changed rows over a database of `incremental_base` rows.
    let base = args.incremental_base;
    let (mut setup, mut checksums, mut op_id) = initial_sync(Encoding::Json, base, args.ops_per_line);
    setup.insert(0, start_call());
    let per_bucket = base / BUCKETS;
    let mut measured = Vec::new();
    for round in 0..100 {
        let bucket = round % BUCKETS;
        let entries: Vec<_> = (0..100)
            .map(|k| {
                op_id += 1;
                let cs = op_checksum(op_id);
                checksums[bucket] = checksums[bucket].wrapping_add(cs);
                let i = (round * 100 + k) % per_bucket;
                json!({"op_id": op_id.to_string(), "op": "PUT", "object_type": "items",
                       "object_id": format!("b{bucket}-{i}"), "checksum": cs, "subkey": null,
                       "data": row(bucket * per_bucket + i, round + 1)})
            })
            .collect();
        measured.push(line(
            Encoding::Json,
            json!({"checkpoint_diff": {"last_op_id": op_id.to_string(), "write_checkpoint": null, "removed_buckets": [],
                   "updated_buckets": [{"bucket": format!("bucket{bucket}"), "checksum": checksums[bucket], "priority": 3, "count": per_bucket + 100 * (round / BUCKETS + 1)}]}}),
        ));
        measured.push(line(
            Encoding::Json,
            json!({"data": {"bucket": format!("bucket{bucket}"), "data": entries}}),
        ));
        measured.push(line(
            Encoding::Json,
            json!({"checkpoint_complete": {"last_op_id": op_id.to_string()}}),
        ));
    }
    out.push(Workload {
        name: format!("100 incremental checkpoints x 100 rows over {base} rows, JSON"),
        ops: 10_000,
        setup,
        measured,
    });
    if let Some(filter) = &args.filter {
        out.retain(|w| w.name.contains(filter.as_str()));
    }
    out
}

#[derive(Clone, Copy, Debug)]
enum Impl<'a> {
    Ours,
    Reference(&'a Path),
}

fn open(which: Impl<'_>, dir: &Path) -> anyhow::Result<Connection> {
    let path = dir.join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let conn = Connection::open(&path)?;
    match which {
        Impl::Ours => powersync_core::register(&conn)?,
        // SAFETY: loading the trusted reference extension for comparison.
        Impl::Reference(lib) => unsafe {
            let _guard = rusqlite::LoadExtensionGuard::new(&conn)?;
            conn.load_extension(lib, Some("sqlite3_powersync_init"))?;
        },
    }
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -50000;",
    )?;
    conn.execute_batch("BEGIN")?;
    conn.query_row("SELECT powersync_init()", [], |_| Ok(()))?;
    conn.query_row("SELECT powersync_replace_schema(?)", [SCHEMA], |_| Ok(()))?;
    conn.execute_batch("COMMIT")?;
    Ok(conn)
}

/// A measured call: a function of its own, so that profilers can single out the measured
/// part (e.g. `valgrind --tool=callgrind --toggle-collect=*measured_call*`).
#[inline(never)]
fn measured_call(conn: &Connection, c: &Call) -> anyhow::Result<()> {
    call(conn, c)
}

fn call(conn: &Connection, c: &Call) -> anyhow::Result<()> {
    conn.execute_batch("BEGIN")?;
    let result = conn.query_row(
        "SELECT powersync_control(?, ?)",
        rusqlite::params![c.op, c.payload],
        |r| r.get::<_, String>(0),
    );
    match result {
        Ok(out) => {
            conn.execute_batch("COMMIT")?;
            if out.contains("Checksums didn't match") {
                bail!("checksum mismatch: {out}");
            }
            Ok(())
        }
        Err(e) => {
            conn.execute_batch("ROLLBACK")?;
            Err(e).with_context(|| format!("powersync_control('{}')", c.op))
        }
    }
}

/// CPU time spent per call kind, in order of first appearance.
type Breakdown = Vec<(String, Duration, usize)>;

/// CPU time (user + system) of the calling thread: unlike wall-clock time, barely affected
/// by other processes competing for the cores.
fn thread_cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Wall-clock and CPU time of the measured calls.
struct Timing {
    wall: Duration,
    cpu: Duration,
}

/// Seconds on CLOCK_MONOTONIC (the clock `perf record -k CLOCK_MONOTONIC` stamps samples with).
fn monotonic() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the struct it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn run(
    which: Impl<'_>,
    w: &Workload,
    dir: &Path,
    breakdown: &mut Breakdown,
    marks: bool,
) -> anyhow::Result<Timing> {
    let conn = open(which, dir)?;
    for c in &w.setup {
        call(&conn, c)?;
    }
    let mark_start = monotonic();
    let started = Instant::now();
    let cpu_started = thread_cpu_time();
    for c in &w.measured {
        let t = thread_cpu_time();
        measured_call(&conn, c)?;
        let d = thread_cpu_time() - t;
        match breakdown.iter_mut().find(|(k, _, _)| *k == c.kind) {
            Some(e) => {
                e.1 += d;
                e.2 += 1;
            }
            None => breakdown.push((c.kind.clone(), d, 1)),
        }
    }
    let mark_end = monotonic();
    let elapsed = Timing {
        wall: started.elapsed(),
        cpu: thread_cpu_time() - cpu_started,
    };
    let rows: i64 = conn.query_row("SELECT count(*) FROM ps_data__items", [], |r| r.get(0))?;
    if rows == 0 {
        bail!("no rows were applied");
    }
    if marks {
        let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let side = match which {
            Impl::Ours => "ours",
            Impl::Reference(_) => "reference",
        };
        eprintln!(
            "{} ({side}): measured from {mark_start:.6} to {mark_end:.6} (CLOCK_MONOTONIC), {pages} pages",
            w.name
        );
    }
    Ok(elapsed)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let reference = args
        .reference
        .clone()
        .unwrap_or_else(|| root.join("target/reference/libpowersync.so"));
    if !reference.exists() {
        bail!(
            "{} not found: run scripts/build-reference.sh",
            reference.display()
        );
    }
    let dir = std::env::temp_dir().join(format!("powersync-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    println!("| workload | ours (s) | reference (s) | ours ops/s | reference ops/s | throughput ratio | CPU time ratio |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut breakdowns = Vec::new();
    for w in workloads(&args) {
        let (mut b_theirs, mut b_ours) = (Breakdown::new(), Breakdown::new());
        let (mut theirs, mut ours) = (Vec::new(), Vec::new());
        for _ in 0..args.repeat.max(1) {
            if args.only != Some(Only::Ours) {
                theirs.push(run(
                    Impl::Reference(&reference),
                    &w,
                    &dir,
                    &mut b_theirs,
                    args.marks,
                )?);
            }
            if args.only != Some(Only::Reference) {
                ours.push(run(Impl::Ours, &w, &dir, &mut b_ours, args.marks)?);
            }
        }
        breakdowns.push((w.name.clone(), b_ours, b_theirs));
        let median = |runs: &[Timing], f: fn(&Timing) -> Duration| -> Option<f64> {
            let mut v: Vec<f64> = runs.iter().map(|t| f(t).as_secs_f64()).collect();
            v.sort_by(f64::total_cmp);
            (!v.is_empty()).then(|| v[v.len() / 2])
        };
        let wall = |t: &Timing| t.wall;
        let cpu = |t: &Timing| t.cpu;
        let (o, t) = (median(&ours, wall), median(&theirs, wall));
        let (oc, tc) = (median(&ours, cpu), median(&theirs, cpu));
        let secs = |d: Option<f64>| d.map_or("-".into(), |d| format!("{d:.3}"));
        let rate = |d: Option<f64>| d.map_or("-".into(), |d| format!("{:.0}", w.ops as f64 / d));
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => format!("{:.2}x", b / a),
            _ => "-".into(),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            w.name,
            secs(o),
            secs(t),
            rate(o),
            rate(t),
            ratio(o, t),
            ratio(oc, tc)
        );
    }
    if args.breakdown {
        println!();
        println!("| workload | call | calls | ours (CPU s, all runs) | reference (CPU s, all runs) |");
        println!("| --- | --- | ---: | ---: | ---: |");
        for (name, ours, theirs) in &breakdowns {
            let kinds = if ours.is_empty() { theirs } else { ours };
            for (kind, _, n) in kinds {
                let secs = |b: &Breakdown| {
                    b.iter()
                        .find(|(k, _, _)| k == kind)
                        .map(|(_, d, _)| format!("{:.3}", d.as_secs_f64()))
                        .unwrap_or_else(|| "-".into())
                };
                println!("| {name} | {kind} | {n} | {} | {} |", secs(ours), secs(theirs));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
