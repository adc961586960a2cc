/*
 * Receive path of the virtio-net layer (VirtIO 1.2 §5.1.6.3-5.1.6.4):
 * keeping receive rings filled from the pool, and turning completions into
 * frames for vnet_net_rx_burst().
 *
 * What it does: reposts free buffers (in batches with
 * opts.rx_refill_batch; in big-packet mode, §5.1.6.3.1, chains of buffers
 * of at least 65601 bytes) and kicks when the device wants it; takes used
 * buffers in batches, links the buffers of a mergeable frame
 * (num_buffers) or of a big-packet chain, and checks every header field
 * the device wrote (checksum and GSO included) against what was negotiated
 * before the frame is handed out.
 * What it does not: interrupts or re-arming (net_poll.c), any allocation,
 * locking or logging.
 * Trusts nothing the device wrote: a bad num_buffers, length (of any
 * buffer of a merged frame), checksum offset or GSO type drops the whole
 * frame (every buffer it claimed back to the pool), counts it (rx_drops, and rx_errors
 * for a violation) and never makes the driver read outside a buffer; the
 * cookies the engine returns are re-checked against the pool.
 * Serialised by the queue pair's owner (vnet/net.h).
 */
#include "core/vnet_mem.h"
#include "net_priv.h"
#include "vnet/features.h"
#include "vnet/spec/virtio_config.h"

/*
 * Big-packet mode (§5.1.6.3.1: guest GSO without MRG_RXBUF): every post is
 * a chain of rx_chain buffers, at least VNET_NET_RX_BIG_BYTES writable,
 * linked through next (head = cookie), one ring slot with an indirect table
 * or rx_chain slots without; at most net_rx_posts_max() chains posted.
 */
static __attribute__((noinline)) void net_rx_refill_big(struct vnet_net *net, struct vnet_net_q *q)
{
	struct vnet_vq *vq = q->rx;
	struct vnet_sg sg[VNET_NET_RX_BIG_SEGS_MAX];
	unsigned k = net->rx_chain;
	uint32_t per = net_rx_buf_bytes(net), cap = net_rx_posts_max(net);
	bool added = false;
	while (vnet_vq_outstanding(vq) < cap) {
		if (net->free_top < k) {
			q->st.rx_no_buf++;
			break;
		}
		struct vnet_pkt *head = 0, *prev = 0;
		for (unsigned i = 0; i < k; i++) {
			struct vnet_pkt *p = &net->pkts[net->free_stack[--net->free_top]];
			p->owner = VNET_OWN_DEV_RX;
			p->next = 0;
			if (prev)
				prev->next = p;
			else
				head = p;
			prev = p;
			sg[i].addr = p->iova + VNET_NET_HEADROOM - net->hdr_len;
			sg[i].len = per;
		}
		if (vnet_vq_add(vq, sg, 0, k, head) != VNET_OK) {
			net_pool_put_chain(net, head);
			break;
		}
		added = true;
	}
	if (added && vnet_vq_kick_prepare(vq)) {
		q->st.rx_kicks++;
		vnet_device_notify(net->dev, vq);
	}
}

/* Post free buffers to rx queue qp until the ring or the pool runs out,
 * once at least rx_batch slots are free (opts.rx_refill_batch). */
void net_rx_refill(struct vnet_net *net, struct vnet_net_q *q)
{
	struct vnet_vq *vq = q->rx;
	bool added = false;
	if (VQ_UNLIKELY_NET(net->rx_big)) {
		net_rx_refill_big(net, q);
		return;
	}
	if (vnet_vq_num_free(vq) < q->rx_batch)
		return;
	/* The device writes the header right in front of the frame. */
	const uint64_t off = VNET_NET_HEADROOM - net->hdr_len;
	const uint32_t len = net->buf_size - VNET_NET_HEADROOM + net->hdr_len;
	struct vnet_sg sg[VNET_NET_BURST_MAX];
	void *ck[VNET_NET_BURST_MAX];
	for (;;) {
		unsigned room = vnet_vq_num_free(vq);
		if (room == 0)
			break;
		if (VQ_UNLIKELY_NET(net->free_top == 0)) {
			q->st.rx_no_buf++;
			break;
		}
		if (room > VNET_NET_BURST_MAX)
			room = VNET_NET_BURST_MAX;
		if (room > net->free_top)
			room = net->free_top;
		/* Only the ownership matters while the device holds the buffer:
		 * rx_burst sets every field the application sees. */
		for (unsigned i = 0; i < room; i++) {
			struct vnet_pkt *p = &net->pkts[net->free_stack[--net->free_top]];
			sg[i].addr = p->iova + off;
			sg[i].len = len;
			ck[i] = p;
		}
		unsigned k = vnet_vq_add_bufs(vq, sg, ck, room, true);
		for (unsigned i = 0; i < k; i++)
			((struct vnet_pkt *)ck[i])->owner = VNET_OWN_DEV_RX;
		if (k)
			added = true;
		if (k < room) {
			/* Not posted (a broken queue): back on the pool, in the
			 * order they came off it. */
			for (unsigned i = room; i-- > k;)
				net_pool_put(net, ck[i]);
			break;
		}
	}
	if (added && vnet_vq_kick_prepare(vq)) {
		q->st.rx_kicks++;
		vnet_device_notify(net->dev, vq);
	}
}

