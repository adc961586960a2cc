#!/usr/bin/env bash
# kernel_recover: queue reset (VIRTIO_F_RING_RESET) and device recovery
# with state replay against QEMU's virtio-net-pci, under UDP echo traffic.
#
# Boots selftest=qreset qreset.sync=1 (kernel/core/selftest_recover.c).
# The host's UDP echo client (udp_echo_client.py, through hostfwd) keeps
# sending while the kernel resets receiveq0 and transmitq0, resizes both,
# sets RX filter state (promisc off, allmulti on, VLAN 100/200, a new MAC)
# and then resets the whole device with the state replayed; then 10
# rounds (qreset.loops) of a queue reset of rx0 and tx0 (sizes alternating)
# with a device reset every 10th round, still under traffic.  The kernel
# checks that traffic resumes after every step, that each queue reset
# reclaimed exactly what its ring held and that the pool adds up.  This
# script checks, through QMP query-rx-filter, what QEMU itself shows before
# and after the device reset: QEMU forgets the filter state at a reset
# (promiscuous back on, VLAN table and MAC back to the defaults), so the
# same state after it is the driver's replay.  RING_RESET must have been
# negotiated (QEMU 7.2's queue_reset=on is its default).  QEMU is started
# by tests/lib/qemu.sh and ended on every exit path.
#
# usage: kernel_recover.sh --kernel ELF [--machine q35|pc] [--accel auto|kvm|tcg] [--log FILE]
# Exit: 0 pass, 1 fail, 77 skip (no qemu-system-x86_64 or python3).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/qemu.sh
. "$here/../lib/qemu.sh"
vq_init recover
kernel='' machine=q35 accel=auto log=''
vq_parse_args "kernel machine accel log" "$@"
vq_kernel_needs
vq_qmp_init   # $tmp, $sock, qmp()
[ -n "$log" ] || log=$tmp/console.log
port=$(vq_free_port udp)

echo "recover: $machine/$accel, hostfwd udp 127.0.0.1:$port -> guest :7, log $log"
qemu_start --machine "$machine" --accel "$accel" --kernel "$kernel" \
	--append "selftest=qreset qreset.sync=1 qreset.loops=10 qsize=256" \
	--serial "shell:$log" --stderr "$tmp/stderr" --timeout 300 \
	--nic "user,hostfwd=udp:127.0.0.1:$port-:7" ",disable-legacy=on,id=nic0" -- -qmp "unix:$sock,server=on,wait=off"

client_pid=''
stop_client() { [ -n "$client_pid" ] && kill "$client_pid" 2>/dev/null; wait 2>/dev/null; client_pid=''; }
vq_on_fail() { stop_client; }
vq_report recover

vq_wait_file_re "$log" '^qreset: ready ring_reset' 240 "$QEMU_PID" || fail "kernel did not start the test"
grep -aq '^qreset: ready ring_reset 1' "$log" || fail "RING_RESET not negotiated with QEMU's virtio-net-pci"
# Traffic for the whole test; the client is stopped at the end (no STOP
# datagram: the selftest ends by itself).
python3 "$here/udp_echo_client.py" --port "$port" --count 1000000 --no-stop --retries 60 >"$tmp/client.log" 2>&1 &
client_pid=$!

# Wait for the n-th "waiting" line of the kernel.
wait_n() {
	local n=$1 waits=0
	for _ in $(seq 1 600); do
		waits=$(tr -d '\r' <"$log" | grep -ac '^qreset: waiting$')
		[ "$waits" -ge "$n" ] && return 0
		kill -0 "$QEMU_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
want="promiscuous=false multicast=all vlan-table=100,200 main-mac=02:11:22:33:44:66"
n=0
for step in state replayed; do
	n=$((n + 1))
	vq_wait_file_re "$log" "^qreset: step $step expect" 120 "$QEMU_PID" || fail "kernel did not reach step $step"
	wait_n "$n" || fail "kernel did not wait after step $step"
	# shellcheck disable=SC2086
	out=$(qmp rx-filter-check nic0 $want) || fail "step $step: QEMU shows otherwise: $out"
	echo "recover: step $step: QEMU shows $want"
	qemu_shell_send "" || fail "QEMU gone at step $step"
done
qemu_wait_exit 120
stop_client
if [ "$QEMU_RC" != "$QEMU_EXIT_PASS" ] || ! grep -aq '^selftest qreset: PASS' "$log"; then
	fail "kernel selftest did not pass (QEMU exit $QEMU_RC, $(qemu_exit_meaning "$QEMU_RC"))"
fi
grep -aq '^qreset: loops 10: 20 queue resets, 1 device resets' "$log" || fail "the reset loop did not run in full"
grep -a '^qreset: ' "$log" | grep -v waiting
echo "recover: PASS queue resets of rx0/tx0, resize, device reset with the filter state replayed (QEMU's view), 20 + 1 resets in a loop"
