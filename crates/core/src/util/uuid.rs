//! `uuid()` / `gen_random_uuid()`: random version-4 UUIDs (docs/sql-surface.md#uuid).

use crate::error::Result;
use crate::sql_fn::{self, Output};
use rusqlite::Connection;

/// A new random (version 4, RFC 4122 variant) UUID as lowercase hyphenated text.
pub(crate) fn random_uuid() -> Result<String> {
    let mut bytes = [0u8; 16];
    #[cfg(feature = "getrandom")]
    getrandom::fill(&mut bytes)
        .map_err(|e| crate::PowerSyncError::Internal(Some(format!("no randomness: {e}"))))?;
    #[cfg(not(feature = "getrandom"))]
    crate::ffi::sqlite_randomness(&mut bytes);
    Ok(::uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string())
}

/// Registers `uuid()` and its alias `gen_random_uuid()` (no flags: not deterministic).
pub(crate) fn register(conn: &Connection) -> Result<()> {
    for name in ["gen_random_uuid", "uuid"] {
        sql_fn::register(conn, name, 0, 0, |_| Ok(Output::Text(random_uuid()?)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_is_v4() {
        for _ in 0..100 {
            let u = random_uuid().unwrap();
            let b = u.as_bytes();
            assert_eq!(u.len(), 36);
            assert_eq!((b[8], b[13], b[18], b[23]), (b'-', b'-', b'-', b'-'));
            assert_eq!(b[14], b'4');
            assert!(matches!(b[19], b'8' | b'9' | b'a' | b'b'), "{u}");
            assert!(u
                .chars()
                .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)));
        }
    }
}
