#!/bin/bash
# vhost-user integration tests: libvnet (through vnet-bench) against a real
# back-end, dpdk-testpmd with the vhost PMD, and against bad_backend.py.
#
#   vhost_test.sh BENCH echo      split|packed client|server
#   vhost_test.sh BENCH intr      split|packed client|server
#   vhost_test.sh BENCH reconnect split|packed client|server
#   vhost_test.sh BENCH bad       missing|notsocket|<bad_backend fault> [client|server]
#
# "client"/"server" is vnet-bench's role: client connects to a testpmd that
# listens (vhost PMD default); server listens and testpmd connects
# (vhost PMD client=1).  Exit 0 = pass.  A missing dpdk-testpmd or
# vnet-bench is a failure, never a skip.  Every process started here is
# stopped on exit (trap), and every wait is bounded.
set -u
BENCH=$1
KIND=$2
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../lib/dpdk.sh
. "$HERE/../../lib/dpdk.sh"

OTHER_PIDS=()
work_cleanup() {
	local pid
	for pid in "${OTHER_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${OTHER_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
}
dpdk_work_init vnet-vhost-test

[ -x "$BENCH" ] || fail "vnet-bench not built at $BENCH (libvnet missing?)"
SOCK=$WORK/vhost.sock
# testpmd: back-end on CPU 0; vnet-bench on CPU 1 (distinct cores).
TESTPMD_FWD_ARGS=(--stats-period=1 --nb-cores=1 --port-topology=loop --total-num-mbufs=16384)

# Start a macswap back-end for ROLE (vnet-bench's role); sets BE.
start_backend() {
	local role=$1 log=$2 vdev="net_vhost0,iface=$SOCK,queues=1"
	[ "$role" = server ] && vdev="$vdev,client=1"
	[ "$role" = client ] && rm -f "$SOCK"
	dpdk_start BE "$log" 0 -- --vdev "$vdev" -- --forward-mode=macswap "${TESTPMD_FWD_ARGS[@]}"
	if [ "$role" = client ]; then
		dpdk_wait_socket "$SOCK" "$BE" 30 || fail "testpmd did not create $SOCK"
	fi
}

# json_check FILE 'python boolean expression over j' MESSAGE
json_check() {
	local file=$1 expr=$2 msg=$3
	python3 - "$file" "$expr" <<'EOF' || fail "$msg; JSON: $(tail -1 "$file")"
import json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
if not lines:
    sys.exit("no output")
j = json.loads(lines[-1])
sys.exit(0 if eval(sys.argv[2], {}, {"j": j}) else 1)
EOF
}

# start_bench RING ROLE TESTPMD_LOG [vnet-bench args...]: start vnet-bench
# (echo mode, CPU 1, output in bench.out/bench.err) and its macswap
# back-end in the order ROLE needs; sets VB to vnet-bench's pid.
start_bench() {
	local ring=$1 role=$2 belog=$3 srv=() i
	shift 3
	dpdk_require_testpmd || fail "dpdk-testpmd missing"
	[ "$role" = server ] && srv=(--server)
	if [ "$role" = client ]; then start_backend client "$belog"; fi
	taskset -c 1 timeout 120 "$BENCH" --vhost-user "$SOCK" "${srv[@]}" --mode echo --ring "$ring" \
		--json --quiet --connect-timeout-ms 30000 "$@" >"$WORK/bench.out" 2>"$WORK/bench.err" &
	VB=$!
	OTHER_PIDS+=("$VB")
	if [ "$role" = server ]; then
		for ((i = 0; i < 100; i++)); do [ -S "$SOCK" ] && break; sleep 0.1; done
		start_backend server "$belog"
	fi
}

# wait_bench: vnet-bench (VB) must exit 0.
wait_bench() {
	wait "$VB"
	local rc=$?
	[ $rc -eq 0 ] || fail "vnet-bench exited with $rc"
}

