#!/usr/bin/env bash
# kernel_mgmt: the 13 management commands (vnet/mgmt.h, docs/management.md)
# through the Orion kernel's serial shell against QEMU's virtio-net-pci,
# judged by QEMU itself where it can tell.
#
# Every command runs in text and with --json (the JSON line parsed by
# python3's json and its fields checked); device_reset must leave the
# device working (ping to QEMU's user-network gateway after it);
# control_set promisc/MAC must show in QEMU's own query-rx-filter (QMP);
# feature_set -GUEST_CSUM must be negotiated away and traffic go on; bad
# device, queue, feature and value must be errors that change nothing
# (query-rx-filter and device_info as before); device_remove must take
# vnet1 away (QEMU keeps its NIC; the kernel lists one device).
#
# usage: kernel_mgmt.sh --kernel ELF [--machine q35|pc] [--accel auto|kvm|tcg] [--log FILE]
# Exit: 0 pass, 1 fail, 77 skip (no qemu-system-x86_64 or python3).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/qemu.sh
. "$here/../lib/qemu.sh"
vq_init mgmt
kernel='' machine=q35 accel=auto log=''
vq_parse_args "kernel machine accel log" "$@"
vq_kernel_needs
vq_qmp_init   # $tmp, $sock, qmp()
[ -n "$log" ] || log=$tmp/console.log

echo "mgmt: $machine/$accel, log $log"
qemu_start --machine "$machine" --accel "$accel" --kernel "$kernel" \
	--append "qsize=64 vnet1.ip=10.0.3.15/24" \
	--serial "shell:$log" --stderr "$tmp/stderr" --timeout 300 \
	--nic user ",disable-legacy=on,id=nic0" --nic "user,net=10.0.3.0/24" ",disable-legacy=on,id=nic1" \
	-- -qmp "unix:$sock,server=on,wait=off"

vq_report mgmt 60
pass=0
ok() { pass=$((pass + 1)); echo "mgmt: ok   $*"; }

qemu_shell_wait 180 || fail "no shell prompt"
qemu_console | grep -a '^vnet[01]: up '
mac0=$(qmp cmd query-rx-filter '{"name":"nic0"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["main-mac"])') ||
	fail "query-rx-filter did not answer"

reply=''
# sh CMD: run CMD at the shell (10 s bound), reply in $reply.
sh() { qemu_shell_cmd "$1" 10 reply || fail "no prompt after '$1' within 10 s (reply: $reply)"; }
# js CMD PYEXPR: CMD --json; the one JSON line must parse and PYEXPR (d =
# the object) be true.
js() {
	sh "$1 --json"
	local line
	line=$(grep -a '^{' <<<"$reply" | head -1)
	[ -n "$line" ] || fail "'$1 --json': no JSON object in the reply: $reply"
	python3 -c 'import json,sys
d = json.loads(sys.argv[1])
sys.exit(0 if eval(sys.argv[2]) else 1)' "$line" "$2" || fail "'$1 --json': $2 does not hold for $line"
}
# txt CMD REGEX: the text reply matches the extended regex.
txt() { sh "$1"; grep -aEq "$2" <<<"$reply" || fail "'$1': no line matching /$2/ in: $reply"; }
rxf() { qmp rx-filter-check nic0 "$@" || fail "query-rx-filter: expected $*"; }
gw_ping() { txt "ping 10.0.2.2 3 vnet0" ' 3 sent, 3 received'; }

# ---- read-only commands, text and JSON
txt "help" 'virtio_net_control_set'
txt "help" 'virtio_net_performance_stats \[DEV\] \[--watch SECONDS\]'
txt "virtio_net_device_info vnet0" '^mtu +1500'
js "virtio_net_device_info vnet0" 'd["ok"] and d["device"]=="vnet0" and d["link"]=="up" and d["queue_pairs"]==1'
js "devinfo" 'd["count"]==2 and [x["name"] for x in d["devices"]]==["vnet0","vnet1"]'
ok "device_info"
txt "virtio_net_virtqueue_info vnet0" '^  rx0:'
js "vqinfo vnet0" '[q["name"] for q in d["queues"]]==["rx0","tx0","ctrl"] and d["queues"][0]["size"]==64'
ok "virtqueue_info"
txt "virtio_net_feature_info vnet0" 'CTRL_VLAN +yes +yes +yes'
js "featinfo vnet0" 'any(f["name"]=="VERSION_1" and f["negotiated"] for f in d["features"])'
js "virtio_net_feature_get vnet0 CTRL_RX 32" '[f["bit"] for f in d["features"]]==[18,32] and all(f["negotiated"] for f in d["features"])'
ok "feature_info, feature_get"
js "virtio_net_performance_stats vnet0" 'd["rates"]["rx_pps"] is None'
gw_ping
js "perf vnet0" 'd["interval_ms"]>0 and d["totals"]["rx_packets"]>=3 and d["rates"]["rx_pps"]>0 and d["rates"]["interrupts_per_s"]>0'
txt "perf vnet0" '^  rx_pps +[0-9]+\.[0-9][0-9]'
ok "performance_stats"
# performance monitor: per pair detail, latency sampling (on since the
# first perf call, 1 in 16: 17 pings give each histogram a sample), and
# --watch: the baseline and one table a second
txt "ping 10.0.2.2 17 vnet0" ' 17 sent, 17 received'
js "perf vnet0" 'd["smoothed"]["rx_pps"] is not None and (d["queues"][0]["rx_pps"]>0 and d["queues"][0]["latency"]["sampling"] and d["queues"][0]["latency"]["tx_completion"]["samples"]>=1 and d["queues"][0]["latency"]["rx_irq_to_delivery"]["samples"]>=1 and d["queues"][0]["latency"]["rx_irq_to_delivery"]["p99_9_ns"]>0 and d["queues"][0]["rx_in_flight"]>0)'
sh "perf vnet0 --watch 2"
n=$(grep -ac '^rates:' <<<"$reply")
[ "$n" -eq 3 ] && grep -aq -- '--- watch 2/2 ---' <<<"$reply" || fail "perf --watch 2: $n tables, expected 3 and '--- watch 2/2 ---': $reply"
ok "performance monitor (queues, latency samples, --watch)"
js "virtio_net_virtqueue_stats vnet0" 'd["pairs"][0]["rx_packets"]>=3 and d["virtqueues"][1]["name"]=="tx0" and d["virtqueues"][1]["completed"]>=3'
txt "vqstats vnet0 rx0" '^    completed +[0-9]+'
ok "virtqueue_stats"
js "virtio_net_control_info vnet0" 'd["rx_mode"]["supported"] and d["queue_pairs"]["in_use"]==1'
ok "control_info"

