/*
 * vnetd's management commands: every request of the control socket runs
 * through the host-neutral command layer (src/mgmt, include/vnet/mgmt.h),
 * so the names, aliases, arguments, text and JSON are exactly the Orion
 * kernel shell's.  This file is only the host side: which device is
 * called what, the clock, vnetd's own counters, and what to redo after a
 * command changed the device.
 *
 * vnetd drives one device, named by its [[device]] table (--config) or
 * "vnet0".  While the back-end is gone the device is not offered to
 * commands (find returns NULL: "unknown or not up").  device_remove is
 * not a vnetd operation (the TAP bridge needs its device): the command
 * layer answers it as not supported, nothing changed.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnet/mgmt.h"
#include "vnetd.h"

static struct vnet_net *host_find(void *arg, const char *name)
{
	struct vnetd *d = arg;
	if (strcmp(name, vnetd_device_name(d)) || !d->port || !vnet_port_is_up(d->port))
		return NULL;
	return d->net;
}

static const char *host_name_at(void *arg, unsigned i)
{
	struct vnetd *d = arg;
	return i == 0 ? vnetd_device_name(d) : NULL;
}

static bool host_counters(void *arg, const char *name, struct vnet_mgmt_host_counters *c)
{
	struct vnetd *d = arg;
	if (strcmp(name, vnetd_device_name(d)))
		return false;
	struct vnet_port_stats ps;
	vnet_port_get_stats(d->port, &ps);
	c->interrupts = ps.intr_wakeups;
	c->deferred = 0;
	c->tx_nobuf = d->st.drop_to_port_ring_full;
	return true;
}

/* A command restarted the device or changed its pairs: what vnetd keeps
 * from the negotiation is read again.  The TAP's header size and
 * offloads stay as set at start; a renegotiation that changes the header
 * length is reported (frames then go through the software checks). */
static void host_changed(void *arg, const char *name)
{
	struct vnetd *d = arg;
	struct vnet_net_info info;
	vnet_net_get_info(d->net, &info);
	if (info.hdr_len != d->tap_hdr_len)
		fprintf(stderr, "vnetd[%s]: %s: header length now %u bytes (TAP set for %u)\n", d->o.tap_name, name,
			info.hdr_len, d->tap_hdr_len);
	d->negotiated = info.negotiated;
	fprintf(stderr, "vnetd[%s]: %s changed by a command: negotiated 0x%" PRIx64 ", %u pair(s)\n", d->o.tap_name,
		name, info.negotiated, info.queue_pairs);
}

static const struct vnet_mgmt_host_ops host_ops = {
	.find = host_find,
	.name_at = host_name_at,
	.remove = NULL,
	.now_ns = vnet_ctlsrv_now_ns,
	.host_counters = host_counters,
	.changed = host_changed,
};

const struct vnet_mgmt_host_ops *vnetd_host_ops(void)
{
	return &host_ops;
}
