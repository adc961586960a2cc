/*
 * Receive path of the virtio-net layer (VirtIO 1.2 §5.1.6.3-5.1.6.4):
 * keeping receive rings filled from the pool, and turning completions into
 * frames for vnet_net_rx_burst().
 *
 * What it does: reposts free buffers (in batches with
 * opts.rx_refill_batch) and kicks when the device wants it; takes used
 * buffers in batches, links the buffers of a mergeable frame
 * (num_buffers), and checks every header field the device wrote against
 * what was negotiated before the frame is handed out.
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

/* Post free buffers to rx queue qp until the ring or the pool runs out,
 * once at least rx_batch slots are free (opts.rx_refill_batch). */
void net_rx_refill(struct vnet_net *net, struct vnet_net_q *q)
{
	struct vnet_vq *vq = q->rx;
	bool added = false;
	if (vnet_vq_num_free(vq) < q->rx_batch)
		return;
	while (vnet_vq_num_free(vq) > 0) {
		if (VQ_UNLIKELY_NET(net->free_top == 0)) {
			q->st.rx_no_buf++;
			break;
		}
		/* Only the ownership matters while the device holds the buffer:
		 * rx_burst sets every field the application sees. */
		struct vnet_pkt *p = &net->pkts[net->free_stack[--net->free_top]];
		/* The device writes the header right in front of the frame. */
		struct vnet_sg sg = {
			.addr = p->iova + VNET_NET_HEADROOM - net->hdr_len,
			.len = net->buf_size - VNET_NET_HEADROOM + net->hdr_len,
		};
		if (vnet_vq_add(vq, &sg, 0, 1, p) != VNET_OK) {
			net_pool_put(net, p);
			break;
		}
		p->owner = VNET_OWN_DEV_RX;
		added = true;
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
	return p;
}

/* Validate the header of the first buffer; fill the packet's offload view.
 * Returns false if the frame must be dropped (spec 5.1.6.4.2: what the
 * device may set depends on what was negotiated). */
static bool net_rx_parse_hdr(struct vnet_net *net, struct vnet_pkt *p, const struct virtio_net_hdr *h,
                             uint32_t frame_len)
{
	uint64_t f = net->features;
	uint8_t flags = h->flags;
	p->flags = 0;
	if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!(f & VNET_BIT(VIRTIO_NET_F_GUEST_CSUM)))
			return false;
		uint16_t start = vnet_le16_to_cpu(h->csum_start);
		uint16_t off = vnet_le16_to_cpu(h->csum_offset);
		/* The checksum field (2 bytes at start+off) must be inside the
		 * packet (frame_len: all its segments). */
		if ((uint32_t)start + off + 2u > frame_len)
			return false;
		p->flags |= VNET_PKT_F_CSUM_PARTIAL;
		p->csum_start = start;
		p->csum_offset = off;
	}
	if (flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		if (!(f & VNET_BIT(VIRTIO_NET_F_GUEST_CSUM)))
			return false;
		p->flags |= VNET_PKT_F_CSUM_VALID;
	}
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		/* We never accept GUEST_TSO/UFO/USO, so the device must not send GSO frames. */
		return false;
	}
	return true;
}

unsigned vnet_net_rx_burst(struct vnet_net *net, uint16_t qp, struct vnet_pkt **pkts, unsigned n)
{
	if (VQ_UNLIKELY_NET(!net || qp >= net->pairs || !pkts || !net->running))
		return 0;
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
		p->len = frame;
		p->room = net->buf_size - VNET_NET_HEADROOM;
		p->nseg = 1;
		p->next = 0;
		p->queue = qp;
		p->gso_type = 0;
		p->gso_size = 0;
		p->hdr_len = 0;
		net_rss_rx_hash(net, p, h); /* control plane: HASH_REPORT metadata */
		/* num_buffers: 1 without MRG_RXBUF; with it, at least 1 and no
		 * more than the ring can hold (spec 5.1.6.4). */
		bool ok = !(nbufs == 0 || nbufs > net->qsize || nbufs > 255);
		struct vnet_pkt *tail = p;
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
		if (ok)
			ok = net_rx_parse_hdr(net, p, h, total);
		if (!ok || total > 65535u + VNET_NET_ETH_HLEN) {
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
