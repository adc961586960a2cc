/*
 * vnetd --config FILE: the configuration file (docs/configuration.md) read
 * with the schema both hosts share (src/conf/vnet_config.c), turned into
 * vnetd's defaults; the command line is applied on top (vnetd_opts.c).
 *
 * The whole file is checked before anything opens: an error is one line
 * "FILE:LINE: KEY: REASON" and exit status 2.  Keys a vhost-user port
 * cannot honour in vnetd are refused at load with the key named (more
 * than one queue pair) or, when only the running device can tell (MAC,
 * VLAN filter, coalescing), logged after start and left off.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnet/net_ctrl.h"
#include "vnet/spec/virtio_net.h"
#include "vnetd.h"

static struct vnet_config g_cfg;

static int load_error(const char *path, unsigned line, const char *key, const char *msg)
{
	if (line)
		fprintf(stderr, "vnetd: %s:%u: %s: %s\n", path, line, key, msg);
	else
		fprintf(stderr, "vnetd: %s: %s: %s\n", path, key, msg);
	return 2;
}

int vnetd_config_load(const char *path, const char *device, struct vnetd_opts *o)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "vnetd: --config %s: %s\n", path, strerror(errno));
		return 2;
	}
	size_t cap = 1u << 20, len = 0;
	char *text = malloc(cap);
	if (!text) {
		fclose(f);
		fprintf(stderr, "vnetd: out of memory\n");
		return 2;
	}
	len = fread(text, 1, cap, f);
	bool more = fgetc(f) != EOF;
	bool bad = ferror(f);
	fclose(f);
	if (bad || more) {
		free(text);
		fprintf(stderr, "vnetd: --config %s: %s\n", path, bad ? "read error" : "larger than 1 MiB");
		return 2;
	}
	struct vnet_toml_node *nodes = calloc(VNET_CONFIG_TOML_NODES, sizeof *nodes);
	char *strs = malloc(VNET_CONFIG_TOML_STRS);
	struct vnet_config_error err;
	int rc = -1;
	if (nodes && strs)
		rc = vnet_config_parse(&g_cfg, text, len, nodes, VNET_CONFIG_TOML_NODES, strs, VNET_CONFIG_TOML_STRS,
				       &err);
	else
		snprintf(err.msg, sizeof err.msg, "out of memory"), err.line = 0, err.key[0] = 0;
	free(nodes);
	free(strs);
	free(text);
	if (rc) {
		char line[320];
		fprintf(stderr, "vnetd: %s\n", vnet_config_error_format(&err, path, line, sizeof line));
		return 2;
	}
	/* Which device: --device NAME, else the only one. */
	const struct vnet_config_device *dev = NULL;
	if (device) {
		dev = vnet_config_find_device(&g_cfg, device);
		if (!dev) {
			fprintf(stderr, "vnetd: --device %s: %s has no [[device]] named so\n", device, path);
			return 2;
		}
	} else if (g_cfg.n_devices == 1) {
		dev = &g_cfg.dev[0];
	} else if (g_cfg.n_devices > 1) {
		fprintf(stderr, "vnetd: %s has %u [[device]] tables: pick one with --device NAME\n", path,
			g_cfg.n_devices);
		return 2;
	}
	const struct vnet_config_net *n = &g_cfg.net;
	/* What a vhost-user port cannot do, refused now with the key named. */
	if (dev && dev->pairs > 1) {
		char key[32];
		snprintf(key, sizeof key, "device[%u].pairs", (unsigned)(dev - g_cfg.dev));
		return load_error(path, dev->pairs_line, key,
				  "vnetd runs one queue pair (the back-end serves no control queue, so no MQ)");
	}
	o->cfg = &g_cfg;
	o->cfg_dev = dev;
	if (dev) {
		if (dev->socket[0])
			o->vhost_path = dev->socket;
		o->server = dev->mode == VNET_CONFIG_SERVER;
		if (dev->tap[0])
			o->tap_name = dev->tap;
		o->ring = dev->ring;
		if (dev->queue_size)
			o->queue_size = dev->queue_size;
	}
	if (!o->queue_size && n->transmit_virtqueue_size)
		o->queue_size = (uint16_t)n->transmit_virtqueue_size;
	o->poll_mode = !n->virtio_device_interrupt_enabled;
	o->no_flow_control = !n->flow_control_enabled;
	/* The offload keys: off everywhere only when both checksum keys are
	 * off (vnetd_config_port_opts sets them one by one). */
	o->offloads = n->transmit_checksum_offload || n->receive_checksum_offload;
	if (g_cfg.control.socket[0])
		o->control_path = g_cfg.control.socket;
	if (g_cfg.control.group[0])
		o->control_group = g_cfg.control.group;
	return 0;
}

