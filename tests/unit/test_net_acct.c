/*
 * Buffer accounting of the virtio-net layer (struct vnet_net_vq_acct,
 * vnet_net_get_vq_acct, the rx_acct/tx_acct members of
 * vnet_net_get_stats) against the device model, which counts on its own
 * side, per virtqueue and over its whole life, the buffers it completed,
 * the ones it held when it forgot a ring (device reset, queue reset) and
 * the ones it holds now (ndm_vq_count).
 *
 * What a user relies on, asserted here for every receiveq, transmitq and
 * the controlq of two queue pairs, split and packed (packed with
 * MRG_RXBUF: frames over several buffers):
 *  - posted == completed + reclaimed + leaked + in_flight at every check;
 *  - each figure equals what the device saw: posted = every buffer the
 *    device was shown, completed = its completions the driver took,
 *    in_flight = what it holds, reclaimed + leaked = what it held at a
 *    reset (plus completions the driver had not taken yet, which the reset
 *    returns without a completion);
 *  - through traffic; a queue reset (RING_RESET) of a receive queue (with
 *    completions not yet taken), of a transmit queue holding frames, of
 *    the controlq holding an unanswered command, and a resize (a new ring:
 *    the counts carry over); a queue reset that does not complete (the
 *    buffers stay in flight until a device reset reclaims them);
 *  - a device reset with the control state replayed: right after the halt
 *    in_flight is 0 on every queue and the halt's in-flight count is what
 *    the queues held; recovery (vnet_net_recover) does the same;
 *  - a device reset that never completes: in_flight 0, the buffers the
 *    device kept are counted leaked, not reclaimed;
 *  - vnet_net_get_stats carries the same figures as vnet_net_get_vq_acct.
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
#include "vnet/features.h"
#include "vnet/net.h"
#include "vnet/net_ctrl.h"
#include "vnet/net_recover.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/virtqueue.h"

#define AC_F(x) VNET_BIT(VIRTIO_F_##x)
#define AC_N(x) VNET_BIT(VIRTIO_NET_F_##x)
#define AC_OFFER                                                                                        \
	(AC_F(VERSION_1) | AC_F(EVENT_IDX) | AC_F(RING_RESET) | AC_N(MAC) | AC_N(STATUS) | AC_N(MTU) | \
	 AC_N(CTRL_VQ) | AC_N(CTRL_RX) | AC_N(CTRL_VLAN) | AC_N(MQ))
#define AC_PAIRS 2u
#define AC_MS 1000000ull

struct acct_fx {
	struct netdev_model m;
	struct vnet_net *net;
	uint16_t ctrl;                 /* controlq index */
	/* Completions the device wrote that the driver never took (a reset
	 * came first): completed by the device, reclaimed by the driver. */
	uint64_t unreaped[FT_MAX_QUEUES];
	size_t dma_at_start, priv_at_start;
	uint8_t seq;
};

static struct acct_fx *acct_up(bool packed, bool mrg)
{
	struct acct_fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dma_at_start = fake_hal_live_dma();
	f->priv_at_start = fake_hal_live_private();
	uint64_t offer = AC_OFFER | (packed ? AC_F(RING_PACKED) : 0) | (mrg ? AC_N(MRG_RXBUF) : 0);
	assert_int_equal(ndm_init(&f->m, offer, AC_PAIRS, 64), 0);
	struct vnet_net_opts o;
	memset(&o, 0, sizeof(o));
	o.queue_pairs = AC_PAIRS;
	o.queue_size = 32;
	o.pool_size = 320;
	o.buf_size = mrg ? 512 : 0; /* merged frames: 1514 bytes take 4 buffers */
	o.timeout_ns = 20 * AC_MS;
	assert_int_equal(vnet_net_create(ndm_ops(&f->m), ndm_ctx(&f->m), &o, &f->net), VNET_OK);
	assert_non_null(vnet_net_ctrlq(f->net));
	f->ctrl = vnet_vq_index(vnet_net_ctrlq(f->net));
	assert_int_equal(f->ctrl, 2 * AC_PAIRS);
	return f;
}

static void acct_down(struct acct_fx *f, bool memory_kept)
{
	vnet_net_destroy(f->net);
	if (!memory_kept) {
		assert_int_equal(fake_hal_live_dma(), f->dma_at_start);
		assert_int_equal(fake_hal_live_private(), f->priv_at_start);
	}
	if (f->m.violations)
		fail_msg("device model: %u violations, last: %s", f->m.violations, f->m.last_violation);
	ndm_fini(&f->m);
	free(f);
}

