# shellcheck shell=bash disable=SC2034  # the QEMU_* variables are read by callers
# tests/lib/qemu.sh: the one place that knows how to start QEMU with the Orion
# kernel, for every test script, the demo and the benchmarks.  Source it:
#
#     . "$here/../lib/qemu.sh"        # or the right relative path
#     vq_init udp_echo                # message prefix, exit trap
#     vq_need python3 python3         # or SKIP (exit 77)
#     qemu_start --machine q35 --accel auto --kernel "$kernel" --append "selftest=echo" \
#         --nic "user,hostfwd=udp:127.0.0.1:$port-:7" ",disable-legacy=on" \
#         --serial "log:$log" --stderr "$log.stderr" --timeout 600
#     qemu_wait_log 'echo service on udp port' 120 || ...
#     qemu_wait_exit 30; echo "exit $QEMU_RC"
#
# What it does:
#   - vq_*: the script's name in messages, skip-77 for a missing program
#     (naming the Debian package that provides it), the accelerator probe,
#     bounded waits, free-port picking, and one EXIT trap that ends every
#     process the library started and removes its temporary files.
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
# How the kernel's result comes back: the kernel writes its exit code to the
# isa-debug-exit port 0xf4 (kernel/dev/power.c); QEMU then exits with
# (code << 1) | 1, so PASS (0x10) is QEMU_EXIT_PASS 33 and FAIL (0x11) is
# QEMU_EXIT_FAIL 35.  timeout(1) makes a hung guest 124 (137 if it had to
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
# Variables the caller may read: VQ_NAME, QEMU_BIN, QEMU_ACCEL (resolved
# kvm|tcg), QEMU_MACHINE, QEMU_CMD (the last command line, an array),
# QEMU_PID, QEMU_LOG, QEMU_RC (exit status after qemu_run/qemu_wait_exit),
# QEMU_SHELL_MS (how long the last qemu_shell_cmd took).

QEMU_EXIT_PASS=33
QEMU_EXIT_FAIL=35

VQ_NAME=${VQ_NAME:-$(basename "$0" .sh)}
VQ_PIDS=()        # processes to end on exit (QEMU, FIFO readers)
VQ_TMP=()         # files and directories to remove on exit
VQ_HOOKS=()       # caller's clean-up commands, run last-registered first
QEMU_BIN=
QEMU_ACCEL=
QEMU_MACHINE=
QEMU_CMD=()
QEMU_PID=
QEMU_LOG=
QEMU_RC=
QEMU_SHELL_FD=
QEMU_SHELL_MS=
QEMU_SHELL_PENDING=     # a command whose prompt has not come back yet
QEMU_SHELL_PENDING_OFF=

# ---------------------------------------------------------------- generic

# vq_init NAME: NAME prefixes every message; installs the exit trap
# (vq_cleanup) and makes INT/TERM/HUP end the script with status 1.
vq_init() {
	VQ_NAME=$1
	trap vq_cleanup EXIT
	trap 'exit 1' INT TERM HUP
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
# TCG otherwise.
vq_accel() {
	case "${1:-auto}" in
	auto)
		if (exec 3<>/dev/kvm) 2>/dev/null; then echo kvm; else echo tcg; fi ;;
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
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/vq-$VQ_NAME.XXXXXX") || vq_die "mktemp failed"
	VQ_TMP+=("$d")
	printf -v "$1" '%s' "$d"
}

