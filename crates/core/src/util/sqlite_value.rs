//! SQLite's own conversions of values, for arguments that SDKs (or tests) may pass with an
//! unexpected type: the reference reads them with `sqlite3_value_int` / `sqlite3_value_text`,
//! so we reproduce those conversions rather than rejecting such values.

use rusqlite::types::ValueRef;
use rusqlite::Connection;

/// `sqlite3_value_int64` of a value: integers as is, reals truncated (saturating), text and
/// blobs parsed like SQLite's `sqlite3Atoi64` (leading integer prefix, saturating), NULL 0.
pub(crate) fn int64_of(value: ValueRef<'_>) -> i64 {
    match value {
        ValueRef::Null => 0,
        ValueRef::Integer(i) => i,
        ValueRef::Real(r) => real_to_i64(r),
        ValueRef::Text(t) | ValueRef::Blob(t) => atoi64(t),
    }
}

/// `sqlite3_value_int`: [`int64_of`] truncated to 32 bits, as SQLite's C cast does.
pub(crate) fn int_of(value: ValueRef<'_>) -> i32 {
    int64_of(value) as i32
}

/// SQLite's `sqlite3RealToI64`.
fn real_to_i64(r: f64) -> i64 {
    if r < -9223372036854774784.0 {
        i64::MIN
    } else if r > 9223372036854774784.0 {
        i64::MAX
    } else {
        r as i64
    }
}

/// SQLite's `sqlite3Atoi64` for UTF-8 text, ignoring its return code: the value of the
/// leading (optionally signed) decimal integer, saturated to the i64 range; 0 if none.
fn atoi64(text: &[u8]) -> i64 {
    // sqlite3Isspace: space, \t, \n, \v, \f, \r.
    let is_space = |b: u8| b == b' ' || (0x09..=0x0d).contains(&b);
    let mut rest = text;
    while let [b, tail @ ..] = rest {
        if !is_space(*b) {
            break;
        }
        rest = tail;
    }
    let neg = match rest {
        [b'-', tail @ ..] => {
            rest = tail;
            true
        }
        [b'+', tail @ ..] => {
            rest = tail;
            false
        }
        _ => false,
    };
    while let [b'0', tail @ ..] = rest {
        rest = tail;
    }
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let saturated = if neg { i64::MIN } else { i64::MAX };
    if digits > 19 {
        return saturated;
    }
    let value = rest[..digits]
        .iter()
        .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
    match (neg, value) {
        (true, v) if v == 1u64 << 63 => i64::MIN,
        (_, v) if v > i64::MAX as u64 => saturated,
        (true, v) => -(v as i64),
        (false, v) => v as i64,
    }
}

/// SQLite's text form of a REAL (`%!.15g`, e.g. `1.0e+20`), as `sqlite3_value_text` and
/// `CAST(x AS TEXT)` produce it. Asked from SQLite itself to be exact; only needed for
/// unusual inputs, so the extra statement does not matter.
pub(crate) fn text_of_real(conn: &Connection, value: f64) -> rusqlite::Result<String> {
    conn.query_row("SELECT CAST(?1 AS TEXT)", [value], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_to_int() {
        let cases: &[(&str, i64)] = &[
            ("", 0),
            ("x", 0),
            ("12", 12),
            ("  -7abc", -7),
            ("+3", 3),
            ("2.5", 2),
            ("1e3", 1),
            ("000000000000000000000000042", 42),
            ("9223372036854775807", i64::MAX),
            ("9223372036854775808", i64::MAX),
            ("-9223372036854775808", i64::MIN),
            ("-9223372036854775809", i64::MIN),
            ("123456789012345678901", i64::MAX),
        ];
        for (text, want) in cases {
            assert_eq!(int64_of(ValueRef::Text(text.as_bytes())), *want, "{text:?}");
        }
        assert_eq!(int_of(ValueRef::Integer((1 << 32) + 16)), 16);
        assert_eq!(int_of(ValueRef::Real(2.9)), 2);
        assert_eq!(int64_of(ValueRef::Real(1e300)), i64::MAX);
    }
}

#[cfg(test)]
mod int_tests {
    use super::*;

    #[test]
    fn converts_like_sqlite3_value_int() {
        assert_eq!(int_of(ValueRef::Null), 0);
        assert_eq!(int_of(ValueRef::Integer(4_294_967_299)), 3);
        assert_eq!(int_of(ValueRef::Integer(-1)), -1);
        assert_eq!(int_of(ValueRef::Real(2.9)), 2);
        assert_eq!(int_of(ValueRef::Real(-2.9)), -2);
        assert_eq!(int_of(ValueRef::Real(f64::NAN)), 0);
        assert_eq!(int_of(ValueRef::Text(b"abc")), 0);
        assert_eq!(int_of(ValueRef::Text(b"  12abc")), 12);
        assert_eq!(int_of(ValueRef::Text(b"-7")), -7);
        assert_eq!(int_of(ValueRef::Text(b"2.9e3")), 2);
        assert_eq!(int_of(ValueRef::Blob(b"5")), 5);
    }

    #[test]
    fn agrees_with_sqlite_for_plain_integers() {
        let conn = Connection::open_in_memory().unwrap();
        for text in ["0", "13", "-4", "99999999999999999999"] {
            let v: i64 = conn
                .query_row("SELECT CAST(?1 AS INTEGER)", [text], |r| r.get(0))
                .unwrap();
            assert_eq!(int64_of(ValueRef::Text(text.as_bytes())), v, "{text}");
        }
    }
}
