//! `powersync-bench`: runs the same generated workloads through our library, through the
//! reference extension and (for initial syncs) through plain SQLite writing the same rows, in
//! one run, and prints time, throughput, bytes read and written per op, fsyncs and peak memory.
//!
//! Measured the way SDKs run: a file database in WAL mode, `synchronous=NORMAL`,
//! `cache_size=-51200`, `journal_size_limit=6291456`, each call in its own
//! `BEGIN IMMEDIATE … COMMIT`. See `workload.rs` for what the workloads contain.
//!
//! For profiling: `--only ours` runs one side; the measured calls go through `measured_call`
//! (`valgrind --tool=callgrind --toggle-collect='*measured_call*'` counts just them); `--marks`
//! prints the CLOCK_MONOTONIC span of the measured calls (to cut a
//! `perf record -k CLOCK_MONOTONIC` profile) and the final page count.

mod measure;
mod workload;

use anyhow::{bail, Context};
use clap::Parser;
use measure::{measure, monotonic, thread_cpu_time, Cost};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use workload::{Call, Ids, Step, Workload, SCHEMA};

#[derive(Parser)]
#[command(about = "Sync and local-write cost: ours vs the reference PowerSync extension vs plain SQLite")]
struct Args {
    /// Path of the reference extension (default: target/reference/libpowersync.so, built by
    /// scripts/build-reference.sh).
    #[arg(long)]
    reference: Option<PathBuf>,
    /// Initial-sync sizes (total ops over 10 buckets).
    #[arg(long, value_delimiter = ',', default_values_t = vec![100_000usize, 1_000_000])]
    ops: Vec<usize>,
    /// Row ids: random UUIDv4 (what apps use) or sequential (`b{bucket}-{i}`).
    #[arg(long, value_enum, default_value_t = Ids::Uuid)]
    ids: Ids,
    /// Rows in the database before the incremental checkpoints and the local writes.
    #[arg(long, default_value_t = 1_000_000)]
    incremental_base: usize,
    /// Local writes through the view (one transaction each).
    #[arg(long, default_value_t = 10_000)]
    local_writes: usize,
    /// Only run workloads whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Ops per data line.
    #[arg(long, default_value_t = 1000)]
    ops_per_line: usize,
    /// Run only one implementation (`ours` or `reference`), e.g. under a profiler.
    #[arg(long)]
    only: Option<Only>,
    /// Print the CPU time the measured calls of each kind took (data lines, checkpoint_complete, …),
    /// each apart from the CPU time of its COMMIT.
    #[arg(long)]
    breakdown: bool,
    /// Runs of each workload per implementation (alternating); medians are reported.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Print to stderr the monotonic-clock span of each measured phase and the database's
    /// final page count.
    #[arg(long)]
    marks: bool,
    /// Also measure the layout floor without some of `ps_oplog`'s indexes (rows and ops only;
    /// with `(bucket, op_id)`; with `(row_type, row_id)` too), to show what each index costs.
    #[arg(long)]
    floor_parts: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Only {
    Ours,
    Reference,
}

#[derive(Clone, Copy, Debug)]
enum Impl<'a> {
    Ours,
    Reference(&'a Path),
    /// Plain SQLite writing the rows of an initial sync into one table, in one transaction.
    Plain,
    /// Plain SQLite writing the rows of an initial sync into the reference's tables, in one
    /// transaction, the cheapest way SQLite offers: the least any implementation keeping
    /// that layout (and its row order) has to do. With fewer than all of `ps_oplog`'s
    /// indexes, the least a layout without the others would cost.
    Layout(Parts),
}

/// How much of the reference's layout a layout floor writes: each row twice (as an op and
/// as a row), then `ps_oplog`'s indexes one by one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Parts {
    /// `ps_oplog` without any index, and `ps_data__items`.
    Copies,
    /// With `ps_oplog_opid (bucket, op_id)`.
    OpIndex,
    /// With `ps_oplog_row (row_type, row_id)` too.
    RowIndex,
    /// With `ps_oplog_key (bucket, key)` too: the reference's layout.
    All,
}

