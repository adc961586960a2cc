/*
 * The management command layer (src/mgmt, vnet/mgmt.h) against the device
 * model: every command in text and JSON (each JSON output checked for
 * well-formedness by a strict parser here, and for its content), the
 * effect of every changing command on the device side (the model's
 * control state, negotiated features, status writes), and every error
 * path: a clear message, a negative code, and no change at all — no
 * status write (no reset), no control command sent, the model's control
 * state and the negotiated features as before.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_hal.h"
#include "netdev_model.h"
#include "vnet/features.h"
#include "vnet/mgmt.h"
#include "vnet/net.h"
#include "vnet/net_ctrl.h"
#include "vnet/virtqueue.h"
#include "vnet/spec/virtio_config.h"

#define V1 VNET_BIT(VIRTIO_F_VERSION_1)
#define F(x) VNET_BIT(VIRTIO_F_##x)
#define N(x) VNET_BIT(VIRTIO_NET_F_##x)
#define BASE (V1 | N(MAC) | N(STATUS) | N(MTU) | N(CTRL_VQ) | N(CTRL_RX) | F(EVENT_IDX) | N(MRG_RXBUF))
#define ALLCTRL                                                                                               \
	(BASE | N(CTRL_RX_EXTRA) | N(CTRL_VLAN) | N(CTRL_MAC_ADDR) | N(GUEST_ANNOUNCE) | N(CTRL_GUEST_OFFLOADS) | \
	 N(MQ) | N(NOTF_COAL) | N(VQ_NOTF_COAL) | N(SPEED_DUPLEX) | N(GUEST_CSUM) | N(CSUM) | N(HOST_TSO4))
#define QMAX 64u
#define POOL 256u
#define OUT_MAX 65536u

/* ------------------------------------------------------------ host */

struct dev {
	char name[16];
	struct netdev_model m;
	struct vnet_net *net;
	bool removed;
};

struct host {
	struct dev d[2];
	unsigned n;
	uint64_t now;
	unsigned changed;
	char out[OUT_MAX];
	size_t len;
	struct vnet_mgmt mg;
	size_t dma0, priv0;
};

static struct vnet_net *h_find(void *arg, const char *name)
{
	struct host *h = arg;
	for (unsigned i = 0; i < h->n; i++)
		if (!h->d[i].removed && !strcmp(h->d[i].name, name))
			return h->d[i].net;
	return NULL;
}

static const char *h_name_at(void *arg, unsigned i)
{
	struct host *h = arg;
	for (unsigned k = 0; k < h->n; k++)
		if (!h->d[k].removed && i-- == 0)
			return h->d[k].name;
	return NULL;
}

static int h_remove(void *arg, const char *name)
{
	struct host *h = arg;
	for (unsigned i = 0; i < h->n; i++)
		if (!h->d[i].removed && !strcmp(h->d[i].name, name)) {
			int rc = vnet_net_destroy(h->d[i].net);
			h->d[i].net = NULL;
			h->d[i].removed = true;
			return rc;
		}
	return VNET_ENODEV;
}

static uint64_t h_now(void *arg)
{
	return ((struct host *)arg)->now;
}

static bool h_counters(void *arg, const char *name, struct vnet_mgmt_host_counters *c)
{
	(void)arg;
	if (strcmp(name, "vnet0"))
		return false;
	c->interrupts = 7;
	c->deferred = 1;
	c->tx_nobuf = 0;
	return true;
}

static void h_changed(void *arg, const char *name)
{
	(void)name;
	((struct host *)arg)->changed++;
}

static const struct vnet_mgmt_host_ops h_ops = {
	.find = h_find,
	.name_at = h_name_at,
	.remove = h_remove,
	.now_ns = h_now,
	.host_counters = h_counters,
	.changed = h_changed,
};

static void h_write(void *arg, const char *s, size_t n)
{
	struct host *h = arg;
	assert_true(h->len + n < sizeof(h->out));
	memcpy(h->out + h->len, s, n);
	h->len += n;
	h->out[h->len] = 0;
}

static struct host *host_new(uint64_t offered, uint16_t pairs, unsigned ndev)
{
	struct host *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->dma0 = fake_hal_live_dma();
	h->priv0 = fake_hal_live_private();
	h->n = ndev;
	for (unsigned i = 0; i < ndev; i++) {
		struct dev *d = &h->d[i];
		snprintf(d->name, sizeof(d->name), "vnet%u", i);
		assert_int_equal(ndm_init(&d->m, offered, pairs, QMAX), 0);
		struct vnet_net_opts o;
		memset(&o, 0, sizeof(o));
		o.pool_size = POOL;
		o.queue_pairs = pairs;
		o.rx_csum = true;
		o.tx_csum = true;
		assert_int_equal(vnet_net_create(ndm_ops(&d->m), ndm_ctx(&d->m), &o, &d->net), VNET_OK);
	}
	vnet_mgmt_init(&h->mg, &h_ops, h);
	h->now = 1000000000ull;
	return h;
}

static void host_free(struct host *h)
{
	for (unsigned i = 0; i < h->n; i++) {
		struct dev *d = &h->d[i];
		if (!d->removed)
			vnet_net_destroy(d->net);
		if (d->m.violations)
			fail_msg("device model %s: %u violations, last: %s", d->name, d->m.violations, d->m.last_violation);
		ndm_fini(&d->m);
	}
	assert_int_equal(fake_hal_live_dma(), h->dma0);
	assert_int_equal(fake_hal_live_private(), h->priv0);
	free(h);
}

/* Run a command line (split on spaces); the output is in h->out. */
static int run(struct host *h, const char *line)
{
	static char buf[1024];
	const char *argv[32];
	int argc = 0;
	size_t n = strlen(line);
	assert_true(n < sizeof(buf)); /* a longer test line would be cut */
	memcpy(buf, line, n + 1);
	for (char *p = strtok(buf, " "); p && argc < 32; p = strtok(NULL, " "))
		argv[argc++] = p;
	h->len = 0;
	h->out[0] = 0;
	struct vnet_mgmt_sink sink = {h_write, h};
	return vnet_mgmt_run(&h->mg, argc, argv, &sink);
}

