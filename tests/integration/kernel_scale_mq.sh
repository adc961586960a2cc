#!/usr/bin/env bash
# kernel_scale_mq: the driver at full scale in one kernel: 8 virtio-net-pci
# devices x 8 queue pairs (16 data virtqueues + control each) x 256
# descriptors, each over its own multiqueue TAP (queues=8, mq=on, rss=on,
# vectors=18: config + one MSI-X vector per virtqueue, so every pair has
# its own; 144 vectors in all).  Checks:
#   - every vnetN comes up with 8 pairs, qsize 256, mode irq and 18 MSI-X
#     vectors, and programs RSS;
#   - 64 UDP flows per device from the TAP side (vlan_tap_peer.py flows,
#     AF_PACKET, all 8 TAPs at once) are all echoed, and on every device
#     every pair's rx and tx packet counts (`vnet stats vnetN`) grew: RSS
#     spread the flows and each reply left on its flow's pair;
#   - every pair counted receive interrupts (its own vector fired).
# Prints the boot figure (ms from kernel entry to the last device up, and
# seconds to the shell prompt).
# Traffic stays on the TAPs (10.81.N.0/24; the peer address .9 exists only
# in the frames); IPv6 is off on them.
#
# usage: kernel_scale_mq.sh --kernel ELF [--machine q35] [--accel auto|kvm|tcg] [--logdir DIR]
# Exit: 0 pass, 1 fail, 77 skip (not root, /dev/net/tun does not open, no
# qemu-system-x86_64/ip/python3) with the reason printed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/qemu.sh
. "$here/../lib/qemu.sh"
vq_init kscale_mq
kernel='' machine=q35 accel=auto logdir=''
vq_parse_args "kernel machine accel logdir" "$@"
vq_kernel_needs tap
vq_logdir kscale-mq
vq_tmpdir_var tmp
log=$logdir/console.log
devs=8 pairs=8 qsize=256 vectors=18
txt=''
declare -a taps=() gips=() nets=() nicopts=()
append="pairs=$pairs qsize=$qsize"
for i in $(seq 0 $((devs - 1))); do
	vq_tap_create "ksc$i" 10.81 multi_queue || exit 1
	taps[i]=$VQ_TAP
	nets[i]=${VQ_TAP_HOST%.1}
	gips[i]=${nets[i]}.2
	if [ "$i" -eq 0 ]; then
		append+=" ip=${gips[i]}/24"
	else
		append+=" vnet$i.ip=${gips[i]}/24"
	fi
	nicopts+=(--nic "tap,ifname=${taps[i]},queues=$pairs,script=no,downscript=no,vhost=off"
		",mq=on,vectors=$vectors,disable-legacy=on,rss=on,id=nic$i")
done
echo "kscale_mq: $machine/$accel, $devs devices x $pairs pairs x $qsize, taps ${taps[*]}, logs in $logdir"

t0=$(vq_now_us)
qemu_start --machine "$machine" --accel "$accel" --kernel "$kernel" --mem 768M \
	--append "$append" --serial "shell:$log" --stderr "$tmp/stderr" --timeout 240 "${nicopts[@]}"

vq_report kscale_mq 60
fail=0

qemu_shell_wait 150 || die "no shell prompt"
echo "kscale_mq: shell prompt after $(vq_elapsed "$t0") s"
declare -a macs=()
last_ms=0
for i in $(seq 0 $((devs - 1))); do
	up=$(qemu_console | grep -a "^vnet$i: up " || true)
	[ -n "$up" ] || die "vnet$i did not come up"
	echo "$up"
	macs[i]=$(sed -n 's/.* mac \([0-9a-f:]*\) .*/\1/p' <<<"$up")
	grep -q " pairs $pairs " <<<"$up" || bad "vnet$i: not $pairs pairs"
	grep -q " qsize $qsize " <<<"$up" || bad "vnet$i: not qsize $qsize"
	grep -q " mode irq msix $vectors " <<<"$up" || bad "vnet$i: not irq with $vectors MSI-X vectors"
	ms=$(sed -n 's/.*(\([0-9]*\) ms since kernel entry).*/\1/p' <<<"$up")
	[ -n "$ms" ] && [ "$ms" -gt "$last_ms" ] && last_ms=$ms
	qemu_console | grep -aq "^vnet$i: rss on: $pairs pairs" || bad "vnet$i did not program RSS"
done
echo "kscale_mq: boot: last device up $last_ms ms after kernel entry"

# stats I NAME: per pair rx/tx packets and rx interrupts of vnetI into NAME_{rx,tx,irq}.
stats() {
	local q
	qemu_shell_cmd "vnet stats vnet$1" 20 txt || die "vnet stats vnet$1 did not answer"
	for q in $(seq 0 $((pairs - 1))); do
		eval "$2_rx[$q]=$(sed -n "s/^pair $q rx: packets \([0-9]*\) .*/\1/p" <<<"$txt")"
		eval "$2_tx[$q]=$(sed -n "s/^pair $q tx: packets \([0-9]*\) .*/\1/p" <<<"$txt")"
		eval "$2_irq[$q]=$(sed -n "s/^pair $q moder: interrupts \([0-9]*\) .*/\1/p" <<<"$txt")"
	done
}
for i in $(seq 0 $((devs - 1))); do
	stats "$i" "b$i"
done
declare -a pids=()
for i in $(seq 0 $((devs - 1))); do
	python3 "$here/vlan_tap_peer.py" flows --tap "${taps[i]}" --mac "${macs[i]}" --guest-ip "${gips[i]}" \
		--peer-ip "${nets[i]}.9" --flows 64 --per-flow 1 --pairs $pairs --indir 128 >"$tmp/flows$i" 2>&1 &
	pids[i]=$!
done
for i in $(seq 0 $((devs - 1))); do
	wait "${pids[i]}" || bad "vnet$i flows: $(tr '\n' ' ' <"$tmp/flows$i")"
done
for i in $(seq 0 $((devs - 1))); do
	stats "$i" "a$i"
	line="vnet$i rx/tx/irq per pair:"
	for q in $(seq 0 $((pairs - 1))); do
		eval "brx=\${b${i}_rx[$q]:-} btx=\${b${i}_tx[$q]:-} arx=\${a${i}_rx[$q]:-} atx=\${a${i}_tx[$q]:-} airq=\${a${i}_irq[$q]:-}"
		# shellcheck disable=SC2154  # set by the eval above
		if [ -z "$brx" ] || [ -z "$arx" ] || [ -z "$btx" ] || [ -z "$atx" ] || [ -z "$airq" ]; then
			bad "vnet$i pair $q: no counters in vnet stats"
			continue
		fi
		line+=" $q:$((arx - brx))/$((atx - btx))/$airq"
		[ $((arx - brx)) -gt 0 ] || bad "vnet$i pair $q received nothing"
		[ $((atx - btx)) -gt 0 ] || bad "vnet$i pair $q sent nothing"
		[ "$airq" -gt 0 ] || bad "vnet$i pair $q counted no interrupt"
	done
	echo "$line  (flows: $(head -1 "$tmp/flows$i"))"
done

if [ "$fail" -ne 0 ]; then
	show
	exit 1
fi
echo "kscale_mq: PASS in $(vq_elapsed "$t0") s"
exit 0
