#!/bin/bash
# recover_loop.sh LOOP_BIN KILLS STALLS [split|packed] [STOP_MS] [STALL_MS]
#
# Fault loops against dpdk-testpmd's vhost PMD (issue 12,
# docs/reliability.md "vhost-user loops"): recover_loop (the port, vhost-user
# client) keeps an echo running through testpmd macswap while this script
#   KILLS times:  SIGKILLs testpmd and starts a new one on the same socket;
#   STALLS times: SIGSTOPs testpmd for STOP_MS (default 1000) — longer than
#                 the port's stall watchdog STALL_MS (default 300) — then
#                 SIGCONTs it.  The watchdog counts only while transmit
#                 work is pending: if testpmd stopped right after taking
#                 every frame sent (the echoes still inside it), the port
#                 transmits again only when recover_loop's 200 ms loss timer
#                 opens a new window, so STOP_MS must exceed STALL_MS + 200
#                 with a margin for scheduling (a 400 ms stop with a 200 ms
#                 watchdog went unseen once in ~700 stalls: timed out, 0
#                 lost, 64 late).
# Kills first, then the stalls back to back (so the stalls run into the
# recovery streak limit: give-up, disconnect, reconnect).  Each fault is
# announced to recover_loop first and injected once it answers "armed"
# (its baseline counters taken).  After each fault
# recover_loop must see the fault in the port's counters, then echoes of
# frames sent after it, and every buffer accounted for (one JSON line per
# fault, "ok"); this script fails if any fault is not ok or a fault was not
# reported.  Prints a summary (times, frames lost per fault).
# Exit 0 pass, 1 fail, 77 skip (no dpdk-testpmd: Debian package dpdk).
# RESULTS=FILE keeps the per-fault JSON lines.  bench/soak-vhost.sh runs
# this with large counts.  testpmd gets DPDK_MEM_MB (default here 256) of
# memory: enough for its 16384 mbufs, and it starts in ~0.4 s instead of
# ~1.0 s with tests/lib/dpdk.sh's 1024 (a kill's cost is testpmd's start).
# The script polls every 20 ms (recover_loop reads its FIFO every pass).
# PORT_MODE=client (default: the port connects to testpmd's socket) or
# server (the port listens, testpmd connects with client=1).  A client-mode
# kill costs ~1.4 s: DPDK 22.11's vhost socket thread polls with a 1 s
# timeout and picks up the new listening socket only when that poll ends,
# so testpmd answers the port's first message ~1 s after it started; in
# server mode testpmd connects as soon as it is up (~0.65 s a kill).
# BE_CPU (default 0) and LOOP_CPU (default 1) pin testpmd and the loop.
set -u
LOOP=$1
KILLS=$2
STALLS=$3
RING=${4:-split}
STOP_MS=${5:-1000}
STALL_MS=${6:-300}
PORT_MODE=${PORT_MODE:-client}
BE_CPU=${BE_CPU:-0}
LOOP_CPU=${LOOP_CPU:-1}
case $PORT_MODE in client | server) ;; *) echo "FAIL: PORT_MODE must be client or server" >&2; exit 1 ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
DPDK_MEM_MB=${DPDK_MEM_MB:-256}
# shellcheck source=SCRIPTDIR/../../lib/dpdk.sh
. "$HERE/../../lib/dpdk.sh"

if ! command -v "$DPDK_TESTPMD" >/dev/null 2>&1; then
	echo "SKIP: $DPDK_TESTPMD not found (install the Debian 'dpdk-dev' package)" >&2
	exit 77
fi
[ -x "$LOOP" ] || { echo "FAIL: $LOOP not built" >&2; exit 1; }

LP=
work_cleanup() {
	exec 3>&- 2>/dev/null
	[ -n "$LP" ] && { kill -TERM "$LP" 2>/dev/null; wait "$LP" 2>/dev/null; }
	# a stopped testpmd cannot take SIGTERM: continue it first
	for pid in "${DPDK_PIDS[@]}"; do kill -CONT "$pid" 2>/dev/null; done
}
# the per-fault lines so far are kept even when the run stops early
work_on_fail() { [ -n "${RESULTS:-}" ] && [ -f "$WORK/loop.out" ] && cp "$WORK/loop.out" "$RESULTS"; }
dpdk_work_init vhostloop-recover

SOCK=$WORK/vhost.sock
BE=
N_BE=0
start_backend() {
	N_BE=$((N_BE + 1))
	local client=0
	if [ "$PORT_MODE" = server ]; then
		client=1 # the port listens on SOCK; testpmd connects to it
	else
		rm -f "$SOCK"
	fi
	# --file-prefix BE-$$ (dpdk_start): the same for every testpmd; a new
	# one takes over what a SIGKILLed one left; dpdk_cleanup removes *-$$.
	dpdk_start BE "$WORK/testpmd.log" "$BE_CPU" -- --vdev "net_vhost0,iface=$SOCK,queues=1,client=$client" -- \
		--forward-mode=macswap --stats-period=1 --nb-cores=1 --port-topology=loop --total-num-mbufs=16384
	[ "$PORT_MODE" = server ] || dpdk_wait_socket "$SOCK" "$BE" 30 || fail "testpmd did not create $SOCK"
}

