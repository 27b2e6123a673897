//! The protocol crate's error type.
//!
//! Its variants are the error categories the sync client raises itself (the wording of each
//! is the reference's, docs/protocol.md#the-error-model); storage errors pass through
//! [`Error::Store`] untouched. The SQL layer turns them into SQLite errors (result codes are
//! not known here) without changing a byte of the message.

/// Result alias of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error of the sync protocol or the state machine, or one passed through from storage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad argument: malformed JSON, wrong types, unknown enum values.
    #[error("invalid argument: {desc}. cause: {}", cause.as_deref().unwrap_or("unknown"))]
    Argument {
        /// What was wrong (empty for JSON decoding errors, as in the reference).
        desc: String,
        /// The decoder's message, if any.
        cause: Option<String>,
    },
    /// The event is not valid in the current state.
    #[error("invalid state: {0}")]
    State(String),
    /// The sync service sent something that violates the protocol.
    #[error("Sync protocol error: {desc}. cause: {}", cause.as_deref().unwrap_or("unknown"))]
    Protocol {
        /// What was wrong, naming the line type and field.
        desc: String,
        /// The decoder's message, if any.
        cause: Option<String>,
    },
    /// An invariant of the state machine itself was violated.
    #[error("Internal PowerSync error. cause: {}", .0.as_deref().unwrap_or("unknown"))]
    Internal(Option<String>),
    /// An error of the [`SyncStore`](crate::client::SyncStore), returned as it was raised
    /// (the caller gets its own error type back by downcasting).
    #[error("{0}")]
    Store(Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl Error {
    /// An argument error with a fixed description and no decoder cause.
    pub fn argument(desc: impl Into<String>) -> Self {
        Self::Argument {
            desc: desc.into(),
            cause: None,
        }
    }

    /// An argument error caused by JSON decoding (empty description, as in the reference).
    pub fn json_argument(err: impl std::fmt::Display) -> Self {
        Self::Argument {
            desc: String::new(),
            cause: Some(err.to_string()),
        }
    }

    /// A sync protocol error.
    pub fn protocol(desc: impl Into<String>, cause: Option<String>) -> Self {
        Self::Protocol {
            desc: desc.into(),
            cause,
        }
    }

    /// An invalid-state error.
    pub fn state(desc: impl Into<String>) -> Self {
        Self::State(desc.into())
    }

    /// Wraps an error of the store.
    pub fn store(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Store(Box::new(err))
    }
}
