#!/usr/bin/env bash
# kernel_ctrl_qmp: the control plane of the driver against QEMU's
# virtio-net-pci, judged by QEMU itself.
#
# Boots selftest=ctrl ctrl.sync=1 (kernel/core/selftest_ctrl.c): the kernel
# issues one group of control commands per step on vnet0, prints
# "ctrl: step N NAME expect ...", and waits for a line on the serial port.
# After each step this script asks QEMU, through QMP query-rx-filter, what
# the device now does (promiscuous, multicast, unicast, broadcast-allowed,
# unicast/multicast tables, main-mac, vlan table) and compares it with the
# step's expectation written here (not taken from the kernel's output).
# QEMU quirk: query-rx-filter's broadcast-allowed is QEMU's nobcast flag
# itself (virtio_net_query_rxfilter assigns n->nobcast), so it reads true
# after NOBCAST on and false after NOBCAST off; the script expects what
# QEMU 7.2 prints, which still proves the command reached the device.
# Before the announce step it sends QMP announce-self (one round): the
# kernel must see ANNOUNCE pending through the config interrupt and ack
# it.  Then QMP set_link off: the kernel must see the link go down (config
# interrupt) and its transmit refused and counted (tx_link_down); set_link
# on: transmit resumes.  The NIC has speed=10000,duplex=full, which the
# driver must read (SPEED_DUPLEX).  The kernel itself fails the test if a command was refused, timed
# out or lied.  QEMU is started by tests/lib/qemu.sh and ended on every
# exit path.
#
# usage: kernel_ctrl_qmp.sh --kernel ELF [--machine q35|pc] [--accel auto|kvm|tcg] [--log FILE]
# Exit: 0 pass, 1 fail, 77 skip (no qemu-system-x86_64 or python3).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/qemu.sh
. "$here/../lib/qemu.sh"
vq_init ctrl_qmp
kernel='' machine=q35 accel=auto log=''
vq_parse_args "kernel machine accel log" "$@"
vq_kernel_needs
vq_qmp_init   # $tmp, $sock, qmp()
[ -n "$log" ] || log=$tmp/console.log

echo "ctrl_qmp: $machine/$accel, log $log"
qemu_start --machine "$machine" --accel "$accel" --kernel "$kernel" \
	--append "selftest=ctrl ctrl.sync=1 qsize=64 announce=off" \
	--serial "shell:$log" --stderr "$tmp/stderr" --timeout 300 \
	--nic user ",disable-legacy=on,id=nic0,speed=10000,duplex=full,rss=on,hash=on" -- -qmp "unix:$sock,server=on,wait=off"

vq_report ctrl_qmp

# QEMU's own view before the kernel changes anything: its MAC, to check
# the restore step against.
vq_wait_file_re "$log" '^ctrl: step 1 start' 240 "$QEMU_PID" || fail "kernel did not reach the first step"
mac0=$(qmp cmd query-rx-filter '{"name":"nic0"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["main-mac"])') ||
	fail "query-rx-filter did not answer"
echo "ctrl_qmp: QEMU main-mac $mac0"

# Step name -> what QEMU must show after it (fields of query-rx-filter).
declare -A expect=(
	[start]="promiscuous=true"
	[promisc-off]="promiscuous=false"
	[allmulti-on]="multicast=all"
	[allmulti-off]="multicast=normal"
	[nomulti-on]="multicast=none"
	[nomulti-off]="multicast=normal"
	[alluni-on]="unicast=all"
	[alluni-off]="unicast=normal"
	[nouni-on]="unicast=none"
	[nouni-off]="unicast=normal"
	[nobcast-on]="broadcast-allowed=true"
	[nobcast-off]="broadcast-allowed=false"
	[mac-table]="promiscuous=false unicast-table=02:00:00:00:00:01,02:00:00:00:00:02 multicast-table=01:00:5e:00:00:01"
	[mac-overflow]="promiscuous=true unicast-table= multicast-table=01:00:5e:00:00:01"
	[mac-fits]="promiscuous=false unicast-table=02:00:00:00:00:01"
	[mac-addr]="main-mac=02:11:22:33:44:55"
	[vlan-add]="vlan-table=100,200"
	[vlan-del]="vlan-table=100"
	[rss]=""
	[guest-offloads]=""
	[announce]=""
	[link-down]=""
	[link-up]=""
	[restore]="main-mac=$mac0 promiscuous=false"
)
order=(start promisc-off allmulti-on allmulti-off nomulti-on nomulti-off alluni-on alluni-off nouni-on nouni-off
	nobcast-on nobcast-off mac-table mac-overflow mac-fits mac-addr vlan-add vlan-del rss guest-offloads announce link-down link-up restore)
n=0 checked=0
for step in "${order[@]}"; do
	n=$((n + 1))
	vq_wait_file_re "$log" "^ctrl: step $n $step expect" 60 "$QEMU_PID" || fail "kernel did not reach step $n ($step)"
	waits=0
	for _ in $(seq 1 100); do
		waits=$(tr -d '\r' <"$log" | grep -ac '^ctrl: waiting$')
		[ "$waits" -ge "$n" ] && break
		sleep 0.1
	done
	[ "$waits" -ge "$n" ] || fail "kernel did not wait after step $n"
	if [ -n "${expect[$step]}" ]; then
		# shellcheck disable=SC2086
		out=$(qmp rx-filter-check nic0 ${expect[$step]}) || fail "step $n $step: $out"
		echo "ctrl_qmp: step $n $step: QEMU shows ${expect[$step]}"
		checked=$((checked + 1))
	fi
	# The next step is the announce: ask QEMU for one announcement round.
	[ "$step" = guest-offloads ] && { qmp cmd announce-self '{"initial":50,"max":100,"rounds":1,"step":50}' >/dev/null ||
		fail "announce-self refused"; }
	# Link: off before link-down (the kernel must see it and gate tx), on
	# before link-up.
	[ "$step" = announce ] && { qmp cmd set_link '{"name":"nic0","up":false}' >/dev/null || fail "set_link off refused"; }
	[ "$step" = link-down ] && { qmp cmd set_link '{"name":"nic0","up":true}' >/dev/null || fail "set_link on refused"; }
	qemu_shell_send "" || fail "QEMU gone at step $n"
done
qemu_wait_exit 120
if [ "$QEMU_RC" != "$QEMU_EXIT_PASS" ] || ! grep -aq '^selftest ctrl: PASS' "$log"; then
	fail "kernel selftest did not pass (QEMU exit $QEMU_RC, $(qemu_exit_meaning "$QEMU_RC"))"
fi
# RSS: QEMU accepted RSS_CONFIG twice (a refusal fails the kernel's
# check), with the types QEMU supports.
grep -aq '^ctrl: rss types 0x3f key 40 table 128' "$log" || fail "RSS not configured (types 0x3f, 40-byte key, 128 entries)"
# SPEED_DUPLEX: the driver read what QEMU was told (speed=10000,duplex=full).
grep -aq '^ctrl: link up speed 10000 duplex 1' "$log" || fail "speed/duplex not read as 10000/full"
# Link gate: down refused and counted, up sent.
grep -aq '^ctrl: link down (changes 1): tx -1, tx_link_down 0 -> 1' "$log" || fail "tx not gated while link down"
grep -aq '^ctrl: link up (changes 2): tx 0, tx_link_down 1 -> 1' "$log" || fail "tx did not resume after link up"
grep -a '^ctrl: ' "$log" | grep -v 'waiting' | grep -a 'link\|announce\|commands'
echo "ctrl_qmp: PASS $checked steps checked against QEMU's rx-filter, announce acked"
