//! `powersync_update_hooks('install' | 'get')`: committed table-change tracking (docs/sql-surface.md#update-hooks).
//!
//! SDKs use this to notify watchers of tables changed by committed transactions: an update
//! hook collects table names into a *pending* set, the commit hook moves them to the
//! *committed* set (a rollback discards them), and `'get'` returns and empties the committed
//! set. The hooks themselves are C callbacks, in `ffi/hooks.rs`.

use crate::error::{PowerSyncError, Result};
use crate::ffi::hooks::{install, take_committed, UninstallOnDrop};
use crate::sql_fn::{self, Output, DETERMINISTIC, RESULT_SUBTYPE};
use crate::state::ConnectionState;
use rusqlite::{ffi, Connection};
use std::sync::Arc;

pub(crate) use crate::ffi::hooks::HookState;

/// Registers `powersync_update_hooks` (DETERMINISTIC and RESULT_SUBTYPE, as the reference).
pub(crate) fn register(conn: &Connection, state: &Arc<ConnectionState>) -> Result<()> {
    let guard = UninstallOnDrop::new(conn, state);
    sql_fn::register(
        conn,
        "powersync_update_hooks",
        1,
        DETERMINISTIC | RESULT_SUBTYPE,
        move |call| match call.text_lossy(0).as_str() {
            "install" => {
                install(&call.connection(), guard.state())?;
                Ok(Output::Null)
            }
            "get" => Ok(Output::Json(take_committed(guard.state()))),
            _ => Err(PowerSyncError::Plain {
                code: ffi::SQLITE_MISUSE,
                message: "Unknown operation".into(),
            }),
        },
    )
}
