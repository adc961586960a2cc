/*
 * Transmit path of the virtio-net layer (VirtIO 1.2 §5.1.6.2): filling
 * the header in front of each frame, posting single-descriptor buffers
 * (the fast path) or, for frames with offload metadata or several
 * segments, descriptor chains (indirect from tx_indirect_min on), and
 * giving completed ones back to the pool.
 *
 * What it does: vnet_net_tx_burst() takes a prefix of the application's
 * frames, refuses (untouched) buffers it does not own, consumes malformed
 * ones (freed, counted in tx_drops and tx_errors) so one bad frame cannot
 * stall the queue, and notifies once per burst when the device wants it;
 * completions are reclaimed in batches (before posting only when the ring
 * may lack room).
 * What it does not: segmentation or checksum in software, offloads that
 * were not negotiated (such a frame is dropped and counted), interrupts
 * (net_poll.c), allocation, locking, logging.
 * Trusts: the application's fields only after range checks; completion
 * cookies only after net_pool_owns() and the DVTX marker.
 * Serialised by the queue pair's owner (vnet/net.h).
 */
#include "core/vnet_mem.h"
#include "net_priv.h"
#include "vnet/features.h"
#include "vnet/spec/virtio_config.h"

/* A completion that is not a single-buffer frame: a chain (its head is
 * marked apart, so the common case tests one marker), or not ours. */
static __attribute__((noinline)) void net_tx_reclaim_other(struct vnet_net *net, struct vnet_net_q *q,
                                                           struct vnet_pkt *p)
{
	if (net_pool_owns(net, p) && p->owner == VNET_OWN_DEV_TXC)
		net_pool_put_chain(net, p);
	else
		q->st.tx_errors++;
}

unsigned net_tx_reclaim(struct vnet_net *net, struct vnet_net_q *q)
{
	struct vnet_vq_used u[VNET_NET_BURST_MAX];
	unsigned total = 0;
	/* The pool's bounds in locals: the buffer stores could alias net. */
	const uintptr_t pool_base = (uintptr_t)net->pkts;
	const uintptr_t pool_last = net_pool_last(net);
	uint32_t *const stack = net->free_stack;
	for (;;) {
		unsigned k = vnet_vq_get_used(q->tx, u, VNET_NET_BURST_MAX);
		uint32_t top = net->free_top; /* one store per batch, not per frame */
		for (unsigned i = 0; i < k; i++) {
			struct vnet_pkt *p = u[i].cookie;
			if (net_pool_owns_at(pool_base, pool_last, p) && p->owner == VNET_OWN_DEV_TX) {
				net_pool_put_at(stack, p, &top);
			} else {
				net->free_top = top;
				net_tx_reclaim_other(net, q, p);
				top = net->free_top;
			}
		}
		net->free_top = top;
		if (VQ_UNLIKELY_NET(q->lat.tx_pkt)) net_stats_tx_done(q, u, k); /* performance monitor */
		total += k;
		if (k < VNET_NET_BURST_MAX)
			return total;
	}
}

unsigned vnet_net_tx_reclaim(struct vnet_net *net, uint16_t qp)
{
	/* A dead device (reset failed) keeps what it holds: no reclaim. */
	if (!net || qp >= net->pairs || net->dead)
		return 0;
	return net_tx_reclaim(net, &net->q[qp]);
}

/* What net_tx_offload did with a frame. */
enum net_tx_result {
	NET_TX_POSTED,  /* on the ring */
	NET_TX_DROPPED, /* malformed: freed and counted */
	NET_TX_REFUSED, /* a segment not the caller's: untouched, counted, stop */
	NET_TX_FULL,    /* no room: still the caller's, stop */
};

/*
 * Check the offload metadata of a frame of `total` bytes against the
 * contract in vnet/net.h and what was negotiated (§5.1.6.2.1).  True if
 * it may be sent.
 */
