/*
 * Queue reset (VIRTIO_F_RING_RESET) and recovery of the virtio-net layer
 * (include/vnet/net_recover.h) against the device model, which can set
 * DEVICE_NEEDS_RESET, break a queue (a used id outside the ring), stop
 * answering the control queue, stop completing transmit buffers, and
 * forget its control state on a device reset as QEMU does.
 *
 * What a user relies on, asserted here:
 *  - RING_RESET is negotiated when offered; a queue reset of a receive,
 *    transmit or control queue takes every buffer back (counted), leaves
 *    the other queues and the device alone (no device reset), and traffic
 *    flows again; a resize gives a ring of the new size; bad sizes and
 *    indices are refused with nothing touched; without RING_RESET the
 *    call is VNET_ENOTSUP with nothing touched;
 *  - each trigger (NEEDS_RESET, a broken queue, a control-queue timeout,
 *    the TX watchdog, a host-reported stall) leads to recovery, counted
 *    by cause; after a device reset the model's MAC, RX modes, MAC table
 *    and VLAN table equal what they were before;
 *  - the pool adds up after every recovery (free + in rings + held = pool)
 *    and nothing leaks at destroy;
 *  - a device that fails every time is retried with back-off and ends
 *    latched dead after the limit, with a log line, and is not retried.
 * No timing is measured: the host clock passed to the watchdog is the
 * test's own number.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_hal.h"
#include "netdev_model.h"
#include "test_net_common.h"
#include "vnet/device.h"
#include "vnet/features.h"
#include "vnet/net.h"
#include "vnet/net_ctrl.h"
#include "vnet/net_recover.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/virtqueue.h"

#define V1 VNET_BIT(VIRTIO_F_VERSION_1)
#define F(x) VNET_BIT(VIRTIO_F_##x)
#define N(x) VNET_BIT(VIRTIO_NET_F_##x)
#define BASE                                                                                                 \
	(V1 | N(MAC) | N(STATUS) | N(MTU) | N(CTRL_VQ) | N(CTRL_RX) | N(CTRL_VLAN) | N(CTRL_MAC_ADDR) | \
	 F(EVENT_IDX))
#define RR F(RING_RESET)
#define QMAX 64u
#define POOL 256u
#define MS 1000000ull

struct fx {
	struct netdev_model m;
	struct vnet_net *net;
	size_t dma0, priv0;
	uint32_t pool;
};

static struct fx *fx_up(uint64_t offered, bool packed)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dma0 = fake_hal_live_dma();
	f->priv0 = fake_hal_live_private();
	assert_int_equal(ndm_init(&f->m, offered | (packed ? F(RING_PACKED) : 0), 1, QMAX), 0);
	struct vnet_net_opts o;
	memset(&o, 0, sizeof(o));
	o.pool_size = POOL;
	o.queue_size = 32;
	o.timeout_ns = 20 * MS;
	f->pool = POOL;
	assert_int_equal(vnet_net_create(ndm_ops(&f->m), ndm_ctx(&f->m), &o, &f->net), VNET_OK);
	return f;
}

static void fx_free(struct fx *f)
{
	net_fx_teardown(&f->net, &f->m, f->dma0, f->priv0);
	free(f);
}

/* Every buffer is in the pool, in a ring, or held by the test. */
static void check_pool(struct fx *f, uint32_t held)
{
	uint32_t in_rings = vnet_vq_outstanding(vnet_net_rxq(f->net, 0)) + vnet_vq_outstanding(vnet_net_txq(f->net, 0));
	assert_int_equal(vnet_net_pool_free_count(f->net) + in_rings + held, f->pool);
}

static struct vnet_net_recover_stats rstats(struct fx *f)
{
	struct vnet_net_recover_stats s;
	vnet_net_recover_get_stats(f->net, &s);
	return s;
}

/* Send n frames on pair 0; returns how many the driver took. */
static unsigned send(struct fx *f, unsigned n, uint8_t seed)
{
	struct vnet_pkt *p[16];
	assert_true(n <= 16);
	for (unsigned i = 0; i < n; i++) {
		p[i] = vnet_net_pkt_alloc(f->net);
		assert_non_null(p[i]);
		memset(p[i]->data, seed + i, 60);
		p[i]->len = 60;
	}
	unsigned k = vnet_net_tx_burst(f->net, 0, p, n);
	for (unsigned i = k; i < n; i++)
		vnet_net_pkt_free(f->net, p[i]);
	return k;
}

