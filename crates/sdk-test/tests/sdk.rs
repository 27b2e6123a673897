//! The official PowerSync Rust SDK (`powersync` 0.2.0) on our core, against a mock service on
//! loopback: what an application sees.
//!
//! `direct_table_syncs_rows` and `download_only_reports_pending_local_data` need core features
//! (direct tables, the `CheckpointDelayedDueToLocalData` instruction) that are developed on
//! other branches; they fail until those are merged.

use async_trait::async_trait;
use powersync::error::PowerSyncError;
use powersync::schema::{Column, Schema, Table};
use powersync::{MutationUploader, PowerSyncDatabase, SyncOptions};
use powersync_sdk_test::lines::{checkpoint, checkpoint_complete, put};
use powersync_sdk_test::{StaticToken, TestApp, WRITE_CHECKPOINT, within};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

fn users_schema(direct: bool) -> Schema {
    let mut schema = Schema::default();
    schema.tables.push(Table::create(
        "users",
        vec![Column::text("name"), Column::integer("age")],
        |table| table.direct = direct,
    ));
    schema
}

/// One uploaded change: operation (as in the protocol), table, id, data.
type Entry = (Value, String, String, Value);

/// Uploads each local transaction: reports its entries to the test, then completes it.
struct ReportingUploader {
    db: PowerSyncDatabase,
    uploaded: async_channel::Sender<Vec<Entry>>,
}

#[async_trait]
impl MutationUploader for ReportingUploader {
    async fn upload(&self) -> Result<(), PowerSyncError> {
        while let Some(tx) = self.db.next_crud_transaction().await? {
            let entries = tx
                .crud
                .iter()
                .map(|e| {
                    let data = e.data.clone().map(Value::Object).unwrap_or(Value::Null);
                    let op = serde_json::to_value(&e.update_type).unwrap_or(Value::Null);
                    (op, e.table.clone(), e.id.clone(), data)
                })
                .collect();
            let _ = self.uploaded.send(entries).await;
            tx.complete().await?;
        }
        Ok(())
    }
}

fn connect(app: &TestApp) -> async_channel::Receiver<Vec<Entry>> {
    let (uploaded, uploads) = async_channel::unbounded();
    let uploader = ReportingUploader {
        db: app.db.clone(),
        uploaded,
    };
    let options = SyncOptions::new(&app.service.endpoint, StaticToken, uploader);
    app.run("connect", app.db.connect(options));
    uploads
}

#[test]
fn initial_sync_lands_rows() {
    let app = TestApp::new("initial", users_schema(false));
    connect(&app);
    app.run("initial sync", async {
        let stream = app.next_request().await;
        assert!(
            stream.body.get("buckets").is_some(),
            "sync request: {}",
            stream.body
        );
        stream.send(checkpoint(2, None, "users[]", 3, 2));
        stream.send(put(
            "users[]",
            1,
            "users",
            "u1",
            1,
            json!({"name": "alice", "age": 41}),
        ));
        stream.send(put("users[]", 2, "users", "u2", 2, json!({"name": "bob"})));
        stream.send(checkpoint_complete(2));
        app.wait_for_sync().await;
        assert_eq!(
            app.query("SELECT id, name, age FROM users ORDER BY id").await,
            [json!(["u1", "alice", 41]), json!(["u2", "bob", null])]
        );
        app.db.disconnect().await;
    });
}

#[test]
fn local_write_is_uploaded() {
    let app = TestApp::new("upload", users_schema(false));
    let uploads = connect(&app);
    app.run("upload round trip", async {
        let stream = app.next_request().await;
        stream.send(checkpoint(0, None, "users[]", 0, 0));
        stream.send(checkpoint_complete(0));
        app.wait_for_sync().await;

        app.execute("INSERT INTO users (id, name, age) VALUES ('local', 'carol', 7)")
            .await;
        let entries = within("the upload", uploads.recv()).await.unwrap();
        assert_eq!(
            entries,
            [(
                json!("PUT"),
                "users".into(),
                "local".into(),
                json!({"name": "carol", "age": 7})
            )]
        );
        // Completing the transaction empties the queue; the SDK then asks for a write
        // checkpoint, which the next checkpoint from the service acknowledges.
        app.wait_for_status("the upload to finish", |s| {
            !s.is_uploading() && s.upload_error().is_none()
        })
        .await;
        assert!(app.db.next_crud_transaction().await.unwrap().is_none());
        stream.send(checkpoint(1, Some(WRITE_CHECKPOINT), "users[]", 9, 1));
        stream.send(put(
            "users[]",
            1,
            "users",
            "local",
            9,
            json!({"name": "carol (server)", "age": 7}),
        ));
        stream.send(checkpoint_complete(1));
        app.wait_for_rows(
            "users",
            "SELECT id, name, age FROM users",
            json!([["local", "carol (server)", 7]]),
        )
        .await;
        assert!(app.service.write_checkpoints.load(Ordering::SeqCst) >= 1);
        app.db.disconnect().await;
    });
}

/// Needs direct tables (schema option `direct: true`) in the core: another branch.
#[test]
fn direct_table_syncs_rows() {
    let app = TestApp::new("direct", users_schema(true));
    app.run("direct table", async {
        assert_eq!(
            app.query("SELECT type FROM pragma_table_list('users')").await,
            [json!(["table"])],
            "a direct table is a real table, not a view"
        );
    });
    connect(&app);
    app.run("direct table sync", async {
        let stream = app.next_request().await;
        stream.send(checkpoint(1, None, "users[]", 5, 1));
        stream.send(put(
            "users[]",
            1,
            "users",
            "u1",
            5,
            json!({"name": "dora", "age": 3}),
        ));
        stream.send(checkpoint_complete(1));
        app.wait_for_sync().await;
        assert_eq!(
            app.query("SELECT id, name, age FROM users").await,
            [json!(["u1", "dora", 3])]
        );
        app.db.disconnect().await;
    });
}

/// Needs the core's `CheckpointDelayedDueToLocalData` instruction: another branch.
#[test]
fn download_only_reports_pending_local_data() {
    let app = TestApp::new("download-only", users_schema(false));
    let options = SyncOptions::download_only(&app.service.endpoint, StaticToken);
    app.run("connect", app.db.connect(options));
    app.run("delayed checkpoint", async {
        let stream = app.next_request().await;
        app.wait_for_status("connected", |s| s.is_connected()).await;
        // A local write that nobody will upload.
        app.execute("INSERT INTO users (id, name) VALUES ('local', 'eve')")
            .await;
        stream.send(checkpoint(1, None, "users[]", 4, 1));
        stream.send(put("users[]", 1, "users", "remote", 4, json!({"name": "frank"})));
        stream.send(checkpoint_complete(1));
        let status = app
            .wait_for_status("the SDK's error for data it cannot apply", |s| {
                s.download_error().is_some()
            })
            .await;
        let error = status.download_error().unwrap().to_string();
        assert!(error.contains("no uploader is set"), "{error}");
        assert_eq!(
            app.query("SELECT id FROM users").await,
            [json!(["local"])],
            "the checkpoint must not be applied over pending local data"
        );
        app.db.disconnect().await;
    });
}
