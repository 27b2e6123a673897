//! The two row sources of an apply ([`super::rows`]) agree on random databases, including
//! the edge cases of the reference's query: op ids shared by several ops of a row (the first
//! in rowid order wins), op id 0 (no data), PUTs without data, ops of buckets without a
//! `ps_buckets` row, and `ps_updated_rows` entries with and without ops.

use super::rows::{candidates, lookups, scan, scan_sorted};
use crate::error::Result;
use rusqlite::{params, Connection};

fn db() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    crate::register(&conn).unwrap();
    conn.execute_batch("BEGIN; SELECT powersync_init(); COMMIT")
        .unwrap();
    conn
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

type Rows = Vec<(String, String, Option<String>)>;

fn collect(f: impl FnOnce(&mut dyn FnMut(&str, &str, Option<&str>) -> Result<()>) -> Result<()>) -> Rows {
    let mut out = Vec::new();
    f(&mut |t, id, d| {
        out.push((t.to_string(), id.to_string(), d.map(str::to_string)));
        Ok(())
    })
    .unwrap();
    out
}

/// Fills the tables directly (the sources only read them).
fn random_state(conn: &Connection, rng: &mut Rng) {
    conn.execute_batch("DELETE FROM ps_oplog; DELETE FROM ps_buckets; DELETE FROM ps_updated_rows")
        .unwrap();
    for b in 1..=4 {
        conn.execute(
            "INSERT INTO ps_buckets (id, name, last_applied_op) VALUES (?1, ?2, ?3)",
            params![b, format!("b{b}"), rng.below(40) as i64],
        )
        .unwrap();
    }
    let types = ["items", "other", "it"];
    for _ in 0..rng.below(120) {
        // Bucket 5 has no ps_buckets row.
        let bucket = rng.below(5) as i64 + 1;
        let op_id = rng.below(50) as i64;
        let t = types[rng.below(3) as usize];
        let id = format!("r{}", rng.below(12));
        let data = (rng.below(6) != 0).then(|| format!("{{\"v\":{}}}", rng.below(1000)));
        conn.execute(
            "INSERT INTO ps_oplog (bucket, op_id, key, row_type, row_id, data, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)",
            params![bucket, op_id, format!("{t}/{id}/null"), t, id, data],
        )
        .unwrap();
    }
    for _ in 0..rng.below(6) {
        conn.execute(
            "INSERT OR IGNORE INTO ps_updated_rows (row_type, row_id) VALUES (?1, ?2)",
            params![types[rng.below(3) as usize], format!("r{}", rng.below(15))],
        )
        .unwrap();
    }
}

#[test]
fn scan_and_query_publish_the_same_rows() {
    let conn = db();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let partial = [None, Some(r#"["b1"]"#), Some(r#"["b2","b3","b9"]"#)];
    let mut compared = 0;
    for _ in 0..300 {
        random_state(&conn, &mut rng);
        for names in partial {
            let a = collect(|sink| candidates(&conn, names, sink));
            let b = collect(|sink| scan(&conn, names, sink));
            assert_eq!(a, b, "scan, names {names:?}");
            for keys_only in [false, true] {
                let b = collect(|sink| scan_sorted(&conn, names, keys_only, sink));
                assert_eq!(a, b, "scan (keys only: {keys_only}), names {names:?}");
            }
            let c = collect(|sink| lookups(&conn, names, sink));
            assert_eq!(a, c, "lookups, names {names:?}");
            compared += a.len();
        }
    }
    assert!(compared > 1000);
}