void vnetd_config_port_opts(const struct vnetd_opts *o, struct vnet_port_opts *po)
{
	const struct vnet_config *c = o->cfg;
	if (!c)
		return;
	const struct vnet_config_net *n = &c->net;
	struct vnet_net_opts m;
	memset(&m, 0, sizeof m);
	vnet_config_net_opts(c, o->cfg_dev, &m);
	po->net.timeout_ns = m.timeout_ns;
	po->net.no_rss = m.no_rss;
	po->net.rx_moderation = m.rx_moderation;
	if (!o->pool_cli && m.pool_size)
		po->pool_size = m.pool_size;
	if (!o->offloads_cli) {
		bool tx = n->transmit_checksum_offload, tso = n->transmit_tso_enabled && tx;
		bool rx = n->receive_checksum_offload;
		po->net.tx_csum = tx;
		po->net.tx_tso4 = po->net.tx_tso6 = po->net.tx_ecn = tso;
		po->net.tx_ufo = po->net.tx_uso = tso;
		/* Receive segmentation needs GUEST_CSUM (§5.1.3.1): it follows
		 * receive_checksum_offload. */
		po->net.rx_csum = rx;
		if (!rx)
			po->net.rx_tso4 = po->net.rx_tso6 = po->net.rx_ecn = po->net.rx_ufo = po->net.rx_uso4 =
				po->net.rx_uso6 = false;
	}
}

void vnetd_config_after_start(struct vnetd *d)
{
	const struct vnet_config *c = d->o.cfg;
	const struct vnet_config_device *dev = d->o.cfg_dev;
	if (!c)
		return;
	const char *tap = d->o.tap_name;
	if (dev && dev->has_mac) {
		int rc = vnet_net_set_mac(d->net, dev->mac);
		if (rc != VNET_OK)
			fprintf(stderr, "vnetd[%s]: config: device.mac: the device cannot take it (%s: needs "
					"CTRL_MAC_ADDR); keeping the device's MAC\n", tap, vnet_strerror(rc));
	}
	if (dev && dev->n_vlans) {
		if (!c->net.receive_vlan_enabled) {
			fprintf(stderr, "vnetd[%s]: config: device.vlans: receive_vlan_enabled = false, filter not set\n",
				tap);
		} else {
			unsigned ok = 0;
			int last = VNET_OK;
			for (unsigned i = 0; i < dev->n_vlans; i++) {
				int rc = vnet_net_vlan_add(d->net, dev->vlans[i]);
				if (rc == VNET_OK)
					ok++;
				else
					last = rc;
			}
			if (ok != dev->n_vlans)
				fprintf(stderr, "vnetd[%s]: config: device.vlans: %u of %u VLANs set in the device's filter "
						"(%s: needs CTRL_VLAN); the others pass unfiltered\n", tap, ok,
					(unsigned)dev->n_vlans, vnet_strerror(last));
		}
	}
	uint32_t usecs = c->net.interrupt_coalescing_timer, pkts = c->net.interrupt_coalescing_packets;
	if (usecs || pkts) {
		if (d->negotiated & (1ull << VIRTIO_NET_F_NOTF_COAL)) {
			struct vnet_net_coal co = {.max_usecs = usecs, .max_packets = pkts};
			int rc = vnet_net_set_coal(d->net, false, &co);
			if (rc == VNET_OK)
				rc = vnet_net_set_coal(d->net, true, &co);
			if (rc != VNET_OK)
				fprintf(stderr, "vnetd[%s]: config: interrupt_coalescing_*: the device refused (%s); "
						"software moderation only\n", tap, vnet_strerror(rc));
		} else {
			fprintf(stderr, "vnetd[%s]: config: interrupt_coalescing_*: the back-end has no NOTF_COAL; "
					"the driver's software moderation is on instead\n", tap);
		}
	}
}

const char *vnetd_device_name(const struct vnetd *d)
{
	return d->o.cfg_dev ? d->o.cfg_dev->name : "vnet0";
}
