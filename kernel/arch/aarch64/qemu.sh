# shellcheck shell=bash disable=SC2034  # read by tests/lib/qemu.sh
# kernel/arch/aarch64/qemu.sh: how QEMU runs the aarch64 Orion kernel.
# Sourced by tests/lib/qemu.sh (qemu_arch aarch64); the contract is in
# kernel/arch/README.md ("qemu.sh").
#
# Board "virt" (GICv2 with its v2m MSI frame, QEMU's default) or
# "virt-gicv3" (-M virt,gic-version=3: no MSI, PCI functions use INTx),
# Cortex-A57, no firmware: QEMU loads the ELF and puts the DTB at the start
# of RAM.  Both transports on both boards: PCIe (ECAM, BARs assigned by the
# kernel) and virtio-mmio (force-legacy=false: version 2 registers, the
# only ones the driver speaks).  The result comes back through semihosting
# SYS_EXIT: the kernel passes (code << 1) | 1, so PASS (0x10) is 33 and
# FAIL (0x11) 35 as on x86_64.  Host x86_64: always TCG.

ARCH_QEMU_BIN=qemu-system-aarch64
ARCH_QEMU_PKG=qemu-system-arm
ARCH_QEMU_MACHINE=virt
ARCH_QEMU_MACHINES="virt virt-gicv3"
ARCH_QEMU_KVM_HOST=aarch64
ARCH_QEMU_EXIT_PASS=33
ARCH_QEMU_EXIT_FAIL=35
ARCH_QEMU_EXIT_PASS_HOW="semihosting SYS_EXIT 33"
ARCH_QEMU_EXIT_FAIL_HOW="semihosting SYS_EXIT 35"

# arch_qemu_machine MACHINE TRANSPORT: append the board, CPU and exit
# options to QEMU_CMD.
arch_qemu_machine() {
	case "$1" in
	virt) QEMU_CMD+=(-M virt) ;;
	virt-gicv3) QEMU_CMD+=(-M "virt,gic-version=3") ;;
	*) echo "aarch64: machine $1 is not supported (virt, virt-gicv3)" >&2
		return 1 ;;
	esac
	case "$2" in
	pci | mmio) ;;
	*) echo "aarch64: transport $2 is not supported (pci, mmio)" >&2
		return 1 ;;
	esac
	# force-legacy=false: a populated virtio-mmio window must speak
	# version 2 (the only one the driver takes); empty windows (DeviceID 0)
	# are skipped silently either way.  Kept for PCI runs too, harmless.
	QEMU_CMD+=(-global "virtio-mmio.force-legacy=false" -cpu cortex-a57
		-semihosting-config "enable=on,target=native")
}

# arch_qemu_kernel ELF: QEMU's ELF loader (not a Linux image: the DTB goes
# to the start of RAM, see kernel/arch/aarch64/README.md).
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
