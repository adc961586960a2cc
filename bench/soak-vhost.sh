#!/bin/bash
# bench/soak-vhost.sh [KILLS [STALLS [split|packed [STOP_MS [STALL_MS]]]]]
#
# Soak of the vhost-user recovery loops (issue 12), outside CI: KILLS
# (default 100) SIGKILL + restarts of dpdk-testpmd, then STALLS (default
# 100) SIGSTOPs longer than the stall watchdog, under an echo, through
# tests/integration/vhost/recover_loop.sh (CI runs it as vhost_recover_loop
# with 5 + 5).  Needs build/bin/recover_loop (BUILD=dir to use another
# build tree).  Prints the summary; the per-fault JSON lines are kept in
# SOAK_OUT (default /tmp/soak-vhost-<pid>.jsonl).  Results and the command:
# docs/reliability.md "vhost-user loops".  10^4 of each at ~2.5 s a kill
# and ~1.3 s a stall is about 10 hours.
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
