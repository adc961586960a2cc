#!/usr/bin/env bash
# kernel_hotplug: PCIe native hot-plug of virtio-net-pci on q35 pcie-root-ports
# (kernel/dev/pcie_hotplug.c, kernel/dev/vnet_hotplug.c), driven through QMP.
#
# Boots q35 with one NIC (vnet0) and two empty hot-plug root ports (slots 1
# and 2), then:
#   1. device_add on slot 1 -> the kernel brings vnet1 up; ping its gateway
#      through vnet1 (QEMU user net), UDP echo through its own hostfwd.
#   2. device_del -> QEMU presses the attention button; the kernel detaches
#      vnet1 (reset, every buffer back: "all returned") and powers the slot
#      off; QEMU must send DEVICE_DELETED; `vnet info vnet1` says not up.
#   3. device_add on slot 2 -> the same name vnet1 again; ping and echo pass.
#   4. device_del while UDP echo runs on vnet1 and vnet0 -> DEVICE_DELETED,
#      no crash, vnet0 still echoes every datagram afterwards.
#   5. device_add on slot 1, then `hotplug cut 1` (the slot's power cut
#      behind the driver: QEMU removes the function at once) -> the kernel
#      must see a surprise removal (presence lost / all-ones reads), detach
#      without waiting for a reset, and vnet0 still echoes.
#   6. The kernel's free pages and heap bytes after the 2nd orderly removal
#      equal those after the 1st (an orderly detach leaks nothing).
#   8. --busy-cycles N (default 0): step 4 N more times (done after 7).
#   7. --cycles N (default 0): N more add / 5 UDP echoes / del cycles,
#      alternating slots, done before step 5; free pages and heap bytes after
#      them must still equal step 2's; the kernel's add and remove times and
#      QMP's device_del -> DEVICE_DELETED time are printed as median / max,
#      and so are the host-side times "qmp->up" (device_add sent -> the
#      kernel's "vnetN up in" line) and "qmp->removed" (device_del sent ->
#      its "vnet removed in" line), measured by hotplug_qmp_time.py: the
#      host's monotonic clock just before the command goes to the socket,
#      and again when the complete line appears in the console log (0.2 ms
#      polling; includes the serial chardev and the log reader's copy).
# Prints the kernel's detection-to-up/removed times and QMP's time to
# DEVICE_DELETED (figures only: no timing threshold).
#
# usage: kernel_hotplug.sh --kernel ELF [--accel auto|kvm|tcg] [--cycles N] [--busy-cycles N] [--log FILE]
# Exit: 0 pass, 1 fail, 77 skip (no qemu-system-x86_64 or python3).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/qemu.sh
. "$here/../lib/qemu.sh"
vq_init hotplug
kernel='' accel=auto log='' cycles=0 busy_cycles=0
reply='' mem1='' mem2='' mem3=''   # set by qemu_shell_cmd
vq_parse_args "kernel accel cycles busy-cycles=busy_cycles log" "$@"
vq_kernel_needs
vq_qmp_init   # $tmp, $sock, qmp()
[ -n "$log" ] || log=$tmp/console.log
port0=$(vq_free_port udp)
port1=$(vq_free_port udp)
[ "$port1" != "$port0" ] || port1=$(vq_free_port udp)

echo "hotplug: q35/$accel, log $log, udp vnet0 $port0 vnet1 $port1"
qemu_start --machine q35 --accel "$accel" --kernel "$kernel" --append "qsize=64" \
	--serial "shell:$log" --stderr "$tmp/stderr" --timeout $((240 + 5 * cycles + 20 * busy_cycles)) \
	--nic "user,hostfwd=udp:127.0.0.1:$port0-:7" ",disable-legacy=on" -- \
	-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=0x10 \
	-device pcie-root-port,id=rp2,bus=pcie.0,chassis=2,slot=2,addr=0x11 \
	-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off \
	-netdev "user,id=hpn1,hostfwd=udp:127.0.0.1:$port1-:7" \
	-qmp "unix:$sock,server=on,wait=off"

