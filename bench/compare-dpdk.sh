#!/bin/bash
# compare-dpdk.sh: vnet-bench (libvnet) against DPDK's own virtio-user PMD,
# both driving the same kind of back-end (dpdk-testpmd + vhost PMD), in the
# same run, alternating, with matching ring options.
#
#   bench/compare-dpdk.sh [--bench build/bin/vnet-bench] [--seconds 6] [--rounds 2]
#                         [--rings "split packed"] [--tests "tx rx latency"]
#                         [--queue-size 256] [--out FILE]
#
# Per ring layout and per test, each round runs ours then DPDK's front-end:
#   tx:      back-end testpmd rxonly;  front-end sends 64-byte frames
#            (vnet-bench --mode tx | testpmd --forward-mode=txonly --txpkts=64)
#   rx:      back-end testpmd txonly (64-byte frames); front-end receives
#            (vnet-bench --mode rx | testpmd --forward-mode=rxonly)
#   latency: back-end testpmd macswap; vnet-bench --mode latency.  testpmd
#            22.11 has no ping-pong forwarding mode (modes: io mac macswap
#            flowgen rxonly txonly csum icmpecho noisy 5tswap shared_rxq),
#            so DPDK's latency is measured by bench/lib/dpdk_pingpong.c (a
#            small DPDK program written for this comparison: one frame in
#            flight over net_virtio_user, same clock) when it builds
#            against libdpdk-dev, and reported "not measured" otherwise.
# The primary rate is what the BACK-END counted (testpmd's Rx-pps for tx,
# Tx-pps for rx: the same instrument for both front-ends); each front-end's
# own figure is shown next to it.  Median over testpmd's 1-second samples,
# first and last dropped.
#
# Placement: one queue pair, back-end on CPU 0, front-end on CPU 1.  Each
# testpmd runs two lcores on its CPU (main lcore prints stats, forwarding
# lcore polls).  Every DPDK process has its own --file-prefix and socket.
# Memory: hugepages if >= 512 free 2 MiB pages are mounted, else --no-huge
# -m 1024 (see tests/lib/dpdk.sh).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../tests/lib/dpdk.sh
. "$HERE/../tests/lib/dpdk.sh"

BENCH=$HERE/../build/bin/vnet-bench
SECONDS_PER_RUN=6
ROUNDS=2
RINGS="split packed"
TESTS="tx rx latency"
QSIZE=256
OUT=""
while [ $# -gt 0 ]; do
	case $1 in
	--bench) BENCH=$2; shift 2 ;;
	--seconds) SECONDS_PER_RUN=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--rings) RINGS=$2; shift 2 ;;
	--tests) TESTS=$2; shift 2 ;;
	--queue-size) QSIZE=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	-h | --help) sed -n '2,30p' "$0"; exit 0 ;;
	*) echo "compare-dpdk.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -x "$BENCH" ] || { echo "compare-dpdk.sh: $BENCH not built (./vnet.sh build)" >&2; exit 1; }
dpdk_require_testpmd || exit 1

