#!/usr/bin/env bash
# Boot the big-endian ppc64 Orion kernel (QEMU ppce500, e5500, TCG) with a
# virtio-net-pci device and -append "selftest=$selftest", and assert:
#   boot:  QEMU exits with the PASS status (0: gpio-poweroff), the kernel
#          printed "orion: boot ok", PCI listed the virtio-net function,
#          vnet0 came up with MSI-X through the MPIC's MSI block, the
#          exception self-test resumed after a handled program exception,
#          and "orion: selftest boot PASS";
#   fault: an illegal instruction nobody handles prints the ppc64 register
#          dump and the panic line, and QEMU exits with the FAIL status
#          (1: pvpanic-pci with -action panic=exit-failure).
#
# usage: boot_test.sh --kernel ELF [--selftest boot|fault] [--log FILE]
# Exit: 0 pass, 1 fail, 77 skipped (no qemu-system-ppc64).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../../../tests/lib/qemu.sh
. "$here/../../../../tests/lib/qemu.sh"
vq_init ppc64_boot
kernel='' selftest=boot log=''
vq_parse_args "kernel selftest log" "$@"
vq_need_kernel "$kernel"
case "$selftest" in boot | fault) ;; *) vq_die "--selftest boot|fault" ;; esac
qemu_arch ppc64
qemu_need
[ -n "$log" ] || log=$(mktemp "${TMPDIR:-/tmp}/orion-ppc64-$selftest.XXXXXX.log")

echo "ppc64_boot: selftest=$selftest, log $log"
qemu_run --machine ppce500 --accel tcg --kernel "$kernel" --append "selftest=$selftest" \
	--serial "log:$log" --timeout 90 --nic user ""
rc=$?

fail=0
check() {   # check DESCRIPTION EXTENDED-REGEX
	if vq_text "$log" | grep -Eq "$2"; then
		echo "ppc64_boot: ok   $1"
	else
		echo "ppc64_boot: FAIL $1 (no line matching /$2/)"
		fail=1
	fi
}
want=$QEMU_EXIT_PASS
[ "$selftest" = fault ] && want=$QEMU_EXIT_FAIL
if [ "$rc" -eq "$want" ]; then
	echo "ppc64_boot: ok   QEMU exit status $rc ($(qemu_exit_meaning "$rc"))"
else
	echo "ppc64_boot: FAIL QEMU exit status $rc ($(qemu_exit_meaning "$rc")), expected $want"
	fail=1
fi
check "banner" '^orion: Orion test kernel \(orion-vnet\), ppc64$'
check "boot line" '^orion: boot ok'
check "PCI lists virtio-net" '^pci 00:[0-9a-f]{2}\.0 1af4:1000 class 02\.00\.00 virtio-net'
if [ "$selftest" = fault ]; then
	check "exception reported" '^ppc64: exception 6 \(program\)'
	check "register dump" '^  r28 [0-9a-f]{16} [0-9a-f]{16} [0-9a-f]{16} [0-9a-f]{16}$'
	check "panic" '^PANIC: unhandled exception 6 \(program\) at 0x'
	if vq_text "$log" | grep -q '^orion: selftest fault PASS'; then
		echo "ppc64_boot: FAIL the fault self-test claimed PASS"
		fail=1
	fi
else
	check "vnet0 up with MSI-X" '^vnet0: up .* mode irq msix [1-9]'
	check "exception dispatch" '^selftest: exception dispatch ok$'
	check "virtio-net self-test" '^selftest: virtio-net .* ok: '
	check "selftest passed" '^orion: selftest boot PASS$'
fi

if [ "$fail" -ne 0 ]; then
	echo "---- kernel console ($log) ----"
	vq_text "$log"
	exit 1
fi
echo "ppc64_boot: PASS (selftest=$selftest)"
exit 0
