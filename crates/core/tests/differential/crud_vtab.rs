//! Differential tests of direct writes to the CRUD virtual tables (`powersync_crud`,
//! `powersync_crud_`) against the reference: every SQL type in every column, empty-PATCH
//! rules, transaction ids across explicit transactions and savepoints, the ps_kv write gate,
//! ps_updated_rows, and the error cases (missing tables, rows, malformed JSON).
use crate::common;

use powersync_testkit::crud::{crud_state, run, same, same_script};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;

/// Both connections with the internal tables of `powersync_init()`.
fn initialized() -> (Connection, common::RefConn) {
    let (ours, reference) = common::both("reference");
    common::each(
        &ours,
        &reference,
        "BEGIN; SELECT powersync_init(); COMMIT;",
        |conn| {
            conn.execute_batch("BEGIN; SELECT powersync_init(); COMMIT;")
                .unwrap();
        },
    );
    (ours, reference)
}

/// SQL literals of every storage class, chosen to hit the interesting conversions.
const ANY: &[&str] = &[
    "NULL",
    "0",
    "-5",
    "9223372036854775807",
    "1.5",
    "1e20",
    "-0.0",
    "1e-300",
    "''",
    "'x'",
    "'PUT'",
    "'PATCH'",
    "'DELETE'",
    "'{}'",
    "'{ }'",
    "'{\"a\":1}'",
    "'not json'",
    "'é😀日本'",
    "'q\"uote\\back'",
    "char(0, 1, 8, 9, 10, 12, 13, 31, 127)",
    "'line\nbreak'",
    "x''",
    "x'41'",
    "x'ff00fe'",
    "x'7b7d'",
    "json('{\"k\":[1,2]}')",
    "json_object('op', 'PATCH', 'data', json('{}'))",
];

const OPS: &[&str] = &["'PUT'", "'PATCH'", "'DELETE'", "'PATCH'", "'patch'", "NULL", "7"];
const DATA: &[&str] = &[
    "'{}'",
    "'{}'",
    "'{ }'",
    "json('{}')",
    "'{\"a\":1}'",
    "'[]'",
    "NULL",
    "5",
    "x'7b7d'",
    "'not json'",
];
const OPTIONS: &[&str] = &[
    "NULL",
    "0",
    "16",
    "16",
    "17",
    "31",
    "8",
    "'16'",
    "16.9",
    "'abc'",
    "4294967312",
    "-1",
    "x'3136'",
];
const MANUAL_DATA: &[&str] = &[
    "'{\"op\":\"PATCH\",\"type\":\"t\",\"id\":\"1\",\"data\":{}}'",
    "'{\"op\":\"PATCH\",\"type\":\"t\",\"id\":\"1\",\"data\":{ }}'",
    "'{\"op\":\"PATCH\",\"data\":{\"a\":1}}'",
    "'{\"op\":\"PUT\",\"type\":\"t\",\"id\":\"1\",\"data\":{}}'",
    "'{\"op\":\"PATCH\"}'",
    "'{\"data\":{}}'",
    "json_object('op', 'PATCH', 'data', json('{}'))",
    "'not json'",
    "'[]'",
    "NULL",
    "3",
    "x'7b7d'",
    "''",
];

struct Gen(StdRng);