/* Traffic both ways works: a frame injected arrives, a frame sent is seen. */
static void check_traffic(struct fx *f)
{
	uint8_t frame[64];
	memset(frame, 0xa5, sizeof(frame));
	memcpy(frame, f->m.perm_mac, 6);
	assert_true(ndm_rx_avail(&f->m, 0) > 0);
	assert_true(ndm_rx_inject(&f->m, 0, frame, sizeof(frame), 0) >= 1);
	struct vnet_pkt *p[4];
	unsigned k = vnet_net_rx_burst(f->net, 0, p, 4);
	assert_int_equal(k, 1);
	assert_int_equal(p[0]->len, sizeof(frame));
	assert_memory_equal(p[0]->data, frame, sizeof(frame));
	vnet_net_pkt_free(f->net, p[0]);
	uint64_t before = f->m.tx_total;
	assert_int_equal(send(f, 1, 7), 1);
	ndm_poll(&f->m);
	assert_int_equal(f->m.tx_total, before + 1);
	vnet_net_tx_reclaim(f->net, 0);
}

/* Some control state for the replay checks. */
static void set_state(struct fx *f)
{
	static const uint8_t mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
	uint8_t uc[1][6] = {{0x02, 0, 0, 0, 0, 9}}, mc[1][6] = {{0x01, 0x00, 0x5e, 0, 0, 1}};
	assert_int_equal(vnet_net_set_mac(f->net, mac), VNET_OK);
	assert_int_equal(vnet_net_set_rx_mode(f->net, VNET_NET_RX_ALLMULTI, true), VNET_OK);
	assert_int_equal(vnet_net_set_promisc(f->net, false), VNET_OK);
	assert_int_equal(vnet_net_set_mac_table(f->net, (const uint8_t(*)[6])uc, 1, (const uint8_t(*)[6])mc, 1), VNET_OK);
	assert_int_equal(vnet_net_vlan_add(f->net, 5), VNET_OK);
	assert_int_equal(vnet_net_vlan_add(f->net, 4000), VNET_OK);
}

static void check_state_equal(const struct ndm_ctrl_dev *a, const struct ndm_ctrl_dev *b)
{
	assert_memory_equal(a->mac, b->mac, 6);
	assert_memory_equal(a->rx, b->rx, sizeof(a->rx));
	assert_int_equal(a->n_uc, b->n_uc);
	assert_int_equal(a->n_mc, b->n_mc);
	assert_memory_equal(a->uc, b->uc, sizeof(a->uc));
	assert_memory_equal(a->mc, b->mc, sizeof(a->mc));
	assert_memory_equal(a->vlan, b->vlan, sizeof(a->vlan));
}

/* ------------------------------------------------------------ RING_RESET */

