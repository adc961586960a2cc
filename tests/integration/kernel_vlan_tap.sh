#!/usr/bin/env bash
# kernel_vlan_tap: the kernel's control plane against QEMU's virtio-net over
# a 4-queue TAP (rss=on, mq=on, 10 MSI-X vectors), one boot, the shell:
#   vlan     vlan=100 vnet0.100.ip=10.78.N.2/24: tagged ARP, ICMP echo and
#            UDP echo for VLAN 100, crafted on the TAP with a packet socket
#            (vlan_tap_peer.py probe: this host has no 8021q module), get
#            tagged replies with VID 100 and the same payload; the same
#            untagged on the base address get untagged replies; an ARP and
#            a ping on VLAN 200 (not configured) get none, and the kernel
#            counts the frames (net stats "unknown_vid") when QEMU let them
#            through (it does while promiscuous, QEMU's state after reset;
#            otherwise its VLAN filter dropped them).
#            The kernel's shell pings a peer on VLAN 100 (vlan_tap_peer.py
#            respond answers tagged ARP and echo): 3 of 3 replies.
#   filter   QEMU's query-rx-filter lists VLAN 100 in its vlan-table (the
#            kernel sent CTRL_VLAN ADD).
#   announce QMP announce-self: gratuitous ARPs (sender = target address)
#            seen on the TAP for the base address (untagged) and for the
#            VLAN address (tagged 100).
#   rss      64 UDP flows (distinct source ports) from a peer address on
#            the TAP: per receive queue, the frames `vnet stats` counted
#            during the flood equal exactly those the Toeplitz hash
#            (Microsoft's key, the driver's default table; computed in
#            Python) sends there (queue 0: at least, it also takes what
#            RSS does not classify), every queue got some, and each queue's
#            transmit count grew by the same number: replies left on the
#            pair their flow arrived on.
#   steering `ping` from the kernel shell (main context) to the host: the
#            requests leave on the pair the host's replies arrive on (the
#            one RSS picks for host -> guest, computed in Python; the guest
#            address is chosen so that it is not pair 0), and no other pair
#            except 0 (ARP) moves.
#   moder    software interrupt moderation is on: every pair counts receive
#            interrupts and packets per interrupt in `vnet stats`.
# Traffic stays on the TAP (private subnets 10.77.N.0/24 and 10.78.N.0/24;
# the peer addresses .9 exist only in the frames); IPv6 is off on it.
#
# usage: kernel_vlan_tap.sh --kernel ELF [--machine q35|pc] [--accel auto|kvm|tcg] [--logdir DIR]
# Exit: 0 pass, 1 fail, 77 skip (not root, /dev/net/tun does not open, no
# qemu-system-x86_64/ip/python3) with the reason printed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/qemu.sh
. "$here/../lib/qemu.sh"
vq_init kvlan_tap
kernel='' machine=q35 accel=auto logdir=''
vq_parse_args "kernel machine accel logdir" "$@"
vq_kernel_needs tap
vq_logdir kvlan-tap
vq_qmp_init   # $tmp, $sock, qmp()
log=$logdir/console.log
peer() { python3 "$here/vlan_tap_peer.py" "$@"; }
pairs=4 vid=100
st0='' st1='' pg='' vp='' STATS_TXT=''
declare -a a_rx=() a_tx=() b_rx=() b_tx=() c_rx=() c_tx=() d_rx=() d_tx=()

vq_tap_create kvlan 10.77 multi_queue || exit 1
tap=$VQ_TAP host_ip=$VQ_TAP_HOST
n=$(cut -d. -f3 <<<"$host_ip")
net=10.77.$n
# A guest address whose ICMP from the host RSS puts on a pair other than 0,
# so the steering check tells "steered" from "always pair 0".
for g in $(seq 2 40); do
	pq=$(peer pick --src "$host_ip" --dst "$net.$g" --pairs $pairs --indir 128)
	[ "$pq" -ne 0 ] && break
