//! Differential tests of the small utility functions against the reference: registration
//! flags, `powersync_json_merge`, `powersync_strip_subtype`,
//! `powersync_remove_duplicate_key_encoding`, `uuid`, `powersync_client_id`,
//! `powersync_in_sync_operation`, `powersync_update_hooks` argument errors and the
//! `powersync_internal_close` table.
use crate::common;

use powersync_testkit::crud::{run, run_with, same, same_outcome, same_script};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::types::Value;

const OUR_FUNCTIONS: &str = "('uuid','gen_random_uuid','powersync_diff','powersync_json_merge','powersync_strip_subtype','powersync_remove_duplicate_key_encoding','powersync_client_id','powersync_clear','powersync_trigger_resync','powersync_in_sync_operation','powersync_update_hooks','powersync_rs_version')";

#[test]
fn registration_matches_reference() {
    let (ours, reference) = common::both("reference");
    let sqls = [
        format!("SELECT name, builtin, type, enc, narg, flags FROM pragma_function_list WHERE name IN {OUR_FUNCTIONS} ORDER BY name, narg"),
        "SELECT name FROM pragma_module_list WHERE name LIKE 'powersync%' ORDER BY name".to_string(),
        "CREATE VIRTUAL TABLE x USING powersync_crud".to_string(),
        "CREATE VIRTUAL TABLE x USING powersync_crud_".to_string(),
        "CREATE VIRTUAL TABLE x USING powersync_internal_close".to_string(),
        "SELECT * FROM powersync_internal_close".to_string(),
        "INSERT INTO powersync_internal_close VALUES ('x')".to_string(),
        "INSERT INTO powersync_internal_close(rowid, _) VALUES (1, 'x')".to_string(),
        "DELETE FROM powersync_internal_close".to_string(),
        "UPDATE powersync_internal_close SET _ = 1".to_string(),
        "SELECT count(*) FROM powersync_internal_close".to_string(),
        "SELECT * FROM powersync_crud".to_string(),
        "SELECT * FROM powersync_crud_".to_string(),
        "SELECT count(*) FROM powersync_crud".to_string(),
        "DELETE FROM powersync_crud".to_string(),
        "DELETE FROM powersync_crud_".to_string(),
        "UPDATE powersync_crud SET op = 'x'".to_string(),
        "UPDATE powersync_crud_ SET data = 'x'".to_string(),
        "SELECT powersync_in_sync_operation(), typeof(powersync_in_sync_operation())".to_string(),
        "SELECT powersync_update_hooks('get')".to_string(),
        "SELECT powersync_update_hooks('bad')".to_string(),
        "SELECT powersync_update_hooks(NULL)".to_string(),
        "SELECT powersync_update_hooks(1)".to_string(),
        "SELECT powersync_update_hooks('INSTALL')".to_string(),
        "SELECT powersync_update_hooks()".to_string(),
        "SELECT uuid(1)".to_string(),
    ];
    for sql in &sqls {
        same(&ours, &reference, sql);
    }
    common::report("util_functions::registration", sqls.len());
}

