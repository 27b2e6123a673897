//! Internal tables and migrations (docs/sql-surface.md#internal-tables, docs/sql-surface.md#migrations, docs/sql-surface.md#down-migrations, docs/sql-surface.md#powersync_drop_view-and-powersync_in_sync_operation), checked
//! against the reference extension and against the reference's recorded fixtures
//! (`migrations_fixtures/`).
//!
//! Every scenario runs the same steps on a fresh in-memory database of each implementation,
//! inside one transaction, and compares each step's result (value, or error code and message)
//! and the complete final state: all `sqlite_master` rows and all table contents (the random
//! `client_id` normalised). Fixture checks run even when the reference is unavailable.
use crate::common;

use rusqlite::types::Value;
use rusqlite::Connection;
use serde_json::Value as Json;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------------
// Harness

/// One step of a scenario.
#[derive(Clone, Debug)]
enum Step {
    /// SQL that must succeed on both (fixtures, seed data).
    Setup(String),
    /// A statement whose result (first value or error) is compared.
    Call(String),
}

fn setup(sql: impl Into<String>) -> Step {
    Step::Setup(sql.into())
}

fn call(sql: impl Into<String>) -> Step {
    Step::Call(sql.into())
}

type Outcome = Result<Value, (i32, String)>;
type Master = Vec<(String, String, String, Option<String>)>;
type Tables = Vec<(String, Vec<Vec<Value>>)>;

/// What a scenario observed on one implementation.
#[derive(Debug, PartialEq)]
struct Observed {
    results: Vec<Outcome>,
    master: Master,
    tables: Tables,
}

/// Our implementation. `uuid()` belongs to the util module; until that lands on this branch,
/// a test-only stand-in makes version 3 (which calls it) runnable.
fn open_ours() -> Connection {
    let conn = common::open_ours();
    if common::eval(&conn, "SELECT uuid()").is_err() {
        conn.create_scalar_function("uuid", 0, rusqlite::functions::FunctionFlags::SQLITE_UTF8, |_| {
            let b: [u8; 16] = rand::random();
            Ok(format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                u16::from_be_bytes([b[4], b[5]]),
                u16::from_be_bytes([b[6], b[7]]) & 0x0fff,
                (u16::from_be_bytes([b[8], b[9]]) & 0x3fff) | 0x8000,
                u64::from_be_bytes([0, 0, b[10], b[11], b[12], b[13], b[14], b[15]])
            ))
        })
        .unwrap();
    }
    conn
}

/// Whether our build already has the CRUD virtual tables (another module). Generated
/// triggers reference them, and SQLite re-checks every trigger on `ALTER TABLE`.
fn ours_has_crud_vtabs() -> bool {
    let conn = open_ours();
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM pragma_module_list WHERE name IN ('powersync_crud', 'powersync_crud_')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    n == 2
}

