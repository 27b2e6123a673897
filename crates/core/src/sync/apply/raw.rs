//! Writing synced rows into raw tables (docs/protocol.md#raw-and-direct-tables).

use crate::error::{PowerSyncError, Result, SqlResultExt};
use crate::sync::raw_tables::{self, PendingStatement, RawTable};
use rusqlite::Connection;
use std::collections::HashMap;

/// Statements inferred from `pragma_table_info` for raw tables without explicit ones,
/// re-inferred when `PRAGMA schema_version` changes.
#[derive(Debug, Default)]
pub struct RawTableCache {
    schema_version: Option<i64>,
    inferred: HashMap<String, (PendingStatement, PendingStatement)>,
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
            // The reference's checks of the local table (as for triggers).
            let has_id = columns.iter().any(|c| c == "id");
            if !has_id && synced.is_empty() {
                return Err(PowerSyncError::argument(format!(
                    "Could not find {name} in local schema."
                )));
            }
            if !has_id {
                return Err(PowerSyncError::argument(format!(
                    "Table {name} has no id column."
                )));
            }
            let synced: Vec<&str> = synced.iter().map(|c| c.as_str()).collect();
            let put = raw_tables::upsert_statement(name, &synced);
            let delete = raw_tables::delete_statement(name);
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
        raw_tables::put_row(conn, statement, &table.name, id, data)
    }

    /// Deletes a row.
    pub fn delete(&mut self, conn: &Connection, table: &RawTable, id: &str) -> Result<()> {
        let statement = self.statement(conn, table, false)?;
        raw_tables::delete_row(conn, statement, &table.name, id)
    }
}
