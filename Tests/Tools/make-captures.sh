#!/bin/sh
# Regenerates the regression corpus in captures/: one simulated capture per layout family
# (recorded through the real socket path with `ntstat record --simulate`), one libntstat
# recording converted with `ntstat convert`, and the golden canonical JSONL of each
# (`ntstat replay --format jsonl`). The simulator is deterministic, so the goldens come out
# the same on every run; the captures differ only in their wall-clock timestamps.
set -eu
cd "$(dirname "$0")/../.."
swift build -c release --product ntstat
N=.build/release/ntstat
RATES=tcp=2,udp=1,quic=0.5,conn=0.5,failed=0.25,initial=10,listeners=2,burst=250,burst-interval=10,lifetime=2
for family in xnu-1699 xnu-2050 xnu-2422 xnu-2782 xnu-3247 xnu-3789 xnu-4570 xnu-6153 xnu-7195 xnu-8019.41 xnu-8019.61 xnu-10002 xnu-11215 xnu-12377; do
  case $family in
    # The kernel's default 8 KiB buffer: ALL polls overflow it during the burst.
    xnu-1699|xnu-2050|xnu-2422|xnu-2782) rcvbuf=8192 ;;
    # 16 KiB holds a normal poll's packed answers but not the burst's.
    *) rcvbuf=16384 ;;
  esac
  "$N" record --simulate --family "$family" --seed 11 --duration 15s --rate "$RATES" --rcvbuf "$rcvbuf" \
    --force -o "captures/$family.pcapng.zst"
  "$N" replay --format jsonl --top-speed --quiet "captures/$family.pcapng.zst" > "captures/$family.jsonl"
done
# macOS 26 in details mode: GET_DETAILS polls, SRC_DETAILS answers and final reports.
"$N" record --simulate --family xnu-12377 --details --seed 11 --duration 15s --rate "$RATES" --rcvbuf 16384 \
  --force -o captures/xnu-12377-details.pcapng.zst
"$N" replay --format jsonl --top-speed --quiet captures/xnu-12377-details.pcapng.zst > captures/xnu-12377-details.jsonl
NTSTAT_RECORD_CORPUS=1 swift test --filter LegacyRecordingGenerator
"$N" convert --force captures/legacy/ntstat-xnu-3789.70.16.bin captures/legacy-xnu-3789.pcapng.zst
"$N" replay --format jsonl --top-speed --quiet captures/legacy-xnu-3789.pcapng.zst > captures/legacy-xnu-3789.jsonl
ls -l captures/*.pcapng.zst
