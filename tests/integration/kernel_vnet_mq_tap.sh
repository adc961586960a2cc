#!/usr/bin/env bash
# kernel_vnet_mq_tap: the Orion kernel against a real multi-queue back-end.
#
# QEMU user networking has one queue pair, so this test gives virtio-net a
# multi-queue TAP device (queues=2, mq=on, 6 MSI-X vectors) and boots the
# kernel twice with pairs=2 on a private subnet 10.77.N.0/24 (host side
# .1 on the tap, guest .2; N derived from $$ and skipped if any local
# address or route already uses it):
#   1. selftest=ping: vnet0 must come up with "pairs 2" (the driver sent
#      VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET and QEMU enabled both tap queues)
#      and get 3 echo replies from the host side 10.77.N.1.
#   2. selftest=echo: mq_flows_client.py sends from many source ports
#      (distinct flows) to the guest's UDP echo service; every echo must
#      come back.  The kernel prints per-receive-queue frame counts; both
#      queues must have received frames.  Why that is (practically)
#      deterministic: the tap picks the queue of a new flow from its flow
#      hash (the guest does not use RSS); with 32 flows the chance that
#      all land on one of the two queues is 2^-31.  Once the guest has
#      answered on the pair a flow arrived on, the tap keeps the flow on
#      that queue.  The kernel answers on the pair a request arrived on,
#      so tx queue 1 must have sent frames too.
# Traffic only ever goes between 10.77.N.1 and 10.77.N.2 over the tap
# (IPv6 is disabled on it so the host sends no router solicitations).  The
# tap and QEMU are removed on every exit path (the exit trap of
# tests/lib/qemu.sh, which also starts QEMU).
#
# --vectors 0 runs the same checks without MSI-X: vnet0 must then use its
# INTx line ("mode intx gsi N"), every interrupt looks at both pairs, and
# the INTx count must be > 0.
#
# usage: kernel_vnet_mq_tap.sh --kernel ELF [--machine q35|pc] [--accel auto|kvm|tcg]
#                              [--vectors 6|0] [--logdir DIR]
# Exit: 0 pass, 1 fail, 77 skip (not root, /dev/net/tun does not open,
# no qemu-system-x86_64/ip/python3) with the reason printed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/qemu.sh
. "$here/../lib/qemu.sh"
vq_init mq_tap
kernel='' machine=q35 accel=auto logdir='' vectors=6
vq_parse_args "kernel machine accel logdir vectors" "$@"
vq_kernel_needs tap
vq_logdir orion-mq

vq_tap_create vnettap 10.77 multi_queue || exit 1
tap=$VQ_TAP host_ip=$VQ_TAP_HOST guest_ip=$VQ_TAP_GUEST
if [ "$vectors" -eq 0 ]; then
	want_mode='mode intx gsi [0-9]+ msix 0'
	want_irqs='intx_irqs [1-9]'
else
	want_mode="mode irq msix $vectors"
	want_irqs='msix_irqs [1-9]'
fi
echo "mq_tap: $machine/$accel, vectors=$vectors, tap $tap (2 queues), host $host_ip, guest $guest_ip, logs in $logdir"

# boot APPEND LOG: start QEMU in the background on the tap.
boot() {
	qemu_start --machine "$machine" --accel "$accel" --kernel "$kernel" \
		--append "$1 ip=$guest_ip/24 gw=$host_ip pairs=2" \
		--serial "log:$2" --stderr "$2.stderr" --timeout 300 \
		--nic "tap,ifname=$tap,queues=2,script=no,downscript=no,vhost=off" \
		",mq=on,vectors=$vectors,disable-legacy=on"
}
# finish: wait (bounded) for QEMU to exit; sets rc.
finish() {
	if qemu_wait_exit 120; then rc=$QEMU_RC; else qemu_stop; rc=timeout; fi
}
show() { echo "---- QEMU stderr ----"; cat "$1.stderr"; echo "---- console ($1) ----"; vq_text "$1" | tail -30; }

fail=0
# 1. Bring-up with two pairs, ping the host side.
log1="$logdir/mq-ping.log"
boot selftest=ping "$log1"
finish
up=$(qemu_console | grep -a '^vnet0: up ' || true)
echo "$up"
qemu_console | grep -a -E '^(vnet0: counters|selftest ping: )'
if [ "$rc" != 33 ]; then echo "mq_tap: FAIL ping boot: QEMU exit '$rc', expected 33"; fail=1; fi
if ! grep -Eq " pairs 2 .*$want_mode" <<<"$up"; then echo "mq_tap: FAIL vnet0 did not come up with 2 pairs and /$want_mode/"; fail=1; fi
if ! vq_has "$log1" '^selftest ping: PASS'; then echo "mq_tap: FAIL ping to $host_ip"; fail=1; fi
[ "$fail" -eq 0 ] || { show "$log1"; exit 1; }

# 2. Many flows to the echo service; both receive queues must see frames.
log2="$logdir/mq-echo.log"
boot selftest=echo "$log2"
if ! qemu_wait_log 'echo service on udp port' 120; then
	echo "mq_tap: FAIL kernel did not start the echo service"; show "$log2"; exit 1
fi
python3 "$here/mq_flows_client.py" --src "$host_ip" --dst "$guest_ip" --flows 32 --per-flow 4
crc=$?
finish
counters=$(qemu_console | grep -a '^vnet0: counters ' || true)
echo "$counters"
[ "$crc" -eq 0 ] || { echo "mq_tap: FAIL host client reported lost echoes"; fail=1; }
grep -Eq "$want_irqs" <<<"$counters" || { echo "mq_tap: FAIL no interrupts counted (/$want_irqs/)"; fail=1; }
[ "$rc" = 33 ] || { echo "mq_tap: FAIL echo boot: QEMU exit '$rc', expected 33 after the stop datagram"; fail=1; }
rx0=$(sed -n 's/.* rx 0:\([0-9]*\) 1:\([0-9]*\) tx .*/\1/p' <<<"$counters")
rx1=$(sed -n 's/.* rx 0:\([0-9]*\) 1:\([0-9]*\) tx .*/\2/p' <<<"$counters")
tx1=$(sed -n 's/.* tx 0:\([0-9]*\) 1:\([0-9]*\).*/\2/p' <<<"$counters")
if [ -z "$rx0" ] || [ -z "$rx1" ]; then
	echo "mq_tap: FAIL no per-queue receive counters for 2 pairs"; fail=1
elif [ "$rx0" -eq 0 ] || [ "$rx1" -eq 0 ]; then
	echo "mq_tap: FAIL frames on rx queue 0: $rx0, rx queue 1: $rx1 (both must be > 0)"; fail=1
elif [ "${tx1:-0}" -eq 0 ]; then
	# Echoes leave on the pair their request arrived on (kernel/dev/vnet.c).
	echo "mq_tap: FAIL rx queue 1 received $rx1 frames but tx queue 1 sent none"; fail=1
fi
[ "$fail" -eq 0 ] || { show "$log2"; exit 1; }
echo "mq_tap: PASS (vectors=$vectors, 2 pairs up, ping $host_ip ok, rx queue 0: $rx0 frames, rx queue 1: $rx1 frames, tx queue 1: $tx1 frames)"
exit 0
