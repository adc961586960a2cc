#!/bin/bash
# vnetd_iperf3: iperf3 TCP for 10 s between two namespaces joined through
# two vnetd and one dpdk-testpmd (io forwarding between two vhost-user
# ports with tso=1), offloads on:
#
#   ns A: TAP --- vnetd A --vhost-user--+
#                                       testpmd (net_vhost0 <-io-> net_vhost1)
#   ns B: TAP --- vnetd B --vhost-user--+
#
# (the set-up is vnetd_lib.sh's, the same as vnetd_bridge_offload's).
#   - `ethtool -k`: checksum offload and TSO on both TAPs; ping both ways;
#   - iperf3 server in B, client in A, `--bidir -t SECONDS -J`: both ends
#     exit 0, no "error" in either JSON, bytes carried each way;
#   - vnetd's counters (SIGUSR1) before and after the run: on BOTH vnetd,
#     TSO super-frames sent to the port (port_out_gso) and coalesced
#     super-frames handed to the TAP (tap_out_gso) moved, and partial
#     checksums went to the port (port_out_csum);
#   - nstat in both namespaces: no TcpInCsumErrors, no IpInHdrErrors;
#   - SIGTERM: both vnetd exit 0, no buffer missing, counters that add up,
#     no frame mishandled.
#
#   vnetd_iperf3_test.sh --vnetd BIN [--seconds 10] [--ring auto|split|packed] [--logdir DIR]
#
# Root and /dev/net/tun are needed (skip 77 otherwise, naming why), as are
# iperf3, dpdk-testpmd (dpdk-dev), python3, ip, ss and nstat (iproute2),
# ping (iputils-ping), sysctl (procps) and ethtool.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../lib/qemu.sh
. "$HERE/../../lib/qemu.sh"
# shellcheck source=SCRIPTDIR/../../lib/dpdk.sh
. "$HERE/../../lib/dpdk.sh"
# shellcheck source=SCRIPTDIR/vnetd_lib.sh
. "$HERE/vnetd_lib.sh"

vnetd='' seconds=10 logdir='' ring=auto
vq_parse_args "vnetd seconds logdir ring" "$@"
vq_init vnetd_iperf3
offloads=on
vb_need
vq_need iperf3 iperf3
vq_need ss iproute2
vb_init
vb_up
vb_check_ethtool
vb_pings

for side in a b; do vb_stats_now $side before; done
vb_iperf3 bidir "$seconds" --bidir
read -r ab_bytes ba_bytes ab_gbits ba_gbits <<<"$VB_IPERF"
for side in a b; do vb_stats_now $side after; done
echo "$VQ_NAME: iperf3 --bidir -t $seconds: A -> B $ab_bytes bytes ($ab_gbits Gbit/s), B -> A $ba_bytes bytes ($ba_gbits Gbit/s)"

# Both vnetd sent super-frames (their own side's iperf3 stream) and handed
# coalesced ones to their TAP (the other side's stream, passed through by
# testpmd with its GSO request).
summary=''
for side in a b; do
	d_gso=$(vb_stat_delta $side before after port_out_gso)
	d_gso_b=$(vb_stat_delta $side before after port_out_gso_bytes)
	d_coal=$(vb_stat_delta $side before after tap_out_gso)
	d_coal_b=$(vb_stat_delta $side before after tap_out_gso_bytes)
	d_csum=$(vb_stat_delta $side before after port_out_csum)
	[ "$d_gso" -gt 0 ] || vb_fail "vnetd $side: no TSO super-frame sent during iperf3 (port_out_gso +$d_gso)"
	[ "$d_coal" -gt 0 ] || vb_fail "vnetd $side: no coalesced super-frame received during iperf3 (tap_out_gso +$d_coal)"
	[ "$d_csum" -gt 0 ] || vb_fail "vnetd $side: no checksum-offloaded frame sent during iperf3 (port_out_csum +$d_csum)"
	summary="$summary vnetd $side: port_out_gso +$d_gso (+$d_gso_b bytes) tap_out_gso +$d_coal (+$d_coal_b bytes) port_out_csum +$d_csum;"
done
echo "$VQ_NAME:$summary"

vb_nstat_clean
vb_stop
for side in a b; do
	vb_check_exit $side
	vb_check $side "s['disconnects'] == 0" "the back-end was lost during the test"
	vb_check $side "s['drop_to_port_too_long'] == 0" "frames too long for the port"
	echo "$VQ_NAME: vnetd $side: $(grep -a ': exit ' "$W/$side.out")"
done
echo "$VQ_NAME: PASS (A -> B $ab_gbits Gbit/s, B -> A $ba_gbits Gbit/s;$summary)"