static struct vnet_net_vq_acct acct_get(struct acct_fx *f, uint16_t index)
{
	struct vnet_net_vq_acct a;
	assert_int_equal(vnet_net_get_vq_acct(f->net, index, &a), VNET_OK);
	return a;
}

/*
 * The driver's accounting of every queue against the model's count.  Call
 * when the driver has taken every completion the device wrote (nothing
 * waiting in a used ring): then what the device shows is exact.
 */
static void acct_check(struct acct_fx *f, const char *where)
{
	for (uint16_t i = 0; i <= f->ctrl; i++) {
		struct vnet_net_vq_acct a = acct_get(f, i);
		struct ndm_vq_count c;
		ndm_vq_count(&f->m, i, &c);
		const char *bad = 0;
		if (!vnet_net_vq_acct_balanced(&a))
			bad = "posted != completed + reclaimed + leaked + in_flight";
		else if (a.posted != c.used + c.dropped + c.held)
			bad = "posted is not what the device was shown";
		else if (a.completed + f->unreaped[i] != c.used)
			bad = "completed is not what the device completed";
		else if (a.in_flight != c.held)
			bad = "in_flight is not what the device holds";
		else if (a.reclaimed + a.leaked != c.dropped + f->unreaped[i])
			bad = "reclaimed + leaked is not what the device held at its resets";
		if (bad)
			fail_msg("%s: vq %u: %s (driver: posted %llu completed %llu reclaimed %llu leaked %llu "
			         "in_flight %llu; device: used %llu dropped %llu held %u; unreaped %llu)",
			         where, (unsigned)i, bad, (unsigned long long)a.posted, (unsigned long long)a.completed,
			         (unsigned long long)a.reclaimed, (unsigned long long)a.leaked,
			         (unsigned long long)a.in_flight, (unsigned long long)c.used,
			         (unsigned long long)c.dropped, c.held, (unsigned long long)f->unreaped[i]);
	}
	/* vnet_net_get_stats carries the same figures for the pairs in use. */
	for (uint16_t q = 0; q < AC_PAIRS; q++) {
		struct vnet_net_queue_stats st;
		vnet_net_get_stats(f->net, q, &st);
		struct vnet_net_vq_acct rx = acct_get(f, (uint16_t)(2 * q)), tx = acct_get(f, (uint16_t)(2 * q + 1));
		assert_memory_equal(&st.rx_acct, &rx, sizeof(rx));
		assert_memory_equal(&st.tx_acct, &tx, sizeof(tx));
	}
}

static uint64_t acct_in_flight_data(struct acct_fx *f)
{
	uint64_t n = 0;
	for (uint16_t i = 0; i < 2 * AC_PAIRS; i++)
		n += acct_get(f, i).in_flight;
	return n;
}

/* Frames of len bytes into pair q's receive ring, received and freed;
 * returns the frames received. */
static unsigned acct_rx(struct acct_fx *f, uint16_t q, unsigned frames, uint32_t len, bool take)
{
	uint8_t frame[1514];
	assert_true(len <= sizeof(frame));
	memset(frame, 0x5a, len);
	memcpy(frame, f->m.perm_mac, 6);
	for (unsigned i = 0; i < frames; i++) {
		frame[len - 1] = f->seq++;
		assert_true(ndm_rx_inject(&f->m, q, frame, len, 0) >= 1);
	}
	if (!take)
		return 0;
	unsigned got = 0, k;
	struct vnet_pkt *p[8];
	while ((k = vnet_net_rx_burst(f->net, q, p, 8)) != 0) {
		for (unsigned i = 0; i < k; i++)
			vnet_net_pkt_free(f->net, p[i]);
		got += k;
	}
	return got;
}

/* n frames sent on pair q; with complete, the device takes and completes
 * them and the driver reclaims the completions. */
static void acct_tx(struct acct_fx *f, uint16_t q, unsigned n, bool complete)
{
	struct vnet_pkt *p[16];
	assert_true(n <= 16);
	for (unsigned i = 0; i < n; i++) {
		p[i] = vnet_net_pkt_alloc(f->net);
		assert_non_null(p[i]);
		memset(p[i]->data, f->seq++, 60);
		p[i]->len = 60;
	}
	assert_int_equal(vnet_net_tx_burst(f->net, q, p, n), n);
	if (!complete)
		return;
	f->m.tx_hold = false;
	ndm_poll(&f->m);
	vnet_net_tx_reclaim(f->net, q);
}

