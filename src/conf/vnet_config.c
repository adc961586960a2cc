/*
 * vnet_config.c - the configuration schema (include/vnet/vnet_config.h),
 * shared by vnetd and the Orion kernel.
 *
 * The [virtio_net] keys are one table (name, type, range, where in the
 * struct), so checking, the "which keys were set" mask and the docs'
 * list cannot drift apart.  Per-device and [control] keys are checked by
 * hand, each with its own rule.  Cross-key rules run after every key has
 * been read, and name the key whose value breaks them.
 *
 * All or nothing: the document is read into a local struct, which is
 * copied to the caller's only when everything checked out.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnet/vnet_config.h"

/* ------------------------------------------------------------------ */
/* small freestanding helpers                                          */

static size_t c_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static bool c_streq(const char *a, size_t alen, const char *b)
{
	size_t blen = c_strlen(b);
	if (alen != blen)
		return false;
	for (size_t k = 0; k < alen; k++)
		if (a[k] != b[k])
			return false;
	return true;
}

struct sbuf {
	char *b;
	size_t n, cap;
};

static void sb_add(struct sbuf *s, const char *t, size_t len)
{
	for (size_t k = 0; k < len && s->n + 1 < s->cap; k++)
		s->b[s->n++] = t[k];
	if (s->cap)
		s->b[s->n] = 0;
}

static void sb_str(struct sbuf *s, const char *t)
{
	sb_add(s, t, c_strlen(t));
}

static void sb_u64(struct sbuf *s, uint64_t v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10u);
		v /= 10u;
	} while (v);
	while (n)
		sb_add(s, &tmp[--n], 1);
}

static void sb_i64(struct sbuf *s, int64_t v)
{
	if (v < 0) {
		sb_add(s, "-", 1);
		sb_u64(s, (uint64_t)0 - (uint64_t)v);
	} else {
		sb_u64(s, (uint64_t)v);
	}
}

/* ------------------------------------------------------------------ */
/* the [virtio_net] key table                                          */

enum key_kind { K_U32, K_BOOL };

struct net_key {
	const char *name;
	uint8_t kind;
	bool pow2;
	uint32_t lo, hi;
	size_t off;
};

#define NK_U32(f, lo, hi, p2) { #f, K_U32, p2, lo, hi, offsetof(struct vnet_config_net, f) }
#define NK_BOOL(f) { #f, K_BOOL, false, 0, 1, offsetof(struct vnet_config_net, f) }

static const struct net_key net_keys[] = {
	NK_U32(virtio_device_max_count, 1, VNET_CONFIG_MAX_DEVICES, false),
	NK_U32(virtio_device_max_queues, 1, 256, false),
	NK_U32(virtio_device_timeout, 1, 60000, false),
	NK_BOOL(virtio_device_interrupt_enabled),
	NK_U32(transmit_virtqueue_size, 2, 32768, true),
	NK_U32(transmit_descriptor_count, 1, 32768, false),
	NK_BOOL(transmit_tso_enabled),
	NK_BOOL(transmit_checksum_offload),
	NK_BOOL(transmit_vlan_enabled),
	NK_U32(receive_virtqueue_size, 2, 32768, true),
	NK_U32(receive_descriptor_count, 1, 32768, false),
	NK_BOOL(receive_checksum_offload),
	NK_BOOL(receive_vlan_enabled),
	NK_BOOL(receive_rss_enabled),
	NK_U32(interrupt_coalescing_timer, 0, 1000000, false),
	NK_U32(interrupt_coalescing_packets, 0, 65535, false),
	NK_BOOL(flow_control_enabled),
	NK_BOOL(multi_queue_enabled),
};
#define N_NET_KEYS (sizeof net_keys / sizeof net_keys[0])

