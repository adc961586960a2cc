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
	info->tx_frame_max = net->tx_gso_ok ? VNET_NET_FRAME_MAX
	                                    : (uint32_t)net->tx_segs_max * (net->buf_size - VNET_NET_HEADROOM);
	if (info->tx_frame_max > VNET_NET_FRAME_MAX)
		info->tx_frame_max = VNET_NET_FRAME_MAX;
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
	info->ctrl_vq = net->ctrl != 0;
	net_info_offloads(net, info);
}

void vnet_net_get_stats(const struct vnet_net *net, uint16_t qp, struct vnet_net_queue_stats *st)
{
	if (qp < net->pairs) {
		*st = net->q[qp].st;
		/* Counted here rather than per frame on the receive path. */
		st->rx_csum_none = st->rx_packets - st->rx_csum_valid - st->rx_csum_partial;
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
