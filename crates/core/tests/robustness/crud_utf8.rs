//! Local writes whose text is not valid UTF-8 (SQLite allows it). The queued upload must match
//! the row written byte for byte, as with the reference: no U+FFFD replacement, and an update
//! between two invalid texts must not become an empty PATCH. Differential against the reference.
use crate::common;

use rusqlite::types::Value;
use rusqlite::Connection;

const SCHEMA: &str = r#"{"tables":[{"name":"lists","columns":[{"name":"name","type":"TEXT"},{"name":"n","type":"INTEGER"}]},{"name":"logged","include_old":true,"columns":[{"name":"v","type":"TEXT"}]}]}"#;

fn setup(conn: &Connection) {
    conn.execute_batch("BEGIN").unwrap();
    conn.query_row("SELECT powersync_init()", [], |_| Ok(())).unwrap();
    conn.query_row("SELECT powersync_replace_schema(?1)", [SCHEMA], |_| Ok(()))
        .unwrap();
    conn.execute_batch("COMMIT").unwrap();
}

fn state(conn: &Connection) -> Vec<Vec<Vec<Value>>> {
    vec![
        common::rows(conn, "SELECT hex(id), hex(data) FROM ps_data__lists ORDER BY id"),
        common::rows(conn, "SELECT hex(id), hex(data) FROM ps_data__logged ORDER BY id"),
        common::rows(conn, "SELECT id, tx_id, hex(data) FROM ps_crud ORDER BY id"),
    ]
}

/// Statements whose text values hold invalid UTF-8 in various shapes.
const CASES: &[&str] = &[
    "INSERT INTO lists (id, name, n) VALUES ('a', CAST(X'61FF62' AS TEXT), 1)",
    "UPDATE lists SET name = CAST(X'61FE62' AS TEXT) WHERE id = 'a'",
    "UPDATE lists SET name = CAST(X'61FE62' AS TEXT), n = 2 WHERE id = 'a'",
    "UPDATE lists SET name = 'valid again' WHERE id = 'a'",
    "UPDATE lists SET name = CAST(X'C3' AS TEXT) WHERE id = 'a'",
    "INSERT INTO lists (id, name, n) VALUES ('b', CAST(X'E282' AS TEXT), 1)",
    "INSERT INTO lists (id, name, n) VALUES ('c', CAST(X'C341F0908D' AS TEXT), 1)",
    "INSERT INTO lists (id, name, n) VALUES ('d', CAST(X'EDA080' AS TEXT), 1)",
    "INSERT INTO lists (id, name, n) VALUES ('e', CAST(X'80BFC0C1F5FF' AS TEXT), 1)",
    "INSERT INTO lists (id, name, n) VALUES ('f', CAST(X'7A6FC3AB20F09F9A80FF' AS TEXT), 1)",
    "INSERT INTO lists (id, name, n) VALUES (CAST(X'69FF' AS TEXT), 'id with a bad byte', 1)",
    "DELETE FROM lists WHERE id = 'b'",
    "INSERT INTO logged (id, v) VALUES ('l', CAST(X'FF' AS TEXT))",
    "UPDATE logged SET v = CAST(X'FE' AS TEXT) WHERE id = 'l'",
    "UPDATE logged SET v = 'ok' WHERE id = 'l'",
    "DELETE FROM logged WHERE id = 'l'",
];

#[test]
fn invalid_utf8_is_queued_byte_for_byte_like_the_reference() {
    let ours = common::open_ours();
    setup(&ours);
    let reference = common::open_reference("reference");
    reference.ask("setup", SCHEMA, setup);
    for sql in CASES {
        let a = common::error_of(ours.execute(sql, []));
        assert_eq!(a, None, "{sql}");
        let b = reference.ask("execute", sql, |r| common::error_of(r.execute(sql, [])));
        assert_eq!(a, b, "{sql}");
        assert_eq!(state(&ours), reference.ask("state", "", state), "{sql}");
    }
    // The update between two invalid texts is a real PATCH ("name" 61FE62).
    let patch = common::eval(&ours, "SELECT hex(data) FROM ps_crud WHERE id = 2").unwrap();
    assert_eq!(
        patch,
        Value::Text(
            hex(r#"{"op":"PATCH","id":"a","type":"lists","data":{"name":"a"#) + "FE" + &hex(r#"b"}}"#)
        )
    );
    common::report("crud_utf8::invalid_bytes", CASES.len());
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02X}")).collect()
}

/// Text mixing invalid bytes with the characters we use to carry them through the diff is
/// refused with a clear error (the reference would queue it verbatim; see
/// docs/compatibility.md), and nothing is written.
#[test]
fn invalid_bytes_next_to_plane_16_private_use_characters_are_refused() {
    let conn = common::open_ours();
    setup(&conn);
    let before = state(&conn);
    // U+10FFFF (F4 8F BF BF) followed by a lone 0xFF.
    let err = common::error_of(conn.execute(
        "INSERT INTO lists (id, name, n) VALUES ('x', CAST(X'F48FBFBFFF' AS TEXT), 1)",
        [],
    ));
    assert_eq!(
        err,
        Some((
            3091,
            "powersync_diff: invalid argument: the new row data mixes invalid UTF-8 with \
             characters U+10FF80..U+10FFFF, which PowerSync cannot queue for upload unchanged. \
             cause: unknown"
                .into()
        ))
    );
    assert_eq!(state(&conn), before);
    // Either alone is fine.
    conn.execute(
        "INSERT INTO lists (id, name, n) VALUES ('y', CAST(X'F48FBFBF' AS TEXT), 1)",
        [],
    )
    .unwrap();
}