impl Gen {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.0.random_range(0..from.len())]
    }

    fn any(&mut self) -> &'static str {
        self.pick(ANY)
    }

    /// One random write statement (possibly multi-row, possibly failing).
    fn write(&mut self) -> String {
        match self.0.random_range(0..10) {
            0..=4 => {
                let op = if self.0.random_bool(0.7) { self.pick(OPS) } else { self.any() };
                let id = if self.0.random_bool(0.7) { self.pick(&["'1'", "'2'", "'a b'"]) } else { self.any() };
                let ty = if self.0.random_bool(0.7) { self.pick(&["'t'", "'u'"]) } else { self.any() };
                let data = if self.0.random_bool(0.7) { self.pick(DATA) } else { self.any() };
                let old = if self.0.random_bool(0.5) { self.pick(DATA) } else { self.any() };
                let meta = self.any();
                let options = if self.0.random_bool(0.8) { self.pick(OPTIONS) } else { self.any() };
                match self.0.random_range(0..5) {
                    0 => format!("INSERT INTO powersync_crud VALUES ({op}, {id}, {ty}, {data}, {old}, {meta})"),
                    1 => format!("INSERT INTO powersync_crud(op, id, type) VALUES ({op}, {id}, {ty})"),
                    2 => format!("INSERT INTO powersync_crud(rowid, op, id, type, data, options) VALUES (42, {op}, {id}, {ty}, {data}, {options})"),
                    3 => format!(
                        "INSERT INTO powersync_crud(op, id, type, data, old_values, metadata, options) VALUES ({op}, {id}, {ty}, {data}, {old}, {meta}, {options}), ('PUT', 'm', 't', '{{}}', NULL, NULL, NULL)"
                    ),
                    _ => format!("INSERT INTO powersync_crud(op, id, type, data, old_values, metadata, options) VALUES ({op}, {id}, {ty}, {data}, {old}, {meta}, {options})"),
                }
            }
            5..=7 => {
                let data = if self.0.random_bool(0.8) { self.pick(MANUAL_DATA) } else { self.any() };
                let options = if self.0.random_bool(0.8) { self.pick(OPTIONS) } else { self.any() };
                match self.0.random_range(0..3) {
                    0 => format!("INSERT INTO powersync_crud_ VALUES ({data})"),
                    1 => format!("INSERT INTO powersync_crud_(data, options) VALUES ({data}, {options}), ({data}, 0)"),
                    _ => format!("INSERT INTO powersync_crud_(data, options) VALUES ({data}, {options})"),
                }
            }
            8 => self
                .pick(&[
                    "INSERT INTO powersync_crud(op, id, type, data) SELECT 'PUT', 'sel' || value, 't', '{}' FROM json_each('[1,2,3]')",
                    "INSERT INTO powersync_crud(op, id, type) SELECT 'PUT', 'none', 't' WHERE 0",
                    // Explicit negative rowids (new rows get max + 1, and the client_id row keeps that
                    // positive): a new ps_kv row's rowid otherwise depends on the gate row's, which
                    // moves on every gate close in the reference (REPLACE) and stays in ours
                    // (UPDATE; docs/compatibility.md).
                    "INSERT INTO ps_kv(rowid, key, value) VALUES (-1000, 'last_seen_checkpoint_request_id', 3) ON CONFLICT DO UPDATE SET value = 3",
                    "INSERT OR REPLACE INTO ps_kv(rowid, key, value) VALUES (-1001, 'last_applied_checkpoint_request_id', 2)",
                    "DELETE FROM ps_kv WHERE key != 'client_id'",
                    "DELETE FROM ps_crud WHERE id % 2 = 0",
                    "DELETE FROM ps_updated_rows",
                    "INSERT INTO powersync_crud(op, id, type) VALUES ('PUT', 'x', 't'), (NULL, 'y', 't'), ('PUT', 'z', 't')",
                ])
                .to_string(),
            _ => self
                .pick(&[
                    "BEGIN",
                    "BEGIN",
                    "COMMIT",
                    "COMMIT",
                    "ROLLBACK",
                    "SAVEPOINT s1",
                    "ROLLBACK TO s1",
                    "RELEASE s1",
                    "SAVEPOINT s2",
                    "ROLLBACK TO s2",
                ])
                .to_string(),
        }
    }
}

#[test]
fn random_writes_match_reference() {
    let (ours, reference) = initialized();
    let mut gen = Gen(StdRng::seed_from_u64(0x0c0d_ec2d));
    let mut cases = 0;
    let mut ok = 0;
    for i in 0..3000 {
        let sql = gen.write();
        ok += usize::from(same(&ours, &reference, &sql));
        same(
            &ours,
            &reference,
            "SELECT last_insert_rowid(), changes(), total_changes()",
        );
        cases += 1;
        if i % 25 == 0 {
            assert_eq!(crud_state(&ours), crud_state(&reference), "after {sql}");
        }
    }
    let _ = run(&ours, "COMMIT");
    let _ = run(&reference, "COMMIT");
    assert_eq!(crud_state(&ours), crud_state(&reference));
    let count = run(&ours, "SELECT count(*) FROM ps_crud").unwrap();
    assert_ne!(count[0][0], rusqlite::types::Value::Integer(0));
    // Both successes and failures must be exercised.
    assert!(
        ok > cases / 2 && ok < cases,
        "{ok} of {cases} statements succeeded"
    );
    common::report("crud_vtab::random_writes", cases);
}

