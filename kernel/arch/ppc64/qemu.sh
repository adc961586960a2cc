# shellcheck shell=bash disable=SC2034  # read by tests/lib/qemu.sh
# kernel/arch/ppc64/qemu.sh: how QEMU runs the big-endian ppc64 Orion kernel.
# Sourced by tests/lib/qemu.sh (qemu_arch ppc64); the contract is in
# kernel/arch/README.md ("qemu.sh"); the port in kernel/arch/ppc64/README.md.
#
# ppce500 with an e5500 CPU, no firmware: QEMU loads the ELF and passes the
# DTB in r3.  The board has no debug-exit device, so
#   PASS: orion_exit(PASS) drives the gpio-poweroff line: QEMU exits 0
#         (orion_poweroff, the shell's "poweroff", does the same);
#   FAIL: orion_exit(FAIL) and every panic write PANICKED to pvpanic-pci,
#         and -action panic=exit-failure makes QEMU exit 1.
# KVM cannot run this guest on any host these tests run on: always TCG.

ARCH_QEMU_BIN=qemu-system-ppc64
ARCH_QEMU_PKG=qemu-system-ppc
ARCH_QEMU_MACHINE=ppce500
ARCH_QEMU_MACHINES="ppce500"
ARCH_QEMU_KVM_HOST=none-kvm-ppc64-e500
ARCH_QEMU_EXIT_PASS=0
ARCH_QEMU_EXIT_FAIL=1
ARCH_QEMU_EXIT_PASS_HOW="gpio-poweroff"
ARCH_QEMU_EXIT_FAIL_HOW="pvpanic-pci, -action panic=exit-failure"

# arch_qemu_machine MACHINE TRANSPORT
arch_qemu_machine() {
	case "$1:$2" in
	ppce500:pci)
		QEMU_CMD+=(-M ppce500 -cpu e5500
			-device pvpanic-pci -action panic=exit-failure) ;;
	*) echo "ppc64: machine $1 with transport $2 is not supported (ppce500 with pci)" >&2
		return 1 ;;
	esac
}

# arch_qemu_kernel ELF
arch_qemu_kernel() {
	QEMU_CMD+=(-kernel "$1")
}

# arch_qemu_nic TRANSPORT
arch_qemu_nic() {
	case "$1" in
	pci) echo virtio-net-pci ;;
	*) return 1 ;;
	esac
}
