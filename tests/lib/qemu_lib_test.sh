#!/usr/bin/env bash
# qemu_lib_test: checks what tests/lib/qemu.sh promises the tests built on
# it, against the real Orion kernel:
#   - two --nic options give two virtio-net functions, each with its own
#     device options (modern-only 1af4:1041 and transitional 1af4:1000);
#   - --serial shell: the shell's prompt is seen, qemu_shell_cmd returns a
#     command's reply (pci, vnet info, an unknown command) and 0;
#   - a reply that cannot arrive in time returns 1, and the next command,
#     typed while the first still runs, still gets its own reply;
#   - the kernel's exit code comes back through isa-debug-exit (exit ->
#     QEMU status 33);
#   - a script that exits with QEMU still running leaves no QEMU behind
#     (the exit trap), and vq_accel refuses an unknown accelerator;
#   - vq_kernel_needs' usage errors and resolved accelerator, vq_logdir.
#
# usage: qemu_lib_test.sh --kernel ELF [--accel auto|kvm|tcg] [--log FILE]
# Exit: 0 pass, 1 fail, 77 skipped (no qemu-system-x86_64).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/qemu.sh
. "$here/qemu.sh"
vq_init qemu_lib_test

kernel='' accel=auto log='' reply='' left=''
vq_parse_args "kernel accel log" "$@"
vq_need_kernel "$kernel"
qemu_need
[ -n "$log" ] || log=$(mktemp "${TMPDIR:-/tmp}/orion-qemu-lib.XXXXXX.log")

fail=0
ok() { echo "qemu_lib_test: ok   $1"; }
bad() { echo "qemu_lib_test: FAIL $1"; fail=1; }
# expect DESCRIPTION STATUS REPLY REGEX: STATUS 0 and a REPLY line matching REGEX.
expect() {
	if [ "$2" -eq 0 ] && grep -Eq -- "$4" <<<"$3"; then
		ok "$1 (${QEMU_SHELL_MS} ms)"
	else
		bad "$1: status $2, reply [$3], wanted a line matching /$4/"
	fi
}

# The exit trap ends a QEMU the script left running.
if (vq_accel bogus) >/dev/null 2>&1; then bad "vq_accel accepted 'bogus'"; else ok "vq_accel refuses 'bogus'"; fi
# vq_kernel_needs: a missing --kernel is a usage error (2), an unknown
# accelerator too, and a good call leaves $accel resolved to kvm or tcg;
# vq_logdir creates the directory it names, or the one given.
rc=0; (kernel='' accel=auto; vq_kernel_needs) >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] && ok "vq_kernel_needs: no --kernel exits 2" || bad "vq_kernel_needs: no --kernel exited $rc, want 2"
rc=0; (accel=bogus; vq_kernel_needs) >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] && ok "vq_kernel_needs: accelerator 'bogus' exits 2" || bad "vq_kernel_needs: 'bogus' exited $rc, want 2"
got=$(accel=auto; vq_kernel_needs && echo "$accel")
case "$got" in kvm | tcg) ok "vq_kernel_needs resolves auto to $got" ;; *) bad "vq_kernel_needs left accel '$got'" ;; esac
got=$(logdir=''; vq_logdir orion-qemu-lib && echo "$logdir")
if [ -d "$got" ] && [[ "$(basename "$got")" == orion-qemu-lib.* ]]; then ok "vq_logdir made $got"; else bad "vq_logdir: '$got' is not a new directory"; fi
[ -d "$got" ] && rmdir "$got"
got=$(logdir=$log.dir/sub; vq_logdir unused && echo "$logdir")
if [ "$got" = "$log.dir/sub" ] && [ -d "$got" ]; then ok "vq_logdir keeps and creates --logdir"; else bad "vq_logdir: given $log.dir/sub, got '$got'"; fi
rm -rf "$log.dir"
leftlog=$log.left
pid=$(bash -c '. "$1"; vq_init child; qemu_start --kernel "$2" --accel "$3" --nic user "" \
	--serial "log:$4" --timeout 120 >/dev/null; echo "$QEMU_PID"; exit 1' child "$here/qemu.sh" "$kernel" "$accel" "$leftlog")
if [ -z "$pid" ]; then
	bad "child script did not start QEMU"
elif left=$(pgrep -f -- "$leftlog") || kill -0 "$pid" 2>/dev/null; then
	bad "QEMU still running after its script exited (timeout pid $pid, QEMU ${left:-?})"
	# shellcheck disable=SC2086  # pids, one a word
	kill -9 $left "$pid" 2>/dev/null
else
	ok "exit trap ended the QEMU its script left running"
fi
rm -f "$leftlog"

qemu_start --accel "$accel" --kernel "$kernel" --serial "shell:$log" --stderr "$log.stderr" --timeout 240 \
	--nic user ",disable-legacy=on" --nic user ""
echo "qemu_lib_test: $QEMU_MACHINE/$QEMU_ACCEL, log $log"
if ! qemu_shell_wait 120; then
	bad "no shell prompt"
	cat "$log.stderr"; qemu_console | tail -30
	exit 1
fi
ok "shell prompt"

qemu_shell_cmd pci 30 reply
st=$?
expect "pci lists the first NIC (modern)" "$st" "$reply" '^pci 00:02\.0 1af4:1041 .*virtio-net'
expect "pci lists the second NIC (transitional)" "$st" "$reply" '^pci 00:03\.0 1af4:1000 .*virtio-net'
qemu_shell_cmd "vnet info" 30 reply
expect "vnet info answers" $? "$reply" '^vnet0: '
qemu_shell_cmd no_such_cmd 30 reply
expect "unknown command answered" $? "$reply" '^no_such_cmd: unknown command'

# 3 pings take milliseconds at least: a 1 ms bound must time out.
if qemu_shell_cmd "ping 10.0.2.2 3" 0.001 reply; then
	bad "a reply within 1 ms returned 0 (took ${QEMU_SHELL_MS} ms)"
else
	ok "reply not in time returns 1 (${QEMU_SHELL_MS} ms)"
fi
qemu_shell_cmd uptime 30 reply
expect "command typed while ping ran gets its own reply" $? "$reply" '^up [0-9.]+ s'

qemu_shell_send exit
if qemu_wait_exit 30 && [ "$QEMU_RC" = "$QEMU_EXIT_PASS" ]; then
	ok "exit: QEMU status $QEMU_RC ($(qemu_exit_meaning "$QEMU_RC"))"
else
	bad "exit: QEMU status '${QEMU_RC:-still running}', expected $QEMU_EXIT_PASS"
fi

if [ "$fail" -ne 0 ]; then
	echo "---- QEMU stderr ----"; cat "$log.stderr"
	echo "---- kernel console ($log) ----"; qemu_console | tail -60
	exit 1
fi
rm -f "$log.stderr"
echo "qemu_lib_test: PASS"
exit 0
