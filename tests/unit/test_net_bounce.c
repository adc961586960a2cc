/*
 * virtio-net bounce buffers (vnet_net_opts.bounce, src/net/net_bounce.c)
 * against the virtio-net device model, split and packed, with MRG_RXBUF.
 *
 * What a user relies on: with the option, the device only ever sees
 * bounce copies.  Receive: what the driver delivers is what it checked; a
 * device that rewrites a receive buffer after completing it (the header's
 * num_buffers, the frame bytes) cannot change a delivered frame.  Without
 * the option the same rewrite does change it (the test can fail).
 * Transmit: the device reads the copy made at post time, not the pool
 * buffer.  A lie seen in the copy is dropped and counted as before; the
 * counters add up; destroy gives back every DMA and private allocation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_hal.h"
#include "netdev_model.h"
#include "test_net_common.h"
#include "vnet/features.h"
#include "vnet/net.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/spec/virtio_net.h"
#include "vnet/virtqueue.h"
#include "vnet/vnet_hal.h"

#define V1 VNET_BIT(VIRTIO_F_VERSION_1)
#define F(x) VNET_BIT(VIRTIO_F_##x)
#define N(x) VNET_BIT(VIRTIO_NET_F_##x)
#define OFFER (V1 | N(MAC) | N(STATUS) | N(MRG_RXBUF) | F(EVENT_IDX))
#define HDR 12u

static const enum vnet_vq_layout L_SPLIT = VNET_VQ_SPLIT, L_PACKED = VNET_VQ_PACKED;

struct fx {
	struct netdev_model m;
	struct vnet_net *net;
	size_t dma0, priv0;
};

static void fx_up(struct fx *f, void **state, uint64_t offer, bool bounce)
{
	memset(f, 0, sizeof(*f));
	f->dma0 = fake_hal_live_dma();
	f->priv0 = fake_hal_live_private();
	if (*(const enum vnet_vq_layout *)*state == VNET_VQ_PACKED)
		offer |= F(RING_PACKED);
	assert_int_equal(ndm_init(&f->m, offer, 1, 32), 0);
	struct vnet_net_opts o;
	memset(&o, 0, sizeof(o));
	o.pool_size = 128;
	o.bounce = bounce;
	assert_int_equal(vnet_net_create(ndm_ops(&f->m), ndm_ctx(&f->m), &o, &f->net), VNET_OK);
}

static void fx_free(struct fx *f)
{
	net_fx_teardown(&f->net, &f->m, f->dma0, f->priv0);
}

static void fill(uint8_t *b, uint32_t len, uint32_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		b[i] = (uint8_t)(seed * 13u + i * 5u);
}

/* Deliver one frame, then let the device rewrite its buffer: returns true
 * if the delivered packet still holds what was injected. */
static bool rx_then_rewrite(struct fx *f, uint32_t len)
{
	static uint8_t fr[1500];
	fill(fr, len, len);
	assert_int_equal(ndm_rx_inject(&f->m, 0, fr, len, NULL), 1);
	struct vnet_pkt *p;
	assert_int_equal(vnet_net_rx_burst(f->net, 0, &p, 1), 1);
	assert_int_equal(p->pkt_len, len);
	assert_memory_equal(p->data, fr, len);
	/* The device, after completing: num_buffers 9, the frame zeroed. */
	uint16_t nb = vnet_cpu_to_le16(9);
	assert_int_equal(ndm_rx_rewrite_last(&f->m, offsetof(struct virtio_net_hdr, num_buffers), &nb, 2), 0);
	static uint8_t zero[1500];
	assert_int_equal(ndm_rx_rewrite_last(&f->m, HDR, zero, len), 0);
	bool same = p->pkt_len == len && p->nseg == 1 && memcmp(p->data, fr, len) == 0;
	vnet_net_pkt_free(f->net, p);
	return same;
}

static void test_rx_rewrite_after_complete(void **state)
{
	struct fx f;
	fx_up(&f, state, OFFER, true);
	for (uint32_t len = 60; len <= 1500; len += 360)
		assert_true(rx_then_rewrite(&f, len));
	struct vnet_net_queue_stats st;
	vnet_net_get_stats(f.net, 0, &st);
	assert_int_equal(st.rx_packets, 5);
	assert_int_equal(st.rx_drops, 0);
	assert_int_equal(st.rx_errors, 0);
	fx_free(&f);
	/* Without bounce buffers the device reaches the delivered frame. */
	fx_up(&f, state, OFFER, false);
	assert_false(rx_then_rewrite(&f, 200));
	fx_free(&f);
}

/* A lie in the header is judged on the copy: dropped and counted, the
 * queue goes on; completions = delivered + dropped. */
