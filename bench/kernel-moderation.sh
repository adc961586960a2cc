#!/usr/bin/env bash
# kernel-moderation: figures (not a test) for the kernel's software
# interrupt moderation (docs/performance.md, "Interrupt moderation"):
# for moder=on (default) and moder=off, one boot each over a TAP (root,
# /dev/net/tun), and the SAME offered load in both:
#   - idle single-ping RTT, Linux -> kernel, N pings (min/median/max);
#   - per rate R (frames/s): a paced UDP stream from the TAP side (python,
#     one frame every 1/R s, SECS seconds, to a UDP port nobody serves),
#     counting what it sent; the kernel's received frames (`vnet stats`
#     pair 0 rx packets, delta) must be (nearly) what was sent, else the
#     row is marked LOSS (the load was not absorbed: not comparable);
#     interrupts (delta) per second of the stream and frames per interrupt.
# Then one row per rate with the ratio irq/s off : on.
#
# usage: bench/kernel-moderation.sh --kernel ELF [--accel auto|kvm|tcg]
#        [--rates "5000 10000 20000"] [--secs 3] [--pings 20]
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../tests/lib/qemu.sh
. "$here/../tests/lib/qemu.sh"
vq_init kmoder_bench
kernel='' accel=auto rates='5000 10000 20000' secs=3 pings=20
vq_parse_args "kernel accel rates secs pings" "$@"
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
txt=''

# paced MAC RATE SECS: prints "sent seconds"
paced() {
	python3 - "$tap" "$1" "$guest_ip" "$2" "$3" <<'PY'
import os, sys, time
sys.path.insert(0, os.path.join(os.environ["VQ_IT"]))
import vlan_tap_peer as p
tap, mac, gip = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), sys.argv[3]
rate, secs = int(sys.argv[4]), float(sys.argv[5])
ip = ".".join(gip.split(".")[:3]) + ".9"
t = p.Tap(tap)
f = p.eth(mac, 0x0800, p.ipv4(ip, gip, 17, p.udp(ip, gip, 40000, 9999, b"x" * 18)))
n, sent, gap = int(rate * secs), 0, 1.0 / rate
clk = time.perf_counter
t0 = clk()
for i in range(n):
    due = t0 + i * gap
    ahead = due - clk()
    if ahead > 0.0003:
        time.sleep(ahead - 0.0002)
    while clk() < due:
        pass
    try:
        t.send(f)
        sent += 1
    except OSError:
        pass
print(sent, "%.3f" % (clk() - t0))
PY
}
rx_of() { sed -n 's/^pair 0 rx: packets \([0-9]*\) .* interrupts \([0-9]*\) .*/\1 \2/p' <<<"$1"; }
rtt() { # N pings at idle, Linux -> kernel: "min/median/max ms"
	ping -c "$pings" -i 0.2 "$guest_ip" | sed -n 's/.* time=\([0-9.]*\) ms/\1/p' |
		python3 -c 'import sys, statistics as s
v = sorted(float(x) for x in sys.stdin)
print("%.3f/%.3f/%.3f" % (v[0], s.median(v), v[-1]) if v else "?")'
}

declare -A irqs fpi got rtts
for mode in on off; do
	log=$tmp/console-$mode.log
	extra=''
	[ "$mode" = off ] && extra=' moder=off'
	qemu_start --machine q35 --accel "$accel" --kernel "$kernel" \
		--append "ip=$guest_ip/24 gw=$host_ip$extra" --serial "shell:$log" --stderr "$tmp/stderr-$mode" \
		--timeout 600 --nic "tap,ifname=$tap,script=no,downscript=no,vhost=off" ",disable-legacy=on"
	qemu_shell_wait 120 || { echo "no shell"; exit 1; }
	mac=$(qemu_console | sed -n 's/^vnet0: up mac \([0-9a-f:]*\) .*/\1/p' | head -1)
	ping -c 2 -i 0.2 -q "$guest_ip" >/dev/null || true   # ARP settled
	rtts[$mode]=$(rtt)
	for r in $rates; do
		qemu_shell_cmd "vnet stats" 10 txt
		read -r p0 i0 <<<"$(rx_of "$txt")"
		read -r sent dur <<<"$(VQ_IT="$here/../tests/integration" paced "$mac" "$r" "$secs")"
		sleep 1
		qemu_shell_cmd "vnet stats" 10 txt
		read -r p1 i1 <<<"$(rx_of "$txt")"
		dp=$((p1 - p0)) di=$((i1 - i0))
		got[$mode,$r]="$dp/$sent"
		# the shell's own `vnet stats` and ping traffic add a few frames
		loss=$(python3 -c "print('' if $dp >= 0.99 * $sent else ' LOSS')")
		irqs[$mode,$r]=$(python3 -c "print('%.0f' % ($di / max($dur, 1e-3)))")
		fpi[$mode,$r]="$(python3 -c "print('%.1f' % ($dp / max($di, 1)))")$loss"
	done
	qemu_stop
done
printf 'accel %s, %s s per rate, idle RTT Linux->kernel (%s pings, min/median/max ms): on %s, off %s\n' \
	"$accel" "$secs" "$pings" "${rtts[on]}" "${rtts[off]}"
printf '%8s %15s %15s %9s %9s %9s %9s %7s\n' rate "rx/sent on" "rx/sent off" "irq/s on" "irq/s off" \
	"f/irq on" "f/irq off" "off:on"
for r in $rates; do
	printf '%8s %15s %15s %9s %9s %9s %9s %7s\n' "$r" "${got[on,$r]}" "${got[off,$r]}" "${irqs[on,$r]}" \
		"${irqs[off,$r]}" "${fpi[on,$r]}" "${fpi[off,$r]}" \
		"$(python3 -c "print('%.1fx' % (${irqs[off,$r]} / max(${irqs[on,$r]}, 1)))")"
done
echo "load: $(uptime)"
