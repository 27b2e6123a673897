//! Malformed input table: bad command names and payloads, malformed JSON and BSON lines,
//! commands without an active iteration or outside a transaction. For every case, ours and
//! the reference must fail with the same code and message, leave the database byte-identical
//! (every table including `ps_crud`, plus `sqlite_master`), and leave the iteration in the
//! same state (probed with a keepalive afterwards).
//!
//! Messages are compared exactly, including the decoder-specific `cause` that docs/protocol.md#the-error-model allows
//! to compare loosely: our serde_json and BSON decoders reproduce the reference's wording for
//! every case here, so no case needs the loose comparison.
use crate::common;
use crate::sync_common;
use crate::sync_sessions_support;

use bson::{doc, Bson};
use rusqlite::types::Value;
use rusqlite::Connection;
use serde_json::json;
use sync_common::*;
use sync_sessions_support::*;

/// State the databases are put in before the malformed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// No iteration (after `stop`).
    Idle,
    /// Iteration started, no checkpoint yet.
    Started,
    /// Iteration tracking a checkpoint.
    Tracking,
}

struct Case {
    name: &'static str,
    ctx: Ctx,
    op: Payload,
    payload: Payload,
    in_tx: bool,
    /// SQL run on both (compared) after the context is set up, before the snapshot.
    setup: Option<&'static str>,
}

fn case(name: &'static str, ctx: Ctx, op: &str, payload: Payload) -> Case {
    Case {
        name,
        ctx,
        op: Payload::Text(op.into()),
        payload,
        in_tx: true,
        setup: None,
    }
}

fn text(s: &str) -> Payload {
    Payload::Text(s.into())
}

fn line(name: &'static str, ctx: Ctx, json_text: &str) -> Case {
    case(name, ctx, "line_text", text(json_text))
}

fn binary(name: &'static str, ctx: Ctx, bytes: Vec<u8>) -> Case {
    case(name, ctx, "line_binary", Payload::Blob(bytes))
}

fn with_setup(mut c: Case, sql: &'static str) -> Case {
    c.setup = Some(sql);
    c
}

fn autocommit(mut c: Case) -> Case {
    c.in_tx = false;
    c
}

fn bdoc(d: bson::Document) -> Vec<u8> {
    doc_bytes(&d)
}

