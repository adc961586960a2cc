/*
 * Offloads of the virtio-net layer (issue 9, docs/offloads.md) against the
 * virtio-net device model (tests/devmodel/netdev_model.c), every test in
 * both ring layouts, with and without INDIRECT_DESC and MRG_RXBUF where
 * that changes the path (cmocka prestate: struct variant).
 *
 * What a user of vnet/net.h relies on, asserted here:
 *  - an offload is negotiated only when asked for and offered, and the
 *    spec's dependency rules (§5.1.3.1) hold: TSO/UFO/USO need the
 *    checksum feature of their direction, ECN a TSO;
 *  - a transmitted chain of segments reaches the device byte-exact with
 *    the header the metadata asks for, as one descriptor chain, through an
 *    indirect table from tx_indirect_min descriptors on when negotiated,
 *    up to 64 KiB plus headers; its buffers come back to the pool;
 *  - every bad transmit header (gso_size 0, hdr_len past the frame,
 *    checksum offsets outside it, a GSO type or ECN not negotiated, GSO
 *    without CSUM_PARTIAL, unknown bits, a bad segment, too many segments
 *    or bytes) is dropped and counted, never reaches the device (the model
 *    checks every header it gets and counts violations), and the frames
 *    around it go out; a chain holding a buffer the caller does not own is
 *    refused untouched;
 *  - received coalesced frames (mergeable buffers, or big-packet chains
 *    without MRG_RXBUF) come out byte-exact with their checksum and GSO
 *    metadata; every lying header (the same cases, from the device) is
 *    dropped and counted, no buffer is lost, the next frame gets through;
 *  - counters add up: frames taken = tx_packets + tx_drops, rx_packets =
 *    rx_csum_valid + rx_csum_partial + rx_csum_none, the model's own counts
 *    match the driver's;
 *  - halt and destroy with chains in flight give every buffer back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_hal.h"
#include "netdev_model.h"
#include "test_net_common.h"
#include "vnet/features.h"
#include "vnet/net.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/virtqueue.h"

#define V1 VNET_BIT(VIRTIO_F_VERSION_1)
#define F(x) VNET_BIT(VIRTIO_F_##x)
#define N(x) VNET_BIT(VIRTIO_NET_F_##x)
#define BASE (V1 | N(MAC) | N(STATUS) | N(MTU) | N(CTRL_VQ) | N(CTRL_RX) | F(EVENT_IDX))
#define HOST_ALL (N(CSUM) | N(HOST_TSO4) | N(HOST_TSO6) | N(HOST_ECN) | N(HOST_UFO) | N(HOST_USO))
#define GUEST_ALL                                                                                          \
	(N(GUEST_CSUM) | N(GUEST_TSO4) | N(GUEST_TSO6) | N(GUEST_ECN) | N(GUEST_UFO) | N(GUEST_USO4) |       \
	 N(GUEST_USO6))
#define QMAX 64u
#define HDR 12u
#define ROOM (2048u - 80u)        /* frame bytes in one allocated pool buffer (tx headroom, 12-byte header) */
#define RXBUF (2048u - 64u + HDR) /* writable bytes of one receive buffer */

struct variant {
	enum vnet_vq_layout layout;
	bool indirect;
	bool mrg;
};
#define VAR(name, l, i, m) static const struct variant name = {l, i, m}
VAR(S_IND_MRG, VNET_VQ_SPLIT, true, true);
VAR(S_IND, VNET_VQ_SPLIT, true, false);
VAR(S_MRG, VNET_VQ_SPLIT, false, true);
VAR(S_NONE, VNET_VQ_SPLIT, false, false);
VAR(P_IND_MRG, VNET_VQ_PACKED, true, true);
VAR(P_IND, VNET_VQ_PACKED, true, false);
VAR(P_MRG, VNET_VQ_PACKED, false, true);
VAR(P_NONE, VNET_VQ_PACKED, false, false);

struct fx {
	struct netdev_model m;
	struct vnet_net *net;
	const struct variant *v;
	size_t dma0, priv0;
	uint32_t pool;      /* every buffer: free + rings + held */
	uint32_t rx_chain;  /* buffers per receive post */
};

static const struct variant *variant_of(void **state)
{
	return *state ? (const struct variant *)*state : &S_IND_MRG;
}

static struct fx *fx_new(void **state, uint64_t offered)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->v = variant_of(state);
	offered |= BASE;
	if (f->v->layout == VNET_VQ_PACKED)
		offered |= F(RING_PACKED);
	if (f->v->indirect)
		offered |= F(INDIRECT_DESC);
	if (f->v->mrg)
		offered |= N(MRG_RXBUF);
	f->dma0 = fake_hal_live_dma();
	f->priv0 = fake_hal_live_private();
	assert_int_equal(ndm_init(&f->m, offered, 1, QMAX), 0);
	return f;
}

static struct vnet_net_opts all_opts(void)
{
	struct vnet_net_opts o;
	memset(&o, 0, sizeof(o));
	o.tx_csum = o.rx_csum = true;
	o.tx_tso4 = o.tx_tso6 = o.tx_ecn = o.tx_ufo = o.tx_uso = true;
	o.rx_tso4 = o.rx_tso6 = o.rx_ecn = o.rx_ufo = o.rx_uso4 = o.rx_uso6 = true;
	return o;
}

static uint32_t rx_bufs_in_ring(struct fx *f)
{
	return vnet_vq_outstanding(vnet_net_rxq(f->net, 0)) * f->rx_chain;
}

/* Buffers in the transmit ring: tx chains are counted by the test. */
static void fx_up(struct fx *f, const struct vnet_net_opts *o)
{
	struct vnet_net_opts d = all_opts();
	assert_int_equal(vnet_net_create(ndm_ops(&f->m), ndm_ctx(&f->m), o ? o : &d, &f->net), VNET_OK);
	struct vnet_net_info info;
	vnet_net_get_info(f->net, &info);
	f->rx_chain = info.rx_buf_bytes / RXBUF;
	assert_int_equal(info.rx_buf_bytes % RXBUF, 0);
	f->pool = vnet_net_pool_free_count(f->net) + rx_bufs_in_ring(f);
}

static void fx_free(struct fx *f)
{
	net_fx_teardown(&f->net, &f->m, f->dma0, f->priv0);
	free(f);
}

/* With the transmit ring empty: every buffer is free, posted for receive
 * or held by the test. */
static void check_pool(struct fx *f, uint32_t held)
{
	assert_int_equal(vnet_vq_outstanding(vnet_net_txq(f->net, 0)), 0);
	assert_int_equal(vnet_net_pool_free_count(f->net) + rx_bufs_in_ring(f) + held, f->pool);
}

static struct vnet_net_queue_stats stats(struct fx *f)
{
	struct vnet_net_queue_stats st;
	vnet_net_get_stats(f->net, 0, &st);
	return st;
}

static uint8_t frame_byte(uint32_t seed, uint32_t i)
{
	return (uint8_t)(seed * 31u + i * 7u + (i >> 8) + (i >> 16));
}

static void fill_frame(uint8_t *b, uint32_t len, uint32_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		b[i] = frame_byte(seed, i);
}

/* A frame of len bytes as a chain of segments of at most seg bytes each
 * (the head's data at the default offset, the others at offset 0: both
 * inside their buffers). */
