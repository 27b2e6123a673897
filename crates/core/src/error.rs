//! Error types shared by every part of the extension.
//!
//! Each variant maps to one of the reference's error categories (docs/sql-surface.md#the-error-model,
//! docs/protocol.md#the-error-model): the category decides both the SQLite result code and the wording after
//! the `<function name>: ` prefix, which SDKs and their tests match on.

use rusqlite::ffi;
use std::fmt;

/// SQLite's `SQLITE_CONSTRAINT_DATATYPE`, used by the reference for argument errors.
pub(crate) const SQLITE_CONSTRAINT_DATATYPE: i32 = 3091;

/// Result alias used throughout the crate.
pub type Result<T, E = PowerSyncError> = std::result::Result<T, E>;

/// An error raised by a PowerSync function, virtual table or the sync client.
///
/// Through SQL, it is the message of the SQLite error (after the function's name) and its
/// extended result code ([`code`](Self::code)), which SDKs match on:
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let conn = rusqlite::Connection::open_in_memory()?;
/// powersync_core::register(&conn)?;
/// conn.execute_batch("BEGIN; SELECT powersync_init();")?;
/// let err = conn
///     .query_row("SELECT powersync_replace_schema('{}')", [], |r| r.get::<_, String>(0))
///     .unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "powersync_replace_schema: invalid argument: . cause: missing field `tables` at line 1 column 2"
/// );
/// assert_eq!(err.sqlite_error().map(|e| e.extended_code), Some(3091)); // SQLITE_CONSTRAINT_DATATYPE
/// # Ok(())
/// # }
/// ```
// Non-exhaustive: new error categories can be added without breaking code that matches.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum PowerSyncError {
    /// A bad argument: malformed JSON, wrong types, unknown enum values.
    #[error("invalid argument: {desc}. cause: {}", cause.as_deref().unwrap_or("unknown"))]
    Argument {
        /// What was wrong (empty for JSON decoding errors, as in the reference).
        desc: String,
        /// The decoder's message, if any.
        cause: Option<String>,
    },
    /// The call is not valid in the current state.
    #[error("invalid state: {0}")]
    State(String),
    /// One of the functions that must run inside a transaction was called in autocommit mode.
    #[error("This function may only be called in transactions.")]
    NotInTransaction,
    /// The sync service sent something that violates the protocol.
    #[error("Sync protocol error: {desc}. cause: {}", cause.as_deref().unwrap_or("unknown"))]
    Protocol {
        /// What was wrong, naming the line type and field.
        desc: String,
        /// The decoder's message, if any.
        cause: Option<String>,
    },
    /// `ps_kv` has no `client_id` row.
    #[error("No client_id found in ps_kv")]
    MissingClientId,
    /// A stored down migration ran but did not lower the schema version.
    #[error("Down migration failed - version not updated from {0}")]
    DownMigrationDidNotUpdate(i64),
    /// Data stored locally (e.g. `ps_oplog.data`) could not be interpreted.
    #[error("invalid local data: cause: {0}")]
    LocalData(String),
    /// An invariant of the extension itself was violated.
    #[error("Internal PowerSync error. cause: {}", .0.as_deref().unwrap_or("unknown"))]
    Internal(Option<String>),
    /// An error returned by SQLite while running one of our statements.
    #[error("{}", format_sqlite(sql.as_deref(), *code, message, context.as_deref()))]
    Sqlite {
        /// The statement that failed, if known.
        sql: Option<String>,
        /// SQLite's extended result code.
        code: i32,
        /// `sqlite3_errmsg` at the time of the failure.
        message: String,
        /// What the extension was doing, e.g. `replacing into users, id = 1`.
        context: Option<String>,
    },
    /// A statement contained a NUL character and could not be handed to SQLite (the
    /// reference fails while converting it to a C string).
    #[error("Allocating c string: nul byte found in provided data at position: {0}")]
    NulInString(usize),
    /// An error whose message is reported verbatim, without category wording.
    #[error("{message}")]
    Plain {
        /// SQLite (extended) result code.
        code: i32,
        /// Message text.
        message: String,
    },
}

