/*
 * The configuration file in the kernel (docs/configuration.md, "Orion
 * kernel").  The initrd (x86_64: multiboot module 0, QEMU -initrd; FDT
 * arches: /chosen linux,initrd-*) is read with the same schema code as
 * vnetd (src/conf: toml.c, vnet_config.c).  A valid file becomes
 * lower-priority options under the command line (cmdline_add_default):
 * the probe's vnetN.<key> / <key> lookups find a command-line value
 * first, the file's value otherwise.  An invalid file is applied not at
 * all: every error is printed as "initrd:LINE: key: reason" and the
 * kernel carries on with the command line alone.
 *
 * config=off on the command line ignores the initrd.
 */
#include <stdbool.h>
#include <stdint.h>

#include "orion/arch.h"
#include "orion/cmdline.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/shell.h"
#include "vnet/vnet_config.h"

#define MAX_TEXT (64u * 1024u)
#define MAX_ERRORS 16u

static struct vnet_config cfg;
static struct vnet_toml_node nodes[VNET_CONFIG_TOML_NODES];
static char strs[VNET_CONFIG_TOML_STRS];
static char text[MAX_TEXT];
static size_t text_len;
static const char *state = "none";   /* none | applied | invalid | off */

/* One file value turned into a kernel option. */
static struct kopt {
	char key[24];      /* "qsize" or "vnet0.qsize" */
	char value[96];
	const char *from;  /* the file's key */
	bool overridden;   /* the command line names it */
} kopts[96];
static unsigned nkopts;

static bool net_isset(const char *name)
{
	for (unsigned i = 0; vnet_config_net_key_name(i); i++)
		if (!strcmp(vnet_config_net_key_name(i), name))
			return (cfg.net_set >> i) & 1u;
	return false;
}

static void add(int dev, const char *key, const char *value, const char *from)
{
	if (nkopts == sizeof(kopts) / sizeof(kopts[0]))
		return;
	struct kopt *k = &kopts[nkopts++];
	if (dev < 0)
		strlcpy(k->key, key, sizeof(k->key));
	else
		ksnprintf(k->key, sizeof(k->key), "vnet%d.%s", dev, key);
	strlcpy(k->value, value, sizeof(k->value));
	k->from = from;
	/* The command line wins per key: its vnetN.<key>, or (for a device
	 * key) its plain <key>, which applies to every device. */
	k->overridden = cmdline_get_own(k->key) || (dev >= 0 && cmdline_get_own(key));
	if (!k->overridden)
		cmdline_add_default(k->key, k->value);
}

static void add_u(int dev, const char *key, uint64_t v, const char *from)
{
	char b[24];
	ksnprintf(b, sizeof(b), "%lu", (unsigned long)v);
	add(dev, key, b, from);
}

static void map_config(void)
{
	const struct vnet_config_net *n = &cfg.net;
	if (net_isset("transmit_virtqueue_size") || net_isset("receive_virtqueue_size"))
		add_u(-1, "qsize", n->receive_virtqueue_size, "virtio_net.receive_virtqueue_size");
	if (net_isset("virtio_device_interrupt_enabled"))
		add(-1, "mode", n->virtio_device_interrupt_enabled ? "irq" : "poll",
		    "virtio_net.virtio_device_interrupt_enabled");
	if (net_isset("transmit_checksum_offload") || net_isset("receive_checksum_offload"))
		add(-1, "offload", n->transmit_checksum_offload && n->receive_checksum_offload ? "on" : "off",
		    "virtio_net.transmit/receive_checksum_offload");
	if (net_isset("receive_rss_enabled"))
		add(-1, "rss", n->receive_rss_enabled ? "on" : "off", "virtio_net.receive_rss_enabled");
	if (net_isset("multi_queue_enabled") && !n->multi_queue_enabled)
		add(-1, "pairs", "1", "virtio_net.multi_queue_enabled");
	else if (net_isset("virtio_device_max_queues"))
		add_u(-1, "pairs", n->virtio_device_max_queues, "virtio_net.virtio_device_max_queues");
	if (net_isset("virtio_device_timeout"))
		add_u(-1, "timeout", n->virtio_device_timeout, "virtio_net.virtio_device_timeout");

	static const char *const ignored[] = {
		"virtio_device_max_count", "transmit_descriptor_count",
		"receive_descriptor_count", "transmit_tso_enabled", "transmit_vlan_enabled", "receive_vlan_enabled",
		"interrupt_coalescing_timer", "interrupt_coalescing_packets", "flow_control_enabled",
	};
	for (unsigned i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		if (net_isset(ignored[i]))
			kprintf("config: virtio_net.%s: checked, not applied by the kernel\n", ignored[i]);

	bool said_user = false;
	for (uint32_t i = 0; i < cfg.n_devices; i++) {
		const struct vnet_config_device *d = &cfg.dev[i];
		int idx = (int)i;
		uint64_t k;
		/* "vnetK" names the kernel's vnetK; any other name goes by position. */
		if (!strncmp(d->name, "vnet", 4) && kstrtou64(d->name + 4, &k) && k < VNET_CONFIG_MAX_DEVICES)
			idx = (int)k;
		if (d->pairs_line)
			add_u(idx, "pairs", d->pairs ? d->pairs : 1, "device.pairs");
		if (d->ring != VNET_NET_RING_AUTO)
			add(idx, "ring", d->ring == VNET_NET_RING_SPLIT ? "split" : "packed", "device.ring");
		if (d->queue_size)
			add_u(idx, "qsize", d->queue_size, "device.queue_size");
		if (d->has_mac) {
			char m[24];
			ksnprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x", d->mac[0], d->mac[1], d->mac[2],
				  d->mac[3], d->mac[4], d->mac[5]);
			add(idx, "mac", m, "device.mac");
		}
		if (d->n_vlans) {
			char v[96];
			size_t o = 0;
			v[0] = 0;
			for (unsigned j = 0; j < d->n_vlans && o + 6 < sizeof(v); j++)
				o += (size_t)ksnprintf(v + o, sizeof(v) - o, "%s%u", j ? "," : "", d->vlans[j]);
			add(idx, "vlan", v, "device.vlans");
		}
		if (!said_user && (d->socket[0] || d->tap[0] || d->mode == VNET_CONFIG_SERVER)) {
			kprintf("config: device socket, mode and tap are vnetd's: ignored by the kernel\n");
			said_user = true;
		}
	}
	if (cfg.control.socket[0] || cfg.control.group[0])
		kprintf("config: [control] is vnetd's: ignored by the kernel\n");
}

