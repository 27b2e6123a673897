//! SQL text building blocks shared by view, trigger and index generation (see
//! docs/sql-surface.md#sql-fragments). Every byte matters: existing views and triggers are compared
//! textually with freshly generated ones.

use crate::error::{PowerSyncError, Result, SqlResultExt};
use rusqlite::Connection;
use std::fmt::Write;

/// Columns per `json_object(...)` call: SQLite's default limit is 100 function arguments.
const MAX_COLUMNS_PER_OBJECT: usize = 50;
/// Largest column count the reference accepts in one JSON fragment.
const MAX_FRAGMENT_COLUMNS: usize = 1999;

/// `"name"` with embedded `"` doubled.
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'` with embedded `'` doubled.
pub(crate) fn quote_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The JSON path literal of a column: `'$.name'` (no escaping of `.` or `[`, as in the
/// reference).
pub(super) fn quote_json_path(column: &str) -> String {
    quote_string(&format!("$.{column}"))
}

/// `CAST(json_extract(data, '$.c') as type)`.
pub(super) fn extract_column(column: &str, type_name: &str) -> String {
    format!(
        "CAST(json_extract(data, {}) as {type_name})",
        quote_json_path(column)
    )
}

/// `json_object('c1', powersync_strip_subtype(P."c1"), ...)` over `columns`, split into
/// `powersync_json_merge(json_object(..50 columns..), ...)` above 50 columns.
pub(super) fn json_object_fragment<'a>(
    prefix: &str,
    columns: impl ExactSizeIterator<Item = &'a str>,
) -> Result<String> {
    let count = columns.len();
    if count > MAX_FRAGMENT_COLUMNS {
        return Err(PowerSyncError::argument(
            "too many parameters to json_object_fragment",
        ));
    }
    let chunked = count > MAX_COLUMNS_PER_OBJECT;
    let mut out = String::new();
    if chunked {
        out.push_str("powersync_json_merge(");
    }
    out.push_str("json_object(");
    for (i, column) in columns.enumerate() {
        if i > 0 {
            if i % MAX_COLUMNS_PER_OBJECT == 0 {
                out.push_str("), json_object(");
            } else {
                out.push_str(", ");
            }
        }
        let _ = write!(
            out,
            "{}, powersync_strip_subtype({prefix}.{})",
            quote_string(column),
            quote_identifier(column)
        );
    }
    out.push(')');
    if chunked {
        out.push(')');
    }
    Ok(out)
}

/// `SELECT CASE ... RAISE (FAIL, 'id is required') ...` for inserts into synced views.
pub(super) const ID_CHECK: &str = "SELECT CASE WHEN (NEW.id IS NULL) THEN RAISE (FAIL, 'id is required') WHEN (typeof(NEW.id) != 'text') THEN RAISE (FAIL, 'id should be text') END;\n";

/// Rejects updates that change the id (INSTEAD OF triggers of views: nothing was written
/// yet, so `FAIL` suffices).
pub(super) const ID_UNCHANGED_CHECK: &str =
    "SELECT CASE WHEN (OLD.id != NEW.id) THEN RAISE (FAIL, 'Cannot update id') END;\n";

/// Rejects updates that change the id in AFTER triggers (raw and direct tables): `ABORT`
/// also reverts the row change that already happened, and the statement's earlier rows.
pub(super) const ID_UNCHANGED_CHECK_ABORT: &str =
    "SELECT CASE WHEN (OLD.id != NEW.id) THEN RAISE (ABORT, 'Cannot update id') END;\n";

/// One `INSERT INTO powersync_crud(...)` line; optional columns are added in the fixed
/// order `data, old_values, metadata, options`.
pub(super) struct CrudInsert<'a> {
    /// `PUT`, `PATCH` or `DELETE`.
    pub op: &'a str,
    /// `NEW.id` or `OLD.id`.
    pub id: &'a str,
    /// The CRUD `type` (table name, not view name).
    pub type_name: &'a str,
    /// Expression for `data`.
    pub data: Option<String>,
    /// Expression for `old_values`.
    pub old_values: Option<String>,
    /// Expression for `metadata`.
    pub metadata: Option<&'a str>,
    /// Flag integer for `options`.
    pub options: Option<u32>,
}

impl CrudInsert<'_> {
    /// The statement, ending with `;\n`.
    pub(super) fn sql(&self) -> String {
        let mut columns = String::from("op,id,type");
        let mut values = format!("'{}', {}, {}", self.op, self.id, quote_string(self.type_name));
        let mut add = |column: &str, value: &str| {
            columns.push(',');
            columns.push_str(column);
            values.push_str(", ");
            values.push_str(value);
        };
        if let Some(data) = &self.data {
            add("data", data);
        }
        if let Some(old) = &self.old_values {
            add("old_values", old);
        }
        if let Some(metadata) = self.metadata {
            add("metadata", metadata);
        }
        if let Some(options) = self.options {
            add("options", &options.to_string());
        }
        format!("INSERT INTO powersync_crud({columns}) VALUES ({values});\n")
    }
}

/// Runs one or more statements like `sqlite3_exec`, reporting failures with the SQL text.
pub(super) fn exec(conn: &Connection, sql: &str) -> Result<()> {
    // The reference converts statements to C strings first and fails on embedded NULs.
    if let Some(position) = sql.find('\0') {
        return Err(PowerSyncError::NulInString(position));
    }
    conn.execute_batch(sql).sql_context(sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_identifier("we\"ird'name"), "\"we\"\"ird'name\"");
        assert_eq!(quote_string("we\"ird'name"), "'we\"ird''name'");
        assert_eq!(quote_json_path("co\"l'x"), "'$.co\"l''x'");
    }

    #[test]
    fn fragments() {
        assert_eq!(
            json_object_fragment("NEW", std::iter::empty()).unwrap(),
            "json_object()"
        );
        assert_eq!(
            json_object_fragment("OLD", ["a", "b"].into_iter()).unwrap(),
            "json_object('a', powersync_strip_subtype(OLD.\"a\"), 'b', powersync_strip_subtype(OLD.\"b\"))"
        );
        let names: Vec<String> = (0..101).map(|i| format!("c{i}")).collect();
        let count_objects = |n: usize| {
            let f = json_object_fragment("NEW", names[..n].iter().map(|s| s.as_str())).unwrap();
            (
                f.matches("json_object(").count(),
                f.starts_with("powersync_json_merge("),
            )
        };
        assert_eq!(count_objects(50), (1, false));
        assert_eq!(count_objects(51), (2, true));
        assert_eq!(count_objects(100), (2, true));
        assert_eq!(count_objects(101), (3, true));
        let f = json_object_fragment("NEW", names[..51].iter().map(|s| s.as_str())).unwrap();
        assert!(f.ends_with(
            "'c49', powersync_strip_subtype(NEW.\"c49\")), json_object('c50', powersync_strip_subtype(NEW.\"c50\")))"
        ));
        let many: Vec<String> = (0..2000).map(|i| format!("c{i}")).collect();
        assert!(json_object_fragment("NEW", many[..1999].iter().map(|s| s.as_str())).is_ok());
        assert_eq!(
            json_object_fragment("NEW", many.iter().map(|s| s.as_str()))
                .unwrap_err()
                .to_string(),
            "invalid argument: too many parameters to json_object_fragment. cause: unknown"
        );
    }
}
