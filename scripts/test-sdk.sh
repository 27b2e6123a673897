#!/usr/bin/env bash
# Builds and runs crates/sdk-test: an app on the official PowerSync Rust SDK (`powersync` 0.2.0
# from crates.io) with our `powersync_core` swapped in by `[patch.crates-io]`, syncing from a mock
# service on 127.0.0.1. Not part of `cargo test` in the workspace: it is a workspace of its own
# (the SDK pins rusqlite 0.39) and the first build is slow (the SDK, bindgen for its SQLite
# bindings, SQLite itself); later runs reuse target/sdk-test.
#
# Extra arguments go to `cargo test` (e.g. a test name).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# powersync_sqlite_nostd (an SDK dependency) generates its bindings with bindgen: libclang.
export LIBCLANG_PATH=${LIBCLANG_PATH:-/usr/lib/llvm-14/lib}
if [ ! -e "$LIBCLANG_PATH/libclang.so" ] && ! ls "$LIBCLANG_PATH"/libclang-*.so >/dev/null 2>&1; then
  echo "installing libclang-14-dev (bindgen needs libclang)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-14-dev) >/dev/null
fi
export CARGO_TARGET_DIR="$root/target/sdk-test"
cd "$root/crates/sdk-test"
cargo fmt --check
start=$SECONDS
if ! cargo test --locked --no-run; then
  echo "!!! build failed; if only the lockfile is stale (powersync_core's dependencies changed)," \
       "run: (cd crates/sdk-test && cargo update -p powersync_core) and commit crates/sdk-test/Cargo.lock !!!"
  exit 1
fi
built=$SECONDS
# Lints this crate (the build above compiled our core against the SDK's rusqlite 0.39, the
# lower end of the range; the workspace's own builds use the 0.43 of its lockfile).
cargo clippy --locked --all-targets -- -D warnings
linted=$SECONDS
status=0
cargo test --locked "$@" 2>&1 | tee "$CARGO_TARGET_DIR/test-output.txt" || status=$?
echo "sdk test: build $((built - start)) s, clippy $((linted - built)) s, run $((SECONDS - linted)) s"
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
     END { printf "sdk tests: %d passed, %d failed\n", p, f }' "$CARGO_TARGET_DIR/test-output.txt"
exit $status
