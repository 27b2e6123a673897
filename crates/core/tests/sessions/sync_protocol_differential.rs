//! Differential test of sync-line decoding against the reference (docs/protocol.md#the-error-model,
//! docs/protocol.md#sync-lines): the same JSON / BSON payloads go through our decoder and through the reference's
//! `powersync_control('line_text' | 'line_binary', …)`.
//!
//! - When the reference fails to decode (`Sync protocol error: invalid text line` / `invalid
//!   binary line`), our error must be identical: code and full message, including the
//!   decoder's cause (serde_json positions, BSON offsets).
//! - Otherwise (it accepted the line, possibly failing later in its state machine, e.g.
//!   `Received checkpoint complete without previous checkpoint`), our decoder must accept it.
//!
//! Deliberate differences (not sent to the reference): a BSON string with declared length 0
//! crashes the reference process (it slices `..len - 1`); we report `invalid document size`
//! (see `sync_protocol.rs`, `bson_empty_string_length_is_an_error`).

use crate::common;
use crate::sync_protocol_raw;

use powersync_core::sync::protocol::{parse_binary, parse_text, SyncLine};
use rusqlite::Connection;
use serde_json::json;
use sync_protocol_raw::{doc, encode, from_json, hex, json_to_bson, raw_str, s, B};

enum Input {
    Text(String),
    Binary(Vec<u8>),
}

impl Input {
    fn describe(&self) -> String {
        match self {
            Input::Text(t) => format!("text {t:?}"),
            Input::Binary(b) => format!("binary {}", hex(b)),
        }
    }
}

/// Outcome of one line, as (code, message after the `powersync_control: ` prefix) for decode
/// errors, `None` if the line decoded.
type Outcome = Option<(i32, String)>;

fn ours(input: &Input) -> Outcome {
    let result = match input {
        Input::Text(t) => parse_text(t).map(|_| ()),
        Input::Binary(b) => parse_binary(b).map(|_| ()),
    };
    result.err().map(|e| (e.code(), e.to_string()))
}

fn reference_connection() -> common::RefConn {
    let conn = common::open_reference("reference");
    conn.ask("init", "", |conn| {
        conn.execute_batch("BEGIN").unwrap();
        conn.query_row("SELECT powersync_init()", [], |_| Ok(())).unwrap();
        conn.execute_batch("COMMIT").unwrap();
    });
    conn
}

/// [`reference`] through the oracle.
fn ask_reference(conn: &common::RefConn, input: &Input) -> Outcome {
    conn.ask("line", &input.describe(), |c| reference(c, input))
}

fn reference(conn: &Connection, input: &Input) -> Outcome {
    conn.execute_batch("BEGIN").unwrap();
    conn.query_row("SELECT powersync_control('start', NULL)", [], |_| Ok(()))
        .unwrap();
    let result = match input {
        Input::Text(t) => conn.query_row("SELECT powersync_control('line_text', ?)", [t], |r| {
            r.get::<_, String>(0)
        }),
        Input::Binary(b) => conn.query_row("SELECT powersync_control('line_binary', ?)", [b], |r| {
            r.get::<_, String>(0)
        }),
    };
    conn.execute_batch("ROLLBACK").unwrap();
    let (code, message) = common::error_of(result)?;
    let message = message
        .strip_prefix("powersync_control: ")
        .unwrap_or_else(|| panic!("unexpected message {message}"));
    // Errors raised after decoding (by the state machine) mean the line decoded.
    if message.starts_with("Sync protocol error: invalid text line.")
        || message.starts_with("Sync protocol error: invalid binary line.")
    {
        Some((code, message.to_owned()))
    } else {
        None
    }
}

fn t(line: &str) -> Input {
    Input::Text(line.to_owned())
}

fn bin(value: B) -> Input {
    Input::Binary(encode(&value))
}

fn raw(bytes: &[u8]) -> Input {
    Input::Binary(bytes.to_vec())
}

/// `{"checkpoint": {fields}}`
fn cp(fields: Vec<(&str, B)>) -> B {
    doc(vec![("checkpoint", doc(fields))])
}

/// A checkpoint with one bucket `{"bucket": "a", "checksum": 1, extra…}`.
fn cp_bucket(extra: Vec<(&str, B)>) -> B {
    let mut bucket = vec![("bucket", s("a")), ("checksum", B::I32(1))];
    bucket.extend(extra);
    cp(vec![
        ("last_op_id", s("1")),
        ("buckets", B::Arr(vec![doc(bucket)])),
    ])
}

