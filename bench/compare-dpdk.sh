#!/bin/bash
# compare-dpdk.sh: vnet-bench (libvnet) against DPDK's own virtio-user PMD,
# both driving the same back-end (dpdk-testpmd + vhost PMD), in the same
# run, alternating, each measurement counted by the BACK-END.
#
#   bench/compare-dpdk.sh [--bench BIN] [--bench-b BIN2] [--seconds 5] [--rounds 3]
#                         [--rings "split packed"] [--tests "tx rx latency"]
#                         [--sizes "64 1518"] [--queue-size 256] [--out FILE] [--short]
#
# Per ring layout, test and frame size, each round runs ours then DPDK's
# front-end (with --bench-b: ours A, ours B, DPDK), a fresh back-end each:
#   tx:      back-end testpmd rxonly; front-end sends
#            (vnet-bench --mode tx --rewrite-headers | testpmd txonly)
#   rx:      back-end testpmd txonly; front-end receives
#            (vnet-bench --mode rx | testpmd rxonly)
#   latency: back-end testpmd macswap; one 64-byte frame in flight
#            (vnet-bench --mode latency | bench/lib/dpdk_pingpong.c, a small
#            DPDK program written for this comparison: testpmd 22.11 has no
#            ping-pong mode).
# Equal work per frame: testpmd txonly copies Ethernet/IPv4/UDP headers into
# every mbuf; vnet-bench --rewrite-headers writes the same 42 bytes per frame.
# Sizes: "1518" is on the wire with FCS, a 1514-byte frame for both sides
# (vnet-bench --size 1514, testpmd --txpkts=1514: one buffer, no jumbo);
# "64" is a 64-byte frame for both (--size 64 / --txpkts=64), as in the
# issue's figures.
#
# Two back-end counts per measurement, both testpmd's (the same instrument
# for both front-ends): "samples" = median of its 1-second Rx-pps (tx) or
# Tx-pps (rx) samples, first and last dropped; "total" = its end-of-run
# RX-packets (TX-packets) divided by the front-end's active time (vnet-bench's
# own elapsed time; for DPDK's front-end, from "packet forwarding" in its log
# to the stop signal).  Rows give min / median / max over the rounds.
#
# Placement (issue 14): back-end on CPU 1, front-end on CPU 0; each testpmd
# runs its main lcore (stats) and one forwarding lcore on its CPU.
# DPDK's front-end on its best path per layout: packed = packed_vq=1,
# in_order=1, vectorized=1, mrg_rxbuf=0 (DPDK's vectorized packed Rx needs
# mergeable buffers off) with --force-max-simd-bitwidth=512; split =
# in_order=1, mrg_rxbuf=0 (DPDK's split vectorized Rx excludes in_order; its
# in-order Tx is its fastest split Tx).  The "DPDK path" line quotes the
# paths DPDK's log says it chose.
# --short: 1 round x 1 s per measurement (CTest bench_compare_dpdk_short:
# checks the script runs end to end and prints every row with numbers).
# Memory: hugepages if >= 512 free 2 MiB pages are mounted, else --no-huge
# -m 1024 (see tests/lib/dpdk.sh).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../tests/lib/dpdk.sh
. "$HERE/../tests/lib/dpdk.sh"

BENCH=$HERE/../build/bin/vnet-bench
BENCH_B=""
SECONDS_PER_RUN=5
ROUNDS=3
RINGS="split packed"
TESTS="tx rx latency"
SIZES="64 1518"
QSIZE=256
OUT=""
BE_CPU=${COMPARE_BE_CPU:-1}
FE_CPU=${COMPARE_FE_CPU:-0}
while [ $# -gt 0 ]; do
	case $1 in
	--bench) BENCH=$2; shift 2 ;;
	--bench-b) BENCH_B=$2; shift 2 ;;
	--seconds) SECONDS_PER_RUN=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--rings) RINGS=$2; shift 2 ;;
	--tests) TESTS=$2; shift 2 ;;
	--sizes) SIZES=$2; shift 2 ;;
	--queue-size) QSIZE=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--short) ROUNDS=1; SECONDS_PER_RUN=1; shift ;;
	-h | --help) sed -n '2,48p' "$0"; exit 0 ;;
	*) echo "compare-dpdk.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -x "$BENCH" ] || { echo "compare-dpdk.sh: $BENCH not built (./vnet.sh build)" >&2; exit 1; }