static struct vnet_pkt *make_chain(struct fx *f, uint32_t len, uint32_t seg, uint32_t seed)
{
	struct vnet_pkt *head = 0, *tail = 0;
	uint32_t off = 0;
	do {
		struct vnet_pkt *p = vnet_net_pkt_alloc(f->net);
		assert_non_null(p);
		if (head)
			p->data = p->buf; /* any place inside the buffer is fine past the head */
		uint32_t room = head ? 2048u : p->room;
		uint32_t k = len - off < seg ? len - off : seg;
		if (k > room)
			k = room;
		for (uint32_t i = 0; i < k; i++)
			p->data[i] = frame_byte(seed, off + i);
		p->len = k;
		off += k;
		if (tail)
			tail->next = p;
		else
			head = p;
		tail = p;
	} while (off < len);
	return head;
}

static unsigned chain_len(const struct vnet_pkt *p)
{
	unsigned n = 0;
	for (; p; p = p->next)
		n++;
	return n;
}

static void tso4(struct vnet_pkt *p, uint16_t mss)
{
	p->flags = VNET_PKT_F_CSUM_PARTIAL | VNET_PKT_F_GSO;
	p->csum_start = 34;
	p->csum_offset = 16;
	p->gso_type = VNET_PKT_GSO_TCPV4;
	p->gso_size = mss;
	p->hdr_len = 54;
}

static void check_tx_bytes(const struct ndm_tx_frame *t, uint32_t len, uint32_t seed)
{
	assert_int_equal(t->len, len);
	for (uint32_t i = 0; i < len; i++)
		if (t->data[i] != frame_byte(seed, i))
			fail_msg("tx byte %u: 0x%02x, want 0x%02x", i, t->data[i], frame_byte(seed, i));
}

/* ------------------------------------------------------------ negotiation */

static void test_negotiate_all_when_asked(void **state)
{
	struct fx *f = fx_new(state, HOST_ALL | GUEST_ALL);
	fx_up(f, NULL);
	struct vnet_net_info info;
	vnet_net_get_info(f->net, &info);
	assert_int_equal(info.negotiated & (HOST_ALL | GUEST_ALL), HOST_ALL | GUEST_ALL);
	assert_int_equal(info.tx_frame_max, VNET_NET_FRAME_MAX);
	assert_int_equal(info.tx_indirect, f->v->indirect);
	/* Big-packet mode exactly when guest GSO runs without MRG_RXBUF. */
	assert_int_equal(info.rx_big, !f->v->mrg);
	if (!f->v->mrg) {
		assert_true(info.rx_buf_bytes >= 65601u);
		assert_true(f->rx_chain > 1);
	} else {
		assert_int_equal(f->rx_chain, 1);
	}
	check_pool(f, 0);
	fx_free(f);
}

static void test_big_pool_too_small(void **state)
{
	/* Big-packet mode with a pool that cannot fill one chain: a clear
	 * error at create, nothing left allocated; with MRG_RXBUF the same
	 * pool is fine. */
	struct fx *f = fx_new(state, GUEST_ALL);
	struct vnet_net_opts o = all_opts();
	o.pool_size = 20;
	int rc = vnet_net_create(ndm_ops(&f->m), ndm_ctx(&f->m), &o, &f->net);
	if (f->v->mrg) {
		assert_int_equal(rc, VNET_OK);
	} else {
		assert_int_equal(rc, VNET_EINVAL);
		assert_null(f->net);
	}
	fx_free(f);
}

static void test_negotiate_not_asked(void **state)
{
	/* Offered but not asked: nothing (the issue-9 opts default to off). */
	struct fx *f = fx_new(state, HOST_ALL | GUEST_ALL);
	struct vnet_net_opts o;
	memset(&o, 0, sizeof(o));
	fx_up(f, &o);
	struct vnet_net_info info;
	vnet_net_get_info(f->net, &info);
	assert_int_equal(info.negotiated & (HOST_ALL | GUEST_ALL), 0);
	assert_false(info.rx_big);
	fx_free(f);
}

static void test_negotiate_implies_csum(void **state)
{
	/* TSO asked without tx_csum/rx_csum: the checksum feature comes with it. */
	struct fx *f = fx_new(state, HOST_ALL | GUEST_ALL);
	struct vnet_net_opts o;
	memset(&o, 0, sizeof(o));
	o.tx_tso4 = o.rx_tso6 = true;
	fx_up(f, &o);
	struct vnet_net_info info;
	vnet_net_get_info(f->net, &info);
	uint64_t want = N(CSUM) | N(HOST_TSO4) | N(GUEST_CSUM) | N(GUEST_TSO6);
	assert_int_equal(info.negotiated & (HOST_ALL | GUEST_ALL), want);
	fx_free(f);
}

static void test_negotiate_dependency_rules(void **state)
{
	/* Requirements offered: ECN comes with TSO4 in each direction. */
	struct fx *f = fx_new(state, N(HOST_TSO4) | N(HOST_UFO) | N(HOST_USO) | N(GUEST_TSO4) | N(GUEST_USO4) |
	                                 N(GUEST_CSUM) | N(GUEST_ECN) | N(CSUM) | N(HOST_ECN));
	fx_up(f, NULL);
	struct vnet_net_info info;
	vnet_net_get_info(f->net, &info);
	assert_true(info.negotiated & N(HOST_TSO4));
	assert_true(info.negotiated & N(GUEST_ECN));
	/* HOST_ECN needs HOST_TSO4 or TSO6: TSO4 is there. */
	assert_true(info.negotiated & N(HOST_ECN));
	fx_free(f);

	/* A device that offers TSO/UFO/USO without the checksum feature of
	 * their direction (it breaks §5.1.3.1, the driver warns): none taken. */
	f = fx_new(state, N(HOST_TSO4) | N(HOST_TSO6) | N(HOST_UFO) | N(HOST_USO) | N(GUEST_TSO4) | N(GUEST_TSO6) |
	                      N(GUEST_UFO) | N(GUEST_USO4) | N(GUEST_USO6));
	fx_up(f, NULL);
	vnet_net_get_info(f->net, &info);
	assert_int_equal(info.negotiated & (HOST_ALL | GUEST_ALL), 0);
	assert_false(info.rx_big);
	fx_free(f);

	/* ECN without a TSO in its direction: not taken, the rest is. */
	f = fx_new(state, N(CSUM) | N(HOST_ECN) | N(GUEST_CSUM) | N(GUEST_ECN) | N(GUEST_USO4));
	fx_up(f, NULL);
	vnet_net_get_info(f->net, &info);
	assert_int_equal(info.negotiated & (HOST_ALL | GUEST_ALL), N(CSUM) | N(GUEST_CSUM) | N(GUEST_USO4));
	/* The device saw the same set. */
	assert_int_equal(ndm_features(&f->m), info.negotiated);
	fx_free(f);
}

/* ------------------------------------------------------------ transmit */