#[test]
fn json_merge_and_strip_subtype_match_reference() {
    let (ours, reference) = common::both("reference");
    let script = r#"
SELECT powersync_json_merge()
;;
SELECT powersync_json_merge('{"a":1}')
;;
SELECT powersync_json_merge('{"a":1}', '{"b":2}')
;;
SELECT powersync_json_merge('{"a":1}', '{}', '{"b":2}')
;;
SELECT powersync_json_merge('{}', '{"b":2}', '{}')
;;
SELECT powersync_json_merge('{}', '{}')
;;
SELECT powersync_json_merge('{garbage}')
;;
SELECT powersync_json_merge('{')
;;
SELECT powersync_json_merge('}')
;;
SELECT powersync_json_merge('')
;;
SELECT powersync_json_merge(NULL)
;;
SELECT powersync_json_merge('[]')
;;
SELECT powersync_json_merge(' {}')
;;
SELECT powersync_json_merge('{} ')
;;
SELECT powersync_json_merge('{"a":1}', 5)
;;
SELECT powersync_json_merge(x'7b7d')
;;
SELECT powersync_json_merge('{"é":"😀"}', '{"x":[1,{"y":2}]}')
;;
SELECT json_object('m', powersync_json_merge('{"a":1}'))
;;
SELECT powersync_json_merge(json_object('a', 1), json_object('b', 'x'))
;;
SELECT powersync_strip_subtype(1), powersync_strip_subtype(1.5), powersync_strip_subtype('t'), powersync_strip_subtype(x'0102'), powersync_strip_subtype(NULL)
;;
SELECT typeof(powersync_strip_subtype(1)), typeof(powersync_strip_subtype(1.5)), typeof(powersync_strip_subtype('t')), typeof(powersync_strip_subtype(x'0102')), typeof(powersync_strip_subtype(NULL))
;;
SELECT json_object('k', json('{"a":1}')), json_object('k', powersync_strip_subtype(json('{"a":1}')))
;;
SELECT json_array(powersync_strip_subtype(json_array(1, 2)), json_array(1, 2))
;;
SELECT json_object('k', powersync_strip_subtype(powersync_strip_subtype(json('[1]'))))
;;
SELECT powersync_strip_subtype()
;;
SELECT powersync_strip_subtype(1, 2)
"#;
    let n = same_script(&ours, &reference, script);
    common::report("util_functions::json_merge_strip_subtype", n);
}

#[test]
fn key_encoding_matches_reference() {
    let (ours, reference) = common::both("reference");
    let fixed = [
        r#"foo/bar/"baz""#,
        "foo/bar/baz",
        r#"foo/bar/"escaped\"key""#,
        r#"foo/bar/"/\\"subkey""#,
        r#"a/b/"x\u0041""#,
        r#"a/b/"bad json\q""#,
        r#""key""#,
        r#"x""#,
        r#"""#,
        "",
        r#"x"""#,
        r#"a/"x"y""#,
        r#"a\\\"b""#,
        r#"é/😀/"日本""#,
        r#"t/i/"\ud83d\ude00""#,
        r#"t/i/"\ud83d""#,
        r#"t/i/"a\\""#,
        r#"t/i/"a\\\"""#,
        "t/i/\"a\u{0}b\"",
        "t/i/\"a\nb\"",
    ];
    let sql = "SELECT powersync_remove_duplicate_key_encoding(?1)";
    let mut cases = 0;
    for key in fixed {
        assert_eq!(
            run_with(&ours, sql, [key]),
            reference.ask("run_with", &format!("{} {:?}", sql, [key]), |c| run_with(
                c,
                sql,
                [key]
            )),
            "{key:?}"
        );
        cases += 1;
    }
    for sql in [
        "SELECT powersync_remove_duplicate_key_encoding(NULL)",
        "SELECT powersync_remove_duplicate_key_encoding(1)",
        "SELECT powersync_remove_duplicate_key_encoding(1.5)",
        "SELECT powersync_remove_duplicate_key_encoding(x'22612222')",
        "SELECT powersync_remove_duplicate_key_encoding()",
    ] {
        same(&ours, &reference, sql);
        cases += 1;
    }
    // Random keys over an alphabet rich in quotes and backslashes.
    let mut rng = StdRng::seed_from_u64(0x6b65_7973);
    let alphabet = [
        "\"", "\\", "/", "a", "b", "u", "0", "4", "1", "n", "é", "\\u00", "\\\"",
    ];
    for _ in 0..4000 {
        let mut key: String = (0..rng.random_range(0..12))
            .map(|_| alphabet[rng.random_range(0..alphabet.len())])
            .collect();
        if rng.random_bool(0.7) {
            key.push('"');
        }
        assert_eq!(
            run_with(&ours, sql, [&key]),
            reference.ask("run_with", &format!("{} {:?}", sql, [&key]), |c| run_with(
                c,
                sql,
                [&key]
            )),
            "{key:?}"
        );
        cases += 1;
    }
    common::report("util_functions::remove_duplicate_key_encoding", cases);
}