enum {
	NK_MAX_COUNT, NK_MAX_QUEUES, NK_TIMEOUT, NK_IRQ, NK_TX_SIZE, NK_TX_DESC, NK_TX_TSO, NK_TX_CSUM,
	NK_TX_VLAN, NK_RX_SIZE, NK_RX_DESC, NK_RX_CSUM, NK_RX_VLAN, NK_RX_RSS, NK_COAL_TIMER,
	NK_COAL_PACKETS, NK_FLOW, NK_MQ,
};
_Static_assert(NK_MQ + 1 == N_NET_KEYS, "the key index enum follows the table");
_Static_assert(N_NET_KEYS <= 32, "net_set is a 32-bit mask");

const char *vnet_config_net_key_name(unsigned idx)
{
	return idx < N_NET_KEYS ? net_keys[idx].name : NULL;
}

static uint32_t *net_u32(struct vnet_config_net *n, const struct net_key *k)
{
	return (uint32_t *)(void *)((char *)n + k->off);
}

static bool *net_bool(struct vnet_config_net *n, const struct net_key *k)
{
	return (bool *)(void *)((char *)n + k->off);
}

void vnet_config_defaults(struct vnet_config *cfg)
{
	char *p = (char *)cfg;
	for (size_t k = 0; k < sizeof *cfg; k++)
		p[k] = 0;
	struct vnet_config_net *n = &cfg->net;
	n->virtio_device_max_count = VNET_CONFIG_MAX_DEVICES;
	n->virtio_device_max_queues = 1;
	n->virtio_device_timeout = 1000;
	n->virtio_device_interrupt_enabled = true;
	n->transmit_tso_enabled = true;
	n->transmit_checksum_offload = true;
	n->transmit_vlan_enabled = true;
	n->receive_checksum_offload = true;
	n->receive_vlan_enabled = true;
	n->receive_rss_enabled = true;
	n->flow_control_enabled = true;
	n->multi_queue_enabled = true;
}

/* ------------------------------------------------------------------ */
/* errors                                                              */

struct ctx {
	const struct vnet_toml_doc *doc;
	struct vnet_config_error *err;
	bool failed;
};

/* Error at node n (may be NULL) for key "<prefix><idx?>.<name>". */
static void cfail(struct ctx *c, const struct vnet_toml_node *n, const char *table, int idx, const char *key,
		  size_t keylen, const char *m1, int64_t num, const char *m2)
{
	if (c->failed)
		return;
	c->failed = true;
	struct vnet_config_error *e = c->err;
	if (!e)
		return;
	e->line = n ? n->line : 0;
	e->col = n ? n->col : 0;
	struct sbuf k = { e->key, 0, sizeof e->key };
	e->key[0] = 0;
	if (table) {
		sb_str(&k, table);
		if (idx >= 0) {
			sb_add(&k, "[", 1);
			sb_u64(&k, (uint64_t)idx);
			sb_add(&k, "]", 1);
		}
		if (key)
			sb_add(&k, ".", 1);
	}
	if (key) {
		/* printable characters only: the key came from the file */
		for (size_t j = 0; j < keylen && j < 40; j++) {
			char ch = key[j];
			sb_add(&k, (ch >= 0x20 && ch < 0x7f) ? &ch : "?", 1);
		}
	}
	struct sbuf m = { e->msg, 0, sizeof e->msg };
	e->msg[0] = 0;
	sb_str(&m, m1);
	if (m2) {
		sb_i64(&m, num);
		sb_str(&m, m2);
	}
}

char *vnet_config_error_format(const struct vnet_config_error *err, const char *file, char *buf, size_t len)
{
	struct sbuf s = { buf, 0, len };
	if (len)
		buf[0] = 0;
	sb_str(&s, file ? file : "config");
	if (err->line) {
		sb_add(&s, ":", 1);
		sb_u64(&s, err->line);
	}
	if (!err->key[0] && err->col) {
		sb_add(&s, ":", 1);
		sb_u64(&s, err->col);
	}
	sb_add(&s, ": ", 2);
	if (err->key[0]) {
		sb_str(&s, err->key);
		sb_add(&s, ": ", 2);
	}
	sb_str(&s, err->msg);
	return buf;
}

