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
#include <time.h>

#include "vnet/mgmt.h"
#include "vnetd.h"

void vnetd_out_write(void *arg, const char *s, size_t n)
{
	struct vnetd_out *o = arg;
	if (n > o->cap - o->len) {
		n = o->cap - o->len;
		o->truncated = true;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

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

static uint64_t host_now_ns(void *arg)
{
	(void)arg;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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
	.now_ns = host_now_ns,
	.host_counters = host_counters,
	.changed = host_changed,
};

int vnetd_cmds_init(struct vnetd *d)
{
	struct vnet_mgmt *m = calloc(1, sizeof *m);
	if (!m) {
		fprintf(stderr, "vnetd: out of memory\n");
		return -1;
	}
	vnet_mgmt_init(m, &host_ops, d);
	d->mgmt = m;
	return 0;
}

void vnetd_cmds_fini(struct vnetd *d)
{
	free(d->mgmt);
	d->mgmt = NULL;
}

bool vnetd_cmd_changes(const char *name)
{
	const struct vnet_mgmt_cmd_info *ci = vnet_mgmt_lookup(name);
	return ci ? ci->changes : false;
}

int vnetd_cmd_run(struct vnetd *d, int argc, const char *const *argv, struct vnetd_out *out)
{
	struct vnet_mgmt_sink sink = {.write = vnetd_out_write, .arg = out};
	return vnet_mgmt_run(d->mgmt, argc, argv, &sink);
}
