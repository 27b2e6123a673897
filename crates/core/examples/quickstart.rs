//! PowerSync on a plain rusqlite connection: the SQL calls an SDK makes, from Rust.
//!
//! Run: `cargo run -p powersync_core --example quickstart`. The same program is the example
//! of the crate's README (and crate documentation), where it runs as a doc test.

use rusqlite::Connection;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut conn = Connection::open_in_memory()?;
    powersync_core::register(&conn)?;

    // Internal tables (`ps_*`), then the app schema: a `todos` view with INSTEAD OF triggers,
    // its rows stored as JSON in `ps_data__todos`.
    let schema = r#"{"tables": [{"name": "todos", "columns": [
        {"name": "description", "type": "TEXT"}, {"name": "done", "type": "INTEGER"}]}]}"#;
    let tx = conn.transaction()?;
    tx.query_row("SELECT powersync_init()", [], |_| Ok(()))?;
    tx.query_row("SELECT powersync_replace_schema(?)", [schema], |_| Ok(()))?;
    tx.commit()?;

    // A sync session. The SDK passes each command, and each line the service streams, to
    // `powersync_control` in a transaction of its own, and acts on the instructions returned
    // (a JSON array). `stable` masks the two parts that change from run to run.
    let client_id: String = conn.query_row("SELECT powersync_client_id()", [], |r| r.get(0))?;
    let mut control = |command: &str, payload: Option<&str>| -> rusqlite::Result<String> {
        let tx = conn.transaction()?;
        let sql = "SELECT powersync_control(?, ?)";
        let instructions: String = tx.query_row(sql, (command, payload), |r| r.get(0))?;
        tx.commit()?;
        println!("{command}: {instructions}");
        Ok(stable(&instructions, &client_id))
    };

    assert_eq!(
        control("start", None)?,
        r#"[{"UpdateSyncStatus":{"status":{"connected":false,"connecting":true,"priority_status":[],"downloading":null,"streams":[]}}},{"EstablishSyncStream":{"request":{"buckets":[],"include_checksum":true,"raw_data":true,"binary_data":true,"client_id":"<client id>","parameters":null,"streams":{"include_defaults":true,"subscriptions":[]}}}}]"#
    );
    // The SDK now opens the stream with that request; the service answers with a checkpoint
    // (the buckets, their checksums and op counts), then data, then `checkpoint_complete`.
    let checkpoint = r#"{"checkpoint": {"last_op_id": "1", "write_checkpoint": null,
        "buckets": [{"bucket": "b", "checksum": 10, "priority": 3, "count": 1}]}}"#;
    assert_eq!(
        control("line_text", Some(checkpoint))?,
        r#"[{"UpdateSyncStatus":{"status":{"connected":true,"connecting":false,"priority_status":[],"downloading":{"buckets":{"prio_3":{"priority":3,"at_last":0,"since_last":0,"target_count":1}}},"streams":[]}}}]"#
    );
    let data = r#"{"data": {"bucket": "b", "data": [{"op_id": "1", "op": "PUT",
        "object_type": "todos", "object_id": "t1", "checksum": 10,
        "data": "{\"description\": \"Buy milk\", \"done\": 0}"}]}}"#;
    assert_eq!(
        control("line_text", Some(data))?,
        r#"[{"UpdateSyncStatus":{"status":{"connected":true,"connecting":false,"priority_status":[],"downloading":{"buckets":{"prio_3":{"priority":3,"at_last":0,"since_last":1,"target_count":1}}},"streams":[]}}}]"#
    );
    let complete = r#"{"checkpoint_complete": {"last_op_id": "1"}}"#;
    assert_eq!(
        control("line_text", Some(complete))?,
        r#"[{"LogLine":{"severity":"DEBUG","line":"Validated and applied checkpoint"}},{"DidCompleteSync":{}},{"UpdateSyncStatus":{"status":{"connected":true,"connecting":false,"priority_status":[{"priority":2147483647,"last_synced_at":<now>,"has_synced":true}],"downloading":null,"streams":[]}}}]"#
    );
    assert_eq!(
        control("stop", None)?,
        r#"[{"UpdateSyncStatus":{"status":{"connected":false,"connecting":false,"priority_status":[{"priority":2147483647,"last_synced_at":<now>,"has_synced":true}],"downloading":null,"streams":[]}}},{"CloseSyncStream":{"hide_disconnect":false}}]"#
    );

    // The checkpoint is complete and valid, so its rows are in the app's view.
    let row: (String, i64) =
        conn.query_row("SELECT description, done FROM todos WHERE id = 't1'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    assert_eq!(row, ("Buy milk".to_string(), 0));

    // A local write goes through the view's triggers into the upload queue, `ps_crud`, which
    // the SDK uploads to the app's backend (and which blocks applying downloaded data until
    // it is uploaded).
    conn.execute("UPDATE todos SET done = 1 WHERE id = 't1'", [])?;
    let queued: String = conn.query_row("SELECT data FROM ps_crud", [], |r| r.get(0))?;
    assert_eq!(
        queued,
        r#"{"op":"PATCH","id":"t1","type":"todos","data":{"done":1}}"#
    );
    Ok(())
}

/// `instructions` with the random client id and the clock readings (`last_synced_at`,
/// microseconds since the epoch) replaced by placeholders, so that they compare equal from
/// one run to the next.
fn stable(instructions: &str, client_id: &str) -> String {
    let key = r#""last_synced_at":"#;
    let masked = instructions.replace(client_id, "<client id>");
    let mut parts = masked.split(key);
    let mut out = parts.next().unwrap_or_default().to_string();
    for part in parts {
        out.push_str(key);
        out.push_str("<now>");
        out.push_str(part.trim_start_matches(|c: char| c.is_ascii_digit()));
    }
    out
}
