#!/bin/bash
# vnetd's bad arguments: each must end with a non-zero status and one line
# on stderr that names the problem, before anything is opened.
#
#   vnetd_args_test.sh --vnetd BIN
#
# The cases that need no privilege run anywhere.  The last one (client
# mode, a socket path that does not exist) opens the TAP first, so it needs
# root and /dev/net/tun: without them the test skips (77) after the others.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../lib/qemu.sh
. "$HERE/../../lib/qemu.sh"
vnetd=''
vq_parse_args "vnetd" "$@"
vq_init vnetd_args
[ -x "$vnetd" ] || { echo "$VQ_NAME: FAIL: vnetd not built at $vnetd"; exit 1; }
vq_tmpdir_var W
failed=0

# expect STATUS REGEX -- ARGS...: vnetd ARGS exits with STATUS and stderr
# matches REGEX (extended; empty: stderr must be empty).
expect() {
	local want=$1 re=$2 rc
	shift 3
	timeout 60 "$vnetd" "$@" >"$W/out" 2>"$W/err"
	rc=$?
	if [ "$rc" -ne "$want" ] || { [ -n "$re" ] && ! grep -aEq -- "$re" "$W/err"; } ||
		{ [ -z "$re" ] && [ -s "$W/err" ]; }; then
		echo "$VQ_NAME: FAIL: vnetd $*: status $rc (want $want), stderr: $(head -3 "$W/err")"
		failed=1
	else
		echo "$VQ_NAME: ok: vnetd $*: status $rc: $(head -1 "$W/err")"
	fi
}

S=$W/none.sock
expect 2 "unknown option '--bogus'" -- --vhost-user "$S" --tap t0 --bogus
expect 2 "unknown option '-x'" -- -x
expect 2 "--tap NAME is required" -- --vhost-user "$S"
expect 2 "--vhost-user PATH is required" -- --tap t0
expect 2 "option '--tap' needs an argument" -- --vhost-user "$S" --tap
expect 2 "'vnetd-name-too-long' is 19 characters; Linux interface names have at most 15" -- \
	--vhost-user "$S" --tap vnetd-name-too-long
expect 2 "contains '/'" -- --vhost-user "$S" --tap a/b
expect 2 "--queues 2: .*only --queues 1" -- --vhost-user "$S" --tap t0 --queues 2
expect 2 "--queue-size 100: must be a power of two" -- --vhost-user "$S" --tap t0 --queue-size 100
expect 2 "--offloads 'maybe': expected on or off" -- --vhost-user "$S" --tap t0 --offloads maybe
expect 2 "--irq and --poll exclude each other" -- --vhost-user "$S" --tap t0 --irq --poll
expect 2 "unexpected argument 'extra'" -- --vhost-user "$S" --tap t0 extra
# --help is not an error.
expect 0 "" -- --help
grep -aq "^usage: vnetd --vhost-user PATH" "$W/out" || { echo "$VQ_NAME: FAIL: --help printed no usage"; failed=1; }

[ "$failed" -eq 0 ] || exit 1

# Client mode, nothing at the socket path: the port waits (here 300 ms),
# then a message naming the path and why.  Needs the TAP first.
if [ "$(id -u)" -ne 0 ] || ! (exec 3<>/dev/net/tun) 2>/dev/null; then
	vq_skip "the missing-socket case needs root and /dev/net/tun (the TAP opens first); the other cases passed"
fi
tap=vnetdx$$
tap=${tap:0:15}
expect 1 "vhost-user socket $S: No such file or directory \(client mode" -- \
	--vhost-user "$S" --tap "$tap" --connect-timeout-ms 300
# A regular file where the socket should be.
: >"$W/file"
expect 1 "$W/file is not a socket" -- --vhost-user "$W/file" --tap "$tap" --connect-timeout-ms 300
# vnetd created the TAP without making it persistent: gone with vnetd.
if ip link show "$tap" >/dev/null 2>&1; then
	echo "$VQ_NAME: FAIL: TAP $tap still exists after vnetd exited"
	failed=1
fi
[ "$failed" -eq 0 ] || exit 1
echo "$VQ_NAME: PASS"
