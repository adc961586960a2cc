/*
 * Transmit path of the virtio-net layer (VirtIO 1.2 §5.1.6.2): filling
 * the header in front of each frame, posting single-descriptor buffers,
 * and giving completed ones back to the pool.
 *
 * What it does: vnet_net_tx_burst() takes a prefix of the application's
 * frames, refuses (untouched) buffers it does not own, consumes malformed
 * ones (freed, counted in tx_drops and tx_errors) so one bad frame cannot
 * stall the queue, and notifies once per burst when the device wants it;
 * completions are reclaimed in batches (before posting only when the ring
 * may lack room).
 * What it does not: segmentation or checksum in software, offloads that
 * were not negotiated, interrupts (net_poll.c), allocation, locking,
 * logging.
 * Trusts: the application's fields only after range checks; completion
 * cookies only after net_pool_owns() and the DVTX marker.
 * Serialised by the queue pair's owner (vnet/net.h).
 */
#include "core/vnet_mem.h"
#include "net_priv.h"
#include "vnet/features.h"
#include "vnet/spec/virtio_config.h"

unsigned net_tx_reclaim(struct vnet_net *net, struct vnet_net_q *q)
{
	struct vnet_vq_used u[VNET_NET_BURST_MAX];
	unsigned total = 0;
	for (;;) {
		unsigned k = vnet_vq_get_used(q->tx, u, VNET_NET_BURST_MAX);
		for (unsigned i = 0; i < k; i++) {
			struct vnet_pkt *p = u[i].cookie;
			if (net_pool_owns(net, p) && p->owner == VNET_OWN_DEV_TX)
				net_pool_put(net, p);
			else
				q->st.tx_errors++;
		}
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

/* Fill the header in front of p->data.  False if the packet asks for an
 * offload that was not negotiated or its fields are out of range. */
static bool net_tx_fill_hdr(struct vnet_net *net, struct vnet_pkt *p)
{
	struct virtio_net_hdr *h = (void *)(p->data - net->hdr_len);
	memset(h, 0, net->hdr_len);
	if (p->flags & VNET_PKT_F_CSUM_PARTIAL) {
		if (!(net->features & VNET_BIT(VIRTIO_NET_F_CSUM)))
			return false;
		if ((uint32_t)p->csum_start + p->csum_offset + 2u > p->len)
			return false;
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = vnet_cpu_to_le16(p->csum_start);
		h->csum_offset = vnet_cpu_to_le16(p->csum_offset);
	}
	if (p->flags & VNET_PKT_F_GSO)
		return false; /* HOST_TSO/USO are not accepted yet */
	return true;
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
	}
	unsigned done = 0;
	bool added = false;
	for (; done < n; done++) {
		struct vnet_pkt *p = pkts[done];
		if (!net_pool_owns(net, p) || p->owner != VNET_OWN_APP || p->next) {
			/* Not ours to send (or multi-segment): refuse without touching it. */
			q->st.tx_errors++;
			break;
		}
		uintptr_t head = (uintptr_t)p->data - net->hdr_len;
		if (p->len == 0 || head < (uintptr_t)p->buf ||
		    (uintptr_t)p->data + p->len > (uintptr_t)p->buf + net->buf_size || !net_tx_fill_hdr(net, p)) {
			/* A malformed packet is consumed and counted, so one bad frame
			 * cannot stall the queue: the application's error, and a
			 * frame it gave us that was not sent. */
			q->st.tx_errors++;
			q->st.tx_drops++;
			vnet_net_pkt_free(net, p);
			continue;
		}
		struct vnet_sg sg = {
			.addr = p->iova + (uint64_t)(head - (uintptr_t)p->buf),
			.len = p->len + net->hdr_len,
		};
		int rc = vnet_vq_add(q->tx, &sg, 1, 0, p);
		if (rc != VNET_OK) {
			if (rc != VNET_ENOSPC)
				q->st.tx_errors++;
			break;
		}
		p->owner = VNET_OWN_DEV_TX;
		q->st.tx_packets++;
		q->st.tx_bytes += p->len;
		added = true;
	}
	if (added && vnet_vq_kick_prepare(q->tx)) {
		q->st.tx_kicks++;
		vnet_device_notify(net->dev, q->tx);
	}
	if (!reclaimed)
		net_tx_reclaim(net, q);
	return net_ctrl_tx_flow(net, q, done, n); /* control plane: per-queue stop/wake */
}
