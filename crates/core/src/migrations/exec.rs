//! Running SQL scripts with `sqlite3_exec` semantics.

use crate::error::{Result, SqlResultExt};
use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::{Batch, Connection};

/// Runs every statement of `sql` in order, stepping each one to completion, like
/// `sqlite3_exec`. (rusqlite's `execute_batch` steps each statement only once, so a
/// `SELECT powersync_drop_view(name) FROM sqlite_master …` in a stored down script would drop
/// just one view.) Statements before a failing one stay applied. Errors name the whole script,
/// as the reference's do.
pub(crate) fn exec_script(conn: &Connection, sql: &str) -> Result<()> {
    run(conn, sql).sql_context(sql)
}

fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    let mut batch = Batch::new(conn, sql);
    while let Some(mut stmt) = batch.next()? {
        let mut rows = stmt.raw_query();
        while rows.next()?.is_some() {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_every_row_of_every_statement() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t(x); CREATE TABLE log(x)")
            .unwrap();
        conn.execute_batch("CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (NEW.x); END")
            .unwrap();
        exec_script(
            &conn,
            "INSERT INTO t VALUES (1), (2);\nSELECT * FROM t; INSERT INTO t SELECT x + 10 FROM t;  ",
        )
        .unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM log", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 4);
    }

    #[test]
    fn errors_name_the_script_and_keep_earlier_statements() {
        let conn = Connection::open_in_memory().unwrap();
        let sql = "CREATE TABLE a(x); SELECT nosuch FROM a";
        let err = exec_script(&conn, sql).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("statement {sql}: internal SQLite call returned ERROR: no such column: nosuch")
        );
        conn.execute_batch("SELECT * FROM a").unwrap();
    }

    #[test]
    fn empty_and_comment_only_scripts_are_fine() {
        let conn = Connection::open_in_memory().unwrap();
        exec_script(&conn, "").unwrap();
        exec_script(&conn, "  -- nothing\n").unwrap();
    }
}
