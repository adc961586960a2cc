# shellcheck shell=bash disable=SC2034  # the QEMU_* variables are read by callers
# tests/lib/qemu.sh: the one place that knows how to start QEMU with the Orion
# kernel, for every test script and the demo (tests/lib/dpdk.sh beside it
# does the same for dpdk-testpmd, for the vhost tests and the benchmarks).
# Source it:
#
#     . "$here/../lib/qemu.sh"        # or the right relative path
#     vq_init udp_echo                # message prefix, exit trap
#     vq_parse_args "kernel machine accel dev-opts=devopts" "$@"
#     qemu_need; vq_need python3 python3        # or SKIP (exit 77)
#     qemu_start --machine q35 --accel auto --kernel "$kernel" --append "selftest=echo" \
#         --nic "user,hostfwd=udp:127.0.0.1:$port-:7" ",disable-legacy=on" \
#         --serial "log:$log" --stderr "$log.stderr" --timeout 600
#     qemu_wait_log 'echo service on udp port' 120 || ...
#     qemu_wait_exit 30; echo "exit $QEMU_RC"
#
# A test that talks to the kernel's shell:
#
#     qemu_start --kernel "$kernel" --nic user "" --serial "shell:$log" --timeout 300
#     qemu_shell_wait 120 || fail
#     qemu_shell_cmd "vnet stats" 1 reply || fail "no answer within 1 s"
#
# Functions (each documented where it is defined):
#   vq_init vq_parse_args vq_die vq_skip vq_need vq_need_kernel vq_require
#   vq_accel vq_kernel_needs vq_logdir vq_on_exit vq_tmpdir_var vq_kill vq_cleanup vq_now_us
#   vq_elapsed vq_text vq_has vq_wait_file_re vq_free_port vq_need_tap
#   vq_tap_create
#   qemu_arch qemu_need qemu_require qemu_build qemu_run qemu_start qemu_exec
#   qemu_wait_exit qemu_stop qemu_wait_log qemu_console qemu_exit_meaning
#   qemu_shell_wait qemu_shell_send qemu_shell_cmd
#
# What it does:
#   - vq_*: the script's name in messages, option parsing, skip-77 for a
#     missing program (naming the Debian package that provides it), the
#     accelerator probe, bounded waits, free-port picking, and one EXIT
#     trap that ends every process the library started, runs the caller's
#     clean-up hooks and removes its temporary files.
#   - qemu_*: builds the QEMU command line (machine, accelerator, memory,
#     -kernel/-append/-initrd, any number of virtio-net-pci NICs each with
#     its own netdev, the serial port, isa-debug-exit, extra arguments) and
#     runs it in the foreground, in the background or in place of the shell
#     (exec), always under a hard timeout except for the interactive exec.
#   - an interactive serial port (--serial shell:LOG): the serial port is a
#     FIFO pair, everything the kernel prints goes to LOG as with log:LOG,
#     and qemu_shell_cmd types a command at the kernel's shell ("> " prompt,
#     kernel/core/shell.c) and prints the reply, with a bounded wait.
#
# Architectures: qemu_arch ARCH (or qemu_build --arch ARCH) sources
# kernel/arch/ARCH/qemu.sh, which names the QEMU binary and its Debian
# package, the boards, how the kernel is loaded, the virtio-net device of
# each transport (--transport pci|mmio) and the exit status that means
# PASS (the contract is in kernel/arch/README.md).  Default: x86_64, q35,
# pci, exactly what the scripts ran before --arch existed.
#
# How the kernel's result comes back (x86_64): orion_exit() writes its exit
# code to the isa-debug-exit port 0xf4 (kernel/include/orion/power.h); QEMU
# exits with (code << 1) | 1, so PASS (0x10) is QEMU_EXIT_PASS 33 and FAIL
# (0x11) is QEMU_EXIT_FAIL 35.  Other arches set their own QEMU_EXIT_PASS
# and QEMU_EXIT_FAIL.  timeout(1) makes a hung guest 124 (137 if it had to
# SIGKILL).
#
# What it does not do: decide what a test asserts, print PASS/FAIL for the
# test, or choose options for the caller (defaults: q35, auto accelerator,
# 256M, 120 s).  It starts one QEMU at a time as "the" QEMU (QEMU_PID,
# QEMU_LOG); starting another replaces those, but every QEMU started is
# still ended by the exit trap.
#
# Trust and concurrency: the scripts run serially (one bash process, no
# threads); the only children are QEMU (under timeout), the FIFO reader
# (cat) and whatever the caller starts itself.  Every wait is bounded by a
# timeout the caller passes.  Nothing here needs root; TAP netdevs do, and
# their callers check that.
#
# Variables the caller may read: VQ_NAME, QEMU_ARCH, QEMU_TRANSPORT,
# QEMU_EXIT_PASS, QEMU_EXIT_FAIL, QEMU_BIN, QEMU_ACCEL (resolved
# kvm|tcg), QEMU_MACHINE, QEMU_CMD (the last command line, an array),
# QEMU_PID (timeout's pid), QEMU_CHILD (QEMU's), QEMU_LOG, QEMU_RC (exit
# status after qemu_run/qemu_wait_exit), QEMU_SHELL_MS (how long the last
# qemu_shell_cmd took).

