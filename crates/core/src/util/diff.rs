//! `powersync_diff(old, new)`: the changed columns of a row as a JSON object (spec §10.2).
//!
//! The output is what gets uploaded for PUT/PATCH operations, so its format is part of the
//! contract: keys sorted, compact, numbers formatted by serde_json exactly as the reference
//! (which also uses serde_json) formats them.

use crate::error::{PowerSyncError, Result};
use crate::sql_fn::{self, Output, DETERMINISTIC, RESULT_SUBTYPE};
use rusqlite::Connection;
use serde_json::Value;

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
            let old = call.text_lossy(0);
            let new = call.text_lossy(1);
            Ok(Output::Text(diff_objects(&old, &new)?))
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
