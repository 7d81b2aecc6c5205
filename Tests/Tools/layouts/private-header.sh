#!/usr/bin/env bash
# Prints the client-visible part of a kernel's bsd/net/ntstat.h: its PRIVATE section, without
# includes (darwin-prelude.h declares the Darwin types it needs). Shared by derive.sh (layouts)
# and constants.sh (protocol numbers).
#
#   Tests/Tools/layouts/private-header.sh XNU_GIT_DIR TAG     an Apple tag
#   Tests/Tools/layouts/private-header.sh TREE_DIR LABEL      a tree from trees.txt (fetch-tree.sh)
#
# From xnu-12377 the header's nstat_detailed_counts embeds bsd/netinet/in_stat.h's media_stats,
# so a tree's in_stat.h PRIVATE section comes first (its activity_bitmap is the prelude's).
set -euo pipefail
source=${1:?xnu git directory or tree directory}
private() { awk '/^#ifdef PRIVATE/{p=1;next} /^#endif \/\* PRIVATE \*\//{p=0} p' | grep -v '^#include'; }
if [ -f "$source/bsd/net/ntstat.h" ]; then
  if [ -f "$source/bsd/netinet/in_stat.h" ]; then
    private < "$source/bsd/netinet/in_stat.h" \
      | awk '/^typedef struct activity_bitmap/{skip=1} !skip{print} /activity_bitmap_t;/{skip=0}'
  fi
  private < "$source/bsd/net/ntstat.h"
else
  git --git-dir="$source" show "${2:?tag}:bsd/net/ntstat.h" | private
fi
