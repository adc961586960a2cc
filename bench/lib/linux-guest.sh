# shellcheck shell=bash
# bench/lib/linux-guest.sh: a Linux guest for bench/kernel-vs-linux.sh.
# Source it.  lg_build DIR builds DIR/initramfs.cpio.gz from busybox-static
# and the modules virtio_net (+ net_failover, failover, virtio_pci when
# modular) and pktgen of Debian's linux-image-amd64 (the newest
# /boot/vmlinuz-*, LG_KERNEL), dependencies from modules.dep.  The init
# reads "lgmode=tx|rx lgsecs=S" from the kernel command line, runs
#   tx: pktgen on eth0, one thread, 64-byte frames, count 0 (as fast as it
#       can) for S seconds, then prints "LG tx sent N";
#   rx: rx_packets of /sys/class/net/eth0/statistics before and after S
#       seconds, prints "LG rx got N";
# and powers off.

lg_find_kernel() {
	LG_KERNEL=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
	[ -n "$LG_KERNEL" ] || return 1
	LG_KVER=${LG_KERNEL#/boot/vmlinuz-}
	[ -d "/lib/modules/$LG_KVER" ]
}

# lg_mod_files NAME...: the module files of NAME and its dependencies
# (modules.dep order: dependencies first), nothing for a built-in one.
lg_mod_files() {
	local m f dep
	for m in "$@"; do
		f=$(modinfo -k "$LG_KVER" -n "$m" 2>/dev/null) || continue
		case "$f" in /*) ;; *) continue ;; esac
		dep=$(modinfo -k "$LG_KVER" -F depends "$m" 2>/dev/null | tr ',' ' ')
		# shellcheck disable=SC2086
		[ -z "$dep" ] || lg_mod_files $dep
		echo "$f"
	done
}

lg_build() {
	local dir=$1 root f
	lg_find_kernel || { echo "no /boot/vmlinuz-* with modules (install linux-image-amd64)" >&2; return 1; }
	command -v busybox >/dev/null || { echo "busybox not found (busybox-static)" >&2; return 1; }
	root=$dir/root
	rm -rf "$root"
	mkdir -p "$root"/{bin,proc,sys,dev,mods}
	cp "$(command -v busybox)" "$root/bin/busybox"
	for f in $(lg_mod_files failover net_failover virtio_pci virtio_net pktgen | awk '!s[$0]++'); do
		case "$f" in
		*.ko.xz) xz -dc "$f" >"$root/mods/$(basename "$f" .xz)" ;;
		*.ko.zst) zstd -qdc "$f" >"$root/mods/$(basename "$f" .zst)" ;;
		*) cp "$f" "$root/mods/" ;;
		esac
		basename "$f" | sed 's/\.\(xz\|zst\)$//' >>"$root/mods/order"
	done
	cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev 2>/dev/null
echo "LG init: $(uname -r), loading $(wc -l </mods/order) modules"
# three passes: a module whose dependency came later in the list loads on the next
for p in 1 2 3; do for m in $(cat /mods/order); do insmod /mods/$m 2>/dev/null; done; done
echo "LG modules: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
mode=tx; secs=5
for a in $(cat /proc/cmdline); do case "$a" in lgmode=*) mode=${a#lgmode=} ;; lgsecs=*) secs=${a#lgsecs=} ;; esac; done
i=0; while [ ! -d /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
ip link set eth0 up
sleep 1
echo "LG ready $mode $secs"
if [ "$mode" = tx ]; then
	pg() { echo "$2" >"/proc/net/pktgen/$1"; }
	pg kpktgend_0 "rem_device_all"; pg kpktgend_0 "add_device eth0"
	pg eth0 "count 0"; pg eth0 "clone_skb 1000"; pg eth0 "pkt_size 60"; pg eth0 "delay 0"
	pg eth0 "dst 10.0.0.2"; pg eth0 "dst_mac 02:00:00:00:00:02"
	echo start >/proc/net/pktgen/pgctrl &
	sleep "$secs"
	echo stop >/proc/net/pktgen/pgctrl
	wait
	echo "LG tx sent $(awk '/pkts-sofar/ {print $2}' /proc/net/pktgen/eth0) $(grep -a 'Result' /proc/net/pktgen/eth0)"
else
	a=$(cat /sys/class/net/eth0/statistics/rx_packets)
	sleep "$secs"
	b=$(cat /sys/class/net/eth0/statistics/rx_packets)
	echo "LG rx got $((b - a)) drops $(cat /sys/class/net/eth0/statistics/rx_dropped)"
fi
poweroff -f
INIT
	chmod +x "$root/init"
	(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$dir/initramfs.cpio.gz"
	LG_INITRD=$dir/initramfs.cpio.gz
}
