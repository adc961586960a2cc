/*
 * Receive-side scaling and hashing of the virtio-net layer (VirtIO 1.2
 * §5.1.6.4.3 "Hash calculation for incoming packets", §5.1.6.5.6-7 RSS
 * and hash configuration, §5.1.6.4.4 hash reporting), and TX steering by
 * the same hash.
 *
 * What it does: the Toeplitz function over the tuple the spec names
 * (source and destination address, then ports, in network order); the
 * hash of a whole Ethernet frame as the device computes it, so a host can
 * predict the receive queue of a flow and pick the transmit queue of its
 * replies; RSS_CONFIG / HASH_CONFIG built from struct vnet_net_rss,
 * checked against what the device offers (key size, table length, hash
 * types) before sending; the per-packet hash report on receive (read
 * from the 20-byte header, a report value outside the spec's range is
 * taken as NONE).
 * What it does not: IPv6 extension-header (_EX) hashing (types accepted
 * when the device offers them, computed by the device only), tunnels,
 * RSS contexts.
 * Serialised: setters by the control thread; vnet_net_tx_pick and the rx
 * hook only read.
 */
#include "core/vnet_log.h"
#include "core/vnet_mem.h"
#include "net_priv.h"
#include "vnet/features.h"
#include "vnet/net_ctrl.h"

/* The 40-byte key of Microsoft's RSS verification suite: public test
 * data with published hash values (tests/unit/test_net_ctrl.c checks
 * them), so any peer can reproduce our hashes. */
static const uint8_t net_rss_default_key[VNET_NET_RSS_KEY_DEFAULT_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

#define NET_RSS_TYPES_DEFAULT                                                                                  \
	(VIRTIO_NET_HASH_TYPE_IPv4 | VIRTIO_NET_HASH_TYPE_TCPv4 | VIRTIO_NET_HASH_TYPE_UDPv4 |                  \
	 VIRTIO_NET_HASH_TYPE_IPv6 | VIRTIO_NET_HASH_TYPE_TCPv6 | VIRTIO_NET_HASH_TYPE_UDPv6)

uint32_t vnet_net_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *in, size_t n)
{
	if (!key || !in || key_len < n + 4u)
		return 0;
	/* For each input bit that is set, XOR in the 32 key bits starting
	 * at that bit position; v holds key bits [i, i + 32). */
	uint32_t h = 0;
	uint32_t v = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
	for (size_t i = 0; i < n; i++) {
		uint8_t next = key[i + 4];
		for (int b = 7; b >= 0; b--) {
			if (in[i] & (1u << b))
				h ^= v;
			v = (v << 1) | ((next >> b) & 1u);
		}
	}
	return h;
}

static uint16_t net_rss_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The RSS hash of frame (spec 5.1.6.4.3); with reply, of the frame that
 * answers it: source and destination addresses and ports swapped, which
 * is the tuple the device hashes when the peer's reply arrives (Toeplitz
 * is not symmetric). */
