#!/bin/bash
# compare_dpdk_short_test.sh VNET_BENCH: CTest bench_compare_dpdk_short.
# Runs bench/compare-dpdk.sh --short end to end and checks that it printed
# every row (split/packed x tx/rx x 64/1518, latency p50/p99/p99.9 per
# ring) with a number in every figure column.  No thresholds: the figures
# are printed, never judged.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH=${1:?usage: compare_dpdk_short_test.sh VNET_BENCH}
command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd missing (Debian package dpdk-dev)"; exit 77; }
pkg-config --exists libdpdk 2>/dev/null || { echo "SKIP: libdpdk missing (Debian package libdpdk-dev): DPDK latency cannot be measured"; exit 77; }
OUT=$(mktemp /tmp/perf-compare-short.XXXXXX)
trap 'rm -f "$OUT"' EXIT
"$HERE/compare-dpdk.sh" --bench "$BENCH" --short --out "$OUT" || { echo "FAIL: compare-dpdk.sh exited $?"; exit 1; }
python3 - "$OUT" <<'PY'
import re, sys
rows = [l.strip() for l in open(sys.argv[1]) if l.startswith('| ') and not l.startswith('| ring')]
num = re.compile(r'^\d+(\.\d+)?( / \d+(\.\d+)? / \d+(\.\d+)?)?$')
want_tp = {(r, t, b) for r in ('split', 'packed') for t in ('tx', 'rx') for b in ('64', '1518')}
want_lat = {(r, q) for r in ('split', 'packed') for q in ('p50', 'p99', 'p99.9')}
bad = []
for l in rows:
    cells = [c.strip() for c in l.strip('|').split('|')]
    if len(cells) == 8:
        want_tp.discard(tuple(cells[:3]))
        figs = cells[3:7]
    elif len(cells) == 4:
        want_lat.discard(tuple(cells[:2]))
        figs = cells[2:4]
    else:
        bad.append(l)
        continue
    if not all(num.match(f) for f in figs):
        bad.append(l)
missing = sorted(want_tp) + sorted(want_lat)
for m in missing:
    print('FAIL: row missing:', m)
for b in bad:
    print('FAIL: row without numbers:', b)
if missing or bad:
    sys.exit(1)
print('OK: %d rows, every figure a number' % len(rows))
PY