done
guest_ip=$net.$g vlan_ip=10.78.$n.2
echo "kvlan_tap: $machine/$accel, tap $tap ($pairs queues, rss=on), host $host_ip, guest $guest_ip, vlan $vid $vlan_ip, logs in $logdir"

qemu_start --machine "$machine" --accel "$accel" --kernel "$kernel" \
	--append "ip=$guest_ip/24 gw=$host_ip pairs=$pairs qsize=64 vlan=$vid vnet0.$vid.ip=$vlan_ip/24" \
	--serial "shell:$log" --stderr "$tmp/stderr" --timeout 300 \
	--nic "tap,ifname=$tap,queues=$pairs,script=no,downscript=no,vhost=off" \
	",mq=on,vectors=10,disable-legacy=on,rss=on,id=nic0" -- -qmp "unix:$sock,server=on,wait=off"

vq_report kvlan_tap
fail=0

vq_vnet0_up $pairs rss
qemu_console | grep -aq "^vnet0.$vid: up vlan $vid ip $vlan_ip/24" || die "no VLAN interface vnet0.$vid"

# vlan: tagged and untagged traffic, VLAN 200 unanswered.
peer probe --tap "$tap" --mac "$mac" --vid $vid --other-vid 200 --base-ip "$guest_ip" --base-peer "$net.9" \
	--vlan-ip "$vlan_ip" --vlan-peer "10.78.$n.9" || bad "VLAN/untagged probe"
qemu_shell_cmd "net stats vnet0" 10 st0 || die "net stats vnet0 did not answer"
qemu_shell_cmd "net stats vnet0.$vid" 10 st1 || die "net stats vnet0.$vid did not answer"
echo "vnet0:     $(grep '^vlan:' <<<"$st0")"
echo "vnet0.$vid: $(grep -E '^(udp|icmp):' <<<"$st1" | tr '\n' ' ')"
unknown=$(sed -n 's/^vlan: .* unknown_vid \([0-9]*\) .*/\1/p' <<<"$st0")
promisc=$(qmp cmd query-rx-filter '{"name":"nic0"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["promiscuous"])')
if [ "$promisc" = True ]; then
	[ "${unknown:-x}" = 2 ] || bad "VLAN 200: 2 frames sent, the kernel counted unknown_vid '${unknown:-}' (QEMU promiscuous)"
else
	[ "${unknown:-x}" = 0 ] || bad "VLAN 200 frames reached the kernel though QEMU filters ($unknown)"
fi
grep -Eq '^udp: +rx [1-9].* echo_tx 3$' <<<"$st1" || bad "vnet0.$vid did not count 3 UDP echoes"

# The kernel pings a peer over its VLAN interface (tagged both ways).
peer respond --tap "$tap" --secs 8 --vid $vid --vlan-peer "10.78.$n.9" >"$tmp/respond" 2>&1 &
rpid=$!
vq_wait_file_re "$tmp/respond" '^ready' 10 "$rpid" || bad "VLAN responder did not start"
qemu_shell_cmd "ping 10.78.$n.9 3 vnet0.$vid" 30 vp || bad "ping over vnet0.$vid did not finish"
kill "$rpid" 2>/dev/null
wait "$rpid" 2>/dev/null
grep -q ' 3 sent, 3 received' <<<"$vp" || bad "ping 10.78.$n.9 over vnet0.$vid: $(tail -1 <<<"$vp")"
echo "kvlan_tap: ping over vnet0.$vid: $(grep -- '---' <<<"$vp")"

# filter: QEMU's VLAN table.
out=$(qmp rx-filter-check nic0 vlan-table=$vid) || bad "QEMU's vlan-table: $out"
echo "kvlan_tap: QEMU vlan-table holds $vid"

# announce: gratuitous ARPs for both addresses.
peer announce --tap "$tap" --secs 4 --vid $vid --base-ip "$guest_ip" --vlan-ip "$vlan_ip" >"$tmp/announce" 2>&1 &
apid=$!
vq_wait_file_re "$tmp/announce" '^ready' 10 "$apid" || bad "announce sniffer did not start"
qmp cmd announce-self '{"initial":50,"max":100,"rounds":2,"step":50}' >/dev/null || bad "announce-self refused"
wait "$apid" || bad "gratuitous ARPs missing"
cat "$tmp/announce"

