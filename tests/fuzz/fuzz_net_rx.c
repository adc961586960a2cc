/*
 * libFuzzer target for the virtio-net receive path (src/net net_rx.c over
 * the engine), against the device model (tests/devmodel/netdev_model.c)
 * told by the input what to lie about.
 *
 * What it does: the first byte chooses the ring layout and the features
 * the device offers (MRG_RXBUF, IN_ORDER, EVENT_IDX, INDIRECT_DESC,
 * GUEST_CSUM accepted or not; bit 6: every receive offload asked, so GSO
 * frames are legal and, without MRG_RXBUF, receive posts are big-packet
 * chains; bit 7: every transmit offload asked and the transmit step sends
 * chains with offload metadata from the input), the second the buffer
 * size; the device comes up through vnet_net_create.  Then a program of steps: the device
 * writes a frame whose length, content and header bytes (flags, gso,
 * csum offsets, num_buffers), chunking over buffers, used length of the
 * first buffer, used length / used id / a header-looking prefix of a later
 * buffer come from the input; the driver receives bursts of any size,
 * frees or keeps what it got, transmits a little (so tx completions and
 * reclaim run too), polls with a budget, or stops and restarts.
 * Invariants checked after every step (abort = finding):
 *  - every delivered segment lies inside its own buffer, a chain's
 *    lengths add up to pkt_len and it has nseg segments;
 *  - nothing is delivered twice (a segment the application holds is never
 *    handed out again) and every delivered buffer is the application's;
 *  - the pool balances: free + held by the application + posted to the
 *    rings (big-packet chains count all their buffers) == pool size;
 *  - a transmitted frame never makes the device model see a bad header
 *    or descriptor (its violation count does not move in the tx step);
 *  - at teardown, after freeing everything, destroy returns VNET_OK and
 *    every DMA and private allocation is given back (fake HAL counters).
 * What it does not: threads, the control queue's answers (unit tests).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_hal.h"
#include "netdev_model.h"
#include "vnet/features.h"
#include "vnet/net.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/virtqueue.h"

#define CHECK(c)                                                                               \
	do {                                                                                   \
		if (!(c)) {                                                                    \
			fprintf(stderr, "fuzz_net_rx: invariant failed: %s (line %d)\n", #c, __LINE__); \
			abort();                                                               \
		}                                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_POOL 96u
#define FZ_QMAX 16u
#define FZ_HELD 128u

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint16_t u16(struct in *in);

/* High half first, as gen_seeds_rx.py writes it. */
static uint32_t u32hl(struct in *in)
{
	uint32_t hi = u16(in);
	uint32_t lo = u16(in);
	return hi << 16 | lo;
}

static uint16_t u16(struct in *in)
{
	/* Two statements: the order of two calls in one expression is
	 * unspecified (gcc read the bytes swapped, against gen_seeds_rx.py). */
	uint8_t lo = u8(in);
	uint8_t hi = u8(in);
	return (uint16_t)(lo | (hi << 8));
}

struct fz {
	struct netdev_model m;
	struct vnet_net *net;
	uint32_t buf_size;
	struct vnet_pkt *held[FZ_HELD]; /* chains the application holds */
	unsigned nheld;
	uint8_t *mark;                  /* [pool] segment currently held by the application */
	uint8_t *bufs[FZ_POOL];         /* buffer address seen for each pool index */
	uint32_t pool;
	uint32_t rx_chain;              /* buffers per receive post (big-packet mode: > 1) */
	bool tx_offload;                /* config bit 7 */
};

/* Pool index of a delivered segment, checked against the buffer address
 * the harness first saw for that index (a corrupted descriptor cannot
 * hide behind a valid-looking idx). */
static uint32_t fz_pool_index(struct fz *z, const struct vnet_pkt *p)
{
	uint32_t i = p->idx;
	CHECK(i < z->pool);
	if (!z->bufs[i])
		z->bufs[i] = p->buf;
	CHECK(z->bufs[i] == p->buf);
	return i;
}

