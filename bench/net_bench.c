/*
 * net-bench: what the virtio-net layer (src/net) costs per frame, on top of
 * the virtqueue engine, against the in-process device model (tests/devmodel,
 * polled inline on the same core).
 *
 * One round: allocate 32 pool buffers, tx_burst them (header fill, ring
 * add, publish), let the model consume them, inject 32 64-byte frames on
 * the receive queue, rx_burst them (header checks, refill) and free them.
 * Reported: ns per frame for the tx side and the rx side (the model's own
 * work excluded), best of 5 repetitions, both ring layouts.  Like vq-bench
 * it links the freestanding, non-sanitized core; its instruction count
 * under `valgrind --tool=callgrind` is repeatable, its wall time is not
 * (shared machines): docs/performance.md uses both.
 *
 *   build/bin/net-bench [rounds] [tx]  (default 200000 rounds of 32 frames)
 *
 * With "tx" the receive half is left out: the pool buffers then only ever
 * carry transmitted frames, as in vnet-bench --mode tx (a buffer that came
 * back through rx_burst holds the device's header, one that did not still
 * holds the zero header of its last send).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_hal.h"
#include "netdev_model.h"
#include "vnet/net.h"
#include "vnet/spec/virtio_config.h"

#define BURST 32u
#define REPS 5u

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int run(bool packed, unsigned rounds, bool tx_only)
{
	uint64_t offer = VNET_BIT(VIRTIO_F_VERSION_1) | VNET_BIT(VIRTIO_NET_F_MAC) | VNET_BIT(VIRTIO_NET_F_STATUS) |
	                 VNET_BIT(VIRTIO_F_EVENT_IDX) | VNET_BIT(VIRTIO_F_IN_ORDER);
	if (packed)
		offer |= VNET_BIT(VIRTIO_F_RING_PACKED);
	static struct netdev_model m;
	if (ndm_init(&m, offer, 1, 256) != 0) {
		fprintf(stderr, "net-bench: device model init failed\n");
		return 1;
	}
	struct vnet_net_opts o;
	memset(&o, 0, sizeof(o));
	o.pool_size = 1024;
	struct vnet_net *net = NULL;
	int rc = vnet_net_create(ndm_ops(&m), ndm_ctx(&m), &o, &net);
	if (rc != VNET_OK) {
		fprintf(stderr, "net-bench: vnet_net_create: %s\n", vnet_strerror(rc));
		ndm_fini(&m);
		return 1;
	}
	static const uint8_t frame[64];
	struct vnet_pkt *p[BURST];
	double best_tx = 1e30, best_rx = 1e30;
	unsigned per_rep = rounds / REPS ? rounds / REPS : 1;
	for (unsigned rep = 0; rep < REPS; rep++) {
		double tx = 0, rx = 0;
		for (unsigned r = 0; r < per_rep; r++) {
			double a = now_ns();
			for (unsigned i = 0; i < BURST; i++) {
				p[i] = vnet_net_pkt_alloc(net);
				if (!p[i]) {
					fprintf(stderr, "net-bench: pool empty\n");
					return 1;
				}
				p[i]->len = 60;
			}
			if (vnet_net_tx_burst(net, 0, p, BURST) != BURST) {
				fprintf(stderr, "net-bench: tx_burst took fewer than %u\n", BURST);
				return 1;
			}
			double b = now_ns();
			ndm_poll(&m);
			m.ntx = 0;
			if (tx_only) {
				tx += b - a;
				continue;
			}
			for (unsigned i = 0; i < BURST; i++)
				ndm_rx_inject(&m, 0, frame, 60, NULL);
			double c = now_ns();
			unsigned k = vnet_net_rx_burst(net, 0, p, BURST);
			if (k != BURST) {
				fprintf(stderr, "net-bench: rx_burst returned %u of %u\n", k, BURST);
				return 1;
			}
			for (unsigned i = 0; i < k; i++)
				vnet_net_pkt_free(net, p[i]);
			double d = now_ns();
			tx += b - a;
			rx += d - c;
		}
		tx /= (double)per_rep * BURST;
		rx /= (double)per_rep * BURST;
		if (tx < best_tx)
			best_tx = tx;
		if (rx < best_rx)
			best_rx = rx;
	}
	if (tx_only)
		printf("%s: tx %6.1f ns/frame  (tx only, best of %u x %u rounds of %u)\n", packed ? "packed" : "split ",
		       best_tx, REPS, per_rep, BURST);
	else
		printf("%s: tx %6.1f ns/frame  rx %6.1f ns/frame  (best of %u x %u rounds of %u)\n",
		       packed ? "packed" : "split ", best_tx, best_rx, REPS, per_rep, BURST);
	vnet_net_destroy(net);
	ndm_fini(&m);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 200000u;
	bool tx_only = argc > 2 && !strcmp(argv[2], "tx");
	if (run(false, rounds, tx_only) != 0 || run(true, rounds, tx_only) != 0)
		return 1;
	return 0;
}