static void qreset_basic(bool packed)
{
	struct fx *f = fx_up(BASE | RR, packed);
	assert_true(vnet_device_has_feature(vnet_net_device(f->net), VIRTIO_F_RING_RESET));
	unsigned posted = vnet_vq_outstanding(vnet_net_rxq(f->net, 0));
	assert_true(posted > 0);
	unsigned dev_resets = f->m.device_resets;

	/* Receive queue: every posted buffer back, ring refilled. */
	assert_int_equal(vnet_net_queue_reset(f->net, 0, 0), VNET_OK);
	assert_int_equal(f->m.queue_resets, 1);
	assert_int_equal(rstats(f).reclaimed, posted);
	assert_int_equal(rstats(f).queue_resets, 1);
	assert_int_equal(vnet_vq_outstanding(vnet_net_rxq(f->net, 0)), posted);
	check_pool(f, 0);
	check_traffic(f);

	/* Transmit queue holding frames the device did not complete. */
	f->m.tx_hold = true;
	assert_int_equal(send(f, 5, 1), 5);
	check_pool(f, 0);
	uint64_t rec = rstats(f).reclaimed;
	assert_int_equal(vnet_net_queue_reset(f->net, 1, 0), VNET_OK);
	assert_int_equal(rstats(f).reclaimed, rec + 5);
	assert_int_equal(vnet_vq_outstanding(vnet_net_txq(f->net, 0)), 0);
	f->m.tx_hold = false;
	check_pool(f, 0);
	check_traffic(f);

	/* Resize the receive queue: a ring of the new size, traffic again. */
	assert_int_equal(vnet_net_queue_reset(f->net, 0, 16), VNET_OK);
	assert_int_equal(vnet_vq_size(vnet_net_rxq(f->net, 0)), 16);
	assert_int_equal(f->m.ft.q[0].setup.size, 16);
	check_pool(f, 0);
	check_traffic(f);
	assert_int_equal(vnet_net_queue_reset(f->net, 1, 64), VNET_OK);
	assert_int_equal(vnet_vq_size(vnet_net_txq(f->net, 0)), 64);
	check_traffic(f);

	/* The control queue too; commands work after it. */
	assert_int_equal(vnet_net_queue_reset(f->net, 2, 0), VNET_OK);
	assert_int_equal(vnet_net_set_promisc(f->net, true), VNET_OK);

	/* Refused with nothing touched: size above max, not a power of two
	 * (split), a queue that does not exist. */
	unsigned qr = f->m.queue_resets;
	assert_int_equal(vnet_net_queue_reset(f->net, 0, 128), VNET_EINVAL);
	if (!packed)
		assert_int_equal(vnet_net_queue_reset(f->net, 0, 24), VNET_EINVAL);
	assert_int_equal(vnet_net_queue_reset(f->net, 7, 0), VNET_EINVAL);
	assert_int_equal(f->m.queue_resets, qr);
	/* The device itself was never reset. */
	assert_int_equal(f->m.device_resets, dev_resets);
	check_pool(f, 0);
	fx_free(f);
}

static void test_qreset_split(void **state)
{
	(void)state;
	qreset_basic(false);
}

static void test_qreset_packed(void **state)
{
	(void)state;
	qreset_basic(true);
}

static void test_qreset_enotsup(void **state)
{
	(void)state;
	struct fx *f = fx_up(BASE, false);
	assert_false(vnet_device_has_feature(vnet_net_device(f->net), VIRTIO_F_RING_RESET));
	unsigned ev = fake_transport_count(&f->m.ft, FT_EV_RESET_QUEUE);
	assert_int_equal(vnet_net_queue_reset(f->net, 0, 0), VNET_ENOTSUP);
	assert_int_equal(fake_transport_count(&f->m.ft, FT_EV_RESET_QUEUE), ev);
	check_pool(f, 0);
	check_traffic(f);
	fx_free(f);
}

/* A queue reset that never completes: the queue is left broken, its
 * buffers with the device; the watchdog then resets the whole device. */
static void test_qreset_never_completes(void **state)
{
	(void)state;
	struct fx *f = fx_up(BASE | RR, false);
	f->m.ft.queue_reset_never_completes = true;
	assert_int_equal(vnet_net_queue_reset(f->net, 0, 0), VNET_ETIMEDOUT);
	assert_true(vnet_vq_is_broken(vnet_net_rxq(f->net, 0)));
	assert_int_equal(rstats(f).queue_reset_fails, 1);
	check_pool(f, 0);
	f->m.ft.queue_reset_never_completes = false;
	f->m.ft.queue_reset_polls = 0;
	f->m.ft.q[0].resetting = false;
	assert_int_equal(vnet_net_watchdog(f->net, 0), VNET_RECOVER_QUEUE_BROKEN);
	struct vnet_net_recover_stats s = rstats(f);
	assert_int_equal(s.by_cause[VNET_RECOVER_QUEUE_BROKEN], 1);
	assert_int_equal(s.last_error, VNET_OK);
	check_pool(f, 0);
	check_traffic(f);
	fx_free(f);
}

/* ------------------------------------------------------------ triggers */