WORK=$(mktemp -d /tmp/vnet-compare.XXXXXX)
OTHER_PIDS=()
cleanup() {
	local pid
	for pid in "${OTHER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	dpdk_cleanup
	for pid in "${OTHER_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
FWD_COMMON=(--stats-period=1 --nb-cores=1 --port-topology=loop --total-num-mbufs=32768 --burst=32)
RUN=0

# DPDK ping-pong helper (latency), built once if libdpdk-dev is there.
PINGPONG=""
if pkg-config --exists libdpdk 2>/dev/null; then
	# shellcheck disable=SC2046
	if gcc -O2 -o "$WORK/dpdk_pingpong" "$HERE/lib/dpdk_pingpong.c" $(pkg-config --cflags --libs libdpdk) \
		>"$WORK/pingpong-build.log" 2>&1; then
		PINGPONG=$WORK/dpdk_pingpong
	else
		echo "note: bench/lib/dpdk_pingpong.c did not build (see $WORK/pingpong-build.log): DPDK latency not measured" >&2
	fi
else
	echo "note: libdpdk-dev (pkg-config libdpdk) missing: DPDK latency not measured" >&2
fi

virtio_user_vdev() { # ring sock
	local v="net_virtio_user0,path=$2,queues=1,queue_size=$QSIZE"
	if [ "$1" = packed ]; then v="$v,packed_vq=1,in_order=1,vectorized=1"; else v="$v,in_order=1"; fi
	echo "$v"
}
virtio_user_eal() { # ring
	[ "$1" = packed ] && echo "--force-max-simd-bitwidth=512"
	return 0
}

# start_backend FWD -> BE pid, SOCK, BELOG
start_backend() {
	local fwd=$1
	RUN=$((RUN + 1))
	SOCK=$WORK/vhost-$RUN.sock
	BELOG=$WORK/backend-$RUN-$fwd.log
	local extra=()
	[ "$fwd" = txonly ] && extra=(--txpkts=64)
	dpdk_start BE "$BELOG" 0 -- --vdev "net_vhost0,iface=$SOCK,queues=1" -- \
		--forward-mode="$fwd" "${FWD_COMMON[@]}" "${extra[@]}"
	dpdk_wait_socket "$SOCK" "$BE" 60 || { tail -20 "$BELOG" >&2; exit 1; }
	dpdk_wait_started "$BELOG" "$BE" 60 || exit 1
}

json_field() { # file field
	tail -1 "$1" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$2', 0))"
}

# run_ours RING MODE -> sets SELF (Mpps, front-end's figure) and BACK (Mpps, back-end's)
run_ours() {
	local ring=$1 mode=$2 fwd key
	case $mode in tx) fwd=rxonly key=Rx-pps ;; rx) fwd=txonly key=Tx-pps ;; esac
	start_backend "$fwd"
	local out=$WORK/ours-$RUN-$ring-$mode.json
	taskset -c 1 timeout $((SECONDS_PER_RUN + 60)) "$BENCH" --vhost-user "$SOCK" --mode "$mode" --ring "$ring" \
		--queue-size "$QSIZE" --burst 32 --size 64 --seconds "$SECONDS_PER_RUN" --json --quiet \
		>"$out" 2>"$out.err" || { echo "vnet-bench failed:" >&2; cat "$out.err" >&2; }
	dpdk_stop "$BE"
	SELF=$(python3 -c "print('%.3f' % ($(json_field "$out" pps) / 1e6))")
	BACK=$(python3 -c "print('%.3f' % ($(dpdk_pps_from_log "$BELOG" "$key") / 1e6))")
}

run_dpdk() {
	local ring=$1 mode=$2 fwd key fefwd fekey
	case $mode in
	tx) fwd=rxonly key=Rx-pps fefwd=txonly fekey=Tx-pps ;;
	rx) fwd=txonly key=Tx-pps fefwd=rxonly fekey=Rx-pps ;;
	esac
	start_backend "$fwd"
	local felog=$WORK/dpdk-$RUN-$ring-$mode.log
	# shellcheck disable=SC2046
	dpdk_start FE "$felog" 1 $(virtio_user_eal "$ring") '--log-level=pmd.net.virtio.*:info' \
		--vdev "$(virtio_user_vdev "$ring" "$SOCK")" -- \
		--forward-mode="$fefwd" "${FWD_COMMON[@]}" --txpkts=64
	dpdk_wait_started "$felog" "$FE" 60 || true
	sleep "$SECONDS_PER_RUN"
	dpdk_stop "$FE"
	dpdk_stop "$BE"
	SELF=$(python3 -c "print('%.3f' % ($(dpdk_pps_from_log "$felog" "$fekey") / 1e6))")
	BACK=$(python3 -c "print('%.3f' % ($(dpdk_pps_from_log "$BELOG" "$key") / 1e6))")
	DPDK_PATHS=$(grep -a 'set_rxtx_funcs' "$felog" | sed 's/^.*virtio: using //; s/ on port.*//' | sort -u | tr '\n' ';')
}

# Latency: ours and DPDK's ping-pong; sets LAT (p50/p99/p99.9 in us) per side
run_lat_ours() {
	local ring=$1
	start_backend macswap
	local out=$WORK/ours-$RUN-$ring-latency.json
	taskset -c 1 timeout $((SECONDS_PER_RUN + 60)) "$BENCH" --vhost-user "$SOCK" --mode latency --ring "$ring" \
		--queue-size "$QSIZE" --size 64 --seconds "$SECONDS_PER_RUN" --json --quiet >"$out" 2>"$out.err" ||
		{ echo "vnet-bench failed:" >&2; cat "$out.err" >&2; }
	dpdk_stop "$BE"
	LAT=$(tail -1 "$out" | python3 -c "import json,sys; j=json.load(sys.stdin); \
print('%.2f / %.2f / %.2f (%d samples)' % (j['p50_ns']/1e3, j['p99_ns']/1e3, j['p999_ns']/1e3, j['samples']))")
}

