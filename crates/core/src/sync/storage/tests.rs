//! Storage and apply tests on a real (in-memory) database.

use super::SqlStore;
use crate::state::ConnectionState;
use crate::sync::apply::RawTableCache;
use crate::sync::client::store::{ApplyMode, SyncStore};
use crate::sync::protocol::parse_text;
use rusqlite::Connection;

fn db() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    crate::register(&conn).unwrap();
    conn.execute_batch("BEGIN; SELECT powersync_init(); SELECT powersync_replace_schema('{\"tables\":[{\"name\":\"items\",\"columns\":[{\"name\":\"col\",\"type\":\"text\"}]}]}'); COMMIT")
        .unwrap();
    conn
}

fn with_store<T>(conn: &Connection, f: impl FnOnce(&mut SqlStore<'_>) -> T) -> T {
    let state = ConnectionState::default();
    let mut cache = RawTableCache::default();
    let mut store = SqlStore {
        conn,
        state: &state,
        raw_tables: &[],
        raw_cache: &mut cache,
        statements: &mut Default::default(),
        now_sql: super::time::now_sql(rusqlite::version_number()),
    };
    f(&mut store)
}

fn data(store: &mut SqlStore<'_>, json: &str) {
    let crate::sync::protocol::SyncLine::Data(line) = parse_text(json).unwrap() else {
        panic!()
    };
    store.insert_data_line(&line, json.len()).unwrap();
}

fn checksums(conn: &Connection) -> (i64, i64, i64, i64) {
    conn.query_row(
        "SELECT add_checksum, op_checksum, count_since_last, last_op FROM ps_buckets WHERE name = 'a'",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .unwrap()
}

fn op(id: i64, op: &str, row: &str, checksum: i64) -> String {
    format!(
        r#"{{"op_id":"{id}","op":"{op}","object_type":"items","object_id":"{row}","checksum":{checksum},"data":"{{}}"}}"#
    )
}

#[test]
fn worked_example_of_the_spec() {
    let conn = db();
    with_store(&conn, |s| {
        let line = format!(
            r#"{{"data":{{"bucket":"a","data":[{},{},{},{},{}]}}}}"#,
            op(1, "PUT", "r1", 5),
            op(2, "PUT", "r2", 7),
            op(3, "PUT", "r1", 11),
            op(4, "REMOVE", "r2", 13),
            r#"{"op_id":"5","op":"MOVE","checksum":17}"#
        );
        data(s, &line);
        assert_eq!(checksums(&conn), (42, 11, 5, 5));
        let size: i64 = conn
            .query_row("SELECT downloaded_size FROM ps_buckets", [], |r| r.get(0))
            .unwrap();
        assert_eq!(size, line.len() as i64);
        let updated: i64 = conn
            .query_row("SELECT count(*) FROM ps_updated_rows", [], |r| r.get(0))
            .unwrap();
        assert_eq!(updated, 0);
    });
}

#[test]
fn remove_after_apply_records_updated_row_and_clear_resets() {
    let conn = db();
    with_store(&conn, |s| {
        data(
            s,
            &format!(
                r#"{{"data":{{"bucket":"a","data":[{}]}}}}"#,
                op(1, "PUT", "r2", 7)
            ),
        );
        s.set_last_op(&["a"], 1).unwrap();
        s.apply(ApplyMode::Full, 1000).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM ps_data__items", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        data(
            s,
            &format!(
                r#"{{"data":{{"bucket":"a","data":[{}]}}}}"#,
                op(2, "REMOVE", "r2", 13)
            ),
        );
        let rows: Vec<(String, String)> = conn
            .prepare("SELECT row_type, row_id FROM ps_updated_rows")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, vec![("items".to_string(), "r2".to_string())]);
        s.set_last_op(&["a"], 2).unwrap();
        s.apply(ApplyMode::Full, 2000).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM ps_data__items", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        // CLEAR: checksum replaced, oplog emptied.
        data(
            s,
            &format!(
                r#"{{"data":{{"bucket":"a","data":[{},{{"op_id":"4","op":"CLEAR","checksum":42}}]}}}}"#,
                op(3, "PUT", "r3", 1)
            ),
        );
        assert_eq!(checksums(&conn).0, 42);
        assert_eq!(checksums(&conn).1, 0);
        let ops: i64 = conn
            .query_row("SELECT count(*) FROM ps_oplog", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ops, 0);
    });
}