static void test_needs_reset_replays(void **state)
{
	(void)state;
	struct fx *f = fx_up(BASE | RR, false);
	f->m.reset_forgets = true;
	set_state(f);
	struct ndm_ctrl_dev want = f->m.cdev;
	assert_int_equal(vnet_net_watchdog(f->net, 0), VNET_RECOVER_NONE);
	/* Some frames in flight: they come back, counted. */
	f->m.tx_hold = true;
	assert_int_equal(send(f, 3, 1), 3);
	unsigned inflight = vnet_vq_outstanding(vnet_net_rxq(f->net, 0)) + 3;
	f->m.ft.needs_reset = true;
	unsigned dr = f->m.device_resets;
	assert_int_equal(vnet_net_watchdog(f->net, 1 * MS), VNET_RECOVER_NEEDS_RESET);
	struct vnet_net_recover_stats s = rstats(f);
	assert_int_equal(s.by_cause[VNET_RECOVER_NEEDS_RESET], 1);
	assert_int_equal(s.device_resets, 1);
	assert_int_equal(s.queue_resets, 0);
	assert_int_equal(s.reclaimed, inflight);
	assert_int_equal(s.last_error, VNET_OK);
	assert_int_equal(s.replay_errors, 0);
	assert_true(f->m.device_resets > dr);
	assert_true(vnet_net_is_running(f->net));
	/* The model forgot everything at the reset; the replay put it back. */
	check_state_equal(&f->m.cdev, &want);
	f->m.tx_hold = false;
	check_pool(f, 0);
	check_traffic(f);
	/* Healthy again: nothing more to do. */
	assert_int_equal(vnet_net_watchdog(f->net, 2 * MS), VNET_RECOVER_NONE);
	fx_free(f);
}

static void broken_queue(bool ring_reset, bool packed)
{
	struct fx *f = fx_up(BASE | (ring_reset ? RR : 0), packed);
	f->m.reset_forgets = true;
	set_state(f);
	struct ndm_ctrl_dev want = f->m.cdev;
	assert_int_equal(ndm_break_queue(&f->m, 0), 0);
	struct vnet_pkt *p[4];
	assert_int_equal(vnet_net_rx_burst(f->net, 0, p, 4), 0);
	assert_true(vnet_vq_is_broken(vnet_net_rxq(f->net, 0)));
	assert_int_equal(vnet_net_watchdog(f->net, 0), VNET_RECOVER_QUEUE_BROKEN);
	struct vnet_net_recover_stats s = rstats(f);
	assert_int_equal(s.by_cause[VNET_RECOVER_QUEUE_BROKEN], 1);
	assert_int_equal(s.last_error, VNET_OK);
	if (ring_reset) {
		assert_int_equal(s.queue_resets, 1);
		assert_int_equal(s.device_resets, 0);
		assert_int_equal(f->m.queue_resets, 1);
	} else {
		assert_int_equal(s.queue_resets, 0);
		assert_int_equal(s.device_resets, 1);
	}
	assert_false(vnet_vq_is_broken(vnet_net_rxq(f->net, 0)));
	check_state_equal(&f->m.cdev, &want);
	check_pool(f, 0);
	check_traffic(f);
	fx_free(f);
}

static void test_broken_queue_ring_reset(void **state)
{
	(void)state;
	broken_queue(true, false);
	broken_queue(true, true);
}

static void test_broken_queue_device_reset(void **state)
{
	(void)state;
	broken_queue(false, false);
	broken_queue(false, true);
}

static void ctrl_timeout(bool ring_reset)
{
	struct fx *f = fx_up(BASE | (ring_reset ? RR : 0), false);
	f->m.reset_forgets = true;
	set_state(f);
	struct ndm_ctrl_dev want = f->m.cdev;
	f->m.ctrl_mode = NDM_CTRL_SILENT;
	assert_int_equal(vnet_net_vlan_add(f->net, 77), VNET_ETIMEDOUT);
	f->m.ctrl_mode = NDM_CTRL_OK;
	assert_int_equal(vnet_net_vlan_add(f->net, 78), VNET_EBROKEN);
	assert_int_equal(vnet_net_watchdog(f->net, 0), VNET_RECOVER_CTRL_TIMEOUT);
	struct vnet_net_recover_stats s = rstats(f);
	assert_int_equal(s.by_cause[VNET_RECOVER_CTRL_TIMEOUT], 1);
	assert_int_equal(s.last_error, VNET_OK);
	assert_int_equal(ring_reset ? s.queue_resets : s.device_resets, 1);
	check_state_equal(&f->m.cdev, &want);
	/* Commands work again. */
	assert_int_equal(vnet_net_vlan_add(f->net, 79), VNET_OK);
	check_pool(f, 0);
	check_traffic(f);
	fx_free(f);
}

