#!/bin/bash
# bench/kernel-vs-linux.sh [--kernel ELF] [--rounds N] [--secs S] [--accel auto|kvm|tcg] [--linux-wait S]
#                          [--guests "orion linux"] [--vectors N]   (one of them alone: a check of that guest's path)
# The Orion kernel's data path against a Linux guest (Debian's
# linux-image-amd64, virtio_net, busybox initramfs from bench/lib/linux-guest.sh),
# both under the same QEMU -netdev vhost-user set-up (memfd-shared RAM)
# against dpdk-testpmd's vhost PMD, in one run, alternating guests, N rounds.
#   TX: testpmd rxonly; Orion "vnet bench tx S" (64-byte UDP frames) /
#       Linux pktgen (one thread, 64-byte frames, count 0) for S seconds.
#       Mpps = testpmd's RX-packets / S (the receiver's count).
#   RX: testpmd txonly (64-byte frames, interactive: its flood starts once
#       the guest is ready to count, see tp_txonly_start); Orion "vnet bench rx S" / Linux
#       eth0 rx_packets before and after S seconds.  Mpps = the guest's
#       count / S; testpmd's TX-packets over its whole life beside it.
# KVM when /dev/kvm opens, TCG otherwise (the table says which).  Under
# TCG the NIC gets vectors=0 (INTx, both guests): QEMU 7.2 segfaults under
# TCG when a guest unmasks an MSI-X vector of a vhost-user virtio-net
# (msix_set_vector_notifiers -> virtio_pci_vector_unmask, from
# vhost_net_start at DRIVER_OK); --vectors N overrides.  Prints
# one line per measurement and a min/median/max table.  Run it through
# /work/wt/notes/heavy on the shared machine.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=../tests/lib/qemu.sh
. "$root/tests/lib/qemu.sh"
# shellcheck source=../tests/lib/dpdk.sh
. "$root/tests/lib/dpdk.sh"
# shellcheck source=lib/linux-guest.sh
. "$here/lib/linux-guest.sh"
vq_init kbench-kvl
kernel=$root/build/bin/orion-kernel.elf rounds=3 secs=5 accel=auto lg_wait=300 guests="orion linux" vectors=
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--secs) secs=$2; shift 2 ;;
	--accel) accel=$2; shift 2 ;;
	--vectors) vectors=$2; shift 2 ;;
	--linux-wait) lg_wait=$2; shift 2 ;;   # s the Linux guest may take to boot, run and power off
	--guests) guests=$2; shift 2 ;;
	*) echo "usage: $0 [--kernel ELF] [--rounds N] [--secs S] [--accel auto|kvm|tcg] [--linux-wait S] [--guests \"orion linux\"] [--vectors N]" >&2; exit 2 ;;
	esac
done
[ -f "$kernel" ] || vq_die "Orion kernel $kernel not built"
qemu_need
dpdk_require_testpmd || exit 2
accel=$(vq_accel "$accel") || exit 2
[ -n "$vectors" ] || { [ "$accel" = tcg ] && vectors=0; }
nicopt=",disable-legacy=on${vectors:+,vectors=$vectors}"
vq_tmpdir_var tmp
vq_on_exit dpdk_cleanup
case " $guests " in *" linux "*) lg_build "$tmp/lg" || exit 2 ;; esac
echo "kernel-vs-linux: accel $accel, NIC$nicopt, $rounds rounds of $secs s, guests $guests, Linux ${LG_KVER:-(not built)}, load: $(cut -d' ' -f1-3 /proc/loadavg)"
sock=$tmp/kbench-kvl.sock
results=$tmp/results

# RX: testpmd txonly is interactive (-i, commands on a FIFO) and starts
# its flood only when told: for Orion once the shell has echoed the bench
# command (a flood from the moment the guest's driver is up kept a slow
# nested vCPU in its interrupt path, so the shell never read the command);
# for Linux as soon as QEMU is started (the guest measures its own window).
tp_txonly_start() {
	rm -f "$tmp/tp.fifo"
	mkfifo "$tmp/tp.fifo"
	DPDK_STDIN=$tmp/tp.fifo dpdk_start TP "$1" 0 -- --vdev "net_vhost0,iface=$sock,queues=1,client=0" -- \
		-i --forward-mode=txonly --nb-cores=1 --port-topology=loop --total-num-mbufs=32768 --burst=32 --txpkts=64
	exec 7>"$tmp/tp.fifo" # opening the FIFO for writing lets testpmd's open of its stdin return
}
tp_send() { printf '%s\n' "$1" >&7; }
tp_txonly_stop() {
	tp_send stop # prints the forward statistics dpdk_port_totals reads
	sleep 1
	tp_send quit
	exec 7>&-
}
# orion_rx_cmd COMMAND SECONDS VAR: qemu_shell_cmd, with testpmd's flood
# started once the shell has echoed COMMAND (the kernel reads the line, then
# the bench runs with interrupts off).  The figures are printed before the
# pair is re-armed, so the bench line is parsed even if no prompt follows.
orion_rx_cmd() {
	local off starter rc=0
	off=$(wc -c <"$QEMU_LOG")
	( for ((i = 0; i < 500; i++)); do
		tail -c +"$((off + 1))" "$QEMU_LOG" | tr -d '\r' | grep -qF "$1" && break
		sleep 0.02
	done
	tp_send start ) &
	starter=$!
	qemu_shell_cmd "$1" "$2" "$3" || rc=$?
	wait "$starter"
	return "$rc"
}

