//! The sync-session driver: a [`Session`] runs the same steps on our implementation and on
//! the reference (through the oracle), each `powersync_control` call in its own transaction,
//! and after every step compares the returned instructions (timestamps normalised) and every
//! sync-relevant table.

use crate::oracle::{self, Db, RefConn};
use crate::sql::{self, SqlError};
use rusqlite::types::Value;
use rusqlite::Connection;
use serde_json::Value as Json;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The client id both databases are given, so requests compare equal.
pub const CLIENT_ID: &str = "test-test-test-test";

/// Schema with one synced table `items(col text)` (and a local-only table).
pub const ITEMS_SCHEMA: &str = r#"{"tables":[{"name":"items","columns":[{"name":"col","type":"text"}]},{"name":"local_stuff","local_only":true,"columns":[{"name":"x","type":"text"}]}]}"#;

/// Schema with a synced table carrying several column types, a second synced table and a
/// local-only table (used where diagnostics and routing need more than `items`).
pub const RICH_SCHEMA: &str = r#"{"tables":[{"name":"items","columns":[{"name":"col","type":"text"}]},{"name":"lists","columns":[{"name":"name","type":"text"},{"name":"n","type":"integer"},{"name":"r","type":"real"}]},{"name":"local_stuff","local_only":true,"columns":[{"name":"x","type":"text"}]}]}"#;

/// Prepares a database: internal tables, client id, schema.
pub fn init(conn: &impl Db, schema: &str) {
    conn.ask("init", schema, |conn| {
        conn.execute_batch("BEGIN").unwrap();
        conn.query_row("SELECT powersync_init()", [], |_| Ok(())).unwrap();
        conn.execute("UPDATE ps_kv SET value = ?1 WHERE key = 'client_id'", [CLIENT_ID])
            .unwrap();
        conn.query_row("SELECT powersync_replace_schema(?1)", [schema], |_| Ok(()))
            .unwrap();
        conn.execute_batch("COMMIT").unwrap();
    })
}

/// A `powersync_control` payload.
#[derive(Debug, Clone)]
pub enum Payload {
    /// SQL NULL.
    Null,
    /// TEXT.
    Text(String),
    /// BLOB.
    Blob(Vec<u8>),
    /// INTEGER.
    Int(i64),
}

impl Payload {
    /// The payload as a request names it.
    pub fn key(&self) -> String {
        sql::value_key(&match self {
            Payload::Null => Value::Null,
            Payload::Text(s) => Value::Text(s.clone()),
            Payload::Blob(b) => Value::Blob(b.clone()),
            Payload::Int(i) => Value::Integer(*i),
        })
    }
}

impl From<&str> for Payload {
    fn from(s: &str) -> Self {
        Payload::Text(s.to_string())
    }
}

impl From<String> for Payload {
    fn from(s: String) -> Self {
        Payload::Text(s)
    }
}

impl From<Json> for Payload {
    fn from(v: Json) -> Self {
        Payload::Text(v.to_string())
    }
}

impl rusqlite::ToSql for Payload {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Payload::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Payload::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Payload::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            Payload::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
        })
    }
}

/// Result of one call: the value or (code, message).
pub type CallResult = Result<Value, SqlError>;

/// Calls `powersync_control` in its own transaction, returning the value or the error.
pub fn call(conn: &Connection, op: &str, payload: &Payload) -> CallResult {
    conn.execute_batch("BEGIN").unwrap();
    let r = conn.query_row(
        "SELECT powersync_control(?1, ?2)",
        rusqlite::params![op, payload],
        |r| r.get::<_, Value>(0),
    );
    match r {
        Ok(v) => {
            conn.execute_batch("COMMIT").unwrap();
            Ok(v)
        }
        Err(e) => {
            let err = sql::error_of::<()>(Err(e)).unwrap();
            conn.execute_batch("ROLLBACK").unwrap();
            Err(err)
        }
    }
}

/// Replaces timestamps (µs since the epoch: values above 10^15) with `1`, and the values of
/// `last_synced_at` / `expires_at` keys likewise, so that two runs compare equal.
pub fn normalize_json(v: &mut Json) {
    match v {
        Json::Object(map) => {
            for (k, val) in map.iter_mut() {
                if (k == "last_synced_at" || k == "expires_at") && !val.is_null() {
                    *val = Json::from(1);
                } else {
                    normalize_json(val);
                }
            }
        }
        Json::Array(a) => a.iter_mut().for_each(normalize_json),
        _ => {}
    }
}

