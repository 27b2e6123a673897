//! Pieces of the schema test suites: a seeded generator of valid, varied schemas and helpers
//! to apply schemas.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::types::Value;
use rusqlite::Connection;
use serde_json::{json, Value as Json};

use crate::sql::error_of;

/// Runs `powersync_replace_schema(json)` (the connection must be in a transaction).
pub fn replace(conn: &Connection, schema: &str) -> Result<Value, (i32, String)> {
    conn.query_row("SELECT powersync_replace_schema(?)", [schema], |r| r.get(0))
        .map_err(|e| error_of::<()>(Err(e)).unwrap())
}

/// `PRAGMA schema_version`.
pub fn schema_version(conn: &Connection) -> i64 {
    conn.query_row("PRAGMA schema_version", [], |r| r.get(0)).unwrap()
}

/// Names that need quoting in SQL, mixed with ordinary ones.
const TABLE_NAMES: &[&str] = &[
    "todos",
    "lists",
    "Users",
    "we\"ird'name",
    "sp ace",
    "tàble_ü",
    "a.b",
    "select",
    "x-y",
    "t1",
    "t2",
    "\"",
    "'",
    "[br]",
    "$dollar",
    "local__x",
];
const COLUMN_NAMES: &[&str] = &[
    "name",
    "description",
    "count",
    "done",
    "list_id",
    "co\"l'x",
    "a.b",
    "with space",
    "ünï",
    "order",
    "x[0]",
    "$x",
    "_metadata2",
    "camelCase",
    "\"",
    "'",
];
const TYPES: &[&str] = &["TEXT", "INTEGER", "REAL", "BLOB", "NUMERIC", "text"];

/// A seeded generator of valid, varied schemas.
pub struct SchemaGen {
    rng: StdRng,
}

impl SchemaGen {
    /// A generator with a fixed seed (reproducible cases).
    pub fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.rng.random_range(0..from.len())]
    }

    fn column_count(&mut self) -> usize {
        match self.rng.random_range(0..20) {
            0 => 0,
            1 => self.rng.random_range(48..53),
            2 => self.rng.random_range(99..103),
            3 => self.rng.random_range(53..130),
            _ => self.rng.random_range(1..8),
        }
    }

    /// Distinct column names: pool names first, then numbered ones.
    fn column_names(&mut self, count: usize) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for i in 0..count {
            let candidate = if self.rng.random_bool(0.5) {
                self.pick(COLUMN_NAMES).to_string()
            } else {
                format!("c{i}")
            };
            if names.contains(&candidate) {
                names.push(format!("col_{i}"));
            } else {
                names.push(candidate);
            }
        }
        names
    }

    /// Sets `key` to true with probability `p`, sometimes writes an explicit `false`.
    fn flag(&mut self, table: &mut serde_json::Map<String, Json>, key: &str, p: f64) {
        if self.rng.random_bool(p) {
            table.insert(key.into(), Json::Bool(true));
        } else if self.rng.random_bool(0.2) {
            table.insert(key.into(), Json::Bool(false));
        }
    }

    /// One table named `name`, with view name `view` if given.
    pub fn table(&mut self, name: &str, view: Option<&str>) -> Json {
        let count = self.column_count();
        let columns = self.column_names(count);
        let mut table = serde_json::Map::new();
        table.insert("name".into(), json!(name));
        if let Some(view) = view {
            table.insert("view_name".into(), json!(view));
        } else if self.rng.random_bool(0.1) {
            table.insert("view_name".into(), Json::Null);
        }
        let column_json: Vec<Json> = columns
            .iter()
            .map(|c| json!({"name": c, "type": self.pick(TYPES)}))
            .collect();
        table.insert("columns".into(), Json::Array(column_json));
        self.flag(&mut table, "local_only", 0.2);
        self.flag(&mut table, "insert_only", 0.15);
        self.flag(&mut table, "include_metadata", 0.3);
        self.flag(&mut table, "include_old_only_when_changed", 0.3);
        self.flag(&mut table, "ignore_empty_update", 0.3);
        match self.rng.random_range(0..6) {
            0 => {
                table.insert("include_old".into(), json!(true));
            }
            1 => {
                table.insert("include_old".into(), json!(false));
            }
            2 | 3 => {
                let mut list: Vec<Json> = columns
                    .iter()
                    .filter(|_| self.rng.random_bool(0.4))
                    .map(|c| json!(c))
                    .collect();
                if self.rng.random_bool(0.5) {
                    list.push(json!("not_a_column"));
                }
                table.insert("include_old".into(), Json::Array(list));
            }
            _ => {}
        }
        if !columns.is_empty() && self.rng.random_bool(0.5) {
            let mut indexes = Vec::new();
            for i in 0..self.rng.random_range(1..4) {
                let indexed: Vec<Json> = (0..self.rng.random_range(1..4))
                    .map(|_| {
                        let c = &columns[self.rng.random_range(0..columns.len())];
                        json!({"name": c, "ascending": self.rng.random_bool(0.5), "type": self.pick(TYPES)})
                    })
                    .collect();
                let name = if i == 0 && self.rng.random_bool(0.3) {
                    "we\"ird'idx".to_string()
                } else {
                    format!("idx{i}")
                };
                indexes.push(json!({"name": name, "columns": indexed}));
            }
            table.insert("indexes".into(), Json::Array(indexes));
        }
        if self.rng.random_bool(0.1) {
            table.insert("unknown_key".into(), json!({"ignored": [1, 2]}));
        }
        Json::Object(table)
    }

    /// A schema of 0..=5 tables with distinct names and view names.
    pub fn schema(&mut self) -> Json {
        let count = self.rng.random_range(0..6);
        let mut names: Vec<&str> = Vec::new();
        let mut views: Vec<String> = Vec::new();
        let mut tables = Vec::new();
        while tables.len() < count {
            let name = self.pick(TABLE_NAMES);
            if names.contains(&name) {
                continue;
            }
            let view = self
                .rng
                .random_bool(0.2)
                .then(|| format!("view_{}", self.rng.random_range(0..100)));
            let effective = view.clone().unwrap_or_else(|| name.to_string());
            if views.contains(&effective) || TABLE_NAMES.contains(&effective.as_str()) && view.is_some() {
                continue;
            }
            names.push(name);
            views.push(effective);
            tables.push(self.table(name, view.as_deref()));
        }
        let mut schema = json!({ "tables": tables });
        if self.rng.random_bool(0.2) {
            schema["raw_tables"] =
                json!([{"name": "raw", "table_name": "raw_local", "clear": "DELETE FROM raw_local"}]);
        }
        schema
    }
}

/// `n` columns `c0..` of type TEXT.
pub fn numbered_columns(n: usize) -> Json {
    Json::Array(
        (0..n)
            .map(|i| json!({"name": format!("c{i}"), "type": "TEXT"}))
            .collect(),
    )
}