static void test_ctrl_timeout(void **state)
{
	(void)state;
	ctrl_timeout(true);
	ctrl_timeout(false);
}

static void tx_watchdog(bool ring_reset)
{
	struct fx *f = fx_up(BASE | (ring_reset ? RR : 0), false);
	struct vnet_net_recover_opts o;
	memset(&o, 0, sizeof(o));
	o.tx_timeout_ns = 100 * MS;
	vnet_net_recover_configure(f->net, &o);
	f->m.tx_hold = true;
	assert_int_equal(vnet_net_watchdog(f->net, 0), VNET_RECOVER_NONE);
	assert_int_equal(send(f, 4, 1), 4);
	/* Work pending, no completion: nothing before the timeout. */
	assert_int_equal(vnet_net_watchdog(f->net, 1000 * MS), VNET_RECOVER_NONE);
	assert_int_equal(vnet_net_watchdog(f->net, 1099 * MS), VNET_RECOVER_NONE);
	/* Progress restarts the clock. */
	f->m.tx_hold = false;
	ndm_poll(&f->m);
	vnet_net_tx_reclaim(f->net, 0);
	f->m.tx_hold = true;
	assert_int_equal(send(f, 4, 2), 4);
	assert_int_equal(vnet_net_watchdog(f->net, 1150 * MS), VNET_RECOVER_NONE);
	assert_int_equal(vnet_net_watchdog(f->net, 1200 * MS), VNET_RECOVER_NONE);
	assert_int_equal(vnet_net_watchdog(f->net, 1250 * MS), VNET_RECOVER_TX_WATCHDOG);
	struct vnet_net_recover_stats s = rstats(f);
	assert_int_equal(s.by_cause[VNET_RECOVER_TX_WATCHDOG], 1);
	assert_int_equal(s.last_error, VNET_OK);
	assert_int_equal(ring_reset ? s.queue_resets : s.device_resets, 1);
	assert_true(s.reclaimed >= 4);
	assert_int_equal(vnet_vq_outstanding(vnet_net_txq(f->net, 0)), 0);
	f->m.tx_hold = false;
	check_pool(f, 0);
	check_traffic(f);
	fx_free(f);
}

static void test_tx_watchdog(void **state)
{
	(void)state;
	tx_watchdog(true);
	tx_watchdog(false);
}

static void test_host_reported_stall(void **state)
{
	(void)state;
	struct fx *f = fx_up(BASE | RR, false);
	f->m.reset_forgets = true;
	set_state(f);
	struct ndm_ctrl_dev want = f->m.cdev;
	assert_int_equal(vnet_net_recover(f->net, VNET_RECOVER_BACKEND_STALL, VNET_NET_VQ_ALL, 0), VNET_OK);
	struct vnet_net_recover_stats s = rstats(f);
	assert_int_equal(s.by_cause[VNET_RECOVER_BACKEND_STALL], 1);
	assert_int_equal(s.device_resets, 1);
	check_state_equal(&f->m.cdev, &want);
	check_pool(f, 0);
	check_traffic(f);
	assert_int_equal(vnet_net_recover(f->net, VNET_RECOVER_NONE, 0, 0), VNET_EINVAL);
	fx_free(f);
}

/* ------------------------------------------------------------ back-off, limit */

/* The device re-enters NEEDS_RESET at every FEATURES_OK: every restart
 * fails.  Attempts are spaced by the back-off, the streak ends dead. */
