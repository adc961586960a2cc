#!/usr/bin/env bash
# kernel_tcp_tap: the Orion kernel's TCP (kernel/net/tcp.c) against the
# Linux stack, through QEMU's TAP back-end with the virtio-net header on.
#
# The host end lives in a network namespace of its own (ktcp-nsPID): the
# script creates it, a tap ktcpPID inside it with 10.79.0.1/24 and MTU
# 9000, and runs QEMU inside the namespace (through a one-line wrapper set
# as QEMU_BIN) so QEMU opens that tap; nothing touches the host's own
# network, and nstat reads the namespace's own counters.  The guest is
# 10.79.0.2 on a virtio-net-pci with host_mtu=9000 and the driver's
# default 2048-byte packet buffers, so every jumbo frame spans several
# buffers: sent as a descriptor chain, received over mergeable buffers
# (or, with --mrg off, into MTU-sized buffers / big-packet chains):
#   - pings of 1473, 4000 and 8972 bytes must each be answered 3 times of 3,
#     and UDP echoes of 1473, 4000 and 8972 bytes come back intact; the
#     kernel's own 8972-byte ping to Linux (`ping IP 3 -s 8972`) too;
#   - TCP runs with MSS 8960 both ways.
# Then, with the kernel's shell (tests/lib/qemu.sh qemu_shell_cmd):
#   1. Linux -> Orion: `tcp recv 5001` while tcp_peer.py sends BYTES of the
#      pattern (byte i = i mod 251); the kernel must report exactly BYTES,
#      "first mismatch: none", and the peer must see the kernel's FIN.
#   2. Orion -> Linux: tcp_peer.py listens, `tcp send 10.79.0.1 5002 BYTES`;
#      the peer must receive exactly BYTES with every byte right and the
#      kernel must report them acknowledged.
#   2b. Retransmission on timeout: Orion -> Linux again (16 MiB); once the
#      peer has 2 MiB it stops reading (a 256 KiB receive buffer: the
#      kernel must stall with bytes left, however fast it is), the tap goes
#      down (every segment, probe and ACK is lost from then on), the peer
#      reads again, and the tap comes back up once the kernel prints
#      "tcp: retransmission timeout" after the tap went down; the
#      transfer must still be byte-exact, with timeouts counted.
#   3. A SYN with a wrong checksum (raw socket) is dropped and counted
#      (bad_csum 1: the host sends it without offload flags, so the kernel
#      checks it in software in both cases), and a connect to a port
#      nobody listens on is refused (the kernel answers RST).
#   4. `tcp stats`: no other segment with a bad checksum or header; with
#      --offloads on the device negotiated CSUM and GUEST_CSUM and both
#      directions used them (tx csum_offloaded > 0, rx csum_offloaded > 0);
#      and TSO super-frames went both ways (HOST_TSO4 and GUEST_TSO4
#      negotiated, tx tso > 0, rx coalesced > 0); with --offloads off
#      (QEMU csum=off,guest_csum=off) neither was offered, every checksum
#      was computed and checked in software (both counters 0) and no
#      super-frame was sent or received.
#   5. `vnet stats`: received frames spanning several buffers (merged > 0;
#      with --mrg on only).
#   6. Linux's TcpInCsumErrors and IpInHdrErrors (nstat, in the namespace)
#      did not move.
#
# --ring packed runs it all over packed virtqueues (QEMU packed=on, the
# kernel's ring=packed; vnet0 must come up "ring packed").
#
# --mrg off: QEMU mrg_rxbuf=off.  --kargs "..." adds kernel command-line
# options (e.g. mode=poll, offload=off) for experiments and benchmarks.
#
# usage: kernel_tcp_tap.sh --kernel ELF [--offloads on|off] [--ring split|packed]
#                          [--mrg on|off] [--kargs OPTS] [--bytes N] [--accel auto|kvm|tcg] [--logdir DIR]
# Exit: 0 pass, 1 fail, 77 skip (not root, no /dev/net/tun, no
# qemu-system-x86_64/ip/python3/ping/nstat) with the reason printed.
# shellcheck disable=SC2154  # tmp, info, *_reply, stats...: set by vq_tmpdir_var / qemu_shell_cmd (printf -v)
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/qemu.sh
. "$here/../lib/qemu.sh"
vq_init tcp_tap
kernel='' accel=auto logdir='' offloads=on bytes=4194304 ring=split mrg=on kargs=''
vq_parse_args "kernel accel logdir offloads bytes ring mrg kargs" "$@"
vq_need_kernel "$kernel"
case "$offloads" in on | off) ;; *) vq_die "--offloads on|off (got '$offloads')" ;; esac
case "$ring" in split | packed) ;; *) vq_die "--ring split|packed (got '$ring')" ;; esac
case "$mrg" in on | off) ;; *) vq_die "--mrg on|off (got '$mrg')" ;; esac
vq_need_tap
qemu_need
vq_need python3 python3
vq_need ping iputils-ping
vq_need nstat iproute2
accel=$(vq_accel "$accel") || exit 2
vq_logdir orion-ktcp

