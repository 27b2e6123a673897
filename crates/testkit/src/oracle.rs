//! The test oracle: the reference extension (PowerSync core 0.5.4) behind a cassette.
//!
//! Differential tests run the same input through our implementation and through the
//! reference. Every interaction with the reference goes through a [`RefConn`] and is one
//! *request* (a kind and a string naming every input, e.g. `control` + `line_text {...}`)
//! with one *answer* (any [`Answer`] value, already normalised by the caller: timestamps and
//! the like blanked out). The answers of each test are kept as a transcript in the repository
//! (`crates/core/tests/transcripts/<binary>/<test>.json.gz`), so that the tests assert every case even
//! where the reference cannot be built (no network, no nightly toolchain).
//!
//! Modes ([`mode`]):
//! - **live** (the reference is available): requests run on the reference and each answer is
//!   compared with the recorded one; a difference, a missing or a left-over recording fails
//!   the test (the reference is pinned, so its answers only change with the test inputs).
//! - **record** (`POWERSYNC_RECORD=1` with the reference available): like live, but the
//!   transcripts are rewritten from the reference's answers instead of checked.
//! - **transcript** (the reference is unavailable, or `POWERSYNC_OFFLINE=1`): answers come
//!   from the transcript, matched by the exact request in order, so a changed test input is a
//!   "not recorded" failure, never a silent skip.
//!
//! Our implementation is always run live by the tests and compared with the answer, in every
//! mode.
//!
//! Transcripts are keyed by the test (the name of the test thread, which libtest sets to the
//! test's path) and, inside a test, by the label given to [`RefConn::open`] and the number of
//! connections opened with that label before it in the same test.

use rusqlite::types::Value;
use rusqlite::Connection;
use serde_json::{json, Value as Json};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Where transcripts live.
pub fn transcript_dir() -> PathBuf {
    workspace_root().join("crates/core/tests/transcripts")
}

/// How the reference's answers are obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// From the reference, checked against the transcripts.
    Live,
    /// From the reference, rewriting the transcripts.
    Record,
    /// From the transcripts.
    Transcript,
}

impl Mode {
    /// The word `scripts/test.sh` reports per suite.
    pub fn word(self) -> &'static str {
        match self {
            Mode::Live | Mode::Record => "live",
            Mode::Transcript => "transcript",
        }
    }
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Path of the reference extension, building it on first use (`scripts/build-reference.sh`,
/// which fails fast without network). `None` if unavailable or `POWERSYNC_OFFLINE=1`.
pub fn reference_path() -> Option<PathBuf> {
    static PATH: OnceLock<Option<PathBuf>> = OnceLock::new();
    PATH.get_or_init(|| {
        if env_flag("POWERSYNC_OFFLINE") {
            return None;
        }
        if let Ok(p) = std::env::var("POWERSYNC_REFERENCE") {
            let p = PathBuf::from(p);
            return p.exists().then_some(p);
        }
        let root = workspace_root();
        let file = root.join("target/reference/libpowersync.so");
        if !file.exists() {
            let status = std::process::Command::new("bash")
                .arg(root.join("scripts/build-reference.sh"))
                .status();
            if !matches!(status, Ok(s) if s.success()) {
                eprintln!("reference extension (core 0.5.4) unavailable: differential tests compare with the recorded transcripts");
                return None;
            }
        }
        Some(file)
    })
    .clone()
}

/// The mode of this process (decided once).
pub fn mode() -> Mode {
    static MODE: OnceLock<Mode> = OnceLock::new();
    *MODE.get_or_init(|| match reference_path() {
        None => {
            assert!(
                !env_flag("POWERSYNC_RECORD"),
                "POWERSYNC_RECORD=1 needs the reference extension (scripts/build-reference.sh)"
            );
            Mode::Transcript
        }
        Some(_) if env_flag("POWERSYNC_RECORD") => Mode::Record,
        Some(_) => Mode::Live,
    })
}

/// Loads a SQLite extension library into `conn`.
pub fn load_extension(conn: &Connection, path: &Path) {
    // SAFETY: test-only loading of a trusted extension library (the reference or our build).
    unsafe {
        let _guard = rusqlite::LoadExtensionGuard::new(conn).unwrap();
        conn.load_extension(path, Some("sqlite3_powersync_init")).unwrap();
    }
}

/// A value that can be recorded as an answer.
pub trait Answer: Sized {
    /// The recorded form.
    fn encode(&self) -> Json;
    /// Back from the recorded form; `None` if it does not fit the type.
    fn decode(j: &Json) -> Option<Self>;
}

impl Answer for Value {
    fn encode(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Integer(i) => json!(i),
            // Rust's shortest round-trip representation, parsed back exactly.
            Value::Real(f) => json!({ "real": format!("{f:?}") }),
            Value::Text(t) => json!(t),
            Value::Blob(b) => json!({ "blob": hex(b) }),
        }
    }
    fn decode(j: &Json) -> Option<Self> {
        Some(match j {
            Json::Null => Value::Null,
            Json::Number(n) => Value::Integer(n.as_i64()?),
            Json::String(s) => Value::Text(s.clone()),
            Json::Object(o) => {
                if let Some(r) = o.get("real") {
                    Value::Real(r.as_str()?.parse().ok()?)
                } else {
                    Value::Blob(unhex(o.get("blob")?.as_str()?)?)
                }
            }
            _ => return None,
        })
    }
}