/* ------------------------------------------------------------------ */
/* typed reads                                                         */

static const char *tname(const struct vnet_toml_node *n)
{
	return vnet_toml_type_name(n->type);
}

static bool want_type(struct ctx *c, const struct vnet_toml_node *n, unsigned type, const char *table, int idx,
		      const char *key, size_t klen)
{
	if (n->type == type)
		return true;
	/* "expected a boolean, got integer" */
	char msg[64];
	struct sbuf m = { msg, 0, sizeof msg };
	sb_str(&m, "expected ");
	sb_str(&m, type == VNET_TOML_INT ? "an integer" : type == VNET_TOML_BOOL ? "a boolean (true or false)"
				: type == VNET_TOML_STRING ? "a string" : type == VNET_TOML_ARRAY ? "an array"
				: "a table");
	sb_str(&m, ", got ");
	sb_str(&m, n->type == VNET_TOML_INT ? "an integer" : tname(n));
	cfail(c, n, table, idx, key, klen, msg, 0, NULL);
	return false;
}

static bool read_u32(struct ctx *c, const struct vnet_toml_node *n, uint32_t lo, uint32_t hi, bool pow2,
		     const char *table, int idx, const char *key, size_t klen, uint32_t *out)
{
	if (!want_type(c, n, VNET_TOML_INT, table, idx, key, klen))
		return false;
	if (n->v.i < (int64_t)lo || n->v.i > (int64_t)hi) {
		char msg[96];
		struct sbuf m = { msg, 0, sizeof msg };
		sb_str(&m, "out of range: ");
		sb_i64(&m, n->v.i);
		sb_str(&m, " is not in ");
		sb_u64(&m, lo);
		sb_str(&m, "..");
		sb_u64(&m, hi);
		cfail(c, n, table, idx, key, klen, msg, 0, NULL);
		return false;
	}
	uint32_t v = (uint32_t)n->v.i;
	if (pow2 && (v & (v - 1))) {
		cfail(c, n, table, idx, key, klen, "must be a power of two, got ", n->v.i, "");
		return false;
	}
	*out = v;
	return true;
}

/* A string of 1..cap-1 bytes without NUL into out. */
static bool read_str(struct ctx *c, const struct vnet_toml_node *n, size_t cap, const char *table, int idx,
		     const char *key, size_t klen, char *out)
{
	if (!want_type(c, n, VNET_TOML_STRING, table, idx, key, klen))
		return false;
	size_t len;
	const char *s = vnet_toml_str(c->doc, n, &len);
	if (len == 0) {
		cfail(c, n, table, idx, key, klen, "must not be empty", 0, NULL);
		return false;
	}
	if (len >= cap) {
		cfail(c, n, table, idx, key, klen, "too long: at most ", (int64_t)cap - 1, " bytes");
		return false;
	}
	for (size_t k = 0; k < len; k++) {
		if (s[k] == 0) {
			cfail(c, n, table, idx, key, klen, "contains a NUL character", 0, NULL);
			return false;
		}
		out[k] = s[k];
	}
	out[len] = 0;
	return true;
}

/* What Linux takes as an interface name (dev_valid_name). */
static bool ifname_ok(const char *s)
{
	if ((s[0] == '.' && s[1] == 0) || (s[0] == '.' && s[1] == '.' && s[2] == 0))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s == ' ' || (*s >= '\t' && *s <= '\r'))
			return false;
	return true;
}

