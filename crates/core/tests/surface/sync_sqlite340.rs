//! The sync client inside the system `sqlite3` shell (Debian's SQLite 3.40, older than the
//! 3.42 that `unixepoch('subsec')` needs): a full iteration through the loadable library.
//! Skipped when the shell or the library (`cargo build --release -p powersync-loadable`) is
//! missing.
use crate::common;

use std::process::Command;

#[test]
fn sync_iteration_in_sqlite_340_shell() {
    let lib = common::workspace_root().join("target/release/libpowersync.so");
    if !lib.exists() || Command::new("sqlite3").arg("-version").output().is_err() {
        common::report_skipped(
            "sync_sqlite340",
            "sqlite3 shell or target/release/libpowersync.so missing",
        );
        return;
    }
    let script = r#"
BEGIN; SELECT powersync_init(); SELECT powersync_replace_schema('{"tables":[{"name":"items","columns":[{"name":"col","type":"text"}]}]}'); COMMIT;
BEGIN; SELECT powersync_control('subscriptions','{"subscribe":{"stream":{"name":"s"}}}'); COMMIT;
BEGIN; SELECT powersync_control('start', '{"active_streams":[{"name":"s"}]}') IS NOT NULL; COMMIT;
BEGIN; SELECT powersync_control('line_text', '{"checkpoint":{"last_op_id":"1","buckets":[{"bucket":"a","checksum":5,"priority":1,"count":1}]}}') IS NOT NULL; COMMIT;
BEGIN; SELECT powersync_control('line_text', '{"data":{"bucket":"a","data":[{"op_id":"1","op":"PUT","object_type":"items","object_id":"1","checksum":5,"data":"{\"col\":\"x\"}"}]}}') IS NOT NULL; COMMIT;
BEGIN; SELECT powersync_control('line_text', '{"partial_checkpoint_complete":{"last_op_id":"1","priority":1}}') IS NOT NULL; COMMIT;
BEGIN; SELECT json_extract(powersync_control('line_text', '{"checkpoint_complete":{"last_op_id":"1"}}'), '$[1]'); COMMIT;
SELECT id, col FROM items;
SELECT priority, last_synced_at % 1000 = 0, abs(last_synced_at / 1000000 - unixepoch()) < 5 FROM ps_sync_state;
SELECT (expires_at - unixepoch() * 1000000) / 1000000 BETWEEN 86390 AND 86400 FROM ps_stream_subscriptions;
"#;
    let out = crate::shell_with_library(":memory:")
        .arg(script)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "sqlite3 failed: {stderr}"
    );
    assert_eq!(
        stdout,
        "\n\n\n1\n1\n1\n1\n{\"DidCompleteSync\":{}}\n1|x\n2147483647|1|1\n1\n"
    );
}