impl Answer for Json {
    fn encode(&self) -> Json {
        self.clone()
    }
    fn decode(j: &Json) -> Option<Self> {
        Some(j.clone())
    }
}

impl Answer for String {
    fn encode(&self) -> Json {
        json!(self)
    }
    fn decode(j: &Json) -> Option<Self> {
        j.as_str().map(str::to_string)
    }
}

impl Answer for bool {
    fn encode(&self) -> Json {
        json!(self)
    }
    fn decode(j: &Json) -> Option<Self> {
        j.as_bool()
    }
}

impl Answer for () {
    fn encode(&self) -> Json {
        Json::Null
    }
    fn decode(j: &Json) -> Option<Self> {
        j.is_null().then_some(())
    }
}

macro_rules! int_answer {
    ($($t:ty),*) => {$(
        impl Answer for $t {
            fn encode(&self) -> Json {
                json!(self)
            }
            fn decode(j: &Json) -> Option<Self> {
                <$t>::try_from(j.as_i64()?).ok()
            }
        }
    )*};
}
int_answer!(i64, i32, usize, u64);

impl<T: Answer> Answer for Option<T> {
    fn encode(&self) -> Json {
        match self {
            None => json!([]),
            Some(v) => json!([v.encode()]),
        }
    }
    fn decode(j: &Json) -> Option<Self> {
        match j.as_array()?.as_slice() {
            [] => Some(None),
            [v] => Some(Some(T::decode(v)?)),
            _ => None,
        }
    }
}

impl<T: Answer> Answer for Vec<T> {
    fn encode(&self) -> Json {
        Json::Array(self.iter().map(Answer::encode).collect())
    }
    fn decode(j: &Json) -> Option<Self> {
        j.as_array()?.iter().map(T::decode).collect()
    }
}

impl<T: Answer, E: Answer> Answer for Result<T, E> {
    fn encode(&self) -> Json {
        match self {
            Ok(v) => json!({ "ok": v.encode() }),
            Err(e) => json!({ "err": e.encode() }),
        }
    }
    fn decode(j: &Json) -> Option<Self> {
        let o = j.as_object()?;
        if let Some(v) = o.get("ok") {
            Some(Ok(T::decode(v)?))
        } else {
            Some(Err(E::decode(o.get("err")?)?))
        }
    }
}

macro_rules! tuple_answer {
    ($($n:tt $t:ident),*) => {
        impl<$($t: Answer),*> Answer for ($($t,)*) {
            fn encode(&self) -> Json {
                json!([$(self.$n.encode()),*])
            }
            fn decode(j: &Json) -> Option<Self> {
                let a = j.as_array()?;
                Some(($($t::decode(a.get($n)?)?,)*))
            }
        }
    };
}
tuple_answer!(0 A, 1 B);
tuple_answer!(0 A, 1 B, 2 C);
tuple_answer!(0 A, 1 B, 2 C, 3 D);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The kind of interactions that hand on state rather than answer (a database file's bytes):
/// recorded, used in transcript mode, not compared in live mode.
const STATE_KIND: &str = "state";

/// Requests longer than this are recorded as a prefix and a digest of the whole.
const LONG_REQUEST: usize = 240;

/// The recorded form of a request: itself, or for long ones a prefix (for messages) and a
/// 128-bit FNV-1a digest (to detect any change of input).
fn request_key(kind: &str, request: &str) -> String {
    let full = format!("{kind} {request}");
    if full.len() <= LONG_REQUEST {
        return full;
    }
    let mut cut = 120;
    while !full.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}… [{} bytes, fnv {}]",
        &full[..cut],
        full.len(),
        digest(full.as_bytes())
    )
}

