/*
 * Orderly detach and attach of one vnetN (kernel/dev/vnet_hotplug.c), used
 * by PCIe hot-plug (kernel/dev/pcie_hotplug.c) and by management commands
 * that take a device away (virtio_net_device_remove).
 *
 * netdev_detach(ifn, flags, out): stop traffic to vnet<ifn> (the glue and
 * the stack's interface go down first, so nothing new is sent or
 * delivered, and its interrupt handlers ignore it), then vnet_net_stop()
 * (device reset, every buffer the device held back into the pool; counted
 * in out->inflight) and vnet_net_destroy(); MSI-X entries masked and their
 * vectors freed, or the INTx line detached; the transport released; the
 * name vnet<ifn> freed for the next attach.  If the reset does not
 * complete the driver latches the device dead and keeps every piece of
 * device-visible memory (rings, pool, control buffer) allocated for good
 * (docs/reliability.md); out->reset_ok is then false and out->leaked says
 * how many buffers stayed with the device.
 * NETDEV_DETACH_SURPRISE: the device is already gone (all-ones reads,
 * presence lost): nothing is written to it and no reset is waited for; the
 * driver is latched dead at once (its transport reports VNET_ENODEV) and
 * its memory kept as above.  The PCI function itself is not touched
 * (pci_hotplug_remove is the caller's, once the function is really gone).
 * Returns 0 (reset completed, everything returned), VNET_EBROKEN (detached,
 * but the device was or became dead: memory kept), VNET_ENODEV (no device
 * vnet<ifn>).  Main context, interrupts on; busy-waits at most the
 * driver's reset timeout (1 s).
 *
 * netdev_attach_pci(pd): bring the virtio-net function pd up as the lowest
 * free vnetN (the same bring-up, options and "vnetN: up ..." line as at
 * boot).  Returns N (>= 0) when up; VNET_ENOTSUP if pd is no virtio-net
 * function; VNET_ENOMEM if all VNET_MAX_DEVS names are taken; VNET_EIO if
 * bring-up failed (the name stays taken, as at boot, until a detach).
 */
#ifndef ORION_NETDEV_HOTPLUG_H
#define ORION_NETDEV_HOTPLUG_H

#include <stdbool.h>
#include <stdint.h>

#include "orion/pci.h"

#define NETDEV_DETACH_SURPRISE 1u

struct netdev_detach_info {
	bool was_up;          /* the device was up (not "not supported") */
	bool reset_ok;        /* the device confirmed the reset */
	bool surprise;        /* NETDEV_DETACH_SURPRISE */
	uint32_t inflight;    /* buffers the device held, taken back by the reset */
	uint32_t pool_free;   /* pool buffers free after the reset ... */
	uint32_t pool_size;   /* ... of this many (equal: every buffer returned) */
	uint32_t leaked;      /* buffers left with a dead device (memory kept) */
	uint64_t ns;          /* time the detach took */
};

int netdev_detach(unsigned ifn, unsigned flags, struct netdev_detach_info *out);
int netdev_attach_pci(struct pci_dev *pd);

#endif
