//! Options shared by regular and raw tables: the boolean flags and `include_old`
//! (docs/sql-surface.md#the-schema-json).
//!
//! The reference decodes these through a `#[serde(flatten)]`ed struct, which changes the
//! observable error messages (positions point at the end of the enclosing object, flag keys
//! must be unescaped strings, duplicate flag keys are allowed and the last one wins). The
//! serde shapes here are chosen to reproduce those messages exactly.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// Options of a table that are not part of its structure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TableOptions {
    /// Which old values to attach to `PATCH` and `DELETE` entries of the CRUD queue.
    #[serde(default, rename = "include_old", deserialize_with = "deserialize_include_old")]
    pub include_old: Option<DiffIncludeOld>,
    /// The boolean flags.
    #[serde(flatten)]
    pub flags: TableInfoFlags,
}

/// The `include_old` option: `true` or a list of column names (`false` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffIncludeOld {
    /// Include the old value of every column.
    ForAllColumns,
    /// Include the old values of these columns only (names not in the table are ignored).
    OnlyForColumns(Vec<String>),
}

impl DiffIncludeOld {
    /// Whether the old value of `column` is included.
    pub fn includes(&self, column: &str) -> bool {
        match self {
            Self::ForAllColumns => true,
            Self::OnlyForColumns(columns) => columns.iter().any(|c| c == column),
        }
    }
}

fn deserialize_include_old<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DiffIncludeOld>, D::Error> {
    struct IncludeOldVisitor;

    impl<'de> Visitor<'de> for IncludeOldVisitor {
        type Value = Option<DiffIncludeOld>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an array of columns, or true")
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(v.then_some(DiffIncludeOld::ForAllColumns))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut columns = Vec::new();
            while let Some(column) = seq.next_element::<String>()? {
                columns.push(column);
            }
            Ok(Some(DiffIncludeOld::OnlyForColumns(columns)))
        }
    }

    // `deserialize_any` (not `deserialize_option`) so that `null` is rejected, as in the
    // reference.
    deserializer.deserialize_any(IncludeOldVisitor)
}

/// The boolean table flags as the bit set the CRUD virtual tables receive in `options`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableInfoFlags(pub u32);

impl TableInfoFlags {
    /// `local_only`: changes are not uploaded.
    pub const LOCAL_ONLY: u32 = 1;
    /// `insert_only`: rows are only queued for upload, never stored.
    pub const INSERT_ONLY: u32 = 2;
    /// `include_metadata`: the view gets `_metadata` and `_deleted` columns.
    pub const INCLUDE_METADATA: u32 = 4;
    /// `include_old_only_when_changed`: `PATCH` old values only for changed columns.
    pub const INCLUDE_OLD_ONLY_WHEN_CHANGED: u32 = 8;
    /// `ignore_empty_update`: `PATCH` entries without changes are not queued.
    pub const IGNORE_EMPTY_UPDATE: u32 = 16;

    const KEYS: &'static [(&'static str, u32)] = &[
        ("local_only", Self::LOCAL_ONLY),
        ("insert_only", Self::INSERT_ONLY),
        ("include_metadata", Self::INCLUDE_METADATA),
        (
            "include_old_only_when_changed",
            Self::INCLUDE_OLD_ONLY_WHEN_CHANGED,
        ),
        ("ignore_empty_update", Self::IGNORE_EMPTY_UPDATE),
    ];
    const FIELDS: &'static [&'static str] = &[
        "local_only",
        "insert_only",
        "include_metadata",
        "include_old_only_when_changed",
        "ignore_empty_update",
    ];

    fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }

    /// Whether `local_only` is set.
    pub fn local_only(self) -> bool {
        self.has(Self::LOCAL_ONLY)
    }

    /// Whether `insert_only` is set (regular tables ignore it when `local_only` is set).
    pub fn insert_only(self) -> bool {
        self.has(Self::INSERT_ONLY)
    }

    /// Whether `include_metadata` is set.
    pub fn include_metadata(self) -> bool {
        self.has(Self::INCLUDE_METADATA)
    }

    /// Whether `include_old_only_when_changed` is set.
    pub fn include_old_only_when_changed(self) -> bool {
        self.has(Self::INCLUDE_OLD_ONLY_WHEN_CHANGED)
    }

    /// Whether `ignore_empty_update` is set.
    pub fn ignore_empty_update(self) -> bool {
        self.has(Self::IGNORE_EMPTY_UPDATE)
    }
}

impl<'de> Deserialize<'de> for TableInfoFlags {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FlagsVisitor;

        impl<'de> Visitor<'de> for FlagsVisitor {
            type Value = TableInfoFlags;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object with table flags")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut flags = 0;
                // Keys are borrowed strings like in the reference: an escaped flag key is
                // rejected with "expected a borrowed string".
                while let Some(key) = map.next_key::<&'de str>()? {
                    match TableInfoFlags::KEYS.iter().find(|(name, _)| *name == key) {
                        Some(&(_, bit)) => {
                            // Repeated keys are allowed; the last one wins.
                            if map.next_value::<bool>()? {
                                flags |= bit;
                            } else {
                                flags &= !bit;
                            }
                        }
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(TableInfoFlags(flags))
            }
        }

        // As a struct so that a flattening parent only hands over the flag keys.
        deserializer.deserialize_struct("TableInfoFlags", Self::FIELDS, FlagsVisitor)
    }
}
