//! Errors of the BSON decoder, worded like the reference's (they become the `cause` of
//! `invalid binary line` protocol errors).

use serde::de;
use std::fmt;
use std::str::Utf8Error;

/// What went wrong while decoding BSON.
#[derive(Debug, Clone, PartialEq)]
pub enum BsonErrorKind {
    /// A serde-level error (wrong type, missing field, bad scalar value).
    Custom(String),
    /// Fewer bytes than a length or fixed-size value announced.
    UnexpectedEof,
    /// A document, string or binary length that cannot be valid (negative, too small).
    InvalidSize,
    /// An element type code this decoder does not support (printed as a signed byte).
    UnknownElementType(i8),
    /// The last byte of a document is not the 0 terminator.
    UnexpectedEndOfDocument,
    /// An enum (line type, subscription reason) encoded as an empty document.
    UnexpectedEndOfDocumentForEnumVariant,
    /// An enum encoded as something other than a string or a document.
    ExpectedEnum(u8),
    /// A unit enum variant (e.g. an op type) encoded as a document.
    ExpectedString,
    /// A key or string that is not valid UTF-8.
    InvalidUtf8(Utf8Error),
    /// Structured values nested deeper than [`super::de::MAX_DEPTH`] (unreachable with the line
    /// types, whose nesting is bounded).
    TooDeep,
}

impl fmt::Display for BsonErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Custom(msg) => write!(f, "custom {msg}"),
            Self::UnexpectedEof => f.write_str("unexpected end of file"),
            Self::InvalidSize => f.write_str("invalid document size"),
            Self::UnknownElementType(code) => write!(f, "unknown element code: {code}"),
            Self::UnexpectedEndOfDocument => f.write_str("unexpected end of document"),
            Self::UnexpectedEndOfDocumentForEnumVariant => {
                f.write_str("unexpected end of document for enum variant")
            }
            Self::ExpectedEnum(code) => write!(f, "expected enum, got {code}"),
            Self::ExpectedString => f.write_str("expected a string value"),
            Self::InvalidUtf8(e) => write!(f, "cstring with non-utf8 content: {e}"),
            Self::TooDeep => f.write_str("documents nested too deeply"),
        }
    }
}

/// A BSON decoding error with the offset it was detected at, if known.
///
/// Offsets follow the reference's bookkeeping, which does not count element type bytes and
/// document terminators (so they can be smaller than the true byte position); matching them
/// keeps error messages identical.
#[derive(Debug, Clone, PartialEq)]
pub struct BsonError(Box<(Option<usize>, BsonErrorKind)>);

impl BsonError {
    /// An error detected at `offset`.
    pub fn at(offset: usize, kind: BsonErrorKind) -> Self {
        Self(Box::new((Some(offset), kind)))
    }

    /// The offset, if known (serde-level errors have none).
    pub fn offset(&self) -> Option<usize> {
        self.0 .0
    }

    /// What went wrong.
    pub fn kind(&self) -> &BsonErrorKind {
        &self.0 .1
    }
}

impl fmt::Display for BsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset() {
            Some(offset) => write!(f, "bson error, at {offset}: {}", self.kind()),
            None => write!(f, "bson error at unknown offset: {}", self.kind()),
        }
    }
}

impl std::error::Error for BsonError {}

impl de::Error for BsonError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(Box::new((None, BsonErrorKind::Custom(msg.to_string()))))
    }
}
