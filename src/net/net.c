/*
 * virtio-net device (spec 5.1 "Network Device"): bring-up over any
 * transport, the packet-buffer pool, burst receive and transmit, and the
 * control queue.
 *
 * What this file does:
 *   - chooses the features it can honour, reads and validates the device
 *     configuration, negotiates (src/core/device.c runs the spec sequence);
 *   - creates receiveq/transmitq pairs and the controlq, fills every receive
 *     queue from a preallocated pool of DMA buffers, sets DRIVER_OK;
 *   - moves frames in bursts without allocation, locking or logging;
 *   - treats every header field written by the device as hostile: a bad
 *     num_buffers, length, checksum offset or GSO type drops the frame and
 *     counts it, and never makes the driver read outside a buffer.
 * What it does not: interrupts and MSI-X routing (the host's), register
 * access (the transport's), any policy about which queue a flow uses.
 *
 * Buffer layout (one pool slot, buf_size bytes):
 *   [ headroom ... | virtio_net_hdr | frame ...                ]
 *   ^buf           ^buf+room-hdr     ^buf+VNET_NET_HEADROOM = data
 * Header and frame are contiguous, so each buffer is a single descriptor
 * (VERSION_1 implies ANY_LAYOUT, spec 5.1.6.6).
 */
#include "vnet/net.h"

#include "core/device_priv.h"
#include "core/vnet_log.h"
#include "core/vnet_mem.h"
#include "vnet/device.h"
#include "vnet/features.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/spec/virtio_net.h"
#include "vnet/vnet_hal.h"

/* Bytes in front of the frame: room for the largest header we may
 * negotiate and for a host that prepends an encapsulation. */
#define VNET_NET_HEADROOM 64u
#define VNET_NET_BUF_DEFAULT 2048u
#define VNET_NET_QSIZE_DEFAULT 256u
#define VNET_NET_ETH_HLEN 14u
#define VNET_NET_CTRL_DATA_MAX 256u
#define VNET_NET_BURST_MAX 64u
#define VQ_UNLIKELY_NET(x) __builtin_expect(!!(x), 0)

/* pkt->owner values: who holds the buffer now. */
enum vnet_pkt_owner {
	VNET_OWN_POOL = 0x504f4f4cu,   /* "POOL" */
	VNET_OWN_APP = 0x41505021u,    /* "APP!" */
	VNET_OWN_DEV_RX = 0x44565258u, /* "DVRX" */
	VNET_OWN_DEV_TX = 0x44565458u, /* "DVTX" */
};

struct vnet_net_q {
	struct vnet_vq *rx;
	struct vnet_vq *tx;
	uint16_t rx_batch;          /* rx_refill posts once this many slots are free (>= 1) */
	struct vnet_net_queue_stats st;
};

struct vnet_net_ctrl_buf {
	struct virtio_net_ctrl_hdr hdr;
	uint8_t data[VNET_NET_CTRL_DATA_MAX];
	uint8_t ack;
};

struct vnet_net {
	struct vnet_device dev;
	struct vnet_net_opts opts;
	uint64_t timeout_ns;
	uint16_t hdr_len;
	uint16_t mtu;
	uint8_t mac[6];
	bool mac_from_device;
	bool link_up;
	bool mrg_rxbuf;
	bool running;               /* DRIVER_OK and not stopped: data path open */
	uint64_t features;          /* negotiated at create; restart must get the same */
	uint16_t pairs;             /* in use */
	uint16_t created;           /* pairs with queues (q[0..created)) */
	uint16_t max_pairs;         /* device maximum */
	uint16_t qsize;
	enum vnet_vq_layout layout;
	struct vnet_net_q *q;       /* [max_pairs] private */
	struct vnet_vq *ctrl;
	struct vnet_dma ctrl_mem;   /* struct vnet_net_ctrl_buf, device-visible */
	/* pool */
	struct vnet_dma pool_mem;
	struct vnet_pkt *pkts;      /* [pool_size] private descriptors of the buffers */
	uint32_t *free_stack;       /* [pool_size] indices of free buffers */
	uint32_t free_top;
	uint32_t pool_size;
	uint32_t buf_size;
};

/* ------------------------------------------------------------------ pool */

static inline struct vnet_pkt *pool_get(struct vnet_net *net)
{
	if (VQ_UNLIKELY_NET(net->free_top == 0))
		return 0;
	struct vnet_pkt *p = &net->pkts[net->free_stack[--net->free_top]];
	p->data = p->buf + VNET_NET_HEADROOM;
	p->room = net->buf_size - VNET_NET_HEADROOM;
	p->len = 0;
	p->pkt_len = 0;
	p->flags = 0;
	p->gso_type = 0;
	p->gso_size = 0;
	p->hdr_len = 0;
	p->csum_start = 0;
	p->csum_offset = 0;
	p->nseg = 1;
	p->next = 0;
	return p;
}

