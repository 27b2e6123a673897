//! What a run costs: wall and CPU time, bytes read and written through system calls
//! (`/proc/self/io`), fsyncs (counted by our VFS) and peak memory growth.

use std::time::{Duration, Instant};

/// CPU time (user + system) of the calling thread: unlike wall-clock time, barely affected by
/// other processes competing for the cores.
pub(crate) fn thread_cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Seconds on CLOCK_MONOTONIC (the clock `perf record -k CLOCK_MONOTONIC` stamps samples with).
pub(crate) fn monotonic() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the struct it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn proc_field(file: &str, field: &str) -> u64 {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                l.strip_prefix(field)
                    .map(|v| v.trim().trim_end_matches(" kB").parse().unwrap_or(0))
            })
        })
        .unwrap_or(0)
}

/// Counters at one moment.
struct Snapshot {
    wall: Instant,
    cpu: Duration,
    rchar: u64,
    wchar: u64,
    syncs: u64,
    rss_kb: u64,
}

impl Snapshot {
    fn take() -> Self {
        Snapshot {
            wall: Instant::now(),
            cpu: thread_cpu_time(),
            rchar: proc_field("/proc/self/io", "rchar:"),
            wchar: proc_field("/proc/self/io", "wchar:"),
            syncs: powersync_testkit::vfs::syncs(),
            rss_kb: proc_field("/proc/self/status", "VmRSS:"),
        }
    }
}

/// The cost of the measured part of one run.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Cost {
    pub wall: Duration,
    pub cpu: Duration,
    pub read: u64,
    pub written: u64,
    pub syncs: u64,
    /// Peak resident memory above what the process held when the run started, in bytes.
    pub peak_growth: u64,
}

/// Measures `f`: resets the kernel's peak-RSS mark first, so the peak is this run's.
pub(crate) fn measure<T>(f: impl FnOnce() -> T) -> (T, Cost) {
    // Hand memory freed by earlier runs back to the kernel first: otherwise this run's
    // allocations reuse it without raising the resident size, and its peak reads as ~0.
    // SAFETY: malloc_trim only releases free heap memory; it has no preconditions.
    unsafe { libc::malloc_trim(0) };
    // Writing 5 resets VmHWM to the current RSS (Linux >= 4.0); ignored where unsupported.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = Snapshot::take();
    let out = f();
    let after = Snapshot::take();
    let peak_kb = proc_field("/proc/self/status", "VmHWM:");
    (
        out,
        Cost {
            wall: after.wall - before.wall,
            cpu: after.cpu - before.cpu,
            read: after.rchar - before.rchar,
            written: after.wchar - before.wchar,
            syncs: after.syncs - before.syncs,
            peak_growth: peak_kb.saturating_sub(before.rss_kb) * 1024,
        },
    )
}
