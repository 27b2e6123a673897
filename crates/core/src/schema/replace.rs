//! `powersync_replace_schema(json)` (spec: schema-and-crud §6): brings data tables, indexes,
//! views and triggers in line with a schema, touching nothing that is already up to date.

use super::model::{parse_internal_name, Schema};
use super::sql::{exec, quote_identifier};
use super::views::{index_sql, ViewDefinition};
use crate::error::{Result, SqlResultExt};
use rusqlite::{ffi, Connection};
use std::collections::{BTreeMap, HashSet};

const SAVEPOINT: &str = "SAVEPOINT powersync_replace_schema";
const RELEASE: &str = "RELEASE powersync_replace_schema";
const ROLLBACK: &str = "ROLLBACK TO powersync_replace_schema";

/// Applies `schema` to the database. Must run inside a transaction.
///
/// Unlike the reference, a failure leaves the database as it was: the work runs inside a
/// savepoint that is rolled back on error. (SQLite cannot release a savepoint while a
/// writing statement is in progress, so when the function is called from one, e.g.
/// `INSERT ... SELECT powersync_replace_schema(...)`, it runs without the savepoint, exactly
/// like the reference.)
pub fn replace_schema(conn: &Connection, schema: &Schema) -> Result<()> {
    if writing_statement_active(conn) {
        return apply(conn, schema);
    }
    exec(conn, SAVEPOINT)?;
    match apply(conn, schema) {
        Ok(()) => exec(conn, RELEASE),
        Err(err) => {
            // The original error is what the caller needs; a failing rollback would
            // surface on the caller's next statement anyway.
            let _ = exec(conn, ROLLBACK);
            let _ = exec(conn, RELEASE);
            Err(err)
        }
    }
}

fn apply(conn: &Connection, schema: &Schema) -> Result<()> {
    exec(conn, "SELECT powersync_init()")?;
    update_tables(conn, schema)?;
    update_indexes(conn, schema)?;
    update_views(conn, schema)
}

/// Whether a statement that writes is currently executing on `conn` (SQLite refuses to
/// `RELEASE` a savepoint then).
fn writing_statement_active(conn: &Connection) -> bool {
    // SAFETY: the handle is the live connection this function runs on, used from its own
    // thread; sqlite3_next_stmt walks its statement list, which nothing modifies during the
    // loop, and the flag queries only read statement state.
    unsafe {
        let db = conn.handle();
        let mut stmt = ffi::sqlite3_next_stmt(db, std::ptr::null_mut());
        while !stmt.is_null() {
            if ffi::sqlite3_stmt_busy(stmt) != 0 && ffi::sqlite3_stmt_readonly(stmt) == 0 {
                return true;
            }
            stmt = ffi::sqlite3_next_stmt(db, stmt);
        }
    }
    false
}

/// Runs a statement with one text parameter.
fn exec_with_text(conn: &Connection, sql: &str, param: &str) -> Result<()> {
    conn.execute(sql, [param]).sql_context(sql)?;
    Ok(())
}

/// Names of the rows of `sqlite_master` returned by `sql` (first column), in query order.
fn names(conn: &Connection, sql: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(sql).sql_context(sql)?;
    let rows = stmt
        .query_map([], |row| row.get::<_, String>(0))
        .and_then(|rows| rows.collect())
        .sql_context(sql)?;
    Ok(rows)
}

/// An existing `ps_data__*` or `ps_data_local__*` table.
struct ExistingTable {
    internal: String,
    local_only: bool,
}

/// Creates missing data tables (moving synced rows out of `ps_untyped`) and drops the ones
/// no longer in the schema (parking synced rows in `ps_untyped`). Spec §6.2.
fn update_tables(conn: &Connection, schema: &Schema) -> Result<()> {
    // Keyed by public name; a later table with the same public name replaces an earlier one,
    // as in the reference.
    let mut existing: BTreeMap<String, ExistingTable> = BTreeMap::new();
    for internal in names(
        conn,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'ps_data_*'",
    )? {
        if let Some((name, local_only)) = parse_internal_name(&internal) {
            let name = name.to_string();
            existing.insert(name, ExistingTable { internal, local_only });
        }
    }

    for table in &schema.tables {
        if matches!(existing.get(&table.name), Some(e) if e.local_only == table.local_only()) {
            existing.remove(&table.name);
            continue;
        }
        let internal = quote_identifier(&table.internal_name());
        exec(
            conn,
            &format!("CREATE TABLE {internal}(id TEXT PRIMARY KEY NOT NULL, data TEXT)"),
        )?;
        if !table.local_only() {
            exec_with_text(
                conn,
                &format!("INSERT INTO {internal}(id, data) SELECT id, data FROM ps_untyped WHERE type = ?"),
                &table.name,
            )?;
            exec_with_text(conn, "DELETE FROM ps_untyped WHERE type = ?", &table.name)?;
        }
    }

    for (name, table) in &existing {
        if !table.local_only {
            exec_with_text(
                conn,
                &format!(
                    "INSERT INTO ps_untyped(type, id, data) SELECT ?, id, data FROM {}",
                    quote_identifier(&table.internal)
                ),
                name,
            )?;
        }
    }
    for table in existing.values() {
        exec(conn, &format!("DROP TABLE {}", quote_identifier(&table.internal)))?;
    }
    Ok(())
}

