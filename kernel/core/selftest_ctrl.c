/*
 * selftest=ctrl: every control-queue class (include/vnet/net_ctrl.h) on
 * vnet0 against the real device (QEMU's virtio-net-pci), one step at a
 * time.
 *
 * Each step issues its commands, prints "ctrl: step N NAME rc=..." with
 * what the kernel expects the device to show now, and fails the test if
 * a command negotiated on this device did not return VNET_OK (or one that
 * was not negotiated did not return VNET_ENOTSUP).  The kernel's own
 * output is not the proof that the device applied anything: with
 * ctrl.sync=1 on the command line each step waits for a line on the
 * serial port before the next one, so tests/integration/kernel_ctrl_qmp.sh
 * can ask QEMU itself (QMP query-rx-filter) after every step; QEMU is the
 * judge.  Steps: RX modes (promisc, allmulti, nomulti, alluni, nouni,
 * nobcast), MAC table, its overflow fallback and recovery, MAC address,
 * VLAN add/del, RSS (default key/table, then the table changed), guest offloads, announce (with ctrl.sync the script sends
 * announce-self before the step: ANNOUNCE must be pending, then acked),
 * coalescing (ENOTSUP on QEMU 7.2), and the MAC put back.
 * Serialisation: every control call runs with interrupts off, as the
 * kernel's other main-context users of the device do (orion/net.h).
 */
#include <stdint.h>

#include "orion/cmdline.h"
#include "orion/arch.h"
#include "orion/kprintf.h"
#include "orion/net.h"
#include "orion/selftest.h"
#include "orion/serial.h"
#include "orion/timer.h"
#include "vnet/device.h"
#include "vnet/features.h"
#include "vnet/net.h"
#include "vnet/net_ctrl.h"

static struct vnet_net *ctl_net;
static bool ctl_sync;
static unsigned ctl_step;
static int ctl_fail;

/* Wait for the driving script (one line on the serial port). */
static void ctl_wait(void)
{
	if (!ctl_sync)
		return;
	kprintf("ctrl: waiting\n");
	for (;;) {
		int c = serial_getc();
		if (c == '\r' || c == '\n')
			return;
	}
}

static bool ctl_has(unsigned bit)
{
	return vnet_device_has_feature(vnet_net_device(ctl_net), bit);
}

/* Check one command's result: VNET_OK when its feature is negotiated,
 * VNET_ENOTSUP otherwise. */
static void ctl_check(const char *what, int rc, unsigned bit)
{
	int want = ctl_has(bit) ? VNET_OK : VNET_ENOTSUP;
	if (rc == want)
		return;
	struct vnet_net_ctrl_error e;
	vnet_net_ctrl_last_error(ctl_net, &e);
	kprintf("selftest ctrl: FAIL %s: %s (want %s); last control error %s.%s ack 0x%x\n", what, vnet_strerror(rc),
		vnet_strerror(want), vnet_net_ctrl_class_name(e.class_), vnet_net_ctrl_cmd_name(e.class_, e.cmd),
		(unsigned)e.ack);
	ctl_fail = -1;
}

static void ctl_done(const char *name, const char *expect)
{
	kprintf("ctrl: step %u %s expect %s\n", ++ctl_step, name, expect);
	ctl_wait();
}

/* Wait (bounded) until the link is `up`, then send one broadcast frame:
 * refused and counted in tx_link_down while down, sent while up. */
static void ctl_link_step(bool up)
{
	struct vnet_net_link l;
	uint64_t end = timer_ns() + 5000000000ull;
	do {
		net_wait_once();
		vnet_net_get_link(ctl_net, &l);
	} while (l.up != up && timer_ns() < end);
	struct vnet_net_queue_stats a, b;
	uint64_t f = irq_save();
	vnet_net_get_stats(ctl_net, 0, &a);
	static const uint8_t frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x99, 0x88, 0xb5};
	int rc = netdev_tx(0, frame, sizeof(frame));
	vnet_net_get_stats(ctl_net, 0, &b);
	irq_restore(f);
	kprintf("ctrl: link %s (changes %lu): tx %d, tx_link_down %lu -> %lu, tx_packets %lu -> %lu\n",
		l.up ? "up" : "down", (unsigned long)l.changes, rc, (unsigned long)a.tx_link_down,
		(unsigned long)b.tx_link_down, (unsigned long)a.tx_packets, (unsigned long)b.tx_packets);
	bool ok = l.up == up && (up ? (rc == 0 && b.tx_packets == a.tx_packets + 1 && b.tx_link_down == a.tx_link_down)
				    : (rc != 0 && b.tx_link_down == a.tx_link_down + 1 && b.tx_packets == a.tx_packets));
	if (!ok) {
		kprintf("selftest ctrl: FAIL link %s: transmit not %s\n", up ? "up" : "down", up ? "resumed" : "gated");
		ctl_fail = -1;
	}
}

#define CALL(expr) ({ uint64_t _f = irq_save(); int _r = (expr); irq_restore(_f); _r; })