[ -z "$BENCH_B" ] || [ -x "$BENCH_B" ] || { echo "compare-dpdk.sh: $BENCH_B not executable" >&2; exit 1; }
dpdk_require_testpmd || exit 1
command -v python3 >/dev/null || { echo "compare-dpdk.sh: python3 missing (Debian package python3)" >&2; exit 1; }

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
	local v="net_virtio_user0,path=$2,queues=1,queue_size=$QSIZE,mrg_rxbuf=0"
	if [ "$1" = packed ]; then v="$v,packed_vq=1,in_order=1,vectorized=1"; else v="$v,in_order=1"; fi
	echo "$v"
}
virtio_user_eal() { # ring
	[ "$1" = packed ] && echo "--force-max-simd-bitwidth=512"
	return 0
}
# frame length without FCS for a size given on the wire (1518 -> 1514);
# 64 stays 64 (the issue's and the earlier figures' 64-byte row).
frame_len() { if [ "$1" -gt 64 ]; then echo $(($1 - 4)); else echo "$1"; fi; }

# start_backend FWD LEN -> BE pid, SOCK, BELOG
start_backend() {
	local fwd=$1 len=$2
	RUN=$((RUN + 1))
	SOCK=$WORK/vhost-$RUN.sock
	BELOG=$WORK/backend-$RUN-$fwd.log
	dpdk_start BE "$BELOG" "$BE_CPU" -- --vdev "net_vhost0,iface=$SOCK,queues=1" -- \
		--forward-mode="$fwd" "${FWD_COMMON[@]}" --txpkts="$len"
	dpdk_wait_socket "$SOCK" "$BE" 60 || { tail -20 "$BELOG" >&2; exit 1; }
	dpdk_wait_started "$BELOG" "$BE" 60 || exit 1
}

# End-of-run total of the back-end ("Accumulated forward statistics"):
# backend_total LOG RX|TX -> packets (0 if absent)
backend_total() {
	tr -d '\r' <"$1" | awk -v k="$2-packets:" '
		/Accumulated forward statistics/ { acc = 1; next }
		acc { for (i = 1; i < NF; i++) if ($i == k) { print $(i+1); found = 1; exit } }
		END { if (!found) print 0 }'
}
mpps() { python3 -c "print('%.3f' % ($1 / 1e6 / $2) if $2 > 0 else '0.000')"; }

# run_ours BIN RING MODE SIZE -> SAMP, TOT (Mpps by the back-end)
run_ours() {
	local bin=$1 ring=$2 mode=$3 size=$4 fwd key tkey len extra=()
	len=$(frame_len "$size")
	case $mode in
	tx) fwd=rxonly key=Rx-pps tkey=RX extra=(--rewrite-headers) ;;
	rx) fwd=txonly key=Tx-pps tkey=TX ;;
	esac
	start_backend "$fwd" "$len"
	local out=$WORK/ours-$RUN-$ring-$mode-$size.json
	taskset -c "$FE_CPU" timeout $((SECONDS_PER_RUN + 60)) "$bin" --vhost-user "$SOCK" --mode "$mode" --ring "$ring" \
		--queue-size "$QSIZE" --burst 32 --size "$len" --seconds "$SECONDS_PER_RUN" --drain-ms 0 "${extra[@]}" \
		--json --quiet >"$out" 2>"$out.err" || { echo "vnet-bench failed ($out.err):" >&2; cat "$out.err" >&2; }
	dpdk_stop "$BE"
	local secs
	secs=$(tail -1 "$out" | python3 -c "import json,sys; print(json.load(sys.stdin)['seconds'])" 2>/dev/null || echo 0)
	SAMP=$(mpps "$(dpdk_pps_from_log "$BELOG" "$key")" 1)
	TOT=$(mpps "$(backend_total "$BELOG" "$tkey")" "$secs")
}

# run_dpdk RING MODE SIZE -> SAMP, TOT, DPDK_PATHS
run_dpdk() {
	local ring=$1 mode=$2 size=$3 fwd key tkey fefwd len t0 t1 i
	len=$(frame_len "$size")
	case $mode in
	tx) fwd=rxonly key=Rx-pps tkey=RX fefwd=txonly ;;
	rx) fwd=txonly key=Tx-pps tkey=TX fefwd=rxonly ;;
	esac
	start_backend "$fwd" "$len"
	local felog=$WORK/dpdk-$RUN-$ring-$mode-$size.log
	# shellcheck disable=SC2046
	dpdk_start FE "$felog" "$FE_CPU" $(virtio_user_eal "$ring") '--log-level=pmd.net.virtio.*:info' \
		--vdev "$(virtio_user_vdev "$ring" "$SOCK")" -- \
		--forward-mode="$fefwd" "${FWD_COMMON[@]}" --txpkts="$len"
	dpdk_wait_started "$felog" "$FE" 60 || true
	t0=$(date +%s.%N)
	sleep "$SECONDS_PER_RUN"
	kill -TERM "$FE" 2>/dev/null
	# testpmd acts on SIGTERM from its 1-second stats loop, so its cores
	# forward on for up to a second: the active time ends when it says it
	# stops them.
	for ((i = 0; i < 150; i++)); do
		grep -qa "Telling cores to stop" "$felog" && break
		sleep 0.02
	done
	t1=$(date +%s.%N)
	dpdk_stop "$FE"
	dpdk_stop "$BE"
	SAMP=$(mpps "$(dpdk_pps_from_log "$BELOG" "$key")" 1)
	TOT=$(mpps "$(backend_total "$BELOG" "$tkey")" "$(python3 -c "print($t1 - $t0)")")
	DPDK_PATHS=$(grep -a 'set_rxtx_funcs' "$felog" | sed 's/^.*virtio: using //; s/ on port.*//' | sort -u | tr '\n' ';')
}