/*
 * Receive completions are taken from the ring in batches into a small
 * cursor.  The batch asked for is never larger than the frames the caller
 * still has room for: every completion starts at most one frame, so a batch
 * can never hold more frames than fit.  Continuation buffers of a merged
 * frame that lie beyond the batch are fetched one at a time.
 */
struct net_rx_cursor {
	struct vnet_vq_used u[VNET_NET_BURST_MAX];
	unsigned k, i;
};

/* Next completion (from the batch, else one more from the ring), checked to
 * be one of our rx buffers.  NULL when the ring has nothing more. */
static struct vnet_pkt *net_rx_next(struct vnet_net *net, struct vnet_net_q *q, struct net_rx_cursor *c, uint32_t *len)
{
	struct vnet_vq_used one;
	const struct vnet_vq_used *u;
	if (c->i < c->k) {
		u = &c->u[c->i++];
	} else {
		if (vnet_vq_get_used(q->rx, &one, 1) != 1)
			return 0;
		u = &one;
	}
	struct vnet_pkt *p = u->cookie;
	/* The engine only returns cookies we posted; this guards our own logic. */
	if (VQ_UNLIKELY_NET(!net_pool_owns(net, p) || p->owner != VNET_OWN_DEV_RX)) {
		q->st.rx_errors++;
		return 0;
	}
	*len = u->len;
	if (VQ_UNLIKELY_NET(net->bounce.va)) net_bounce_rx(net, p, *len); /* bounce: private copy before any check */
	return p;
}

/*
 * The offload part of a header (flags or gso_type non-zero), checked
 * against what was negotiated (§5.1.6.4.2: what the device may set depends
 * on it); frame_len is the whole frame (all its buffers).  On success the
 * packet's offload view is filled and the frame counted; on failure the
 * reason is counted (rx_csum_bad, rx_gso_bad) and the caller drops it.
 */
static __attribute__((noinline)) bool net_rx_parse_offload(struct vnet_net *net, struct vnet_net_q *q,
                                                           struct vnet_pkt *p, const struct virtio_net_hdr *h,
                                                           uint8_t flags, uint8_t gt, uint32_t frame_len)
{
	bool gcsum = (net->features & VNET_BIT(VIRTIO_NET_F_GUEST_CSUM)) != 0;
	/* RSC_INFO, tunnel and security flags need features never accepted. */
	if ((flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) || (flags && !gcsum))
		goto csum_bad;
	uint16_t start = vnet_le16_to_cpu(h->csum_start);
	uint16_t off = vnet_le16_to_cpu(h->csum_offset);
	if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		/* The checksum field (2 bytes at start+off) must be inside the
		 * packet (frame_len: all its segments; 32-bit sum, no wrap). */
		if ((uint32_t)start + off + 2u > frame_len)
			goto csum_bad;
	}
	if (gt != VIRTIO_NET_HDR_GSO_NONE) {
		uint8_t base = (uint8_t)(gt & ~VIRTIO_NET_HDR_GSO_ECN);
		uint16_t gsz = vnet_le16_to_cpu(h->gso_size);
		uint16_t hl = vnet_le16_to_cpu(h->hdr_len);
		bool tcp = base == VIRTIO_NET_HDR_GSO_TCPV4 || base == VIRTIO_NET_HDR_GSO_TCPV6;
		/* A type not negotiated (tunnel bits included), ECN without
		 * GUEST_ECN or on a non-TCP type, no MSS, headers past the
		 * frame, or no checksum state at all.  §5.1.6.4.2 says the
		 * device MUST set NEEDS_CSUM with GSO; DATA_VALID instead is
		 * tolerated: Linux's tap writes it for a GRO'd (checksum
		 * verified) packet it forwards, and Linux guests take it. */
		if (base > 7u || !(net->rx_gso_ok & (1u << base)) ||
		    ((gt & VIRTIO_NET_HDR_GSO_ECN) && (!net->rx_ecn_ok || !tcp)) || gsz == 0 || hl > frame_len ||
		    !(flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))) {
			q->st.rx_gso_bad++;
			return false;
		}
		p->flags |= VNET_PKT_F_GSO;
		p->gso_type = gt;
		p->gso_size = gsz;
		p->hdr_len = hl;
		q->st.rx_gso++;
		q->st.rx_gso_bytes += frame_len;
	}
	if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		p->flags |= VNET_PKT_F_CSUM_PARTIAL;
		p->csum_start = start;
		p->csum_offset = off;
		q->st.rx_csum_partial++;
	} else if (flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		q->st.rx_csum_valid++;
	}
	if (flags & VIRTIO_NET_HDR_F_DATA_VALID)
		p->flags |= VNET_PKT_F_CSUM_VALID;
	return true;
