# shellcheck shell=bash disable=SC2034  # read by tests/lib/qemu.sh
# kernel/arch/riscv64/qemu.sh: how tests/lib/qemu.sh starts the Orion kernel
# on riscv64 (sourced by it for --arch riscv64; see kernel/arch/README.md).
#
# QEMU virt with its bundled OpenSBI (-bios default: fw_dynamic from
# Debian's qemu-system-data) loading the ELF at 0x80200000.  TCG always: a
# riscv64 guest cannot use an x86 host's KVM.  NICs: virtio-net-pci on the
# board's PCIe host (ECAM), or virtio-net-device on one of the eight
# virtio-mmio slots; QEMU 7.2 makes virtio-mmio devices legacy (version 1)
# unless told otherwise, and the driver speaks only version 2, hence
# force-legacy=false.  The kernel exits through the sifive,test0 finisher
# with status (code << 1) | 1 (kernel/arch/riscv64/exit.c), the same
# statuses as x86's isa-debug-exit.
QEMU_ARCH_BIN=qemu-system-riscv64
QEMU_ARCH_PKG=qemu-system-misc
QEMU_ARCH_MACHINE=virt
QEMU_ARCH_MACHINES="virt"
QEMU_ARCH_ACCEL=tcg
QEMU_ARCH_ARGS=(-bios default)
QEMU_ARCH_NIC_pci=virtio-net-pci
QEMU_ARCH_NIC_mmio=virtio-net-device
QEMU_ARCH_ARGS_mmio=(-global virtio-mmio.force-legacy=false)
QEMU_ARCH_TRANSPORTS="pci mmio"
QEMU_EXIT_PASS=33
QEMU_EXIT_FAIL=35
