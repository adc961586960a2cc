/*
 * Host side of the management commands in the kernel (vnet/mgmt.h):
 * devices are vnet0..vnet7 by index (net_if_parse), the clock is
 * timer_ns(), removal is netdev_detach() (orion/netdev_hotplug.h, shared with PCIe hot-unplug), and the glue's own counters
 * (MSI-X entry and INTx interrupts, deferred receive work, frames not
 * queued) come from struct vnetdev.
 */
#include "orion/vnet_mgmt.h"
#include "orion/netdev_hotplug.h"
#include "vnet_priv.h"
#include "orion/net.h"

static struct vnet_net *mh_find(void *arg, const char *name)
{
	(void)arg;
	int ifn = net_if_parse(name);
	return ifn < 0 ? NULL : netdev_net((unsigned)ifn);
}

static const char *mh_name_at(void *arg, unsigned i)
{
	(void)arg;
	for (unsigned k = 0; k < vnet_ndevs; k++)
		if (vnet_devs[k].up && vnet_devs[k].net && i-- == 0)
			return vnet_devs[k].name;
	return NULL;
}

static int mh_remove(void *arg, const char *name)
{
	(void)arg;
	int ifn = net_if_parse(name);
	return ifn < 0 ? VNET_ENODEV : netdev_detach((unsigned)ifn, 0, NULL);
}

static uint64_t mh_now(void *arg)
{
	(void)arg;
	return timer_ns();
}

static bool mh_counters(void *arg, const char *name, struct vnet_mgmt_host_counters *c)
{
	(void)arg;
	int ifn = net_if_parse(name);
	struct vnetdev *d = ifn < 0 ? NULL : vd_get((unsigned)ifn);
	if (!d || !d->up)
		return false;
	uint64_t n = d->intx_irqs;
	for (unsigned i = 0; i < ARRAY_SIZE(d->entry_irqs); i++)
		n += d->entry_irqs[i];
	c->interrupts = n;
	c->deferred = d->deferred;
	c->tx_nobuf = d->tx_nobuf;
	return true;
}

/* After a restart, a change of pairs or of the MAC: the stack takes the
 * device's MAC; nothing deferred may point at a pair the device no longer
 * serves; transmit interrupts stay off. */
static void mh_changed(void *arg, const char *name)
{
	(void)arg;
	int ifn = net_if_parse(name);
	struct vnetdev *d = ifn < 0 ? NULL : vd_get((unsigned)ifn);
	if (!d || !d->up || !d->net)
		return;
	/* The stack answers with the device's MAC (CTRL_MAC_ADDR may have
	 * changed it: control_set mac=). */
	struct vnet_net_info ni;
	vnet_net_get_info(d->net, &ni);
	net_set_mac(d->index, ni.mac);
	d->pending = 0;
	for (uint16_t q = 0; q < d->pairs; q++) {
		struct vnet_vq *tx = vnet_net_txq(d->net, q);
		if (tx)
			vnet_vq_disable_cb(tx);
		/* one service pass re-arms the receive interrupt, as at bring-up */
		if ((d->mode == MODE_IRQ || d->mode == MODE_INTX) && vnet_net_rxq(d->net, q) &&
		    vd_service_pair(d, q, VNET_RX_BUDGET, 0))
			d->pending |= 1ull << q;
	}
}

/* The configuration values behind a device (kernel/core/config.c). */
static bool mh_config_at(void *arg, const char *name, unsigned i, const char **key, const char **value,
			 const char **source)
{
	(void)arg;
	return kconfig_at(name, i, key, value, source);
}

static const struct vnet_mgmt_host_ops mh_ops = {
	.find = mh_find,
	.name_at = mh_name_at,
	.remove = mh_remove,
	.now_ns = mh_now,
	.host_counters = mh_counters,
	.changed = mh_changed,
	.config_at = mh_config_at,
};

const struct vnet_mgmt_host_ops *vd_mgmt_host_ops(void)
{
	return &mh_ops;
}
