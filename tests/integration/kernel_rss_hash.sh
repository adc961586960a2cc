#!/usr/bin/env bash
# kernel_rss_hash: RSS steering and a runtime indirection-table change in
# the Orion kernel against QEMU's virtio-net over a 4-queue TAP
# (rss=on,hash=on, pairs=4), one boot, the shell:
#   before   256 UDP flows (distinct source ports, rss_hash_peer.py) to the
#            kernel's echo port: per pair, the frames `vnet stats` counted
#            equal what the Toeplitz hash (vlan_tap_peer.py's, the driver's
#            default key) with the driver's round-robin table predicts
#            (pair 0 at least that: ARP and the like land there too);
#   change   `virtio_net_control_set vnet0 rss_table=3,2,1,0` (one
#            RSS_CONFIG, key kept); control_info shows the table;
#   after    the same 256 flows again land as the new table predicts.
# Needs root, /dev/net/tun, qemu-system-x86_64, ip, python3; exit 77 (skip)
# otherwise with the reason printed.  After each round, `vnet hashlog vnet0`
# (the kernel's per-frame receive records; the kernel accepts HASH_REPORT)
# is checked by rss_hash_peer.py hashlog: for every flow the hash the
# device reported equals the Python Toeplitz hash of its tuple, the report
# type is the one the programmed hash types select (UDPv4), and the pair
# is table[hash & (len-1)] of the table in force.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/qemu.sh
. "$here/../lib/qemu.sh"
vq_init krss_hash
kernel='' machine=q35 accel=auto logdir=''
vq_parse_args "kernel machine accel logdir" "$@"
vq_kernel_needs tap
vq_logdir krss-hash
vq_qmp_init   # $tmp, $sock, qmp()
log=$logdir/console.log
pairs=4 nflows=256
declare -a a_rx=() b_rx=() c_rx=()

vq_tap_create krssh 10.79 multi_queue || exit 1
tap=$VQ_TAP host_ip=$VQ_TAP_HOST
n=$(cut -d. -f3 <<<"$host_ip")
net=10.79.$n guest_ip=10.79.$n.2
echo "krss_hash: $machine/$accel, tap $tap ($pairs queues, rss=on,hash=on), guest $guest_ip, logs in $logdir"

qemu_start --machine "$machine" --accel "$accel" --kernel "$kernel" \
	--append "ip=$guest_ip/24 gw=$host_ip pairs=$pairs qsize=64" \
	--serial "shell:$log" --stderr "$tmp/stderr" --timeout 300 \
	--nic "tap,ifname=$tap,queues=$pairs,script=no,downscript=no,vhost=off" \
	",mq=on,vectors=10,disable-legacy=on,rss=on,hash=on,id=nic0" -- -qmp "unix:$sock,server=on,wait=off"

vq_report krss_hash
fail=0

vq_vnet0_up $pairs rss
# vnet_net_rss_default: entry i -> pair i % pairs.
t0=$(python3 -c "print(','.join(str(i % $pairs) for i in range($indir)))")
t1=3,2,1,0

stats() {
	local txt q
	qemu_shell_cmd "vnet stats" 10 txt || die "vnet stats did not answer"
	for q in $(seq 0 $((pairs - 1))); do
		eval "$1_rx[$q]=$(sed -n "s/^pair $q rx: packets \([0-9]*\) .*/\1/p" <<<"$txt")"
	done
}
# check WHAT FROM TO FLOWS_OUTPUT: per-pair rx deltas against the prediction.
check() {
	local what=$1 from=$2 to=$3 fl=$4 q sent drx f t line
	line="$what: rx per pair (predicted):"
	for q in $(seq 0 $((pairs - 1))); do
		sent=$(sed -n "s/.*\b$q:\([0-9]*\).*/\1/p" <<<"$fl")
		eval "f=\${${from}_rx[$q]} t=\${${to}_rx[$q]}"
		drx=$((t - f))
		line+=" $q:$drx($sent)"
		[ "${sent:-0}" -gt 0 ] || bad "$what: the hash put no flow on pair $q"
		if [ "$q" -eq 0 ]; then
			[ "$drx" -ge "${sent:-0}" ] || bad "$what: pair 0 received $drx, the hash sends ${sent:-?}"
		else
			[ "$drx" -eq "${sent:-x}" ] || bad "$what: pair $q received $drx frames, the Toeplitz hash sends ${sent:-?}"
		fi
	done
	echo "krss_hash: $line"
}
peer() { python3 "$here/rss_hash_peer.py" flows --tap "$tap" --mac "$mac" --guest-ip "$guest_ip" \
	--peer-ip "$net.9" --flows $nflows --pairs $pairs --table "$1"; }

# hashlog WHAT TABLE: the per-frame records of the last round, then clear.
hashlog() {
	local txt out
	qemu_shell_cmd "vnet hashlog vnet0" 30 txt || die "vnet hashlog did not answer"
	out=$(python3 "$here/rss_hash_peer.py" hashlog --guest-ip "$guest_ip" --peer-ip "$net.9" --flows $nflows \
		--table "$2" --types "${htypes:-0}" <<<"$txt") || bad "$1: reported hashes: $out"
	echo "krss_hash: $1: $out"
	qemu_shell_cmd "vnet hashlog vnet0 clear" 10 >/dev/null || die "vnet hashlog clear did not answer"
}
qemu_shell_cmd "vnet info" 10 info || die "vnet info did not answer"
grep -q 'negotiated.*HASH_REPORT' <<<"$(tr '\n' ' ' <<<"$info")" || bad "HASH_REPORT not negotiated: $info"
grep -q 'header 20 bytes' <<<"$info" || bad "the header is not the 20-byte hash header: $info"

qemu_shell_cmd "vnet hashlog vnet0 clear" 10 >/dev/null || die "vnet hashlog clear did not answer"
stats a
fl=$(peer "$t0") || bad "flows (default table): $fl"
stats b
check "default table" a b "$fl"
hashlog "default table" "$t0"

qemu_shell_cmd "virtio_net_control_set vnet0 rss_table=$t1 --json" 10 out || die "control_set did not answer"
grep -q '"ok":true' <<<"$out" || die "rss_table=$t1 refused: $out"
qemu_shell_cmd "virtio_net_control_info vnet0 --json" 10 info || die "control_info did not answer"
grep -q "\"indir\":\[$t1\]" <<<"$info" || bad "control_info does not show the table $t1: $info"

fl=$(peer "$t1") || bad "flows (table $t1): $fl"
stats c
check "table $t1" b c "$fl"
hashlog "table $t1" "$t1"

qemu_stop
[ "$fail" -eq 0 ] || { show; exit 1; }
echo "krss_hash: PASS ($nflows flows over $pairs pairs as the Toeplitz hash predicts, and report the hash Python computes, before and after rss_table=$t1)"
exit 0
