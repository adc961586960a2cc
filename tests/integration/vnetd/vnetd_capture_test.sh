#!/bin/bash
# vnetd_capture: `vnetctl capture` (docs/management.md) on the two-namespace
# bridge (vnetd_lib.sh): vnetd A with a control socket, then
#   1. refusals: an unknown device (exit 1), nobody in vnetd's read-only
#      group and nobody outside it (setpriv: exit 3, "permission denied",
#      the refusal in vnetd's log) -- a capture is user data;
#   2. `capture vnet0 FILE --count 24` while ten pings A->B pass, each with
#      its own payload pattern (ping -p); tshark -r and tcpdump -r read the
#      file; all ten echo requests (A->B, frames vnetd read from its TAP)
#      and ten replies (B->A, frames from the port) are in it with their
#      own pattern; vnetctl reports 24 captured, 0 dropped;
#   3. `capture vnet0 - --count 4 --snaplen 60 | tcpdump -r -`: stdout
#      works, and a 242-byte frame is cut to 60 with its length kept;
#   3b. without --count, SIGINT ends the capture: vnetctl exits 0 with
#      vnetd's counts, the pings' frames in the file;
#   3c. a reader slower than the traffic (a pipe whose reader sleeps 3 s
#      under a ping flood): vnetctl reports 2000 captured and N > 0
#      dropped, vnetd's log the same, tshark reads the 2000 frames;
#   4. SIGTERM: vnetd exits 0 with every buffer back.
#
#   vnetd_capture_test.sh --vnetd BIN --vnetctl BIN [--logdir DIR]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../lib/qemu.sh
. "$HERE/../../lib/qemu.sh"
# shellcheck source=SCRIPTDIR/../../lib/dpdk.sh
. "$HERE/../../lib/dpdk.sh"

vnetd='' vnetctl='' logdir=''
vq_parse_args "vnetd vnetctl logdir" "$@"
vq_init vnetd_capture
[ -n "$vnetctl" ] || vq_die "--vnetctl BIN required"

# shellcheck source=SCRIPTDIR/vnetd_lib.sh
. "$HERE/vnetd_lib.sh"
offloads=off mode_a=irq mode_b=irq VB_PREFIX=capture
vb_need
vq_need tshark tshark
vq_need tcpdump tcpdump
vq_need setpriv util-linux
[ -x "$vnetctl" ] || vb_fail "vnetctl not built at $vnetctl"
NOBODY=$(id -u nobody) || vq_skip "no user nobody"
NOGROUP=$(id -g nobody)
vb_init
chmod 755 "$W" # nobody must reach the socket: the refusal is vnetd's
CTL=$W/ctl.sock

# vnetd A as vb_start_vnetd starts it, with a control socket.
vb_start_backend vnetd_be
vb_netns
"$vnetd" --vhost-user "$W/a.sock" --tap "$TAP_A" --irq --offloads off --control "$CTL" >"$W/a.out" 2>"$W/a.err" &
PID_a=$!
vq_track "$PID_a"
vq_wait_file_re "$W/a.out" "^vnetd\[$TAP_A\]: up:" 30 "$PID_a" || vb_fail "vnetd a did not come up"
ip link set "$TAP_A" netns "$NS_A" || vb_fail "could not move $TAP_A"
ip -n "$NS_A" addr add "$IP_A/24" dev "$TAP_A" && ip -n "$NS_A" link set "$TAP_A" up || vb_fail "could not set up $TAP_A"
vb_start_vnetd b "$TAP_B" "$W/b.sock" irq "$NS_B" "$IP_B"
dpdk_wait_started "$W/vnetd_be.log" "$BE" 30 || vb_fail "testpmd did not start forwarding"
vb_pings # ARP resolved before the captures

ctl() { "$vnetctl" --socket "$CTL" "$@"; }

# ---- 1. refusals
ctl capture nosuchdev "$W/x.pcap" --count 1 >"$W/nodev.txt" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "no device 'nosuchdev'" "$W/nodev.txt" || vb_fail "unknown device: exit $rc: $(cat "$W/nodev.txt")"
[ -e "$W/x.pcap" ] && vb_fail "unknown device: a file was written"
for who in member outsider; do
	gid=$NOGROUP
	[ $who = member ] && gid=$(id -g) # vnetd's group: read-only commands only
	setpriv --reuid="$NOBODY" --regid="$gid" --clear-groups "$vnetctl" --socket "$CTL" capture vnet0 - --count 1 \
		>"$W/$who.pcap" 2>"$W/$who.txt"
	rc=$?
	[ $rc -eq 3 ] && grep -q "permission denied" "$W/$who.txt" || vb_fail "capture as $who: exit $rc: $(cat "$W/$who.txt")"
	[ -s "$W/$who.pcap" ] && vb_fail "capture as $who: frames written"
	grep -q "refused 'capture' (user data) for uid $NOBODY gid $gid" "$W/a.err" || vb_fail "refusal of $who not logged"
	echo "$VQ_NAME: capture as uid $NOBODY gid $gid ($who): exit 3: $(cat "$W/$who.txt")"