fn cases() -> Vec<Case> {
    use Ctx::*;
    let valid_token = r#"{"token_expires_in":3600}"#;
    vec![
        // Command names.
        case("unknown command", Idle, "bogus", Payload::Null),
        case("command is case-sensitive", Tracking, "START", Payload::Null),
        case("empty command", Tracking, "", Payload::Null),
        Case {
            op: Payload::Null,
            ..case("NULL command", Tracking, "", Payload::Null)
        },
        Case {
            op: Payload::Int(1),
            ..case("integer command", Idle, "", Payload::Null)
        },
        Case {
            op: Payload::Blob(b"start".to_vec()),
            ..case("blob command", Idle, "", Payload::Null)
        },
        // Outside a transaction.
        autocommit(case("start outside tx", Idle, "start", Payload::Null)),
        autocommit(case("stop outside tx", Tracking, "stop", Payload::Null)),
        autocommit(line("line outside tx", Tracking, valid_token)),
        autocommit(case("bogus outside tx", Idle, "bogus", Payload::Null)),
        autocommit(case(
            "subscriptions outside tx",
            Idle,
            "subscriptions",
            text(r#"{"subscribe":{"stream":{"name":"a"}}}"#),
        )),
        autocommit(case(
            "target outside tx",
            Idle,
            "target_checkpoint_request_id",
            Payload::Int(3),
        )),
        autocommit(case(
            "current outside tx",
            Idle,
            "current_checkpoint_request_id",
            Payload::Null,
        )),
        // start payloads.
        case("start 'null'", Tracking, "start", text("null")),
        case("start ''", Tracking, "start", text("")),
        case("start array", Tracking, "start", text("[]")),
        case("start trailing", Tracking, "start", text("{} x")),
        case(
            "start parameters array",
            Tracking,
            "start",
            text(r#"{"parameters": [1]}"#),
        ),
        case(
            "start parameters string",
            Idle,
            "start",
            text(r#"{"parameters": "p"}"#),
        ),
        case(
            "start unknown checkpoint_mode",
            Tracking,
            "start",
            text(r#"{"checkpoint_mode": "x"}"#),
        ),
        case(
            "start checkpoint_mode case",
            Idle,
            "start",
            text(r#"{"checkpoint_mode": "Legacy"}"#),
        ),
        case(
            "start schema without tables",
            Tracking,
            "start",
            text(r#"{"schema": {}}"#),
        ),
        case(
            "start raw_tables null",
            Idle,
            "start",
            text(r#"{"schema": {"tables": [], "raw_tables": null}}"#),
        ),
        case(
            "start include_defaults string",
            Idle,
            "start",
            text(r#"{"include_defaults": "yes"}"#),
        ),
        case(
            "start active stream without name",
            Tracking,
            "start",
            text(r#"{"active_streams": [{"params": {}}]}"#),
        ),
        case(
            "start active_streams object",
            Idle,
            "start",
            text(r#"{"active_streams": {}}"#),
        ),
        case(
            "start diagnostics number",
            Idle,
            "start",
            text(r#"{"diagnostics": 1}"#),
        ),
        case(
            "start bad raw param",
            Tracking,
            "start",
            text(
                r#"{"schema": {"tables": [], "raw_tables": [{"name": "r", "put": {"sql": "x", "params": ["Bogus"]}}]}}"#,
            ),
        ),
        case(
            "start raw put without params",
            Idle,
            "start",
            text(r#"{"schema": {"tables": [], "raw_tables": [{"name": "r", "put": {"sql": "x"}}]}}"#),
        ),
        case("start empty array", Tracking, "start", text("[]")),
        case("start array of null", Idle, "start", text("[null]")),
        case(
            "start array of seven nulls",
            Tracking,
            "start",
            text("[null,null,null,null,null,null,null]"),
        ),
        case(
            "start schema null",
            Tracking,
            "start",
            text(r#"{"schema": null}"#),
        ),
        case(
            "start tables not objects",
            Idle,
            "start",
            text(r#"{"schema": {"tables": [1, "x"]}}"#),
        ),
        case(
            "start raw clear number",
            Idle,
            "start",
            text(
                r#"{"schema": {"tables": [], "raw_tables": [{"name": "x", "table_name": "t", "clear": 5}]}}"#,
            ),
        ),
        case(
            "start raw column number",
            Tracking,
            "start",
            text(
                r#"{"schema": {"tables": [], "raw_tables": [{"name": "x", "put": {"sql": "s", "params": [{"Column": 1}]}}]}}"#,
            ),
        ),
        case(
            "start active_streams null",
            Idle,
            "start",
            text(r#"{"active_streams": null}"#),
        ),
        case(
            "start include_defaults null",
            Tracking,
            "start",
            text(r#"{"include_defaults": null}"#),
        ),
        case(
            "start checkpoint_mode null",
            Idle,
            "start",
            text(r#"{"checkpoint_mode": null}"#),
        ),
        case(
            "start duplicate field",
            Tracking,
            "start",
            text(r#"{"parameters": {"a": 1}, "parameters": {"b": 2}}"#),
        ),
        case("start schema number", Idle, "start", text(r#"{"schema": 1}"#)),
        case(
            "start diagnostics array with element",
            Tracking,
            "start",
            text(r#"{"diagnostics": [1]}"#),
        ),
        case(
            "start diagnostics string",
            Idle,
            "start",
            text(r#"{"diagnostics": "x"}"#),
        ),
        case(
            "start sequence bad diagnostics",
            Tracking,
            "start",
            text(r#"[null,{"tables":[]},true,[],null,"legacy",5]"#),
        ),
        case(
            "start sequence bad mode",
            Idle,
            "start",
            text(r#"[null,{"tables":[]},true,[],null,"x",null]"#),
        ),
        case(
            "start sequence too long",
            Tracking,
            "start",
            text(r#"[null,{"tables":[]},true,[],null,"legacy",{},1]"#),
        ),
        // line_text payload types and iteration checks.
        case("line_text NULL", Started, "line_text", Payload::Null),
        case(
            "line_text blob",
            Tracking,
            "line_text",
            Payload::Blob(b"{}".to_vec()),
        ),
        case("line_text integer", Tracking, "line_text", Payload::Int(1)),
        line("line_text idle", Idle, valid_token),
        case("line_text NULL idle", Idle, "line_text", Payload::Null),
        // Malformed JSON lines.
        line("empty object", Tracking, "{}"),
        line("two keys", Tracking, r#"{"checkpoint_complete":{},"x":1}"#),
        line("EOF", Tracking, "{"),
        line("not json", Started, "not json"),
        line("empty text", Tracking, ""),
        line("trailing characters", Tracking, r#"{"token_expires_in":5} x"#),
        line("top-level array", Tracking, "[1]"),
        line(
            "checkpoint without last_op_id",
            Started,
            r#"{"checkpoint":{"buckets":[]}}"#,
        ),
        line(
            "checkpoint numeric last_op_id",
            Started,
            r#"{"checkpoint":{"last_op_id":1,"buckets":[]}}"#,
        ),
        line(
            "checkpoint non-numeric op id",
            Started,
            r#"{"checkpoint":{"last_op_id":"abc","buckets":[]}}"#,
        ),
        line(
            "checkpoint op id out of range",
            Tracking,
            r#"{"checkpoint":{"last_op_id":"99999999999999999999","buckets":[]}}"#,
        ),
        line(
            "checkpoint op id with spaces",
            Tracking,
            r#"{"checkpoint":{"last_op_id":" 1","buckets":[]}}"#,
        ),
        line(
            "checkpoint without buckets",
            Tracking,
            r#"{"checkpoint":{"last_op_id":"1"}}"#,
        ),
        line(
            "checkpoint numeric write_checkpoint",
            Tracking,
            r#"{"checkpoint":{"last_op_id":"1","write_checkpoint":5,"buckets":[]}}"#,
        ),
        line(
            "bucket without name",
            Tracking,
            r#"{"checkpoint":{"last_op_id":"1","buckets":[{"checksum":0}]}}"#,
        ),
        line(
            "bucket without checksum",
            Tracking,
            r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a"}]}}"#,
        ),
        line(
            "checksum string",
            Tracking,
            r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":"1"}]}}"#,
        ),
        line(
            "checksum fractional",
            Tracking,
            r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1.5}]}}"#,
        ),
        line(
            "checksum 2^32",
            Tracking,
            r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":4294967296}]}}"#,
        ),
        line(
            "checksum below -2^31",
            Tracking,
            r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":-2147483649}]}}"#,
        ),
        line(
            "priority negative",
            Tracking,
            r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":0,"priority":-1}]}}"#,
        ),
        line(
            "priority sentinel",
            Tracking,
            r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":0,"priority":2147483647}]}}"#,
        ),
        line(
            "priority float",
            Tracking,
            r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":0,"priority":1.0}]}}"#,
        ),
        line(
            "count string",
            Tracking,
            r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":0,"count":"3"}]}}"#,
        ),
        line(
            "unknown subscription reason",
            Tracking,
            r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":0,"subscriptions":[{"other":1}]}]}}"#,
        ),
        line(
            "negative default reason",
            Tracking,
            r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":0,"subscriptions":[{"default":-1}]}]}}"#,
        ),
        line(
            "stream without is_default",
            Tracking,
            r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":[{"name":"s","errors":[]}]}}"#,
        ),
        line(
            "stream without errors",
            Tracking,
            r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":[{"name":"s","is_default":true}]}}"#,
        ),
        line(
            "stream error negative index",
            Tracking,
            r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":[{"name":"s","is_default":true,"errors":[{"subscription":-1,"message":"m"}]}]}}"#,
        ),
        line(
            "diff without removed_buckets",
            Tracking,
            r#"{"checkpoint_diff":{"last_op_id":"2","updated_buckets":[]}}"#,
        ),
        line(
            "diff removed_buckets objects",
            Tracking,
            r#"{"checkpoint_diff":{"last_op_id":"2","updated_buckets":[],"removed_buckets":[{"bucket":"a"}]}}"#,
        ),
        line(
            "checkpoint_complete null body",
            Tracking,
            r#"{"checkpoint_complete":null}"#,
        ),
        line(
            "partial without priority",
            Tracking,
            r#"{"partial_checkpoint_complete":{"last_op_id":"1"}}"#,
        ),
        line(
            "partial priority sentinel",
            Tracking,
            r#"{"partial_checkpoint_complete":{"last_op_id":"1","priority":2147483647}}"#,
        ),
        line("data without bucket", Tracking, r#"{"data":{"data":[]}}"#),
        line("data without data", Started, r#"{"data":{"bucket":"a"}}"#),
        line(
            "op PATCH",
            Tracking,
            r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":"PATCH","checksum":0}]}}"#,
        ),
        line(
            "op lower case",
            Tracking,
            r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":"put","checksum":0}]}}"#,
        ),
        line(
            "op without checksum",
            Tracking,
            r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":"MOVE"}]}}"#,
        ),
        line(
            "op numeric op_id",
            Tracking,
            r#"{"data":{"bucket":"a","data":[{"op_id":1,"op":"MOVE","checksum":0}]}}"#,
        ),
        line(
            "op data object",
            Tracking,
            r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":"PUT","object_type":"items","object_id":"x","checksum":0,"data":{"col":1}}]}}"#,
        ),
        line(
            "op object_id number",
            Tracking,
            r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":"PUT","object_type":"items","object_id":5,"checksum":0,"data":"{}"}]}}"#,
        ),
        line("token float", Tracking, r#"{"token_expires_in":1.0}"#),
        line("token string", Started, r#"{"token_expires_in":"5"}"#),
        line("token above i32", Tracking, r#"{"token_expires_in":2147483648}"#),
        line("token null", Tracking, r#"{"token_expires_in":null}"#),
        // Lines in the wrong state.
        line(
            "diff before checkpoint",
            Started,
            r#"{"checkpoint_diff":{"last_op_id":"2","updated_buckets":[],"removed_buckets":[]}}"#,
        ),
        line(
            "complete before checkpoint",
            Started,
            r#"{"checkpoint_complete":{"last_op_id":"1"}}"#,
        ),
        line(
            "partial before checkpoint",
            Started,
            r#"{"partial_checkpoint_complete":{"last_op_id":"1","priority":1}}"#,
        ),
        // line_binary.
        case("line_binary text", Tracking, "line_binary", text("{}")),
        case("line_binary NULL", Started, "line_binary", Payload::Null),
        case("line_binary integer", Tracking, "line_binary", Payload::Int(7)),
        case(
            "line_binary idle",
            Idle,
            "line_binary",
            Payload::Blob(bdoc(doc! {"token_expires_in": 3600})),
        ),
        binary("empty blob", Tracking, vec![]),
        binary("empty document", Tracking, bdoc(doc! {})),
        binary(
            "truncated document",
            Tracking,
            bdoc(doc! {"token_expires_in": 60})[..10].to_vec(),
        ),
        binary("length header too large", Tracking, {
            let mut b = bdoc(doc! {"token_expires_in": 60});
            b[0] = 200;
            b
        }),
        binary(
            "bson op_id int32",
            Tracking,
            bdoc(doc! {"data": {"bucket": "a", "data": [{"op_id": 1, "op": "MOVE", "checksum": 0}]}}),
        ),
        binary(
            "bson op_id int64",
            Tracking,
            bdoc(
                doc! {"data": {"bucket": "a", "data": [{"op_id": Bson::Int64(1), "op": "MOVE", "checksum": 0}]}},
            ),
        ),
        binary(
            "bson data subdocument",
            Tracking,
            bdoc(
                doc! {"data": {"bucket": "a", "data": [{"op_id": "1", "op": "PUT", "object_type": "items", "object_id": "x", "checksum": 0, "data": {"col": 1}}]}},
            ),
        ),
        binary(
            "bson checksum string",
            Tracking,
            bdoc(doc! {"checkpoint": {"last_op_id": "1", "buckets": [{"bucket": "a", "checksum": "0"}]}}),
        ),
        binary(
            "bson checksum fractional",
            Tracking,
            bdoc(doc! {"checkpoint": {"last_op_id": "1", "buckets": [{"bucket": "a", "checksum": 0.5}]}}),
        ),
        binary(
            "bson checksum too large",
            Tracking,
            bdoc(
                doc! {"checkpoint": {"last_op_id": "1", "buckets": [{"bucket": "a", "checksum": Bson::Int64(1 << 40)}]}},
            ),
        ),
        binary(
            "bson token double",
            Tracking,
            bdoc(doc! {"token_expires_in": 5.0}),
        ),
        binary(
            "bson token int64 too large",
            Tracking,
            bdoc(doc! {"token_expires_in": Bson::Int64(1 << 33)}),
        ),
        binary(
            "bson priority sentinel",
            Tracking,
            bdoc(
                doc! {"checkpoint": {"last_op_id": "1", "buckets": [{"bucket": "a", "checksum": 0, "priority": 2147483647}]}},
            ),
        ),
        binary(
            "bson missing last_op_id",
            Started,
            bdoc(doc! {"checkpoint": {"buckets": []}}),
        ),
        binary(
            "bson op boolean",
            Tracking,
            bdoc(doc! {"data": {"bucket": "a", "data": [{"op_id": "1", "op": true, "checksum": 0}]}}),
        ),
        binary(
            "bson complete null",
            Tracking,
            bdoc(doc! {"checkpoint_complete": Bson::Null}),
        ),
        // connection.
        case("connection NULL", Tracking, "connection", Payload::Null),
        case(
            "connection capitalised",
            Tracking,
            "connection",
            text("Established"),
        ),
        case("connection other", Started, "connection", text("closed")),
        case("connection integer", Tracking, "connection", Payload::Int(1)),
        case("connection idle", Idle, "connection", text("end")),
        case("connection bad idle", Idle, "connection", text("x")),
        // update_subscriptions / subscriptions.
        case(
            "update_subscriptions NULL",
            Tracking,
            "update_subscriptions",
            Payload::Null,
        ),
        case(
            "update_subscriptions object",
            Tracking,
            "update_subscriptions",
            text("{}"),
        ),
        case(
            "update_subscriptions without name",
            Tracking,
            "update_subscriptions",
            text(r#"[{"params":1}]"#),
        ),
        case(
            "update_subscriptions idle",
            Idle,
            "update_subscriptions",
            text("[]"),
        ),
        case(
            "update_subscriptions bad idle",
            Idle,
            "update_subscriptions",
            text("{"),
        ),
        case("subscriptions NULL", Tracking, "subscriptions", Payload::Null),
        case(
            "subscriptions unknown key",
            Idle,
            "subscriptions",
            text(r#"{"resubscribe":{}}"#),
        ),
        case(
            "subscriptions ttl negative",
            Tracking,
            "subscriptions",
            text(r#"{"subscribe":{"stream":{"name":"x"},"ttl":-1}}"#),
        ),
        case(
            "subscriptions ttl float",
            Idle,
            "subscriptions",
            text(r#"{"subscribe":{"stream":{"name":"x"},"ttl":1.5}}"#),
        ),
        case(
            "subscriptions priority sentinel",
            Tracking,
            "subscriptions",
            text(r#"{"subscribe":{"stream":{"name":"x"},"priority":2147483647}}"#),
        ),
        case(
            "subscriptions priority negative",
            Idle,
            "subscriptions",
            text(r#"{"subscribe":{"stream":{"name":"x"},"priority":-1}}"#),
        ),
        case(
            "subscriptions priority float",
            Idle,
            "subscriptions",
            text(r#"{"subscribe":{"stream":{"name":"x"},"priority":1.5}}"#),
        ),
        case(
            "subscriptions priority string",
            Tracking,
            "subscriptions",
            text(r#"{"subscribe":{"stream":{"name":"x"},"priority":"1"}}"#),
        ),
        case(
            "subscriptions priority above i32",
            Idle,
            "subscriptions",
            text(r#"{"subscribe":{"stream":{"name":"x"},"priority":2147483648}}"#),
        ),
        case(
            "update_subscriptions numeric name",
            Tracking,
            "update_subscriptions",
            text(r#"[{"name":1}]"#),
        ),
        case(
            "subscriptions without stream",
            Idle,
            "subscriptions",
            text(r#"{"subscribe":{"ttl":5}}"#),
        ),
        case(
            "unsubscribe without name",
            Idle,
            "subscriptions",
            text(r#"{"unsubscribe":{"params":null}}"#),
        ),
        // Checkpoint-request commands.
        case("seed idle", Idle, "seed_checkpoint_request_id", Payload::Int(1)),
        case(
            "seed idle bad payload",
            Idle,
            "seed_checkpoint_request_id",
            text("x"),
        ),
        case(
            "seed zero",
            Started,
            "seed_checkpoint_request_id",
            Payload::Int(0),
        ),
        case(
            "seed negative",
            Tracking,
            "seed_checkpoint_request_id",
            Payload::Int(-1),
        ),
        case("seed text", Tracking, "seed_checkpoint_request_id", text("abc")),
        case("seed NULL", Tracking, "seed_checkpoint_request_id", Payload::Null),
        case(
            "seed blob",
            Tracking,
            "seed_checkpoint_request_id",
            Payload::Blob(b"5".to_vec()),
        ),
        case(
            "seed with space",
            Tracking,
            "seed_checkpoint_request_id",
            text(" 5"),
        ),
        case(
            "seed overflow text",
            Tracking,
            "seed_checkpoint_request_id",
            text("9223372036854775808"),
        ),
        with_setup(
            case(
                "next unseeded",
                Started,
                "next_checkpoint_request_id",
                Payload::Null,
            ),
            "DELETE FROM ps_kv WHERE key = 'last_requested_checkpoint_request_id'",
        ),
        case("next idle", Idle, "next_checkpoint_request_id", Payload::Null),
        case(
            "target negative",
            Idle,
            "target_checkpoint_request_id",
            Payload::Int(-1),
        ),
        case(
            "target negative text",
            Tracking,
            "target_checkpoint_request_id",
            text("-3"),
        ),
        case("target text", Tracking, "target_checkpoint_request_id", text("x")),
        case(
            "target blob",
            Idle,
            "target_checkpoint_request_id",
            Payload::Blob(vec![1]),
        ),
        // Other commands without an iteration.
        case("refreshed_token idle", Idle, "refreshed_token", Payload::Null),
        case("completed_upload idle", Idle, "completed_upload", Payload::Null),
    ]
    // REAL payloads are checked through SQL literals in `real_payloads`.
}

/// Everything in the database: all tables (including `ps_crud`, `ps_tx`, `sqlite_sequence`)
/// and the schema.
type Snapshot = (
    Vec<(String, Vec<Vec<Value>>)>,
    Vec<(String, String, String, Option<String>)>,
    Vec<Vec<Value>>,
);

fn snapshot(conn: &Connection) -> Snapshot {
    let seq = common::rows(conn, "SELECT name, seq FROM sqlite_sequence ORDER BY name");
    (common::dump_tables(conn), common::master(conn), seq)
}

fn call_raw(conn: &Connection, c: &Case) -> Result<Value, (i32, String)> {
    if c.in_tx {
        conn.execute_batch("BEGIN").unwrap();
    }
    let r = conn
        .query_row(
            "SELECT powersync_control(?1, ?2)",
            rusqlite::params![c.op, c.payload],
            |r| r.get::<_, Value>(0),
        )
        .map_err(|e| common::error_of::<()>(Err(e)).unwrap());
    if c.in_tx {
        // The SDK rolls back after an error.
        conn.execute_batch("ROLLBACK").unwrap();
    }
    r
}

/// Seeds both databases identically (compared) and sets up `ctx`.
fn prepare(name: &str, ctx: Ctx) -> Session {
    let mut s = Session::new(name, ITEMS_SCHEMA);
    s.sql("INSERT INTO items(id, col) VALUES ('l1', 'one'); INSERT INTO items(id, col) VALUES ('l2', 'two')");
    s.sql("UPDATE items SET col = 'uno' WHERE id = 'l1'");
    s.ctl(
        "subscriptions",
        json!({"subscribe": {"stream": {"name": "st", "params": {"p": 1}}, "ttl": 3600}}),
    )
    .unwrap();
    s.start(json!({"active_streams": [{"name": "st", "params": {"p": 1}}]}))
        .unwrap();
    s.json(cp(2, Some(1), vec![bucket("a", 3, None, Some(2))]))
        .unwrap();
    s.json(data_line(
        "a",
        json!([
            put(1, "s1", 1, r#"{"col":"s"}"#),
            put(2, "l1", 2, r#"{"col":"srv"}"#)
        ]),
    ))
    .unwrap();
    // Blocked by the local writes: pending checkpoint, seen request id stored.
    s.json(complete(2)).unwrap();
    s.ctl("seed_checkpoint_request_id", Payload::Int(4)).unwrap();
    match ctx {
        Ctx::Idle => {
            s.cmd("stop").unwrap();
        }
        Ctx::Started => {
            s.start(json!({"checkpoint_mode": "requests"})).unwrap();
        }
        Ctx::Tracking => {
            s.start_null().unwrap();
            s.json(cp(3, None, vec![bucket("a", 3, None, Some(3))])).unwrap();
            s.json(data_line("a", json!([put(3, "s3", 0, "{}")]))).unwrap();
        }
    }
    s
}

/// Runs one case; returns a description of the difference, if any.
fn run_case(c: &Case) -> Result<usize, String> {
    let mut s = prepare(c.name, c.ctx);
    if let Some(sql) = c.setup {
        s.sql(sql);
    }
    let before_ours = snapshot(&s.ours);
    let crud_before = common::rows(&s.ours, "SELECT count(*) FROM ps_crud");
    let ours = call_raw(&s.ours, c);
    // The reference's result, and whether the call changed its database.
    let request = format!("{} {} tx:{}", c.op.key(), c.payload.key(), c.in_tx);
    let (theirs, reference_changed) = s.reference.ask("call_raw", &request, |r| {
        let before = snapshot(r);
        let result = call_raw(r, c);
        (result, snapshot(r) != before)
    });
    let mut problems = Vec::new();
    match (&ours, &theirs) {
        (Err(a), Err(b)) => {
            if a != b {
                problems.push(format!("error differs:\n  ours:      {a:?}\n  reference: {b:?}"));
            }
        }
        _ => problems.push(format!(
            "expected both to fail:\n  ours:      {ours:?}\n  reference: {theirs:?}"
        )),
    }
    if snapshot(&s.ours) != before_ours {
        problems.push("our database changed".into());
    }
    if reference_changed {
        problems.push("the reference's database changed".into());
    }
    if common::rows(&s.ours, "SELECT count(*) FROM ps_crud") != crud_before {
        problems.push("ps_crud lost rows".into());
    }
    // Same iteration state afterwards: a keepalive either works on both or fails on both.
    let probe = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.json(token(3600)).map(|_| ()).map_err(|e| e.0)
    }));
    if let Err(e) = probe {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| "probe panicked".into());
        problems.push(format!("iteration state differs afterwards: {msg}"));
    }
    if problems.is_empty() {
        eprintln!("case {:?}: {:?}", c.name, ours.err().unwrap());
        Ok(s.cases + 1)
    } else {
        Err(format!("{} ({:?}): {}", c.name, c.ctx, problems.join("; ")))
    }
}

/// REAL payloads for the checkpoint-request commands (not expressible as [`Payload`]).
fn real_payloads() -> Result<usize, String> {
    let mut failures = Vec::new();
    let mut n = 0;
    for (op, ctx) in [
        ("seed_checkpoint_request_id", Ctx::Tracking),
        ("target_checkpoint_request_id", Ctx::Idle),
        ("seed_checkpoint_request_id", Ctx::Idle),
    ] {
        let s = prepare("real payload", ctx);
        let before = snapshot(&s.ours);
        let run = |conn: &Connection| {
            conn.execute_batch("BEGIN").unwrap();
            let r = common::eval(conn, &format!("SELECT powersync_control('{op}', 2.5)"));
            conn.execute_batch("ROLLBACK").unwrap();
            r
        };
        let a = run(&s.ours);
        let (b, reference_changed) = s.reference.ask("real payload", op, |r| {
            let before = snapshot(r);
            let result = run(r);
            (result, snapshot(r) != before)
        });
        if a != b || a.is_ok() {
            failures.push(format!("{op} REAL ({ctx:?}): ours {a:?}, reference {b:?}"));
        }
        if snapshot(&s.ours) != before || reference_changed {
            failures.push(format!("{op} REAL: database changed"));
        }
        n += 1;
    }
    if failures.is_empty() {
        Ok(n)
    } else {
        Err(failures.join("\n"))
    }
}

#[test]
fn malformed_inputs() {
    let cases = cases();
    let mut total = 0;
    let mut failures = Vec::new();
    for c in &cases {
        match run_case(c) {
            Ok(n) => total += n,
            Err(e) => failures.push(e),
        }
    }
    match real_payloads() {
        Ok(n) => total += n,
        Err(e) => failures.push(e),
    }
    assert!(
        failures.is_empty(),
        "{} of {} malformed cases differ:\n{}",
        failures.len(),
        cases.len() + 1,
        failures.join("\n")
    );
    assert!(cases.len() >= 50);
    common::report("sync_malformed", total);
}
