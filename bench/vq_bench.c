/*
 * vq-bench: ns per enqueue+complete for each virtqueue layout, one thread,
 * the device model polled inline: add a burst, kick_prepare (doorbell if
 * asked), dm_poll, get_used the burst.  Queue size 256, bursts of 1 and 32,
 * one readable 64-byte segment per chain, EVENT_IDX negotiated.
 *
 * Two figures per run: "round" is the whole loop (driver + device model,
 * whose fake-HAL address translation takes a lock per segment, so it is
 * an upper bound); "driver" subtracts the time measured around dm_poll,
 * i.e. add + kick_prepare + get_used only (it still carries one clock read
 * pair per burst).  A micro-benchmark, not a test: no thresholds.
 *
 * Usage: vq-bench [chains per run, default 2000000]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devmodel.h"
#include "fake_hal.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/virtqueue.h"
#include "vnet/vnet_hal.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int run(enum vnet_vq_layout l, unsigned burst, uint64_t chains)
{
	const uint16_t size = 256;
	uint64_t f = VNET_BIT(VIRTIO_F_VERSION_1) | VNET_BIT(VIRTIO_F_EVENT_IDX);
	if (l == VNET_VQ_PACKED)
		f |= VNET_BIT(VIRTIO_F_RING_PACKED);
	struct vnet_vq_config c = {.index = 0, .size = size, .layout = l, .features = f, .name = "bench"};
	struct vnet_vq *vq;
	if (vnet_vq_create(&c, &vq) != VNET_OK)
		return -1;
	struct dm_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.layout = l;
	dc.size = size;
	dc.features = f;
	vnet_vq_ring_addrs(vq, &dc.desc_addr, &dc.driver_addr, &dc.device_addr);
	struct dm *dm = dm_create(&dc);
	struct vnet_dma buf;
	if (!dm || vnet_hal_dma_alloc(4096, 64, &buf) != VNET_OK)
		return -1;
	struct vnet_sg sg = {buf.iova, 64};
	struct vnet_vq_used u[64];
	uint64_t done = 0, next = 0, dm_ns = 0;
	uint64_t t0 = now_ns();
	while (done < chains) {
		for (unsigned i = 0; i < burst; i++)
			if (vnet_vq_add(vq, &sg, 1, 0, (void *)(uintptr_t)(++next)) != VNET_OK)
				return -2;
		if (vnet_vq_kick_prepare(vq))
			dm_doorbell(dm, vnet_vq_index(vq));
		uint64_t a = now_ns();
		dm_poll(dm, burst);
		dm_ns += now_ns() - a;
		unsigned got = 0;
		while (got < burst) {
			unsigned n = vnet_vq_get_used(vq, u, burst - got);
			if (!n)
				return -3;
			got += n;
		}
		done += got;
	}
	uint64_t total = now_ns() - t0;
	double round = (double)total / (double)done;
	double drv = (double)(total - dm_ns) / (double)done;
	printf("%-6s burst %2u: round %7.1f ns/chain (%6.2f Mops)   driver %6.1f ns/chain (%6.2f Mops)\n",
	       l == VNET_VQ_SPLIT ? "split" : "packed", burst, round, 1e3 / round, drv, 1e3 / drv);
	int bad = dm_violations(dm) != 0 || vnet_vq_is_broken(vq);
	dm_destroy(dm);
	vnet_hal_dma_free(&buf);
	vnet_vq_destroy(vq);
	return bad ? -4 : 0;
}

int main(int argc, char **argv)
{
	uint64_t chains = argc > 1 ? strtoull(argv[1], NULL, 0) : 2000000ull;
	printf("vq-bench: queue 256, 1 x 64-byte readable segment per chain, %llu chains per run\n",
	       (unsigned long long)chains);
	static const unsigned bursts[] = {1, 32};
	for (int l = 0; l < 2; l++)
		for (int b = 0; b < 2; b++) {
			int rc = run(l ? VNET_VQ_PACKED : VNET_VQ_SPLIT, bursts[b], chains);
			if (rc) {
				fprintf(stderr, "vq-bench: run failed (%d)\n", rc);
				return 1;
			}
		}
	return 0;
}
