//! Reading BSON values from a byte slice, without copying.
//!
//! A [`Parser`] covers one document body (its elements and terminator); nested documents get
//! their own parser over their bytes ([`Parser::document_scope`]), so a malformed length can
//! never make a nested document read past its parent.

use super::error::{BsonError, BsonErrorKind};

/// BSON element types this decoder accepts (everything a sync line can reasonably carry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ElementType {
    /// 0x01, f64.
    Double,
    /// 0x02, UTF-8 string.
    String,
    /// 0x03, embedded document.
    Document,
    /// 0x04, array (a document with keys "0", "1", …).
    Array,
    /// 0x05, binary data.
    Binary,
    /// 0x06, undefined (deprecated; read like null).
    Undefined,
    /// 0x07, 12-byte object id.
    ObjectId,
    /// 0x08, boolean.
    Boolean,
    /// 0x09, UTC datetime (read as an unsigned 64-bit integer, as the reference does).
    DatetimeUtc,
    /// 0x0A, null.
    Null,
    /// 0x10, 32-bit integer.
    Int32,
    /// 0x11, timestamp (read as an unsigned 64-bit integer).
    Timestamp,
    /// 0x12, 64-bit integer.
    Int64,
}

impl ElementType {
    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0x01 => Self::Double,
            0x02 => Self::String,
            0x03 => Self::Document,
            0x04 => Self::Array,
            0x05 => Self::Binary,
            0x06 => Self::Undefined,
            0x07 => Self::ObjectId,
            0x08 => Self::Boolean,
            0x09 => Self::DatetimeUtc,
            0x0A => Self::Null,
            0x10 => Self::Int32,
            0x11 => Self::Timestamp,
            0x12 => Self::Int64,
            _ => return None,
        })
    }

    /// The type code on the wire.
    pub(super) fn code(self) -> u8 {
        match self {
            Self::Double => 0x01,
            Self::String => 0x02,
            Self::Document => 0x03,
            Self::Array => 0x04,
            Self::Binary => 0x05,
            Self::Undefined => 0x06,
            Self::ObjectId => 0x07,
            Self::Boolean => 0x08,
            Self::DatetimeUtc => 0x09,
            Self::Null => 0x0A,
            Self::Int32 => 0x10,
            Self::Timestamp => 0x11,
            Self::Int64 => 0x12,
        }
    }
}

/// A cursor over the bytes of one document (or, at the top, over the whole input).
#[derive(Debug, Clone)]
pub(super) struct Parser<'de> {
    /// Offset reported in errors. Like the reference, type bytes and terminators are not
    /// counted, so this is not always the true position (see [`BsonError`]).
    offset: usize,
    remaining: &'de [u8],
}

impl<'de> Parser<'de> {
    /// A parser over the whole input.
    pub(super) fn new(input: &'de [u8]) -> Self {
        Self {
            offset: 0,
            remaining: input,
        }
    }

    /// An error at the current offset.
    pub(super) fn error(&self, kind: BsonErrorKind) -> BsonError {
        BsonError::at(self.offset, kind)
    }

