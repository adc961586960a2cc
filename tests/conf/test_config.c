/*
 * test_config.c - the configuration schema (src/conf/vnet_config.c):
 * every key read into struct vnet_config and mapped onto the driver's
 * options; every unknown key, wrong type, out-of-range value and broken
 * cross-key rule refused with the line and the key named, leaving the
 * defaults (nothing half-applied).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vnet/vnet_config.h"

static struct vnet_toml_node nodes[VNET_CONFIG_TOML_NODES];
static char strs[VNET_CONFIG_TOML_STRS];
static struct vnet_config cfg;
static struct vnet_config_error err;

static int parse(const char *text)
{
	return vnet_config_parse(&cfg, text, strlen(text), nodes, VNET_CONFIG_TOML_NODES, strs,
				 VNET_CONFIG_TOML_STRS, &err);
}

static const char full[] =
	"[virtio_net]\n"
	"virtio_device_max_count = 4\n"
	"virtio_device_max_queues = 4\n"
	"virtio_device_timeout = 2500\n"
	"virtio_device_interrupt_enabled = false\n"
	"transmit_virtqueue_size = 512\n"
	"transmit_descriptor_count = 256\n"
	"transmit_tso_enabled = true\n"
	"transmit_checksum_offload = true\n"
	"transmit_vlan_enabled = false\n"
	"receive_virtqueue_size = 512\n"
	"receive_descriptor_count = 384\n"
	"receive_checksum_offload = false\n"
	"receive_vlan_enabled = false\n"
	"receive_rss_enabled = false\n"
	"interrupt_coalescing_timer = 50\n"
	"interrupt_coalescing_packets = 16\n"
	"flow_control_enabled = false\n"
	"multi_queue_enabled = true\n"
	"\n"
	"[control]\n"
	"socket = \"/run/vnetd/ctl.sock\"\n"
	"group = \"vnet-ro\"\n"
	"\n"
	"[[device]]\n"
	"name = \"up0\"\n"
	"socket = \"/tmp/a.sock\"\n"
	"mode = \"server\"\n"
	"tap = \"vtapa\"\n"
	"mac = \"52:54:00:AB:cd:01\"\n"
	"pairs = 2\n"
	"ring = \"packed\"\n"
	"queue_size = 1024\n"
	"vlans = [10, 20, 4095]\n"
	"[[device]]\n"
	"socket = \"/tmp/b.sock\"\n";

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(parse(""), 0);
	assert_int_equal(cfg.net.virtio_device_max_count, 8);
	assert_int_equal(cfg.net.virtio_device_max_queues, 1);
	assert_int_equal(cfg.net.virtio_device_timeout, 1000);
	assert_true(cfg.net.virtio_device_interrupt_enabled);
	assert_true(cfg.net.transmit_tso_enabled && cfg.net.transmit_checksum_offload);
	assert_true(cfg.net.receive_checksum_offload && cfg.net.receive_rss_enabled);
	assert_true(cfg.net.flow_control_enabled && cfg.net.multi_queue_enabled);
	assert_int_equal(cfg.net.transmit_virtqueue_size, 0);
	assert_int_equal(cfg.net.interrupt_coalescing_timer, 0);
	assert_int_equal(cfg.n_devices, 0);
	assert_int_equal(cfg.net_set, 0);
	assert_string_equal(cfg.control.socket, "");
	struct vnet_net_opts o;
	memset(&o, 0, sizeof o);
	vnet_config_net_opts(&cfg, NULL, &o);
	assert_int_equal(o.queue_pairs, 1);
	assert_int_equal(o.queue_size, 0); /* the host's default */
	assert_int_equal(o.pool_size, 0);
	assert_true(o.tx_csum && o.rx_csum && o.tx_tso4 && o.tx_tso6);
	assert_false(o.no_rss);
	assert_false(o.rx_moderation);
	assert_true(o.timeout_ns == 1000000000u);
	/* checksum off alone: TSO follows it */
	assert_int_equal(parse("[virtio_net]\ntransmit_checksum_offload = false\n"), 0);
	assert_false(cfg.net.transmit_tso_enabled);
}

