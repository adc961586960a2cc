#!/usr/bin/env bash
# Boot the Orion kernel under QEMU with one virtio-net-pci device on user
# networking and check what the kernel printed and how QEMU exited.
#
# usage: net_test.sh --kernel ELF [--machine pc|q35] [--accel auto|kvm|tcg]
#            [--dev-opts ",packed=on,..."] [--append "selftest=ping ..."]
#            [--netdev-opts ",hostfwd=..."] [--expect-exit N] [--expect REGEX]...
#            [--timeout SECONDS] [--log FILE] [--name NAME]
#
# Defaults: --append "selftest=ping", --expect-exit 33 (isa-debug-exit PASS),
# expectations "vnet0: up " and "selftest ping: PASS".  Every --expect adds
# an extended regex that some console line must match; --expect given at
# least once replaces the default expectations.  --timeout is per boot
# (TCG is slower than KVM: callers size it).  QEMU is always killed at the
# timeout (timeout --kill-after), so nothing is left behind.
# Exit: 0 pass, 1 fail, 77 skipped (no qemu-system-x86_64).
# QEMU is started by tests/lib/qemu.sh (qemu_run).
set -u
# shellcheck source=SCRIPTDIR/../../tests/lib/qemu.sh
. "$(dirname "$0")/../../tests/lib/qemu.sh"
vq_init net_test

kernel='' machine=q35 accel=auto devopts='' netopts='' append="selftest=ping" want_exit=33 tmo=120 log='' name=''
expects=()
vq_parse_args "kernel machine accel dev-opts=devopts netdev-opts=netopts append expect-exit=want_exit expect=expects+ timeout=tmo log name" "$@"
vq_need_kernel "$kernel"
qemu_need
accel=$(vq_accel "$accel") || exit 2
[ ${#expects[@]} -gt 0 ] || expects=('^vnet0: up ' '^selftest ping: PASS')
: "${name:=$machine$devopts}"
[ -n "$log" ] || log=$(mktemp "${TMPDIR:-/tmp}/orion-net.XXXXXX.log")

start=$(vq_now_us)
qemu_run --machine "$machine" --accel "$accel" --kernel "$kernel" --append "$append" \
	--serial "log:$log" --stderr "$log.stderr" --timeout "$tmo" --nic "user$netopts" "$devopts"
rc=$?
secs=$(vq_elapsed "$start")

fail=0 why=
if [ "$rc" -ne "$want_exit" ]; then
	fail=1
	why="QEMU exit $rc, expected $want_exit (33 PASS, 35 FAIL, 124 timeout, 1 QEMU refused the options)"
fi
for re in "${expects[@]}"; do
	if ! tr -d '\r' <"$log" | grep -Eq -- "$re"; then
		fail=1
		why="${why:+$why; }no console line matching /$re/"
	fi
done
summary=$(tr -d '\r' <"$log" | grep -E '^(vnet0: up |selftest ping: |vnet0: .*not supported)' | head -3 | tr '\n' ' ')
if [ "$fail" -ne 0 ]; then
	echo "net_test: FAIL [$name] ($accel, ${secs}s): $why"
	echo "---- QEMU stderr ----"; cat "$log.stderr"
	echo "---- kernel console ($log) ----"; tr -d '\r' <"$log" | tail -40
	rm -f "$log.stderr"
	exit 1
fi
rm -f "$log.stderr"
echo "net_test: PASS [$name] ($accel, ${secs}s) $summary"
exit 0