/// Replaces the numbers after `"last_synced_at":` and `"expires_at":` in JSON text with `1`,
/// keeping everything else (including key order) byte for byte.
pub fn normalize_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = ["\"last_synced_at\":", "\"expires_at\":"]
            .iter()
            .filter_map(|k| rest.find(k).map(|i| (i, k.len())))
            .min();
        let Some((i, len)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..i + len]);
        rest = &rest[i + len..];
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '-'))
            .unwrap_or(rest.len());
        if digits > 0 {
            out.push('1');
        }
        rest = &rest[digits..];
    }
}

/// Normalises a result for comparison: instruction arrays as normalised text (key order
/// matters), other values as their JSON form.
pub fn normalize_result(r: &CallResult) -> Result<Json, SqlError> {
    match r {
        Ok(Value::Text(t)) => Ok(Json::String(normalize_text(t))),
        Ok(Value::Integer(i)) => Ok(Json::from(*i)),
        Ok(Value::Null) => Ok(Json::Null),
        Ok(other) => Ok(Json::String(format!("{other:?}"))),
        Err(e) => Err(e.clone()),
    }
}

/// Normalises timestamps inside a text value.
pub fn normalize_value(v: Result<Value, SqlError>) -> Result<Value, SqlError> {
    v.map(|v| match v {
        Value::Text(t) => Value::Text(normalize_text(&t)),
        other => other,
    })
}

/// The tables compared after each step: internal sync tables plus data and raw tables.
pub fn sync_tables(conn: &impl Db) -> Vec<sql::TableDump> {
    conn.ask("sync_tables", "", raw_sync_tables)
}

/// [`sync_tables`] on a connection, unrecorded.
pub fn raw_sync_tables(conn: &Connection) -> Vec<sql::TableDump> {
    sql::raw_dump_tables(conn)
        .into_iter()
        .filter(|(name, _)| !matches!(name.as_str(), "ps_migration" | "ps_tx" | "sqlite_sequence"))
        .map(|(name, mut rows)| {
            let ts_cols: &[usize] = match name.as_str() {
                "ps_sync_state" => &[1],
                "ps_stream_subscriptions" => &[7, 8],
                _ => &[],
            };
            for row in rows.iter_mut() {
                for &c in ts_cols {
                    if !matches!(row[c], Value::Null) {
                        row[c] = Value::Integer(1);
                    }
                }
            }
            rows.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            (name, rows)
        })
        .collect()
}

/// What a sync must leave the same however it was interrupted (crash-safety tests): synced
/// rows of `items`, the oplog, the buckets (no timestamps) and the upload queue, in that order.
pub fn durable_state(conn: &Connection) -> Vec<Vec<Vec<Value>>> {
    [
        "SELECT id, data FROM ps_data__items ORDER BY id",
        "SELECT bucket, op_id, key, row_type, row_id, data, hash FROM ps_oplog ORDER BY bucket, op_id",
        "SELECT name, last_applied_op, last_op, add_checksum, op_checksum FROM ps_buckets ORDER BY name",
        "SELECT id, tx_id, data FROM ps_crud ORDER BY id",
    ]
    .into_iter()
    .map(|sql| sql::raw_rows(conn, sql))
    .collect()
}

/// How errors are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorMatch {
    /// Code and full message.
    Exact,
    /// Code and the message up to `cause:` (decoder wording differs).
    UpToCause,
}

fn error_key(e: &SqlError, m: ErrorMatch) -> SqlError {
    match m {
        ErrorMatch::Exact => e.clone(),
        ErrorMatch::UpToCause => (e.0, e.1.split("cause:").next().unwrap_or_default().to_string()),
    }
}

/// Result of one compared call (our normalised result).
pub type R = Result<Json, SqlError>;

/// A differential session: the same steps on ours and on the reference.
pub struct Session {
    /// Our connection.
    pub ours: Connection,
    /// The reference's connection (or its recording).
    pub reference: RefConn,
    /// Name for messages (and of the reference's transcript within the test).
    pub name: String,
    /// Number of compared steps.
    pub cases: usize,
    step: usize,
}

impl Session {
    /// Opens both databases with `schema` (without the reference, its answers come from the
    /// transcripts).
    pub fn new(name: &str, schema: &str) -> Session {
        let (ours, reference) = sql::both(name);
        init(&ours, schema);
        init(&reference, schema);
        let s = Session {
            ours,
            reference,
            name: name.to_string(),
            cases: 0,
            step: 0,
        };
        s.compare_tables("init");
        s
    }

    /// Runs one `powersync_control` call on both and compares; returns our normalised result.
    pub fn control(&mut self, op: &str, payload: impl Into<Payload>) -> R {
        self.control_with(op, payload, ErrorMatch::Exact)
    }