#[test]
fn every_value_in_every_column_matches_reference() {
    let (ours, reference) = initialized();
    let mut cases = 0;
    let columns = ["op", "id", "type", "data", "old_values", "metadata", "options"];
    for i in 0..columns.len() {
        for value in ANY {
            let mut values = ["'PATCH'", "'1'", "'t'", "'{}'", "'{}'", "'m'", "16"];
            values[i] = value;
            let sql = format!(
                "INSERT INTO powersync_crud(op, id, type, data, old_values, metadata, options) VALUES ({})",
                values.join(", ")
            );
            same(&ours, &reference, &sql);
            cases += 1;
        }
    }
    for value in ANY {
        for options in ["0", "16", "NULL"] {
            same(
                &ours,
                &reference,
                &format!("INSERT INTO powersync_crud_(data, options) VALUES ({value}, {options})"),
            );
            cases += 1;
        }
    }
    assert_eq!(crud_state(&ours), crud_state(&reference));
    common::report("crud_vtab::every_value", cases);
}

#[test]
fn transactions_and_gate_match_reference() {
    let (ours, reference) = initialized();
    let script = r#"
INSERT INTO powersync_crud(op, id, type, data) VALUES ('PUT', '1', 't', '{"a":1}')
;;
INSERT INTO powersync_crud_(data) VALUES ('{"op":"PUT","type":"i","id":"1","data":{}}')
;;
BEGIN
;;
INSERT INTO powersync_crud_(data) VALUES ('{"op":"PUT","type":"i","id":"2","data":{}}')
;;
INSERT INTO powersync_crud(op, id, type) VALUES ('DELETE', '1', 't')
;;
INSERT INTO ps_kv(key, value) VALUES ('last_seen_checkpoint_request_id', 5)
;;
INSERT INTO powersync_crud(op, id, type) VALUES ('DELETE', '2', 't')
;;
COMMIT
;;
SELECT * FROM ps_kv WHERE key != 'client_id' ORDER BY key
;;
INSERT INTO ps_kv(key, value) VALUES ('last_applied_checkpoint_request_id', 5)
;;
INSERT INTO powersync_crud_(data) VALUES ('{"op":"PUT","type":"i","id":"3","data":{}}')
;;
SELECT * FROM ps_kv WHERE key != 'client_id' ORDER BY key
;;
INSERT INTO powersync_crud(op, id, type, data, options) VALUES ('PATCH', '1', 't', '{}', 16)
;;
SELECT * FROM ps_kv WHERE key != 'client_id' ORDER BY key
;;
INSERT INTO powersync_crud(op, id, type, data, options) VALUES ('PATCH', '1', 't', '{}', 0)
;;
SELECT * FROM ps_kv WHERE key != 'client_id' ORDER BY key
;;
BEGIN
;;
SAVEPOINT a
;;
INSERT INTO powersync_crud(op, id, type) VALUES ('PUT', 's', 't')
;;
ROLLBACK TO a
;;
INSERT INTO powersync_crud(op, id, type) VALUES ('PUT', 's2', 't')
;;
RELEASE a
;;
COMMIT
;;
BEGIN
;;
INSERT INTO powersync_crud(op, id, type) VALUES ('PUT', 'r', 't')
;;
ROLLBACK
;;
INSERT INTO powersync_crud(op, id, type) VALUES ('PUT', 'after-rollback', 't')
;;
CREATE TABLE uniq(x UNIQUE)
;;
INSERT INTO uniq VALUES (1)
;;
CREATE TRIGGER uniq_crud AFTER INSERT ON uniq BEGIN INSERT INTO powersync_crud(op, id, type) VALUES ('PUT', NEW.x, 'uniq'); END
;;
BEGIN
;;
INSERT INTO uniq VALUES (1)
;;
INSERT INTO uniq VALUES (2)
;;
COMMIT
;;
INSERT INTO uniq VALUES (3)
;;
INSERT INTO uniq VALUES (3)
;;
INSERT INTO uniq VALUES (4)
;;
SELECT id, data, tx_id FROM ps_crud ORDER BY id
;;
SELECT * FROM ps_tx
;;
SELECT * FROM ps_updated_rows ORDER BY 1, 2
;;
PRAGMA trusted_schema = OFF
;;
INSERT INTO uniq VALUES (5)
;;
PRAGMA trusted_schema = ON
;;
INSERT INTO uniq VALUES (5)
"#;
    let n = same_script(&ours, &reference, script);
    assert_eq!(crud_state(&ours), crud_state(&reference));
    common::report("crud_vtab::transactions_and_gate", n);
}

