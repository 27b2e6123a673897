//! Timestamps read through SQLite, so that they follow the VFS clock (SDK test suites fake
//! time there) — never the OS clock (docs/protocol.md#conventions).

/// `unixepoch('subsec')` exists from SQLite 3.42 on.
const SUBSEC_VERSION: i32 = 3_042_000;

/// Microseconds since the epoch with millisecond resolution, as the reference computes it.
const SUBSEC_SQL: &str = "SELECT CAST(unixepoch('subsec') * 1000000 AS INTEGER)";

/// The same value on older SQLite: whole seconds plus the millisecond part of `%f`. Both
/// `'now'` reads see the same instant, as SQLite fixes 'now' for one statement step.
const LEGACY_SQL: &str = "SELECT CAST(strftime('%s', 'now') AS INTEGER) * 1000000 + CAST(substr(strftime('%f', 'now'), 4) AS INTEGER) * 1000";

/// The query returning the current timestamp on the running SQLite version.
pub fn now_sql(version: i32) -> &'static str {
    if version >= SUBSEC_VERSION {
        SUBSEC_SQL
    } else {
        LEGACY_SQL
    }
}

/// The timestamp query for the SQLite library `conn` actually runs on. The version number
/// decides; a probe confirms that `'subsec'` is understood (the version reported to a
/// loadable extension has been seen to disagree with the host's SQLite).
pub fn now_sql_for(conn: &rusqlite::Connection) -> &'static str {
    let sql = now_sql(rusqlite::version_number());
    if sql == SUBSEC_SQL {
        let works = conn
            .query_row("SELECT unixepoch('subsec') IS NOT NULL", [], |r| {
                r.get::<_, bool>(0)
            })
            .unwrap_or(false);
        if !works {
            return LEGACY_SQL;
        }
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn both_forms_agree() {
        let conn = Connection::open_in_memory().unwrap();
        for _ in 0..20 {
            let a: i64 = conn.query_row(SUBSEC_SQL, [], |r| r.get(0)).unwrap();
            let b: i64 = conn.query_row(LEGACY_SQL, [], |r| r.get(0)).unwrap();
            assert_eq!(a % 1000, 0);
            assert_eq!(b % 1000, 0);
            assert!((b - a).abs() < 50_000, "{a} {b}");
        }
        assert_eq!(now_sql(3_040_000), LEGACY_SQL);
        assert_eq!(now_sql(3_045_000), SUBSEC_SQL);
    }
}
