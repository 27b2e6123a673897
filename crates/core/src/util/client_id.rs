//! `powersync_client_id()`: the client id stored in `ps_kv` (docs/sql-surface.md#client-id).

use crate::error::{PowerSyncError, Result, SqlResultExt};
use crate::sql_fn::{self, Output, DETERMINISTIC};
use crate::util::sqlite_value::text_of_real;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension};

const SQL: &str = "select value from ps_kv where key = 'client_id'";

/// Reads the client id as text (numbers and blobs in their SQLite text form).
pub(crate) fn client_id(conn: &Connection) -> Result<String> {
    let mut stmt = conn.prepare(SQL).sql_context(SQL)?;
    let value = stmt
        .query_row([], |row| {
            Ok(match row.get_ref(0)? {
                ValueRef::Null => None,
                ValueRef::Integer(i) => Some(i.to_string()),
                ValueRef::Real(r) => Some(text_of_real(conn, r)?),
                ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
            })
        })
        .optional()
        .sql_context(SQL)?;
    match value {
        Some(Some(id)) => Ok(id),
        // The reference reads the column with an API that reports a NULL value as the pseudo
        // result code NULL (5000), while SQLite's message still describes the last step.
        Some(None) => Err(PowerSyncError::Sqlite {
            sql: Some(SQL.to_string()),
            code: 5000,
            message: "another row available".to_string(),
            context: None,
        }),
        None => Err(PowerSyncError::MissingClientId),
    }
}

/// Registers `powersync_client_id` (DETERMINISTIC, as in the reference).
pub(crate) fn register(conn: &Connection) -> Result<()> {
    sql_fn::register(conn, "powersync_client_id", 0, DETERMINISTIC, |call| {
        Ok(Output::Text(client_id(&call.connection())?))
    })
}