fn is_uuid_v4(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 36
        && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
        && b[14] == b'4'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
        && s.chars()
            .enumerate()
            .all(|(i, c)| [8, 13, 18, 23].contains(&i) || c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// All tables and rows, with a valid `client_id` replaced by a marker (it is random).
fn tables(conn: &Connection) -> Tables {
    let mut out = common::dump_tables(conn);
    for (name, rows) in &mut out {
        if name == "ps_kv" {
            for row in rows.iter_mut() {
                if row[0] == Value::Text("client_id".into()) {
                    if let Value::Text(id) = &row[1] {
                        if is_uuid_v4(id) {
                            row[1] = Value::Text("<uuid v4>".into());
                        }
                    }
                }
            }
        }
    }
    out
}

fn run(conn: &Connection, steps: &[Step]) -> Observed {
    conn.execute_batch("BEGIN").unwrap();
    let mut results = Vec::new();
    for step in steps {
        match step {
            Step::Setup(sql) => conn
                .execute_batch(sql)
                .unwrap_or_else(|e| panic!("setup failed: {e}\n{sql}")),
            Step::Call(sql) => results.push(common::eval(conn, sql)),
        }
    }
    Observed {
        results,
        master: common::master(conn),
        tables: tables(conn),
    }
}

/// Differential runner: counts compared scenarios.
struct Diff {
    cases: usize,
}

impl Diff {
    fn new() -> Self {
        Diff { cases: 0 }
    }

    /// Runs `steps` on ours (and the reference, comparing everything); returns ours' state and
    /// connection for further checks.
    fn check(&mut self, name: &str, steps: &[Step]) -> (Observed, Connection) {
        let conn = open_ours();
        let ours = run(&conn, steps);
        let (results, master, tables) =
            common::open_reference(name).ask("steps", &format!("{steps:?}"), |c| {
                let o = run(c, steps);
                (o.results, o.master, o.tables)
            });
        let reference = Observed {
            results,
            master,
            tables,
        };
        assert_eq!(ours.results, reference.results, "{name}: results differ");
        assert_eq!(ours.master, reference.master, "{name}: sqlite_master differs");
        for (o, r) in ours.tables.iter().zip(&reference.tables) {
            assert_eq!(o, r, "{name}: table contents differ");
        }
        assert_eq!(ours.tables, reference.tables, "{name}: tables differ");
        self.cases += 1;
        (ours, conn)
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures

fn fixtures() -> &'static Json {
    static F: OnceLock<Json> = OnceLock::new();
    F.get_or_init(|| {
        serde_json::from_str(include_str!("../migrations_fixtures/migration-fixtures.json")).unwrap()
    })
}

fn fix035() -> &'static Json {
    static F: OnceLock<Json> = OnceLock::new();
    F.get_or_init(|| {
        serde_json::from_str(include_str!("../migrations_fixtures/fix-035-fixtures.json")).unwrap()
    })
}

fn fx(key: &str) -> String {
    fixtures()[key].as_str().unwrap().to_string()
}

fn fx_at(key: &str, version: i64) -> String {
    fixtures()[key]["items"][version.to_string()]
        .as_str()
        .unwrap_or_else(|| panic!("no fixture {key}[{version}]"))
        .to_string()
}

/// Splits a fixture dump (`;stmt\n;stmt\n…`) into its statements.
fn fixture_entries(dump: &str) -> Vec<String> {
    let mut entries: Vec<String> = dump
        .trim()
        .strip_prefix(';')
        .unwrap_or(dump.trim())
        .split("\n;")
        .map(|s| s.trim_end().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    entries.sort();
    entries
}

fn sql_literal(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Integer(i) => i.to_string(),
        Value::Text(t) => format!("'{}'", t.replace('\'', "''")),
        other => panic!("unexpected value {other:?}"),
    }
}

/// The schema and `ps_migration` contents in the fixtures' format: every object's DDL and one
/// `INSERT INTO ps_migration` per row.
fn schema_entries(conn: &Connection) -> Vec<String> {
    let mut entries: Vec<String> = common::rows(
        conn,
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'",
    )
    .into_iter()
    .map(|r| match &r[0] {
        // DDL created by running a fixture keeps the newline before the fixture's next `;`.
        Value::Text(t) => t.trim_end().to_string(),
        _ => unreachable!(),
    })
    .collect();
    for row in common::rows(conn, "SELECT id, down_migrations FROM ps_migration ORDER BY id") {
        entries.push(format!(
            "INSERT INTO ps_migration(id, down_migrations) VALUES({}, {})",
            sql_literal(&row[0]),
            sql_literal(&row[1])
        ));
    }
    entries.sort();
    entries
}

/// The data tables the fixtures record.
fn fixture_tables(conn: &Connection) -> Tables {
    common::dump_tables(conn)
        .into_iter()
        .filter(|(name, _)| {
            matches!(name.as_str(), "ps_buckets" | "ps_oplog" | "ps_updated_rows")
                || name.starts_with("ps_data__")
        })
        .collect()
}

/// The tables a fixture describes, materialised in a plain SQLite database.
fn expected_tables(schema: &str, data: &str) -> Tables {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(schema).unwrap();
    conn.execute_batch(data).unwrap();
    fixture_tables(&conn)
}

const DATA_TABLES: &str = "CREATE TABLE ps_data__lists(id TEXT PRIMARY KEY NOT NULL, data TEXT);\nCREATE TABLE ps_data__todos(id TEXT PRIMARY KEY NOT NULL, data TEXT);";

fn init() -> Step {
    call("SELECT powersync_init()")
}

fn migrate(n: i64) -> Step {
    call(format!("SELECT powersync_test_migration({n})"))
}

// ---------------------------------------------------------------------------------------------
// The differential suite

#[test]
fn migrations_differential() {
    let mut d = Diff::new();
    fresh_databases(&mut d);
    round_trips(&mut d);
    fixture_upgrades(&mut d);
    fixture_downgrades(&mut d);
    fix_035(&mut d);
    old_style_views(&mut d);
    local_bucket_and_checkpoint_keys(&mut d);
    timestamps_and_sync_state(&mut d);
    client_ids(&mut d);
    foreign_and_broken_down_scripts(&mut d);
    argument_and_state_errors(&mut d);
    every_up_script_text(&mut d);
    up_step_conflicts(&mut d);
    drop_view(&mut d);
    common::report("migrations", d.cases);
}

fn fresh_databases(d: &mut Diff) {
    let (ours, conn) = d.check("fresh init", &[init()]);
    assert_eq!(ours.results, vec![Ok(Value::Text(String::new()))]);
    assert_eq!(
        schema_entries(&conn),
        fixture_entries(&fx("finalState")),
        "fresh init vs finalState"
    );
    let kv = common::rows(&conn, "SELECT key, value FROM ps_kv");
    assert_eq!(kv.len(), 1);
    assert_eq!(kv[0][0], Value::Text("client_id".into()));
    assert!(matches!(&kv[0][1], Value::Text(id) if is_uuid_v4(id)), "{kv:?}");
    assert_eq!(
        common::rows(&conn, "SELECT * FROM ps_tx"),
        vec![vec![Value::Integer(1), Value::Null, Value::Integer(1)]]
    );

    d.check("init twice", &[init(), init()]);
    d.check("init, commit, init", &[init(), setup("COMMIT; BEGIN"), init()]);
    for n in -1..=15 {
        d.check(&format!("fresh test_migration({n})"), &[migrate(n)]);
    }
    // Existing data tables on a fresh database: the version 6 fix is skipped.
    let (_, conn) = d.check(
        "fresh init with data tables",
        &[
            setup(DATA_TABLES),
            setup("INSERT INTO ps_data__lists VALUES ('l1', '{}')"),
            init(),
        ],
    );
    assert!(common::rows(&conn, "SELECT * FROM ps_updated_rows").is_empty());
}

fn round_trips(d: &mut Diff) {
    for n in 1..=13 {
        d.check(&format!("fresh -> {n} -> 14"), &[migrate(n), init()]);
        let (_, conn) = d.check(&format!("14 -> {n}"), &[init(), migrate(n)]);
        if n >= 2 {
            assert_eq!(
                schema_entries(&conn),
                fixture_entries(&fx_at("expectedState", n)),
                "14 -> {n} vs expectedState"
            );
        }
        let (_, conn) = d.check(&format!("14 -> {n} -> 14"), &[init(), migrate(n), init()]);
        assert_eq!(
            schema_entries(&conn),
            fixture_entries(&fx("finalState")),
            "14 -> {n} -> 14 vs finalState"
        );
        for m in 1..n {
            d.check(
                &format!("14 -> {n} -> {m} -> {n}"),
                &[init(), migrate(n), migrate(m), migrate(n)],
            );
        }
    }
}

fn fixture_upgrades(d: &mut Diff) {
    for v in 2..=14 {
        let (_, conn) = d.check(
            &format!("fixture state {v} -> 14"),
            &[setup(fx_at("expectedState", v)), init()],
        );
        assert_eq!(
            schema_entries(&conn),
            fixture_entries(&fx("finalState")),
            "state {v} -> 14 vs finalState"
        );

        let (_, conn) = d.check(
            &format!("fixture state {v} with data1 -> 14"),
            &[setup(fx_at("expectedState", v)), setup(fx_at("data1", v)), init()],
        );
        assert_eq!(
            fixture_tables(&conn),
            expected_tables(&fx("finalState"), &fx("finalData1")),
            "data1 at {v} -> 14 vs finalData1"
        );
        // Up one step at a time.
        let mut steps = vec![setup(fx_at("expectedState", v)), setup(fx_at("data1", v))];
        steps.extend((v + 1..=14).map(migrate));
        d.check(&format!("fixture data1 at {v}, one step at a time"), &steps);
    }
}

fn fixture_downgrades(d: &mut Diff) {
    for v in 2..=13 {
        let (_, conn) = d.check(
            &format!("finalData1 -> {v}"),
            &[setup(fx("finalState")), setup(fx("finalData1")), migrate(v)],
        );
        assert_eq!(
            schema_entries(&conn),
            fixture_entries(&fx_at("expectedState", v)),
            "14 -> {v} vs expectedState"
        );
        assert_eq!(
            fixture_tables(&conn),
            expected_tables(&fx_at("expectedState", v), &fx_at("dataDown1", v)),
            "finalData1 -> {v} vs dataDown1"
        );
        d.check(
            &format!("finalData1 -> {v} -> 14"),
            &[
                setup(fx("finalState")),
                setup(fx("finalData1")),
                migrate(v),
                init(),
            ],
        );
    }
}

fn fix_035(d: &mut Diff) {
    let broken = fix035()["dataBroken"].as_str().unwrap();
    let migrated = fix035()["dataMigrated"].as_str().unwrap();
    let (_, conn) = d.check(
        "fix 035 from version 5",
        &[
            setup(fx_at("expectedState", 5)),
            setup(DATA_TABLES),
            setup(broken),
            init(),
        ],
    );
    assert_eq!(
        fixture_tables(&conn),
        expected_tables(&format!("{};\n{DATA_TABLES}", fx("finalState")), migrated),
        "fix 035 vs dataMigrated"
    );
    // Already fixed (version 6+): nothing is queued again.
    d.check(
        "fix 035 not repeated from version 6",
        &[
            setup(fx_at("expectedState", 6)),
            setup(DATA_TABLES),
            setup(broken),
            init(),
        ],
    );
    // Table names needing quotes, and a local-only table (not matched by the fix).
    d.check(
        "fix 035 with odd table names",
        &[
            setup(fx_at("expectedState", 5)),
            setup("CREATE TABLE \"ps_data__a\"\"b\"(id TEXT PRIMARY KEY NOT NULL, data TEXT); INSERT INTO \"ps_data__a\"\"b\" VALUES ('x', '{}');"),
            setup("CREATE TABLE ps_data_local__c(id TEXT PRIMARY KEY NOT NULL, data TEXT); INSERT INTO ps_data_local__c VALUES ('y', '{}');"),
            setup("CREATE TABLE ps_data__d(id TEXT, data TEXT); INSERT INTO ps_data__d VALUES ('z', '{}'), (NULL, '{}'), (7, '{}');"),
            init(),
        ],
    );
    // A data table without an id column: the fix fails, naming its statement.
    d.check(
        "fix 035 on a table without id",
        &[
            setup(fx_at("expectedState", 5)),
            setup("CREATE TABLE ps_data__x(a)"),
            init(),
        ],
    );
}

fn old_style_views(d: &mut Diff) {
    let dangling =
        "INSERT INTO ps_data__lists(id, data) VALUES ('l1', '{}'), ('l9', '{\"description\":\"dangling\"}')";
    let (_, conn) = d.check(
        "version 3 with old-style views",
        &[
            setup(fx_at("expectedState", 3)),
            setup(fx("schema3")),
            setup(fx_at("data1", 3)),
            setup(dangling),
            init(),
        ],
    );
    // The view survives without triggers; the dangling row is queued by the v6 fix.
    assert_eq!(
        common::rows(
            &conn,
            "SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger')"
        ),
        vec![vec![Value::Text("view".into()), Value::Text("lists".into())]]
    );
    assert!(
        common::rows(&conn, "SELECT row_id FROM ps_updated_rows").contains(&vec![Value::Text("l9".into())])
    );

    d.check(
        "version 4 with several generated and user views",
        &[
            setup(fx_at("expectedState", 4)),
            setup(fx("schema3")),
            setup("CREATE VIEW \"v\"\"q\" AS SELECT 1 AS x -- powersync-auto-generated\n;CREATE TRIGGER tq INSTEAD OF DELETE ON \"v\"\"q\" BEGIN SELECT 1; END;"),
            setup("CREATE VIEW user_view AS SELECT 2 AS y;CREATE TRIGGER tu INSTEAD OF DELETE ON user_view BEGIN SELECT 1; END;"),
            setup("CREATE VIEW Upper AS SELECT 3 AS z -- powersync-auto-generated"),
            init(),
        ],
    );
    // A generated view over a missing table breaks the version 5 renames (error in view).
    d.check(
        "version 4 with a view over a missing table",
        &[
            setup(fx_at("expectedState", 4)),
            setup("CREATE VIEW v1 AS SELECT * FROM nosuch -- powersync-auto-generated"),
            init(),
        ],
    );

    // Down scripts 10 and 5 drop every generated view through powersync_drop_view (several
    // rows of one statement), keeping user views.
    let views = "CREATE TABLE ps_data__a(id TEXT PRIMARY KEY NOT NULL, data TEXT);\
        CREATE VIEW a AS SELECT id FROM ps_data__a -- powersync-auto-generated\n;\
        CREATE TRIGGER ta INSTEAD OF DELETE ON a BEGIN DELETE FROM ps_data__a WHERE id = OLD.id; END;\
        CREATE VIEW \"b\"\"c\" AS SELECT 1 AS x -- powersync-auto-generated\n;\
        CREATE VIEW d AS SELECT 2 AS y -- powersync-auto-generated\n;\
        CREATE VIEW mine AS SELECT 3 AS z;";
    for target in [9, 4, 3] {
        let (_, conn) = d.check(
            &format!("generated views -> {target}"),
            &[init(), setup(views), migrate(target)],
        );
        assert_eq!(
            common::rows(
                &conn,
                "SELECT name FROM sqlite_master WHERE type IN ('view', 'trigger')"
            ),
            vec![vec![Value::Text("mine".into())]],
            "generated views -> {target}"
        );
    }

    if !ours_has_crud_vtabs() {
        common::report_skipped(
            "migrations",
            "down-migration with generated views needs the CRUD virtual tables (crud module)",
        );
        return;
    }
    // Down to 3 drops generated views and their triggers (down scripts 10 and 5).
    let (_, conn) = d.check(
        "current developer schema -> 3",
        &[
            setup(fx("finalState")),
            setup(fx("currentDeveloperSchema")),
            migrate(3),
        ],
    );
    let mut expected = fixture_entries(&fx_at("expectedState", 3));
    expected.extend(fixture_entries(&fx("schemaDown3")));
    expected.sort();
    assert_eq!(
        schema_entries(&conn),
        expected,
        "developer schema -> 3 vs schemaDown3"
    );
    d.check(
        "current developer schema -> 9",
        &[
            setup(fx("finalState")),
            setup(fx("currentDeveloperSchema")),
            migrate(9),
        ],
    );
}

fn local_bucket_and_checkpoint_keys(d: &mut Diff) {
    let v13 = fx_at("expectedState", 13);
    let bucket = |applied: i64, last: i64, target: i64| {
        format!("INSERT INTO ps_buckets(name, last_applied_op, last_op, target_op, pending_delete) VALUES ('$local', {applied}, {last}, {target}, 1), ('b1', 1, 2, 3, 0)")
    };
    let kv = |sql: &str| format!("INSERT INTO ps_kv(key, value) VALUES ('client_id', 'c'){sql}");
    let cases: Vec<(&str, Vec<Step>)> = vec![
        ("$local 5/6/7", vec![setup(bucket(5, 6, 7)), setup(kv(""))]),
        ("$local target sentinel", vec![setup(bucket(5, 6, i64::MAX)), setup(kv(""))]),
        ("$local zeros", vec![setup(bucket(0, 0, 0)), setup(kv(""))]),
        ("$local negative", vec![setup(bucket(-1, 3, -2)), setup(kv(""))]),
        (
            "$local replaces stale keys, keeps last_requested",
            vec![
                setup(bucket(5, 0, 7)),
                setup(kv(", ('last_applied_checkpoint_request_id', 1), ('last_seen_checkpoint_request_id', 2), ('target_checkpoint_request_id', 3), ('last_requested_checkpoint_request_id', 4)")),
            ],
        ),
        (
            "no $local, stale keys deleted",
            vec![setup(kv(", ('target_checkpoint_request_id', 3), ('last_requested_checkpoint_request_id', 4)"))],
        ),
    ];
    for (name, seed) in cases {
        let mut steps = vec![setup(v13.clone())];
        steps.extend(seed.clone());
        steps.push(init());
        d.check(&format!("13 -> 14: {name}"), &steps);
        // And back down (recreates $local only if target_checkpoint_request_id exists), then
        // up again after the $local row advanced.
        steps.push(migrate(13));
        d.check(&format!("13 -> 14 -> 13: {name}"), &steps);
        steps.push(setup("UPDATE ps_buckets SET last_op = last_op + 10, last_applied_op = last_applied_op + 20 WHERE name = '$local'"));
        steps.push(init());
        d.check(&format!("13 -> 14 -> 13 -> 14: {name}"), &steps);
    }
    let (_, conn) = d.check(
        "13 -> 14 $local 5/6/7 values",
        &[setup(v13.clone()), setup(bucket(5, 6, 7)), setup(kv("")), init()],
    );
    assert_eq!(
        common::rows(
            &conn,
            "SELECT key, value FROM ps_kv WHERE key != 'client_id' ORDER BY key"
        ),
        vec![
            vec![
                Value::Text("last_applied_checkpoint_request_id".into()),
                Value::Integer(5)
            ],
            vec![
                Value::Text("last_seen_checkpoint_request_id".into()),
                Value::Integer(6)
            ],
            vec![
                Value::Text("target_checkpoint_request_id".into()),
                Value::Integer(7)
            ],
        ]
    );
    assert!(common::rows(&conn, "SELECT 1 FROM ps_buckets WHERE name = '$local'").is_empty());
    // 14 -> 13 with keys written by the sync client at version 14.
    for keys in [
        "('target_checkpoint_request_id', 9)",
        "('target_checkpoint_request_id', '12'), ('last_seen_checkpoint_request_id', 4)",
        "('last_seen_checkpoint_request_id', 4), ('last_applied_checkpoint_request_id', 3)",
        "('target_checkpoint_request_id', 9), ('last_seen_checkpoint_request_id', 8), ('last_applied_checkpoint_request_id', 7), ('last_requested_checkpoint_request_id', 10)",
    ] {
        d.check(
            &format!("14 -> 13 with {keys}"),
            &[init(), setup(format!("INSERT INTO ps_kv(key, value) VALUES {keys}")), setup("INSERT INTO ps_buckets(name) VALUES ('b')"), migrate(13), init()],
        );
    }
}

fn timestamps_and_sync_state(d: &mut Diff) {
    // Version 6 -> 7: ps_kv.last_synced_at copied to ps_sync_state (key kept).
    for value in ["'2024-01-02 03:04:05'", "1700000000", "NULL"] {
        d.check(
            &format!("6 -> 7 with last_synced_at {value}"),
            &[
                setup(fx_at("expectedState", 6)),
                setup(format!("INSERT INTO ps_kv VALUES ('last_synced_at', {value})")),
                migrate(7),
            ],
        );
    }
    d.check(
        "6 -> 14 with last_synced_at",
        &[
            setup(fx_at("expectedState", 6)),
            setup("INSERT INTO ps_kv VALUES ('last_synced_at', '2024-01-02 03:04:05')"),
            init(),
        ],
    );
    // Version 7 -> 8: duplicate priorities collapse to the latest timestamp.
    d.check(
        "7 -> 8 duplicate priorities",
        &[
            setup(fx_at("expectedState", 7)),
            setup("INSERT INTO ps_sync_state VALUES (1, '2024-01-01 00:00:00'), (1, '2024-02-01 00:00:00'), (2147483647, '2023-05-05 05:05:05')"),
            migrate(8),
            migrate(7),
        ],
    );
    // Version 12 -> 13: seconds to microseconds, text timestamps to microseconds.
    let seeded12 = vec![
        setup(fx_at("expectedState", 12)),
        setup("INSERT INTO ps_sync_state VALUES (1, '2024-01-02 03:04:05'), (2147483647, '2025-03-01T10:00:00.123Z')"),
        setup("INSERT INTO ps_stream_subscriptions(stream_name, active, is_default, local_params, ttl, expires_at, last_synced_at) VALUES ('s', 1, 0, 'null', 60, 1700000000, 1690000000), ('t', 0, 1, '{}', NULL, NULL, NULL)"),
    ];
    let mut steps = seeded12.clone();
    steps.push(init());
    let (_, conn) = d.check("12 -> 14 timestamps", &steps);
    assert_eq!(
        common::rows(
            &conn,
            "SELECT priority, last_synced_at FROM ps_sync_state ORDER BY priority"
        ),
        vec![
            vec![Value::Integer(1), Value::Integer(1_704_164_645_000_000)],
            vec![Value::Integer(2147483647), Value::Integer(1_740_823_200_000_000)],
        ]
    );
    steps.push(migrate(12));
    d.check("12 -> 14 -> 12 timestamps", &steps);
    let mut steps = seeded12;
    steps.push(setup("INSERT INTO ps_sync_state VALUES (5, 'not a date')"));
    steps.push(init());
    d.check("12 -> 13 with an unparsable timestamp", &steps);
}

fn client_ids(d: &mut Diff) {
    // Only version 3 creates a client id; a database at 3+ without one stays without.
    d.check(
        "version 3 without client id",
        &[
            setup(fx_at("expectedState", 3)),
            init(),
            call("SELECT count(*) FROM ps_kv"),
        ],
    );
    d.check(
        "14 -> 2 -> 14 makes a new client id",
        &[init(), migrate(2), init()],
    );
    d.check(
        "14 -> 3 keeps the client id",
        &[
            init(),
            setup("UPDATE ps_kv SET value = 'fixed' WHERE key = 'client_id'"),
            migrate(3),
            init(),
        ],
    );
}

fn foreign_and_broken_down_scripts(d: &mut Diff) {
    let v15 = |script: &str| {
        setup(format!(
            "INSERT INTO ps_migration(id, down_migrations) VALUES (15, '{}')",
            script.replace('\'', "''")
        ))
    };
    let cases: Vec<(&str, Vec<Step>)> = vec![
        (
            "version 15 written by a newer library",
            vec![
                setup("CREATE TABLE ps_future(x)"),
                v15(r#"[{"sql":"DROP TABLE ps_future"},{"sql":"DELETE FROM ps_migration WHERE id >= 15"}]"#),
            ],
        ),
        (
            "version 15 failing statement",
            vec![v15(r#"[{"sql":"select nosuchfn()"}]"#)],
        ),
        (
            "version 15 not lowering the version",
            vec![v15(r#"[{"sql":"select 1"}]"#)],
        ),
        (
            "version 15 NULL script",
            vec![setup("INSERT INTO ps_migration VALUES (15, NULL)")],
        ),
        ("version 15 empty script", vec![v15("[]")]),
        ("version 15 malformed JSON", vec![v15("notjson")]),
        (
            "version 15 object instead of array",
            vec![v15(r#"{"sql":"DELETE FROM ps_migration WHERE id = 15"}"#)],
        ),
        (
            "version 15 entry without sql",
            vec![v15(
                r#"[{"x":1},{"sql":"DELETE FROM ps_migration WHERE id = 15"}]"#,
            )],
        ),
        ("version 15 sql null", vec![v15(r#"[{"sql":null}]"#)]),
        ("version 15 numeric sql", vec![v15(r#"[{"sql":5}]"#)]),
        ("version 15 real sql", vec![v15(r#"[{"sql":1.5e300}]"#)]),
        (
            "version 15 bare string entry",
            vec![v15(r#"["DELETE FROM ps_migration WHERE id = 15"]"#)],
        ),
        (
            "version 15 empty sql",
            vec![v15(
                r#"[{"sql":""},{"sql":"DELETE FROM ps_migration WHERE id = 15"}]"#,
            )],
        ),
        (
            "version 15 multi-statement entry, partially applied",
            vec![
                setup("CREATE TABLE ps_future(x)"),
                v15(r#"[{"sql":"DROP TABLE ps_future; select nosuch"}]"#),
            ],
        ),
        (
            "version 15 statement returning rows",
            vec![
                setup("CREATE TABLE ps_future(x); INSERT INTO ps_future VALUES (1), (2), (3)"),
                v15(
                    r#"[{"sql":"SELECT x FROM ps_future"},{"sql":"DELETE FROM ps_migration WHERE id = 15"}]"#,
                ),
            ],
        ),
        (
            "version 15 lowering two versions",
            vec![v15(r#"[{"sql":"DELETE FROM ps_migration WHERE id >= 14"}]"#)],
        ),
        (
            "versions 15 and 16",
            vec![
                v15(r#"[{"sql":"DELETE FROM ps_migration WHERE id = 15"}]"#),
                setup(
                    r#"INSERT INTO ps_migration VALUES (16, '[{"sql":"DELETE FROM ps_migration WHERE id = 16"}]')"#,
                ),
            ],
        ),
        (
            "versions 15 and 16, 16 empty",
            vec![
                v15(r#"[{"sql":"DELETE FROM ps_migration WHERE id = 15"}]"#),
                setup("INSERT INTO ps_migration VALUES (16, '[]')"),
            ],
        ),
        (
            "version above 2^32",
            vec![setup(
                r#"INSERT INTO ps_migration VALUES (4294967299, '[{"sql":"DELETE FROM ps_migration WHERE id = 4294967299"}]')"#,
            )],
        ),
        (
            "version 20 above 2^32",
            vec![setup(
                r#"INSERT INTO ps_migration VALUES (4294967316, '[{"sql":"DELETE FROM ps_migration WHERE id = 4294967316"}]')"#,
            )],
        ),
        (
            "stored down script 9 broken",
            vec![setup(
                "UPDATE ps_migration SET down_migrations = '[{\"sql\":\"select nosuch\"}]' WHERE id = 9",
            )],
        ),
    ];
    for (name, seed) in cases {
        let mut steps = vec![init()];
        steps.extend(seed);
        steps.push(init());
        d.check(&format!("{name}: init"), &steps);
        *steps.last_mut().unwrap() = migrate(8);
        d.check(&format!("{name}: down to 8"), &steps);
    }
    d.check("test_migration(0) on version 1", &[migrate(1), migrate(0)]);
    d.check("test_migration(0) on version 14", &[init(), migrate(0)]);
    d.check(
        "version 1 with a down script",
        &[
            migrate(1),
            setup("UPDATE ps_migration SET down_migrations = '[{\"sql\":\"DELETE FROM ps_migration\"}]'"),
            migrate(0),
            init(),
        ],
    );
}

fn argument_and_state_errors(d: &mut Diff) {
    // Outside a transaction.
    for sql in ["SELECT powersync_init()", "SELECT powersync_test_migration(3)"] {
        let conn = open_ours();
        let ours = common::eval(&conn, sql);
        assert_eq!(ours.as_ref().unwrap_err().0, 21);
        let r = common::open_reference("outside a transaction");
        assert_eq!(ours, common::eval(&r, sql), "{sql}");
        d.cases += 1;
    }
    for arg in [
        "'abc'",
        "NULL",
        "2.9",
        "-5",
        "4294967299",
        "100",
        "'7'",
        "x'35'",
        "1e10",
        "-1e300",
    ] {
        d.check(
            &format!("test_migration({arg})"),
            &[init(), call(format!("SELECT powersync_test_migration({arg})"))],
        );
    }
    for sql in [
        "SELECT powersync_test_migration()",
        "SELECT powersync_test_migration(1, 2)",
        "SELECT powersync_init(1)",
    ] {
        d.check(sql, &[call(sql)]);
    }
    // A foreign ps_migration table.
    for (name, ddl) in [
        ("ps_migration without id", "CREATE TABLE ps_migration(x)"),
        (
            "ps_migration with text ids",
            "CREATE TABLE ps_migration(id, down_migrations); INSERT INTO ps_migration VALUES ('a', NULL)",
        ),
        (
            "ps_migration with version 3 only",
            "CREATE TABLE ps_migration(id, down_migrations); INSERT INTO ps_migration VALUES (3, NULL)",
        ),
        (
            "ps_migration as a view",
            "CREATE VIEW ps_migration AS SELECT 1 AS id, NULL AS down_migrations",
        ),
    ] {
        d.check(&format!("{name}: init"), &[setup(ddl), init()]);
        d.check(&format!("{name}: down"), &[setup(ddl), migrate(2)]);
    }
}

/// A trigger failing the `ps_migration` insert of step k makes both implementations report
/// the script of that step: compares every script's exact text.
fn every_up_script_text(d: &mut Diff) {
    for k in 1..=14 {
        let mut steps = Vec::new();
        if k > 1 {
            steps.push(migrate(k - 1));
        } else {
            steps.push(setup(
                "CREATE TABLE ps_migration(id INTEGER PRIMARY KEY, down_migrations TEXT)",
            ));
        }
        if k == 6 {
            steps.push(setup(DATA_TABLES));
        }
        steps.push(setup(format!(
            "CREATE TRIGGER probe BEFORE INSERT ON ps_migration WHEN NEW.id = {k} BEGIN SELECT RAISE(FAIL, 'probe'); END"
        )));
        steps.push(migrate(k));
        let (ours, _) = d.check(&format!("script of step {k}"), &steps);
        assert!(matches!(ours.results.last(), Some(Err((1811, _)))), "{ours:?}");
    }
}

fn up_step_conflicts(d: &mut Diff) {
    let cases = [
        (0, "CREATE TABLE ps_oplog(a)"),
        (0, "CREATE TABLE ps_crud(a)"),
        (1, "CREATE TABLE ps_tx(a)"),
        (2, "CREATE TABLE ps_kv(a)"),
        (3, "ALTER TABLE ps_buckets ADD COLUMN op_checksum INTEGER"),
        (4, "CREATE TABLE ps_updated_rows(a)"),
        (4, "CREATE TABLE x(a); CREATE TRIGGER tx AFTER INSERT ON x BEGIN DELETE FROM ps_oplog; END"),
        (4, "INSERT INTO ps_buckets(name) VALUES ('b'); INSERT INTO ps_oplog(bucket, op_id, op, row_type, row_id, key, data, hash, superseded) VALUES ('b', 1, 3, 't', 'r', 'k', '{}', -5, 0), ('b', 2, 4, 't', 'r2', 'k2', NULL, 7, 1), ('other', 3, 3, 't', 'r3', 'k3', '{}', 9, 0)"),
        (6, "CREATE TABLE ps_sync_state(a)"),
        (6, "INSERT INTO ps_kv VALUES ('last_synced_at', x'00')"),
        (7, "CREATE TABLE ps_sync_state_old(a)"),
        (8, "ALTER TABLE ps_buckets ADD COLUMN count_at_last INTEGER"),
        (9, "CREATE TABLE ps_stream_subscriptions(a)"),
        (11, "ALTER TABLE ps_buckets ADD COLUMN downloaded_size INTEGER"),
        (12, "CREATE TABLE ps_sync_state_old(a)"),
        (13, "DROP TABLE ps_kv"),
        (13, "ALTER TABLE ps_buckets RENAME COLUMN target_op TO t"),
    ];
    for (version, sql) in cases {
        let start = if version == 0 {
            setup("CREATE TABLE ps_migration(id INTEGER PRIMARY KEY, down_migrations TEXT)")
        } else {
            migrate(version)
        };
        d.check(&format!("at {version}: {sql}"), &[start, setup(sql), init()]);
    }
    // Down scripts failing on unexpected state.
    for (version, sql) in [
        (14, "DROP TABLE ps_kv"),
        (13, "CREATE TABLE ps_sync_state_new(a)"),
        (5, "CREATE TABLE ps_buckets_5(a)"),
    ] {
        d.check(
            &format!("down from 14 with {sql}"),
            &[init(), setup(sql), migrate(version - 1)],
        );
    }
}

fn drop_view(d: &mut Diff) {
    let views = "CREATE TABLE t(a); CREATE VIEW v AS SELECT a FROM t; CREATE VIEW \"q\"\"v\" AS SELECT 1; CREATE VIEW \"5\" AS SELECT 5;";
    for arg in ["'v'", "'q\"v'", "NULL", "'nosuch'", "'t'", "5", "''", "'V'"] {
        d.check(
            &format!("powersync_drop_view({arg})"),
            &[setup(views), call(format!("SELECT powersync_drop_view({arg})"))],
        );
    }
    // Outside a transaction too.
    let conn = open_ours();
    conn.execute_batch("CREATE VIEW v AS SELECT 1").unwrap();
    assert_eq!(
        common::eval(&conn, "SELECT powersync_drop_view('v')"),
        Ok(Value::Null)
    );
    assert!(common::rows(&conn, "SELECT 1 FROM sqlite_master WHERE name = 'v'").is_empty());
}

// ---------------------------------------------------------------------------------------------
// Behaviour that needs no reference

#[test]
fn rust_api_migrates_and_reports_errors() {
    let conn = open_ours();
    conn.execute_batch("BEGIN").unwrap();
    powersync_core::migrations::migrate_to(&conn, 5).unwrap();
    let v: i64 = conn
        .query_row("SELECT max(id) FROM ps_migration", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 5);
    powersync_core::migrations::powersync_init(&conn).unwrap();
    let v: i64 = conn
        .query_row("SELECT max(id) FROM ps_migration", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, powersync_core::migrations::LATEST_VERSION as i64);
    let err = powersync_core::migrations::migrate_to(&conn, 0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Down migration failed - version not updated from 1"
    );
    assert_eq!(err.code(), 4);
}

#[test]
fn stored_down_scripts_match_appendix_a() {
    let spec = include_str!("../migrations_fixtures/migration-fixtures.json");
    let fixtures: Json = serde_json::from_str(spec).unwrap();
    let conn = open_ours();
    conn.execute_batch("BEGIN").unwrap();
    conn.query_row("SELECT powersync_init()", [], |_| Ok(())).unwrap();
    let expected: Vec<String> = fixture_entries(fixtures["finalState"].as_str().unwrap())
        .into_iter()
        .filter(|e| e.starts_with("INSERT INTO ps_migration"))
        .collect();
    let ours: Vec<String> = schema_entries(&conn)
        .into_iter()
        .filter(|e| e.starts_with("INSERT INTO ps_migration"))
        .collect();
    assert_eq!(ours.len(), 14);
    assert_eq!(ours, expected);
}