impl Impl<'_> {
    fn label(&self) -> &'static str {
        match self {
            Impl::Ours => "ours",
            Impl::Reference(_) => "reference",
            Impl::Plain => "plain SQLite",
            Impl::Layout(Parts::All) => "layout floor",
            Impl::Layout(Parts::RowIndex) => "layout floor without (bucket, key)",
            Impl::Layout(Parts::OpIndex) => "layout floor with (bucket, op_id) only",
            Impl::Layout(Parts::Copies) => "layout floor without indexes",
        }
    }
}

/// The pragmas SDKs set.
const PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -51200; PRAGMA journal_size_limit = 6291456;";

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
        Impl::Plain => {
            conn.execute_batch(PRAGMAS)?;
            conn.execute_batch("CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, data TEXT)")?;
            return Ok(conn);
        }
        Impl::Layout(parts) => {
            conn.execute_batch(PRAGMAS)?;
            conn.execute_batch(&layout(parts))?;
            return Ok(conn);
        }
    }
    conn.execute_batch(PRAGMAS)?;
    conn.execute_batch("BEGIN")?;
    conn.query_row("SELECT powersync_init()", [], |_| Ok(()))?;
    conn.query_row("SELECT powersync_replace_schema(?)", [SCHEMA], |_| Ok(()))?;
    conn.execute_batch("COMMIT")?;
    Ok(conn)
}

/// The tables an initial sync fills, as the reference creates them (schema version 5 for
/// `ps_oplog`; a schema's table for `ps_data__items`).
const LAYOUT_TABLES: &str = "CREATE TABLE ps_oplog(bucket INTEGER NOT NULL, op_id INTEGER NOT NULL, row_type TEXT, row_id TEXT, key TEXT, data TEXT, hash INTEGER NOT NULL) STRICT; CREATE TABLE ps_data__items(id TEXT PRIMARY KEY NOT NULL, data TEXT);";
/// The index the ops are appended to (op ids grow).
const OP_INDEX: &str = "CREATE INDEX ps_oplog_opid ON ps_oplog (bucket, op_id);";

/// After the ops are in `ps_oplog`: the rows published in the reference's order (which gives
/// `ps_data__items` its rowids), then `ps_oplog`'s two other indexes, each built by one sort.
/// In this order the publish sorts one sequential read of the table. Until 2026-12-04 the
/// floor built the indexes first; the publish then walked `ps_oplog_row` and read every op
/// from a random table page (5.7 kB read per op instead of 2.2 on the 1M-op sync), up to a
/// second slower than this order, which made our time look lower against the floor than it is.
const PUBLISH: &str = "INSERT INTO ps_data__items (id, data) SELECT row_id, data FROM ps_oplog ORDER BY row_type, row_id, rowid;";
const ROW_INDEX: &str = "CREATE INDEX ps_oplog_row ON ps_oplog (row_type, row_id);";
const KEY_INDEX: &str = "CREATE INDEX ps_oplog_key ON ps_oplog (bucket, key);";

/// The partial layout floors of `--floor-parts`, from the least to the most.
const PARTS: [Parts; 3] = [Parts::Copies, Parts::OpIndex, Parts::RowIndex];

/// The tables of a layout floor, before the ops are inserted.
fn layout(parts: Parts) -> String {
    match parts {
        Parts::Copies => LAYOUT_TABLES.to_string(),
        _ => format!("{LAYOUT_TABLES} {OP_INDEX}"),
    }
}

/// What a layout floor does after inserting the ops (see [`PUBLISH`]).
fn layout_fill(parts: Parts) -> String {
    match parts {
        Parts::Copies | Parts::OpIndex => PUBLISH.to_string(),
        Parts::RowIndex => format!("{PUBLISH} {ROW_INDEX}"),
        Parts::All => format!("{PUBLISH} {ROW_INDEX} {KEY_INDEX}"),
    }
}

/// A measured call: a function of its own, so that profilers can single out the measured
/// part (e.g. `valgrind --tool=callgrind --toggle-collect=*measured_call*`).
#[inline(never)]
fn measured_call(conn: &Connection, c: &Call) -> anyhow::Result<Duration> {
    call(conn, c)
}