    /// Like [`Self::control`] with a chosen error comparison.
    pub fn control_with(&mut self, op: &str, payload: impl Into<Payload>, errors: ErrorMatch) -> R {
        let payload = payload.into();
        self.step += 1;
        let ours = normalize_result(&call(&self.ours, op, &payload));
        let theirs = self
            .reference
            .ask("control", &format!("{op} {}", payload.key()), |c| {
                normalize_result(&call(c, op, &payload))
            });
        let label = format!("{} step {} ({op} {payload:?})", self.name, self.step);
        match (&ours, &theirs) {
            (Err(a), Err(b)) => assert_eq!(
                error_key(a, errors),
                error_key(b, errors),
                "{label}: errors differ"
            ),
            _ => assert_eq!(ours, theirs, "{label}: results differ"),
        }
        self.compare_tables(&label);
        assert_eq!(
            sql::raw_busy_statements(&self.ours),
            0,
            "{label}: statement left mid-step"
        );
        self.cases += 1;
        ours
    }

    /// A JSON text line.
    pub fn line(&mut self, line: Json) -> R {
        self.control("line_text", line)
    }

    /// The same line as one BSON document (`line_binary`, every integer int64).
    pub fn bson_line(&mut self, line: Json) -> R {
        self.control("line_binary", Payload::Blob(crate::lines::to_bson(&line)))
    }

    /// Runs SQL (in a transaction, rolled back on error) on both and compares the outcome.
    pub fn sql(&mut self, sql: &str) {
        self.step += 1;
        let run = |c: &Connection| -> Result<(), SqlError> {
            c.execute_batch("BEGIN").unwrap();
            match c.execute_batch(sql) {
                Ok(()) => {
                    c.execute_batch("COMMIT").unwrap();
                    Ok(())
                }
                Err(e) => {
                    let err = sql::error_of::<()>(Err(e)).unwrap();
                    c.execute_batch("ROLLBACK").unwrap();
                    Err(err)
                }
            }
        };
        let a = run(&self.ours);
        let b = self.reference.ask("sql", sql, run);
        let label = format!("{} step {} (sql {sql})", self.name, self.step);
        assert_eq!(a, b, "{label}");
        self.compare_tables(&label);
        self.cases += 1;
    }

    /// Evaluates a query on both and compares the values.
    pub fn query(&mut self, sql: &str) -> Vec<Vec<Value>> {
        let a = sql::rows(&self.ours, sql);
        let b = sql::rows(&self.reference, sql);
        assert_eq!(a, b, "{}: query {sql}", self.name);
        self.cases += 1;
        a
    }

    /// Compares all sync-relevant tables.
    pub fn compare_tables(&self, label: &str) {
        let a = sync_tables(&self.ours);
        let b = sync_tables(&self.reference);
        let names_a: Vec<&String> = a.iter().map(|t| &t.0).collect();
        let names_b: Vec<&String> = b.iter().map(|t| &t.0).collect();
        assert_eq!(names_a, names_b, "{label}: table sets differ");
        for (ta, tb) in a.iter().zip(&b) {
            assert_eq!(ta, tb, "{label}: table {} differs", ta.0);
        }
    }

    /// Runs a one-value query on both and compares the values after timestamp normalisation.
    pub fn value(&mut self, sql: &str) -> Result<Value, SqlError> {
        let a = normalize_value(sql::raw_eval(&self.ours, sql));
        let b = self
            .reference
            .ask("value", sql, |c| normalize_value(sql::raw_eval(c, sql)));
        assert_eq!(a, b, "{}: value of {sql}", self.name);
        self.cases += 1;
        a
    }
}

/// Line encoding used by a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enc {
    /// `line_text` with JSON text.
    Json,
    /// `line_binary` with one BSON document (int32 where a value fits, like most services).
    Bson,
    /// `line_binary` with every integer encoded as int64.
    Bson64,
}

/// Waits until SQLite's millisecond clock has moved on. Status de-duplication compares
/// timestamps, so two applies within the same millisecond emit no second status; without
/// this wait that could happen on one implementation and not on the other.
pub fn tick() {
    std::thread::sleep(std::time::Duration::from_micros(1100));
}

impl Session {
    /// A `powersync_control` call (after a [`tick`]).
    pub fn ctl(&mut self, op: &str, payload: impl Into<Payload>) -> R {
        self.ctl_with(op, payload, ErrorMatch::Exact)
    }

