/*
 * selftest=qreset: queue reset (VIRTIO_F_RING_RESET) and device recovery
 * with state replay (include/vnet/net_recover.h) on vnet0 against the real
 * device (QEMU's virtio-net-pci), under UDP echo traffic from the host.
 *
 * Steps, each followed by a check that echo traffic resumes (the host's
 * client keeps sending; at least QR_RESUME more datagrams must be echoed
 * within 10 s) and that the pool adds up (free + in the rings is the same
 * number as at the start: nothing lost or leaked):
 *   rx0-reset   queue reset of receiveq0: every posted buffer reclaimed
 *               (the count must equal what the ring held)
 *   tx0-reset   queue reset of transmitq0
 *   resize      receiveq0 and transmitq0 rebuilt with half their size
 *   state       promisc off, allmulti on, VLAN 100 and 200, MAC
 *               02:11:22:33:44:66 (with qreset.sync=1 the kernel waits for
 *               a serial line: the script reads QEMU's query-rx-filter)
 *   device-reset a full reset and re-init with the state replayed
 *               (vnet_net_recover): QEMU forgets all of the above at reset,
 *               so query-rx-filter showing it again is the replay (the
 *               script checks after a second wait); then the MAC is put back.
 * Without RING_RESET negotiated the queue steps must return VNET_ENOTSUP
 * and are skipped.  Every driver call runs with interrupts off.
 * Buffer accounting (struct vnet_net_vq_acct): after every step and every
 * loop round each queue's posted = completed + reclaimed + leaked +
 * in_flight with nothing leaked, and each reset reclaimed exactly what
 * every queue it touched had in flight (the others nothing); the final
 * figures are printed ("qreset: acct ...", "qreset: acctsum ...").
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/cmdline.h"
#include "orion/kprintf.h"
#include "orion/net.h"
#include "orion/selftest.h"
#include "orion/serial.h"
#include "orion/timer.h"
#include "vnet/device.h"
#include "vnet/features.h"
#include "vnet/net.h"
#include "vnet/net_ctrl.h"
#include "vnet/net_recover.h"
#include "vnet/virtqueue.h"

#define QR_RESUME 10u
#define QR_SEC 1000000000ull

static struct vnet_net *qr_net;
static bool qr_sync;
static int qr_fail;
static uint32_t qr_total; /* pool free + in rings at the start */

#define QR_CALL(expr) ({ unsigned long _f = irq_save(); int _r = (expr); irq_restore(_f); _r; })

static void qr_wait(void)
{
	if (!qr_sync)
		return;
	kprintf("qreset: waiting\n");
	for (;;) {
		int c = serial_getc_nonblock();
		if (c == '\r' || c == '\n')
			return;
		net_wait_once();
	}
}

/* Buffers in the rings of every pair in use (interrupts off). */
static uint32_t qr_in_rings(void)
{
	struct vnet_net_info info;
	vnet_net_get_info(qr_net, &info);
	uint32_t n = 0;
	for (uint16_t q = 0; q < info.queue_pairs; q++)
		n += vnet_vq_outstanding(vnet_net_rxq(qr_net, q)) + vnet_vq_outstanding(vnet_net_txq(qr_net, q));
	return n;
}

static uint32_t qr_pool_total(void)
{
	unsigned long f = irq_save();
	uint32_t n = vnet_net_pool_free_count(qr_net) + qr_in_rings();
	irq_restore(f);
	return n;
}

static uint64_t qr_echoed(void)
{
	struct net_stats s;
	net_get_stats(0, &s);
	return s.udp_echo_tx;
}

/* ------------------------------------------------ buffer accounting */

/* Buffer accounting (vnet/net.h, struct vnet_net_vq_acct) of the
 * receive and transmit queues of the pairs in use and of the controlq:
 * posted = completed + reclaimed + leaked + in_flight on each, nothing
 * leaked, and every reset reclaims exactly what each queue had in flight. */
