//! `powersync_diff(old, new)`: the changed columns of a row as a JSON object (docs/sql-surface.md#powersync_diff).
//!
//! The output is what gets uploaded for PUT/PATCH operations, so its format is part of the
//! contract: keys sorted, compact, numbers formatted by serde_json exactly as the reference
//! (which also uses serde_json) formats them.

use crate::error::{PowerSyncError, Result};
use crate::sql_fn::{self, Call, Output, OwnedText, DETERMINISTIC, RESULT_SUBTYPE};
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Computes the diff of two JSON object texts. `new` is parsed first, so when both are
/// malformed the error names the problem in `new` (as the reference does).
///
/// Keys with `null` values are dropped from both sides. If `old` is then empty, the result
/// is `new`; otherwise keys missing from `new` are added as `null` and keys whose value is
/// unchanged are removed.
pub(crate) fn diff_objects(old: &str, new: &str) -> Result<String> {
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

/// Top-level fields of a JSON object, values left as raw text (sorted keys, last duplicate
/// wins, as in `serde_json::Map`). `None` for anything that is not a well-formed object.
fn raw_fields(text: &str) -> Option<BTreeMap<String, &RawValue>> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let mut fields: BTreeMap<String, &RawValue> = serde_json::from_str(text).ok()?;
    // Raw values are only checked for syntax: anything but a plain string is parsed once so
    // that what `Value` rejects (e.g. `1e400`, lone surrogates) goes to the slow path and
    // its exact error.
    for raw in fields.values() {
        if !is_plain_string(raw) {
            serde_json::from_str::<Value>(raw.get()).ok()?;
        }
    }
    fields.retain(|_, v| v.get().trim() != "null");
    Some(fields)
}

/// A JSON string without escapes: its raw text is what serde_json would write for it.
fn is_plain_string(raw: &RawValue) -> bool {
    let text = raw.get().trim();
    text.starts_with('"') && !text.contains('\\')
}

/// Whether two raw values are equal as [`Value`]s (`1.0` and `1.00` are, `1` and `1.0` are not).
fn raw_equal(a: &RawValue, b: &RawValue) -> Option<bool> {
    if a.get() == b.get() {
        return Some(true);
    }
    let a: Value = serde_json::from_str(a.get()).ok()?;
    let b: Value = serde_json::from_str(b.get()).ok()?;
    Some(a == b)
}

/// Appends a raw value as serde_json would serialize its parsed form. A string without
/// escapes is already in that form (serde_json only escapes `"`, `\\` and control characters,
/// none of which can appear raw in a JSON string), so it is copied as is: for a large text
/// column this avoids parsing it into a `String` and formatting it again.
fn write_value(out: &mut OwnedText, raw: &RawValue) -> Option<()> {
    let text = raw.get().trim();
    if is_plain_string(raw) {
        out.extend(text.as_bytes());
    } else {
        let value: Value = serde_json::from_str(text).ok()?;
        serde_json::to_writer(&mut *out, &value).ok()?;
    }
    Some(())
}

/// [`diff_objects`] without building the rows as [`Value`]s: fields stay borrowed raw text and
/// the result is written straight into a buffer SQLite takes over. A row written through a
/// view passes through here whole, so for large rows this is most of the memory a local
/// write needs: a 50 MB field costs one output buffer instead of a parsed copy, a formatted
/// copy and SQLite's copy of the result.
/// Returns `None` (nothing useful written) when the slow path must decide, e.g. on errors,
/// whose exact messages come from [`diff_objects`].
fn diff_into(old: &str, new: &str, out: &mut OwnedText) -> Option<()> {
    let new = raw_fields(new)?;
    let old = raw_fields(old)?;
    let mut merged: BTreeMap<&str, Option<&RawValue>> = BTreeMap::new();
    if old.is_empty() {
        merged.extend(new.iter().map(|(k, v)| (k.as_str(), Some(*v))));
    } else {
        for key in old.keys() {
            if !new.contains_key(key) {
                merged.insert(key, None);
            }
        }
        for (key, value) in &new {
            let unchanged = match old.get(key) {
                Some(before) => raw_equal(before, value)?,
                None => false,
            };
            if !unchanged {
                merged.insert(key, Some(*value));
            }
        }
    }
    out.extend(b"{");
    for (i, (key, value)) in merged.into_iter().enumerate() {
        if i > 0 {
            out.extend(b",");
        }
        serde_json::to_writer(&mut *out, key).ok()?;
        out.extend(b":");
        match value {
            Some(v) => write_value(out, v)?,
            None => out.extend(b"null"),
        }
    }
    out.extend(b"}");
    Some(())
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
pub(crate) fn register(conn: &Connection) -> Result<()> {
    sql_fn::register(
        conn,
        "powersync_diff",
        2,
        DETERMINISTIC | RESULT_SUBTYPE,
        |call| {
            let (old, old_raw) = text_arg(call, 0)?;
            let (new, new_raw) = text_arg(call, 1)?;
            if old_raw || new_raw {
                let bytes = restore_raw_bytes(diff_objects(&old, &new)?);
                let mut out = OwnedText::with_capacity(bytes.len());
                out.extend(&bytes);
                return Ok(Output::OwnedText(out));
            }
            let mut out = OwnedText::with_capacity(new.len() + old.len() + 16);
            match diff_into(&old, &new, &mut out) {
                Some(()) => Ok(Output::OwnedText(out)),
                None => Ok(Output::Text(diff_objects(&old, &new)?)),
            }
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

    /// The borrowed fast path gives exactly what the `Value`-based definition gives, or
    /// declines.
    #[test]
    fn fast_path_agrees_with_the_definition() {
        let cases = [
            ("{}", r#"{"name":"abc","x":null}"#),
            (
                "{}",
                r#"{"b":"x\"y","a":1e2,"c":[{"z":1,"a":2}],"d":{"y":1,"b":2}}"#,
            ),
            (r#"{"a":1.00,"b":"s","c":null}"#, r#"{"a":1.0,"b":"t","d":true}"#),
            (r#"{"a":"\u0041"}"#, r#"{"a":"A"}"#),
            (r#"{"a":1,"a":2}"#, r#"{"a":1}"#),
            ("{}", r#"{"k\n":"v\t","é":"ü"}"#),
            (r#"{"x":[1,2]}"#, r#"{"x":[1,2.0]}"#),
        ];
        for (old, new) in cases {
            let mut out = crate::sql_fn::OwnedText::with_capacity(0);
            let want = diff_objects(old, new).unwrap();
            if super::diff_into(old, new, &mut out).is_some() {
                assert_eq!(std::str::from_utf8(out.as_bytes()).unwrap(), want, "{old} {new}");
            }
        }
        let mut out = crate::sql_fn::OwnedText::with_capacity(0);
        assert_eq!(super::diff_into("{}", "[]", &mut out), None);
        assert_eq!(super::diff_into("{}", "{", &mut out), None);
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
