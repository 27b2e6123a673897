//! Decoding of sync lines (docs/protocol.md#sync-lines): every line type in JSON and BSON, scalar
//! field rules, zero-copy strings, and exact error texts (checked against the reference by
//! `sync_protocol_differential.rs`; repeated here so they hold without the reference too).

use crate::sync_protocol_raw;

use powersync_core::sync::protocol::*;
use powersync_core::PowerSyncError;
use serde_json::json;
use std::borrow::Cow;
use sync_protocol_raw::{doc, encode, json_to_bson, raw_str, s, B};

/// Decodes `line` as JSON text and as BSON (converted, see `from_json`) and checks both give
/// `expected`.
fn both(line: serde_json::Value, expected: SyncLine) {
    let text = line.to_string();
    assert_eq!(parse_text(&text).unwrap(), expected, "text {text}");
    let bin = json_to_bson(&line);
    assert_eq!(parse_binary(&bin).unwrap(), expected, "binary of {text}");
}

fn text_err(line: &str) -> String {
    let err = parse_text(line).unwrap_err();
    assert_eq!(err.code(), 4);
    err.to_string()
}

fn bin_err(line: &B) -> String {
    bin_err_bytes(&encode(line))
}

fn bin_err_bytes(bytes: &[u8]) -> String {
    let err = parse_binary(bytes).unwrap_err();
    assert_eq!(err.code(), 4);
    assert!(matches!(err, PowerSyncError::Protocol { .. }));
    err.to_string()
}

const TL: &str = "Sync protocol error: invalid text line. cause: ";
const BL: &str = "Sync protocol error: invalid binary line. cause: ";

fn b(name: &str) -> Cow<'_, str> {
    Cow::Borrowed(name)
}

#[test]
fn checkpoint_with_every_field() {
    both(
        json!({"checkpoint": {
            "last_op_id": "10", "write_checkpoint": "5",
            "buckets": [
                {"bucket": "a", "checksum": 0, "priority": 3, "count": 1,
                 "subscriptions": [{"default": 0}, {"sub": 1}], "last_op_id": "7"},
                {"bucket": "b", "checksum": -1}
            ],
            "streams": [{"name": "s", "is_default": true,
                         "errors": [{"subscription": "default", "message": "m"}]}]
        }}),
        SyncLine::Checkpoint(Checkpoint {
            last_op_id: 10,
            write_checkpoint: Some(5),
            buckets: vec![
                BucketChecksum {
                    bucket: b("a"),
                    checksum: Checksum(0),
                    priority: Some(BucketPriority(3)),
                    count: Some(1),
                    subscriptions: vec![
                        BucketSubscriptionReason::DerivedFromDefaultStream(0),
                        BucketSubscriptionReason::DerivedFromExplicitSubscription(1),
                    ],
                },
                BucketChecksum {
                    bucket: b("b"),
                    checksum: Checksum(u32::MAX),
                    priority: None,
                    count: None,
                    subscriptions: vec![],
                },
            ],
            streams: vec![StreamDescription {
                name: b("s"),
                is_default: true,
                errors: vec![StreamSubscriptionError {
                    subscription: SubscriptionRef::Default(b("default")),
                    message: b("m"),
                }],
            }],
        }),
    );
}

#[test]
fn checkpoint_minimal_and_null_write_checkpoint() {
    let expected = SyncLine::Checkpoint(Checkpoint {
        last_op_id: 1,
        write_checkpoint: None,
        buckets: vec![],
        streams: vec![],
    });
    both(
        json!({"checkpoint": {"last_op_id": "1", "buckets": []}}),
        expected.clone(),
    );
    both(
        json!({"checkpoint": {"last_op_id": "1", "write_checkpoint": null, "buckets": []}}),
        expected,
    );
}

