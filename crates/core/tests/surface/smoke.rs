//! Smoke tests: registration and the version string, against the reference where available.
use crate::common;

#[test]
fn version_is_compatible() {
    let conn = common::open_ours();
    let v: String = conn
        .query_row("select powersync_rs_version()", [], |r| r.get(0))
        .unwrap();
    assert!(v.starts_with("0.5.4/"), "{v}");
}

#[test]
fn reference_loads() {
    let conn = common::open_reference("reference");
    let v: String = conn.ask("version", "", |c| {
        c.query_row("select powersync_rs_version()", [], |r| r.get(0))
            .unwrap()
    });
    assert_eq!(v, "0.5.4/cratesio");
}
