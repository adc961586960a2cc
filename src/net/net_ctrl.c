/*
 * Control queue of the virtio-net layer (VirtIO 1.2 §5.1.6.5): one
 * synchronous command at a time, and the commands built on it
 * (promiscuous mode, number of queue pairs).
 *
 * What it does: writes class, command and payload into one device-visible
 * buffer, posts it as readable + one writable ack byte, notifies, and
 * busy-waits for the answer bounded by timeout_ns; a timeout latches the
 * queue broken (the buffer stays with the device until reset).
 * What it does not: queue several commands, or run on the data path.
 * Trusts: the ack byte only once the device completed our own buffer
 * with a used length that covers it, and only VIRTIO_NET_OK / _ERR as
 * answers: anything else (no ack written, another value, used length 0, a
 * used id that is not the command's) is VNET_EPROTO / VNET_EBROKEN,
 * counted in ctrl_errors and logged.
 * Serialised by the control thread (vnet/net.h: control calls).
 */
#include "core/vnet_log.h"
#include "core/vnet_mem.h"
#include "net_priv.h"
#include "vnet/features.h"

struct vnet_net_ctrl_buf {
	struct virtio_net_ctrl_hdr hdr;
	uint8_t data[VNET_NET_CTRL_DATA_MAX];
	uint8_t ack;
};

int net_ctrl_alloc(struct vnet_net *net)
{
	return vnet_hal_dma_alloc(sizeof(struct vnet_net_ctrl_buf), 64, &net->ctrl_mem);
}

void net_ctrl_free(struct vnet_net *net)
{
	vnet_hal_dma_free(&net->ctrl_mem);
}

bool net_ctrl_is_buffer(const struct vnet_net *net, const void *cookie)
{
	return cookie && cookie == net->ctrl_mem.va;
}

int vnet_net_ctrl_cmd(struct vnet_net *net, uint8_t class_, uint8_t cmd, const void *data, uint32_t len)
{
	if (!net || (len && !data) || len > VNET_NET_CTRL_DATA_MAX)
		return VNET_EINVAL;
	if (!net->ctrl)
		return VNET_ENOTSUP;
	if (net->dead || vnet_vq_is_broken(net->ctrl))
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
		vnet_device_notify(net->dev, net->ctrl);
	uint64_t deadline = vnet_hal_time_ns() + net->timeout_ns;
	struct vnet_vq_used u;
	for (;;) {
		if (vnet_vq_get_used(net->ctrl, &u, 1) == 1)
			break;
		if (vnet_vq_is_broken(net->ctrl)) {
			/* The engine saw a protocol violation in the answer
			 * (e.g. a used id that is not our command's). */
			net->ctrl_errors++;
			VNET_ERR("%s: control queue broken answering %u.%u", vnet_device_name(net->dev), class_, cmd);
			return VNET_EBROKEN;
		}
		if (vnet_hal_time_ns() > deadline) {
			net->ctrl_errors++;
			/* The buffer stays with the device; nothing else may be posted. */
			vnet_vq_mark_broken(net->ctrl, VNET_VQ_FAULT_NONE);
			VNET_ERR("%s: control command %u.%u timed out", vnet_device_name(net->dev), class_, cmd);
			return VNET_ETIMEDOUT;
		}
		vnet_hal_relax();
	}
	uint8_t ack = *(volatile uint8_t *)&cb->ack;
	if (u.cookie != cb || u.len < 1) {
		/* Completed without writing the ack (spec 5.1.6.5: the device
		 * writes it; used length counts it). */
		net->ctrl_errors++;
		VNET_ERR("%s: control command %u.%u completed with used length %u", vnet_device_name(net->dev), class_,
		         cmd, (unsigned)u.len);
		return VNET_EPROTO;
	}
	if (ack == VIRTIO_NET_OK)
		return VNET_OK;
	if (ack == VIRTIO_NET_ERR)
		return VNET_EIO;
	/* Neither OK nor ERR, e.g. still our 0xff: the device did not
	 * answer, it must not be taken for a refusal. */
	net->ctrl_errors++;
	VNET_ERR("%s: control command %u.%u answered with ack 0x%02x", vnet_device_name(net->dev), class_, cmd,
	         (unsigned)ack);
	return VNET_EPROTO;
}

int vnet_net_set_promisc(struct vnet_net *net, bool on)
{
	if (!net)
		return VNET_EINVAL;
	if (!vnet_device_has_feature(net->dev, VIRTIO_NET_F_CTRL_RX))
		return VNET_ENOTSUP;
	uint8_t v = on ? 1 : 0;
	return vnet_net_ctrl_cmd(net, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &v, 1);
}

int vnet_net_set_queue_pairs(struct vnet_net *net, uint16_t pairs)
{
	if (!net || pairs == 0 || pairs > net->created)
		return VNET_EINVAL;
	if (!vnet_device_has_feature(net->dev, VIRTIO_NET_F_MQ))
		return pairs == 1 ? VNET_OK : VNET_ENOTSUP;
	vnet_le16 v = vnet_cpu_to_le16(pairs);
	int rc = vnet_net_ctrl_cmd(net, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &v, sizeof(v));
	if (rc == VNET_OK)
		net->pairs = pairs;
	return rc;
}
