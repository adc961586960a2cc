#!/bin/bash
# Soak (outside CI): the recovery loop of kernel_recover_loop.sh with large
# counts.  usage: soak-recover.sh KERNEL_ELF [ROUNDS [EVERY [ACCEL [REPLY_TIMEOUT]]]]
# REPLY_TIMEOUT (default 0.05 s) is the echo client's resend time: a datagram
# lost in a reset is resent after it, so it sets the round time.
# ROUNDS rounds = 2*ROUNDS queue resets and ROUNDS/EVERY device resets.
# Run it through /work/wt/notes/heavy on the shared machine.
set -u
here=$(cd "$(dirname "$0")" && pwd)
elf=${1:?usage: soak-recover.sh KERNEL_ELF [ROUNDS [EVERY [ACCEL]]]}
exec "$here/../integration/kernel_recover_loop.sh" --kernel "$elf" --machine q35 \
	--loops "${2:-1000}" --every "${3:-1}" --accel "${4:-auto}" \
	--reply-timeout "${5:-0.05}"
