#!/bin/bash
# vnetd end to end: two network namespaces joined through two vnetd and one
# dpdk-testpmd.
#
#   ns A: TAP --- vnetd A --vhost-user--+
#                                       testpmd (net_vhost0 <-io-> net_vhost1)
#   ns B: TAP --- vnetd B --vhost-user--+
#
# testpmd's two vhost-user ports are servers (its own --file-prefix,
# --no-huge unless huge pages are free: tests/lib/dpdk.sh) forwarding in
# `io` mode, so a frame vnetd A sends leaves on the port vnetd B reads.
# Each vnetd creates its TAP in the root namespace; the test moves it into
# its namespace and gives it an address.  Then:
#   - ping A -> B and B -> A;
#   - a TCP bulk transfer each way (tcp_bulk.py: every byte checked);
#   - --offloads on (the offload variant): `ethtool -k` must show checksum
#     offload (and TSO once the port negotiates it) on both TAPs, and
#     vnetd's counters must show offloaded frames;
#   - SIGTERM: both vnetd exit 0, report leaked=0, and their counters add
#     up (every frame read is sent or dropped with a reason).
#
#   vnetd_bridge_test.sh --vnetd BIN --variant plain|offload [--bytes N]
#                        [--mode-a irq|poll] [--mode-b irq|poll] [--ring auto|split|packed]
#                        [--queue-size N]
#                        [--kill-backend yes|no] [--b-server yes|no] [--logdir DIR]
#
# --b-server yes: vnetd B listens (--server) and testpmd's second port
# connects to it (client=1), so both roles carry the traffic.
#
# --kill-backend yes: between the two transfers testpmd is killed with
# SIGKILL and started again on the same sockets; both vnetd must report the
# loss, keep running, reconnect, and carry the ping and the second transfer;
# at exit each must count exactly one loss and one return, no buffer
# missing.
#
# Root and /dev/net/tun are needed (skip 77 otherwise, naming why), as are
# dpdk-testpmd (dpdk-dev), python3, ip and nstat (iproute2), ping
# (iputils-ping), sysctl (procps) and, for offload, ethtool.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../lib/qemu.sh
. "$HERE/../../lib/qemu.sh"
# shellcheck source=SCRIPTDIR/../../lib/dpdk.sh
. "$HERE/../../lib/dpdk.sh"

vnetd='' variant=plain bytes=8000000 mode_a=irq mode_b=irq logdir='' ring=auto kill_backend=no queue_size='' b_server=no
vq_parse_args "vnetd variant bytes mode-a=mode_a mode-b=mode_b logdir ring kill-backend=kill_backend queue-size=queue_size b-server=b_server" "$@"
vq_init "vnetd_bridge_$variant$([ "$kill_backend" = yes ] && echo _reconnect)"
[ -n "$vnetd" ] || vq_die "--vnetd BIN required"
case $variant in plain | offload) ;; *) vq_die "--variant plain|offload" ;; esac