csum_bad:
	q->st.rx_csum_bad++;
	return false;
}

/* Validate the header of the first buffer; fill the packet's offload view.
 * Returns false if the frame must be dropped.  A plain header (no flags,
 * GSO_NONE: the common case) costs one test. */
static inline bool net_rx_parse_hdr(struct vnet_net *net, struct vnet_net_q *q, struct vnet_pkt *p,
                                    const struct virtio_net_hdr *h, uint32_t frame_len)
{
	uint8_t flags = h->flags, gt = h->gso_type;
	p->flags = 0;
	if (__builtin_expect(((unsigned)flags | gt) == 0, 1))
		return true;
	return net_rx_parse_offload(net, q, p, h, flags, gt, frame_len);
}

/*
 * Big-packet mode: the completion of one posted chain (head p, used length
 * len including the header).  Every buffer of the chain becomes the
 * application's; those holding frame bytes are linked as segments (head:
 * len, nseg, next set), the rest go back to the pool.  Returns the tail.
 */
static __attribute__((noinline)) struct vnet_pkt *net_rx_big_take(struct vnet_net *net, struct vnet_pkt *p,
                                                                   uint32_t len)
{
	uint32_t per = net_rx_buf_bytes(net);
	uint32_t left = len > net->hdr_len ? len - net->hdr_len : 0;
	uint32_t first = per - net->hdr_len;
	struct vnet_pkt *s = p->next, *tail = p;
	p->len = left < first ? left : first;
	left -= p->len;
	p->nseg = 1;
	p->next = 0;
	for (unsigned i = 1; s && i < net->rx_chain; i++) {
		struct vnet_pkt *nx = s->next;
		/* We built the chain; re-check anyway rather than follow a bad link. */
		if (VQ_UNLIKELY_NET(!net_pool_owns(net, s) || s->owner != VNET_OWN_DEV_RX))
			break;
		if (left == 0) {
			net_pool_put(net, s);
		} else {
			s->owner = VNET_OWN_APP;
			s->data = s->buf + VNET_NET_HEADROOM - net->hdr_len;
			s->len = left < per ? left : per;
			s->room = per;
			s->flags = 0;
			s->nseg = 1;
			s->next = 0;
			left -= s->len;
			tail->next = s;
			tail = s;
			p->nseg++;
		}
		s = nx;
	}
	return tail;
}

/*
 * The receive loop, written once and instantiated twice (big is a
 * compile-time constant in each caller): the common receive path carries
 * no test for big-packet mode at all.
 */
