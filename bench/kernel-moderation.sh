#!/usr/bin/env bash
# kernel-moderation: figures (not a test) for the kernel's software
# interrupt moderation (docs/control-plane.md, "Moderation figures"):
# for moder=on (default) and moder=off, one boot each over a TAP (root,
# /dev/net/tun):
#   - a UDP flood from the TAP side (AF_PACKET, COUNT frames to a UDP port
#     nobody serves, as fast as python sends) through QEMU into the kernel;
#     interrupts, packets per interrupt (`vnet stats`, pair 0 moder line)
#     and interrupts per second over the flood;
#   - single-ping RTT at idle both ways: Linux -> kernel (ping -c 5) and
#     kernel -> Linux (shell `ping`).
# Prints one table row per mode and the load from `uptime`.
#
# usage: bench/kernel-moderation.sh --kernel ELF [--accel auto|kvm|tcg] [--count N]
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../tests/lib/qemu.sh
. "$here/../tests/lib/qemu.sh"
vq_init kmoder_bench
kernel='' accel=auto count=20000
vq_parse_args "kernel accel count" "$@"
vq_need_kernel "$kernel"
vq_need_tap
qemu_need
vq_need python3 python3
vq_need ping iputils-ping
accel=$(vq_accel "$accel") || exit 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmoder.XXXXXX")
VQ_TMP+=("$tmp")
vq_tap_create kmod 10.82 || exit 1
tap=$VQ_TAP host_ip=$VQ_TAP_HOST guest_ip=$VQ_TAP_GUEST
txt='' pg=''

flood() {
	python3 - "$tap" "$1" "$guest_ip" "$2" <<'PY'
import os, sys, time
sys.path.insert(0, os.path.join(os.environ["VQ_IT"]))
import vlan_tap_peer as p
tap, mac, gip, n = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), sys.argv[3], int(sys.argv[4])
ip = ".".join(gip.split(".")[:3]) + ".9"
t = p.Tap(tap)
f = p.eth(mac, 0x0800, p.ipv4(ip, gip, 17, p.udp(ip, gip, 40000, 9999, b"x" * 18)))
t0 = time.time()
for _ in range(n):
    try:
        t.send(f)
    except OSError:
        time.sleep(0.0005)
print("%.3f" % (time.time() - t0))
PY
}
moder_of() { sed -n 's/^pair 0 moder: interrupts \([0-9]*\) irq_packets \([0-9]*\) .*/\1 \2/p' <<<"$1"; }

printf '%-6s %8s %9s %10s %9s %8s %14s %14s\n' moder frames rx_pkts interrupts pkts/irq irq/s "Linux->k rtt" "k->Linux rtt"
for mode in on off; do
	log=$tmp/console-$mode.log
	extra=''
	[ "$mode" = off ] && extra=' moder=off'
	qemu_start --machine q35 --accel "$accel" --kernel "$kernel" \
		--append "ip=$guest_ip/24 gw=$host_ip$extra" --serial "shell:$log" --stderr "$tmp/stderr-$mode" \
		--timeout 300 --nic "tap,ifname=$tap,script=no,downscript=no,vhost=off" ",disable-legacy=on"
	qemu_shell_wait 120 || { echo "no shell"; exit 1; }
	mac=$(qemu_console | sed -n 's/^vnet0: up mac \([0-9a-f:]*\) .*/\1/p' | head -1)
	rtt_in=$(ping -c 5 -i 0.3 -q "$guest_ip" | sed -n 's|.* = [0-9.]*/\([0-9.]*\)/.*|\1 ms|p')
	qemu_shell_cmd "ping $host_ip 5" 30 pg || true
	rtt_out=$(sed -n 's|.* = [0-9]*/\([0-9]*\)/.*|\1 us|p' <<<"$pg")
	qemu_shell_cmd "vnet stats" 10 txt
	read -r i0 p0 <<<"$(moder_of "$txt")"
	secs=$(VQ_IT="$here/../tests/integration" flood "$mac" "$count")
	sleep 1
	qemu_shell_cmd "vnet stats" 10 txt
	read -r i1 p1 <<<"$(moder_of "$txt")"
	di=$((i1 - i0)) dp=$((p1 - p0))
	printf '%-6s %8s %9s %10s %9s %8s %14s %14s\n' "$mode" "$count" "$dp" "$di" \
		"$(python3 -c "print('%.1f' % ($dp / max($di, 1)))")" \
		"$(python3 -c "print('%.0f' % ($di / max($secs, 1e-3)))")" "${rtt_in:-?}" "${rtt_out:-?}"
	qemu_stop
done
echo "flood duration is python's send loop; load: $(uptime)"