static int hexv(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static bool parse_mac(const char *s, size_t len, uint8_t mac[6])
{
	if (len != 17)
		return false;
	for (unsigned k = 0; k < 6; k++) {
		int h = hexv(s[3 * k]), l = hexv(s[3 * k + 1]);
		if (h < 0 || l < 0 || (k < 5 && s[3 * k + 2] != ':'))
			return false;
		mac[k] = (uint8_t)(h << 4 | l);
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* tables                                                              */

static void parse_net(struct ctx *c, const struct vnet_toml_node *t, struct vnet_config *cfg)
{
	if (!want_type(c, t, VNET_TOML_TABLE, NULL, -1, "virtio_net", 10))
		return;
	for (const struct vnet_toml_node *n = vnet_toml_first(c->doc, t); n && !c->failed;
	     n = vnet_toml_next(c->doc, n)) {
		size_t klen;
		const char *key = vnet_toml_key(c->doc, n, &klen);
		unsigned k;
		for (k = 0; k < N_NET_KEYS; k++)
			if (c_streq(key, klen, net_keys[k].name))
				break;
		if (k == N_NET_KEYS) {
			cfail(c, n, "virtio_net", -1, key, klen, "unknown key (docs/configuration.md lists the keys)", 0,
			      NULL);
			return;
		}
		const struct net_key *nk = &net_keys[k];
		if (nk->kind == K_BOOL) {
			if (!want_type(c, n, VNET_TOML_BOOL, "virtio_net", -1, key, klen))
				return;
			*net_bool(&cfg->net, nk) = n->v.b;
		} else if (!read_u32(c, n, nk->lo, nk->hi, nk->pow2, "virtio_net", -1, key, klen,
				     net_u32(&cfg->net, nk))) {
			return;
		}
		cfg->net_set |= 1u << k;
	}
}

static void parse_control(struct ctx *c, const struct vnet_toml_node *t, struct vnet_config *cfg)
{
	if (!want_type(c, t, VNET_TOML_TABLE, NULL, -1, "control", 7))
		return;
	for (const struct vnet_toml_node *n = vnet_toml_first(c->doc, t); n && !c->failed;
	     n = vnet_toml_next(c->doc, n)) {
		size_t klen;
		const char *key = vnet_toml_key(c->doc, n, &klen);
		if (c_streq(key, klen, "socket")) {
			read_str(c, n, sizeof cfg->control.socket, "control", -1, key, klen, cfg->control.socket);
		} else if (c_streq(key, klen, "group")) {
			if (!read_str(c, n, sizeof cfg->control.group, "control", -1, key, klen, cfg->control.group))
				return;
			for (const char *g = cfg->control.group; *g; g++) {
				char ch = *g;
				if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
				      ch == '_' || ch == '-' || ch == '.')) {
					cfail(c, n, "control", -1, key, klen,
					      "not a group name (letters, digits, '_', '-', '.')", 0, NULL);
					return;
				}
			}
		} else {
			cfail(c, n, "control", -1, key, klen, "unknown key (expected socket or group)", 0, NULL);
		}
	}
}

static void parse_device(struct ctx *c, const struct vnet_toml_node *t, int idx, struct vnet_config_device *d)
{
	static const char T[] = "device";
	d->line = t->line;
	for (const struct vnet_toml_node *n = vnet_toml_first(c->doc, t); n && !c->failed;
	     n = vnet_toml_next(c->doc, n)) {
		size_t klen, slen;
		const char *key = vnet_toml_key(c->doc, n, &klen);
		if (c_streq(key, klen, "name")) {
			if (!read_str(c, n, sizeof d->name, T, idx, key, klen, d->name))
				return;
			for (const char *s = d->name; *s; s++) {
				char ch = *s;
				if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
				      ch == '_' || ch == '-')) {
					cfail(c, n, T, idx, key, klen, "a device name has letters, digits, '_' and '-' only",
					      0, NULL);
					return;
				}
			}
		} else if (c_streq(key, klen, "socket")) {
			read_str(c, n, sizeof d->socket, T, idx, key, klen, d->socket);
		} else if (c_streq(key, klen, "tap")) {
			if (read_str(c, n, sizeof d->tap, T, idx, key, klen, d->tap) && !ifname_ok(d->tap))
				cfail(c, n, T, idx, key, klen,
				      "not an interface name Linux accepts ('/', ':', white space, '.' or '..')", 0, NULL);
		} else if (c_streq(key, klen, "mode")) {
			if (!want_type(c, n, VNET_TOML_STRING, T, idx, key, klen))
				return;
			const char *s = vnet_toml_str(c->doc, n, &slen);
			if (c_streq(s, slen, "client"))
				d->mode = VNET_CONFIG_CLIENT;
			else if (c_streq(s, slen, "server"))
				d->mode = VNET_CONFIG_SERVER;
			else
				cfail(c, n, T, idx, key, klen, "expected \"client\" or \"server\"", 0, NULL);
		} else if (c_streq(key, klen, "ring")) {
			if (!want_type(c, n, VNET_TOML_STRING, T, idx, key, klen))
				return;
			const char *s = vnet_toml_str(c->doc, n, &slen);
			if (c_streq(s, slen, "auto"))
				d->ring = VNET_NET_RING_AUTO;
			else if (c_streq(s, slen, "split"))
				d->ring = VNET_NET_RING_SPLIT;
			else if (c_streq(s, slen, "packed"))
				d->ring = VNET_NET_RING_PACKED;
			else
				cfail(c, n, T, idx, key, klen, "expected \"auto\", \"split\" or \"packed\"", 0, NULL);
		} else if (c_streq(key, klen, "mac")) {
			if (!want_type(c, n, VNET_TOML_STRING, T, idx, key, klen))
				return;
			const char *s = vnet_toml_str(c->doc, n, &slen);
			if (!parse_mac(s, slen, d->mac)) {
				cfail(c, n, T, idx, key, klen, "expected six hex octets, \"52:54:00:12:34:56\"", 0, NULL);
			} else if (d->mac[0] & 1u) {
				cfail(c, n, T, idx, key, klen, "a multicast address cannot be a device's MAC", 0, NULL);
			} else if (!(d->mac[0] | d->mac[1] | d->mac[2] | d->mac[3] | d->mac[4] | d->mac[5])) {
				cfail(c, n, T, idx, key, klen, "00:00:00:00:00:00 is not a usable MAC", 0, NULL);
			}
			d->has_mac = true;
		} else if (c_streq(key, klen, "pairs")) {
			uint32_t v;
			if (read_u32(c, n, 1, 256, false, T, idx, key, klen, &v)) {
				d->pairs = (uint16_t)v;
				d->pairs_line = n->line;
			}
		} else if (c_streq(key, klen, "queue_size")) {
			uint32_t v;
			if (read_u32(c, n, 2, 32768, true, T, idx, key, klen, &v))
				d->queue_size = (uint16_t)v;
		} else if (c_streq(key, klen, "vlans")) {
			if (!want_type(c, n, VNET_TOML_ARRAY, T, idx, key, klen))
				return;
			if (n->count > VNET_CONFIG_MAX_VLANS) {
				cfail(c, n, T, idx, key, klen, "too many VLANs: at most ", VNET_CONFIG_MAX_VLANS, "");
				return;
			}
			for (const struct vnet_toml_node *e = vnet_toml_first(c->doc, n); e && !c->failed;
			     e = vnet_toml_next(c->doc, e)) {
				uint32_t v;
				if (!read_u32(c, e, 0, 4095, false, T, idx, key, klen, &v))
					return;
				for (unsigned j = 0; j < d->n_vlans; j++)
					if (d->vlans[j] == v) {
						cfail(c, e, T, idx, key, klen, "VLAN ", v, " is listed twice");
						return;
					}
				d->vlans[d->n_vlans++] = (uint16_t)v;
			}
		} else {
			cfail(c, n, T, idx, key, klen,
			      "unknown key (expected name, socket, mode, tap, mac, pairs, ring, queue_size or vlans)", 0,
			      NULL);
		}
	}
}

