//! The individual checks of the doctor, in the order they run. Each one queries the database,
//! adds at most a few findings, and repairs when asked to and when the repair cannot lose data.

use super::{Finding, Report, Severity};
use crate::error::Result;
use crate::migrations::{self, LATEST_VERSION};
use rusqlite::{params, Connection, OptionalExtension};

/// The internal tables of schema version 14 (besides `ps_data__*` / `ps_data_local__*`).
const INTERNAL_TABLES: &[&str] = &[
    "ps_migration",
    "ps_buckets",
    "ps_oplog",
    "ps_crud",
    "ps_tx",
    "ps_untyped",
    "ps_kv",
    "ps_sync_state",
    "ps_updated_rows",
    "ps_stream_subscriptions",
];

/// The write-gate target a local write stores until the SDK replaces it with the id of a
/// write checkpoint (the greatest op id).
const MAX_OP_ID: i64 = i64::MAX;

pub(super) fn run(conn: &Connection, report: &mut Report, fix: bool) -> Result<()> {
    if !installed(conn, report)? {
        return Ok(());
    }
    if !schema_version(conn, report, fix)? {
        return Ok(());
    }
    integrity(conn, report)?;
    write_gate(conn, report, fix)?;
    orphaned_ops(conn, report, fix)?;
    bucket_checksums(conn, report, fix)?;
    applied_beyond_downloaded(conn, report, fix)?;
    missing_rows(conn, report, fix)?;
    untyped_rows_with_table(conn, report, fix)?;
    orphaned_data_tables(conn, report)?;
    unknown_internal_tables(conn, report)?;
    crud_queue(conn, report)?;
    transaction_counter(conn, report, fix)?;
    Ok(())
}

fn finding(
    report: &mut Report,
    check: &'static str,
    severity: Severity,
    explanation: String,
    repair: Option<String>,
) {
    report.findings.push(Finding {
        check,
        severity,
        explanation,
        repair,
    });
}

fn count(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<i64> {
    Ok(conn.query_row(sql, p, |r| r.get(0))?)
}

fn table_exists(conn: &Connection, name: &str) -> Result<bool> {
    Ok(count(
        conn,
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
    )? > 0)
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Whether this is a PowerSync database at all.
fn installed(conn: &Connection, report: &mut Report) -> Result<bool> {
    if table_exists(conn, "ps_migration")? {
        report.passed.push("installed");
        return Ok(true);
    }
    finding(
        report,
        "installed",
        Severity::Fatal,
        "This is not a PowerSync database: it has no ps_migration table. PowerSync creates its \
         internal tables when an SDK opens the database (powersync_init()); nothing else was checked."
            .into(),
        None,
    );
    Ok(false)
}

/// The internal schema version. The other checks assume version 14, so they only run when the
/// database is at that version (possibly after the repair migrated it).
fn schema_version(conn: &Connection, report: &mut Report, fix: bool) -> Result<bool> {
    let version = count(conn, "SELECT ifnull(max(id), 0) FROM ps_migration", [])?;
    let latest = i64::from(LATEST_VERSION);
    // Version 15 with our down script is version 14 during an initial sync, with two oplog
    // indexes deferred (`sync::storage::bulk`).
    if version == latest || crate::sync::storage::bulk::is_bulk(conn)? {
        report.passed.push("schema-version");
        return Ok(true);
    }
    if version > latest {
        finding(
            report,
            "schema-version",
            Severity::Fatal,
            format!(
                "The internal schema is at version {version}, written by a newer PowerSync core than \
                 this one (which knows versions up to {latest}). Open it with that newer SDK, or let \
                 this library downgrade it through the down-migrations the newer core stored \
                 (SELECT powersync_init() runs them). The other checks were skipped."
            ),
            None,
        );
        return Ok(false);
    }
    finding(
        report,
        "schema-version",
        Severity::Problem,
        format!(
            "The internal schema is at version {version}, older than this library's {latest}: an SDK \
             with this core migrates it when it opens the database, but until then the sync client \
             cannot use it."
        ),
        Some(format!(
            "migrate the internal tables from version {version} to {latest} (what powersync_init() does)"
        )),
    );
    if fix {
        migrations::powersync_init(conn)?;
        return Ok(true);
    }
    Ok(false)
}

/// SQLite's own consistency check (b-trees, indexes): nothing above it can be trusted if this
/// fails.
fn integrity(conn: &Connection, report: &mut Report) -> Result<()> {
    let mut stmt = conn.prepare("PRAGMA quick_check")?;
    let lines: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if lines == ["ok"] {
        report.passed.push("integrity");
    } else {
        finding(
            report,
            "integrity",
            Severity::Fatal,
            format!(
                "SQLite reports the database file itself as damaged ({}). Copy the file before \
                 anything else; rows of ps_crud (local writes not yet uploaded) can often still be \
                 read and uploaded.",
                lines.join("; ")
            ),
            None,
        );
    }
    Ok(())
}

fn kv_int(conn: &Connection, key: &str) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT CAST(value AS INTEGER) FROM ps_kv WHERE key = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()?)
}

