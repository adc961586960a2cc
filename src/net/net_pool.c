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
#include "core/vnet_mem.h"
#include "net_priv.h"

struct vnet_pkt *vnet_net_pkt_alloc(struct vnet_net *net)
{
	struct vnet_pkt *p = net_pool_get(net);
	if (p)
		p->owner = VNET_OWN_APP;
	return p;
}

unsigned vnet_net_pkt_alloc_bulk(struct vnet_net *net, struct vnet_pkt **pkts, unsigned n)
{
	if (!net || !pkts || n > net->free_top)
		return 0;
	/* The stack top and what the loop reads of net in locals: one store
	 * for the batch, and no reloads behind the buffer stores (which could
	 * alias net as far as the compiler knows). */
	const uint32_t *stack = net->free_stack;
	struct vnet_pkt *const all = net->pkts;
	const uint64_t f0 = net->pkt_fresh[0], f1 = net->pkt_fresh[1];
	const uint16_t headroom = net->tx_headroom;
	uint32_t top = net->free_top;
	for (unsigned i = 0; i < n; i++) {
		struct vnet_pkt *p = &all[stack[--top]];
		net_pool_fresh_w(p, f0, f1, headroom);
		p->owner = VNET_OWN_APP;
		pkts[i] = p;
	}
	net->free_top = top;
	return n;
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

/* The fresh-buffer template net_pool_get compares with: room to hdr_len
 * as one 16-byte block. */
_Static_assert(offsetof(struct vnet_pkt, hdr_len) + sizeof(uint16_t) - offsetof(struct vnet_pkt, room) == 16,
               "vnet_pkt: room .. hdr_len must be 16 contiguous bytes");

static void net_pool_fresh_init(struct vnet_net *net)
{
	struct vnet_pkt f;
	memset(&f, 0, sizeof(f));
	f.room = net->buf_size - net->tx_headroom;
	f.nseg = 1;
	memcpy(net->pkt_fresh, &f.room, sizeof(net->pkt_fresh));
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
	/* Big-packet mode: a pool that cannot fill one receive chain per
	 * queue would leave the device without a buffer for good. */
	if (net->rx_big && n < (uint32_t)net->created * net->rx_chain) {
		VNET_ERR("%s: pool of %u buffers cannot hold one big-packet receive chain (%u buffers of %u bytes) per "
		         "queue: raise pool_size or buf_size, or keep MRG_RXBUF",
		         vnet_device_name(net->dev), (unsigned)n, (unsigned)net->rx_chain, (unsigned)net->buf_size);
		return VNET_EINVAL;
	}
	net->pool_size = n;
	net_pool_fresh_init(net);
	/* Buffers an odd number of cache lines apart: at a power-of-two
	 * stride (2048) the same offset of every buffer falls in the same two
	 * L1 sets out of 64, so the frame lines of a ring's worth of buffers
	 * evict each other (on the back-end's core as well, which copies
	 * them).  One line more per buffer spreads them over all sets. */
	net->buf_stride = ((net->buf_size + 63u) & ~63u) | 64u;
	int rc = vnet_hal_dma_alloc((size_t)n * net->buf_stride, 64, &net->pool_mem);
	if (rc != VNET_OK)
		return rc;
	net->pkts = vnet_hal_zalloc(sizeof(*net->pkts) * n);
	net->free_stack = vnet_hal_zalloc(sizeof(*net->free_stack) * n);
	if (!net->pkts || !net->free_stack)
		return VNET_ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct vnet_pkt *p = &net->pkts[i];
		p->idx = i;
		p->buf = (uint8_t *)net->pool_mem.va + (size_t)i * net->buf_stride;
		p->iova = net->pool_mem.iova + (uint64_t)i * net->buf_stride;
		/* Hand out low indices first: better locality for small workloads. */
		net->free_stack[i] = n - 1u - i;
		p->owner = VNET_OWN_POOL;
	}
	net->free_top = n;
	return net->opts.bounce ? net_bounce_init(net) : VNET_OK;
}

void net_pool_fini(struct vnet_net *net)
{
	if (net->pkts && net->free_top != net->pool_size)
		VNET_WARN("%s: %u packet buffers still held by the application at destroy",
		          vnet_device_name(net->dev), (unsigned)(net->pool_size - net->free_top));
	vnet_hal_dma_free(&net->pool_mem);
	net_bounce_fini(net);
	vnet_hal_free(net->free_stack);
	vnet_hal_free(net->pkts);
	net->free_stack = 0;
	net->pkts = 0;
}

size_t net_pool_abandon(struct vnet_net *net)
{
	size_t kept = net->pool_mem.len + net_bounce_abandon(net);
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

/* Most segments copy_in/copy_out walk (a merged receive frame has at most
 * 255 buffers). */
#define NET_POOL_CHAIN_HOPS 1024u

struct vnet_pkt *vnet_net_pkt_alloc_chain(struct vnet_net *net, uint32_t len)
{
	if (!net || len == 0 || len > VNET_NET_FRAME_MAX)
		return 0;
	uint32_t head_room = net->buf_size - net->tx_headroom;
	uint32_t nseg = 1u + (len > head_room ? (len - head_room + net->buf_size - 1u) / net->buf_size : 0u);
	if (nseg > VNET_NET_TX_SEGS_MAX || nseg > net->free_top)
		return 0;
	struct vnet_pkt *head = 0, *tail = 0;
	uint32_t left = len;
	for (uint32_t i = 0; i < nseg; i++) {
		struct vnet_pkt *p = net_pool_get(net);
		p->owner = VNET_OWN_APP;
		if (head) {
			p->data = p->buf; /* a continuation carries no header: the whole buffer */
			p->room = net->buf_size;
			tail->next = p;
		} else {
			head = p;
		}
		p->len = left < p->room ? left : p->room;
		left -= p->len;
		tail = p;
	}
	head->pkt_len = len;
	head->nseg = (uint8_t)nseg;
	return head;
}

uint32_t vnet_net_pkt_copy_in(struct vnet_pkt *pkt, uint32_t off, const void *src, uint32_t len)
{
	const uint8_t *s = src;
	uint32_t done = 0, hops = 0;
	/* Bounded: a looping chain (an application bug) cannot spin us. */
	for (struct vnet_pkt *p = pkt; p && done < len && hops < NET_POOL_CHAIN_HOPS; p = p->next, hops++) {
		if (off >= p->len) {
			off -= p->len;
			continue;
		}
		uint32_t k = p->len - off < len - done ? p->len - off : len - done;
		memcpy(p->data + off, s + done, k);
		done += k;
		off = 0;
	}
	return done;
}

uint32_t vnet_net_pkt_copy_out(const struct vnet_pkt *pkt, uint32_t off, void *dst, uint32_t len)
{
	uint8_t *d = dst;
	uint32_t done = 0, hops = 0;
	for (const struct vnet_pkt *p = pkt; p && done < len && hops < NET_POOL_CHAIN_HOPS; p = p->next, hops++) {
		if (off >= p->len) {
			off -= p->len;
			continue;
		}
		uint32_t k = p->len - off < len - done ? p->len - off : len - done;
		memcpy(d + done, p->data + off, k);
		done += k;
		off = 0;
	}
	return done;
}