static void test_every_key(void **state)
{
	(void)state;
	int rc = parse(full);
	if (rc)
		fail_msg("%u: %s: %s", err.line, err.key, err.msg);
	const struct vnet_config_net *n = &cfg.net;
	assert_int_equal(n->virtio_device_max_count, 4);
	assert_int_equal(n->virtio_device_max_queues, 4);
	assert_int_equal(n->virtio_device_timeout, 2500);
	assert_false(n->virtio_device_interrupt_enabled);
	assert_int_equal(n->transmit_virtqueue_size, 512);
	assert_int_equal(n->transmit_descriptor_count, 256);
	assert_true(n->transmit_tso_enabled);
	assert_true(n->transmit_checksum_offload);
	assert_false(n->transmit_vlan_enabled);
	assert_int_equal(n->receive_virtqueue_size, 512);
	assert_int_equal(n->receive_descriptor_count, 384);
	assert_false(n->receive_checksum_offload);
	assert_false(n->receive_vlan_enabled);
	assert_false(n->receive_rss_enabled);
	assert_int_equal(n->interrupt_coalescing_timer, 50);
	assert_int_equal(n->interrupt_coalescing_packets, 16);
	assert_false(n->flow_control_enabled);
	assert_true(n->multi_queue_enabled);
	assert_int_equal(cfg.net_set, (1u << 18) - 1); /* all 18 keys */
	for (unsigned k = 0; k < 18; k++)
		assert_non_null(vnet_config_net_key_name(k));
	assert_null(vnet_config_net_key_name(18));
	assert_string_equal(cfg.control.socket, "/run/vnetd/ctl.sock");
	assert_string_equal(cfg.control.group, "vnet-ro");
	assert_int_equal(cfg.n_devices, 2);
	const struct vnet_config_device *d = vnet_config_find_device(&cfg, "up0");
	assert_non_null(d);
	assert_string_equal(d->socket, "/tmp/a.sock");
	assert_int_equal(d->mode, VNET_CONFIG_SERVER);
	assert_string_equal(d->tap, "vtapa");
	assert_true(d->has_mac);
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0x01};
	assert_memory_equal(d->mac, mac, 6);
	assert_int_equal(d->pairs, 2);
	assert_int_equal(d->ring, VNET_NET_RING_PACKED);
	assert_int_equal(d->queue_size, 1024);
	assert_int_equal(d->n_vlans, 3);
	assert_int_equal(d->vlans[2], 4095);
	assert_int_equal(d->line, 25);
	assert_int_equal(d->pairs_line, 31);
	/* the second device is named by position, client by default */
	const struct vnet_config_device *d1 = vnet_config_find_device(&cfg, "vnet1");
	assert_non_null(d1);
	assert_int_equal(d1->mode, VNET_CONFIG_CLIENT);
	assert_false(d1->has_mac);
	assert_null(vnet_config_find_device(&cfg, "vnet0"));

	struct vnet_port_opts po;
	memset(&po, 0, sizeof po);
	vnet_config_port_opts(&cfg, d, &po);
	assert_string_equal(po.socket_path, "/tmp/a.sock");
	assert_true(po.server);
	assert_int_equal(po.queue_pairs, 2);
	assert_int_equal(po.queue_size, 1024);
	assert_int_equal(po.ring, VNET_NET_RING_PACKED);
	assert_false(po.interrupt_mode);
	assert_int_equal(po.pool_size, 2 * (384 + 256));
	assert_true(po.net.tx_csum && po.net.tx_tso4 && po.net.tx_tso6);
	assert_false(po.net.rx_csum);
	assert_true(po.net.no_rss);
	assert_true(po.net.rx_moderation);
	assert_true(po.net.timeout_ns == 2500000000u);
	/* the second device: [virtio_net]'s ring size and max_queues pairs */
	memset(&po, 0, sizeof po);
	vnet_config_port_opts(&cfg, d1, &po);
	assert_int_equal(po.queue_size, 512);
	assert_int_equal(po.queue_pairs, 4);
	assert_false(po.server);
}