# vq_kill PID: SIGTERM, up to 1 s grace, then SIGKILL; reaps it if it is
# our child.  Silent if PID is gone.
vq_kill() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill "$pid" 2>/dev/null
	for ((i = 0; i < 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
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

# vq_elapsed START_US: seconds since START_US (from vq_now_us), one decimal.
vq_elapsed() {
	local d=$(($(vq_now_us) - $1))
	printf '%d.%d' $((d / 1000000)) $((d % 1000000 / 100000))
}

# ---------------------------------------------------------------- QEMU

# qemu_need: skip (77) unless qemu-system-x86_64 exists; sets QEMU_BIN.
qemu_need() {
	vq_need qemu-system-x86_64 qemu-system-x86
	QEMU_BIN=$(command -v qemu-system-x86_64)
}

# qemu_build [options] [-- extra QEMU arguments]: sets QEMU_CMD (and the
# variables below) without starting anything.  Options:
#   --machine pc|q35          board (default q35)
#   --accel auto|kvm|tcg      (default auto: vq_accel)
#   --mem SIZE                guest RAM (default 256M)
#   --kernel ELF              the Orion kernel (required; multiboot ELF)
#   --append CMDLINE          kernel command line
#   --initrd FILE             multiboot module
#   --nic NETDEV DEVOPTS      one virtio-net-pci NIC, repeatable (NIC i is
#                             netdev id n<i>).  NETDEV is a -netdev spec
#                             without id: "user", "user,hostfwd=udp:...",
#                             "tap,ifname=T,queues=2,script=no,...",
#                             "socket,listen=:PORT".  DEVOPTS are device
#                             properties appended to
#                             virtio-net-pci,netdev=n<i> (",packed=on,
#                             vectors=0"; the leading comma is optional).
#   --serial log:FILE         serial console to FILE (default: a new
#                             temporary log, printed in QEMU_LOG)
#   --serial shell:FILE       console to FILE and input from
#                             qemu_shell_cmd (a FIFO pair)
#   --serial stdio            console on stdout (with -nographic)
#   --serial mon:stdio        console and QEMU monitor on the terminal
#   --stderr FILE             QEMU's stderr (default: inherited)
#   --timeout SECONDS         hard limit for qemu_run/qemu_start (default 120)
#   --show                    print "NAME: <command line>" before it runs
# Always present: -no-reboot and isa-debug-exit at 0xf4 (see the top).
qemu_build() {
	local machine=q35 accel=auto mem=256M kernel='' append='' initrd='' serial='' nics=0 have_append=0 show=0
	local netdev devopts type rest
	local nicargs=()
	QEMU_TIMEOUT=120 QEMU_STDERR='' QEMU_SERIAL_KIND=log QEMU_FIFO=''
	while [ $# -gt 0 ]; do
		case "$1" in
		--machine) machine=$2; shift 2 ;;
		--accel) accel=$2; shift 2 ;;
		--mem) mem=$2; shift 2 ;;
		--kernel) kernel=$2; shift 2 ;;
		--append) append=$2; have_append=1; shift 2 ;;
		--initrd) initrd=$2; shift 2 ;;
		--nic)
			[ $# -ge 3 ] || vq_die "qemu_build: --nic takes NETDEV and DEVOPTS"
			netdev=$2 devopts=$3
			shift 3
			type=${netdev%%,*}
			rest=${netdev#"$type"}
			[ -z "$devopts" ] || [ "${devopts:0:1}" = , ] || devopts=",$devopts"
			nicargs+=(-netdev "$type,id=n$nics$rest" -device "virtio-net-pci,netdev=n$nics$devopts")
			nics=$((nics + 1))
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
	case "$machine" in pc | q35) ;; *) vq_die "machine must be pc or q35 (got '$machine')" ;; esac
	[ -n "$QEMU_BIN" ] || qemu_need
	QEMU_ACCEL=$(vq_accel "$accel") || exit 2
	QEMU_MACHINE=$machine

	QEMU_CMD=("$QEMU_BIN" -M "$machine" -accel "$QEMU_ACCEL" -m "$mem" -kernel "$kernel")
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
	QEMU_CMD+=(-no-reboot -device "isa-debug-exit,iobase=0xf4,iosize=0x04")
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
	VQ_PIDS+=("$!")
	[ -n "$QEMU_SHELL_FD" ] && exec {QEMU_SHELL_FD}>&-
	exec {QEMU_SHELL_FD}<>"$QEMU_FIFO.in"
	QEMU_SHELL_PENDING='' QEMU_SHELL_PENDING_OFF=''
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
	VQ_PIDS+=("$QEMU_PID")
	_qemu_stderr_close
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