static void test_tx_chain_csum(void **state)
{
	/* Chains of 1..5 segments with a checksum request: byte-exact, one
	 * descriptor chain each, header as asked, buffers back. */
	struct fx *f = fx_new(state, HOST_ALL);
	fx_up(f, NULL);
	struct vnet_pkt *p[5];
	for (unsigned i = 0; i < 5; i++) {
		p[i] = make_chain(f, 100u + 300u * i, 300u, 40u + i);
		p[i]->flags = VNET_PKT_F_CSUM_PARTIAL;
		p[i]->csum_start = 34;
		p[i]->csum_offset = 16;
		assert_int_equal(chain_len(p[i]), i + 1u);
	}
	assert_int_equal(vnet_net_tx_burst(f->net, 0, p, 5), 5);
	assert_int_equal(ndm_poll(&f->m), 5);
	for (unsigned i = 0; i < 5; i++) {
		const struct ndm_tx_frame *t = &f->m.tx[i];
		check_tx_bytes(t, 100u + 300u * i, 40u + i);
		assert_int_equal(t->hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
		assert_int_equal(vnet_le16_to_cpu(t->hdr.csum_start), 34);
		assert_int_equal(vnet_le16_to_cpu(t->hdr.csum_offset), 16);
		assert_int_equal(t->hdr.gso_type, 0);
		assert_int_equal(t->nseg, i + 1u);
		/* Default threshold: 3 descriptors and more go indirect. */
		bool ind = f->v->indirect && i + 1u >= VNET_NET_TX_INDIRECT_MIN_DEFAULT;
		assert_int_equal(t->indirect, ind);
		assert_int_equal(t->ndesc, ind ? 1u : i + 1u);
	}
	struct vnet_net_queue_stats st = stats(f);
	assert_int_equal(st.tx_packets, 5);
	assert_int_equal(st.tx_csum, 5);
	assert_int_equal(st.tx_sg, 4);
	assert_int_equal(st.tx_indirect, f->v->indirect ? 3 : 0);
	assert_int_equal(st.tx_gso, 0);
	assert_int_equal(f->m.tx_csum, 5);
	vnet_net_tx_reclaim(f->net, 0);
	check_pool(f, 0);
	fx_free(f);
}

static void test_tx_indirect_threshold(void **state)
{
	struct fx *f = fx_new(state, HOST_ALL);
	struct vnet_net_opts o = all_opts();
	o.tx_indirect_min = 5;
	fx_up(f, &o);
	struct vnet_pkt *p[2] = {make_chain(f, 400, 100, 1), make_chain(f, 500, 100, 2)};
	assert_int_equal(vnet_net_tx_burst(f->net, 0, p, 2), 2);
	assert_int_equal(ndm_poll(&f->m), 2);
	assert_int_equal(f->m.tx[0].nseg, 4);
	assert_false(f->m.tx[0].indirect);
	assert_int_equal(f->m.tx[1].nseg, 5);
	assert_int_equal(f->m.tx[1].indirect, f->v->indirect);
	check_tx_bytes(&f->m.tx[0], 400, 1);
	check_tx_bytes(&f->m.tx[1], 500, 2);
	assert_int_equal(stats(f).tx_indirect, f->v->indirect ? 1 : 0);
	vnet_net_tx_reclaim(f->net, 0);
	check_pool(f, 0);
	fx_free(f);
}

static void test_tx_tso_64k(void **state)
{
	/* The largest frame: 64 KiB IP packet + Ethernet + VLAN, in full
	 * buffers, TSO4 with ECN; then one byte more is dropped. */
	struct fx *f = fx_new(state, HOST_ALL);
	fx_up(f, NULL);
	struct vnet_net_info info;
	vnet_net_get_info(f->net, &info);
	assert_int_equal(info.tx_segs_max, QMAX < VNET_NET_TX_SEGS_MAX ? QMAX : VNET_NET_TX_SEGS_MAX);
	struct vnet_pkt *p[2];
	p[0] = make_chain(f, VNET_NET_FRAME_MAX, 2048, 7);
	tso4(p[0], 1448);
	p[0]->gso_type |= VNET_PKT_GSO_ECN;
	p[1] = make_chain(f, VNET_NET_FRAME_MAX + 1u, 2048, 8);
	tso4(p[1], 1448);
	unsigned segs = chain_len(p[0]);
	assert_int_equal(vnet_net_tx_burst(f->net, 0, p, 2), 2);
	struct vnet_net_queue_stats st = stats(f);
	assert_int_equal(st.tx_packets, 1);
	assert_int_equal(st.tx_drops, 1);
	assert_int_equal(st.tx_bad_offload, 1);
	assert_int_equal(st.tx_gso, 1);
	assert_int_equal(st.tx_gso_bytes, VNET_NET_FRAME_MAX);
	assert_int_equal(st.tx_bytes, VNET_NET_FRAME_MAX);
	assert_int_equal(ndm_poll(&f->m), 1);
	const struct ndm_tx_frame *t = &f->m.tx[0];
	check_tx_bytes(t, VNET_NET_FRAME_MAX, 7);
	assert_int_equal(t->nseg, segs);
	assert_int_equal(t->indirect, f->v->indirect);
	assert_int_equal(t->hdr.gso_type, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN);
	assert_int_equal(vnet_le16_to_cpu(t->hdr.gso_size), 1448);
	assert_int_equal(vnet_le16_to_cpu(t->hdr.hdr_len), 54);
	assert_int_equal(t->hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(f->m.tx_gso, 1);
	assert_int_equal(f->m.tx_gso_segs, (VNET_NET_FRAME_MAX - 54u + 1447u) / 1448u);
	vnet_net_tx_reclaim(f->net, 0);
	check_pool(f, 0);
	fx_free(f);
}

static void test_tx_small_ring_frame_max(void **state)
{
	/* A 16-entry queue: 16 segments at most, so info.tx_frame_max is what
	 * 16 buffers hold; a frame of exactly that goes, one byte more (17
	 * segments) is dropped and counted. */
	struct fx *f = fx_new(state, HOST_ALL);
	struct vnet_net_opts o = all_opts();
	o.queue_size = 16;
	fx_up(f, &o);
	struct vnet_net_info info;
	vnet_net_get_info(f->net, &info);
	assert_int_equal(info.tx_segs_max, 16);
	assert_int_equal(info.tx_frame_max, ROOM + 15u * 2048u);
	struct vnet_pkt *p[2];
	p[0] = make_chain(f, info.tx_frame_max, 2048, 3);
	assert_int_equal(chain_len(p[0]), 16);
	tso4(p[0], 1448);
	p[1] = make_chain(f, info.tx_frame_max + 1u, 2048, 4);
	tso4(p[1], 1448);
	assert_int_equal(vnet_net_tx_burst(f->net, 0, p, 2), 2);
	assert_int_equal(stats(f).tx_packets, 1);
	assert_int_equal(stats(f).tx_bad_offload, 1);
	assert_int_equal(ndm_poll(&f->m), 1);
	check_tx_bytes(&f->m.tx[0], info.tx_frame_max, 3);
	assert_int_equal(f->m.tx[0].indirect, f->v->indirect);
	vnet_net_tx_reclaim(f->net, 0);
	check_pool(f, 0);
	fx_free(f);
}

static void test_tx_gso_types(void **state)
{
	/* Each negotiated type goes out with its header fields. */
	struct fx *f = fx_new(state, HOST_ALL);
	fx_up(f, NULL);
	static const uint8_t types[] = {VNET_PKT_GSO_TCPV4, VNET_PKT_GSO_TCPV6, VNET_PKT_GSO_UDP, VNET_PKT_GSO_UDP_L4,
	                                VNET_PKT_GSO_TCPV6 | VNET_PKT_GSO_ECN};
	struct vnet_pkt *p[5];
	for (unsigned i = 0; i < 5; i++) {
		p[i] = make_chain(f, 9000, 1500, i);
		p[i]->flags = VNET_PKT_F_CSUM_PARTIAL | VNET_PKT_F_GSO;
		p[i]->gso_type = types[i];
		bool udp = (types[i] & 0x7f) == VNET_PKT_GSO_UDP || (types[i] & 0x7f) == VNET_PKT_GSO_UDP_L4;
		bool v6 = (types[i] & 0x7f) == VNET_PKT_GSO_TCPV6;
		p[i]->csum_start = v6 ? 54 : 34;
		p[i]->csum_offset = udp ? 6 : 16;
		p[i]->hdr_len = (uint16_t)(p[i]->csum_start + (udp ? 8 : 20));
		p[i]->gso_size = (uint16_t)(1000 + i);
	}
	assert_int_equal(vnet_net_tx_burst(f->net, 0, p, 5), 5);
	assert_int_equal(ndm_poll(&f->m), 5);
	for (unsigned i = 0; i < 5; i++) {
		const struct ndm_tx_frame *t = &f->m.tx[i];
		assert_int_equal(t->hdr.gso_type, types[i]);
		assert_int_equal(vnet_le16_to_cpu(t->hdr.gso_size), 1000 + i);
		check_tx_bytes(t, 9000, i);
	}
	assert_int_equal(stats(f).tx_gso, 5);
	assert_int_equal(f->m.tx_gso, 5);
	vnet_net_tx_reclaim(f->net, 0);
	check_pool(f, 0);
	fx_free(f);
}

/* One bad transmit frame: what is wrong with it. */
struct tx_bad {
	const char *name;
	uint64_t offered;                     /* HOST_ALL when 0 */
	void (*mutate)(struct fx *f, struct vnet_pkt *p);
};

static void m_gso_size0(struct fx *f, struct vnet_pkt *p)
{
	(void)f;
	tso4(p, 0);
}
static void m_hdr_len_past(struct fx *f, struct vnet_pkt *p)
{
	(void)f;
	tso4(p, 1448);
	p->hdr_len = (uint16_t)(p->len + (p->next ? p->next->len : 0) + 1u);
}
static void m_csum_past(struct fx *f, struct vnet_pkt *p)
{
	(void)f;
	p->flags = VNET_PKT_F_CSUM_PARTIAL;
	p->csum_start = 3000; /* frame is 3000 bytes: field outside */
	p->csum_offset = 0;
}
static void m_csum_wrap(struct fx *f, struct vnet_pkt *p)
{
	(void)f;
	p->flags = VNET_PKT_F_CSUM_PARTIAL;
	p->csum_start = 0xffff;
	p->csum_offset = 0xffff;
}
static void m_csum_last_byte(struct fx *f, struct vnet_pkt *p)
{
	(void)f;
	p->flags = VNET_PKT_F_CSUM_PARTIAL; /* 2-byte field starting at the last byte */
	p->csum_start = 2990;
	p->csum_offset = 9;
}
static void m_gso_no_csum(struct fx *f, struct vnet_pkt *p)
{
	(void)f;
	tso4(p, 1448);
	p->flags = VNET_PKT_F_GSO;
}
static void m_tcpv6(struct fx *f, struct vnet_pkt *p)
{
	(void)f;
	tso4(p, 1448);
	p->gso_type = VNET_PKT_GSO_TCPV6;
}
static void m_uso(struct fx *f, struct vnet_pkt *p)
{
	(void)f;
	tso4(p, 1448);
	p->gso_type = VNET_PKT_GSO_UDP_L4;
}
static void m_ufo(struct fx *f, struct vnet_pkt *p)
{
	(void)f;
	tso4(p, 1448);
	p->gso_type = VNET_PKT_GSO_UDP;
}
static void m_ecn(struct fx *f, struct vnet_pkt *p)
{
	(void)f;
	tso4(p, 1448);
	p->gso_type |= VNET_PKT_GSO_ECN;
}
static void m_ecn_udp(struct fx *f, struct vnet_pkt *p)
{
	(void)f;
	tso4(p, 1448);
	p->gso_type = VNET_PKT_GSO_UDP_L4 | VNET_PKT_GSO_ECN;
}
static void m_type2(struct fx *f, struct vnet_pkt *p)
{
	(void)f;
	tso4(p, 1448);
	p->gso_type = 2;
}
static void m_tunnel(struct fx *f, struct vnet_pkt *p)
{
	(void)f;
	tso4(p, 1448);
	p->gso_type = VNET_PKT_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV4;
}
static void m_flag_bit(struct fx *f, struct vnet_pkt *p)
{
	(void)f;
	p->flags = 0x8;
}
static void m_gso_flag_type0(struct fx *f, struct vnet_pkt *p)
{
	(void)f;
	tso4(p, 1448);
	p->gso_type = VNET_PKT_GSO_NONE;
}
static void m_seg_len0(struct fx *f, struct vnet_pkt *p)
{
	(void)f;
	p->next->len = 0;
}
static void m_seg_outside(struct fx *f, struct vnet_pkt *p)
{
	(void)f;
	p->next->data = p->next->buf + 2000; /* 1000 bytes from 48 before the end */
}
static void m_head_outside(struct fx *f, struct vnet_pkt *p)
{
	(void)f;
	p->data = p->buf + 4; /* no room for the header in front */
}
static void m_too_many(struct fx *f, struct vnet_pkt *p)
{
	struct vnet_net_info info;
	vnet_net_get_info(f->net, &info);
	struct vnet_pkt *t = p;
	while (t->next)
		t = t->next;
	for (unsigned n = chain_len(p); n <= info.tx_segs_max; n++) {
		t->next = vnet_net_pkt_alloc(f->net);
		assert_non_null(t->next);
		t = t->next;
		t->len = 10;
	}
}

static const struct tx_bad tx_bad_cases[] = {
	{"gso_size 0", 0, m_gso_size0},
	{"hdr_len past the frame", 0, m_hdr_len_past},
	{"csum start past the frame", 0, m_csum_past},
	{"csum offsets wrap 16 bits", 0, m_csum_wrap},
	{"csum field over the last byte", 0, m_csum_last_byte},
	{"GSO without CSUM_PARTIAL", 0, m_gso_no_csum},
	{"TCPV6 without HOST_TSO6", N(CSUM) | N(HOST_TSO4), m_tcpv6},
	{"UDP_L4 without HOST_USO", N(CSUM) | N(HOST_TSO4), m_uso},
	{"UDP without HOST_UFO", N(CSUM) | N(HOST_TSO4), m_ufo},
	{"ECN without HOST_ECN", N(CSUM) | N(HOST_TSO4), m_ecn},
	{"ECN on UDP_L4", 0, m_ecn_udp},
	{"gso_type 2", 0, m_type2},
	{"gso tunnel bit", 0, m_tunnel},
	{"unknown flag bit", 0, m_flag_bit},
	{"GSO flag with GSO_NONE", 0, m_gso_flag_type0},
	{"CSUM_PARTIAL without CSUM", N(HOST_TSO4), m_csum_last_byte},
	{"segment of length 0", 0, m_seg_len0},
	{"segment past its buffer", 0, m_seg_outside},
	{"head without header room", 0, m_head_outside},
	{"more segments than tx_segs_max", 0, m_too_many},
};

static void test_tx_bad_headers(void **state)
{
	for (size_t c = 0; c < sizeof(tx_bad_cases) / sizeof(tx_bad_cases[0]); c++) {
		const struct tx_bad *b = &tx_bad_cases[c];
		struct fx *f = fx_new(state, b->offered ? b->offered : HOST_ALL);
		fx_up(f, NULL);
		struct vnet_pkt *p[3];
		p[0] = make_chain(f, 3000, 1500, 1);
		p[1] = make_chain(f, 3000, 1500, 2);
		p[2] = make_chain(f, 3000, 1500, 3);
		p[0]->flags = p[2]->flags = VNET_PKT_F_CSUM_PARTIAL;
		p[0]->csum_start = p[2]->csum_start = 34;
		p[0]->csum_offset = p[2]->csum_offset = 16;
		if (!(ndm_features(&f->m) & N(CSUM)))
			p[0]->flags = p[2]->flags = 0;
		b->mutate(f, p[1]);
		unsigned took = vnet_net_tx_burst(f->net, 0, p, 3);
		if (took != 3)
			fail_msg("%s: tx_burst took %u, want 3", b->name, took);
		struct vnet_net_queue_stats st = stats(f);
		if (st.tx_packets != 2 || st.tx_drops != 1 || st.tx_errors != 1 || st.tx_bad_offload != 1)
			fail_msg("%s: packets %llu drops %llu errors %llu bad_offload %llu", b->name,
			         (unsigned long long)st.tx_packets, (unsigned long long)st.tx_drops,
			         (unsigned long long)st.tx_errors, (unsigned long long)st.tx_bad_offload);
		if (ndm_poll(&f->m) != 2)
			fail_msg("%s: the device got other than the two good frames", b->name);
		check_tx_bytes(&f->m.tx[0], 3000, 1);
		check_tx_bytes(&f->m.tx[1], 3000, 3);
		vnet_net_tx_reclaim(f->net, 0);
		check_pool(f, 0);
		fx_free(f);
	}
}

static void test_tx_foreign_segment_refused(void **state)
{
	/* A chain with a segment that is not the caller's (a stack object,
	 * a buffer already freed): refused untouched, the burst stops there,
	 * the frames stay the caller's. */
	struct fx *f = fx_new(state, HOST_ALL);
	fx_up(f, NULL);
	struct vnet_pkt fake;
	memset(&fake, 0, sizeof(fake));
	fake.len = 10;
	struct vnet_pkt *p[2];
	p[0] = make_chain(f, 3000, 1500, 1);
	p[0]->next->next = &fake;
	p[1] = make_chain(f, 100, 100, 2);
	assert_int_equal(vnet_net_tx_burst(f->net, 0, p, 2), 0);
	struct vnet_net_queue_stats st = stats(f);
	assert_int_equal(st.tx_errors, 1);
	assert_int_equal(st.tx_drops, 0);
	assert_int_equal(st.tx_packets, 0);
	/* A freed segment in the chain: the same. */
	p[0]->next->next = 0;
	struct vnet_pkt *freed = vnet_net_pkt_alloc(f->net);
	vnet_net_pkt_free(f->net, freed);
	p[0]->next->next = freed;
	assert_int_equal(vnet_net_tx_burst(f->net, 0, p, 2), 0);
	assert_int_equal(stats(f).tx_errors, 2);
	p[0]->next->next = 0;
	/* Fixed, both go. */
	assert_int_equal(vnet_net_tx_burst(f->net, 0, p, 2), 2);
	assert_int_equal(ndm_poll(&f->m), 2);
	check_tx_bytes(&f->m.tx[0], 3000, 1);
	vnet_net_tx_reclaim(f->net, 0);
	check_pool(f, 0);
	fx_free(f);
}

static void test_tx_chain_ring_full(void **state)
{
	/* Without indirect a 10-segment chain needs 10 descriptors: the
	 * burst stops at the first chain that does not fit, that chain stays
	 * the caller's, and once the device completes it goes. */
	struct fx *f = fx_new(state, HOST_ALL);
	struct vnet_net_opts o = all_opts();
	o.pool_size = 1024;
	fx_up(f, &o);
	f->m.tx_hold = true;
	struct vnet_pkt *p[1];
	unsigned n = 0, took = 0;
	for (;;) {
		p[0] = make_chain(f, 1000, 100, n);
		unsigned k = vnet_net_tx_burst(f->net, 0, p, 1);
		if (k == 0)
			break;
		took += k;
		n++;
		assert_true(n < QMAX + 1);
	}
	/* Direct: QMAX / 10 chains fit; indirect: QMAX. */
	assert_int_equal(took, f->v->indirect ? QMAX : QMAX / 10);
	f->m.tx_hold = false;
	assert_int_equal(ndm_poll(&f->m), took);
	assert_int_equal(vnet_net_tx_burst(f->net, 0, p, 1), 1);
	assert_int_equal(ndm_poll(&f->m), 1);
	check_tx_bytes(&f->m.tx[took], 1000, n);
	vnet_net_tx_reclaim(f->net, 0);
	check_pool(f, 0);
	fx_free(f);
}

/* ------------------------------------------------------------ receive */

static void check_rx_chain(const struct vnet_pkt *p, uint32_t len, uint32_t seed)
{
	assert_int_equal(p->pkt_len, len);
	uint32_t off = 0;
	unsigned n = 0;
	for (const struct vnet_pkt *s = p; s; s = s->next) {
		assert_true(off + s->len <= len);
		for (uint32_t i = 0; i < s->len; i++)
			if (s->data[i] != frame_byte(seed, off + i))
				fail_msg("rx byte %u: 0x%02x, want 0x%02x", off + i, s->data[i], frame_byte(seed, off + i));
		off += s->len;
		n++;
	}
	assert_int_equal(n, p->nseg);
	assert_int_equal(off, len);
}

static uint8_t big_frame[NDM_FRAME_MAX];

static void test_rx_gso_frames(void **state)
{
	/* Coalesced frames up to 64 KiB, every type, checksum partial; plus a
	 * DATA_VALID and a plain frame; all byte-exact with their metadata. */
	struct fx *f = fx_new(state, GUEST_ALL);
	fx_up(f, NULL);
	static const uint8_t types[] = {VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_UDP,
	                                VIRTIO_NET_HDR_GSO_UDP_L4, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN};
	static const uint32_t lens[] = {VNET_NET_FRAME_MAX, 30000, 9000, 4000, 65000};
	uint64_t bytes = 0;
	for (unsigned i = 0; i < 5; i++) {
		fill_frame(big_frame, lens[i], 100 + i);
		struct ndm_rx o = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		                   .gso_type = types[i],
		                   .gso_size = (uint16_t)(1400 + i),
		                   .hdr_len = 66,
		                   .csum_start = 34,
		                   .csum_offset = 16};
		int nb = ndm_rx_inject(&f->m, 0, big_frame, lens[i], &o);
		assert_int_equal(nb, f->v->mrg ? (int)((lens[i] + HDR + RXBUF - 1) / RXBUF) : 1);
		struct vnet_pkt *p;
		assert_int_equal(vnet_net_rx_burst(f->net, 0, &p, 1), 1);
		check_rx_chain(p, lens[i], 100 + i);
		assert_int_equal(p->flags, VNET_PKT_F_CSUM_PARTIAL | VNET_PKT_F_GSO);
		assert_int_equal(p->gso_type, types[i]);
		assert_int_equal(p->gso_size, 1400 + i);
		assert_int_equal(p->hdr_len, 66);
		assert_int_equal(p->csum_start, 34);
		assert_int_equal(p->csum_offset, 16);
		bytes += lens[i];
		vnet_net_pkt_free(f->net, p);
		check_pool(f, 0);
	}
	fill_frame(big_frame, 1500, 9);
	struct ndm_rx dv = {.flags = VIRTIO_NET_HDR_F_DATA_VALID};
	/* One at a time: big-packet mode without indirect holds one chain
	 * here (a 64-slot ring, 33 buffers a chain). */
	struct vnet_pkt *p[2];
	assert_int_equal(ndm_rx_inject(&f->m, 0, big_frame, 1500, &dv), 1);
	assert_int_equal(vnet_net_rx_burst(f->net, 0, &p[0], 1), 1);
	assert_int_equal(ndm_rx_inject(&f->m, 0, big_frame, 1500, NULL), 1);
	assert_int_equal(vnet_net_rx_burst(f->net, 0, &p[1], 1), 1);
	assert_int_equal(p[0]->flags, VNET_PKT_F_CSUM_VALID);
	assert_int_equal(p[1]->flags, 0);
	/* GSO with DATA_VALID instead of NEEDS_CSUM (Linux's tap forwarding a
	 * GRO'd packet): tolerated, delivered as a validated coalesced frame. */
	struct vnet_pkt *g;
	fill_frame(big_frame, 12000, 10);
	struct ndm_rx gv = {.flags = VIRTIO_NET_HDR_F_DATA_VALID, .gso_type = 1, .gso_size = 1448, .hdr_len = 54};
	assert_true(ndm_rx_inject(&f->m, 0, big_frame, 12000, &gv) >= 1);
	assert_int_equal(vnet_net_rx_burst(f->net, 0, &g, 1), 1);
	check_rx_chain(g, 12000, 10);
	assert_int_equal(g->flags, VNET_PKT_F_CSUM_VALID | VNET_PKT_F_GSO);
	assert_int_equal(g->gso_size, 1448);
	bytes += 12000;
	vnet_net_pkt_free(f->net, g);
	check_rx_chain(p[0], 1500, 9);
	check_rx_chain(p[1], 1500, 9);
	assert_int_equal(p[0]->nseg, 1);
	vnet_net_pkt_free(f->net, p[0]);
	vnet_net_pkt_free(f->net, p[1]);
	struct vnet_net_queue_stats st = stats(f);
	assert_int_equal(st.rx_packets, 8);
	assert_int_equal(st.rx_gso, 6);
	assert_int_equal(st.rx_gso_bytes, bytes);
	assert_int_equal(st.rx_csum_partial, 5);
	assert_int_equal(st.rx_csum_valid, 2);
	assert_int_equal(st.rx_csum_none, 1);
	assert_int_equal(st.rx_packets, st.rx_csum_valid + st.rx_csum_partial + st.rx_csum_none);
	assert_int_equal(st.rx_drops, 0);
	check_pool(f, 0);
	fx_free(f);
}

static void test_rx_big_ring_refilled(void **state)
{
	/* Big-packet mode (no MRG_RXBUF): many frames, small and large, keep
	 * coming; the unused part of each chain goes back at once. */
	struct fx *f = fx_new(state, GUEST_ALL);
	fx_up(f, NULL);
	unsigned posts = vnet_vq_outstanding(vnet_net_rxq(f->net, 0));
	assert_true(posts > 0);
	assert_int_equal(ndm_rx_avail(&f->m, 0), posts);
	for (unsigned r = 0; r < 3u * posts; r++) {
		uint32_t len = (r & 1) ? 60u + r : 20000u + 97u * r;
		fill_frame(big_frame, len, r);
		struct ndm_rx o = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16};
		if (len > 2000) {
			o.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
			o.gso_size = 1440;
			o.hdr_len = 74;
		}
		assert_true(ndm_rx_inject(&f->m, 0, big_frame, len, &o) >= 1);
		struct vnet_pkt *p;
		assert_int_equal(vnet_net_rx_burst(f->net, 0, &p, 1), 1);
		check_rx_chain(p, len, r);
		assert_int_equal(p->nseg, (len + HDR + RXBUF - 1) / RXBUF);
		check_pool(f, p->nseg);
		vnet_net_pkt_free(f->net, p);
	}
	assert_int_equal(vnet_vq_outstanding(vnet_net_rxq(f->net, 0)), posts);
	check_pool(f, 0);
	fx_free(f);
}