static bool net_tx_offload_ok(const struct vnet_net *net, const struct vnet_pkt *p, uint32_t total)
{
	uint16_t fl = p->flags;
	/* CSUM_VALID is an rx-only flag: a forwarded buffer keeps it, ignored. */
	if (fl & ~(VNET_PKT_F_CSUM_PARTIAL | VNET_PKT_F_CSUM_VALID | VNET_PKT_F_GSO))
		return false;
	if (fl & VNET_PKT_F_CSUM_PARTIAL) {
		if (!(net->features & VNET_BIT(VIRTIO_NET_F_CSUM)))
			return false;
		if ((uint32_t)p->csum_start + p->csum_offset + 2u > total)
			return false;
	}
	if (fl & VNET_PKT_F_GSO) {
		uint8_t gt = p->gso_type;
		uint8_t base = (uint8_t)(gt & ~VNET_PKT_GSO_ECN);
		bool tcp = base == VNET_PKT_GSO_TCPV4 || base == VNET_PKT_GSO_TCPV6;
		/* §5.1.6.2.1: a negotiated type, ECN only with HOST_ECN on TCP,
		 * NEEDS_CSUM with it, an MSS; and headers inside the frame. */
		if (base > 7u || !(net->tx_gso_ok & (1u << base)))
			return false;
		if ((gt & VNET_PKT_GSO_ECN) && (!net->tx_ecn_ok || !tcp))
			return false;
		if (!(fl & VNET_PKT_F_CSUM_PARTIAL) || p->gso_size == 0 || p->hdr_len > total)
			return false;
	}
	return true;
}

/*
 * The all-zero header of a plain frame (§5.1.6: no flags, GSO_NONE).  The
 * two common lengths (10 bytes legacy-style, 12 with VERSION_1 or
 * MRG_RXBUF) are zeroed with __builtin_memset of a constant size, which
 * the compiler expands into two plain stores even under -fno-builtin;
 * the core's generic memset (a libc call per frame in user space) stays
 * for the 20-byte HASH_REPORT header.  Unconditional: a test-then-skip
 * variant measured worse (docs/performance.md, "measured and not kept").
 */
static inline void net_tx_plain_hdr(void *h, uint16_t len)
{
	if (VQ_LIKELY_NET(len == 12u))
		__builtin_memset(h, 0, 12);
	else if (len == 10u)
		__builtin_memset(h, 0, 10);
	else
		memset(h, 0, len);
}

/* Header for an offloaded or chained frame (the plain one is all zero). */
static void net_tx_offload_hdr(const struct vnet_net *net, const struct vnet_pkt *p)
{
	struct virtio_net_hdr *h = (void *)(p->data - net->hdr_len);
	memset(h, 0, net->hdr_len);
	if (p->flags & VNET_PKT_F_CSUM_PARTIAL) {
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = vnet_cpu_to_le16(p->csum_start);
		h->csum_offset = vnet_cpu_to_le16(p->csum_offset);
	}
	if (p->flags & VNET_PKT_F_GSO) {
		h->gso_type = p->gso_type;
		h->gso_size = vnet_cpu_to_le16(p->gso_size);
		h->hdr_len = vnet_cpu_to_le16(p->hdr_len);
	}
}

/* A segment's data/len inside its own buffer (the head also leaves room
 * for the header in front). */
static bool net_tx_seg_ok(const struct vnet_net *net, const struct vnet_pkt *s, bool head)
{
	uintptr_t lo = (uintptr_t)s->buf + (head ? net->hdr_len : 0u);
	uintptr_t d = (uintptr_t)s->data;
	return s->len != 0 && d >= lo && d <= (uintptr_t)s->buf + net->buf_size &&
	       s->len <= (uintptr_t)s->buf + net->buf_size - d;
}

/*
 * A frame with offload metadata or more than one segment (the slow path):
 * walk and check the chain, check the metadata, write the header, post the
 * segments as one descriptor chain (indirect from tx_indirect_min
 * descriptors on, by the engine).  Never reads past a segment's buffer and
 * never posts a descriptor the checks did not pass.
 */
