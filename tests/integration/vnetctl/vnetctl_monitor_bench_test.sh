#!/bin/bash
# vnetctl_monitor_bench: `vnetctl monitor --json` against a running
# vnet-bench (--control, the control server vnetd uses, tools/common)
# echoing through dpdk-testpmd macswap (docs/management.md).
#
# The monitor's figures are computed inside the bench by the command layer
# (src/mgmt performance_stats: driver counters over the interval since the
# previous sample); the bench logs its own counters at the instant of each
# sample ("control: sample at clock_ns T: tx N rx M").  So every monitor
# interval has an exactly aligned bench window, on any load:
#   1. interval_ms is the bench's window (clock_ns difference) in ms;
#   2. the driver's packet counts (totals) move exactly as the bench's own
#      (a constant offset: the bench does not count its warm-up probes);
#   3. rates.tx_pps / rx_pps agree within 10% with the bench's frames /
#      elapsed over the same window (they agree far closer; a mis-scaled
#      interval or rate fails), bytes/s with packets/s x frame size;
#   4. the back-end bounds the counts: testpmd received at least every frame
#      the monitor counted as sent, and sent at least every frame it
#      counted as received;
#   5. access control is vnetd's: a changing command is refused (read-only
#      server), a user outside the group is refused and it is logged;
#      `vnetctl perf --watch 2` gives two samples.
# A consistency check between two counts of the same traffic, not a speed
# threshold.
#
#   vnetctl_monitor_bench_test.sh --bench BIN --vnetctl BIN [--logdir DIR]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../lib/qemu.sh
. "$HERE/../../lib/qemu.sh"
# shellcheck source=SCRIPTDIR/../../lib/dpdk.sh
. "$HERE/../../lib/dpdk.sh"

bench='' vnetctl='' logdir=''
vq_parse_args "bench vnetctl logdir" "$@"
vq_init vnetctl_monitor_bench

