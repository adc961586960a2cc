/*
 * Read-only views of a virtio-net device: what was negotiated and
 * configured (vnet_net_get_info), per queue-pair counters, the
 * virtqueues and device core for stats and debugging.
 *
 * What it does: copies; nothing here touches the device.
 * What it does not: synchronise with the data path: counters are read
 * without a lock, so a reader on another thread sees a recent value.
 */
#include "core/vnet_mem.h"
#include "net_priv.h"
#include "vnet/device.h"

bool vnet_net_is_running(const struct vnet_net *net)
{
	return net && net->running;
}

bool vnet_net_is_dead(const struct vnet_net *net)
{
	return net && net->dead;
}

/* The offload block of vnet_net_info. */
static void net_info_offloads(const struct vnet_net *net, struct vnet_net_info *info)
{
	/* A full chain: the head from its default data offset, every further
	 * segment a whole buffer; never more than VNET_NET_FRAME_MAX. */
	uint64_t chain = (uint64_t)(net->buf_size - net->tx_headroom) + (uint64_t)(net->tx_segs_max - 1u) * net->buf_size;
	info->tx_frame_max = chain < VNET_NET_FRAME_MAX ? (uint32_t)chain : VNET_NET_FRAME_MAX;
	info->tx_segs_max = net->tx_segs_max;
	info->tx_indirect = net->tx_indirect_min != 0;
	info->rx_big = net->rx_big;
	info->rx_buf_bytes = net_rx_buf_bytes(net) * net->rx_chain;
	info->buf_size = net->buf_size;
}

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
	info->offered = vnet_device_offered(net->dev);
	info->negotiated = vnet_device_features(net->dev);
	info->hdr_len = net->hdr_len;
	info->dead = net->dead;
	info->leaked_bufs = net->leaked_bufs;
	info->ctrl_errors = net->ctrl_errors;
	info->ctrl_vq = net->ctrl != 0 || net->cs.local;
	/* control plane: SPEED_DUPLEX (spec 5.1.4.2: above 0x7fffffff is unknown) */
	info->speed_known = net->cs.speed <= VIRTIO_NET_SPEED_MAX_VALID;
	info->speed_mbps = info->speed_known ? net->cs.speed : 0;
	info->duplex = net->cs.duplex;
	net_info_offloads(net, info);
}

/* The accounting slot of virtqueue index: its current ring and what the
 * rings before it counted; NULL for no such queue. */
static struct vnet_vq *net_info_acct_slot(const struct vnet_net *net, uint16_t index,
                                          const struct net_acct_base **base)
{
	if (net->ctrl && index == net->ctrl_index) {
		*base = &net->ctrl_retired;
		return net->ctrl;
	}
	uint16_t pair = (uint16_t)(index / 2u);
	if (!net->q || pair >= net->created)
		return 0;
	const struct vnet_net_q *q = &net->q[pair];
	*base = (index & 1u) ? &q->tx_retired : &q->rx_retired;
	return (index & 1u) ? q->tx : q->rx;
}

void net_info_acct_retire(struct vnet_net *net, uint16_t index, const struct vnet_vq *vq)
{
	const struct net_acct_base *cb;
	if (!vq || !net_info_acct_slot(net, index, &cb))
		return;
	struct net_acct_base *b = (struct net_acct_base *)cb; /* one of net's own members */
	struct vnet_vq_stats s;
	vnet_vq_get_stats(vq, &s);
	b->added += s.added;
	b->completed += s.completed;
	b->detached += s.detached;
}

/*
 * Derived from the engine's counters (added, completed, detached: every
 * hand-back of a chain without completion is a detach after a device or
 * queue reset) and its outstanding count.  A device latched dead keeps
 * what it holds: those chains are leaked, not in flight (nothing is
 * posted to a dead device and nothing is taken back from it).
 */
static void net_info_acct(const struct vnet_net *net, const struct vnet_vq *vq, const struct net_acct_base *b,
                          struct vnet_net_vq_acct *a)
{
	struct vnet_vq_stats s;
	vnet_vq_get_stats(vq, &s);
	uint64_t held = vnet_vq_outstanding(vq);
	a->posted = b->added + s.added;
	a->completed = b->completed + s.completed;
	a->reclaimed = b->detached + s.detached;
	a->leaked = net->dead ? held : 0;
	a->in_flight = net->dead ? 0 : held;
}

int vnet_net_get_vq_acct(const struct vnet_net *net, uint16_t vq_index, struct vnet_net_vq_acct *a)
{
	if (!a)
		return VNET_EINVAL;
	memset(a, 0, sizeof(*a));
	const struct net_acct_base *b;
	struct vnet_vq *vq = net ? net_info_acct_slot(net, vq_index, &b) : 0;
	if (!vq)
		return VNET_EINVAL;
	net_info_acct(net, vq, b, a);
	return VNET_OK;
}

void vnet_net_get_stats(const struct vnet_net *net, uint16_t qp, struct vnet_net_queue_stats *st)
{
	if (qp < net->pairs) {
		*st = net->q[qp].st;
		/* Counted here rather than per frame on the receive path. */
		st->rx_csum_none = st->rx_packets - st->rx_csum_valid - st->rx_csum_partial;
		const struct vnet_net_q *q = &net->q[qp];
		if (q->rx)
			net_info_acct(net, q->rx, &q->rx_retired, &st->rx_acct);
		if (q->tx)
			net_info_acct(net, q->tx, &q->tx_retired, &st->tx_acct);
	} else {
		memset(st, 0, sizeof(*st));
	}
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
	return net->dev;
}
