//! `HandleDiagnostics` support (docs/protocol.md#diagnostics): inferred column types of downloaded rows.

use crate::instructions::{ColumnType, Diagnostics, Instruction};
use crate::line::DataLine;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use std::collections::HashMap;
use std::fmt;

/// Column types seen during this iteration.
#[derive(Debug, Default, Clone)]
pub(super) struct DiagnosticsState {
    columns: HashMap<String, HashMap<String, ColumnType>>,
}

/// The value kinds the scanner distinguishes.
enum Kind {
    Type(ColumnType),
    Null,
    /// Boolean, array or object: stops the scan of the row.
    Stop,
}

impl DiagnosticsState {
    /// Scans the ops of a data line, returning `SchemaChange` events.
    pub(super) fn scan(&mut self, line: &DataLine<'_>) -> Vec<Instruction> {
        let mut out = Vec::new();
        for op in &line.data {
            let (Some(table), Some(data)) = (&op.object_type, &op.data) else {
                continue;
            };
            let mut fields = Vec::new();
            let mut de = serde_json::Deserializer::from_str(data);
            // Invalid JSON is ignored; whatever was scanned before the error still counts.
            let _ = (&mut de).deserialize_map(RowScanner(&mut fields));
            let cols = self.columns.entry(table.to_string()).or_default();
            for (column, ty) in fields {
                let changed = match cols.get(&column) {
                    None => true,
                    Some(ColumnType::String) => false,
                    Some(old) => *old != ty,
                };
                if changed {
                    cols.insert(column.clone(), ty);
                    out.push(Instruction::HandleDiagnostics(Diagnostics::SchemaChange {
                        table: table.to_string(),
                        column,
                        value_type: ty,
                    }));
                }
            }
        }
        out
    }
}

struct RowScanner<'a>(&'a mut Vec<(String, ColumnType)>);

impl<'de> Visitor<'de> for RowScanner<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "id" {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            match map.next_value::<KindOf>()?.0 {
                Kind::Type(t) => self.0.push((key.into_owned(), t)),
                Kind::Null => {}
                Kind::Stop => return Ok(()),
            }
        }
        Ok(())
    }
}

struct KindOf(Kind);

impl<'de> serde::Deserialize<'de> for KindOf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KindOf;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E>(self, _: &str) -> Result<KindOf, E> {
                Ok(KindOf(Kind::Type(ColumnType::String)))
            }
            fn visit_i64<E>(self, _: i64) -> Result<KindOf, E> {
                Ok(KindOf(Kind::Type(ColumnType::Integer)))
            }
            fn visit_u64<E>(self, _: u64) -> Result<KindOf, E> {
                Ok(KindOf(Kind::Type(ColumnType::Integer)))
            }
            fn visit_f64<E>(self, _: f64) -> Result<KindOf, E> {
                Ok(KindOf(Kind::Type(ColumnType::Real)))
            }
            fn visit_unit<E>(self) -> Result<KindOf, E> {
                Ok(KindOf(Kind::Null))
            }
            fn visit_bool<E>(self, _: bool) -> Result<KindOf, E> {
                Ok(KindOf(Kind::Stop))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<KindOf, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(KindOf(Kind::Stop))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<KindOf, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(KindOf(Kind::Stop))
            }
        }
        d.deserialize_any(V)
    }
}