#define QR_ACCT_MAX 65u
static struct vnet_net_vq_acct qr_acct_before[QR_ACCT_MAX];

static unsigned qr_acct_queues(uint16_t *idx)
{
	struct vnet_net_info info;
	vnet_net_get_info(qr_net, &info);
	unsigned n = 0;
	for (uint16_t i = 0; i < 2u * info.queue_pairs && n + 1u < QR_ACCT_MAX; i++)
		idx[n++] = i;
	struct vnet_vq *c = vnet_net_ctrlq(qr_net);
	if (c)
		idx[n++] = vnet_vq_index(c);
	return n;
}

static void qr_acct_name(uint16_t index, char *buf, size_t len)
{
	struct vnet_vq *c = vnet_net_ctrlq(qr_net);
	if (c && vnet_vq_index(c) == index)
		ksnprintf(buf, len, "ctrl");
	else
		ksnprintf(buf, len, "%s%u", (index & 1u) ? "tx" : "rx", (unsigned)(index / 2u));
}

/* Every queue balanced and nothing leaked; returns the failures. */
static unsigned qr_acct_check(const char *what, unsigned round)
{
	uint16_t idx[QR_ACCT_MAX];
	unsigned n = qr_acct_queues(idx), bad = 0;
	for (unsigned k = 0; k < n; k++) {
		struct vnet_net_vq_acct a;
		unsigned long f = irq_save();
		int rc = vnet_net_get_vq_acct(qr_net, idx[k], &a);
		irq_restore(f);
		if (rc == VNET_OK && vnet_net_vq_acct_balanced(&a) && !a.leaked)
			continue;
		char name[8];
		qr_acct_name(idx[k], name, sizeof(name));
		kprintf("selftest qreset: FAIL %s %u: %s buffers rc=%s posted %lu completed %lu reclaimed %lu leaked %lu "
		        "in_flight %lu\n",
		        what, round, name, vnet_strerror(rc), (unsigned long)a.posted, (unsigned long)a.completed,
		        (unsigned long)a.reclaimed, (unsigned long)a.leaked, (unsigned long)a.in_flight);
		bad++;
	}
	return bad;
}

/* Before a reset (interrupts off): what each queue has in flight. */
static unsigned qr_acct_snap(uint16_t *idx)
{
	unsigned n = qr_acct_queues(idx);
	for (unsigned k = 0; k < n; k++)
		(void)vnet_net_get_vq_acct(qr_net, idx[k], &qr_acct_before[k]);
	return n;
}

/* After it (interrupts still off): queue `only` (or every queue with
 * VNET_NET_VQ_ALL) reclaimed exactly what it had in flight before; the
 * others reclaimed nothing.  Returns the failures. */
static unsigned qr_acct_after_reset(const char *what, unsigned round, const uint16_t *idx, unsigned n,
                                    uint16_t only)
{
	unsigned bad = 0;
	for (unsigned k = 0; k < n; k++) {
		struct vnet_net_vq_acct a;
		(void)vnet_net_get_vq_acct(qr_net, idx[k], &a);
		const struct vnet_net_vq_acct *b = &qr_acct_before[k];
		uint64_t want = only == VNET_NET_VQ_ALL || only == idx[k] ? b->in_flight : 0;
		if (a.reclaimed - b->reclaimed == want)
			continue;
		char name[8];
		qr_acct_name(idx[k], name, sizeof(name));
		kprintf("selftest qreset: FAIL %s %u: %s reclaimed %lu buffers, %lu were in flight\n", what, round, name,
		        (unsigned long)(a.reclaimed - b->reclaimed), (unsigned long)want);
		bad++;
	}
	return bad;
}

static uint64_t qr_reclaimed(void);

/* The final figures, one line per queue, and a summary the script checks
 * (the recovery counter counts pool buffers: one per chain here, small
 * UDP frames and mergeable receive buffers, so the two must agree). */
