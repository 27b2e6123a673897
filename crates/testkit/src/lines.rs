//! Sync lines for the tests: JSON line builders, and a short notation for BSON values (able to
//! describe malformed documents too — raw element types and payloads — which the `bson` crate
//! refuses to write) whose bytes come from the protocol crate's encoder; `crates/core/tests`
//! checks them against the `bson` crate on well-formed input.

use powersync_protocol::bson::Value;
use serde_json::{json, Value as Json};

/// A BSON value.
#[derive(Debug, Clone)]
pub enum B {
    /// 0x01
    Double(f64),
    /// 0x02
    Str(String),
    /// 0x03
    Doc(Vec<(String, B)>),
    /// 0x04
    Arr(Vec<B>),
    /// 0x08
    Bool(bool),
    /// 0x0A
    Null,
    /// 0x10
    I32(i32),
    /// 0x12
    I64(i64),
    /// Any element type with a verbatim payload.
    Raw(u8, Vec<u8>),
}

/// A document from key/value pairs (keys may repeat).
pub fn doc(entries: Vec<(&str, B)>) -> B {
    B::Doc(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// A string value.
pub fn s(v: &str) -> B {
    B::Str(v.to_owned())
}

/// A string element with a verbatim payload: declared length, then `content` as given.
pub fn raw_str(declared_len: i32, content: &[u8]) -> B {
    let mut payload = declared_len.to_le_bytes().to_vec();
    payload.extend_from_slice(content);
    B::Raw(0x02, payload)
}

/// Converts JSON to BSON: integers in i32 range → int32, other integers → int64,
/// floats → double.
pub fn from_json(v: &serde_json::Value) -> B {
    use serde_json::Value;
    match v {
        Value::Null => B::Null,
        Value::Bool(b) => B::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                match i32::try_from(i) {
                    Ok(i) => B::I32(i),
                    Err(_) => B::I64(i),
                }
            } else if let Some(u) = n.as_u64() {
                B::Double(u as f64)
            } else {
                B::Double(n.as_f64().unwrap())
            }
        }
        Value::String(s) => B::Str(s.clone()),
        Value::Array(items) => B::Arr(items.iter().map(from_json).collect()),
        Value::Object(map) => B::Doc(map.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
    }
}

/// Like [`from_json`] with every integer as int64.
pub fn from_json64(v: &serde_json::Value) -> B {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_i64() => B::I64(n.as_i64().unwrap()),
        Value::Array(items) => B::Arr(items.iter().map(from_json64).collect()),
        Value::Object(map) => B::Doc(map.iter().map(|(k, v)| (k.clone(), from_json64(v))).collect()),
        other => from_json(other),
    }
}

/// Encodes a JSON object as a BSON document (see [`from_json`]).
pub fn json_to_bson(v: &serde_json::Value) -> Vec<u8> {
    encode(&from_json(v))
}

/// The protocol crate's value for `v`: the tests keep their short `B` notation, the bytes come
/// from the one BSON encoder of the repository (`powersync_protocol::bson`).
pub fn to_value(v: &B) -> Value {
    match v {
        B::Double(d) => Value::Double(*d),
        B::Str(s) => Value::String(s.clone()),
        B::Doc(entries) => Value::Document(entries.iter().map(|(k, v)| (k.clone(), to_value(v))).collect()),
        B::Arr(items) => Value::Array(items.iter().map(to_value).collect()),
        B::Bool(b) => Value::Bool(*b),
        B::Null => Value::Null,
        B::I32(i) => Value::Int32(*i),
        B::I64(i) => Value::Int64(*i),
        B::Raw(code, payload) => Value::Raw {
            code: *code,
            payload: payload.clone(),
        },
    }
}

/// The bytes of a value (for a document: the complete document).
pub fn encode(v: &B) -> Vec<u8> {
    let mut out = Vec::new();
    to_value(v).write_payload(&mut out);
    out
}

/// Hex dump for test failure messages.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A JSON line as one BSON document the way a service encodes it: integers that fit `i32`
/// become int32, other integers int64, other numbers doubles.
pub fn bson_line(line: &Json) -> Vec<u8> {
    assert!(line.is_object(), "not a document: {line}");
    json_to_bson(line)
}

