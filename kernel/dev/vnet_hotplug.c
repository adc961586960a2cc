/*
 * Orderly detach and attach of one vnetN (orion/netdev_hotplug.h has the
 * contract): what PCIe hot-plug (pcie_hotplug.c) and device-removal
 * commands build on.
 *
 * Detach order, and why:
 *   1. With interrupts off: the glue marks the device down (netdev_tx
 *      refuses, netdev_service and the tick skip it), forgets its driver
 *      handle (the MSI-X handler returns at once without it), leaves INTx
 *      mode (the shared-line handler no longer reads its ISR) and takes
 *      the stack's interface down (no ARP, no replies through it).
 *   2. vnet_net_stop(): the device reset (VirtIO 1.2 §2.4: it stops DMA
 *      and notifications), then every buffer it held back into the pool.
 *      After it, pool_free must equal the pool size: nothing is in a ring
 *      and the glue holds no buffer (deliver() frees each frame).  A reset
 *      that does not complete latches the device dead (the core's rule:
 *      nothing it may still write is reused or freed, docs/reliability.md).
 *   3. vnet_net_destroy(): rings and pool freed (kept for a dead device).
 *   4. Interrupts unbound: the transport's remove masks every MSI-X entry,
 *      clears MSI-X enable and frees the vectors (vnet_hal_pci_msix_disable);
 *      an INTx line is detached unless another NIC shares it.
 *   5. The name is freed: the entry is cleared and marked vacant, so the
 *      next attach takes the lowest vacant vnetN.
 * Surprise removal (NETDEV_DETACH_SURPRISE): d->gone is set in step 1, and
 * from then on the transport's reset and status ops answer VNET_ENODEV
 * without touching the device, so step 2 latches the driver dead at once
 * instead of waiting for a reset that cannot complete; step 4 frees the
 * vectors without the transport's remove (which writes status 0 and waits
 * for it to read back) and leaves the transport's small private state
 * allocated (it belongs to a device nobody may talk to).
 */
#include "orion/netdev_hotplug.h"
#include "vnet_priv.h"

/* ---- the modern PCI transport, with a way to say "gone" ---- */

static struct vnet_transport_ops pci_ops;
static const struct vnet_transport_ops *pci_real;

static struct vnetdev *dev_of_pci(void *ctx)
{
	for (unsigned i = 0; i < vnet_ndevs; i++)
		if (vnet_devs[i].pci == ctx)
			return &vnet_devs[i];
	return NULL;
}

static int gone_reset(void *ctx)
{
	struct vnetdev *d = dev_of_pci(ctx);
	if (d && d->gone)
		return VNET_ENODEV;
	return pci_real->reset(ctx);
}

static int gone_get_status(void *ctx)
{
	struct vnetdev *d = dev_of_pci(ctx);
	if (d && d->gone)
		return VNET_ENODEV;
	return pci_real->get_status(ctx);
}

const struct vnet_transport_ops *vd_pci_ops(void)
{
	if (!pci_real) {
		pci_real = vnet_pci_ops();
		pci_ops = *pci_real;
		pci_ops.reset = gone_reset;
		pci_ops.get_status = gone_get_status;
	}
	return &pci_ops;
}

/* ---- detach / attach ---- */

int netdev_detach(unsigned ifn, unsigned flags, struct netdev_detach_info *out)
{
	struct netdev_detach_info info;
	memset(&info, 0, sizeof(info));
	struct vnetdev *d = vd_get(ifn);
	if (!d || d->vacant)
		return VNET_ENODEV;
	uint64_t t0 = timer_ns();
	info.surprise = (flags & NETDEV_DETACH_SURPRISE) != 0;

	/* 1: stop traffic. */
	unsigned long f = irq_save();
	info.was_up = d->up;
	struct vnet_net *net = d->net;
	d->up = false;
	d->pending = 0;
	d->net = NULL;
	if (d->mode == MODE_INTX)
		d->mode = MODE_POLL;   /* the shared-line handler skips it (not polled either: not up) */
	if (info.surprise)
		d->gone = true;
	net_fini(ifn);
	irq_restore(f);

	/* 2, 3: reset, every buffer back; free. */
	int rc = VNET_OK;
	if (net) {
		info.pool_size = d->pool_size;
		info.inflight = vnet_net_stop(net);
		struct vnet_net_info ni;
		vnet_net_get_info(net, &ni);
		info.reset_ok = !ni.dead;
		info.leaked = ni.leaked_bufs;
		info.pool_free = vnet_net_pool_free_count(net);
		if (vnet_net_destroy(net) != VNET_OK || ni.dead)
			rc = VNET_EBROKEN;
	}

	/* 4: interrupts and the transport. */
	vd_intx_teardown(d);
	if (d->gone || (net && !info.reset_ok)) {
		if (d->pd && d->nvec > 0)
			vnet_hal_pci_msix_disable(orion_hal_pci_dev(d->pd));   /* vectors freed */
		if (!d->gone)
			vd_remove_transport(d);   /* present but stuck: its remove keeps bus mastering on */
	} else {
		vd_remove_transport(d);
	}

	/* 5: free the name. */
	f = irq_save();
	unsigned index = d->index;
	memset(d, 0, sizeof(*d));
	d->index = index;
	ksnprintf(d->name, sizeof(d->name), "vnet%u", index);
	d->intx_vec = -1;
	d->mode = MODE_POLL;
	d->vacant = true;
	irq_restore(f);

	info.ns = timer_ns() - t0;
	kprintf("vnet%u: detached%s: reset %s, buffers in flight %u returned, pool %u/%u free%s, leaked %u "
		"(%lu us)\n", index, info.surprise ? " (surprise removal)" : "",
		!net ? "n/a" : info.reset_ok ? "ok" : "FAILED (device latched dead, its memory kept)",
		info.inflight, info.pool_free, info.pool_size,
		net && info.reset_ok && info.pool_free == info.pool_size ? " (all returned)" : "", info.leaked,
		info.ns / 1000u);
	if (out)
		*out = info;
	return rc;
}

int netdev_attach_pci(struct pci_dev *pd)
{
	if (!pd || !vd_is_virtio_net(pd))
		return VNET_ENOTSUP;
	char what[32];
	ksnprintf(what, sizeof(what), "%s 1af4:%04x", pd->name, pd->device);
	struct vnetdev *d = vd_new_dev(what);
	if (!d)
		return VNET_ENOMEM;
	d->pd = pd;
	vd_dev_bringup(d);
	return d->up ? (int)d->index : VNET_EIO;
}
