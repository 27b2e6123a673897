//! Replays the reference's recorded sync sessions (reference-data/goldens) through our
//! implementation and compares the instructions exactly, after normalising `last_synced_at`
//! (the recordings used a fake clock).
mod common;
mod sync_common;

use serde_json::Value as Json;
use sync_common::*;

fn golden_dir() -> std::path::PathBuf {
    common::workspace_root().join("../../shared/reference-data/goldens")
}

fn replay(name: &str) -> usize {
    let dir = if golden_dir().exists() {
        golden_dir()
    } else {
        std::path::PathBuf::from("/work/shared/reference-data/goldens")
    };
    let text = std::fs::read_to_string(dir.join(name)).expect("golden file");
    let steps: Vec<Json> = serde_json::from_str(&text).unwrap();
    let conn = common::open_ours();
    init(&conn, ITEMS_SCHEMA);
    for (i, step) in steps.iter().enumerate() {
        let op = step["operation"].as_str().unwrap();
        let payload = match &step["data"] {
            Json::Null => Payload::Null,
            Json::String(s) => Payload::Text(s.clone()),
            other => Payload::Text(other.to_string()),
        };
        let out = call(&conn, op, &payload).unwrap_or_else(|e| panic!("{name} step {i}: {e:?}"));
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
    let n = replay("simple_iteration.json") + replay("starting_stream.json");
    common::report("sync_goldens", n);
}
