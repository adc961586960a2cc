/*
 * vnetd's management commands, as the control socket runs them.
 *
 * Interim: until the host-neutral command layer (src/mgmt) is merged, two
 * read-only commands are answered here directly — virtio_net_device_info
 * and virtio_net_virtqueue_stats, text or --json — and `help`.  Every
 * other name is an unknown command, nothing changed.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vnet/features.h"
#include "vnet/virtqueue.h"
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

__attribute__((format(printf, 2, 3))) static void outf(struct vnetd_out *o, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0)
		vnetd_out_write(o, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

int vnetd_cmds_init(struct vnetd *d)
{
	(void)d;
	return 0;
}

void vnetd_cmds_fini(struct vnetd *d)
{
	(void)d;
}

static const struct {
	const char *name, *usage, *summary;
	bool changes;
} cmds[] = {
	{"virtio_net_device_info", "[DEV] [--json]", "device state, features, rings", false},
	{"virtio_net_virtqueue_stats", "[DEV] [QUEUE] [--json]", "per-queue counters", false},
	{"help", "", "this list", false},
	/* not answered here yet (src/mgmt), listed for the access rule */
	{"virtio_net_device_reset", "", "(needs src/mgmt)", true},
	{"virtio_net_device_remove", "", "(needs src/mgmt)", true},
	{"virtio_net_virtqueue_info", "", "(needs src/mgmt)", false},
	{"virtio_net_virtqueue_reset", "", "(needs src/mgmt)", true},
	{"virtio_net_virtqueue_remove", "", "(needs src/mgmt)", true},
	{"virtio_net_feature_info", "", "(needs src/mgmt)", false},
	{"virtio_net_feature_set", "", "(needs src/mgmt)", true},
	{"virtio_net_feature_get", "", "(needs src/mgmt)", false},
	{"virtio_net_performance_stats", "", "(needs src/mgmt)", false},
	{"virtio_net_control_info", "", "(needs src/mgmt)", false},
	{"virtio_net_control_set", "", "(needs src/mgmt)", true},
};

bool vnetd_cmd_changes(const char *name)
{
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (!strcmp(cmds[i].name, name))
			return cmds[i].changes;
	return false;
}

static int device_info(struct vnetd *d, bool json, struct vnetd_out *o)
{
	struct vnet_net_info in;
	vnet_net_get_info(d->net, &in);
	char mac[18];
	snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", in.mac[0], in.mac[1], in.mac[2], in.mac[3],
		 in.mac[4], in.mac[5]);
	const char *layout = in.layout == VNET_VQ_PACKED ? "packed" : "split";
	const char *name = vnetd_device_name(d);
	if (json) {
		outf(o, "{\"ok\":true,\"command\":\"virtio_net_device_info\",\"device\":\"%s\",\"mac\":\"%s\","
			"\"link_up\":%s,\"mtu\":%u,\"queue_pairs\":%u,\"max_queue_pairs\":%u,\"queue_size\":%u,"
			"\"layout\":\"%s\",\"offered\":%" PRIu64 ",\"negotiated\":%" PRIu64 ",\"hdr_len\":%u,"
			"\"running\":%s}\n",
			name, mac, in.link_up ? "true" : "false", in.mtu, in.queue_pairs, in.max_queue_pairs,
			in.queue_size, layout, in.offered, in.negotiated, in.hdr_len,
			vnet_net_is_running(d->net) ? "true" : "false");
	} else {
		outf(o, "device      %s\nmac         %s\nlink        %s\nmtu         %u\nqueue_pairs %u of %u\n"
			"ring        %s, %u entries\nheader      %u bytes\nnegotiated  0x%016" PRIx64 "\n",
			name, mac, in.link_up ? "up" : "down", in.mtu, in.queue_pairs, in.max_queue_pairs, layout,
			in.queue_size, in.hdr_len, in.negotiated);
	}
	return 0;
}

static int vq_stats(struct vnetd *d, bool json, struct vnetd_out *o)
{
	struct vnet_net_info in;
	vnet_net_get_info(d->net, &in);
	if (json)
		outf(o, "{\"ok\":true,\"command\":\"virtio_net_virtqueue_stats\",\"device\":\"%s\",\"queues\":[",
		     vnetd_device_name(d));
	else
		outf(o, "%-4s %12s %14s %10s %12s %14s %10s\n", "pair", "rx_packets", "rx_bytes", "rx_drops",
		     "tx_packets", "tx_bytes", "tx_drops");
	for (uint16_t qp = 0; qp < in.queue_pairs; qp++) {
		struct vnet_net_queue_stats s;
		vnet_net_get_stats(d->net, qp, &s);
		if (json)
			outf(o, "%s{\"pair\":%u,\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"rx_drops\":%" PRIu64
				",\"tx_packets\":%" PRIu64 ",\"tx_bytes\":%" PRIu64 ",\"tx_drops\":%" PRIu64 "}",
			     qp ? "," : "", qp, s.rx_packets, s.rx_bytes, s.rx_drops, s.tx_packets, s.tx_bytes,
			     s.tx_drops);
		else
			outf(o, "%-4u %12" PRIu64 " %14" PRIu64 " %10" PRIu64 " %12" PRIu64 " %14" PRIu64 " %10" PRIu64 "\n",
			     qp, s.rx_packets, s.rx_bytes, s.rx_drops, s.tx_packets, s.tx_bytes, s.tx_drops);
	}
	if (json)
		outf(o, "]}\n");
	return 0;
}

int vnetd_cmd_run(struct vnetd *d, int argc, const char *const *argv, struct vnetd_out *o)
{
	bool json = false;
	const char *dev = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!dev)
			dev = argv[i];
	}
	const char *cmd = argv[0];
	if (dev && strcmp(dev, vnetd_device_name(d))) {
		if (json)
			outf(o, "{\"ok\":false,\"command\":\"%s\",\"error\":\"unknown device\"}\n", cmd);
		else
			outf(o, "error: %s: unknown device (this vnetd runs %s)\n", dev, vnetd_device_name(d));
		return VNET_ENODEV;
	}
	if (!strcmp(cmd, "virtio_net_device_info"))
		return device_info(d, json, o);
	if (!strcmp(cmd, "virtio_net_virtqueue_stats"))
		return vq_stats(d, json, o);
	if (!strcmp(cmd, "help")) {
		for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
			outf(o, "%-28s %-24s %s\n", cmds[i].name, cmds[i].usage, cmds[i].summary);
		return 0;
	}
	outf(o, "error: %s: unknown command (vnetctl help lists them)\n", cmd);
	return VNET_EINVAL;
}
