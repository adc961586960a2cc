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
#   ping:  with --bridge, the NIC sits behind the second of two PCIe root
#          ports: the ECAM code must number the buses and open the bridge
#          windows, and INTx must be swizzled through the bridge to the
#          right SPI (--machine virt-gicv3: 02:00.0 INTA -> root slot 2
#          INTA -> SPI 5), or the gateway ping cannot get its replies.
# usage: boot_test.sh --kernel ELF [--selftest boot|fault|ping] [--machine virt|virt-gicv3]
#                     [--bridge] [--log FILE]
# Exit: 0 pass, 1 fail, 77 skip (no qemu-system-aarch64).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../../../tests/lib/qemu.sh
. "$here/../../../../tests/lib/qemu.sh"
vq_init a64boot
kernel='' selftest=boot log='' machine=virt bridge=0
vq_parse_args "kernel selftest log machine bridge" "$@"
vq_need_kernel "$kernel"
qemu_arch aarch64
qemu_need
[ -n "$log" ] || log=$(mktemp "${TMPDIR:-/tmp}/orion-a64boot.XXXXXX.log")
nic=(--nic user ",disable-legacy=on") extra=()
if [ "$bridge" != 0 ]; then
	# QEMU needs the ports before the device that names one as its bus,
	# and qemu_run puts --nic devices first: the NIC is given here.
	nic=()
	extra=(-device "pcie-root-port,id=a64rp1,chassis=1,slot=1" -device "pcie-root-port,id=a64rp2,chassis=2,slot=2"
		-netdev "user,id=a64n0" -device "virtio-net-pci,netdev=a64n0,disable-legacy=on,bus=a64rp2")
fi
echo "a64boot: $machine pci selftest=$selftest$([ "$bridge" != 0 ] && echo ' behind two root ports'), log $log"
qemu_run --arch aarch64 --machine "$machine" --transport pci --accel tcg \
	--kernel "$kernel" --append "selftest=$selftest" --serial "log:$log" --timeout 60 \
	"${nic[@]}" -- "${extra[@]}"
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
if [ "$machine" = virt ]; then
	check "GICv2 with the v2m MSI frame" '^aarch64: GICv2 MSI frame v2m \([1-9][0-9]* SPIs\)'
else
	check "GICv3" '^aarch64: DTB .*, GICv3,'
fi
if [ "$selftest" = ping ]; then
	check "ECAM host: buses and bridge windows" '^aarch64: PCIe ECAM 0x[0-9a-f]+ buses 0-[0-9]+: 4 functions, [1-9][0-9]* BARs assigned \(0 failed\), 2 bridges'
	check "virtio-net behind the second root port" '^pci 02:00\.0 1af4:1041 '
	if [ "$machine" = virt-gicv3 ]; then
		check "INTx swizzled to SPI 5" '^vnet0: up .* mode intx gsi 5 '
	else
		check "MSI-X behind the bridge" '^vnet0: up .* mode irq msix [1-9]'
	fi
	check "ping through the NIC" '^selftest ping: PASS'
elif [ "$selftest" = fault ]; then
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