static void fz_hold(struct fz *z, struct vnet_pkt *p)
{
	unsigned nseg = 0;
	uint32_t total = 0;
	for (struct vnet_pkt *s = p; s; s = s->next) {
		uint32_t i = fz_pool_index(z, s);
		CHECK(i < z->pool);
		CHECK(!z->mark[i]); /* never delivered twice */
		z->mark[i] = 1;
		/* Inside its own buffer. */
		CHECK(s->data >= s->buf);
		CHECK((size_t)(s->data - s->buf) + s->len <= z->buf_size);
		CHECK(s->len <= s->room);
		total += s->len;
		nseg++;
		CHECK(nseg <= FZ_POOL);
	}
	CHECK(nseg == p->nseg);
	CHECK(total == p->pkt_len);
	CHECK(p->pkt_len >= 14u); /* runts are never delivered */
	if (z->nheld < FZ_HELD) {
		z->held[z->nheld++] = p;
		return;
	}
	for (struct vnet_pkt *s = p; s; s = s->next)
		z->mark[fz_pool_index(z, s)] = 0;
	vnet_net_pkt_free(z->net, p);
}

static void fz_release(struct fz *z, unsigned k)
{
	if (k >= z->nheld)
		return;
	struct vnet_pkt *p = z->held[k];
	z->held[k] = z->held[--z->nheld];
	for (struct vnet_pkt *s = p; s; s = s->next)
		z->mark[fz_pool_index(z, s)] = 0;
	vnet_net_pkt_free(z->net, p);
}

static uint32_t fz_held_segments(const struct fz *z)
{
	uint32_t n = 0;
	for (unsigned i = 0; i < z->nheld; i++)
		n += z->held[i]->nseg;
	return n;
}

static void fz_check_pool(struct fz *z)
{
	/* Transmit chains are reclaimed within their step (fz_tx), so the
	 * transmit ring holds single-buffer frames only here. */
	uint32_t rings = vnet_vq_outstanding(vnet_net_rxq(z->net, 0)) * z->rx_chain +
	                 vnet_vq_outstanding(vnet_net_txq(z->net, 0));
	struct vnet_net_info info;
	vnet_net_get_info(z->net, &info);
	CHECK(!info.dead);
	CHECK(vnet_net_pool_free_count(z->net) + fz_held_segments(z) + rings == z->pool);
}

static void fz_poll_cb(void *arg, struct vnet_pkt *p)
{
	fz_hold(arg, p);
}

static void fz_inject(struct fz *z, struct in *in)
{
	static uint8_t frame[NDM_FRAME_MAX];
	uint8_t a = u8(in), b = u8(in);
	/* 9216: the model's old frame limit, so the seeds keep their meaning. */
	uint32_t len = (a & 0x80) ? (uint32_t)u16(in) % 9216u : u8(in);
	for (uint32_t i = 0; i < len && i < 64; i++)
		frame[i] = u8(in);
	struct ndm_rx o;
	memset(&o, 0, sizeof(o));
	if (a & 0x01) {
		o.flags = u8(in);
		o.csum_start = u16(in);
		o.csum_offset = u16(in);
	}
	if (a & 0x02) {
		o.gso_type = u8(in);
		o.gso_size = u16(in);
		o.hdr_len = u16(in);
	}
	if (a & 0x04) {
		o.set_num_buffers = true;
		o.num_buffers = (b & 0x80) ? u16(in) : (uint16_t)(b & 7u);
	}
	if (a & 0x08)
		o.chunk = 1u + u16(in) % 4096u;
	if (a & 0x10) {
		o.set_used_len = true;
		o.used_len = (b & 0x40) ? u32hl(in) : u16(in);
	}
	if (a & 0x20) {
		o.seg = (uint16_t)(1u + (b & 3u));
		uint8_t w = u8(in);
		if (w & 1u) {
			o.set_seg_len = true;
			o.seg_len = (w & 2u) ? u32hl(in) : u16(in);
		}
		if (w & 4u) {
			o.set_seg_id = true;
			o.seg_id = (w & 8u) ? NDM_ID_OF_HEAD : u16(in);
		}
		if (w & 16u) {
			o.seg_hdr = true;
			o.seg_nbufs = u16(in);
		}
	}
	(void)ndm_rx_inject(&z->m, 0, frame, len, &o);
}

static void fz_rx(struct fz *z, uint8_t op)
{
	struct vnet_pkt *p[64];
	unsigned n = 1u + (op >> 3) % 64u;
	unsigned got = vnet_net_rx_burst(z->net, 0, p, n);
	CHECK(got <= n);
	for (unsigned i = 0; i < got; i++) {
		CHECK(p[i]->queue == 0);
		fz_hold(z, p[i]);
	}
}