/// A write-gate target that holds back every checkpoint although nothing waits for upload.
///
/// A local write sets the target to the greatest op id; the SDK lowers it to the id of a write
/// checkpoint once the upload queue is empty, and downloaded data is only applied once a
/// checkpoint reaches the target. With `ps_crud` empty, a target still at the maximum (the SDK
/// never asked for a write checkpoint, e.g. when it only downloads) or above every id this client
/// requested can never be reached: sync downloads but never applies.
fn write_gate(conn: &Connection, report: &mut Report, fix: bool) -> Result<()> {
    let pending = count(conn, "SELECT count(*) FROM ps_crud", [])?;
    let target = kv_int(conn, "target_checkpoint_request_id")?;
    let seen = kv_int(conn, "last_seen_checkpoint_request_id")?.unwrap_or(0);
    let requested = kv_int(conn, "last_requested_checkpoint_request_id")?.unwrap_or(0);
    let Some(target) = target.filter(|t| *t > seen) else {
        report.passed.push("write-gate");
        return Ok(());
    };
    if pending > 0 {
        // Closed for a reason: local writes wait for upload.
        report.passed.push("write-gate");
        return Ok(());
    }
    let why = if target == MAX_OP_ID {
        "a local write was made and has since been uploaded, but the SDK never replaced the \
         write-gate target with a write checkpoint (this happens when the SDK only downloads, or \
         stopped between the upload and the write-checkpoint request)"
            .to_string()
    } else if target > requested {
        format!(
            "the write-gate target is checkpoint request {target}, but this client only ever \
             requested up to {requested}, so no checkpoint will carry it"
        )
    } else {
        // A target the service may still reach: the SDK is waiting for its write checkpoint.
        report.passed.push("write-gate");
        return Ok(());
    };
    finding(
        report,
        "write-gate-stuck",
        Severity::Problem,
        format!(
            "Downloaded data is held back: {why}. The upload queue is empty, so nothing needs \
             protecting, yet every checkpoint waits for a target it cannot reach."
        ),
        Some(
            "remove the write-gate target (as powersync_control('target_checkpoint_request_id', 0) \
             does); the next checkpoint applies"
                .into(),
        ),
    );
    if fix {
        conn.execute("DELETE FROM ps_kv WHERE key = 'target_checkpoint_request_id'", [])?;
    }
    Ok(())
}

/// Marks the rows of a bucket's ops for the next apply and removes the bucket and its ops, as
/// the sync client does for a bucket that failed checksum validation: the next sync downloads
/// it again from scratch.
fn drop_bucket(conn: &Connection, id: i64) -> Result<()> {
    crate::sync::storage::delete_bucket_ops(conn, id)?;
    conn.execute("DELETE FROM ps_buckets WHERE id = ?1", [id])?;
    Ok(())
}