lat_json() { # file -> "p50 p99 p999" in us, or "- - -"
	grep -a '^{' "$1" 2>/dev/null | tail -1 | python3 -c "import json,sys; j=json.load(sys.stdin); \
print('%.2f %.2f %.2f' % (j['p50_ns']/1e3, j['p99_ns']/1e3, j['p999_ns']/1e3))" 2>/dev/null || echo "- - -"
}
run_lat_ours() { # BIN RING -> LAT
	local bin=$1 ring=$2
	start_backend macswap 64
	local out=$WORK/ours-$RUN-$ring-latency.json
	taskset -c "$FE_CPU" timeout $((SECONDS_PER_RUN + 60)) "$bin" --vhost-user "$SOCK" --mode latency --ring "$ring" \
		--queue-size "$QSIZE" --size 64 --seconds "$SECONDS_PER_RUN" --json --quiet >"$out" 2>"$out.err" ||
		{ echo "vnet-bench failed:" >&2; cat "$out.err" >&2; }
	dpdk_stop "$BE"
	LAT=$(lat_json "$out")
}
run_lat_dpdk() { # RING -> LAT
	local ring=$1
	if [ -z "$PINGPONG" ]; then LAT="- - -"; return; fi
	start_backend macswap 64
	local out=$WORK/dpdk-$RUN-$ring-latency.log
	dpdk_mem_init
	# shellcheck disable=SC2046,SC2086
	taskset -c "$FE_CPU" timeout $((SECONDS_PER_RUN + 60)) "$PINGPONG" -l "$FE_CPU" $DPDK_MEM_ARGS --no-pci \
		--file-prefix="pp-$RUN-$$" $(virtio_user_eal "$ring") --vdev "$(virtio_user_vdev "$ring" "$SOCK")" \
		-- --seconds "$SECONDS_PER_RUN" --size 64 >"$out" 2>&1 </dev/null
	dpdk_stop "$BE"
	LAT=$(lat_json "$out")
}