fn format_sqlite(sql: Option<&str>, code: i32, message: &str, context: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(sql) = sql {
        out.push_str("statement ");
        out.push_str(sql);
        out.push_str(": ");
    }
    out.push_str("internal SQLite call returned ");
    out.push_str(&code_name(code));
    out.push_str(": ");
    out.push_str(message);
    if let Some(ctx) = context {
        out.push_str(" (context: ");
        out.push_str(ctx);
        out.push(')');
    }
    out
}

impl PowerSyncError {
    /// An argument error with a fixed description and no decoder cause.
    pub(crate) fn argument(desc: impl Into<String>) -> Self {
        Self::Argument {
            desc: desc.into(),
            cause: None,
        }
    }

    /// An argument error caused by JSON decoding (empty description, as in the reference).
    pub(crate) fn json_argument(err: impl fmt::Display) -> Self {
        Self::Argument {
            desc: String::new(),
            cause: Some(err.to_string()),
        }
    }

    /// An invalid-state error.
    pub(crate) fn state(desc: impl Into<String>) -> Self {
        Self::State(desc.into())
    }

    /// Wraps a rusqlite error raised while running `sql`.
    pub(crate) fn sqlite(sql: impl Into<String>, err: rusqlite::Error) -> Self {
        Self::from_rusqlite(Some(sql.into()), err)
    }

    /// Wraps a rusqlite error, remembering the statement text if known.
    pub(crate) fn from_rusqlite(sql: Option<String>, err: rusqlite::Error) -> Self {
        match err {
            rusqlite::Error::SqliteFailure(e, msg) => Self::Sqlite {
                sql,
                code: e.extended_code,
                message: msg.unwrap_or_else(|| e.to_string()),
                context: None,
            },
            other => match input_error(&other) {
                // Prepare errors carry the offending token's offset; the reference reports
                // only sqlite3_errmsg.
                Some((code, message)) => Self::Sqlite {
                    sql,
                    code,
                    message,
                    context: None,
                },
                None => Self::Sqlite {
                    sql,
                    code: ffi::SQLITE_ERROR,
                    message: other.to_string(),
                    context: None,
                },
            },
        }
    }

    /// Adds context to an SQLite error (other errors are returned unchanged).
    pub(crate) fn with_context(mut self, ctx: impl Into<String>) -> Self {
        if let Self::Sqlite { context, .. } = &mut self {
            *context = Some(ctx.into());
        }
        self
    }

    /// The SQLite extended result code to report for this error.
    pub fn code(&self) -> i32 {
        match self {
            Self::Argument { .. } => SQLITE_CONSTRAINT_DATATYPE,
            Self::State(_) | Self::NotInTransaction => ffi::SQLITE_MISUSE,
            Self::Protocol { .. } | Self::MissingClientId | Self::DownMigrationDidNotUpdate(_) => {
                ffi::SQLITE_ABORT
            }
            Self::LocalData(_) => ffi::SQLITE_CORRUPT,
            Self::NulInString(_) => ffi::SQLITE_FORMAT,
            Self::Internal(_) => ffi::SQLITE_INTERNAL,
            Self::Sqlite { code, .. } | Self::Plain { code, .. } => *code,
        }
    }
}

/// The extended code and `sqlite3_errmsg` of rusqlite's `Error::SqlInputError` (a prepare
/// error pointing at a token), whose display appends the statement and the offset.
///
/// The variant exists in rusqlite 0.43 but in 0.39 only with its `modern_sqlite` feature, so
/// it cannot be named here; its `msg` field is read back from the derived `Debug` output.
fn input_error(err: &rusqlite::Error) -> Option<(i32, String)> {
    let debug = format!("{err:?}");
    let fields = debug.strip_prefix("SqlInputError {")?;
    // `error: Error { code: .., extended_code: .. }` comes first and contains no strings.
    let start = fields.find(" msg: \"")? + " msg: \"".len();
    let message = unescape_debug_str(&fields[start..])?;
    let code = std::error::Error::source(err)
        .and_then(|source| source.downcast_ref::<ffi::Error>())
        .map_or(ffi::SQLITE_ERROR, |e| e.extended_code);
    Some((code, message))
}

