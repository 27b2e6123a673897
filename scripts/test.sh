#!/usr/bin/env bash
# Runs every test: unit tests, integration tests, differential tests against the reference
# extension (core 0.5.4, built from crates.io by scripts/build-reference.sh), the loadable
# library's tests and the benchmark's (its floors), then the Rust SDK integration test (crates/sdk-test, a workspace of its own,
# through scripts/test-sdk.sh; POWERSYNC_SKIP_SDK_TEST=1 leaves it out of a quick local run).
# Arguments go to the workspace's `cargo test`.
#
# The differential suites compare with the reference live when it is available (and check
# its answers against the transcripts in crates/core/tests/transcripts), otherwise with the
# transcripts: no suite is skipped for want of the reference. POWERSYNC_OFFLINE=1 forces the
# transcripts. Without network, cargo runs --offline (dependencies must be fetched already:
# `cargo fetch`).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! timeout 5 bash -c 'exec 3<>/dev/tcp/index.crates.io/443' 2>/dev/null; then
  echo "no network: cargo runs offline"
  export CARGO_NET_OFFLINE=true
fi
bash scripts/build-reference.sh ||
  echo "reference extension unavailable: differential suites compare with the recorded transcripts"
cargo build --locked --release -p powersync-loadable
cargo build --locked --release -p powersync-static
rm -f target/differential-cases.txt
status=0
cargo test --locked --release --no-fail-fast "$@" 2>&1 | tee target/test-output.txt || status=$?
# The benchmark is not a default member; its unit tests check the floors it measures.
cargo test --locked --release --no-fail-fast -p powersync-bench 2>&1 | tee -a target/test-output.txt || status=$?
echo
echo "== differential suites (ours vs the reference, same inputs; live or from transcripts) =="
touch target/differential-cases.txt
sort target/differential-cases.txt
live=$(grep -c '(live), 0 differences' target/differential-cases.txt || true)
recorded=$(grep -c '(transcript), 0 differences' target/differential-cases.txt || true)
skipped=$(grep -c '^skipped suite' target/differential-cases.txt || true)
echo "differential suites: $live live, $recorded from transcripts, $skipped skipped"
rm -f target/sdk-test-output.txt
if [ "${POWERSYNC_SKIP_SDK_TEST:-}" != 1 ]; then
  echo
  echo "== Rust SDK integration test =="
  # pipefail: a failing SDK test fails the pipeline.
  bash scripts/test-sdk.sh 2>&1 | tee target/sdk-test-output.txt || status=1
fi
# One closing line over all test binaries of both workspaces (cargo's last block is the
# doc-tests, often empty).
# (The SDK output is missing when skipped: not an error under pipefail.)
{ cat target/test-output.txt; cat target/sdk-test-output.txt 2>/dev/null || true; } |
  awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
       END { printf "tests: %d passed, %d failed\n", p, f }'
exit $status
