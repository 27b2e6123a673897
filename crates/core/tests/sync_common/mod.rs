//! Reusable harness for sync-client tests: a [`Session`] runs the same steps on our
//! implementation and on the reference, each `powersync_control` call in its own
//! transaction, and after every step compares the returned instructions (timestamps
//! normalised) and every sync-relevant table.
#![allow(dead_code)]

use crate::common;
use rusqlite::types::Value;
use rusqlite::Connection;
use serde_json::Value as Json;

/// The client id both databases are given, so requests compare equal.
pub(crate) const CLIENT_ID: &str = "test-test-test-test";

/// Schema with one synced table `items(col text)` (and a local-only table).
pub(crate) const ITEMS_SCHEMA: &str = r#"{"tables":[{"name":"items","columns":[{"name":"col","type":"text"}]},{"name":"local_stuff","local_only":true,"columns":[{"name":"x","type":"text"}]}]}"#;

/// Prepares a database: internal tables, client id, schema.
pub(crate) fn init(conn: &Connection, schema: &str) {
    conn.execute_batch("BEGIN").unwrap();
    conn.query_row("SELECT powersync_init()", [], |_| Ok(())).unwrap();
    conn.execute("UPDATE ps_kv SET value = ?1 WHERE key = 'client_id'", [CLIENT_ID])
        .unwrap();
    conn.query_row("SELECT powersync_replace_schema(?1)", [schema], |_| Ok(()))
        .unwrap();
    conn.execute_batch("COMMIT").unwrap();
}

/// A `powersync_control` payload.
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    /// SQL NULL.
    Null,
    /// TEXT.
    Text(String),
    /// BLOB.
    Blob(Vec<u8>),
    /// INTEGER.
    Int(i64),
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

/// Result of one call: the value (instructions parsed as JSON when text) or (code, message).
pub(crate) type CallResult = Result<Value, (i32, String)>;

/// Calls `powersync_control` in its own transaction, returning the value or the error.
pub(crate) fn call(conn: &Connection, op: &str, payload: &Payload) -> CallResult {
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
            let err = common::error_of::<()>(Err(e)).unwrap();
            conn.execute_batch("ROLLBACK").unwrap();
            Err(err)
        }
    }
}

