#!/usr/bin/env bash
# Builds the reference PowerSync core extension, v0.5.4 (crates.io `powersync_core` =0.5.4), as a
# loadable SQLite extension at target/reference/libpowersync.so: the test oracle of the
# differential suites and the benchmark. Never ship or commit the binary.
#
# The recipe lives in tools/oracle-0.5.4 (a cdylib wrapping the crate, every dependency pinned by
# its Cargo.lock). 0.5.4 needs a nightly toolchain (it uses `core::assert_matches`) and libclang
# (bindgen in powersync_sqlite_nostd); both are installed when missing. The build directory is
# target/oracle-build, so a second run is a no-op.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/target/reference/libpowersync.so"
recipe="$root/tools/oracle-0.5.4"
toolchain=${NIGHTLY:-nightly}
if [ -f "$out" ] && [ "$out" -nt "$recipe/Cargo.lock" ]; then
  exit 0
fi
# Building needs crates.io (and maybe apt and rustup): without network, fail at once rather
# than hang in retries. The differential tests then answer from their transcripts.
if ! timeout 5 bash -c 'exec 3<>/dev/tcp/index.crates.io/443' 2>/dev/null; then
  echo "no network: the reference extension (core 0.5.4) cannot be built" >&2
  exit 1
fi
export LIBCLANG_PATH=${LIBCLANG_PATH:-/usr/lib/llvm-14/lib}
# bindgen needs libclang.so itself (libclang-cpp.so alone does not do).
if [ ! -e "$LIBCLANG_PATH/libclang.so" ] && ! ls "$LIBCLANG_PATH"/libclang-*.so >/dev/null 2>&1; then
  echo "installing libclang-14-dev (bindgen needs libclang)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-14-dev) >/dev/null
fi
if ! cargo "+$toolchain" --version >/dev/null 2>&1; then
  echo "installing the $toolchain toolchain"
  rustup toolchain install "$toolchain" --profile minimal
fi
export CARGO_TARGET_DIR="$root/target/oracle-build"
(cd "$recipe" && CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2} cargo "+$toolchain" build --release --locked --quiet)
mkdir -p "$(dirname "$out")"
cp "$CARGO_TARGET_DIR/release/libpowersync.so" "$out"
echo "reference extension (core 0.5.4) at $out"