# spread "v1 v2 ..." -> "min / median / max" (lower median for even counts)
spread() {
	python3 -c "
import sys
v = sorted(float(x) for x in sys.argv[1:] if x not in ('-', ''))
if not v: print('n/a')
elif len(v) == 1: print('%.2f' % v[0])
else: print('%.2f / %.2f / %.2f' % (v[0], v[(len(v) - 1) // 2], v[-1]))" "$@"
}
med() {
	python3 -c "
import sys
v = sorted(float(x) for x in sys.argv[1:] if x not in ('-', ''))
print('%.3f' % v[(len(v) - 1) // 2] if v else 0)" "$@"
}
ratio() { python3 -c "a,b=$1,$2; print('%.2f' % (a/b) if b > 0 else 'n/a')"; }

dpdk_mem_init
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
	echo "dpdk: $(dpkg-query -W -f='${Version}' dpdk-dev 2>/dev/null || echo unknown); memory: $DPDK_MEM_KIND; commit: $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null)$(git -C "$HERE/.." diff --quiet HEAD 2>/dev/null || echo '+dirty')"
	echo "vnet A: $BENCH${BENCH_B:+; vnet B: $BENCH_B}"
	echo "per measurement: ${SECONDS_PER_RUN} s; ${ROUNDS} rounds alternating; queue size $QSIZE, burst 32; back-end CPU $BE_CPU, front-end CPU $FE_CPU"
} | tee "$WORK/header.txt"

FES="A"
[ -n "$BENCH_B" ] && FES="A B"
ROWS=()
declare -A PATHS_SEEN=()
for ring in $RINGS; do
	for mode in tx rx; do
		case " $TESTS " in *" $mode "*) ;; *) continue ;; esac
		for size in $SIZES; do
			declare -A S=() T=()
			for ((r = 1; r <= ROUNDS; r++)); do
				line="round $r $ring $mode ${size}B:"
				order=$FES
				# with two binaries, swap who goes first every round
				[ -n "$BENCH_B" ] && [ $((r % 2)) = 0 ] && order="B A"
				for fe in $order; do
					bin=$BENCH
					[ "$fe" = B ] && bin=$BENCH_B
					run_ours "$bin" "$ring" "$mode" "$size"
					S[$fe]="${S[$fe]:-} $SAMP" T[$fe]="${T[$fe]:-} $TOT"
					line="$line vnet$fe $SAMP/$TOT"
				done
				run_dpdk "$ring" "$mode" "$size"
				S[D]="${S[D]:-} $SAMP" T[D]="${T[D]:-} $TOT"
				PATHS_SEEN[$ring]=${DPDK_PATHS:-none reported}
				echo "$line DPDK $SAMP/$TOT (Mpps samples/total, back-end) [load $(cut -d' ' -f1 /proc/loadavg)]"
			done
			# shellcheck disable=SC2086
			row="| $ring | $mode | $size | $(spread ${S[A]}) | $(spread ${T[A]}) |"
			if [ -n "$BENCH_B" ]; then
				# shellcheck disable=SC2086
				row="$row $(spread ${S[B]}) | $(spread ${T[B]}) |"
			fi
			# shellcheck disable=SC2086
			row="$row $(spread ${S[D]}) | $(spread ${T[D]}) | $(ratio "$(med ${S[A]})" "$(med ${S[D]})")"
			# shellcheck disable=SC2086
			[ -n "$BENCH_B" ] && row="$row / $(ratio "$(med ${S[B]})" "$(med ${S[D]})")"
			row="$row |"
			echo "$row"
			ROWS+=("$row")
			unset S T
		done
	done
done
LROWS=()
for ring in $RINGS; do
	case " $TESTS " in *" latency "*) ;; *) continue ;; esac
	declare -A P50=() P99=() P999=()
	for ((r = 1; r <= ROUNDS; r++)); do
		line="round $r $ring latency:"
		order=$FES
		[ -n "$BENCH_B" ] && [ $((r % 2)) = 0 ] && order="B A"
		for fe in $order; do
			bin=$BENCH
			[ "$fe" = B ] && bin=$BENCH_B
			run_lat_ours "$bin" "$ring"
			read -r a b c <<<"$LAT"
			P50[$fe]="${P50[$fe]:-} $a" P99[$fe]="${P99[$fe]:-} $b" P999[$fe]="${P999[$fe]:-} $c"
			line="$line vnet$fe $LAT"
		done
		run_lat_dpdk "$ring"
		read -r a b c <<<"$LAT"
		P50[D]="${P50[D]:-} $a" P99[D]="${P99[D]:-} $b" P999[D]="${P999[D]:-} $c"
		echo "$line DPDK $LAT (us p50 p99 p99.9) [load $(cut -d' ' -f1 /proc/loadavg)]"
	done
	for q in p50 p99 p99.9; do
		case $q in p50) n=P50 ;; p99) n=P99 ;; *) n=P999 ;; esac
		declare -n arr=$n
		# shellcheck disable=SC2086
		row="| $ring | $q | $(spread ${arr[A]})"
		# shellcheck disable=SC2086
		[ -n "$BENCH_B" ] && row="$row | $(spread ${arr[B]})"
		# shellcheck disable=SC2086
		row="$row | $(spread ${arr[D]}) |"
		unset -n arr
		echo "$row"
		LROWS+=("$row")
	done
	unset P50 P99 P999
done

{
	echo
	cat "$WORK/header.txt"
	echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
	for ring in "${!PATHS_SEEN[@]}"; do
		echo "DPDK path ($ring, from its log): ${PATHS_SEEN[$ring]}"
	done
	echo
	echo "Throughput, Mpps counted by the testpmd back-end, min / median / max over the rounds;"
	echo "samples = median of its 1-s samples, total = end-of-run count / front-end active time;"
	echo "ratio = vnet/DPDK of the medians of the samples column:"
	echo
	if [ -n "$BENCH_B" ]; then
		echo "| ring | test | bytes | vnet A samples | vnet A total | vnet B samples | vnet B total | DPDK samples | DPDK total | A/DPDK / B/DPDK |"
		echo "|---|---|---|---|---|---|---|---|---|---|"
	else
		echo "| ring | test | bytes | vnet samples | vnet total | DPDK samples | DPDK total | vnet/DPDK |"
		echo "|---|---|---|---|---|---|---|---|"
	fi
	printf '%s\n' "${ROWS[@]}"
	echo
	echo "Round-trip latency through testpmd macswap, one 64-byte frame in flight, µs, min / median / max over the rounds:"
	echo
	if [ -n "$BENCH_B" ]; then
		echo "| ring | percentile | vnet A | vnet B | DPDK (dpdk_pingpong) |"
		echo "|---|---|---|---|---|"
	else
		echo "| ring | percentile | vnet-bench | DPDK (dpdk_pingpong) |"
		echo "|---|---|---|---|"
	fi
	printf '%s\n' "${LROWS[@]}"
} | tee "$WORK/result.md"
[ -n "$OUT" ] && cp "$WORK/result.md" "$OUT"
echo "logs: $WORK"