/* Traffic on both pairs, sizes and counts varying with the round. */
static void acct_traffic(struct acct_fx *f, unsigned rounds, bool mrg)
{
	for (unsigned r = 0; r < rounds; r++) {
		for (uint16_t q = 0; q < AC_PAIRS; q++) {
			/* a 1514-byte frame takes 4 buffers with mrg: at most 3
			 * of them, so a ring resized to 16 holds them */
			bool big = mrg && (r & 1u);
			unsigned n = big ? 1u + (r + q) % 3u : 1u + (r * 7u + q) % 6u;
			uint32_t len = big ? 1514u : 60u + r % 200u;
			assert_int_equal(acct_rx(f, q, n, len, true), n);
			acct_tx(f, q, 1u + (r + q) % 9u, true);
		}
		acct_check(f, "traffic");
	}
}

/* Queue reset of index; returns the reclaimed delta, checked against
 * what the queue held (driver and device). */
static uint64_t acct_qreset(struct acct_fx *f, uint16_t index, uint16_t size)
{
	struct vnet_net_vq_acct before = acct_get(f, index);
	assert_int_equal(vnet_net_queue_reset(f->net, index, size), VNET_OK);
	struct vnet_net_vq_acct after = acct_get(f, index);
	assert_int_equal(after.reclaimed - before.reclaimed, before.in_flight);
	assert_int_equal(after.completed, before.completed);
	assert_int_equal(after.leaked, 0);
	/* whatever is in flight now was posted after the reset (a refill) */
	assert_int_equal(after.posted - before.posted, after.in_flight);
	return after.reclaimed - before.reclaimed;
}

static void acct_queue_resets(bool packed, bool mrg)
{
	struct acct_fx *f = acct_up(packed, mrg);
	acct_check(f, "bring-up");
	acct_traffic(f, 12, mrg);

	/* A used length past the buffer: the driver takes the buffer back
	 * (dropped as a runt), a completion all the same. */
	uint8_t frame[60];
	memset(frame, 0x11, sizeof(frame));
	struct ndm_rx lie;
	memset(&lie, 0, sizeof(lie));
	lie.set_used_len = true;
	lie.used_len = 100000;
	assert_int_equal(ndm_rx_inject(&f->m, 1, frame, sizeof(frame), &lie), 1);
	struct vnet_pkt *p[4];
	assert_int_equal(vnet_net_rx_burst(f->net, 1, p, 4), 0);
	struct vnet_vq_stats vs;
	vnet_vq_get_stats(vnet_net_rxq(f->net, 1), &vs);
	assert_int_equal(vs.bad_len, 1);
	acct_check(f, "used length past the buffer");

	/* rx0 with three completions the driver has not taken: they come back
	 * without a completion, with the posted buffers. */
	unsigned bufs_before = ndm_rx_avail(&f->m, 0);
	acct_rx(f, 0, 3, 60, false);
	uint64_t rec = acct_qreset(f, 0, 0);
	assert_int_equal(rec, bufs_before);
	f->unreaped[0] += 3;
	acct_check(f, "rx0 reset with completions not taken");
	acct_traffic(f, 2, mrg);

	/* tx1 holding five frames the device did not complete. */
	f->m.tx_hold = true;
	acct_tx(f, 1, 5, false);
	assert_int_equal(acct_get(f, 3).in_flight, 5);
	acct_check(f, "tx1 holding 5");
	assert_int_equal(acct_qreset(f, 3, 0), 5);
	acct_check(f, "tx1 reset");
	acct_traffic(f, 2, mrg);

	/* Resize: a new ring, the counts carry over (from a full ring of 32 to
	 * 16 and from a transmit ring with frames to 64). */
	struct vnet_net_vq_acct r0 = acct_get(f, 0);
	acct_qreset(f, 0, 16);
	assert_int_equal(vnet_vq_size(vnet_net_rxq(f->net, 0)), 16);
	assert_true(acct_get(f, 0).posted > r0.posted);
	f->m.tx_hold = true;
	acct_tx(f, 0, 4, false);
	assert_int_equal(acct_qreset(f, 1, 64), 4);
	assert_int_equal(vnet_vq_size(vnet_net_txq(f->net, 0)), 64);
	acct_check(f, "resized");
	acct_traffic(f, 3, mrg);

	/* The controlq with a command the device never answers. */
	f->m.ctrl_mode = NDM_CTRL_SILENT;
	assert_int_equal(vnet_net_vlan_add(f->net, 77), VNET_ETIMEDOUT);
	f->m.ctrl_mode = NDM_CTRL_OK;
	assert_int_equal(acct_get(f, f->ctrl).in_flight, 1);
	acct_check(f, "controlq command unanswered");
	assert_int_equal(acct_qreset(f, f->ctrl, 0), 1);
	assert_int_equal(vnet_net_vlan_add(f->net, 78), VNET_OK);
	acct_check(f, "controlq reset");

	/* A queue reset that does not complete: rx1 stays broken with its
	 * buffers in flight; a device reset takes them back. */
	f->m.ft.queue_reset_never_completes = true;
	struct vnet_net_vq_acct b1 = acct_get(f, 2);
	assert_int_equal(vnet_net_queue_reset(f->net, 2, 0), VNET_ETIMEDOUT);
	f->m.ft.queue_reset_never_completes = false;
	f->m.ft.q[2].resetting = false;
	struct vnet_net_vq_acct a1 = acct_get(f, 2);
	assert_memory_equal(&a1, &b1, sizeof(a1));
	assert_true(a1.in_flight > 0);
	acct_check(f, "rx1 queue reset timed out");
	uint64_t held = acct_in_flight_data(f);
	uint32_t inflight = 0;
	assert_int_equal(vnet_net_halt(f->net, &inflight), VNET_OK);
	assert_int_equal(inflight, held);
	assert_int_equal(acct_in_flight_data(f), 0);
	assert_int_equal(acct_get(f, 2).reclaimed, a1.reclaimed + a1.in_flight);
	acct_check(f, "halt after the failed queue reset");
	assert_int_equal(vnet_net_restart(f->net), VNET_OK);
	acct_check(f, "restart");
	acct_traffic(f, 3, mrg);
	acct_down(f, false);
}