/// Creates, re-creates or drops indexes of data tables. Spec §6.3.
fn update_indexes(conn: &Connection, schema: &Schema) -> Result<()> {
    const FIND_INDEX: &str = "SELECT sql FROM sqlite_master WHERE name = ? AND type = 'index'";
    let mut statements = Vec::new();
    let mut expected = HashSet::new();
    {
        let mut find = conn.prepare(FIND_INDEX).sql_context(FIND_INDEX)?;
        for table in &schema.tables {
            for index in &table.indexes {
                let (name, sql) = index_sql(table, index);
                let existing: Option<Option<String>> = find
                    .query_map([&name], |row| row.get(0))
                    .and_then(|mut rows| rows.next().transpose())
                    .sql_context(FIND_INDEX)?;
                match existing {
                    None => statements.push(sql),
                    Some(existing) if existing.as_deref() == Some(sql.as_str()) => {}
                    Some(_) => {
                        statements.push(format!("DROP INDEX {}", quote_identifier(&name)));
                        statements.push(sql);
                    }
                }
                expected.insert(name);
            }
        }
    }
    for name in names(
        conn,
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name GLOB 'ps_data_*'",
    )? {
        if !expected.contains(&name) {
            statements.push(format!("DROP INDEX {}", quote_identifier(&name)));
        }
    }
    // Executed only now: DDL fails while statements reading sqlite_master are open.
    for sql in statements {
        exec(conn, &sql)?;
    }
    Ok(())
}

/// A PowerSync view found in the database, with its triggers.
struct ExistingView {
    definition: ViewDefinition,
    /// More than one insert or update trigger matched: the reference would compare an
    /// arbitrary one (and a repeated delete script), so treat the view as outdated.
    ambiguous: bool,
}

/// Lists views ending with the `-- powersync-auto-generated` marker and their
/// `ps_view_{delete,insert,update}*` triggers.
///
/// The reference does this with `group_concat(sql, ';\n' ORDER BY name DESC)`, which needs
/// SQLite 3.44; the triggers are collected and ordered here instead.
fn existing_views(conn: &Connection) -> Result<BTreeMap<String, ExistingView>> {
    const VIEWS: &str =
        "SELECT name, sql FROM sqlite_master WHERE type = 'view' AND sql GLOB '*-- powersync-auto-generated'";
    const TRIGGERS: &str = "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND (name GLOB 'ps_view_delete*' OR name GLOB 'ps_view_insert*' OR name GLOB 'ps_view_update*')";

    let mut views = BTreeMap::new();
    {
        let mut stmt = conn.prepare(VIEWS).sql_context(VIEWS)?;
        let rows = stmt
            .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .sql_context(VIEWS)?;
        for (name, sql) in rows {
            views.insert(name, sql);
        }
    }
    let triggers: Vec<(String, String, Option<String>)> = {
        let mut stmt = conn.prepare(TRIGGERS).sql_context(TRIGGERS)?;
        let rows = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .sql_context(TRIGGERS)?;
        rows
    };

    let mut out = BTreeMap::new();
    for (name, sql) in views {
        let on_view = |prefix: &str| -> Vec<(&str, Option<&str>)> {
            triggers
                .iter()
                .filter(|(trigger, table, _)| *table == name && trigger.starts_with(prefix))
                .map(|(trigger, _, sql)| (trigger.as_str(), sql.as_deref()))
                .collect()
        };
        let mut deletes = on_view("ps_view_delete");
        let inserts = on_view("ps_view_insert");
        let updates = on_view("ps_view_update");
        deletes.sort_by(|a, b| b.0.cmp(a.0));
        // group_concat skips NULLs.
        let delete: Vec<&str> = deletes.iter().filter_map(|(_, sql)| *sql).collect();
        let single = |found: &[(&str, Option<&str>)]| {
            found
                .first()
                .and_then(|(_, sql)| *sql)
                .unwrap_or_default()
                .to_string()
        };
        out.insert(
            name.clone(),
            ExistingView {
                ambiguous: inserts.len() > 1 || updates.len() > 1,
                definition: ViewDefinition {
                    name,
                    view: sql,
                    delete: delete.join(";\n"),
                    insert: single(&inserts),
                    update: single(&updates),
                },
            },
        );
    }
    Ok(out)
}

/// Re-creates views whose SQL or triggers differ from the schema and drops PowerSync views
/// no longer in it. Spec §6.4.
fn update_views(conn: &Connection, schema: &Schema) -> Result<()> {
    let mut existing = existing_views(conn)?;
    for table in &schema.tables {
        let wanted = ViewDefinition::for_table(table)?;
        if let Some(actual) = existing.remove(&wanted.name) {
            if !actual.ambiguous && actual.definition == wanted {
                continue;
            }
        }
        // Dropping the view drops its triggers too.
        exec(
            conn,
            &format!("DROP VIEW IF EXISTS {}", quote_identifier(&wanted.name)),
        )?;
        exec(conn, &wanted.view)?;
        exec(conn, &wanted.delete)?;
        exec(conn, &wanted.insert)?;
        exec(conn, &wanted.update)?;
    }
    for name in existing.keys() {
        exec(conn, &format!("DROP VIEW IF EXISTS {}", quote_identifier(name)))?;
    }
    Ok(())
}
