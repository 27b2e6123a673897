#!/usr/bin/env bash
# Runs every test: unit tests, integration tests, differential tests against the reference
# extension (fetched from npm), and the loadable library's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/fetch-reference.sh || echo "!!! reference extension unavailable: differential tests will be SKIPPED !!!"
cargo build --release -p powersync-loadable
cargo build --release -p powersync-static
cargo test --release "$@"