static int selftest_ctrl(void)
{
	ctl_net = netdev_net(0);
	if (!ctl_net) {
		kprintf("selftest ctrl: FAIL vnet0 is not up\n");
		return -1;
	}
	const char *s = cmdline_get("ctrl.sync");
	ctl_sync = s && s[0] == '1';
	struct vnet_net_info info;
	vnet_net_get_info(ctl_net, &info);
	uint8_t mac0[6];
	for (int i = 0; i < 6; i++)
		mac0[i] = info.mac[i];
	char feat[512];
	vnet_features_format(feat, sizeof(feat), info.negotiated);
	kprintf("ctrl: vnet0 negotiated %s\n", feat);
	kprintf("ctrl: link %s speed %s%u duplex %u\n", info.link_up ? "up" : "down", info.speed_known ? "" : "unknown ",
		(unsigned)info.speed_mbps, (unsigned)info.duplex);
	ctl_done("start", "promiscuous=true");

	static const struct {
		enum vnet_net_rx_mode m;
		bool on;
		const char *name, *expect;
	} rx[] = {
		{VNET_NET_RX_PROMISC, false, "promisc-off", "promiscuous=false"},
		{VNET_NET_RX_ALLMULTI, true, "allmulti-on", "multicast=all"},
		{VNET_NET_RX_ALLMULTI, false, "allmulti-off", "multicast=normal"},
		{VNET_NET_RX_NOMULTI, true, "nomulti-on", "multicast=none"},
		{VNET_NET_RX_NOMULTI, false, "nomulti-off", "multicast=normal"},
		{VNET_NET_RX_ALLUNI, true, "alluni-on", "unicast=all"},
		{VNET_NET_RX_ALLUNI, false, "alluni-off", "unicast=normal"},
		{VNET_NET_RX_NOUNI, true, "nouni-on", "unicast=none"},
		{VNET_NET_RX_NOUNI, false, "nouni-off", "unicast=normal"},
		{VNET_NET_RX_NOBCAST, true, "nobcast-on", "nobcast (QEMU shows broadcast-allowed=true)"},
		{VNET_NET_RX_NOBCAST, false, "nobcast-off", "bcast (QEMU shows broadcast-allowed=false)"},
	};
	for (unsigned i = 0; i < sizeof(rx) / sizeof(rx[0]); i++) {
		unsigned bit = rx[i].m <= VNET_NET_RX_ALLMULTI ? VIRTIO_NET_F_CTRL_RX : VIRTIO_NET_F_CTRL_RX_EXTRA;
		ctl_check(rx[i].name, CALL(vnet_net_set_rx_mode(ctl_net, rx[i].m, rx[i].on)), bit);
		ctl_done(rx[i].name, rx[i].expect);
	}

	static const uint8_t uc[2][6] = {{0x02, 0, 0, 0, 0, 0x01}, {0x02, 0, 0, 0, 0, 0x02}};
	static const uint8_t mc[1][6] = {{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};
	ctl_check("mac-table", CALL(vnet_net_set_mac_table(ctl_net, uc, 2, mc, 1)), VIRTIO_NET_F_CTRL_RX);
	ctl_done("mac-table", "unicast-table=02:00:00:00:00:01,02:00:00:00:00:02 multicast-table=01:00:5e:00:00:01");
	static uint8_t many[VNET_NET_MAC_TABLE_MAX + 8][6];
	for (unsigned i = 0; i < VNET_NET_MAC_TABLE_MAX + 8; i++) {
		many[i][0] = 0x02;
		many[i][4] = 0x10;
		many[i][5] = (uint8_t)i;
	}
	ctl_check("mac-overflow", CALL(vnet_net_set_mac_table(ctl_net, (const uint8_t(*)[6])many, VNET_NET_MAC_TABLE_MAX + 8, mc, 1)),
		  VIRTIO_NET_F_CTRL_RX);
	struct vnet_net_mac_filter_state fs;
	vnet_net_mac_filter_state(ctl_net, &fs);
	if (ctl_has(VIRTIO_NET_F_CTRL_RX) && !fs.uc_overflow) {
		kprintf("selftest ctrl: FAIL %u unicast addresses did not fall back to promiscuous\n",
			VNET_NET_MAC_TABLE_MAX + 8);
		ctl_fail = -1;
	}
	ctl_done("mac-overflow", "promiscuous=true unicast-table=");
	ctl_check("mac-fits", CALL(vnet_net_set_mac_table(ctl_net, uc, 1, mc, 1)), VIRTIO_NET_F_CTRL_RX);
	ctl_done("mac-fits", "promiscuous=false unicast-table=02:00:00:00:00:01");

	static const uint8_t mac1[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
	ctl_check("mac-addr", CALL(vnet_net_set_mac(ctl_net, mac1)), VIRTIO_NET_F_CTRL_MAC_ADDR);
	ctl_done("mac-addr", "main-mac=02:11:22:33:44:55");

	ctl_check("vlan-add-100", CALL(vnet_net_vlan_add(ctl_net, 100)), VIRTIO_NET_F_CTRL_VLAN);
	ctl_check("vlan-add-200", CALL(vnet_net_vlan_add(ctl_net, 200)), VIRTIO_NET_F_CTRL_VLAN);
	ctl_done("vlan-add", "vlan-table=100,200");
	ctl_check("vlan-del-200", CALL(vnet_net_vlan_del(ctl_net, 200)), VIRTIO_NET_F_CTRL_VLAN);
	ctl_done("vlan-del", "vlan-table=100");

	/* RSS (QEMU rss=on): the default configuration, then every entry to
	 * queue 0; QEMU checks the layout, key size, table and queues. */
	struct vnet_net_rss rss;
	vnet_net_rss_default(ctl_net, &rss);
	ctl_check("rss-default", CALL(vnet_net_set_rss(ctl_net, &rss)), VIRTIO_NET_F_RSS);
	for (unsigned i = 0; i < rss.indir_len; i++)
		rss.indir[i] = 0;
	ctl_check("rss-table", CALL(vnet_net_set_rss(ctl_net, &rss)), VIRTIO_NET_F_RSS);
	kprintf("ctrl: rss types 0x%x key %u table %u\n", (unsigned)rss.hash_types, (unsigned)rss.key_len,
		(unsigned)rss.indir_len);
	ctl_done("rss", "-");

	/* QEMU refuses GUEST_OFFLOADS_SET when its back-end has no vnet
	 * header (user networking): a refusal (ERR) is then the device's
	 * answer, reported and not held against the driver; any other
	 * failure is. */
	uint64_t off = vnet_net_get_guest_offloads(ctl_net);
	int orc = CALL(vnet_net_set_guest_offloads(ctl_net, off));
	unsigned off_refused = 0;
	if (orc == VNET_EIO) {
		kprintf("ctrl: guest-offloads 0x%lx refused by the device (ack ERR)\n", (unsigned long)off);
		off_refused = 1;
	} else {
		ctl_check("guest-offloads", orc, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
	}
	ctl_done("guest-offloads", "-");

	/* Announce: with ctrl.sync the script ran announce-self before the
	 * line that ended the previous wait; the config interrupt has set
	 * the pending flag by now. */
	if (ctl_sync && ctl_has(VIRTIO_NET_F_GUEST_ANNOUNCE)) {
		/* QEMU announces after its initial delay: wait, bounded, for the
		 * config interrupt (served in interrupt context or by the poll). */
		uint64_t end = timer_ns() + 5000000000ull;
		while (!vnet_net_announce_pending(ctl_net) && timer_ns() < end)
			net_wait_once();
		struct vnet_net_ctrl_stats cs;
		vnet_net_ctrl_get_stats(ctl_net, &cs);
		if (!vnet_net_announce_pending(ctl_net)) {
			kprintf("selftest ctrl: FAIL announce-self did not leave ANNOUNCE pending (%lu seen)\n",
				(unsigned long)cs.announces);
			ctl_fail = -1;
		}
		ctl_check("announce-ack", CALL(vnet_net_announce_ack(ctl_net)), VIRTIO_NET_F_GUEST_ANNOUNCE);
		if (vnet_net_announce_pending(ctl_net))
			ctl_fail = -1;
		vnet_net_ctrl_get_stats(ctl_net, &cs);
		kprintf("ctrl: announce seen %lu, acked\n", (unsigned long)cs.announces);
	}
	ctl_done("announce", "-");

	/* Link: with ctrl.sync the script ran set_link off before the line
	 * that ended the previous wait.  STATUS arrives by the config
	 * interrupt; transmit must then be gated and counted. */
	if (ctl_sync && ctl_has(VIRTIO_NET_F_STATUS)) {
		ctl_link_step(false);
		ctl_done("link-down", "-");
		ctl_link_step(true);
	} else {
		ctl_done("link-down", "-");
	}
	ctl_done("link-up", "-");

	struct vnet_net_coal c = {50, 16};
	ctl_check("notf-coal", CALL(vnet_net_set_coal(ctl_net, false, &c)), VIRTIO_NET_F_NOTF_COAL);
	ctl_check("vq-notf-coal", CALL(vnet_net_set_vq_coal(ctl_net, 0, &c)), VIRTIO_NET_F_VQ_NOTF_COAL);
	ctl_check("mac-restore", CALL(vnet_net_set_mac(ctl_net, mac0)), VIRTIO_NET_F_CTRL_MAC_ADDR);
	ctl_done("restore", "main-mac=original");

	struct vnet_net_ctrl_stats cs;
	vnet_net_ctrl_get_stats(ctl_net, &cs);
	vnet_net_get_info(ctl_net, &info);
	kprintf("ctrl: commands %lu ok %lu refused %lu failed %lu ctrl_errors %lu\n", (unsigned long)cs.cmds,
		(unsigned long)cs.ok, (unsigned long)cs.refused, (unsigned long)cs.failed,
		(unsigned long)info.ctrl_errors);
	if (cs.refused != off_refused || cs.failed || info.ctrl_errors)
		ctl_fail = -1;
	kprintf("selftest ctrl: %s\n", ctl_fail ? "FAIL" : "PASS");
	return ctl_fail;
}

static const struct selftest ctrl_test = {"ctrl", selftest_ctrl};

void selftest_ctrl_register(void)
{
	selftest_register(&ctrl_test);
}