ns="ktcp-ns$$" tap="ktcp$$"
tap=${tap:0:15}
host_ip=10.79.0.1 guest_ip=10.79.0.2
nsx() { ip netns exec "$ns" "$@"; }
fail() { echo "tcp_tap: FAIL $*"; show; exit 1; }
show() {
	echo "---- QEMU stderr ----"; cat "$log.stderr" 2>/dev/null
	echo "---- console ($log) ----"; vq_text "$log" | tail -40
}
log="$logdir/tcp-tap-$offloads-$ring-mrg$mrg.log"

ip netns add "$ns" || { echo "tcp_tap: FAIL could not create network namespace $ns"; exit 1; }
vq_on_exit ip netns del "$ns"
nsx ip link set lo up
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
nsx ip tuntap add dev "$tap" mode tap || fail "could not create tap $tap in $ns"
nsx ip addr add "$host_ip/24" dev "$tap" || fail "could not address $tap"
nsx ip link set "$tap" mtu 9000 up || fail "could not set $tap up with MTU 9000"

# QEMU runs inside the namespace, so ifname= finds the tap there.
vq_tmpdir_var tmp
printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$ns" "$QEMU_BIN" >"$tmp/qemu-in-ns"
chmod +x "$tmp/qemu-in-ns"
QEMU_BIN=$tmp/qemu-in-ns

devopts=",host_mtu=9000,disable-legacy=on"
[ "$offloads" = off ] && devopts="$devopts,csum=off,guest_csum=off"
[ "$ring" = packed ] && devopts="$devopts,packed=on"
[ "$mrg" = off ] && devopts="$devopts,mrg_rxbuf=off"
echo "tcp_tap: $accel, offloads $offloads, ring $ring, mrg_rxbuf $mrg, netns $ns tap $tap (MTU 9000) host $host_ip guest $guest_ip, $bytes bytes each way, log $log"

# since OFF REGEX SECONDS: wait until the log after byte OFF has a line
# matching REGEX (grep -E); 1 on timeout or when QEMU is gone.
since() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		tail -c +"$(($1 + 1))" "$log" | tr -d '\r' | grep -aEq "$2" && return 0
		kill -0 "$QEMU_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
nstat_read() { nsx nstat -asz TcpInCsumErrors IpInHdrErrors 2>/dev/null | awk '/^(Tcp|Ip)/ { printf "%s=%s ", $1, $2 }'; }
nstat0=$(nstat_read)

qemu_start --machine q35 --accel "$accel" --kernel "$kernel" \
	--append "ip=$guest_ip/24 gw=$host_ip ring=$ring${kargs:+ $kargs}" \
	--serial "shell:$log" --stderr "$log.stderr" --timeout 300 \
	--nic "tap,ifname=$tap,script=no,downscript=no,vhost=off,vnet_hdr=on" "$devopts"
qemu_shell_wait 60 || fail "no shell prompt within 60 s"
up=$(qemu_console | grep -a '^vnet0: up ' || true)
echo "$up"
grep -q ' mtu 9000 ' <<<"$up" || fail "vnet0 did not come up with mtu 9000"
grep -q " ring $ring " <<<"$up" || fail "vnet0 did not come up with ring $ring"
qemu_shell_cmd "vnet info" 5 info || fail "no answer to vnet info"
neg=$(sed -n '/^negotiated/,/^queues/p' <<<"$info" | tr '\n' ' ')
if [ "$offloads" = on ]; then
	for f in CSUM GUEST_CSUM HOST_TSO4 GUEST_TSO4; do
		grep -qw "$f" <<<"$neg" || fail "$f not negotiated: $neg"
	done
else
	for f in CSUM GUEST_CSUM HOST_TSO4 GUEST_TSO4; do
		! grep -qw "$f" <<<"$neg" || fail "$f negotiated with csum=off,guest_csum=off: $neg"
	done
fi

# Jumbo: pings and UDP echoes of 1473, 4000 and 8972 bytes.
for size in 1473 4000 8972; do
	pingout=$(nsx ping -c 3 -i 0.3 -W 3 -s "$size" -M 'do' "$guest_ip" 2>&1)
	echo "ping -s $size: $(grep 'packets transmitted' <<<"$pingout")"
	grep -q ' 3 received' <<<"$pingout" || fail "$size-byte ping with MTU 9000: not 3 replies of 3"