static void qr_acct_print(void)
{
	uint16_t idx[QR_ACCT_MAX];
	unsigned long f = irq_save();
	unsigned n = qr_acct_queues(idx);
	irq_restore(f);
	unsigned unbalanced = 0;
	uint64_t leaked = 0, reclaimed = 0;
	for (unsigned k = 0; k < n; k++) {
		struct vnet_net_vq_acct a;
		f = irq_save();
		(void)vnet_net_get_vq_acct(qr_net, idx[k], &a);
		irq_restore(f);
		char name[8];
		qr_acct_name(idx[k], name, sizeof(name));
		kprintf("qreset: acct %s posted %lu completed %lu reclaimed %lu leaked %lu in_flight %lu\n", name,
		        (unsigned long)a.posted, (unsigned long)a.completed, (unsigned long)a.reclaimed,
		        (unsigned long)a.leaked, (unsigned long)a.in_flight);
		unbalanced += !vnet_net_vq_acct_balanced(&a);
		leaked += a.leaked;
		if (vnet_net_ctrlq(qr_net) == 0 || idx[k] != vnet_vq_index(vnet_net_ctrlq(qr_net)))
			reclaimed += a.reclaimed;
	}
	f = irq_save();
	uint64_t rec = qr_reclaimed();
	irq_restore(f);
	kprintf("qreset: acctsum queues %u unbalanced %u leaked %lu reclaimed %lu recovery_reclaimed %lu\n", n,
	        unbalanced, (unsigned long)leaked, (unsigned long)reclaimed, (unsigned long)rec);
	if (unbalanced || leaked || reclaimed != rec) {
		kprintf("selftest qreset: FAIL buffer accounting at the end\n");
		qr_fail = -1;
	}
}

/* Echo traffic resumes after a step, and the pool adds up. */
static void qr_resume(const char *what, uint64_t wait_ns)
{
	uint64_t start = qr_echoed(), end = timer_ns() + wait_ns;
	while (qr_echoed() < start + QR_RESUME && timer_ns() < end)
		net_wait_once();
	uint64_t got = qr_echoed() - start;
	uint32_t total = qr_pool_total();
	kprintf("qreset: after %s: %lu echoed, pool %u of %u\n", what, (unsigned long)got, total, qr_total);
	if (got < QR_RESUME) {
		kprintf("selftest qreset: FAIL traffic did not resume after %s (%lu echoed)\n", what, (unsigned long)got);
		qr_fail = -1;
	}
	if (total != qr_total) {
		kprintf("selftest qreset: FAIL after %s the pool holds %u buffers, %u at the start\n", what, total,
		        qr_total);
		qr_fail = -1;
	}
	if (qr_acct_check(what, 0))
		qr_fail = -1;
}

static uint64_t qr_reclaimed(void)
{
	struct vnet_net_recover_stats st;
	vnet_net_recover_get_stats(qr_net, &st);
	return st.reclaimed;
}

/* One queue reset (new_size 0: same size); the reclaimed count must be
 * what the ring held. */
static void qr_queue_step(const char *what, uint16_t vq, uint16_t new_size, bool rr)
{
	uint16_t idx[QR_ACCT_MAX];
	unsigned long f = irq_save();
	struct vnet_vq *q = (vq & 1u) ? vnet_net_txq(qr_net, vq / 2u) : vnet_net_rxq(qr_net, vq / 2u);
	uint32_t held = vnet_vq_outstanding(q);
	uint64_t r0 = qr_reclaimed();
	unsigned na = qr_acct_snap(idx);
	int rc = vnet_net_queue_reset(qr_net, vq, new_size);
	uint64_t r1 = qr_reclaimed();
	unsigned abad = qr_acct_after_reset(what, 0, idx, na, vq);
	q = (vq & 1u) ? vnet_net_txq(qr_net, vq / 2u) : vnet_net_rxq(qr_net, vq / 2u);
	uint16_t size = vnet_vq_size(q);
	irq_restore(f);
	kprintf("qreset: step %s rc=%s held %u reclaimed %lu size %u\n", what, vnet_strerror(rc), held,
	        (unsigned long)(r1 - r0), size);
	int want = rr ? VNET_OK : VNET_ENOTSUP;
	if (rc != want) {
		kprintf("selftest qreset: FAIL %s: %s, want %s\n", what, vnet_strerror(rc), vnet_strerror(want));
		qr_fail = -1;
		return;
	}
	if (rr && r1 - r0 != held) {
		kprintf("selftest qreset: FAIL %s reclaimed %lu buffers, the ring held %u\n", what,
		        (unsigned long)(r1 - r0), held);
		qr_fail = -1;
	}
	if (abad)
		qr_fail = -1;
	if (rr && new_size && size != new_size) {
		kprintf("selftest qreset: FAIL %s: size %u, want %u\n", what, size, new_size);
		qr_fail = -1;
	}
	if (rr)
		qr_resume(what, 10 * QR_SEC);
}

