//! `powersync_replace_schema(json)`: brings data tables, direct tables, indexes, views and
//! triggers in line with a schema, touching nothing that is already up to date.
//!
//! The steps and the order of every statement follow the reference (statement texts appear
//! in error messages, and the order decides which error wins):
//! 1. tables ([`update_tables`]): create missing ones, migrate between JSON and direct
//!    tables and between synced and local-only, alter direct tables whose columns changed,
//!    drop the ones no longer in the schema (parking synced rows in `ps_untyped`);
//! 2. indexes ([`update_indexes`]);
//! 3. views and triggers ([`update_views`]);
//! 4. a resync if a direct table gained columns (the new columns are filled from
//!    `ps_oplog` by the next full checkpoint).

use super::existing::{existing_views, ExistingTable};
use super::sql::{exec, json_object_fragment, quote_identifier};
use super::views::{index_sql, ViewDefinition, MANAGED_INDEX_MARKER};
use super::{Schema, Table};
use crate::error::{PowerSyncError, Result, SqlResultExt};
use crate::state::ConnectionState;
use crate::sync::raw_tables;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
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
pub(crate) fn replace_schema(conn: &Connection, state: &ConnectionState, schema: &Schema) -> Result<()> {
    if writing_statement_active(conn) {
        return apply(conn, state, schema);
    }
    exec(conn, SAVEPOINT)?;
    match apply(conn, state, schema) {
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

fn apply(conn: &Connection, state: &ConnectionState, schema: &Schema) -> Result<()> {
    exec(conn, "SELECT powersync_init()")?;
    let existing = ExistingTable::list(conn, false)?;
    let mut views = existing_views(conn, &existing)?;
    let mut resync = false;
    update_tables(conn, schema, &existing, &mut views, &mut resync)?;
    update_indexes(conn, schema)?;
    update_views(conn, schema, &mut views)?;
    if resync {
        // Refused while a sync iteration runs (its view of applied ops would go stale); the
        // whole call then fails.
        crate::util::clear::trigger_resync(conn, state, false)?;
    }
    Ok(())
}

/// Whether a statement that writes is currently executing on `conn` (SQLite refuses to
/// `RELEASE` a savepoint then).
fn writing_statement_active(conn: &Connection) -> bool {
    crate::ffi::writing_statement_active(conn)
}

/// Runs a statement with one text parameter.
fn exec_with_text(conn: &Connection, sql: &str, param: &str) -> Result<()> {
    conn.execute(sql, [param]).sql_context(sql)?;
    Ok(())
}

/// `CREATE TABLE` for a schema table: `(id, data)` for JSON tables; for direct tables one
/// `ANY` column per declared column in a STRICT table, with the `/* ps-managed */` marker
/// (which is how later schema updates recognise the table).
pub(crate) fn create_table_sql(table: &Table) -> String {
    if !table.direct {
        return format!(
            "CREATE TABLE {}(id TEXT PRIMARY KEY NOT NULL, data TEXT);",
            quote_identifier(&table.internal_name())
        );
    }
    let mut sql = format!(
        "CREATE TABLE {}(id TEXT PRIMARY KEY NOT NULL /* ps-managed {}*/",
        quote_identifier(&table.name),
        if table.local_only() { "local-only " } else { "" }
    );
    for column in &table.columns {
        sql.push(',');
        sql.push_str(&quote_identifier(&column.name));
        sql.push_str(" ANY");
    }
    sql.push_str(") STRICT;");
    sql
}

/// The `(id, data)` rows a new table is filled from.
enum Source<'a> {
    /// `ps_untyped` rows of the table's type (taken out of `ps_untyped`).
    Untyped,
    /// The rows of a JSON table (`fragment: None`) or of a direct table, turned into JSON
    /// by `fragment`.
    Table {
        existing: &'a ExistingTable,
        fragment: Option<String>,
    },
}

/// An existing table while tables are updated.
struct Pending<'a> {
    table: &'a ExistingTable,
    /// Its rows were copied into the table replacing it, so they need not be parked in
    /// `ps_untyped` when it is dropped.
    contents_moved: bool,
}