fail() {
	echo "$VQ_NAME: FAIL: $*"
	local f
	for f in "$W"/*.out "$W"/*.err "$W"/vnetd_be*.log; do
		[ -s "$f" ] || continue
		echo "---- $f (tail)"
		sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$f" | grep -av '^\s*$' | tail -12
	done
	exit 1
}

vq_need_tap
vq_need python3 python3
vq_need nstat iproute2
vq_need ping iputils-ping
vq_need sysctl procps
dpdk_require_testpmd >/dev/null 2>&1 || vq_skip "dpdk-testpmd not found (Debian package dpdk-dev)"
[ "$variant" = offload ] && vq_need ethtool ethtool
[ -x "$vnetd" ] || fail "vnetd not built at $vnetd"

vq_tmpdir_var W
[ -n "$logdir" ] && { mkdir -p "$logdir"; vq_on_exit cp -r "$W/." "$logdir/"; }
vq_on_exit dpdk_cleanup

NS_A=vnetd-a-$$ NS_B=vnetd-b-$$
TAP_A=vnetda$$ TAP_B=vnetdb$$
TAP_A=${TAP_A:0:15} TAP_B=${TAP_B:0:15}
# Inside the namespaces nothing else exists: any /24 is private to them.
IP_A=10.231.77.1 IP_B=10.231.77.2

# ---- back-end: two vhost-user server ports, io forwarding between them
# start_backend NAME: testpmd (its pid in BE; NAME names its --file-prefix).
start_backend() {
	local b_opts=$vdev_opts
	rm -f "$W/a.sock"
	# vnetd B's own listening socket (--b-server) stays across restarts.
	if [ "$b_server" = yes ]; then b_opts="$b_opts,client=1"; else rm -f "$W/b.sock"; fi
	dpdk_start "$1" "$W/$1.log" 0 -- \
		--vdev "net_vhost0,iface=$W/a.sock,$vdev_opts" --vdev "net_vhost1,iface=$W/b.sock,$b_opts" -- \
		--forward-mode=io --nb-cores=1 --stats-period=1 --total-num-mbufs=32768
	BE=${!1}
	dpdk_wait_socket "$W/a.sock" "$BE" 30 || fail "testpmd did not create $W/a.sock"
	[ "$b_server" = yes ] || dpdk_wait_socket "$W/b.sock" "$BE" 30 || fail "testpmd did not create $W/b.sock"
}
vdev_opts=queues=1
# tso=1: the vhost PMD offers HOST_TSO4/6 (it withholds them otherwise);
# legacy-ol-flags=1: what a guest leaves to the device (partial checksum,
# segmentation) arrives as TX offload requests, which io forwarding hands
# unchanged to the other port, which writes them into the next header.
[ "$variant" = offload ] && vdev_opts="$vdev_opts,tso=1,legacy-ol-flags=1"
start_backend vnetd_be

# ---- namespaces (IPv6 off from the start: no stray solicitations)
for ns in "$NS_A" "$NS_B"; do
	ip netns add "$ns" || fail "ip netns add $ns"
	vq_on_exit ip netns del "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
	ip -n "$ns" link set lo up
done

# start_vnetd NAME TAP SOCK MODE NS IP: vnetd in the background (not under
# timeout(1), which would take the signals meant for vnetd; the exit trap
# ends it, and ctest's timeout bounds the test), then its TAP moved into
# namespace NS with address IP.
start_vnetd() {
	local name=$1 tap=$2 sock=$3 mode=$4 ns=$5 ip=$6 pid server=()
	[ "$name" = b ] && [ "$b_server" = yes ] && server=(--server)
	"$vnetd" --vhost-user "$sock" "${server[@]}" --tap "$tap" "--$mode" --ring "$ring" \
		${queue_size:+--queue-size "$queue_size"} \
		--offloads "$([ "$variant" = offload ] && echo on || echo off)" \
		>"$W/$name.out" 2>"$W/$name.err" &
	pid=$!
	vq_track "$pid"
	printf -v "PID_$name" '%s' "$pid"
	vq_wait_file_re "$W/$name.out" "^vnetd\[$tap\]: up:" 30 "$pid" || fail "vnetd $name did not come up"
	ip link set "$tap" netns "$ns" || fail "could not move $tap into $ns"
	ip -n "$ns" addr add "$ip/24" dev "$tap" || fail "could not address $tap"
	ip -n "$ns" link set "$tap" up || fail "could not bring $tap up"
	echo "$VQ_NAME: vnetd $name: $(grep -a '^vnetd.*up:' "$W/$name.out")"
}
start_vnetd a "$TAP_A" "$W/a.sock" "$mode_a" "$NS_A" "$IP_A"
start_vnetd b "$TAP_B" "$W/b.sock" "$mode_b" "$NS_B" "$IP_B"
dpdk_wait_started "$W/vnetd_be.log" "$BE" 30 || fail "testpmd did not start forwarding"

# ---- offloads visible to the kernel
if [ "$variant" = offload ]; then
	for side in a b; do
		ns=$NS_A tap=$TAP_A
		[ $side = b ] && ns=$NS_B tap=$TAP_B
		ip netns exec "$ns" ethtool -k "$tap" >"$W/ethtool-$side.txt" 2>&1 || fail "ethtool -k $tap"
		grep -q '^tx-checksumming: on' "$W/ethtool-$side.txt" ||
			fail "$tap: ethtool shows no checksum offload: $(grep -a checksumming "$W/ethtool-$side.txt")"
		# testpmd with tso=1 offers HOST_TSO4/6: vnetd must have turned TSO on.
		grep -q '^tcp-segmentation-offload: on' "$W/ethtool-$side.txt" ||
			fail "$tap: ethtool shows no TSO: $(grep -a segmentation "$W/ethtool-$side.txt" | tr '\n' ' ')"
		echo "$VQ_NAME: $tap: $(grep -aE '^(tx-checksumming|tcp-segmentation-offload):' "$W/ethtool-$side.txt" | tr '\n' ' ')"
	done
fi

# ---- ping both ways (-w: stop after -c replies, fail at the deadline)
pings() {
	ip netns exec "$NS_A" ping -n -c 3 -i 0.2 -w 20 "$IP_B" >"$W/ping-ab.txt" 2>&1 || fail "ping A -> B: $(tail -2 "$W/ping-ab.txt")"
	ip netns exec "$NS_B" ping -n -c 3 -i 0.2 -w 20 "$IP_A" >"$W/ping-ba.txt" 2>&1 || fail "ping B -> A: $(tail -2 "$W/ping-ba.txt")"
	echo "$VQ_NAME: ping A->B: $(grep -a 'packets transmitted' "$W/ping-ab.txt")"
	echo "$VQ_NAME: ping B->A: $(grep -a 'packets transmitted' "$W/ping-ba.txt")"
}
pings

# stats_now SIDE TAG: SIGUSR1, and the new stats line saved as $W/SIDE.TAG.
stats_now() {
	local side=$1 tag=$2 pid_var=PID_$1 n i
	n=$(grep -ac ': stats ' "$W/$side.out")
	kill -USR1 "${!pid_var}"
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -ac ': stats ' "$W/$side.out")" -gt "$n" ] && break
		sleep 0.1
	done
	grep -a ': stats ' "$W/$side.out" | tail -1 >"$W/$side.$tag"
	if [ ! -s "$W/$side.$tag" ] || [ "$(grep -ac ': stats ' "$W/$side.out")" -le "$n" ]; then
		fail "no stats line from vnetd $side after SIGUSR1"
	fi
}

# ---- TCP bulk, each way, every byte checked
# bulk FROM_NS TO_NS TO_IP TAG
bulk() {
	local from=$1 to=$2 dst=$3 tag=$4 port=5201 rpid rc
	: >"$W/ready-$tag"
	ip netns exec "$to" timeout 120 python3 "$HERE/tcp_bulk.py" recv --bind "$dst" --port $port \
		--bytes "$bytes" --ready "$W/ready-$tag" --timeout 60 >"$W/recv-$tag.txt" 2>&1 &
	rpid=$!
	vq_wait_file_re "$W/ready-$tag" listening 20 "$rpid" || fail "receiver $tag did not start: $(cat "$W/recv-$tag.txt")"
	ip netns exec "$from" timeout 120 python3 "$HERE/tcp_bulk.py" send --dst "$dst" --port $port \
		--bytes "$bytes" --timeout 60 >"$W/send-$tag.txt" 2>&1
	rc=$?
	wait "$rpid" || fail "TCP $tag: receiver: $(cat "$W/recv-$tag.txt") (sender rc $rc: $(cat "$W/send-$tag.txt"))"
	[ $rc -eq 0 ] || fail "TCP $tag: sender failed: $(cat "$W/send-$tag.txt")"
	echo "$VQ_NAME: TCP $tag: $(cat "$W/recv-$tag.txt")"
}
bulk "$NS_A" "$NS_B" "$IP_B" a-to-b
if [ "$kill_backend" = yes ]; then
	# No goodbye: the sockets just go dead under both vnetd.
	kill -KILL "$BE"
	wait "$BE" 2>/dev/null
	for side in a b; do
		pid_var=PID_$side
		vq_wait_file_re "$W/$side.err" "back-end lost" 20 "${!pid_var}" || fail "vnetd $side did not report the loss"
	done
	sleep 1
	for side in a b; do
		pid_var=PID_$side
		kill -0 "${!pid_var}" 2>/dev/null || fail "vnetd $side exited when the back-end went away"
	done
	start_backend vnetd_be2
	for side in a b; do
		pid_var=PID_$side
		vq_wait_file_re "$W/$side.err" "back-end connected again" 30 "${!pid_var}" ||
			fail "vnetd $side did not reconnect"
		echo "$VQ_NAME: vnetd $side: $(grep -a 'back-end lost' "$W/$side.err" | head -1)"
		echo "$VQ_NAME: vnetd $side: $(grep -a 'connected again' "$W/$side.err" | head -1)"
	done
	dpdk_wait_started "$W/vnetd_be2.log" "$BE" 30 || fail "the second testpmd did not start forwarding"
	pings
fi
bulk "$NS_B" "$NS_A" "$IP_A" b-to-a

# Offloads: the same over IPv6 (TSO6), A -> B.  IPv6 is turned on for the
# TAPs only, with addresses that skip duplicate address detection; the
# stats lines around the transfer show super-frames sent during it.
if [ "$variant" = offload ]; then
	ip netns exec "$NS_A" sysctl -qw "net.ipv6.conf.$TAP_A.disable_ipv6=0"
	ip netns exec "$NS_B" sysctl -qw "net.ipv6.conf.$TAP_B.disable_ipv6=0"
	ip -n "$NS_A" addr add fd00:231:77::1/64 dev "$TAP_A" nodad || fail "IPv6 address on $TAP_A"
	ip -n "$NS_B" addr add fd00:231:77::2/64 dev "$TAP_B" nodad || fail "IPv6 address on $TAP_B"
	ip netns exec "$NS_A" ping -6 -n -c 3 -i 0.2 -w 20 fd00:231:77::2 >"$W/ping6.txt" 2>&1 ||
		fail "ping6 A -> B: $(tail -2 "$W/ping6.txt")"
	stats_now a before6
	stats_now b before6
	bulk "$NS_A" "$NS_B" fd00:231:77::2 a-to-b-ipv6
	stats_now a after6
	stats_now b after6
	gso_delta() { # SIDE KEY: KEY after6 - before6
		python3 - "$W/$1.before6" "$W/$1.after6" "$2" <<'EOF2'
import re, sys
def val(f, k):
    return int(dict(re.findall(r"(\w+)=(\d+)", open(f).read()))[k])
print(val(sys.argv[2], sys.argv[3]) - val(sys.argv[1], sys.argv[3]))
EOF2
	}
	sent=$(gso_delta a port_out_gso) got=$(gso_delta b tap_out_gso)
	if [ "$sent" -le 0 ] || [ "$got" -le 0 ]; then
		fail "IPv6: no TSO super-frames (A sent $sent, B received $got)"
	fi
	echo "$VQ_NAME: IPv6 TSO: A sent $sent super-frames, B received $got"
fi

# The kernels on both sides saw no bad checksum or IP header (a fresh
# namespace's counters start at 0); retransmissions are reported only.
for ns in "$NS_A" "$NS_B"; do
	ip netns exec "$ns" nstat -az TcpInCsumErrors IpInHdrErrors TcpRetransSegs >"$W/nstat-${ns%-*}.txt" 2>&1 ||
		fail "nstat in $ns: $(cat "$W/nstat-${ns%-*}.txt")"
	bad=$(awk '$1 == "TcpInCsumErrors" || $1 == "IpInHdrErrors" { s += $2 } END { print s + 0 }' "$W/nstat-${ns%-*}.txt")
	[ "$bad" -eq 0 ] || fail "$ns: checksum or header errors: $(tr '\n' ' ' <"$W/nstat-${ns%-*}.txt")"
	echo "$VQ_NAME: $ns: $(awk '$1 ~ /^(Tcp|Ip)/ { printf "%s=%s ", $1, $2 }' "$W/nstat-${ns%-*}.txt")"
done

# Frames the port cannot carry are counted, not lost silently: with the
# TAP's MTU raised past what one buffer holds (offloads off: 1984 bytes),
# two 3000-byte pings are two 3042-byte frames vnetd A must count as
# drop_to_port_too_long (checked at exit).
too_long=0
if [ "$variant" = plain ] && [ "$kill_backend" = no ]; then
	ip -n "$NS_A" link set "$TAP_A" mtu 4000 || fail "could not raise the MTU of $TAP_A"
	ip netns exec "$NS_A" ping -n -c 2 -i 0.2 -W 1 -s 3000 -M "do" "$IP_B" >"$W/ping-big.txt" 2>&1 &&
		fail "a 3042-byte frame crossed a port that cannot carry it: $(tail -2 "$W/ping-big.txt")"
	ip -n "$NS_A" link set "$TAP_A" mtu 1500
	too_long=2
fi

# SIGUSR1: a stats line, and vnetd keeps running.
stats_now a usr1
# shellcheck disable=SC2154  # PID_a is set by start_vnetd (printf -v)
kill -0 "$PID_a" || fail "vnetd a died on SIGUSR1"

# ---- SIGTERM: clean exit, no buffer missing, counters that add up
for side in a b; do
	pid_var=PID_$side
	kill -TERM "${!pid_var}"
done
for side in a b; do
	pid_var=PID_$side
	wait "${!pid_var}"
	rc=$?
	[ $rc -eq 0 ] || fail "vnetd $side exited with $rc after SIGTERM"
done

# check SIDE 'python expression over s (the exit counters)' MESSAGE
check() {
	python3 - "$W/$1.out" "$2" <<'EOF' || fail "vnetd $1: $3: $(grep -a ': exit ' "$W/$1.out")"
import re, sys
line = [l for l in open(sys.argv[1]) if ": exit " in l]
if not line:
    sys.exit("no exit line")
s = {k: int(v) for k, v in re.findall(r"(\w+)=(-?\d+)", line[-1])}
sys.exit(0 if eval(sys.argv[2], {}, {"s": s}) else 1)
EOF
}
for side in a b; do
	check $side "s['leaked'] == 0 and s['buffers_back'] == s['buffers_total']" "buffers missing"
	check $side "s['tap_in_frames'] == s['port_out_frames'] + sum(v for k, v in s.items() if k.startswith('drop_to_port_'))" \
		"frames read from the TAP do not add up"
	check $side "s['port_in_frames'] == s['tap_out_frames'] + sum(v for k, v in s.items() if k.startswith('drop_to_tap_'))" \
		"frames from the port do not add up"
	# Drops that would mean vnetd mishandled a frame (not the ones a
	# busy back-end or a TAP not yet up explains).
	want_long=0
	[ $side = a ] && want_long=$too_long
	check $side "s['drop_to_port_too_long'] == $want_long" "frames too long for the port not counted as such"
	check $side "s['drop_to_port_bad_header'] + s['drop_to_port_refused'] + s['drop_to_tap_rejected'] + s['drop_to_tap_error'] + s['drop_to_tap_segments'] + s['core_rx_drops'] + s['core_tx_errors'] == 0" \
		"frames mishandled"
	check $side "s['port_out_bytes'] >= $bytes and s['tap_out_bytes'] >= $bytes" "the bulk transfers did not pass through"
	# Interrupt mode really slept, and was woken by both sides: the
	# port's call eventfd (a frame from the back-end) and the TAP fd (a
	# frame to send), polled together in vnet_port_service_fds().
	mode_var=mode_$side
	if [ "${!mode_var}" = irq ]; then
		check $side "s['intr_sleeps'] > 0 and s['intr_wakeups'] > 0 and s['tap_wakeups'] > 0" \
			"interrupt mode was not woken by both the back-end and the TAP"
	else
		check $side "s['intr_sleeps'] == 0 and s['tap_wakeups'] == 0" "poll mode slept"
	fi
	if [ "$kill_backend" = yes ]; then
		check $side "s['disconnects'] == 1 and s['backend_losses'] == 1 and s['backend_returns'] == 1 and s['connects'] == 2" \
			"not exactly one loss and one reconnect"
	else
		check $side "s['disconnects'] == 0" "the back-end was lost during the test"
	fi
	if [ "$variant" = plain ]; then
		check $side "s['port_out_csum'] + s['port_out_gso'] + s['tap_out_csum'] + s['tap_out_gso'] == 0" \
			"offloaded frames with --offloads off"
	else
		check $side "s['port_out_csum'] > 0 and s['tap_out_csum'] + s['tap_out_csum_valid'] > 0" \
			"no checksum-offloaded frames in both directions"
		# Super-frames both ways: the kernel handed vnetd TSO frames to send,
		# and the other side's arrived coalesced (testpmd passes the GSO
		# request through), carrying most of the bytes.
		check $side "s['port_out_gso'] > 0 and s['tap_out_gso'] > 0" "no TSO super-frames both ways"
		check $side "s['port_out_gso_bytes'] * 2 > $bytes and s['tap_out_gso_bytes'] * 2 > $bytes" \
			"super-frames carried less than half of the transfer"
		# Super-frames (chains of up to 34 buffers) go through indirect
		# tables on both layouts: against DPDK's vhost on a packed ring,
		# whose used descriptors keep VIRTQ_DESC_F_INDIRECT (docs/vnetd.md).
		check $side "s['core_tx_indirect'] > 0" "no frame sent through an indirect table"
		want_ring=packed
		[ "$ring" = split ] && want_ring=split
		grep -aq "^vnetd\[.*\]: up: .* $want_ring ring of" "$W/$side.out" ||
			fail "vnetd $side: not on a $want_ring ring: $(grep -a 'up:' "$W/$side.out")"
	fi
	echo "$VQ_NAME: vnetd $side: $(grep -a ': exit ' "$W/$side.out")"
done
echo "$VQ_NAME: PASS"