done
nsx python3 "$here/tcp_peer.py" udpecho --host "$guest_ip" --port 7 --sizes 1473,4000,8972 || fail "jumbo UDP echo"
# ... and from the kernel's side.
qemu_shell_cmd "ping $host_ip 3 -s 8972" 20 kping || fail "no answer to the kernel's ping"
grep -a '^---' <<<"$kping"
grep -q ' 3 sent, 3 received' <<<"$kping" || fail "the kernel's 8972-byte ping: not 3 replies of 3"

# 1. Linux -> Orion.
nsx python3 "$here/tcp_peer.py" send --host "$guest_ip" --port 5001 --bytes "$bytes" --timeout 45 \
	>"$logdir/peer-send-$offloads-$ring.out" 2>&1 &
peer=$!
qemu_shell_cmd "tcp recv 5001 30" 50 recv_reply
recv_rc=$?
wait "$peer"
peer_rc=$?
echo "$recv_reply" | grep -a '^tcp recv:'
cat "$logdir/peer-send-$offloads-$ring.out"
[ "$recv_rc" -eq 0 ] || fail "tcp recv did not finish within 50 s"
grep -q "^tcp recv: $bytes bytes from $host_ip:" <<<"$recv_reply" || fail "kernel did not receive exactly $bytes bytes"
grep -q '^tcp recv: first mismatch: none' <<<"$recv_reply" || fail "kernel saw wrong bytes"
[ "$peer_rc" -eq 0 ] || fail "Linux sender: $(cat "$logdir/peer-send-$offloads-$ring.out")"

# 2. Orion -> Linux.
rm -f "$tmp/ready"
nsx python3 "$here/tcp_peer.py" recv --bind "$host_ip" --port 5002 --bytes "$bytes" --timeout 45 \
	--ready "$tmp/ready" >"$logdir/peer-recv-$offloads-$ring.out" 2>&1 &
peer=$!
for _ in $(seq 1 100); do [ -e "$tmp/ready" ] && break; sleep 0.1; done
[ -e "$tmp/ready" ] || fail "Linux receiver did not start listening"
qemu_shell_cmd "tcp send $host_ip 5002 $bytes" 50 send_reply
send_rc=$?
wait "$peer"
peer_rc=$?
echo "$send_reply" | grep -a '^tcp send:'
cat "$logdir/peer-recv-$offloads-$ring.out"
[ "$send_rc" -eq 0 ] || fail "tcp send did not finish within 50 s"
grep -q "^tcp send: $bytes bytes to $host_ip:5002 in" <<<"$send_reply" || fail "kernel did not get $bytes bytes acknowledged"
[ "$peer_rc" -eq 0 ] || fail "Linux receiver: $(cat "$logdir/peer-recv-$offloads-$ring.out")"

# 2b. Orion -> Linux across an outage: retransmission on timeout.
rm -f "$tmp/ready" "$tmp/mark" "$tmp/resume"
nsx python3 "$here/tcp_peer.py" recv --bind "$host_ip" --port 5004 --bytes 16777216 --timeout 45 \
	--ready "$tmp/ready" --mark "$tmp/mark" --mark-at 2097152 --resume "$tmp/resume" \
	>"$logdir/peer-rto-$offloads-$ring.out" 2>&1 &
peer=$!
for _ in $(seq 1 100); do [ -e "$tmp/ready" ] && break; sleep 0.1; done
[ -e "$tmp/ready" ] || fail "Linux receiver (outage) did not start listening"
off0=$(wc -c <"$log")
qemu_shell_send "tcp send $host_ip 5004 16777216" || fail "QEMU gone"
for _ in $(seq 1 300); do [ -e "$tmp/mark" ] && break; sleep 0.05; done
[ -e "$tmp/mark" ] || fail "Linux receiver never got 2 MiB before the outage"
nsx ip link set "$tap" down
off1=$(wc -c <"$log")
touch "$tmp/resume"
seen=0
since "$off1" '^tcp: retransmission timeout' 10 && seen=1
nsx ip link set "$tap" up
[ "$seen" = 1 ] || fail "no retransmission timeout printed within 10 s of the outage"
since "$off0" '^tcp send: ([0-9]+ bytes to|FAIL)' 40 || fail "tcp send (outage) did not finish"
wait "$peer"
peer_rc=$?
rto_text=$(tail -c +"$((off0 + 1))" "$log" | tr -d '\r')
grep -a -E '^tcp( send|: retrans)' <<<"$rto_text" | head -5
cat "$logdir/peer-rto-$offloads-$ring.out"
grep -q "^tcp send: 16777216 bytes to $host_ip:5004 in" <<<"$rto_text" || fail "kernel did not get 16 MiB acknowledged across the outage"
[ "$peer_rc" -eq 0 ] || fail "Linux receiver (outage): $(cat "$logdir/peer-rto-$offloads-$ring.out")"
since "$off0" '^> ' 10 || fail "no prompt after the outage transfer"

