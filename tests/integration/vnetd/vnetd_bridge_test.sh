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

# shellcheck source=SCRIPTDIR/vnetd_lib.sh
. "$HERE/vnetd_lib.sh"
offloads=$([ "$variant" = offload ] && echo on || echo off)
vb_need
vb_init
vb_up
[ "$variant" = offload ] && vb_check_ethtool

vb_pings

# ---- TCP bulk, each way, every byte checked
# bulk FROM_NS TO_NS TO_IP TAG
bulk() {
	local from=$1 to=$2 dst=$3 tag=$4 port=5201 rpid rc
	: >"$W/ready-$tag"
	ip netns exec "$to" timeout 120 python3 "$HERE/tcp_bulk.py" recv --bind "$dst" --port $port \
		--bytes "$bytes" --ready "$W/ready-$tag" --timeout 60 >"$W/recv-$tag.txt" 2>&1 &
	rpid=$!
	vq_wait_file_re "$W/ready-$tag" listening 20 "$rpid" || vb_fail "receiver $tag did not start: $(cat "$W/recv-$tag.txt")"
	ip netns exec "$from" timeout 120 python3 "$HERE/tcp_bulk.py" send --dst "$dst" --port $port \
		--bytes "$bytes" --timeout 60 >"$W/send-$tag.txt" 2>&1
	rc=$?
	wait "$rpid" || vb_fail "TCP $tag: receiver: $(cat "$W/recv-$tag.txt") (sender rc $rc: $(cat "$W/send-$tag.txt"))"
	[ $rc -eq 0 ] || vb_fail "TCP $tag: sender failed: $(cat "$W/send-$tag.txt")"
	echo "$VQ_NAME: TCP $tag: $(cat "$W/recv-$tag.txt")"
}
bulk "$NS_A" "$NS_B" "$IP_B" a-to-b
if [ "$kill_backend" = yes ]; then
	# No goodbye: the sockets just go dead under both vnetd.
	kill -KILL "$BE"
	wait "$BE" 2>/dev/null
	for side in a b; do
		pid_var=PID_$side
		vq_wait_file_re "$W/$side.err" "back-end lost" 20 "${!pid_var}" || vb_fail "vnetd $side did not report the loss"
	done
	sleep 1
	for side in a b; do
		pid_var=PID_$side
		kill -0 "${!pid_var}" 2>/dev/null || vb_fail "vnetd $side exited when the back-end went away"
	done
	vb_start_backend vnetd_be2
	for side in a b; do
		pid_var=PID_$side
		vq_wait_file_re "$W/$side.err" "back-end connected again" 30 "${!pid_var}" ||
			vb_fail "vnetd $side did not reconnect"
		echo "$VQ_NAME: vnetd $side: $(grep -a 'back-end lost' "$W/$side.err" | head -1)"
		echo "$VQ_NAME: vnetd $side: $(grep -a 'connected again' "$W/$side.err" | head -1)"
	done
	dpdk_wait_started "$W/vnetd_be2.log" "$BE" 30 || vb_fail "the second testpmd did not start forwarding"
	vb_pings
fi
bulk "$NS_B" "$NS_A" "$IP_A" b-to-a

# Offloads: the same over IPv6 (TSO6), A -> B.  IPv6 is turned on for the
# TAPs only, with addresses that skip duplicate address detection; the
# stats lines around the transfer show super-frames sent during it.
if [ "$variant" = offload ]; then
	ip netns exec "$NS_A" sysctl -qw "net.ipv6.conf.$TAP_A.disable_ipv6=0"
	ip netns exec "$NS_B" sysctl -qw "net.ipv6.conf.$TAP_B.disable_ipv6=0"
	ip -n "$NS_A" addr add fd00:231:77::1/64 dev "$TAP_A" nodad || vb_fail "IPv6 address on $TAP_A"
	ip -n "$NS_B" addr add fd00:231:77::2/64 dev "$TAP_B" nodad || vb_fail "IPv6 address on $TAP_B"
	ip netns exec "$NS_A" ping -6 -n -c 3 -i 0.2 -w 20 fd00:231:77::2 >"$W/ping6.txt" 2>&1 ||
		vb_fail "ping6 A -> B: $(tail -2 "$W/ping6.txt")"
	vb_stats_now a before6
	vb_stats_now b before6
	bulk "$NS_A" "$NS_B" fd00:231:77::2 a-to-b-ipv6
	vb_stats_now a after6
	vb_stats_now b after6
	sent=$(vb_stat_delta a before6 after6 port_out_gso) got=$(vb_stat_delta b before6 after6 tap_out_gso)
	if [ "$sent" -le 0 ] || [ "$got" -le 0 ]; then
		vb_fail "IPv6: no TSO super-frames (A sent $sent, B received $got)"
	fi
	echo "$VQ_NAME: IPv6 TSO: A sent $sent super-frames, B received $got"