/// Ops whose bucket no longer exists: never applied, never removed by a sync.
fn orphaned_ops(conn: &Connection, report: &mut Report, fix: bool) -> Result<()> {
    const ORPHANS: &str = "FROM ps_oplog WHERE bucket NOT IN (SELECT id FROM ps_buckets)";
    let n = count(conn, &format!("SELECT count(*) {ORPHANS}"), [])?;
    if n == 0 {
        report.passed.push("orphaned-ops");
        return Ok(());
    }
    finding(
        report,
        "orphaned-ops",
        Severity::Problem,
        format!(
            "{n} downloaded ops belong to buckets that no longer exist in ps_buckets. No sync will \
             apply or remove them, and rows they describe may linger in the app's tables."
        ),
        Some(
            "delete those ops and mark their rows for the next apply, which removes rows no bucket has"
                .into(),
        ),
    );
    if fix {
        conn.execute_batch(&format!(
            "INSERT OR IGNORE INTO ps_updated_rows (row_type, row_id) SELECT row_type, row_id {ORPHANS} \
             AND row_type IS NOT NULL AND row_id IS NOT NULL; DELETE {ORPHANS};"
        ))?;
    }
    Ok(())
}

/// `op_checksum` is the sum of the hashes of the bucket's stored ops; when it is not, the next
/// checkpoint fails validation for that bucket.
fn bucket_checksums(conn: &Connection, report: &mut Report, fix: bool) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT b.id, b.name, b.op_checksum & 0xffffffff, \
         (SELECT ifnull(sum(o.hash), 0) FROM ps_oplog o WHERE o.bucket = b.id) & 0xffffffff \
         FROM ps_buckets b ORDER BY b.id",
    )?;
    let drifted: Vec<(i64, String, i64, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .filter(|(_, _, stored, actual)| stored != actual)
        .collect();
    if drifted.is_empty() {
        report.passed.push("bucket-checksums");
        return Ok(());
    }
    for (_, name, stored, actual) in &drifted {
        finding(
            report,
            "bucket-checksums",
            Severity::Problem,
            format!(
                "Bucket {name}: its recorded op checksum is {stored:#010x} but its stored ops add up \
                 to {actual:#010x}. The ops were changed outside the sync client; the next checkpoint \
                 will fail validation for this bucket and download it again."
            ),
            Some(format!(
                "drop bucket {name} and its ops so the next sync downloads it afresh"
            )),
        );
    }
    if fix {
        for (id, ..) in &drifted {
            drop_bucket(conn, *id)?;
        }
    }
    Ok(())
}

/// `last_applied_op` above `last_op`: the client believes it applied ops it never downloaded,
/// so ops at or below that number are never applied.
fn applied_beyond_downloaded(conn: &Connection, report: &mut Report, fix: bool) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT name, last_applied_op, last_op FROM ps_buckets WHERE last_applied_op > last_op ORDER BY id",
    )?;
    let rows: Vec<(String, i64, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if rows.is_empty() {
        report.passed.push("applied-beyond-downloaded");
        return Ok(());
    }
    for (name, applied, last) in &rows {
        finding(
            report,
            "applied-beyond-downloaded",
            Severity::Problem,
            format!(
                "Bucket {name} is marked as applied up to op {applied}, but only ops up to {last} \
                 were downloaded: ops downloaded later with lower ids would never reach the app's tables."
            ),
            Some(format!(
                "re-apply bucket {name} from its stored ops at the next checkpoint"
            )),
        );
    }
    if fix {
        conn.execute(
            "UPDATE ps_buckets SET last_applied_op = 0 WHERE last_applied_op > last_op",
            [],
        )?;
    }
    Ok(())
}

/// Synced JSON tables (`ps_data__<type>`), by type name.
fn data_tables(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT substr(name, 10) FROM sqlite_master WHERE type = 'table' AND name GLOB 'ps_data__*' ORDER BY name",
    )?;
    let names = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names)
}