static __attribute__((noinline)) enum net_tx_result net_tx_offload(struct vnet_net *net, struct vnet_net_q *q,
                                                                   struct vnet_pkt *p, bool *reclaimed)
{
	struct vnet_sg sg[VNET_NET_TX_SEGS_MAX];
	uint32_t total = 0;
	unsigned n = 0;
	bool bad = false;
	/* Ownership first: a frame holding a buffer that is not the caller's
	 * is refused whole and untouched (it may be someone else's). */
	for (struct vnet_pkt *s = p; s; s = s->next) {
		if (n == net->tx_segs_max) {
			bad = true; /* too many segments (or a loop): dropped below */
			break;
		}
		if (s != p && (!net_pool_owns(net, s) || s->owner != VNET_OWN_APP)) {
			q->st.tx_errors++;
			return NET_TX_REFUSED;
		}
		if (!net_tx_seg_ok(net, s, s == p)) {
			bad = true;
		} else {
			uint64_t off = (uint64_t)((uintptr_t)s->data - (uintptr_t)s->buf);
			sg[n].addr = s->iova + off;
			sg[n].len = s->len;
			total += s->len;
		}
		n++;
	}
	if (bad || total > VNET_NET_FRAME_MAX || !net_tx_offload_ok(net, p, total)) {
		q->st.tx_errors++;
		q->st.tx_drops++;
		q->st.tx_bad_offload++;
		vnet_net_pkt_free(net, p);
		return NET_TX_DROPPED;
	}
	net_tx_offload_hdr(net, p);
	if (VQ_UNLIKELY_NET(net->bounce.va)) net_bounce_tx(net, p); /* bounce: the device gets a copy */
	sg[0].addr -= net->hdr_len;
	sg[0].len += net->hdr_len;
	int rc = vnet_vq_add(q->tx, sg, n, 0, p);
	if (rc == VNET_ENOSPC && !*reclaimed) {
		/* A chain may need more descriptors than the burst check assumed. */
		net_tx_reclaim(net, q);
		*reclaimed = true;
		rc = vnet_vq_add(q->tx, sg, n, 0, p);
	}
	if (rc != VNET_OK) {
		if (rc != VNET_ENOSPC)
			q->st.tx_errors++;
		return NET_TX_FULL;
	}
	for (struct vnet_pkt *s = p; s; s = s->next)
		s->owner = VNET_OWN_DEV_TX;
	if (n > 1)
		p->owner = VNET_OWN_DEV_TXC; /* reclaim gives the whole chain back */
	p->pkt_len = total;
	p->nseg = (uint8_t)n;
	q->st.tx_packets++;
	q->st.tx_bytes += total;
	if (p->flags & VNET_PKT_F_CSUM_PARTIAL)
		q->st.tx_csum++;
	if (p->flags & VNET_PKT_F_GSO) {
		q->st.tx_gso++;
		q->st.tx_gso_bytes += total;
	}
	if (n > 1) {
		q->st.tx_sg++;
		if (net->tx_indirect_min && n >= net->tx_indirect_min)
			q->st.tx_indirect++;
	}
	return NET_TX_POSTED;
}

/*
 * Plain frames of a burst waiting to be posted together (one engine call
 * for up to VNET_NET_BURST_MAX of them).  Its count is the caller's local:
 * the arrays escape to the engine, so with -fno-strict-aliasing a counter
 * in here (or any local whose address is taken) would be stored and
 * reloaded around every header write.
 */
struct net_tx_batch {
	struct vnet_sg sg[VNET_NET_BURST_MAX];
	void *cookie[VNET_NET_BURST_MAX];
};

/* What the gathering reads of net, copied once per burst: its header
 * stores could alias net as far as the compiler knows. */
struct net_tx_geom {
	uintptr_t pool_base, pool_last; /* net_pool_owns_at */
	uintptr_t bs;                   /* buffer size */
	uint16_t hl;                    /* header length */
};

/* A plain frame at offset off in its buffer of bs bytes fits: hl <= off <=
 * bs (room for the header in front) and 1 <= len <= bs - off, as two
 * unsigned compares (off < hl and len == 0 wrap round). */