#[test]
fn checksums_masked_and_validated() {
    let conn = db();
    with_store(&conn, |s| {
        data(
            s,
            &format!(
                r#"{{"data":{{"bucket":"a","data":[{},{}]}}}}"#,
                op(1, "PUT", "x", 4294967295),
                op(2, "PUT", "y", 2)
            ),
        );
        let (add, opsum, _, _) = checksums(&conn);
        assert_eq!((add, opsum), (0, 1));
        assert!(s
            .validate_checksums(&[("a", 1), ("missing", 0)])
            .unwrap()
            .is_empty());
        let f = s.validate_checksums(&[("a", 2)]).unwrap();
        assert_eq!(
            f[0].describe(),
            "a (expected 0x00000002, got 0x00000001 = 0x00000001 (op) + 0x00000000 (add))"
        );
        let hash: i64 = conn
            .query_row("SELECT hash FROM ps_oplog WHERE row_id = 'x'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(hash, -1);
    });
}

#[test]
fn write_gate_and_untyped_routing() {
    let conn = db();
    with_store(&conn, |s| {
        assert!(!s.write_gate_closed().unwrap());
        s.set_kv("target_checkpoint_request_id", 5).unwrap();
        assert!(s.write_gate_closed().unwrap());
        s.set_kv("last_seen_checkpoint_request_id", 5).unwrap();
        assert!(!s.write_gate_closed().unwrap());
        conn.execute("INSERT INTO ps_crud (data) VALUES ('{}')", [])
            .unwrap();
        assert!(s.write_gate_closed().unwrap());
        data(
            s,
            r#"{"data":{"bucket":"a","data":[{"op_id":"1","op":"PUT","object_type":"other","object_id":"o","checksum":1,"data":"{\"z\":1}"}]}}"#,
        );
        s.set_last_op(&["a"], 1).unwrap();
        s.apply(
            ApplyMode::Partial {
                priority: 0,
                buckets: &["a"],
            },
            7000,
        )
        .unwrap();
        let row: String = conn
            .query_row("SELECT data FROM ps_untyped WHERE type = 'other'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(row, r#"{"z":1}"#);
        let state: (i64, i64) = conn
            .query_row("SELECT priority, last_synced_at FROM ps_sync_state", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(state, (0, 7000));
    });
}

#[test]
fn now_has_millisecond_resolution() {
    let conn = db();
    with_store(&conn, |s| {
        let now = s.now().unwrap();
        assert_eq!(now % 1000, 0);
        assert!(now > 1_700_000_000_000_000);
    });
}

/// Batched writes of data lines leave exactly the database (rowids included) of writing one
/// op at a time, on random lines full of repeated keys, CLEARs, applied buckets and gaps in
/// the rowids. Both with the oplog indexes and in bulk mode (without them).
#[test]
fn batched_lines_match_one_op_at_a_time() {
    batched_lines_match(false);
    batched_lines_match(true);
}

fn batched_lines_match(indexed: bool) {
    let (batched, single, kept) = (db(), db(), db());
    for conn in [&batched, &single, &kept] {
        if indexed {
            // An oplog that is not empty when the sync starts keeps its indexes.
            conn.execute_batch("INSERT INTO ps_oplog (bucket, op_id, key, row_type, row_id, data, hash) VALUES (999, 1, 'x/y/null', 'x', 'y', NULL, 0)").unwrap();
        }
    }
    // `kept` keeps its statements (and bulk mode's key set) from line to line; the others
    // start each line afresh, so bulk mode rebuilds the set from the table every time.
    let mut statements = crate::sync::statements::HotStatements::default();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut below = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let dump = |conn: &Connection| -> Vec<String> {
        let mut out = Vec::new();
        for sql in [
            "SELECT rowid, * FROM ps_oplog ORDER BY rowid",
            "SELECT * FROM ps_buckets ORDER BY id",
            "SELECT * FROM ps_updated_rows",
        ] {
            let mut stmt = conn.prepare(sql).unwrap();
            let n = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    (0..n)
                        .map(|i| r.get::<_, rusqlite::types::Value>(i))
                        .collect::<Result<Vec<_>, _>>()
                })
                .unwrap();
            out.extend(rows.map(|r| format!("{:?}", r.unwrap())));
        }
        out
    };
    let mut op_id = 0;
    for round in 0..400 {
        let bucket = format!("b{}", below(3));
        let n = below(if round % 10 == 0 { 300 } else { 12 }) + 1;
        let ops: Vec<String> = (0..n)
            .map(|_| {
                op_id += 1;
                let row = format!("r{}", below(10));
                let checksum = below(1 << 32);
                match below(100) {
                    0..=54 => {
                        let subkey = if below(5) == 0 { r#","subkey":"s""# } else { "" };
                        format!(r#"{{"op_id":"{op_id}","op":"PUT","object_type":"items","object_id":"{row}","checksum":{checksum},"data":"{{}}"{subkey}}}"#)
                    }
                    // Keys with a `/` inside a part: the same key `a/b/c/d` for three rows
                    // (looked up through the key index, not the row index).
                    55..=59 => {
                        let (t, id, subkey) = [("a", "b", "c/d"), ("a", "b/c", "d"), ("a/b", "c", "d")][below(3) as usize];
                        format!(r#"{{"op_id":"{op_id}","op":"PUT","object_type":"{t}","object_id":"{id}","subkey":"{subkey}","checksum":{checksum},"data":"{{}}"}}"#)
                    }
                    60..=84 => format!(r#"{{"op_id":"{op_id}","op":"REMOVE","object_type":"items","object_id":"{row}","checksum":{checksum}}}"#),
                    85..=89 => format!(r#"{{"op_id":"{op_id}","op":"PUT","checksum":{checksum},"data":null}}"#),
                    90..=97 => format!(r#"{{"op_id":"{op_id}","op":"MOVE","checksum":{checksum}}}"#),
                    _ => format!(r#"{{"op_id":"{op_id}","op":"CLEAR","checksum":{checksum}}}"#),
                }
            })
            .collect();
        let json = format!(r#"{{"data":{{"bucket":"{bucket}","data":[{}]}}}}"#, ops.join(","));
        let crate::sync::protocol::SyncLine::Data(line) = parse_text(&json).unwrap() else {
            panic!()
        };
        let side_effect = match below(10) {
            // An apply: supersedes are recorded from now on.
            0 => Some("UPDATE ps_buckets SET last_applied_op = last_op"),
            // Gaps: delete the greatest or a random op.
            1 => Some("DELETE FROM ps_oplog WHERE rowid = (SELECT max(rowid) FROM ps_oplog)"),
            2 => Some("DELETE FROM ps_oplog WHERE rowid % 7 = 3"),
            _ => None,
        };
        for (conn, one) in [(&batched, false), (&single, true)] {
            super::data::insert_line_with(conn, &mut Default::default(), &line, json.len(), one).unwrap();
            if let Some(sql) = side_effect {
                conn.execute_batch(sql).unwrap();
            }
        }
        super::data::insert_line_with(&kept, &mut statements, &line, json.len(), false).unwrap();
        if let Some(sql) = side_effect {
            kept.execute_batch(sql).unwrap();
        }
        assert_eq!(dump(&batched), dump(&single), "round {round}: {json}");
        assert_eq!(
            dump(&kept),
            dump(&single),
            "round {round} (kept statements): {json}"
        );
        let version: i64 = kept
            .query_row("SELECT max(id) FROM ps_migration", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, if indexed { 14 } else { 15 }, "round {round}");
    }
}

/// The sorts of the bulk finish and of the apply's scan run with half the caller's page
/// cache when the oplog outgrows it (`sort_memory`): the same rows, and the caller's
/// `cache_size` back afterwards, also when the apply fails.
#[test]
fn sorts_of_an_outgrown_cache_keep_rows_and_restore_cache_size() {
    let line = {
        let ops: Vec<String> = (1..=3000)
            .map(|i| {
                let data = format!(r#"{{\"col\":\"{}\"}}"#, "x".repeat(150 + i % 50));
                format!(
                    r#"{{"op_id":"{i}","op":"PUT","object_type":"items","object_id":"{:08x}-{i}","checksum":{i},"data":"{data}"}}"#,
                    (i as u64).wrapping_mul(2_654_435_761) % (1 << 32)
                )
            })
            .collect();
        format!(r#"{{"data":{{"bucket":"a","data":[{}]}}}}"#, ops.join(","))
    };
    let sync = |cache: i64, fail: bool| {
        let conn = db();
        conn.execute_batch(&format!("PRAGMA cache_size = {cache}"))
            .unwrap();
        // What the page cache is while the apply's scan publishes rows.
        conn.execute_batch("CREATE TABLE seen (cache_size); CREATE TRIGGER spy AFTER INSERT ON ps_data__items BEGIN INSERT INTO seen SELECT cache_size FROM pragma_cache_size; END")
            .unwrap();
        if fail {
            conn.execute_batch("CREATE TRIGGER boom BEFORE INSERT ON ps_data__items WHEN NEW.id LIKE '%-2999' BEGIN SELECT RAISE(ABORT, 'boom'); END")
                .unwrap();
        }
        let result = with_store(&conn, |s| {
            data(s, &line);
            s.apply(ApplyMode::Full, 0).map_err(|e| e.to_string())
        });
        let rows: Vec<(i64, String, String)> = conn
            .prepare("SELECT rowid, id, data FROM ps_data__items ORDER BY rowid")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let indexes: Vec<String> = conn
            .prepare(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'ps_oplog' AND type = 'index' ORDER BY name",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let cache_size: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0)).unwrap();
        let seen: Vec<i64> = conn
            .prepare("SELECT cache_size FROM seen GROUP BY cache_size ORDER BY min(rowid)")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        (result, rows, indexes, (seen, cache_size), pages)
    };
    // 64 KiB: 16 pages, far below the oplog; 8 MiB: it all fits.
    let (result, rows, indexes, cache_size, pages) = sync(-64, false);
    assert_eq!(result, Ok(()));
    // The writer's last batch of rows is written once the scan is over.
    assert_eq!(cache_size, (vec![-32, -64], -64));
    assert!(pages > 200, "the oplog outgrows the cache: {pages} pages");
    let (fits_result, fits_rows, fits_indexes, fits_cache_size, _) = sync(-8192, false);
    assert_eq!(fits_result, Ok(()));
    assert_eq!(fits_cache_size, (vec![-8192], -8192));
    assert_eq!(rows.len(), 3000);
    assert_eq!(rows, fits_rows);
    assert_eq!(indexes, fits_indexes);
    assert_eq!(indexes.len(), 3, "{indexes:?}");
    // In pages rather than KiB, and an apply that fails half way.
    let (result, _, _, cache_size, _) = sync(15, true);
    assert!(result.as_ref().is_err_and(|e| e.contains("boom")), "{result:?}");
    // The rows before the failing one were written with half the cache (and kept, in
    // autocommit here; an SDK rolls its transaction back).
    assert_eq!(cache_size, (vec![7], 15));
}
