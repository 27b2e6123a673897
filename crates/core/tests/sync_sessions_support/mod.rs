//! Helpers for the scripted sync sessions (`sync_sessions_*.rs`) on top of the engine's
//! differential harness (`sync_common`): BSON line encoding, op builders, normalised queries,
//! and a runner that executes every session of a suite, reports each failure with its first
//! differing call, and only then fails.
#![allow(dead_code)]

use crate::common;
use crate::sync_common::{normalize_text, ErrorMatch, Payload, Session};
use bson::{Bson, Document};
use rusqlite::types::Value;
use serde_json::{json, Value as Json};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Result of one compared call (our normalised result).
pub(crate) type R = Result<Json, (i32, String)>;

/// Line encoding used by a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Enc {
    /// `line_text` with JSON text.
    Json,
    /// `line_binary` with one BSON document (int32 where a value fits, like most services).
    Bson,
    /// `line_binary` with every integer encoded as int64.
    Bson64,
}

/// Schema with a synced table carrying several column types, a second synced table and a
/// local-only table (used where diagnostics and routing need more than `items`).
pub(crate) const RICH_SCHEMA: &str = r#"{"tables":[{"name":"items","columns":[{"name":"col","type":"text"}]},{"name":"lists","columns":[{"name":"name","type":"text"},{"name":"n","type":"integer"},{"name":"r","type":"real"}]},{"name":"local_stuff","local_only":true,"columns":[{"name":"x","type":"text"}]}]}"#;

/// Converts JSON to BSON the way a service would encode it: integers that fit `i32` become
/// int32, other integers int64, other numbers doubles.
pub(crate) fn json_to_bson(v: &Json) -> Bson {
    match v {
        Json::Null => Bson::Null,
        Json::Bool(b) => Bson::Boolean(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                match i32::try_from(i) {
                    Ok(small) => Bson::Int32(small),
                    Err(_) => Bson::Int64(i),
                }
            } else if let Some(u) = n.as_u64() {
                Bson::Int64(u as i64)
            } else {
                Bson::Double(n.as_f64().unwrap())
            }
        }
        Json::String(s) => Bson::String(s.clone()),
        Json::Array(a) => Bson::Array(a.iter().map(json_to_bson).collect()),
        Json::Object(o) => {
            let mut d = Document::new();
            for (k, v) in o {
                d.insert(k.clone(), json_to_bson(v));
            }
            Bson::Document(d)
        }
    }
}

/// Like [`json_to_bson`] with every integer as int64.
pub(crate) fn json_to_bson64(v: &Json) -> Bson {
    match v {
        Json::Number(n) if n.is_i64() => Bson::Int64(n.as_i64().unwrap()),
        Json::Array(a) => Bson::Array(a.iter().map(json_to_bson64).collect()),
        Json::Object(o) => {
            let mut d = Document::new();
            for (k, v) in o {
                d.insert(k.clone(), json_to_bson64(v));
            }
            Bson::Document(d)
        }
        other => json_to_bson(other),
    }
}

/// Serialises a BSON document.
pub(crate) fn doc_bytes(doc: &Document) -> Vec<u8> {
    doc.to_vec().unwrap()
}

/// A JSON line encoded as one BSON document.
pub(crate) fn bson_line(line: &Json) -> Vec<u8> {
    match json_to_bson(line) {
        Bson::Document(d) => doc_bytes(&d),
        other => panic!("not a document: {other:?}"),
    }
}

/// A generic op.
pub(crate) fn op(
    op_id: i64,
    kind: &str,
    ty: Option<&str>,
    id: Option<&str>,
    checksum: i64,
    data: Option<&str>,
) -> Json {
    let mut o = json!({"op_id": op_id.to_string(), "op": kind, "checksum": checksum});
    if let Some(t) = ty {
        o["object_type"] = json!(t);
    }
    if let Some(i) = id {
        o["object_id"] = json!(i);
    }
    if let Some(d) = data {
        o["data"] = json!(d);
    }
    o
}

/// A PUT of `ty`/`id`.
pub(crate) fn put_t(op_id: i64, ty: &str, id: &str, checksum: i64, data: &str) -> Json {
    op(op_id, "PUT", Some(ty), Some(id), checksum, Some(data))
}