# stats NAME: "vnet stats" into NAME_rx / NAME_tx arrays (per pair).
stats() {
	local txt q
	qemu_shell_cmd "vnet stats" 10 txt || die "vnet stats did not answer"
	for q in $(seq 0 $((pairs - 1))); do
		eval "$1_rx[$q]=$(sed -n "s/^pair $q rx: packets \([0-9]*\) .*/\1/p" <<<"$txt")"
		eval "$1_tx[$q]=$(sed -n "s/^pair $q tx: packets \([0-9]*\) .*/\1/p" <<<"$txt")"
	done
	STATS_TXT=$txt
}

# rss: flows spread as the hash says, replies on the arrival pair.
stats a
fl=$(peer flows --tap "$tap" --mac "$mac" --guest-ip "$guest_ip" --peer-ip "$net.9" --flows 64 --per-flow 2 \
	--pairs $pairs --indir "$indir") || bad "flows: $fl"
stats b
echo "kvlan_tap: flows $fl"
line="rx/tx per pair during the flood:"
for q in $(seq 0 $((pairs - 1))); do
	sent=$(sed -n "s/.*\b$q:\([0-9]*\).*/\1/p" <<<"$fl")
	drx=$((b_rx[q] - a_rx[q])) dtx=$((b_tx[q] - a_tx[q]))
	line+=" $q:$drx/$dtx(hash:${sent:-?})"
	[ "${sent:-0}" -gt 0 ] || bad "the hash put no flow on pair $q (choose other ports)"
	if [ "$q" -eq 0 ]; then
		if [ "$drx" -lt "${sent:-0}" ] || [ "$dtx" -lt "${sent:-0}" ]; then
			bad "pair 0: rx $drx tx $dtx, the hash sent ${sent:-?}"
		fi
	else
		[ "$drx" -eq "${sent:-x}" ] || bad "pair $q received $drx frames, the Toeplitz hash sends ${sent:-?} there"
		[ "$dtx" -eq "$drx" ] || bad "pair $q received $drx frames but sent $dtx (replies must share the pair)"
	fi
done
echo "kvlan_tap: $line"

# steering: ping from main context.
stats c
qemu_shell_cmd "ping $host_ip 4" 30 pg || bad "ping did not finish"
grep -q ' 4 sent, 4 received' <<<"$pg" || bad "ping $host_ip: $(tail -1 <<<"$pg")"
stats d
line="ping $host_ip (RSS pair for its replies: $pq) rx/tx per pair:"
for q in $(seq 0 $((pairs - 1))); do
	drx=$((d_rx[q] - c_rx[q])) dtx=$((d_tx[q] - c_tx[q]))
	line+=" $q:$drx/$dtx"
	if [ "$q" -eq "$pq" ]; then
		if [ "$drx" -lt 4 ] || [ "$dtx" -lt 4 ]; then
			bad "pair $pq: rx $drx tx $dtx, expected the 4 replies and 4 requests"
		fi
	elif [ "$q" -ne 0 ] && { [ "$drx" -ne 0 ] || [ "$dtx" -ne 0 ]; }; then
		bad "pair $q moved during the ping (rx $drx tx $dtx)"
	fi
done
echo "kvlan_tap: $line"

# moder: interrupts and packets per interrupt on every pair.
grep '^pair [0-9] moder:' <<<"$STATS_TXT"
for q in $(seq 0 $((pairs - 1))); do
	grep -Eq "^pair $q moder: interrupts [1-9][0-9]* irq_packets [1-9]" <<<"$STATS_TXT" ||
		bad "pair $q: no moderation counters (interrupts, irq_packets)"
done

qemu_stop
[ "$fail" -eq 0 ] || { show; exit 1; }
echo "kvlan_tap: PASS (vlan $vid tagged ARP/ICMP/UDP answered, vlan 200 ignored, filter, announce, rss over $pairs pairs, steering, moderation)"
exit 0
