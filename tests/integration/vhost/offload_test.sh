#!/bin/bash
# Offloads against a real vhost-user back-end (issue 9): dpdk-testpmd's
# vhost PMD with tso=1 in io forwarding, loop topology (every frame goes
# back out of the port it came in), and vnet_offload_check as the client.
#
#   offload_test.sh CHECK_BIN split|packed [tx|rx|rxbig]
#
# rx: testpmd's csum engine instead ("csum set tcp hw", "tso set 1448"),
# which offloads again what it forwards, so the frames come back through
# our receive offload path: vnet_offload_check --expect-rx-offload (the
# checksum-partial frame as CSUM_PARTIAL, the super-frame as a coalesced
# GSO TCPv4 frame with gso_size 1448).  rxbig: the same without
# MRG_RXBUF, so the coalesced frame lands in a big-packet receive chain.
#
# Pass: vnet_offload_check exits 0 (CSUM and HOST_TSO4 negotiated; a
# checksum-partial frame and a 20054-byte TSO4 super-frame sent as a chain
# came back byte-exact with their checksum metadata understood, see its
# header) and testpmd's own port counters show both frames arrived
# (RX-packets >= 2, RX-bytes >= 1054 + 20054).  A missing dpdk-testpmd or
# binary is a failure.  Every process started here is stopped on exit.
set -u
CHECK=$1
RING=$2
MODE=${3:-tx}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../lib/dpdk.sh
. "$HERE/../../lib/dpdk.sh"

DPDK_FAIL_LINES=25
dpdk_work_init off-core-vhost-offload

[ -x "$CHECK" ] || fail "vnet_offload_check not built at $CHECK"
dpdk_require_testpmd || exit 1
SOCK=$WORK/vhost.sock
LOG=$WORK/testpmd.log
FWD=(--forward-mode=io)
CHECK_ARGS=()
if [ "$MODE" = rx ] || [ "$MODE" = rxbig ]; then
	printf '%s\n' "port stop 0" "csum set ip sw 0" "csum set tcp hw 0" "tso set 1448 0" "port start 0" >"$WORK/cmds"
	FWD=(--forward-mode=csum --cmdline-file="$WORK/cmds")
	CHECK_ARGS=(--expect-rx-offload)
	[ "$MODE" = rxbig ] && CHECK_ARGS+=(--no-mrg)
fi
dpdk_start BE "$LOG" 0 -- --vdev "net_vhost0,iface=$SOCK,queues=1,tso=1" -- \
	"${FWD[@]}" --stats-period=1 --nb-cores=1 --port-topology=loop --total-num-mbufs=16384
dpdk_wait_socket "$SOCK" "$BE" 30 || fail "testpmd did not create $SOCK"
dpdk_wait_started "$LOG" "$BE" 30 || fail "testpmd did not start forwarding"

taskset -c 1 timeout 60 "$CHECK" --socket "$SOCK" --ring "$RING" --timeout-s 15 "${CHECK_ARGS[@]}" \
	>"$WORK/check.out" 2>"$WORK/check.err"
rc=$?
cat "$WORK/check.out"
[ $rc -eq 0 ] || fail "vnet_offload_check exited $rc"
# The layout asked for is the one used.
grep -q "\"layout\":\"$RING\"" "$WORK/check.out" || fail "ring layout is not $RING"

# testpmd's view: the statistics printed on SIGTERM (and every second)
# name what port 0 received.
sleep 1.5
dpdk_stop "$BE"
read -r pkts bytes < <(tr -d '\r' <"$LOG" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' |
	awk '/RX-packets:/ { for (i = 1; i < NF; i++) { if ($i == "RX-packets:") p = $(i+1); if ($i == "RX-bytes:") b = $(i+1) } }
	     END { print p + 0, b + 0 }')
echo "testpmd port 0: RX-packets $pkts RX-bytes $bytes"
[ "$pkts" -ge 2 ] || fail "testpmd counted $pkts received frames, want >= 2"
[ "$bytes" -ge 21108 ] || fail "testpmd counted $bytes received bytes, want >= 21108"
echo "PASS"
