/*
 * virtio-net bounce buffers (vnet_net_opts.bounce): every frame goes
 * through device-visible memory the driver copies to and from, as Linux's
 * swiotlb does for confidential guests, so a device never sees the pool
 * buffers the application reads and writes, and cannot change a frame
 * after the driver checked it (docs/reliability.md, "Bounce buffers").
 *
 * What it does: one device-visible area (vnet_hal_dma_alloc) shadowing the
 * packet pool buffer for buffer, so buffer i's bounce copy is at the same
 * offset as its pool buffer; the pool keeps its private addresses (buf)
 * but its device addresses (iova) are pointed into the area, so the
 * posting paths are unchanged.  Receive: each completed buffer's header
 * and frame bytes (the used length, bounded by what was posted) are copied
 * into the pool buffer before rx_burst reads any of them (hook in
 * net_rx_next).  Transmit: each segment (and the header in front of the
 * first) is copied into the area when the frame is posted (hooks in
 * net_tx.c), after the driver wrote the header.
 *
 * What it does not: big-packet receive chains (refused at create: keep
 * MRG_RXBUF, or no GUEST offloads), the control queue (its command buffer
 * is device-visible by design and every answer is checked there), the
 * rings.  Without the option nothing here runs: the hooks test one field.
 *
 * Context: net_bounce_init/fini/abandon at create/destroy (may sleep); the
 * copies in the data path, under the queue's serialisation.
 */
#include "core/vnet_log.h"
#include "core/vnet_mem.h"
#include "net_priv.h"

int net_bounce_init(struct vnet_net *net)
{
	if (net->rx_big) {
		VNET_ERR("%s: bounce buffers with big-packet receive chains are not supported: keep MRG_RXBUF "
		         "or ask no receive offloads",
		         vnet_device_name(net->dev));
		return VNET_ENOTSUP;
	}
	int rc = vnet_hal_dma_alloc((size_t)net->pool_size * net->buf_stride, 64, &net->bounce);
	if (rc != VNET_OK)
		return rc;
	for (uint32_t i = 0; i < net->pool_size; i++)
		net->pkts[i].iova = net->bounce.iova + (uint64_t)i * net->buf_stride;
	VNET_INFO("%s: bounce buffers: %u x %u bytes", vnet_device_name(net->dev), (unsigned)net->pool_size,
	          (unsigned)net->buf_size);
	return VNET_OK;
}

void net_bounce_fini(struct vnet_net *net)
{
	vnet_hal_dma_free(&net->bounce);
}

size_t net_bounce_abandon(struct vnet_net *net)
{
	/* The device may still write the area: never freed, like the pool. */
	size_t kept = net->bounce.len;
	net->bounce = (struct vnet_dma){0};
	return kept;
}

static inline uint8_t *net_bounce_va(const struct vnet_net *net, const struct vnet_pkt *p)
{
	return (uint8_t *)net->bounce.va + (size_t)p->idx * net->buf_stride;
}

void net_bounce_rx(struct vnet_net *net, struct vnet_pkt *p, uint32_t len)
{
	/* The device wrote at HEADROOM - hdr_len (head and continuation
	 * buffers alike, net_rx_refill); the engine bounded len by what was
	 * posted there, bound it again so a copy never leaves the buffer. */
	uint32_t off = VNET_NET_HEADROOM - net->hdr_len;
	uint32_t n = len <= net->buf_size - off ? len : net->buf_size - off;
	memcpy(p->buf + off, net_bounce_va(net, p) + off, n);
}

void net_bounce_tx(struct vnet_net *net, struct vnet_pkt *p)
{
	/* Exactly what the posting paths hand the device: the header in front
	 * of the first segment, then each segment's bytes (net_tx.c checked
	 * every segment lies inside its buffer before posting). */
	for (struct vnet_pkt *s = p; s; s = s->next) {
		size_t off = (size_t)(s->data - s->buf);
		size_t n = s->len;
		if (s == p) {
			off -= net->hdr_len;
			n += net->hdr_len;
		}
		memcpy(net_bounce_va(net, s) + off, s->buf + off, n);
	}
}
