# shellcheck shell=bash disable=SC2034  # DPDK_MEM_KIND is read by callers
# tests/lib/dpdk.sh: helpers for starting and stopping dpdk-testpmd next to
# vnet-bench, shared by bench/compare-dpdk.sh and
# tests/integration/vhost/*.sh.  Source it.  (Its QEMU counterpart is
# tests/lib/qemu.sh beside it.)
#
# Every testpmd gets its own --file-prefix (DPDK runtime directory) and its
# own socket path, runs non-interactively with --stats-period so that it
# neither reads stdin nor exits when stdin closes, and is recorded in
# DPDK_PIDS so dpdk_cleanup (install it in a trap) can end exactly the
# processes we started.

DPDK_PIDS=()
DPDK_TESTPMD=${DPDK_TESTPMD:-dpdk-testpmd}

dpdk_require_testpmd() {
	if ! command -v "$DPDK_TESTPMD" >/dev/null 2>&1; then
		echo "FAIL: $DPDK_TESTPMD not found (install the Debian 'dpdk-dev' package)" >&2
		return 1
	fi
}

# dpdk_work_init PREFIX [TAG]: the frame of a vhost-user test script.
# WORK becomes a new directory /tmp/PREFIX.XXXXXX.  On exit: the script's
# work_cleanup (if it defines one: stop its own processes), dpdk_cleanup,
# then WORK is removed unless KEEP_WORK=1; INT and TERM end the script
# (status 130).  Defines fail MSG: "TAGFAIL: MSG", the script's
# work_on_fail (if defined), the last DPDK_FAIL_LINES (default 15) lines
# of WORK's *.log, *.out and *.err (colour codes and blank lines dropped),
# exit 1.
dpdk_work_init() {
	WORK=$(mktemp -d "/tmp/$1.XXXXXX") || { echo "FAIL: mktemp" >&2; exit 1; }
	DPDK_FAIL_TAG=${2:-}
	trap _dpdk_work_exit EXIT
	trap 'exit 130' INT TERM
	fail() {
		local f
		echo "${DPDK_FAIL_TAG:-}FAIL: $*" >&2
		if declare -F work_on_fail >/dev/null; then work_on_fail; fi
		for f in "$WORK"/*.log "$WORK"/*.out "$WORK"/*.err; do
			[ -f "$f" ] || continue
			echo "---- $f (tail)" >&2
			sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$f" | grep -av '^\s*$' | tail -"${DPDK_FAIL_LINES:-15}" >&2
		done
		exit 1
	}
}

_dpdk_work_exit() {
	if declare -F work_cleanup >/dev/null; then work_cleanup; fi
	dpdk_cleanup
	if [ "${KEEP_WORK:-0}" = 1 ]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}

# Memory arguments: hugepages when at least 512 free 2 MiB pages and a
# hugetlbfs mount exist, otherwise --no-huge (anonymous memory; DPDK then
# shares it with the vhost back-end through memfd).  DPDK_MEM_MB (default 512
# with hugepages, 1024 without) sets -m: a smaller one starts testpmd faster
# (--no-huge -m 1024: ~1.0 s to its socket, -m 256: ~0.3 s).  Sets DPDK_MEM_ARGS and
# DPDK_MEM_KIND; dpdk_start calls it.
dpdk_mem_init() {
	local free
	free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo 2>/dev/null)
	if [ "${DPDK_FORCE_NO_HUGE:-0}" != 1 ] && [ "${free:-0}" -ge 512 ] && grep -q hugetlbfs /proc/mounts; then
		DPDK_MEM_KIND=hugepages
		# virtio-user shares its memory with the back-end one fd per
		# segment; one file per memseg list keeps it under vhost-user's
		# 8-region limit ("Too many memory regions" otherwise).
		DPDK_MEM_ARGS="-m ${DPDK_MEM_MB:-512} --single-file-segments"
	else
		DPDK_MEM_KIND=no-huge
		DPDK_MEM_ARGS="--no-huge -m ${DPDK_MEM_MB:-1024}"
	fi
}

# dpdk_start NAME LOG CPU -- testpmd-args...   (EAL args before '--' go after ours)
# Starts testpmd in the background with two lcores mapped to CPU (the main
# lcore only prints stats; the forwarding lcore does the work), records the
# pid in DPDK_PIDS and in the variable named NAME.
# DPDK_STDIN (default /dev/null): testpmd's standard input, e.g. a FIFO
# for an interactive (-i) testpmd driven by the script.
dpdk_start() {
	local name=$1 log=$2 cpu=$3
	shift 3
	[ "$1" = "--" ] && shift
	dpdk_mem_init
	# stdbuf -oL: testpmd's stdout goes to a file, fully buffered otherwise,
	# so "packet forwarding" (dpdk_wait_started) and the 1-second samples
	# would reach the log kilobytes late.
	local linebuf=()
	command -v stdbuf >/dev/null 2>&1 && linebuf=(stdbuf -oL)
	# shellcheck disable=SC2086
	"${linebuf[@]}" "$DPDK_TESTPMD" --lcores="0@${cpu},1@${cpu}" $DPDK_MEM_ARGS --no-pci --file-prefix="$name-$$" "$@" \
		<"${DPDK_STDIN:-/dev/null}" >"$log" 2>&1 &
	local pid=$!
	DPDK_PIDS+=("$pid")
	printf -v "$name" '%s' "$pid"
}

# Wait until PATH is a socket (a server-mode vhost PMD created it) or
# timeout seconds pass; fails if PID died meanwhile.
dpdk_wait_socket() {
	local path=$1 pid=$2 timeout=${3:-20} i
	for ((i = 0; i < timeout * 50; i++)); do
		[ -S "$path" ] && return 0
		kill -0 "$pid" 2>/dev/null || { echo "testpmd (pid $pid) exited before creating $path" >&2; return 1; }
		sleep 0.02
	done
	echo "timed out waiting for $path" >&2
	return 1
}

# Wait until testpmd's log shows it started forwarding.
dpdk_wait_started() {
	local log=$1 pid=$2 timeout=${3:-20} i
	for ((i = 0; i < timeout * 50; i++)); do
		grep -qa "packet forwarding - ports=" "$log" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || { echo "testpmd (pid $pid) exited; log $log:" >&2; tail -20 "$log" >&2; return 1; }
		sleep 0.02
	done
	echo "timed out waiting for testpmd to start ($log)" >&2
	return 1
}

# Stop one process we started: SIGTERM (testpmd prints its summary), then SIGKILL.
dpdk_stop() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

dpdk_cleanup() {
	local pid mnt
	for pid in "${DPDK_PIDS[@]}"; do
		dpdk_stop "$pid"
	done
	DPDK_PIDS=()
	# A testpmd killed with SIGKILL (the reconnect tests do that on purpose)
	# cannot remove its hugepage files or runtime directory; remove ours
	# (--file-prefix NAME-$$) so repeated runs do not leak huge pages.
	# shellcheck disable=SC2013  # mount points: one word each in /proc/mounts
	for mnt in $(awk '$3 == "hugetlbfs" {print $2}' /proc/mounts 2>/dev/null); do
		rm -f "$mnt"/*-"$$"map_* 2>/dev/null
	done
	rm -rf /var/run/dpdk/*-"$$" 2>/dev/null
	return 0
}

# Median of the non-zero "KEY: value" samples (KEY = Rx-pps or Tx-pps) in a
# testpmd --stats-period log, skipping the first and last sample (ramp up,
# partial second) when there are at least 4.  Prints packets/s (0 if none).
dpdk_pps_from_log() {
	local log=$1 key=$2
	tr -d '\r' <"$log" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' |
		awk -v k="$key:" '{ for (i = 1; i < NF; i++) if ($i == k && $(i+1) > 0) print $(i+1) }' |
		awk '{ v[NR] = $0 } END { for (i = 1; i <= NR; i++) if (NR < 4 || (i > 1 && i < NR)) print v[i] }' | sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else print v[int((NR + 1) / 2)] }'
}

# dpdk_vhost_start NAME LOG CPU SOCK MODE [testpmd args...]: testpmd with
# one vhost-user port, a server on SOCK (a QEMU guest connects), forwarding
# MODE (rxonly: counts what the guest sends; txonly: sends to the guest;
# macswap: echoes), one forwarding core, stats every second.  Then
# dpdk_wait_socket SOCK "$NAME's pid".
dpdk_vhost_start() {
	local name=$1 log=$2 cpu=$3 sock=$4 mode=$5
	shift 5
	dpdk_start "$name" "$log" "$cpu" -- --vdev "net_vhost0,iface=$sock,queues=1,client=0" -- \
		--forward-mode="$mode" --stats-period=1 --nb-cores=1 --port-topology=loop --total-num-mbufs=32768 \
		--burst=32 "$@"
}

# dpdk_port_totals LOG: "RX TX" of port 0 from testpmd's exit summary
# (the last "RX-packets: N ... TX-packets: M" of the port's
# "Forward statistics for port 0" block); "0 0" if none.  Call after dpdk_stop.
dpdk_port_totals() {
	tr -d '\r' <"$1" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' | awk '
		/Forward statistics for port 0/ { inp = 1 }
		inp && /RX-packets:/ { for (i = 1; i < NF; i++) if ($i == "RX-packets:") rx = $(i+1) }
		inp && /TX-packets:/ { for (i = 1; i < NF; i++) if ($i == "TX-packets:") tx = $(i+1); inp = 0 }
		END { printf "%d %d\n", rx, tx }'
}
