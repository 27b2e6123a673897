//! Fuzz targets of the PowerSync core: each takes arbitrary bytes and panics when an invariant
//! breaks. Shared by the cargo-fuzz binaries in `fuzz/` and the stable smoke test.

use powersync_protocol::line::{parse_binary, parse_text};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::Connection;

/// Binds a value as it is (text that need not be valid UTF-8, blobs, NULL).
struct Raw<'a>(ValueRef<'a>);

impl rusqlite::ToSql for Raw<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(self.0))
    }
}

/// A fuzz target: panics when an invariant breaks.
pub type Target = fn(&[u8]);

/// The targets, by name (the corpus folder names).
pub const TARGETS: &[(&str, Target)] = &[
    ("line_json", line_json),
    ("line_bson", line_bson),
    ("start", start),
    ("schema", schema),
    ("session", session),
];

/// A JSON sync line through the decoder.
pub fn line_json(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_text(text);
    }
}

/// A BSON sync line through the decoder.
pub fn line_bson(data: &[u8]) {
    let _ = parse_binary(data);
}

const SCHEMA: &str = r#"{"tables":[
  {"name":"items","columns":[{"name":"col","type":"TEXT"},{"name":"n","type":"INTEGER"}],"indexes":[{"name":"by_col","columns":[{"name":"col","ascending":true,"type":"TEXT"}]}]},
  {"name":"logged","include_old":true,"include_metadata":true,"columns":[{"name":"v","type":"TEXT"}]},
  {"name":"drafts","local_only":true,"columns":[{"name":"body","type":"TEXT"}]},
  {"name":"events","insert_only":true,"columns":[{"name":"e","type":"TEXT"}]}
]}"#;

/// An in-memory database with PowerSync, the fuzz schema, synced rows and queued writes.
fn open() -> Connection {
    let conn = Connection::open_in_memory().expect("in-memory database");
    powersync_core::register(&conn).expect("register");
    conn.execute_batch("BEGIN").unwrap();
    conn.query_row("SELECT powersync_init()", [], |_| Ok(())).unwrap();
    conn.query_row("SELECT powersync_replace_schema(?1)", [SCHEMA], |_| Ok(()))
        .unwrap();
    conn.execute_batch(
        "INSERT INTO items (id, col, n) VALUES ('i1', 'one', 1), ('i2', 'two', 2);
         INSERT INTO logged (id, v) VALUES ('l1', 'x');
         INSERT INTO drafts (id, body) VALUES ('d1', 'draft');
         INSERT INTO ps_untyped (type, id, data) VALUES ('other', 'o1', '{\"a\":1}');
         COMMIT",
    )
    .unwrap();
    conn
}

fn error_text(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
        other => other.to_string(),
    }
}

/// A panic inside the library surfaces as an internal error (the test profile unwinds, and the
/// SQL function trampoline turns the panic into an error); the fuzz profile aborts instead.
fn assert_no_panic(e: &rusqlite::Error, what: &str) {
    let text = error_text(e);
    assert!(
        !text.contains("Internal PowerSync error. cause: panic"),
        "{what}: {text}"
    );
}

