/*
 * The management commands (vnet/mgmt.h, docs/management.md) in the Orion
 * kernel: kernel/core/mgmt_shell.c registers the 13 virtio_net_* commands
 * and their aliases with the shell; kernel/dev/vnet_mgmt_host.c is the
 * host side (the device table: find/list/remove vnetN, the clock, the
 * glue's own counters); device_remove is netdev_detach()
 * (orion/netdev_hotplug.h), the orderly detach PCIe hot-unplug uses.
 */
#ifndef ORION_VNET_MGMT_H
#define ORION_VNET_MGMT_H

#include "vnet/mgmt.h"

/* The host ops over vnet0..vnet7 (arg: NULL). */
const struct vnet_mgmt_host_ops *vd_mgmt_host_ops(void);

/* Register the commands with the shell (orion_late_init). */
void mgmt_shell_init(void);

#endif
