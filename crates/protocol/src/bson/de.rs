//! A serde `Deserializer` over BSON bytes.
//!
//! Strings and byte arrays are handed to visitors as borrowed slices of the input, so decoding
//! a data line does not copy row data. The access pattern (and thus which error is reported
//! where) follows the reference's decoder: the top-level value is an enum whose variant is the
//! first element of the document; later elements and trailing bytes are never read.

use super::error::{BsonError, BsonErrorKind};
use super::parser::{ElementType, Parser};
use serde::de::{self, DeserializeSeed, Visitor};
use serde::forward_to_deserialize_any;

/// Maximum nesting of documents and arrays decoded into structured types (line types nest at
/// most 6 levels: line, body, buckets, bucket, subscriptions, reason). Ignored values (unknown
/// lines and fields) are skipped without recursion and may nest deeper, as in the reference;
/// the limit only guards the stack should a recursive type ever be decoded.
pub(super) const MAX_DEPTH: usize = 128;

/// Where the deserializer is within the current document.
#[derive(Debug, Clone, Copy)]
enum Position {
    /// Before the outermost document: the next value read is that document.
    OutsideOfDocument,
    /// After an element's type byte: its name comes next.
    BeforeName(ElementType),
    /// After an element's type and name: its value comes next.
    BeforeValue(ElementType),
}

/// Deserializes values from one BSON document scope.
pub struct Deserializer<'de> {
    parser: Parser<'de>,
    position: Position,
    depth: usize,
}

impl<'de> Deserializer<'de> {
    /// A deserializer whose next value is the document starting at the beginning of `input`.
    pub fn from_slice(input: &'de [u8]) -> Self {
        Self {
            parser: Parser::new(input),
            position: Position::OutsideOfDocument,
            depth: 0,
        }
    }

    /// The type of the value about to be read.
    fn value_type(&self) -> ElementType {
        match self.position {
            Position::OutsideOfDocument => ElementType::Document,
            Position::BeforeValue(t) => t,
            Position::BeforeName(_) => {
                unreachable!("values are only read after their element name")
            }
        }
    }

    /// A deserializer for the document (or array) value about to be read.
    fn object_reader(&mut self) -> Result<Deserializer<'de>, BsonError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.parser.error(BsonErrorKind::TooDeep));
        }
        let parser = self.parser.document_scope()?;
        Ok(Deserializer {
            parser,
            // Overwritten by the first element's type before it is used.
            position: Position::OutsideOfDocument,
            depth: self.depth + 1,
        })
    }

    /// Skips the value about to be read, validating it exactly as decoding it into
    /// `IgnoredAny` would (so the same errors are reported), but with an explicit stack
    /// instead of recursion: ignored values may nest arbitrarily deep.
    fn skip_value(&mut self) -> Result<(), BsonError> {
        let mut pending = Some(self.value_type());
        // Parsers of the documents entered so far, innermost last.
        let mut stack: Vec<Parser<'de>> = Vec::new();
        loop {
            if let Some(value_type) = pending.take() {
                let parser = stack.last_mut().unwrap_or(&mut self.parser);
                match value_type {
                    ElementType::Document | ElementType::Array => {
                        let child = parser.document_scope()?;
                        stack.push(child);
                    }
                    ElementType::Double => _ = parser.read_double()?,
                    ElementType::String => _ = parser.read_string()?,
                    ElementType::Binary => _ = parser.read_binary()?,
                    ElementType::ObjectId => _ = parser.read_object_id()?,
                    ElementType::Boolean => _ = parser.read_bool()?,
                    ElementType::DatetimeUtc | ElementType::Timestamp => _ = parser.read_uint64()?,
                    ElementType::Null | ElementType::Undefined => {}
                    ElementType::Int32 => _ = parser.read_int32()?,
                    ElementType::Int64 => _ = parser.read_int64()?,
                }
            } else if let Some(parser) = stack.last_mut() {
                if parser.end_document()? {
                    stack.pop();
                } else {
                    let value_type = parser.read_element_type()?;
                    parser.read_cstr()?;
                    pending = Some(value_type);
                }
            }
            if pending.is_none() && stack.is_empty() {
                return Ok(());
            }
        }
    }

    /// Moves to the next element; `false` at the end of the document.
    fn advance_to_next_name(&mut self) -> Result<bool, BsonError> {
        if self.parser.end_document()? {
            return Ok(false);
        }
        self.position = Position::BeforeName(self.parser.read_element_type()?);
        Ok(true)
    }
}

