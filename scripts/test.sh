#!/usr/bin/env bash
# Runs every test: unit tests, integration tests, differential tests against the reference
# extension (core 0.5.4, built from crates.io by scripts/build-reference.sh), and the loadable
# library's tests, then the Rust SDK integration test (crates/sdk-test, a workspace of its own,
# through scripts/test-sdk.sh; POWERSYNC_SKIP_SDK_TEST=1 leaves it out of a quick local run).
# Arguments go to the workspace's `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-reference.sh || echo "!!! reference extension unavailable: differential tests will be SKIPPED !!!"
cargo build --locked --release -p powersync-loadable
cargo build --locked --release -p powersync-static
rm -f target/differential-cases.txt
status=0
cargo test --locked --release --no-fail-fast "$@" 2>&1 | tee target/test-output.txt || status=$?
echo
echo "== differential suites (ours vs the reference, same inputs) =="
sort target/differential-cases.txt 2>/dev/null || echo "(none ran: reference unavailable?)"
rm -f target/sdk-test-output.txt
if [ "${POWERSYNC_SKIP_SDK_TEST:-}" != 1 ]; then
  echo
  echo "== Rust SDK integration test =="
  # pipefail: a failing SDK test fails the pipeline.
  bash scripts/test-sdk.sh 2>&1 | tee target/sdk-test-output.txt || status=1
fi
# One closing line over all test binaries of both workspaces (cargo's last block is the
# doc-tests, often empty).
{ cat target/test-output.txt; cat target/sdk-test-output.txt 2>/dev/null || true; } |
  awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
       END { printf "tests: %d passed, %d failed\n", p, f }'
exit $status