fi

vb_nstat_clean

# Frames the port cannot carry are counted, not lost silently: with the
# TAP's MTU raised past what one buffer holds (offloads off: 1984 bytes),
# two 3000-byte pings are two 3042-byte frames vnetd A must count as
# drop_to_port_too_long (checked at exit).
too_long=0
if [ "$variant" = plain ] && [ "$kill_backend" = no ]; then
	ip -n "$NS_A" link set "$TAP_A" mtu 4000 || vb_fail "could not raise the MTU of $TAP_A"
	ip netns exec "$NS_A" ping -n -c 2 -i 0.2 -W 1 -s 3000 -M "do" "$IP_B" >"$W/ping-big.txt" 2>&1 &&
		vb_fail "a 3042-byte frame crossed a port that cannot carry it: $(tail -2 "$W/ping-big.txt")"
	ip -n "$NS_A" link set "$TAP_A" mtu 1500
	too_long=2
fi

# SIGUSR1: a stats line, and vnetd keeps running.
vb_stats_now a usr1
# shellcheck disable=SC2154  # PID_a is set by vb_start_vnetd (printf -v)
kill -0 "$PID_a" || vb_fail "vnetd a died on SIGUSR1"

# ---- SIGTERM: clean exit, no buffer missing, counters that add up
vb_stop

for side in a b; do
	vb_check_exit $side
	want_long=0
	[ $side = a ] && want_long=$too_long
	vb_check $side "s['drop_to_port_too_long'] == $want_long" "frames too long for the port not counted as such"
	vb_check $side "s['port_out_bytes'] >= $bytes and s['tap_out_bytes'] >= $bytes" "the bulk transfers did not pass through"
	# Interrupt mode really slept, and was woken by both sides: the
	# port's call eventfd (a frame from the back-end) and the TAP fd (a
	# frame to send), polled together in vnet_port_service_fds().
	mode_var=mode_$side
	if [ "${!mode_var}" = irq ]; then
		vb_check $side "s['intr_sleeps'] > 0 and s['intr_wakeups'] > 0 and s['tap_wakeups'] > 0" \
			"interrupt mode was not woken by both the back-end and the TAP"
	else
		vb_check $side "s['intr_sleeps'] == 0 and s['tap_wakeups'] == 0" "poll mode slept"
	fi
	if [ "$kill_backend" = yes ]; then
		vb_check $side "s['disconnects'] == 1 and s['backend_losses'] == 1 and s['backend_returns'] == 1 and s['connects'] == 2" \
			"not exactly one loss and one reconnect"
	else
		vb_check $side "s['disconnects'] == 0" "the back-end was lost during the test"
	fi
	if [ "$variant" = plain ]; then
		vb_check $side "s['port_out_csum'] + s['port_out_gso'] + s['tap_out_csum'] + s['tap_out_gso'] == 0" \
			"offloaded frames with --offloads off"
	else
		vb_check $side "s['port_out_csum'] > 0 and s['tap_out_csum'] + s['tap_out_csum_valid'] > 0" \
			"no checksum-offloaded frames in both directions"
		# Super-frames both ways: the kernel handed vnetd TSO frames to send,
		# and the other side's arrived coalesced (testpmd passes the GSO
		# request through), carrying most of the bytes.
		vb_check $side "s['port_out_gso'] > 0 and s['tap_out_gso'] > 0" "no TSO super-frames both ways"
		vb_check $side "s['port_out_gso_bytes'] * 2 > $bytes and s['tap_out_gso_bytes'] * 2 > $bytes" \
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