static void test_fails_every_time_latched_dead(void **state)
{
	(void)state;
	struct fx *f = fx_up(BASE | RR, false);
	struct vnet_net_recover_opts o;
	memset(&o, 0, sizeof(o));
	o.backoff_ns = 10 * MS;
	o.backoff_max_ns = 40 * MS;
	o.max_attempts = 4;
	vnet_net_recover_configure(f->net, &o);
	f->m.ft.needs_reset = true;
	f->m.ft.needs_reset_at_features_ok = true;
	uint64_t t = 1000 * MS;
	assert_int_equal(vnet_net_watchdog(f->net, t), VNET_RECOVER_NEEDS_RESET);
	struct vnet_net_recover_stats s = rstats(f);
	assert_int_equal(s.streak, 1);
	assert_true(s.last_error != VNET_OK);
	assert_int_equal(s.pending, VNET_RECOVER_NEEDS_RESET);
	assert_false(s.dead);
	/* Back-off: 10, 20, 40 ms (capped) after attempts 1, 2, 3. */
	static const uint64_t delay[] = {10 * MS, 20 * MS, 40 * MS};
	for (unsigned a = 0; a < 3; a++) {
		uint64_t deferred = rstats(f).deferred;
		assert_int_equal(vnet_net_watchdog(f->net, t + delay[a] - 1), VNET_RECOVER_NONE);
		assert_int_equal(rstats(f).deferred, deferred + 1);
		t += delay[a];
		assert_int_equal(vnet_net_watchdog(f->net, t), VNET_RECOVER_NEEDS_RESET);
		assert_int_equal(rstats(f).streak, a + 2);
	}
	s = rstats(f);
	assert_true(s.dead);
	assert_int_equal(s.by_cause[VNET_RECOVER_NEEDS_RESET], 4);
	assert_int_equal(s.device_reset_fails, 4);
	assert_int_equal(s.device_resets, 0);
	assert_non_null(strstr(fake_hal_last_log(), "recovery gave up after 4 attempts"));
	assert_false(vnet_net_is_running(f->net));
	/* Not looped on. */
	unsigned dr = f->m.device_resets;
	assert_int_equal(vnet_net_watchdog(f->net, t + 1000 * MS), VNET_RECOVER_NONE);
	assert_int_equal(vnet_net_recover(f->net, VNET_RECOVER_MANUAL, VNET_NET_VQ_ALL, t), VNET_EBROKEN);
	assert_int_equal(f->m.device_resets, dr);
	/* Halted: every buffer is back in the pool. */
	assert_int_equal(vnet_net_pool_free_count(f->net), f->pool);
	fx_free(f);
}

/* A device that comes back but breaks again at once keeps a streak: it
 * too ends dead; one that stays healthy for stable_ns starts afresh. */
static void test_streak_and_stable(void **state)
{
	(void)state;
	struct fx *f = fx_up(BASE | RR, false);
	struct vnet_net_recover_opts o;
	memset(&o, 0, sizeof(o));
	o.backoff_ns = 10 * MS;
	o.stable_ns = 1000 * MS;
	o.max_attempts = 3;
	vnet_net_recover_configure(f->net, &o);
	uint64_t t = 0;
	/* Healthy between faults: the streak restarts each time. */
	for (unsigned i = 0; i < 5; i++) {
		f->m.ft.needs_reset = true;
		t += 2000 * MS;
		assert_int_equal(vnet_net_watchdog(f->net, t), VNET_RECOVER_NEEDS_RESET);
		assert_int_equal(rstats(f).streak, 1);
	}
	assert_false(rstats(f).dead);
	/* Breaking again right after each recovery: attempts 2 and 3 of the
	 * streak work, the 4th trigger within stable_ns gives up. */
	for (unsigned i = 0; i < 2; i++) {
		f->m.ft.needs_reset = true;
		t += 100 * MS;
		assert_int_equal(vnet_net_watchdog(f->net, t), VNET_RECOVER_NEEDS_RESET);
	}
	assert_int_equal(rstats(f).streak, 3);
	assert_false(rstats(f).dead);
	f->m.ft.needs_reset = true;
	t += 100 * MS;
	assert_int_equal(vnet_net_watchdog(f->net, t), VNET_RECOVER_NEEDS_RESET);
	assert_true(rstats(f).dead);
	assert_int_equal(rstats(f).device_resets, 7);
	assert_non_null(strstr(fake_hal_last_log(), "recovery gave up after 3 attempts"));
	assert_int_equal(vnet_net_pool_free_count(f->net), f->pool);
	fx_free(f);
}

/* Resets the operator asks for (VNET_RECOVER_MANUAL) that succeed are not
 * device failures: many in a row, within stable_ns, neither build a streak
 * nor latch the device dead, and a real fault afterwards starts at 1. */