/// A REMOVE of `ty`/`id`.
pub(crate) fn remove_t(op_id: i64, ty: &str, id: &str, checksum: i64) -> Json {
    op(op_id, "REMOVE", Some(ty), Some(id), checksum, None)
}

/// A MOVE op.
pub(crate) fn mv(op_id: i64, checksum: i64) -> Json {
    op(op_id, "MOVE", None, None, checksum, None)
}

/// A CLEAR op.
pub(crate) fn clear(op_id: i64, checksum: i64) -> Json {
    op(op_id, "CLEAR", None, None, checksum, None)
}

/// A bucket checksum entry.
pub(crate) fn bucket(name: &str, checksum: i64, priority: Option<i32>, count: Option<i64>) -> Json {
    let mut o = json!({"bucket": name, "checksum": checksum});
    if let Some(p) = priority {
        o["priority"] = json!(p);
    }
    if let Some(c) = count {
        o["count"] = json!(c);
    }
    o
}

/// A `checkpoint` line from bucket entries.
pub(crate) fn cp(last_op_id: i64, write_checkpoint: Option<i64>, buckets: Vec<Json>) -> Json {
    let mut body = json!({"last_op_id": last_op_id.to_string(), "buckets": buckets});
    if let Some(w) = write_checkpoint {
        body["write_checkpoint"] = json!(w.to_string());
    }
    json!({ "checkpoint": body })
}

/// A `checkpoint_diff` line.
pub(crate) fn diff(
    last_op_id: i64,
    write_checkpoint: Option<i64>,
    updated: Vec<Json>,
    removed: &[&str],
) -> Json {
    let mut body =
        json!({"last_op_id": last_op_id.to_string(), "updated_buckets": updated, "removed_buckets": removed});
    if let Some(w) = write_checkpoint {
        body["write_checkpoint"] = json!(w.to_string());
    }
    json!({ "checkpoint_diff": body })
}

/// `token_expires_in`.
pub(crate) fn token(seconds: i64) -> Json {
    json!({ "token_expires_in": seconds })
}

/// A `subscriptions` subscribe payload.
pub(crate) fn subscribe(name: &str, params: Option<Json>, ttl: Option<i64>, priority: Option<i32>) -> Json {
    let mut stream = json!({ "name": name });
    if let Some(p) = params {
        stream["params"] = p;
    }
    let mut body = json!({ "stream": stream });
    if let Some(t) = ttl {
        body["ttl"] = json!(t);
    }
    if let Some(p) = priority {
        body["priority"] = json!(p);
    }
    json!({ "subscribe": body })
}

/// Waits until SQLite's millisecond clock has moved on. Status de-duplication compares
/// timestamps, so two applies within the same millisecond emit no second status; without
/// this wait that could happen on one implementation and not on the other.
pub(crate) fn tick() {
    std::thread::sleep(std::time::Duration::from_micros(1100));
}

/// Extra operations on the engine's [`Session`]. All `powersync_control` calls go through
/// these (they [`tick`] first).
pub(crate) trait SessionExt {
    /// A `powersync_control` call.
    fn ctl(&mut self, op: &str, payload: impl Into<Payload>) -> R;
    /// A call with a chosen error comparison.
    fn ctl_with(&mut self, op: &str, payload: impl Into<Payload>, errors: ErrorMatch) -> R;
    /// A JSON text line.
    fn json(&mut self, line: Json) -> R;
    /// Sends a line in the given encoding.
    fn send(&mut self, enc: Enc, line: Json) -> R;
    /// Sends raw BSON bytes.
    fn binary(&mut self, bytes: Vec<u8>) -> R;
    /// `start` with a JSON payload.
    fn start(&mut self, payload: Json) -> R;
    /// `start` with a NULL payload.
    fn start_null(&mut self) -> R;
    /// A command with a NULL payload.
    fn cmd(&mut self, op: &str) -> R;
    /// Runs a one-value query on both and compares the values after timestamp normalisation.
    fn value(&mut self, sql: &str) -> Result<Value, (i32, String)>;
    /// Compares `powersync_offline_sync_status()` on both; returns the normalised text.
    fn offline_status(&mut self) -> String;
}