# 3. A wrong checksum, a closed port.
nsx python3 "$here/tcp_peer.py" badcsum --src "$host_ip" --host "$guest_ip" --port 5003 || fail "could not send the bad SYN"
nsx python3 "$here/tcp_peer.py" refused --host "$guest_ip" --port 5003 --timeout 10 || fail "closed port not refused"

# 4. Counters.
qemu_shell_cmd "tcp stats" 5 stats || fail "no answer to tcp stats"
echo "$stats"
qemu_shell_cmd "net stats" 5 nstats || fail "no answer to net stats"
echo "$nstats" | grep -a -E '^(ipv4|size):'
field() { sed -n "s/.*$1 \([0-9]*\).*/\1/p" <<<"$2" | head -1; }
rx_line=$(grep '^tcp: rx ' <<<"$stats")
tx_line=$(grep '^tcp: tx ' <<<"$stats")
[ "$(field bad_csum "$rx_line")" = 1 ] || fail "not exactly the one bad-checksum SYN dropped: $rx_line"
if [ "$(field no_conn "$rx_line")" -lt 1 ] || [ "$(field rst_tx "$tx_line")" -lt 1 ]; then
	fail "no RST for the closed port: $rx_line / $tx_line"
fi
[ "$(field timeouts "$tx_line")" -ge 1 ] || fail "no retransmission timeout counted: $tx_line"
[ "$(field bad_hdr "$rx_line")" = 0 ] || fail "segments with a bad header: $rx_line"
[ "$(field bad_csum "$nstats")" = 0 ] || fail "IPv4 headers with a bad checksum: $nstats"
rx_off=$(field csum_offloaded "$rx_line") tx_off=$(field csum_offloaded "$tx_line")
tso=$(field tso "$tx_line") coal=$(field coalesced "$rx_line")
if [ "$offloads" = on ]; then
	[ "${rx_off:-0}" -gt 0 ] || fail "offloads on: no segment received with DATA_VALID/NEEDS_CSUM"
	[ "${tx_off:-0}" -gt 0 ] || fail "offloads on: no segment sent with checksum offload"
	[ "${tso:-0}" -gt 0 ] || fail "offloads on: no TSO super-frame sent"
	[ "${coal:-0}" -gt 0 ] || fail "offloads on: no coalesced (GUEST_TSO4) frame received"
else
	if [ "${tso:-1}" != 0 ] || [ "${coal:-1}" != 0 ]; then fail "offloads off: super-frames seen ($rx_line / $tx_line)"; fi
	if [ "${rx_off:-1}" != 0 ] || [ "${tx_off:-1}" != 0 ]; then fail "offloads off: checksum offload used ($rx_line / $tx_line)"; fi
fi

# 5. Frames spanning mergeable buffers.
qemu_shell_cmd "vnet stats" 5 vstats || fail "no answer to vnet stats"
merged=$(field merged "$(grep '^pair 0 rx:' <<<"$vstats")")
echo "tcp_tap: vnet0 pair 0 rx merged $merged"
[ "$mrg" = off ] || [ "${merged:-0}" -gt 0 ] || fail "no received frame spanned several buffers"

# 6. Linux saw no checksum or header errors.
nstat1=$(nstat_read)
echo "tcp_tap: nstat before: $nstat0 after: $nstat1"
[ "$nstat0" = "$nstat1" ] || fail "Linux counted errors: before '$nstat0' after '$nstat1'"

qemu_shell_send exit
qemu_wait_exit 20 || qemu_stop
recv_res=$(grep '^tcp recv: [0-9]' <<<"$recv_reply")
send_res=$(grep '^tcp send: [0-9]' <<<"$send_reply")
echo "tcp_tap: PASS (offloads $offloads, ring $ring, mrg_rxbuf $mrg; pings and UDP echoes of 1473/4000/8972 bytes; Linux->Orion: ${recv_res#tcp recv: }; Orion->Linux: ${send_res#tcp send: }; rx csum_offloaded $rx_off tx csum_offloaded $tx_off; tso super-frames sent $tso, coalesced received $coal; merged rx frames $merged; bad SYN dropped, closed port refused; 16 MiB across an outage, $(field timeouts "$tx_line") timeouts)"
exit 0
