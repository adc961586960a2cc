/*
 * Orderly detach of one vnetN (virtio_net_device_remove): the smallest
 * teardown that leaves nothing behind, written for the management
 * commands (a PCIe hot-unplug path may share it).  Order: close the data
 * path first (up = false, net = NULL, so vd_irq, the tick and
 * netdev_service no longer reach the driver), then destroy the driver
 * (it resets the device and takes every buffer back before freeing),
 * then release the interrupts and the transport.
 */
#include "orion/vnet_mgmt.h"
#include "vnet_priv.h"

int vd_detach(unsigned ifn)
{
	struct vnetdev *d = vd_get(ifn);
	if (!d || !d->up || !d->net)
		return VNET_ENODEV;
	unsigned long f = irq_save();
	struct vnet_net *net = d->net;
	d->up = false;
	d->pending = 0;
	d->net = NULL;
	int rc = vnet_net_destroy(net);
	vd_intx_teardown(d);
	if (d->pci) {
		vnet_pci_remove(d->pci); /* masks and frees the MSI-X vectors */
		d->pci = NULL;
	} else if (d->leg) {
		vnet_pci_legacy_remove(d->leg);
		d->leg = NULL;
	} else if (d->mmio) {
		vnet_mmio_remove(d->mmio);
		d->mmio = NULL;
	}
	d->nvec = 0;
	d->pairs = 0;
	irq_restore(f);
	kprintf("%s: removed%s\n", d->name, rc == VNET_OK ? "" : " (the device reset did not complete: its memory is kept)");
	return rc;
}