QEMU_EXIT_PASS=33
QEMU_EXIT_FAIL=35
VQ_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
QEMU_ARCH=
QEMU_TRANSPORT=pci

VQ_NAME=${VQ_NAME:-$(basename "$0" .sh)}
VQ_PIDS=()        # processes to end on exit (QEMU, FIFO readers)
VQ_TMP=()         # files and directories to remove on exit
VQ_HOOKS=()       # caller's clean-up commands, run last-registered first
QEMU_BIN=
QEMU_ACCEL=
QEMU_MACHINE=
QEMU_CMD=()
QEMU_PID=
QEMU_CHILD=
QEMU_CHILD_START=
QEMU_LOG=
QEMU_RC=
QEMU_SHELL_FD=
QEMU_SHELL_MS=

# ---------------------------------------------------------------- generic

# vq_init NAME: NAME prefixes every message; installs the exit trap
# (vq_cleanup) and makes INT/TERM/HUP end the script with status 1.
vq_init() {
	VQ_NAME=$1
	trap vq_cleanup EXIT
	trap 'exit 1' INT TERM HUP
}

# vq_parse_args SPEC "$@": the scripts' option parser.  SPEC lists the
# options without their dashes; each takes one value, stored in the
# variable of the same name ('-' becomes '_'), or in VAR with "opt=VAR",
# or appended to the array VAR with "opt=VAR+".  Example:
#     vq_parse_args "kernel machine dev-opts=devopts expect=expects+" "$@"
# An unknown option or a missing value is a usage error (exit 2).
vq_parse_args() {
	local _vq_spec=$1 _vq_w _vq_opt _vq_var _vq_found
	shift
	while [ $# -gt 0 ]; do
		_vq_found=0
		for _vq_w in $_vq_spec; do
			_vq_opt=${_vq_w%%=*}
			_vq_var=${_vq_w#*=}
			[ "$_vq_var" != "$_vq_w" ] || _vq_var=${_vq_opt//-/_}
			[ "$1" = "--$_vq_opt" ] || continue
			[ $# -ge 2 ] || vq_die "$1 needs a value"
			if [ "${_vq_var%+}" != "$_vq_var" ]; then
				eval "${_vq_var%+}+=(\"\$2\")"
			else
				printf -v "$_vq_var" '%s' "$2"
			fi
			_vq_found=1
			break
		done
		[ "$_vq_found" = 1 ] || vq_die "unknown argument $1"
		shift 2
	done
}

# vq_die MESSAGE: usage or set-up error, exit 2.
vq_die() {
	echo "$VQ_NAME: $*" >&2
	exit 2
}

# vq_skip REASON: "NAME: SKIP: REASON", exit 77 (ctest SKIP_RETURN_CODE).
vq_skip() {
	echo "$VQ_NAME: SKIP: $*"
	exit 77
}

# vq_need PROG DEBIAN-PACKAGE: skip (77) unless PROG is on PATH.
vq_need() {
	command -v "$1" >/dev/null 2>&1 || vq_skip "$1 not found (Debian package $2)"
}

# vq_need_kernel ELF: usage error (exit 2) unless ELF is a file: every
# script takes --kernel.
vq_need_kernel() {
	[ -n "$1" ] && [ -f "$1" ] && return 0
	vq_die "--kernel ELF required"
}

# vq_require PROG DEBIAN-PACKAGE: like vq_need, but a missing program is an
# error (exit 2): for the demo, where a skip would read as success.
vq_require() {
	command -v "$1" >/dev/null 2>&1 || vq_die "$1 not found (Debian package $2: apt-get install $2)"
}

# vq_accel auto|kvm|tcg: prints the accelerator to use.  auto means KVM
# when /dev/kvm can really be opened read-write by this user (its mere
# existence is not enough: no permission, or a nested host without it),
# TCG otherwise; and always TCG when the guest architecture (QEMU_ARCH) is
# not the host's (ARCH_QEMU_KVM_HOST of kernel/arch/ARCH/qemu.sh).
vq_accel() {
	case "${1:-auto}" in
	auto)
		if [ "$(uname -m)" = "${ARCH_QEMU_KVM_HOST:-x86_64}" ] && (exec 3<>/dev/kvm) 2>/dev/null; then
			echo kvm
		else
			echo tcg
		fi ;;
	kvm | tcg) echo "$1" ;;
	*) vq_die "accelerator must be auto, kvm or tcg (got '$1')" ;;
	esac
}

# vq_on_exit COMMAND...: run COMMAND (words, not a string to eval) on exit,
# after the library's processes have been ended; its stderr is discarded
# (a clean-up of something never created is not news).
vq_on_exit() {
	local q
	printf -v q '%q ' "$@"
	VQ_HOOKS+=("$q")
}

# vq_tmpdir_var VAR: creates a temporary directory, sets VAR to its path
# and removes it on exit.  (It sets a variable rather than printing, as a
# $(...) subshell could not register the directory for removal.)
vq_tmpdir_var() {
	local _vq_d
	_vq_d=$(mktemp -d "${TMPDIR:-/tmp}/vq-$VQ_NAME.XXXXXX") || vq_die "mktemp failed"
	VQ_TMP+=("$_vq_d")
	printf -v "$1" '%s' "$_vq_d"
}

# vq_kernel_needs [tap]: what a kernel test checks once its options are
# parsed, in one place: --kernel names a file (else exit 2), with "tap"
# root and a /dev/net/tun that opens (else skip 77), qemu-system-* and
# python3 on PATH (else skip 77); then $accel (auto|kvm|tcg, as parsed)
# becomes the accelerator vq_accel picks (an unknown one: exit 2).
vq_kernel_needs() {
	vq_need_kernel "${kernel:-}"
	[ "${1:-}" != tap ] || vq_need_tap
	qemu_need
	vq_need python3 python3
	accel=$(vq_accel "${accel:-auto}") || exit 2
}

# vq_logdir PREFIX: unless the caller gave --logdir, $logdir becomes a new
# directory ${TMPDIR:-/tmp}/PREFIX.XXXXXX (kept after the run: it holds
# the logs to read on a failure); created either way.
vq_logdir() {
	[ -n "${logdir:-}" ] || logdir=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || vq_die "mktemp failed"
	mkdir -p "$logdir" || vq_die "cannot create $logdir"
}

# vq_report NAME [LINES]: defines the failure reporting of a kernel test that keeps
# QEMU's stderr in $tmp/stderr and its console in $log:
#   show        QEMU's stderr and the console's last LINES (40) lines;
#   fail MSG    "NAME: FAIL MSG", vq_on_fail (if the test defines it: e.g.
#               stop its traffic client), show, exit 1; die is the same;
#   bad MSG     "NAME: FAIL MSG" and fail=1: the test goes on and decides
#               at its end.
vq_report() {
	VQ_REPORT_NAME=$1 VQ_REPORT_LINES=${2:-40}
	show() {
		echo "---- QEMU stderr ----"
		cat "$tmp/stderr"
		echo "---- console ($log) ----"
		qemu_console | tail -"$VQ_REPORT_LINES"
	}
	fail() {
		! declare -F vq_on_fail >/dev/null || vq_on_fail
		echo "$VQ_REPORT_NAME: FAIL $*"
		show
		exit 1
	}
	die() { fail "$@"; }
	bad() {
		echo "$VQ_REPORT_NAME: FAIL $*"
		fail=1
	}
}

# vq_vnet0_up [PAIRS [rss]] (after vq_report): wait for the shell (120 s),
# print vnet0's up line and set $mac from it; with PAIRS > 0, vnet0 must be
# up with that many pairs; with rss, print the RSS line and set $indir (its
# table entries) and $htypes (hash types) from it.
vq_vnet0_up() {
	local up rssl
	qemu_shell_wait 120 || die "no shell prompt"
	up=$(qemu_console | grep -a '^vnet0: up ' || true)
	echo "$up"
	mac=$(sed -n 's/.* mac \([0-9a-f:]*\) .*/\1/p' <<<"$up")
	[ -n "$mac" ] || die "vnet0 did not come up"
	[ "${1:-0}" = 0 ] || grep -q " pairs $1 " <<<"$up" || die "vnet0 did not come up with $1 pairs"
	[ "${2:-}" = rss ] || return 0
	rssl=$(qemu_console | grep -a '^vnet0: rss on:' || true)
	echo "$rssl"
	indir=$(sed -n 's/.* \([0-9]*\) table entries.*/\1/p' <<<"$rssl")
	htypes=$(sed -n 's/.*hash types \(0x[0-9a-f]*\).*/\1/p' <<<"$rssl")
	[ -n "$indir" ] || die "the kernel did not program RSS"
}

# vq_qmp_init: a temporary directory in $tmp (removed on exit), a QMP
# socket path in $sock for qemu_start's `-- -qmp unix:$sock,server=on,wait=off`,
# and qmp ARGS... running tests/lib/qmp.py against it.
vq_qmp_init() {
	vq_tmpdir_var tmp
	sock=$tmp/qmp.sock
}
qmp() { python3 "$VQ_ROOT/tests/lib/qmp.py" "$sock" "$@"; }

# _vq_start_time PID: the kernel's start time of PID (/proc/PID/stat field
# 22): with the pid it names one process, even after the pid is reused.
_vq_start_time() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086  # split the fields
	set -- $s
	echo "${20}"
}

