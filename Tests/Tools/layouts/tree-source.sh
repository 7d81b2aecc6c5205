#!/usr/bin/env bash
# Prints where a derivation's header came from, for the fixture's "source" record: for a tree
# from trees.txt, that tree's "REPOSITORY COMMIT NOTE" line; for an Apple tag read from an xnu
# git directory, nothing (the tag names the source). Shared by derive.sh and constants.sh.
#
#   Tests/Tools/layouts/tree-source.sh XNU_GIT_DIR_OR_TREE_DIR TAG_OR_LABEL
set -euo pipefail
dir=${1:?xnu git directory or tree directory}
label=${2:?tag or tree label}
here=$(cd "$(dirname "$0")" && pwd)
if [ -f "$dir/bsd/net/ntstat.h" ]; then
  grep -E "^$label " "$here/trees.txt" | cut -d' ' -f2- || { echo "$label is not in trees.txt" >&2; exit 1; }
fi
