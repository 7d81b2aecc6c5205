#!/usr/bin/env bash
# The suite under AddressSanitizer RUNS times back to back (default 10) while the ordinary suite
# repeats beside it: the load a shared CI machine puts on timing-sensitive tests
# (docs/reliability.md, "Under load"). Works in two fresh clones of HEAD under DIR (default
# a new temporary directory) and prints one line per run; exits 1 if any ASan run failed.
#   Tests/Tools/asan-under-load.sh [RUNS] [DIR]
set -u
runs=${1:-10}
dir=${2:-$(mktemp -d)}
repo=$(cd "$(dirname "$0")/../.." && pwd)
git clone -q "$repo" "$dir/a" && git clone -q "$repo" "$dir/b" || exit 2
supp="$dir/a/Tests/Tools/lsan.supp"
(cd "$dir/a" && swift build --build-tests --sanitize=address --scratch-path .build-asan > "$dir/build-a.txt" 2>&1) &
(cd "$dir/b" && swift build --build-tests > "$dir/build-b.txt" 2>&1) &
wait
echo "built $(date -u +%FT%TZ), commit $(git -C "$dir/a" rev-parse --short HEAD)"
touch "$dir/running"
(
  n=0
  while [ -e "$dir/running" ]; do
    n=$((n + 1))
    start=$(date +%s)
    (cd "$dir/b" && swift test --skip-build > "$dir/beside-$n.txt" 2>&1)
    echo "beside $n: exit $? in $(($(date +%s) - start)) s"
  done
) &
beside=$!
failed=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  (cd "$dir/a" && LSAN_OPTIONS="suppressions=$supp" swift test --skip-build --sanitize=address \
    --scratch-path .build-asan > "$dir/asan-$i.txt" 2>&1)
  status=$?
  [ $status = 0 ] || failed=1
  echo "asan $i: exit $status in $(($(date +%s) - start)) s"
done
rm -f "$dir/running"
wait $beside
echo "logs in $dir"
exit $failed
