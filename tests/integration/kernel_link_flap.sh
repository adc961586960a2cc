#!/usr/bin/env bash
# kernel_link_flap (issue 12): recovery under traffic from link flaps,
# against QEMU's virtio-net-pci, judged from the host.
#
# The kernel boots to its shell with a user-networking NIC whose hostfwd
# reaches its UDP echo port 7.  Then --flaps times:
#   - QMP set_link nic0 off; the kernel must see the link go down (config
#     interrupt, STATUS: `vnet info` says "link down"); a UDP echo attempt
#     from the host must get no reply; a transmit tried meanwhile (`ping`
#     of the slirp gateway from the shell) must be refused and counted:
#     `vnet stats` glue tx_link_down grows;
#   - QMP set_link nic0 on; a UDP echo round trip must succeed (a fresh
#     datagram every 0.1 s, bounded wait) and `vnet info` say "link up".
# At the end, idle, the buffer pool must be whole (glue pool_free plus the
# buffers in rx0/tx0, the same sum as before the loop) and every flap counted (tx_link_down grew each time).
# Prints the time from set_link on returning to the first echo reply
# (median, max): figures, not thresholds.
#
# --fast 1 (the soak, tests/soak/soak-link-flap.sh): the flaps are driven by
# link_flap_fast.py over one QMP connection, judged from the kernel's
# "vnet0: link down/up" console lines and the echo (no reply while down
# every 10th flap), without shell commands per flap, so no transmit is
# tried while down; at the end the pool must be whole, the link up and
# control_info's link "changes" grown by exactly 2 per flap.
#
# usage: kernel_link_flap.sh --kernel ELF [--flaps N] [--machine q35|pc]
#        [--accel auto|kvm|tcg] [--log FILE] [--fast 0|1]
# Exit: 0 pass, 1 fail, 77 skip (no qemu-system-x86_64 or python3).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/qemu.sh
. "$here/../lib/qemu.sh"
vq_init link_flap
kernel='' machine=q35 accel=auto log='' flaps=10 fast=0
vq_parse_args "kernel machine accel log flaps fast" "$@"
vq_kernel_needs
case "$flaps" in '' | *[!0-9]*) vq_die "--flaps must be a number" ;; esac
vq_qmp_init # $tmp, $sock, qmp()
[ -n "$log" ] || log=$tmp/console.log
port=$(vq_free_port udp)
if [ "$fast" = 1 ]; then tmo=$((240 + flaps)); else tmo=$((240 + flaps * 20)); fi
echo_py="$here/link_flap_echo.py"

echo "link_flap: $machine/$accel, $flaps flaps, log $log"
qemu_start --machine "$machine" --accel "$accel" --kernel "$kernel" \
	--serial "shell:$log" --stderr "$tmp/stderr" --timeout "$tmo" \
	--nic "user,hostfwd=udp:127.0.0.1:$port-:7" ",disable-legacy=on,id=nic0" -- -qmp "unix:$sock,server=on,wait=off"

vq_report link_flap

