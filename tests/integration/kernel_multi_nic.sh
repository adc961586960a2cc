#!/usr/bin/env bash
# kernel_multi_nic: eight NICs in one Orion kernel, each its own vnetN.
#
# Boots selftest=echo with 8 virtio-net-pci devices, each on its own QEMU
# user network with its own UDP forward 127.0.0.1:<port N> -> guest :7,
# plus a 9th device that must be named and left alone.  The devices mix
# what the driver handles differently:
#     N odd          packed=on (packed ring), N even split
#     N = 2,3,6,7    vectors=0 (no MSI-X: INTx, lines shared on q35)
#     N = 5          vnet5.ip=10.0.2.20/24 on the command line (its
#                    forward targets 10.0.2.20; the default 10.0.2.15
#                    would get no answer)
# Checks:
#   - one "vnetN: up ..." line per device with its ring and interrupt mode,
#     and the 9th function reported as ignored;
#   - every vnetN answers UDP echo through its own forward: datagrams
#     carrying the device's name and random bytes come back intact on that
#     port (a reply leaving on another NIC would reach another user
#     network and never come back here);
#   - after the stop datagram (sent to vnet0), the kernel's per-device
#     "vnetN: udp echoed K" counts show each device served its own share.
# QEMU is started by tests/lib/qemu.sh and ended on every exit path.
#
# usage: kernel_multi_nic.sh --kernel ELF [--machine q35|pc] [--accel auto|kvm|tcg]
#                            [--log FILE] [--count N]   (datagrams per NIC, default 24)
# Exit: 0 pass, 1 fail, 77 skip (no qemu-system-x86_64 or python3).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/qemu.sh
. "$here/../lib/qemu.sh"
vq_init multi_nic
kernel='' machine=q35 accel=auto log='' count=24
vq_parse_args "kernel machine accel log count" "$@"
vq_kernel_needs
[ -n "$log" ] || log=$(mktemp "${TMPDIR:-/tmp}/orion-multi-nic.XXXXXX.log")

nics=()
ports=()
for n in 0 1 2 3 4 5 6 7; do
	port=$(vq_free_port udp)
	# vq_free_port asks the kernel for a free port each time; make sure
	# no two NICs got the same one.
	while [[ " ${ports[*]} " == *" $port "* ]]; do port=$(vq_free_port udp); done
	ports+=("$port")
	guest=''
	[ "$n" = 5 ] && guest=10.0.2.20
	opts=",disable-legacy=on"
	[ $((n % 2)) = 1 ] && opts+=",packed=on"
	case $n in 2 | 3 | 6 | 7) opts+=",vectors=0" ;; esac
	nics+=(--nic "user,hostfwd=udp:127.0.0.1:$port-$guest:7" "$opts")
done
# The 9th: a user network without forwards; the kernel must leave it alone.
nics+=(--nic user ",disable-legacy=on")

echo "multi_nic: $machine/$accel, 9 NICs (udp ports ${ports[*]} -> vnet0..vnet7), log $log"
# qsize=64: eight pools of zeroed DMA pages cost boot time under slow
# virtualisation, and ring size is not what is tested here.
qemu_start --machine "$machine" --accel "$accel" --kernel "$kernel" \
	--append "selftest=echo qsize=64 vnet5.ip=10.0.2.20/24" \
	--serial "log:$log" --stderr "$log.stderr" --timeout 600 "${nics[@]}"

show() { echo "---- QEMU stderr ----"; cat "$log.stderr"; echo "---- console ($log) ----"; qemu_console | tail -40; }
if ! qemu_wait_log 'echo service on udp port' 300; then
	echo "multi_nic: FAIL kernel did not start the echo service"; show; exit 1
fi

fail=0
for n in 0 1 2 3 4 5 6 7; do
	ring=split mode='mode irq msix [1-9]'
	[ $((n % 2)) = 1 ] && ring=packed
	case $n in 2 | 3 | 6 | 7) mode='mode intx gsi [0-9]+ msix 0' ;; esac
	ip=10.0.2.15
	[ "$n" = 5 ] && ip=10.0.2.20
	line=$(qemu_console | grep -a "^vnet$n: up " || true)
	echo "${line:-(no vnet$n: up line)}"
	if ! grep -Eq "^vnet$n: up mac [0-9a-f:]+ ip $ip/24 gw 10\.0\.2\.2 link up ring $ring .*$mode mtu" <<<"$line"; then
		echo "multi_nic: FAIL vnet$n did not come up with ip $ip, ring $ring and /$mode/"
		fail=1
	fi
