#!/usr/bin/env bash
# Regenerates Sources/NtstatWire/Generated/LayoutTables.swift from the derived layouts in
# Tests/NtstatWireTests/Fixtures/layouts and formats it. Re-derive those first with derive.sh.
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=Sources/NtstatWire/Generated/LayoutTables.swift
python3 Tests/Tools/layouts/generate-tables.py > "$out"
swift format format -i "$out"
echo "wrote $out"