static void print_map(void)
{
	for (unsigned i = 0; i < nkopts; i++) {
		const struct kopt *k = &kopts[i];
		const char *eff = cmdline_get(k->key);
		kprintf("config: %s=%s (%s) %s%s\n", k->key, k->value, k->from,
			k->overridden ? "overridden by cmdline " : "applied", k->overridden ? (eff ? eff : "") : "");
	}
}

/*
 * Every error, not just the first: vnet_config_parse stops at one, so
 * the line it names is blanked in a copy and the copy parsed again, up
 * to MAX_ERRORS (an error not tied to a line ends the search).
 */
static unsigned report_errors(void)
{
	static char copy[MAX_TEXT];
	struct vnet_config scratch;
	unsigned nerr = 0;
	memcpy(copy, text, text_len);
	uint32_t last = 0;
	while (nerr < MAX_ERRORS) {
		struct vnet_config_error err;
		if (vnet_config_parse(&scratch, copy, text_len, nodes, VNET_CONFIG_TOML_NODES, strs,
				      VNET_CONFIG_TOML_STRS, &err) == 0)
			break;
		char buf[256];
		kprintf("config: %s\n", vnet_config_error_format(&err, "initrd", buf, sizeof(buf)));
		nerr++;
		if (!err.line || err.line == last)
			break;
		last = err.line;
		uint32_t line = 1;
		for (size_t i = 0; i < text_len; i++) {
			if (copy[i] == '\n') {
				line++;
				continue;
			}
			if (line == err.line)
				copy[i] = ' ';
		}
	}
	return nerr;
}

/* The probe's per-device options (kernel/dev/vnet_probe.c, net/vlan.c)
 * and what each is when nothing sets it.  dev0: the plain key applies to
 * vnet0 only (vlan), as in vlan.c. */
static const struct {
	const char *key, *def;
	bool dev0;
} shown[] = {
	{ "qsize", "device maximum", false }, { "pairs", "1", false }, { "ring", "auto", false },
	{ "mode", "irq", false }, { "offload", "on", false }, { "rss", "on", false },
	{ "timeout", "1000", false }, { "mac", "device's", false }, { "vlan", "none", true },
};

bool kconfig_at(const char *dev, unsigned i, const char **key, const char **value, const char **source)
{
	static char k[32];
	uint64_t n;
	if (i >= sizeof(shown) / sizeof(shown[0]) || strncmp(dev, "vnet", 4) || !kstrtou64(dev + 4, &n))
		return false;
	*key = shown[i].key;
	ksnprintf(k, sizeof(k), "%s.%s", dev, shown[i].key);
	bool plain = !shown[i].dev0 || n == 0;
	const char *v;
	if ((v = cmdline_get_own(k)) || (plain && (v = cmdline_get_own(shown[i].key)))) {
		*source = "cmdline";
	} else if ((v = cmdline_get_default(k)) || (plain && (v = cmdline_get_default(shown[i].key)))) {
		*source = "file";
	} else {
		v = shown[i].def;
		*source = "default";
	}
	*value = v;
	return true;
}

static int cmd_config(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	kprintf("config: initrd %s, %lu bytes\n", state, (unsigned long)text_len);
	print_map();
	return 0;
}

static const struct shell_cmd config_cmd = { "config", "config: the initrd configuration file's values and sources",
					     cmd_config };

void kconfig_init(const struct orion_boot_info *bi)
{
	shell_register(&config_cmd);
	if (!bi->initrd_len)
		return;
	const char *sw = cmdline_get_own("config");
	if (sw && !strcmp(sw, "off")) {
		state = "off";
		kprintf("config: initrd of %lu bytes ignored (config=off)\n", (unsigned long)bi->initrd_len);
		return;
	}
	if (bi->initrd_len > MAX_TEXT) {
		state = "invalid";
		kprintf("config: initrd: %lu bytes, more than %u: not applied, command line only\n",
			(unsigned long)bi->initrd_len, MAX_TEXT);
		return;
	}
	text_len = (size_t)bi->initrd_len;
	memcpy(text, phys_to_virt(bi->initrd_base), text_len);
	struct vnet_config_error err;
	if (vnet_config_parse(&cfg, text, text_len, nodes, VNET_CONFIG_TOML_NODES, strs, VNET_CONFIG_TOML_STRS,
			      &err) != 0) {
		state = "invalid";
		unsigned n = report_errors();
		kprintf("config: initrd: %u error%s: nothing of the file applied, command line only\n", n,
			n == 1 ? "" : "s");
		return;
	}
	state = "applied";
	map_config();
	kprintf("config: initrd: %lu bytes, %u devices, %u kernel options from the file\n",
		(unsigned long)text_len, cfg.n_devices, nkopts);
	print_map();
}