static void test_rx_lie_checked_on_copy(void **state)
{
	struct fx f;
	fx_up(&f, state, OFFER, true);
	static uint8_t fr[300];
	fill(fr, sizeof(fr), 3);
	struct ndm_rx lie = {.set_num_buffers = true, .num_buffers = 0};
	assert_int_equal(ndm_rx_inject(&f.m, 0, fr, sizeof(fr), &lie), 1);
	assert_int_equal(ndm_rx_inject(&f.m, 0, fr, sizeof(fr), NULL), 1);
	struct vnet_pkt *p[2];
	assert_int_equal(vnet_net_rx_burst(f.net, 0, p, 2), 1);
	assert_memory_equal(p[0]->data, fr, sizeof(fr));
	vnet_net_pkt_free(f.net, p[0]);
	struct vnet_net_queue_stats st;
	vnet_net_get_stats(f.net, 0, &st);
	assert_int_equal(st.rx_packets + st.rx_drops, 2);
	assert_int_equal(st.rx_drops, 1);
	fx_free(&f);
}

/* Transmit: the device reads the copy made at post time.  The pool buffer
 * is changed after the post (as memory the device cannot see would be);
 * the device still gets the frame as posted.  Without bounce it would not. */
static bool tx_then_change(struct fx *f, uint32_t len)
{
	struct vnet_pkt *p = vnet_net_pkt_alloc(f->net);
	assert_non_null(p);
	fill(p->data, len, 7);
	p->len = len;
	uint8_t *data = p->data;
	assert_int_equal(vnet_net_tx_burst(f->net, 0, &p, 1), 1);
	memset(data, 0xee, len);
	unsigned before = f->m.ntx;
	assert_int_equal(ndm_poll(&f->m), 1);
	assert_int_equal(f->m.ntx, before + 1);
	static uint8_t want[1500];
	fill(want, len, 7);
	const struct ndm_tx_frame *t = &f->m.tx[before];
	bool same = t->len == len && memcmp(t->data, want, len) == 0;
	assert_int_equal(vnet_net_tx_reclaim(f->net, 0), 1);
	return same;
}

static void test_tx_device_sees_the_copy(void **state)
{
	struct fx f;
	fx_up(&f, state, OFFER, true);
	assert_true(tx_then_change(&f, 60));
	assert_true(tx_then_change(&f, 1514 - 14));
	struct vnet_net_queue_stats st;
	vnet_net_get_stats(f.net, 0, &st);
	assert_int_equal(st.tx_packets, 2);
	assert_int_equal(st.tx_drops + st.tx_errors, 0);
	fx_free(&f);
	fx_up(&f, state, OFFER, false);
	assert_false(tx_then_change(&f, 60));
	fx_free(&f);
}

/* Big-packet receive chains (GUEST offloads without MRG_RXBUF) are not
 * bounced: refused at create with a clear error, nothing leaked. */
static void test_big_packet_mode_refused(void **state)
{
	size_t dma0 = fake_hal_live_dma(), priv0 = fake_hal_live_private();
	struct netdev_model m;
	uint64_t offer = V1 | N(MAC) | N(GUEST_CSUM) | N(GUEST_TSO4) | N(CSUM);
	if (*(const enum vnet_vq_layout *)*state == VNET_VQ_PACKED)
		offer |= F(RING_PACKED);
	assert_int_equal(ndm_init(&m, offer, 1, 32), 0);
	struct vnet_net_opts o;
	memset(&o, 0, sizeof(o));
	o.pool_size = 256;
	o.bounce = true;
	o.rx_csum = o.rx_tso4 = true;
	struct vnet_net *net = NULL;
	unsigned long errs = fake_hal_log_count_level(VNET_LOG_ERR);
	assert_int_equal(vnet_net_create(ndm_ops(&m), ndm_ctx(&m), &o, &net), VNET_ENOTSUP);
	assert_null(net);
	/* the reason ("bounce buffers with big-packet receive chains are not
	 * supported"), then the bring-up failure */
	assert_true(fake_hal_log_count_level(VNET_LOG_ERR) >= errs + 2);
	ndm_fini(&m);
	assert_int_equal(fake_hal_live_dma(), dma0);
	assert_int_equal(fake_hal_live_private(), priv0);
}

int main(void)
{
#define BOTH(fn) cmocka_unit_test_prestate(fn, (void *)&L_SPLIT), cmocka_unit_test_prestate(fn, (void *)&L_PACKED)
	const struct CMUnitTest tests[] = {
		BOTH(test_rx_rewrite_after_complete),
		BOTH(test_rx_lie_checked_on_copy),
		BOTH(test_tx_device_sees_the_copy),
		BOTH(test_big_packet_mode_refused),
	};
#undef BOTH
	return cmocka_run_group_tests_name("net_bounce", tests, NULL, NULL);
}