static void test_acct_queue_resets_split(void **state)
{
	(void)state;
	acct_queue_resets(false, false);
}

static void test_acct_queue_resets_packed_mrg(void **state)
{
	(void)state;
	acct_queue_resets(true, true);
}

static void acct_device_resets(bool packed, bool mrg)
{
	struct acct_fx *f = acct_up(packed, mrg);
	f->m.reset_forgets = true;
	assert_int_equal(vnet_net_set_promisc(f->net, false), VNET_OK);
	assert_int_equal(vnet_net_vlan_add(f->net, 100), VNET_OK);
	acct_traffic(f, 4, mrg);

	/* A device reset with buffers in flight on every queue: frames held
	 * on both transmit queues, completions not taken on rx1. */
	f->m.tx_hold = true;
	acct_tx(f, 0, 3, false);
	acct_tx(f, 1, 6, false);
	acct_rx(f, 1, 2, 60, false);
	struct vnet_net_vq_acct before[2 * AC_PAIRS + 1];
	uint64_t held = 0;
	for (uint16_t i = 0; i <= f->ctrl; i++) {
		before[i] = acct_get(f, i);
		held += i < f->ctrl ? before[i].in_flight : 0;
	}
	assert_int_equal(before[1].in_flight, 3);
	assert_int_equal(before[3].in_flight, 6);
	uint32_t inflight = 0;
	assert_int_equal(vnet_net_halt(f->net, &inflight), VNET_OK);
	assert_int_equal(inflight, held);
	f->unreaped[2] += 2;
	for (uint16_t i = 0; i <= f->ctrl; i++) {
		struct vnet_net_vq_acct a = acct_get(f, i);
		assert_int_equal(a.in_flight, 0);
		assert_int_equal(a.reclaimed - before[i].reclaimed, before[i].in_flight);
		assert_int_equal(a.posted, before[i].posted);
		assert_int_equal(a.completed, before[i].completed);
		assert_int_equal(a.leaked, 0);
	}
	acct_check(f, "halted");
	/* Restart replays the control state through the controlq. */
	uint64_t cmds = f->m.ctrl_total;
	assert_int_equal(vnet_net_restart(f->net), VNET_OK);
	assert_true(f->m.ctrl_total > cmds);
	assert_true(acct_get(f, f->ctrl).completed > before[f->ctrl].completed);
	acct_check(f, "restarted with replay");
	f->m.tx_hold = false;
	acct_traffic(f, 3, mrg);

	/* The same through recovery, ten times, under traffic. */
	for (unsigned r = 0; r < 10; r++) {
		f->m.tx_hold = true;
		acct_tx(f, (uint16_t)(r & 1u), 2, false);
		uint64_t h = acct_in_flight_data(f);
		struct vnet_net_recover_stats s0, s1;
		vnet_net_recover_get_stats(f->net, &s0);
		assert_int_equal(vnet_net_recover(f->net, VNET_RECOVER_MANUAL, VNET_NET_VQ_ALL, r * AC_MS), VNET_OK);
		vnet_net_recover_get_stats(f->net, &s1);
		assert_int_equal(s1.device_resets, s0.device_resets + 1);
		assert_int_equal(s1.reclaimed - s0.reclaimed, h);
		acct_check(f, "recovered");
		acct_traffic(f, 1, mrg);
	}
	acct_down(f, false);
}