static void parse_devices(struct ctx *c, const struct vnet_toml_node *a, struct vnet_config *cfg)
{
	if (a->type != VNET_TOML_ARRAY) {
		cfail(c, a, NULL, -1, "device", 6, "expected [[device]] tables (an array of tables)", 0, NULL);
		return;
	}
	int idx = 0;
	for (const struct vnet_toml_node *t = vnet_toml_first(c->doc, a); t && !c->failed;
	     t = vnet_toml_next(c->doc, t), idx++) {
		if (t->type != VNET_TOML_TABLE) {
			cfail(c, t, "device", idx, NULL, 0, "expected a table", 0, NULL);
			return;
		}
		if ((uint32_t)idx >= VNET_CONFIG_MAX_DEVICES) {
			cfail(c, t, "device", idx, NULL, 0, "too many devices: at most ", VNET_CONFIG_MAX_DEVICES, "");
			return;
		}
		struct vnet_config_device *d = &cfg->dev[idx];
		parse_device(c, t, idx, d);
		cfg->n_devices = (uint32_t)idx + 1;
	}
}

/* Cross-key rules, once every key is read. */
static void check_rules(struct ctx *c, const struct vnet_toml_node *root, struct vnet_config *cfg)
{
	const struct vnet_toml_node *vn = vnet_toml_get(c->doc, root, "virtio_net");
	struct vnet_config_net *n = &cfg->net;
#define KEYNODE(name) (vn ? vnet_toml_get(c->doc, vn, name) : NULL)
#define SET(i) (cfg->net_set & (1u << (i)))
	/* TSO needs the checksum offload (VirtIO 1.2 §5.1.3.1: HOST_TSO4
	 * requires CSUM); unset, it follows the checksum key. */
	if (!SET(NK_TX_TSO))
		n->transmit_tso_enabled = n->transmit_checksum_offload;
	else if (n->transmit_tso_enabled && !n->transmit_checksum_offload) {
		cfail(c, KEYNODE("transmit_tso_enabled"), "virtio_net", -1, "transmit_tso_enabled", 20,
		      "needs transmit_checksum_offload = true (the spec makes HOST_TSO depend on CSUM)", 0, NULL);
		return;
	}
	if (SET(NK_TX_SIZE) && SET(NK_RX_SIZE) && n->transmit_virtqueue_size != n->receive_virtqueue_size) {
		cfail(c, KEYNODE("receive_virtqueue_size"), "virtio_net", -1, "receive_virtqueue_size", 22,
		      "differs from transmit_virtqueue_size: the driver gives every queue one ring size", 0, NULL);
		return;
	}
	uint32_t ring = SET(NK_TX_SIZE) ? n->transmit_virtqueue_size : SET(NK_RX_SIZE) ? n->receive_virtqueue_size : 0;
	if (ring) {
		n->transmit_virtqueue_size = n->receive_virtqueue_size = ring;
		if (SET(NK_TX_DESC) && n->transmit_descriptor_count > ring) {
			cfail(c, KEYNODE("transmit_descriptor_count"), "virtio_net", -1, "transmit_descriptor_count", 25,
			      "larger than the ring size ", ring, "");
			return;
		}
		if (SET(NK_RX_DESC) && n->receive_descriptor_count > ring) {
			cfail(c, KEYNODE("receive_descriptor_count"), "virtio_net", -1, "receive_descriptor_count", 24,
			      "larger than the ring size ", ring, "");
			return;
		}
	}
	if (SET(NK_MAX_QUEUES) && n->virtio_device_max_queues > 1 && !n->multi_queue_enabled) {
		cfail(c, KEYNODE("virtio_device_max_queues"), "virtio_net", -1, "virtio_device_max_queues", 24,
		      "more than one queue pair needs multi_queue_enabled = true", 0, NULL);
		return;
	}
	if (cfg->n_devices > n->virtio_device_max_count) {
		const struct vnet_toml_node *d = vnet_toml_get(c->doc, root, "device");
		cfail(c, d, "device", (int)n->virtio_device_max_count, NULL, 0,
		      "more [[device]] tables than virtio_device_max_count = ", n->virtio_device_max_count, "");
		return;
	}
	const struct vnet_toml_node *dn = vnet_toml_first(c->doc, vnet_toml_get(c->doc, root, "device"));
	for (uint32_t i = 0; i < cfg->n_devices; i++, dn = vnet_toml_next(c->doc, dn)) {
		struct vnet_config_device *d = &cfg->dev[i];
		if (!d->name[0]) { /* vnet<i> by position */
			d->name[0] = 'v', d->name[1] = 'n', d->name[2] = 'e', d->name[3] = 't';
			d->name[4] = (char)('0' + i);
			d->name[5] = 0;
		}
		if (d->pairs > n->virtio_device_max_queues) {
			cfail(c, vnet_toml_get(c->doc, dn, "pairs"), "device", (int)i, "pairs", 5,
			      "more than virtio_device_max_queues = ", n->virtio_device_max_queues, "");
			return;
		}
		if (d->queue_size && SET(NK_TX_DESC) && n->transmit_descriptor_count > d->queue_size) {
			cfail(c, vnet_toml_get(c->doc, dn, "queue_size"), "device", (int)i, "queue_size", 10,
			      "smaller than transmit_descriptor_count = ", n->transmit_descriptor_count, "");
			return;
		}
		if (d->queue_size && SET(NK_RX_DESC) && n->receive_descriptor_count > d->queue_size) {
			cfail(c, vnet_toml_get(c->doc, dn, "queue_size"), "device", (int)i, "queue_size", 10,
			      "smaller than receive_descriptor_count = ", n->receive_descriptor_count, "");
			return;
		}
		for (uint32_t j = 0; j < i; j++) {
			const struct vnet_config_device *o = &cfg->dev[j];
			const char *what = NULL, *k = NULL;
			if (c_streq(d->name, c_strlen(d->name), o->name))
				what = "the same name as device ", k = "name";
			else if (d->socket[0] && c_streq(d->socket, c_strlen(d->socket), o->socket))
				what = "the same socket as device ", k = "socket";
			else if (d->tap[0] && c_streq(d->tap, c_strlen(d->tap), o->tap))
				what = "the same TAP as device ", k = "tap";
			if (what) {
				const struct vnet_toml_node *kn = vnet_toml_get(c->doc, dn, k);
				cfail(c, kn ? kn : dn, "device", (int)i, k, c_strlen(k), what, (int64_t)j, "");
				return;
			}
		}
	}
#undef KEYNODE
#undef SET
}

