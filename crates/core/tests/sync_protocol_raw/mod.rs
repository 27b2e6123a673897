//! A tiny BSON encoder for sync-protocol tests, able to produce malformed documents too
//! (raw element types and payloads), which the `bson` crate refuses to write.
#![allow(dead_code)]

/// A BSON value.
#[derive(Debug, Clone)]
pub(crate) enum B {
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
pub(crate) fn doc(entries: Vec<(&str, B)>) -> B {
    B::Doc(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// A string value.
pub(crate) fn s(v: &str) -> B {
    B::Str(v.to_owned())
}

/// A string element with a verbatim payload: declared length, then `content` as given.
pub(crate) fn raw_str(declared_len: i32, content: &[u8]) -> B {
    let mut payload = declared_len.to_le_bytes().to_vec();
    payload.extend_from_slice(content);
    B::Raw(0x02, payload)
}

/// Converts JSON to BSON: integers in i32 range → int32, other integers → int64,
/// floats → double.
pub(crate) fn from_json(v: &serde_json::Value) -> B {
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

/// Encodes a JSON object as a BSON document (see [`from_json`]).
pub(crate) fn json_to_bson(v: &serde_json::Value) -> Vec<u8> {
    encode(&from_json(v))
}

fn type_code(v: &B) -> u8 {
    match v {
        B::Double(_) => 0x01,
        B::Str(_) => 0x02,
        B::Doc(_) => 0x03,
        B::Arr(_) => 0x04,
        B::Bool(_) => 0x08,
        B::Null => 0x0A,
        B::I32(_) => 0x10,
        B::I64(_) => 0x12,
        B::Raw(code, _) => *code,
    }
}

fn payload(v: &B, out: &mut Vec<u8>) {
    match v {
        B::Double(d) => out.extend_from_slice(&d.to_le_bytes()),
        B::Str(s) => {
            out.extend_from_slice(&(s.len() as i32 + 1).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
            out.push(0);
        }
        B::Doc(entries) => {
            let entries: Vec<(&str, &B)> = entries.iter().map(|(k, v)| (k.as_str(), v)).collect();
            document(&entries, out)
        }
        B::Arr(items) => {
            let keys: Vec<String> = (0..items.len()).map(|i| i.to_string()).collect();
            let entries: Vec<(&str, &B)> = keys.iter().map(String::as_str).zip(items).collect();
            document(&entries, out)
        }
        B::Bool(b) => out.push(*b as u8),
        B::Null => {}
        B::I32(i) => out.extend_from_slice(&i.to_le_bytes()),
        B::I64(i) => out.extend_from_slice(&i.to_le_bytes()),
        B::Raw(_, bytes) => out.extend_from_slice(bytes),
    }
}

fn document(entries: &[(&str, &B)], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    for (key, value) in entries {
        out.push(type_code(value));
        out.extend_from_slice(key.as_bytes());
        out.push(0);
        payload(value, out);
    }
    out.push(0);
    let len = (out.len() - start) as i32;
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
}

/// The bytes of a value (for a document: the complete document).
pub(crate) fn encode(v: &B) -> Vec<u8> {
    let mut out = Vec::new();
    payload(v, &mut out);
    out
}

/// Hex dump for test failure messages.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