# vq_track PID: end PID on exit (vq_cleanup), if it is still that process.
vq_track() {
	VQ_PIDS+=("$1:$(_vq_start_time "$1")")
}

# _vq_alive PID[:START]: PID runs (and is the process that started at START).
_vq_alive() {
	local pid=${1%%:*} start=
	[ "$pid" = "$1" ] || start=${1#*:}
	kill -0 "$pid" 2>/dev/null || return 1
	[ -z "$start" ] || [ "$(_vq_start_time "$pid")" = "$start" ]
}

# vq_kill PID[:START]: SIGTERM, up to 5 s grace, then SIGKILL to PID's own
# children (listed while PID is still their parent, so the pids are
# theirs) and to PID; reaps PID if it is our child.  Silent if PID is
# gone (or, with START from vq_track, is now another process).  The
# children matter for QEMU under timeout(1): killing only timeout would
# leave QEMU running without its time limit.
vq_kill() {
	local pid=${1%%:*} i kids
	[ -n "$pid" ] || return 0
	if _vq_alive "$1"; then
		kill "$pid" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			_vq_alive "$1" || break
			sleep 0.1
		done
		if _vq_alive "$1"; then
			kids=$(ps -o pid= --ppid "$pid" 2>/dev/null)
			# shellcheck disable=SC2086  # one pid a word
			kill -9 $kids "$pid" 2>/dev/null
		fi
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# vq_cleanup: the exit trap.  Ends every process the library started, runs
# the caller's hooks, removes temporary files.  Keeps the exit status.
vq_cleanup() {
	local rc=$? i pid
	for pid in "${VQ_PIDS[@]}"; do vq_kill "$pid"; done
	VQ_PIDS=()
	[ -n "$QEMU_SHELL_FD" ] && exec {QEMU_SHELL_FD}>&-
	QEMU_SHELL_FD=
	for ((i = ${#VQ_HOOKS[@]} - 1; i >= 0; i--)); do eval "${VQ_HOOKS[i]}" 2>/dev/null; done
	VQ_HOOKS=()
	for i in "${VQ_TMP[@]}"; do rm -rf -- "$i"; done
	VQ_TMP=()
	return "$rc"
}

# _vq_us SECONDS: prints SECONDS (integer or decimal, e.g. 0.5) in
# microseconds.  vq_now_us: the current time in microseconds (for
# vq_elapsed).
_vq_us() {
	local s=$1 int frac
	int=${s%%.*}
	frac=
	[ "$int" != "$s" ] && frac=${s#*.}
	frac=${frac}000000
	echo $((10#${int:-0} * 1000000 + 10#${frac:0:6}))
}
vq_now_us() {
	echo "${EPOCHREALTIME//[.,]/}"
}

# vq_text FILE: FILE without carriage returns (serial output has CR LF).
vq_text() {
	tr -d '\r' <"$1" 2>/dev/null
}

# vq_has FILE REGEX: true if a line of FILE (CRs removed) matches the
# extended REGEX.
vq_has() {
	vq_text "$1" | grep -aEq -- "$2"
}

# vq_wait_file_re FILE REGEX TIMEOUT [PID]: wait until a line of FILE
# matches REGEX (extended, CRs removed).  0 found; 1 TIMEOUT seconds passed;
# 2 PID (if given) exited first (checked once more after it died).
vq_wait_file_re() {
	local file=$1 re=$2 end pid=${4:-}
	end=$(($(vq_now_us) + $(_vq_us "$3")))
	while :; do
		vq_has "$file" "$re" && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			vq_has "$file" "$re" && return 0
			return 2
		fi
		[ "$(vq_now_us)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# vq_free_port udp|tcp: prints a port on 127.0.0.1 that was free a moment
# ago (the kernel picks it; a tiny race with other users remains: QEMU
# then fails to bind, loudly, and the test fails instead of hanging).
vq_free_port() {
	local kind=SOCK_DGRAM
	[ "${1:-udp}" = tcp ] && kind=SOCK_STREAM
	vq_need python3 python3
	python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.$kind); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"
}

# vq_need_tap: skip (77) unless this script may create tap devices: root,
# /dev/net/tun opens, and ip (iproute2) exists.
vq_need_tap() {
	[ "$(id -u)" -eq 0 ] || vq_skip "needs root to create a tap device (uid $(id -u))"
	(exec 3<>/dev/net/tun) 2>/dev/null || vq_skip "/dev/net/tun cannot be opened"
	vq_need ip iproute2
}

# vq_tap_create NAME_PREFIX NET16 [ip tuntap options...]: a host tap on a
# private /24 inside NET16 (e.g. 10.77) that no address or route on this
# host uses: creates it (with the options, e.g. multi_queue), turns IPv6 off
# on it, gives the host .1, brings it up, and removes it at exit.  Sets
# VQ_TAP (the name, at most 15 characters), VQ_TAP_HOST (.1) and
# VQ_TAP_GUEST (.2).  Root only; returns 1 with the reason printed.
# Traffic stays on this machine: the tap has no route elsewhere.
vq_tap_create() {
	local prefix=$1 net=$2 n
	shift 2
	VQ_TAP="$prefix$$"
	VQ_TAP=${VQ_TAP:0:15}
	n=$(($$ % 200 + 20))
	for _ in $(seq 1 200); do
		if ! ip -4 addr show | grep -q " ${net//./\.}\.$n\." && ! ip -4 route show | grep -q "^${net//./\.}\.$n\."; then
			break
		fi
		n=$(((n + 1) % 250 + 1))
	done
	VQ_TAP_HOST="$net.$n.1" VQ_TAP_GUEST="$net.$n.2"
	vq_on_exit ip link del "$VQ_TAP"
	ip tuntap add dev "$VQ_TAP" mode tap "$@" || { echo "$VQ_NAME: FAIL could not create tap $VQ_TAP"; return 1; }
	[ -w "/proc/sys/net/ipv6/conf/$VQ_TAP/disable_ipv6" ] && echo 1 >"/proc/sys/net/ipv6/conf/$VQ_TAP/disable_ipv6"
	if ! ip addr add "$VQ_TAP_HOST/24" dev "$VQ_TAP" || ! ip link set "$VQ_TAP" up; then
		echo "$VQ_NAME: FAIL could not configure $VQ_TAP"
		return 1
	fi
}

# vq_elapsed START_US: seconds since START_US (from vq_now_us), one decimal.
vq_elapsed() {
	local d=$(($(vq_now_us) - $1))
	printf '%d.%d' $((d / 1000000)) $((d % 1000000 / 100000))
}

# ---------------------------------------------------------------- QEMU

# qemu_arch ARCH: use kernel/arch/ARCH/qemu.sh from now on (the QEMU
# binary, boards, NIC models, PASS/FAIL statuses); sets QEMU_ARCH,
# QEMU_EXIT_PASS and QEMU_EXIT_FAIL.  A usage error (exit 2) for an arch
# without a qemu.sh.  The library starts with x86_64.
qemu_arch() {
	local f="$VQ_ROOT/kernel/arch/$1/qemu.sh"
	[ -f "$f" ] || vq_die "no QEMU description for arch '$1' ($f)"
	[ "$1" = "$QEMU_ARCH" ] && return 0
	unset -f arch_qemu_machine arch_qemu_kernel arch_qemu_nic
	# shellcheck source=/dev/null
	. "$f"
	QEMU_ARCH=$1
	QEMU_EXIT_PASS=$ARCH_QEMU_EXIT_PASS
	QEMU_EXIT_FAIL=$ARCH_QEMU_EXIT_FAIL
	QEMU_BIN=
}

# qemu_need: skip (77) unless the arch's QEMU (qemu-system-x86_64 for
# x86_64) exists; sets QEMU_BIN.
qemu_need() {
	vq_need "$ARCH_QEMU_BIN" "$ARCH_QEMU_PKG"
	QEMU_BIN=$(command -v "$ARCH_QEMU_BIN")
}

# qemu_require: the same, but a missing QEMU is an error (exit 2): the demo.
qemu_require() {
	vq_require "$ARCH_QEMU_BIN" "$ARCH_QEMU_PKG"
	QEMU_BIN=$(command -v "$ARCH_QEMU_BIN")
}

# qemu_build [options] [-- extra QEMU arguments]: sets QEMU_CMD (and the
# variables below) without starting anything.  Options:
#   --arch ARCH               guest architecture (qemu_arch; default: the
#                             current one, x86_64 unless changed)
#   --transport pci|mmio      how the NICs attach (default pci)
#   --machine BOARD           board (default the arch's: q35 on x86_64;
#                             x86_64 has pc, q35 with pci, microvm with mmio)
#   --accel auto|kvm|tcg      (default auto: vq_accel)
#   --mem SIZE                guest RAM (default 256M)
#   --kernel ELF              the Orion kernel (required; multiboot ELF)
#   --append CMDLINE          kernel command line
#   --initrd FILE             multiboot module
#   --nic NETDEV DEVOPTS      one virtio-net NIC, repeatable (NIC i is
#                             netdev id n<i>).  NETDEV is a -netdev spec
#                             without id: "user", "user,hostfwd=udp:...",
#                             "tap,ifname=T,queues=2,script=no,...",
#                             "socket,listen=:PORT".  DEVOPTS are device
#                             properties appended to
#                             virtio-net-pci,netdev=n<i> (",packed=on,
#                             vectors=0"; the leading comma is optional;
#                             the model is the transport's, e.g.
#                             virtio-net-device for mmio).
#   --serial log:FILE         serial console to FILE (default: a new
#                             temporary log, printed in QEMU_LOG)
#   --serial shell:FILE       console to FILE and input from
#                             qemu_shell_cmd (a FIFO pair)
#   --serial stdio            console on stdout (with -nographic)
#   --serial mon:stdio        console and QEMU monitor on the terminal
#   --stderr FILE             QEMU's stderr (default: inherited)
#   --timeout SECONDS         hard limit for qemu_run/qemu_start (default 120)
#   --show                    print "NAME: <command line>" before it runs
# Always present: -no-reboot and the arch's exit device (x86_64:
# isa-debug-exit at 0xf4, see the top).
qemu_build() {
	local machine='' accel=auto mem=256M kernel='' append='' initrd='' serial='' nics=0 have_append=0 show=0
	local netdev devopts type rest arch='' transport=pci nicmodel
	local nicspecs=() nicargs=()
	QEMU_TIMEOUT=120 QEMU_STDERR='' QEMU_SERIAL_KIND=log QEMU_FIFO=''
	while [ $# -gt 0 ]; do
		case "$1" in
		--arch) arch=$2; shift 2 ;;
		--transport) transport=$2; shift 2 ;;
		--machine) machine=$2; shift 2 ;;
		--accel) accel=$2; shift 2 ;;
		--mem) mem=$2; shift 2 ;;
		--kernel) kernel=$2; shift 2 ;;
		--append) append=$2; have_append=1; shift 2 ;;
		--initrd) initrd=$2; shift 2 ;;
		--nic)
			[ $# -ge 3 ] || vq_die "qemu_build: --nic takes NETDEV and DEVOPTS"
			nicspecs+=("$2" "$3")
			shift 3
			;;
		--serial) serial=$2; shift 2 ;;
		--stderr) QEMU_STDERR=$2; shift 2 ;;
		--timeout) QEMU_TIMEOUT=$2; shift 2 ;;
		--show) show=1; shift ;;
		--) shift; break ;;
		*) vq_die "qemu_build: unknown option $1" ;;
		esac
	done
	if [ -z "$kernel" ] || [ ! -f "$kernel" ]; then
		vq_die "qemu_build: kernel ELF '$kernel' not found"
	fi
	[ -z "$arch" ] || qemu_arch "$arch"
	[ -n "$QEMU_ARCH" ] || qemu_arch x86_64
	[ -n "$machine" ] || machine=$ARCH_QEMU_MACHINE
	case " $ARCH_QEMU_MACHINES " in
	*" $machine "*) ;;
	*) vq_die "machine must be one of: $ARCH_QEMU_MACHINES (got '$machine' for $QEMU_ARCH)" ;;
	esac
	case "$transport" in pci | mmio) ;; *) vq_die "transport must be pci or mmio (got '$transport')" ;; esac
	nicmodel=$(arch_qemu_nic "$transport") || vq_die "$QEMU_ARCH has no virtio-net model for transport $transport"
	for ((nics = 0; nics < ${#nicspecs[@]} / 2; nics++)); do
		netdev=${nicspecs[2 * nics]} devopts=${nicspecs[2 * nics + 1]}
		type=${netdev%%,*}
		rest=${netdev#"$type"}
		[ -z "$devopts" ] || [ "${devopts:0:1}" = , ] || devopts=",$devopts"
		nicargs+=(-netdev "$type,id=n$nics$rest" -device "$nicmodel,netdev=n$nics$devopts")
	done
	[ -n "$QEMU_BIN" ] || qemu_need
	QEMU_ACCEL=$(vq_accel "$accel") || exit 2
	QEMU_MACHINE=$machine
	QEMU_TRANSPORT=$transport

	QEMU_CMD=("$QEMU_BIN")
	arch_qemu_machine "$machine" "$transport" || vq_die "unsupported machine/transport"
	QEMU_CMD+=(-accel "$QEMU_ACCEL" -m "$mem")
	arch_qemu_kernel "$kernel"
	[ "$have_append" = 1 ] && QEMU_CMD+=(-append "$append")
	[ -n "$initrd" ] && QEMU_CMD+=(-initrd "$initrd")
	case "$serial" in
	"" | log:*)
		QEMU_LOG=${serial#log:}
		[ -n "$QEMU_LOG" ] || QEMU_LOG=$(mktemp "${TMPDIR:-/tmp}/orion-$VQ_NAME.XXXXXX.log")
		QEMU_CMD+=(-display none -monitor none -serial "file:$QEMU_LOG")
		;;
	shell:*)
		QEMU_SERIAL_KIND=shell
		QEMU_LOG=${serial#shell:}
		[ -n "$QEMU_LOG" ] || vq_die "qemu_build: --serial shell:FILE needs a FILE"
		# A FIFO pair: QEMU opens FIFO.in and FIFO.out read-write, so
		# neither open blocks; qemu_start adds the reader and writer.
		vq_tmpdir_var QEMU_FIFO
		QEMU_FIFO=$QEMU_FIFO/serial
		mkfifo "$QEMU_FIFO.in" "$QEMU_FIFO.out" || vq_die "mkfifo failed"
		QEMU_CMD+=(-display none -monitor none -chardev "pipe,id=ser0,path=$QEMU_FIFO" -serial chardev:ser0)
		;;
	stdio)
		QEMU_SERIAL_KIND=stdio QEMU_LOG=
		QEMU_CMD+=(-nographic -serial stdio -monitor none)
		;;
	mon:stdio)
		QEMU_SERIAL_KIND=stdio QEMU_LOG=
		QEMU_CMD+=(-nographic -serial mon:stdio)
		;;
	*) vq_die "qemu_build: --serial log:FILE|shell:FILE|stdio|mon:stdio (got '$serial')" ;;
	esac
	QEMU_CMD+=(-no-reboot)
	QEMU_CMD+=("${nicargs[@]}" "$@")
	[ "$show" = 0 ] || echo "$VQ_NAME: ${QEMU_CMD[*]}"
}