int vnet_config_parse(struct vnet_config *cfg, const char *text, size_t len, struct vnet_toml_node *nodes,
		      uint32_t n_nodes, char *strs, uint32_t n_strs, struct vnet_config_error *err)
{
	struct vnet_toml_doc doc = { .nodes = nodes, .node_cap = n_nodes, .strbuf = strs, .str_cap = n_strs };
	struct vnet_toml_error te;
	struct ctx c = { .doc = &doc, .err = err, .failed = false };
	if (err) {
		err->line = err->col = 0;
		err->key[0] = err->msg[0] = 0;
	}
	vnet_config_defaults(cfg);
	if (vnet_toml_parse(&doc, text, len, &te) != 0) {
		if (err) {
			err->line = te.line;
			err->col = te.col;
			struct sbuf m = { err->msg, 0, sizeof err->msg };
			sb_str(&m, te.msg);
		}
		return -1;
	}
	/* A large struct: the kernel's stack is small, so parse into the
	 * caller's and reset it to the defaults on failure. */
	const struct vnet_toml_node *root = vnet_toml_root(&doc);
	for (const struct vnet_toml_node *t = vnet_toml_first(&doc, root); t && !c.failed; t = vnet_toml_next(&doc, t)) {
		size_t klen;
		const char *key = vnet_toml_key(&doc, t, &klen);
		if (c_streq(key, klen, "virtio_net"))
			parse_net(&c, t, cfg);
		else if (c_streq(key, klen, "control"))
			parse_control(&c, t, cfg);
		else if (c_streq(key, klen, "device"))
			parse_devices(&c, t, cfg);
		else
			cfail(&c, t, NULL, -1, key, klen,
			      "unknown table or key (expected [virtio_net], [control] or [[device]])", 0, NULL);
	}
	if (!c.failed)
		check_rules(&c, root, cfg);
	if (c.failed) {
		vnet_config_defaults(cfg);
		return -1;
	}
	return 0;
}

