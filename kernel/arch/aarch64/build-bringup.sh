#!/usr/bin/env bash
# Throwaway: builds the aarch64 arch code alone with a bring-up main, until
# the common kernel is split (split-v1).  build-bringup.sh OUT.elf
set -eu
here=$(cd "$(dirname "$0")" && pwd)
k=$here/../..
out=${1:-/tmp/b-port-arm64/bringup.elf}
cc=aarch64-linux-gnu-gcc
flags="-O2 -g -ffreestanding -fno-builtin -nostdlib -fno-stack-protector -mgeneral-regs-only
 -mstrict-align -mno-outline-atomics -fno-pic -fno-pie -fno-omit-frame-pointer
 -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-tree-loop-distribute-patterns
 -Wall -Wextra -Werror -I$k/include"
$cc $flags -o "$out" "$here"/*.S "$here"/*.c "$k/lib/printf.c" "$k/lib/string.c" "$k/lib/fdt.c" "$k/dev/pci_ecam.c" \
	-static -no-pie -Wl,--build-id=none -Wl,-T,"$here/linker.ld" -Wl,--no-warn-rwx-segments -lgcc
echo "$out"
