#!/usr/bin/env bash
# What output and diff cost against a replay that prints nothing, in CPU time (user + system),
# round by round so that a machine whose load changes weighs on both sides of each ratio alike
# (docs/performance.md, "Replay by output format" and "Diff"). Prints each command's median CPU
# and the median of the per-round ratios (no output ÷ with output; for diff, both sides without
# output ÷ diff). The regression-throughput targets: text ≥ 0.7, CSV and JSON Lines ≥ 0.5,
# diff ≥ 0.4. With OUTPUT_COST_CLOCK=wall it measures wall-clock time instead, the targets' own
# measure, which a busy host moves more from round to round.
#   [OUTPUT_COST_CLOCK=wall] Tests/Tools/output-cost.sh A.pcapng.zst B.pcapng.zst [ROUNDS] [NTSTAT]
set -eu
a=$1
b=$2
rounds=${3:-9}
ntstat=${4:-$(cd "$(dirname "$0")/../.." && pwd)/.build/release/ntstat}
clock=${OUTPUT_COST_CLOCK:-cpu}
if [ "$clock" = wall ]; then format="%e"; label="wall-clock"; else format="%U %S"; label="CPU"; fi
times=$(mktemp)
trap 'rm -f "$times"' EXIT
cpu() {
  /usr/bin/time -o "$times" -f "$format" "$ntstat" "$@" > /dev/null 2>&1 || true
  tail -1 "$times" | awk '{ print $1 + $2 }'
}
none() { cpu replay --top-speed --quiet --from 99999s --format jsonl "$1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
rows=$(for _ in $(seq "$rounds"); do
  echo "$(none "$a") $(cpu replay --top-speed --quiet --format text "$a")" \
    "$(cpu replay --top-speed --quiet --format csv "$a") $(cpu replay --top-speed --quiet --format jsonl "$a")" \
    "$(none "$b") $(cpu diff "$a" "$b")"
done)
range() { sort -g | awk '{ v[NR] = $1 } END { printf "%.2f–%.2f", v[1], v[NR] }'; }
column() { echo "$rows" | awk "{ print $1 }" | median; }
spread() { echo "$rows" | awk "{ print $1 }" | range; }
echo "$label, median of $rounds rounds: none $(column '$1') s, text $(column '$2') s, CSV $(column '$3') s," \
  "JSON Lines $(column '$4') s; diff $(column '$6') s, both sides without output $(column '$1 + $5') s"
echo "ratios, median (least–most) of rounds: text $(column '$1 / $2') ($(spread '$1 / $2'))," \
  "CSV $(column '$1 / $3') ($(spread '$1 / $3')), JSON Lines $(column '$1 / $4') ($(spread '$1 / $4'))," \
  "diff $(column '($1 + $5) / $6') ($(spread '($1 + $5) / $6'))"
