//! `powersync_update_hooks('install' | 'get')`: committed table-change tracking (§10.9).

/// Pending and committed sets of changed tables.
#[derive(Debug, Default)]
pub struct HookState {}