/// A checkpoint with one bucket whose checksum is `checksum`.
fn cp_checksum(checksum: B) -> B {
    cp(vec![
        ("last_op_id", s("1")),
        (
            "buckets",
            B::Arr(vec![doc(vec![("bucket", s("a")), ("checksum", checksum)])]),
        ),
    ])
}

/// A checkpoint with one stream whose only error has `subscription`.
fn cp_stream_error(subscription: B) -> B {
    cp(vec![
        ("last_op_id", s("1")),
        ("buckets", B::Arr(vec![])),
        (
            "streams",
            B::Arr(vec![doc(vec![
                ("name", s("s")),
                ("is_default", B::Bool(true)),
                (
                    "errors",
                    B::Arr(vec![doc(vec![
                        ("subscription", subscription),
                        ("message", s("m")),
                    ])]),
                ),
            ])]),
        ),
    ])
}

/// A data line with one op `{"op_id": "1", "op": op, "checksum": 0, extra…}`.
fn data_op(op: B, extra: Vec<(&str, B)>) -> B {
    let mut entry = vec![("op_id", s("1")), ("op", op), ("checksum", B::I32(0))];
    entry.extend(extra);
    doc(vec![(
        "data",
        doc(vec![("bucket", s("a")), ("data", B::Arr(vec![doc(entry)]))]),
    )])
}

fn j(v: serde_json::Value) -> B {
    from_json(&v)
}

