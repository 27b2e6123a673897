//! Writing synced rows into raw tables (spec §6.8).

use crate::error::{PowerSyncError, Result, SqlResultExt};
use crate::sync::raw_tables::{PendingStatement, RawTable, StatementParam};
use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Statements inferred from `pragma_table_info` for raw tables without explicit ones,
/// re-inferred when `PRAGMA schema_version` changes.
#[derive(Debug, Default)]
pub struct RawTableCache {
    schema_version: Option<i64>,
    inferred: HashMap<String, (PendingStatement, PendingStatement)>,
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl RawTableCache {
    /// Drops inferred statements if the schema changed since they were built.
    pub fn refresh(&mut self, conn: &Connection) -> Result<()> {
        const SQL: &str = "PRAGMA schema_version";
        let v: i64 = conn
            .prepare_cached(SQL)
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .sql_context(SQL)?;
        if self.schema_version != Some(v) {
            self.inferred.clear();
            self.schema_version = Some(v);
        }
        Ok(())
    }

    fn inferred(
        &mut self,
        conn: &Connection,
        table: &RawTable,
    ) -> Result<&(PendingStatement, PendingStatement)> {
        if !self.inferred.contains_key(&table.name) {
            // Like the reference: statements are only inferred from an explicit local name.
            let Some(name) = table.table_name.as_deref() else {
                return Err(PowerSyncError::argument(format!(
                    "Raw table {} has no local name",
                    table.name
                )));
            };
            const SQL: &str = "SELECT name FROM pragma_table_info(?1) ORDER BY cid";
            let columns: Vec<String> = conn
                .prepare(SQL)
                .and_then(|mut s| {
                    s.query_map([name], |r| r.get(0))?
                        .collect::<rusqlite::Result<Vec<String>>>()
                })
                .sql_context(SQL)?;
            let synced: Vec<&String> = columns
                .iter()
                .filter(|c| c.as_str() != "id")
                .filter(|c| {
                    table
                        .synced_columns
                        .as_ref()
                        .is_none_or(|s| s.iter().any(|x| x == *c))
                })
                .collect();
            let t = quote(name);
            let mut cols = String::from("id");
            let mut values = String::from("?1");
            let mut sets = Vec::new();
            let mut params = vec![StatementParam::Id];
            for (i, c) in synced.iter().enumerate() {
                cols.push_str(", ");
                cols.push_str(&quote(c));
                values.push_str(&format!(", ?{}", i + 2));
                sets.push(format!("{} = ?{}", quote(c), i + 2));
                params.push(StatementParam::Column((*c).clone()));
            }
            let put_sql = if sets.is_empty() {
                format!("INSERT INTO {t} ({cols}) VALUES ({values}) ON CONFLICT (id) DO NOTHING")
            } else {
                format!(
                    "INSERT INTO {t} ({cols}) VALUES ({values}) ON CONFLICT (id) DO UPDATE SET {}",
                    sets.join(", ")
                )
            };
            let put = PendingStatement { sql: put_sql, params };
            let delete = PendingStatement {
                sql: format!("DELETE FROM {t} WHERE id = ?"),
                params: vec![StatementParam::Id],
            };
            self.inferred.insert(table.name.clone(), (put, delete));
        }
        Ok(&self.inferred[&table.name])
    }

    fn statement<'a>(
        &'a mut self,
        conn: &Connection,
        table: &'a RawTable,
        put: bool,
    ) -> Result<&'a PendingStatement> {
        let explicit = if put { &table.put } else { &table.delete };
        match explicit {
            Some(s) => Ok(s),
            None => {
                let (p, d) = self.inferred(conn, table)?;
                Ok(if put { p } else { d })
            }
        }
    }

    /// Inserts or replaces a row.
    pub fn put(&mut self, conn: &Connection, table: &RawTable, id: &str, data: &str) -> Result<()> {
        let statement = self.statement(conn, table, true)?;
        let parsed: Value =
            serde_json::from_str(data).map_err(|e| PowerSyncError::LocalData(e.to_string()))?;
        let Value::Object(object) = parsed else {
            return Err(PowerSyncError::argument("expected oplog data to be an object"));
        };
        let mut stmt = prepare(conn, statement)?;
        for (i, p) in statement.params.iter().enumerate() {
            let value = match p {
                StatementParam::Id => SqlValue::Text(id.to_string()),
                StatementParam::Column(c) => match object.get(c) {
                    Some(Value::String(s)) => SqlValue::Text(s.clone()),
                    Some(Value::Number(n)) => SqlValue::Real(n.as_f64().unwrap_or_default()),
                    Some(Value::Bool(b)) => SqlValue::Integer(*b as i64),
                    _ => SqlValue::Null,
                },
                StatementParam::Rest => {
                    let uses_id = statement.params.contains(&StatementParam::Id);
                    let referenced = |k: &str| {
                        (uses_id && k == "id")
                            || statement
                                .params
                                .iter()
                                .any(|p| matches!(p, StatementParam::Column(c) if c == k))
                    };
                    let rest: BTreeMap<&String, &Value> =
                        object.iter().filter(|(k, _)| !referenced(k.as_str())).collect();
                    if rest.is_empty() {
                        SqlValue::Null
                    } else {
                        SqlValue::Text(serde_json::to_string(&rest).expect("serialisable"))
                    }
                }
            };
            stmt.raw_bind_parameter(i + 1, value)
                .sql_context(&statement.sql)?;
        }
        stmt.raw_execute()
            .map_err(|e| {
                PowerSyncError::sqlite(statement.sql.clone(), e)
                    .with_context(format!("replacing into {}, id = {id}, data = {data}", table.name))
            })
            .map(drop)
    }

    /// Deletes a row.
    pub fn delete(&mut self, conn: &Connection, table: &RawTable, id: &str) -> Result<()> {
        let statement = self.statement(conn, table, false)?;
        if statement.params.iter().any(|p| *p != StatementParam::Id) {
            return Err(PowerSyncError::argument(
                "Raw delete statement parameters must only reference id",
            ));
        }
        let mut stmt = prepare(conn, statement)?;
        for i in 0..statement.params.len() {
            stmt.raw_bind_parameter(i + 1, id).sql_context(&statement.sql)?;
        }
        stmt.raw_execute()
            .map_err(|e| {
                PowerSyncError::sqlite(statement.sql.clone(), e)
                    .with_context(format!("deleting from {}, id = {id}", table.name))
            })
            .map(drop)
    }
}

fn prepare<'c>(conn: &'c Connection, statement: &PendingStatement) -> Result<rusqlite::CachedStatement<'c>> {
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
