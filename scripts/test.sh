#!/usr/bin/env bash
# Runs every test: unit tests, integration tests, differential tests against the reference
# extension (core 0.5.4, built from crates.io by scripts/build-reference.sh), and the loadable
# library's tests. The Rust SDK integration test (crates/sdk-test, a workspace of its own) is the
# other half of "all tests": scripts/test-sdk.sh, which .ci/run runs after this script.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-reference.sh || echo "!!! reference extension unavailable: differential tests will be SKIPPED !!!"
cargo build --release -p powersync-loadable
cargo build --release -p powersync-static
rm -f target/differential-cases.txt
status=0
cargo test --release --no-fail-fast "$@" 2>&1 | tee target/test-output.txt || status=$?
echo
echo "== differential suites (ours vs the reference, same inputs) =="
sort target/differential-cases.txt 2>/dev/null || echo "(none ran: reference unavailable?)"
# One closing line over all test binaries (cargo's last block is the doc-tests, often empty).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f }' target/test-output.txt
exit $status