done
if ! qemu_console | grep -aEq '^vnet: virtio-net [0-9a-f:.]+ 1af4:1041 ignored: at most 8 devices'; then
	echo "multi_nic: FAIL the 9th virtio-net function was not reported as ignored"
	fail=1
fi
[ "$fail" -eq 0 ] || { show; exit 1; }

# Echo through every forward, all NICs at once (one socket each).
python3 - "$count" "${ports[@]}" <<'EOF'
import os, random, select, socket, sys, time

count = int(sys.argv[1])
ports = [int(p) for p in sys.argv[2:]]
rng = random.Random(int.from_bytes(os.urandom(4), "little"))
socks = []
for p in ports:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.1", p))
    s.setblocking(False)
    socks.append(s)

def payload(n, i):
    body = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 1400)))
    return b"vnet%d #%d " % (n, i) + body

# Per NIC: the datagrams still to be echoed, resent until echoed (user
# networking may drop the first ones while the guest answers slirp's ARP).
want = [{payload(n, i) for i in range(count)} for n in range(len(ports))]
sent_at = [0.0] * len(ports)
deadline = time.time() + 120
bad = 0
while time.time() < deadline and any(want):
    now = time.time()
    for n, s in enumerate(socks):
        if want[n] and now - sent_at[n] > 0.5:
            for d in list(want[n])[:8]:
                try:
                    s.send(d)
                except (BlockingIOError, ConnectionRefusedError):
                    pass
            sent_at[n] = now
    r, _, _ = select.select(socks, [], [], 0.1)
    for s in r:
        n = socks.index(s)
        while True:
            try:
                d = s.recv(4096)
            except (BlockingIOError, ConnectionRefusedError):
                break
            if d in want[n]:
                want[n].discard(d)
            elif not d.startswith(b"vnet%d #" % n):
                print(f"multi_nic: port {ports[n]} (vnet{n}) got a datagram that is not its own: {d[:16]!r}")
                bad += 1
for n, w in enumerate(want):
    print(f"multi_nic: vnet{n} (udp {ports[n]}): {count - len(w)} of {count} echoed intact")
socks[0].send(b"ORION-ECHO-STOP")
sys.exit(0 if not any(want) and bad == 0 else 1)
EOF
crc=$?
[ "$crc" -eq 0 ] || { echo "multi_nic: FAIL not every NIC echoed its datagrams intact"; fail=1; }

if qemu_wait_exit 60; then rc=$QEMU_RC; else qemu_stop; rc=timeout; fi
[ "$rc" = 33 ] || { echo "multi_nic: FAIL QEMU exit '$rc' ($(qemu_exit_meaning "$rc")), expected 33 after the stop datagram"; fail=1; }
qemu_console | grep -aE '^(vnet[1-7]: udp echoed|selftest echo: )'
for n in 1 2 3 4 5 6 7; do
	k=$(qemu_console | sed -n "s/^vnet$n: udp echoed \([0-9]*\),.*/\1/p" | tail -1)
	if [ -z "$k" ] || [ "$k" -lt "$count" ]; then
		echo "multi_nic: FAIL vnet$n echoed '${k:-nothing}', expected >= $count"; fail=1
	fi
done
k=$(qemu_console | sed -n 's/^selftest echo: PASS udp echoed \([0-9]*\),.*/\1/p' | tail -1)
if [ -z "$k" ] || [ "$k" -lt "$count" ]; then
	echo "multi_nic: FAIL vnet0 echoed '${k:-nothing}', expected >= $count"; fail=1
fi
[ "$fail" -eq 0 ] || { show; exit 1; }
rm -f "$log.stderr"
echo "multi_nic: PASS (8 NICs up as vnet0..vnet7, split/packed, MSI-X/INTx, each echoed $count datagrams through its own forward; 9th ignored)"
exit 0