#[test]
fn explicit_subscription_index_in_stream_errors() {
    // JSON sends indices as unsigned numbers; BSON int32 (the reference also accepts those).
    let line = r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":[{"name":"s","is_default":false,"errors":[{"subscription":2,"message":"m"}]}]}}"#;
    let SyncLine::Checkpoint(cp) = parse_text(line).unwrap() else {
        panic!()
    };
    assert_eq!(cp.streams[0].errors[0].subscription, SubscriptionRef::Explicit(2));
    let bin = json_to_bson(&serde_json::from_str(line).unwrap());
    let SyncLine::Checkpoint(cp) = parse_binary(&bin).unwrap() else {
        panic!()
    };
    assert_eq!(cp.streams[0].errors[0].subscription, SubscriptionRef::Explicit(2));
    // BSON int64 is a type error, as in the reference.
    let line = doc(vec![(
        "checkpoint",
        doc(vec![
            ("last_op_id", s("1")),
            ("buckets", B::Arr(vec![])),
            (
                "streams",
                B::Arr(vec![doc(vec![
                    ("name", s("s")),
                    ("is_default", B::Bool(true)),
                    (
                        "errors",
                        B::Arr(vec![doc(vec![("subscription", B::I64(1)), ("message", s("m"))])]),
                    ),
                ])]),
            ),
        ]),
    )]);
    assert_eq!(
        bin_err(&line),
        format!(
            "{BL}bson error at unknown offset: custom invalid type: integer `1`, expected default or index"
        )
    );
}

#[test]
fn checkpoint_diff() {
    both(
        json!({"checkpoint_diff": {
            "last_op_id": "12",
            "updated_buckets": [{"bucket": "a", "checksum": 5, "priority": 1, "count": 12}],
            "removed_buckets": ["b", "c"],
            "write_checkpoint": "3"
        }}),
        SyncLine::CheckpointDiff(CheckpointDiff {
            last_op_id: 12,
            updated_buckets: vec![BucketChecksum {
                bucket: b("a"),
                checksum: Checksum(5),
                priority: Some(BucketPriority(1)),
                count: Some(12),
                subscriptions: vec![],
            }],
            removed_buckets: vec![b("b"), b("c")],
            write_checkpoint: Some(3),
        }),
    );
    both(
        json!({"checkpoint_diff": {"last_op_id": "12", "updated_buckets": [], "removed_buckets": []}}),
        SyncLine::CheckpointDiff(CheckpointDiff {
            last_op_id: 12,
            updated_buckets: vec![],
            removed_buckets: vec![],
            write_checkpoint: None,
        }),
    );
}