impl<'de> de::Deserializer<'de> for &mut Deserializer<'de> {
    type Error = BsonError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BsonError> {
        if let Position::BeforeName(t) = self.position {
            self.position = Position::BeforeValue(t);
            return visitor.visit_borrowed_str(self.parser.read_cstr()?);
        }
        let value_type = self.value_type();
        let p = &mut self.parser;
        match value_type {
            ElementType::Double => visitor.visit_f64(p.read_double()?),
            ElementType::String => visitor.visit_borrowed_str(p.read_string()?),
            ElementType::Document => visitor.visit_map(&mut self.object_reader()?),
            ElementType::Array => visitor.visit_seq(&mut self.object_reader()?),
            ElementType::Binary => visitor.visit_borrowed_bytes(p.read_binary()?),
            ElementType::ObjectId => visitor.visit_borrowed_bytes(p.read_object_id()?),
            ElementType::Boolean => visitor.visit_bool(p.read_bool()?),
            ElementType::DatetimeUtc | ElementType::Timestamp => visitor.visit_u64(p.read_uint64()?),
            ElementType::Null | ElementType::Undefined => visitor.visit_unit(),
            ElementType::Int32 => visitor.visit_i32(p.read_int32()?),
            ElementType::Int64 => visitor.visit_i64(p.read_int64()?),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BsonError> {
        match self.value_type() {
            ElementType::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, BsonError> {
        match self.value_type() {
            ElementType::String => {
                let name = self.parser.read_string()?;
                visitor.visit_enum(de::value::StrDeserializer::new(name))
            }
            ElementType::Document => visitor.visit_enum(&mut self.object_reader()?),
            other => Err(self.parser.error(BsonErrorKind::ExpectedEnum(other.code()))),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BsonError> {
        if let Position::BeforeName(t) = self.position {
            self.position = Position::BeforeValue(t);
            self.parser.read_cstr()?;
        } else {
            self.skip_value()?;
        }
        visitor.visit_unit()
    }

    fn is_human_readable(&self) -> bool {
        false
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier
    }
}

impl<'de> de::MapAccess<'de> for Deserializer<'de> {
    type Error = BsonError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, BsonError> {
        if !self.advance_to_next_name()? {
            return Ok(None);
        }
        seed.deserialize(self).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, BsonError> {
        seed.deserialize(self)
    }
}

impl<'de> de::SeqAccess<'de> for Deserializer<'de> {
    type Error = BsonError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, BsonError> {
        if !self.advance_to_next_name()? {
            return Ok(None);
        }
        // Array elements are named "0", "1", …: skip the name.
        if let Position::BeforeName(t) = self.position {
            self.parser.read_cstr()?;
            self.position = Position::BeforeValue(t);
        }
        seed.deserialize(self).map(Some)
    }
}

impl<'de> de::EnumAccess<'de> for &mut Deserializer<'de> {
    type Error = BsonError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), BsonError> {
        // `{variant: value}`; elements after the first are ignored.
        if !self.advance_to_next_name()? {
            return Err(self
                .parser
                .error(BsonErrorKind::UnexpectedEndOfDocumentForEnumVariant));
        }
        let variant = seed.deserialize(&mut *self)?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for &mut Deserializer<'de> {
    type Error = BsonError;

    fn unit_variant(self) -> Result<(), BsonError> {
        // Unit variants must be sent as plain strings, not as `{variant: …}`.
        Err(self.parser.error(BsonErrorKind::ExpectedString))
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, BsonError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, BsonError> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, BsonError> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}