# run_echo RING ROLE [COUNT [extra vnet-bench args...]]
run_echo() {
	local ring=$1 role=$2 count=${3:-1000000}
	shift 2
	[ $# -gt 0 ] && shift
	start_bench "$ring" "$role" "$WORK/testpmd.log" --count "$count" --drain-ms 2000 "$@"
	wait_bench
	json_check "$WORK/bench.out" "j['mode'] == 'echo' and j['ring'] == '$ring'" "wrong mode/ring"
	json_check "$WORK/bench.out" "j['tx_packets'] == $count and j['packets'] == $count" "not every frame came back"
	json_check "$WORK/bench.out" "j['lost'] == 0 and j['corrupt'] == 0 and j['duplicates'] == 0" "lost/corrupt frames"
	json_check "$WORK/bench.out" "j['errors'] == 0" "errors counted"
	json_check "$WORK/bench.out" "j['pool_free_final'] == j['pool_free_initial']" "pool not whole at the end"
	echo "PASS: echo $ring $role: $(tail -1 "$WORK/bench.out")"
}

# Interrupt mode: the same echo check with call eventfds, vnet-bench
# sleeping in vnet_port_service() whenever it has nothing to receive and
# nothing to send.  --window 32 keeps one burst in flight: send it, then
# wait for the echo, which is when a port in interrupt mode must sleep.
run_intr() {
	local ring=$1 role=$2
	run_echo "$ring" "$role" 100000 --interrupt --window 32
	local out=$WORK/bench.out
	json_check "$out" "j['interrupt_mode'] is True" "vnet-bench did not run in interrupt mode"
	# Slept in poll() at least once and was woken by the back-end writing
	# the rx call eventfd: interrupt mode is not silently polling.
	json_check "$out" "j['intr_sleeps'] >= 1" "the port never slept (interrupt mode is polling)"
	json_check "$out" "j['intr_wakeups'] >= 1 and j['rx_interrupts'] >= j['intr_wakeups']" \
		"no sleep was ended by the rx call eventfd"
	# Every sleep had a burst in flight that testpmd echoes within
	# microseconds, so a sleep that ran into its 10 ms bound is a missed
	# notification (armed too late, or suppression left on).  A few are
	# tolerated for the host descheduling testpmd on a shared machine.
	json_check "$out" "j['intr_sleeps'] - j['intr_wakeups'] <= max(5, j['intr_sleeps'] // 100)" \
		"sleeps ran into their timeout with frames in flight (missed notifications)"
	echo "PASS: intr $ring $role: $(tail -1 "$out")"
}

run_reconnect() {
	local ring=$1 role=$2
	start_bench "$ring" "$role" "$WORK/testpmd1.log" --seconds 12 --reconnect-ms 100 --drain-ms 1000
	dpdk_wait_started "$WORK/testpmd1.log" "$BE" 30 || fail "first testpmd did not start"
	# Let traffic flow, then kill the back-end hard (no goodbye), mid-traffic.
	sleep 3
	kill -0 "$VB" 2>/dev/null || fail "vnet-bench died before the back-end was killed"
	kill -KILL "$BE"
	wait "$BE" 2>/dev/null
	sleep 1
	start_backend "$role" "$WORK/testpmd2.log"
	wait_bench
	json_check "$WORK/bench.out" "j['disconnects'] >= 1 and j['connects'] >= 2" "no reconnect seen"
	json_check "$WORK/bench.out" "j['inflight_reclaimed'] >= 1" "no in-flight buffer reclaimed at the loss"
	json_check "$WORK/bench.out" "j['rx_after_reconnect'] > 0" "no traffic after the reconnect"
	json_check "$WORK/bench.out" "j['corrupt'] == 0 and j['duplicates'] == 0" "corrupt/duplicate frames"
	json_check "$WORK/bench.out" "j['pool_free_final'] == j['pool_free_initial']" "buffers leaked: pool not whole at the end"
	# Frames in flight when the back-end died are lost, and so can be a few
	# sent while the new back-end is still starting (it acknowledges setup
	# before its forwarding loop runs); more than 1% would mean the
	# driver, not the back-end, loses traffic.
	json_check "$WORK/bench.out" "j['lost'] * 100 < j['tx_packets']" "more than 1% of the frames lost"
	echo "PASS: reconnect $ring $role: $(tail -1 "$WORK/bench.out")"
}

# bad CASE [ROLE]: vnet-bench must exit 1 (not crash, not hang) with a clear message.
run_bad() {
	local fault=$1 role=${2:-client} srv=() expect bb=
	case $fault in
	missing) expect='does not exist' ;;
	notsocket) expect='not a UNIX socket' ;;
	noversion) expect='VERSION_1' ;;
	truncated) expect='truncated|connection lost|hung up' ;;
	malformed) expect='payload size' ;;
	badversion) expect='version' ;;
	wrongcode) expect='different request' ;;
	noreplyflag) expect='REPLY flag' ;;
	oversize) expect='exceeds|oversize' ;;
	silent) expect='in time' ;;
	hangup) expect='connection lost|hung up' ;;
	*) fail "unknown bad case $fault" ;;
	esac
	[ "$role" = server ] && srv=(--server)
	case $fault in
	missing) ;;
	notsocket) : >"$SOCK" ;;
	*)
		if [ "$role" = client ]; then
			python3 "$HERE/bad_backend.py" "$SOCK" --fault "$fault" --timeout 30 2>"$WORK/backend.err" &
			bb=$!
			OTHER_PIDS+=("$bb")
			for ((i = 0; i < 100; i++)); do [ -S "$SOCK" ] && break; sleep 0.1; done
			[ -S "$SOCK" ] || fail "bad_backend did not listen"
		fi
		;;
	esac
	timeout 60 "$BENCH" --vhost-user "$SOCK" "${srv[@]}" --mode echo --count 10 --connect-timeout-ms 3000 \
		>"$WORK/bench.out" 2>"$WORK/bench.err" &
	local vb=$!
	OTHER_PIDS+=("$vb")
	if [ "$role" = server ] && [ -n "$fault" ] && [ "$fault" != missing ] && [ "$fault" != notsocket ]; then
		python3 "$HERE/bad_backend.py" "$SOCK" --connect --fault "$fault" --timeout 30 2>"$WORK/backend.err" &
		bb=$!
		OTHER_PIDS+=("$bb")
	fi
	wait "$vb"
	local rc=$?
	[ $rc -eq 124 ] && fail "vnet-bench hung (killed by timeout)"
	[ $rc -ge 128 ] && fail "vnet-bench crashed (status $rc)"
	[ $rc -eq 1 ] || fail "vnet-bench exited with $rc, expected 1 (open failed)"
	grep -q "vnet-bench: cannot open vhost-user port" "$WORK/bench.err" || fail "no clear error line on stderr"
	grep -Eqi "$expect" "$WORK/bench.err" || fail "stderr does not name the cause (/$expect/)"
	if [ -n "$bb" ]; then
		wait "$bb"
		grep -q "delivering fault" "$WORK/backend.err" || fail "bad_backend never delivered its fault"
	fi
	echo "PASS: bad $fault $role: $(grep -E 'vnet-bench|vnet err' "$WORK/bench.err" | tr '\n' '|')"
}

case $KIND in
echo) run_echo "$@" ;;
intr) run_intr "$@" ;;
reconnect) run_reconnect "$@" ;;
bad) run_bad "$@" ;;
*) fail "unknown test kind $KIND" ;;
esac