    fn advance(&mut self, n: usize) -> Result<&'de [u8], BsonError> {
        if self.remaining.len() < n {
            return Err(self.error(BsonErrorKind::UnexpectedEof));
        }
        let (taken, rest) = self.remaining.split_at(n);
        self.remaining = rest;
        self.offset += n;
        Ok(taken)
    }

    fn advance_array<const N: usize>(&mut self) -> Result<[u8; N], BsonError> {
        let bytes = self.advance(N)?;
        Ok(bytes.try_into().expect("advance returns N bytes"))
    }

    /// Reads the type byte of the next element.
    pub(super) fn read_element_type(&mut self) -> Result<ElementType, BsonError> {
        let Some((&code, rest)) = self.remaining.split_first() else {
            return Err(self.error(BsonErrorKind::UnexpectedEof));
        };
        let Some(element_type) = ElementType::from_code(code) else {
            return Err(self.error(BsonErrorKind::UnknownElementType(code as i8)));
        };
        // Not counted in the offset, as in the reference.
        self.remaining = rest;
        Ok(element_type)
    }

    /// Reads a NUL-terminated key.
    pub(super) fn read_cstr(&mut self) -> Result<&'de str, BsonError> {
        let Some(len) = self.remaining.iter().position(|&b| b == 0) else {
            return Err(self.error(BsonErrorKind::UnexpectedEof));
        };
        let s = std::str::from_utf8(&self.remaining[..len])
            .map_err(|e| self.error(BsonErrorKind::InvalidUtf8(e)))?;
        self.advance(len + 1)?;
        Ok(s)
    }

    fn read_length(&mut self) -> Result<usize, BsonError> {
        let len = i32::from_le_bytes(self.advance_array()?);
        usize::try_from(len).map_err(|_| self.error(BsonErrorKind::InvalidSize))
    }

    /// Reads a string value: length (including the terminator), bytes, terminator.
    ///
    /// Like the reference, the byte announced as terminator is not checked.
    pub(super) fn read_string(&mut self) -> Result<&'de str, BsonError> {
        let len = self.read_length()?;
        if len == 0 {
            // The reference panics here (it slices `..len - 1`).
            return Err(self.error(BsonErrorKind::InvalidSize));
        }
        let bytes = self.advance(len)?;
        std::str::from_utf8(&bytes[..len - 1]).map_err(|e| self.error(BsonErrorKind::InvalidUtf8(e)))
    }

    /// Reads a binary value: length, subtype, bytes.
    pub(super) fn read_binary(&mut self) -> Result<&'de [u8], BsonError> {
        let len = self.read_length()?;
        let _subtype = self.advance(1)?;
        self.advance(len)
    }

    /// Reads a 12-byte object id.
    pub(super) fn read_object_id(&mut self) -> Result<&'de [u8], BsonError> {
        self.advance(12)
    }

    /// Reads a boolean (any non-zero byte is true).
    pub(super) fn read_bool(&mut self) -> Result<bool, BsonError> {
        Ok(self.advance(1)?[0] != 0)
    }

    /// Reads a little-endian f64.
    pub(super) fn read_double(&mut self) -> Result<f64, BsonError> {
        Ok(f64::from_le_bytes(self.advance_array()?))
    }

    /// Reads a little-endian i32.
    pub(super) fn read_int32(&mut self) -> Result<i32, BsonError> {
        Ok(i32::from_le_bytes(self.advance_array()?))
    }

    /// Reads a little-endian i64.
    pub(super) fn read_int64(&mut self) -> Result<i64, BsonError> {
        Ok(i64::from_le_bytes(self.advance_array()?))
    }

    /// Reads a little-endian u64 (datetimes and timestamps).
    pub(super) fn read_uint64(&mut self) -> Result<u64, BsonError> {
        Ok(u64::from_le_bytes(self.advance_array()?))
    }

    /// Reads a document's length and returns a parser over its body (elements and
    /// terminator), skipping those bytes in this parser.
    pub(super) fn document_scope(&mut self) -> Result<Parser<'de>, BsonError> {
        let len = self.read_length()?;
        if len < 5 {
            return Err(self.error(BsonErrorKind::InvalidSize));
        }
        let offset = self.offset;
        let body = self.advance(len - 4)?;
        Ok(Parser {
            offset,
            remaining: body,
        })
    }

    /// Consumes the terminator if only it is left. Once it has been consumed, this returns
    /// `false` again and the next read fails with an unexpected end of file (the reference
    /// behaves the same when a struct is decoded from a too-short array).
    pub(super) fn end_document(&mut self) -> Result<bool, BsonError> {
        match self.remaining {
            [0] => {
                self.remaining = &[];
                Ok(true)
            }
            [_] => Err(self.error(BsonErrorKind::UnexpectedEndOfDocument)),
            _ => Ok(false),
        }
    }
}