/// Normalises timestamps inside a text value.
fn norm_value(v: Result<Value, (i32, String)>) -> Result<Value, (i32, String)> {
    v.map(|v| match v {
        Value::Text(t) => Value::Text(normalize_text(&t)),
        other => other,
    })
}

impl SessionExt for Session {
    fn ctl(&mut self, op: &str, payload: impl Into<Payload>) -> R {
        self.ctl_with(op, payload, ErrorMatch::Exact)
    }

    fn ctl_with(&mut self, op: &str, payload: impl Into<Payload>, errors: ErrorMatch) -> R {
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

    fn json(&mut self, line: Json) -> R {
        self.ctl("line_text", line)
    }

    fn send(&mut self, enc: Enc, line: Json) -> R {
        match enc {
            Enc::Json => self.ctl("line_text", line),
            Enc::Bson => self.ctl("line_binary", Payload::Blob(bson_line(&line))),
            Enc::Bson64 => match json_to_bson64(&line) {
                Bson::Document(d) => self.ctl("line_binary", Payload::Blob(doc_bytes(&d))),
                other => panic!("not a document: {other:?}"),
            },
        }
    }

    fn binary(&mut self, bytes: Vec<u8>) -> R {
        self.ctl("line_binary", Payload::Blob(bytes))
    }

    fn start(&mut self, payload: Json) -> R {
        self.ctl("start", payload)
    }

    fn start_null(&mut self) -> R {
        self.ctl("start", Payload::Null)
    }

    fn cmd(&mut self, op: &str) -> R {
        self.ctl(op, Payload::Null)
    }

    fn value(&mut self, sql: &str) -> Result<Value, (i32, String)> {
        let a = norm_value(common::eval(&self.ours, sql));
        let b = norm_value(common::eval(&self.reference, sql));
        assert_eq!(a, b, "{}: value of {sql}", self.name);
        self.cases += 1;
        a
    }

    fn offline_status(&mut self) -> String {
        match self.value("SELECT powersync_offline_sync_status()") {
            Ok(Value::Text(t)) => t,
            other => panic!("{}: offline status {other:?}", self.name),
        }
    }
}

/// Asserts that a compared result is an instruction array containing `needle` (guards
/// against scripts that silently stop exercising the intended path).
pub(crate) fn has(r: &R, needle: &str) {
    match r {
        Ok(Json::String(t)) => assert!(t.contains(needle), "expected {needle} in {t}"),
        other => panic!("expected instructions containing {needle}, got {other:?}"),
    }
}

/// Asserts that a compared result is exactly `[]`.
pub(crate) fn empty(r: &R) {
    assert_eq!(r, &Ok(Json::String("[]".into())), "expected no instructions");
}

/// Asserts that a compared call failed with `code`.
pub(crate) fn fails(r: &R, code: i32) {
    match r {
        Err((c, _)) => assert_eq!(*c, code, "unexpected error {r:?}"),
        Ok(v) => panic!("expected error {code}, got {v}"),
    }
}

/// A named session: returns the number of compared cases (0 when the reference is missing).
pub(crate) type SessionFn = fn() -> usize;

/// Runs every session, catching failures so that all of them are reported; then either
/// reports the suite (all passed) or fails listing each failed session and its difference.
pub(crate) fn run_suite(suite: &str, sessions: &[(&str, SessionFn)]) {
    let mut total = 0;
    let mut failures = Vec::new();
    let mut ran = 0;
    for (name, f) in sessions {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(n) => {
                if n > 0 {
                    ran += 1;
                }
                total += n;
                eprintln!("session {suite}::{name}: ok ({n} calls)");
            }
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "non-string panic".into());
                let msg = shorten_blobs(&msg);
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
    if ran > 0 {
        eprintln!("{suite}: {ran} sessions");
        common::report(suite, total);
    }
}

/// Replaces `Blob([1, 2, ...])` in failure labels with the byte count, keeping messages
/// readable.
fn shorten_blobs(msg: &str) -> String {
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