#[test]
fn missing_tables_and_rows_match_reference() {
    let (ours, reference) = common::both("reference");
    let script = r#"
INSERT INTO powersync_crud(op, id, type) VALUES ('PUT', 'a', 't')
;;
INSERT INTO powersync_crud_(data) VALUES ('{}')
;;
CREATE TABLE ps_tx(id INTEGER PRIMARY KEY NOT NULL, current_tx INTEGER, next_tx INTEGER)
;;
INSERT INTO powersync_crud(op, id, type) VALUES ('PUT', 'a', 't')
;;
INSERT INTO powersync_crud_(data) VALUES ('{}')
;;
INSERT INTO ps_tx VALUES (1, NULL, NULL)
;;
INSERT INTO powersync_crud(op, id, type) VALUES ('PUT', 'a', 't')
;;
INSERT INTO powersync_crud_(data) VALUES ('{}')
;;
CREATE TABLE ps_crud (id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT, tx_id INTEGER)
;;
INSERT INTO powersync_crud_(data) VALUES ('{}')
;;
INSERT INTO powersync_crud(op, id, type) VALUES ('PUT', 'a', 't')
;;
CREATE TABLE ps_updated_rows(row_type TEXT, row_id TEXT, PRIMARY KEY(row_type, row_id)) STRICT, WITHOUT ROWID
;;
INSERT INTO powersync_crud(op, id, type) VALUES ('PUT', 'a', 't')
;;
CREATE TABLE ps_kv(key TEXT PRIMARY KEY NOT NULL, value BLOB)
;;
INSERT INTO powersync_crud(op, id, type) VALUES ('PUT', 'a', 't')
;;
INSERT INTO powersync_crud_(data, options) VALUES ('not json', 16)
;;
INSERT INTO powersync_crud_(data, options) VALUES ('not json', 0)
;;
UPDATE ps_tx SET next_tx = 'abc'
;;
INSERT INTO powersync_crud_(data) VALUES ('text next_tx')
;;
UPDATE ps_tx SET next_tx = 9223372036854775807
;;
INSERT INTO powersync_crud_(data) VALUES ('max next_tx')
;;
UPDATE ps_tx SET next_tx = 2.5
;;
INSERT INTO powersync_crud_(data) VALUES ('real next_tx')
;;
SELECT id, data, tx_id, typeof(tx_id) FROM ps_crud ORDER BY id
;;
SELECT * FROM ps_tx
;;
SELECT * FROM ps_kv ORDER BY key
;;
SELECT * FROM ps_updated_rows
;;
DROP TABLE ps_crud
;;
CREATE TABLE ps_crud (id INTEGER PRIMARY KEY, data TEXT NOT NULL, tx_id INTEGER)
;;
INSERT INTO powersync_crud_(data) VALUES (NULL)
;;
INSERT INTO powersync_crud(op, id, type) VALUES ('PUT', 'a', 't')
;;
DROP TABLE ps_updated_rows
;;
CREATE TABLE ps_updated_rows(row_type TEXT CHECK (row_type != 'bad'), row_id TEXT)
;;
INSERT INTO powersync_crud(op, id, type) VALUES ('PUT', 'a', 'bad')
;;
SELECT count(*) FROM ps_crud
"#;
    let n = same_script(&ours, &reference, script);
    common::report("crud_vtab::missing_tables", n);
}