struct rx_bad {
	const char *name;
	uint64_t offered;       /* GUEST_ALL when 0 */
	uint32_t len;
	struct ndm_rx opt;
	bool csum;              /* counted in rx_csum_bad (else rx_gso_bad) */
	bool runt;              /* dropped as a runt (neither) */
};

#define NC VIRTIO_NET_HDR_F_NEEDS_CSUM
static const struct rx_bad rx_bad_cases[] = {
	{"gso_size 0", 0, 20000, {.flags = NC, .csum_start = 34, .csum_offset = 16, .gso_type = 1, .hdr_len = 54}, false,
	 false},
	{"hdr_len past the frame", 0, 20000,
	 {.flags = NC, .csum_start = 34, .csum_offset = 16, .gso_type = 1, .gso_size = 1448, .hdr_len = 20001}, false,
	 false},
	{"csum field past the frame", 0, 20000,
	 {.flags = NC, .csum_start = 19990, .csum_offset = 9, .gso_type = 1, .gso_size = 1448, .hdr_len = 54}, true,
	 false},
	{"csum offsets wrap", 0, 20000, {.flags = NC, .csum_start = 0xffff, .csum_offset = 0xffff}, true, false},
	{"TCPV6 not negotiated", N(GUEST_CSUM) | N(GUEST_TSO4), 20000,
	 {.flags = NC, .csum_start = 34, .csum_offset = 16, .gso_type = 4, .gso_size = 1448, .hdr_len = 54}, false,
	 false},
	{"UDP_L4 not negotiated", N(GUEST_CSUM) | N(GUEST_TSO4), 20000,
	 {.flags = NC, .csum_start = 34, .csum_offset = 6, .gso_type = 5, .gso_size = 1448, .hdr_len = 42}, false,
	 false},
	{"UFO not negotiated", N(GUEST_CSUM) | N(GUEST_TSO4), 20000,
	 {.flags = NC, .csum_start = 34, .csum_offset = 6, .gso_type = 3, .gso_size = 1448, .hdr_len = 42}, false,
	 false},
	{"ECN without GUEST_ECN", N(GUEST_CSUM) | N(GUEST_TSO4), 20000,
	 {.flags = NC, .csum_start = 34, .csum_offset = 16, .gso_type = 0x81, .gso_size = 1448, .hdr_len = 54}, false,
	 false},
	{"ECN on UDP_L4", 0, 20000,
	 {.flags = NC, .csum_start = 34, .csum_offset = 6, .gso_type = 0x85, .gso_size = 1448, .hdr_len = 42}, false,
	 false},
	{"gso_type 2", 0, 20000,
	 {.flags = NC, .csum_start = 34, .csum_offset = 16, .gso_type = 2, .gso_size = 1448, .hdr_len = 54}, false,
	 false},
	{"gso tunnel bit", 0, 20000,
	 {.flags = NC, .csum_start = 34, .csum_offset = 16, .gso_type = 0x21, .gso_size = 1448, .hdr_len = 54}, false,
	 false},
	{"GSO without NEEDS_CSUM", 0, 20000, {.gso_type = 1, .gso_size = 1448, .hdr_len = 54}, false, false},
	{"RSC_INFO without RSC_EXT", 0, 2000, {.flags = NC | VIRTIO_NET_HDR_F_RSC_INFO, .csum_start = 3}, true, false},
	{"unknown flag bit", 0, 2000, {.flags = 0x40}, true, false},
	{"used len past the buffer", 0, 1000, {.set_used_len = true, .used_len = 0x7fffffffu}, false, true},
	{"used len below the header", 0, 1000, {.set_used_len = true, .used_len = 4}, false, true},
};
#undef NC