vq_report hotplug 60
# On a failure, what the kernel says about its NICs and slots (when it still answers).
vq_on_fail() {
	local c r
	kill -0 "$QEMU_PID" 2>/dev/null || return 0
	for c in "vnet info vnet0" "vnet stats vnet0" "vnet info vnet1" "hotplug"; do
		r=''
		qemu_shell_cmd "$c" 5 r || r="(no answer in 5 s)"
		printf '%s\n' "$r" | sed "s/^/hotplug: on failure: $c: /"
	done
	# QEMU's side of vnet0 (the function not added by this test): its view
	# of receiveq0 (last_avail/shadow_avail/used/signalled_used, in use) and
	# of the device (status, broken, isr): did the device stop, or the driver?
	local path
	path=$(qmp cmd x-query-virtio 2>/dev/null | python3 -c 'import json,sys
print(next((d["path"] for d in json.load(sys.stdin) if "/hp" not in d["path"]), ""))' 2>/dev/null)
	[ -n "$path" ] || return 0
	echo "hotplug: on failure: QEMU rx0 of $path: $(qmp cmd x-query-virtio-queue-status "{\"path\":\"$path\",\"queue\":0}" 2>&1)"
	echo "hotplug: on failure: QEMU device: $(qmp cmd x-query-virtio-status "{\"path\":\"$path\"}" 2>&1 |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print({k: d.get(k) for k in ("status", "broken", "started", "isr", "disabled", "vm-running", "use-started")})' 2>&1)"
}
count() { tr -d '\r' <"$log" | grep -ac -- "$1"; }
echo_ok() { # PORT COUNT: every datagram echoed intact (bounded: a NIC that stopped echoing fails)
	timeout 120 python3 "$here/udp_echo_client.py" --port "$1" --count "$2" --no-stop --ready-timeout 20 >"$tmp/echo.$1.out" 2>&1
}
add() { # ID BUS [quiet]: device_add, then wait for the kernel's next "vnet1 up"
	local out
	out=$(python3 "$here/hotplug_qmp_time.py" "$sock" "$log" device_add \
		"{\"driver\":\"virtio-net-pci\",\"netdev\":\"hpn1\",\"bus\":\"$2\",\"id\":\"$1\",\"disable-legacy\":\"on\"}" \
		'pcie: slot [0-9]+: vnet1 up in' 30) || {
		grep -aq 'panic\|exception' "$log" && fail "kernel crashed"
		fail "$1 on $2: vnet1 did not come up: $out"
	}
	echo "$out" | sed -n 's/^line after \([0-9.]*\) ms.*/\1/p' >>"$tmp/qmp_up.ms"
	[ -n "${3:-}" ] || echo "$out" | sed -n 's/^line after [0-9.]* ms: /hotplug: kernel: /p'
}
del() { # ID [quiet]: device_del, the kernel's removal line, DEVICE_DELETED from QEMU
	local out n
	n=$(count 'vnet1 gone')
	out=$(python3 "$here/hotplug_qmp_time.py" "$sock" "$log" device_del "{\"id\":\"$1\"}" \
		'pcie: slot [0-9]+: vnet removed in' 30 DEVICE_DELETED) ||
		fail "device_del $1: $out"
	[ -n "${2:-}" ] || echo "$out" | sed 's/^/hotplug: QEMU+kernel: /'
	echo "$out" | sed -n 's/^DEVICE_DELETED after \([0-9.]*\) ms/\1/p' >>"$tmp/deleted.ms"
	echo "$out" | sed -n 's/^line after \([0-9.]*\) ms.*/\1/p' >>"$tmp/qmp_removed.ms"
	for _ in $(seq 1 100); do
		[ "$(count 'vnet1 gone')" -gt "$n" ] && return 0
		sleep 0.1
	done
	fail "kernel did not report vnet1 gone after device_del $1"
}
ping1() {
	qemu_shell_cmd "ping 10.0.2.2 3 vnet1" 20 reply || fail "ping through vnet1 did not finish"
	echo "$reply" | grep -q ', [1-3] received' || fail "no ping reply through vnet1: $reply"
	echo "hotplug: $(echo "$reply" | grep -a -- '---')"
}

qemu_shell_wait 120 || fail "no shell prompt"
[ "$(count '^pcie: slot [12] port .* empty')" = 2 ] || fail "the two empty hot-plug slots were not found"
echo_ok "$port0" 20 || fail "vnet0 echo before any hot-plug: $(tail -3 "$tmp/echo.$port0.out")"

# 1. add, traffic.
add hp1 rp1
ping1
echo_ok "$port1" 50 || fail "echo through hot-added vnet1: $(tail -3 "$tmp/echo.$port1.out")"
echo "hotplug: step 1 ok: vnet1 up, ping and 50 datagrams echoed"

# 2. orderly removal.
del hp1
vq_wait_file_re "$log" 'vnet1 gone' 10 "$QEMU_PID" || fail "kernel did not report vnet1 gone"
tr -d '\r' <"$log" | grep -a 'vnet1: detached' | tail -1 | grep -q 'reset ok.*(all returned), leaked 0' ||
	fail "detach did not return every buffer: $(grep -a 'vnet1: detached' "$log" | tail -1)"
qemu_shell_cmd "vnet info vnet1" 5 reply
echo "$reply" | grep -q 'vnet1: not up' || fail "vnet info vnet1 after removal: $reply"
qemu_shell_cmd "hotplug" 5 mem1 || fail "hotplug command"
pages1=$(echo "$mem1" | sed -n 's/.*pages free \([0-9]*\), heap bytes \([0-9]*\).*/\1 \2/p')
echo "hotplug: step 2 ok: $(tr -d '\r' <"$log" | grep -a 'vnet1: detached' | tail -1)"

# 3. add again on the other slot: same name.
add hp2 rp2
ping1
echo_ok "$port1" 50 || fail "echo through re-added vnet1: $(tail -3 "$tmp/echo.$port1.out")"
echo "hotplug: step 3 ok: vnet1 reused on slot 2, traffic passes"

# 4. removal under traffic (busy_del ID: vnet1, echoing, is removed while
# vnet0 echoes too; vnet0 must finish its echoes, and then echo again).
busy_del() {
	python3 "$here/udp_echo_client.py" --port "$port1" --count 3000 --no-stop --retries 0 --ready-timeout 5 \
		>"$tmp/echo.busy1" 2>&1 &
	busy1=$!
	python3 "$here/udp_echo_client.py" --port "$port0" --count 300 --no-stop >"$tmp/echo.busy0" 2>&1 &
	busy0=$!
	sleep 1
	del "$1" "${2:-}"
	# bounded: 300 echoes take a few seconds; a vnet0 that stopped echoing fails here.
	for _ in $(seq 1 1200); do kill -0 "$busy0" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$busy0" 2>/dev/null && { kill "$busy0"; fail "$1: vnet0 echo still unfinished 120 s after vnet1's removal: $(tail -3 "$tmp/echo.busy0")"; }
	wait "$busy0" || fail "$1: vnet0 echo during vnet1's removal: $(tail -3 "$tmp/echo.busy0")"
	kill "$busy1" 2>/dev/null
	wait "$busy1" 2>/dev/null
	grep -a 'vnet1: detached' "$log" | tail -1 | grep -q 'reset ok.*(all returned)' ||
		fail "$1: detach under traffic did not return every buffer: $(grep -a 'vnet1: detached' "$log" | tail -1)"
}
busy_del hp2
qemu_shell_cmd "hotplug" 5 mem2 || fail "hotplug command"
pages2=$(echo "$mem2" | sed -n 's/.*pages free \([0-9]*\), heap bytes \([0-9]*\).*/\1 \2/p')
if [ -z "$pages1" ] || [ "$pages1" != "$pages2" ]; then fail "memory after 2nd removal ($pages2) differs from the 1st ($pages1)"; fi
echo_ok "$port0" 50 || fail "vnet0 echo after removal under traffic"
echo "hotplug: step 4 ok: removed under traffic, vnet0 echoed 300 + 50, pages/heap stable ($pages1)"

# 7. cycles.
if [ "$cycles" -gt 0 ]; then
	for i in $(seq 1 "$cycles"); do
		bus=rp$((1 + i % 2))
		add "hpc$i" "$bus" quiet
		echo_ok "$port1" 5 || fail "cycle $i: echo through vnet1: $(tail -3 "$tmp/echo.$port1.out")"
		del "hpc$i" quiet
	done
	grep -a 'vnet1: detached' "$log" | tail -"$cycles" | grep -vc 'reset ok.*(all returned), leaked 0' | grep -qx 0 ||
		fail "a cycle's detach did not return every buffer"
	qemu_shell_cmd "hotplug" 5 mem3 || fail "hotplug command"
	pages3=$(echo "$mem3" | sed -n 's/.*pages free \([0-9]*\), heap bytes \([0-9]*\).*/\1 \2/p')
	[ "$pages3" = "$pages1" ] || fail "memory after $cycles cycles ($pages3) differs from after the 1st removal ($pages1)"
	stats() { python3 -c 'import sys,statistics as s; v=[float(x) for x in sys.stdin.read().split()]; print("median %.1f max %.1f ms (n=%d)" % (s.median(v), max(v), len(v)))'; }
	echo "hotplug: step 7 ok: $cycles cycles, every buffer back each time, pages/heap stable ($pages3)"
	echo "hotplug: figures: slot event -> vnet1 up: $(tr -d '\r' <"$log" | sed -n 's/.*vnet1 up in \([0-9.]*\) ms.*/\1/p' | stats)"
	echo "hotplug: figures: slot event -> removed: $(tr -d '\r' <"$log" | sed -n 's/.*vnet removed in \([0-9.]*\) ms.*/\1/p' | stats)"
	echo "hotplug: figures: QMP device_del -> DEVICE_DELETED: $(stats <"$tmp/deleted.ms")"
	# Host side, from just before the QMP command is written to when the
	# kernel's complete console line is seen in the log (0.2 ms polling).
	hstats() { python3 -c 'import sys,statistics as s; v=[float(x) for x in sys.stdin.read().split()]; print("median %.1f ms max %.1f ms (n=%d)" % (s.median(v), max(v), len(v)))'; }
	echo "hotplug: figures: qmp->up $(tail -"$cycles" "$tmp/qmp_up.ms" | hstats)"
	echo "hotplug: figures: qmp->removed $(tail -"$cycles" "$tmp/qmp_removed.ms" | hstats)"
fi

# 8. --busy-cycles N: step 4 again N times (add, echo, removal under
# traffic on both NICs), each checked the same way.
for i in $(seq 1 "$busy_cycles"); do
	add "hpb$i" "rp$((1 + i % 2))" quiet
	echo_ok "$port1" 5 || fail "busy cycle $i: echo through vnet1: $(tail -3 "$tmp/echo.$port1.out")"
	busy_del "hpb$i" quiet
done
[ "$busy_cycles" -gt 0 ] && echo "hotplug: step 8 ok: $busy_cycles removals under traffic, vnet0 echoed through each"

# 5. surprise removal.
add hp3 rp1
qemu_shell_cmd "hotplug cut 1" 5 reply || fail "hotplug cut"
# The whole line (it ends "(N us)"): the serial console writes it a byte at
# a time, and a half-written one must not be judged.
for _ in $(seq 1 300); do
	grep -aqE 'detached \(surprise removal\): .*\([0-9]+ us\)' "$log" && break
	sleep 0.1
done
grep -a 'detached (surprise removal)' "$log" | tail -1 | grep -q 'reset FAILED (device latched dead' ||
	fail "surprise removal not seen or not latched dead: $(grep -a 'detached' "$log" | tail -1)"
qemu_shell_cmd "vnet info vnet1" 5 reply
echo "$reply" | grep -q 'vnet1: not up' || fail "vnet info vnet1 after surprise removal: $reply"
echo_ok "$port0" 50 || fail "vnet0 echo after the surprise removal"
qmp cmd query-pci >"$tmp/pci.json" || fail "query-pci"
grep -q '"hp3"' "$tmp/pci.json" && fail "QEMU still has hp3 after the power cut"
echo "hotplug: step 5 ok: $(grep -a 'pcie: slot 1: vnet removed (surprise)' "$log" | tail -1 | tr -d '\r')"

grep -aq 'panic\|exception\|BUG' "$log" && fail "kernel reported a fault"
qemu_shell_cmd "hotplug" 5 reply
printf '%s\n' "$reply" | while IFS= read -r l; do echo "hotplug: kernel: $l"; done
# The kernel's lost-notification net (vd_rx_rescue, from the tick): how often it had to
# service a receive queue no interrupt came for (a figure, not a failure).
n=$(count 'serviced from the tick (lost notification')
if [ "$n" -gt 0 ]; then
	qemu_shell_cmd "vnet stats vnet0" 5 reply || reply=''
	echo "hotplug: note: receive queues serviced from the tick (no interrupt for a tick): $(printf '%s\n' "$reply" | grep -a '^lost notifications:')"
fi
echo "hotplug: PASS add/ping/echo, orderly removal x2 (one under traffic), name reused, surprise removal"