    /// A call with a chosen error comparison (after a [`tick`]).
    pub fn ctl_with(&mut self, op: &str, payload: impl Into<Payload>, errors: ErrorMatch) -> R {
        tick();
        let payload = payload.into();
        // SESSIONS_TRACE=1 prints every call and our result (to investigate a failure).
        let trace = std::env::var_os("SESSIONS_TRACE").is_some();
        if trace {
            eprintln!("[{}] {op} {}", self.name, shorten_blobs(&format!("{payload:?}")));
        }
        let r = self.control_with(op, payload, errors);
        if trace {
            eprintln!("    -> {r:?}");
        }
        r
    }

    /// A JSON text line.
    pub fn json(&mut self, line: Json) -> R {
        self.ctl("line_text", line)
    }

    /// Sends a line in the given encoding.
    pub fn send(&mut self, enc: Enc, line: Json) -> R {
        match enc {
            Enc::Json => self.ctl("line_text", line),
            Enc::Bson => self.ctl("line_binary", Payload::Blob(crate::lines::bson_line(&line))),
            Enc::Bson64 => self.ctl("line_binary", Payload::Blob(crate::lines::to_bson(&line))),
        }
    }

    /// Sends raw BSON bytes.
    pub fn binary(&mut self, bytes: Vec<u8>) -> R {
        self.ctl("line_binary", Payload::Blob(bytes))
    }

    /// `start` with a JSON payload.
    pub fn start(&mut self, payload: Json) -> R {
        self.ctl("start", payload)
    }

    /// `start` with a NULL payload.
    pub fn start_null(&mut self) -> R {
        self.ctl("start", Payload::Null)
    }

    /// A command with a NULL payload.
    pub fn cmd(&mut self, op: &str) -> R {
        self.ctl(op, Payload::Null)
    }

    /// Compares `powersync_offline_sync_status()` on both; returns the normalised text.
    pub fn offline_status(&mut self) -> String {
        match self.value("SELECT powersync_offline_sync_status()") {
            Ok(Value::Text(t)) => t,
            other => panic!("{}: offline status {other:?}", self.name),
        }
    }
}

/// Asserts that a compared result is an instruction array containing `needle` (guards
/// against scripts that silently stop exercising the intended path).
pub fn has(r: &R, needle: &str) {
    match r {
        Ok(Json::String(t)) => assert!(t.contains(needle), "expected {needle} in {t}"),
        other => panic!("expected instructions containing {needle}, got {other:?}"),
    }
}

/// Asserts that a compared result is exactly `[]`.
pub fn empty(r: &R) {
    assert_eq!(r, &Ok(Json::String("[]".into())), "expected no instructions");
}

/// Asserts that a compared call failed with `code`.
pub fn fails(r: &R, code: i32) {
    match r {
        Err((c, _)) => assert_eq!(*c, code, "unexpected error {r:?}"),
        Ok(v) => panic!("expected error {code}, got {v}"),
    }
}

/// A named session: returns the number of compared cases.
pub type SessionFn = fn() -> usize;

/// Runs every session, catching failures so that all of them are reported; then either
/// reports the suite (all passed) or fails listing each failed session and its difference.
pub fn run_suite(suite: &str, sessions: &[(&str, SessionFn)]) {
    let mut total = 0;
    let mut failures = Vec::new();
    for (name, f) in sessions {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(n) => {
                total += n;
                eprintln!("session {suite}::{name}: ok ({n} calls)");
            }
            Err(e) => {
                let msg = shorten_blobs(&panic_message(&*e));
                eprintln!("session {suite}::{name}: FAILED\n{msg}");
                failures.push(format!("{name}: {msg}"));
            }
        }
    }
    if !failures.is_empty() {
        panic!(
            "{} of {} sessions of {suite} failed:\n\n{}",
            failures.len(),
            sessions.len(),
            failures.join("\n\n")
        );
    }
    eprintln!("{suite}: {} sessions", sessions.len());
    oracle::report(suite, total);
}

/// The message of a caught panic.
pub fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "non-string panic".into())
}

/// Replaces `Blob([1, 2, ...])` in failure labels with the byte count, keeping messages
/// readable.
pub fn shorten_blobs(msg: &str) -> String {
    let mut out = String::new();
    let mut rest = msg;
    while let Some(i) = rest.find("Blob([") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 6..];
        let end = after.find("])").unwrap_or(after.len());
        let n = after[..end].split(',').filter(|p| !p.trim().is_empty()).count();
        out.push_str(&format!("Blob(<{n} bytes>)"));
        rest = after.get(end + 2..).unwrap_or("");
    }
    out.push_str(rest);
    out
}
