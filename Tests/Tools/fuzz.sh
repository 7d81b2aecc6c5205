#!/usr/bin/env bash
# Runs the libFuzzer targets for a given time and prints their execution counts.
#
#   Tests/Tools/fuzz.sh [SECONDS_PER_TARGET=60] [TARGET ...]
#
# Targets: wire (the message decoder), capture-pcapng (the capture reader from uncompressed
# seeds), capture-zstd (the capture reader from zstd seeds), engine (the client engine fed
# arbitrary datagrams), diff (event files and their comparison), legacy (the libntstat recording
# importer), or all.
#
# Builds each target in release mode with -sanitize=fuzzer and address sanitizer into
# .build-release-fuzz (or $FUZZ_SCRATCH: a second build folder lets two runs go side by side
# while sources change). The sanitizer flags are also passed to swiftc directly: SwiftPM 6.3's
# --sanitize=fuzzer alone does not reach every module's compile command reliably, and a target
# built without coverage makes libFuzzer run blind (the script refuses such a run), starts from the committed seed corpus (Tests/*/Fixtures/fuzz/<target>-corpus,
# copied to a scratch directory so the committed corpus only grows by hand), and saves any
# crashing input to Tests/*/Fixtures/fuzz/<target>-crashes, where a unit test replays it on
# every `swift test`.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
scratch=${FUZZ_SCRATCH:-.build-release-fuzz}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(wire)
[ "${targets[0]}" = all ] && targets=(wire capture-pcapng capture-zstd engine diff legacy)

for target in "${targets[@]}"; do
  case "$target" in
    wire) product=NtstatWireFuzz; fixtures=Tests/NtstatWireTests/Fixtures/fuzz; max_len=8192 ;;
    capture-pcapng | capture-zstd)
      product=NtstatCaptureFuzz; fixtures=Tests/NtstatCaptureTests/Fixtures/fuzz; max_len=4096 ;;
    engine | diff | legacy)
      product=NtstatClientFuzz; fixtures=Tests/NTStatTests/Fixtures/fuzz; max_len=32768 ;;
    *) echo "unknown fuzz target: $target" >&2; exit 2 ;;
  esac
  swift build -c release --scratch-path "$scratch" --sanitize=fuzzer --sanitize=address \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DNTSTAT_FUZZING --product "$product" >&2
  binary=$(swift build -c release --scratch-path "$scratch" --show-bin-path)/$product
  work=$(mktemp -d)
  cp -r "$fixtures/$target-corpus/." "$work/"
  log=$(mktemp)
  status=0
  "$binary" "$work" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$fixtures/$target-crashes/" -max_len="$max_len" >"$log" 2>&1 || status=$?
  if ! grep -q 'INFO: Loaded [0-9]* modules' "$log"; then
    echo "$target: the build has no coverage instrumentation; refusing to report a blind run" >&2
    exit 1
  fi
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
  rate=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}' || true)
  cov=$(grep -E '#[0-9]+.*(DONE|pulse|NEW)' "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+).*/\1/' || true)
  corpus=$(grep -E '#[0-9]+.*(DONE|pulse|NEW)' "$log" | tail -1 | sed -E 's/.*corp: ([0-9]+).*/\1/' || true)
  echo "$target: ${execs:-?} executions in ${seconds}s (${rate:-?}/s), coverage ${cov:-?} edges, corpus ${corpus:-?} inputs, exit $status"
  if [ "$status" -ne 0 ]; then
    tail -40 "$log" >&2
    echo "$target: crash input saved under $fixtures/$target-crashes/" >&2
    exit 1
  fi
  rm -rf "$work" "$log"
done
