#!/usr/bin/env bash
# Boot the Orion kernel in QEMU with a virtio-net-pci device and
# -append "selftest=$selftest", then assert what a user of the kernel relies on:
#   - QEMU exits through isa-debug-exit with the PASS code (0x10 -> 33),
#   - the kernel printed "orion: boot ok",
#   - PCI enumeration listed the virtio-net function with the expected id
#     (pc: transitional 1af4:1000; q35: the device is forced modern with
#     disable-legacy=on, so 1af4:1041; --device-id overrides),
#   - the in-kernel self-test printed "orion: selftest boot PASS".
# With --selftest fault it instead asserts that an unhandled exception
# prints the register dump and panics out with the FAIL code (35).
#
# usage: boot_test.sh --kernel ELF [--machine pc|q35] [--accel auto|kvm|tcg]
#                     [--device-id 1000|1041] [--timeout SECONDS] [--log FILE]
#                     [--selftest boot|fault]
# Exit: 0 pass, 1 fail, 77 skipped (no qemu-system-x86_64).
# QEMU is started by tests/lib/qemu.sh (qemu_run: hard timeout, isa-debug-exit).
set -u
# shellcheck source=SCRIPTDIR/../../tests/lib/qemu.sh
. "$(dirname "$0")/../../tests/lib/qemu.sh"
vq_init boot_test

kernel='' machine=pc accel=auto devid='' tmo=60 log='' selftest=boot
vq_parse_args "kernel machine accel device-id=devid timeout=tmo log selftest" "$@"
vq_need_kernel "$kernel"

qemu_need

case "$machine" in
pc) netdev_opts=""; : "${devid:=1000}" ;;
q35) netdev_opts=",disable-legacy=on"; : "${devid:=1041}" ;;
*) echo "boot_test: machine must be pc or q35" >&2; exit 2 ;;
esac
accel=$(vq_accel "$accel") || exit 2

[ -n "$log" ] || log=$(mktemp "${TMPDIR:-/tmp}/orion-boot-$machine-$accel.XXXXXX.log")

echo "boot_test: $machine/$accel, expecting virtio-net 1af4:$devid, log $log"
qemu_run --machine "$machine" --accel "$accel" --kernel "$kernel" --append "selftest=$selftest" \
	--serial "log:$log" --timeout "$tmo" --nic user "$netdev_opts"
rc=$?

fail=0
check() {   # check DESCRIPTION EXTENDED-REGEX
	if grep -Eq "$2" "$log"; then
		echo "boot_test: ok   $1"
	else
		echo "boot_test: FAIL $1 (no line matching /$2/)"
		fail=1
	fi
}
want=33
[ "$selftest" = fault ] && want=35
if [ "$rc" -eq "$want" ]; then
	echo "boot_test: ok   QEMU exit status $rc (isa-debug-exit $([ $want = 33 ] && echo 'PASS 0x10' || echo 'FAIL 0x11'))"
else
	echo "boot_test: FAIL QEMU exit status $rc, expected $want (33 = PASS, 35 = kernel FAIL, 124 = timeout)"
	fail=1
fi
check "boot line" '^orion: boot ok'
check "PCI lists virtio-net 1af4:$devid" "^pci [0-9a-f]{2}:[0-9a-f]{2}\.[0-7] 1af4:$devid class 02\.00\.00 virtio-net"
check "virtio-net reported" "^orion: virtio-net [0-9a-f:.]+ 1af4:$devid (modern|transitional)"
if [ "$selftest" = fault ]; then
	check "exception reported" '^\*\*\* exception 6 \(invalid opcode\)'
	check "register dump" '^RAX [0-9a-f]{16} RBX'
	check "panic" '^PANIC: unhandled exception 6'
else
	check "selftest passed" "^orion: selftest $selftest PASS"
fi

if [ "$fail" -ne 0 ]; then
	echo "---- kernel console ($log) ----"
	tr -d '\r' <"$log"
	exit 1
fi
echo "boot_test: PASS ($machine/$accel, selftest=$selftest)"
exit 0
