//! The PowerSync core as a static library for C applications, linked against the
//! application's own SQLite.
//!
//! Call `powersync_init_static()` once; every connection opened afterwards gets the extension.
//! Both C entry points are defined by `powersync_core` (feature `static`, which Rust
//! applications use directly); this crate only packages them as `libpowersync_static.a`.

pub use powersync_core::{powersync_init_static, sqlite3_powersync_init};
