#!/usr/bin/env bash
# Re-derives the struct layouts pinned in Tests/NtstatWireTests/Fixtures/layouts/ by compiling
# each XNU tag's bsd/net/ntstat.h with clang, for x86_64 and arm64 Darwin targets.
#
#   Tests/Tools/layouts/derive.sh /path/to/xnu-git-dir OUT_DIR [TAG ...]
#   Tests/Tools/layouts/derive.sh TREE_DIR OUT_DIR LABEL      a tree from trees.txt (fetch-tree.sh)
#
# The XNU checkout is read at run time and never copied into this repository: only the numbers
# (offsets, sizes, field names) land in OUT_DIR. See docs/protocol.md, "How the layouts were derived".
set -euo pipefail
xnu=${1:?path to an apple-oss-distributions/xnu git directory}
out=${2:?output directory}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
tags=("$@")
if [ ${#tags[@]} -eq 0 ]; then
  tags=($(cat "$here/tags.txt"))
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$out"
for tag in "${tags[@]}"; do
  "$here/private-header.sh" "$xnu" "$tag" > "$scratch/body.h"
  printf '#include "%s"\n#include "%s"\n' "$here/darwin-prelude.h" "$scratch/body.h" > "$scratch/unit.c"
  for triple in x86_64-apple-macos10.9 arm64-apple-macos11; do
    clang -cc1 -triple "$triple" -fsyntax-only -fdump-record-layouts-complete "$scratch/unit.c" \
      > "$scratch/$triple.txt"
    python3 "$here/parse-record-layouts.py" "$scratch/$triple.txt" > "$scratch/$triple.json"
  done
  if ! cmp -s "$scratch/x86_64-apple-macos10.9.json" "$scratch/arm64-apple-macos11.json"; then
    echo "$tag: x86_64 and arm64 layouts differ" >&2
    exit 1
  fi
  source=$("$here/tree-source.sh" "$xnu" "$tag")
  python3 "$here/compact.py" "$scratch/x86_64-apple-macos10.9.json" "$tag" ${source:+"$source"} > "$out/$tag.json"
  echo "$tag: x86_64 == arm64, $(python3 -c "import json,sys;print(len(json.load(open(sys.argv[1]))['structs']))" "$out/$tag.json") structs"
done