static inline bool net_tx_plain_fits(uintptr_t off, uintptr_t len, uint16_t hl, uintptr_t bs)
{
	return off - hl <= bs - hl && len - 1u < bs - off;
}

/*
 * Gather up to lim plain frames from pp into b: each checked (ours, the
 * application's, one segment, no offload flags, inside its buffer), given
 * its all-zero header and marked the device's.  Stops at the first frame
 * that is not such a frame; returns how many were gathered.  Its own
 * function so that its few live values stay in registers (a spill is a
 * store, and on this path stores queue behind the frame-line ones).
 */
static inline __attribute__((always_inline)) unsigned net_tx_gather_hl(const struct net_tx_geom *g,
                                                                        struct vnet_pkt **pp, unsigned lim,
                                                                        struct net_tx_batch *b, const uint16_t hl)
{
	const uintptr_t base = g->pool_base, last = g->pool_last, bs = g->bs;
	unsigned i = 0;
	for (; i < lim; i++) {
		struct vnet_pkt *p = pp[i];
		if (VQ_UNLIKELY_NET(!net_pool_owns_at(base, last, p) || p->owner != VNET_OWN_APP || p->next ||
		                    (p->flags & ~VNET_PKT_F_CSUM_VALID)))
			break;
		uintptr_t off = (uintptr_t)p->data - (uintptr_t)p->buf;
		uint32_t len = p->len;
		if (VQ_UNLIKELY_NET(!net_tx_plain_fits(off, len, hl, bs)))
			break;
		net_tx_plain_hdr(p->data - hl, hl);
		p->owner = VNET_OWN_DEV_TX;
		b->sg[i].addr = p->iova + (uint64_t)(off - hl);
		b->sg[i].len = len + hl;
		b->cookie[i] = p;
	}
	return i;
}

/* The header length a constant in the loop for the common one (12: VERSION_1
 * or MRG_RXBUF); the others in a function of their own, whose memset call
 * would otherwise cost the common loop its registers. */
static __attribute__((noinline)) unsigned net_tx_gather_other(const struct net_tx_geom *g, struct vnet_pkt **pp,
                                                              unsigned lim, struct net_tx_batch *b)
{
	return net_tx_gather_hl(g, pp, lim, b, g->hl);
}

static __attribute__((noinline)) unsigned net_tx_gather(const struct net_tx_geom *g, struct vnet_pkt **pp,
                                                        unsigned lim, struct net_tx_batch *b)
{
	if (VQ_LIKELY_NET(g->hl == 12u))
		return net_tx_gather_hl(g, pp, lim, b, 12u);
	return net_tx_gather_other(g, pp, lim, b);
}

/* Post the n gathered frames of the batch; returns how many went on the
 * ring (fewer only when it is broken: the rest are the caller's again).
 * The byte count is summed here from the staged lengths (loads only: the
 * gathering loop runs out of registers with one more live value, and its
 * spills are stores). */
static unsigned net_tx_flush(struct vnet_net *net, struct vnet_net_q *q, struct net_tx_batch *b, unsigned n)
{
	if (VQ_UNLIKELY_NET(net->bounce.va)) /* bounce: the device gets a copy */
		for (unsigned i = 0; i < n; i++)
			net_bounce_tx(net, b->cookie[i]);
	unsigned k = vnet_vq_add_bufs(q->tx, b->sg, b->cookie, n, false);
	if (VQ_UNLIKELY_NET(k < n)) {
		for (unsigned i = k; i < n; i++)
			((struct vnet_pkt *)b->cookie[i])->owner = VNET_OWN_APP;
		if (vnet_vq_is_broken(q->tx))
			q->st.tx_errors++; /* not a full ring: counted as before */
	}
	uint64_t bytes = 0;
	for (unsigned i = 0; i < k; i++)
		bytes += b->sg[i].len;
	q->st.tx_packets += k;
	q->st.tx_bytes += bytes - (uint64_t)k * net->hdr_len;
	return k;
}