# _qemu_shell_open: before QEMU starts, for --serial shell: start the
# reader that copies FIFO.out to QEMU_LOG (it must run all the time: a
# full pipe would stall the guest's UART) and open FIFO.in read-write for
# qemu_shell_send (read-write, so the open never blocks and a write after
# QEMU died cannot raise SIGPIPE).
_qemu_shell_open() {
	: >"$QEMU_LOG"
	cat <"$QEMU_FIFO.out" >>"$QEMU_LOG" &
	vq_track "$!"
	[ -n "$QEMU_SHELL_FD" ] && exec {QEMU_SHELL_FD}>&-
	exec {QEMU_SHELL_FD}<>"$QEMU_FIFO.in"
}

# _qemu_stderr_open / _qemu_stderr_close: QEMU_STDERR_FD is QEMU's stderr,
# the file QEMU_STDERR when set, our own stderr otherwise.
_qemu_stderr_open() {
	QEMU_STDERR_FD=2
	[ -z "$QEMU_STDERR" ] || exec {QEMU_STDERR_FD}>"$QEMU_STDERR"
}
_qemu_stderr_close() {
	[ "$QEMU_STDERR_FD" = 2 ] || exec {QEMU_STDERR_FD}>&-
}

# qemu_run [qemu_build options]: QEMU in the foreground under the hard
# timeout, stdin from /dev/null; returns (and sets QEMU_RC to) its exit
# status.
qemu_run() {
	qemu_build "$@"
	[ "$QEMU_SERIAL_KIND" = shell ] && _qemu_shell_open
	_qemu_stderr_open
	timeout --kill-after=5 "$QEMU_TIMEOUT" "${QEMU_CMD[@]}" </dev/null 2>&"$QEMU_STDERR_FD"
	QEMU_RC=$?
	_qemu_stderr_close
	return "$QEMU_RC"
}

