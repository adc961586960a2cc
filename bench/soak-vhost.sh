#!/bin/bash
# bench/soak-vhost.sh [KILLS [STALLS [split|packed [STOP_MS [STALL_MS]]]]]
#
# Soak of the vhost-user recovery loops (issue 12), outside CI: KILLS
# (default 100) SIGKILL + restarts of dpdk-testpmd, then STALLS (default
# 100) SIGSTOPs of STOP_MS (default 1000) longer than the stall watchdog
# STALL_MS (default 300), under an echo, through
# tests/integration/vhost/recover_loop.sh (CI runs it as vhost_recover_loop
# with 5 + 6).  Needs build/bin/recover_loop (BUILD=dir to use another
# build tree; copy the binary elsewhere first if that tree may be rebuilt
# during the soak).  Prints the summary; the per-fault JSON lines are kept
# in SOAK_OUT (default /tmp/soak-vhost-<pid>.jsonl), also when the run
# stops early.  Environment passed on to recover_loop.sh: PORT_MODE
# (client|server: server makes a kill ~0.65 s instead of ~1.4 s), BE_CPU /
# LOOP_CPU (pinning, to run two soaks side by side with the CPUs swapped),
# DEADLINE (epoch seconds: no new fault after it), KEEP_WORK=1 (keep the
# logs).  Never read the loop's command FIFO (<work dir>/cmd) while it
# runs: a reader takes the command meant for the loop, and the script then
# waits in vain for its answer.  Results and the commands:
# docs/reliability.md "vhost-user loops".  Costs on this 2-vCPU machine,
# four soaks side by side: ~0.8 s a stall, ~1.5-2.5 s a kill (testpmd's
# start-up); 10^4 of each is more than a session.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
KILLS=${1:-100}
STALLS=${2:-100}
OUT=${SOAK_OUT:-/tmp/soak-vhost-$$.jsonl}
echo "soak-vhost: $KILLS kills, $STALLS stalls, ring ${3:-split}, commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
start=$(date +%s)
RESULTS=$OUT "$ROOT/tests/integration/vhost/recover_loop.sh" "$BUILD/bin/recover_loop" "$KILLS" "$STALLS" "${@:3}"
rc=$?
echo "soak-vhost: exit $rc after $(($(date +%s) - start)) s; per-fault lines in $OUT"
exit $rc