unsigned vnet_net_tx_burst(struct vnet_net *net, uint16_t qp, struct vnet_pkt **pkts, unsigned n)
{
	if (VQ_UNLIKELY_NET(!net || qp >= net->pairs || !pkts || !net->running))
		return 0;
	if (VQ_UNLIKELY_NET(!net->link_up)) return net_ctrl_tx_link_down(net, qp, n); /* control plane: link gate */
	struct vnet_net_q *q = &net->q[qp];
	/* Reclaim first only when the ring may lack room for the burst;
	 * otherwise post and notify first, so the device gets the frames
	 * without waiting for our read of the used ring (a cache line the
	 * device wrote, hence a miss), and reclaim after. */
	bool reclaimed = false;
	if (vnet_vq_num_free(q->tx) < n) {
		net_tx_reclaim(net, q);
		reclaimed = true;
	} else {
		/* The reclaim after the burst reads first what the device
		 * last wrote: start that miss now, behind the posting. */
		vnet_vq_prefetch_used(q->tx);
	}
	/* Each round gathers the plain frames from pkts[done] on (checked,
	 * given their header), posts them in one engine call, then deals with
	 * the frame that stopped the gathering, if any: offloads or a chain
	 * (net_tx_offload), a malformed frame (consumed), a buffer not the
	 * caller's (refused).  So the frames the burst consumed stay a prefix
	 * of pkts whatever happens to the ones after. */
	struct net_tx_batch b;
	unsigned done = 0;
	bool added = false;
	const struct net_tx_geom g = {(uintptr_t)net->pkts, net_pool_last(net), net->buf_size, net->hdr_len};
	while (done < n) {
		struct vnet_pkt **pp = pkts + done;
		unsigned lim = n - done < VNET_NET_BURST_MAX ? n - done : VNET_NET_BURST_MAX;
		/* No more plain frames than free descriptors (one each): a full
		 * ring stops the burst before headers are written for nothing. */
		unsigned room = vnet_vq_num_free(q->tx);
		bool full = room < lim;
		if (full)
			lim = room;
		unsigned bn = net_tx_gather(&g, pp, lim, &b);
		if (bn) {
			unsigned k = net_tx_flush(net, q, &b, bn);
			if (k)
				added = true;
			if (k < bn) {
				done += k; /* the ring is full: the rest stay the caller's */
				break;
			}
			done += bn;
		}
		if (bn == lim && !full)
			continue;
		/* pkts[done] stopped the gathering, or the ring is full. */
		struct vnet_pkt *p = pkts[done];
		if (!net_pool_owns(net, p) || p->owner != VNET_OWN_APP) {
			/* Not ours to send: refuse without touching it. */
			q->st.tx_errors++;
			break;
		}
		if (p->next || (p->flags & ~VNET_PKT_F_CSUM_VALID)) {
			/* Offloads or a chain: off the single-segment fast path. */
			enum net_tx_result r = net_tx_offload(net, q, p, &reclaimed);
			if (r == NET_TX_POSTED)
				added = true;
			else if (r != NET_TX_DROPPED)
				break; /* refused or no room: still the caller's */
			done++;
			continue;
		}
		if (net_tx_plain_fits((uintptr_t)p->data - (uintptr_t)p->buf, p->len, g.hl, g.bs))
			break; /* a good frame and a full ring: it and the rest stay the caller's */
		/* Malformed (with the ring full too): consumed and counted, so
		 * one bad frame cannot stall the queue; the application's error,
		 * and a frame it gave us that was not sent. */
		q->st.tx_errors++;
		q->st.tx_drops++;
		vnet_net_pkt_free(net, p);
		done++;
	}
	if (added && vnet_vq_kick_prepare(q->tx)) {
		q->st.tx_kicks++;
		vnet_device_notify(net->dev, q->tx);
	}
	if (VQ_UNLIKELY_NET(q->lat.on) && added) net_stats_tx_post(q, pkts, done); /* performance monitor */
	if (!reclaimed)
		net_tx_reclaim(net, q);
	return net_ctrl_tx_flow(net, q, done, n); /* control plane: per-queue stop/wake */
}