static uint32_t net_rss_hash(const uint8_t *key, size_t key_len, uint32_t types, const void *frame, uint32_t len,
                             uint16_t *report, bool reply)
{
	const uint8_t *f = frame;
	uint8_t in[36];
	size_t n = 0;
	uint16_t rep = VIRTIO_NET_HASH_REPORT_NONE;
	if (report)
		*report = rep;
	if (!f || len < 14u)
		return 0;
	uint32_t off = 12;
	uint16_t et = net_rss_be16(f + off);
	if (et == 0x8100u && len >= 18u) { /* one 802.1Q tag */
		off += 4;
		et = net_rss_be16(f + off);
	}
	off += 2;
	const uint8_t *l4 = 0;
	uint8_t proto = 0;
	if (et == 0x0800u) {
		if (len < off + 20u || (f[off] >> 4) != 4u)
			return 0;
		uint32_t ihl = (f[off] & 0xfu) * 4u;
		if (ihl < 20u || len < off + ihl)
			return 0;
		memcpy(in, f + off + 12, 8);
		n = 8;
		proto = f[off + 9];
		/* A fragment (MF or an offset) has no usable L4 header. */
		bool frag = (net_rss_be16(f + off + 6) & 0x3fffu) != 0;
		if (!frag && len >= off + ihl + 4u)
			l4 = f + off + ihl;
		if (l4 && proto == 6 && (types & VIRTIO_NET_HASH_TYPE_TCPv4))
			rep = VIRTIO_NET_HASH_REPORT_TCPv4;
		else if (l4 && proto == 17 && (types & VIRTIO_NET_HASH_TYPE_UDPv4))
			rep = VIRTIO_NET_HASH_REPORT_UDPv4;
		else if (types & VIRTIO_NET_HASH_TYPE_IPv4)
			rep = VIRTIO_NET_HASH_REPORT_IPv4;
	} else if (et == 0x86ddu) {
		if (len < off + 40u || (f[off] >> 4) != 6u)
			return 0;
		memcpy(in, f + off + 8, 32);
		n = 32;
		proto = f[off + 6];
		if (len >= off + 44u)
			l4 = f + off + 40;
		if (l4 && proto == 6 && (types & VIRTIO_NET_HASH_TYPE_TCPv6))
			rep = VIRTIO_NET_HASH_REPORT_TCPv6;
		else if (l4 && proto == 17 && (types & VIRTIO_NET_HASH_TYPE_UDPv6))
			rep = VIRTIO_NET_HASH_REPORT_UDPv6;
		else if (types & VIRTIO_NET_HASH_TYPE_IPv6)
			rep = VIRTIO_NET_HASH_REPORT_IPv6;
	}
	if (rep == VIRTIO_NET_HASH_REPORT_NONE)
		return 0;
	size_t na = n; /* address bytes: source then destination, na / 2 each */
	if (rep != VIRTIO_NET_HASH_REPORT_IPv4 && rep != VIRTIO_NET_HASH_REPORT_IPv6) {
		memcpy(in + n, l4, 4); /* source port, destination port */
		n += 4;
	}
	if (reply) {
		uint8_t t[16];
		memcpy(t, in, na / 2);
		memmove(in, in + na / 2, na / 2);
		memcpy(in + na / 2, t, na / 2);
		if (n > na) {
			memcpy(t, in + na, 2);
			memmove(in + na, in + na + 2, 2);
			memcpy(in + na + 2, t, 2);
		}
	}
	if (report)
		*report = rep;
	return vnet_net_toeplitz(key, key_len, in, n);
}

uint32_t vnet_net_frame_hash(const uint8_t *key, size_t key_len, uint32_t types, const void *frame, uint32_t len,
                             uint16_t *report)
{
	return net_rss_hash(key, key_len, types, frame, len, report, false);
}

/* ------------------------------------------------------------ device side */

void vnet_net_rss_get_caps(const struct vnet_net *net, struct vnet_net_rss_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	if (!net || (!net->ctrl && !net->cs.local))
		return;
	caps->rss = vnet_device_has_feature(net->dev, VIRTIO_NET_F_RSS);
	caps->hash_report = vnet_device_has_feature(net->dev, VIRTIO_NET_F_HASH_REPORT);
	if (!caps->rss && !caps->hash_report)
		return;
	struct vnet_device *d = net->dev;
	uint8_t ks = 0;
	vnet_le16 il = 0;
	vnet_le32 ht = 0;
	if (vnet_device_read_config(d, __builtin_offsetof(struct virtio_net_config, rss_max_key_size), &ks, 1) != VNET_OK ||
	    vnet_device_read_config(d, __builtin_offsetof(struct virtio_net_config, supported_hash_types), &ht, 4) !=
	        VNET_OK)
		return;
	if (caps->rss &&
	    vnet_device_read_config(d, __builtin_offsetof(struct virtio_net_config, rss_max_indirection_table_length),
	                            &il, 2) != VNET_OK)
		il = 0;
	caps->max_key_len = ks;
	caps->max_indir_len = vnet_le16_to_cpu(il);
	caps->hash_types = vnet_le32_to_cpu(ht) & VIRTIO_NET_HASH_TYPE_ALL;
}