static void test_rx_bad_headers(void **state)
{
	for (size_t c = 0; c < sizeof(rx_bad_cases) / sizeof(rx_bad_cases[0]); c++) {
		const struct rx_bad *b = &rx_bad_cases[c];
		struct fx *f = fx_new(state, b->offered ? b->offered : GUEST_ALL);
		fx_up(f, NULL);
		fill_frame(big_frame, b->len, 5);
		if (ndm_rx_inject(&f->m, 0, big_frame, b->len, &b->opt) < 1) {
			/* Without GSO negotiated and without MRG_RXBUF a 20000-byte
			 * frame does not fit one buffer: the case needs a bigger one. */
			assert_false(f->v->mrg);
			fill_frame(big_frame, 1400, 5);
			assert_true(b->opt.gso_type != 0 || b->opt.flags);
			struct ndm_rx o = b->opt;
			if (o.hdr_len > 1400)
				o.hdr_len = 1401;
			if (o.csum_start > 1400 && o.csum_start != 0xffff)
				o.csum_start = 1390;
			assert_int_equal(ndm_rx_inject(&f->m, 0, big_frame, 1400, &o), 1);
		}
		struct vnet_pkt *p[4];
		unsigned got = vnet_net_rx_burst(f->net, 0, p, 4);
		if (got != 0)
			fail_msg("%s: the bad frame was delivered", b->name);
		fill_frame(big_frame, 300, 6);
		assert_int_equal(ndm_rx_inject(&f->m, 0, big_frame, 300, NULL), 1);
		got = vnet_net_rx_burst(f->net, 0, p, 4);
		if (got != 1)
			fail_msg("%s: %u frames, want the good one only", b->name, got);
		check_rx_chain(p[0], 300, 6);
		vnet_net_pkt_free(f->net, p[0]);
		struct vnet_net_queue_stats st = stats(f);
		if (st.rx_drops != 1 || st.rx_errors != 1 || st.rx_packets != 1)
			fail_msg("%s: drops %llu errors %llu packets %llu", b->name, (unsigned long long)st.rx_drops,
			         (unsigned long long)st.rx_errors, (unsigned long long)st.rx_packets);
		uint64_t want_csum = b->csum && !b->runt, want_gso = !b->csum && !b->runt;
		if (st.rx_csum_bad != want_csum || st.rx_gso_bad != want_gso)
			fail_msg("%s: rx_csum_bad %llu rx_gso_bad %llu", b->name, (unsigned long long)st.rx_csum_bad,
			         (unsigned long long)st.rx_gso_bad);
		assert_int_equal(st.rx_csum_none, 1);
		check_pool(f, 0);
		fx_free(f);
	}
}

