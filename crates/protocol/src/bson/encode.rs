//! Writing BSON documents: enough to build any sync line, and malformed ones on purpose.
//!
//! The test suites, the fuzzers and tools that record sessions need `line_binary` payloads;
//! one encoder here keeps them writing the same bytes the service would. Besides the element
//! types of sync lines, [`Value::Raw`] writes any element type with a verbatim payload, so
//! that decoder tests can build documents the decoder must reject.

use serde_json::Value as Json;

/// A BSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// 0x01: a 64-bit float.
    Double(f64),
    /// 0x02: a UTF-8 string.
    String(String),
    /// 0x03: an embedded document.
    Document(Document),
    /// 0x04: an array (written as a document with keys `"0"`, `"1"`, …).
    Array(Vec<Value>),
    /// 0x05: binary data with its subtype (0 for generic bytes).
    Binary {
        /// The BSON binary subtype.
        subtype: u8,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// 0x08: a boolean.
    Bool(bool),
    /// 0x0A: null.
    Null,
    /// 0x10: a 32-bit integer.
    Int32(i32),
    /// 0x12: a 64-bit integer.
    Int64(i64),
    /// Any element type code followed by `payload` as given, unchecked: for building
    /// malformed documents.
    Raw {
        /// The element type code written before the key.
        code: u8,
        /// The bytes written after the key.
        payload: Vec<u8>,
    },
}

/// How [`Value::from_json`] encodes JSON integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Integers {
    /// Int32 when the value fits, otherwise int64 (what the PowerSync service writes).
    #[default]
    Smallest,
    /// Always int64.
    Int64,
}

impl Value {
    /// Generic binary data (subtype 0).
    pub fn binary(bytes: impl Into<Vec<u8>>) -> Self {
        Self::Binary {
            subtype: 0,
            bytes: bytes.into(),
        }
    }

    /// An array from anything convertible into values.
    pub fn array<T: Into<Value>>(items: impl IntoIterator<Item = T>) -> Self {
        Self::Array(items.into_iter().map(Into::into).collect())
    }

    /// Converts JSON: null, booleans, strings, arrays and objects map to their BSON
    /// counterparts (object keys in the order of `serde_json::Map`: sorted, unless its
    /// `preserve_order` feature is on); integers follow `integers`, other numbers
    /// (and unsigned integers above `i64::MAX`) become doubles.
    pub fn from_json(json: &Json, integers: Integers) -> Self {
        match json {
            Json::Null => Self::Null,
            Json::Bool(b) => Self::Bool(*b),
            Json::Number(n) => match (n.as_i64(), integers) {
                (Some(i), Integers::Smallest) => i32::try_from(i).map_or(Self::Int64(i), Self::Int32),
                (Some(i), Integers::Int64) => Self::Int64(i),
                (None, _) => Self::Double(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => Self::String(s.clone()),
            Json::Array(items) => Self::Array(items.iter().map(|v| Self::from_json(v, integers)).collect()),
            Json::Object(map) => Self::Document(Document {
                entries: map
                    .iter()
                    .map(|(k, v)| (k.clone(), Self::from_json(v, integers)))
                    .collect(),
            }),
        }
    }

    /// The element type code.
    pub fn code(&self) -> u8 {
        match self {
            Self::Double(_) => 0x01,
            Self::String(_) => 0x02,
            Self::Document(_) => 0x03,
            Self::Array(_) => 0x04,
            Self::Binary { .. } => 0x05,
            Self::Bool(_) => 0x08,
            Self::Null => 0x0A,
            Self::Int32(_) => 0x10,
            Self::Int64(_) => 0x12,
            Self::Raw { code, .. } => *code,
        }
    }

    /// Appends the value's payload (what follows the element's key) to `out`.
    pub fn write_payload(&self, out: &mut Vec<u8>) {
        match self {
            Self::Double(d) => out.extend_from_slice(&d.to_le_bytes()),
            Self::String(s) => {
                out.extend_from_slice(&length(s.len() + 1).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
                out.push(0);
            }
            Self::Document(doc) => doc.write_to(out),
            Self::Array(items) => {
                write_document(items.iter().enumerate().map(|(i, v)| (Key::Index(i), v)), out)
            }
            Self::Binary { subtype, bytes } => {
                out.extend_from_slice(&length(bytes.len()).to_le_bytes());
                out.push(*subtype);
                out.extend_from_slice(bytes);
            }
            Self::Bool(b) => out.push(u8::from(*b)),
            Self::Null => {}
            Self::Int32(i) => out.extend_from_slice(&i.to_le_bytes()),
            Self::Int64(i) => out.extend_from_slice(&i.to_le_bytes()),
            Self::Raw { payload, .. } => out.extend_from_slice(payload),
        }
    }
}

/// A BSON document: elements in insertion order. Keys are not deduplicated (a document may
/// repeat one, which decoders must cope with).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    entries: Vec<(String, Value)>,
}

impl Document {
    /// An empty document.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an element (builder style).
    ///
    /// # Panics
    ///
    /// If `key` contains a NUL byte: BSON keys are C strings.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.insert(key, value);
        self
    }

    /// Appends an element.
    ///
    /// # Panics
    ///
    /// If `key` contains a NUL byte: BSON keys are C strings.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Value>) -> &mut Self {
        let key = key.into();
        assert!(!key.contains('\0'), "BSON keys cannot contain NUL: {key:?}");
        self.entries.push((key, value.into()));
        self
    }

