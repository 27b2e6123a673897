//! SQL surface of the sync client: registration flags, JSON subtype, transaction rule,
//! behaviour before `powersync_init()`. Differential against the reference.
use crate::common;
use crate::sync_common;

use rusqlite::Connection;

fn outcome(conn: &Connection, sql: &str, tx: bool) -> Result<rusqlite::types::Value, (i32, String)> {
    if tx {
        conn.execute_batch("BEGIN").unwrap();
    }
    let r = common::eval(conn, sql);
    if tx {
        conn.execute_batch("ROLLBACK").unwrap();
    }
    r
}

#[test]
fn surface_matches_reference() {
    let (ours, reference) = common::both("reference");
    let mut cases = 0;
    let mut check = |sql: &str, tx: bool| {
        let a = outcome(&ours, sql, tx);
        let b = reference.ask("outcome", &format!("{sql} tx:{tx}"), |c| outcome(c, sql, tx));
        assert_eq!(a, b, "{sql} (tx: {tx})");
        cases += 1;
    };
    // Before powersync_init.
    check("SELECT powersync_control('stop', NULL)", true);
    check("SELECT powersync_control('bogus', NULL)", true);
    check("SELECT powersync_control('start', 'x')", true);
    check("SELECT powersync_offline_sync_status()", false);
    sync_common::init(&ours, sync_common::ITEMS_SCHEMA);
    sync_common::init(&reference, sync_common::ITEMS_SCHEMA);
    check("SELECT powersync_control('stop', NULL)", false);
    check("SELECT powersync_control(NULL, NULL)", true);
    check("SELECT powersync_control(1, NULL)", true);
    check("SELECT json_array(powersync_control('stop', NULL))", true);
    check("SELECT json_array(powersync_offline_sync_status())", false);
    check("SELECT powersync_offline_sync_status()", false);
    check(
        "SELECT powersync_control('current_checkpoint_request_id', NULL)",
        true,
    );
    check(
        "SELECT powersync_control('target_checkpoint_request_id', 2.5)",
        true,
    );
    check(
        "SELECT powersync_control('target_checkpoint_request_id', x'00')",
        true,
    );
    check(
        "SELECT powersync_control('target_checkpoint_request_id', ' 5')",
        true,
    );
    const VIEWS: &str = "CREATE VIEW v AS SELECT powersync_control('stop', NULL) AS x; CREATE VIEW w AS SELECT powersync_offline_sync_status() AS x;";
    common::each(&ours, &reference, VIEWS, |c| c.execute_batch(VIEWS).unwrap());
    check("SELECT x FROM v", true);
    check("SELECT x FROM w", false);
    check("SELECT count(*) FROM pragma_function_list WHERE name IN ('powersync_control', 'powersync_offline_sync_status') AND flags & 0x80000", false);
    common::report("sync_surface", cases);
}
