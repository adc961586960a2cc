#!/usr/bin/env bash
# The project's main job (./vnet.sh demo): boot the Orion kernel under QEMU
# with virtio-net-pci on user networking; the kernel brings vnet0 up with
# the orion-vnet driver, pings the gateway (10.0.2.2) three times and
# lands at its shell (try: vnet info, vnet stats, net stats, ping 10.0.2.2 5).
# Quit QEMU with Ctrl-A X.
#
# When stdin is not a terminal (CI, a pipe) nothing waits for a human: the
# kernel runs selftest=ping and QEMU's exit status becomes ours (0 PASS).
#
# usage: kernel/tests/demo.sh [--kernel ELF] [--machine q35|pc] [--accel auto|kvm|tcg]
#                             [--batch] [-- extra kernel command line words]
# --batch forces the non-interactive path even on a terminal (used by ctest).
# QEMU is started by tests/lib/qemu.sh (qemu_exec / qemu_run).
set -u
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=SCRIPTDIR/../../tests/lib/qemu.sh
. tests/lib/qemu.sh
vq_init demo

kernel=build/bin/orion-kernel.elf machine=q35 accel=auto extra='' batch=0
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--machine) machine=$2; shift 2 ;;
	--accel) accel=$2; shift 2 ;;
	--batch) batch=1; shift ;;
	--) shift; extra="$*"; break ;;
	*) echo "demo: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -f "$kernel" ] || { echo "demo: $kernel not found: run ./vnet.sh build first" >&2; exit 2; }
qemu_require
accel=$(vq_accel "$accel") || exit 2
opts=(--machine "$machine" --accel "$accel" --kernel "$kernel" --nic user ",disable-legacy=on")

if [ "$batch" -eq 0 ] && [ -t 0 ]; then
	echo "demo: booting Orion ($machine, $accel); quit with Ctrl-A X"
	qemu_exec "${opts[@]}" --show --serial mon:stdio --append "ping_gw=1 $extra"
fi

# Non-interactive: no monitor on stdio (nothing would type Ctrl-A X), a hard
# timeout, and the self-test decides.
echo "demo: stdin is not a terminal (or --batch): running selftest=ping non-interactively ($machine, $accel)"
qemu_run "${opts[@]}" --show --serial stdio --append "selftest=ping $extra" --timeout 180
rc=$?
case $rc in
33) echo "demo: PASS (vnet0 up, gateway answered 3 pings)"; exit 0 ;;
35) echo "demo: FAIL (kernel self-test failed, see above)"; exit 1 ;;
124|137) echo "demo: FAIL (timeout)"; exit 1 ;;
*) echo "demo: FAIL (QEMU exit status $rc)"; exit 1 ;;
esac
