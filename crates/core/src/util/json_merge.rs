//! `powersync_json_merge(obj, ...)`: textual concatenation of JSON objects (docs/sql-surface.md#powersync_json_merge).
//!
//! Generated triggers use it to combine `json_object(...)` chunks of 50 columns each (SQLite
//! limits function arguments to 100). Like the reference it does not parse its arguments:
//! empty objects produce stray commas and invalid content passes through unchanged. NULL
//! arguments are skipped (a trigger merging the columns of a row may see NULL chunks).

use crate::error::{PowerSyncError, Result};
use crate::sql_fn::{self, Output, DETERMINISTIC, RESULT_SUBTYPE};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

/// Merges object texts: `{` + the inner texts joined by `,` + `}`.
pub(crate) fn merge<'a>(chunks: impl IntoIterator<Item = &'a str>) -> Result<String> {
    let mut result = String::from("{");
    for chunk in chunks {
        if !(chunk.starts_with('{') && chunk.ends_with('}')) || chunk.len() < 2 {
            return Err(PowerSyncError::argument("Expected json object"));
        }
        // Only separate from a previous chunk that contributed text, as the reference does.
        if result.len() > 1 {
            result.push(',');
        }
        result.push_str(&chunk[1..chunk.len() - 1]);
    }
    result.push('}');
    Ok(result)
}

/// Registers `powersync_json_merge` (variadic, DETERMINISTIC, RESULT_SUBTYPE; the result
/// has no JSON subtype, see `powersync_diff`).
pub(crate) fn register(conn: &Connection) -> Result<()> {
    sql_fn::register(
        conn,
        "powersync_json_merge",
        -1,
        DETERMINISTIC | RESULT_SUBTYPE,
        |call| {
            let texts: Vec<String> = (0..call.len())
                .filter(|&i| !matches!(call.arg(i), ValueRef::Null))
                .map(|i| call.text_lossy(i))
                .collect();
            Ok(Output::Text(merge(texts.iter().map(String::as_str))?))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::merge;

    #[test]
    fn quirks() {
        assert_eq!(merge([]).unwrap(), "{}");
        assert_eq!(
            merge([r#"{"a":1}"#, "{}", r#"{"b":2}"#]).unwrap(),
            r#"{"a":1,,"b":2}"#
        );
        assert_eq!(merge(["{}", r#"{"b":2}"#, "{}"]).unwrap(), r#"{"b":2,}"#);
        assert_eq!(merge(["{garbage}"]).unwrap(), "{garbage}");
        for bad in ["", "[]", " {}", "{", "}"] {
            assert!(merge([bad]).is_err(), "{bad:?}");
        }
    }
}
