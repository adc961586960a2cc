#!/bin/bash
# Recovery loop under traffic against QEMU's virtio-net-pci: the Orion
# kernel's qreset selftest runs --loops rounds, each a RING_RESET queue reset
# of rx0 and tx0 and, every --every rounds, a device reset with state replay,
# while the host's UDP echo client (through hostfwd) keeps sending.  After
# EACH round the kernel checks that the echo counter advances and that the
# buffer pool is whole (free + in rings = the count at the start, so every
# buffer posted before a reset was completed or reclaimed), and prints the
# round times (median, max).  It also checks each queue's buffer
# accounting after every step and round (posted = completed + reclaimed +
# leaked + in_flight, every reset reclaiming what was in flight) and this
# script checks the final figures it prints.  CI uses reduced counts; the soak script
# (tests/soak/soak-recover.sh) runs the same with larger ones.
#
# usage: kernel_recover_loop.sh --kernel ELF [--loops N] [--every K] [--machine q35|pc]
#        [--accel auto|kvm|tcg] [--log FILE] [--reply-timeout S]
# --reply-timeout: the echo client's resend time (default 0.5 s).  A datagram
# in flight during a reset is lost and resent after it, so it sets the round
# time: the soak passes 0.05 to run 10^4 rounds in minutes, not hours.
# Exit: 0 pass, 1 fail, 77 skip (no qemu-system-x86_64 or python3).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/qemu.sh
. "$here/../lib/qemu.sh"
vq_init recloop
kernel='' machine=q35 accel=auto log='' loops=25 every=1 reply_timeout=0.5
vq_parse_args "kernel machine accel log loops every reply-timeout" "$@"
vq_kernel_needs
vq_tmpdir_var tmp
[ -n "$log" ] || log=$tmp/console.log
port=$(vq_free_port udp)
qr=$((loops * 2)) dr=$((loops / every))
tmo=$((300 + loops / 2))

echo "recover_loop: $machine/$accel, $loops rounds ($qr queue resets, $dr device resets), log $log"
qemu_start --machine "$machine" --accel "$accel" --kernel "$kernel" \
	--append "selftest=qreset qreset.sync=0 qreset.loops=$loops qreset.every=$every qreset.each=1 qsize=256" \
	--serial "shell:$log" --stderr "$tmp/stderr" --timeout "$tmo" \
	--nic "user,hostfwd=udp:127.0.0.1:$port-:7" ",disable-legacy=on,id=nic0"

client_pid=''
stop_client() { [ -n "$client_pid" ] && kill "$client_pid" 2>/dev/null; wait 2>/dev/null; client_pid=''; }
show() { echo "---- QEMU stderr ----"; cat "$tmp/stderr"; echo "---- console ($log) ----"; qemu_console | tail -40; }
fail() { stop_client; echo "recover_loop: FAIL $*"; show; exit 1; }

vq_wait_file_re "$log" '^qreset: ready ring_reset' 240 "$QEMU_PID" || fail "kernel did not start the test"
grep -aq '^qreset: ready ring_reset 1' "$log" || fail "RING_RESET not negotiated with QEMU's virtio-net-pci"
python3 "$here/udp_echo_client.py" --port "$port" --count 1000000 --no-stop \
	--reply-timeout "$reply_timeout" --retries 1000000 >"$tmp/client.log" 2>&1 &
client_pid=$!
qemu_wait_exit "$tmo"
stop_client
if [ "$QEMU_RC" != "$QEMU_EXIT_PASS" ] || ! grep -aq '^selftest qreset: PASS' "$log"; then
	fail "kernel selftest did not pass (QEMU exit $QEMU_RC, $(qemu_exit_meaning "$QEMU_RC"))"
fi
sum=$(tr -d '\r' <"$log" | grep -a '^qreset: loopsum ')
echo "$sum" | grep -q "^qreset: loopsum rounds $loops queue_resets $qr device_resets $dr failures 0 no_traffic 0 " ||
	fail "the loop did not run in full without failures: $sum"
# Buffer accounting (struct vnet_net_vq_acct), the final figures: every
# queue balanced (posted = completed + reclaimed + leaked + in_flight),
# nothing leaked, buffers reclaimed on rx0 and tx0, and the data queues'
# reclaimed total equal to the recovery counter's.
acct=$(tr -d '\r' <"$log" | grep -a '^qreset: acct ')
[ -n "$acct" ] || fail "no buffer accounting lines"
echo "$acct" | awk '
	{ for (i = 4; i < NF; i += 2) v[$i] = $(i + 1)
	  if (v["posted"] != v["completed"] + v["reclaimed"] + v["leaked"] + v["in_flight"] || v["leaked"] != 0) bad++
	  if (($3 == "rx0" || $3 == "tx0") && v["reclaimed"] == 0) bad++ }
	END { exit bad ? 1 : 0 }' || fail "buffer accounting does not add up: $acct"
asum=$(tr -d '\r' <"$log" | grep -a '^qreset: acctsum ')
echo "$asum" | awk '$6 != 0 || $8 != 0 || $10 != $12 || $10 == 0 { exit 1 }' ||
	fail "buffer accounting summary: $asum"
tr -d '\r' <"$log" | grep -a '^qreset: ' | grep -v waiting | tail -12
echo "recover_loop: PASS $sum"
echo "recover_loop: $asum"