/// The 128-bit FNV-1a digest of `bytes`, in hex: requests too long to record whole, and
/// answers too large to record (e.g. whole tables after every step of a long sync) that only
/// need to be equal.
pub fn digest(bytes: &[u8]) -> String {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for &b in bytes {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    format!("{h:032x}")
}

/// One recorded interaction: `[request, answer]`.
type Tape = Vec<(String, Json)>;

/// A transcript file: tapes by key.
type Transcript = BTreeMap<String, Tape>;

/// The test binary's name (`target/release/deps/<name>-<hash>`), e.g. `sessions` for
/// `tests/sessions/main.rs`: test names repeat across binaries.
fn binary_name() -> String {
    let exe = std::env::current_exe().unwrap();
    let stem = exe.file_stem().unwrap().to_string_lossy().into_owned();
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_string(),
        _ => stem,
    }
}

/// `transcripts/<binary>/<test path with :: as .>.json.gz`.
fn transcript_path(test: &str) -> PathBuf {
    let file: String = test
        .replace("::", ".")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    transcript_dir()
        .join(binary_name())
        .join(format!("{file}.json.gz"))
}

fn read_transcript(path: &Path) -> Option<Transcript> {
    let bytes = std::fs::read(path).ok()?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: Json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Transcript::new();
    for (key, tape) in json.as_object()? {
        let tape = tape
            .as_array()?
            .iter()
            .map(|e| Some((e.get(0)?.as_str()?.to_string(), e.get(1)?.clone())))
            .collect::<Option<Tape>>()?;
        out.insert(key.clone(), tape);
    }
    Some(out)
}

/// One interaction per line, so that a re-recording shows as a readable diff after `zcat`.
fn write_transcript(path: &Path, transcript: &Transcript) {
    let mut text = String::from("{");
    for (i, (key, tape)) in transcript.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!("\n{}: [", Json::String(key.clone())));
        for (j, (req, answer)) in tape.iter().enumerate() {
            if j > 0 {
                text.push(',');
            }
            text.push_str(&format!("\n  {}", json!([req, answer])));
        }
        text.push_str("\n]");
    }
    text.push_str("\n}\n");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // mtime 0 and no file name in the header: the same answers give the same bytes.
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    gz.write_all(text.as_bytes()).unwrap();
    std::fs::write(path, gz.finish().unwrap()).unwrap();
}

/// Transcripts loaded (live and transcript modes) or being written (record mode), by file.
static TRANSCRIPTS: OnceLock<Mutex<HashMap<PathBuf, Option<Transcript>>>> = OnceLock::new();

fn transcripts() -> &'static Mutex<HashMap<PathBuf, Option<Transcript>>> {
    TRANSCRIPTS.get_or_init(Default::default)
}

thread_local! {
    /// Connections opened per label in this test thread.
    static OPENED: RefCell<HashMap<String, usize>> = RefCell::new(HashMap::new());
}

/// The name of the running test: libtest runs each test on a thread named after it.
fn current_test() -> String {
    std::thread::current()
        .name()
        .unwrap_or("unnamed-thread")
        .to_string()
}

/// A connection to the reference, or its recording.
pub struct RefConn {
    conn: Option<Connection>,
    file: PathBuf,
    key: String,
    /// The recorded tape (live and transcript modes).
    expected: Option<Tape>,
    /// What this run asked and got.
    got: RefCell<Tape>,
}

impl RefConn {
    /// Opens an in-memory database on the reference (or its recording). `label` names the
    /// connection within the running test.
    pub fn open(label: &str) -> RefConn {
        Self::open_with(label, |path| {
            let conn = Connection::open_in_memory().unwrap();
            load_extension(&conn, path);
            conn
        })
    }

    /// Opens a connection on the reference with `open` (given the library's path).
    pub fn open_with(label: &str, open: impl FnOnce(&Path) -> Connection) -> RefConn {
        let test = current_test();
        let n = OPENED.with(|o| {
            let mut o = o.borrow_mut();
            let n = o.entry(label.to_string()).or_default();
            *n += 1;
            *n
        });
        let key = if n == 1 {
            label.to_string()
        } else {
            format!("{label} #{n}")
        };
        let file = transcript_path(&test);
        let mode = mode();
        let expected = if mode == Mode::Record {
            None
        } else {
            let mut all = transcripts().lock().unwrap();
            let t = all.entry(file.clone()).or_insert_with(|| read_transcript(&file));
            let tape = t.as_ref().and_then(|t| t.get(&key)).cloned();
            Some(tape.unwrap_or_else(|| {
                panic!(
                    "not recorded: no transcript for test `{test}`, connection `{key}` in {}; \
                     record with the reference available: POWERSYNC_RECORD=1 cargo test --release -p powersync_core",
                    file.display()
                )
            }))
        };
        let conn = match mode {
            Mode::Transcript => None,
            Mode::Live | Mode::Record => Some(open(&reference_path().unwrap())),
        };
        RefConn {
            conn,
            file,
            key,
            expected,
            got: RefCell::new(Vec::new()),
        }
    }

