# shellcheck shell=bash disable=SC2034  # read by tests/lib/qemu.sh
# kernel/arch/riscv64/qemu.sh: how QEMU runs the riscv64 Orion kernel.
# Sourced by tests/lib/qemu.sh (qemu_arch riscv64); the contract is in
# kernel/arch/README.md ("qemu.sh").
#
# QEMU virt with its bundled OpenSBI ("-bios default": fw_dynamic from
# Debian's qemu-system-data), which starts the ELF at 0x80200000 in S-mode.
# NICs: virtio-net-pci on the board's PCIe host (ECAM), or
# virtio-net-device on one of its eight virtio-mmio slots.  QEMU 7.2 makes
# virtio-mmio devices legacy (version 1) unless told otherwise and the
# driver speaks version 2 only, hence force-legacy=false.  The kernel exits
# through the sifive,test0 finisher with status (code << 1) | 1
# (kernel/arch/riscv64/exit.c), the statuses x86's isa-debug-exit gives:
# PASS (0x10) is 33 and FAIL (0x11) 35; a plain power-off is 0.

ARCH_QEMU_BIN=qemu-system-riscv64
ARCH_QEMU_PKG=qemu-system-misc
ARCH_QEMU_MACHINE=virt           # default board
ARCH_QEMU_MACHINES="virt"
ARCH_QEMU_KVM_HOST=riscv64       # uname -m of a host whose KVM runs this guest
ARCH_QEMU_EXIT_PASS=33
ARCH_QEMU_EXIT_FAIL=35
ARCH_QEMU_EXIT_PASS_HOW="sifive,test0 finisher (33 << 16) | 0x3333"
ARCH_QEMU_EXIT_FAIL_HOW="sifive,test0 finisher (35 << 16) | 0x3333"

# arch_qemu_machine MACHINE TRANSPORT: append the board, firmware and
# global options to QEMU_CMD; non-zero (with a message) if unsupported.
arch_qemu_machine() {
	case "$1:$2" in
	# force-legacy=false: a populated slot must speak version 2; the empty
	# slots (DeviceID 0) are skipped silently whatever their Version
	# (VirtIO 1.2 §4.2.3.1.1).  Kept for PCI runs too, harmless.
	virt:pci | virt:mmio) QEMU_CMD+=(-M virt -bios default -global virtio-mmio.force-legacy=false) ;;
	*) echo "riscv64: machine $1 with transport $2 is not supported (virt with pci or mmio)" >&2
		return 1 ;;
	esac
}

# arch_qemu_kernel ELF: append the options that load the kernel.
arch_qemu_kernel() {
	QEMU_CMD+=(-kernel "$1")
}

# arch_qemu_nic TRANSPORT: the virtio-net device model for the transport.
arch_qemu_nic() {
	case "$1" in
	pci) echo virtio-net-pci ;;
	mmio) echo virtio-net-device ;;
	*) return 1 ;;
	esac
}
