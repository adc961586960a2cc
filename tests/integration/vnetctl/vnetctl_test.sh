#!/bin/bash
# vnetctl_control: vnetd started from a TOML file (docs/configuration.md)
# against one dpdk-testpmd vhost-user port, driven through its control
# socket by vnetctl (docs/management.md).
#
#   1. bad configuration files: vnetd exits 2 before opening anything, with
#      "FILE:LINE: KEY: REASON" naming the key and its line;
#   2. vnetd from a file that sets [virtio_net] keys, [control] and one
#      [[device]]: the values show in device_info (ring size, layout, the
#      device's name);
#   3. vnetctl device_info, feature_info, virtqueue_stats,
#      performance_stats, control_info in text and --json (each JSON
#      answer parsed by python3's json, "ok" true, the device named);
#   4. access control: as nobody in the read-only group (setpriv) a
#      read-only command is answered and a changing one refused (exit 3),
#      as a user outside the group both are refused; each refusal is in
#      vnetd's log with the uid; root's changing command is accepted
#      (virtio_net_device_reset: exit 0, the device running again);
#   5. SIGTERM: vnetd exits 0 (every buffer back) and removes its socket.
#
#   vnetctl_test.sh --vnetd BIN --vnetctl BIN [--logdir DIR]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../lib/qemu.sh
. "$HERE/../../lib/qemu.sh"
# shellcheck source=SCRIPTDIR/../../lib/dpdk.sh
. "$HERE/../../lib/dpdk.sh"

vnetd='' vnetctl='' logdir=''
vq_parse_args "vnetd vnetctl logdir" "$@"
vq_init vnetctl_control

