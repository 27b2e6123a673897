//! Harness of the SDK integration test (`tests/sdk.rs`): a PowerSync database opened through
//! the official Rust SDK, whose core is our `powersync_core` (patched in by `Cargo.toml`), syncing
//! from a mock service on loopback.

pub mod http;
pub mod service;

use async_executor::Executor;
use async_trait::async_trait;
use futures_lite::{StreamExt, future};
use powersync::env::PowerSyncEnvironment;
use powersync::error::PowerSyncError;
use powersync::schema::Schema;
use powersync::{Authenticator, ConnectionPool, PowerSyncDatabase, SyncStatusData};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use service::{MockService, SyncRequest, WRITE_CHECKPOINT};

/// Upper bound of every wait: a safety net so that a broken build fails instead of hanging,
/// never the expected outcome of a test.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// One app: a database file, the SDK on top, a mock service.
pub struct TestApp {
    /// Runs the SDK's background tasks while a test awaits something in [`TestApp::run`].
    pub ex: Arc<Executor<'static>>,
    /// The SDK database.
    pub db: PowerSyncDatabase,
    /// The mock service it connects to.
    pub service: MockService,
    dir: PathBuf,
}

impl TestApp {
    /// Opens a new database file (in a fresh temporary directory) with `schema`.
    pub fn new(name: &str, schema: Schema) -> Self {
        PowerSyncEnvironment::powersync_auto_extension().expect("register the core extension");
        let dir = std::env::temp_dir().join(format!("powersync-sdk-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let pool = ConnectionPool::open(dir.join("app.db")).expect("open the database");
        let ex = Arc::new(Executor::new());
        let env = PowerSyncEnvironment::custom(
            http::LoopbackClient,
            pool,
            PowerSyncEnvironment::async_io(ex.clone()),
        );
        let db = PowerSyncDatabase::new(env, schema);
        Self {
            ex,
            db,
            service: MockService::start(),
            dir,
        }
    }

    /// Runs `f` to completion on the app's executor, failing after three [`DEADLINE`]s (the
    /// waits inside fail first, with a precise message).
    pub fn run<T>(&self, what: &str, f: impl Future<Output = T>) -> T {
        let outer = async {
            async_io::Timer::after(3 * DEADLINE).await;
            panic!("gave up after {:?} running {what}", 3 * DEADLINE);
        };
        future::block_on(self.ex.run(future::or(f, outer)))
    }

    /// Waits for a status satisfying `done` (also checked against the current status first).
    pub async fn wait_for_status(
        &self,
        what: &str,
        mut done: impl FnMut(&SyncStatusData) -> bool,
    ) -> Arc<SyncStatusData> {
        within(what, async {
            let mut statuses = self.db.watch_status();
            loop {
                let status = statuses.next().await.expect("status stream ended");
                if done(&status) {
                    return status;
                }
            }
        })
        .await
    }

    /// Waits until the SDK has applied a complete checkpoint, failing early on a download error.
    pub async fn wait_for_sync(&self) {
        let status = self
            .wait_for_status("a completed sync", |s| {
                s.has_synced() && !s.is_downloading() || s.download_error().is_some()
            })
            .await;
        if let Some(err) = status.download_error() {
            panic!("sync failed: {err}");
        }
    }

    /// Waits until `sql` returns `expected`, re-running it whenever `table` changes.
    pub async fn wait_for_rows(&self, table: &str, sql: &str, expected: Value) {
        let what = format!("{sql} to return {expected}");
        within(&what, async {
            let mut changes = self.db.watch_tables(true, [table]);
            loop {
                changes.next().await.expect("update stream ended");
                if Value::Array(self.query(sql).await) == expected {
                    return;
                }
            }
        })
        .await
    }

    /// The next sync stream the SDK opens.
    pub async fn next_request(&self) -> SyncRequest {
        within("a sync stream request", self.service.requests.recv())
            .await
            .expect("service stopped")
    }

    /// Rows of `sql` as JSON arrays, on a reader connection.
    pub async fn query(&self, sql: &str) -> Vec<Value> {
        let conn = self.db.reader().await.expect("reader");
        let mut stmt = conn.prepare(sql).expect("prepare");
        let n = stmt.column_count();
        stmt.query_map([], |row| {
            (0..n)
                .map(|i| {
                    Ok(match row.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => Value::Null,
                        rusqlite::types::ValueRef::Integer(v) => json!(v),
                        rusqlite::types::ValueRef::Real(v) => json!(v),
                        rusqlite::types::ValueRef::Text(v) => json!(String::from_utf8_lossy(v)),
                        rusqlite::types::ValueRef::Blob(v) => json!(v),
                    })
                })
                .collect::<rusqlite::Result<Vec<Value>>>()
                .map(Value::Array)
        })
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
    }

    /// Runs one statement on the writer connection (a local write).
    pub async fn execute(&self, sql: &str) {
        let conn = self.db.writer().await.expect("writer");
        conn.execute(sql, []).expect("execute");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `f`, or a panic naming `what` once [`DEADLINE`] has passed.
pub async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    future::or(f, async {
        async_io::Timer::after(DEADLINE).await;
        panic!("gave up after {DEADLINE:?} waiting for {what}");
    })
    .await
}

/// A fixed token; the mock service accepts anything.
pub struct StaticToken;

#[async_trait]
impl Authenticator for StaticToken {
    async fn resolve_credentials(&self) -> Result<Arc<String>, PowerSyncError> {
        Ok(Arc::new("test-token".to_string()))
    }
}

/// Sync lines of the PowerSync protocol (JSON form).
pub mod lines {
    use serde_json::{Value, json};

    /// A checkpoint with one bucket `bucket` (priority 3) of `count` operations whose checksums
    /// sum up to `checksum`.
    pub fn checkpoint(
        last_op_id: i64,
        write_checkpoint: Option<i64>,
        bucket: &str,
        checksum: u32,
        count: i64,
    ) -> Value {
        json!({"checkpoint": {
            "last_op_id": last_op_id.to_string(),
            "write_checkpoint": write_checkpoint.map(|id| id.to_string()),
            "buckets": [{"bucket": bucket, "checksum": checksum, "priority": 3, "count": count}],
        }})
    }

    /// A PUT of row `id` of `table` with `data` (a JSON object) as operation `op_id`.
    pub fn put(bucket: &str, op_id: i64, table: &str, id: &str, checksum: u32, data: Value) -> Value {
        json!({"data": {"bucket": bucket, "has_more": false, "after": null, "next_after": null, "data": [{
            "op_id": op_id.to_string(),
            "op": "PUT",
            "object_type": table,
            "object_id": id,
            "checksum": checksum,
            "data": data.to_string(),
        }]}})
    }

    /// The end of checkpoint `last_op_id`.
    pub fn checkpoint_complete(last_op_id: i64) -> Value {
        json!({"checkpoint_complete": {"last_op_id": last_op_id.to_string()}})
    }
}