/// All rows of `sql`. (`powersync_testkit::sql::raw_rows` does the same, but the cargo-fuzz
/// targets build this library and should not pull in the test kit's oracle and its
/// dependencies.)
fn rows(conn: &Connection, sql: &str) -> Vec<Vec<Value>> {
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn crud(conn: &Connection) -> Vec<Vec<Value>> {
    rows(conn, "SELECT id, tx_id, hex(data) FROM ps_crud ORDER BY id")
}

/// Everything a failed schema change must leave as it was: DDL, queued writes and all rows.
fn snapshot(conn: &Connection) -> Vec<Vec<Vec<Value>>> {
    let mut out = vec![
        rows(
            conn,
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name",
        ),
        crud(conn),
    ];
    let tables: Vec<String> = rows(
        conn,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .into_iter()
    .map(|r| match &r[0] {
        Value::Text(t) => t.clone(),
        _ => unreachable!(),
    })
    .collect();
    for t in tables {
        out.push(rows(
            conn,
            &format!("SELECT * FROM \"{}\" ORDER BY 1", t.replace('"', "\"\"")),
        ));
    }
    out
}

fn assert_integrity(conn: &Connection) {
    let check = rows(conn, "PRAGMA integrity_check");
    assert_eq!(check, vec![vec![Value::Text("ok".into())]], "integrity_check");
}

/// Calls `powersync_control` in its own transaction (as SDKs do), rolling back on error.
fn control(conn: &Connection, op: &str, payload: ValueRef<'_>) -> Result<String, rusqlite::Error> {
    conn.execute_batch("BEGIN").unwrap();
    let r = conn.query_row(
        "SELECT powersync_control(?1, ?2)",
        rusqlite::params![op, Raw(payload)],
        |r| r.get::<_, String>(0),
    );
    match &r {
        Ok(_) => conn.execute_batch("COMMIT").unwrap(),
        Err(e) => {
            assert_no_panic(e, op);
            conn.execute_batch("ROLLBACK").unwrap();
        }
    }
    r
}

/// A `start` payload (any bytes, as text) on an initialised database, then `stop`.
pub fn start(data: &[u8]) {
    let conn = open();
    let before = crud(&conn);
    let _ = control(&conn, "start", ValueRef::Text(data));
    let _ = control(&conn, "stop", ValueRef::Null);
    assert_eq!(crud(&conn), before, "start changed ps_crud");
    assert_integrity(&conn);
}

/// Schema JSON through `powersync_replace_schema`: a failure leaves everything unchanged
/// (the call is atomic), a success never touches `ps_crud`.
pub fn schema(data: &[u8]) {
    let conn = open();
    let before = snapshot(&conn);
    conn.execute_batch("BEGIN").unwrap();
    let r = conn.query_row(
        "SELECT powersync_replace_schema(?1)",
        [Raw(ValueRef::Text(data))],
        |_| Ok(()),
    );
    match r {
        Ok(()) => {
            assert_eq!(crud(&conn), before[1], "replace_schema changed ps_crud");
            conn.execute_batch("COMMIT").unwrap();
        }
        Err(e) => {
            assert_no_panic(&e, "powersync_replace_schema");
            assert_eq!(
                snapshot(&conn),
                before,
                "failed replace_schema changed the database: {e}"
            );
            conn.execute_batch("ROLLBACK").unwrap();
        }
    }
    assert_integrity(&conn);
}

/// Commands of a [`session`] input, by `opcode % COMMANDS.len()`.
const COMMANDS: &[&str] = &[
    "start",
    "stop",
    "line_text",
    "line_binary",
    "completed_upload",
    "refreshed_token",
    "connection",
    "update_subscriptions",
    "subscriptions",
    "target_checkpoint_request_id",
    // Not powersync_control commands:
    "local write",
    "upload one",
];

/// Encodes one session record: opcode, little-endian u16 length, payload.
pub fn session_record(command: &str, payload: &[u8]) -> Vec<u8> {
    let op = COMMANDS
        .iter()
        .position(|c| *c == command)
        .expect("known command") as u8;
    let len = payload.len().min(u16::MAX as usize);
    let mut out = vec![op];
    out.extend_from_slice(&(len as u16).to_le_bytes());
    out.extend_from_slice(&payload[..len]);
    out
}

/// A whole session: records of (opcode, u16 length, payload) drive `powersync_control`,
/// local writes through a view, and uploads (deleting the oldest `ps_crud` row, as SDKs do).
/// Invariants: no panic, `ps_crud` holds exactly the writes made and not uploaded, and the
/// database passes `integrity_check` at the end.
pub fn session(mut data: &[u8]) {
    let conn = open();
    let mut queued = crud(&conn).len();
    while data.len() >= 3 {
        let op = COMMANDS[data[0] as usize % COMMANDS.len()];
        let len = (u16::from_le_bytes([data[1], data[2]]) as usize).min(data.len() - 3);
        let payload = &data[3..3 + len];
        data = &data[3 + len..];
        match op {
            "local write" => {
                conn.execute_batch("BEGIN").unwrap();
                let r = conn.execute(
                    "INSERT INTO items (id, col, n) VALUES (?1, ?2, length(?2))",
                    rusqlite::params![
                        Raw(ValueRef::Text(&payload[..payload.len().min(8)])),
                        Raw(ValueRef::Text(payload))
                    ],
                );
                match r {
                    Ok(_) => {
                        conn.execute_batch("COMMIT").unwrap();
                        // One PUT queued per row inserted through the view.
                        queued += 1;
                    }
                    Err(e) => {
                        assert_no_panic(&e, "local write");
                        conn.execute_batch("ROLLBACK").unwrap();
                    }
                }
            }
            "upload one" => {
                conn.execute("DELETE FROM ps_crud WHERE id = (SELECT min(id) FROM ps_crud)", [])
                    .unwrap();
                queued = queued.saturating_sub(1);
            }
            "connection" => {
                let which = if payload.first().is_some_and(|b| b & 1 == 1) {
                    "connection established"
                } else {
                    "connection end"
                };
                let _ = control(&conn, which, ValueRef::Null);
            }
            "start" if payload.is_empty() => {
                let _ = control(&conn, op, ValueRef::Null);
            }
            "line_binary" => {
                let _ = control(&conn, op, ValueRef::Blob(payload));
            }
            "target_checkpoint_request_id" => {
                let n = payload
                    .iter()
                    .fold(0i64, |n, b| n.wrapping_mul(7).wrapping_add(i64::from(*b)));
                let _ = control(&conn, op, ValueRef::Integer(n));
            }
            "stop" | "completed_upload" | "refreshed_token" => {
                let _ = control(&conn, op, ValueRef::Null);
            }
            _ => {
                let _ = control(&conn, op, ValueRef::Text(payload));
            }
        }
        assert_eq!(
            crud(&conn).len(),
            queued,
            "ps_crud lost or gained rows after {op}"
        );
    }
    let _ = control(&conn, "stop", ValueRef::Null);
    assert_integrity(&conn);
}