/* One frame to vnet0's MAC injected on pair 0 comes out of the driver. */
static void rx_one(struct dev *d)
{
	static const uint8_t fr[60] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
	assert_int_equal(ndm_rx_inject(&d->m, 0, fr, sizeof(fr), NULL), 1);
	struct vnet_pkt *p[4];
	assert_int_equal(vnet_net_rx_burst(d->net, 0, p, 4), 1);
	vnet_net_pkt_free(d->net, p[0]);
}

/* ------------------------------------------------------------ a strict JSON checker (RFC 8259) */

struct jp {
	const char *s;
	int depth;
};

static void jws(struct jp *p)
{
	while (*p->s == ' ' || *p->s == '\n' || *p->s == '\t' || *p->s == '\r')
		p->s++;
}

static bool jvalue(struct jp *p);

static bool jstring(struct jp *p)
{
	if (*p->s != '"')
		return false;
	p->s++;
	while (*p->s && *p->s != '"') {
		if ((unsigned char)*p->s < 0x20)
			return false;
		if (*p->s == '\\') {
			p->s++;
			if (*p->s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", p->s[i]) || !p->s[i])
						return false;
				p->s += 4;
			} else if (!*p->s || !strchr("\"\\/bfnrt", *p->s)) {
				return false;
			}
		}
		p->s++;
	}
	if (*p->s != '"')
		return false;
	p->s++;
	return true;
}