/// Creates, migrates and drops tables. See the module docs.
fn update_tables<'a>(
    conn: &Connection,
    schema: &Schema,
    existing: &'a [ExistingTable],
    views: &mut BTreeMap<String, ViewDefinition>,
    resync: &mut bool,
) -> Result<()> {
    // Keyed by name (public name of JSON tables); a later table of the same name replaces
    // an earlier one, as in the reference.
    let mut pending: BTreeMap<&'a str, Pending<'a>> = BTreeMap::new();
    for table in existing {
        pending.insert(
            &table.name,
            Pending {
                table,
                contents_moved: false,
            },
        );
    }

    for table in &schema.tables {
        let mut source = None;
        if let Some(Pending { table: old, .. }) = pending.remove(table.name.as_str()) {
            let same_state = old.local_only == table.local_only();
            match (&old.direct, table.direct) {
                (None, false) => {
                    if same_state {
                        continue;
                    }
                    // Synced ↔ local-only: a new table under the other name; the old one is
                    // dropped at the end (parking synced rows in ps_untyped).
                    pending.insert(
                        &old.name,
                        Pending {
                            table: old,
                            contents_moved: false,
                        },
                    );
                }
                (None, true) => {
                    if same_state {
                        source = Some(Source::Table {
                            existing: old,
                            fragment: None,
                        });
                    }
                    pending.insert(
                        &old.name,
                        Pending {
                            table: old,
                            contents_moved: same_state,
                        },
                    );
                    // The direct table takes the view's name.
                    if let Some(view) = views.remove(&old.name) {
                        delete_view(conn, &view)?;
                    }
                }
                (Some(columns), false) => {
                    if same_state {
                        // The reference writes the table name unquoted as column prefix.
                        let fragment =
                            json_object_fragment(&old.internal, columns.iter().map(String::as_str))?;
                        source = Some(Source::Table {
                            existing: old,
                            fragment: Some(fragment),
                        });
                    }
                    pending.insert(
                        &old.name,
                        Pending {
                            table: old,
                            contents_moved: same_state,
                        },
                    );
                }
                (Some(columns), true) => {
                    if same_state {
                        migrate_direct_table(conn, columns, table, views, resync)?;
                        continue;
                    }
                    // Same name for both states: the old table goes first.
                    views.remove(&old.name);
                    move_into_untyped(conn, old)?;
                    exec(conn, &format!("DROP TABLE {}", quote_identifier(&old.internal)))?;
                }
            }
        }

        exec(conn, &create_table_sql(table))?;
        match source {
            Some(source) => fill(conn, table, source)?,
            None if !table.local_only() => fill(conn, table, Source::Untyped)?,
            None => {}
        }
    }

    for remaining in pending.values().filter(|p| !p.contents_moved) {
        move_into_untyped(conn, remaining.table)?;
    }
    // Only now: DDL fails while statements reading sqlite_master are open.
    for remaining in pending.values() {
        exec(
            conn,
            &format!("DROP TABLE {}", quote_identifier(&remaining.table.internal)),
        )?;
    }
    Ok(())
}

/// Parks the rows of a synced table in `ps_untyped` (direct tables as a JSON object of their
/// current columns). Local-only rows are dropped.
fn move_into_untyped(conn: &Connection, table: &ExistingTable) -> Result<()> {
    if table.local_only {
        return Ok(());
    }
    let data = match &table.direct {
        Some(columns) => json_object_fragment("old", columns.iter().map(String::as_str))?,
        None => "data".to_string(),
    };
    exec_with_text(
        conn,
        &format!(
            "INSERT INTO ps_untyped(type, id, data) SELECT ?, id, {data} FROM {} AS old",
            quote_identifier(&table.internal)
        ),
        &table.name,
    )
}

/// Fills a newly created table from `source`.
fn fill(conn: &Connection, table: &Table, source: Source<'_>) -> Result<()> {
    let target = if table.direct {
        quote_identifier(&table.name)
    } else {
        quote_identifier(&table.internal_name())
    };
    match (source, table.direct) {
        (Source::Untyped, false) => {
            exec_with_text(
                conn,
                &format!("INSERT INTO {target} (id, data) SELECT id, data FROM ps_untyped WHERE type = ?"),
                &table.name,
            )?;
            exec_with_text(conn, "DELETE FROM ps_untyped WHERE type = ?", &table.name)
        }
        (Source::Untyped, true) => fill_direct(
            conn,
            table,
            "DELETE FROM ps_untyped WHERE type = ? RETURNING id, data",
            Some(&table.name),
        ),
        (Source::Table { existing, fragment }, direct) => {
            let select = format!(
                "SELECT id, {}FROM {}",
                fragment.as_deref().unwrap_or("data "),
                quote_identifier(&existing.internal)
            );
            if direct {
                fill_direct(conn, table, &select, None)
            } else {
                let sql = format!("INSERT INTO {target} {select}");
                conn.execute(&sql, []).sql_context(&sql).map(drop)
            }
        }
    }
}