/// Runs `c` in its own transaction, as SDKs do; returns the thread CPU time of its COMMIT
/// (WAL writes, fsync and, when the WAL has passed 1000 pages, the checkpoint), which the
/// breakdown shows apart from the call's own work.
fn call(conn: &Connection, c: &Call) -> anyhow::Result<Duration> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = match &c.step {
        Step::Control { op, payload } => conn
            .query_row(
                "SELECT powersync_control(?, ?)",
                rusqlite::params![op, payload],
                |r| r.get::<_, String>(0),
            )
            .with_context(|| format!("powersync_control('{op}')")),
        Step::Sql { sql, params } => conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute(rusqlite::params_from_iter(params)))
            .map(|_| String::new())
            .with_context(|| sql.to_string()),
    };
    match result {
        Ok(out) => {
            let t = thread_cpu_time();
            conn.execute_batch("COMMIT")?;
            let commit = thread_cpu_time() - t;
            if out.contains("Checksums didn't match") {
                bail!("checksum mismatch: {out}");
            }
            Ok(commit)
        }
        Err(e) => {
            conn.execute_batch("ROLLBACK")?;
            Err(e)
        }
    }
}

/// Ends a window: checkpoints the WAL and truncates it, as closing the database would.
///
/// Every workload's last transaction leaves frames in the WAL that a checkpoint must still
/// copy, and an initial sync's last transaction (its apply) leaves a WAL of hundreds of MB
/// (ours more than the reference's: the bulk-mode index builds are in it) that the next
/// commit truncates to `journal_size_limit`. Both are costs of the workload that made them,
/// so each window ends by paying them, and the workloads measured on top of a setup start
/// with an empty WAL. Without this, the setup's truncation (about 0.1 s) fell into the first
/// measured commit of the incremental and local-write workloads.
fn settle(conn: &Connection) -> anyhow::Result<()> {
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    if busy != 0 {
        bail!("the WAL checkpoint at the end of the window could not complete");
    }
    Ok(())
}

/// CPU time spent per call kind, in order of first appearance.
type Breakdown = Vec<Spent>;

/// The CPU time of one kind of call: its own work and, for calls run in a transaction of
/// their own, apart, that of their COMMITs.
struct Spent {
    kind: String,
    own: Duration,
    commit: Option<Duration>,
    calls: usize,
}

fn add(breakdown: &mut Breakdown, kind: &str, own: Duration, commit: Option<Duration>) {
    match breakdown.iter_mut().find(|e| e.kind == kind) {
        Some(e) => {
            e.own += own;
            e.commit = match (e.commit, commit) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
            e.calls += 1;
        }
        None => breakdown.push(Spent {
            kind: kind.to_string(),
            own,
            commit,
            calls: 1,
        }),
    }
}

fn run(
    which: Impl<'_>,
    w: &Workload,
    dir: &Path,
    breakdown: &mut Breakdown,
    marks: bool,
) -> anyhow::Result<Cost> {
    let conn = open(which, dir)?;
    let mut mark_start = monotonic();
    let (result, cost) = match which {
        Impl::Plain => {
            let rows = w
                .floor
                .as_ref()
                .context("no plain-SQLite floor for this workload")?;
            measure(|| -> anyhow::Result<()> {
                conn.execute_batch("BEGIN IMMEDIATE")?;
                {
                    let mut stmt = conn.prepare("INSERT INTO items (id, data) VALUES (?, ?)")?;
                    for (id, data) in rows {
                        stmt.execute([id, data])?;
                    }
                }
                conn.execute_batch("COMMIT")?;
                settle(&conn)
            })
        }
        Impl::Layout(parts) => {
            let rows = w.floor.as_ref().context("no layout floor for this workload")?;
            measure(|| -> anyhow::Result<()> {
                conn.execute_batch("BEGIN IMMEDIATE")?;
                {
                    let mut stmt = conn.prepare("INSERT INTO ps_oplog (bucket, op_id, row_type, row_id, key, data, hash) VALUES (?, ?, 'items', ?, ?, ?, 0)")?;
                    for (i, (id, data)) in rows.iter().enumerate() {
                        let bucket = (i % workload::BUCKETS) as i64 + 1;
                        let key = format!("items/{id}/null");
                        stmt.execute(rusqlite::params![bucket, i as i64 + 1, id, key, data])?;
                    }
                }
                conn.execute_batch(&layout_fill(parts))?;
                conn.execute_batch("COMMIT")?;
                settle(&conn)
            })
        }
        _ => {
            for c in &w.setup {
                call(&conn, c)?;
            }
            if !w.setup.is_empty() {
                // The setup is an initial sync: its WAL belongs to it (its window ends by
                // settling it), not to the workload measured on top.
                let wal = std::fs::metadata(dir.join("bench.db-wal")).map_or(0, |m| m.len());
                let t = Instant::now();
                settle(&conn)?;
                if marks {
                    eprintln!(
                        "{} ({}): setup left a WAL of {wal} bytes, truncated in {:.3} s",
                        w.name,
                        which.label(),
                        t.elapsed().as_secs_f64()
                    );
                }
            }
            // The span covers the measured calls only, not the setup.
            mark_start = monotonic();
            measure(|| -> anyhow::Result<()> {
                for c in &w.measured {
                    let t = thread_cpu_time();
                    let commit = measured_call(&conn, c)?;
                    let d = thread_cpu_time() - t;
                    add(breakdown, &c.kind, d - commit, Some(commit));
                }
                let t = thread_cpu_time();
                settle(&conn)?;
                add(
                    breakdown,
                    "final WAL checkpoint and truncation",
                    thread_cpu_time() - t,
                    None,
                );
                Ok(())
            })
        }
    };
    result?;
    let mark_end = monotonic();
    let table = match which {
        Impl::Plain => "items",
        _ => "ps_data__items",
    };
    let rows: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
    if rows == 0 {
        bail!("{}: no rows were applied", w.name);
    }
    if marks {
        let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        eprintln!(
            "{} ({}): measured from {mark_start:.6} to {mark_end:.6} (CLOCK_MONOTONIC), {pages} pages",
            w.name,
            which.label()
        );
    }
    Ok(cost)
}