static bool jnumber(struct jp *p)
{
	const char *s = p->s;
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return false;
	if (*s == '.') {
		s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	p->s = s;
	return true;
}

/* After the '{' or '[': the members ("key":value, keys) or the elements
 * (values), comma-separated, up to and including `close`. */
static bool jmembers(struct jp *p, char close, bool keys)
{
	jws(p);
	if (*p->s == close) {
		p->s++;
		return true;
	}
	for (;;) {
		if (keys) {
			jws(p);
			if (!jstring(p))
				return false;
			jws(p);
			if (*p->s++ != ':')
				return false;
		}
		if (!jvalue(p))
			return false;
		jws(p);
		if (*p->s == ',') {
			p->s++;
			continue;
		}
		if (*p->s != close)
			return false;
		p->s++;
		return true;
	}
}

static bool jvalue(struct jp *p)
{
	jws(p);
	if (++p->depth > 32)
		return false;
	bool ok = false;
	if (*p->s == '{') {
		p->s++;
		ok = jmembers(p, '}', true);
	} else if (*p->s == '[') {
		p->s++;
		ok = jmembers(p, ']', false);
	} else if (*p->s == '"') {
		ok = jstring(p);
	} else if (!strncmp(p->s, "true", 4) || !strncmp(p->s, "null", 4)) {
		p->s += 4;
		ok = true;
	} else if (!strncmp(p->s, "false", 5)) {
		p->s += 5;
		ok = true;
	} else {
		ok = jnumber(p);
	}
	p->depth--;
	return ok;
}

/* Exactly one JSON object, then a newline. */
static void assert_json(const char *s)
{
	struct jp p = {s, 0};
	jws(&p);
	if (*p.s != '{')
		fail_msg("not a JSON object: %.200s", s);
	if (!jvalue(&p))
		fail_msg("malformed JSON near offset %ld: %.300s", (long)(p.s - s), s);
	if (strcmp(p.s, "\n"))
		fail_msg("trailing bytes after the JSON object: '%.100s'", p.s);
}

static void assert_has(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("expected '%s' in output:\n%s", needle, hay);
}

/* ------------------------------------------------------------ "no change" snapshots */

struct snap {
	unsigned status_writes;
	uint64_t ctrl_total;
	struct ndm_ctrl_dev cdev;
	uint64_t negotiated;
	uint16_t pairs;
	bool running;
};

static struct snap snap_of(struct dev *d)
{
	struct snap s;
	memset(&s, 0, sizeof(s));
	s.status_writes = d->m.ft.n_status_writes;
	s.ctrl_total = d->m.ctrl_total;
	s.cdev = d->m.cdev;
	struct vnet_net_info ni;
	vnet_net_get_info(d->net, &ni);
	s.negotiated = ni.negotiated;
	s.pairs = ni.queue_pairs;
	s.running = vnet_net_is_running(d->net);
	return s;
}

static void assert_unchanged(struct dev *d, const struct snap *a)
{
	struct snap b = snap_of(d);
	assert_int_equal(a->status_writes, b.status_writes);
	assert_int_equal(a->ctrl_total, b.ctrl_total);
	assert_memory_equal(&a->cdev, &b.cdev, sizeof(a->cdev));
	assert_int_equal(a->negotiated, b.negotiated);
	assert_int_equal(a->pairs, b.pairs);
	assert_int_equal(a->running, b.running);
}

/* line (JSON output): returns rc and prints exactly one well-formed JSON object. */
static void run_json(struct host *h, const char *line, int rc)
{
	assert_int_equal(run(h, line), rc);
	assert_json(h->out);
}

/* run_json() of line with --json added. */
static void run_as_json(struct host *h, const char *line, int rc)
{
	char j[1100];
	snprintf(j, sizeof(j), "%s --json", line);
	run_json(h, j, rc);
}

/* An error in text and in JSON, and nothing changed on vnet0. */
static void expect_error(struct host *h, const char *line, int rc, const char *msg)
{
	struct snap s = snap_of(&h->d[0]);
	assert_int_equal(run(h, line), rc);
	assert_has(h->out, "error: ");
	assert_has(h->out, msg);
	assert_unchanged(&h->d[0], &s);
	run_as_json(h, line, rc);
	assert_has(h->out, "\"ok\":false");
	assert_has(h->out, msg);
	assert_unchanged(&h->d[0], &s);
}

/* Text and JSON both succeed; JSON well-formed with ok:true. */
static void expect_ok_both(struct host *h, const char *line)
{
	assert_int_equal(run(h, line), VNET_OK);
	assert_true(strncmp(h->out, "error: ", 7) != 0);
	run_as_json(h, line, VNET_OK);
	assert_has(h->out, "{\"ok\":true");
}

/* ------------------------------------------------------------ tests */

static void test_help_and_table(void **state)
{
	(void)state;
	struct host *h = host_new(BASE, 1, 1);
	size_t n;
	const struct vnet_mgmt_cmd_info *t = vnet_mgmt_commands(&n);
	assert_int_equal(n, 14); /* 13 commands + help */
	static const char *const names[] = {
		"virtio_net_device_info",      "virtio_net_device_reset",     "virtio_net_device_remove",
		"virtio_net_virtqueue_info",   "virtio_net_virtqueue_reset",  "virtio_net_virtqueue_remove",
		"virtio_net_feature_info",     "virtio_net_feature_set",      "virtio_net_feature_get",
		"virtio_net_performance_stats", "virtio_net_virtqueue_stats", "virtio_net_control_info",
		"virtio_net_control_set"};
	for (unsigned i = 0; i < 13; i++) {
		assert_string_equal(t[i].name, names[i]);
		assert_ptr_equal(vnet_mgmt_lookup(t[i].alias), &t[i]);
		assert_int_equal(run(h, "help"), VNET_OK);
		assert_has(h->out, names[i]);
		char line[80];
		snprintf(line, sizeof(line), "help %s", t[i].alias);
		assert_int_equal(run(h, line), VNET_OK);
		assert_has(h->out, t[i].usage);
	}
	assert_false(vnet_mgmt_lookup("virtio_net_device_info")->changes);
	assert_true(vnet_mgmt_lookup("ctrlset")->changes);
	expect_ok_both(h, "help");
	assert_has(h->out, "\"virtio_net_control_set\":{\"alias\":\"ctrlset\"");
	expect_error(h, "virtio_net_bogus", VNET_EINVAL, "unknown command 'virtio_net_bogus'");
	expect_error(h, "help nosuch", VNET_EINVAL, "unknown command 'nosuch'");
	expect_error(h, "devinfo --frobnicate", VNET_EINVAL, "unknown option '--frobnicate'");
	/* --watch is in the usage line; one call is one sample, the host repeats it */
	assert_int_equal(run(h, "help perf"), VNET_OK);
	assert_has(h->out, "virtio_net_performance_stats [DEV] [--watch SECONDS]");
	expect_error(h, "perf vnet0 --watch 2", VNET_EINVAL, "--watch SECONDS is run by the host's shell");
	host_free(h);
}

static void test_device_info(void **state)
{
	(void)state;
	struct host *h = host_new(ALLCTRL, 2, 2);
	expect_ok_both(h, "virtio_net_device_info vnet0");
	assert_has(h->out, "\"device\":\"vnet0\"");
	assert_has(h->out, "\"mac\":\"52:54:00:12:34:56\"");
	assert_has(h->out, "\"queue_pairs\":2");
	assert_has(h->out, "\"host\":{\"interrupts\":7");
	assert_int_equal(run(h, "devinfo vnet1"), VNET_OK);
	assert_has(h->out, "vnet1: virtio_net_device_info\n");
	assert_has(h->out, "mtu                     1500\n");
	assert_has(h->out, "link                    up\n");
	assert_has(h->out, "ring                    split\n");
	assert_has(h->out, "negotiated_names        ");
	assert_has(h->out, "GUEST_CSUM");
	/* every device without a name */
	expect_ok_both(h, "devinfo");
	assert_has(h->out, "\"count\":2");
	assert_has(h->out, "\"name\":\"vnet1\"");
	expect_error(h, "devinfo vnet7", VNET_ENODEV, "unknown device 'vnet7'");
	expect_error(h, "devinfo vnet0 extra", VNET_EINVAL, "usage:");
	host_free(h);
}

static void test_device_reset_replays(void **state)
{
	(void)state;
	struct host *h = host_new(ALLCTRL, 1, 1);
	struct dev *d = &h->d[0];
	assert_int_equal(run(h, "ctrlset vnet0 promisc=on vlan_add=42"), VNET_OK);
	assert_int_equal(d->m.cdev.rx[VNET_NET_RX_PROMISC], 1);
	/* the device forgets everything at reset (as QEMU does) */
	unsigned sw = d->m.ft.n_status_writes;
	memset(&d->m.cdev, 0, sizeof(d->m.cdev));
	assert_int_equal(run(h, "virtio_net_device_reset vnet0"), VNET_OK);
	assert_has(h->out, "buffers_reclaimed");
	assert_has(h->out, "replays                 1\n");
	assert_true(d->m.ft.n_status_writes > sw);
	assert_int_equal(d->m.cdev.rx[VNET_NET_RX_PROMISC], 1);
	assert_true(d->m.cdev.vlan[42 / 8] & (1u << (42 % 8)));
	assert_true(vnet_net_is_running(d->net));
	/* traffic after the reset */
	rx_one(d);
	run_json(h, "devreset vnet0 --json", VNET_OK);
	assert_has(h->out, "\"running\":true");
	assert_true(h->changed >= 2);
	expect_error(h, "devreset", VNET_EINVAL, "a device name is required");
	expect_error(h, "devreset vnet3", VNET_ENODEV, "unknown device 'vnet3'");
	expect_error(h, "devreset vnet0 now", VNET_EINVAL, "unexpected argument 'now'");
	host_free(h);
}

static void test_device_remove(void **state)
{
	(void)state;
	struct host *h = host_new(BASE, 1, 2);
	expect_error(h, "devremove vnet5", VNET_ENODEV, "unknown device 'vnet5'");
	run_json(h, "virtio_net_device_remove vnet1 --json", VNET_OK);
	assert_has(h->out, "\"result\":\"removed\"");
	assert_true(h->d[1].removed);
	expect_error(h, "devinfo vnet1", VNET_ENODEV, "unknown device 'vnet1'");
	assert_int_equal(run(h, "devinfo --json"), VNET_OK);
	assert_has(h->out, "\"count\":1");
	/* a host that cannot remove */
	struct vnet_mgmt_host_ops ro = h_ops;
	ro.remove = NULL;
	h->mg.ops = &ro;
	expect_error(h, "devremove vnet0", VNET_ENOTSUP, "cannot remove devices");
	h->mg.ops = &h_ops;
	host_free(h); /* every buffer of vnet1 came back: host_free checks the DMA balance */
}

static void test_virtqueue_info_reset(void **state)
{
	(void)state;
	struct host *h = host_new(ALLCTRL, 2, 1);
	expect_ok_both(h, "virtio_net_virtqueue_info vnet0");
	assert_has(h->out, "\"name\":\"rx1\",\"index\":2,\"size\":64");
	assert_has(h->out, "\"name\":\"ctrl\",\"index\":4");
	expect_ok_both(h, "vqinfo tx1");
	assert_has(h->out, "\"name\":\"tx1\",\"index\":3");
	assert_null(strstr(h->out, "\"rx0\""));
	expect_ok_both(h, "vqinfo vnet0 ctrl");
	expect_ok_both(h, "vqinfo vnet0 3");
	assert_has(h->out, "\"name\":\"tx1\"");
	expect_error(h, "vqinfo vnet0 rx2", VNET_EINVAL, "unknown queue 'rx2': 2 queue pair(s) in use");
	expect_error(h, "vqinfo vnet0 bogus", VNET_EINVAL, "unknown queue 'bogus'");
	expect_error(h, "vqinfo vnet9 rx0", VNET_ENODEV, "unknown device 'vnet9'");
	/* reset: RING_RESET not offered: a device reset with replay */
	unsigned sw = h->d[0].m.ft.n_status_writes;
	assert_int_equal(run(h, "virtio_net_virtqueue_reset vnet0 rx1"), VNET_OK);
	assert_has(h->out, "method                  device_reset\n");
	assert_has(h->out, "VIRTIO_F_RING_RESET not negotiated");
	assert_true(h->d[0].m.ft.n_status_writes > sw);
	expect_ok_both(h, "vqreset vnet0 ctrl");
	expect_error(h, "vqreset vnet0", VNET_EINVAL, "a queue is required");
	expect_error(h, "vqreset vnet0 tx7", VNET_EINVAL, "unknown queue 'tx7'");
	expect_error(h, "vqreset vnet0 rx0 --size 0", VNET_EINVAL, "bad --size '0'");
	expect_error(h, "vqreset vnet0 rx0 --size 99999", VNET_EINVAL, "bad --size");
	expect_error(h, "vqreset vnet0 rx0 --size 128", VNET_ENOTSUP, "--size needs a per-queue reset");
	expect_error(h, "vqreset vnet0 rx0 --size", VNET_EINVAL, "--size needs a value");
	host_free(h);
}

static void test_virtqueue_reset_ring_reset(void **state)
{
	(void)state;
	struct host *h = host_new(ALLCTRL | F(RING_RESET), 1, 1);
	struct dev *d = &h->d[0];
	assert_int_equal(run(h, "ctrlset vnet0 promisc=on"), VNET_OK);
	unsigned sw = d->m.ft.n_status_writes;
	uint64_t ct = d->m.ctrl_total;
	run_json(h, "virtio_net_virtqueue_reset vnet0 rx0 --size 32 --json", VNET_OK);
	assert_has(h->out, "\"method\":\"queue_reset\"");
	assert_has(h->out, "\"size\":32");
	assert_int_equal(vnet_vq_size(vnet_net_rxq(d->net, 0)), 32);
	/* no device reset: no status write, no replay */
	assert_int_equal(d->m.ft.n_status_writes, sw);
	assert_int_equal(d->m.ctrl_total, ct);
	rx_one(d);
	expect_ok_both(h, "vqreset vnet0 pair0");
	expect_error(h, "vqreset vnet0 rx0 --size 48", VNET_EINVAL, "per-queue reset of 'rx0' refused");
	assert_int_equal(vnet_vq_size(vnet_net_rxq(d->net, 0)), 32);
	host_free(h);
}

static void test_virtqueue_remove(void **state)
{
	(void)state;
	struct host *h = host_new(ALLCTRL, 3, 1);
	struct dev *d = &h->d[0];
	assert_int_equal(d->m.cdev.pairs, 3);
	expect_error(h, "vqremove vnet0 pair0", VNET_EINVAL, "only the last pair in use (pair2)");
	expect_error(h, "vqremove vnet0 ctrl", VNET_EINVAL, "control queue cannot be taken out of service");
	expect_error(h, "vqremove vnet0 rx5", VNET_EINVAL, "unknown queue 'rx5'");
	run_json(h, "virtio_net_virtqueue_remove vnet0 tx2 --json", VNET_OK);
	assert_has(h->out, "\"removed\":\"pair2\",\"pairs_before\":3,\"pairs_after\":2");
	assert_int_equal(d->m.cdev.pairs, 2);
	assert_int_equal(run(h, "vqremove vnet0 pair1"), VNET_OK);
	assert_int_equal(d->m.cdev.pairs, 1);
	expect_error(h, "vqremove vnet0 pair0", VNET_EINVAL, "pair0 is the last pair in use");
	/* back through control_set pairs= (the rings are still there) */
	assert_int_equal(run(h, "ctrlset vnet0 pairs=3"), VNET_OK);
	assert_int_equal(d->m.cdev.pairs, 3);
	/* a refusal: the pairs stay */
	d->m.ctrl_err_classes = 1u << VIRTIO_NET_CTRL_MQ;
	assert_int_equal(run(h, "vqremove vnet0 pair2"), VNET_EIO);
	assert_has(h->out, "VQ_PAIRS_SET failed");
	struct vnet_net_info ni;
	vnet_net_get_info(d->net, &ni);
	assert_int_equal(ni.queue_pairs, 3);
	host_free(h);
	/* without MQ */
	h = host_new(BASE, 1, 1);
	expect_error(h, "vqremove vnet0 pair0", VNET_ENOTSUP, "needs VIRTIO_NET_F_MQ");
	host_free(h);
}

static void test_feature_info_get(void **state)
{
	(void)state;
	struct host *h = host_new(ALLCTRL | N(GUEST_TSO4), 1, 1);
	expect_ok_both(h, "virtio_net_feature_info vnet0");
	assert_has(h->out, "{\"name\":\"GUEST_CSUM\",\"bit\":1,\"offered\":true,\"wanted\":true,\"negotiated\":true}");
	/* GUEST_TSO4 offered, not asked for at bring-up */
	assert_has(h->out, "{\"name\":\"GUEST_TSO4\",\"bit\":7,\"offered\":true,\"wanted\":false,\"negotiated\":false}");
	assert_int_equal(run(h, "featinfo"), VNET_OK);
	assert_has(h->out, "   bit  name                   offered wanted  negotiated\n");
	assert_has(h->out, "     1  GUEST_CSUM             yes     yes     yes\n");
	assert_has(h->out, "    32  VERSION_1              yes     yes     yes\n");
	expect_ok_both(h, "virtio_net_feature_get vnet0 GUEST_CSUM 32 virtio_net_f_mq");
	assert_has(h->out, "\"name\":\"VERSION_1\",\"bit\":32");
	assert_has(h->out, "\"name\":\"MQ\",\"bit\":22");
	expect_ok_both(h, "featget RING_PACKED");
	assert_has(h->out, "\"name\":\"RING_PACKED\",\"bit\":34,\"offered\":false");
	expect_error(h, "featget vnet0 NOT_A_FEATURE", VNET_EINVAL, "unknown feature 'NOT_A_FEATURE'");
	expect_error(h, "featget vnet0 64", VNET_EINVAL, "unknown feature '64'");
	expect_error(h, "featget", VNET_EINVAL, "a feature is required");
	expect_error(h, "featinfo vnet4", VNET_ENODEV, "unknown device 'vnet4'");
	host_free(h);
}

static void test_feature_set(void **state)
{
	(void)state;
	struct host *h = host_new(ALLCTRL | N(GUEST_TSO4) | N(HOST_TSO6), 1, 1);
	struct dev *d = &h->d[0];
	assert_int_equal(run(h, "ctrlset vnet0 promisc=on"), VNET_OK);
	assert_true(ndm_features(&d->m) & N(GUEST_CSUM));
	/* refusals, nothing changed */
	expect_error(h, "featset vnet0 +RING_PACKED", VNET_ENOTSUP, "RING_PACKED shapes the rings");
	expect_error(h, "featset vnet0 EVENT_IDX=off", VNET_ENOTSUP, "EVENT_IDX shapes the rings");
	expect_error(h, "featset vnet0 +HASH_REPORT", VNET_ENOTSUP, "HASH_REPORT shapes the rings");
	expect_error(h, "featset vnet0 +HOST_UFO", VNET_EINVAL, "HOST_UFO is not offered by the device");
	expect_error(h, "featset vnet0 +NO_SUCH", VNET_EINVAL, "unknown feature 'NO_SUCH'");
	expect_error(h, "featset vnet0 GUEST_CSUM=maybe", VNET_EINVAL, "bad value 'maybe'");
	expect_error(h, "featset vnet0 GUEST_CSUM", VNET_EINVAL, "expected FEATURE=on|off");
	expect_error(h, "featset vnet0 +HOST_TSO4 -CSUM", VNET_EINVAL, "HOST_TSO4 needs a feature the new set lacks");
	expect_error(h, "featset vnet0", VNET_EINVAL, "no change given");
	expect_error(h, "featset vnet8 -CSUM", VNET_ENODEV, "unknown device 'vnet8'");
	/* GUEST_CSUM off: renegotiated, the device sees it, promisc replayed */
	memset(&d->m.cdev, 0, sizeof(d->m.cdev));
	run_json(h, "virtio_net_feature_set vnet0 GUEST_CSUM=off --json", VNET_OK);
	assert_has(h->out, "\"renegotiated\":true");
	assert_has(h->out, "\"removed\":[\"GUEST_CSUM\"]");
	assert_false(ndm_features(&d->m) & N(GUEST_CSUM));
	assert_int_equal(d->m.cdev.rx[VNET_NET_RX_PROMISC], 1);
	assert_true(vnet_net_is_running(d->net));
	assert_int_equal(run(h, "featget vnet0 GUEST_CSUM --json"), VNET_OK);
	assert_has(h->out, "\"offered\":true,\"wanted\":false,\"negotiated\":false");
	/* a receive frame still arrives, not checksum-flagged */
	rx_one(d);
	/* back on, and a guest GSO with MRG_RXBUF (no big-packet change) */
	assert_int_equal(run(h, "featset vnet0 +GUEST_CSUM +GUEST_TSO4 -CSUM"), VNET_OK);
	assert_has(h->out, "added                   GUEST_CSUM GUEST_TSO4\n");
	assert_has(h->out, "removed                 CSUM\n");
	uint64_t f = ndm_features(&d->m);
	assert_true((f & N(GUEST_CSUM)) && (f & N(GUEST_TSO4)) && !(f & N(CSUM)));
	/* nothing to do: no reset */
	unsigned sw = d->m.ft.n_status_writes;
	assert_int_equal(run(h, "featset vnet0 +GUEST_CSUM"), VNET_OK);
	assert_has(h->out, "renegotiated            no\n");
	assert_int_equal(d->m.ft.n_status_writes, sw);
	host_free(h);
}

static void test_feature_set_big_packet_refused(void **state)
{
	(void)state;
	/* without MRG_RXBUF a guest GSO bit switches big-packet receive: refused */
	struct host *h = host_new((ALLCTRL & ~N(MRG_RXBUF)) | N(GUEST_TSO4), 1, 1);
	expect_error(h, "featset vnet0 +GUEST_TSO4", VNET_ENOTSUP, "GUEST_TSO4 shapes the rings");
	host_free(h);
}

static void test_performance_stats(void **state)
{
	(void)state;
	struct host *h = host_new(BASE, 1, 1);
	struct dev *d = &h->d[0];
	run_json(h, "virtio_net_performance_stats vnet0 --json", VNET_OK);
	assert_has(h->out, "\"interval_ms\":0,\"rates\":{\"rx_pps\":null");
	/* 10 frames of 60 bytes, 2 interrupts, in half a second */
	static const uint8_t fr[60] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
	for (int k = 0; k < 2; k++) {
		vnet_net_rx_irq(d->net, 0);
		for (int i = 0; i < 5; i++)
			assert_int_equal(ndm_rx_inject(&d->m, 0, fr, sizeof(fr), NULL), 1);
		struct vnet_pkt *p[8];
		unsigned n = vnet_net_rx_burst(d->net, 0, p, 8);
		assert_int_equal(n, 5);
		for (unsigned i = 0; i < n; i++)
			vnet_net_pkt_free(d->net, p[i]);
	}
	h->now += 500000000ull;
	run_json(h, "perf vnet0 --json", VNET_OK);
	assert_has(h->out, "\"rx_packets\":10,\"rx_bytes\":600");
	assert_has(h->out, "\"interval_ms\":500");
	assert_has(h->out, "\"rx_pps\":20.00");
	assert_has(h->out, "\"rx_bytes_per_s\":1200");
	/* host counters (7 interrupts) moved by 0 since the first call */
	assert_has(h->out, "\"interrupts_per_s\":0.00");
	/* performance monitor: smoothed (seeded by the first interval), per
	 * pair rates, frames per interrupt, occupancy, latency sampling turned
	 * on by the first call, feature use */
	assert_has(h->out, "\"smoothed\":{\"rx_pps\":20.00,");
	assert_has(h->out, "\"queues\":[{\"name\":\"pair0\",\"rx_pps\":20.00,");
	assert_has(h->out, "\"rx_interrupts_per_s\":4.00,\"rx_frames_per_poll\":null");
	assert_has(h->out, "\"rx_in_flight\":");
	assert_has(h->out, "\"latency\":{\"sampling\":true,\"one_in\":16,");
	assert_has(h->out, "\"tx_completion\":{\"samples\":0,\"p50_ns\":null");
	assert_has(h->out, "\"features\":{\"tx_csum\":0,");
	/* text: aligned */
	h->now += 250000000ull;
	assert_int_equal(run(h, "perf"), VNET_OK);
	assert_has(h->out, "  rx_pps                0.00\n");
	assert_has(h->out, "interval_ms             250\n");
	/* smoothed: 20 then 0 with weight 1/4 -> 15 */
	assert_has(h->out, "  rx_pps                15.00\n");
	expect_error(h, "perf vnet2", VNET_ENODEV, "unknown device 'vnet2'");
	/* no clock */
	struct vnet_mgmt_host_ops nc = h_ops;
	nc.now_ns = NULL;
	h->mg.ops = &nc;
	expect_error(h, "perf", VNET_ENOTSUP, "no clock");
	h->mg.ops = &h_ops;
	host_free(h);
}

static void test_virtqueue_stats(void **state)
{
	(void)state;
	struct host *h = host_new(ALLCTRL, 2, 1);
	struct dev *d = &h->d[0];
	struct vnet_pkt *p = vnet_net_pkt_alloc(d->net);
	memset(p->data, 0xab, 60);
	p->len = 60;
	assert_int_equal(vnet_net_tx_burst(d->net, 1, &p, 1), 1);
	assert_int_equal(ndm_poll(&d->m), 1);
	expect_ok_both(h, "virtio_net_virtqueue_stats vnet0");
	assert_has(h->out, "{\"name\":\"pair1\",\"rx_packets\":0");
	assert_has(h->out, "\"tx_packets\":1,\"tx_bytes\":60");
	assert_has(h->out, "{\"name\":\"tx1\",\"index\":3,\"size\":64,\"added\":1");
	/* buffer accounting: the device completed the frame, the driver has
	 * not taken the completion yet, so it is still in flight */
	assert_has(h->out, "\"buffers\":{\"posted\":1,\"completed\":0,\"reclaimed\":0,\"leaked\":0,"
	                   "\"in_flight\":1,\"balanced\":true}");
	assert_int_equal(vnet_net_tx_reclaim(d->net, 1), 1);
	assert_int_equal(run(h, "vqstats vnet0 tx1"), VNET_OK);
	assert_has(h->out, "    buffers:\n      posted ");
	const char *bal = strstr(h->out, "      balanced ");
	assert_non_null(bal);
	bal += strlen("      balanced ");
	while (*bal == ' ')
		bal++;
	assert_true(strncmp(bal, "yes\n", 4) == 0);
	assert_int_equal(run(h, "vqstats vnet0 tx1 --json"), VNET_OK);
	assert_has(h->out, "\"buffers\":{\"posted\":1,\"completed\":1,\"reclaimed\":0,\"leaked\":0,"
	                   "\"in_flight\":0,\"balanced\":true}");
	expect_ok_both(h, "vqstats tx1");
	assert_null(strstr(h->out, "\"rx0\""));
	assert_has(h->out, "\"name\":\"tx1\"");
	expect_ok_both(h, "vqstats vnet0 ctrl");
	assert_has(h->out, "\"pairs\":[]");
	expect_error(h, "vqstats vnet0 rx9", VNET_EINVAL, "unknown queue 'rx9'");
	host_free(h);
}

static void test_control_info(void **state)
{
	(void)state;
	struct host *h = host_new(ALLCTRL, 2, 1);
	assert_int_equal(run(h, "ctrlset vnet0 allmulti=on vlan_add=7 vlan_add=100"), VNET_OK);
	expect_ok_both(h, "virtio_net_control_info vnet0");
	assert_has(h->out, "\"rx_mode\":{\"supported\":true,\"extra_supported\":true,\"promisc\":false,\"allmulti\":true");
	assert_has(h->out, "\"vlans\":[7,100],\"count\":2");
	assert_has(h->out, "\"queue_pairs\":{\"mq\":true,\"in_use\":2,\"max\":2}");
	assert_has(h->out, "\"vq_notf_coal\":true,\"virtqueues\":[{\"name\":\"rx0\"");
	assert_has(h->out, "\"last_error\":{\"error\":\"none\"}");
	assert_int_equal(run(h, "ctrlinfo"), VNET_OK);
	assert_has(h->out, "rx_mode:\n  supported             yes\n");
	assert_has(h->out, "  vlans                 7 100\n");
	expect_error(h, "ctrlinfo vnet1", VNET_ENODEV, "unknown device 'vnet1'");
	host_free(h);
}

static void test_control_set(void **state)
{
	(void)state;
	struct host *h = host_new(ALLCTRL, 2, 1);
	struct dev *d = &h->d[0];
	expect_ok_both(h, "virtio_net_control_set vnet0 promisc=on");
	assert_int_equal(d->m.cdev.rx[VNET_NET_RX_PROMISC], 1);
	assert_int_equal(run(h, "ctrlset vnet0 promisc=off nobcast=on mac=02:11:22:33:44:55"), VNET_OK);
	assert_int_equal(d->m.cdev.rx[VNET_NET_RX_PROMISC], 0);
	assert_int_equal(d->m.cdev.rx[VNET_NET_RX_NOBCAST], 1);
	static const uint8_t mac[6] = {2, 0x11, 0x22, 0x33, 0x44, 0x55};
	assert_memory_equal(d->m.cdev.mac, mac, 6);
	assert_has(h->out, "applied                 promisc=off nobcast=on mac=02:11:22:33:44:55\n");
	assert_int_equal(run(h, "ctrlset vnet0 uc=02:00:00:00:00:01,02:00:00:00:00:02 mc=01:00:5e:00:00:01"), VNET_OK);
	assert_int_equal(d->m.cdev.n_uc, 2);
	assert_int_equal(d->m.cdev.n_mc, 1);
	assert_int_equal(run(h, "ctrlset vnet0 vlan_add=5 vlan_del=5 vlan_add=6"), VNET_OK);
	assert_false(d->m.cdev.vlan[0] & (1u << 5));
	assert_true(d->m.cdev.vlan[0] & (1u << 6));
	assert_int_equal(run(h, "ctrlset vnet0 offloads=none"), VNET_OK);
	assert_int_equal(d->m.cdev.offloads, 0);
	assert_int_equal(run(h, "ctrlset vnet0 offloads=GUEST_CSUM"), VNET_OK);
	assert_int_equal(d->m.cdev.offloads, N(GUEST_CSUM));
	assert_int_equal(run(h, "ctrlset vnet0 coal_rx=50,16 coal_tx=10,4"), VNET_OK);
	assert_int_equal(run(h, "ctrlset vnet0 pairs=1"), VNET_OK);
	assert_int_equal(d->m.cdev.pairs, 1);
	/* errors: nothing sent, nothing changed */
	expect_error(h, "ctrlset vnet0 promisc=maybe", VNET_EINVAL, "bad value 'maybe'");
	expect_error(h, "ctrlset vnet0 promisc=on mac=zz:00:00:00:00:00", VNET_EINVAL, "bad MAC address");
	expect_error(h, "ctrlset vnet0 mac=01:00:00:00:00:01", VNET_EINVAL, "is a multicast address");
	expect_error(h, "ctrlset vnet0 uc=01:00:5e:00:00:01", VNET_EINVAL, "is a multicast address, not unicast");
	expect_error(h, "ctrlset vnet0 mc=02:00:00:00:00:01", VNET_EINVAL, "is not a multicast address");
	expect_error(h, "ctrlset vnet0 vlan_add=4096", VNET_EINVAL, "bad VLAN id '4096'");
	expect_error(h, "ctrlset vnet0 pairs=3", VNET_EINVAL, "bad pair count '3' (1..2)");
	expect_error(h, "ctrlset vnet0 pairs=0", VNET_EINVAL, "bad pair count");
	expect_error(h, "ctrlset vnet0 coal_rx=5", VNET_EINVAL, "expected USECS,PACKETS");
	expect_error(h, "ctrlset vnet0 offloads=HOST_TSO4", VNET_EINVAL, "not a receive (GUEST_*) offload");
	expect_error(h, "ctrlset vnet0 offloads=GUEST_TSO6", VNET_EINVAL, "GUEST_TSO6 was not negotiated");
	expect_error(h, "ctrlset vnet0 rss=default", VNET_ENOTSUP, "needs VIRTIO_NET_F_RSS");
	expect_error(h, "ctrlset vnet0 colour=blue", VNET_EINVAL, "unknown setting 'colour=blue'");
	expect_error(h, "ctrlset vnet0", VNET_EINVAL, "no setting given");
	expect_error(h, "ctrlset vnet6 promisc=on", VNET_ENODEV, "unknown device 'vnet6'");
	/* a refusal by the device: named, the recorded state kept */
	d->m.ctrl_err_classes = 1u << VIRTIO_NET_CTRL_RX;
	run_json(h, "ctrlset vnet0 promisc=on --json", VNET_EIO);
	assert_has(h->out, "'promisc=on' failed: refused by the device (ack ERR) (RX.PROMISC); 0 earlier");
	assert_false(vnet_net_get_rx_mode(d->net, VNET_NET_RX_PROMISC));
	host_free(h);
	/* a device without the classes */
	h = host_new(BASE, 1, 1);
	expect_error(h, "ctrlset vnet0 vlan_add=1", VNET_ENOTSUP, "needs VIRTIO_NET_F_CTRL_VLAN (not negotiated)");
	expect_error(h, "ctrlset vnet0 nouni=on", VNET_ENOTSUP, "needs VIRTIO_NET_F_CTRL_RX_EXTRA");
	expect_error(h, "ctrlset vnet0 mac=02:00:00:00:00:09", VNET_ENOTSUP, "needs VIRTIO_NET_F_CTRL_MAC_ADDR");
	host_free(h);
}

static void test_rss_set(void **state)
{
	(void)state;
	struct host *h = host_new(ALLCTRL | N(RSS), 2, 1);
	struct dev *d = &h->d[0];
	assert_int_equal(run(h, "ctrlset vnet0 rss=default"), VNET_OK);
	assert_true(d->m.cdev.rss_on);
	run_json(h, "ctrlinfo --json", VNET_OK);
	assert_has(h->out, "\"configured\":true");
	/* rss_table=: the table sent as given, the key and types kept */
	uint8_t key[VNET_NET_RSS_KEY_MAX];
	uint8_t klen = d->m.cdev.key_len;
	memcpy(key, d->m.cdev.key, klen);
	uint32_t types = d->m.cdev.hash_types;
	unsigned cfgs = d->m.cdev.hash_configs;
	assert_int_equal(run(h, "ctrlset vnet0 rss_table=1,0,0,1"), VNET_OK);
	assert_int_equal(d->m.cdev.hash_configs, cfgs + 1);
	assert_true(d->m.cdev.rss_on);
	assert_int_equal(d->m.cdev.indir_len, 4);
	assert_int_equal(d->m.cdev.indir[0], 1);
	assert_int_equal(d->m.cdev.indir[1], 0);
	assert_int_equal(d->m.cdev.indir[2], 0);
	assert_int_equal(d->m.cdev.indir[3], 1);
	assert_int_equal(d->m.cdev.key_len, klen);
	assert_memory_equal(d->m.cdev.key, key, klen);
	assert_int_equal(d->m.cdev.hash_types, types);
	/* the last recorded command: RSS_CONFIG, mask 3, table 1,0,0,1 (spec 5.1.6.5.7.1) */
	assert_int_equal(ndm_ctrl_count(&d->m, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG), 2);
	const struct ndm_ctrl_rec *r = ndm_ctrl_last(&d->m, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG);
	assert_non_null(r);
	assert_int_equal(r->len, 8u + 2u * 4u + 3u + klen);
	assert_int_equal(r->data[4] | r->data[5] << 8, 3);
	const uint8_t tbl[8] = {1, 0, 0, 0, 0, 0, 1, 0};
	assert_memory_equal(r->data + 8, tbl, 8);
	run_json(h, "ctrlinfo --json", VNET_OK);
	assert_has(h->out, "\"indir\":[1,0,0,1]");
	/* bad values: nothing sent, the table kept */
	cfgs = d->m.cdev.hash_configs;
	expect_error(h, "ctrlset vnet0 rss_table=0,1,2,0", VNET_EINVAL, "bad queue '2' (0..1, the pairs in use)");
	expect_error(h, "ctrlset vnet0 rss_table=0,1,0", VNET_EINVAL, "power-of-two number of entries");
	expect_error(h, "ctrlset vnet0 rss_table=", VNET_EINVAL, "power-of-two number of entries");
	expect_error(h, "ctrlset vnet0 rss_table=0,,1", VNET_EINVAL, "bad queue ''");
	expect_error(h, "ctrlset vnet0 rss_table=0,1,", VNET_EINVAL, "empty entry");
	expect_error(h, "ctrlset vnet0 rss_table=x", VNET_EINVAL, "bad queue 'x'");
	assert_int_equal(d->m.cdev.hash_configs, cfgs);
	assert_int_equal(d->m.cdev.indir_len, 4);
	struct vnet_net_rss cur;
	assert_true(vnet_net_get_rss(d->net, &cur));
	assert_int_equal(cur.indir_len, 4);
	assert_int_equal(cur.indir[0], 1);
	/* a device reset replays the table the command set */
	memset(&d->m.cdev, 0, sizeof(d->m.cdev));
	assert_int_equal(run(h, "virtio_net_device_reset vnet0"), VNET_OK);
	assert_true(d->m.cdev.rss_on);
	assert_int_equal(d->m.cdev.indir_len, 4);
	assert_int_equal(d->m.cdev.indir[0], 1);
	assert_int_equal(d->m.cdev.indir[1], 0);
	assert_int_equal(d->m.cdev.indir[3], 1);
	assert_memory_equal(d->m.cdev.key, key, klen);
	host_free(h);
}

static void test_no_device(void **state)
{
	(void)state;
	struct host *h = host_new(BASE, 1, 1);
	assert_int_equal(run(h, "devremove vnet0"), VNET_OK);
	assert_int_equal(run(h, "perf"), VNET_ENODEV);
	assert_has(h->out, "error: no device");
	run_json(h, "devinfo --json", VNET_OK);
	assert_has(h->out, "\"devices\":[],\"count\":0");
	host_free(h);
}

/* The text renderer wraps long scalar lists and the JSON escapes. */
static void test_output_escapes(void **state)
{
	(void)state;
	struct host *h = host_new(BASE, 1, 1);
	assert_int_equal(run(h, "devinfo \"quote\\ --json"), VNET_ENODEV);
	assert_json(h->out);
	assert_has(h->out, "unknown device '\\\"quote\\\\'");
	host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_and_table),
		cmocka_unit_test(test_device_info),
		cmocka_unit_test(test_device_reset_replays),
		cmocka_unit_test(test_device_remove),
		cmocka_unit_test(test_virtqueue_info_reset),
		cmocka_unit_test(test_virtqueue_reset_ring_reset),
		cmocka_unit_test(test_virtqueue_remove),
		cmocka_unit_test(test_feature_info_get),
		cmocka_unit_test(test_feature_set),
		cmocka_unit_test(test_feature_set_big_packet_refused),
		cmocka_unit_test(test_performance_stats),
		cmocka_unit_test(test_virtqueue_stats),
		cmocka_unit_test(test_control_info),
		cmocka_unit_test(test_control_set),
		cmocka_unit_test(test_rss_set),
		cmocka_unit_test(test_no_device),
		cmocka_unit_test(test_output_escapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
