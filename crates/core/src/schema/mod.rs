//! The app schema: parsing schema JSON, generating views/triggers/indexes, and
//! `powersync_replace_schema` / `powersync_create_raw_table_crud_trigger`.
//! Tables are JSON tables (rows as JSON in `ps_data__*` behind a view) or direct tables
//! (`"direct": true`: a real table with one column per declared column, see
//! `docs/direct-tables.md`).

mod existing;
mod raw_trigger;
mod replace;
mod sql;
mod views;

pub(crate) use existing::ExistingTable;
// The schema model is shared with the sync protocol (the `start` payload carries it).
pub(crate) use powersync_protocol::schema::{
    PendingStatementSource, PendingStatementValue, RawTable, TableOptions,
};
pub(crate) use raw_trigger::WriteType;
pub(crate) use replace::replace_schema;
pub(crate) use sql::quote_identifier;
// Public (this module is hidden) for the generated-SQL tests (`tests/differential/schema_generate.rs`).
pub use powersync_protocol::schema::{Index, Schema, Table};
pub use views::{index_sql, ViewDefinition};

use crate::error::Result;
use crate::sql_fn::{self, Call, Output};
use crate::state::ConnectionState;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::borrow::Cow;
use std::sync::Arc;

/// Registers `powersync_replace_schema` and `powersync_create_raw_table_crud_trigger`.
pub(crate) fn register(conn: &Connection, state: &Arc<ConnectionState>) -> Result<()> {
    let state = state.clone();
    sql_fn::register(conn, "powersync_replace_schema", 1, 0, move |call| {
        call.require_transaction()?;
        let schema = Schema::from_json(&arg_text(call, 0))?;
        // Dropping or altering tables that a running powersync_control call writes (when a
        // trigger it fires calls this) would pull them from under it.
        drop(state.lock_sync("powersync_replace_schema")?);
        replace_schema(&call.connection(), &state, &schema)?;
        // Only a successfully applied schema is remembered (used by powersync_clear).
        *state.schema.lock().unwrap_or_else(|e| e.into_inner()) = Some(schema);
        Ok(Output::Text(String::new()))
    })?;
    raw_trigger::register(conn)
}

/// Argument `i` as the bytes `sqlite3_value_text` would return (NULL → empty), without a
/// lossy UTF-8 conversion so that JSON error positions stay byte-exact.
fn arg_text<'a>(call: &'a Call<'_>, i: usize) -> Cow<'a, [u8]> {
    match call.arg(i) {
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => Cow::Borrowed(bytes),
        _ => Cow::Owned(call.text_lossy(i).into_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(state: &Arc<ConnectionState>) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        // uuid() (util) is called by migration 3.
        crate::util::register(&conn, state).unwrap();
        crate::migrations::register(&conn, state).unwrap();
        register(&conn, state).unwrap();
        conn
    }

    fn replace(conn: &Connection, json: &str) -> rusqlite::Result<String> {
        conn.query_row("SELECT powersync_replace_schema(?)", [json], |r| r.get(0))
    }

    #[test]
    fn remembers_the_last_applied_schema() {
        let state = Arc::new(ConnectionState::default());
        let conn = connection(&state);
        assert!(state.schema.lock().unwrap().is_none());
        conn.execute_batch("BEGIN").unwrap();

        let json = r#"{"tables": [{"name": "a", "columns": []}], "raw_tables": [{"name": "r", "clear": "DELETE FROM r"}]}"#;
        assert_eq!(replace(&conn, json).unwrap(), "");
        let stored = state.schema.lock().unwrap().clone().unwrap();
        assert_eq!(stored, Schema::from_json(json.as_bytes()).unwrap());
        assert_eq!(stored.raw_tables[0].clear.as_deref(), Some("DELETE FROM r"));

        // Failures (parse or apply) keep the previous schema.
        assert!(replace(&conn, "not json").is_err());
        let duplicate = r#"{"tables": [{"name": "d", "columns": []}, {"name": "d", "columns": []}]}"#;
        assert!(replace(&conn, duplicate).is_err());
        assert_eq!(state.schema.lock().unwrap().as_ref(), Some(&stored));
    }
}
