#!/usr/bin/env bash
# kernel_udp_echo: boot the Orion kernel with selftest=echo and a QEMU
# user-network UDP forward 127.0.0.1:<free port> -> guest port 7, then let
# udp_echo_client.py push >= 1000 datagrams (every size 1..1472, random
# bytes) through the orion-vnet driver and check every echoed byte.  The
# client ends with the stop datagram; the kernel then exits with PASS (33 on
# x86_64; the arch's status, kernel/arch/ARCH/qemu.sh).
# QEMU is started by tests/lib/qemu.sh and killed on every exit path (its
# exit trap), so nothing is left behind.
#
# usage: kernel_udp_echo.sh --kernel ELF [--arch x86_64|aarch64|...] [--transport pci|mmio]
#                           [--machine BOARD] [--accel auto|kvm|tcg]
#                           [--dev-opts ",packed=on"] [--append "mode=poll"] [--log FILE]
#                           [--count N] [--expect REGEX]...   (console lines that must also appear)
# Defaults: x86_64, pci, the arch's default board (q35), 1500 datagrams.
# Exit: 0 pass, 1 fail, 77 skip (no QEMU for the arch, or no python3).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/qemu.sh
. "$here/../lib/qemu.sh"
vq_init udp_echo
kernel='' arch=x86_64 transport=pci machine='' accel=auto devopts='' append='' log='' count=1500
expects=()
vq_parse_args "kernel arch transport machine accel dev-opts=devopts append log count expect=expects+" "$@"
vq_need_kernel "$kernel"
qemu_arch "$arch"
[ -n "$machine" ] || machine=$ARCH_QEMU_MACHINE
qemu_need
vq_need python3 python3
accel=$(vq_accel "$accel") || exit 2
[ -n "$log" ] || log=$(mktemp "${TMPDIR:-/tmp}/orion-udp.XXXXXX.log")
port=$(vq_free_port udp)

echo "udp_echo: $arch $machine/$accel $transport, hostfwd udp 127.0.0.1:$port -> guest :7, log $log"
qemu_start --machine "$machine" --transport "$transport" --accel "$accel" --kernel "$kernel" \
	--append "selftest=echo $append" \
	--serial "log:$log" --stderr "$log.stderr" --timeout 600 \
	--nic "user,hostfwd=udp:127.0.0.1:$port-:7" "$devopts"

# Wait for the echo service (bounded; TCG and slow KVM both fit).
if ! qemu_wait_log 'echo service on udp port' 120; then
	echo "udp_echo: FAIL kernel did not start the echo service"
	cat "$log.stderr"; qemu_console | tail -30
	exit 1
fi
qemu_console | grep -a '^vnet0: up '

python3 "$here/udp_echo_client.py" --port "$port" --count "$count"
crc=$?

# The stop datagram makes the kernel exit with PASS; bounded wait.
qemu_wait_exit 30
rc=$QEMU_RC
fail=0
[ "$crc" -eq 0 ] || { echo "udp_echo: FAIL host client reported errors"; fail=1; }
if [ "$rc" != "$QEMU_EXIT_PASS" ]; then
	echo "udp_echo: FAIL QEMU exit status '${rc:-still running}', expected $QEMU_EXIT_PASS after the stop datagram"
	fail=1
fi
qemu_console | grep -a -E '^selftest echo: ' || { echo "udp_echo: FAIL no 'selftest echo' line"; fail=1; }
qemu_console | grep -a -E '^vnet0: counters '
for re in ${expects[@]+"${expects[@]}"}; do
	vq_has "$log" "$re" || { echo "udp_echo: FAIL no console line matching /$re/"; fail=1; }
done
if [ "$fail" -ne 0 ]; then
	cat "$log.stderr"; qemu_console | tail -30
	exit 1
fi
rm -f "$log.stderr"
echo "udp_echo: PASS"
exit 0