# one GUEST DIR ROUND: one measurement, appends "GUEST DIR mpps" to results.
one() {
	local guest=$1 dir=$2 round=$3 mode log=$tmp/console-$1-$2-$3.log tplog=$tmp/testpmd-$1-$2-$3.log
	local got='' reply='' rx tx mpps
	rm -f "$sock"
	if [ "$dir" = rx ]; then
		tp_txonly_start "$tplog"
	else
		dpdk_vhost_start TP "$tplog" 0 "$sock" rxonly --txpkts=64
	fi
	dpdk_wait_socket "$sock" "$TP" 30 || { echo "testpmd did not start"; tail "$tplog"; return 1; }
	qemu_vhost_user_args "$sock" 512M
	if [ "$guest" = orion ]; then
		qemu_start --machine q35 --accel "$accel" --mem 512M --kernel "$kernel" --append "qsize=256" \
			--serial "shell:$log" --stderr "$tmp/stderr" --timeout $((secs + 120)) \
			--nic "$QEMU_VHOST_NIC" "$nicopt" -- "${QEMU_VHOST_ARGS[@]}"
		qemu_shell_wait 90 || { echo "orion: no prompt"; tail "$log"; qemu_stop; dpdk_stop "$TP"; return 1; }
		if [ "$dir" = rx ]; then
			orion_rx_cmd "vnet bench rx $secs" $((secs + 30)) reply
		else
			qemu_shell_cmd "vnet bench tx $secs" $((secs + 30)) reply
		fi
		got=$(sed -n 's/^bench .* frames \([0-9]*\) .*/\1/p' <<<"$reply")
		qemu_stop
	else
		qemu_start --machine q35 --accel "$accel" --mem 512M --kernel "$LG_KERNEL" --initrd "$LG_INITRD" \
			--append "console=ttyS0 earlyprintk=serial edd=off loglevel=7 lgmode=$dir lgsecs=$secs" \
			--serial "log:$log" --stderr "$tmp/stderr" --timeout $((secs + lg_wait + 10)) \
			--nic "$QEMU_VHOST_NIC" "$nicopt" -- "${QEMU_VHOST_ARGS[@]}"
		[ "$dir" = rx ] && tp_send start
		qemu_wait_exit $((secs + lg_wait)) || qemu_stop
		if [ "$dir" = tx ]; then
			got=$(qemu_console | sed -n 's/^LG tx sent \([0-9]*\).*/\1/p')
		else
			got=$(qemu_console | sed -n 's/^LG rx got \([0-9]*\).*/\1/p')
		fi
	fi
	[ "$dir" = rx ] && tp_txonly_stop
	dpdk_stop "$TP"
	read -r rx tx < <(dpdk_port_totals "$tplog")
	if [ "$dir" = tx ]; then
		mpps=$(awk -v n="$rx" -v s="$secs" 'BEGIN { printf "%.3f", n / s / 1e6 }')
		echo "round $round $guest tx: testpmd RX-packets $rx (guest says it sent ${got:-?}) -> $mpps Mpps"
	else
		mpps=$(awk -v n="${got:-0}" -v s="$secs" 'BEGIN { printf "%.3f", n / s / 1e6 }')
		echo "round $round $guest rx: guest received ${got:-?} (testpmd TX-packets $tx over its life) -> $mpps Mpps"
	fi
	[ -n "$got" ] || { echo "  (no count from the guest; console $log:)"; qemu_console | tail -5; }
	echo "$guest $dir $mpps" >>"$results"
}

for ((r = 1; r <= rounds; r++)); do
	for d in tx rx; do   # Orion and Linux back to back for each direction
		for g in $guests; do one "$g" "$d" "$r"; done
	done
done
echo
echo "kernel-vs-linux: Mpps (min / median / max over $rounds rounds, $secs s each, accel $accel, 64-byte frames, load after: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '| %-6s | %-3s | %-7s | %-7s | %-7s |\n' guest dir min median max
printf '|--------|-----|---------|---------|---------|\n'
for g in $guests; do
	for d in tx rx; do
		awk -v g="$g" -v d="$d" '$1 == g && $2 == d { print $3 }' "$results" | sort -n |
			awk -v g="$g" -v d="$d" '{ v[NR] = $1 } END { if (NR) printf "| %-6s | %-3s | %7.3f | %7.3f | %7.3f |\n", g, d, v[1], v[int((NR + 1) / 2)], v[NR] }'
	done
done