    /// The elements, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the document has no elements.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Appends the encoded document (length, elements, terminator) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        write_document(self.entries.iter().map(|(k, v)| (Key::Name(k), v)), out);
    }

    /// The encoded document.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Document {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut doc = Document::new();
        for (k, v) in iter {
            doc.insert(k, v);
        }
        doc
    }
}

/// A key: a document's own name, or an array index written in decimal.
enum Key<'a> {
    Name(&'a str),
    Index(usize),
}

fn write_document<'v>(elements: impl Iterator<Item = (Key<'v>, &'v Value)>, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    for (key, value) in elements {
        out.push(value.code());
        match key {
            Key::Name(name) => out.extend_from_slice(name.as_bytes()),
            Key::Index(i) => out.extend_from_slice(i.to_string().as_bytes()),
        }
        out.push(0);
        value.write_payload(out);
    }
    out.push(0);
    let len = length(out.len() - start);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
}

/// A length prefix. BSON lengths are signed 32-bit; nothing larger can be encoded.
fn length(len: usize) -> i32 {
    i32::try_from(len).expect("BSON values are smaller than 2 GiB")
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::String(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::String(v)
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Self::Int32(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int64(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Self::Double(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

impl From<Document> for Value {
    fn from(v: Document) -> Self {
        Self::Document(v)
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Self::Array(v)
    }
}

/// `None` is null.
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line::{parse_binary, parse_text, SyncLine};
    use serde_json::json;

    #[test]
    fn every_value_type_has_the_spec_layout() {
        let doc = Document::new()
            .with("d", 1.5)
            .with("s", "hé")
            .with("o", Document::new().with("i", 1))
            .with("a", Value::array([true, false]))
            .with("b", Value::binary(vec![0xAB, 0xCD]))
            .with("n", Value::Null)
            .with("i", 7)
            .with("l", -2i64);
        let mut expected = vec![];
        expected.extend([0x01, b'd', 0]);
        expected.extend(1.5f64.to_le_bytes());
        expected.extend([0x02, b's', 0, 4, 0, 0, 0, b'h', 0xC3, 0xA9, 0]);
        expected.extend([0x03, b'o', 0, 12, 0, 0, 0, 0x10, b'i', 0, 1, 0, 0, 0, 0]);
        expected.extend([0x04, b'a', 0, 13, 0, 0, 0, 0x08, b'0', 0, 1, 0x08, b'1', 0, 0, 0]);
        expected.extend([0x05, b'b', 0, 2, 0, 0, 0, 0, 0xAB, 0xCD]);
        expected.extend([0x0A, b'n', 0]);
        expected.extend([0x10, b'i', 0, 7, 0, 0, 0]);
        expected.extend([0x12, b'l', 0]);
        expected.extend((-2i64).to_le_bytes());
        expected.push(0);
        let mut framed = ((expected.len() + 4) as i32).to_le_bytes().to_vec();
        framed.extend(expected);
        assert_eq!(doc.to_bytes(), framed);
    }

    #[test]
    fn empty_document_is_five_bytes() {
        assert_eq!(Document::new().to_bytes(), [5, 0, 0, 0, 0]);
        assert!(Document::new().is_empty());
    }

    #[test]
    fn json_integers_follow_the_policy() {
        let json = json!({"small": 1, "big": 1i64 << 40, "f": 0.5, "huge": u64::MAX});
        let Value::Document(doc) = Value::from_json(&json, Integers::Smallest) else {
            panic!("not a document")
        };
        let values: Vec<(&str, &Value)> = doc.iter().collect();
        assert_eq!(
            values,
            [
                ("big", &Value::Int64(1 << 40)),
                ("f", &Value::Double(0.5)),
                ("huge", &Value::Double(u64::MAX as f64)),
                ("small", &Value::Int32(1)),
            ]
        );
        let Value::Document(doc) = Value::from_json(&json, Integers::Int64) else {
            panic!("not a document")
        };
        assert_eq!(doc.iter().last(), Some(("small", &Value::Int64(1))));
    }

    #[test]
    fn encoded_lines_decode_like_their_json() {
        let lines = [
            json!({"checkpoint": {"last_op_id": "10", "write_checkpoint": null, "buckets": [
                {"bucket": "a", "checksum": -5, "priority": 3, "count": 2}]}}),
            json!({"data": {"bucket": "a", "has_more": false, "after": null, "next_after": "10",
                "data": [{"op_id": "1", "op": "PUT", "object_type": "items", "object_id": "x",
                          "checksum": 4294967295u64, "data": "{\"col\":\"v\"}", "subkey": null}]}}),
            json!({"checkpoint_complete": {"last_op_id": "10"}}),
            json!({"token_expires_in": 60}),
        ];
        for json in lines {
            let text = json.to_string();
            let Value::Document(doc) = Value::from_json(&json, Integers::Smallest) else {
                panic!("not a document")
            };
            let bytes = doc.to_bytes();
            let expected: SyncLine<'_> = parse_text(&text).unwrap();
            assert_eq!(parse_binary(&bytes).unwrap(), expected, "{text}");
        }
    }

    #[test]
    fn binary_and_raw_elements() {
        let doc = Document::new()
            .with(
                "x",
                Value::Binary {
                    subtype: 4,
                    bytes: vec![1; 16],
                },
            )
            .with(
                "r",
                Value::Raw {
                    code: 0x13,
                    payload: vec![9, 9],
                },
            );
        let bytes = doc.to_bytes();
        assert_eq!(&bytes[4..12], &[0x05, b'x', 0, 16, 0, 0, 0, 4]);
        assert_eq!(&bytes[bytes.len() - 6..], &[0x13, b'r', 0, 9, 9, 0]);
        // An unknown element code is rejected by the decoder.
        let line = Document::new().with("checkpoint", doc).to_bytes();
        assert!(parse_binary(&line).is_err());
    }

    #[test]
    fn collected_documents_keep_order_and_repeats() {
        let doc: Document = [("k", 1), ("k", 2)].into_iter().collect();
        assert_eq!(doc.len(), 2);
        assert_eq!(
            doc.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
            [Value::Int32(1), Value::Int32(2)]
        );
    }

    #[test]
    #[should_panic(expected = "NUL")]
    fn nul_in_a_key_panics() {
        Document::new().with("a\0b", 1);
    }
}