void vnet_net_rss_default(const struct vnet_net *net, struct vnet_net_rss *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	struct vnet_net_rss_caps c;
	vnet_net_rss_get_caps(net, &c);
	uint16_t len = 128;
	while (c.max_indir_len && len > c.max_indir_len)
		len = (uint16_t)(len / 2u);
	uint16_t pairs = net && net->pairs ? net->pairs : 1;
	cfg->indir_len = len;
	for (uint16_t i = 0; i < len; i++)
		cfg->indir[i] = (uint16_t)(i % pairs);
	cfg->unclassified = 0;
	cfg->key_len = VNET_NET_RSS_KEY_DEFAULT_LEN;
	memcpy(cfg->key, net_rss_default_key, sizeof(net_rss_default_key));
	cfg->hash_types = (c.rss || c.hash_report) ? (c.hash_types & NET_RSS_TYPES_DEFAULT) : NET_RSS_TYPES_DEFAULT;
}

static int net_rss_send(struct vnet_net *net, const struct vnet_net_rss *cfg, bool rss)
{
	uint8_t buf[VNET_NET_CTRL_DATA_MAX];
	uint32_t off = 0;
	if (rss) {
		struct virtio_net_rss_config_head h = {
			.hash_types = vnet_cpu_to_le32(cfg->hash_types),
			.indirection_table_mask = vnet_cpu_to_le16((uint16_t)(cfg->indir_len - 1u)),
			.unclassified_queue = vnet_cpu_to_le16(cfg->unclassified),
		};
		memcpy(buf, &h, sizeof(h));
		off = sizeof(h);
		for (uint16_t i = 0; i < cfg->indir_len; i++) {
			/* rss_rq_id: the receive queue number (vq index 2k -> k). */
			vnet_le16 q = vnet_cpu_to_le16(cfg->indir[i]);
			memcpy(buf + off, &q, 2);
			off += 2;
		}
		struct virtio_net_rss_config_tail t = {
			.max_tx_vq = vnet_cpu_to_le16(net->pairs),
			.hash_key_length = cfg->key_len,
		};
		memcpy(buf + off, &t, sizeof(t));
		off += sizeof(t);
	} else {
		struct virtio_net_hash_config h;
		memset(&h, 0, sizeof(h));
		h.hash_types = vnet_cpu_to_le32(cfg->hash_types);
		h.hash_key_length = cfg->key_len;
		/* 13 bytes: sizeof() would count the tail padding before the flexible key. */
		off = __builtin_offsetof(struct virtio_net_hash_config, hash_key_data);
		memcpy(buf, &h, off);
	}
	memcpy(buf + off, cfg->key, cfg->key_len);
	off += cfg->key_len;
	return vnet_net_ctrl_cmd(net, VIRTIO_NET_CTRL_MQ,
	                         rss ? VIRTIO_NET_CTRL_MQ_RSS_CONFIG : VIRTIO_NET_CTRL_MQ_HASH_CONFIG, buf, off);
}

int vnet_net_set_rss(struct vnet_net *net, const struct vnet_net_rss *cfg)
{
	if (!net || !cfg)
		return VNET_EINVAL;
	struct vnet_net_rss_caps c;
	vnet_net_rss_get_caps(net, &c);
	if (!c.rss && !c.hash_report)
		return VNET_ENOTSUP;
	const char *dn = vnet_device_name(net->dev);
	/* Spec 5.1.6.5.7.1: no hash type the device does not support. */
	if (cfg->hash_types & ~c.hash_types) {
		VNET_ERR("%s: RSS hash types 0x%x not supported by the device (0x%x)", dn, (unsigned)cfg->hash_types,
		         (unsigned)c.hash_types);
		return VNET_EINVAL;
	}
	if (cfg->key_len > VNET_NET_RSS_KEY_MAX || cfg->key_len > c.max_key_len ||
	    (cfg->hash_types && cfg->key_len < 8u)) {
		VNET_ERR("%s: RSS key of %u bytes (device max %u)", dn, (unsigned)cfg->key_len, (unsigned)c.max_key_len);
		return VNET_EINVAL;
	}
	if (c.rss) {
		uint16_t l = cfg->indir_len;
		/* A power of two, within both limits (spec 5.1.6.5.7.1: mask <
		 * rss_max_indirection_table_length), every entry an enabled queue. */
		if (l == 0 || (l & (l - 1u)) || l > VNET_NET_RSS_INDIR_MAX || l > c.max_indir_len ||
		    cfg->unclassified >= net->pairs) {
			VNET_ERR("%s: RSS indirection table of %u entries (device max %u, power of two) or unclassified "
			         "queue %u of %u",
			         dn, (unsigned)l, (unsigned)c.max_indir_len, (unsigned)cfg->unclassified, (unsigned)net->pairs);
			return VNET_EINVAL;
		}
		for (uint16_t i = 0; i < l; i++)
			if (cfg->indir[i] >= net->pairs) {
				VNET_ERR("%s: RSS indirection entry %u names queue %u of %u", dn, (unsigned)i,
				         (unsigned)cfg->indir[i], (unsigned)net->pairs);
				return VNET_EINVAL;
			}
	}
	int rc = net_rss_send(net, cfg, c.rss);
	if (rc != VNET_OK)
		return rc;
	net->cs.rss = *cfg;
	net->cs.rss_set = true;
	return VNET_OK;
}

