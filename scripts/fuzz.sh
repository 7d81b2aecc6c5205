#!/usr/bin/env bash
# Runs the libFuzzer targets for a given time and prints their execution counts.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET=60] [TARGET ...]     (targets: wire)
#
# Builds each target in release mode with -sanitize=fuzzer and address sanitizer into
# .build-fuzz, starts from the committed seed corpus (Tests/*/Fixtures/fuzz/<target>-corpus,
# copied to a scratch directory so the committed corpus only grows by hand), and saves any
# crashing input to Tests/*/Fixtures/fuzz/<target>-crashes, where a unit test replays it on
# every `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(wire)

for target in "${targets[@]}"; do
  case "$target" in
    wire) product=NtstatWireFuzz; fixtures=Tests/NtstatWireTests/Fixtures/fuzz ;;
    *) echo "unknown fuzz target: $target" >&2; exit 2 ;;
  esac
  swift build -c release --scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address \
    -Xswiftc -DNTSTAT_FUZZING --product "$product" >&2
  binary=$(swift build -c release --scratch-path .build-fuzz --show-bin-path)/$product
  work=$(mktemp -d)
  cp -r "$fixtures/$target-corpus/." "$work/"
  log=$(mktemp)
  status=0
  "$binary" "$work" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$fixtures/$target-crashes/" -max_len=8192 >"$log" 2>&1 || status=$?
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  rate=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}')
  cov=$(grep -E '#[0-9]+.*(DONE|pulse)' "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+).*/\1/')
  echo "$target: ${execs:-?} executions in ${seconds}s (${rate:-?}/s), coverage ${cov:-?} edges, exit $status"
  if [ "$status" -ne 0 ]; then
    tail -40 "$log" >&2
    echo "$target: crash input saved under $fixtures/$target-crashes/" >&2
    exit 1
  fi
  rm -rf "$work" "$log"
done
