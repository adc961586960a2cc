# shellcheck shell=bash disable=SC2034  # read by tests/lib/qemu.sh
# kernel/arch/x86_64/qemu.sh: how QEMU runs the x86_64 Orion kernel.
# Sourced by tests/lib/qemu.sh (qemu_arch x86_64); the contract is in
# kernel/arch/README.md ("qemu.sh").
#
# pc and q35 boot the multiboot ELF with SeaBIOS and "-kernel"; microvm
# boots the same ELF (QEMU's multiboot loader, qboot firmware) with its
# virtio-mmio transports instead of PCI.  The result comes back through
# isa-debug-exit at port 0xf4: QEMU exits with (code << 1) | 1, so the
# kernel's PASS (0x10) is 33 and FAIL (0x11) 35.

ARCH_QEMU_BIN=qemu-system-x86_64
ARCH_QEMU_PKG=qemu-system-x86
ARCH_QEMU_MACHINE=q35            # default board
ARCH_QEMU_MACHINES="pc q35 microvm"
ARCH_QEMU_KVM_HOST=x86_64        # uname -m of a host whose KVM runs this guest
ARCH_QEMU_EXIT_PASS=33
ARCH_QEMU_EXIT_FAIL=35
ARCH_QEMU_EXIT_PASS_HOW="isa-debug-exit 0x10"
ARCH_QEMU_EXIT_FAIL_HOW="isa-debug-exit 0x11"

# arch_qemu_machine MACHINE TRANSPORT: append the board, firmware and exit
# device options to QEMU_CMD; non-zero (with a message) if the pair is
# not supported.
arch_qemu_machine() {
	case "$1:$2" in
	pc:pci | q35:pci) QEMU_CMD+=(-M "$1") ;;
	microvm:mmio)
		# auto-kernel-cmdline puts "virtio_mmio.device=SIZE@BASE:IRQ" for
		# each transport with a device on the fw_cfg command line, which
		# the kernel reads (arch/x86_64/microvm.c); QEMU 7.2 does that only
		# with acpi=off.  One IOAPIC (GSI 0-23) keeps the transports' IRQs
		# on it.  force-legacy=false: version 2 registers (virtio 1.x),
		# the only ones the driver speaks.
		QEMU_CMD+=(-M "microvm,auto-kernel-cmdline=on,acpi=off,ioapic2=off,rtc=off"
			-global virtio-mmio.force-legacy=false) ;;
	*) echo "x86_64: machine $1 with transport $2 is not supported (pc|q35 with pci, microvm with mmio)" >&2
		return 1 ;;
	esac
	QEMU_CMD+=(-device "isa-debug-exit,iobase=0xf4,iosize=0x04")
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