/// Reads a string literal as written by `<str as Debug>::fmt` (after its opening quote) up to
/// its closing quote.
fn unescape_debug_str(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = text.chars();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                '0' => out.push('\0'),
                'u' => {
                    let braced: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    let hex = braced.strip_prefix('{')?;
                    out.push(char::from_u32(u32::from_str_radix(hex, 16).ok()?)?);
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
}

impl From<rusqlite::Error> for PowerSyncError {
    fn from(err: rusqlite::Error) -> Self {
        Self::from_rusqlite(None, err)
    }
}

/// Converts into a rusqlite error, for trait methods (virtual tables) that must return one.
impl From<PowerSyncError> for rusqlite::Error {
    fn from(err: PowerSyncError) -> Self {
        let code = err.code();
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), Some(err.to_string()))
    }
}

/// Errors of the sync protocol crate, with the same message; a store error raised here
/// comes back as it was.
impl From<powersync_protocol::Error> for PowerSyncError {
    fn from(err: powersync_protocol::Error) -> Self {
        use powersync_protocol::Error as P;
        match err {
            P::Argument { desc, cause } => Self::Argument { desc, cause },
            P::State(desc) => Self::State(desc),
            P::Protocol { desc, cause } => Self::Protocol { desc, cause },
            P::Internal(cause) => Self::Internal(cause),
            P::Store(err) => match err.downcast::<PowerSyncError>() {
                Ok(err) => *err,
                Err(other) => Self::Internal(Some(other.to_string())),
            },
        }
    }
}

/// For [`SyncStore`](powersync_protocol::client::SyncStore) methods: carried through the
/// state machine unchanged.
impl From<PowerSyncError> for powersync_protocol::Error {
    fn from(err: PowerSyncError) -> Self {
        Self::store(err)
    }
}

/// Adds the statement text to rusqlite results.
pub(crate) trait SqlResultExt<T> {
    /// Maps an error to [`PowerSyncError::Sqlite`] naming `sql`.
    fn sql_context(self, sql: &str) -> Result<T>;
}

impl<T> SqlResultExt<T> for rusqlite::Result<T> {
    fn sql_context(self, sql: &str) -> Result<T> {
        self.map_err(|e| PowerSyncError::sqlite(sql, e))
    }
}