/* qreset.loops=N: N rounds of a queue reset of rx0 and of tx0 (sizes
 * alternating between the full and the half ring) and, every 10th round,
 * a device reset with replay, under traffic; each reclaims exactly what
 * its rings held and the pool stays whole.  Traffic must resume at the end. */
static unsigned qr_arg(const char *key, unsigned dflt)
{
	const char *s = cmdline_get(key);
	if (!s || *s < '0' || *s > '9')
		return dflt;
	unsigned n = 0;
	while (*s >= '0' && *s <= '9' && n < 100000000u)
		n = n * 10u + (unsigned)(*s++ - '0');
	return n;
}

/* qreset.each=1: after every round, the echo counter must advance (the
 * host's client keeps sending) within 10 s; round times (resets plus the
 * first echo after them) are kept for the median and maximum. */
#define QR_TIMES 16384u
static uint32_t qr_times_us[QR_TIMES];

static bool qr_round_traffic(void)
{
	uint64_t start = qr_echoed(), end = timer_ns() + 10 * QR_SEC;
	while (qr_echoed() == start && timer_ns() < end)
		net_wait_once();
	return qr_echoed() != start;
}

static void qr_sort(uint32_t *a, unsigned n)
{
	for (unsigned gap = n / 2u; gap; gap /= 2u)
		for (unsigned i = gap; i < n; i++) {
			uint32_t v = a[i];
			unsigned j = i;
			for (; j >= gap && a[j - gap] > v; j -= gap)
				a[j] = a[j - gap];
			a[j] = v;
		}
}

