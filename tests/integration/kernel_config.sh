#!/usr/bin/env bash
# kernel_config: the TOML configuration file in the Orion kernel
# (docs/configuration.md, "Orion kernel"), passed as QEMU -initrd (the
# multiboot module the kernel reads with src/conf, the code vnetd uses).
#
#  (a) a valid file: ring size 128, checksum offload off, split ring, a
#      MAC and VLAN 10 for vnet0 take effect, judged by QEMU where it can
#      tell (QMP query-rx-filter: main-mac, vlan-table) and by the driver
#      (virtqueue_info sizes, device_info ring, the "config" object naming
#      "file" as the source); ping works.  QEMU's user network offers no
#      CSUM/GUEST_CSUM, so offload=off is judged by the config object only;
#  (b) the same file with qsize=64 and vnet0.mac=... on the command line:
#      those two come from the command line, the rest still from the file;
#  (c) an invalid file (unknown key, wrong type, out of range, a
#      cross-key rule): each error printed as initrd:LINE: key: reason
#      with its line, nothing of the file applied (defaults everywhere,
#      QEMU's default MAC, no VLAN filter), ping works.
#
# usage: kernel_config.sh --kernel ELF [--machine q35|pc] [--accel auto|kvm|tcg] [--log FILE]
# Exit: 0 pass, 1 fail, 77 skip (no qemu-system-x86_64 or python3).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/qemu.sh
. "$here/../lib/qemu.sh"
vq_init kconfig
kernel='' machine=q35 accel=auto log=''
vq_parse_args "kernel machine accel log" "$@"
vq_kernel_needs
vq_qmp_init   # $tmp, $sock, qmp()
[ -n "$log" ] || log=$tmp/console.log

cat >"$tmp/good.toml" <<'EOF'
# kernel_config: a valid file
[virtio_net]
transmit_virtqueue_size = 128
receive_virtqueue_size = 128
receive_checksum_offload = false
transmit_tso_enabled = false
interrupt_coalescing_timer = 50

[[device]]
name = "vnet0"
mac = "52:54:00:aa:bb:01"
ring = "split"
vlans = [10]
tap = "ignored0"
EOF
cat >"$tmp/bad.toml" <<'EOF'
[virtio_net]
transmit_virtqueue_size = 128
bogus_key = 1
receive_checksum_offload = "no"
virtio_device_timeout = 0

[[device]]
mac = "52:54:00:aa:bb:01"
pairs = 2
EOF

pass=0
ok() { pass=$((pass + 1)); echo "kconfig: ok   $*"; }
stage=''
show() { echo "---- QEMU stderr ----"; cat "$tmp/stderr"; echo "---- console ($log) ----"; qemu_console | tail -60; }
fail() { echo "kconfig: FAIL ($stage) $*"; show; exit 1; }
reply=''
sh() { qemu_shell_cmd "$1" 10 reply || fail "no prompt after '$1' within 10 s (reply: $reply)"; }
js() {
	sh "$1 --json"
	local line
	line=$(grep -a '^{' <<<"$reply" | head -1)
	[ -n "$line" ] || fail "'$1 --json': no JSON object in the reply: $reply"
	python3 -c 'import json,sys
d = json.loads(sys.argv[1])
sys.exit(0 if eval(sys.argv[2]) else 1)' "$line" "$2" || fail "'$1 --json': $2 does not hold for $line"
}
rxf() { qmp rx-filter-check nic0 "$@" || fail "query-rx-filter: expected $*"; }
con() { qemu_console | grep -aEq "$1" || fail "console: no line matching /$1/"; }
gw_ping() { sh "ping 10.0.2.2 3 vnet0"; grep -aq ' 3 sent, 3 received' <<<"$reply" || fail "ping: $reply"; }

# boot NAME INITRD APPEND
boot() {
	stage=$1
	rm -f "$sock"
	echo "kconfig: ($stage) $machine/$accel -initrd $(basename "$2") -append '$3'"
	qemu_start --machine "$machine" --accel "$accel" --kernel "$kernel" --initrd "$2" --append "$3" \
		--serial "shell:$log.$stage" --stderr "$tmp/stderr" --timeout 120 \
		--nic user ",disable-legacy=on,id=nic0" -- -qmp "unix:$sock,server=on,wait=off"
	qemu_shell_wait 60 || fail "no shell prompt"
	qemu_console | grep -a -e '^config: ' -e '^vnet0: up '
}
# cfg KEY VALUE SOURCE: device_info's config object for vnet0.
cfg() { js "virtio_net_device_info vnet0" "d[\"config\"][\"$1\"]=={\"value\":\"$2\",\"source\":\"$3\"}"; }

# ---- (a) valid file
boot valid "$tmp/good.toml" "vnet0.10.ip=10.0.10.15/24"
con '^config: initrd: [0-9]+ bytes, 1 devices'
con '^config: virtio_net.transmit_tso_enabled: checked, not applied by the kernel'
con '^config: device socket, mode and tap are vnetd.s: ignored by the kernel'
cfg qsize 128 file
cfg offload off file
cfg ring split file
cfg mac 52:54:00:aa:bb:01 file
cfg vlan 10 file
cfg pairs 1 default
js "vqinfo vnet0" 'd["queues"][0]["size"]==128 and d["queues"][1]["size"]==128'
js "virtio_net_device_info vnet0" 'd["ring"]=="split"'
rxf main-mac=52:54:00:aa:bb:01 vlan-table=10
gw_ping
ok "(a) valid file: ring size, offload off, split ring, MAC, VLAN applied and shown as 'file'; ping"
qemu_stop

# ---- (b) the command line overrides single keys
boot override "$tmp/good.toml" "qsize=64 vnet0.mac=52:54:00:aa:bb:02 vnet0.10.ip=10.0.10.15/24"
con '^config: qsize=128 .* overridden by cmdline 64'
con '^config: vnet0.mac=52:54:00:aa:bb:01 .* overridden by cmdline'
cfg qsize 64 cmdline
cfg mac 52:54:00:aa:bb:02 cmdline
cfg offload off file
cfg ring split file
js "vqinfo vnet0" 'd["queues"][0]["size"]==64'
rxf main-mac=52:54:00:aa:bb:02 vlan-table=10
gw_ping
ok "(b) command line over the file per key (qsize, mac), the file's other keys kept"
qemu_stop

# ---- (c) invalid file: every error, nothing applied
boot invalid "$tmp/bad.toml" ""
con '^config: initrd:3: virtio_net.bogus_key: unknown key'
con '^config: initrd:4: virtio_net.receive_checksum_offload: expected a boolean'
con '^config: initrd:5: virtio_net.virtio_device_timeout: out of range'
con '^config: initrd:9: device\[0\].pairs: '
con '^config: initrd: 4 errors: nothing of the file applied, command line only'
cfg qsize "device maximum" default
cfg mac "device's" default
cfg offload on default
js "vqinfo vnet0" 'd["queues"][0]["size"]==256'
rxf main-mac=52:54:00:12:34:56
gw_ping
ok "(c) invalid file: 4 errors with their lines, nothing applied, ping"
qemu_stop

echo "kconfig: PASS ($pass checks)"
