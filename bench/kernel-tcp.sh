#!/bin/bash
# kernel-tcp.sh: the Orion kernel's TCP throughput against Linux through
# QEMU's TAP back-end (vnet_hdr on, host_mtu=9000, MSS 8960), the device's
# offloads on (CSUM, GUEST_CSUM, HOST_TSO4, GUEST_TSO4 negotiated) against
# off (QEMU csum=off,guest_csum=off: none offered), both directions, in
# Gbit/s.  A benchmark, not a test.
#
#   bench/kernel-tcp.sh [--kernel build/bin/orion-kernel.elf] [--rounds 3]
#                       [--bytes 67108864] [--accel tcg|kvm|auto] [--ring split|packed] [--out FILE]
#
# Each round runs tests/integration/kernel_tcp_tap.sh (the CTest
# kernel_tcp_tap's script: its own namespace and tap, one boot) with
# --offloads on, then off (alternating, so a change in the machine's load
# hits both alike), and takes the two figures its PASS line carries: the
# kernel's `tcp recv` (Linux -> Orion, BYTES from tcp_peer.py) and `tcp
# send` (Orion -> Linux) throughput, timed by the kernel from ESTABLISHED
# to the last byte (and FIN) acknowledged.  The table gives the median over
# the rounds and the range (min-max).  TCG by default: under this host's
# nested KVM the tap path stalls (kernel/README.md, TCP).  Root and
# /dev/net/tun (the test's own requirements).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
kernel=$HERE/../build/bin/orion-kernel.elf rounds=3 bytes=67108864 accel=tcg ring=split out=''
# shellcheck disable=SC2034  # read by vq_parse_args / vq_die
VQ_NAME='kernel-tcp'
# shellcheck source=SCRIPTDIR/../tests/lib/qemu.sh
. "$HERE/../tests/lib/qemu.sh"
vq_parse_args "kernel rounds bytes accel ring out" "$@"
res=$(mktemp "${TMPDIR:-/tmp}/kernel-tcp.XXXXXX")
logs=$(mktemp -d "${TMPDIR:-/tmp}/kernel-tcp-logs.XXXXXX")
trap 'rm -rf "$res" "$logs"' EXIT
load0=$(uptime | sed 's/.*load average: //')
for ((r = 1; r <= rounds; r++)); do
	for o in on off; do
		text=$("$HERE/../tests/integration/kernel_tcp_tap.sh" --kernel "$kernel" --accel "$accel" \
			--offloads "$o" --ring "$ring" --bytes "$bytes" --logdir "$logs" 2>&1)
		rc=$?
		pass=$(grep -a '^tcp_tap: PASS' <<<"$text")
		if [ $rc -ne 0 ] || [ -z "$pass" ]; then
			echo "round $r, offloads $o: kernel_tcp_tap.sh failed (exit $rc):" >&2
			echo "$text" | tail -20 >&2
			exit 1
		fi
		# "Linux->Orion: N bytes from IP:P in MS ms, X Mbit/s; Orion->Linux: N bytes to IP:P in MS ms, Y Mbit/s;"
		in=$(sed -n 's/.*Linux->Orion: [^;]*, \([0-9.]*\) Mbit\/s;.*/\1/p' <<<"$pass")
		outr=$(sed -n 's/.*Orion->Linux: [^;]*, \([0-9.]*\) Mbit\/s;.*/\1/p' <<<"$pass")
		if [ -z "$in" ] || [ -z "$outr" ]; then
			echo "round $r, offloads $o: no figures in: $pass" >&2
			exit 1
		fi
		echo "RESULT $o $in $outr" >>"$res"
		echo "round $r: offloads $o: Linux -> Orion $in Mbit/s, Orion -> Linux $outr Mbit/s"
	done
done
{
	echo
	echo "commit $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null), $(date -u '+%F %H:%M UTC'), load average (uptime) at the start $load0, at the end $(uptime | sed 's/.*load average: //')"
	echo "kernel TCP through TAP, $accel, ring $ring, $bytes bytes each way; $rounds rounds; Gbit/s, median (min-max)"
	python3 - "$res" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
print("| offloads | Linux -> Orion (Gbit/s) | Orion -> Linux (Gbit/s) |")
print("|---|---|---|")
for o in ("on", "off"):
    cells = []
    for i in (2, 3):
        v = sorted(float(r[i]) / 1000 for r in rows if r[1] == o)
        cells.append(f"{statistics.median(v):.3f} ({v[0]:.3f}-{v[-1]:.3f})")
    print(f"| {o} | {cells[0]} | {cells[1]} |")
PY
} | tee ${out:+"$out"}