fail() {
	echo "$VQ_NAME: FAIL: $*"
	local f
	for f in "$W"/*.out "$W"/*.err "$W"/*.json "$W"/be.log; do
		[ -s "$f" ] || continue
		echo "---- $f (tail)"
		sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$f" | grep -av '^\s*$' | tail -12
	done
	exit 1
}

vq_need python3 python3
vq_need setpriv util-linux
dpdk_require_testpmd >/dev/null 2>&1 || vq_skip "dpdk-testpmd not found (Debian package dpdk-dev)"
[ -x "$bench" ] || { echo "$VQ_NAME: FAIL: vnet-bench not built at $bench"; exit 1; }
[ -x "$vnetctl" ] || { echo "$VQ_NAME: FAIL: vnetctl not built at $vnetctl"; exit 1; }
NOBODY=$(id -u nobody) || vq_skip "no user nobody"
OUTSIDER_GID=$(($(id -g nobody) - 7))

vq_tmpdir_var W
chmod 755 "$W" # nobody must reach the socket: the refusal is the bench's
[ -n "$logdir" ] && { mkdir -p "$logdir"; vq_on_exit cp -r "$W/." "$logdir/"; }
vq_on_exit dpdk_cleanup
SOCK=$W/be.sock CTL=$W/ctl.sock SIZE=64 SAMPLES=6

# testpmd on CPU 0, the bench on CPU 1 when there is one.
dpdk_vhost_start BE "$W/be.log" 0 "$SOCK" macswap
dpdk_wait_socket "$SOCK" "$BE" 30 || fail "testpmd did not create $SOCK"
pin=()
[ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1 && pin=(taskset -c 1)
"${pin[@]}" "$bench" --vhost-user "$SOCK" --mode echo --size $SIZE --seconds 15 --control "$CTL" --json \
	>"$W/bench.out" 2>"$W/bench.err" &
BPID=$!
vq_track "$BPID"
for ((i = 0; i < 200; i++)); do
	[ -S "$CTL" ] && break
	kill -0 "$BPID" 2>/dev/null || fail "vnet-bench exited before opening $CTL"
	sleep 0.05
done
[ -S "$CTL" ] || fail "vnet-bench did not create its control socket $CTL"
ctl() { "$vnetctl" --socket "$CTL" "$@"; }

# ---- the monitor during the run: a baseline, then SAMPLES intervals
ctl monitor vnet0 --interval 0.5 --count $SAMPLES --json >"$W/monitor.json" 2>"$W/monitor.err" ||
	fail "vnetctl monitor: exit $?: $(cat "$W/monitor.err")"
n_mon=$(grep -c 'clock_ns' "$W/bench.err")

# ---- access control and the read-only server, still during the run
ctl virtio_net_device_reset vnet0 >"$W/reset.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "read-only commands only" "$W/reset.out" ||
	fail "device_reset on the bench: exit $rc, expected 1 (read-only server): $(cat "$W/reset.out")"
setpriv --reuid="$NOBODY" --regid="$OUTSIDER_GID" --clear-groups "$vnetctl" --socket "$CTL" \
	virtio_net_device_info vnet0 >"$W/outsider.out" 2>&1
rc=$?
[ $rc -eq 3 ] && grep -q "permission denied" "$W/outsider.out" ||
	fail "outsider's device_info: exit $rc, expected 3: $(cat "$W/outsider.out")"
grep -aq "vnet-bench: control: refused 'virtio_net_device_info' (read-only) for uid $NOBODY gid $OUTSIDER_GID" \
	"$W/bench.err" || fail "the outsider's refusal is not in the bench's log"
ctl perf vnet0 --watch 2 --json >"$W/watch.json" 2>"$W/watch.err" || fail "vnetctl perf --watch 2: $(cat "$W/watch.err")"
[ "$(grep -c '"command":"virtio_net_performance_stats"' "$W/watch.json")" -eq 2 ] ||
	fail "vnetctl perf --watch 2: not two samples: $(head -c 400 "$W/watch.json")"
kill -0 "$BPID" 2>/dev/null || fail "the run ended before the monitor and the checks were done (machine too slow?)"

wait "$BPID"
rc=$?
[ $rc -eq 0 ] || fail "vnet-bench exit $rc"
dpdk_stop "$BE"
read -r be_rx be_tx <<<"$(dpdk_port_totals "$W/be.log")"

python3 - "$W/monitor.json" "$W/bench.err" "$W/bench.out" "$n_mon" "$SAMPLES" "$SIZE" "$be_rx" "$be_tx" >"$W/check.out" <<'PY' || fail "the monitor does not agree with the bench: $(cat "$W/check.out")"
import json, re, sys
mon_f, log_f, out_f, n_mon, samples, size, be_rx, be_tx = sys.argv[1:]
n_mon, samples, size, be_rx, be_tx = int(n_mon), int(samples), int(size), int(be_rx), int(be_tx)
mon = [json.loads(l) for l in open(mon_f) if l.strip()]
assert len(mon) == samples, f"{len(mon)} monitor objects, expected {samples}"
for o in mon:
    assert o["ok"] is True and o["command"] == "virtio_net_performance_stats" and o["device"] == "vnet0", o
log = [tuple(int(x) for x in m.groups()) for m in
       re.finditer(r"control: sample at clock_ns (\d+): tx (\d+) rx (\d+)", open(log_f).read())]
# the monitor's baseline + its samples come first (nothing else asked before)
assert n_mon == samples + 1, f"the bench logged {n_mon} samples during the monitor, expected {samples + 1}"
bench = json.loads(open(out_f).read().strip().splitlines()[-1])
off_tx = off_rx = None
worst = 0.0
for j in range(1, samples + 1):
    (t0, tx0, rx0), (t1, tx1, rx1) = log[j - 1], log[j]
    o = mon[j - 1]
    dt = t1 - t0
    # 1. the interval is the bench's window
    assert o["interval_ms"] == dt // 1000000, f"sample {j}: interval_ms {o['interval_ms']}, bench window {dt} ns"
    # 2. the driver's counts move as the bench's
    d_tx, d_rx = o["totals"]["tx_packets"] - tx1, o["totals"]["rx_packets"] - rx1
    assert d_tx >= 0 and d_rx >= 0, f"sample {j}: driver counts below the bench's: {o['totals']} vs tx {tx1} rx {rx1}"
    if off_tx is None:
        off_tx, off_rx = d_tx, d_rx
    assert (d_tx, d_rx) == (off_tx, off_rx), f"sample {j}: driver-bench offset ({d_tx},{d_rx}) != ({off_tx},{off_rx})"
    # 3. the rates against the bench's frames / elapsed over the same window
    for key, n in (("tx_pps", tx1 - tx0), ("rx_pps", rx1 - rx0)):
        ref = n * 1e9 / dt
        got = o["rates"][key]
        assert n > 0, f"sample {j}: no {key[:2]} traffic in the window"
        err = abs(got - ref) / ref
        worst = max(worst, err)
        assert err <= 0.10, f"sample {j}: monitor {key} {got} vs bench {ref:.2f} ({err:.1%})"
        bkey = key[:2] + "_bytes_per_s"
        berr = abs(o["rates"][bkey] - ref * size) / (ref * size)
        assert berr <= 0.10, f"sample {j}: monitor {bkey} {o['rates'][bkey]} vs {ref * size:.0f} ({berr:.1%})"
    q = o["queues"][0]
    assert abs(q["tx_pps"] - o["rates"]["tx_pps"]) <= 0.01 * o["rates"]["tx_pps"] + 1, f"pair0 tx_pps {q['tx_pps']}"
# 4. the back-end bounds the counts
last = mon[-1]["totals"]
assert be_rx >= last["tx_packets"], f"testpmd received {be_rx} < {last['tx_packets']} the monitor counted sent"
assert be_tx >= last["rx_packets"], f"testpmd sent {be_tx} < {last['rx_packets']} the monitor counted received"
assert bench["tx_packets"] >= log[samples][1], "the bench's final tx count is below its last sample"
print(f"{samples} windows of ~{mon[0]['interval_ms']} ms: monitor vs bench rates within {worst:.3%} "
      f"(e.g. tx {mon[-1]['rates']['tx_pps']:.0f} pps); driver-bench offsets tx {off_tx} rx {off_rx} "
      f"(warm-up probes); testpmd rx {be_rx} tx {be_tx}; bench run {bench['pps']:.0f} pps overall")
PY
echo "$VQ_NAME: $(cat "$W/check.out")"
echo "$VQ_NAME: PASS"
