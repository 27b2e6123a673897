//! `powersync_remove_duplicate_key_encoding(key)`: repairs oplog keys that old JS SDKs wrote
//! as `<type>/<id>/"<subkey as JSON string>"` (docs/sql-surface.md#key-encoding-repair).

use crate::error::{PowerSyncError, Result};
use crate::sql_fn::{self, Output, DETERMINISTIC};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

/// Where the backwards scan for the subkey's opening quote stands.
enum Scan {
    /// Nothing interesting seen yet (or an escaped quote was just ruled out).
    Searching,
    /// A quote at this byte offset, possibly the opening one.
    Quote(usize),
    /// A quote at this offset preceded by one backslash: escaped, unless another backslash
    /// precedes.
    BackslashQuote(usize),
}

/// The repaired key, or `None` if `key` does not end in a JSON-encoded subkey.
///
/// Scans backwards from before the final quote for the opening quote: a quote not preceded
/// by `\`, or one preceded by `\\`. The same states as the reference are used, including
/// that a `\"` pattern followed (backwards) by anything but `\` resets the scan without
/// looking at that character.
pub(crate) fn remove_duplicate_key_encoding(key: &str) -> Option<String> {
    if !key.ends_with('"') {
        return None;
    }
    let mut chars = key.char_indices();
    chars.next_back()?;
    let mut state = Scan::Searching;
    let start = loop {
        let (i, c) = chars.next_back()?;
        state = match state {
            Scan::Quote(q) if c == '\\' => Scan::BackslashQuote(q),
            Scan::Quote(q) => break q,
            Scan::BackslashQuote(q) if c == '\\' => break q,
            Scan::BackslashQuote(_) => Scan::Searching,
            Scan::Searching if c == '"' => Scan::Quote(i),
            Scan::Searching => Scan::Searching,
        };
    };
    let subkey: String = serde_json::from_str(&key[start..]).ok()?;
    Some(format!("{}{}", &key[..start], subkey))
}

/// Registers `powersync_remove_duplicate_key_encoding` (DETERMINISTIC).
pub(crate) fn register(conn: &Connection) -> Result<()> {
    sql_fn::register(
        conn,
        "powersync_remove_duplicate_key_encoding",
        1,
        DETERMINISTIC,
        |call| {
            if !matches!(call.arg(0), ValueRef::Text(_)) {
                return Err(PowerSyncError::argument("Expected a text argument"));
            }
            Ok(match remove_duplicate_key_encoding(&call.text_lossy(0)) {
                Some(key) => Output::Text(key),
                None => Output::Null,
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::remove_duplicate_key_encoding as fix;

    #[test]
    fn spec_table() {
        assert_eq!(fix(r#"foo/bar/"baz""#).as_deref(), Some("foo/bar/baz"));
        assert_eq!(fix("foo/bar/baz"), None);
        assert_eq!(
            fix(r#"foo/bar/"escaped\"key""#).as_deref(),
            Some(r#"foo/bar/escaped"key"#)
        );
        assert_eq!(
            fix(r#"foo/bar/"/\\"subkey""#).as_deref(),
            Some(r#"foo/bar/"/\\subkey"#)
        );
        assert_eq!(fix(r#"a/b/"x\u0041""#).as_deref(), Some("a/b/xA"));
        assert_eq!(fix(r#"a/b/"bad json\q""#), None);
        for none in [r#""key""#, r#"x""#, r#"""#, ""] {
            assert_eq!(fix(none), None, "{none}");
        }
    }
}
