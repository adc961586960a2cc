#!/usr/bin/env bash
# kernel_vnet_matrix: boot the Orion kernel against a representative matrix
# of QEMU 7.2 virtio-net-pci options; each working configuration must bring
# vnet0 up and pass selftest=ping (3 echo replies from the gateway), each
# unsupported one must be refused with a clear message while the kernel
# keeps running.  One line per case; the run fails if any case fails.
#
# usage: kernel_vnet_matrix.sh --kernel ELF [--accel auto|kvm|tcg] [--only REGEX] [--logdir DIR]
# Exit: 0 all passed, 1 a case failed, 77 skipped (no qemu-system-x86_64).
# Each boot is kernel/tests/net_test.sh, which starts QEMU through
# tests/lib/qemu.sh.
#
# Notes on what QEMU 7.2 accepts (checked by hand, see docs/performance.md
# and the kernel README):
#  - rx_queue_size must be a power of two in 256..1024; tx_queue_size max 256
#    for non-vhost-user backends.
#  - mq=on is accepted with -netdev user, but user networking has one queue
#    pair, so max_virtqueue_pairs is 1: the case checks MQ is negotiated and
#    the driver falls back to the one pair it has.
#  - csum/guest_csum: -netdev user has no vnet header, so QEMU never offers
#    the checksum features anyway; csum=off,guest_csum=off is still a case.
#  - vectors=0 (no MSI-X): the kernel routes the function's INTx line
#    through the IOAPIC ("mode intx gsi N"); the ping only passes if INTx
#    interrupts arrive (the kernel sleeps in hlt), and the counters line
#    printed after the self-test must show them.
#  - FEATURES_OK refusal: no QEMU option makes virtio-net-pci refuse a
#    feature set the driver picked from the offered bits, so that path is
#    covered by the unit tests (fake transport), not here.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/qemu.sh
. "$here/../lib/qemu.sh"
vq_init matrix
nettest="$here/../../kernel/tests/net_test.sh"
kernel='' accel=auto only='' logdir=''
vq_parse_args "kernel accel only logdir" "$@"
vq_need_kernel "$kernel"
qemu_need
accel=$(vq_accel "$accel") || exit 2
vq_logdir orion-matrix
tmo=120   # per boot; a boot takes ~10 s under this host's (nested) KVM, <1 s under TCG

# name | machine | device options | kernel cmdline | expected exit | expected regexes (;-separated)
UP='^vnet0: up ;^selftest ping: PASS'
# Without MSI-X the kernel must route INTx (GSI 20-23 on q35, PIIX3 ISA
# IRQ on pc) and the ping must have been carried by INTx interrupts.
INTX='^vnet0: counters mode intx .*intx_irqs [1-9]'
cases=(
"q35-default|q35|,disable-legacy=on||33|$UP;ring split .*mode irq msix 4"
"pc-transitional|pc|||33|$UP;^vnet: pci 00:[0-9a-f.]+: virtio 1af4:1000 type 1:"
"packed|q35|,disable-legacy=on,packed=on||33|$UP;ring packed"
"packed-declined|q35|,disable-legacy=on,packed=on|ring=split|33|$UP;ring split"
"pc-packed|pc|,packed=on||33|$UP;ring packed"
"event_idx-off|q35|,disable-legacy=on,event_idx=off||33|$UP"
"packed-event_idx-off|q35|,disable-legacy=on,packed=on,event_idx=off||33|$UP;ring packed"
"indirect-off|q35|,disable-legacy=on,indirect_desc=off||33|$UP"
"rxq1024|q35|,disable-legacy=on,rx_queue_size=1024,tx_queue_size=256|qsize=1024|33|$UP;qsize 1024"
"packed-rxq1024|q35|,disable-legacy=on,packed=on,rx_queue_size=1024|qsize=1024|33|$UP;ring packed qsize 1024"
"qsize64|q35|,disable-legacy=on|qsize=64|33|$UP;qsize 64"
"csum-off|q35|,disable-legacy=on,csum=off,guest_csum=off||33|$UP"
"mrg_rxbuf-off|q35|,disable-legacy=on,mrg_rxbuf=off||33|$UP"
"ctrl_vq-off|q35|,disable-legacy=on,ctrl_vq=off||33|$UP"
"no-msix|q35|,disable-legacy=on,vectors=0||33|$UP;mode intx gsi 2[0-3] msix 0;$INTX"
"pc-no-msix|pc|,vectors=0||33|$UP;mode intx gsi [0-9]+ msix 0;$INTX"
"no-msix-packed|q35|,disable-legacy=on,vectors=0,packed=on||33|$UP;ring packed .*mode intx gsi 2[0-3] msix 0;$INTX"
"shared-vector|q35|,disable-legacy=on,vectors=2||33|$UP;mode irq msix 2"
"mq|q35|,disable-legacy=on,mq=on,vectors=6|pairs=2|33|$UP"
"mtu9000|q35|,disable-legacy=on,host_mtu=9000||33|$UP;mtu 9000"
"mtu1400-mrg-off|q35|,disable-legacy=on,host_mtu=1400,mrg_rxbuf=off||33|$UP;mtu 1400"
"page-per-vq|q35|,disable-legacy=on,page-per-vq=on||33|$UP"
"poll|q35|,disable-legacy=on|mode=poll|33|$UP;mode poll"
"poll-packed|pc|,packed=on|mode=poll|33|$UP;ring packed .*mode poll"
"legacy-only|pc|,disable-modern=on||33|^vnet0: virtio-net .* is legacy-only: using the virtio 0.9.5 I/O BAR interface;$UP;ring split .*mode intx gsi [0-9]+ msix 0;$INTX"
"legacy-only-packed-asked|q35|,disable-modern=on|ring=packed|33|ring=packed ignored: a legacy device has split rings only;$UP;ring split"
)

pass=0 fail=0 skip=0 failed=()
t0=$(date +%s)
for c in "${cases[@]}"; do
	IFS='|' read -r name machine dev app want regexes <<<"$c"
	if [ -n "$only" ] && ! [[ "$name" =~ $only ]]; then
		continue
	fi
	args=()
	IFS=';' read -ra res <<<"$regexes"
	for r in "${res[@]}"; do args+=(--expect "$r"); done
	# Every boot runs selftest=ping; the legacy case fails it on purpose.
	append="selftest=ping $app"
	[ "$app" = "selftest=ping" ] && append="selftest=ping"
	if "$nettest" --kernel "$kernel" --machine "$machine" --accel "$accel" --dev-opts "$dev" \
		--append "$append" --expect-exit "$want" --timeout "$tmo" --name "$name" \
		--log "$logdir/$name.log" "${args[@]}"; then
		pass=$((pass + 1))
	else
		rc=$?
		if [ "$rc" -eq 77 ]; then skip=$((skip + 1)); else fail=$((fail + 1)); failed+=("$name"); fi
	fi
done
echo "matrix: $accel: $pass passed, $fail failed, $skip skipped in $(( $(date +%s) - t0 ))s (logs in $logdir)"
[ "$fail" -eq 0 ] || { echo "matrix: FAILED: ${failed[*]}"; exit 1; }
[ "$pass" -gt 0 ] || vq_skip "nothing ran"
exit 0
