#!/usr/bin/env bash
# Runs one cargo-fuzz target until it has used a given amount of CPU time (not wall time:
# libFuzzer's -max_total_time counts wall seconds, and on a shared machine a nice'd fuzzer gets
# a fraction of a core). Usage:
#
#   scripts/fuzz-long.sh TARGET [CPU_SECONDS=3600] [extra libFuzzer flags...]
#
# Needs nightly and cargo-fuzz (docs/fuzzing.md). New inputs go to a scratch corpus
# (target/fuzz-long/TARGET) seeded from fuzz/corpus/TARGET, so the repository's corpus only
# changes when someone minimises and commits on purpose. The last lines of the log give the
# executions, CPU seconds and whether a crash was found; a crash lands in fuzz/artifacts/TARGET.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?target}
budget=${2:-3600}
shift $(( $# >= 2 ? 2 : 1 ))
root=$PWD
scratch=$root/target/fuzz-long/$target
mkdir -p "$scratch" "$root/fuzz/artifacts/$target"
(cd fuzz && cargo +nightly fuzz build -O "$target")
bin=$root/fuzz/target/x86_64-unknown-linux-gnu/release/$target
log=$root/target/fuzz-long/$target.log
cd fuzz
"$bin" "$scratch" "corpus/$target" -artifact_prefix="artifacts/$target/" -print_final_stats=1 "$@" >"$log" 2>&1 &
pid=$!
ticks=$(getconf CLK_TCK)
cpu=0
while kill -0 "$pid" 2>/dev/null; do
  sleep 20
  # utime + stime of the fuzzer, in clock ticks (fields 14 and 15 of /proc/PID/stat).
  if stat=$(cat "/proc/$pid/stat" 2>/dev/null); then
    cpu=$(echo "$stat" | awk -v t="$ticks" '{ print int(($14 + $15) / t) }')
    if [ "$cpu" -ge "$budget" ]; then
      kill -INT "$pid"
      break
    fi
  fi
done
status=0
wait "$pid" || status=$?
execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
crashes=$(ls "$root/fuzz/artifacts/$target" | grep -c '^crash-' || true)
echo "fuzz $target: ${cpu}s CPU, ${execs:-?} executions, exit status $status, crash files: $crashes (log: $log)"