# qemu_stop: end the background QEMU now (SIGTERM, then SIGKILL).
qemu_stop() {
	vq_kill "$QEMU_PID"
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
	33) echo "kernel PASS (isa-debug-exit 0x10)" ;;
	35) echo "kernel FAIL (isa-debug-exit 0x11)" ;;
	124 | 137) echo "timeout" ;;
	1) echo "QEMU refused the options" ;;
	0) echo "guest powered off" ;;
	*) echo "QEMU exit status $1" ;;
	esac
}

# ------------------------------------------------------ interactive serial

# qemu_shell_wait SECONDS: wait until the kernel's shell shows its prompt
# ("> " at the start of a line, kernel/core/shell.c read_line) or, after a
# qemu_shell_cmd that timed out, until that command's prompt came back.
# 0 ready, 1 timeout or QEMU gone.
qemu_shell_wait() {
	[ -n "$QEMU_SHELL_FD" ] || vq_die "qemu_shell_wait: QEMU was not started with --serial shell:FILE"
	if [ -n "$QEMU_SHELL_PENDING" ]; then
		_qemu_shell_reply "$QEMU_SHELL_PENDING" "$QEMU_SHELL_PENDING_OFF" "$1" >/dev/null
		return
	fi
	vq_wait_file_re "$QEMU_LOG" '^> ' "$1" "$QEMU_PID" && return 0
	return 1
}

# qemu_shell_send LINE: type LINE and Enter at the shell (no waiting).
qemu_shell_send() {
	[ -n "$QEMU_SHELL_FD" ] || vq_die "qemu_shell_send: QEMU was not started with --serial shell:FILE"
	kill -0 "$QEMU_PID" 2>/dev/null || return 1
	printf '%s\r' "$1" >&"$QEMU_SHELL_FD"
}

# qemu_shell_cmd COMMAND SECONDS: wait for the prompt if the previous
# command's has not come yet (within SECONDS too), type COMMAND, and print
# its reply (the lines between the echoed command and the next prompt,
# CRs removed).  0 when the prompt came back within SECONDS of typing;
# 1 on timeout (what arrived so far is printed) or when QEMU is gone.
# QEMU_SHELL_MS is how long the reply took.  Lines the kernel prints on
# its own meanwhile (link messages, say) are part of the reply.
qemu_shell_cmd() {
	local cmd=$1 tmo=$2 off
	qemu_shell_wait "$tmo" || return 1
	off=$(wc -c <"$QEMU_LOG")
	qemu_shell_send "$cmd" || return 1
	_qemu_shell_reply "$cmd" "$off" "$tmo"
}

# _qemu_shell_reply COMMAND OFFSET SECONDS: the reply parser behind
# qemu_shell_cmd; OFFSET is the log size before COMMAND was typed.
_qemu_shell_reply() {
	local cmd=$1 off=$2 start end text rest now
	start=$(vq_now_us)
	end=$((start + $(_vq_us "$3")))
	QEMU_SHELL_PENDING=$cmd QEMU_SHELL_PENDING_OFF=$off
	while :; do
		text=$(tail -c +"$((off + 1))" "$QEMU_LOG" | tr -d '\r'; echo .)
		text=${text%.}
		# The shell echoes what it reads, so the reply starts after
		# the line ending in COMMAND and ends at the next "> ".
		if [[ $text == *"$cmd"$'\n'* ]]; then
			rest=${text#*"$cmd"$'\n'}
			if [[ $rest == '> '* ]]; then
				QEMU_SHELL_PENDING=
				rest=
			elif [[ $rest == *$'\n> '* ]]; then
				QEMU_SHELL_PENDING=
				rest=${rest%%$'\n> '*}$'\n'
			fi
		fi
		now=$(vq_now_us)
		if [ -z "$QEMU_SHELL_PENDING" ]; then
			QEMU_SHELL_MS=$(((now - start) / 1000))
			printf '%s' "$rest"
			return 0
		fi
		if [ "$now" -ge "$end" ] || ! kill -0 "$QEMU_PID" 2>/dev/null; then
			QEMU_SHELL_MS=$(((now - start) / 1000))
			printf '%s\n' "${text#*"$cmd"$'\n'}"
			return 1
		fi
		sleep 0.02
	done
}