bool vnet_net_get_rss(const struct vnet_net *net, struct vnet_net_rss *cfg)
{
	if (!net || !net->cs.rss_set) {
		if (cfg)
			memset(cfg, 0, sizeof(*cfg));
		return false;
	}
	*cfg = net->cs.rss;
	return true;
}

int net_rss_replay(struct vnet_net *net)
{
	if (!net->cs.rss_set)
		return VNET_OK;
	bool rss = vnet_device_has_feature(net->dev, VIRTIO_NET_F_RSS);
	if (!rss && !vnet_device_has_feature(net->dev, VIRTIO_NET_F_HASH_REPORT))
		return VNET_OK;
	return net_rss_send(net, &net->cs.rss, rss);
}

int net_rss_after_pairs(struct vnet_net *net)
{
	/* VQ_PAIRS_SET selects automatic steering (spec 5.1.6.5.5; QEMU drops
	 * its RSS state on it): send the recorded RSS again, with entries
	 * that name a queue no longer in use folded onto the ones that are. */
	if (!net->cs.rss_set || !vnet_device_has_feature(net->dev, VIRTIO_NET_F_RSS))
		return VNET_OK;
	struct vnet_net_rss *r = &net->cs.rss;
	for (uint16_t i = 0; i < r->indir_len; i++)
		if (r->indir[i] >= net->pairs)
			r->indir[i] = (uint16_t)(r->indir[i] % net->pairs);
	if (r->unclassified >= net->pairs)
		r->unclassified = 0;
	return net_rss_send(net, r, true);
}

uint16_t vnet_net_tx_pick(const struct vnet_net *net, const void *frame, uint32_t len)
{
	if (!net || net->pairs <= 1)
		return 0;
	const struct vnet_net_rss *r = net->cs.rss_set ? &net->cs.rss : 0;
	uint16_t rep;
	/* The pair the device steers the replies to (RSS hashes the arriving
	 * frame, whose tuple is ours reversed), so a flow's requests and
	 * replies share a pair. */
	uint32_t h = r ? net_rss_hash(r->key, r->key_len, r->hash_types, frame, len, &rep, true)
	               : net_rss_hash(net_rss_default_key, sizeof(net_rss_default_key), NET_RSS_TYPES_DEFAULT, frame,
	                              len, &rep, true);
	if (rep == VIRTIO_NET_HASH_REPORT_NONE)
		return 0;
	uint16_t q;
	if (r && r->indir_len && vnet_device_has_feature(net->dev, VIRTIO_NET_F_RSS))
		q = r->indir[h & (uint32_t)(r->indir_len - 1u)];
	else
		q = (uint16_t)(h % net->pairs);
	return q < net->pairs ? q : 0;
}

/* rx hook (net_rx.c): the hash the device reported (spec 5.1.6.4.4). */
void net_rss_rx_hash(const struct vnet_net *net, struct vnet_pkt *p, const void *hdr)
{
	p->hash = 0;
	p->hash_report = VIRTIO_NET_HASH_REPORT_NONE;
	if (net->hdr_len < VIRTIO_NET_HDR_LEN_HASH)
		return;
	const struct virtio_net_hdr_hash *h = hdr;
	uint16_t rep = vnet_le16_to_cpu(h->hash_report);
	if (rep == VIRTIO_NET_HASH_REPORT_NONE || rep > VIRTIO_NET_HASH_REPORT_MAX)
		return; /* not one of the spec's values: no hash rather than a wrong one */
	p->hash = vnet_le32_to_cpu(h->hash_value);
	p->hash_report = rep;
}
