#!/bin/bash
# kernel_vhost_user: the Orion kernel's NIC over vhost-user (QEMU
# -netdev vhost-user, memfd-shared guest RAM) against dpdk-testpmd's vhost
# PMD in rxonly mode.  "vnet bench tx 2" sends 64-byte UDP frames in poll
# mode; testpmd's own RX count must reach what the kernel says the driver
# took, less what may still sit in the ring (one ring, 256 slots), and
# must be non-zero.  A second, 1-second run afterwards must again reach
# testpmd (the bench leaves the device usable).  Under TCG the NIC has no
# MSI-X (vectors=0, INTx): QEMU 7.2 segfaults under TCG when the guest
# unmasks an MSI-X vector of a vhost-user virtio-net (vhost_net_start ->
# msix_set_vector_notifiers).  Skips (77) without dpdk-testpmd or QEMU.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/qemu.sh
. "$here/../lib/qemu.sh"
# shellcheck source=SCRIPTDIR/../lib/dpdk.sh
. "$here/../lib/dpdk.sh"
vq_init kbench-vu
kernel='' machine=q35 accel=auto log=''
vq_parse_args "kernel machine accel log" "$@"
vq_need_kernel "$kernel"
qemu_need
command -v "$DPDK_TESTPMD" >/dev/null 2>&1 || vq_skip "dpdk-testpmd not found (install the Debian 'dpdk' package)"
accel=$(vq_accel "$accel") || exit 2
nicopt=",disable-legacy=on"
[ "$accel" = tcg ] && nicopt="$nicopt,vectors=0"
vq_tmpdir_var tmp
[ -n "$log" ] || log=$tmp/console.log
sock=$tmp/kbench-vu.sock
vq_on_exit dpdk_cleanup

show() { echo "---- testpmd ----"; tail -30 "$tmp/testpmd.log"; echo "---- console ($log) ----"; qemu_console | tail -40; }
fail() { echo "kernel_vhost_user: FAIL $*"; show; exit 1; }

dpdk_vhost_start TP "$tmp/testpmd.log" 0 "$sock" rxonly
# shellcheck disable=SC2154  # TP: set by dpdk_vhost_start
dpdk_wait_socket "$sock" "$TP" 30 || fail "testpmd did not create $sock"
qemu_vhost_user_args "$sock" 256M
echo "kernel_vhost_user: $machine/$accel"
qemu_start --machine "$machine" --accel "$accel" --mem 256M --kernel "$kernel" --append "qsize=256" \
	--serial "shell:$log" --stderr "$tmp/stderr" --timeout 120 \
	--nic "$QEMU_VHOST_NIC" "$nicopt" -- "${QEMU_VHOST_ARGS[@]}"
qemu_shell_wait 60 || { cat "$tmp/stderr"; fail "no shell prompt"; }
qemu_console | grep -a '^vnet0: up ' || fail "vnet0 did not come up"
dpdk_wait_started "$tmp/testpmd.log" "$TP" 20 || fail "testpmd did not start forwarding"

reply=''
qemu_shell_cmd "vnet bench tx 2" 30 reply || fail "no prompt after 'vnet bench tx 2': $reply"
echo "$reply"
sent1=$(sed -n 's/^bench tx .* frames \([0-9]*\) .*/\1/p' <<<"$reply")
[ -n "$sent1" ] || fail "no frame count in: $reply"
qemu_shell_cmd "vnet bench tx 1 --size 128" 30 reply || fail "no prompt after the second run: $reply"
echo "$reply"
sent2=$(sed -n 's/^bench tx .* frames \([0-9]*\) .*/\1/p' <<<"$reply")
[ -n "$sent2" ] || fail "no frame count in: $reply"
sleep 1.5   # a last stats period
rx_mid=$(tr -d '\r' <"$tmp/testpmd.log" | awk '{ for (i = 1; i < NF; i++) if ($i == "RX-packets:") v = $(i+1) } END { print v + 0 }')
qemu_stop
dpdk_stop "$TP"
read -r rx tx < <(dpdk_port_totals "$tmp/testpmd.log")
echo "kernel_vhost_user: kernel sent $sent1 + $sent2, testpmd RX-packets $rx (last periodic $rx_mid)"
total=$((sent1 + sent2))
[ "$sent1" -gt 0 ] && [ "$sent2" -gt 0 ] || fail "the kernel sent nothing"
[ "$rx" -ge $((total - 256)) ] || fail "testpmd counted $rx < $total - 256 in flight"
[ "$rx" -le "$total" ] || fail "testpmd counted $rx > $total the kernel sent"
[ "$rx" -gt "$sent1" ] || fail "the second run's frames did not reach testpmd ($rx <= $sent1)"
echo "kernel_vhost_user: PASS"
