//! The down loop: runs the down scripts stored in `ps_migration`, newest version first.
//!
//! The scripts are data, not code of ours: a newer library that upgraded the database to a
//! version above 14 stored its own down scripts, and running them is how we get back to a
//! version we understand (forward compatibility).

use super::exec::exec_script;
use super::version;
use crate::error::{PowerSyncError, Result, SqlResultExt};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

/// Selects the down statements of the newest version above the target, in array order. The
/// exact text appears in error messages (e.g. for malformed JSON).
const DOWN_STATEMENTS: &str = "select e.value ->> 'sql' as sql from (select id, down_migrations from ps_migration where id > ?1 order by id desc limit 1) m, json_each(m.down_migrations) e";

/// `ResultCode::NULL` of the reference's SQLite bindings: what it reports when a down-script
/// entry has no text `sql` (it expected text and got a NULL pointer).
const NULL_RESULT_CODE: i32 = 5000;

/// Undoes the newest version above `target` and returns the new current version.
///
/// Fails with the SQLite error (context `Down migration failed from <current>`) if a
/// statement fails, and with `Down migration failed - version not updated from <current>` if
/// the scripts ran but did not lower the version (e.g. version 1, which has none).
pub(super) fn step(conn: &Connection, current: i32, target: i32) -> Result<i32> {
    for sql in statements(conn, target)? {
        exec_script(conn, &sql)
            .map_err(|e| e.with_context(format!("Down migration failed from {current}")))?;
    }
    let new = version::current(conn)?;
    if new >= current {
        return Err(PowerSyncError::DownMigrationDidNotUpdate(current.into()));
    }
    Ok(new)
}

/// Collects all statements before running any, as the reference does: a malformed entry
/// fails the call with nothing executed.
fn statements(conn: &Connection, target: i32) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(DOWN_STATEMENTS).sql_context(DOWN_STATEMENTS)?;
    let mut rows = stmt.query([target]).sql_context(DOWN_STATEMENTS)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().sql_context(DOWN_STATEMENTS)? {
        let sql = match row.get_ref(0).sql_context(DOWN_STATEMENTS)? {
            ValueRef::Text(text) => String::from_utf8_lossy(text).into_owned(),
            ValueRef::Integer(i) => i.to_string(),
            // SQLite's own conversion gives its exact text form of reals.
            ValueRef::Real(r) => conn
                .query_row("SELECT CAST(?1 AS TEXT)", [r], |r| r.get(0))
                .sql_context(DOWN_STATEMENTS)?,
            // `->>` never yields blobs.
            ValueRef::Blob(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            ValueRef::Null => {
                return Err(PowerSyncError::Sqlite {
                    sql: Some(DOWN_STATEMENTS.to_string()),
                    code: NULL_RESULT_CODE,
                    message: "another row available".to_string(),
                    context: None,
                })
            }
        };
        out.push(sql);
    }
    Ok(out)
}
