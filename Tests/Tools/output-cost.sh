#!/usr/bin/env bash
# What output and diff cost against a replay that prints nothing, in CPU time (user + system),
# round by round so that a machine whose load changes weighs on both sides of each ratio alike
# (docs/performance.md, "Replay by output format" and "Diff"). Prints each command's median CPU
# and the median of the per-round ratios (no output ÷ with output; for diff, both sides without
# output ÷ diff). The regression-throughput targets: text ≥ 0.7, CSV and JSON Lines ≥ 0.5,
# diff ≥ 0.4.
#   Tests/Tools/output-cost.sh A.pcapng.zst B.pcapng.zst [ROUNDS] [NTSTAT]
set -eu
a=$1
b=$2
rounds=${3:-9}
ntstat=${4:-$(cd "$(dirname "$0")/../.." && pwd)/.build/release/ntstat}
times=$(mktemp)
trap 'rm -f "$times"' EXIT
cpu() {
  /usr/bin/time -o "$times" -f "%U %S" "$ntstat" "$@" > /dev/null 2>&1 || true
  tail -1 "$times" | awk '{ print $1 + $2 }'
}
none() { cpu replay --top-speed --quiet --from 99999s --format jsonl "$1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
rows=$(for _ in $(seq "$rounds"); do
  echo "$(none "$a") $(cpu replay --top-speed --quiet --format text "$a")" \
    "$(cpu replay --top-speed --quiet --format csv "$a") $(cpu replay --top-speed --quiet --format jsonl "$a")" \
    "$(none "$b") $(cpu diff "$a" "$b")"
done)
column() { echo "$rows" | awk "{ print $1 }" | median; }
echo "CPU, median of $rounds rounds: none $(column '$1') s, text $(column '$2') s, CSV $(column '$3') s," \
  "JSON Lines $(column '$4') s; diff $(column '$6') s, both sides without output $(column '$1 + $5') s"
echo "ratios, median of rounds: text $(column '$1 / $2'), CSV $(column '$1 / $3'), JSON Lines $(column '$1 / $4')," \
  "diff $(column '($1 + $5) / $6')"
