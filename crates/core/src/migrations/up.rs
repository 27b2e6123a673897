//! The up steps 1..14, replaying the reference's scripts (`sql/v<n>.sql`) verbatim: SQLite
//! keeps DDL text as written (and as rewritten by `ALTER TABLE`), and error messages quote
//! the script that failed, so both must match byte for byte.

use super::exec::exec_script;
use super::LATEST_VERSION;
use crate::error::{Result, SqlResultExt};
use rusqlite::Connection;

/// Inserts the down scripts of versions 13 and 14, which the reference serialized itself
/// (the earlier versions build theirs with SQLite's JSON functions inside the scripts).
const RECORD_VERSION: &str = "INSERT INTO ps_migration(id, down_migrations) VALUES (?, ?)";

/// Runs every step `k` with `current < k <= target`; step 1 runs whenever `current < 1`,
/// whatever the target (so `powersync_test_migration(0)` still yields version 1).
pub(super) fn run(conn: &Connection, current: i32, target: i32) -> Result<()> {
    if current < 1 {
        exec_script(conn, include_str!("sql/v1.sql"))?;
    }
    for version in 2..=LATEST_VERSION {
        if current < version && target >= version {
            apply(conn, version, current)?;
        }
    }
    Ok(())
}

fn apply(conn: &Connection, version: i32, current: i32) -> Result<()> {
    match version {
        2 => exec_script(conn, include_str!("sql/v2.sql")),
        3 => exec_script(conn, include_str!("sql/v3.sql")),
        4 => exec_script(conn, include_str!("sql/v4.sql")),
        5 => {
            recreate_views_without_triggers(conn)?;
            exec_script(conn, include_str!("sql/v5.sql"))
        }
        6 => {
            // Only databases written by an older release can have the broken rows.
            if current != 0 {
                queue_rows_without_oplog(conn)?;
            }
            exec_script(conn, include_str!("sql/v6_record.sql"))
        }
        7 => exec_script(conn, include_str!("sql/v7.sql")),
        8 => exec_script(conn, include_str!("sql/v8.sql")),
        9 => exec_script(conn, include_str!("sql/v9.sql")),
        10 => exec_script(conn, include_str!("sql/v10.sql")),
        11 => exec_script(conn, include_str!("sql/v11.sql")),
        12 => exec_script(conn, include_str!("sql/v12.sql")),
        13 => {
            exec_script(conn, include_str!("sql/v13.sql"))?;
            record(conn, 13, include_str!("sql/v13_down.json"))
        }
        14 => {
            exec_script(conn, include_str!("sql/v14.sql"))?;
            record(conn, 14, include_str!("sql/v14_down.json"))
        }
        _ => unreachable!("no migration step {version}"),
    }
}

fn record(conn: &Connection, version: i32, down_json: &str) -> Result<()> {
    conn.prepare(RECORD_VERSION)
        .and_then(|mut stmt| stmt.execute((version, down_json)))
        .sql_context(RECORD_VERSION)?;
    Ok(())
}

/// Version 5, first part: drop every PowerSync view (which drops its triggers) and re-create
/// it from its stored text without triggers. The old triggers write the pre-5 oplog layout;
/// left in place they would break the table renames below. The SDK re-creates triggers with
/// its next `powersync_replace_schema`.
fn recreate_views_without_triggers(conn: &Connection) -> Result<()> {
    // The reference's query also collects the trigger SQL (with `group_concat(… ORDER BY …)`,
    // SQLite 3.44+) but never uses it; this one visits the same views in the same order.
    const VIEWS: &str = "SELECT name, sql FROM sqlite_master WHERE type = 'view' AND sql GLOB  '*-- powersync-auto-generated' ORDER BY name";
    let views: Vec<(String, String)> = conn
        .prepare(VIEWS)
        .and_then(|mut stmt| stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .sql_context(VIEWS)?;
    for (name, sql) in views {
        exec_script(conn, &super::drop_view::drop_view_sql(&name))?;
        exec_script(conn, &sql)?;
    }
    Ok(())
}

/// Version 6 data fix ("v0.3.5 fix"): rows of synced data tables that no oplog entry backs
/// were left behind by an old release; queue them in `ps_updated_rows` so the next sync
/// application re-evaluates (deletes) them.
fn queue_rows_without_oplog(conn: &Connection) -> Result<()> {
    const TABLES: &str = "SELECT name FROM sqlite_master WHERE type='table' AND name GLOB 'ps_data__*'";
    let tables: Vec<String> = conn
        .prepare(TABLES)
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
        .sql_context(TABLES)?;
    for table in tables {
        let row_type = &table["ps_data__".len()..];
        let quoted = format!("\"{}\"", table.replace('"', "\"\""));
        let sql = format!(
            "\nINSERT OR IGNORE INTO ps_updated_rows(row_type, row_id)\nSELECT ?1, id FROM {quoted}\n  WHERE NOT EXISTS (\n      SELECT 1 FROM ps_oplog\n      WHERE row_type = ?1 AND row_id = {quoted}.id\n  );"
        );
        conn.prepare(&sql)
            .and_then(|mut stmt| stmt.execute([row_type]))
            .sql_context(&sql)?;
    }
    Ok(())
}