#[test]
fn checkpoint_complete_body_is_ignored() {
    both(
        json!({"checkpoint_complete": {"last_op_id": "10"}}),
        SyncLine::CheckpointComplete,
    );
    both(json!({"checkpoint_complete": {}}), SyncLine::CheckpointComplete);
    // A struct may also be sent as an array (serde's sequence form).
    both(json!({"checkpoint_complete": []}), SyncLine::CheckpointComplete);
    assert_eq!(
        text_err(r#"{"checkpoint_complete":null}"#),
        format!("{TL}invalid type: null, expected struct CheckpointComplete at line 1 column 27")
    );
}

#[test]
fn partial_checkpoint_complete() {
    both(
        json!({"partial_checkpoint_complete": {"last_op_id": "10", "priority": 1}}),
        SyncLine::PartialCheckpointComplete(PartialCheckpointComplete {
            priority: BucketPriority(1),
        }),
    );
    assert_eq!(
        text_err(r#"{"partial_checkpoint_complete":{"last_op_id":"1"}}"#),
        format!("{TL}missing field `priority` at line 1 column 49")
    );
    assert_eq!(
        text_err(r#"{"partial_checkpoint_complete":[]}"#),
        format!("{TL}invalid length 0, expected struct CheckpointPartiallyComplete with 1 element at line 1 column 33")
    );
}

#[test]
fn data_line_with_every_op_type() {
    both(
        json!({"data": {
            "bucket": "a", "has_more": false, "after": null, "next_after": null,
            "data": [
                {"op_id": "1", "op": "PUT", "object_type": "items", "object_id": "1",
                 "subkey": "k", "checksum": 7, "data": "{\"col\":\"hi\"}"},
                {"op_id": "2", "op": "REMOVE", "object_type": "items", "object_id": "1",
                 "subkey": null, "checksum": 3573495687u32, "data": null},
                {"op_id": "3", "op": "MOVE", "checksum": 1},
                {"op_id": "4", "op": "CLEAR", "checksum": -2147483648}
            ]
        }}),
        SyncLine::Data(DataLine {
            bucket: b("a"),
            data: vec![
                OplogEntry {
                    checksum: Checksum(7),
                    op_id: 1,
                    op: OpType::Put,
                    object_id: Some(b("1")),
                    object_type: Some(b("items")),
                    subkey: Some(b("k")),
                    data: Some(b(r#"{"col":"hi"}"#)),
                },
                OplogEntry {
                    checksum: Checksum(3573495687),
                    op_id: 2,
                    op: OpType::Remove,
                    object_id: Some(b("1")),
                    object_type: Some(b("items")),
                    subkey: None,
                    data: None,
                },
                OplogEntry {
                    checksum: Checksum(1),
                    op_id: 3,
                    op: OpType::Move,
                    object_id: None,
                    object_type: None,
                    subkey: None,
                    data: None,
                },
                OplogEntry {
                    checksum: Checksum(0x8000_0000),
                    op_id: 4,
                    op: OpType::Clear,
                    object_id: None,
                    object_type: None,
                    subkey: None,
                    data: None,
                },
            ],
        }),
    );
    both(
        json!({"data": {"bucket": "a", "data": []}}),
        SyncLine::Data(DataLine {
            bucket: b("a"),
            data: vec![],
        }),
    );
}

#[test]
fn token_expires_in() {
    both(json!({"token_expires_in": 60}), SyncLine::TokenExpiresIn(60));
    both(json!({"token_expires_in": -5}), SyncLine::TokenExpiresIn(-5));
    // BSON int64 within i32 range.
    let line = doc(vec![("token_expires_in", B::I64(30))]);
    assert_eq!(
        parse_binary(&encode(&line)).unwrap(),
        SyncLine::TokenExpiresIn(30)
    );
    assert_eq!(
        text_err(r#"{"token_expires_in":1.0}"#),
        format!("{TL}invalid type: floating point `1.0`, expected i32 at line 1 column 23")
    );
    assert_eq!(
        text_err(r#"{"token_expires_in":2147483648}"#),
        format!("{TL}invalid value: integer `2147483648`, expected i32 at line 1 column 30")
    );
    assert_eq!(
        bin_err(&doc(vec![("token_expires_in", B::Double(60.0))])),
        format!("{BL}bson error at unknown offset: custom invalid type: floating point `60.0`, expected i32")
    );
}

#[test]
fn unknown_line_types_with_any_body() {
    for body in [json!(1), json!({"x": [1, {"y": null}]}), json!("s"), json!(null)] {
        both(json!({"unknown_line": body}), SyncLine::Unknown);
    }
}

#[test]
fn bson_reads_only_the_first_element_and_ignores_trailing_bytes() {
    let line = doc(vec![
        ("token_expires_in", B::I32(5)),
        ("checkpoint", B::Raw(0x14, vec![])), // never read
    ]);
    let mut bytes = encode(&line);
    assert_eq!(parse_binary(&bytes).unwrap(), SyncLine::TokenExpiresIn(5));
    bytes.extend_from_slice(b"trailing garbage");
    assert_eq!(parse_binary(&bytes).unwrap(), SyncLine::TokenExpiresIn(5));
}

#[test]
fn json_needs_exactly_one_key() {
    assert_eq!(text_err("{}"), format!("{TL}expected value at line 1 column 2"));
    assert_eq!(
        text_err(r#"{"checkpoint_complete":{},"x":1}"#),
        format!("{TL}expected value at line 1 column 25")
    );
    assert_eq!(
        text_err(r#"{"checkpoint_complete":{}} x"#),
        format!("{TL}trailing characters at line 1 column 28")
    );
    // Trailing whitespace is fine.
    assert_eq!(
        parse_text("{\"token_expires_in\":1} \n\t").unwrap(),
        SyncLine::TokenExpiresIn(1)
    );
    assert_eq!(
        bin_err_bytes(&encode(&doc(vec![]))),
        format!("{BL}bson error, at 4: unexpected end of document for enum variant")
    );
}

#[test]
fn op_ids_are_strings_holding_an_i64() {
    let line = |id: &str| format!(r#"{{"checkpoint":{{"last_op_id":{id},"buckets":[]}}}}"#);
    let op_id = |id: &str| match parse_text(&line(id)).unwrap() {
        SyncLine::Checkpoint(cp) => cp.last_op_id,
        _ => unreachable!(),
    };
    assert_eq!(op_id(r#""+5""#), 5);
    assert_eq!(op_id(r#""-5""#), -5);
    assert_eq!(op_id(r#""9223372036854775807""#), i64::MAX);
    assert_eq!(op_id(r#""\u0031""#), 1);
    assert_eq!(
        text_err(&line("1")),
        format!("{TL}invalid type: integer `1`, expected a string at line 1 column 29")
    );
    assert_eq!(
        text_err(&line(r#""9223372036854775808""#)),
        format!("{TL}number too large to fit in target type at line 1 column 49")
    );
    assert_eq!(
        text_err(&line(r#""""#)),
        format!("{TL}cannot parse integer from empty string at line 1 column 30")
    );
    assert_eq!(
        text_err(&line(r#"" 1""#)),
        format!("{TL}invalid digit found in string at line 1 column 32")
    );
    for bad in [B::I32(1), B::I64(1), B::Double(1.0)] {
        let line = doc(vec![(
            "checkpoint",
            doc(vec![("last_op_id", bad), ("buckets", B::Arr(vec![]))]),
        )]);
        assert!(bin_err(&line).contains("expected a string"));
    }
}

fn checksum_of(value: &str) -> Result<Checksum, String> {
    let line =
        format!(r#"{{"checkpoint":{{"last_op_id":"1","buckets":[{{"bucket":"a","checksum":{value}}}]}}}}"#);
    match parse_text(&line) {
        Ok(SyncLine::Checkpoint(cp)) => Ok(cp.buckets[0].checksum),
        Ok(_) => unreachable!(),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn checksums() {
    assert_eq!(checksum_of("0"), Ok(Checksum(0)));
    assert_eq!(checksum_of("-1"), Ok(Checksum(u32::MAX)));
    assert_eq!(checksum_of("-2147483648"), Ok(Checksum(0x8000_0000)));
    assert_eq!(checksum_of("4294967295"), Ok(Checksum(u32::MAX)));
    assert_eq!(checksum_of("3573495687.0"), Ok(Checksum(3573495687)));
    assert_eq!(checksum_of("-0.0"), Ok(Checksum(0)));
    assert_eq!(checksum_of("-1.0"), Ok(Checksum(u32::MAX)));
    assert_eq!(Checksum(7).as_i32(), 7);
    assert_eq!(Checksum(u32::MAX).as_i32(), -1);
    assert_eq!(
        checksum_of("4294967296"),
        Err(format!(
            "{TL}invalid value: integer `4294967296`, expected a 32-bit int at line 1 column 78"
        ))
    );
    assert_eq!(
        checksum_of("-2147483649"),
        Err(format!(
            "{TL}invalid value: integer `-2147483649`, expected a 32-bit int at line 1 column 79"
        ))
    );
    assert_eq!(
        checksum_of("1.5"),
        Err(format!(
            "{TL}invalid value: floating point `1.5`, expected a whole number at line 1 column 71"
        ))
    );
    assert_eq!(
        checksum_of(r#""1""#),
        Err(format!("{TL}invalid type: string \"1\", expected a number to interpret as a checksum at line 1 column 71"))
    );
    // BSON doubles, including non-finite ones.
    let bson_checksum = |v: B| {
        let line = doc(vec![(
            "checkpoint",
            doc(vec![
                ("last_op_id", s("1")),
                (
                    "buckets",
                    B::Arr(vec![doc(vec![("bucket", s("a")), ("checksum", v)])]),
                ),
            ]),
        )]);
        match parse_binary(&encode(&line)) {
            Ok(SyncLine::Checkpoint(cp)) => Ok(cp.buckets[0].checksum),
            Ok(_) => unreachable!(),
            Err(e) => Err(e.to_string()),
        }
    };
    assert_eq!(bson_checksum(B::Double(4294967295.0)), Ok(Checksum(u32::MAX)));
    assert_eq!(bson_checksum(B::I64(3573495687)), Ok(Checksum(3573495687)));
    let custom = |m: &str| Err(format!("{BL}bson error at unknown offset: custom {m}"));
    assert_eq!(
        bson_checksum(B::Double(f64::NAN)),
        custom("invalid value: floating point `NaN`, expected a whole number")
    );
    assert_eq!(
        bson_checksum(B::Double(f64::INFINITY)),
        custom("invalid value: floating point `inf`, expected a whole number")
    );
    assert_eq!(
        bson_checksum(B::Double(1e20)),
        custom("invalid value: integer `9223372036854775807`, expected a 32-bit int")
    );
}

fn priority_of(value: &str) -> Result<Option<BucketPriority>, String> {
    let line = format!(
        r#"{{"checkpoint":{{"last_op_id":"1","buckets":[{{"bucket":"a","checksum":1,"priority":{value}}}]}}}}"#
    );
    match parse_text(&line) {
        Ok(SyncLine::Checkpoint(cp)) => Ok(cp.buckets[0].priority),
        Ok(_) => unreachable!(),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn priorities() {
    assert_eq!(priority_of("0"), Ok(Some(BucketPriority(0))));
    assert_eq!(priority_of("100"), Ok(Some(BucketPriority(100))));
    assert_eq!(priority_of("2147483646"), Ok(Some(BucketPriority(2147483646))));
    assert_eq!(priority_of("null"), Ok(None));
    let invalid = "invalid argument: Invalid bucket priority value. cause: unknown";
    assert_eq!(
        priority_of("-1"),
        Err(format!("{TL}{invalid} at line 1 column 83"))
    );
    assert_eq!(
        priority_of("2147483647"),
        Err(format!("{TL}{invalid} at line 1 column 91"))
    );
    assert_eq!(
        priority_of("2147483648"),
        Err(format!("{TL}int too large at line 1 column 91"))
    );
    assert_eq!(
        priority_of("1.0"),
        Err(format!("{TL}invalid type: floating point `1.0`, expected a priority as an integer between 0 and 3 (inclusive) at line 1 column 84"))
    );
}

#[test]
fn op_types_are_exact() {
    let line =
        |op: &str| format!(r#"{{"data":{{"bucket":"a","data":[{{"op_id":"1","op":{op},"checksum":0}}]}}}}"#);
    assert!(parse_text(&line(r#""P\u0055T""#)).is_ok());
    assert_eq!(
        text_err(&line(r#""put""#)),
        format!(
            "{TL}unknown variant `put`, expected one of `CLEAR`, `MOVE`, `PUT`, `REMOVE` at line 1 column 53"
        )
    );
    assert_eq!(
        text_err(&line(r#""PATCH""#)),
        format!("{TL}unknown variant `PATCH`, expected one of `CLEAR`, `MOVE`, `PUT`, `REMOVE` at line 1 column 55")
    );
    assert_eq!(
        text_err(&line("1")),
        format!("{TL}expected value at line 1 column 49")
    );
}

#[test]
fn oplog_data_must_be_a_string_or_null() {
    let line = r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":"PUT","checksum":0,"data":{}}]}}"#;
    assert_eq!(
        text_err(line),
        format!("{TL}invalid type: map, expected a string at line 1 column 74")
    );
    let line = doc(vec![(
        "data",
        doc(vec![
            ("bucket", s("a")),
            (
                "data",
                B::Arr(vec![doc(vec![
                    ("op_id", s("1")),
                    ("op", s("PUT")),
                    ("checksum", B::I32(0)),
                    ("data", doc(vec![("a", B::I32(1))])),
                ])]),
            ),
        ]),
    )]);
    assert_eq!(
        bin_err(&line),
        format!("{BL}bson error at unknown offset: custom invalid type: map, expected a string")
    );
}

#[test]
fn subscription_reasons() {
    let line = |subs: &str| {
        format!(
            r#"{{"checkpoint":{{"last_op_id":"1","buckets":[{{"bucket":"a","checksum":1,"subscriptions":{subs}}}]}}}}"#
        )
    };
    assert_eq!(
        text_err(&line(r#"[{"x":1}]"#)),
        format!("{TL}unknown variant `x`, expected `default` or `sub` at line 1 column 92")
    );
    assert_eq!(
        text_err(&line(r#"[{}]"#)),
        format!("{TL}expected value at line 1 column 89")
    );
    assert_eq!(
        text_err(&line(r#"[{"default":-1}]"#)),
        format!("{TL}invalid value: integer `-1`, expected usize at line 1 column 100")
    );
    assert_eq!(
        text_err(&line(r#"[{"def\u0061ult":1}]"#)),
        format!("{TL}invalid type: string \"default\", expected a borrowed string at line 1 column 102")
    );
}

#[test]
fn required_fields() {
    let cases = [
        (
            r#"{"checkpoint":{}}"#,
            "missing field `last_op_id` at line 1 column 16",
        ),
        (
            r#"{"checkpoint":{"last_op_id":"1"}}"#,
            "missing field `buckets` at line 1 column 32",
        ),
        (
            r#"{"checkpoint":{"last_op_id":"1","buckets":[],"streams":[{"name":"a"}]}}"#,
            "missing field `is_default` at line 1 column 68",
        ),
        (
            r#"{"checkpoint_diff":{"last_op_id":"1","updated_buckets":[]}}"#,
            "missing field `removed_buckets` at line 1 column 58",
        ),
        (
            r#"{"data":{"bucket":"a"}}"#,
            "missing field `data` at line 1 column 22",
        ),
        (
            r#"{"data":{"data":[]}}"#,
            "missing field `bucket` at line 1 column 19",
        ),
        (
            r#"{"data":{"bucket":"a","data":[{"op_id":"1","checksum":0}]}}"#,
            "missing field `op` at line 1 column 56",
        ),
    ];
    for (line, cause) in cases {
        assert_eq!(text_err(line), format!("{TL}{cause}"), "{line}");
    }
}

#[test]
fn bson_structural_errors() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![], "bson error, at 0: unexpected end of file"),
        (vec![5, 0, 0, 0], "bson error, at 4: unexpected end of file"),
        (vec![4, 0, 0, 0, 0], "bson error, at 4: invalid document size"),
        (vec![5, 0, 0, 0, 1], "bson error, at 4: unexpected end of document"),
        (
            encode(&doc(vec![("foo", B::Raw(0x13, vec![1; 16]))])),
            "bson error, at 4: unknown element code: 19",
        ),
        (
            encode(&doc(vec![("foo", raw_str(2, b"\xff\0"))])),
            "bson error, at 14: cstring with non-utf8 content: invalid utf-8 sequence of 1 bytes from index 0",
        ),
        (
            encode(&doc(vec![("foo", raw_str(-1, b"a\0"))])),
            "bson error, at 12: invalid document size",
        ),
    ];
    for (bytes, cause) in cases {
        assert_eq!(bin_err_bytes(&bytes), format!("{BL}{cause}"), "{bytes:?}");
    }
}

#[test]
fn bson_empty_string_length_is_an_error() {
    // A string whose declared length (including the terminator) is 0 is malformed. The
    // reference crashes on it (index underflow); we report it.
    let line = doc(vec![(
        "checkpoint",
        doc(vec![("last_op_id", raw_str(0, b"")), ("buckets", B::Arr(vec![]))]),
    )]);
    assert_eq!(
        bin_err(&line),
        format!("{BL}bson error, at 34: invalid document size")
    );
}

#[test]
fn deeply_nested_ignored_values_are_accepted() {
    // Building, encoding and dropping the 5000-level test values recurses once per level (the
    // decoder under test does not): a stack larger than a test thread's default.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(deeply_nested_ignored_values)
        .unwrap()
        .join()
        .unwrap();
}

fn deeply_nested_ignored_values() {
    // Unknown lines and unknown fields are skipped without recursion in both encodings (the
    // reference behaves the same for JSON; for BSON it recurses, but accepts).
    let deep = |inner: &str| format!("{}{inner}{}", "[".repeat(5000), "]".repeat(5000));
    assert_eq!(
        parse_text(&format!("{{\"x\":{}}}", deep("1"))).unwrap(),
        SyncLine::Unknown
    );
    let text = format!(
        "{{\"checkpoint\":{{\"last_op_id\":\"1\",\"buckets\":[],\"extra\":{}}}}}",
        deep("{}")
    );
    assert!(matches!(parse_text(&text).unwrap(), SyncLine::Checkpoint(_)));
    let mut value = B::I32(1);
    for _ in 0..5000 {
        value = B::Arr(vec![doc(vec![("k", value)])]);
    }
    assert_eq!(
        parse_binary(&encode(&doc(vec![("x", value.clone())]))).unwrap(),
        SyncLine::Unknown
    );
    let line = doc(vec![(
        "checkpoint",
        doc(vec![
            ("last_op_id", s("1")),
            ("buckets", B::Arr(vec![])),
            ("extra", value),
        ]),
    )]);
    assert!(matches!(
        parse_binary(&encode(&line)).unwrap(),
        SyncLine::Checkpoint(_)
    ));
    // Errors deep inside ignored values are still reported.
    let mut value = B::Raw(0x13, vec![0; 16]);
    for _ in 0..3 {
        value = doc(vec![("k", value)]);
    }
    assert_eq!(
        bin_err(&doc(vec![("x", value)])),
        format!("{BL}bson error, at 22: unknown element code: 19")
    );
}

fn data_entry<'a>(line: &SyncLine<'a>) -> (Cow<'a, str>, OplogEntry<'a>) {
    match line {
        SyncLine::Data(d) => (d.bucket.clone(), d.data[0].clone()),
        _ => panic!("not a data line"),
    }
}

#[test]
fn strings_borrow_from_the_input() {
    let line = json!({"data": {"bucket": "bkt", "data": [
        {"op_id": "1", "op": "PUT", "object_type": "items", "object_id": "o1",
         "subkey": "sk", "checksum": 0, "data": "{\"col\":\"hi\"}"}
    ]}});
    // BSON: every string is a slice of the input, including the row data.
    let bin = json_to_bson(&line);
    let decoded = parse_binary(&bin).unwrap();
    let (bucket, op) = data_entry(&decoded);
    for s in [
        &bucket,
        op.object_type.as_ref().unwrap(),
        op.object_id.as_ref().unwrap(),
        op.subkey.as_ref().unwrap(),
        op.data.as_ref().unwrap(),
    ] {
        let Cow::Borrowed(s) = s else {
            panic!("{s} was copied")
        };
        let range = bin.as_ptr_range();
        assert!(range.contains(&s.as_ptr()), "{s} does not point into the input");
    }
    // JSON: strings without escapes are borrowed; escaped ones (row data) are unescaped copies.
    let text = line.to_string();
    let decoded = parse_text(&text).unwrap();
    let (bucket, op) = data_entry(&decoded);
    assert!(matches!(bucket, Cow::Borrowed("bkt")));
    assert!(matches!(op.object_type, Some(Cow::Borrowed("items"))));
    assert!(matches!(op.object_id, Some(Cow::Borrowed("o1"))));
    assert!(matches!(op.subkey, Some(Cow::Borrowed("sk"))));
    assert!(matches!(&op.data, Some(Cow::Owned(d)) if d == r#"{"col":"hi"}"#));
    // Escaped names still decode (owned).
    let text = r#"{"checkpoint_diff":{"last_op_id":"1","updated_buckets":[{"bucket":"a\u0062","checksum":1}],"removed_buckets":["c\u0064","plain"]}}"#;
    let SyncLine::CheckpointDiff(diff) = parse_text(text).unwrap() else {
        panic!()
    };
    assert!(matches!(&diff.updated_buckets[0].bucket, Cow::Owned(b) if b == "ab"));
    assert!(matches!(&diff.removed_buckets[0], Cow::Owned(b) if b == "cd"));
    assert!(matches!(diff.removed_buckets[1], Cow::Borrowed("plain")));
}

#[test]
fn our_test_encoder_agrees_with_the_bson_crate() {
    let line = json!({"checkpoint": {"last_op_id": "10", "write_checkpoint": null,
        "buckets": [{"bucket": "a", "checksum": -5, "priority": 3, "count": 3000000000i64,
                     "subscriptions": [{"default": 0}], "x": 1.5}]}});
    // serde_json objects iterate in key order.
    let theirs = ::bson::doc! {"checkpoint": {
    "buckets": [{"bucket": "a", "checksum": -5i32, "count": 3000000000i64, "priority": 3i32,
                 "subscriptions": [{"default": 0i32}], "x": 1.5f64}],
    "last_op_id": "10", "write_checkpoint": ::bson::Bson::Null}};
    let theirs = ::bson::serialize_to_vec(&theirs).unwrap();
    assert_eq!(json_to_bson(&line), theirs);
    assert!(matches!(parse_binary(&theirs).unwrap(), SyncLine::Checkpoint(_)));
}

#[test]
fn type_names() {
    assert_eq!(SyncLine::CheckpointComplete.type_name(), "checkpoint_complete");
    assert_eq!(SyncLine::Unknown.type_name(), "unknown");
}