/* ------------------------------------------------------------ counters, recovery */

static void test_counters_add_up(void **state)
{
	/* A mixed burst: good chains, offloads, bad ones; what tx_burst took
	 * is sent + dropped; the model saw exactly the sent ones. */
	struct fx *f = fx_new(state, HOST_ALL | GUEST_ALL);
	fx_up(f, NULL);
	unsigned taken = 0;
	for (unsigned r = 0; r < 20; r++) {
		struct vnet_pkt *p[4];
		p[0] = make_chain(f, 100 + r, 64, r);
		p[1] = make_chain(f, 20000, 2048, r);
		tso4(p[1], (uint16_t)(r % 5 == 0 ? 0 : 1448)); /* every fifth: gso_size 0 */
		p[2] = make_chain(f, 1500, 1500, r);
		p[2]->flags = VNET_PKT_F_CSUM_PARTIAL;
		p[2]->csum_start = (uint16_t)(r % 3 == 0 ? 1499 : 34); /* every third: outside */
		p[2]->csum_offset = 16;
		p[3] = make_chain(f, 60, 60, r);
		taken += vnet_net_tx_burst(f->net, 0, p, 4);
		ndm_poll(&f->m);
		f->m.ntx = 0;
	}
	vnet_net_tx_reclaim(f->net, 0);
	struct vnet_net_queue_stats st = stats(f);
	assert_int_equal(taken, 80);
	assert_int_equal(st.tx_packets + st.tx_drops, taken);
	assert_int_equal(st.tx_drops, 4 + 7);
	assert_int_equal(st.tx_bad_offload, st.tx_drops);
	assert_int_equal(f->m.tx_total, st.tx_packets);
	assert_int_equal(f->m.tx_gso, st.tx_gso);
	assert_int_equal(st.tx_gso, 16);
	assert_int_equal(f->m.tx_csum, st.tx_csum);
	assert_int_equal(st.tx_csum, 16 + 13);
	check_pool(f, 0);
	fx_free(f);
}

