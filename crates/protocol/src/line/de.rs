//! `Deserialize` implementations for the scalar rules of sync lines (docs/protocol.md#scalar-rules).
//!
//! Shared by the JSON and the BSON decoder. The visitors' `expecting` texts and the error
//! constructors they use are those of the reference, because decoder messages (the `cause` of
//! protocol errors) quote them, e.g. `invalid value: integer \`4294967296\`, expected a 32-bit
//! int`.

use super::types::{
    BucketPriority, BucketSubscriptionReason, Checksum, OpId, OpType, PartialCheckpointComplete,
    SubscriptionRef, SyncLine,
};
use crate::error::Error;
use serde::de::{self, Deserializer, EnumAccess, IgnoredAny, Unexpected, VariantAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

// ---- strings ----

/// Visits a string as a `Cow`, borrowing from the input where the decoder can (no JSON
/// escapes), like serde's own `#[serde(borrow)] Cow<str>` support.
struct CowStrVisitor;

impl<'de> Visitor<'de> for CowStrVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }

    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
        std::str::from_utf8(v)
            .map(Cow::Borrowed)
            .map_err(|_| E::invalid_value(Unexpected::Bytes(v), &self))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        std::str::from_utf8(v)
            .map(|s| Cow::Owned(s.to_owned()))
            .map_err(|_| E::invalid_value(Unexpected::Bytes(v), &self))
    }
}

/// A string element of a sequence, borrowed where possible.
struct CowStr<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for CowStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(CowStrVisitor).map(CowStr)
    }
}

/// An optional string (null or absent → `None`), borrowed where possible.
pub(super) fn optional_cow_str<'de: 'a, 'a, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    struct OptionVisitor;

    impl<'de> Visitor<'de> for OptionVisitor {
        type Value = Option<Cow<'de, str>>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("option")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(CowStrVisitor).map(Some)
        }
    }

    d.deserialize_option(OptionVisitor)
}

/// A sequence of strings (`removed_buckets`), each borrowed where possible.
pub(super) fn cow_strs<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Vec<Cow<'a, str>>, D::Error> {
    struct SeqVisitor;

    impl<'de> Visitor<'de> for SeqVisitor {
        type Value = Vec<Cow<'de, str>>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a sequence")
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            // Like serde's Vec impl: trust the size hint only up to a bound.
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(CowStr(s)) = seq.next_element()? {
                out.push(s);
            }
            Ok(out)
        }
    }

    d.deserialize_seq(SeqVisitor)
}

// ---- op ids ----

/// Op ids are decimal strings holding an `i64` (numbers are rejected).
struct OpIdVisitor;

impl Visitor<'_> for OpIdVisitor {
    type Value = OpId;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<OpId, E> {
        v.parse::<i64>().map_err(E::custom)
    }
}

/// A required op id (`last_op_id`, `op_id`).
pub(super) fn op_id<'de, D: Deserializer<'de>>(d: D) -> Result<OpId, D::Error> {
    d.deserialize_str(OpIdVisitor)
}

/// An optional op id (`write_checkpoint`): null or absent → `None`.
pub(super) fn optional_op_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OpId>, D::Error> {
    struct OptionVisitor;

    impl<'de> Visitor<'de> for OptionVisitor {
        type Value = Option<OpId>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("option")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            op_id(d).map(Some)
        }
    }

    d.deserialize_option(OptionVisitor)
}

// ---- checksums ----

struct ChecksumVisitor;

impl Visitor<'_> for ChecksumVisitor {
    type Value = Checksum;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number to interpret as a checksum")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Checksum, E> {
        // Negative values are two's complement of the unsigned checksum.
        if v < i64::from(i32::MIN) || v > i64::from(u32::MAX) {
            return Err(E::invalid_value(Unexpected::Signed(v), &"a 32-bit int"));
        }
        Ok(Checksum(v as u32))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Checksum, E> {
        match u32::try_from(v) {
            Ok(v) => Ok(Checksum(v)),
            Err(_) => Err(E::invalid_value(Unexpected::Unsigned(v), &"a 32-bit int")),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Checksum, E> {
        // Some services send checksums as whole floats (`3573495687.0`). NaN and infinities
        // have a non-zero (NaN) fraction. The saturating cast then fails the range check.
        if v.fract() != 0.0 {
            return Err(E::invalid_value(Unexpected::Float(v), &"a whole number"));
        }
        self.visit_i64(v as i64)
    }
}

impl<'de> Deserialize<'de> for Checksum {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ChecksumVisitor)
    }
}

// ---- priorities ----

struct PriorityVisitor;

impl PriorityVisitor {
    fn check<E: de::Error>(v: i32) -> Result<BucketPriority, E> {
        if v < 0 || v == BucketPriority::SENTINEL.0 {
            // The reference wraps its argument error, so the cause reads
            // `invalid argument: Invalid bucket priority value. cause: unknown`.
            return Err(E::custom(Error::argument("Invalid bucket priority value")));
        }
        Ok(BucketPriority(v))
    }
}

impl Visitor<'_> for PriorityVisitor {
    type Value = BucketPriority;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        // Wording of the reference (any non-negative value except i32::MAX is accepted).
        f.write_str("a priority as an integer between 0 and 3 (inclusive)")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<BucketPriority, E> {
        let v = i32::try_from(v).map_err(|_| E::custom("int too large"))?;
        Self::check(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<BucketPriority, E> {
        let v = i32::try_from(v).map_err(|_| E::custom("int too large"))?;
        Self::check(v)
    }
}

impl<'de> Deserialize<'de> for BucketPriority {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_i32(PriorityVisitor)
    }
}