done
ctl capture vnet0 "$W/y.pcap" --count 0 >"$W/count0.txt" 2>&1
[ $? -eq 1 ] || vb_fail "--count 0 accepted: $(cat "$W/count0.txt")"

# ---- 2. a known set of frames
ctl capture vnet0 "$W/cap.pcap" --count 24 >"$W/capture.out" 2>"$W/capture.err" &
CAP=$!
vq_track "$CAP"
vq_wait_file_re "$W/a.err" "capture of vnet0 started" 10 "$PID_a" || vb_fail "the capture did not start"
for i in 0 1 2 3 4 5 6 7 8 9; do
	ip netns exec "$NS_A" ping -n -c 1 -W 5 -s 48 -p "c0ffee0$i" "$IP_B" >>"$W/ping-cap.txt" 2>&1 ||
		vb_fail "ping $i: $(tail -2 "$W/ping-cap.txt")"
done
# Filler until the count is reached (ARP may have taken a few of the 24).
for ((i = 0; i < 40; i++)); do
	kill -0 "$CAP" 2>/dev/null || break
	ip netns exec "$NS_A" ping -n -c 1 -W 1 -s 48 -p "ba" "$IP_B" >/dev/null 2>&1
done
wait "$CAP"
rc=$?
[ $rc -eq 0 ] || vb_fail "vnetctl capture exit $rc: $(cat "$W/capture.err")"
grep -q "^vnetctl: capture: 24 frames captured, 0 dropped by vnetd" "$W/capture.err" ||
	vb_fail "vnetctl's counts: $(cat "$W/capture.err")"
echo "$VQ_NAME: $(cat "$W/capture.err")"
tshark -r "$W/cap.pcap" -T fields -E separator=' ' -e frame.len -e ip.src -e ip.dst -e icmp.type -e data.data \
	>"$W/tshark.txt" 2>"$W/tshark.err" || vb_fail "tshark -r: $(cat "$W/tshark.err")"
[ "$(wc -l <"$W/tshark.txt")" -eq 24 ] || vb_fail "tshark reads $(wc -l <"$W/tshark.txt") frames, not 24"
tcpdump -nn -r "$W/cap.pcap" >"$W/tcpdump.txt" 2>"$W/tcpdump.err" || vb_fail "tcpdump -r: $(cat "$W/tcpdump.err")"
[ "$(wc -l <"$W/tcpdump.txt")" -eq 24 ] || vb_fail "tcpdump reads $(wc -l <"$W/tcpdump.txt") frames, not 24"
grep -q "IP $IP_A > $IP_B: ICMP echo request" "$W/tcpdump.txt" && grep -q "IP $IP_B > $IP_A: ICMP echo reply" "$W/tcpdump.txt" ||
	vb_fail "tcpdump shows no echo request/reply: $(head -3 "$W/tcpdump.txt")"
for i in 0 1 2 3 4 5 6 7 8 9; do
	# 48 bytes of ICMP data: 16 of ping's timestamp, then the pattern repeated.
	pat="c0ffee0${i}c0ffee0${i}c0ffee0${i}c0ffee0${i}"
	grep -Eq "^90 $IP_A $IP_B 8 [0-9a-f]*$pat" "$W/tshark.txt" || vb_fail "echo request $i (A->B, $pat) not in the capture"
	grep -Eq "^90 $IP_B $IP_A 0 [0-9a-f]*$pat" "$W/tshark.txt" || vb_fail "echo reply $i (B->A, $pat) not in the capture"
done
echo "$VQ_NAME: tshark and tcpdump read 24 frames; the 10 echo requests A->B and 10 replies B->A carry their own patterns"

# ---- 3. stdout into tcpdump, snap length 60
( ctl capture vnet0 - --count 4 --snaplen 60 2>"$W/pipe.err" | tcpdump -nn -r - -v >"$W/pipe.txt" 2>"$W/pipe-td.err"
  echo "${PIPESTATUS[0]} ${PIPESTATUS[1]}" >"$W/pipe.rc" ) &
PIPE=$!
vq_track "$PIPE"
for ((i = 0; i < 40; i++)); do
	kill -0 "$PIPE" 2>/dev/null || break
	ip netns exec "$NS_A" ping -n -c 1 -W 1 -s 200 "$IP_B" >/dev/null 2>&1
done
wait "$PIPE"
[ "$(cat "$W/pipe.rc")" = "0 0" ] || vb_fail "capture | tcpdump: exits $(cat "$W/pipe.rc"): $(cat "$W/pipe.err" "$W/pipe-td.err")"
[ "$(grep -c 'ICMP echo' "$W/pipe.txt")" -ge 1 ] || vb_fail "tcpdump from the pipe: $(cat "$W/pipe.txt")"
ctl capture vnet0 "$W/snap.pcap" --count 2 --snaplen 60 2>"$W/snap.err" &
SNAP=$!
vq_track "$SNAP"
for ((i = 0; i < 40; i++)); do
	kill -0 "$SNAP" 2>/dev/null || break
	ip netns exec "$NS_A" ping -n -c 1 -W 1 -s 200 "$IP_B" >/dev/null 2>&1