/// A JSON line as one BSON document with every integer as int64.
pub fn to_bson(line: &Json) -> Vec<u8> {
    assert!(line.is_object(), "not a document: {line}");
    encode(&from_json64(line))
}

/// Builds a `data` line.
pub fn data_line(bucket: &str, ops: Json) -> Json {
    json!({"data": {"bucket": bucket, "has_more": false, "after": null, "next_after": null, "data": ops}})
}

/// A PUT op on `items`.
pub fn put(op_id: i64, id: &str, checksum: i64, data: &str) -> Json {
    json!({"op_id": op_id.to_string(), "op": "PUT", "object_type": "items", "object_id": id, "checksum": checksum, "data": data})
}

/// A REMOVE op on `items`.
pub fn remove(op_id: i64, id: &str, checksum: i64) -> Json {
    json!({"op_id": op_id.to_string(), "op": "REMOVE", "object_type": "items", "object_id": id, "checksum": checksum})
}

/// A checkpoint line with `(bucket, checksum, priority, count)` entries.
pub fn checkpoint(
    last_op_id: i64,
    write_checkpoint: Option<i64>,
    buckets: &[(&str, i64, i32, Option<i64>)],
) -> Json {
    let buckets: Vec<Json> = buckets
        .iter()
        .map(|(b, c, p, n)| {
            let mut o = json!({"bucket": b, "checksum": c, "priority": p});
            if let Some(n) = n {
                o["count"] = Json::from(*n);
            }
            o
        })
        .collect();
    json!({"checkpoint": {"last_op_id": last_op_id.to_string(), "write_checkpoint": write_checkpoint.map(|w| w.to_string()), "buckets": buckets}})
}

/// `checkpoint_complete`.
pub fn complete(last_op_id: i64) -> Json {
    json!({"checkpoint_complete": {"last_op_id": last_op_id.to_string()}})
}

/// `partial_checkpoint_complete`.
pub fn partial(last_op_id: i64, priority: i32) -> Json {
    json!({"partial_checkpoint_complete": {"last_op_id": last_op_id.to_string(), "priority": priority}})
}

/// A generic op.
pub fn op(
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
pub fn put_t(op_id: i64, ty: &str, id: &str, checksum: i64, data: &str) -> Json {
    op(op_id, "PUT", Some(ty), Some(id), checksum, Some(data))
}

/// A REMOVE of `ty`/`id`.
pub fn remove_t(op_id: i64, ty: &str, id: &str, checksum: i64) -> Json {
    op(op_id, "REMOVE", Some(ty), Some(id), checksum, None)
}

/// A MOVE op.
pub fn mv(op_id: i64, checksum: i64) -> Json {
    op(op_id, "MOVE", None, None, checksum, None)
}

/// A CLEAR op.
pub fn clear(op_id: i64, checksum: i64) -> Json {
    op(op_id, "CLEAR", None, None, checksum, None)
}

/// A bucket checksum entry.
pub fn bucket(name: &str, checksum: i64, priority: Option<i32>, count: Option<i64>) -> Json {
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
pub fn cp(last_op_id: i64, write_checkpoint: Option<i64>, buckets: Vec<Json>) -> Json {
    let mut body = json!({"last_op_id": last_op_id.to_string(), "buckets": buckets});
    if let Some(w) = write_checkpoint {
        body["write_checkpoint"] = json!(w.to_string());
    }
    json!({ "checkpoint": body })
}

/// A `checkpoint_diff` line.
pub fn diff(last_op_id: i64, write_checkpoint: Option<i64>, updated: Vec<Json>, removed: &[&str]) -> Json {
    let mut body =
        json!({"last_op_id": last_op_id.to_string(), "updated_buckets": updated, "removed_buckets": removed});
    if let Some(w) = write_checkpoint {
        body["write_checkpoint"] = json!(w.to_string());
    }
    json!({ "checkpoint_diff": body })
}

/// `token_expires_in`.
pub fn token(seconds: i64) -> Json {
    json!({ "token_expires_in": seconds })
}

/// A `subscriptions` subscribe payload.
pub fn subscribe(name: &str, params: Option<Json>, ttl: Option<i64>, priority: Option<i32>) -> Json {
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
