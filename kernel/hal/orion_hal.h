/*
 * What the Orion kernel needs from its own orion-vnet HAL (kernel/hal/)
 * beyond include/vnet/vnet_hal*.h: the transport handle of a PCI function.
 *
 * The kernel finds its functions with its own PCI layer (orion/pci.h:
 * pci_get, pci_find); the HAL implements vnet_hal_pci_* on top of that
 * layer, and this is the one place that converts a kernel struct pci_dev *
 * into the opaque struct vnet_pci_dev * vnet_pci_probe() takes.  The
 * handle is valid as long as the pci_dev (forever: the PCI table is
 * static).  The reverse direction stays private to the HAL.
 */
#ifndef ORION_HAL_H
#define ORION_HAL_H

#include "orion/pci.h"
#include "vnet/vnet_hal_pci.h"

/* The transport handle of d (NULL for NULL). */
struct vnet_pci_dev *orion_hal_pci_dev(struct pci_dev *d);

#endif