done
wait "$SNAP" || vb_fail "capture --snaplen 60: $(cat "$W/snap.err")"
tshark -r "$W/snap.pcap" -T fields -E separator=' ' -e frame.len -e frame.cap_len -e icmp.type >"$W/snap.txt" 2>"$W/snap-ts.err" ||
	vb_fail "tshark -r snap.pcap: $(cat "$W/snap-ts.err")"
grep -Eq '^242 60 (0|8)$' "$W/snap.txt" || vb_fail "--snaplen 60: no 242-byte frame cut to 60: $(cat "$W/snap.txt")"
echo "$VQ_NAME: capture | tcpdump -r -: $(grep -c 'ICMP echo' "$W/pipe.txt") echo frames; --snaplen 60: $(head -1 "$W/snap.txt") (len cap_len type)"

# ---- 3b. no --count: SIGINT ends it, vnetd's counts still reported
"$vnetctl" --socket "$CTL" capture vnet0 "$W/int.pcap" >"$W/int.out" 2>"$W/int.err" & # not through ctl(): the signal must reach vnetctl
INT=$!
vq_track "$INT"
vq_wait_file_re "$W/a.err" "capture of vnet0 started for uid 0 \\(count 0" 10 "$PID_a" || vb_fail "the open-ended capture did not start"
ip netns exec "$NS_A" ping -n -c 3 -i 0.2 -W 2 "$IP_B" >/dev/null 2>&1 || vb_fail "ping during the open-ended capture"
kill -INT "$INT"
# vnetd notices the client's shutdown when it next moves a frame.
for ((i = 0; i < 20; i++)); do
	kill -0 "$INT" 2>/dev/null || break
	ip netns exec "$NS_A" ping -n -c 1 -W 1 "$IP_B" >/dev/null 2>&1
done
kill -0 "$INT" 2>/dev/null && vb_fail "vnetctl still running 20 pings after SIGINT"
wait "$INT"
rc=$?
[ $rc -eq 0 ] && grep -Eq "^vnetctl: capture: [0-9]+ frames captured, 0 dropped by vnetd" "$W/int.err" ||
	vb_fail "capture ended by SIGINT: exit $rc: $(cat "$W/int.err")"
n=$(tcpdump -nn -r "$W/int.pcap" 2>/dev/null | grep -c 'ICMP echo')
[ "$n" -ge 6 ] || vb_fail "capture ended by SIGINT: $n echo frames, expected the 6 of three pings"
echo "$VQ_NAME: SIGINT: $(cat "$W/int.err"); $n echo frames in the file"

# ---- 3c. a reader slower than the traffic: vnetd drops, counts and reports
# (the pipe's reader sleeps 3 s under a ping flood, then takes everything)
( ctl capture vnet0 - --count 2000 2>"$W/slow.err" | { sleep 3; cat >"$W/slow.pcap"; }
  echo "${PIPESTATUS[0]}" >"$W/slow.rc" ) &
SLOW=$!
vq_track "$SLOW"
vq_wait_file_re "$W/a.err" "capture of vnet0 started for uid 0 \\(count 2000" 10 "$PID_a" || vb_fail "the slow capture did not start"
for ((i = 0; i < 30; i++)); do
	kill -0 "$SLOW" 2>/dev/null || break
	ip netns exec "$NS_A" ping -n -q -f -s 1400 -w 1 "$IP_B" >/dev/null 2>&1
done
kill -0 "$SLOW" 2>/dev/null && vb_fail "the slow capture still running after 30 s of ping floods"
wait "$SLOW"
[ "$(cat "$W/slow.rc")" = 0 ] || vb_fail "slow capture: vnetctl exit $(cat "$W/slow.rc"): $(cat "$W/slow.err")"
slow_dropped=$(sed -En 's/^vnetctl: capture: 2000 frames captured, ([0-9]+) dropped by vnetd$/\1/p' "$W/slow.err")
[ -n "$slow_dropped" ] && [ "$slow_dropped" -gt 0 ] || vb_fail "slow capture: no drops reported: $(cat "$W/slow.err")"
grep -q "capture ended (count reached): 2000 captured, $slow_dropped dropped" "$W/a.err" ||
	vb_fail "vnetd's log does not show 2000 captured, $slow_dropped dropped"
n=$(tshark -r "$W/slow.pcap" -T fields -e frame.len 2>"$W/slow-ts.err" | wc -l)
[ "$n" -eq 2000 ] || vb_fail "slow capture: tshark reads $n frames, not 2000: $(cat "$W/slow-ts.err")"
echo "$VQ_NAME: slow reader: $(cat "$W/slow.err"); tshark reads all 2000"

# ---- 4. orderly exit
vb_stop
for side in a b; do vb_check_exit "$side"; done
grep -q "capture ended (count reached): 24 captured, 0 dropped" "$W/a.err" || vb_fail "vnetd did not log the capture's end"
echo "$VQ_NAME: PASS"
