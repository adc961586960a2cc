#!/bin/bash
# Soak (outside CI): link flaps under an echo, kernel_link_flap.sh --fast
# (one QMP connection, judged from the console and the echo; see that
# script).  usage: soak-link-flap.sh KERNEL_ELF [FLAPS [ACCEL]]
# Run it through /work/wt/notes/heavy on the shared machine.
set -u
here=$(cd "$(dirname "$0")" && pwd)
elf=${1:?usage: soak-link-flap.sh KERNEL_ELF [FLAPS [ACCEL]]}
exec "$here/../integration/kernel_link_flap.sh" --kernel "$elf" --machine q35 \
	--flaps "${2:-10000}" --accel "${3:-auto}" --fast 1
