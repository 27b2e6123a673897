//! The static library (`libpowersync_static.a`) linked into a C program against the system's
//! SQLite (Debian's 3.40): `powersync_init_static()` registers PowerSync on every connection.
//!
//! `scripts/test.sh` builds the library (`cargo build --release -p powersync-static`).
use crate::common;

use std::process::Command;

const PROGRAM: &str = r#"
#include <stdio.h>
#include <sqlite3.h>
int powersync_init_static(void);
static int print_row(void *unused, int n, char **values, char **names) {
  for (int i = 0; i < n; i++) printf("%s%s", i ? "|" : "", values[i] ? values[i] : "");
  printf("\n");
  return 0;
}
int main(void) {
  sqlite3 *db;
  char *err = 0;
  if (powersync_init_static() != SQLITE_OK) return 1;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) return 2;
  const char *sql =
    "SELECT substr(powersync_rs_version(), 1, 6);"
    "BEGIN; SELECT powersync_init(); COMMIT;"
    "SELECT max(id) FROM ps_migration;"
    "SELECT length(uuid());";
  if (sqlite3_exec(db, sql, print_row, 0, &err) != SQLITE_OK) { printf("error: %s\n", err); return 3; }
  sqlite3_close(db);
  return 0;
}
"#;

#[test]
fn static_library_registers_on_system_sqlite() {
    let root = common::workspace_root();
    let lib = root.join("target/release/libpowersync_static.a");
    assert!(
        lib.exists(),
        "{} is missing: run `cargo build --release -p powersync-static` (scripts/test.sh does)",
        lib.display()
    );
    if !std::path::Path::new("/usr/include/sqlite3.h").exists() {
        common::report_skipped("static_lib", "no sqlite3.h (apt-get install libsqlite3-dev)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("powersync-static-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("main.c");
    let exe = dir.join("main");
    std::fs::write(&src, PROGRAM).unwrap();
    let cc = Command::new("cc")
        .arg(&src)
        .arg(&lib)
        // --gc-sections drops rusqlite wrappers of APIs newer than the system SQLite (3.40), which
        // PowerSync never calls; apps linking against an older SQLite need it too.
        .args(["-lsqlite3", "-lpthread", "-ldl", "-lm", "-Wl,--gc-sections", "-o"])
        .arg(&exe)
        .output()
        .expect("a C compiler");
    assert!(
        cc.status.success(),
        "cc failed: {}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let out = Command::new(&exe).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "program failed: {stdout}");
    assert_eq!(stdout, "0.5.4/\n\n14\n36\n");
    std::fs::remove_dir_all(&dir).unwrap();
    common::report("static_lib", 1);
}