static void test_halt_with_chains_in_flight(void **state)
{
	/* Transmit chains the device holds and big-packet receive chains:
	 * halt takes every buffer back, restart reposts, traffic flows. */
	struct fx *f = fx_new(state, HOST_ALL | GUEST_ALL);
	fx_up(f, NULL);
	f->m.tx_hold = true;
	struct vnet_pkt *p[3] = {make_chain(f, 5000, 1000, 1), make_chain(f, 30000, 2048, 2), make_chain(f, 70, 70, 3)};
	tso4(p[1], 1448);
	assert_int_equal(vnet_net_tx_burst(f->net, 0, p, 3), 3);
	uint32_t inflight = 0;
	assert_int_equal(vnet_net_halt(f->net, &inflight), VNET_OK);
	assert_int_equal(vnet_net_pool_free_count(f->net), f->pool);
	assert_int_equal(vnet_net_restart(f->net), VNET_OK);
	f->m.tx_hold = false;
	check_pool(f, 0);
	struct vnet_pkt *q = make_chain(f, 40000, 2048, 4);
	tso4(q, 1448);
	assert_int_equal(vnet_net_tx_burst(f->net, 0, &q, 1), 1);
	assert_int_equal(ndm_poll(&f->m), 1);
	check_tx_bytes(&f->m.tx[0], 40000, 4);
	fill_frame(big_frame, 40000, 5);
	struct ndm_rx o = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
	                   .csum_start = 34,
	                   .csum_offset = 16,
	                   .gso_type = 1,
	                   .gso_size = 1448,
	                   .hdr_len = 54};
	assert_true(ndm_rx_inject(&f->m, 0, big_frame, 40000, &o) >= 1);
	struct vnet_pkt *r;
	assert_int_equal(vnet_net_rx_burst(f->net, 0, &r, 1), 1);
	check_rx_chain(r, 40000, 5);
	vnet_net_pkt_free(f->net, r);
	vnet_net_tx_reclaim(f->net, 0);
	check_pool(f, 0);
	/* And destroy with a chain in flight (fx_free checks every allocation). */
	f->m.tx_hold = true;
	q = make_chain(f, 9000, 1500, 6);
	assert_int_equal(vnet_net_tx_burst(f->net, 0, &q, 1), 1);
	fx_free(f);
}