    /// The live connection (live and record modes only): for steps that must touch the
    /// reference without an answer, e.g. a file written by it.
    pub fn live(&self) -> Option<&Connection> {
        self.conn.as_ref()
    }

    /// One interaction: in live and record modes runs `f` on the reference; in transcript
    /// mode answers from the recording. `request` must name every input `f` depends on.
    pub fn ask<T: Answer>(&self, kind: &str, request: &str, f: impl FnOnce(&Connection) -> T) -> T {
        match &self.conn {
            Some(conn) => {
                // The request is checked against the transcript before the reference runs.
                self.recorded(kind, request);
                let value = f(conn);
                self.exchange(kind, request, Some(value.encode()));
                value
            }
            None => {
                let answer = self.exchange(kind, request, None);
                T::decode(&answer).unwrap_or_else(|| {
                    panic!(
                        "`{}` interaction {} ({}): recorded answer {answer} does not fit the expected type",
                        self.key,
                        self.got.borrow().len(),
                        request_key(kind, request)
                    )
                })
            }
        }
    }

    /// The recorded answer of the next interaction (`None` when recording); panics if the
    /// transcript has no such interaction or another request there.
    fn recorded(&self, kind: &str, request: &str) -> Option<&Json> {
        let req = request_key(kind, request);
        let n = self.got.borrow().len();
        self.expected.as_ref().map(|tape| {
            let Some((rreq, answer)) = tape.get(n) else {
                panic!(
                    "not recorded: `{}` interaction {} ({req}) is beyond the transcript ({} interactions) in {}; \
                     re-record with POWERSYNC_RECORD=1 if the test changed",
                    self.key,
                    n + 1,
                    tape.len(),
                    self.file.display()
                )
            };
            assert!(
                *rreq == req,
                "not recorded: `{}` interaction {} asks\n  {req}\nbut the transcript {} has\n  {rreq}\n\
                 (the test's input changed: re-record with POWERSYNC_RECORD=1 and the reference available)",
                self.key,
                n + 1,
                self.file.display()
            );
            answer
        })
    }

    /// Appends one interaction: `live` is the reference's encoded answer (live and record
    /// modes), checked against the transcript unless it is state; in transcript mode the
    /// recorded answer. Returns the answer.
    fn exchange(&self, kind: &str, request: &str, live: Option<Json>) -> Json {
        let recorded = self.recorded(kind, request).cloned();
        let n = self.got.borrow().len();
        let answer = match live {
            Some(encoded) => {
                if let Some(recorded) = recorded.filter(|_| kind != STATE_KIND) {
                    assert!(
                        recorded == encoded,
                        "the reference's answer differs from its transcript: `{}` interaction {} ({})\n  \
                         reference now: {encoded}\n  recorded:      {recorded}\n  in {}\n\
                         (answers must not depend on time or randomness: normalise them; re-record with POWERSYNC_RECORD=1)",
                        self.key,
                        n + 1,
                        request_key(kind, request),
                        self.file.display()
                    );
                }
                encoded
            }
            None => recorded.expect("transcript mode has a tape"),
        };
        self.got
            .borrow_mut()
            .push((request_key(kind, request), answer.clone()));
        answer
    }
}

/// The reference writes the database file at `path` with `f` (for tests that hand a database
/// from one implementation to the other). The file's bytes are part of the answer: in
/// transcript mode they are written to `path`, so the reader finds what the reference wrote.
/// `f` must leave no transaction open.
pub fn reference_writes_file<T: Answer>(
    label: &str,
    request: &str,
    path: &Path,
    f: impl FnOnce(&Connection) -> T,
) -> T {
    let r = RefConn::open_file(label, path);
    let value = r.ask("write_file", request, f);
    r.hand_off(path);
    value
}

impl RefConn {
    /// Opens the database file at `path` on the reference (in transcript mode nothing is
    /// opened), for a test that hands the file between the implementations: the reference's
    /// part ends with [`RefConn::hand_off`].
    pub fn open_file(label: &str, path: &Path) -> RefConn {
        Self::open_with(label, |lib| {
            let c = Connection::open(path).unwrap();
            load_extension(&c, lib);
            c
        })
    }