# qemu_start [qemu_build options]: QEMU in the background under the hard
# timeout, stdin from /dev/null; sets QEMU_PID (the timeout process:
# signals reach QEMU through it) and registers it for the exit trap.
qemu_start() {
	qemu_build "$@"
	[ "$QEMU_SERIAL_KIND" = shell ] && _qemu_shell_open
	[ "$QEMU_SERIAL_KIND" = log ] && : >"$QEMU_LOG"
	_qemu_stderr_open
	timeout --kill-after=5 "$QEMU_TIMEOUT" "${QEMU_CMD[@]}" </dev/null 2>&"$QEMU_STDERR_FD" &
	QEMU_PID=$!
	QEMU_RC=
	_qemu_stderr_close
	_qemu_wait_child
	vq_track "$QEMU_PID"
	[ -z "$QEMU_CHILD" ] || VQ_PIDS+=("$QEMU_CHILD:$QEMU_CHILD_START")
}

# _qemu_wait_child: wait (up to 5 s) until timeout(1), QEMU_PID, has
# started QEMU, and set QEMU_CHILD to QEMU's pid ('' if it did not start:
# QEMU refused its options, say).  Returning only then means a signal the
# caller sends next finds timeout ready to pass it on, and the exit trap
# can end QEMU itself should timeout be gone.
_qemu_wait_child() {
	local i kid
	QEMU_CHILD='' QEMU_CHILD_START=''
	for ((i = 0; i < 250; i++)); do
		kid=$(ps -o pid= --ppid "$QEMU_PID" 2>/dev/null)
		kid=${kid//[[:space:]]/}
		if [ -n "$kid" ] && [ "$(cat "/proc/$kid/comm" 2>/dev/null)" != timeout ]; then
			QEMU_CHILD=$kid
			QEMU_CHILD_START=$(_vq_start_time "$kid")
			return 0
		fi
		kill -0 "$QEMU_PID" 2>/dev/null || return 0
		sleep 0.02
	done
}

# qemu_exec [qemu_build options]: replaces the shell with QEMU, no timeout,
# terminal inherited (the interactive demo).
qemu_exec() {
	qemu_build "$@"
	exec "${QEMU_CMD[@]}"
}

# qemu_wait_exit SECONDS: wait (bounded) for the background QEMU to exit.
# 0 and QEMU_RC set when it did; 1 (QEMU_RC empty, QEMU still running)
# when SECONDS passed.
qemu_wait_exit() {
	local end
	end=$(($(vq_now_us) + $(_vq_us "$1")))
	QEMU_RC=
	while kill -0 "$QEMU_PID" 2>/dev/null; do
		[ "$(vq_now_us)" -lt "$end" ] || return 1
		sleep 0.1
	done
	wait "$QEMU_PID"
	QEMU_RC=$?
	return 0
}

# qemu_stop: end the background QEMU now (SIGTERM, then SIGKILL), and QEMU
# itself should timeout(1) have gone without it.
qemu_stop() {
	vq_kill "$QEMU_PID"
	[ -z "$QEMU_CHILD" ] || vq_kill "$QEMU_CHILD:$QEMU_CHILD_START"
}

# qemu_wait_log REGEX SECONDS: wait until the serial log has a line
# matching REGEX; 0 found, 1 timeout, 2 QEMU exited without printing it.
qemu_wait_log() {
	vq_wait_file_re "$QEMU_LOG" "$1" "$2" "$QEMU_PID"
}

# qemu_console: the serial log of the last QEMU without CRs (vq_text FILE
# for another log).
qemu_console() {
	vq_text "$QEMU_LOG"
}

# qemu_exit_meaning RC: one phrase for a QEMU exit status.
qemu_exit_meaning() {
	case "$1" in
	"$QEMU_EXIT_PASS") echo "kernel PASS ($ARCH_QEMU_EXIT_PASS_HOW)" ;;
	"$QEMU_EXIT_FAIL") echo "kernel FAIL ($ARCH_QEMU_EXIT_FAIL_HOW)" ;;
	124 | 137) echo "timeout" ;;
	1) echo "QEMU refused the options" ;;
	0) echo "guest powered off" ;;
	*) echo "QEMU exit status $1" ;;
	esac
}

