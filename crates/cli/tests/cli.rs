//! End-to-end tests of the `powersync` binary: the SQL shell on the example schema, and
//! `replay` of the recorded example session (JSON and BSON), compared with the same replay
//! through the reference extension when it is available.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn powersync(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_powersync"));
    cmd.current_dir(root()).args(args).env("RUST_BACKTRACE", "1");
    let out = if let Some(input) = stdin {
        use std::io::Write;
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    } else {
        cmd.output().unwrap()
    };
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Blanks out what differs by nature between runs: client ids, timestamps, durations.
fn normalize(text: &str) -> String {
    text.lines()
        .map(|line| {
            let mut out = String::new();
            let mut rest = line;
            while let Some(pos) = rest.find("\"last_synced_at\":") {
                let (head, tail) = rest.split_at(pos + "\"last_synced_at\":".len());
                out.push_str(head);
                out.push('T');
                rest = tail.trim_start_matches(|c: char| c.is_ascii_digit());
            }
            out.push_str(rest);
            if let Some(pos) = out.find("\"client_id\":\"") {
                let start = pos + "\"client_id\":\"".len();
                out.replace_range(start..start + 36, "CLIENT");
            }
            if out.starts_with("replayed ") {
                out = out.split(" in ").next().unwrap().to_string();
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn sql_demo_prints_the_upload_queue() {
    let demo = std::fs::read_to_string(root().join("examples/demo.sql")).unwrap();
    let (ok, stdout, stderr) = powersync(
        &["sql", "--schema", "examples/schema.json", ":memory:"],
        Some(&demo),
    );
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout,
        r#"schema version|14
ps_crud|1|1|{"op":"PUT","id":"l1","type":"lists","data":{"name":"Groceries","owner_id":"u1"}}
ps_crud|2|2|{"op":"PUT","id":"t1","type":"todos","data":{"completed":0,"description":"Milk","list_id":"l1"}}
ps_crud|3|3|{"op":"PATCH","id":"t1","type":"todos","data":{"completed":1},"old":{"completed":0}}
ps_crud|4|4|{"op":"PUT","type":"audit_log","id":"a1","data":{"message":"demo ran"}}
ps_crud|5|5|{"op":"DELETE","id":"t1","type":"todos","old":{"completed":1}}
views|audit_log
views|drafts
views|lists
views|todos
"#
    );
}

#[test]
fn sql_errors_are_reported() {
    let (ok, _, stderr) = powersync(
        &["sql", ":memory:", "SELECT powersync_replace_schema('{}')"],
        None,
    );
    assert!(!ok);
    // Exactly one line, even with RUST_BACKTRACE set (regression: anyhow's report printed
    // "Error: Error: ..." followed by a stack backtrace).
    assert_eq!(
        stderr,
        "Error: powersync_replace_schema: This function may only be called in transactions.\n"
    );
}

const SUMMARY: &str = "  CloseSyncStream: 1
  DidCompleteSync: 2
  EstablishSyncStream: 1
  FetchCredentials: 1
  LogLine: 2
  UpdateSyncStatus: 11
ps_buckets: 2 rows, ps_oplog: 14 rows
ps_data__audit_log: 0 rows
ps_data__lists: 3 rows
ps_data__todos: 11 rows
ps_untyped: 0 rows
";

#[test]
fn replay_example_session_json_and_bson() {
    for (file, bytes) in [("examples/session.ndjson", 3748), ("examples/session.bson", 3745)] {
        let (ok, stdout, stderr) = powersync(
            &["replay", "--schema", "examples/schema.json", "--progress", file],
            None,
        );
        assert!(ok, "{file}: {stderr}");
        let expected = format!("replayed 11 lines ({bytes} bytes)\n{SUMMARY}");
        assert_eq!(normalize(&stdout) + "\n", expected, "{file}");
    }
}

#[test]
fn replay_matches_the_reference_instruction_for_instruction() {
    let reference = root().join("target/reference/libpowersync.so");
    if !reference.exists() {
        eprintln!("!!! SKIPPED: reference extension missing (scripts/build-reference.sh) !!!");
        return;
    }
    for file in ["examples/session.ndjson", "examples/session.bson"] {
        let (ok, ours, stderr) = powersync(&["replay", "--schema", "examples/schema.json", file], None);
        assert!(ok, "{stderr}");
        let (ok, theirs, stderr) = powersync(
            &[
                "replay",
                "--schema",
                "examples/schema.json",
                "--extension",
                reference.to_str().unwrap(),
                file,
            ],
            None,
        );
        assert!(ok, "{stderr}");
        assert_eq!(normalize(&ours), normalize(&theirs), "{file}");
        assert!(ours.lines().count() > 20);
    }
}

#[test]
fn replay_reports_the_failing_line() {
    let dir = std::env::temp_dir().join(format!("powersync-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.ndjson");
    std::fs::write(
        &file,
        "{\"token_expires_in\":60}\n{\"checkpoint\":{\"last_op_id\":1}}\n",
    )
    .unwrap();
    let (ok, _, stderr) = powersync(&["replay", file.to_str().unwrap()], None);
    assert!(!ok);
    assert!(
        stderr.contains("powersync_control('line_text') failed at line 2"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Sync protocol error: invalid text line"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn doctor_explains_a_stuck_write_gate_and_fixes_it() {
    let dir = std::env::temp_dir().join(format!("powersync-cli-doctor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("app.db");
    let _ = std::fs::remove_file(&db);
    let db = db.to_str().unwrap();
    let (ok, _, err) = powersync(
        &[
            "replay",
            "--schema",
            "examples/schema.json",
            "--db",
            db,
            "examples/session.ndjson",
        ],
        None,
    );
    assert!(ok, "{err}");
    let (ok, out, _) = powersync(&["doctor", db], None);
    assert!(ok);
    assert_eq!(out, "ok: 13 checks passed, nothing found\n");

    // A local write whose upload was completed without a write checkpoint.
    let (ok, _, err) = powersync(
        &[
            "sql",
            db,
            "INSERT INTO lists (id, name) VALUES (uuid(), 'x'); DELETE FROM ps_crud;",
        ],
        None,
    );
    assert!(ok, "{err}");
    let (ok, out, _) = powersync(&["doctor", db], None);
    assert!(!ok, "problems exit with status 1");
    assert!(
        out.starts_with("PROBLEM [write-gate-stuck] Downloaded data is held back:"),
        "{out}"
    );
    assert!(
        out.contains("    --fix would remove the write-gate target"),
        "{out}"
    );

    let (ok, out, _) = powersync(&["doctor", "--fix", db], None);
    assert!(ok, "{out}");
    assert!(
        out.contains("    repaired: remove the write-gate target"),
        "{out}"
    );
    assert!(
        out.ends_with("after repair:\nok: 13 checks passed, nothing found\n"),
        "{out}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn doctor_names_a_missing_file() {
    let (ok, _, err) = powersync(&["doctor", "/nonexistent/app.db"], None);
    assert!(!ok);
    assert!(err.contains("/nonexistent/app.db: no such file"), "{err}");
}