# glue FIELD: the number after FIELD in `vnet stats`' glue line.
glue() {
	local r
	qemu_shell_cmd "vnet stats" 5 r || return 1
	r=$(printf '%s\n' "$r" | grep -a '^glue: ') || return 1
	r=${r#* "$1" }
	printf '%s\n' "${r%% *}"
}
# pool_whole: "FREE+RX+TX" -- glue pool_free, and the buffers in rx0 and
# tx0 (virtqueue added - completed): a sent frame's buffer is reclaimed
# lazily, by the next transmit or poll, so pool_free alone can differ by
# the frames still in the tx ring; a leaked buffer is in none of the three.
pool_whole() {
	local r rx tx free
	qemu_shell_cmd "vnet stats" 5 r || return 1
	free=$(printf '%s\n' "$r" | grep -a '^glue: ' | sed -n 's/.* pool_free \([0-9]*\).*/\1/p')
	rx=$(printf '%s\n' "$r" | awk '$1 == "rx0" {for (i = 1; i < NF; i++) {if ($i == "added") a = $(i + 1); if ($i == "completed") c = $(i + 1)} print a - c}')
	tx=$(printf '%s\n' "$r" | awk '$1 == "tx0" {for (i = 1; i < NF; i++) {if ($i == "added") a = $(i + 1); if ($i == "completed") c = $(i + 1)} print a - c}')
	[ -n "$free" ] && [ -n "$rx" ] && [ -n "$tx" ] || return 1
	printf '%s+%s+%s\n' "$free" "$rx" "$tx"
}
# link_state: up|down from `vnet info`.
link_state() {
	local r
	qemu_shell_cmd "vnet info" 5 r || return 1
	r=$(printf '%s\n' "$r" | grep -ao ', link [a-z]*$' | head -1) || return 1
	printf '%s\n' "${r##* }"
}

qemu_shell_wait 240 || fail "no shell prompt"
# First contact (ARP through slirp), then the idle pool size.
python3 "$echo_py" "$port" reply 60 >/dev/null || fail "no UDP echo before the first flap"
[ "$(link_state)" = up ] || fail "link not up at start"
sleep 0.3
pool0=$(pool_whole) || fail "vnet stats did not answer"
down0=$(glue tx_link_down) || fail "vnet stats did not answer"
echo "link_flap: start pool free+rx+tx $pool0 tx_link_down $down0"

# link_changes: control_info's link "changes" (config interrupts that changed the state).
link_changes() {
	local r
	qemu_shell_cmd "virtio_net_control_info vnet0 --json" 10 r || return 1
	r=$(printf '%s\n' "$r" | grep -ao '"changes":[0-9]*' | head -1) || return 1
	printf '%s\n' "${r#*:}"
}

if [ "$fast" = 1 ]; then
	ch0=$(link_changes) || fail "control_info did not answer"
	python3 "$here/link_flap_fast.py" --qmp "$sock" --log "$log" --port "$port" --flaps "$flaps" ||
		fail "the fast flap loop failed"
	sleep 0.3
	pool1=$(pool_whole) || fail "vnet stats did not answer"
	ch1=$(link_changes) || fail "control_info did not answer"
	echo "link_flap: fast: link changes $ch0 -> $ch1; pool free+rx+tx $pool0 -> $pool1"
	[ $((pool1)) = $((pool0)) ] || fail "buffer pool not whole after the loop: free+rx+tx $pool0 -> $pool1"
	[ $((ch1 - ch0)) = $((2 * flaps)) ] || fail "link changes grew by $((ch1 - ch0)), not $((2 * flaps))"
	[ "$(link_state)" = up ] || fail "link not up after the loop"
	qemu_stop
	echo "link_flap: PASS $flaps fast flaps ($accel)"
	exit 0
fi

fails=0 rec=()
for i in $(seq 1 "$flaps"); do
	ok=1 why=''
	before=$(glue tx_link_down) || fail "flap $i: vnet stats did not answer"
	qmp cmd set_link '{"name":"nic0","up":false}' >/dev/null || fail "flap $i: set_link off refused"
	st=''
	for _ in $(seq 1 50); do
		st=$(link_state) || fail "flap $i: vnet info did not answer"
		[ "$st" = down ] && break
		sleep 0.1
	done
	[ "$st" = down ] || { ok=0 why+=" link-down-not-seen"; }
	python3 "$echo_py" "$port" none 0.5 >/dev/null || { ok=0 why+=" echo-while-down"; }
	qemu_shell_cmd "ping 10.0.2.2 1" 15 _ || { ok=0 why+=" ping-no-prompt"; }
	after=$(glue tx_link_down) || fail "flap $i: vnet stats did not answer"
	[ "$after" -gt "$before" ] || { ok=0 why+=" tx_link_down-not-grown($before->$after)"; }
	qmp cmd set_link '{"name":"nic0","up":true}' >/dev/null || fail "flap $i: set_link on refused"
	t_on=$(vq_now_us)
	if r=$(python3 "$echo_py" "$port" reply 10); then
		t_rep=${r%% *}
		ms=$(((${t_rep//./} - t_on) / 1000))
		rec+=("$ms")
	else
		ok=0 why+=" no-echo-after-up"
		ms=-
	fi
	st=$(link_state) || fail "flap $i: vnet info did not answer"
	[ "$st" = up ] || { ok=0 why+=" link-up-not-seen($st)"; }
	if [ "$ok" = 1 ]; then
		echo "link_flap: flap $i ok: tx_link_down $before -> $after, echo $ms ms after set_link on"
	else
		fails=$((fails + 1))
		echo "link_flap: flap $i FAILED:$why"
	fi
done

sleep 0.3
pool1=$(pool_whole) || fail "vnet stats did not answer"
down1=$(glue tx_link_down) || fail "vnet stats did not answer"
stats=$(printf '%s\n' "${rec[@]}" | sort -n | awk '{a[NR]=$1} END {if (NR) printf "median %d ms max %d ms over %d", a[int((NR+1)/2)], a[NR], NR}')
echo "link_flap: $flaps flaps, $fails failed; recovery (set_link on -> first echo) $stats; tx_link_down $down0 -> $down1; pool free+rx+tx $pool0 -> $pool1"
[ $((pool1)) = $((pool0)) ] || fail "buffer pool not whole after the loop: free+rx+tx $pool0 -> $pool1"
[ $((down1 - down0)) -ge "$flaps" ] || fail "not every flap counted: tx_link_down $down0 -> $down1"
[ "$fails" = 0 ] || fail "$fails of $flaps flaps failed"
qemu_stop
echo "link_flap: PASS $flaps flaps, recovery $stats ($accel)"
