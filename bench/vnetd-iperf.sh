#!/bin/bash
# vnetd-iperf.sh: iperf3 TCP throughput through two vnetd joined by one
# dpdk-testpmd (io forwarding between two vhost-user ports), offloads on
# (testpmd tso=1,legacy-ol-flags=1, vnetd --offloads on) against off, in
# Gbit/s.  A benchmark, not a test: it prints a table, asserts nothing
# beyond the transfers completing.
#
#   bench/vnetd-iperf.sh [--vnetd build/bin/vnetd] [--rounds 3] [--seconds 10]
#                        [--ring auto|split|packed] [--out FILE]
#
# Each round sets the bridge up afresh for "on", then for "off"
# (alternating, so a change in the machine's load hits both alike), and
# runs, one after the other, iperf3 -t SECONDS A -> B (client in A) and
# B -> A (-R); the figure is the receiver's.  The table gives per
# configuration and direction the median over the rounds and the range
# (min-max).  The set-up is tests/integration/vnetd/vnetd_lib.sh's (the
# same as the vnetd_bridge* and vnetd_iperf3 tests).  Root, /dev/net/tun,
# dpdk-testpmd, iperf3 (tests/setup/deps.list).  testpmd busy-polls CPU 0;
# the vnetd run in interrupt mode, unpinned.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
IT=$HERE/../tests/integration/vnetd
vnetd=$HERE/../build/bin/vnetd rounds=3 seconds=10 ring=auto out=''

if [ "${1:-}" = --one ]; then
	# One configuration, one round (the outer loop runs this).
	# shellcheck source=SCRIPTDIR/../tests/lib/qemu.sh
	. "$HERE/../tests/lib/qemu.sh"
	# shellcheck source=SCRIPTDIR/../tests/lib/dpdk.sh
	. "$HERE/../tests/lib/dpdk.sh"
	# shellcheck source=SCRIPTDIR/../tests/integration/vnetd/vnetd_lib.sh
	. "$IT/vnetd_lib.sh"
	offloads=$2
	shift 2
	vq_parse_args "vnetd seconds ring" "$@"
	vq_init "vnetd-iperf-$offloads"
	VB_PREFIX=vbench
	vb_need
	vq_need iperf3 iperf3
	vq_need ss iproute2
	vb_init
	vb_up
	vb_pings
	vb_iperf3 ab "$seconds"
	read -r _ _ ab _ <<<"$VB_IPERF"
	vb_iperf3 ba "$seconds" -R
	read -r _ _ _ ba <<<"$VB_IPERF"
	vb_stop
	vb_check_exit a
	vb_check_exit b
	echo "RESULT $offloads $ab $ba"
	exit 0
fi

# shellcheck disable=SC2034  # read by vq_parse_args' printf -v
VQ_NAME='vnetd-iperf'
# shellcheck source=SCRIPTDIR/../tests/lib/qemu.sh
. "$HERE/../tests/lib/qemu.sh"
vq_parse_args "vnetd rounds seconds ring out" "$@"
res=$(mktemp "${TMPDIR:-/tmp}/vnetd-iperf.XXXXXX")
trap 'rm -f "$res"' EXIT
load0=$(uptime | sed 's/.*load average: //')
for ((r = 1; r <= rounds; r++)); do
	for o in on off; do
		line=$("$0" --one "$o" --vnetd "$vnetd" --seconds "$seconds" --ring "$ring" 2>&1)
		rc=$?
		if [ $rc -ne 0 ]; then
			echo "round $r, offloads $o: failed (exit $rc): $(grep -a ': FAIL' <<<"$line")" >&2
			echo "$line" | tail -40 >&2
			exit 1
		fi
		grep '^RESULT ' <<<"$line" | tee -a "$res" | sed "s/^RESULT /round $r: offloads /"
	done
done
{
	echo
	echo "commit $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null), $(date -u '+%F %H:%M UTC'), load average (uptime) at the start $load0, at the end $(uptime | sed 's/.*load average: //')"
	echo "iperf3 -t $seconds through two vnetd (interrupt mode, ring $ring) and testpmd io; $rounds rounds; Gbit/s, median (min-max)"
	python3 - "$res" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
print("| offloads | A -> B (Gbit/s) | B -> A (Gbit/s) |")
print("|---|---|---|")
for o in ("on", "off"):
    cells = []
    for i in (2, 3):
        v = sorted(float(r[i]) for r in rows if r[1] == o)
        cells.append(f"{statistics.median(v):.2f} ({v[0]:.2f}-{v[-1]:.2f})")
    print(f"| {o} | {cells[0]} | {cells[1]} |")
PY
} | tee ${out:+"$out"}