# What recover_loop is doing (a report that never comes): its state,
# kernel wait channel and, with gdb, its stack.
loop_state() {
	echo "---- recover_loop (pid $LP): state $(awk '{print $3}' "/proc/$LP/stat" 2>/dev/null), wchan $(cat "/proc/$LP/wchan" 2>/dev/null)" >&2
	command -v gdb >/dev/null 2>&1 && timeout 30 gdb -batch -p "$LP" -ex "thread apply all bt" 2>/dev/null | grep '^#' >&2
}

# wait_line WHAT N: wait (bounded, 60 s) until recover_loop's output ends
# in the line {"WHAT":N...}; only the file's tail is read (it grows by a
# line a fault, and a soak is 10^4 faults).
wait_line() {
	local what=$1 want=$2 i
	for ((i = 0; i < 3000; i++)); do
		tail -c 4096 "$WORK/loop.out" | grep -q "^{\"$what\":${want}[,}]" && return 0
		kill -0 "$LP" 2>/dev/null || fail "recover_loop exited early"
		sleep 0.02
	done
	loop_state
	fail "$what $want not reported within 60 s"
}

[ "$PORT_MODE" = server ] || start_backend
mkfifo "$WORK/cmd"
server_arg=()
[ "$PORT_MODE" = server ] && server_arg=(--server)
taskset -c "$LOOP_CPU" "$LOOP" --vhost-user "$SOCK" "${server_arg[@]}" --ring "$RING" --stall-ms "$STALL_MS" --reconnect-ms 50 \
	<"$WORK/cmd" >"$WORK/loop.out" 2>"$WORK/loop.err" &
LP=$!
exec 3>"$WORK/cmd"
if [ "$PORT_MODE" = server ]; then
	dpdk_wait_socket "$SOCK" "$LP" 30 || fail "recover_loop did not create $SOCK"
	start_backend
fi
for ((i = 0; i < 300; i++)); do
	grep -q '"ready"' "$WORK/loop.out" 2>/dev/null && break
	kill -0 "$LP" 2>/dev/null || fail "recover_loop did not start"
	sleep 0.1
done
grep -q '"ready"' "$WORK/loop.out" || fail "recover_loop not ready in 30 s"
sleep 0.5

n=0
stop_s=$(awk -v m="$STOP_MS" 'BEGIN { printf "%.3f", m / 1000 }')
# DEADLINE (epoch seconds, soaks): no new fault after it; the faults run
# so far are checked and summarised as usual.
DEADLINE=${DEADLINE:-0}
past_deadline() { [ "$DEADLINE" -gt 0 ] && [ "$(date +%s)" -ge "$DEADLINE" ]; }
for ((k = 1; k <= KILLS; k++)); do
	past_deadline && break
	n=$((n + 1))
	echo "fault $n kill" >&3
	wait_line armed "$n"
	kill -KILL "$BE"
	wait "$BE" 2>/dev/null
	start_backend
	wait_line fault "$n"
done
for ((k = 1; k <= STALLS; k++)); do
	past_deadline && break
	n=$((n + 1))
	echo "fault $n stall $STOP_MS" >&3
	wait_line armed "$n"
	kill -STOP "$BE"
	sleep "$stop_s"
	kill -CONT "$BE"
	wait_line fault "$n"
done
past_deadline && echo "deadline reached: $n of $((KILLS + STALLS)) faults injected"
echo quit >&3
exec 3>&-
wait "$LP"
rc=$?
LP=
[ -n "${RESULTS:-}" ] && cp "$WORK/loop.out" "$RESULTS"
python3 - "$WORK/loop.out" "$n" <<'EOF' || fail "loop results"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
faults = [j for j in lines if "fault" in j]
summ = [j for j in lines if j.get("summary")]
want = int(sys.argv[2])
bad = [j for j in faults if not j["ok"]]
def med(v):
    v = sorted(v)
    return v[len(v) // 2] if v else -1
for kind in ("kill", "stall"):
    f = [j for j in faults if j["kind"] == kind]
    if not f:
        continue
    t = [j["first_echo_ms"] for j in f]
    lost = [j["lost"] for j in f]
    extra = ""
    if kind == "stall":
        after = [j["first_echo_ms"] - j["stop_ms"] for j in f]
        resets = sum(j["device_resets"] for j in f)
        gave = sum(j["stall_gave_up"] for j in f)
        disc = sum(j["disconnects"] for j in f)
        extra = (" after SIGCONT median %.1f max %.1f ms; device resets %d, gave up %d, disconnects %d"
                 % (med(after), max(after), resets, gave, disc))
    print("%s: %d faults, %d ok; first echo after the fault median %.1f max %.1f ms; "
          "lost per fault median %d max %d%s" % (kind, len(f), sum(j["ok"] for j in f), med(t), max(t),
                                                med(lost), max(lost), extra))
if summ:
    print("summary:", json.dumps(summ[0]))
for j in bad[:5]:
    print("not ok:", json.dumps(j))
# More stalls than the recovery streak allows (max_attempts 5, all within
# stable_ns 30 s) must have reached the give-up: disconnect, reconnect.
stalls = [j for j in faults if j["kind"] == "stall"]
gave_up_ok = len(stalls) < 6 or sum(j["stall_gave_up"] for j in stalls) >= 1
if not gave_up_ok:
    print("more than 5 stalls in a row but recovery never gave up on the back-end")
sys.exit(0 if len(faults) == want and not bad and summ and summ[0]["dup"] == 0 and gave_up_ok else 1)
EOF
[ $rc -eq 0 ] || fail "recover_loop exited $rc"
echo "PASS: recover_loop $RING: $n faults ($KILLS kills, $STALLS stalls asked)"