/// The median run by wall time.
fn median(runs: &mut [Cost]) -> Option<Cost> {
    runs.sort_by_key(|c| c.wall);
    runs.get(runs.len() / 2).copied()
}

fn row(w: &Workload, label: &str, c: Option<Cost>) {
    let Some(c) = c else { return };
    let ops = w.ops as f64;
    println!(
        "| {} | {label} | {:.3} | {:.3} | {:.0} | {:.0} | {:.0} | {} | {:.0} |",
        w.name,
        c.wall.as_secs_f64(),
        c.cpu.as_secs_f64(),
        ops / c.wall.as_secs_f64(),
        c.written as f64 / ops,
        c.read as f64 / ops,
        c.syncs,
        c.peak_growth as f64 / 1e6,
    );
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Peak memory is read as the growth of the resident size, which depends on where the
    // allocator puts large blocks. glibc raises its mmap threshold each time a large mapped
    // block is freed (up to 32 MB), after which such blocks come from the heap and stay
    // resident once freed; generating the workloads frees many. A fixed threshold keeps
    // large blocks (page-cache batches, sorter buffers, our tables) mapped and returned on
    // free, the same for every implementation measured.
    // SAFETY: mallopt only changes allocator tuning; called before any other thread exists.
    unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024) };
    // Counts fsyncs for both libraries: registered as the default before any database opens.
    powersync_testkit::vfs::install(true);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let reference = args
        .reference
        .clone()
        .unwrap_or_else(|| root.join("target/reference/libpowersync.so"));
    if args.only != Some(Only::Ours) && !reference.exists() {
        bail!(
            "{} not found: run scripts/build-reference.sh",
            reference.display()
        );
    }
    let dir = std::env::temp_dir().join(format!("powersync-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let keep = |name: &str| args.filter.as_deref().is_none_or(|f| name.contains(f));

    let mut workloads = workload::initial_syncs(&args.ops, args.ids, args.ops_per_line);
    workloads.retain(|w| keep(&w.name));
    let incremental_name = format!(
        "100 incremental checkpoints x 100 rows over {} rows, JSON",
        args.incremental_base
    );
    if keep(&incremental_name) {
        workloads.push(workload::incremental(
            args.incremental_base,
            args.ids,
            args.ops_per_line,
        ));
    }
    if args.local_writes > 0 && keep("local writes") {
        workloads.push(workload::local_writes(
            args.local_writes,
            args.incremental_base,
            args.ids,
            args.ops_per_line,
        ));
    }

    println!("ids: {:?}; bytes are read()/write() system-call bytes from /proc/self/io; fsyncs counted by a pass-through VFS; peak = resident memory above the run's start", args.ids);
    println!();
    println!("| workload | implementation | time (s) | CPU (s) | ops/s | written/op (B) | read/op (B) | fsyncs | peak (MB) |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut summary = Vec::new();
    let mut breakdowns = Vec::new();
    for w in &workloads {
        let (mut b_theirs, mut b_ours, mut b_floor) = (Breakdown::new(), Breakdown::new(), Breakdown::new());
        let (mut theirs, mut ours, mut plain, mut layout) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut parts = PARTS.map(|_| Vec::new());
        for _ in 0..args.repeat.max(1) {
            if args.only != Some(Only::Ours) {
                theirs.push(run(
                    Impl::Reference(&reference),
                    w,
                    &dir,
                    &mut b_theirs,
                    args.marks,
                )?);
            }
            if args.only != Some(Only::Reference) {
                ours.push(run(Impl::Ours, w, &dir, &mut b_ours, args.marks)?);
            }
            if w.floor.is_some() && args.only.is_none() {
                plain.push(run(Impl::Plain, w, &dir, &mut b_floor, args.marks)?);
                layout.push(run(Impl::Layout(Parts::All), w, &dir, &mut b_floor, args.marks)?);
                if args.floor_parts {
                    for (i, part) in PARTS.iter().enumerate() {
                        let cost = run(Impl::Layout(*part), w, &dir, &mut b_floor, args.marks)?;
                        parts[i].push(cost);
                    }
                }
            }
        }
        let (o, t, p, l) = (
            median(&mut ours),
            median(&mut theirs),
            median(&mut plain),
            median(&mut layout),
        );
        row(w, "ours", o);
        row(w, "reference", t);
        row(w, "plain SQLite", p);
        row(w, "layout floor", l);
        let parts = parts.map(|mut runs| median(&mut runs));
        for (part, cost) in PARTS.iter().zip(parts) {
            row(w, Impl::Layout(*part).label(), cost);
        }
        summary.push((w.name.clone(), o, t, p, l, parts));
        breakdowns.push((w.name.clone(), b_ours, b_theirs));
    }

    println!();
    println!("| workload | throughput vs reference | CPU vs reference | bytes written vs reference | fsyncs vs reference | peak memory vs reference | time vs plain SQLite | time vs layout floor |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, o, t, p, l, _) in &summary {
        let ratio = |f: fn(&Cost) -> f64, a: &Option<Cost>, b: &Option<Cost>| match (a, b) {
            (Some(a), Some(b)) if f(a) > 0.0 => format!("{:.2}x", f(b) / f(a)),
            (Some(_), Some(_)) => "0 (ours)".into(),
            _ => "-".into(),
        };
        let share = |f: fn(&Cost) -> f64, a: &Option<Cost>, b: &Option<Cost>| match (a, b) {
            (Some(a), Some(b)) if f(b) > 0.0 => format!("{:.2}", f(a) / f(b)),
            _ => "-".into(),
        };
        let vs = |floor: &Option<Cost>| match (o, floor) {
            (Some(o), Some(f)) => format!("{:.2}x", o.wall.as_secs_f64() / f.wall.as_secs_f64()),
            _ => "-".into(),
        };
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} |",
            ratio(|c| c.wall.as_secs_f64(), o, t),
            ratio(|c| c.cpu.as_secs_f64(), o, t),
            share(|c| c.written as f64, o, t),
            share(|c| c.syncs as f64, o, t),
            share(|c| c.peak_growth as f64, o, t),
            vs(p),
            vs(l),
        );
    }
    println!();
    println!("throughput: reference time / ours (higher is better); bytes, fsyncs, memory: ours / reference (lower is better); vs plain SQLite: ours / plain SQLite writing the rows into one table; vs layout floor: ours / plain SQLite writing them into the reference's tables (the ops into ps_oplog and its (bucket, op_id) index, the rows into ps_data__items by one sort, then ps_oplog's two other indexes), each in one transaction");

    if args.floor_parts && summary.iter().any(|(.., p, _, _)| p.is_some()) {
        println!();
        println!("| workload | rows and ops, no index | with (bucket, op_id) | with (row_type, row_id) too | with (bucket, key) too = layout floor | ours |");
        println!("| --- | ---: | ---: | ---: | ---: | ---: |");
        for (name, ours, _, plain, layout, parts) in summary.iter().filter(|(.., p, _, _)| p.is_some()) {
            let vs = |c: &Option<Cost>| match (c, plain) {
                (Some(c), Some(p)) => format!("{:.2}x", c.wall.as_secs_f64() / p.wall.as_secs_f64()),
                _ => "-".into(),
            };
            println!(
                "| {name} | {} | {} | {} | {} | {} |",
                vs(&parts[0]),
                vs(&parts[1]),
                vs(&parts[2]),
                vs(layout),
                vs(ours)
            );
        }
        println!();
        println!("time / plain SQLite's: what each part of the reference's layout adds to storing every row twice (as an op and as a row), each floor in one transaction the cheapest way");
    }

    if args.breakdown {
        println!();
        println!("| workload | call | calls | ours (CPU s, all runs) | reference (CPU s, all runs) |");
        println!("| --- | --- | ---: | ---: | ---: |");
        for (name, ours, theirs) in &breakdowns {
            let kinds = if ours.is_empty() { theirs } else { ours };
            for Spent {
                kind, commit, calls, ..
            } in kinds
            {
                let secs = |b: &Breakdown, part: fn(&Spent) -> Option<Duration>| {
                    b.iter()
                        .find(|e| e.kind == *kind)
                        .and_then(part)
                        .map(|d| format!("{:.3}", d.as_secs_f64()))
                        .unwrap_or_else(|| "-".into())
                };
                let (own, its_commit) = (|e: &Spent| Some(e.own), |e: &Spent| e.commit);
                println!(
                    "| {name} | {kind} | {calls} | {} | {} |",
                    secs(ours, own),
                    secs(theirs, own)
                );
                if commit.is_some() {
                    println!(
                        "| {name} | {kind} (its COMMIT) | {calls} | {} | {} |",
                        secs(ours, its_commit),
                        secs(theirs, its_commit)
                    );
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{layout, layout_fill, Parts};
    use rusqlite::Connection;

    fn strings(conn: &Connection, sql: &str, column: usize) -> Vec<String> {
        conn.prepare(sql)
            .unwrap()
            .query_map([], |r| r.get(column))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Regression: the layout floor built `ps_oplog_row` first and then published its rows by
    /// walking it, one random table page per op: not the cheapest way, so not a floor. Its
    /// first statement must sort the table, in the state the floor runs it in.
    #[test]
    fn layout_floor_publishes_rows_by_one_sort_of_the_table() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&layout(Parts::All)).unwrap();
        let fill = layout_fill(Parts::All);
        let first = fill.split(';').next().unwrap();
        let plan = strings(&conn, &format!("EXPLAIN QUERY PLAN {first}"), 3);
        assert_eq!(plan, ["SCAN ps_oplog", "USE TEMP B-TREE FOR ORDER BY"]);
    }

    /// Each floor ends with its tables: rows in id order (the reference's rowids), and
    /// `ps_oplog` under the indexes of its part of the layout (the full floor: all three).
    #[test]
    fn layout_floors_end_with_their_tables() {
        for (parts, expected) in [
            (Parts::Copies, &[][..]),
            (Parts::OpIndex, &["ps_oplog_opid"][..]),
            (Parts::RowIndex, &["ps_oplog_opid", "ps_oplog_row"][..]),
            (Parts::All, &["ps_oplog_key", "ps_oplog_opid", "ps_oplog_row"][..]),
        ] {
            let conn = Connection::open_in_memory().unwrap();
            conn.execute_batch(&layout(parts)).unwrap();
            for (op, id) in ["c", "a", "b"].iter().enumerate() {
                conn.execute(
                    "INSERT INTO ps_oplog (bucket, op_id, row_type, row_id, key, data, hash) VALUES (1, ?1, 'items', ?2, 'items/' || ?2, '{}', 0)",
                    rusqlite::params![op as i64 + 1, id],
                )
                .unwrap();
            }
            conn.execute_batch(&layout_fill(parts)).unwrap();
            let ids = strings(&conn, "SELECT id FROM ps_data__items ORDER BY rowid", 0);
            assert_eq!(ids, ["a", "b", "c"], "{parts:?}");
            let indexes = strings(
                &conn,
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ps_oplog' ORDER BY name",
                0,
            );
            assert_eq!(indexes, expected, "{parts:?}");
        }
    }
}