/// Rows that applied ops put into a synced table but that are not there, while nothing local
/// explains it (no pending local write, write gate open).
fn missing_rows(conn: &Connection, report: &mut Report, fix: bool) -> Result<()> {
    let pending = count(conn, "SELECT count(*) FROM ps_crud", [])?;
    if pending > 0 {
        // Local writes legitimately hide downloaded rows until they are uploaded and synced back.
        report.passed.push("missing-rows");
        return Ok(());
    }
    let mut any = false;
    for table in data_tables(conn)? {
        let sql = format!(
            "SELECT count(*), group_concat(DISTINCT b.name) FROM ps_oplog o JOIN ps_buckets b ON b.id = o.bucket \
             WHERE o.row_type = ?1 AND o.op_id <= b.last_applied_op \
             AND NOT EXISTS (SELECT 1 FROM {} d WHERE d.id = o.row_id)",
            quote(&format!("ps_data__{table}"))
        );
        let (n, buckets): (i64, Option<String>) =
            conn.query_row(&sql, [&table], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if n == 0 {
            continue;
        }
        any = true;
        let buckets = buckets.unwrap_or_default();
        finding(
            report,
            "missing-rows",
            Severity::Problem,
            format!(
                "{n} rows of {table} were downloaded and marked as applied (buckets {buckets}) but \
                 are not in ps_data__{table}, and no local write explains it: the app does not see them."
            ),
            Some(format!(
                "re-apply buckets {buckets} from their stored ops at the next checkpoint"
            )),
        );
        if fix {
            conn.execute(
                "UPDATE ps_buckets SET last_applied_op = 0 WHERE id IN (SELECT DISTINCT o.bucket FROM ps_oplog o \
                 WHERE o.row_type = ?1)",
                [&table],
            )?;
        }
    }
    if !any {
        report.passed.push("missing-rows");
    }
    Ok(())
}

/// Rows kept in `ps_untyped` although their type now has a table: the app never sees them. A
/// schema update moves them; an interrupted one may not have.
fn untyped_rows_with_table(conn: &Connection, report: &mut Report, fix: bool) -> Result<()> {
    let mut any = false;
    for table in data_tables(conn)? {
        let n = count(conn, "SELECT count(*) FROM ps_untyped WHERE type = ?1", [&table])?;
        if n == 0 {
            continue;
        }
        any = true;
        finding(
            report,
            "untyped-rows-with-table",
            Severity::Problem,
            format!(
                "{n} synced rows of type {table} wait in ps_untyped (the store for types the schema \
                 lacks), although ps_data__{table} exists: the app does not see them."
            ),
            Some(format!(
                "move them into ps_data__{table} (rows already there are kept)"
            )),
        );
        if fix {
            conn.execute(
                &format!(
                    "INSERT OR IGNORE INTO {}(id, data) SELECT id, data FROM ps_untyped WHERE type = ?1",
                    quote(&format!("ps_data__{table}"))
                ),
                [&table],
            )?;
            conn.execute("DELETE FROM ps_untyped WHERE type = ?1", [&table])?;
        }
    }
    if !any {
        report.passed.push("untyped-rows-with-table");
    }
    Ok(())
}

/// Data tables that no view reads: left behind when a schema change was interrupted or made by
/// other tools. Reported only: the schema that would say what they are is the app's.
fn orphaned_data_tables(conn: &Connection, report: &mut Report) -> Result<()> {
    // Generated views name their table quoted, so `"ps_data__a"` does not match a view of
    // `"ps_data__ab"`.
    let mut stmt = conn.prepare(
        r#"SELECT t.name FROM sqlite_master t WHERE t.type = 'table' AND t.name GLOB 'ps_data_*'
         AND NOT EXISTS (SELECT 1 FROM sqlite_master v WHERE v.type = 'view'
         AND instr(v.sql, '"' || replace(t.name, '"', '""') || '"') > 0)
         ORDER BY t.name"#,
    )?;
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if names.is_empty() {
        report.passed.push("orphaned-data-tables");
        return Ok(());
    }
    finding(
        report,
        "orphaned-data-tables",
        Severity::Info,
        format!(
            "No view reads {}: the app's schema no longer declares these tables, yet their rows are \
             still stored. The next schema update from the SDK (powersync_replace_schema) moves synced \
             rows to ps_untyped and drops them; if the app still needs them, add the tables back to \
             its schema.",
            names.join(", ")
        ),
        None,
    );
    Ok(())
}

/// `ps_*` tables this version does not create, e.g. leftovers of an interrupted migration.
fn unknown_internal_tables(conn: &Connection, report: &mut Report) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'ps_*' AND NOT name GLOB 'ps_data_*' ORDER BY name",
    )?;
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?
        .into_iter()
        .filter(|n| !INTERNAL_TABLES.contains(&n.as_str()))
        .collect();
    let missing: Vec<&str> = INTERNAL_TABLES
        .iter()
        .copied()
        .filter(|n| !matches!(table_exists(conn, n), Ok(true)))
        .collect();
    if names.is_empty() && missing.is_empty() {
        report.passed.push("internal-tables");
        return Ok(());
    }
    if !missing.is_empty() {
        finding(
            report,
            "internal-tables",
            Severity::Fatal,
            format!(
                "Internal tables are missing although the schema version says they exist: {}. \
                 Something dropped them; the sync client fails on every call until they are back.",
                missing.join(", ")
            ),
            None,
        );
    }
    if !names.is_empty() {
        finding(
            report,
            "internal-tables",
            Severity::Info,
            format!(
                "Tables with PowerSync's ps_ prefix that this version does not use: {}. They may be \
                 leftovers of an interrupted migration or belong to another tool; PowerSync ignores them.",
                names.join(", ")
            ),
            None,
        );
    }
    Ok(())
}