fn text_cases() -> Vec<Input> {
    let lines = [
        // Envelope.
        r#"{}"#,
        r#"{"a":1,"b":2}"#,
        r#"{"checkpoint_complete":{},"x":1}"#,
        "{\"checkpoint_complete\":{}}  \n",
        r#"{"checkpoint_complete":{}} x"#,
        r#"{"checkpoint_complete":null}"#,
        r#""checkpoint_complete""#,
        r#""unknown""#,
        r#"[]"#,
        r#"5"#,
        r#"null"#,
        r#""#,
        r#" {"foo":1}"#,
        r#"{"foo":1}"#,
        r#"{"foo":{"x":[1,2]}}"#,
        r#"{"check\u0070oint_complete":{}}"#,
        r#"{"foo":}"#,
        r#"{"foo":1"#,
        r#"{"foo":1}}"#,
        r#"{"foo":[1,2,}"#,
        r#"{"foo":"\u00"}"#,
        r#"{"foo":1e400}"#,
        // checkpoint
        r#"{"checkpoint":null}"#,
        r#"{"checkpoint":{}}"#,
        r#"{"checkpoint":{"last_op_id":1,"buckets":[]}}"#,
        r#"{"checkpoint":{"last_op_id":"1"}}"#,
        r#"{"checkpoint":{"last_op_id":"x","buckets":[]}}"#,
        r#"{"checkpoint":{"last_op_id":"99999999999999999999","buckets":[]}}"#,
        r#"{"checkpoint":{"last_op_id":null,"buckets":[]}}"#,
        r#"{"checkpoint":{"last_op_id":"","buckets":[]}}"#,
        r#"{"checkpoint":{"last_op_id":" 1","buckets":[]}}"#,
        r#"{"checkpoint":{"last_op_id":"+5","buckets":[]}}"#,
        r#"{"checkpoint":{"last_op_id":"-5","buckets":[]}}"#,
        r#"{"checkpoint":{"last_op_id":"\u0031","buckets":[]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","write_checkpoint":1,"buckets":[]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","write_checkpoint":"\u0031","buckets":[]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":{}}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[],"last_op_id":"2"}}"#,
        r#"{"checkpoint":[1,2]}"#,
        r#"{"checkpoint":["1"]}"#,
        r#"{"checkpoint":["1",null]}"#,
        r#"{"checkpoint":["1",null,[]]}"#,
        r#"{"checkpoint":["1",null,[],[],5]}"#,
        // buckets
        r#"{"checkpoint":{"last_op_id":"1","buckets":[null]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[[1,2]]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[["a"]]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[["a",1]]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[["a",1,3,4,[],6]]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":null,"checksum":1}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a\u0062","checksum":1}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1.5}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":4294967296}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":4294967295}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":-2147483649}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":-2147483648}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":"1"}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":null}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":true}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":3573495687.0}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":4294967296.0}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":-2147483649.0}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":-0.0}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1e300}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"priority":-1}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"priority":100}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"priority":2147483647}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"priority":2147483648}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"priority":-2147483649}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"priority":1.0}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"priority":"1"}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"priority":null}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"count":null,"subscriptions":null}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"count":1.5}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"count":"1"}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"count":-1}]}}"#,
        // subscriptions
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"subscriptions":[{"x":1}]}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"subscriptions":[{}]}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"subscriptions":[{"default":1,"sub":2}]}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"subscriptions":[{"default":-1}]}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"subscriptions":[{"default":1.0}]}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"subscriptions":[{"default":null}]}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"subscriptions":[{"def\u0061ult":1}]}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"subscriptions":["default"]}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":1,"subscriptions":[{"default":0},{"sub":3}]}]}}"#,
        // streams
        r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":null}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":[null]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":[["s"]]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":[["s",true,[null]]]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":[["s",true,[["x"]]]]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":[{"name":"a"}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":[{"name":"s","is_default":1,"errors":[]}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":[{"name":"s\u0061","is_default":true,"errors":[{"subscription":"d\u0061","message":"m\u0061"}]}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":[{"name":"a","is_default":true,"errors":[{"subscription":-1,"message":"x"}]}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":[{"name":"a","is_default":true,"errors":[{"subscription":true,"message":"x"}]}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":[{"name":"s","is_default":true,"errors":[{"subscription":1.0,"message":"m"}]}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":[{"name":"s","is_default":true,"errors":[{"subscription":1}]}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":[{"name":"s","is_default":true,"errors":[{"message":"m"}]}]}}"#,
        r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":[{"name":"a","is_default":false,"errors":[{"subscription":5,"message":"x"}]}]}}"#,
        // checkpoint_diff
        r#"{"checkpoint_diff":null}"#,
        r#"{"checkpoint_diff":["1"]}"#,
        r#"{"checkpoint_diff":["1",[]]}"#,
        r#"{"checkpoint_diff":["1",[],[]]}"#,
        r#"{"checkpoint_diff":["1",[],[],null,1]}"#,
        r#"{"checkpoint_diff":{"last_op_id":"1","updated_buckets":[]}}"#,
        r#"{"checkpoint_diff":{"last_op_id":"1","removed_buckets":[]}}"#,
        r#"{"checkpoint_diff":{"last_op_id":"1","updated_buckets":[],"removed_buckets":["a\u0062"]}}"#,
        r#"{"checkpoint_diff":{"last_op_id":"1","updated_buckets":[],"removed_buckets":[1]}}"#,
        r#"{"checkpoint_diff":{"last_op_id":"1","updated_buckets":[],"removed_buckets":null}}"#,
        r#"{"checkpoint_diff":{"last_op_id":"1","updated_buckets":[],"removed_buckets":[],"write_checkpoint":1}}"#,
        // checkpoint_complete / partial_checkpoint_complete
        r#"{"checkpoint_complete":[]}"#,
        r#"{"checkpoint_complete":[1]}"#,
        r#"{"checkpoint_complete":1}"#,
        r#"{"checkpoint_complete":{"a":1}}"#,
        r#"{"partial_checkpoint_complete":{"last_op_id":"1"}}"#,
        r#"{"partial_checkpoint_complete":{"priority":2147483647}}"#,
        r#"{"partial_checkpoint_complete":{"priority":-1}}"#,
        r#"{"partial_checkpoint_complete":{"priority":1.5}}"#,
        r#"{"partial_checkpoint_complete":null}"#,
        r#"{"partial_checkpoint_complete":[]}"#,
        r#"{"partial_checkpoint_complete":[1,2]}"#,
        r#"{"partial_checkpoint_complete":{"priority":0}}"#,
        // data
        r#"{"data":null}"#,
        r#"{"data":{"data":[]}}"#,
        r#"{"data":{"bucket":"a"}}"#,
        r#"{"data":{"bucket":"a","data":{}}}"#,
        r#"{"data":{"bucket":"a\u0062","data":[]}}"#,
        r#"{"data":["a"]}"#,
        r#"{"data":["a",[null]]}"#,
        r#"{"data":["a",[["1"]]]}"#,
        r#"{"data":["a",[[0]]]}"#,
        r#"{"data":["a",[[0,"1"]]]}"#,
        r#"{"data":["a",[[0,"1","PUT"]]]}"#,
        r#"{"data":["a",[[0,"1","PUT",1]]]}"#,
        r#"{"data":["a",[[0,"1","PUT",null,null,null,null,1]]]}"#,
        r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":"put","checksum":0}]}}"#,
        r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":"PATCH","checksum":0}]}}"#,
        r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":"P\u0055T","checksum":0}]}}"#,
        r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":null,"checksum":0}]}}"#,
        r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":1,"checksum":0}]}}"#,
        r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":{"PUT":null},"checksum":0}]}}"#,
        r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":"PUT","checksum":0,"data":{}}]}}"#,
        r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":"PUT","checksum":0,"data":1}]}}"#,
        r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":"PUT","checksum":0,"object_id":1}]}}"#,
        r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":"PUT","checksum":0,"object_id":"\u0031","object_type":"t\u0031","subkey":"\u0031"}]}}"#,
        r#"{"data":{"bucket":"a","data":[{"op_id":1,"op":"PUT","checksum":0}]}}"#,
        r#"{"data":{"bucket":"a","data":[{"op":"PUT","checksum":0}]}}"#,
        r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":"PUT"}]}}"#,
        r#"{"data":{"bucket":"a","data":[{"op_id":"1","checksum":0}]}}"#,
        // token_expires_in
        r#"{"token_expires_in":60}"#,
        r#"{"token_expires_in":-5}"#,
        r#"{"token_expires_in":1.0}"#,
        r#"{"token_expires_in":1e3}"#,
        r#"{"token_expires_in":"1"}"#,
        r#"{"token_expires_in":2147483648}"#,
        r#"{"token_expires_in":-2147483649}"#,
        r#"{"token_expires_in":null}"#,
        r#"{"token_expires_in":{}}"#,
    ];
    let mut cases: Vec<Input> = lines.iter().map(|l| t(l)).collect();
    // Nesting: ignored values may nest deeply; structured ones hit serde_json's limit.
    cases.push(Input::Text(format!(
        "{{\"foo\":{}1{}}}",
        "[".repeat(300),
        "]".repeat(300)
    )));
    cases.push(Input::Text(format!(
        "{{\"checkpoint\":{{\"last_op_id\":\"1\",\"buckets\":[],\"x\":{}{}}}}}",
        "[".repeat(300),
        "]".repeat(300)
    )));
    cases
}

fn binary_cases() -> Vec<Input> {
    let x = || B::Raw(0x14, vec![]); // an unsupported element type
    let mut cases = vec![
        // Envelope and document structure.
        bin(doc(vec![])),
        bin(doc(vec![("checkpoint_complete", doc(vec![]))])),
        bin(doc(vec![("checkpoint_complete", doc(vec![])), ("x", B::I32(1))])),
        bin(doc(vec![("foo", B::I32(1))])),
        bin(doc(vec![("foo", B::I32(1)), ("bar", x())])),
        bin(doc(vec![("foo", B::Arr(vec![]))])),
        bin(doc(vec![("foo", B::Arr(vec![s("a"), s("b")]))])),
        bin(doc(vec![("token_expires_in", B::I32(5)), ("x", x())])),
        raw(&[]),
        raw(&[5, 0, 0]),
        raw(&[5, 0, 0, 0]),
        raw(&[6, 0, 0, 0, 0, 0]),
        raw(&[4, 0, 0, 0, 0]),
        raw(&[5, 0, 0, 0, 1]),
        raw(&[8, 0, 0, 0, 0x0a, 0, 0, 0]),
        raw(b"\x10\x00\x00\x00\x10foo\x00\x01\x00\x00\x00\x00"),
        raw(b"\x0c\x00\x00\x00\x99foo\x00\x01\x00\x00\x00\x00"),
        raw(b"\x20\x00\x00\x00\x10foo\x00\x01\x00\x00\x00\x00"),
        raw(b"\x0c\x00\x00\x00\x10\xff\x00\x01\x00\x00\x00\x00"),
        raw(b"\x17\x00\x00\x00\x03foo\x00\x0d\x00\x00\x00\x10a\xff\x00\x01\x00\x00\x00\x00\x00"),
        {
            let mut bytes = encode(&doc(vec![("checkpoint_complete", doc(vec![]))]));
            bytes.extend_from_slice(b"trailing");
            Input::Binary(bytes)
        },
        {
            let bytes = encode(&cp(vec![("last_op_id", s("1")), ("buckets", B::Arr(vec![]))]));
            Input::Binary(bytes[..bytes.len() - 8].to_vec())
        },
        // Element types.
        bin(doc(vec![(
            "foo",
            B::Raw(0x05, b"\x02\x00\x00\x00\x00ab".to_vec()),
        )])),
        bin(doc(vec![("foo", B::Raw(0x06, vec![]))])),
        bin(doc(vec![("foo", B::Raw(0x07, vec![1; 12]))])),
        bin(doc(vec![("foo", B::Raw(0x09, vec![1; 8]))])),
        bin(doc(vec![("foo", B::Raw(0x0b, b"a\0i\0".to_vec()))])),
        bin(doc(vec![(
            "foo",
            B::Raw(0x0d, b"\x02\x00\x00\x00a\x00".to_vec()),
        )])),
        bin(doc(vec![("foo", B::Raw(0x11, vec![1; 8]))])),
        bin(doc(vec![("foo", B::Raw(0x13, vec![1; 16]))])),
        bin(doc(vec![("foo", B::Raw(0xff, vec![]))])),
        bin(doc(vec![("foo", B::Raw(0x7f, vec![]))])),
        bin(doc(vec![("foo", x())])),
        bin(doc(vec![("foo", doc(vec![("a", x())]))])),
        bin(doc(vec![("foo", doc(vec![("a", B::I32(1)), ("b", x())]))])),
        bin(doc(vec![("foo", doc(vec![("a", doc(vec![("b", x())]))]))])),
        bin(doc(vec![(
            "foo",
            doc(vec![("a", doc(vec![("b", doc(vec![("c", x())]))]))]),
        )])),
        bin(doc(vec![("foo", B::Arr(vec![B::I32(1), x()]))])),
        bin(doc(vec![("foo", B::Arr(vec![B::Arr(vec![x()])]))])),
        bin(doc(vec![(
            "foo",
            doc(vec![("a", doc(vec![("x", B::I32(1))])), ("b", x())]),
        )])),
        bin(doc(vec![(
            "foo",
            doc(vec![("a", B::Arr(vec![B::I32(1), B::I32(2)])), ("b", x())]),
        )])),
        // Sub-document sizes and terminators.
        bin(doc(vec![("foo", B::Raw(0x03, vec![3, 0, 0, 0]))])),
        bin(doc(vec![("foo", B::Raw(0x03, vec![4, 0, 0, 0, 0]))])),
        bin(doc(vec![("foo", B::Raw(0x03, vec![50, 0, 0, 0, 0]))])),
        bin(doc(vec![("foo", B::Raw(0x03, vec![6, 0, 0, 0, 0, 0]))])),
        bin(doc(vec![("foo", B::Raw(0x03, vec![5, 0, 0, 0, 1]))])),
        bin(doc(vec![(
            "foo",
            doc(vec![("a", B::Raw(0x03, vec![3, 0, 0, 0]))]),
        )])),
        bin(doc(vec![(
            "checkpoint_complete",
            B::Raw(0x03, vec![5, 0, 0, 0, 1]),
        )])),
        // Strings.
        bin(doc(vec![("foo", raw_str(3, b"a\xff\0"))])),
        bin(doc(vec![("foo", raw_str(2, b"\xff\0"))])),
        bin(doc(vec![("foo", raw_str(4, b"ab\xff\0"))])),
        bin(doc(vec![("foo", raw_str(-1, b"a\0"))])),
        bin(doc(vec![("foo", raw_str(100, b"a\0"))])),
        bin(doc(vec![("foo", raw_str(2, b"ab"))])),
        bin(doc(vec![("foo", raw_str(4, b"a\0c\0"))])),
        bin(doc(vec![("foo", doc(vec![("a", raw_str(2, b"\xff\0"))]))])),
        bin(doc(vec![("foo", doc(vec![("aa", raw_str(-1, b""))]))])),
        bin(cp(vec![
            ("last_op_id", raw_str(3, b"\xff\xfe\0")),
            ("buckets", B::Arr(vec![])),
        ])),
        bin(cp(vec![
            ("last_op_id", raw_str(4, b"1\x002\0")),
            ("buckets", B::Arr(vec![])),
        ])),
        bin(cp(vec![
            ("last_op_id", raw_str(2, b"12")),
            ("buckets", B::Arr(vec![])),
        ])),
        bin(cp(vec![
            ("last_op_id", raw_str(2, b"12\0")),
            ("buckets", B::Arr(vec![])),
        ])),
        // token_expires_in
        bin(doc(vec![("token_expires_in", B::I32(60))])),
        bin(doc(vec![("token_expires_in", B::I64(60))])),
        bin(doc(vec![("token_expires_in", B::I64(1 << 31))])),
        bin(doc(vec![("token_expires_in", B::I64(-(1 << 40)))])),
        bin(doc(vec![("token_expires_in", B::Double(60.0))])),
        bin(doc(vec![("token_expires_in", s("60"))])),
        bin(doc(vec![("token_expires_in", B::Bool(true))])),
        bin(doc(vec![("token_expires_in", B::Null)])),
        bin(doc(vec![("token_expires_in", B::Arr(vec![B::I32(1)]))])),
        bin(doc(vec![(
            "token_expires_in",
            B::Raw(0x11, vec![1, 0, 0, 0, 0, 0, 0, 0]),
        )])),
        bin(doc(vec![("token_expires_in", B::Raw(0x09, vec![0xff; 8]))])),
        bin(doc(vec![("token_expires_in", B::Raw(0x07, vec![1; 12]))])),
        bin(doc(vec![(
            "token_expires_in",
            B::Raw(0x05, b"\x02\x00\x00\x00\x00ab".to_vec()),
        )])),
        // checkpoint_complete bodies
        bin(doc(vec![("checkpoint_complete", B::Null)])),
        bin(doc(vec![("checkpoint_complete", s("x"))])),
        bin(doc(vec![("checkpoint_complete", B::I32(5))])),
        bin(doc(vec![("checkpoint_complete", B::I64(5))])),
        bin(doc(vec![("checkpoint_complete", B::Bool(true))])),
        bin(doc(vec![("checkpoint_complete", B::Double(1.5))])),
        bin(doc(vec![("checkpoint_complete", B::Arr(vec![]))])),
        bin(doc(vec![(
            "checkpoint_complete",
            B::Raw(0x05, b"\x02\x00\x00\x00\x00ab".to_vec()),
        )])),
        bin(doc(vec![("checkpoint_complete", B::Raw(0x07, vec![1; 12]))])),
        bin(doc(vec![("checkpoint_complete", B::Raw(0x09, vec![1; 8]))])),
        bin(doc(vec![("checkpoint_complete", B::Raw(0x06, vec![]))])),
        // checkpoint
        bin(cp(vec![])),
        bin(doc(vec![("checkpoint", s("x"))])),
        bin(cp(vec![("last_op_id", B::I32(1)), ("buckets", B::Arr(vec![]))])),
        bin(cp(vec![("last_op_id", B::I64(1)), ("buckets", B::Arr(vec![]))])),
        bin(cp(vec![
            ("last_op_id", B::Double(1.0)),
            ("buckets", B::Arr(vec![])),
        ])),
        bin(cp(vec![("last_op_id", s("x")), ("buckets", B::Arr(vec![]))])),
        bin(cp(vec![
            ("last_op_id", s("1")),
            ("last_op_id", s("2")),
            ("buckets", B::Arr(vec![])),
        ])),
        bin(cp(vec![
            ("last_op_id", s("1")),
            ("write_checkpoint", B::Null),
            ("buckets", B::Arr(vec![])),
        ])),
        bin(cp(vec![
            ("last_op_id", s("1")),
            ("write_checkpoint", B::I32(5)),
            ("buckets", B::Arr(vec![])),
        ])),
        bin(cp(vec![
            ("last_op_id", s("1")),
            ("buckets", doc(vec![("0", doc(vec![("bucket", s("a"))]))])),
        ])),
        bin(doc(vec![("checkpoint", B::Arr(vec![s("1")]))])),
        bin(doc(vec![(
            "checkpoint",
            B::Arr(vec![s("1"), B::Null, B::Arr(vec![])]),
        )])),
        bin(cp(vec![
            ("last_op_id", s("1")),
            ("buckets", B::Arr(vec![B::Arr(vec![s("a"), B::I32(1)])])),
        ])),
        // checksums
        bin(cp_checksum(B::Double(1.5))),
        bin(cp_checksum(B::Double(4294967295.0))),
        bin(cp_checksum(B::Double(-1.0))),
        bin(cp_checksum(B::Double(f64::NAN))),
        bin(cp_checksum(B::Double(f64::INFINITY))),
        bin(cp_checksum(B::Double(1e20))),
        bin(cp_checksum(B::Double(-1e20))),
        bin(cp_checksum(B::I64(1 << 32))),
        bin(cp_checksum(B::I64(5))),
        bin(cp_checksum(B::I64(1 << 40))),
        bin(cp_checksum(s("1"))),
        // priorities, counts, streams
        bin(cp_bucket(vec![("priority", B::I32(-1))])),
        bin(cp_bucket(vec![("priority", B::I64(-3))])),
        bin(cp_bucket(vec![("priority", B::I64(1 << 31))])),
        bin(cp_bucket(vec![("priority", B::Double(1.0))])),
        bin(cp_bucket(vec![("priority", B::I32(i32::MAX))])),
        bin(cp_bucket(vec![("count", B::Double(1.0))])),
        bin(cp_bucket(vec![("count", B::I32(1))])),
        bin(cp_stream_error(B::I32(-1))),
        bin(cp_stream_error(B::I32(5))),
        bin(cp_stream_error(B::I64(1))),
        bin(cp_stream_error(s("default"))),
        bin(cp_stream_error(B::Double(1.0))),
        bin(cp(vec![
            ("last_op_id", s("1")),
            ("buckets", B::Arr(vec![])),
            (
                "streams",
                B::Arr(vec![doc(vec![
                    ("name", s("s")),
                    ("is_default", B::I32(1)),
                    ("errors", B::Arr(vec![])),
                ])]),
            ),
        ])),
        bin(cp(vec![
            ("last_op_id", s("1")),
            ("buckets", B::Arr(vec![])),
            (
                "streams",
                B::Arr(vec![doc(vec![
                    ("name", s("s")),
                    ("is_default", B::Raw(0x08, vec![2])),
                    ("errors", B::Arr(vec![])),
                ])]),
            ),
        ])),
        // subscription reasons
        bin(cp_bucket(vec![(
            "subscriptions",
            B::Arr(vec![doc(vec![("x", B::I32(1))])]),
        )])),
        bin(cp_bucket(vec![("subscriptions", B::Arr(vec![doc(vec![])]))])),
        bin(cp_bucket(vec![(
            "subscriptions",
            B::Arr(vec![doc(vec![("default", B::I32(1)), ("sub", B::I32(2))])]),
        )])),
        bin(cp_bucket(vec![("subscriptions", B::Arr(vec![s("default")]))])),
        bin(cp_bucket(vec![("subscriptions", B::Arr(vec![B::I32(1)]))])),
        bin(cp_bucket(vec![("subscriptions", B::Arr(vec![B::Null]))])),
        bin(cp_bucket(vec![(
            "subscriptions",
            B::Arr(vec![doc(vec![("default", B::I64(1))])]),
        )])),
        bin(cp_bucket(vec![(
            "subscriptions",
            B::Arr(vec![doc(vec![("default", B::I32(-1))])]),
        )])),
        bin(cp_bucket(vec![(
            "subscriptions",
            B::Arr(vec![doc(vec![("default", s("1"))])]),
        )])),
        // checkpoint_diff
        bin(doc(vec![(
            "checkpoint_diff",
            doc(vec![
                ("last_op_id", s("1")),
                ("updated_buckets", B::Arr(vec![])),
                ("removed_buckets", B::Arr(vec![s("a"), s("b")])),
            ]),
        )])),
        bin(doc(vec![(
            "checkpoint_diff",
            doc(vec![
                ("last_op_id", s("1")),
                ("updated_buckets", B::Arr(vec![])),
                ("removed_buckets", B::Arr(vec![B::I32(1)])),
            ]),
        )])),
        bin(doc(vec![(
            "checkpoint_diff",
            doc(vec![("last_op_id", s("1")), ("updated_buckets", B::Arr(vec![]))]),
        )])),
        // data
        bin(doc(vec![("data", B::Null)])),
        bin(doc(vec![("data", s("x"))])),
        bin(doc(vec![("data", B::Arr(vec![B::I32(1)]))])),
        bin(doc(vec![(
            "data",
            B::Arr(vec![
                s("a"),
                B::Arr(vec![B::Arr(vec![B::I32(0), s("1"), s("PUT")])]),
            ]),
        )])),
        bin(doc(vec![(
            "data",
            doc(vec![("bucket", s("a")), ("data", B::Arr(vec![]))]),
        )])),
        bin(data_op(s("PUT"), vec![("data", doc(vec![("a", B::I32(1))]))])),
        bin(data_op(s("put"), vec![])),
        bin(data_op(s("PUT"), vec![("data", B::Null), ("object_id", B::Null)])),
        bin(data_op(B::I32(1), vec![])),
        bin(data_op(B::Null, vec![])),
        bin(data_op(doc(vec![("PUT", B::I32(1))]), vec![])),
        bin(data_op(doc(vec![("PUT", s("x"))]), vec![])),
        bin(data_op(doc(vec![]), vec![])),
        bin(data_op(doc(vec![("put", s("x"))]), vec![])),
        bin(data_op(s("PUT"), vec![("object_id", B::I32(1))])),
        bin(data_op(
            s("PUT"),
            vec![("subkey", B::Raw(0x05, b"\x02\x00\x00\x00\x00ab".to_vec()))],
        )),
        bin(data_op(
            s("PUT"),
            vec![("data", B::Raw(0x05, b"\x02\x00\x00\x00\x00\xff\xfe".to_vec()))],
        )),
        // From JSON, each line type with all fields.
        bin(j(
            json!({"checkpoint": {"last_op_id": "10", "write_checkpoint": "5",
            "buckets": [{"bucket": "a", "checksum": 0, "priority": 3, "count": 1,
                         "subscriptions": [{"default": 0}, {"sub": 1}]}],
            "streams": [{"name": "s", "is_default": true,
                         "errors": [{"subscription": "default", "message": "m"}]}]}}),
        )),
        bin(j(
            json!({"partial_checkpoint_complete": {"last_op_id": "10", "priority": 1}}),
        )),
        bin(j(json!({"partial_checkpoint_complete": {"priority": -1}}))),
        bin(j(json!({"partial_checkpoint_complete": {}}))),
    ];
    // Deeply nested ignored values.
    let mut deep = B::I32(1);
    for _ in 0..300 {
        deep = B::Arr(vec![doc(vec![("k", deep)])]);
    }
    cases.push(bin(doc(vec![("foo", deep.clone())])));
    cases.push(bin(cp(vec![
        ("last_op_id", s("1")),
        ("buckets", B::Arr(vec![])),
        ("x", deep),
    ])));
    let mut deep = B::Raw(0x13, vec![0; 16]);
    for _ in 0..3 {
        deep = doc(vec![("k", deep)]);
    }
    cases.push(bin(doc(vec![("x", deep)])));
    cases
}

#[test]
fn malformed_and_edge_case_lines_match_the_reference() {
    let conn = reference_connection();
    let cases: Vec<Input> = text_cases().into_iter().chain(binary_cases()).collect();
    let (mut failures, mut differences) = (0, Vec::new());
    for input in &cases {
        let expected = ask_reference(&conn, input);
        let actual = ours(input);
        if expected.is_some() {
            failures += 1;
        }
        if expected != actual {
            differences.push(format!(
                "{}\n  reference: {expected:?}\n  ours:      {actual:?}",
                input.describe()
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} differences:\n{}",
        differences.len(),
        differences.join("\n")
    );
    assert!(failures >= 50, "only {failures} malformed cases");
    common::report("sync_protocol_malformed", failures);
    common::report("sync_protocol_accepted", cases.len() - failures);
}

/// Every `line_text` of the reference's recorded sessions decodes, as JSON and as BSON, to the
/// same line, and the reference accepts both encodings too.
#[test]
fn golden_lines_decode() {
    let dir = common::golden_dir();
    let conn = reference_connection();
    let mut lines = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let calls: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for call in calls {
            if call["operation"] != "line_text" {
                continue;
            }
            let text = call["data"].to_string();
            let from_text = parse_text(&text).unwrap();
            assert!(!matches!(from_text, SyncLine::Unknown), "{text}");
            let binary = json_to_bson(&call["data"]);
            assert_eq!(parse_binary(&binary).unwrap(), from_text, "{text}");
            assert_eq!(ask_reference(&conn, &Input::Text(text.clone())), None, "{text}");
            assert_eq!(ask_reference(&conn, &Input::Binary(binary)), None, "{text}");
            lines += 1;
        }
    }
    assert!(lines >= 5, "only {lines} golden lines in {}", dir.display());
    common::report("sync_protocol_goldens", lines * 2);
}