static void test_manual_resets_not_a_streak(void **state)
{
	(void)state;
	struct fx *f = fx_up(BASE | RR, false);
	struct vnet_net_recover_opts o;
	memset(&o, 0, sizeof(o));
	o.max_attempts = 3;
	vnet_net_recover_configure(f->net, &o);
	uint64_t t = 0;
	for (unsigned i = 0; i < 10; i++) {
		t += 1 * MS;
		assert_int_equal(vnet_net_recover(f->net, VNET_RECOVER_MANUAL, VNET_NET_VQ_ALL, t), VNET_OK);
		assert_int_equal(rstats(f).streak, 0);
		assert_false(rstats(f).dead);
	}
	assert_int_equal(rstats(f).device_resets, 10);
	assert_int_equal(rstats(f).by_cause[VNET_RECOVER_MANUAL], 10);
	check_traffic(f);
	/* A device fault after them is attempt 1 of its own streak. */
	f->m.ft.needs_reset = true;
	t += 1 * MS;
	assert_int_equal(vnet_net_watchdog(f->net, t), VNET_RECOVER_NEEDS_RESET);
	assert_int_equal(rstats(f).streak, 1);
	/* A manual reset inside a fault streak neither extends nor ends it. */
	t += 1 * MS;
	assert_int_equal(vnet_net_recover(f->net, VNET_RECOVER_MANUAL, VNET_NET_VQ_ALL, t), VNET_OK);
	assert_int_equal(rstats(f).streak, 1);
	assert_false(rstats(f).dead);
	check_traffic(f);
	fx_free(f);
}

/* The reset itself never completes: net_setup latches the device dead
 * (nothing it holds is reused), recovery gives up at once. */
static void test_reset_never_completes(void **state)
{
	(void)state;
	struct fx *f = fx_up(BASE | RR, false);
	f->m.ft.needs_reset = true;
	f->m.ft.reset_never_completes = true;
	assert_int_equal(vnet_net_watchdog(f->net, 0), VNET_RECOVER_NEEDS_RESET);
	struct vnet_net_recover_stats s = rstats(f);
	assert_true(s.dead);
	assert_true(vnet_net_is_dead(f->net));
	assert_int_equal(s.reclaimed, 0);
	assert_int_equal(vnet_net_watchdog(f->net, 10 * MS), VNET_RECOVER_NONE);
	/* Destroy keeps the device-visible memory for good: not checked by fx_free. */
	vnet_net_destroy(f->net);
	ndm_fini(&f->m);
	free(f);
}

/* Manual mode: detected and reported, not acted on. */
static void test_manual_detects_only(void **state)
{
	(void)state;
	struct fx *f = fx_up(BASE | RR, false);
	struct vnet_net_recover_opts o;
	memset(&o, 0, sizeof(o));
	o.manual = true;
	vnet_net_recover_configure(f->net, &o);
	f->m.ft.needs_reset = true;
	assert_int_equal(vnet_net_watchdog(f->net, 0), VNET_RECOVER_NONE);
	assert_int_equal(rstats(f).pending, VNET_RECOVER_NEEDS_RESET);
	assert_int_equal(rstats(f).device_resets, 0);
	assert_int_equal(vnet_net_recover(f->net, rstats(f).pending, VNET_NET_VQ_ALL, 0), VNET_OK);
	assert_int_equal(rstats(f).device_resets, 1);
	assert_int_equal(rstats(f).pending, VNET_RECOVER_NONE);
	check_traffic(f);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qreset_split),
		cmocka_unit_test(test_qreset_packed),
		cmocka_unit_test(test_qreset_enotsup),
		cmocka_unit_test(test_qreset_never_completes),
		cmocka_unit_test(test_needs_reset_replays),
		cmocka_unit_test(test_broken_queue_ring_reset),
		cmocka_unit_test(test_broken_queue_device_reset),
		cmocka_unit_test(test_ctrl_timeout),
		cmocka_unit_test(test_tx_watchdog),
		cmocka_unit_test(test_host_reported_stall),
		cmocka_unit_test(test_fails_every_time_latched_dead),
		cmocka_unit_test(test_streak_and_stable),
		cmocka_unit_test(test_manual_resets_not_a_streak),
		cmocka_unit_test(test_reset_never_completes),
		cmocka_unit_test(test_manual_detects_only),
	};
	return cmocka_run_group_tests(tests, 0, 0);
}
