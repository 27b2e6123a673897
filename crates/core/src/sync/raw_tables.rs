//! Tables the sync client writes rows into with statements rather than as JSON: raw tables
//! of the `start` schema (app-managed) and direct tables (PowerSync-managed typed tables).
//! Both are described as a [`RawTable`] with `put` / `delete` statements; this module binds
//! and runs those statements for one row.

use crate::error::{PowerSyncError, Result, SqlResultExt};
use crate::schema::{quote_identifier, Schema, Table, TableOptions};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::Connection;
use serde_json::Value;
use std::collections::BTreeMap;

pub(crate) use crate::schema::{
    PendingStatementSource as PendingStatement, PendingStatementValue as StatementParam, RawTable,
};

/// The tables of a `start` schema that receive synced rows through statements, one per type
/// (later definitions replace earlier ones, as in the reference): first the synced direct
/// tables, then the raw tables, so a raw table wins over a direct table of the same type.
/// Direct tables are only sync targets when listed here; they are not discovered from the
/// database.
pub(crate) fn sync_targets(schema: &Schema) -> Vec<RawTable> {
    let mut targets: BTreeMap<&str, RawTable> = BTreeMap::new();
    for table in schema.tables.iter().filter(|t| t.direct && !t.local_only()) {
        targets.insert(&table.name, direct_target(table));
    }
    for raw in &schema.raw_tables {
        targets.insert(&raw.name, raw.clone());
    }
    targets.into_values().collect()
}

/// A direct table as a statement target: upsert of the declared columns, delete by id.
pub(crate) fn direct_target(table: &Table) -> RawTable {
    let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    RawTable {
        name: table.name.clone(),
        put: Some(upsert_statement(&table.name, &columns)),
        delete: Some(delete_statement(&table.name)),
        clear: None,
        table_name: Some(table.name.clone()),
        synced_columns: None,
        options: TableOptions::default(),
    }
}

/// `INSERT INTO "t" (id, "a", "b") VALUES (?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET "a" =
/// ?2, "b" = ?3` (`DO NOTHING` without columns): writes synced columns only, keeping any
/// other columns of an existing row.
pub(crate) fn upsert_statement(table: &str, columns: &[&str]) -> PendingStatement {
    let mut names = String::from("id");
    let mut values = String::from("?1");
    let mut sets = Vec::new();
    let mut params = vec![StatementParam::Id];
    for (i, c) in columns.iter().enumerate() {
        names.push_str(", ");
        names.push_str(&quote_identifier(c));
        values.push_str(&format!(", ?{}", i + 2));
        sets.push(format!("{} = ?{}", quote_identifier(c), i + 2));
        params.push(StatementParam::Column(c.to_string()));
    }
    let t = quote_identifier(table);
    let sql = if sets.is_empty() {
        format!("INSERT INTO {t} ({names}) VALUES ({values}) ON CONFLICT (id) DO NOTHING")
    } else {
        format!(
            "INSERT INTO {t} ({names}) VALUES ({values}) ON CONFLICT (id) DO UPDATE SET {}",
            sets.join(", ")
        )
    };
    PendingStatement { sql, params }
}

/// `DELETE FROM "t" WHERE id = ?`.
pub(crate) fn delete_statement(table: &str) -> PendingStatement {
    PendingStatement {
        sql: format!("DELETE FROM {} WHERE id = ?", quote_identifier(table)),
        params: vec![StatementParam::Id],
    }
}

/// Prepares `statement`, checking that it has one placeholder per parameter source.
pub(crate) fn prepare<'c>(
    conn: &'c Connection,
    statement: &PendingStatement,
) -> Result<rusqlite::CachedStatement<'c>> {
    let stmt = conn.prepare_cached(&statement.sql).sql_context(&statement.sql)?;
    let n = stmt.parameter_count();
    if n != statement.params.len() {
        return Err(PowerSyncError::argument(format!(
            "Statement {} has {n} parameters, but {} values were provided as sources.",
            statement.sql,
            statement.params.len()
        )));
    }
    Ok(stmt)
}

/// Parses row data that statements take columns from: it must be a JSON object.
pub(crate) fn parse_object(data: &str) -> Result<serde_json::Map<String, Value>> {
    let parsed: Value = serde_json::from_str(data).map_err(|e| PowerSyncError::LocalData(e.to_string()))?;
    match parsed {
        Value::Object(object) => Ok(object),
        _ => Err(PowerSyncError::argument("expected oplog data to be an object")),
    }
}

/// A JSON value as a statement parameter: strings as TEXT, numbers that fit an i64 as
/// INTEGER and other numbers as REAL, booleans as 1/0, anything else (null, arrays,
/// objects, missing) as NULL.
fn column_value(value: Option<&Value>) -> ValueRef<'_> {
    match value {
        Some(Value::String(s)) => ValueRef::Text(s.as_bytes()),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => ValueRef::Integer(i),
            None => n.as_f64().map_or(ValueRef::Null, ValueRef::Real),
        },
        Some(Value::Bool(b)) => ValueRef::Integer(*b as i64),
        _ => ValueRef::Null,
    }
}

