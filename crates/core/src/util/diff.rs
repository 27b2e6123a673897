//! `powersync_diff(old, new)`: the changed columns of a row as a JSON object (spec §10.2).
//!
//! The output is what gets uploaded for PUT/PATCH operations, so its format is part of the
//! contract: keys sorted, compact, numbers formatted by serde_json exactly as the reference
//! (which also uses serde_json) formats them.

use crate::error::{PowerSyncError, Result};
use crate::sql_fn::{self, Call, Output, DETERMINISTIC, RESULT_SUBTYPE};
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use serde_json::Value;
use std::borrow::Cow;

/// Computes the diff of two JSON object texts. `new` is parsed first, so when both are
/// malformed the error names the problem in `new` (as the reference does).
///
/// Keys with `null` values are dropped from both sides. If `old` is then empty, the result
/// is `new`; otherwise keys missing from `new` are added as `null` and keys whose value is
/// unchanged are removed.
pub fn diff_objects(old: &str, new: &str) -> Result<String> {
    let new: Value = serde_json::from_str(new).map_err(PowerSyncError::json_argument)?;
    let old: Value = serde_json::from_str(old).map_err(PowerSyncError::json_argument)?;
    let (Value::Object(mut new), Value::Object(mut old)) = (new, old) else {
        return Err(PowerSyncError::argument("expected two JSON objects"));
    };
    old.retain(|_, v| !v.is_null());
    new.retain(|_, v| !v.is_null());
    if !old.is_empty() {
        for key in old.keys() {
            if !new.contains_key(key) {
                new.insert(key.clone(), Value::Null);
            }
        }
        new.retain(|key, value| old.get(key) != Some(value));
    }
    Ok(Value::Object(new).to_string())
}

/// Invalid UTF-8 bytes (always 0x80..=0xFF) stand in for themselves as these characters
/// while the JSON is parsed and diffed, and are turned back into the raw bytes in the result.
const RAW_BYTE_BASE: u32 = 0x10FF00;

/// Text that may not be valid UTF-8, as `&str`: borrowed when valid, else with every invalid
/// byte mapped to a stand-in character (`RAW_BYTE_BASE + byte`).
///
/// The reference diffs SQLite text without checking it, so a row holding invalid UTF-8 is
/// queued with the same bytes. serde_json needs valid UTF-8; the stand-ins keep the bytes
/// distinct through the diff (an update from 0xFF to 0xFE must not become an empty PATCH, and
/// U+FFFD would upload something other than what the row holds). Text that already contains
/// a stand-in character is refused, since it could not be told apart.
fn lossless_str<'a>(bytes: &'a [u8], which: &str) -> Result<(Cow<'a, str>, bool)> {
    let invalid = match std::str::from_utf8(bytes) {
        Ok(s) => return Ok((Cow::Borrowed(s), false)),
        Err(e) => e,
    };
    let mut out = String::with_capacity(bytes.len() + 16);
    let mut rest = bytes;
    let mut next = Some(invalid);
    loop {
        let Some(err) = next else {
            // `rest` was validated by the from_utf8 call that found no error.
            out.push_str(std::str::from_utf8(rest).expect("validated"));
            break;
        };
        let valid = &rest[..err.valid_up_to()];
        out.push_str(std::str::from_utf8(valid).expect("valid prefix"));
        let bad = err.error_len().unwrap_or(rest.len() - valid.len());
        for &b in &rest[valid.len()..valid.len() + bad] {
            out.push(char::from_u32(RAW_BYTE_BASE + u32::from(b)).expect("plane 16 code point"));
        }
        rest = &rest[valid.len() + bad..];
        next = std::str::from_utf8(rest).err();
    }
    if contains_stand_in(bytes) {
        return Err(PowerSyncError::argument(format!(
            "the {which} row data mixes invalid UTF-8 with characters U+10FF80..U+10FFFF, which \
             PowerSync cannot queue for upload unchanged"
        )));
    }
    Ok((Cow::Owned(out), true))
}

/// Whether valid parts of `bytes` contain a stand-in character (UTF-8 `F4 8F BE/BF xx`).
fn contains_stand_in(bytes: &[u8]) -> bool {
    bytes
        .windows(3)
        .any(|w| w[0] == 0xF4 && w[1] == 0x8F && (w[2] == 0xBE || w[2] == 0xBF))
}

/// Turns stand-in characters back into the raw bytes they replaced.
fn restore_raw_bytes(text: String) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match u32::from(c).checked_sub(RAW_BYTE_BASE) {
            Some(b @ 0x80..=0xFF) => out.push(b as u8),
            _ => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out
}

/// Argument `i` as `sqlite3_value_text` would give it (NULL → empty), borrowed when it is
/// valid UTF-8 text (this runs for every row written through a view), and whether it held
/// invalid bytes.
fn text_arg<'a>(call: &'a Call<'_>, i: usize) -> Result<(Cow<'a, str>, bool)> {
    let which = if i == 0 { "old" } else { "new" };
    match call.arg(i) {
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => lossless_str(bytes, which),
        ValueRef::Null => Ok((Cow::Borrowed(""), false)),
        _ => Ok((Cow::Owned(call.text_lossy(i)), false)),
    }
}

/// Registers `powersync_diff` (DETERMINISTIC, RESULT_SUBTYPE). The result carries no JSON
/// subtype: the reference sets the subtype before the text, which clears it again, and
/// generated triggers always wrap the call in `json(...)`, so we keep that observable effect.
pub fn register(conn: &Connection) -> Result<()> {
    sql_fn::register(
        conn,
        "powersync_diff",
        2,
        DETERMINISTIC | RESULT_SUBTYPE,
        |call| {
            let (old, old_raw) = text_arg(call, 0)?;
            let (new, new_raw) = text_arg(call, 1)?;
            let diff = diff_objects(&old, &new)?;
            Ok(if old_raw || new_raw {
                Output::TextBytes(restore_raw_bytes(diff))
            } else {
                Output::Text(diff)
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::diff_objects;

    #[test]
    fn spec_examples() {
        let cases = [
            ("{}", r#"{"test":1}"#, r#"{"test":1}"#),
            (r#"{"test":1}"#, "{}", r#"{"test":null}"#),
            (r#"{"a":1}"#, r#"{"a":1.0}"#, r#"{"a":1.0}"#),
            (r#"{"a":1.00}"#, r#"{"a":1.0}"#, "{}"),
            (
                r#"{"b":2,"a":1}"#,
                r#"{"z":1,"a":2,"c":3}"#,
                r#"{"a":2,"b":null,"c":3,"z":1}"#,
            ),
            (r#"{"a":0,"b":1}"#, r#"{"a":null,"b":2}"#, r#"{"a":null,"b":2}"#),
            (r#"{"a":"x"}"#, r#"{"a":"x","b":null}"#, "{}"),
        ];
        for (old, new, want) in cases {
            assert_eq!(diff_objects(old, new).unwrap(), want, "{old} {new}");
        }
    }

    #[test]
    fn errors() {
        assert_eq!(
            diff_objects("{}", "[]").unwrap_err().to_string(),
            "invalid argument: expected two JSON objects. cause: unknown"
        );
        assert_eq!(
            diff_objects("{}", "").unwrap_err().to_string(),
            "invalid argument: . cause: EOF while parsing a value at line 1 column 0"
        );
    }
}
