# shellcheck shell=bash disable=SC2034,SC2154  # NS_*, TAP_*, IP_*, BE are read by the callers; offloads, vnetd... are set by them
# tests/integration/vnetd/vnetd_lib.sh: the set-up every two-namespace
# vnetd script shares (vnetd_bridge_test.sh, vnetd_iperf3_test.sh,
# bench/vnetd-iperf.sh).  Source it after tests/lib/qemu.sh and
# tests/lib/dpdk.sh, and after vq_init.
#
#   ns A: TAP --- vnetd A --vhost-user--+
#                                       testpmd (net_vhost0 <-io-> net_vhost1)
#   ns B: TAP --- vnetd B --vhost-user--+
#
# The caller sets, before vb_init:
#   vnetd      the vnetd binary
#   offloads   on|off  (on: testpmd's vhost ports with tso=1,legacy-ol-flags=1,
#              vnetd --offloads on)
#   ring       auto|split|packed            (default auto)
#   queue_size vnetd --queue-size, '' for its default
#   mode_a, mode_b  irq|poll                (default irq)
#   b_server   yes: vnetd B listens (--server) and testpmd's second port
#              connects to it (client=1)    (default no)
#   logdir     '' or a directory the work files are copied to at exit
#   VB_PREFIX  names of the namespaces and TAPs (default vnetd)
# Every function that fails calls vb_fail (the message, the tails of the
# logs, exit 1).