# ------------------------------------------------------ interactive serial
#
# With --serial shell:LOG the kernel's serial input is a FIFO this library
# writes to.  The kernel (kernel/dev/serial.c) buffers input in a 256-byte
# ring from its UART interrupt and only the shell (kernel/core/shell.c)
# reads it, echoing each character, and prints "> " when it wants the next
# line.  So a reply is: what follows the echoed command line, up to the
# next line that starts with "> ".  Typing while an earlier command still
# runs is fine: the input waits in the ring and is echoed after that
# command's prompt (the time measured then includes the wait).

# qemu_shell_wait SECONDS: wait for the shell's first prompt; 0 ready,
# 1 timeout, 2 QEMU exited.
qemu_shell_wait() {
	[ -n "$QEMU_SHELL_FD" ] || vq_die "qemu_shell_wait: QEMU was not started with --serial shell:FILE"
	vq_wait_file_re "$QEMU_LOG" '^> ' "$1" "$QEMU_PID"
}

# qemu_shell_send LINE: type LINE and Enter (CR, as a terminal sends it)
# at the shell without waiting for anything; 1 if QEMU is gone.
qemu_shell_send() {
	[ -n "$QEMU_SHELL_FD" ] || vq_die "qemu_shell_send: QEMU was not started with --serial shell:FILE"
	kill -0 "$QEMU_PID" 2>/dev/null || return 1
	printf '%s\r' "$1" >&"$QEMU_SHELL_FD"
}

