#!/usr/bin/env bash
# Runs every test: unit tests, integration tests, differential tests against the reference
# extension (fetched from npm), and the loadable library's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/fetch-reference.sh || echo "!!! reference extension unavailable: differential tests will be SKIPPED !!!"
cargo build --release -p powersync-loadable
cargo build --release -p powersync-static
rm -f target/differential-cases.txt
status=0
cargo test --release --no-fail-fast "$@" || status=$?
echo
echo "== differential suites (ours vs the reference, same inputs) =="
sort target/differential-cases.txt 2>/dev/null || echo "(none ran: reference unavailable?)"
exit $status