# vb_fail MESSAGE: FAIL line, the tail of every log, exit 1.
vb_fail() {
	echo "$VQ_NAME: FAIL: $*"
	local f
	for f in "${W:-/nonexistent}"/*.out "${W:-/nonexistent}"/*.err "${W:-/nonexistent}"/vnetd_be*.log; do
		[ -s "$f" ] || continue
		echo "---- $f (tail)"
		sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$f" | grep -av '^\s*$' | tail -12
	done
	exit 1
}

# vb_need: skip (77, naming the Debian package) unless everything the
# set-up uses is here; FAIL if vnetd is not built.
vb_need() {
	vq_need_tap
	vq_need python3 python3
	vq_need nstat iproute2
	vq_need ping iputils-ping
	vq_need sysctl procps
	dpdk_require_testpmd >/dev/null 2>&1 || vq_skip "dpdk-testpmd not found (Debian package dpdk-dev)"
	[ "$offloads" = on ] && vq_need ethtool ethtool
	[ -n "$vnetd" ] || vq_die "--vnetd BIN required"
	[ -x "$vnetd" ] || vb_fail "vnetd not built at $vnetd"
}

# vb_init: the work directory W, the exit hooks, the names.
vb_init() {
	: "${ring:=auto}" "${mode_a:=irq}" "${mode_b:=irq}" "${b_server:=no}" "${queue_size:=}" "${logdir:=}"
	case $offloads in on | off) ;; *) vq_die "offloads on|off (got '$offloads')" ;; esac
	vq_tmpdir_var W
	[ -n "$logdir" ] && { mkdir -p "$logdir"; vq_on_exit cp -r "$W/." "$logdir/"; }
	vq_on_exit dpdk_cleanup
	local p=${VB_PREFIX:-vnetd}
	NS_A=$p-a-$$ NS_B=$p-b-$$
	TAP_A=${p}a$$ TAP_B=${p}b$$
	TAP_A=${TAP_A:0:15} TAP_B=${TAP_B:0:15}
	# Inside the namespaces nothing else exists: any /24 is private to them.
	IP_A=10.231.77.1 IP_B=10.231.77.2
	VB_VDEV=queues=1
	# tso=1: the vhost PMD offers HOST_TSO4/6 (it withholds them otherwise);
	# legacy-ol-flags=1: what a guest leaves to the device (partial checksum,
	# segmentation) arrives as TX offload requests, which io forwarding hands
	# unchanged to the other port, which writes them into the next header.
	[ "$offloads" = on ] && VB_VDEV="$VB_VDEV,tso=1,legacy-ol-flags=1"
}

# vb_start_backend NAME: testpmd with two vhost-user ports, io forwarding
# between them (its pid in BE; NAME names its --file-prefix and log).
vb_start_backend() {
	local b_opts=$VB_VDEV
	rm -f "$W/a.sock"
	# vnetd B's own listening socket (b_server) stays across restarts.
	if [ "$b_server" = yes ]; then b_opts="$b_opts,client=1"; else rm -f "$W/b.sock"; fi
	dpdk_start "$1" "$W/$1.log" 0 -- \
		--vdev "net_vhost0,iface=$W/a.sock,$VB_VDEV" --vdev "net_vhost1,iface=$W/b.sock,$b_opts" -- \
		--forward-mode=io --nb-cores=1 --stats-period=1 --total-num-mbufs=32768
	BE=${!1}
	dpdk_wait_socket "$W/a.sock" "$BE" 30 || vb_fail "testpmd did not create $W/a.sock"
	[ "$b_server" = yes ] || dpdk_wait_socket "$W/b.sock" "$BE" 30 || vb_fail "testpmd did not create $W/b.sock"
}

# vb_netns: both namespaces (IPv6 off from the start: no stray solicitations).
vb_netns() {
	local ns
	for ns in "$NS_A" "$NS_B"; do
		ip netns add "$ns" || vb_fail "ip netns add $ns"
		vq_on_exit ip netns del "$ns"
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
		ip -n "$ns" link set lo up
	done
}

# vb_start_vnetd NAME TAP SOCK MODE NS IP: vnetd in the background (not
# under timeout(1), which would take the signals meant for vnetd; the exit
# trap ends it, and ctest's timeout bounds the test; its pid in PID_NAME),
# then its TAP moved into namespace NS with address IP.
vb_start_vnetd() {
	local name=$1 tap=$2 sock=$3 mode=$4 ns=$5 ip=$6 pid server=()
	[ "$name" = b ] && [ "$b_server" = yes ] && server=(--server)
	"$vnetd" --vhost-user "$sock" "${server[@]}" --tap "$tap" "--$mode" --ring "$ring" \
		${queue_size:+--queue-size "$queue_size"} --offloads "$offloads" \
		>"$W/$name.out" 2>"$W/$name.err" &
	pid=$!
	vq_track "$pid"
	printf -v "PID_$name" '%s' "$pid"
	vq_wait_file_re "$W/$name.out" "^vnetd\[$tap\]: up:" 30 "$pid" || vb_fail "vnetd $name did not come up"
	ip link set "$tap" netns "$ns" || vb_fail "could not move $tap into $ns"
	ip -n "$ns" addr add "$ip/24" dev "$tap" || vb_fail "could not address $tap"
	ip -n "$ns" link set "$tap" up || vb_fail "could not bring $tap up"
	echo "$VQ_NAME: vnetd $name: $(grep -a '^vnetd.*up:' "$W/$name.out")"
}

# vb_up: the whole bridge: testpmd (vnetd_be), the namespaces, both vnetd,
# forwarding started.
vb_up() {
	vb_start_backend vnetd_be
	vb_netns
	vb_start_vnetd a "$TAP_A" "$W/a.sock" "$mode_a" "$NS_A" "$IP_A"
	vb_start_vnetd b "$TAP_B" "$W/b.sock" "$mode_b" "$NS_B" "$IP_B"
	dpdk_wait_started "$W/vnetd_be.log" "$BE" 30 || vb_fail "testpmd did not start forwarding"
}

# vb_check_ethtool: with offloads on, `ethtool -k` shows checksum offload
# and TSO on both TAPs (testpmd with tso=1 offers HOST_TSO4/6: vnetd must
# have turned TSO on).
vb_check_ethtool() {
	local side ns tap
	for side in a b; do
		ns=$NS_A tap=$TAP_A
		[ $side = b ] && ns=$NS_B tap=$TAP_B
		ip netns exec "$ns" ethtool -k "$tap" >"$W/ethtool-$side.txt" 2>&1 || vb_fail "ethtool -k $tap"
		grep -q '^tx-checksumming: on' "$W/ethtool-$side.txt" ||
			vb_fail "$tap: ethtool shows no checksum offload: $(grep -a checksumming "$W/ethtool-$side.txt")"
		grep -q '^tcp-segmentation-offload: on' "$W/ethtool-$side.txt" ||
			vb_fail "$tap: ethtool shows no TSO: $(grep -a segmentation "$W/ethtool-$side.txt" | tr '\n' ' ')"
		echo "$VQ_NAME: $tap: $(grep -aE '^(tx-checksumming|tcp-segmentation-offload):' "$W/ethtool-$side.txt" | tr '\n' ' ')"
	done
}

# vb_pings: 3 pings each way (-w: stop after -c replies, fail at the deadline).
vb_pings() {
	ip netns exec "$NS_A" ping -n -c 3 -i 0.2 -w 20 "$IP_B" >"$W/ping-ab.txt" 2>&1 || vb_fail "ping A -> B: $(tail -2 "$W/ping-ab.txt")"
	ip netns exec "$NS_B" ping -n -c 3 -i 0.2 -w 20 "$IP_A" >"$W/ping-ba.txt" 2>&1 || vb_fail "ping B -> A: $(tail -2 "$W/ping-ba.txt")"
	echo "$VQ_NAME: ping A->B: $(grep -a 'packets transmitted' "$W/ping-ab.txt")"
	echo "$VQ_NAME: ping B->A: $(grep -a 'packets transmitted' "$W/ping-ba.txt")"
}

# vb_stats_now SIDE TAG: SIGUSR1, and the new stats line saved as $W/SIDE.TAG.
vb_stats_now() {
	local side=$1 tag=$2 pid_var=PID_$1 n i
	n=$(grep -ac ': stats ' "$W/$side.out")
	kill -USR1 "${!pid_var}"
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -ac ': stats ' "$W/$side.out")" -gt "$n" ] && break
		sleep 0.1
	done
	grep -a ': stats ' "$W/$side.out" | tail -1 >"$W/$side.$tag"
	if [ ! -s "$W/$side.$tag" ] || [ "$(grep -ac ': stats ' "$W/$side.out")" -le "$n" ]; then
		vb_fail "no stats line from vnetd $side after SIGUSR1"
	fi
}

# vb_stat_delta SIDE TAG1 TAG2 KEY: KEY in stats line TAG2 minus TAG1.
vb_stat_delta() {
	python3 - "$W/$1.$2" "$W/$1.$3" "$4" <<'EOF'
import re, sys
def val(f, k):
    return int(dict(re.findall(r"(\w+)=(\d+)", open(f).read()))[k])
print(val(sys.argv[2], sys.argv[3]) - val(sys.argv[1], sys.argv[3]))
EOF
}

# vb_nstat_clean: the kernels on both sides saw no bad checksum or IP
# header (a fresh namespace's counters start at 0); retransmissions are
# reported only.
vb_nstat_clean() {
	local ns bad
	for ns in "$NS_A" "$NS_B"; do
		ip netns exec "$ns" nstat -az TcpInCsumErrors IpInHdrErrors TcpRetransSegs >"$W/nstat-${ns%-*}.txt" 2>&1 ||
			vb_fail "nstat in $ns: $(cat "$W/nstat-${ns%-*}.txt")"
		bad=$(awk '$1 == "TcpInCsumErrors" || $1 == "IpInHdrErrors" { s += $2 } END { print s + 0 }' "$W/nstat-${ns%-*}.txt")
		[ "$bad" -eq 0 ] || vb_fail "$ns: checksum or header errors: $(tr '\n' ' ' <"$W/nstat-${ns%-*}.txt")"
		echo "$VQ_NAME: $ns: $(awk '$1 ~ /^(Tcp|Ip)/ { printf "%s=%s ", $1, $2 }' "$W/nstat-${ns%-*}.txt")"
	done
}

# vb_stop: SIGTERM to both vnetd; each must exit 0.
vb_stop() {
	local side pid_var rc
	for side in a b; do
		pid_var=PID_$side
		kill -TERM "${!pid_var}"
	done
	for side in a b; do
		pid_var=PID_$side
		wait "${!pid_var}"
		rc=$?
		[ $rc -eq 0 ] || vb_fail "vnetd $side exited with $rc after SIGTERM"
	done
}

# vb_check SIDE 'python expression over s (the exit counters)' MESSAGE
vb_check() {
	python3 - "$W/$1.out" "$2" <<'EOF' || vb_fail "vnetd $1: $3: $(grep -a ': exit ' "$W/$1.out")"
import re, sys
line = [l for l in open(sys.argv[1]) if ": exit " in l]
if not line:
    sys.exit("no exit line")
s = {k: int(v) for k, v in re.findall(r"(\w+)=(-?\d+)", line[-1])}
sys.exit(0 if eval(sys.argv[2], {}, {"s": s}) else 1)
EOF
}

# vb_check_exit SIDE: what every clean run shows at exit: no buffer
# missing, counters that add up, no frame mishandled (not the drops a busy
# back-end or a TAP not yet up explains).
vb_check_exit() {
	local side=$1
	vb_check "$side" "s['leaked'] == 0 and s['buffers_back'] == s['buffers_total']" "buffers missing"
	vb_check "$side" "s['tap_in_frames'] == s['port_out_frames'] + sum(v for k, v in s.items() if k.startswith('drop_to_port_'))" \
		"frames read from the TAP do not add up"
	vb_check "$side" "s['port_in_frames'] == s['tap_out_frames'] + sum(v for k, v in s.items() if k.startswith('drop_to_tap_'))" \
		"frames from the port do not add up"
	vb_check "$side" "s['drop_to_port_bad_header'] + s['drop_to_port_refused'] + s['drop_to_tap_rejected'] + s['drop_to_tap_error'] + s['drop_to_tap_segments'] + s['core_rx_drops'] + s['core_tx_errors'] == 0" \
		"frames mishandled"
}

# vb_iperf3 TAG SECONDS [CLIENT-OPTION...]: an iperf3 server in namespace
# B (one test, -1), the client in A for SECONDS (-t), both with JSON
# output ($W/iperf-TAG.{client,server}.json); the client options choose
# the direction (none: A -> B, -R: B -> A, --bidir: both at once).  Fails
# unless both ends exit 0 with no "error" in their JSON and every
# direction that ran carried bytes.  Sets VB_IPERF to
# "AB_BYTES BA_BYTES AB_GBITS BA_GBITS" (receiver's figures; 0 for a
# direction that did not run).
vb_iperf3() {
	local tag=$1 secs=$2 port=5201 spid crc i
	shift 2
	ip netns exec "$NS_B" timeout $((secs + 60)) iperf3 -s -1 -B "$IP_B" -p $port -J \
		>"$W/iperf-$tag.server.json" 2>"$W/iperf-$tag.server.err" &
	spid=$!
	for ((i = 0; i < 100; i++)); do
		ip netns exec "$NS_B" ss -Htln "sport = :$port" 2>/dev/null | grep -q . && break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.1
	done
	ip netns exec "$NS_B" ss -Htln "sport = :$port" 2>/dev/null | grep -q . ||
		vb_fail "iperf3 server $tag did not listen: $(cat "$W/iperf-$tag.server.err" "$W/iperf-$tag.server.json")"
	ip netns exec "$NS_A" timeout $((secs + 50)) iperf3 -c "$IP_B" -p $port -t "$secs" -J "$@" \
		>"$W/iperf-$tag.client.json" 2>"$W/iperf-$tag.client.err"
	crc=$?
	wait "$spid" || vb_fail "iperf3 $tag: the server exited with $?: $(head -c 600 "$W/iperf-$tag.server.json")"
	[ $crc -eq 0 ] || vb_fail "iperf3 $tag: the client exited with $crc: $(head -c 600 "$W/iperf-$tag.client.json") $(cat "$W/iperf-$tag.client.err")"
	VB_IPERF=$( (python3 - "$W/iperf-$tag.client.json" "$W/iperf-$tag.server.json" "$*" <<'EOF2'
import json, sys
c, s = (json.load(open(f)) for f in sys.argv[1:3])
for name, d in (("client", c), ("server", s)):
    if "error" in d:
        sys.exit(f"iperf3 {name}: {d['error']}")
e = c["end"]
opts = sys.argv[3].split()
fwd = e.get("sum_received", {})          # what the server received from the client
rev = e.get("sum_received_bidir_reverse", {})
if "-R" in opts:                          # the client received: B -> A
    ab, ba = {}, fwd
elif "--bidir" in opts:
    ab, ba = fwd, rev
else:
    ab, ba = fwd, {}
for name, d, want in (("A -> B", ab, "-R" not in opts), ("B -> A", ba, "-R" in opts or "--bidir" in opts)):
    if want and not d.get("bytes", 0) > 0:
        sys.exit(f"iperf3: no bytes {name}: {d}")
g = lambda d: d.get("bits_per_second", 0) / 1e9
print(ab.get("bytes", 0), ba.get("bytes", 0), f"{g(ab):.3f}", f"{g(ba):.3f}")
EOF2
	) 2>&1) || vb_fail "iperf3 $tag: $VB_IPERF"
}