# ---- control_set against QEMU's view
js "virtio_net_control_set vnet0 promisc=off" 'd["applied"]==["promisc=off"]'
rxf promiscuous=false
js "ctrlset vnet0 promisc=on" 'd["ok"]'
rxf promiscuous=true
js "ctrlset vnet0 mac=02:11:22:33:44:55 promisc=off" 'd["ok"]'
rxf main-mac=02:11:22:33:44:55 promiscuous=false
js "ctrlinfo vnet0" 'd["mac"]=="02:11:22:33:44:55" and not d["rx_mode"]["promisc"]'
# back to the MAC the kernel's stack uses (it answers ARP with that one)
js "ctrlset vnet0 mac=$mac0" 'd["ok"]'
rxf main-mac="$mac0" promiscuous=false
ok "control_set (promisc, MAC) seen by QEMU"

# ---- errors: clear, and nothing changes
sh "devinfo vnet0 --json"
before=$(grep -a '^{' <<<"$reply" | head -1)
err() {
	local cmd=$1 msg=$2
	sh "$cmd"
	grep -aq "^error: .*$msg" <<<"$reply" || fail "'$cmd': expected error '$msg', got: $reply"
	js "$cmd" "not d[\"ok\"] and \"$msg\" in d[\"error\"]"
}
err "devreset vnet7" "unknown device 'vnet7'"
err "vqreset vnet0 rx5" "unknown queue 'rx5'"
err "vqinfo vnet0 bogus" "unknown queue 'bogus'"
err "featset vnet0 +NO_SUCH" "unknown feature 'NO_SUCH'"
err "featset vnet0 +RING_PACKED" "shapes the rings"
err "featset vnet0 GUEST_CSUM=maybe" "bad value 'maybe'"
err "ctrlset vnet0 promisc=perhaps" "bad value 'perhaps'"
err "ctrlset vnet0 vlan_add=5000" "bad VLAN id '5000'"
err "ctrlset vnet0 mac=01:00:00:00:00:01" "multicast address"
err "vqremove vnet0 ctrl" "control queue cannot be taken out of service"
err "vqreset vnet0 rx0 --size 100" "per-queue reset of 'rx0' refused"
rxf main-mac="$mac0" promiscuous=false
sh "devinfo vnet0 --json"
after=$(grep -a '^{' <<<"$reply" | head -1)
[ "$before" = "$after" ] || fail "device_info changed across the errors: $before / $after"
ok "errors: 11 refused, QEMU's filter and device_info unchanged"

# ---- device_reset: replay and traffic
js "virtio_net_device_reset vnet0" 'd["running"] and d["replays"]==1'
rxf main-mac="$mac0" promiscuous=false
gw_ping
ok "device_reset: MAC and RX mode replayed (QEMU), ping after it"
js "virtio_net_virtqueue_reset vnet0 rx0 --size 128" 'd["method"]=="queue_reset" and d["size"]==128 and d["running"]'
js "vqinfo vnet0 rx0" 'd["queues"][0]["size"]==128'
rxf main-mac="$mac0" promiscuous=false
gw_ping
js "vqreset vnet0 pair0" 'd["method"]=="queue_reset"'
gw_ping
ok "virtqueue_reset (RING_RESET, rx0 resized to 128, pair0), ping after each"
err "virtio_net_virtqueue_remove vnet0 pair0" "pair"
ok "virtqueue_remove refused with one pair"

# ---- feature_set: CTRL_VLAN away (user networking has no vnet header,
# so QEMU offers no checksum offload here), traffic on, VLAN refused
js "virtio_net_feature_set vnet0 CTRL_VLAN=off" 'd["renegotiated"] and "CTRL_VLAN" in d["removed"]'
js "featget vnet0 CTRL_VLAN" 'not d["features"][0]["negotiated"] and d["features"][0]["offered"]'
err "ctrlset vnet0 vlan_add=5" "needs VIRTIO_NET_F_CTRL_VLAN (not negotiated)"
gw_ping
js "featset vnet0 +CTRL_VLAN" '"CTRL_VLAN" in d["added"]'
js "ctrlset vnet0 vlan_add=5" 'd["ok"]'
qmp rx-filter-check nic0 vlan-table=5 || fail "query-rx-filter: expected vlan-table=5"
gw_ping
ok "feature_set -CTRL_VLAN / +CTRL_VLAN, ping after each, VLAN 5 seen by QEMU"

# ---- device_remove
js "virtio_net_device_remove vnet1" 'd["result"]=="removed"'
js "devinfo" 'd["count"]==1 and d["devices"][0]["name"]=="vnet0"'
err "devinfo vnet1" "unknown device 'vnet1'"
gw_ping
ok "device_remove vnet1 (vnet0 still answers)"

echo "mgmt: PASS ($pass groups)"
exit 0