#[test]
fn uuid_format() {
    let conn = common::open_ours();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..500 {
        let row = &run(&conn, "SELECT uuid(), gen_random_uuid()").unwrap()[0];
        for v in row {
            let Value::Text(u) = v else { panic!("{v:?}") };
            let b = u.as_bytes();
            assert_eq!(u.len(), 36, "{u}");
            for (i, c) in u.char_indices() {
                match i {
                    8 | 13 | 18 | 23 => assert_eq!(c, '-', "{u}"),
                    14 => assert_eq!(c, '4', "{u}"),
                    _ => assert!(c.is_ascii_digit() || ('a'..='f').contains(&c), "{u}"),
                }
            }
            assert!(matches!(b[19], b'8' | b'9' | b'a' | b'b'), "{u}");
            assert!(seen.insert(u.clone()), "duplicate {u}");
        }
    }
    // Not deterministic: evaluated per row.
    let distinct = run(
        &conn,
        "SELECT count(DISTINCT uuid()) FROM (SELECT 1 UNION ALL SELECT 2)",
    )
    .unwrap();
    assert_eq!(distinct, vec![vec![Value::Integer(2)]]);
    // The reference's format, for the record.
    let reference = common::open_reference("reference");
    let shape = "SELECT length(uuid()), substr(uuid(), 15, 1), substr(uuid(), 9, 1), uuid() = lower(uuid())";
    same(&conn, &reference, shape);
}

#[test]
fn client_id_matches_reference() {
    let (ours, reference) = common::both("reference");
    let script = r#"
SELECT powersync_client_id()
;;
CREATE TABLE ps_kv(key TEXT PRIMARY KEY NOT NULL, value BLOB)
;;
SELECT powersync_client_id()
;;
INSERT INTO ps_kv VALUES ('other', 'x')
;;
SELECT powersync_client_id()
;;
INSERT INTO ps_kv VALUES ('client_id', NULL)
;;
SELECT powersync_client_id()
;;
UPDATE ps_kv SET value = 'abc' WHERE key = 'client_id'
;;
SELECT powersync_client_id(), typeof(powersync_client_id())
;;
UPDATE ps_kv SET value = 1.5 WHERE key = 'client_id'
;;
SELECT powersync_client_id()
;;
UPDATE ps_kv SET value = 100000000000000000000.0 WHERE key = 'client_id'
;;
SELECT powersync_client_id()
;;
UPDATE ps_kv SET value = -0.0 WHERE key = 'client_id'
;;
SELECT powersync_client_id()
;;
UPDATE ps_kv SET value = 1e-300 WHERE key = 'client_id'
;;
SELECT powersync_client_id()
;;
UPDATE ps_kv SET value = x'41424344' WHERE key = 'client_id'
;;
SELECT powersync_client_id()
;;
UPDATE ps_kv SET value = x'' WHERE key = 'client_id'
;;
SELECT powersync_client_id()
;;
UPDATE ps_kv SET value = 17 WHERE key = 'client_id'
;;
SELECT powersync_client_id()
;;
UPDATE ps_kv SET value = '' WHERE key = 'client_id'
;;
SELECT powersync_client_id()
;;
UPDATE ps_kv SET value = 'é😀' WHERE key = 'client_id'
;;
SELECT powersync_client_id()
;;
DROP TABLE ps_kv
;;
CREATE TABLE ps_kv(key TEXT, value BLOB)
;;
INSERT INTO ps_kv VALUES ('client_id', 'first'), ('client_id', 'second')
;;
SELECT powersync_client_id()
;;
DROP TABLE ps_kv
;;
CREATE TABLE ps_kv(key TEXT)
;;
SELECT powersync_client_id()
;;
SELECT powersync_client_id(1)
"#;
    let n = same_script(&ours, &reference, script);
    common::report("util_functions::client_id", n);
}

#[test]
fn uuid_is_used_for_client_ids_and_is_valid_json_text() {
    let conn = common::open_ours();
    let out = same_outcome_or_ours(&conn, "SELECT json_quote(uuid()) LIKE '\"%\"'");
    assert_eq!(out, vec![vec![Value::Integer(1)]]);
}

fn same_outcome_or_ours(conn: &rusqlite::Connection, sql: &str) -> Vec<Vec<Value>> {
    same_outcome(conn, &common::open_reference("reference"), sql).unwrap()
}
