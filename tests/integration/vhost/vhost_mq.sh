#!/bin/bash
# vhost_mq: multiqueue over vhost-user.  A vhost-user back-end serves no
# control queue, so libvnet's port serves it itself (like DPDK's
# virtio-user): the driver's VQ_PAIRS_SET becomes SET_VRING_ENABLE per
# ring.  This runs dpdk-testpmd's vhost PMD with queues=N and macswap on
# N rx/tx queue pairs, and vnet_mq_echo with --pairs N, which echoes
# --count frames on every pair and checks each came back on its own
# pair, intact, once.  Then testpmd itself must have counted the traffic
# on every one of its N forwarding streams (its per-queue "Forward Stats"
# at exit): the pairs are real rings on the back-end, not a driver-side
# illusion.
#
#   vhost_mq.sh MQ_ECHO_BIN [PAIRS [COUNT]]      (defaults 2, 1000000)
#
# Exit 0 = pass, 1 = fail (a missing dpdk-testpmd or binary is a failure,
# as in vhost_test.sh).  testpmd gets its own --file-prefix (ctrlmq-PID)
# and socket; every process started here is stopped on exit.
set -u
BIN=$1
PAIRS=${2:-2}
COUNT=${3:-1000000}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../lib/dpdk.sh
. "$HERE/../../lib/dpdk.sh"
VB=
work_cleanup() { [ -n "$VB" ] && { kill -TERM "$VB" 2>/dev/null; wait "$VB" 2>/dev/null; }; }
DPDK_FAIL_LINES=25
dpdk_work_init ctrl-vhost-mq "vhost_mq: "
[ -x "$BIN" ] || fail "vnet_mq_echo not built at $BIN"
dpdk_require_testpmd || fail "dpdk-testpmd missing"
SOCK=$WORK/vhost.sock
dpdk_start ctrlmq "$WORK/testpmd.log" 0 -- --vdev "net_vhost0,iface=$SOCK,queues=$PAIRS" -- \
	--forward-mode=macswap --rxq="$PAIRS" --txq="$PAIRS" --nb-cores=1 --port-topology=loop \
	--stats-period=1 --total-num-mbufs=32768
# shellcheck disable=SC2154  # set by dpdk_start
dpdk_wait_socket "$SOCK" "$ctrlmq" 30 || fail "testpmd did not create $SOCK"
taskset -c 1 timeout 180 "$BIN" --socket "$SOCK" --pairs "$PAIRS" --count "$COUNT" --timeout-s 150 \
	>"$WORK/mq.out" 2>"$WORK/mq.err" &
VB=$!
wait "$VB"
rc=$?
VB=
[ $rc -eq 0 ] || fail "vnet_mq_echo exited with $rc: $(tail -1 "$WORK/mq.out")"
echo "vhost_mq: libvnet: $(tail -1 "$WORK/mq.out")"
grep -a "queue pairs (" "$WORK/mq.err" | tail -1
# testpmd's own count, per forwarding stream, at exit.
dpdk_stop "$ctrlmq"
tr -d '\r' <"$WORK/testpmd.log" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' >"$WORK/testpmd.txt"
python3 - "$WORK/testpmd.txt" "$PAIRS" "$COUNT" <<'PY' || fail "testpmd did not forward COUNT frames on every queue"
import re, sys
text = open(sys.argv[1]).read()
pairs, count = int(sys.argv[2]), int(sys.argv[3])
got = {}
for m in re.finditer(r"Forward Stats for RX Port=\s*0/Queue=\s*(\d+) -> TX Port=\s*0/Queue=\s*(\d+)\s*-+\s*"
                     r"RX-packets:\s*(\d+)\s+TX-packets:\s*(\d+)\s+TX-dropped:\s*(\d+)", text):
    rxq, txq, rx, tx, drop = map(int, m.groups())
    got[rxq] = (txq, rx, tx, drop)
ok = True
for q in range(pairs):
    if q not in got:
        print("testpmd: no forward stats for queue %d" % q); ok = False; continue
    txq, rx, tx, drop = got[q]
    print("testpmd: queue %d -> %d: RX-packets %d TX-packets %d TX-dropped %d" % (q, txq, rx, tx, drop))
    if txq != q or rx < count or tx < count or drop:
        ok = False
sys.exit(0 if ok else 1)
PY
echo "vhost_mq: PASS $PAIRS pairs, $COUNT frames echoed on each, counted by testpmd per queue"