static void qr_loops(bool rr)
{
	unsigned n = qr_arg("qreset.loops", 0);
	unsigned every = qr_arg("qreset.every", 10);
	bool each = qr_arg("qreset.each", 0) != 0;
	if (!n)
		return;
	if (!every)
		every = 10;
	unsigned timed = 0, no_traffic = 0;
	uint64_t reclaimed0 = qr_reclaimed();
	struct vnet_net_info info;
	vnet_net_get_info(qr_net, &info);
	unsigned qresets = 0, dresets = 0, bad = 0;
	uint64_t t0 = timer_ns();
	for (unsigned i = 0; i < n && !bad; i++) {
		uint64_t r_t0 = timer_ns();
		uint16_t size = (i & 1u) ? (uint16_t)(info.queue_size / 2u) : info.queue_size;
		for (uint16_t vq = 0; rr && vq < 2; vq++) {
			uint16_t idx[QR_ACCT_MAX];
			unsigned long f = irq_save();
			struct vnet_vq *q = vq ? vnet_net_txq(qr_net, 0) : vnet_net_rxq(qr_net, 0);
			uint32_t held = vnet_vq_outstanding(q);
			uint64_t r0 = qr_reclaimed();
			unsigned na = qr_acct_snap(idx);
			int rc = vnet_net_queue_reset(qr_net, vq, size);
			uint64_t r1 = qr_reclaimed();
			bad += qr_acct_after_reset("loop queue reset", i, idx, na, vq);
			irq_restore(f);
			if (rc != VNET_OK || r1 - r0 != held) {
				kprintf("selftest qreset: FAIL loop %u queue %u: %s, held %u reclaimed %lu\n", i, vq,
				        vnet_strerror(rc), held, (unsigned long)(r1 - r0));
				bad++;
			}
			qresets++;
		}
		if (i % every == every - 1u) {
			uint16_t idx[QR_ACCT_MAX];
			unsigned long f = irq_save();
			uint32_t held = qr_in_rings();
			uint64_t r0 = qr_reclaimed();
			unsigned na = qr_acct_snap(idx);
			int rc = vnet_net_recover(qr_net, VNET_RECOVER_MANUAL, VNET_NET_VQ_ALL, timer_ns());
			uint64_t r1 = qr_reclaimed();
			bad += qr_acct_after_reset("loop device reset", i, idx, na, VNET_NET_VQ_ALL);
			irq_restore(f);
			if (rc != VNET_OK || r1 - r0 != held) {
				kprintf("selftest qreset: FAIL loop %u device reset: %s, held %u reclaimed %lu\n", i,
				        vnet_strerror(rc), held, (unsigned long)(r1 - r0));
				bad++;
			}
			dresets++;
		}
		if (qr_pool_total() != qr_total) {
			kprintf("selftest qreset: FAIL loop %u: pool %u of %u\n", i, qr_pool_total(), qr_total);
			bad++;
		}
		bad += qr_acct_check("loop", i);
		if (each) {
			if (!qr_round_traffic()) {
				kprintf("selftest qreset: FAIL loop %u: no echo within 10 s after the resets\n", i);
				no_traffic++;
				bad++;
			}
			uint64_t us = (timer_ns() - r_t0) / 1000u;
			if (timed < QR_TIMES)
				qr_times_us[timed++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
		}
	}
	if (each) {
		qr_sort(qr_times_us, timed);
		kprintf("qreset: loopsum rounds %u queue_resets %u device_resets %u failures %u no_traffic %u "
		        "reclaimed %lu round_us median %u max %u\n",
		        timed, qresets, dresets, bad, no_traffic, (unsigned long)(qr_reclaimed() - reclaimed0),
		        timed ? qr_times_us[timed / 2u] : 0u, timed ? qr_times_us[timed - 1u] : 0u);
	}
	uint64_t ms = (timer_ns() - t0) / 1000000u;
	kprintf("qreset: loops %u: %u queue resets, %u device resets in %lu ms\n", n, qresets, dresets,
	        (unsigned long)ms);
	if (bad)
		qr_fail = -1;
	qr_resume("loops", 20 * QR_SEC);
}

static void qr_ctl(const char *what, int rc)
{
	if (rc == VNET_OK || rc == VNET_ENOTSUP)
		return;
	kprintf("selftest qreset: FAIL %s: %s\n", what, vnet_strerror(rc));
	qr_fail = -1;
}

static int selftest_qreset(void)
{
	qr_net = netdev_net(0);
	if (!qr_net) {
		kprintf("selftest qreset: FAIL vnet0 is not up\n");
		return -1;
	}
	const char *s = cmdline_get("qreset.sync");
	qr_sync = s && s[0] == '1';
	bool rr = vnet_device_has_feature(vnet_net_device(qr_net), VIRTIO_F_RING_RESET);
	struct vnet_net_info info;
	vnet_net_get_info(qr_net, &info);
	uint8_t mac0[6];
	for (int i = 0; i < 6; i++)
		mac0[i] = info.mac[i];
	kprintf("qreset: ready ring_reset %u queue_size %u; echo service on udp port %u\n", rr ? 1u : 0u,
	        info.queue_size, NET_UDP_ECHO_PORT);
	/* The host asks for every reset here: each that works ends its streak
	 * (stable_ns 1), so the loop is not cut short by the limit meant for
	 * a failing device. */
	struct vnet_net_recover_opts ro = {.stable_ns = 1};
	QR_CALL((vnet_net_recover_configure(qr_net, &ro), 0));
	qr_total = qr_pool_total();
	/* The host's client starts now: first echoes within 60 s. */
	qr_resume("start", 60 * QR_SEC);
	if (qr_fail)
		return -1;

	qr_queue_step("rx0-reset", 0, 0, rr);
	qr_queue_step("tx0-reset", 1, 0, rr);
	uint16_t half = (uint16_t)(info.queue_size / 2u);
	qr_queue_step("rx0-resize", 0, half, rr);
	qr_queue_step("tx0-resize", 1, half, rr);

	static const uint8_t mac1[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x66};
	qr_ctl("promisc-off", QR_CALL(vnet_net_set_promisc(qr_net, false)));
	qr_ctl("allmulti-on", QR_CALL(vnet_net_set_rx_mode(qr_net, VNET_NET_RX_ALLMULTI, true)));
	qr_ctl("vlan-add-100", QR_CALL(vnet_net_vlan_add(qr_net, 100)));
	qr_ctl("vlan-add-200", QR_CALL(vnet_net_vlan_add(qr_net, 200)));
	qr_ctl("mac-addr", QR_CALL(vnet_net_set_mac(qr_net, mac1)));
	kprintf("qreset: step state expect promiscuous=false multicast=all vlan-table=100,200 main-mac=02:11:22:33:44:66\n");
	qr_wait();

	uint16_t idx[QR_ACCT_MAX];
	unsigned long f = irq_save();
	uint32_t held = qr_in_rings();
	struct vnet_net_recover_stats a, b;
	vnet_net_recover_get_stats(qr_net, &a);
	unsigned na = qr_acct_snap(idx);
	int rc = vnet_net_recover(qr_net, VNET_RECOVER_MANUAL, VNET_NET_VQ_ALL, timer_ns());
	vnet_net_recover_get_stats(qr_net, &b);
	if (qr_acct_after_reset("device-reset", 0, idx, na, VNET_NET_VQ_ALL))
		qr_fail = -1;
	irq_restore(f);
	struct vnet_net_ctrl_stats cs;
	vnet_net_ctrl_get_stats(qr_net, &cs);
	kprintf("qreset: step device-reset rc=%s held %u reclaimed %lu device_resets %lu replays %lu replay_errors %lu\n",
	        vnet_strerror(rc), held, (unsigned long)(b.reclaimed - a.reclaimed), (unsigned long)b.device_resets,
	        (unsigned long)cs.replays, (unsigned long)b.replay_errors);
	if (rc != VNET_OK || b.device_resets != a.device_resets + 1 || b.reclaimed - a.reclaimed != held ||
	    b.replay_errors != a.replay_errors) {
		kprintf("selftest qreset: FAIL device reset with replay\n");
		qr_fail = -1;
	}
	kprintf("qreset: step replayed expect promiscuous=false multicast=all vlan-table=100,200 main-mac=02:11:22:33:44:66\n");
	qr_wait();
	qr_ctl("mac-restore", QR_CALL(vnet_net_set_mac(qr_net, mac0)));
	qr_resume("device-reset", 20 * QR_SEC);

	qr_loops(rr);

	qr_acct_print();
	vnet_net_recover_get_stats(qr_net, &b);
	kprintf("qreset: recovery queue_resets %lu device_resets %lu reclaimed %lu fails %lu/%lu\n",
	        (unsigned long)b.queue_resets, (unsigned long)b.device_resets, (unsigned long)b.reclaimed,
	        (unsigned long)b.queue_reset_fails, (unsigned long)b.device_reset_fails);
	if (qr_fail)
		return -1;
	kprintf("selftest qreset: PASS\n");
	return 0;
}

static const struct selftest qreset_test = {"qreset", selftest_qreset};

void selftest_recover_register(void)
{
	selftest_register(&qreset_test);
}
