//! Reading the current internal schema version, with SQLite's integer conversion.

use crate::error::{Result, SqlResultExt};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

/// Creates the migrations table itself (the only DDL outside the numbered steps).
pub(super) const CREATE_MIGRATION_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS ps_migration(id INTEGER PRIMARY KEY, down_migrations TEXT)";

/// The version query; its exact text appears in error messages.
const CURRENT_VERSION: &str = "SELECT ifnull(max(id), 0) as version FROM ps_migration";

/// The current version: the highest `ps_migration.id`, or 0.
pub(super) fn current(conn: &Connection) -> Result<i32> {
    let mut stmt = conn.prepare(CURRENT_VERSION).sql_context(CURRENT_VERSION)?;
    stmt.query_row([], |row| Ok(sqlite_int(row.get_ref(0)?)))
        .sql_context(CURRENT_VERSION)
}

/// Converts a value the way `sqlite3_value_int` / `sqlite3_column_int` do, which is how the
/// reference reads versions: text and blobs by their leading integer (`'12abc'` → 12,
/// `'2.9'` → 2, `'abc'` → 0), reals truncated and saturated, NULL → 0, and the 64-bit result
/// truncated to its low 32 bits.
pub fn sqlite_int(value: ValueRef<'_>) -> i32 {
    let wide = match value {
        ValueRef::Null => 0,
        ValueRef::Integer(i) => i,
        ValueRef::Real(r) => real_to_i64(r),
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => leading_integer(bytes),
    };
    wide as i32
}

/// SQLite's `doubleToInt64`: saturating, NaN → 0.
fn real_to_i64(r: f64) -> i64 {
    if r.is_nan() {
        0
    } else {
        // `as` saturates at the i64 bounds, matching SQLite's clamping.
        r as i64
    }
}

/// SQLite's `sqlite3Atoi64` prefix parse: optional whitespace and sign, then digits; stops at
/// the first other byte and saturates on overflow.
fn leading_integer(bytes: &[u8]) -> i64 {
    let mut rest = bytes;
    while let [b, tail @ ..] = rest {
        if b.is_ascii_whitespace() {
            rest = tail;
        } else {
            break;
        }
    }
    let negative = match rest.first() {
        Some(b'-') => {
            rest = &rest[1..];
            true
        }
        Some(b'+') => {
            rest = &rest[1..];
            false
        }
        _ => false,
    };
    let mut magnitude: u64 = 0;
    let mut overflow = false;
    for &b in rest.iter().take_while(|b| b.is_ascii_digit()) {
        match magnitude
            .checked_mul(10)
            .and_then(|m| m.checked_add(u64::from(b - b'0')))
        {
            Some(m) => magnitude = m,
            None => {
                overflow = true;
                break;
            }
        }
    }
    if negative {
        if overflow || magnitude > i64::MAX as u64 + 1 {
            i64::MIN
        } else {
            (magnitude as i64).wrapping_neg()
        }
    } else if overflow || magnitude > i64::MAX as u64 {
        i64::MAX
    } else {
        magnitude as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_like_sqlite3_value_int() {
        assert_eq!(sqlite_int(ValueRef::Null), 0);
        assert_eq!(sqlite_int(ValueRef::Integer(4_294_967_299)), 3);
        assert_eq!(sqlite_int(ValueRef::Integer(-1)), -1);
        assert_eq!(sqlite_int(ValueRef::Real(2.9)), 2);
        assert_eq!(sqlite_int(ValueRef::Real(-2.9)), -2);
        assert_eq!(sqlite_int(ValueRef::Real(f64::NAN)), 0);
        assert_eq!(sqlite_int(ValueRef::Text(b"abc")), 0);
        assert_eq!(sqlite_int(ValueRef::Text(b"  12abc")), 12);
        assert_eq!(sqlite_int(ValueRef::Text(b"-7")), -7);
        assert_eq!(sqlite_int(ValueRef::Text(b"2.9e3")), 2);
        assert_eq!(sqlite_int(ValueRef::Blob(b"5")), 5);
    }

    /// Cross-check with SQLite itself: `sqlite3_value_int` is what `CAST(x AS INT)` is not,
    /// but for these inputs both agree with the definition above.
    #[test]
    fn agrees_with_sqlite_for_plain_integers() {
        let conn = Connection::open_in_memory().unwrap();
        for text in ["0", "13", "-4", "99999999999999999999"] {
            let v: i64 = conn
                .query_row("SELECT CAST(?1 AS INTEGER)", [text], |r| r.get(0))
                .unwrap();
            assert_eq!(leading_integer(text.as_bytes()), v, "{text}");
        }
    }
}