static inline void pool_put(struct vnet_net *net, struct vnet_pkt *p)
{
	p->owner = VNET_OWN_POOL;
	p->next = 0;
	net->free_stack[net->free_top++] = p->idx;
}

/* True if p is one of our pool descriptors: inside the array, and the
 * element its own index names (catches misaligned pointers without a
 * division on the per-packet path). */
static inline bool pool_owns(const struct vnet_net *net, const struct vnet_pkt *p)
{
	uintptr_t base = (uintptr_t)net->pkts;
	uintptr_t a = (uintptr_t)p;
	if (VQ_UNLIKELY_NET(a < base || a - base > (uintptr_t)(net->pool_size - 1u) * sizeof(*p)))
		return false;
	/* In range, so reading idx stays inside the array even if p is misaligned. */
	uint32_t idx = p->idx;
	return idx < net->pool_size && &net->pkts[idx] == p;
}

struct vnet_pkt *vnet_net_pkt_alloc(struct vnet_net *net)
{
	struct vnet_pkt *p = pool_get(net);
	if (p)
		p->owner = VNET_OWN_APP;
	return p;
}

void vnet_net_pkt_free(struct vnet_net *net, struct vnet_pkt *pkt)
{
	while (pkt) {
		struct vnet_pkt *next = pkt->next;
		if (!pool_owns(net, pkt) || pkt->owner != VNET_OWN_APP) {
			/* Double free or foreign pointer: refuse rather than corrupt the pool. */
			VNET_ERR("vnet: pkt_free of a buffer the application does not own (%p)", (void *)pkt);
			return;
		}
		pool_put(net, pkt);
		pkt = next;
	}
}

uint32_t vnet_net_pool_free_count(const struct vnet_net *net)
{
	return net->free_top;
}

/* ---------------------------------------------------------------- receive */

/* Post free buffers to rx queue qp until the ring or the pool runs out,
 * once at least rx_batch slots are free (opts.rx_refill_batch). */
static void rx_refill(struct vnet_net *net, struct vnet_net_q *q)
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
			pool_put(net, p);
			break;
		}
		p->owner = VNET_OWN_DEV_RX;
		added = true;
	}
	if (added && vnet_vq_kick_prepare(vq)) {
		q->st.rx_kicks++;
		vnet_device_notify(&net->dev, vq);
	}
}

/*
 * Receive completions are taken from the ring in batches into a small
 * cursor.  The batch asked for is never larger than the frames the caller
 * still has room for: every completion starts at most one frame, so a batch
 * can never hold more frames than fit.  Continuation buffers of a merged
 * frame that lie beyond the batch are fetched one at a time.
 */
struct rx_cursor {
	struct vnet_vq_used u[VNET_NET_BURST_MAX];
	unsigned k, i;
};

/* Next completion (from the batch, else one more from the ring), checked to
 * be one of our rx buffers.  NULL when the ring has nothing more. */
static struct vnet_pkt *rx_next(struct vnet_net *net, struct vnet_net_q *q, struct rx_cursor *c, uint32_t *len)
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
	if (VQ_UNLIKELY_NET(!pool_owns(net, p) || p->owner != VNET_OWN_DEV_RX)) {
		q->st.rx_errors++;
		return 0;
	}
	*len = u->len;
	return p;
}

/* Validate the header of the first buffer; fill the packet's offload view.
 * Returns false if the frame must be dropped (spec 5.1.6.4.2: what the
 * device may set depends on what was negotiated). */
