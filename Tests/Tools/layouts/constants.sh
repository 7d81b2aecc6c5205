#!/usr/bin/env bash
# Derives the protocol constants pinned in Tests/NtstatWireTests/Fixtures/constants/ by
# compiling each XNU tag's bsd/net/ntstat.h and printing the value of every message type,
# header flag, provider, filter bit, interface property and extended item type it declares.
# An oracle independent of the Swift code: ConstantsOracleTests checks the code against it.
#
#   Tests/Tools/layouts/constants.sh /path/to/xnu-git-dir OUT_DIR [TAG ...]
#   Tests/Tools/layouts/constants.sh TREE_DIR OUT_DIR LABEL    a tree from trees.txt (fetch-tree.sh)
#
# Only the numbers land in OUT_DIR; the header is read at run time and never copied.
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
pattern='NSTAT_(MSG_TYPE|MSG_HDR_FLAG|PROVIDER|FILTER|IFNET|SOURCE_IS|NECP_CONN|EXTENDED_UPDATE_TYPE|SRC_REF|MAX_MSG_SIZE)[A-Z0-9_]*'
for tag in "${tags[@]}"; do
  "$here/private-header.sh" "$xnu" "$tag" > "$scratch/body.h"
  names=$(grep -oE "\b$pattern\b" "$scratch/body.h" | sort -u)
  # Names that do not evaluate to an integer constant here (types, function-like macros) are
  # dropped one compile at a time.
  while true; do
    {
      printf '#include <stdio.h>\n#include "%s"\n#include "%s"\nint main(void) {\n' \
        "$here/darwin-prelude.h" "$scratch/body.h"
      for name in $names; do
        printf '  printf("%%s %%llu\\n", "%s", (unsigned long long)(%s));\n' "$name" "$name"
      done
      printf '  return 0;\n}\n'
    } > "$scratch/constants.c"
    if clang -w -o "$scratch/constants" "$scratch/constants.c" 2> "$scratch/errors.txt"; then break; fi
    bad=$(grep -oE "$pattern" "$scratch/errors.txt" | sort -u || true)
    [ -n "$bad" ] || { cat "$scratch/errors.txt" >&2; exit 1; }
    names=$(comm -23 <(echo "$names" | tr ' ' '\n' | sort -u) <(echo "$bad"))
  done
  source=$("$here/tree-source.sh" "$xnu" "$tag")
  "$scratch/constants" | python3 -c '
import json, sys
tag = sys.argv[1]
values = {}
for line in sys.stdin:
    name, value = line.split()
    values[name] = int(value)
document = {"tag": tag, "constants": values}
if len(sys.argv) > 2:
    repository, commit, note = sys.argv[2].split(" ", 2)
    document["source"] = {"repository": repository, "commit": commit, "apple_tag": False, "note": note}
print(json.dumps(document, indent=1, sort_keys=True))
' "$tag" ${source:+"$source"} > "$out/$tag.json"
  echo "$tag: $(grep -c '"NSTAT' "$out/$tag.json") constants"
done