static void test_chain_helpers(void **state)
{
	/* alloc_chain sizes a chain for a frame, copy_in/copy_out move bytes
	 * across segment borders, and the chain goes out as a TSO frame. */
	struct fx *f = fx_new(state, HOST_ALL);
	fx_up(f, NULL);
	uint32_t free0 = vnet_net_pool_free_count(f->net);
	static const uint32_t lens[] = {1, ROOM, ROOM + 1, ROOM + 2048, 20000, VNET_NET_FRAME_MAX};
	for (unsigned i = 0; i < 6; i++) {
		struct vnet_pkt *p = vnet_net_pkt_alloc_chain(f->net, lens[i]);
		assert_non_null(p);
		unsigned want = lens[i] <= ROOM ? 1u : 1u + (lens[i] - ROOM + 2047u) / 2048u;
		assert_int_equal(chain_len(p), want);
		assert_int_equal(p->nseg, want);
		assert_int_equal(p->pkt_len, lens[i]);
		uint32_t sum = 0;
		for (struct vnet_pkt *s = p; s; s = s->next)
			sum += s->len;
		assert_int_equal(sum, lens[i]);
		vnet_net_pkt_free(f->net, p);
	}
	assert_int_equal(vnet_net_pool_free_count(f->net), free0);
	assert_null(vnet_net_pkt_alloc_chain(f->net, 0));
	assert_null(vnet_net_pkt_alloc_chain(f->net, VNET_NET_FRAME_MAX + 1u));
	/* Copy in, in pieces across borders, copy out, compare; send. */
	fill_frame(big_frame, 30000, 77);
	struct vnet_pkt *p = vnet_net_pkt_alloc_chain(f->net, 30000);
	assert_non_null(p);
	assert_int_equal(vnet_net_pkt_copy_in(p, 0, big_frame, 1000), 1000);
	assert_int_equal(vnet_net_pkt_copy_in(p, 1000, big_frame + 1000, 29000), 29000);
	assert_int_equal(vnet_net_pkt_copy_in(p, 29990, big_frame, 100), 10); /* past the end: cut */
	assert_int_equal(vnet_net_pkt_copy_in(p, 29990, big_frame + 29990, 10), 10);
	static uint8_t back[30000];
	assert_int_equal(vnet_net_pkt_copy_out(p, 0, back, 30000), 30000);
	assert_memory_equal(back, big_frame, 30000);
	assert_int_equal(vnet_net_pkt_copy_out(p, 1980, back, 100), 100);
	assert_memory_equal(back, big_frame + 1980, 100);
	tso4(p, 1448);
	assert_int_equal(vnet_net_tx_burst(f->net, 0, &p, 1), 1);
	assert_int_equal(ndm_poll(&f->m), 1);
	check_tx_bytes(&f->m.tx[0], 30000, 77);
	vnet_net_tx_reclaim(f->net, 0);
	check_pool(f, 0);
	/* A pool too short for the chain: NULL, nothing taken. */
	struct vnet_pkt *hold[512];
	unsigned nh = 0;
	while (vnet_net_pool_free_count(f->net) > 3 && nh < 512)
		hold[nh++] = vnet_net_pkt_alloc(f->net);
	uint32_t before = vnet_net_pool_free_count(f->net);
	assert_null(vnet_net_pkt_alloc_chain(f->net, 20000));
	assert_int_equal(vnet_net_pool_free_count(f->net), before);
	for (unsigned i = 0; i < nh; i++)
		vnet_net_pkt_free(f->net, hold[i]);
	check_pool(f, 0);
	fx_free(f);
}

static void test_model_catches_bad_headers(void **state)
{
	/* The device model's transmit header check (what every other test
	 * relies on to see a bad header reach the device) must itself fail on
	 * each breach: fed headers directly, each one is a violation. */
	struct fx *f = fx_new(state, N(CSUM) | N(HOST_TSO4));
	fx_up(f, NULL);
	static struct ndm_tx_frame t;
	static uint8_t data[200];
	t.data = data;
	t.len = 200;
	struct {
		uint8_t flags, gso_type;
		uint16_t gso_size, hdr_len, start, off, nbufs;
	} bad[] = {
		{0, 0, 0, 0, 0, 0, 1},                          /* num_buffers not 0 */
		{2, 0, 0, 0, 0, 0, 0},                          /* DATA_VALID on transmit */
		{1, 0, 0, 0, 190, 9, 0},                        /* checksum field outside */
		{1, VIRTIO_NET_HDR_GSO_TCPV6, 1448, 54, 34, 16, 0}, /* TSO6 not negotiated */
		{1, VIRTIO_NET_HDR_GSO_TCPV4 | 0x80, 1448, 54, 34, 16, 0}, /* ECN not negotiated */
		{0, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 54, 0, 0, 0},   /* GSO without NEEDS_CSUM */
		{1, VIRTIO_NET_HDR_GSO_TCPV4, 0, 54, 34, 16, 0},    /* gso_size 0 */
		{1, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 201, 34, 16, 0}, /* hdr_len past the frame */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&t.hdr, 0, sizeof(t.hdr));
		t.hdr.flags = bad[i].flags;
		t.hdr.gso_type = bad[i].gso_type;
		t.hdr.gso_size = vnet_cpu_to_le16(bad[i].gso_size);
		t.hdr.hdr_len = vnet_cpu_to_le16(bad[i].hdr_len);
		t.hdr.csum_start = vnet_cpu_to_le16(bad[i].start);
		t.hdr.csum_offset = vnet_cpu_to_le16(bad[i].off);
		t.hdr.num_buffers = vnet_cpu_to_le16(bad[i].nbufs);
		unsigned v0 = f->m.violations;
		ndm_tx_check_hdr(&f->m, &t);
		if (f->m.violations == v0)
			fail_msg("model accepted bad header %u", i);
	}
	/* And a good one passes. */
	memset(&t.hdr, 0, sizeof(t.hdr));
	t.hdr.flags = 1;
	t.hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	t.hdr.gso_size = vnet_cpu_to_le16(100);
	t.hdr.hdr_len = vnet_cpu_to_le16(54);
	t.hdr.csum_start = vnet_cpu_to_le16(34);
	t.hdr.csum_offset = vnet_cpu_to_le16(16);
	unsigned v0 = f->m.violations;
	ndm_tx_check_hdr(&f->m, &t);
	assert_int_equal(f->m.violations, v0);
	assert_int_equal(ndm_gso_segments(&t), 2); /* 146 payload bytes, MSS 100 */
	f->m.violations = 0; /* the breaches above were ours, on purpose */
	fx_free(f);
}

#define ALL8(fn)                                                                                           \
	cmocka_unit_test_prestate(fn, (void *)&S_IND_MRG), cmocka_unit_test_prestate(fn, (void *)&S_IND),    \
	    cmocka_unit_test_prestate(fn, (void *)&S_MRG), cmocka_unit_test_prestate(fn, (void *)&S_NONE),   \
	    cmocka_unit_test_prestate(fn, (void *)&P_IND_MRG), cmocka_unit_test_prestate(fn, (void *)&P_IND), \
	    cmocka_unit_test_prestate(fn, (void *)&P_MRG), cmocka_unit_test_prestate(fn, (void *)&P_NONE)

int main(void)
{
	const struct CMUnitTest tests[] = {
		ALL8(test_negotiate_all_when_asked),
		ALL8(test_negotiate_not_asked),
		ALL8(test_big_pool_too_small),
		ALL8(test_negotiate_implies_csum),
		ALL8(test_negotiate_dependency_rules),
		ALL8(test_tx_chain_csum),
		ALL8(test_tx_indirect_threshold),
		ALL8(test_tx_tso_64k),
		ALL8(test_tx_small_ring_frame_max),
		ALL8(test_tx_gso_types),
		ALL8(test_tx_bad_headers),
		ALL8(test_tx_foreign_segment_refused),
		ALL8(test_tx_chain_ring_full),
		ALL8(test_rx_gso_frames),
		ALL8(test_rx_big_ring_refilled),
		ALL8(test_rx_bad_headers),
		ALL8(test_counters_add_up),
		ALL8(test_halt_with_chains_in_flight),
		cmocka_unit_test_prestate(test_chain_helpers, (void *)&S_IND_MRG),
		cmocka_unit_test_prestate(test_chain_helpers, (void *)&P_NONE),
		cmocka_unit_test_prestate(test_model_catches_bad_headers, (void *)&S_IND_MRG),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