/* Config bit 7: a chain of 1..4 segments with offload metadata from the
 * input (valid or not); the driver sends it or drops it, the model checks
 * what arrives, and the step reclaims so the pool check stays exact. */
static void fz_tx_offload(struct fz *z, struct in *in)
{
	uint8_t t = u8(in);
	struct vnet_pkt *head = 0, *tail = 0;
	unsigned nseg = 1u + (t & 3u);
	for (unsigned i = 0; i < nseg; i++) {
		struct vnet_pkt *s = vnet_net_pkt_alloc(z->net);
		if (!s)
			break;
		uint32_t len = (uint32_t)u8(in) * 8u;
		if (len > s->room)
			len = s->room;
		if (t & 0x80)
			len = 0; /* a zero-length segment: must be dropped */
		memset(s->data, 0x3c, len);
		s->len = len ? len : (i == 0 ? 0u : 1u);
		if (tail)
			tail->next = s;
		else
			head = s;
		tail = s;
	}
	if (!head)
		return;
	if (t & 0x10) {
		head->flags |= VNET_PKT_F_CSUM_PARTIAL;
		head->csum_start = u16(in);
		head->csum_offset = u16(in);
	}
	if (t & 0x20) {
		head->flags |= VNET_PKT_F_GSO;
		head->gso_type = u8(in);
		head->gso_size = u16(in);
		head->hdr_len = u16(in);
	}
	if (t & 0x40)
		head->flags |= (uint16_t)(u8(in) & ~VNET_PKT_F_CSUM_VALID);
	unsigned v0 = z->m.violations;
	unsigned took = vnet_net_tx_burst(z->net, 0, &head, 1);
	if (took == 0)
		vnet_net_pkt_free(z->net, head);
	(void)ndm_poll(&z->m);
	CHECK(z->m.violations == v0);
	(void)vnet_net_tx_reclaim(z->net, 0);
	CHECK(vnet_vq_outstanding(vnet_net_txq(z->net, 0)) == 0);
}

