#!/usr/bin/env bash
# Fetches the reference PowerSync core extension (v0.5.3, inside @powersync/node 1.1.0) from
# the npm registry into target/reference/, for differential tests. Never commit the binary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/target/reference"
file="$dest/libpowersync_x64.linux.so"
want=a6de0c79151ad6243ca18633f0df10bed32b692095fdf0f01ebdac6eb01d2edf
if [ -f "$file" ] && [ "$(sha256sum "$file" | cut -d' ' -f1)" = "$want" ]; then
  exit 0
fi
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack @powersync/node@1.1.0 --silent >/dev/null)
tar -xzf "$tmp"/powersync-node-1.1.0.tgz -C "$tmp" package/lib/libpowersync_x64.linux.so
got=$(sha256sum "$tmp/package/lib/libpowersync_x64.linux.so" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
  echo "reference binary has sha256 $got, expected $want" >&2
  exit 1
fi
cp "$tmp/package/lib/libpowersync_x64.linux.so" "$file"
echo "reference extension at $file"
