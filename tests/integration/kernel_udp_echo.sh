#!/usr/bin/env bash
# kernel_udp_echo: boot the Orion kernel with selftest=echo and a QEMU
# user-network UDP forward 127.0.0.1:<free port> -> guest port 7, then let
# udp_echo_client.py push >= 1000 datagrams (every size 1..1472, random
# bytes) through the orion-vnet driver and check every echoed byte.  The
# client ends with the stop datagram; the kernel then exits with PASS (33).
# QEMU is killed on every exit path (trap), so nothing is left behind.
#
# usage: kernel_udp_echo.sh --kernel ELF [--machine q35|pc] [--accel auto|kvm|tcg]
#                           [--dev-opts ",packed=on"] [--append "mode=poll"] [--log FILE]
#                           [--expect REGEX]...   (console lines that must also appear)
# Exit: 0 pass, 1 fail, 77 skip (no qemu-system-x86_64 or python3).
set -u
here=$(cd "$(dirname "$0")" && pwd)
kernel= machine=q35 accel=auto devopts= append= log= count=1500
expects=()
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--machine) machine=$2; shift 2 ;;
	--accel) accel=$2; shift 2 ;;
	--dev-opts) devopts=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--count) count=$2; shift 2 ;;
	--expect) expects+=("$2"); shift 2 ;;
	*) echo "udp_echo: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -n "$kernel" ] && [ -f "$kernel" ] || { echo "udp_echo: --kernel ELF required" >&2; exit 2; }
qemu=$(command -v qemu-system-x86_64) || { echo "udp_echo: SKIP: qemu-system-x86_64 not found"; exit 77; }
command -v python3 >/dev/null || { echo "udp_echo: SKIP: python3 not found"; exit 77; }
if [ "$accel" = auto ]; then
	if ( exec 3<>/dev/kvm ) 2>/dev/null; then accel=kvm; else accel=tcg; fi
fi
[ -n "$log" ] || log=$(mktemp "${TMPDIR:-/tmp}/orion-udp.XXXXXX.log")
: >"$log"

# A free UDP port on 127.0.0.1 (tiny race with other users; QEMU fails
# loudly if it lost it, and the test then fails rather than hangs).
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

qpid=
cleanup() {
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		kill "$qpid" 2>/dev/null
		sleep 1
		kill -9 "$qpid" 2>/dev/null
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

echo "udp_echo: $machine/$accel, hostfwd udp 127.0.0.1:$port -> guest :7, log $log"
timeout --kill-after=5 600 "$qemu" -M "$machine" -accel "$accel" -m 256M \
	-kernel "$kernel" -append "selftest=echo $append" \
	-display none -monitor none -serial "file:$log" -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-netdev "user,id=n0,hostfwd=udp:127.0.0.1:$port-:7" \
	-device "virtio-net-pci,netdev=n0$devopts" </dev/null 2>"$log.stderr" &
qpid=$!

# Wait for the echo service (bounded; TCG and slow KVM both fit).
for _ in $(seq 1 240); do
	grep -q 'echo service on udp port' "$log" 2>/dev/null && break
	kill -0 "$qpid" 2>/dev/null || break
	sleep 0.5
done
if ! grep -q 'echo service on udp port' "$log"; then
	echo "udp_echo: FAIL kernel did not start the echo service"
	cat "$log.stderr"; tr -d '\r' <"$log" | tail -30
	exit 1
fi
grep -a '^vnet0: up ' "$log" | tr -d '\r'

python3 "$here/udp_echo_client.py" --port "$port" --count "$count"
crc=$?

# The stop datagram makes the kernel exit with PASS (33); bounded wait.
rc=
for _ in $(seq 1 60); do
	if ! kill -0 "$qpid" 2>/dev/null; then
		wait "$qpid"; rc=$?
		break
	fi
	sleep 0.5
done
fail=0
[ "$crc" -eq 0 ] || { echo "udp_echo: FAIL host client reported errors"; fail=1; }
if [ "$rc" != 33 ]; then
	echo "udp_echo: FAIL QEMU exit status '${rc:-still running}', expected 33 after the stop datagram"
	fail=1
fi
tr -d '\r' <"$log" | grep -a -E '^selftest echo: ' || { echo "udp_echo: FAIL no 'selftest echo' line"; fail=1; }
tr -d '\r' <"$log" | grep -a -E '^vnet0: counters '
for re in ${expects[@]+"${expects[@]}"}; do
	tr -d '\r' <"$log" | grep -aEq -- "$re" || { echo "udp_echo: FAIL no console line matching /$re/"; fail=1; }
done
if [ "$fail" -ne 0 ]; then
	cat "$log.stderr"; tr -d '\r' <"$log" | tail -30
	exit 1
fi
rm -f "$log.stderr"
echo "udp_echo: PASS"
exit 0