// ---- stream subscriptions ----

const SUBSCRIPTION_REASONS: &[&str] = &["default", "sub"];

impl<'de> Deserialize<'de> for BucketSubscriptionReason {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ReasonVisitor;

        impl<'de> Visitor<'de> for ReasonVisitor {
            type Value = BucketSubscriptionReason;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a subscription reason")
            }

            fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
                // The reference reads the key as a borrowed string (escaped keys are errors).
                let (key, variant) = data.variant::<&'de str>()?;
                match key {
                    "default" => variant
                        .newtype_variant()
                        .map(BucketSubscriptionReason::DerivedFromDefaultStream),
                    "sub" => variant
                        .newtype_variant()
                        .map(BucketSubscriptionReason::DerivedFromExplicitSubscription),
                    other => Err(de::Error::unknown_variant(other, SUBSCRIPTION_REASONS)),
                }
            }
        }

        d.deserialize_enum("BucketSubscriptionReason", SUBSCRIPTION_REASONS, ReasonVisitor)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for SubscriptionRef<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RefVisitor;

        impl<'de> Visitor<'de> for RefVisitor {
            type Value = SubscriptionRef<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("default or index")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(SubscriptionRef::Default(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(SubscriptionRef::Default(Cow::Owned(v.to_owned())))
            }

            // Like the reference: JSON indices arrive as u64, BSON int32 values as i32 (and are
            // accepted even when negative, becoming an index that matches no subscription),
            // while BSON int64 values and negative JSON numbers (i64) are type errors.
            fn visit_i32<E: de::Error>(self, v: i32) -> Result<Self::Value, E> {
                Ok(SubscriptionRef::Explicit(v as usize))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                usize::try_from(v)
                    .map(SubscriptionRef::Explicit)
                    .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
            }
        }

        d.deserialize_any(RefVisitor)
    }
}

// ---- op types ----

/// In the reference's declaration order, which its "expected one of" message lists.
const OP_TYPES: &[&str] = &["CLEAR", "MOVE", "PUT", "REMOVE"];

impl<'de> Deserialize<'de> for OpType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NameVisitor;

        impl Visitor<'_> for NameVisitor {
            type Value = OpType;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("variant identifier")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<OpType, E> {
                match v {
                    "PUT" => Ok(OpType::Put),
                    "REMOVE" => Ok(OpType::Remove),
                    "MOVE" => Ok(OpType::Move),
                    "CLEAR" => Ok(OpType::Clear),
                    other => Err(E::unknown_variant(other, OP_TYPES)),
                }
            }
        }

        struct Name(OpType);

        impl<'de> Deserialize<'de> for Name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_identifier(NameVisitor).map(Name)
            }
        }

        struct OpTypeVisitor;

        impl<'de> Visitor<'de> for OpTypeVisitor {
            type Value = OpType;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("enum OpType")
            }

            fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<OpType, A::Error> {
                let (Name(op), variant) = data.variant()?;
                variant.unit_variant()?;
                Ok(op)
            }
        }

        d.deserialize_enum("OpType", OP_TYPES, OpTypeVisitor)
    }
}

// ---- lines ----

/// Body of `checkpoint_complete`: must be a struct (object or array), content ignored.
#[derive(Deserialize)]
struct CheckpointComplete {}

/// Body of `partial_checkpoint_complete` under the reference's name (errors say
/// `expected struct CheckpointPartiallyComplete`).
#[derive(Deserialize)]
pub(super) struct CheckpointPartiallyComplete {
    priority: BucketPriority,
}

impl From<CheckpointPartiallyComplete> for PartialCheckpointComplete {
    fn from(body: CheckpointPartiallyComplete) -> Self {
        Self {
            priority: body.priority,
        }
    }
}

const LINE_TYPES: &[&str] = &[
    "checkpoint",
    "checkpoint_diff",
    "checkpoint_complete",
    "partial_checkpoint_complete",
    "data",
    "token_expires_in",
];

impl<'de: 'a, 'a> Deserialize<'de> for SyncLine<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct LineVisitor;

        impl<'de> Visitor<'de> for LineVisitor {
            type Value = SyncLine<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a sync line")
            }

            fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
                // The line type is the (only / first) key, read as a borrowed string like the
                // reference does.
                let (line_type, body) = data.variant::<&'de str>()?;
                Ok(match line_type {
                    "checkpoint" => SyncLine::Checkpoint(body.newtype_variant()?),
                    "checkpoint_diff" => SyncLine::CheckpointDiff(body.newtype_variant()?),
                    "checkpoint_complete" => {
                        body.newtype_variant::<CheckpointComplete>()?;
                        SyncLine::CheckpointComplete
                    }
                    "partial_checkpoint_complete" => SyncLine::PartialCheckpointComplete(
                        body.newtype_variant::<PartialCheckpointComplete>()?,
                    ),
                    "data" => SyncLine::Data(body.newtype_variant()?),
                    "token_expires_in" => SyncLine::TokenExpiresIn(body.newtype_variant()?),
                    _ => {
                        // Unknown line types are tolerated, but their body must still decode.
                        body.newtype_variant::<IgnoredAny>()?;
                        SyncLine::Unknown
                    }
                })
            }
        }

        d.deserialize_enum("SyncLine", LINE_TYPES, LineVisitor)
    }
}
