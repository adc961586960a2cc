/*
 * Performance monitor, data-path side (src/net/net_stats.c): log2 latency
 * buckets, quantiles at bucket resolution, and the sampled TX completion
 * and RX interrupt-to-delivery histograms against the device model with
 * the fake HAL clock (vnet_hal_relax() advances it by a set step).
 *
 * What a monitor relies on:
 *  - a value lands in bucket floor(log2(v)), 0 and 1 in bucket 0, past
 *    the range in the last; a quantile is the upper edge of the bucket
 *    holding that rank, 0 with no samples;
 *  - sampling is off by default (no sample taken), on it counts one
 *    sample per sampled burst / interrupt with the time the clock moved,
 *    one burst in 2^shift; off again keeps the histogram.
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
#include "vnet/vnet_error.h"
#include "vnet/vnet_hal.h"
#include "vnet/spec/virtio_config.h"

#define BASE                                                                                             \
	(VNET_BIT(VIRTIO_F_VERSION_1) | VNET_BIT(VIRTIO_NET_F_MAC) | VNET_BIT(VIRTIO_NET_F_STATUS) |        \
	 VNET_BIT(VIRTIO_F_EVENT_IDX))

static void test_bucket(void **state)
{
	(void)state;
	assert_int_equal(vnet_net_lat_bucket(0), 0);
	assert_int_equal(vnet_net_lat_bucket(1), 0);
	assert_int_equal(vnet_net_lat_bucket(2), 1);
	assert_int_equal(vnet_net_lat_bucket(3), 1);
	assert_int_equal(vnet_net_lat_bucket(1023), 9);
	assert_int_equal(vnet_net_lat_bucket(1024), 10);
	assert_int_equal(vnet_net_lat_bucket((1ull << 31) - 1u), 30);
	assert_int_equal(vnet_net_lat_bucket(1ull << 31), 31);
	assert_int_equal(vnet_net_lat_bucket(UINT64_MAX), 31);
}

static void test_quantile(void **state)
{
	(void)state;
	uint64_t h[VNET_NET_LAT_BUCKETS] = {0};
	uint64_t n = 7;
	assert_int_equal(vnet_net_lat_quantile(h, 5000, &n), 0);
	assert_int_equal(n, 0);
	h[3] = 90;  /* 8..15 ns */
	h[10] = 9;  /* 1024..2047 ns */
	h[20] = 1;  /* ~1 ms */
	assert_int_equal(vnet_net_lat_quantile(h, 5000, &n), 16);
	assert_int_equal(n, 100);
	assert_int_equal(vnet_net_lat_quantile(h, 9000, NULL), 16);
	assert_int_equal(vnet_net_lat_quantile(h, 9100, NULL), 2048);
	assert_int_equal(vnet_net_lat_quantile(h, 9900, NULL), 2048);
	assert_int_equal(vnet_net_lat_quantile(h, 9990, NULL), 2u << 20);
	assert_int_equal(vnet_net_lat_quantile(h, 0, NULL), 16);
	memset(h, 0, sizeof(h));
	h[31] = 1;
	assert_int_equal(vnet_net_lat_quantile(h, 5000, NULL), 1ull << 32);
}

struct fx {
	struct netdev_model m;
	struct vnet_net *net;
};

static struct fx *fx_up(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(ndm_init(&f->m, BASE, 1, 64), 0);
	struct vnet_net_opts o;
	memset(&o, 0, sizeof(o));
	assert_int_equal(vnet_net_create(ndm_ops(&f->m), ndm_ctx(&f->m), &o, &f->net), VNET_OK);
	return f;
}

static void fx_down(struct fx *f)
{
	fake_hal_set_relax_step_ns(0);
	vnet_net_destroy(f->net);
	ndm_fini(&f->m);
	free(f);
}

static uint64_t sum(const uint64_t *h)
{
	uint64_t s = 0;
	for (unsigned b = 0; b < VNET_NET_LAT_BUCKETS; b++)
		s += h[b];
	return s;
}

/* Smallest bucket with a sample. */
static unsigned low(const uint64_t *h)
{
	for (unsigned b = 0; b < VNET_NET_LAT_BUCKETS; b++)
		if (h[b])
			return b;
	return VNET_NET_LAT_BUCKETS;
}

