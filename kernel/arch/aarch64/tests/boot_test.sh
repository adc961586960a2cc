#!/usr/bin/env bash
# The aarch64 Orion kernel on QEMU virt (GICv2) with one modern
# virtio-net-pci, booted with -append "selftest=$selftest", asserting what
# a user of the port relies on:
#   boot:  QEMU exits PASS (33, semihosting), "orion: boot ok", the DTB
#          walk found the GICv2 and its v2m MSI frame, the ECAM host
#          assigned the NIC's BARs, vnet0 runs on MSI-X through v2m, and
#          "orion: selftest boot PASS" (memory, time, exception dispatch,
#          the virtio-net function with MSI-X: the common self-test wants
#          MSI-X, so neither virt-gicv3 (no ITS driver) nor virtio-mmio
#          can run it; their echo tests cover them).
#   fault: an undefined instruction nobody handles prints the register
#          dump and panics out with FAIL (35).
# usage: boot_test.sh --kernel ELF [--selftest boot|fault] [--log FILE]
# Exit: 0 pass, 1 fail, 77 skip (no qemu-system-aarch64).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../../../tests/lib/qemu.sh
. "$here/../../../../tests/lib/qemu.sh"
vq_init a64boot
kernel='' selftest=boot log=''
vq_parse_args "kernel selftest log" "$@"
vq_need_kernel "$kernel"
qemu_arch aarch64
qemu_need
[ -n "$log" ] || log=$(mktemp "${TMPDIR:-/tmp}/orion-a64boot.XXXXXX.log")
echo "a64boot: virt pci selftest=$selftest, log $log"
qemu_run --arch aarch64 --machine virt --transport pci --accel tcg \
	--kernel "$kernel" --append "selftest=$selftest" --serial "log:$log" --timeout 60 \
	--nic user ",disable-legacy=on"
rc=$?

fail=0
check() {   # check DESCRIPTION EXTENDED-REGEX
	if grep -aEq "$2" "$log"; then
		echo "a64boot: ok   $1"
	else
		echo "a64boot: FAIL $1 (no line matching /$2/)"
		fail=1
	fi
}
want=$QEMU_EXIT_PASS
[ "$selftest" = fault ] && want=$QEMU_EXIT_FAIL
if [ "$rc" -eq "$want" ]; then
	echo "a64boot: ok   QEMU exit status $rc"
else
	echo "a64boot: FAIL QEMU exit status $rc, expected $want ($QEMU_EXIT_PASS PASS, $QEMU_EXIT_FAIL FAIL, 124 timeout)"
	fail=1
fi
# (Console lines end in \r\n: no $ anchors.)
check "banner" '^orion: Orion test kernel \(orion-vnet\), aarch64'
check "GICv2 with the v2m MSI frame" '^aarch64: GICv2 MSI frame v2m \([1-9][0-9]* SPIs\)'
if [ "$selftest" = fault ]; then
	check "register dump" '^aarch64: synchronous exception: ESR 0x2000000 \(EC 0x0 unknown'
	check "general registers" '^  x30 [0-9a-f]{16}  sp  [0-9a-f]{16}'
	check "panic" '^PANIC: unhandled aarch64 exception'
else
	check "boot line" '^orion: boot ok'
	check "exception dispatch" '^selftest: exception dispatch ok'
	check "ECAM host with the BARs assigned" '^aarch64: PCIe ECAM 0x[0-9a-f]+ buses 0-[0-9]+: [2-9] functions, [1-9][0-9]* BARs assigned \(0 failed\)'
	check "virtio-net PCI function" '^pci 00:0[1-9]\.0 1af4:1041 '
	check "vnet0 with MSI-X through v2m" '^vnet0: up .* mode irq msix [1-9]'
	check "selftest PASS" '^orion: selftest boot PASS'
fi
[ "$fail" -eq 0 ] || { echo "a64boot: console:"; tail -40 "$log"; exit 1; }
echo "a64boot: PASS"
exit 0