struct bad {
	const char *text;
	uint32_t line;
	const char *key;
	const char *says;
};

static const struct bad bad[] = {
	{ "[virtio_net]\ntransmit_tso = true\n", 2, "virtio_net.transmit_tso", "unknown key" },
	{ "[virtio_net]\ntransmit_tso_enabled = 1\n", 2, "virtio_net.transmit_tso_enabled", "expected a boolean" },
	{ "[virtio_net]\nvirtio_device_timeout = \"5\"\n", 2, "virtio_net.virtio_device_timeout", "expected an integer, got string" },
	{ "[virtio_net]\nvirtio_device_timeout = 0\n", 2, "virtio_net.virtio_device_timeout", "out of range: 0 is not in 1..60000" },
	{ "[virtio_net]\nvirtio_device_max_count = 9\n", 2, "virtio_net.virtio_device_max_count", "not in 1..8" },
	{ "[virtio_net]\nvirtio_device_max_queues = -1\n", 2, "virtio_net.virtio_device_max_queues", "out of range" },
	{ "[virtio_net]\ntransmit_virtqueue_size = 100\n", 2, "virtio_net.transmit_virtqueue_size", "power of two" },
	{ "[virtio_net]\nreceive_virtqueue_size = 65536\n", 2, "virtio_net.receive_virtqueue_size", "not in 2..32768" },
	{ "[virtio_net]\ninterrupt_coalescing_packets = 70000\n", 2, "virtio_net.interrupt_coalescing_packets", "out of range" },
	{ "[virtio_net]\n\ntransmit_checksum_offload = false\ntransmit_tso_enabled = true\n", 4, "virtio_net.transmit_tso_enabled", "needs transmit_checksum_offload" },
	{ "[virtio_net]\ntransmit_virtqueue_size = 256\nreceive_virtqueue_size = 512\n", 3, "virtio_net.receive_virtqueue_size", "one ring size" },
	{ "[virtio_net]\ntransmit_virtqueue_size = 256\ntransmit_descriptor_count = 512\n", 3, "virtio_net.transmit_descriptor_count", "larger than the ring size 256" },
	{ "[virtio_net]\nreceive_virtqueue_size = 256\nreceive_descriptor_count = 257\n", 3, "virtio_net.receive_descriptor_count", "larger than the ring size" },
	{ "[virtio_net]\nmulti_queue_enabled = false\nvirtio_device_max_queues = 2\n", 3, "virtio_net.virtio_device_max_queues", "multi_queue_enabled" },
	{ "virtio_net = 1\n", 1, "virtio_net", "expected a table" },
	{ "[virtionet]\n", 1, "virtionet", "unknown table" },
	{ "mtu = 1500\n", 1, "mtu", "unknown table or key" },
	{ "[control]\nsocket = 5\n", 2, "control.socket", "expected a string" },
	{ "[control]\nsocket = \"\"\n", 2, "control.socket", "must not be empty" },
	{ "[control]\nsocket = \"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n", 2, "control.socket", "too long: at most 107" },
	{ "[control]\ngroup = \"a b\"\n", 2, "control.group", "not a group name" },
	{ "[control]\nuser = \"x\"\n", 2, "control.user", "unknown key" },
	{ "[device]\nname = \"x\"\n", 1, "device", "array of tables" },
	{ "[[device]]\nmac = \"52:54:00:12:34\"\n", 2, "device[0].mac", "six hex octets" },
	{ "[[device]]\nmac = \"01:00:5e:00:00:01\"\n", 2, "device[0].mac", "multicast" },
	{ "[[device]]\nmac = \"00:00:00:00:00:00\"\n", 2, "device[0].mac", "not a usable MAC" },
	{ "[[device]]\n[[device]]\nmode = \"listen\"\n", 3, "device[1].mode", "\"client\" or \"server\"" },
	{ "[[device]]\nring = \"ring\"\n", 2, "device[0].ring", "\"split\" or \"packed\"" },
	{ "[[device]]\ntap = \"a/b\"\n", 2, "device[0].tap", "not an interface name" },
	{ "[[device]]\ntap = \"abcdefghijklmnop\"\n", 2, "device[0].tap", "too long: at most 15" },
	{ "[[device]]\nname = \"vnet 0\"\n", 2, "device[0].name", "letters, digits" },
	{ "[[device]]\nsocket = \"/tmp/a\\u0000b\"\n", 2, "device[0].socket", "NUL" },
	{ "[[device]]\npairs = 0\n", 2, "device[0].pairs", "out of range" },
	{ "[[device]]\npairs = 2\n", 2, "device[0].pairs", "more than virtio_device_max_queues = 1" },
	{ "[[device]]\nqueue_size = 3\n", 2, "device[0].queue_size", "power of two" },
	{ "[[device]]\nvlans = [1, 4096]\n", 2, "device[0].vlans", "out of range: 4096" },
	{ "[[device]]\nvlans = [1, 1]\n", 2, "device[0].vlans", "VLAN 1 is listed twice" },
	{ "[[device]]\nvlans = 5\n", 2, "device[0].vlans", "expected an array" },
	{ "[[device]]\nvlans = [\"a\"]\n", 2, "device[0].vlans", "expected an integer" },
	{ "[[device]]\nspeed = 10\n", 2, "device[0].speed", "unknown key" },
	{ "[[device]]\nname = \"a\"\n[[device]]\nname = \"a\"\n", 4, "device[1].name", "same name as device 0" },
	{ "[[device]]\nsocket = \"/s\"\n[[device]]\nsocket = \"/s\"\n", 4, "device[1].socket", "same socket as device 0" },
	{ "[[device]]\ntap = \"t\"\n[[device]]\ntap = \"t\"\n", 4, "device[1].tap", "same TAP" },
	{ "[virtio_net]\nvirtio_device_max_count = 1\n[[device]]\n[[device]]\n", 3, "device[1]", "more [[device]] tables" },
	{ "[virtio_net]\ntransmit_descriptor_count = 512\n[[device]]\nqueue_size = 256\n", 4, "device[0].queue_size", "smaller than transmit_descriptor_count" },
	/* syntax errors come through with line:column, no key */
	{ "[virtio_net]\ntransmit_tso_enabled = yes\n", 2, "", "expected a value" },
	{ "[virtio_net]\nvirtio_device_timeout = 1.5\n", 2, "", "floats are not supported" },
};

