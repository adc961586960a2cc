#!/usr/bin/env bash
# riscv64 boot test: the Orion kernel on QEMU virt (OpenSBI, TCG) with one
# virtio-net-pci NIC and -append "selftest=$selftest"; asserts what a user
# of the port relies on:
#   boot   QEMU exits through the sifive,test0 finisher with PASS (33); the
#          kernel came up in S-mode from OpenSBI, read the DTB (UART, PLIC
#          with this hart's context, timebase, finisher, virtio-mmio
#          windows), assigned the PCI BARs, and selftest=boot passed
#          (memory, time with ticks from the SBI timer, exception dispatch,
#          the virtio-net function found).
#   fault  an unhandled load access fault prints the trap dump (scause,
#          sepc, stval, registers) and panics out with FAIL (35).
#
# usage: boot_test.sh --kernel ELF [--selftest boot|fault] [--log FILE]
# Exit: 0 pass, 1 fail, 2 usage, 77 skip (no qemu-system-riscv64).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../../../tests/lib/qemu.sh
. "$here/../../../../tests/lib/qemu.sh"
vq_init riscv64_boot
kernel='' selftest=boot log=''
vq_parse_args "kernel selftest log" "$@"
vq_need_kernel "$kernel"
qemu_arch riscv64
qemu_need
[ -n "$log" ] || log=$(mktemp "${TMPDIR:-/tmp}/orion-riscv64-boot.XXXXXX.log")

case "$selftest" in
boot)
	want_rc=$QEMU_EXIT_PASS
	expects=(
		'^orion: Orion test kernel \(orion-vnet\), riscv64$'
		'^orion: hart [0-9]+ in S-mode, SBI [0-9]+\.[0-9]+ '
		'^orion: dtb: uart 0x10000000 \(irq 10\), timebase 10000000 Hz, plic 0xc000000 \(96 sources, context 1\), finisher 0x100000, 8 virtio-mmio windows$'
		'^pci: ecam 0x30000000 .* [1-9][0-9]* BARs placed, 0 failed$'
		'^orion: virtio-net 00:0[0-9a-f]\.0 1af4:1041 modern$'
		'^orion: boot ok '
		'^selftest: time ok .* [1-9][0-9]* ticks\)$'
		'^selftest: exception dispatch ok'
		'^orion: selftest boot PASS$'
	) ;;
fault)
	want_rc=$QEMU_EXIT_FAIL
	expects=(
		'^orion: boot ok '
		'^EXCEPTION 5 \(load access fault\) at sepc 0x'
		'^sepc [0-9a-f]{16} stval 0000000000000008 scause 0000000000000005 '
		'^ +ra [0-9a-f]{16} +sp [0-9a-f]{16}'
		'^PANIC: unhandled exception 5 \(load access fault\)'
	) ;;
*) vq_die "--selftest must be boot or fault (got '$selftest')" ;;
esac

echo "riscv64_boot: selftest=$selftest, log $log"
qemu_run --machine virt --transport pci --accel tcg --kernel "$kernel" --append "selftest=$selftest" \
	--serial "log:$log" --stderr "$log.stderr" --timeout 60 \
	--nic user ",disable-legacy=on"
rc=$QEMU_RC
fail=0
if [ "$rc" != "$want_rc" ]; then
	echo "riscv64_boot: FAIL QEMU exit status $rc ($(qemu_exit_meaning "$rc")), expected $want_rc"
	fail=1
fi
for re in "${expects[@]}"; do
	vq_has "$log" "$re" || { echo "riscv64_boot: FAIL no console line matching /$re/"; fail=1; }
done
if [ "$fail" -ne 0 ]; then
	cat "$log.stderr" 2>/dev/null; qemu_console | tail -30
	exit 1
fi
rm -f "$log.stderr"
echo "riscv64_boot: PASS ($selftest, QEMU status $rc: $(qemu_exit_meaning "$rc"))"
exit 0