# qemu_shell_cmd COMMAND SECONDS [VAR]: type COMMAND at the shell and
# print its reply (the lines between the echoed command and the next
# prompt, CRs removed), or store it in VAR: use VAR rather than $(...) to
# keep QEMU_SHELL_MS, which a subshell would lose.  0 when the prompt came
# back within SECONDS (decimals allowed) of typing; 1 on timeout or when
# QEMU is gone, with what arrived so far as the reply (a reply seen
# complete but late also returns 1).  The log is looked at every 20 ms or
# so; QEMU_SHELL_MS, the time from typing until the prompt was seen, is
# never less than the true reply time, so a pass is never a false one.
# Lines the kernel prints on its own meanwhile are part of the reply.
# Call qemu_shell_wait once after boot first.
qemu_shell_cmd() {
	local _vq_cmd=$1 _vq_off _vq_start _vq_end _vq_now _vq_text _vq_rest _vq_done _vq_rc
	_vq_off=$(wc -c <"$QEMU_LOG")
	_vq_start=$(vq_now_us)
	_vq_end=$((_vq_start + $(_vq_us "$2")))
	qemu_shell_send "$_vq_cmd" || return 1
	while :; do
		_vq_text=$(tail -c +"$((_vq_off + 1))" "$QEMU_LOG" | tr -d '\r'; echo .)
		_vq_text=${_vq_text%.}
		_vq_done=0 _vq_rest=$_vq_text
		if [[ $_vq_text == *"$_vq_cmd"$'\n'* ]]; then
			_vq_rest=${_vq_text#*"$_vq_cmd"$'\n'}
			if [[ $_vq_rest == '> '* ]]; then
				_vq_done=1 _vq_rest=''
			elif [[ $_vq_rest == *$'\n> '* ]]; then
				_vq_done=1 _vq_rest=${_vq_rest%%$'\n> '*}$'\n'
			fi
		fi
		_vq_now=$(vq_now_us)
		if [ "$_vq_done" = 1 ] || [ "$_vq_now" -ge "$_vq_end" ] || ! kill -0 "$QEMU_PID" 2>/dev/null; then
			break
		fi
		sleep 0.02
	done
	QEMU_SHELL_MS=$(((_vq_now - _vq_start) / 1000))
	_vq_rc=1
	[ "$_vq_done" = 1 ] && [ "$_vq_now" -le "$_vq_end" ] && _vq_rc=0
	if [ -n "${3:-}" ]; then
		printf -v "$3" '%s' "$_vq_rest"
	else
		printf '%s' "$_vq_rest"
	fi
	return "$_vq_rc"
}

# ------------------------------------------------------ vhost-user NIC
#
# qemu_vhost_user_args SOCK [MEM]: sets QEMU_VHOST_ARGS (extra QEMU
# arguments, after qemu_build's "--") and QEMU_VHOST_NIC (a --nic NETDEV
# spec) for one virtio-net NIC over vhost-user: guest RAM of MEM (default
# 256M, pass the same to --mem) in a shared memfd backend the back-end
# maps (memory-backend-memfd,share=on; -machine memory-backend=mem), and a
# chardev connecting to the back-end's server socket SOCK (testpmd's vhost
# PMD with client=0: dpdk_vhost_start).  Usage:
#   qemu_vhost_user_args "$sock" 256M
#   qemu_start --mem 256M --nic "$QEMU_VHOST_NIC" ",disable-legacy=on" ... -- "${QEMU_VHOST_ARGS[@]}"
qemu_vhost_user_args() {
	local sock=$1 mem=${2:-256M}
	QEMU_VHOST_ARGS=(-object "memory-backend-memfd,id=mem,size=$mem,share=on" -machine memory-backend=mem
		-chardev "socket,id=vu0,path=$sock")
	QEMU_VHOST_NIC="vhost-user,chardev=vu0"
}

qemu_arch x86_64