/// The upload queue: reported, never touched.
fn crud_queue(conn: &Connection, report: &mut Report) -> Result<()> {
    let bad = count(
        conn,
        "SELECT count(*) FROM ps_crud WHERE data IS NULL OR NOT json_valid(data)",
        [],
    )?;
    if bad == 0 {
        report.passed.push("crud-queue");
        return Ok(());
    }
    let first: i64 = conn.query_row(
        "SELECT min(id) FROM ps_crud WHERE data IS NULL OR NOT json_valid(data)",
        [],
        |r| r.get(0),
    )?;
    finding(
        report,
        "crud-queue",
        Severity::Problem,
        format!(
            "{bad} entries of the upload queue (ps_crud, first id {first}) are not valid JSON: the \
             SDK cannot decode them, so uploads stop at the first one and downloaded data stays held \
             back. They are local writes: the doctor never changes them; export them, fix or remove \
             them by hand."
        ),
        None,
    );
    Ok(())
}

/// A local transaction takes `ps_tx.next_tx` as its id and increments it, so `next_tx` must stay
/// above every queued transaction id, or new local writes join the transaction of older queued
/// ones.
fn transaction_counter(conn: &Connection, report: &mut Report, fix: bool) -> Result<()> {
    let (next, max): (Option<i64>, Option<i64>) = conn.query_row(
        "SELECT (SELECT next_tx FROM ps_tx WHERE id = 1), (SELECT max(tx_id) FROM ps_crud)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let Some(max) = max else {
        report.passed.push("transaction-counter");
        return Ok(());
    };
    if next.is_some_and(|n| n > max) {
        report.passed.push("transaction-counter");
        return Ok(());
    }
    let next_text = next.map_or("missing".to_string(), |n| n.to_string());
    finding(
        report,
        "transaction-counter",
        Severity::Problem,
        format!(
            "The local transaction counter (ps_tx.next_tx) is {next_text}, but the upload queue already \
             has transaction {max}: new writes would be uploaded as part of an older transaction."
        ),
        Some(format!("set the transaction counter to {}", max + 1)),
    );
    if fix {
        conn.execute(
            "INSERT INTO ps_tx (id, next_tx) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET next_tx = ?1",
            params![max + 1],
        )?;
    }
    Ok(())
}
