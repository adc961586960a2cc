#!/usr/bin/env bash
# Dump the device tree of QEMU's aarch64 `virt` machine (-m 256, the default
# GICv2 and highmem ECAM) to DTB and run TEST DTB [ARGS...] on it: the host
# unit tests of kernel/lib/fdt.c and kernel/dev/pci_ecam.c read a real tree.
#   dtb_fixture.sh DTB TEST [ARGS...]
# Exit: TEST's status; 77 (skip) without qemu-system-aarch64.
set -u
dtb=$1
shift
if ! command -v qemu-system-aarch64 >/dev/null 2>&1; then
	echo "dtb_fixture: SKIP qemu-system-aarch64 not found (Debian package qemu-system-arm)"
	exit 77
fi
if ! qemu-system-aarch64 -M "virt,dumpdtb=$dtb" -cpu cortex-a57 -m 256 -display none \
	-nodefaults >/dev/null 2>"$dtb.err"; then
	echo "dtb_fixture: FAIL qemu-system-aarch64 could not dump the virt DTB:"
	cat "$dtb.err"
	exit 1
fi
rm -f "$dtb.err"
exec "$@" "$dtb"
