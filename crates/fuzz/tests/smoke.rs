//! Bounded fuzz smoke run on stable Rust: every corpus file of every target, then seeded
//! mutations of them until an iteration or time budget runs out. Deterministic inputs (a fixed
//! seed per target); a failing input is saved under `target/fuzz-smoke/` and named in the
//! panic, so `cargo fuzz run <target> <file>` (see docs/fuzzing.md) reproduces it.
//!
//! `POWERSYNC_FUZZ_SECONDS` changes the time budget per target (default 10).

use powersync_testkit::oracle::workspace_root as root;
use powersync_testkit::rng::Rng;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = root().join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

/// Indexes from the seeded generator.
trait Index {
    /// A number below `n` (0 when `n` is 0).
    fn index(&mut self, n: usize) -> usize;
}

impl Index for Rng {
    fn index(&mut self, n: usize) -> usize {
        self.below(n.max(1) as u64) as usize
    }
}

/// Bytes that often matter to JSON, BSON and our session records.
const INTERESTING: &[u8] =
    b"\x00\x01\x02\x03\x04\x05\x08\x0a\x10\x12\x7f\x80\xc3\xff\"\\{}[]:,0123456789-+.eE";

fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.index(4) {
        let len = out.len();
        match rng.index(8) {
            0 if len > 0 => {
                let i = rng.index(len);
                out[i] ^= 1 << rng.index(8);
            }
            1 if len > 0 => {
                let i = rng.index(len);
                out[i] = INTERESTING[rng.index(INTERESTING.len())];
            }
            2 => {
                let i = rng.index(len + 1);
                out.insert(i, INTERESTING[rng.index(INTERESTING.len())]);
            }
            3 if len > 0 => {
                let i = rng.index(len);
                let n = 1 + rng.index((len - i).min(16));
                out.drain(i..i + n);
            }
            4 if len > 0 => {
                let i = rng.index(len);
                let n = 1 + rng.index((len - i).min(64));
                let chunk = out[i..i + n].to_vec();
                let at = rng.index(len + 1);
                out.splice(at..at, chunk);
            }
            5 => {
                let other = &corpus[rng.index(corpus.len())];
                if !other.is_empty() {
                    let i = rng.index(other.len());
                    let n = 1 + rng.index((other.len() - i).min(256));
                    let at = rng.index(len + 1);
                    out.splice(at..at, other[i..i + n].iter().copied());
                }
            }
            6 if len > 0 => {
                out.truncate(rng.index(len));
            }
            _ if len >= 4 => {
                // Overwrite a little-endian length-like field with an edge value.
                let i = rng.index(len - 3);
                let v: u32 = [
                    0,
                    1,
                    0x7fff_ffff,
                    0xffff_ffff,
                    len as u32,
                    (len as u32).wrapping_sub(1),
                ][rng.index(6)];
                out[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
            _ => {}
        }
    }
    out
}

fn save_failure(target: &str, data: &[u8]) -> PathBuf {
    let dir = root().join("target/fuzz-smoke");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{target}-failure"));
    std::fs::write(&path, data).unwrap();
    path
}

fn run_one(target: &str, f: fn(&[u8]), data: &[u8]) {
    if std::panic::catch_unwind(|| f(data)).is_err() {
        let path = save_failure(target, data);
        panic!(
            "fuzz target {target} failed on the input saved at {}",
            path.display()
        );
    }
}

fn smoke(target: &str, seed: u64) {
    let f = powersync_fuzz::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap()
        .1;
    let seeds = corpus(target);
    assert!(!seeds.is_empty(), "empty corpus for {target}");
    for data in &seeds {
        run_one(target, f, data);
    }
    let seconds = std::env::var("POWERSYNC_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let budget = Duration::from_secs(seconds);
    let started = Instant::now();
    let mut rng = Rng(seed);
    let mut runs = 0usize;
    while started.elapsed() < budget && runs < 2_000_000 {
        let base = &seeds[rng.index(seeds.len())];
        let input = mutate(&mut rng, base, &seeds);
        run_one(target, f, &input);
        runs += 1;
    }
    report(target, seeds.len(), runs, started.elapsed());
}

fn report(target: &str, seeds: usize, runs: usize, took: Duration) {
    use std::io::Write;
    let line = format!(
        "fuzz smoke {target}: {seeds} corpus files + {runs} mutations in {:.1}s, 0 failures",
        took.as_secs_f64()
    );
    println!("{line}");
    let path: &Path = &root().join("target/differential-cases.txt");
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(file, "{line}");
    }
}

#[test]
fn line_json() {
    smoke("line_json", 1);
}

#[test]
fn line_bson() {
    smoke("line_bson", 2);
}

#[test]
fn start() {
    smoke("start", 3);
}

#[test]
fn schema() {
    smoke("schema", 4);
}

#[test]
fn session() {
    smoke("session", 5);
}