/// Replaces timestamps (µs since the epoch: values above 10^15) with `1`, and the values of
/// `last_synced_at` / `expires_at` keys likewise, so that two runs compare equal.
pub(crate) fn normalize_json(v: &mut Json) {
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
pub(crate) fn normalize_text(text: &str) -> String {
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
pub(crate) fn normalize_result(r: &CallResult) -> Result<Json, (i32, String)> {
    match r {
        Ok(Value::Text(t)) => Ok(Json::String(normalize_text(t))),
        Ok(Value::Integer(i)) => Ok(Json::from(*i)),
        Ok(Value::Null) => Ok(Json::Null),
        Ok(other) => Ok(Json::String(format!("{other:?}"))),
        Err(e) => Err(e.clone()),
    }
}

/// The tables compared after each step: internal sync tables plus data and raw tables.
pub(crate) fn sync_tables(conn: &Connection) -> Vec<(String, Vec<Vec<Value>>)> {
    common::dump_tables(conn)
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

/// How errors are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorMatch {
    /// Code and full message.
    Exact,
    /// Code and the message up to `cause:` (decoder wording differs).
    UpToCause,
}

fn error_key(e: &(i32, String), m: ErrorMatch) -> (i32, String) {
    match m {
        ErrorMatch::Exact => e.clone(),
        ErrorMatch::UpToCause => (e.0, e.1.split("cause:").next().unwrap_or_default().to_string()),
    }
}

/// A differential session: the same steps on ours and on the reference.
pub(crate) struct Session {
    /// Our connection.
    pub ours: Connection,
    /// The reference's connection.
    pub reference: Connection,
    /// Name for messages.
    pub name: String,
    /// Number of compared steps.
    pub cases: usize,
    step: usize,
}

impl Session {
    /// Opens both databases with `schema`; `None` when the reference is unavailable.
    pub(crate) fn new(name: &str, schema: &str) -> Option<Session> {
        let (ours, reference) = common::both()?;
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
        Some(s)
    }

    /// Runs one `powersync_control` call on both and compares; returns our normalised result.
    pub(crate) fn control(&mut self, op: &str, payload: impl Into<Payload>) -> Result<Json, (i32, String)> {
        self.control_with(op, payload, ErrorMatch::Exact)
    }

    /// Like [`Self::control`] with a chosen error comparison.
    pub(crate) fn control_with(
        &mut self,
        op: &str,
        payload: impl Into<Payload>,
        errors: ErrorMatch,
    ) -> Result<Json, (i32, String)> {
        let payload = payload.into();
        self.step += 1;
        let ours = normalize_result(&call(&self.ours, op, &payload));
        let theirs = normalize_result(&call(&self.reference, op, &payload));
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
        assert_eq!(busy_statements(&self.ours), 0, "{label}: statement left mid-step");
        self.cases += 1;
        ours
    }

    /// A JSON text line.
    pub(crate) fn line(&mut self, line: Json) -> Result<Json, (i32, String)> {
        self.control("line_text", line)
    }

    /// The same line as one BSON document (`line_binary`).
    pub(crate) fn bson_line(&mut self, line: Json) -> Result<Json, (i32, String)> {
        self.control("line_binary", Payload::Blob(to_bson(&line)))
    }

    /// Runs SQL (in a transaction) on both and compares the outcome.
    pub(crate) fn sql(&mut self, sql: &str) {
        self.step += 1;
        let run = |c: &Connection| -> Result<(), (i32, String)> {
            c.execute_batch("BEGIN").unwrap();
            match c.execute_batch(sql) {
                Ok(()) => {
                    c.execute_batch("COMMIT").unwrap();
                    Ok(())
                }
                Err(e) => {
                    let err = common::error_of::<()>(Err(e)).unwrap();
                    c.execute_batch("ROLLBACK").unwrap();
                    Err(err)
                }
            }
        };
        let a = run(&self.ours);
        let b = run(&self.reference);
        let label = format!("{} step {} (sql {sql})", self.name, self.step);
        assert_eq!(a, b, "{label}");
        self.compare_tables(&label);
        self.cases += 1;
    }

    /// Evaluates a query on both and compares the values.
    pub(crate) fn query(&mut self, sql: &str) -> Vec<Vec<Value>> {
        let a = common::rows(&self.ours, sql);
        let b = common::rows(&self.reference, sql);
        assert_eq!(a, b, "{}: query {sql}", self.name);
        self.cases += 1;
        a
    }

    /// Compares all sync-relevant tables.
    pub(crate) fn compare_tables(&self, label: &str) {
        let a = sync_tables(&self.ours);
        let b = sync_tables(&self.reference);
        let names_a: Vec<&String> = a.iter().map(|t| &t.0).collect();
        let names_b: Vec<&String> = b.iter().map(|t| &t.0).collect();
        assert_eq!(names_a, names_b, "{label}: table sets differ");
        for (ta, tb) in a.iter().zip(&b) {
            assert_eq!(ta, tb, "{label}: table {} differs", ta.0);
        }
    }
}

/// Builds a `data` line.
pub(crate) fn data_line(bucket: &str, ops: Json) -> Json {
    serde_json::json!({"data": {"bucket": bucket, "has_more": false, "after": null, "next_after": null, "data": ops}})
}

/// A PUT op on `items`.
pub(crate) fn put(op_id: i64, id: &str, checksum: i64, data: &str) -> Json {
    serde_json::json!({"op_id": op_id.to_string(), "op": "PUT", "object_type": "items", "object_id": id, "checksum": checksum, "data": data})
}

/// A REMOVE op on `items`.
pub(crate) fn remove(op_id: i64, id: &str, checksum: i64) -> Json {
    serde_json::json!({"op_id": op_id.to_string(), "op": "REMOVE", "object_type": "items", "object_id": id, "checksum": checksum})
}

/// A checkpoint line with `(bucket, checksum, priority, count)` entries.
pub(crate) fn checkpoint(
    last_op_id: i64,
    write_checkpoint: Option<i64>,
    buckets: &[(&str, i64, i32, Option<i64>)],
) -> Json {
    let buckets: Vec<Json> = buckets
        .iter()
        .map(|(b, c, p, n)| {
            let mut o = serde_json::json!({"bucket": b, "checksum": c, "priority": p});
            if let Some(n) = n {
                o["count"] = Json::from(*n);
            }
            o
        })
        .collect();
    serde_json::json!({"checkpoint": {"last_op_id": last_op_id.to_string(), "write_checkpoint": write_checkpoint.map(|w| w.to_string()), "buckets": buckets}})
}

/// `checkpoint_complete`.
pub(crate) fn complete(last_op_id: i64) -> Json {
    serde_json::json!({"checkpoint_complete": {"last_op_id": last_op_id.to_string()}})
}

/// `partial_checkpoint_complete`.
pub(crate) fn partial(last_op_id: i64, priority: i32) -> Json {
    serde_json::json!({"partial_checkpoint_complete": {"last_op_id": last_op_id.to_string(), "priority": priority}})
}

/// Encodes a JSON value as a BSON document (integers become int64).
pub(crate) fn to_bson(v: &Json) -> Vec<u8> {
    bson::serialize_to_vec(v).unwrap()
}

/// Number of statements of `conn` that are mid-step (`sqlite3_stmt_busy`); must be 0 after
/// every call.
pub(crate) fn busy_statements(conn: &Connection) -> usize {
    let mut n = 0;
    // SAFETY: walking the statement list of a live connection on its own thread; the
    // pointers are only passed back to SQLite.
    unsafe {
        let db = conn.handle();
        let mut stmt = rusqlite::ffi::sqlite3_next_stmt(db, std::ptr::null_mut());
        while !stmt.is_null() {
            if rusqlite::ffi::sqlite3_stmt_busy(stmt) != 0 {
                n += 1;
            }
            stmt = rusqlite::ffi::sqlite3_next_stmt(db, stmt);
        }
    }
    n
}