/// The name the reference prints for an SQLite result code (e.g. `BUSY`, `CONSTRAINT_NOTNULL`).
pub(crate) fn code_name(code: i32) -> String {
    if code == 5000 {
        // `ResultCode::NULL` of the reference's SQLite bindings, reported when a column it
        // expected to be text was NULL (e.g. a down-migration entry without `sql`).
        return "NULL".to_string();
    }
    let primary = match code & 0xff {
        0 => "OK",
        1 => "ERROR",
        2 => "INTERNAL",
        3 => "PERM",
        4 => "ABORT",
        5 => "BUSY",
        6 => "LOCKED",
        7 => "NOMEM",
        8 => "READONLY",
        9 => "INTERRUPT",
        10 => "IOERR",
        11 => "CORRUPT",
        12 => "NOTFOUND",
        13 => "FULL",
        14 => "CANTOPEN",
        15 => "PROTOCOL",
        16 => "EMPTY",
        17 => "SCHEMA",
        18 => "TOOBIG",
        19 => "CONSTRAINT",
        20 => "MISMATCH",
        21 => "MISUSE",
        22 => "NOLFS",
        23 => "AUTH",
        24 => "FORMAT",
        25 => "RANGE",
        26 => "NOTADB",
        27 => "NOTICE",
        28 => "WARNING",
        100 => "ROW",
        101 => "DONE",
        _ => return format!("{code}"),
    };
    if code == code & 0xff {
        return primary.to_string();
    }
    let extended = match code {
        275 => "CONSTRAINT_CHECK",
        531 => "CONSTRAINT_COMMITHOOK",
        787 => "CONSTRAINT_FOREIGNKEY",
        1043 => "CONSTRAINT_FUNCTION",
        1299 => "CONSTRAINT_NOTNULL",
        1555 => "CONSTRAINT_PRIMARYKEY",
        1811 => "CONSTRAINT_TRIGGER",
        2067 => "CONSTRAINT_UNIQUE",
        2323 => "CONSTRAINT_VTAB",
        2579 => "CONSTRAINT_ROWID",
        2835 => "CONSTRAINT_PINNED",
        3091 => "CONSTRAINT_DATATYPE",
        261 => "BUSY_RECOVERY",
        517 => "BUSY_SNAPSHOT",
        773 => "BUSY_TIMEOUT",
        262 => "LOCKED_SHAREDCACHE",
        518 => "LOCKED_VTAB",
        264 => "READONLY_RECOVERY",
        520 => "READONLY_CANTLOCK",
        776 => "READONLY_ROLLBACK",
        1032 => "READONLY_DBMOVED",
        267 => "CORRUPT_VTAB",
        516 => "ABORT_ROLLBACK",
        1 => "ERROR",
        _ => return primary.to_string(),
    };
    extended.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn argument_error_wording() {
        let e = PowerSyncError::argument("Unknown operation");
        assert_eq!(
            e.to_string(),
            "invalid argument: Unknown operation. cause: unknown"
        );
        assert_eq!(e.code(), 3091);
    }

    #[test]
    fn prepare_errors_report_only_the_sqlite_message() {
        // A token-level error: rusqlite 0.43 (and 0.39 with `modern_sqlite`) reports it as
        // `SqlInputError`, whose display appends the statement and the offset.
        let conn = Connection::open_in_memory().unwrap();
        let sql = "SELECT \"a\\b\u{e9}\n\" FROM nowhere";
        let err = PowerSyncError::sqlite(sql, conn.prepare(sql).unwrap_err());
        let PowerSyncError::Sqlite { code, message, .. } = err else {
            panic!("not an SQLite error: {err:?}");
        };
        assert_eq!((code, message.as_str()), (1, "no such table: nowhere"));
        let err = PowerSyncError::from(conn.prepare("SELECT 1 FROM \"t\\é\" WHERE WHERE").unwrap_err());
        assert_eq!(
            err.to_string(),
            "internal SQLite call returned ERROR: near \"WHERE\": syntax error"
        );
    }

    #[test]
    fn debug_strings_are_unescaped() {
        for text in [
            "plain",
            "quote \" and \\ backslash",
            "tab\tnew\nline\r\0",
            "\u{1}\u{7f}é\u{301}",
        ] {
            let debug = format!("{text:?}");
            assert_eq!(unescape_debug_str(&debug[1..]).as_deref(), Some(text));
        }
        assert_eq!(unescape_debug_str("unterminated"), None);
    }

    #[test]
    fn sqlite_error_wording() {
        let e = PowerSyncError::Sqlite {
            sql: Some("DELETE FROM ps_buckets WHERE name = ?1 RETURNING id".into()),
            code: 5,
            message: "database is locked".into(),
            context: None,
        };
        assert_eq!(
            e.to_string(),
            "statement DELETE FROM ps_buckets WHERE name = ?1 RETURNING id: internal SQLite call returned BUSY: database is locked"
        );
        let e = e.with_context("deleting from t, id = 1");
        assert!(e.to_string().ends_with("(context: deleting from t, id = 1)"));
        assert_eq!(code_name(1299), "CONSTRAINT_NOTNULL");
    }
}