/// Writes the `(id, data)` rows of `source_sql` into a direct table like synced rows: the
/// data must be a JSON object, each declared column is bound with the sync binding rules.
fn fill_direct(conn: &Connection, table: &Table, source_sql: &str, param: Option<&str>) -> Result<()> {
    let target = raw_tables::direct_target(table);
    let put = target.put.as_ref().expect("direct targets have a put statement");
    // Prepared before reading any row, like the reference.
    raw_tables::prepare(conn, put)?;
    let mut source = conn.prepare(source_sql).sql_context(source_sql)?;
    if let Some(param) = param {
        source.raw_bind_parameter(1, param).sql_context(source_sql)?;
    }
    let mut rows = source.raw_query();
    while let Some(row) = rows.next().sql_context(source_sql)? {
        let text = |i: usize| -> Result<String> {
            match row.get_ref(i).sql_context(source_sql)? {
                ValueRef::Text(t) | ValueRef::Blob(t) => Ok(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Integer(v) => Ok(v.to_string()),
                ValueRef::Real(v) => Ok(v.to_string()),
                // The reference reads the columns as text and reports NULL as the pseudo
                // result code NULL (5000).
                ValueRef::Null => Err(PowerSyncError::Sqlite {
                    sql: Some(source_sql.to_string()),
                    code: 5000,
                    message: "another row available".to_string(),
                    context: None,
                }),
            }
        };
        let (id, data) = (text(0)?, text(1)?);
        let object = raw_tables::parse_object(&data)?;
        raw_tables::put_parsed_row(conn, put, &table.name, &id, &data, Some(object))?;
    }
    Ok(())
}

/// A direct table kept as a direct table with the same synced/local state: columns are
/// compared by name (declared types do not matter, every column is `ANY`). Added columns are
/// added in name order and make the call trigger a resync; removed ones are dropped. The
/// table's marker indexes and its triggers are dropped first (SQLite validates them on
/// `ALTER TABLE`); the index and view steps re-create them.
fn migrate_direct_table(
    conn: &Connection,
    old_columns: &[String],
    table: &Table,
    views: &mut BTreeMap<String, ViewDefinition>,
    resync: &mut bool,
) -> Result<()> {
    let mut added: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    added.sort_unstable();
    let mut found = vec![false; added.len()];
    let mut removed = Vec::new();
    for old in old_columns {
        match added.binary_search(&old.as_str()) {
            Ok(i) => found[i] = true,
            Err(_) => removed.push(old),
        }
    }
    let added: Vec<&str> = added
        .into_iter()
        .zip(found)
        .filter(|(_, found)| !found)
        .map(|(name, _)| name)
        .collect();
    if added.is_empty() && removed.is_empty() {
        return Ok(());
    }

    const INDEXES: &str = "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?";
    let indexes: Vec<String> = {
        let mut stmt = conn.prepare(INDEXES).sql_context(INDEXES)?;
        let rows = stmt
            .query_map([&table.name], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .sql_context(INDEXES)?;
        rows.into_iter()
            .filter(|(_, sql)| sql.as_deref().is_some_and(|s| s.contains(MANAGED_INDEX_MARKER)))
            .map(|(name, _)| name)
            .collect()
    };
    let triggers = views.remove(&table.name);
    for index in &indexes {
        exec(conn, &format!("DROP INDEX {}", quote_identifier(index)))?;
    }
    if let Some(triggers) = triggers {
        delete_view(conn, &triggers)?;
    }
    let quoted = quote_identifier(&table.name);
    for column in &added {
        exec(
            conn,
            &format!("ALTER TABLE {quoted} ADD COLUMN {} ANY", quote_identifier(column)),
        )?;
        *resync = true;
    }
    for column in removed {
        exec(
            conn,
            &format!("ALTER TABLE {quoted} DROP COLUMN {}", quote_identifier(column)),
        )?;
    }
    Ok(())
}

/// Creates, re-creates or drops indexes of schema tables.
fn update_indexes(conn: &Connection, schema: &Schema) -> Result<()> {
    const FIND_INDEX: &str = "SELECT sql FROM sqlite_master WHERE name = ? AND type = 'index'";
    const MANAGED: &str = "SELECT name FROM sqlite_master WHERE type = 'index' AND (name GLOB 'ps_data_*' OR sqlite_master.sql GLOB '* ps-managed *')";
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
    let mut stmt = conn.prepare(MANAGED).sql_context(MANAGED)?;
    let managed: Vec<String> = stmt
        .query_map([], |row| row.get(0))
        .and_then(|rows| rows.collect())
        .sql_context(MANAGED)?;
    drop(stmt);
    for name in managed {
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

/// Drops a view (with its INSTEAD OF triggers) or a direct table's triggers.
fn delete_view(conn: &Connection, view: &ViewDefinition) -> Result<()> {
    if !view.direct {
        return exec(
            conn,
            &format!("DROP VIEW IF EXISTS {}", quote_identifier(&view.name)),
        );
    }
    for write in super::WriteType::ALL {
        let name = super::views::direct_trigger_name(&view.name, write);
        exec(
            conn,
            &format!("DROP TRIGGER IF EXISTS {}", quote_identifier(&name)),
        )?;
    }
    Ok(())
}

/// Re-creates views and triggers that differ from the schema and drops PowerSync views (and
/// the triggers of direct tables) no longer in it.
fn update_views(
    conn: &Connection,
    schema: &Schema,
    existing: &mut BTreeMap<String, ViewDefinition>,
) -> Result<()> {
    for table in &schema.tables {
        let wanted = ViewDefinition::for_table(table)?;
        if existing.remove(&wanted.name).as_ref() == Some(&wanted) {
            continue;
        }
        delete_view(conn, &wanted)?;
        if !wanted.direct {
            exec(conn, &wanted.view)?;
        }
        exec(conn, &wanted.delete)?;
        exec(conn, &wanted.insert)?;
        exec(conn, &wanted.update)?;
    }
    for view in existing.values() {
        delete_view(conn, view)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(json: &str) -> Table {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn create_table_statements() {
        assert_eq!(
            create_table_sql(&table(
                r#"{"name":"users","direct":true,"columns":[{"name":"name","type":"TEXT"},{"name":"a\"ge","type":"INTEGER"}]}"#
            )),
            r#"CREATE TABLE "users"(id TEXT PRIMARY KEY NOT NULL /* ps-managed */,"name" ANY,"a""ge" ANY) STRICT;"#
        );
        assert_eq!(
            create_table_sql(&table(
                r#"{"name":"t","direct":true,"local_only":true,"columns":[]}"#
            )),
            r#"CREATE TABLE "t"(id TEXT PRIMARY KEY NOT NULL /* ps-managed local-only */) STRICT;"#
        );
        assert_eq!(
            create_table_sql(&table(r#"{"name":"t","columns":[]}"#)),
            r#"CREATE TABLE "ps_data__t"(id TEXT PRIMARY KEY NOT NULL, data TEXT);"#
        );
    }

    #[test]
    fn direct_indexes_and_triggers() {
        let t = table(
            r#"{"name":"users","direct":true,"columns":[{"name":"name","type":"TEXT"}],"indexes":[{"name":"i","columns":[{"name":"name","ascending":false,"type":"TEXT"}]}]}"#,
        );
        assert_eq!(
            index_sql(&t, &t.indexes[0]),
            (
                "ps_data__users__i".to_string(),
                r#"CREATE INDEX "ps_data__users__i"/* ps-managed */ ON "users"("name" DESC)"#.to_string()
            )
        );
        let v = ViewDefinition::for_table(&t).unwrap();
        assert!(v.direct && v.view.is_empty());
        assert!(v.update.contains("RAISE (ABORT, 'Cannot update id')"));
        let local = table(r#"{"name":"l","direct":true,"local_only":true,"columns":[]}"#);
        let v = ViewDefinition::for_table(&local).unwrap();
        assert_eq!((v.insert.as_str(), v.delete.as_str()), ("", ""));
        assert!(!v.update.contains("powersync_crud"));
    }
}
