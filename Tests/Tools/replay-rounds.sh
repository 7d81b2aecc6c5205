#!/usr/bin/env bash
# Interleaved rounds of `NtstatBenchmarks replay-configured`, to compare builds, captures or
# client configurations on a host whose load changes: every round runs each case once, in turn,
# so a slow stretch weighs on all of them alike (docs/performance.md). Each case is
# BINARY,CAPTURE,MODE (MODE: default or recorded). Prints, per case, the medians (and least–most)
# of the replay's wall-clock time, its client thread's CPU and its reading thread's CPU; then,
# with two cases or more, the median (least–most) of the per-round speed ratio of each case to
# the first (first's time ÷ its time).
#   Tests/Tools/replay-rounds.sh ROUNDS BINARY,CAPTURE,MODE [BINARY,CAPTURE,MODE ...]
set -eu
rounds=$1
shift
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
for _ in $(seq "$rounds"); do
  line=""
  for case in "$@"; do
    IFS=, read -r binary capture mode <<< "$case"
    report=$("$binary" replay-configured "$capture" "$mode")
    wall=$(echo "$report" | grep -o 'seconds=[0-9.e-]*' | head -1 | cut -d= -f2)
    client=$(echo "$report" | grep -o 'client_cpu=[0-9.e-]*' | cut -d= -f2)
    total=$(echo "$report" | grep -o 'cpu_seconds=[0-9.e-]*' | cut -d= -f2)
    line="$line $wall $client $(awk -v t="$total" -v c="$client" 'BEGIN { print t - c }')"
  done
  echo "$line" >> "$rows"
done
spread() {
  sort -g | awk '{ v[NR] = $1 } END { printf "%.3f (%.3f–%.3f)", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR] }'
}
index=0
for case in "$@"; do
  w=$((index * 3 + 1))
  echo "$case: wall $(awk "{ print \$$w }" "$rows" | spread) s, client thread $(awk "{ print \$$((w + 1)) }" "$rows" | spread) s," \
    "reading thread $(awk "{ print \$$((w + 2)) }" "$rows" | spread) s"
  if [ "$index" -gt 0 ]; then
    echo "  speed against the first, per round: $(awk "{ print \$1 / \$$w }" "$rows" | spread)×"
  fi
  index=$((index + 1))
done