run_lat_dpdk() {
	local ring=$1
	if [ -z "$PINGPONG" ]; then LAT="not measured"; return; fi
	start_backend macswap
	local out=$WORK/dpdk-$RUN-$ring-latency.log
	dpdk_mem_init
	# shellcheck disable=SC2046,SC2086
	taskset -c 1 timeout $((SECONDS_PER_RUN + 60)) "$PINGPONG" -l 1 $DPDK_MEM_ARGS --no-pci \
		--file-prefix="pp-$RUN-$$" $(virtio_user_eal "$ring") --vdev "$(virtio_user_vdev "$ring" "$SOCK")" \
		-- --seconds "$SECONDS_PER_RUN" --size 64 >"$out" 2>&1 </dev/null
	dpdk_stop "$BE"
	LAT=$(grep -a '^{' "$out" | tail -1 | python3 -c "import json,sys; j=json.load(sys.stdin); \
print('%.2f / %.2f / %.2f (%d samples)' % (j['p50_ns']/1e3, j['p99_ns']/1e3, j['p999_ns']/1e3, j['samples']))" \
		2>/dev/null || echo "failed (see $out)")
}

ratio() { python3 -c "a,b=$1,$2; print('%.2f' % (a/b) if b > 0 else 'n/a')"; }

dpdk_mem_init
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "dpdk: $(dpkg-query -W -f='${Version}' dpdk 2>/dev/null || echo unknown); memory: $DPDK_MEM_KIND; commit: $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null)"
	echo "per run: ${SECONDS_PER_RUN} s, ${ROUNDS} rounds alternating vnet/DPDK, 64-byte frames, queue size $QSIZE, burst 32"
} | tee "$WORK/header.txt"

ROWS=()
for ring in $RINGS; do
	for mode in tx rx; do
		case " $TESTS " in *" $mode "*) ;; *) continue ;; esac
		for ((r = 1; r <= ROUNDS; r++)); do
			run_ours "$ring" "$mode"
			o_back=$BACK o_self=$SELF
			run_dpdk "$ring" "$mode"
			d_back=$BACK d_self=$SELF
			row="| $ring | $mode | $r | $o_back | $d_back | $(ratio "$o_back" "$d_back") | $o_self | $d_self |"
			echo "$row"
			ROWS+=("$row")
			[ -n "${DPDK_PATHS:-}" ] && echo "  DPDK virtio path: $DPDK_PATHS"
		done
	done
done
LROWS=()
for ring in $RINGS; do
	case " $TESTS " in *" latency "*) ;; *) continue ;; esac
	# Rounds alternate ours/DPDK like the throughput tests: on a shared or
	# nested-virtualised host the round-trip cost shifts with where the
	# vCPUs run, for both front-ends alike, so only neighbours compare.
	for ((r = 1; r <= ROUNDS; r++)); do
		run_lat_ours "$ring"
		o=$LAT
		run_lat_dpdk "$ring"
		row="| $ring | $r | $o | $LAT |"
		echo "$row"
		LROWS+=("$row")
	done
done

{
	echo
	cat "$WORK/header.txt"
	echo
	echo "Throughput, Mpps (back-end = counted by the testpmd back-end, the same instrument for both;"
	echo "self = the front-end's own figure):"
	echo
	echo "| ring | test | round | vnet (back-end) | DPDK (back-end) | vnet/DPDK | vnet (self) | DPDK (self) |"
	echo "|---|---|---|---|---|---|---|---|"
	printf '%s\n' "${ROWS[@]}"
	echo
	echo "Round-trip latency through testpmd macswap, one frame in flight, µs p50 / p99 / p99.9:"
	echo
	echo "| ring | round | vnet-bench | DPDK virtio-user (dpdk_pingpong) |"
	echo "|---|---|---|---|"
	printf '%s\n' "${LROWS[@]}"
} | tee "$WORK/result.md"
[ -n "$OUT" ] && cp "$WORK/result.md" "$OUT"
echo "logs: $WORK"