static inline __attribute__((always_inline)) unsigned net_rx_burst_loop(struct vnet_net *net, uint16_t qp,
                                                                        struct vnet_pkt **pkts, unsigned n,
                                                                        const bool big)
{
	struct vnet_net_q *q = &net->q[qp];
	struct net_rx_cursor c;
	unsigned got = 0;
	c.k = c.i = 0;
	while (got < n) {
		if (c.i == c.k) {
			unsigned want = n - got < VNET_NET_BURST_MAX ? n - got : VNET_NET_BURST_MAX;
			c.i = 0;
			c.k = vnet_vq_get_used(q->rx, c.u, want);
			if (c.k == 0)
				break;
		}
		uint32_t len;
		struct vnet_pkt *p = net_rx_next(net, q, &c, &len);
		if (!p)
			continue; /* not one of ours (counted): look at the rest of the batch */
		p->owner = VNET_OWN_APP;
		/* Big-packet mode: the posted chain becomes the frame's segments
		 * (or, for a runt, the application's so the drop frees it all). */
		struct vnet_pkt *tail = p;
		if (VQ_UNLIKELY_NET(big))
			tail = net_rx_big_take(net, p, len);
		if (len < (uint32_t)net->hdr_len + VNET_NET_ETH_HLEN) {
			/* Runt, or a length the engine zeroed because it exceeded the buffer. */
			q->st.rx_errors++;
			q->st.rx_drops++;
			vnet_net_pkt_free(net, p);
			continue;
		}
		const struct virtio_net_hdr *h = (const void *)(p->buf + VNET_NET_HEADROOM - net->hdr_len);
		/* Copy the one field we act on before trusting it (the device may
		 * still be writing: it owns no buffer now, but be defensive). */
		uint16_t nbufs = net->mrg_rxbuf ? vnet_le16_to_cpu(*(volatile const vnet_le16 *)&h->num_buffers) : 1;
		uint32_t frame = len - net->hdr_len;
		p->data = p->buf + VNET_NET_HEADROOM;
		if (!big) {
			p->len = frame;
			p->nseg = 1;
			p->next = 0;
		}
		p->room = net->buf_size - VNET_NET_HEADROOM;
		p->queue = qp;
		p->gso_type = 0;
		p->gso_size = 0;
		p->hdr_len = 0;
		net_rss_rx_hash(net, p, h); /* control plane: HASH_REPORT metadata */
		/* num_buffers: 1 without MRG_RXBUF; with it, at least 1 and no
		 * more than the ring can hold (spec 5.1.6.4). */
		bool ok = !(nbufs == 0 || nbufs > net->qsize || nbufs > 255);
		uint32_t total = frame;
		for (uint16_t i = 1; i < nbufs && nbufs <= net->qsize; i++) {
			uint32_t slen;
			struct vnet_pkt *s = net_rx_next(net, q, &c, &slen);
			if (!s) {
				/* The device announced more buffers than it completed. */
				ok = false;
				break;
			}
			s->owner = VNET_OWN_APP;
			/* A continuation buffer carries frame bytes, so 0 is never a
			 * real length: it is what the engine reports for a used
			 * length beyond the buffer posted (vq bad_len).  Keep
			 * collecting the buffers num_buffers claimed, so the frame
			 * is delimited as the device sent it, then drop it whole:
			 * never deliver a frame with a hole. */
			if (slen == 0)
				ok = false;
			s->data = s->buf + VNET_NET_HEADROOM - net->hdr_len;
			s->len = slen;
			s->room = net->buf_size - VNET_NET_HEADROOM + net->hdr_len;
			s->flags = 0;
			s->next = 0;
			s->nseg = 1;
			tail->next = s;
			tail = s;
			total += slen;
			p->nseg++;
		}
		/* After merging: csum_start/csum_offset are offsets in the whole
		 * packet (spec 5.1.6.4.1), not in the first buffer. */
		ok = ok && total <= VNET_NET_FRAME_MAX;
		if (ok)
			ok = net_rx_parse_hdr(net, q, p, h, total);
		if (!ok) {
			/* One frame as we delimit it (head plus the buffers it
			 * claimed), however many completions it swallowed. */
			q->st.rx_errors++;
			q->st.rx_drops++;
			vnet_net_pkt_free(net, p);
			continue;
		}
		if (p->nseg > 1)
			q->st.rx_merged++;
		p->pkt_len = total;
		q->st.rx_packets++;
		q->st.rx_bytes += total;
		pkts[got++] = p;
	}
	net_rx_refill(net, q);
	return got;
}

static __attribute__((noinline)) unsigned net_rx_burst_big(struct vnet_net *net, uint16_t qp, struct vnet_pkt **pkts,
                                                           unsigned n)
{
	return net_rx_burst_loop(net, qp, pkts, n, true);
}

unsigned vnet_net_rx_burst(struct vnet_net *net, uint16_t qp, struct vnet_pkt **pkts, unsigned n)
{
	if (VQ_UNLIKELY_NET(!net || qp >= net->pairs || !pkts || !net->running))
		return 0;
	if (VQ_UNLIKELY_NET(net->rx_big))
		return net_rx_burst_big(net, qp, pkts, n);
	return net_rx_burst_loop(net, qp, pkts, n, false);
}
