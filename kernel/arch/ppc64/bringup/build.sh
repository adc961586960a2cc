#!/usr/bin/env bash
# Bring-up build: the arch's early pieces + kernel/lib + the driver core
# and a throwaway main, without the common kernel (README.md, "Bring-up
# build").  usage: build.sh [OUT.elf]   (default /tmp/b-port-ppc/bringup.elf)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
k=$(cd "$here/../.." && pwd)
root=$(cd "$k/.." && pwd)
out=${1:-/tmp/b-port-ppc/bringup.elf}
mkdir -p "$(dirname "$out")"
CC=${CC:-powerpc64-linux-gnu-gcc}
cflags=(-mcpu=e5500 -m64 -mbig-endian -mabi=elfv1 -O2 -g -ffreestanding -fno-builtin -nostdlib
	-fno-stack-protector -msoft-float -mno-altivec -mno-vsx -fno-pic -fno-pie
	-fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables -Wall -Wextra
	-I"$k/include" -I"$root/include" -I"$root/src")
srcs=("$here"/boot.S "$here"/start.c "$here"/mmu.c "$here"/uart.c "$here"/exc.c "$here"/exit.c
	"$here"/timebase.c "$here"/pci_fsl.c "$here"/platform.c "$here"/mpic.c "$here"/tick.c
	"$here"/bringup/serial.c "$here"/bringup/main.c "$here"/bringup/coretest.c
	"$k"/lib/printf.c "$k"/lib/string.c "$k"/lib/fdt.c "$k"/dev/pci_ecam.c
	"$root"/src/core/*.c "$root"/src/net/*.c "$root"/src/transport/pci/*.c)
"$CC" "${cflags[@]}" -static -no-pie -Wl,--build-id=none -Wl,-T,"$here"/linker.ld \
	-Wl,--no-warn-rwx-segments -o "$out" "${srcs[@]}" -lgcc
echo "$out"
