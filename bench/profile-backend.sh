#!/bin/bash
# profile-backend.sh: where the vhost back-end's forwarding lcore spends its
# time per front-end (issue 14): testpmd (vhost PMD, rxonly for tx, txonly
# for rx) on CPU 1, the front-end on CPU 0 -- vnet-bench, then DPDK's
# net_virtio_user on its best path -- and `perf record -e cpu-clock` on the
# back-end's forwarding thread only (this VM exposes no hardware counters:
# `perf stat -e instructions true` says "not supported").
#
#   bench/profile-backend.sh [--bench BIN] [--seconds 4] [--rings "split packed"]
#                            [--modes "tx rx"] [--out DIR] [--frontend]
#
# --frontend: profile vnet-bench's own thread instead (the same placement and
# back-end, our front-end only): where our per-packet time goes, against the
# back-end's rate (how docs/performance.md found the benchmark's rep movsb).
#
# Writes DIR/report-RING-MODE-FE.txt (perf report by symbol; with --out also
# the perf data beside it, .data, for perf annotate) and prints, per
# run, the back-end's rate and its top symbols with the time per packet
# each costs the back-end (share of the lcore's samples / packets per second).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../tests/lib/dpdk.sh
. "$HERE/../tests/lib/dpdk.sh"
BENCH=$HERE/../build/bin/vnet-bench
SECS=4
RINGS="split packed"
MODES="tx rx"
OUT=""
FRONT=0
while [ $# -gt 0 ]; do
	case $1 in
	--bench) BENCH=$2; shift 2 ;;
	--seconds) SECS=$2; shift 2 ;;
	--rings) RINGS=$2; shift 2 ;;
	--modes) MODES=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--frontend) FRONT=1; shift ;;
	-h | --help) sed -n '2,20p' "$0"; exit 0 ;;
	*) echo "profile-backend.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
command -v perf >/dev/null || { echo "profile-backend.sh: perf missing (Debian package linux-perf)" >&2; exit 1; }
dpdk_require_testpmd || exit 1
[ -x "$BENCH" ] || { echo "profile-backend.sh: $BENCH not built" >&2; exit 1; }
WORK=$(mktemp -d /tmp/perf-profile.XXXXXX)
[ -n "$OUT" ] || OUT=$WORK
mkdir -p "$OUT"
OURS=()
cleanup() { local p; for p in "${OURS[@]}"; do kill -TERM "$p" 2>/dev/null; done; dpdk_cleanup; }
trap cleanup EXIT
trap 'exit 130' INT TERM
COMMON=(--stats-period=1 --nb-cores=1 --port-topology=loop --total-num-mbufs=32768 --burst=32 --txpkts=64)
N=0
worker_tid() { ps -T -o tid=,comm= -p "$1" | awk '$2 ~ /worker/ { print $1; exit }'; }

for ring in $RINGS; do
	for mode in $MODES; do
		case $mode in tx) befwd=rxonly fefwd=txonly key=Rx-pps ;; rx) befwd=txonly fefwd=rxonly key=Tx-pps ;; esac
		fes="vnet dpdk"
		[ "$FRONT" = 1 ] && fes=vnet
		for fe in $fes; do
			N=$((N + 1))
			sock=$WORK/vhost-$N.sock
			belog=$WORK/be-$N.log
			dpdk_start BE "$belog" 1 -- --vdev "net_vhost0,iface=$sock,queues=1" -- --forward-mode="$befwd" "${COMMON[@]}"
			dpdk_wait_socket "$sock" "$BE" 60 && dpdk_wait_started "$belog" "$BE" 60 || exit 1
			FE=""
			if [ $fe = vnet ]; then
				extra=()
				[ "$mode" = tx ] && extra=(--rewrite-headers)
				taskset -c 0 "$BENCH" --vhost-user "$sock" --mode "$mode" --ring "$ring" --size 64 \
					--seconds $((SECS + 3)) --drain-ms 0 --quiet "${extra[@]}" >"$WORK/fe-$N.log" 2>&1 &
				OURS+=($!)
				fepid=$!
			else
				vdev="net_virtio_user0,path=$sock,queues=1,queue_size=256,mrg_rxbuf=0"
				eal=()
				if [ "$ring" = packed ]; then vdev="$vdev,packed_vq=1,in_order=1,vectorized=1"; eal=(--force-max-simd-bitwidth=512); else vdev="$vdev,in_order=1"; fi
				dpdk_start FE "$WORK/fe-$N.log" 0 "${eal[@]}" --vdev "$vdev" -- --forward-mode="$fefwd" "${COMMON[@]}"
				fepid=$FE
			fi
			sleep 2
			if [ "$FRONT" = 1 ]; then
				perf record -q -e cpu-clock -F 9999 -p "$fepid" -o "$WORK/perf-$N.data" -- sleep "$SECS" >/dev/null 2>&1
			else
				tid=$(worker_tid "$BE")
				perf record -q -e cpu-clock -F 9999 -t "$tid" -o "$WORK/perf-$N.data" -- sleep "$SECS" >/dev/null 2>&1
			fi
			if [ $fe = vnet ]; then wait "$fepid"; OURS=(); else dpdk_stop "$FE"; fi
			dpdk_stop "$BE"
			pps=$(dpdk_pps_from_log "$belog" "$key")
			rep=$OUT/report-$ring-$mode-$fe$([ "$FRONT" = 1 ] && echo -frontend).txt
			perf report -i "$WORK/perf-$N.data" --stdio --sort dso,symbol --percent-limit 2 2>/dev/null |
				grep -v '^#' | grep -v '^$' >"$rep"
			[ "$OUT" != "$WORK" ] && cp "$WORK/perf-$N.data" "${rep%.txt}.data" # for perf annotate
			echo "== $ring $mode, front-end $fe: back-end ${key} median $(python3 -c "print('%.2f' % ($pps / 1e6))") Mpps, $(python3 -c "print('%.1f' % (1e9 / $pps) if $pps else 'n/a')") ns per packet on its lcore$([ "$FRONT" = 1 ] && echo "; profile of the front-end")"
			python3 - "$rep" "$pps" <<'PY'
import sys
pps = float(sys.argv[2])
for l in open(sys.argv[1]):
    f = l.split()
    if len(f) >= 3 and f[0].endswith('%'):
        share = float(f[0][:-1]) / 100
        sym = " ".join(f[1:])
        print('   %5.1f%%  %6s ns/pkt  %s' % (share * 100, '%.1f' % (share * 1e9 / pps) if pps else 'n/a', sym[:70]))
PY
		done
	done
done
echo "reports: $OUT"
