//! Sync lines in, instructions out: decoding the same `data` line from JSON and from BSON, and
//! serialising instructions the way `powersync_control` returns them.
//!
//! Run: `cargo run -p powersync_protocol --example decode`. The same program is the example of
//! the crate's README (and crate documentation), where it runs as a doc test.

use powersync_protocol::bson::{Document, Value};
use powersync_protocol::instructions::{self, Instruction, Severity};
use powersync_protocol::line::{self, OpType, SyncLine};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `line_text`: one JSON object whose only key is the line type. Strings borrow from the
    // input where they can.
    let json = r#"{"data": {"bucket": "b", "data": [{"op_id": "1", "op": "PUT",
        "object_type": "todos", "object_id": "t1", "checksum": 10,
        "data": "{\"description\": \"Buy milk\"}"}]}}"#;
    let SyncLine::Data(data) = line::parse_text(json)? else {
        panic!("a data line")
    };
    assert_eq!(data.bucket, "b");
    let op = &data.data[0];
    assert_eq!((op.op_id, op.op, op.checksum.0), (1, OpType::Put, 10));
    assert_eq!(op.object_id.as_deref(), Some("t1"));
    assert_eq!(op.data.as_deref(), Some(r#"{"description": "Buy milk"}"#));

    // `line_binary`: the same line as a BSON document (built here with the crate's encoder)
    // decodes to the same value.
    let entry = Document::new()
        .with("op_id", "1")
        .with("op", "PUT")
        .with("object_type", "todos")
        .with("object_id", "t1")
        .with("checksum", 10)
        .with("data", r#"{"description": "Buy milk"}"#);
    let body = Document::new()
        .with("bucket", "b")
        .with("data", Value::array([entry]));
    let bson = Document::new().with("data", body).to_bytes();
    assert_eq!(line::parse_binary(&bson)?, SyncLine::Data(data));

    // Errors read as the reference's do: powersync_control reports them after
    // `powersync_control: ` with SQLite result code 4 (ABORT).
    let err = line::parse_text(r#"{"checkpoint": {"last_op_id": "1"}}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Sync protocol error: invalid text line. cause: missing field `buckets` at line 1 column 34"
    );

    // The state machine answers each event with instructions, returned to the SDK as one
    // JSON array.
    let answer = [
        Instruction::log(Severity::Debug, "Validated and applied checkpoint"),
        Instruction::DidCompleteSync {
            applied_checkpoint_request_id: None,
        },
    ];
    assert_eq!(
        instructions::to_json(&answer),
        r#"[{"LogLine":{"severity":"DEBUG","line":"Validated and applied checkpoint"}},{"DidCompleteSync":{}}]"#
    );
    Ok(())
}
