/*
 * Packet-buffer pool of the virtio-net layer: one DMA region cut into
 * buf_size slots, a descriptor (struct vnet_pkt) per slot and a stack of
 * free slot indices.
 *
 * What it does: hands buffers to the application (vnet_net_pkt_alloc) and
 * takes them back (vnet_net_pkt_free, a whole chain), refusing a pointer
 * that is not one of its descriptors or not the application's; allocates
 * and frees the pool at bring-up and teardown.  The per-packet helpers
 * (net_pool_get/put/owns) are inline in net_priv.h so rx and tx use them
 * without a call.
 * What it does not: decide the pool size policy beyond the default
 * (opts.pool_size), lock (see the Concurrency note in vnet/net.h), log on
 * the per-packet path except for a refused free (an application bug).
 * Trusts: nothing the application passes; its own free stack.
 */
#include "core/vnet_log.h"
#include "net_priv.h"

struct vnet_pkt *vnet_net_pkt_alloc(struct vnet_net *net)
{
	struct vnet_pkt *p = net_pool_get(net);
	if (p)
		p->owner = VNET_OWN_APP;
	return p;
}

void vnet_net_pkt_free(struct vnet_net *net, struct vnet_pkt *pkt)
{
	while (pkt) {
		struct vnet_pkt *next = pkt->next;
		if (!net_pool_owns(net, pkt) || pkt->owner != VNET_OWN_APP) {
			/* Double free or foreign pointer: refuse rather than corrupt the pool. */
			VNET_ERR("vnet: pkt_free of a buffer the application does not own (%p)", (void *)pkt);
			return;
		}
		net_pool_put(net, pkt);
		pkt = next;
	}
}

uint32_t vnet_net_pool_free_count(const struct vnet_net *net)
{
	return net->free_top;
}

int net_pool_init(struct vnet_net *net)
{
	uint32_t n = net->opts.pool_size;
	if (n == 0) {
		n = (uint32_t)net->created * net->qsize * 3u + 64u;
		/* Big-packet mode: the chains posted, and as many again for
		 * frames the application holds while the ring is refilled. */
		if (net->rx_big)
			n += (uint32_t)net->created * net_rx_posts_max(net) * net->rx_chain * 2u;
	}
	net->pool_size = n;
	int rc = vnet_hal_dma_alloc((size_t)n * net->buf_size, 64, &net->pool_mem);
	if (rc != VNET_OK)
		return rc;
	net->pkts = vnet_hal_zalloc(sizeof(*net->pkts) * n);
	net->free_stack = vnet_hal_zalloc(sizeof(*net->free_stack) * n);
	if (!net->pkts || !net->free_stack)
		return VNET_ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct vnet_pkt *p = &net->pkts[i];
		p->idx = i;
		p->buf = (uint8_t *)net->pool_mem.va + (size_t)i * net->buf_size;
		p->iova = net->pool_mem.iova + (uint64_t)i * net->buf_size;
		/* Hand out low indices first: better locality for small workloads. */
		net->free_stack[i] = n - 1u - i;
		p->owner = VNET_OWN_POOL;
	}
	net->free_top = n;
	return VNET_OK;
}

void net_pool_fini(struct vnet_net *net)
{
	if (net->pkts && net->free_top != net->pool_size)
		VNET_WARN("%s: %u packet buffers still held by the application at destroy",
		          vnet_device_name(net->dev), (unsigned)(net->pool_size - net->free_top));
	vnet_hal_dma_free(&net->pool_mem);
	vnet_hal_free(net->free_stack);
	vnet_hal_free(net->pkts);
	net->free_stack = 0;
	net->pkts = 0;
}

size_t net_pool_abandon(struct vnet_net *net)
{
	size_t kept = net->pool_mem.len;
	/* pool_mem is deliberately not freed: buffers the device held are in it. */
	net->pool_mem = (struct vnet_dma){0};
	vnet_hal_free(net->free_stack);
	vnet_hal_free(net->pkts);
	net->free_stack = 0;
	net->pkts = 0;
	return kept;
}

uint32_t net_pool_put_chain(struct vnet_net *net, struct vnet_pkt *p)
{
	uint32_t n = 0;
	/* Bounded by the pool size: a chain the device held is still ours to
	 * walk (we built it), but never loop on a corrupted one. */
	while (p && n < net->pool_size && net_pool_owns(net, p) && p->owner != VNET_OWN_POOL) {
		struct vnet_pkt *next = p->next;
		net_pool_put(net, p);
		n++;
		p = next;
	}
	return n;
}