static bool rx_parse_hdr(struct vnet_net *net, struct vnet_pkt *p, const struct virtio_net_hdr *h, uint32_t frame_len)
{
	uint64_t f = net->dev.features;
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
	struct rx_cursor c;
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
		struct vnet_pkt *p = rx_next(net, q, &c, &len);
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
		/* num_buffers: 1 without MRG_RXBUF; with it, at least 1 and no
		 * more than the ring can hold (spec 5.1.6.4). */
		bool ok = !(nbufs == 0 || nbufs > net->qsize || nbufs > 255);
		struct vnet_pkt *tail = p;
		uint32_t total = frame;
		for (uint16_t i = 1; i < nbufs && nbufs <= net->qsize; i++) {
			uint32_t slen;
			struct vnet_pkt *s = rx_next(net, q, &c, &slen);
			if (!s) {
				/* The device announced more buffers than it completed. */
				ok = false;
				break;
			}
			s->owner = VNET_OWN_APP;
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
			ok = rx_parse_hdr(net, p, h, total);
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
	rx_refill(net, q);
	return got;
}

/* --------------------------------------------------------------- transmit */

static unsigned tx_reclaim(struct vnet_net *net, struct vnet_net_q *q)
{
	struct vnet_vq_used u[VNET_NET_BURST_MAX];
	unsigned total = 0;
	for (;;) {
		unsigned k = vnet_vq_get_used(q->tx, u, VNET_NET_BURST_MAX);
		for (unsigned i = 0; i < k; i++) {
			struct vnet_pkt *p = u[i].cookie;
			if (pool_owns(net, p) && p->owner == VNET_OWN_DEV_TX)
				pool_put(net, p);
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
	if (!net || qp >= net->pairs)
		return 0;
	return tx_reclaim(net, &net->q[qp]);
}

/* Fill the header in front of p->data.  False if the packet asks for an
 * offload that was not negotiated or its fields are out of range. */
static bool tx_fill_hdr(struct vnet_net *net, struct vnet_pkt *p)
{
	struct virtio_net_hdr *h = (void *)(p->data - net->hdr_len);
	memset(h, 0, net->hdr_len);
	if (p->flags & VNET_PKT_F_CSUM_PARTIAL) {
		if (!(net->dev.features & VNET_BIT(VIRTIO_NET_F_CSUM)))
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
	struct vnet_net_q *q = &net->q[qp];
	/* Reclaim first only when the ring may lack room for the burst;
	 * otherwise post and notify first, so the device gets the frames
	 * without waiting for our read of the used ring (a cache line the
	 * device wrote, hence a miss), and reclaim after. */
	bool reclaimed = false;
	if (vnet_vq_num_free(q->tx) < n) {
		tx_reclaim(net, q);
		reclaimed = true;
	}
	unsigned done = 0;
	bool added = false;
	for (; done < n; done++) {
		struct vnet_pkt *p = pkts[done];
		if (!pool_owns(net, p) || p->owner != VNET_OWN_APP || p->next) {
			/* Not ours to send (or multi-segment): refuse without touching it. */
			q->st.tx_errors++;
			break;
		}
		uintptr_t head = (uintptr_t)p->data - net->hdr_len;
		if (p->len == 0 || head < (uintptr_t)p->buf ||
		    (uintptr_t)p->data + p->len > (uintptr_t)p->buf + net->buf_size || !tx_fill_hdr(net, p)) {
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
		vnet_device_notify(&net->dev, q->tx);
	}
	if (!reclaimed)
		tx_reclaim(net, q);
	return done;
}

/* -------------------------------------------------------------- interrupts */

bool vnet_net_rx_intr_enable(struct vnet_net *net, uint16_t qp)
{
	if (!net || qp >= net->pairs)
		return true;
	return vnet_vq_enable_cb(net->q[qp].rx);
}

void vnet_net_rx_intr_disable(struct vnet_net *net, uint16_t qp)
{
	if (net && qp < net->pairs)
		vnet_vq_disable_cb(net->q[qp].rx);
}

void vnet_net_rx_irq(struct vnet_net *net, uint16_t qp)
{
	if (!net || qp >= net->pairs)
		return;
	net->q[qp].st.rx_interrupts++;
	/* The host now owes the queue a vnet_net_poll(); further interrupts
	 * until that poll re-arms would only interrupt the poll itself. */
	vnet_vq_disable_cb(net->q[qp].rx);
}

void vnet_net_tx_irq(struct vnet_net *net, uint16_t qp)
{
	if (net && qp < net->pairs)
		net->q[qp].st.tx_interrupts++;
}

/* ------------------------------------------------------------ service loop */

unsigned vnet_net_poll(struct vnet_net *net, uint16_t qp, unsigned budget, unsigned flags, vnet_net_rx_fn fn,
                       void *arg, bool *more)
{
	bool again = false;
	unsigned done = 0;
	if (VQ_UNLIKELY_NET(!net || qp >= net->pairs || !net->running || !fn)) {
		if (more)
			*more = false;
		return 0;
	}
	struct vnet_net_q *q = &net->q[qp];
	struct vnet_pkt *pkts[VNET_NET_BURST_MAX];
	bool drained = false;
	q->st.polls++;
	while (done < budget) {
		unsigned want = budget - done < VNET_NET_BURST_MAX ? budget - done : VNET_NET_BURST_MAX;
		unsigned k = vnet_net_rx_burst(net, qp, pkts, want);
		for (unsigned i = 0; i < k; i++)
			fn(arg, pkts[i]);
		done += k;
		/* rx_burst stops short only when the ring has nothing more
		 * (dropped frames do not count against the burst). */
		if (k < want) {
			drained = true;
			break;
		}
	}
	tx_reclaim(net, q);
	if (!drained) {
		/* Budget spent: leave notifications off, the host polls again
		 * later (a poll loop, the next service()) instead of staying in
		 * its interrupt handler. */
		q->st.poll_budget_exhausted++;
		again = true;
	} else if (!(flags & VNET_NET_POLL_NO_REARM)) {
		/* Re-arm, then re-check (vnet_vq_enable_cb): a completion that
		 * landed after our last look and before the device saw the
		 * re-arm raises no interrupt, so it must be polled now. */
		if (!vnet_vq_enable_cb(q->rx)) {
			vnet_vq_disable_cb(q->rx);
			q->st.poll_rearm_races++;
			again = true;
		}
	}
	if (more)
		*more = again;
	return done;
}

static void net_read_link(struct vnet_net *net)
{
	if (!vnet_device_has_feature(&net->dev, VIRTIO_NET_F_STATUS)) {
		/* Without STATUS the link is assumed up (spec 5.1.4). */
		net->link_up = true;
		return;
	}
	vnet_le16 st = 0;
	if (vnet_device_read_config(&net->dev, 6, &st, sizeof(st)) == VNET_OK)
		net->link_up = (vnet_le16_to_cpu(st) & VIRTIO_NET_S_LINK_UP) != 0;
}

void vnet_net_config_changed(struct vnet_net *net)
{
	if (!net)
		return;
	bool was = net->link_up;
	net_read_link(net);
	if (was != net->link_up)
		VNET_INFO("%s: link %s", vnet_device_name(&net->dev), net->link_up ? "up" : "down");
	if (vnet_device_needs_reset(&net->dev))
		VNET_ERR("%s: device needs reset", vnet_device_name(&net->dev));
}

/* ----------------------------------------------------------- control queue */

int vnet_net_ctrl_cmd(struct vnet_net *net, uint8_t class_, uint8_t cmd, const void *data, uint32_t len)
{
	if (!net || (len && !data) || len > VNET_NET_CTRL_DATA_MAX)
		return VNET_EINVAL;
	if (!net->ctrl)
		return VNET_ENOTSUP;
	if (vnet_vq_is_broken(net->ctrl))
		return VNET_EBROKEN;
	struct vnet_net_ctrl_buf *cb = net->ctrl_mem.va;
	cb->hdr.class_ = class_;
	cb->hdr.cmd = cmd;
	if (len)
		memcpy(cb->data, data, len);
	cb->ack = 0xff; /* neither OK nor ERR until the device writes it */
	uint64_t base = net->ctrl_mem.iova;
	struct vnet_sg sg[3];
	unsigned out = 0;
	sg[out++] = (struct vnet_sg){base, sizeof(cb->hdr)};
	if (len)
		sg[out++] = (struct vnet_sg){base + __builtin_offsetof(struct vnet_net_ctrl_buf, data), len};
	sg[out] = (struct vnet_sg){base + __builtin_offsetof(struct vnet_net_ctrl_buf, ack), 1};
	int rc = vnet_vq_add(net->ctrl, sg, out, 1, cb);
	if (rc != VNET_OK)
		return rc;
	if (vnet_vq_kick_prepare(net->ctrl))
		vnet_device_notify(&net->dev, net->ctrl);
	uint64_t deadline = vnet_hal_time_ns() + net->timeout_ns;
	struct vnet_vq_used u;
	for (;;) {
		if (vnet_vq_get_used(net->ctrl, &u, 1) == 1)
			break;
		if (vnet_vq_is_broken(net->ctrl))
			return VNET_EBROKEN;
		if (vnet_hal_time_ns() > deadline) {
			/* The buffer stays with the device; nothing else may be posted. */
			vnet_vq_mark_broken(net->ctrl, VNET_VQ_FAULT_NONE);
			VNET_ERR("%s: control command %u.%u timed out", vnet_device_name(&net->dev), class_, cmd);
			return VNET_ETIMEDOUT;
		}
		vnet_hal_relax();
	}
	uint8_t ack = *(volatile uint8_t *)&cb->ack;
	if (u.cookie != cb || u.len < 1)
		return VNET_EPROTO;
	return ack == VIRTIO_NET_OK ? VNET_OK : VNET_EIO;
}

int vnet_net_set_promisc(struct vnet_net *net, bool on)
{
	if (!net)
		return VNET_EINVAL;
	if (!vnet_device_has_feature(&net->dev, VIRTIO_NET_F_CTRL_RX))
		return VNET_ENOTSUP;
	uint8_t v = on ? 1 : 0;
	return vnet_net_ctrl_cmd(net, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &v, 1);
}

int vnet_net_set_queue_pairs(struct vnet_net *net, uint16_t pairs)
{
	if (!net || pairs == 0 || pairs > net->created)
		return VNET_EINVAL;
	if (!vnet_device_has_feature(&net->dev, VIRTIO_NET_F_MQ))
		return pairs == 1 ? VNET_OK : VNET_ENOTSUP;
	vnet_le16 v = vnet_cpu_to_le16(pairs);
	int rc = vnet_net_ctrl_cmd(net, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &v, sizeof(v));
	if (rc == VNET_OK)
		net->pairs = pairs;
	return rc;
}

/* ------------------------------------------------------------- bring-up */

/* MSI-X vector of virtqueue vq_index (or VNET_NET_VQ_CONFIG): the host's
 * routing policy when it gave one, else the deprecated msix_vectors rule. */
static uint16_t net_vector(const struct vnet_net *net, uint16_t vq_index)
{
	if (net->opts.vector_of)
		return net->opts.vector_of(net->opts.vector_arg, vq_index);
	uint16_t n = net->opts.msix_vectors;
	if (vq_index == VNET_NET_VQ_CONFIG)
		return n ? 0 : VNET_VECTOR_NONE;
	if (n == 0)
		return VNET_VECTOR_NONE;
	if (n == 1)
		return 0;
	return (uint16_t)(1u + vq_index % (n - 1u));
}

static uint64_t net_wanted(const struct vnet_net_opts *o, uint64_t offered)
{
	uint64_t w = VNET_BIT(VIRTIO_F_VERSION_1) | VNET_BIT(VIRTIO_NET_F_MAC) | VNET_BIT(VIRTIO_NET_F_STATUS) |
	             VNET_BIT(VIRTIO_NET_F_MTU) | VNET_BIT(VIRTIO_F_ACCESS_PLATFORM) |
	             VNET_BIT(VIRTIO_F_NOTIFICATION_DATA) | o->extra_features;
	if (!o->no_mrg_rxbuf)
		w |= VNET_BIT(VIRTIO_NET_F_MRG_RXBUF);
	if (!o->no_ctrl_vq)
		w |= VNET_BIT(VIRTIO_NET_F_CTRL_VQ) | VNET_BIT(VIRTIO_NET_F_CTRL_RX) | VNET_BIT(VIRTIO_NET_F_MQ);
	if (!o->no_event_idx)
		w |= VNET_BIT(VIRTIO_F_EVENT_IDX);
	if (!o->no_indirect)
		w |= VNET_BIT(VIRTIO_F_INDIRECT_DESC);
	if (!o->no_in_order)
		w |= VNET_BIT(VIRTIO_F_IN_ORDER);
	if (o->tx_csum)
		w |= VNET_BIT(VIRTIO_NET_F_CSUM);
	if (o->rx_csum)
		w |= VNET_BIT(VIRTIO_NET_F_GUEST_CSUM);
	if (o->ring == VNET_NET_RING_PACKED ||
	    (o->ring == VNET_NET_RING_AUTO && (offered & VNET_BIT(VIRTIO_F_RING_PACKED))))
		w |= VNET_BIT(VIRTIO_F_RING_PACKED);
	return w;
}

static int net_create_vq(struct vnet_net *net, uint16_t index, uint16_t size, const char *kind, uint16_t num,
                         uint16_t indirect_max, struct vnet_vq **out)
{
	char name[16];
	vnet_snprintf(name, sizeof(name), "%s%u", kind, (unsigned)num);
	struct vnet_vq_config c = {
		.index = index,
		.size = size,
		.layout = net->layout,
		.features = net->dev.features,
		.indirect_max = indirect_max,
		.name = name,
	};
	int rc = vnet_vq_create(&c, out);
	if (rc != VNET_OK) {
		VNET_ERR("%s: cannot create %s (size %u): %s", vnet_device_name(&net->dev), name, size, vnet_strerror(rc));
		return rc;
	}
	rc = vnet_device_setup_queue(&net->dev, *out, net_vector(net, index));
	if (rc != VNET_OK) {
		VNET_ERR("%s: queue setup of %s failed: %s", vnet_device_name(&net->dev), name, vnet_strerror(rc));
		vnet_vq_destroy(*out);
		*out = 0;
	}
	return rc;
}

/* Size a queue: what the caller asked (or the default), capped by the device. */
static uint16_t net_qsize(struct vnet_net *net, uint16_t index, uint16_t want)
{
	uint16_t max = vnet_device_queue_max_size(&net->dev, index);
	if (max == 0)
		return 0;
	uint16_t s = want ? want : VNET_NET_QSIZE_DEFAULT;
	if (s > max)
		s = max;
	if (net->layout == VNET_VQ_SPLIT) {
		/* Split sizes must be powers of two: round down. */
		uint16_t p = 1;
		while ((uint32_t)p * 2u <= s)
			p = (uint16_t)(p * 2u);
		s = p;
	}
	return s;
}

static void net_release(struct vnet_net *net)
{
	/* The device must no longer touch memory: reset first (bounded). */
	vnet_device_reset(&net->dev);
	uint32_t lost = 0;
	for (uint16_t i = 0; net->q && i < net->created; i++) {
		struct vnet_vq *vqs[2] = {net->q[i].rx, net->q[i].tx};
		for (int k = 0; k < 2; k++) {
			if (!vqs[k])
				continue;
			void *c;
			while ((c = vnet_vq_detach_unused(vqs[k])) != 0) {
				struct vnet_pkt *p = c;
				if (pool_owns(net, p))
					pool_put(net, p);
			}
			vnet_vq_destroy(vqs[k]);
		}
	}
	if (net->ctrl) {
		while (vnet_vq_detach_unused(net->ctrl))
			;
		vnet_vq_destroy(net->ctrl);
	}
	if (net->pkts && net->free_top != net->pool_size) {
		lost = net->pool_size - net->free_top;
		VNET_WARN("%s: %u packet buffers still held by the application at destroy",
		          vnet_device_name(&net->dev), (unsigned)lost);
	}
	vnet_hal_dma_free(&net->ctrl_mem);
	vnet_hal_dma_free(&net->pool_mem);
	vnet_hal_free(net->free_stack);
	vnet_hal_free(net->pkts);
	vnet_hal_free(net->q);
	vnet_hal_free(net);
}

static int net_pool_init(struct vnet_net *net)
{
	uint32_t n = net->opts.pool_size;
	if (n == 0)
		n = (uint32_t)net->created * net->qsize * 3u + 64u;
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

/* Last steps shared by create and restart: config vector, fill the
 * receive queues, DRIVER_OK, first doorbells, link, queue pairs. */
static int net_go_live(struct vnet_net *net)
{
	int rc;
	uint16_t cv = net_vector(net, VNET_NET_VQ_CONFIG);
	if (cv != VNET_VECTOR_NONE) {
		rc = vnet_device_set_config_vector(&net->dev, cv);
		if (rc != VNET_OK && rc != VNET_ENOTSUP)
			return rc;
	}
	/* Receive buffers may be posted before DRIVER_OK (spec 5.1.5 step 5:
	 * "fill the receive queues"); they are notified once live. */
	for (uint16_t i = 0; i < net->created; i++) {
		/* Batch: at least 1, at most a quarter of the ring, so the
		 * device always has three quarters of it posted. */
		uint16_t b = net->opts.rx_refill_batch, cap = (uint16_t)(vnet_vq_size(net->q[i].rx) / 4u);
		if (b > cap)
			b = cap;
		net->q[i].rx_batch = b ? b : 1u;
		rx_refill(net, &net->q[i]);
	}
	rc = vnet_device_driver_ok(&net->dev);
	if (rc != VNET_OK)
		return rc;
	net->running = true;
	/* Notifications are held back before DRIVER_OK: ring every rx doorbell once. */
	for (uint16_t i = 0; i < net->created; i++)
		vnet_device_notify(&net->dev, net->q[i].rx);
	net_read_link(net);
	uint16_t want = net->pairs;
	if (want > 1) {
		net->pairs = 1;
		rc = vnet_net_set_queue_pairs(net, want);
		if (rc != VNET_OK)
			VNET_WARN("%s: device refused %u queue pairs (%s): using 1", vnet_device_name(&net->dev), want,
			          vnet_strerror(rc));
	}
	return VNET_OK;
}

int vnet_net_create(const struct vnet_transport_ops *ops, void *ctx, const struct vnet_net_opts *opts,
                    struct vnet_net **out)
{
	static const struct vnet_net_opts defaults;
	if (!ops || !out)
		return VNET_EINVAL;
	*out = 0;
	struct vnet_net *net = vnet_hal_zalloc(sizeof(*net));
	if (!net)
		return VNET_ENOMEM;
	net->opts = opts ? *opts : defaults;
	net->timeout_ns = net->opts.timeout_ns ? net->opts.timeout_ns : 1000000000ull;
	struct vnet_device_opts dopts = {.reset_timeout_ns = net->timeout_ns, .name = "vnet0"};
	int rc = vnet_device_init(&net->dev, ops, ctx, &dopts);
	if (rc != VNET_OK) {
		vnet_hal_free(net);
		return rc;
	}
	const char *name = vnet_device_name(&net->dev);

	/* Steps 1-4a, then look at config before deciding (spec 3.1.1 step 4). */
	rc = vnet_device_probe(&net->dev);
	if (rc != VNET_OK)
		goto fail;
	uint64_t offered = vnet_device_offered(&net->dev);
	uint64_t wanted = net_wanted(&net->opts, offered);
	struct virtio_net_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	if (offered & VNET_BIT(VIRTIO_NET_F_MTU)) {
		vnet_le16 mtu;
		rc = vnet_device_read_config(&net->dev, __builtin_offsetof(struct virtio_net_config, mtu), &mtu, 2);
		if (rc != VNET_OK)
			goto fail;
		cfg.mtu = mtu;
		/* A device MTU below the IPv4 minimum is unusable: decline the
		 * feature rather than accept a value we must not honour (spec
		 * 5.1.4.2: the driver SHOULD NOT accept MTU if mtu < 68). */
		if (vnet_le16_to_cpu(mtu) < VIRTIO_NET_MTU_MIN) {
			VNET_WARN("%s: device MTU %u below %u: feature MTU declined", name,
			          (unsigned)vnet_le16_to_cpu(mtu), VIRTIO_NET_MTU_MIN);
			wanted &= ~VNET_BIT(VIRTIO_NET_F_MTU);
		}
	}
	rc = vnet_device_negotiate(&net->dev, wanted);
	if (rc != VNET_OK)
		goto fail;
	uint64_t f = vnet_device_features(&net->dev);
	net->features = f;
	net->layout = (f & VNET_BIT(VIRTIO_F_RING_PACKED)) ? VNET_VQ_PACKED : VNET_VQ_SPLIT;
	net->mrg_rxbuf = (f & VNET_BIT(VIRTIO_NET_F_MRG_RXBUF)) != 0;
	/* VERSION_1: the header always carries num_buffers (spec 5.1.6). */
	net->hdr_len = VIRTIO_NET_HDR_LEN_BASE;

	/* Configuration, each field only when its feature was negotiated. */
	if (f & VNET_BIT(VIRTIO_NET_F_MAC)) {
		rc = vnet_device_read_config(&net->dev, 0, net->mac, 6);
		if (rc != VNET_OK)
			goto fail;
		net->mac_from_device = true;
	} else {
		/* Locally administered, unicast (spec 5.1.5 step 3: the driver
		 * generates a random MAC; we derive one from the clock). */
		uint64_t t = vnet_hal_time_ns();
		net->mac[0] = 0x52;
		net->mac[1] = 0x56;
		for (int i = 2; i < 6; i++)
			net->mac[i] = (uint8_t)(t >> (8 * (i - 2)));
	}
	net->mtu = 1500;
	if (f & VNET_BIT(VIRTIO_NET_F_MTU))
		net->mtu = vnet_le16_to_cpu(cfg.mtu);
	net->max_pairs = 1;
	if (f & VNET_BIT(VIRTIO_NET_F_MQ)) {
		vnet_le16 mp;
		rc = vnet_device_read_config(&net->dev, __builtin_offsetof(struct virtio_net_config, max_virtqueue_pairs),
		                             &mp, 2);
		if (rc != VNET_OK)
			goto fail;
		uint16_t m = vnet_le16_to_cpu(mp);
		/* spec 5.1.4: 1..0x8000; anything else is a lying device. */
		if (m < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || m > VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX) {
			VNET_ERR("%s: max_virtqueue_pairs %u out of range 1..32768", name, (unsigned)m);
			rc = VNET_ERANGE;
			goto fail_status;
		}
		net->max_pairs = m;
	}
	uint16_t want_pairs = net->opts.queue_pairs ? net->opts.queue_pairs : 1;
	net->pairs = want_pairs < net->max_pairs ? want_pairs : net->max_pairs;
	/* Only create the pairs we use (queue indices are fixed by the spec, so
	 * the control queue index still follows max_pairs). */
	uint16_t create_pairs = net->pairs;
	net->created = create_pairs;

	net->buf_size = net->opts.buf_size ? net->opts.buf_size : VNET_NET_BUF_DEFAULT;
	if (!net->mrg_rxbuf) {
		/* Every frame must fit one buffer (spec 5.1.6.3.1). */
		uint32_t need = VNET_NET_HEADROOM + VNET_NET_ETH_HLEN + 4u /* VLAN */ + net->mtu;
		if (net->buf_size < need)
			net->buf_size = (need + 63u) & ~63u;
	}
	if (net->buf_size < VNET_NET_HEADROOM + 128u) {
		rc = VNET_EINVAL;
		goto fail_status;
	}

	net->qsize = net_qsize(net, 0, net->opts.queue_size);
	if (net->qsize == 0) {
		VNET_ERR("%s: receiveq0 not available", name);
		rc = VNET_ENODEV;
		goto fail_status;
	}
	net->q = vnet_hal_zalloc(sizeof(*net->q) * create_pairs);
	if (!net->q) {
		rc = VNET_ENOMEM;
		goto fail_status;
	}
	rc = net_pool_init(net);
	if (rc != VNET_OK)
		goto fail_status;
	for (uint16_t i = 0; i < create_pairs; i++) {
		uint16_t rs = net_qsize(net, (uint16_t)(2 * i), net->qsize);
		uint16_t ts = net_qsize(net, (uint16_t)(2 * i + 1), net->qsize);
		if (rs == 0 || ts == 0) {
			rc = VNET_ENODEV;
			goto fail_status;
		}
		rc = net_create_vq(net, (uint16_t)(2 * i), rs, "rx", i, 0, &net->q[i].rx);
		if (rc != VNET_OK)
			goto fail_status;
		rc = net_create_vq(net, (uint16_t)(2 * i + 1), ts, "tx", i, 0, &net->q[i].tx);
		if (rc != VNET_OK)
			goto fail_status;
	}
	if (f & VNET_BIT(VIRTIO_NET_F_CTRL_VQ)) {
		uint16_t ci = (f & VNET_BIT(VIRTIO_NET_F_MQ)) ? (uint16_t)(2u * net->max_pairs) : 2u;
		uint16_t cs = net_qsize(net, ci, 64);
		if (cs == 0) {
			rc = VNET_ENODEV;
			goto fail_status;
		}
		rc = vnet_hal_dma_alloc(sizeof(struct vnet_net_ctrl_buf), 64, &net->ctrl_mem);
		if (rc != VNET_OK)
			goto fail_status;
		rc = net_create_vq(net, ci, cs, "ctrl", 0, 0, &net->ctrl);
		if (rc != VNET_OK)
			goto fail_status;
	}
	rc = net_go_live(net);
	if (rc != VNET_OK)
		goto fail_status;
	*out = net;
	return VNET_OK;

fail_status:
	vnet_device_fail(&net->dev);
fail:
	VNET_ERR("%s: bring-up failed: %s", name, vnet_strerror(rc));
	net_release(net);
	return rc;
}

void vnet_net_destroy(struct vnet_net *net)
{
	if (!net)
		return;
	net_release(net);
}

/* Take back every chain of one queue into the pool and reinitialise its ring. */
static uint32_t net_vq_drain(struct vnet_net *net, struct vnet_vq *vq)
{
	uint32_t n = 0;
	void *c;
	if (!vq)
		return 0;
	while ((c = vnet_vq_detach_unused(vq)) != 0) {
		n++;
		struct vnet_pkt *p = c;
		if (c != net->ctrl_mem.va && pool_owns(net, p))
			pool_put(net, p);
	}
	vnet_vq_reset(vq);
	return n;
}

uint32_t vnet_net_stop(struct vnet_net *net)
{
	if (!net)
		return 0;
	net->running = false;
	/* The device must stop using the rings before they are taken back;
	 * a lost vhost-user back-end is gone already (the reset then fails
	 * or completes at once, both fine). */
	vnet_device_reset(&net->dev);
	uint32_t inflight = 0;
	for (uint16_t i = 0; i < net->created; i++) {
		inflight += net_vq_drain(net, net->q[i].rx);
		inflight += net_vq_drain(net, net->q[i].tx);
	}
	net_vq_drain(net, net->ctrl);
	return inflight;
}

int vnet_net_restart(struct vnet_net *net)
{
	if (!net)
		return VNET_EINVAL;
	if (net->running)
		vnet_net_stop(net);
	uint64_t before = net->features;
	int rc = vnet_device_negotiate(&net->dev, before);
	if (rc != VNET_OK)
		goto fail;
	if (net->dev.features != before) {
		/* The rings were built for the old set (layout, event idx,
		 * in-order, header handling): a different device needs a new
		 * vnet_net, not a restart. */
		char was[160], now[160];
		vnet_features_format(was, sizeof(was), before);
		vnet_features_format(now, sizeof(now), net->dev.features);
		VNET_ERR("%s: restart negotiated different features (was: %s; now: %s)", vnet_device_name(&net->dev),
		         was, now);
		rc = VNET_ENOTSUP;
		goto fail_status;
	}
	for (uint16_t i = 0; i < net->created; i++) {
		struct vnet_vq *vqs[2] = {net->q[i].rx, net->q[i].tx};
		for (int k = 0; k < 2; k++) {
			rc = vnet_device_setup_queue(&net->dev, vqs[k], net_vector(net, vnet_vq_index(vqs[k])));
			if (rc != VNET_OK)
				goto fail_status;
		}
	}
	if (net->ctrl) {
		rc = vnet_device_setup_queue(&net->dev, net->ctrl, net_vector(net, vnet_vq_index(net->ctrl)));
		if (rc != VNET_OK)
			goto fail_status;
	}
	rc = net_go_live(net);
	if (rc != VNET_OK)
		goto fail_status;
	return VNET_OK;
fail_status:
	vnet_device_fail(&net->dev);
fail:
	VNET_ERR("%s: restart failed: %s", vnet_device_name(&net->dev), vnet_strerror(rc));
	return rc;
}

bool vnet_net_is_running(const struct vnet_net *net)
{
	return net && net->running;
}

/* ------------------------------------------------------------- accessors */

void vnet_net_get_info(const struct vnet_net *net, struct vnet_net_info *info)
{
	memset(info, 0, sizeof(*info));
	memcpy(info->mac, net->mac, 6);
	info->mac_from_device = net->mac_from_device;
	info->link_up = net->link_up;
	info->mtu = net->mtu;
	info->queue_pairs = net->pairs;
	info->max_queue_pairs = net->max_pairs;
	info->queue_size = net->qsize;
	info->layout = net->layout;
	info->offered = net->dev.offered;
	info->negotiated = net->dev.features;
	info->hdr_len = net->hdr_len;
	info->ctrl_vq = net->ctrl != 0;
}

void vnet_net_get_stats(const struct vnet_net *net, uint16_t qp, struct vnet_net_queue_stats *st)
{
	if (qp < net->pairs)
		*st = net->q[qp].st;
	else
		memset(st, 0, sizeof(*st));
}

struct vnet_vq *vnet_net_rxq(const struct vnet_net *net, uint16_t qp)
{
	return qp < net->pairs ? net->q[qp].rx : 0;
}

struct vnet_vq *vnet_net_txq(const struct vnet_net *net, uint16_t qp)
{
	return qp < net->pairs ? net->q[qp].tx : 0;
}

struct vnet_vq *vnet_net_ctrlq(const struct vnet_net *net)
{
	return net->ctrl;
}

struct vnet_device *vnet_net_device(struct vnet_net *net)
{
	return &net->dev;
}
