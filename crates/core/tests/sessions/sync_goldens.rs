//! Replays the reference's recorded sync sessions (recorded from core 0.5.3) through our
//! implementation and compares the instructions exactly, after normalising `last_synced_at`
//! (the recordings used a fake clock). The same recordings are replayed through the 0.5.4
//! reference too, which still produces them unchanged (none of its changes shows in these
//! sessions), so they stay valid for 0.5.4.
use crate::common;
use crate::sync_common;

use serde_json::Value as Json;
use sync_common::*;

fn replay(name: &str, conn: &rusqlite::Connection) -> usize {
    let dir = common::golden_dir();
    let text = std::fs::read_to_string(dir.join(name)).expect("golden file");
    let steps: Vec<Json> = serde_json::from_str(&text).unwrap();
    init(conn, ITEMS_SCHEMA);
    for (i, step) in steps.iter().enumerate() {
        let op = step["operation"].as_str().unwrap();
        let payload = match &step["data"] {
            Json::Null => Payload::Null,
            Json::String(s) => Payload::Text(s.clone()),
            other => Payload::Text(other.to_string()),
        };
        let out = call(conn, op, &payload).unwrap_or_else(|e| panic!("{name} step {i}: {e:?}"));
        let rusqlite::types::Value::Text(out) = out else {
            panic!("{name} step {i}: not text")
        };
        let mut ours: Json = serde_json::from_str(&normalize_text(&out)).unwrap();
        let mut expected = step["output"].clone();
        normalize_json(&mut ours);
        normalize_json(&mut expected);
        assert_eq!(ours, expected, "{name} step {i} ({op})");
    }
    steps.len()
}

#[test]
fn goldens() {
    let files = ["simple_iteration.json", "starting_stream.json"];
    let n: usize = files.iter().map(|f| replay(f, &common::open_ours())).sum();
    common::report("sync_goldens", n);
    // Live, the reference replays the recordings too (its answer: the steps matched);
    // from the transcript, that it did when recorded.
    let n: usize = files
        .iter()
        .map(|f| common::open_reference(f).ask("replay", f, |c| replay(f, c)))
        .sum();
    common::report("sync_goldens (0.5.4 reference against the recordings)", n);
}
