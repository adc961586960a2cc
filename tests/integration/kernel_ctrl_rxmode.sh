#!/usr/bin/env bash
# kernel_ctrl_rxmode: RX mode, MAC filter tables and a runtime MAC change
# (CTRL_RX, CTRL_MAC_TABLE_SET, CTRL_MAC_ADDR_SET; spec 5.1.6.5.1-2) driven
# from the kernel shell (`virtio_net_control_set vnet0 ...`, src/mgmt)
# against QEMU's virtio-net over a TAP, with frames crafted on the TAP side
# (kctrl_rx_peer.py, AF_PACKET).  "Delivered" is judged by the kernel's
# receive counter (`net stats vnet0`, eth rx: every frame the device hands
# over; frames not for the stack's MAC also count as not_for_us):
#   QEMU is promiscuous after reset, so promisc is turned off first; then
#   - 5 UDP frames to a unicast MAC not in the table: not delivered;
#   - promisc on: the same 5 are delivered; promisc off again;
#   - 5 frames to multicast 01:00:5e:4b:56:01, not joined: not delivered;
#     after `virtio_net_control_set vnet0 mc=01:00:5e:4b:56:01`: delivered;
#     QEMU's query-rx-filter lists it in multicast-table; the unicast MAC
#     added to the table is then delivered with promisc off;
#   - `virtio_net_control_set vnet0 mac=02:6b:63:74:6c:42`: QEMU's query-rx-filter shows
#     the new MAC and an ARP request from the TAP is answered from it.
#   - `vlan_add=100`; then the whole state is checked through traffic
#     (check_state): QEMU's query-rx-filter (main-mac, promiscuous false,
#     the unicast, multicast and VLAN tables), a foreign unicast MAC not
#     delivered, the table's unicast and multicast delivered, ARP answered
#     from the new MAC, the new MAC delivered and the old one not, frames
#     tagged VLAN 100 delivered and VLAN 200 not (QEMU drops tagged frames
#     of a VLAN not in its table when promisc is off, and empties the
#     table at a reset, so VLAN 100 is delivered only if it was replayed);
#   - replay (issue 12): 3 x `virtio_net_device_reset vnet0` (full reset,
#     control state replayed) and `virtio_net_virtqueue_reset vnet0 rx0`
#     (RING_RESET), then check_state again.
#
# usage: kernel_ctrl_rxmode.sh --kernel ELF [--machine q35|pc] [--accel auto|kvm|tcg] [--logdir DIR]
# Exit: 0 pass, 1 fail, 77 skip (not root, /dev/net/tun does not open, no
# qemu-system-x86_64/ip/python3) with the reason printed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/qemu.sh
. "$here/../lib/qemu.sh"
vq_init kctrl_rxmode
kernel='' machine=q35 accel=auto logdir=''
vq_parse_args "kernel machine accel logdir" "$@"
vq_kernel_needs tap
vq_logdir kctrl-rxmode
vq_qmp_init   # $tmp, $sock, qmp()
log=$logdir/console.log
peer() { python3 "$here/kctrl_rx_peer.py" "$@"; }
out='' st=''
other_uc=02:6b:63:74:6c:99 foreign_uc=02:6b:63:74:6c:98 group=01:00:5e:4b:56:01 newmac=02:6b:63:74:6c:42

vq_tap_create kctrl 10.79 || exit 1
tap=$VQ_TAP host_ip=$VQ_TAP_HOST
n=$(cut -d. -f3 <<<"$host_ip")
guest_ip=10.79.$n.2 peer_ip=10.79.$n.9
echo "kctrl_rxmode: $machine/$accel, tap $tap, host $host_ip, guest $guest_ip, logs in $logdir"

qemu_start --machine "$machine" --accel "$accel" --kernel "$kernel" \
	--append "ip=$guest_ip/24 gw=$host_ip" \
	--serial "shell:$log" --stderr "$tmp/stderr" --timeout 240 \
	--nic "tap,ifname=$tap,script=no,downscript=no,vhost=off" \
	",disable-legacy=on,id=nic0" -- -qmp "unix:$sock,server=on,wait=off"

vq_report kctrl_rxmode
fail=0

vq_vnet0_up