fail() {
	echo "$VQ_NAME: FAIL: $*"
	local f
	for f in "$W"/*.out "$W"/*.err "$W"/be.log; do
		[ -s "$f" ] || continue
		echo "---- $f (tail)"
		grep -av '^\s*$' "$f" | tail -15
	done
	exit 1
}

vq_need_tap
vq_need python3 python3
vq_need setpriv util-linux
dpdk_require_testpmd >/dev/null 2>&1 || vq_skip "dpdk-testpmd not found (Debian package dpdk-dev)"
[ -x "$vnetd" ] || { echo "$VQ_NAME: FAIL: vnetd not built at $vnetd"; exit 1; }
[ -x "$vnetctl" ] || { echo "$VQ_NAME: FAIL: vnetctl not built at $vnetctl"; exit 1; }

vq_tmpdir_var W
# nobody must reach the socket (the decision is vnetd's, by credentials).
chmod 755 "$W"
[ -n "$logdir" ] && { mkdir -p "$logdir"; vq_on_exit cp -r "$W/." "$logdir/"; }
vq_on_exit dpdk_cleanup

TAP=vnctl$$
TAP=${TAP:0:15}
CTL=$W/vnetctl.sock
NOBODY=$(id -u nobody) || vq_skip "no user nobody"
NOGROUP=$(id -g nobody)
OUTSIDER_GID=$((NOGROUP - 7))

# ---- 1. bad configuration files: exit 2, FILE:LINE: KEY: REASON
# bad_config NAME EXPECTED-LINE-REGEX: the file $W/NAME.toml (already
# written) must be refused, naming what EXPECTED says.
bad_config() {
	local name=$1 want=$2 rc
	"$vnetd" --config "$W/$name.toml" --vhost-user "$W/none.sock" --tap "$TAP" >"$W/$name.out" 2>"$W/$name.err"
	rc=$?
	[ $rc -eq 2 ] || fail "bad config $name: exit $rc, expected 2"
	grep -qE "$want" "$W/$name.err" || fail "bad config $name: stderr does not say '$want': $(cat "$W/$name.err")"
	echo "$VQ_NAME: refused $name: $(cat "$W/$name.err")"
}
printf '[virtio_net]\ntransmit_tso_enabled = true\ntransmit_tso = false\n' >"$W/unknown.toml"
bad_config unknown "unknown.toml:3: virtio_net.transmit_tso: unknown key"
printf '# comment\n[virtio_net]\nvirtio_device_timeout = "fast"\n' >"$W/type.toml"
bad_config type "type.toml:3: virtio_net.virtio_device_timeout: expected an integer, got string"
printf '[virtio_net]\nreceive_virtqueue_size = 100000\n' >"$W/range.toml"
bad_config range "range.toml:2: virtio_net.receive_virtqueue_size: out of range: 100000 is not in 2..32768"
printf '[[device]]\nname = "x"\nmac = "52:54:00:zz:00:01"\n' >"$W/mac.toml"
bad_config mac "mac.toml:3: device\[0\]\.mac: expected six hex octets"
printf '[virtio_net]\nvirtio_device_max_queues = 2\n[[device]]\nname = "two"\npairs = 2\n' >"$W/pairs.toml"
bad_config pairs "pairs.toml:5: device\[0\]\.pairs: vnetd runs one queue pair"
printf '[virtio_net]\nmulti_queue_enabled = true\n[virtio_net]\n' >"$W/syntax.toml"
bad_config syntax "syntax.toml:3:2: table 'virtio_net' is defined twice"
# nothing was created by any of them
! ip link show "$TAP" >/dev/null 2>&1 || fail "a refused configuration left TAP $TAP behind"

# ---- 2. testpmd (one vhost-user server port, io forwarding) and vnetd from a file
be_var=be
dpdk_start be "$W/be.log" 0 -- --vdev "net_vhost0,iface=$W/a.sock,queues=1" -- \
	--forward-mode=io --nb-cores=1 --stats-period=1 --total-num-mbufs=8192
BE=${!be_var}
dpdk_wait_socket "$W/a.sock" "$BE" 30 || fail "testpmd did not create $W/a.sock"
cat >"$W/vnetd.toml" <<EOT
# vnetctl_control's configuration
[virtio_net]
virtio_device_timeout = 2000
virtio_device_interrupt_enabled = true
transmit_virtqueue_size = 512
receive_virtqueue_size = 512
transmit_checksum_offload = true
transmit_tso_enabled = true
receive_checksum_offload = true
flow_control_enabled = true

[control]
socket = "$CTL"
group = "$(getent group "$NOGROUP" | cut -d: -f1)"

[[device]]
name = "vnctl0"
socket = "$W/a.sock"
mode = "client"
tap = "$TAP"
ring = "split"
EOT
"$vnetd" --config "$W/vnetd.toml" >"$W/vnetd.out" 2>"$W/vnetd.err" &
VPID=$!
vq_track "$VPID"
vq_wait_file_re "$W/vnetd.out" "^vnetd\[$TAP\]: up:" 30 "$VPID" || fail "vnetd did not come up from its configuration"
echo "$VQ_NAME: $(grep -a 'up:' "$W/vnetd.out")"
grep -q "split ring of 512" "$W/vnetd.out" || fail "the file's ring (split, 512) is not what vnetd runs"
[ -S "$CTL" ] || fail "no control socket at $CTL"

# ---- 3. the read-only commands, text and --json
ctl() { "$vnetctl" --socket "$CTL" "$@"; }
for cmd in virtio_net_device_info virtio_net_feature_info virtio_net_virtqueue_stats \
	virtio_net_performance_stats virtio_net_control_info; do
	ctl "$cmd" vnctl0 >"$W/$cmd.txt" 2>"$W/$cmd.txt.err" || fail "vnetctl $cmd: exit $?: $(cat "$W/$cmd.txt.err")"
	[ -s "$W/$cmd.txt" ] || fail "vnetctl $cmd printed nothing"
	ctl --json "$cmd" vnctl0 >"$W/$cmd.json" 2>&1 || fail "vnetctl --json $cmd: exit $?: $(cat "$W/$cmd.json")"
	python3 - "$W/$cmd.json" "$cmd" <<'PY' || fail "vnetctl --json $cmd: not the expected JSON: $(head -c 400 "$W/$cmd.json")"
import json, sys
o = json.load(open(sys.argv[1]))
assert isinstance(o, dict) and o.get("ok") is True, o
assert o.get("command") == sys.argv[2], o.get("command")
assert "vnctl0" in json.dumps(o), "device not named"
PY
	echo "$VQ_NAME: $cmd: $(wc -l <"$W/$cmd.txt") text lines, JSON $(wc -c <"$W/$cmd.json") bytes ok"
done
grep -q vnctl0 "$W/virtio_net_device_info.txt" || fail "device_info does not name vnctl0"
python3 - "$W/virtio_net_device_info.json" <<'PY' || fail "device_info JSON does not show the file's ring size 512"
import json, sys
s = json.dumps(json.load(open(sys.argv[1])))
assert '"queue_size": 512' in s, s[:300]
PY
# an unknown device: the command's own error, exit 1, nothing refused
ctl virtio_net_device_info nosuch >"$W/nosuch.txt" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "device_info of an unknown device: exit $rc, expected 1: $(cat "$W/nosuch.txt")"
# vnetctl monitor (performance monitor): --count intervals, one JSON
# object per line with rates, smoothed rates and per pair latency/features
ctl monitor vnctl0 --interval 0.3 --count 2 --json >"$W/monitor.json" 2>&1 || fail "vnetctl monitor: exit $?: $(cat "$W/monitor.json")"
python3 - "$W/monitor.json" <<'PY' || fail "vnetctl monitor --json: not 2 performance_stats objects: $(head -c 600 "$W/monitor.json")"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert len(lines) == 2, len(lines)
for l in lines:
    o = json.loads(l)
    assert o["ok"] is True and o["command"] == "virtio_net_performance_stats", o
    assert 250 <= o["interval_ms"] <= 5000, o["interval_ms"]
    assert o["rates"]["rx_pps"] is not None and o["smoothed"]["rx_pps"] is not None, o
    q = o["queues"][0]
    assert q["name"] == "pair0" and q["latency"]["sampling"] is True, q
    for k in ("tx_completion", "rx_irq_to_delivery"):
        assert "p99_9_ns" in q["latency"][k], q
    assert "tx_csum" in q["features"] and "rx_merged" in q["features"], q
PY
ctl monitor vnctl0 --interval 0.2 --count 2 >"$W/monitor.txt" 2>&1 || fail "vnetctl monitor (text): exit $?"
[ "$(grep -c '^smoothed:' "$W/monitor.txt")" -eq 2 ] || fail "vnetctl monitor (text): not 2 tables: $(head -20 "$W/monitor.txt")"
echo "$VQ_NAME: vnetctl monitor: 2 JSON intervals, 2 text tables ok"

# ---- 4. access control
refusals() { grep -ac 'control: refused' "$W/vnetd.err"; }
as_member() { setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups "$vnetctl" --socket "$CTL" "$@"; }
as_outsider() { setpriv --reuid="$NOBODY" --regid="$OUTSIDER_GID" --clear-groups "$vnetctl" --socket "$CTL" "$@"; }
n0=$(refusals)
as_member virtio_net_device_info vnctl0 >"$W/member-ro.txt" 2>&1 ||
	fail "group member refused a read-only command: exit $?: $(cat "$W/member-ro.txt")"
as_member virtio_net_control_set vnctl0 promisc=on >"$W/member-set.txt" 2>&1
rc=$?
[ $rc -eq 3 ] || fail "group member's control_set: exit $rc, expected 3 (refused): $(cat "$W/member-set.txt")"
grep -q "permission denied" "$W/member-set.txt" || fail "member's refusal does not say so: $(cat "$W/member-set.txt")"
as_outsider virtio_net_device_info vnctl0 >"$W/outsider-ro.txt" 2>&1
rc=$?
[ $rc -eq 3 ] || fail "outsider's device_info: exit $rc, expected 3: $(cat "$W/outsider-ro.txt")"
as_outsider virtio_net_device_reset vnctl0 >"$W/outsider-set.txt" 2>&1
rc=$?
[ $rc -eq 3 ] || fail "outsider's device_reset: exit $rc, expected 3: $(cat "$W/outsider-set.txt")"
n1=$(refusals)
[ $((n1 - n0)) -eq 3 ] || fail "expected 3 refusals in vnetd's log, found $((n1 - n0))"
grep -aq "refused 'virtio_net_control_set' (changing) for uid $NOBODY gid $NOGROUP" "$W/vnetd.err" ||
	fail "the member's refusal is not logged with uid and gid"
grep -aq "refused 'virtio_net_device_reset' (changing) for uid $NOBODY gid $OUTSIDER_GID" "$W/vnetd.err" ||
	fail "the outsider's refusal is not logged"
echo "$VQ_NAME: refusals logged: $(grep -a 'control: refused' "$W/vnetd.err" | tail -3 | tr '\n' '|')"
# root: a changing command accepted and carried out
ctl virtio_net_device_reset vnctl0 >"$W/root-reset.txt" 2>&1 || fail "root's device_reset: exit $?: $(cat "$W/root-reset.txt")"
[ "$(refusals)" -eq "$n1" ] || fail "root's command was refused"
ctl --json virtio_net_device_info vnctl0 >"$W/after-reset.json" 2>&1 || fail "device_info after reset: $(cat "$W/after-reset.json")"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$W/after-reset.json" || fail "device_info after reset is not JSON"
echo "$VQ_NAME: root device_reset: $(tr '\n' ' ' <"$W/root-reset.txt" | head -c 200)"

# ---- 5. orderly exit
kill -TERM "$VPID"
wait "$VPID"
rc=$?
[ $rc -eq 0 ] || fail "vnetd exit $rc after SIGTERM: $(tail -3 "$W/vnetd.err")"
grep -aq 'leaked=0' "$W/vnetd.out" "$W/vnetd.err" || fail "vnetd's exit line does not say leaked=0"
[ ! -e "$CTL" ] || fail "vnetd left its control socket behind"
echo "$VQ_NAME: PASS"