static void fz_tx(struct fz *z, struct in *in)
{
	if (z->tx_offload) {
		fz_tx_offload(z, in);
		return;
	}
	struct vnet_pkt *p = vnet_net_pkt_alloc(z->net);
	if (!p)
		return;
	uint32_t len = 14u + u8(in);
	if (len > p->room)
		len = p->room;
	memset(p->data, 0x5a, len);
	p->len = len;
	unsigned took = vnet_net_tx_burst(z->net, 0, &p, 1);
	if (took == 0)
		vnet_net_pkt_free(z->net, p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {data, size};
	uint8_t c = u8(&in), s = u8(&in);
	struct fz *z = calloc(1, sizeof(*z));
	if (!z)
		return 0;
	size_t dma0 = fake_hal_live_dma(), priv0 = fake_hal_live_private();
	uint64_t offered = VNET_BIT(VIRTIO_F_VERSION_1) | VNET_BIT(VIRTIO_NET_F_MAC) | VNET_BIT(VIRTIO_NET_F_STATUS) |
	                   VNET_BIT(VIRTIO_NET_F_MTU) | VNET_BIT(VIRTIO_NET_F_GUEST_CSUM) |
	                   VNET_BIT(VIRTIO_NET_F_GUEST_TSO4);
	/* Offered always, accepted only when the config byte asks (bits 6, 7). */
	offered |= VNET_BIT(VIRTIO_NET_F_GUEST_TSO6) | VNET_BIT(VIRTIO_NET_F_GUEST_ECN) |
	           VNET_BIT(VIRTIO_NET_F_GUEST_UFO) | VNET_BIT(VIRTIO_NET_F_GUEST_USO4) |
	           VNET_BIT(VIRTIO_NET_F_GUEST_USO6) | VNET_BIT(VIRTIO_NET_F_CSUM) | VNET_BIT(VIRTIO_NET_F_HOST_TSO4) |
	           VNET_BIT(VIRTIO_NET_F_HOST_TSO6) | VNET_BIT(VIRTIO_NET_F_HOST_ECN) | VNET_BIT(VIRTIO_NET_F_HOST_UFO) |
	           VNET_BIT(VIRTIO_NET_F_HOST_USO);
	if (c & 0x01)
		offered |= VNET_BIT(VIRTIO_F_RING_PACKED);
	if (c & 0x02)
		offered |= VNET_BIT(VIRTIO_NET_F_MRG_RXBUF);
	if (c & 0x04)
		offered |= VNET_BIT(VIRTIO_F_IN_ORDER);
	if (c & 0x08)
		offered |= VNET_BIT(VIRTIO_F_EVENT_IDX);
	if (c & 0x10)
		offered |= VNET_BIT(VIRTIO_F_INDIRECT_DESC);
	if (ndm_init(&z->m, offered, 1, FZ_QMAX) != 0) {
		free(z);
		return 0;
	}
	struct vnet_net_opts o;
	memset(&o, 0, sizeof(o));
	o.pool_size = FZ_POOL;
	o.no_ctrl_vq = true;
	o.rx_csum = (c & 0x20) != 0;
	o.ring = VNET_NET_RING_AUTO;
	/* Small buffers make merged frames common; without MRG_RXBUF the
	 * driver grows them to fit the MTU. */
	static const uint32_t bufs[] = {192, 256, 1024, 2048};
	o.buf_size = bufs[s & 3u];
	o.rx_refill_batch = (uint16_t)((s >> 2) & 7u);
	if (c & 0x40)
		o.rx_tso4 = o.rx_tso6 = o.rx_ecn = o.rx_ufo = o.rx_uso4 = o.rx_uso6 = true;
	if (c & 0x80)
		o.tx_tso4 = o.tx_tso6 = o.tx_ecn = o.tx_ufo = o.tx_uso = true;
	z->tx_offload = (c & 0x80) != 0;
	z->pool = FZ_POOL;
	z->mark = calloc(FZ_POOL, 1);
	if (!z->mark || vnet_net_create(ndm_ops(&z->m), ndm_ctx(&z->m), &o, &z->net) != VNET_OK) {
		CHECK(z->net == NULL);
		free(z->mark);
		ndm_fini(&z->m);
		free(z);
		CHECK(fake_hal_live_dma() == dma0 && fake_hal_live_private() == priv0);
		return 0;
	}
	struct vnet_net_info info;
	vnet_net_get_info(z->net, &info);
	z->buf_size = info.buf_size;
	/* Without MRG_RXBUF the driver grows buffers to fit the MTU. */
	CHECK(z->buf_size >= o.buf_size);
	CHECK((c & 0x02) || z->buf_size >= 64u + 14u + 4u + 1500u);
	z->rx_chain = info.rx_buf_bytes / (z->buf_size - 64u + info.hdr_len);
	CHECK(z->rx_chain >= 1);
	CHECK(!info.rx_big || info.rx_buf_bytes >= 65601u);
	for (unsigned step = 0; in.n && step < 2048; step++) {
		uint8_t op = u8(&in);
		switch (op & 7u) {
		case 0:
		case 1:
		case 2:
			fz_inject(z, &in);
			break;
		case 3:
			fz_rx(z, op);
			break;
		case 4:
			fz_release(z, (op >> 3) % (z->nheld + 1u));
			break;
		case 5:
			fz_tx(z, &in);
			(void)ndm_poll(&z->m);
			break;
		case 6: {
			bool more;
			uint8_t pf = u8(&in);
			if (pf & 1u)
				vnet_net_rx_irq(z->net, 0);
			if (pf & 2u)
				(void)vnet_net_rx_intr_enable(z->net, 0);
			(void)vnet_net_poll(z->net, 0, (op >> 3) % 9u, (pf & 4u) ? VNET_NET_POLL_NO_REARM : 0u, fz_poll_cb,
			                    z, &more);
			break;
		}
		case 7:
			if ((op >> 3) == 0) {
				/* Back-end restart: everything in flight comes back. */
				(void)vnet_net_stop(z->net);
				CHECK(vnet_vq_outstanding(vnet_net_rxq(z->net, 0)) == 0);
				CHECK(vnet_net_restart(z->net) == VNET_OK);
			} else {
				(void)vnet_net_tx_reclaim(z->net, 0);
			}
			break;
		}
		fz_check_pool(z);
	}
	while (z->nheld)
		fz_release(z, 0);
	CHECK(vnet_net_destroy(z->net) == VNET_OK);
	CHECK(fake_hal_live_dma() == dma0);
	CHECK(fake_hal_live_private() == priv0);
	free(z->mark);
	ndm_fini(&z->m);
	free(z);
	return 0;
}
