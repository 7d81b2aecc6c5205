#!/usr/bin/env bash
# Prints the client-visible part of a tag's bsd/net/ntstat.h: its PRIVATE section, without
# includes (darwin-prelude.h declares the Darwin types it needs). Shared by derive.sh (layouts)
# and constants.sh (protocol numbers).
#
#   Tests/Tools/layouts/private-header.sh XNU_GIT_DIR TAG
set -euo pipefail
git --git-dir="${1:?xnu git directory}" show "${2:?tag}:bsd/net/ntstat.h" \
  | awk '/^#ifdef PRIVATE/{p=1;next} /^#endif \/\* PRIVATE \*\//{p=0} p' \
  | grep -v '^#include'
