/*
 * The management commands (vnet/mgmt.h, docs/management.md) in the Orion
 * kernel: kernel/core/mgmt_shell.c registers the 13 virtio_net_* commands
 * and their aliases with the shell; kernel/dev/vnet_mgmt_host.c is the
 * host side (the device table: find/list/remove vnetN, the clock, the
 * glue's own counters); kernel/dev/vnet_detach.c the orderly detach of
 * one device that device_remove uses.
 */
#ifndef ORION_VNET_MGMT_H
#define ORION_VNET_MGMT_H

#include "vnet/mgmt.h"

/* The host ops over vnet0..vnet7 (arg: NULL). */
const struct vnet_mgmt_host_ops *vd_mgmt_host_ops(void);

/*
 * Orderly detach of vnet<ifn>: the data path closed (no interrupt or poll
 * reaches the driver any more), the driver destroyed (device reset, every
 * buffer back in the pool, the pool freed), interrupts released (MSI-X
 * masked and freed, INTx line detached), the transport removed.  The name
 * stays taken by its index (numbering follows discovery) but shows as
 * down.  VNET_OK, VNET_ENODEV (no such device or not up), or the
 * destroy's error (a reset that did not complete: the memory the device
 * may still write is kept, as vnet_net_destroy says).  Interrupts off
 * inside.
 */
int vd_detach(unsigned ifn);

/* Register the commands with the shell (orion_late_init). */
void mgmt_shell_init(void);

#endif