/// Runs the put `statement` for one row of type `type_name`. The data is only parsed when a
/// parameter needs a column of it (`Column`, `Rest`); `Id` and `Row` bind text as is.
pub(crate) fn put_row(
    conn: &Connection,
    statement: &PendingStatement,
    type_name: &str,
    id: &str,
    data: &str,
) -> Result<()> {
    put_parsed_row(conn, statement, type_name, id, data, None)
}

/// [`put_row`] with the data already parsed by the caller (`object`), if it was.
pub(crate) fn put_parsed_row(
    conn: &Connection,
    statement: &PendingStatement,
    type_name: &str,
    id: &str,
    data: &str,
    object: Option<serde_json::Map<String, Value>>,
) -> Result<()> {
    let mut stmt = prepare(conn, statement)?;
    let object = match object {
        Some(object) => Some(object),
        None if statement.params.iter().any(StatementParam::needs_parsed_data) => Some(parse_object(data)?),
        None => None,
    };
    let mut rest: Option<Option<String>> = None;
    for (i, p) in statement.params.iter().enumerate() {
        let value = match p {
            StatementParam::Id => ValueRef::Text(id.as_bytes()),
            StatementParam::Row => ValueRef::Text(data.as_bytes()),
            StatementParam::Column(c) => column_value(object.as_ref().and_then(|o| o.get(c))),
            StatementParam::Rest => {
                let rest = rest.get_or_insert_with(|| rest_object(statement, object.as_ref()));
                rest.as_deref()
                    .map_or(ValueRef::Null, |r| ValueRef::Text(r.as_bytes()))
            }
        };
        stmt.raw_bind_parameter(i + 1, ToSqlOutput::Borrowed(value))
            .sql_context(&statement.sql)?;
    }
    stmt.raw_execute()
        .map_err(|e| {
            PowerSyncError::sqlite(statement.sql.clone(), e)
                .with_context(format!("replacing into {type_name}, id = {id}, data = {data}"))
        })
        .map(drop)
}

/// The keys of `object` that no `Id` / `Column` parameter takes, as a JSON object with
/// sorted keys; `None` when there are none.
fn rest_object(
    statement: &PendingStatement,
    object: Option<&serde_json::Map<String, Value>>,
) -> Option<String> {
    let uses_id = statement.params.contains(&StatementParam::Id);
    let referenced = |k: &str| {
        (uses_id && k == "id")
            || statement
                .params
                .iter()
                .any(|p| matches!(p, StatementParam::Column(c) if c == k))
    };
    let rest: BTreeMap<&String, &Value> = object?.iter().filter(|(k, _)| !referenced(k.as_str())).collect();
    (!rest.is_empty()).then(|| serde_json::to_string(&rest).expect("JSON values serialise"))
}

/// Runs the delete `statement` for one row, whose parameters may only be `Id`.
pub(crate) fn delete_row(
    conn: &Connection,
    statement: &PendingStatement,
    type_name: &str,
    id: &str,
) -> Result<()> {
    let mut stmt = prepare(conn, statement)?;
    if statement.params.iter().any(|p| *p != StatementParam::Id) {
        return Err(PowerSyncError::argument(
            "Raw delete statement parameters must only reference id",
        ));
    }
    for i in 0..statement.params.len() {
        stmt.raw_bind_parameter(i + 1, id).sql_context(&statement.sql)?;
    }
    stmt.raw_execute()
        .map_err(|e| {
            PowerSyncError::sqlite(statement.sql.clone(), e)
                .with_context(format!("deleting from {type_name}, id = {id}"))
        })
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_texts() {
        assert_eq!(
            upsert_statement("users", &["name", "a\"ge"]).sql,
            r#"INSERT INTO "users" (id, "name", "a""ge") VALUES (?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET "name" = ?2, "a""ge" = ?3"#
        );
        assert_eq!(
            upsert_statement("t", &[]).sql,
            r#"INSERT INTO "t" (id) VALUES (?1) ON CONFLICT (id) DO NOTHING"#
        );
        assert_eq!(delete_statement("t").sql, r#"DELETE FROM "t" WHERE id = ?"#);
    }

    #[test]
    fn numbers_bind_as_integers_when_they_fit() {
        let v: Value = serde_json::from_str(
            "[3, -9223372036854775808, 1.0, 1e2, 18446744073709551615, 9007199254740993]",
        )
        .unwrap();
        let bound: Vec<ValueRef<'_>> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| column_value(Some(x)))
            .collect();
        assert_eq!(bound[0], ValueRef::Integer(3));
        assert_eq!(bound[1], ValueRef::Integer(i64::MIN));
        assert_eq!(bound[2], ValueRef::Real(1.0));
        assert_eq!(bound[3], ValueRef::Real(100.0));
        assert_eq!(bound[4], ValueRef::Real(18446744073709551615.0));
        assert_eq!(bound[5], ValueRef::Integer(9007199254740993));
    }
}