/* One frame sent, the clock moved by step ns before the reclaim. */
static void send_one(struct fx *f, uint64_t step)
{
	struct vnet_pkt *p = vnet_net_pkt_alloc(f->net);
	assert_non_null(p);
	memset(p->data, 0xab, 60);
	p->len = 60;
	assert_int_equal(vnet_net_tx_burst(f->net, 0, &p, 1), 1);
	assert_int_equal(ndm_poll(&f->m), 1);
	fake_hal_set_relax_step_ns(step);
	vnet_hal_relax();
	fake_hal_set_relax_step_ns(0);
	vnet_net_tx_reclaim(f->net, 0);
}

struct rx_sink {
	struct vnet_net *net;
	unsigned got;
};

static void on_rx(void *arg, struct vnet_pkt *pkt)
{
	struct rx_sink *k = arg;
	k->got++;
	vnet_net_pkt_free(k->net, pkt);
}

/* One interrupt, a frame, the clock moved by step ns before the poll. */
static void recv_one(struct fx *f, uint64_t step)
{
	uint8_t frame[60];
	memset(frame, 0xcd, sizeof(frame));
	assert_true(ndm_rx_inject(&f->m, 0, frame, sizeof(frame), NULL) >= 1);
	vnet_net_rx_irq(f->net, 0);
	fake_hal_set_relax_step_ns(step);
	vnet_hal_relax();
	fake_hal_set_relax_step_ns(0);
	struct rx_sink k = {f->net, 0};
	bool more;
	assert_int_equal(vnet_net_poll(f->net, 0, 64, 0, on_rx, &k, &more), 1);
	assert_int_equal(k.got, 1);
}

static void test_off_by_default(void **state)
{
	(void)state;
	struct fx *f = fx_up();
	send_one(f, 100000);
	recv_one(f, 100000);
	struct vnet_net_latency l;
	vnet_net_get_latency(f->net, 0, &l);
	assert_false(l.sampling);
	assert_int_equal(sum(l.tx), 0);
	assert_int_equal(sum(l.rx), 0);
	fx_down(f);
}

static void test_sampled(void **state)
{
	(void)state;
	struct fx *f = fx_up();
	assert_int_equal(vnet_net_set_latency_sampling(f->net, 17), VNET_EINVAL);
	assert_int_equal(vnet_net_set_latency_sampling(f->net, 0), VNET_OK);
	/* 1 ms (2^19.9): bucket 19 at least (real time only adds) */
	send_one(f, 1000000);
	recv_one(f, 1000000);
	struct vnet_net_latency l;
	vnet_net_get_latency(f->net, 0, &l);
	assert_true(l.sampling);
	assert_int_equal(l.shift, 0);
	assert_int_equal(sum(l.tx), 1);
	assert_int_equal(sum(l.rx), 1);
	assert_true(low(l.tx) >= 19);
	assert_true(low(l.rx) >= 19);
	assert_true(vnet_net_lat_quantile(l.tx, 5000, NULL) >= 1000000);
	/* one in 4: 8 bursts and 8 interrupts give 2 samples each */
	assert_int_equal(vnet_net_set_latency_sampling(f->net, 2), VNET_OK);
	for (unsigned i = 0; i < 8; i++) {
		send_one(f, 1000);
		recv_one(f, 1000);
	}
	vnet_net_get_latency(f->net, 0, &l);
	assert_int_equal(l.shift, 2);
	assert_int_equal(sum(l.tx), 3);
	assert_int_equal(sum(l.rx), 3);
	/* off: no more samples, the histogram stays */
	assert_int_equal(vnet_net_set_latency_sampling(f->net, -1), VNET_OK);
	send_one(f, 1000);
	recv_one(f, 1000);
	vnet_net_get_latency(f->net, 0, &l);
	assert_false(l.sampling);
	assert_int_equal(sum(l.tx), 3);
	assert_int_equal(sum(l.rx), 3);
	fx_down(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_quantile),
		cmocka_unit_test(test_off_by_default),
		cmocka_unit_test(test_sampled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
