//! Sync payloads that are TEXT but not valid UTF-8 fail with an error naming the command and the
//! offset of the first bad byte, and change nothing. The reference decodes such lines as they
//! are (the bytes may end up stored) and reports `start` payloads as a JSON "EOF while parsing":
//! a deliberate difference, listed in docs/compatibility.md.
use crate::common;
use crate::sync_common;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::Connection;
use sync_common::*;

struct Raw<'a>(&'a [u8]);

impl rusqlite::ToSql for Raw<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Text(self.0)))
    }
}

fn control_raw(conn: &Connection, op: &str, payload: &[u8]) -> Option<(i32, String)> {
    conn.execute_batch("BEGIN").unwrap();
    let r = conn.query_row(
        "SELECT powersync_control(?1, ?2)",
        rusqlite::params![op, Raw(payload)],
        |_| Ok(()),
    );
    conn.execute_batch("ROLLBACK").unwrap();
    common::error_of(r)
}

const CASES: &[(&str, &[u8], &str)] = &[
    (
        "line_text",
        b"{\"checkpoint_complete\":{\"last_op_id\":\"1\xff\"}}",
        "powersync_control: invalid argument: the line_text payload is not valid UTF-8: byte 0xFF at offset 39. cause: unknown",
    ),
    (
        "start",
        b"{\"parameters\":{\"user\":\"\xc3\"}}",
        "powersync_control: invalid argument: the start payload is not valid UTF-8: byte 0xC3 at offset 23. cause: unknown",
    ),
    (
        "update_subscriptions",
        b"[\xe2\x82]",
        "powersync_control: invalid argument: the update_subscriptions payload is not valid UTF-8: byte 0xE2 at offset 1. cause: unknown",
    ),
    (
        "subscriptions",
        b"\x80",
        "powersync_control: invalid argument: the subscriptions payload is not valid UTF-8: byte 0x80 at offset 0. cause: unknown",
    ),
];

#[test]
fn invalid_utf8_payloads_name_the_byte() {
    let ours = common::open_ours();
    init(&ours, ITEMS_SCHEMA);
    call(&ours, "start", &Payload::Null).unwrap();
    for (op, payload, want) in CASES {
        let before = sync_tables(&ours);
        let got = control_raw(&ours, op, payload).expect("an error");
        assert_eq!((got.0, got.1.as_str()), (3091, *want), "{op}");
        assert_eq!(sync_tables(&ours), before, "{op} changed the database");
    }
    // The iteration is unaffected: the next line is handled as usual.
    let out = call(
        &ours,
        "line_text",
        &Payload::from(checkpoint(1, None, &[]).to_string()),
    );
    assert!(out.is_ok(), "{out:?}");
}
