//! Internal schema migrations (versions 1..14, up and down): `powersync_init()` and
//! `powersync_test_migration(n)`. Spec: schema-and-crud §3–§4.

use crate::error::Result;
use crate::state::ConnectionState;
use rusqlite::Connection;
use std::sync::Arc;

/// Registers `powersync_init` and `powersync_test_migration`.
pub fn register(_conn: &Connection, _state: &Arc<ConnectionState>) -> Result<()> {
    Ok(())
}