    /// Ends the reference's turn on the file at `path` (opened by [`RefConn::open_file`]) and
    /// hands the file on. In live and record modes the connection is closed first (so that a
    /// WAL is checkpointed into the file) and the file's bytes are recorded; in transcript mode
    /// the recorded bytes are written to `path`, so the next reader continues from what the
    /// reference left. The bytes hold the reference's random client id and the like: state
    /// handed on, not an answer, so a live run does not compare them with the recording.
    pub fn hand_off(mut self, path: &Path) {
        let live = self.conn.take().is_some();
        // Compressed before the hex of the transcript (and again with it): a third of the
        // size of hex alone.
        let image = self.exchange(
            STATE_KIND,
            "file image (gzip)",
            live.then(|| {
                let mut gz = flate2::GzBuilder::new()
                    .mtime(0)
                    .write(Vec::new(), flate2::Compression::best());
                gz.write_all(&std::fs::read(path).unwrap()).unwrap();
                Value::Blob(gz.finish().unwrap()).encode()
            }),
        );
        if !live {
            let bytes = match Value::decode(&image) {
                Some(Value::Blob(gz)) => {
                    let mut bytes = Vec::new();
                    flate2::read::GzDecoder::new(&gz[..])
                        .read_to_end(&mut bytes)
                        .unwrap();
                    bytes
                }
                _ => panic!("`{}`: the recorded file image is not a blob", self.key),
            };
            // What the previous writer left beside the file belongs to other bytes.
            for suffix in ["-wal", "-shm", "-journal"] {
                let mut side = path.as_os_str().to_owned();
                side.push(suffix);
                let _ = std::fs::remove_file(side);
            }
            std::fs::write(path, bytes).unwrap();
        }
    }
}

impl Drop for RefConn {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let got = std::mem::take(self.got.get_mut());
        match &self.expected {
            None => {
                let mut all = transcripts().lock().unwrap();
                let t = all
                    .entry(self.file.clone())
                    .or_insert_with(|| Some(Transcript::new()))
                    .get_or_insert_with(Transcript::new);
                t.insert(self.key.clone(), got);
                write_transcript(&self.file, t);
            }
            Some(tape) => assert!(
                got.len() == tape.len(),
                "`{}` made {} interactions but its transcript {} has {}: re-record with POWERSYNC_RECORD=1",
                self.key,
                got.len(),
                self.file.display(),
                tape.len()
            ),
        }
    }
}

/// A database the differential helpers work on: ours (a plain [`Connection`], always run)
/// or the reference ([`RefConn`], answered per mode). Helpers take `&impl Db`, so the same
/// code serves both sides.
pub trait Db {
    /// Runs `f` and returns its answer (recorded for the reference). `kind` and `request`
    /// identify the interaction; `request` must name every input of `f`.
    fn ask<T: Answer>(&self, kind: &str, request: &str, f: impl FnOnce(&Connection) -> T) -> T;
}

impl Db for Connection {
    fn ask<T: Answer>(&self, _kind: &str, _request: &str, f: impl FnOnce(&Connection) -> T) -> T {
        f(self)
    }
}

impl Db for RefConn {
    fn ask<T: Answer>(&self, kind: &str, request: &str, f: impl FnOnce(&Connection) -> T) -> T {
        RefConn::ask(self, kind, request, f)
    }
}

impl<D: Db> Db for &D {
    fn ask<T: Answer>(&self, kind: &str, request: &str, f: impl FnOnce(&Connection) -> T) -> T {
        (*self).ask(kind, request, f)
    }
}

/// Records the number of cases a differential suite compared. Test output is captured for
/// passing tests, so the line also goes to `target/differential-cases.txt`, which
/// `scripts/test.sh` prints at the end of the run.
pub fn report(suite: &str, cases: usize) {
    let line = format!(
        "differential suite {suite}: {cases} cases compared ({}), 0 differences",
        mode().word()
    );
    println!("{line}");
    let path = workspace_root().join("target/differential-cases.txt");
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(file, "{line}");
    }
}

/// Records that a suite did not run (`scripts/test.sh` counts these lines: the run must say
/// "0 skipped").
pub fn report_skipped(suite: &str, why: &str) {
    let line = format!("skipped suite {suite}: {why}");
    eprintln!("!!! {line} !!!");
    let path = workspace_root().join("target/differential-cases.txt");
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(file, "{line}");
    }
}
