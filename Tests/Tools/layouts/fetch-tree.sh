#!/usr/bin/env bash
# Downloads the two headers the derivation reads from a kernel tree listed in trees.txt (one
# that is not an Apple tag), at the pinned commit, into DIR/bsd/net/ntstat.h and
# DIR/bsd/netinet/in_stat.h. derive.sh and constants.sh then take DIR in place of a git directory.
#
#   Tests/Tools/layouts/fetch-tree.sh LABEL DIR      (LABEL: xnu-12377)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
label=${1:?tree label from trees.txt}
dir=${2:?output directory}
read -r _ repo commit _ < <(grep -E "^$label " "$here/trees.txt") || { echo "$label is not in trees.txt" >&2; exit 1; }
for file in bsd/net/ntstat.h bsd/netinet/in_stat.h; do
  mkdir -p "$dir/$(dirname "$file")"
  curl -fsSL "https://raw.githubusercontent.com/$repo/$commit/$file" -o "$dir/$file"
done
echo "$label: $repo@$commit → $dir"