# The management command (src/mgmt, docs/management.md) in --json form.
ctrl() {
	qemu_shell_cmd "virtio_net_control_set vnet0 $* --json" 10 out || die "control_set $* did not answer"
	echo "  control_set vnet0 $*: $(tr '\n' ' ' <<<"$out")"
	grep -q '"ok":true' <<<"$out" || die "control_set $* failed"
}
# eth rx counter of `net stats vnet0`.
rx_count() {
	qemu_shell_cmd "net stats vnet0" 10 st || die "net stats vnet0 did not answer"
	sed -n 's/^eth: *rx \([0-9]*\) .*/\1/p' <<<"$st"
}
filter() { qmp cmd query-rx-filter '{"name":"nic0"}' | python3 -c "import json,sys; print(json.load(sys.stdin)[0]$1)"; }
# send DST WANT LABEL [VID]: 5 frames to DST (tagged VLAN VID if given); the
# eth rx counter must grow by WANT (0 or 5).  Other traffic on the TAP (IPv6 is off) could only add frames,
# so a "not delivered" check cannot pass by accident.
send() {
	local before after
	before=$(rx_count)
	peer send --tap "$tap" --dst "$1" --src-ip "$peer_ip" --dst-ip "$guest_ip" --count 5 ${4:+--vid "$4"} || die "peer send"
	sleep 1
	after=$(rx_count)
	echo "  5 frames to $1${4:+ VLAN $4}: eth rx $before -> $after ($3)"
	if [ -z "$before" ] || [ -z "$after" ]; then die "no eth rx counter in net stats"; fi
	[ $((after - before)) -eq "$2" ] || bad "$3: 5 frames to $1, the kernel received $((after - before)), want $2"
}

[ "$(filter '["promiscuous"]')" = True ] || bad "QEMU not promiscuous after reset (its documented state)"
ctrl promisc=off
[ "$(filter '["promiscuous"]')" = False ] || bad "query-rx-filter: still promiscuous after promisc off"
send "$other_uc" 0 "unicast not in the table, promisc off"
ctrl promisc=on
send "$other_uc" 5 "unicast not in the table, promisc on"
ctrl promisc=off
send "$group" 0 "multicast not joined"
ctrl "mc=$group" uc=none
filter '["multicast-table"]' | grep -q "$group" || bad "query-rx-filter multicast-table lacks $group"
send "$group" 5 "multicast joined through the table"
ctrl "mc=$group" "uc=$other_uc"
send "$other_uc" 5 "unicast added to the table"
send "$mac" 5 "our own MAC (control)"

r=$(peer arp --tap "$tap" --src-ip "$peer_ip" --dst-ip "$guest_ip")
echo "  ARP before the change answered from: $r"
[ "$r" = "$mac" ] || bad "ARP answered from '$r', want $mac"
ctrl "mac=$newmac"
qm=$(filter '["main-mac"]')
[ "$qm" = "$newmac" ] || bad "query-rx-filter main-mac '$qm', want $newmac"
r=$(peer arp --tap "$tap" --src-ip "$peer_ip" --dst-ip "$guest_ip")
echo "  ARP after the change answered from: $r"
[ "$r" = "$newmac" ] || bad "ARP after the MAC change answered from '$r', want $newmac"

# The state set above plus VLAN 100, checked through traffic and QEMU's
# filter; written once, run before and after the resets.
check_state() {
	local r o
	echo " check_state ($1)"
	if o=$(qmp rx-filter-check nic0 main-mac="$newmac" promiscuous=false \
		unicast-table="$other_uc" multicast-table="$group" vlan-table=100); then
		echo "  query-rx-filter ($1): main-mac $newmac, promiscuous false, tables uc $other_uc mc $group vlan 100"
	else
		bad "$1: query-rx-filter: $o"
	fi
	send "$foreign_uc" 0 "$1: unicast not in the table, promisc off"
	send "$other_uc" 5 "$1: unicast in the table"
	send "$group" 5 "$1: multicast group joined"
	r=$(peer arp --tap "$tap" --src-ip "$peer_ip" --dst-ip "$guest_ip")
	echo "  ARP ($1) answered from: $r"
	[ "$r" = "$newmac" ] || bad "$1: ARP answered from '$r', want the runtime MAC $newmac"
	send "$newmac" 5 "$1: the new MAC"
	send "$mac" 0 "$1: the old MAC, promisc off"
	send "$newmac" 5 "$1: the new MAC, VLAN 100 in the filter" 100
	send "$newmac" 0 "$1: the new MAC, VLAN 200 not in the filter" 200
}
ctrl vlan_add=100
check_state "before the resets"

# Replay: full device resets, then a RING_RESET of the receive queue.
for i in 1 2 3; do
	qemu_shell_cmd "virtio_net_device_reset vnet0 --json" 20 out || die "device_reset $i did not answer"
	echo "  device_reset $i: $(tr '\n' ' ' <<<"$out")"
	grep -q '"running":true' <<<"$out" || bad "device_reset $i: not running after it"
done
qemu_shell_cmd "virtio_net_virtqueue_reset vnet0 rx0 --json" 20 out || die "virtqueue_reset rx0 did not answer"
echo "  virtqueue_reset rx0: $(tr '\n' ' ' <<<"$out")"
grep -q '"running":true' <<<"$out" || bad "virtqueue_reset rx0: not running after it"
check_state "after 3 device resets and a reset of rx0"

qemu_shell_cmd "virtio_net_control_set vnet0 mac=01:00:00:00:00:01 --json" 10 out || true
grep -q '"ok":false' <<<"$out" || bad "a multicast MAC was not refused: $out"

if [ "$fail" -ne 0 ]; then
	show
	exit 1
fi
echo "kctrl_rxmode: PASS"
exit 0
