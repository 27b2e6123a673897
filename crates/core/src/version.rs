//! The version this crate reports: `powersync_rs_version()`.
//!
//! ```
//! let version = powersync_core::version::version_string();
//! assert!(version.starts_with(powersync_core::version::COMPATIBLE_VERSION));
//! assert!(version.starts_with("0.5.4/powersync_core-0.5.4+rs."));
//! ```

/// The reference version we are compatible with. SDKs parse the part before `/` and require
/// `>=0.5.2 <0.6.0`; what follows the `/` is free, and names our own crate.
pub const COMPATIBLE_VERSION: &str = "0.5.4";

/// The full text returned by `powersync_rs_version()`.
pub fn version_string() -> String {
    format!(
        "{COMPATIBLE_VERSION}/{}-{}",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION")
    )
}