static void test_refusals(void **state)
{
	(void)state;
	unsigned wrong = 0;
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		const struct bad *b = &bad[k];
		int rc = parse(b->text);
		if (rc == 0) {
			print_error("accepted #%zu: %s\n", k, b->text);
			wrong++;
			continue;
		}
		if (err.line != b->line || strcmp(err.key, b->key) || !strstr(err.msg, b->says)) {
			print_error("#%zu: got %u: '%s': '%s'; want %u: '%s': '...%s...'\n", k, err.line, err.key,
				    err.msg, b->line, b->key, b->says);
			wrong++;
		}
		/* nothing half-applied */
		assert_int_equal(cfg.n_devices, 0);
		assert_int_equal(cfg.net_set, 0);
		assert_int_equal(cfg.net.virtio_device_timeout, 1000);
	}
	assert_int_equal(wrong, 0);
}

static void test_error_format(void **state)
{
	(void)state;
	char buf[256];
	assert_int_equal(parse("\n[virtio_net]\ntransmit_tso_enabled = 1\n"), -1);
	assert_string_equal(vnet_config_error_format(&err, "/etc/vnet.toml", buf, sizeof buf),
			    "/etc/vnet.toml:3: virtio_net.transmit_tso_enabled: expected a boolean (true or false), got an integer");
	assert_int_equal(parse("a = [1 2]\n"), -1);
	assert_string_equal(vnet_config_error_format(&err, NULL, buf, sizeof buf),
			    "config:1:8: expected ',' or ']' in an array");
	/* truncated output stays terminated */
	char small[10];
	vnet_config_error_format(&err, "file", small, sizeof small);
	assert_int_equal(strlen(small), 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_error_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