const struct vnet_config_device *vnet_config_find_device(const struct vnet_config *cfg, const char *name)
{
	for (uint32_t i = 0; i < cfg->n_devices; i++)
		if (c_streq(cfg->dev[i].name, c_strlen(cfg->dev[i].name), name))
			return &cfg->dev[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* mapping onto the driver's options                                   */

void vnet_config_net_opts(const struct vnet_config *cfg, const struct vnet_config_device *dev,
			  struct vnet_net_opts *o)
{
	const struct vnet_config_net *n = &cfg->net;
	uint32_t pairs = dev && dev->pairs ? dev->pairs : n->virtio_device_max_queues;
	if (!n->multi_queue_enabled)
		pairs = 1;
	o->queue_pairs = (uint16_t)pairs;
	uint32_t qsize = dev && dev->queue_size ? dev->queue_size : n->transmit_virtqueue_size;
	if (qsize)
		o->queue_size = (uint16_t)qsize;
	if (dev)
		o->ring = dev->ring;
	o->tx_csum = n->transmit_checksum_offload;
	o->rx_csum = n->receive_checksum_offload;
	o->tx_tso4 = o->tx_tso6 = o->tx_ecn = n->transmit_tso_enabled && n->transmit_checksum_offload;
	o->no_rss = !n->receive_rss_enabled;
	o->timeout_ns = (uint64_t)n->virtio_device_timeout * 1000000u;
	/* Descriptor counts size the packet pool: that many buffers posted
	 * per receive queue and in flight per transmit queue. */
	if (cfg->net_set & ((1u << NK_TX_DESC) | (1u << NK_RX_DESC))) {
		uint32_t ring = qsize ? qsize : 256u;
		uint32_t rx = cfg->net_set & (1u << NK_RX_DESC) ? n->receive_descriptor_count : ring;
		uint32_t tx = cfg->net_set & (1u << NK_TX_DESC) ? n->transmit_descriptor_count : ring;
		o->pool_size = pairs * (rx + tx);
	}
	/* Coalescing: the device's (NOTF_COAL, set by the host after start)
	 * or, without it, the driver's software moderation. */
	if (n->interrupt_coalescing_timer || n->interrupt_coalescing_packets)
		o->rx_moderation = true;
}

void vnet_config_port_opts(const struct vnet_config *cfg, const struct vnet_config_device *dev,
			   struct vnet_port_opts *po)
{
	vnet_config_net_opts(cfg, dev, &po->net);
	if (dev && dev->socket[0])
		po->socket_path = dev->socket;
	if (dev)
		po->server = dev->mode == VNET_CONFIG_SERVER;
	po->queue_pairs = po->net.queue_pairs;
	if (po->net.queue_size)
		po->queue_size = po->net.queue_size;
	if (dev)
		po->ring = dev->ring;
	if (po->net.pool_size)
		po->pool_size = po->net.pool_size;
	po->interrupt_mode = cfg->net.virtio_device_interrupt_enabled;
}