static void test_acct_device_resets_split(void **state)
{
	(void)state;
	acct_device_resets(false, false);
}

static void test_acct_device_resets_packed_mrg(void **state)
{
	(void)state;
	acct_device_resets(true, true);
}

/* A reset that never completes: nothing is taken back; what the device
 * kept is leaked, not reclaimed, and nothing is in flight any more. */
static void acct_failed_reset(bool packed, bool mrg)
{
	struct acct_fx *f = acct_up(packed, mrg);
	acct_traffic(f, 4, mrg);
	f->m.tx_hold = true;
	acct_tx(f, 1, 7, false);
	acct_rx(f, 0, 2, 60, false); /* completed by the device, not taken */
	struct vnet_net_vq_acct before[2 * AC_PAIRS + 1];
	for (uint16_t i = 0; i <= f->ctrl; i++)
		before[i] = acct_get(f, i);
	f->m.ft.reset_never_completes = true;
	uint32_t inflight = 99;
	assert_int_equal(vnet_net_halt(f->net, &inflight), VNET_ETIMEDOUT);
	assert_int_equal(inflight, 0);
	assert_true(vnet_net_is_dead(f->net));
	f->unreaped[0] += 2;
	uint64_t leaked = 0;
	for (uint16_t i = 0; i <= f->ctrl; i++) {
		struct vnet_net_vq_acct a = acct_get(f, i);
		assert_int_equal(a.in_flight, 0);
		assert_int_equal(a.leaked, before[i].in_flight);
		assert_int_equal(a.reclaimed, before[i].reclaimed);
		assert_int_equal(a.posted, before[i].posted);
		leaked += a.leaked;
	}
	assert_int_equal(acct_get(f, 3).leaked, 7);
	struct vnet_net_info info;
	vnet_net_get_info(f->net, &info);
	assert_true(info.dead);
	assert_int_equal(info.leaked_bufs, leaked); /* one pool buffer per chain here */
	acct_check(f, "reset never completed");
	/* Nothing changes afterwards: no traffic, no restart. */
	struct vnet_pkt *p = vnet_net_pkt_alloc(f->net);
	assert_non_null(p);
	p->len = 60;
	assert_int_equal(vnet_net_tx_burst(f->net, 0, &p, 1), 0);
	vnet_net_pkt_free(f->net, p);
	assert_int_equal(vnet_net_restart(f->net), VNET_EBROKEN);
	acct_check(f, "dead, after more calls");
	acct_down(f, true); /* device-visible memory is kept for good */
}

static void test_acct_failed_reset_split(void **state)
{
	(void)state;
	acct_failed_reset(false, false);
}

static void test_acct_failed_reset_packed_mrg(void **state)
{
	(void)state;
	acct_failed_reset(true, true);
}

static void test_acct_bad_index(void **state)
{
	(void)state;
	struct acct_fx *f = acct_up(false, false);
	struct vnet_net_vq_acct a;
	memset(&a, 0xff, sizeof(a));
	assert_int_equal(vnet_net_get_vq_acct(f->net, (uint16_t)(f->ctrl + 1), &a), VNET_EINVAL);
	struct vnet_net_vq_acct zero;
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&a, &zero, sizeof(a));
	assert_int_equal(vnet_net_get_vq_acct(NULL, 0, &a), VNET_EINVAL);
	assert_int_equal(vnet_net_get_vq_acct(f->net, 0, NULL), VNET_EINVAL);
	acct_down(f, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acct_queue_resets_split),
		cmocka_unit_test(test_acct_queue_resets_packed_mrg),
		cmocka_unit_test(test_acct_device_resets_split),
		cmocka_unit_test(test_acct_device_resets_packed_mrg),
		cmocka_unit_test(test_acct_failed_reset_split),
		cmocka_unit_test(test_acct_failed_reset_packed_mrg),
		cmocka_unit_test(test_acct_bad_index),
	};
	return cmocka_run_group_tests(tests, 0, 0);
}
