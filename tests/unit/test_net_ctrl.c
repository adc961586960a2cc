/*
 * Control plane of the virtio-net layer (include/vnet/net_ctrl.h) against
 * the device model, which serves every control class with its own state
 * (tests/devmodel/netdev_model.c, ndm_ctrl_serve) and can refuse or lie.
 *
 * What a user relies on, asserted here:
 *  - each class puts on the wire what the spec's layout says, and the
 *    model's device-side state (RX modes, MAC tables, MAC address, VLAN
 *    table, offloads, RSS key/table/types, coalescing) ends up as asked;
 *  - a class whose feature was not negotiated is refused locally
 *    (VNET_ENOTSUP), bad arguments are VNET_EINVAL, and neither sends
 *    anything;
 *  - a MAC list over the driver's limit falls back to promisc/allmulti
 *    and back again when it fits;
 *  - a refusal (ERR) or a lie (no ack, short ack, wrong-length answer,
 *    odd ack value) is a named error (class, command, ack), counted, and
 *    leaves the recorded state as it was;
 *  - after a device reset the recorded state is replayed in full;
 *  - announce: the callback runs, then ANNOUNCE_ACK clears the bit;
 *  - the Toeplitz hash matches Microsoft's published vectors, the frame
 *    hash is the device's, the hash report reaches the packet, and TX
 *    steering uses the table the driver programmed;
 *  - link down gates transmit (counted, frames stay the caller's);
 *    speed/duplex are read;
 *  - a full transmit ring stops the queue, completions wake it (counted);
 *  - a front-end serving the control queue itself (vhost-user) gets every
 *    command, no controlq ring is made;
 *  - software moderation keeps interrupts off while polls find work,
 *    adapts its level by frames per interrupt, and stands aside when the
 *    device coalesces.  No timing is measured.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_hal.h"
#include "netdev_model.h"
#include "test_net_common.h"
#include "vnet/features.h"
#include "vnet/net.h"
#include "vnet/net_ctrl.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/virtqueue.h"

#define V1 VNET_BIT(VIRTIO_F_VERSION_1)
#define F(x) VNET_BIT(VIRTIO_F_##x)
#define N(x) VNET_BIT(VIRTIO_NET_F_##x)
#define BASE (V1 | N(MAC) | N(STATUS) | N(MTU) | N(CTRL_VQ) | N(CTRL_RX) | F(EVENT_IDX))
#define ALLCTRL                                                                                               \
	(BASE | N(CTRL_RX_EXTRA) | N(CTRL_VLAN) | N(CTRL_MAC_ADDR) | N(GUEST_ANNOUNCE) | N(CTRL_GUEST_OFFLOADS) | \
	 N(MQ) | N(NOTF_COAL) | N(VQ_NOTF_COAL) | N(SPEED_DUPLEX) | N(GUEST_CSUM))
#define QMAX 64u
#define POOL 256u

struct fx {
	struct netdev_model m;
	struct vnet_net *net;
	size_t dma0, priv0;
};

static struct fx *fx_new(uint64_t offered, uint16_t max_pairs)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dma0 = fake_hal_live_dma();
	f->priv0 = fake_hal_live_private();
	assert_int_equal(ndm_init(&f->m, offered, max_pairs, QMAX), 0);
	return f;
}

static struct vnet_net_opts opts(uint16_t pairs)
{
	struct vnet_net_opts o;
	memset(&o, 0, sizeof(o));
	o.pool_size = POOL;
	o.queue_pairs = pairs;
	o.rx_csum = true;
	return o;
}

static void fx_up(struct fx *f, const struct vnet_net_opts *o)
{
	assert_int_equal(vnet_net_create(ndm_ops(&f->m), ndm_ctx(&f->m), o, &f->net), VNET_OK);
}

static struct fx *fx_std(uint64_t offered, uint16_t pairs)
{
	struct fx *f = fx_new(offered, pairs);
	struct vnet_net_opts o = opts(pairs);
	fx_up(f, &o);
	return f;
}

static void fx_free(struct fx *f)
{
	net_fx_teardown(&f->net, &f->m, f->dma0, f->priv0);
	free(f);
}

static struct vnet_net_ctrl_stats cstats(struct fx *f)
{
	struct vnet_net_ctrl_stats s;
	vnet_net_ctrl_get_stats(f->net, &s);
	return s;
}

/* ------------------------------------------------------------ frames */

/* Ethernet + IPv4 + UDP/TCP (proto 17/6) frame; returns its length. */
static uint32_t ip4_frame(uint8_t *b, const uint8_t src[4], const uint8_t dst[4], uint16_t sp, uint16_t dp,
                          uint8_t proto, bool vlan)
{
	memset(b, 0, 80);
	static const uint8_t dmac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}, smac[6] = {2, 0, 0, 0, 0, 1};
	memcpy(b, dmac, 6);
	memcpy(b + 6, smac, 6);
	uint32_t o = 12;
	if (vlan) {
		b[o] = 0x81, b[o + 1] = 0x00, b[o + 2] = 0x00, b[o + 3] = 100;
		o += 4;
	}
	b[o] = 0x08, b[o + 1] = 0x00;
	o += 2;
	b[o] = 0x45;
	b[o + 3] = 48;
	b[o + 8] = 64;
	b[o + 9] = proto;
	memcpy(b + o + 12, src, 4);
	memcpy(b + o + 16, dst, 4);
	o += 20;
	b[o] = (uint8_t)(sp >> 8), b[o + 1] = (uint8_t)sp, b[o + 2] = (uint8_t)(dp >> 8), b[o + 3] = (uint8_t)dp;
	return o + 28;
}

/* The Microsoft RSS verification key (public test data). */
static const uint8_t ms_key[40] = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
                                   0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
                                   0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

/* ------------------------------------------------------------ hashing */

static void test_toeplitz_known_vectors(void **state)
{
	(void)state;
	/* "Verifying the RSS hash calculation", Microsoft RSS documentation:
	 * source 66.9.149.187:2794, destination 161.142.100.80:1766. */
	static const struct {
		uint8_t src[4], dst[4];
		uint16_t sp, dp;
		uint32_t ip, tcp;
	} v[] = {
		{{66, 9, 149, 187}, {161, 142, 100, 80}, 2794, 1766, 0x323e8fc2u, 0x51ccc178u},
		{{199, 92, 111, 2}, {65, 69, 140, 83}, 14230, 4739, 0xd718262au, 0xc626b0eau},
		{{24, 19, 198, 95}, {12, 22, 207, 184}, 12898, 38024, 0xd2d0a5deu, 0x5c2b394au},
	};
	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t in[12];
		memcpy(in, v[i].src, 4);
		memcpy(in + 4, v[i].dst, 4);
		in[8] = (uint8_t)(v[i].sp >> 8), in[9] = (uint8_t)v[i].sp;
		in[10] = (uint8_t)(v[i].dp >> 8), in[11] = (uint8_t)v[i].dp;
		assert_int_equal(vnet_net_toeplitz(ms_key, 40, in, 8), v[i].ip);
		assert_int_equal(vnet_net_toeplitz(ms_key, 40, in, 12), v[i].tcp);
		/* The frame hash is the same tuple, by type. */
		uint8_t fr[128];
		uint16_t rep;
		uint32_t len = ip4_frame(fr, v[i].src, v[i].dst, v[i].sp, v[i].dp, 6, i == 1);
		assert_int_equal(vnet_net_frame_hash(ms_key, 40, VIRTIO_NET_HASH_TYPE_ALL, fr, len, &rep), v[i].tcp);
		assert_int_equal(rep, VIRTIO_NET_HASH_REPORT_TCPv4);
		/* TCP not enabled: the IPv4 hash. */
		assert_int_equal(vnet_net_frame_hash(ms_key, 40, VIRTIO_NET_HASH_TYPE_IPv4 | VIRTIO_NET_HASH_TYPE_UDPv4, fr,
		                                     len, &rep),
		                 v[i].ip);
		assert_int_equal(rep, VIRTIO_NET_HASH_REPORT_IPv4);
		/* Nothing enabled that applies: no hash. */
		assert_int_equal(vnet_net_frame_hash(ms_key, 40, VIRTIO_NET_HASH_TYPE_UDPv4, fr, len, &rep), 0);
		assert_int_equal(rep, VIRTIO_NET_HASH_REPORT_NONE);
	}
	/* IPv6 (the same documentation): 3ffe:2501:200:1fff::7 ->
	 * 3ffe:2501:200:3::1, 2794 -> 1766, as a frame. */
	{
		static const uint8_t s6[16] = {0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, 7};
		static const uint8_t d6[16] = {0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 1};
		uint8_t fr6[128];
		memset(fr6, 0, sizeof(fr6));
		fr6[12] = 0x86, fr6[13] = 0xdd;
		fr6[14] = 0x60;
		fr6[14 + 5] = 20;
		fr6[14 + 6] = 6; /* TCP, no extension header */
		fr6[14 + 7] = 64;
		memcpy(fr6 + 14 + 8, s6, 16);
		memcpy(fr6 + 14 + 24, d6, 16);
		fr6[54] = 2794 >> 8, fr6[55] = 2794 & 0xff, fr6[56] = 1766 >> 8, fr6[57] = 1766 & 0xff;
		uint16_t r6;
		assert_int_equal(vnet_net_frame_hash(ms_key, 40, VIRTIO_NET_HASH_TYPE_ALL, fr6, 74, &r6), 0x40207d3du);
		assert_int_equal(r6, VIRTIO_NET_HASH_REPORT_TCPv6);
		assert_int_equal(vnet_net_frame_hash(ms_key, 40, VIRTIO_NET_HASH_TYPE_IPv6, fr6, 74, &r6), 0x2cc18cd5u);
		assert_int_equal(r6, VIRTIO_NET_HASH_REPORT_IPv6);
	}
	/* A fragment has no L4 header: IPv4 hash even for UDP. */
	uint8_t fr[128];
	uint16_t rep;
	uint32_t len = ip4_frame(fr, v[0].src, v[0].dst, 1, 2, 17, false);
	fr[14 + 6] = 0x20; /* MF */
	assert_int_equal(vnet_net_frame_hash(ms_key, 40, VIRTIO_NET_HASH_TYPE_ALL, fr, len, &rep), v[0].ip);
	assert_int_equal(rep, VIRTIO_NET_HASH_REPORT_IPv4);
	/* Truncated or non-IP frames: none; a short key: 0. */
	assert_int_equal(vnet_net_frame_hash(ms_key, 40, VIRTIO_NET_HASH_TYPE_ALL, fr, 20, &rep), 0);
	assert_int_equal(rep, VIRTIO_NET_HASH_REPORT_NONE);
	assert_int_equal(vnet_net_toeplitz(ms_key, 10, fr, 12), 0);
}

/* ------------------------------------------------------------ RX mode, MAC, VLAN */

static void test_rx_modes(void **state)
{
	(void)state;
	struct fx *f = fx_std(ALLCTRL, 1);
	for (unsigned m = 0; m < VNET_NET_RX_MODES; m++) {
		assert_int_equal(vnet_net_set_rx_mode(f->net, (enum vnet_net_rx_mode)m, true), VNET_OK);
		assert_int_equal(f->m.cdev.rx[m], 1);
		assert_true(vnet_net_get_rx_mode(f->net, (enum vnet_net_rx_mode)m));
		assert_int_equal(vnet_net_set_rx_mode(f->net, (enum vnet_net_rx_mode)m, false), VNET_OK);
		assert_int_equal(f->m.cdev.rx[m], 0);
	}
	assert_int_equal(vnet_net_set_rx_mode(f->net, (enum vnet_net_rx_mode)6, true), VNET_EINVAL);
	assert_int_equal(f->m.cdev.malformed, 0);
	fx_free(f);

	/* Without CTRL_RX_EXTRA only PROMISC/ALLMULTI; nothing sent for the rest. */
	f = fx_std(BASE, 1);
	unsigned before = (unsigned)f->m.ctrl_total;
	assert_int_equal(vnet_net_set_rx_mode(f->net, VNET_NET_RX_NOBCAST, true), VNET_ENOTSUP);
	assert_int_equal(vnet_net_set_rx_mode(f->net, VNET_NET_RX_ALLUNI, true), VNET_ENOTSUP);
	assert_int_equal(f->m.ctrl_total, before);
	assert_int_equal(vnet_net_set_rx_mode(f->net, VNET_NET_RX_ALLMULTI, true), VNET_OK);
	assert_int_equal(f->m.cdev.rx[VNET_NET_RX_ALLMULTI], 1);
	fx_free(f);
}

static void test_mac_table_and_overflow(void **state)
{
	(void)state;
	struct fx *f = fx_std(ALLCTRL, 1);
	uint8_t uc[40][6], mc[3][6];
	for (unsigned i = 0; i < 40; i++) {
		uint8_t a[6] = {0x02, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i};
		memcpy(uc[i], a, 6);
	}
	for (unsigned i = 0; i < 3; i++) {
		uint8_t a[6] = {0x01, 0x00, 0x5e, 0, 0, (uint8_t)(i + 1)};
		memcpy(mc[i], a, 6);
	}
	struct vnet_net_mac_filter_state st;
	assert_int_equal(vnet_net_set_mac_table(f->net, (const uint8_t(*)[6])uc, 2, (const uint8_t(*)[6])mc, 3),
	                 VNET_OK);
	assert_int_equal(f->m.cdev.n_uc, 2);
	assert_int_equal(f->m.cdev.n_mc, 3);
	assert_memory_equal(f->m.cdev.uc, uc, 12);
	assert_memory_equal(f->m.cdev.mc, mc, 18);
	/* The wire layout (spec 5.1.6.5.2): le32 n, n * 6, le32 m, m * 6. */
	const struct ndm_ctrl_rec *r = ndm_ctrl_last(&f->m, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET);
	assert_non_null(r);
	assert_int_equal(r->len, 4 + 12 + 4 + 18);
	assert_int_equal(r->data[0], 2);
	assert_int_equal(r->data[16], 3);

	/* Over the limit: table empty on the device, promiscuous on. */
	assert_int_equal(vnet_net_set_mac_table(f->net, (const uint8_t(*)[6])uc, 40, (const uint8_t(*)[6])mc, 1),
	                 VNET_OK);
	vnet_net_mac_filter_state(f->net, &st);
	assert_true(st.uc_overflow);
	assert_false(st.mc_overflow);
	assert_int_equal(f->m.cdev.n_uc, 0);
	assert_int_equal(f->m.cdev.n_mc, 1);
	assert_int_equal(f->m.cdev.rx[VNET_NET_RX_PROMISC], 1);
	assert_false(vnet_net_get_rx_mode(f->net, VNET_NET_RX_PROMISC)); /* the user did not ask for it */
	assert_int_equal(cstats(f).mac_overflows, 1);
	/* Promisc off from the user keeps the fallback on the device. */
	assert_int_equal(vnet_net_set_promisc(f->net, false), VNET_OK);
	assert_int_equal(f->m.cdev.rx[VNET_NET_RX_PROMISC], 1);
	/* A list that fits: the fallback is undone. */
	assert_int_equal(vnet_net_set_mac_table(f->net, (const uint8_t(*)[6])uc, 32, NULL, 0), VNET_OK);
	assert_int_equal(f->m.cdev.n_uc, 32);
	assert_int_equal(f->m.cdev.rx[VNET_NET_RX_PROMISC], 0);
	/* Multicast overflow: allmulti. */
	static uint8_t many_mc[33][6];
	for (unsigned i = 0; i < 33; i++)
		many_mc[i][0] = 0x01, many_mc[i][5] = (uint8_t)i;
	assert_int_equal(vnet_net_set_mac_table(f->net, NULL, 0, (const uint8_t(*)[6])many_mc, 33), VNET_OK);
	assert_int_equal(f->m.cdev.rx[VNET_NET_RX_ALLMULTI], 1);
	assert_int_equal(f->m.cdev.n_mc, 0);
	/* Wrong kind of address in a list: refused, nothing sent. */
	uint64_t sent = f->m.ctrl_total;
	assert_int_equal(vnet_net_set_mac_table(f->net, (const uint8_t(*)[6])mc, 1, NULL, 0), VNET_EINVAL);
	assert_int_equal(vnet_net_set_mac_table(f->net, NULL, 0, (const uint8_t(*)[6])uc, 1), VNET_EINVAL);
	assert_int_equal(f->m.ctrl_total, sent);
	assert_int_equal(f->m.cdev.malformed, 0);
	fx_free(f);
}

static void test_mac_addr_set(void **state)
{
	(void)state;
	struct fx *f = fx_std(ALLCTRL, 1);
	static const uint8_t mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
	assert_int_equal(vnet_net_set_mac(f->net, mac), VNET_OK);
	assert_memory_equal(f->m.cdev.mac, mac, 6);
	assert_memory_equal(f->m.ft.config, mac, 6); /* config.mac updated (spec 5.1.6.5.2) */
	struct vnet_net_info info;
	vnet_net_get_info(f->net, &info);
	assert_memory_equal(info.mac, mac, 6);
	static const uint8_t group[6] = {0x01, 0, 0, 0, 0, 1};
	assert_int_equal(vnet_net_set_mac(f->net, group), VNET_EINVAL);
	fx_free(f);

	f = fx_std(BASE, 1);
	assert_int_equal(vnet_net_set_mac(f->net, mac), VNET_ENOTSUP);
	fx_free(f);
}

static void test_vlan_filter(void **state)
{
	(void)state;
	struct fx *f = fx_std(ALLCTRL, 1);
	assert_int_equal(vnet_net_vlan_add(f->net, 100), VNET_OK);
	assert_int_equal(vnet_net_vlan_add(f->net, 4095), VNET_OK);
	assert_int_equal(vnet_net_vlan_add(f->net, 200), VNET_OK);
	assert_int_equal(vnet_net_vlan_del(f->net, 200), VNET_OK);
	assert_true(f->m.cdev.vlan[100 >> 3] & (1u << (100 & 7)));
	assert_true(f->m.cdev.vlan[4095 >> 3] & (1u << (4095 & 7)));
	assert_false(f->m.cdev.vlan[200 >> 3] & (1u << (200 & 7)));
	assert_true(vnet_net_vlan_present(f->net, 100));
	assert_false(vnet_net_vlan_present(f->net, 200));
	const struct ndm_ctrl_rec *r = ndm_ctrl_last(&f->m, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_DEL);
	assert_int_equal(r->len, 2);
	assert_int_equal(r->data[0], 200); /* le16 */
	assert_int_equal(vnet_net_vlan_add(f->net, 4096), VNET_EINVAL);
	fx_free(f);
	f = fx_std(BASE, 1);
	assert_int_equal(vnet_net_vlan_add(f->net, 1), VNET_ENOTSUP);
	fx_free(f);
}

static void test_guest_offloads(void **state)
{
	(void)state;
	struct fx *f = fx_std(ALLCTRL, 1);
	assert_int_equal(vnet_net_get_guest_offloads(f->net), N(GUEST_CSUM));
	assert_int_equal(vnet_net_set_guest_offloads(f->net, 0), VNET_OK);
	assert_int_equal(f->m.cdev.offloads, 0);
	assert_int_equal(vnet_net_set_guest_offloads(f->net, N(GUEST_CSUM)), VNET_OK);
	assert_int_equal(f->m.cdev.offloads, N(GUEST_CSUM));
	/* Not negotiated, or not a receive offload: refused before sending. */
	uint64_t sent = f->m.ctrl_total;
	assert_int_equal(vnet_net_set_guest_offloads(f->net, N(GUEST_TSO4)), VNET_EINVAL);
	assert_int_equal(vnet_net_set_guest_offloads(f->net, N(MAC)), VNET_EINVAL);
	assert_int_equal(f->m.ctrl_total, sent);
	assert_int_equal(vnet_net_get_guest_offloads(f->net), N(GUEST_CSUM));
	fx_free(f);
}

/* ------------------------------------------------------------ announce */

struct ann {
	unsigned calls;
	unsigned acks_seen; /* device acks when the callback ran: must be 0 (announce first) */
	struct fx *f;
};

static void ann_fn(void *arg, struct vnet_net *net)
{
	struct ann *a = arg;
	assert_ptr_equal(net, a->f->net);
	a->calls++;
	a->acks_seen = a->f->m.cdev.announce_acks;
}

static void test_announce(void **state)
{
	(void)state;
	struct fx *f = fx_new(ALLCTRL, 1);
	struct ann a = {0, 0, f};
	struct vnet_net_opts o = opts(1);
	o.announce = ann_fn;
	o.announce_arg = &a;
	fx_up(f, &o);
	ndm_set_status(&f->m, VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE);
	vnet_net_config_changed(f->net);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.acks_seen, 0);
	assert_int_equal(f->m.cdev.announce_acks, 1);
	assert_false(vnet_net_announce_pending(f->net));
	/* The device cleared the bit: another config change does not announce. */
	vnet_net_config_changed(f->net);
	assert_int_equal(a.calls, 1);
	assert_int_equal(cstats(f).announces, 1);
	fx_free(f);

	/* No callback: pending until the host acks. */
	f = fx_std(ALLCTRL, 1);
	ndm_set_status(&f->m, VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE);
	vnet_net_config_changed(f->net);
	assert_true(vnet_net_announce_pending(f->net));
	assert_int_equal(f->m.cdev.announce_acks, 0);
	assert_int_equal(vnet_net_announce_ack(f->net), VNET_OK);
	assert_false(vnet_net_announce_pending(f->net));
	assert_int_equal(f->m.cdev.announce_acks, 1);
	fx_free(f);
}

/* ------------------------------------------------------------ RSS, hash report, steering */

static void test_rss_config(void **state)
{
	(void)state;
	struct fx *f = fx_new(ALLCTRL | N(RSS), 4);
	struct vnet_net_opts o = opts(4);
	fx_up(f, &o);
	struct vnet_net_rss_caps caps;
	vnet_net_rss_get_caps(f->net, &caps);
	assert_true(caps.rss);
	assert_int_equal(caps.max_key_len, 40);
	assert_int_equal(caps.max_indir_len, 128);
	struct vnet_net_rss cfg;
	vnet_net_rss_default(f->net, &cfg);
	assert_int_equal(cfg.indir_len, 128);
	assert_memory_equal(cfg.key, ms_key, 40);
	assert_int_equal(vnet_net_set_rss(f->net, &cfg), VNET_OK);
	assert_true(f->m.cdev.rss_on);
	assert_int_equal(f->m.cdev.hash_types, 0x3f);
	assert_int_equal(f->m.cdev.indir_len, 128);
	assert_int_equal(f->m.cdev.max_tx_vq, 4);
	assert_int_equal(f->m.cdev.key_len, 40);
	assert_memory_equal(f->m.cdev.key, ms_key, 40);
	for (unsigned i = 0; i < 128; i++)
		assert_int_equal(f->m.cdev.indir[i], i % 4);
	/* Change the table at runtime: all entries to queue 2. */
	for (unsigned i = 0; i < 128; i++)
		cfg.indir[i] = 2;
	assert_int_equal(vnet_net_set_rss(f->net, &cfg), VNET_OK);
	assert_int_equal(f->m.cdev.indir[77], 2);
	/* Every bad configuration is refused before it is sent. */
	uint64_t sent = f->m.ctrl_total;
	struct vnet_net_rss bad = cfg;
	bad.indir[5] = 4; /* not an enabled queue */
	assert_int_equal(vnet_net_set_rss(f->net, &bad), VNET_EINVAL);
	bad = cfg;
	bad.indir_len = 256; /* over the device's 128 */
	assert_int_equal(vnet_net_set_rss(f->net, &bad), VNET_EINVAL);
	bad = cfg;
	bad.indir_len = 96; /* not a power of two */
	assert_int_equal(vnet_net_set_rss(f->net, &bad), VNET_EINVAL);
	bad = cfg;
	bad.hash_types |= VIRTIO_NET_HASH_TYPE_UDP_EX; /* not supported */
	assert_int_equal(vnet_net_set_rss(f->net, &bad), VNET_EINVAL);
	bad = cfg;
	bad.key_len = 52; /* over the device's 40 */
	assert_int_equal(vnet_net_set_rss(f->net, &bad), VNET_EINVAL);
	assert_int_equal(f->m.ctrl_total, sent);
	struct vnet_net_rss got;
	assert_true(vnet_net_get_rss(f->net, &got));
	assert_int_equal(got.indir[5], 2);
	/* Fewer pairs: VQ_PAIRS_SET turns the device's RSS off, the driver
	 * sends it again with the table folded onto the pairs in use. */
	unsigned before = f->m.cdev.hash_configs;
	assert_int_equal(vnet_net_set_queue_pairs(f->net, 2), VNET_OK);
	assert_true(f->m.cdev.rss_on);
	assert_int_equal(f->m.cdev.hash_configs, before + 1);
	assert_int_equal(f->m.cdev.max_tx_vq, 2);
	for (unsigned i = 0; i < 128; i++)
		assert_true(f->m.cdev.indir[i] < 2);
	fx_free(f);

	/* Without RSS or HASH_REPORT: not supported. */
	f = fx_std(ALLCTRL, 1);
	vnet_net_rss_default(f->net, &cfg);
	assert_int_equal(vnet_net_set_rss(f->net, &cfg), VNET_ENOTSUP);
	fx_free(f);
}

static void sink_keep(void *arg, struct vnet_pkt *p)
{
	struct vnet_pkt **slot = arg;
	*slot = p;
}

static void test_hash_report(void **state)
{
	(void)state;
	struct fx *f = fx_new(ALLCTRL | N(HASH_REPORT), 1);
	struct vnet_net_opts o = opts(1);
	o.hash_report = true;
	fx_up(f, &o);
	struct vnet_net_info info;
	vnet_net_get_info(f->net, &info);
	assert_int_equal(info.hdr_len, 20);
	/* Without RSS the hash parameters go by HASH_CONFIG. */
	struct vnet_net_rss cfg;
	vnet_net_rss_default(f->net, &cfg);
	assert_int_equal(vnet_net_set_rss(f->net, &cfg), VNET_OK);
	assert_int_equal(ndm_ctrl_count(&f->m, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_HASH_CONFIG), 1);
	assert_false(f->m.cdev.rss_on);
	assert_int_equal(f->m.cdev.key_len, 40);
	/* The device's report reaches the packet. */
	uint8_t fr[128];
	static const uint8_t s4[4] = {10, 0, 0, 1}, d4[4] = {10, 0, 0, 2};
	uint32_t len = ip4_frame(fr, s4, d4, 1000, 2000, 17, false);
	uint16_t rep;
	uint32_t h = vnet_net_frame_hash(cfg.key, cfg.key_len, cfg.hash_types, fr, len, &rep);
	struct ndm_rx rx = {0};
	rx.hash_value = h;
	rx.hash_report = rep;
	assert_int_equal(ndm_rx_inject(&f->m, 0, fr, len, &rx), 1);
	struct vnet_pkt *p = NULL;
	bool more;
	assert_int_equal(vnet_net_poll(f->net, 0, 8, 0, sink_keep, &p, &more), 1);
	assert_non_null(p);
	assert_int_equal(p->hash, h);
	assert_int_equal(p->hash_report, VIRTIO_NET_HASH_REPORT_UDPv4);
	assert_int_equal(p->len, len);
	assert_memory_equal(p->data, fr, len);
	vnet_net_pkt_free(f->net, p);
	/* A report outside the spec's values: no hash rather than a wrong one. */
	rx.hash_report = 42;
	assert_int_equal(ndm_rx_inject(&f->m, 0, fr, len, &rx), 1);
	p = NULL;
	assert_int_equal(vnet_net_poll(f->net, 0, 8, 0, sink_keep, &p, &more), 1);
	assert_int_equal(p->hash, 0);
	assert_int_equal(p->hash_report, VIRTIO_NET_HASH_REPORT_NONE);
	vnet_net_pkt_free(f->net, p);
	/* Transmit with the 20-byte header still reaches the device intact. */
	p = vnet_net_pkt_alloc(f->net);
	memcpy(p->data, fr, len);
	p->len = len;
	assert_int_equal(vnet_net_tx_burst(f->net, 0, &p, 1), 1);
	assert_int_equal(ndm_poll(&f->m), 1);
	assert_int_equal(f->m.tx[0].len, len);
	assert_memory_equal(f->m.tx[0].data, fr, len);
	fx_free(f);
}

static void test_tx_pick_follows_table(void **state)
{
	(void)state;
	struct fx *f = fx_new(ALLCTRL | N(RSS), 4);
	struct vnet_net_opts o = opts(4);
	fx_up(f, &o);
	struct vnet_net_rss cfg;
	vnet_net_rss_default(f->net, &cfg);
	assert_int_equal(vnet_net_set_rss(f->net, &cfg), VNET_OK);
	unsigned per_q[4] = {0};
	for (unsigned i = 0; i < 64; i++) {
		uint8_t fr[128];
		uint8_t s4[4] = {192, 168, 1, (uint8_t)i}, d4[4] = {192, 168, 1, 200};
		uint32_t len = ip4_frame(fr, s4, d4, (uint16_t)(5000 + i), 7, 17, false);
		/* The pair RSS puts the reply on: the reply's tuple is reversed. */
		uint8_t rf[128];
		uint32_t rlen = ip4_frame(rf, d4, s4, 7, (uint16_t)(5000 + i), 17, false);
		uint16_t rep;
		uint32_t h = vnet_net_frame_hash(ms_key, 40, cfg.hash_types, rf, rlen, &rep);
		uint16_t q = vnet_net_tx_pick(f->net, fr, len);
		assert_int_equal(q, cfg.indir[h & 127u]);
		per_q[q]++;
	}
	for (unsigned q = 0; q < 4; q++)
		assert_true(per_q[q] > 0); /* 64 flows spread over every pair */
	/* All entries to queue 3: every flow moves there. */
	for (unsigned i = 0; i < 128; i++)
		cfg.indir[i] = 3;
	assert_int_equal(vnet_net_set_rss(f->net, &cfg), VNET_OK);
	uint8_t fr[128];
	static const uint8_t s4[4] = {1, 2, 3, 4}, d4[4] = {5, 6, 7, 8};
	uint32_t len = ip4_frame(fr, s4, d4, 1, 2, 6, false);
	assert_int_equal(vnet_net_tx_pick(f->net, fr, len), 3);
	/* A non-IP frame: pair 0. */
	fr[12] = 0x08, fr[13] = 0x06;
	assert_int_equal(vnet_net_tx_pick(f->net, fr, len), 0);
	fx_free(f);
}

/* ------------------------------------------------------------ coalescing */

static void test_coalescing(void **state)
{
	(void)state;
	struct fx *f = fx_std(ALLCTRL, 2);
	struct vnet_net_coal rxc = {10, 15}, txc = {20, 30}, vq = {7, 9}, got = {0, 0};
	assert_int_equal(vnet_net_set_coal(f->net, false, &rxc), VNET_OK);
	assert_int_equal(vnet_net_set_coal(f->net, true, &txc), VNET_OK);
	/* The wire layout: le32 max_packets, then le32 max_usecs. */
	const struct ndm_ctrl_rec *r = ndm_ctrl_last(&f->m, VIRTIO_NET_CTRL_NOTF_COAL, VIRTIO_NET_CTRL_NOTF_COAL_RX_SET);
	assert_int_equal(r->len, 8);
	assert_int_equal(r->data[0], 15);
	assert_int_equal(r->data[4], 10);
	assert_int_equal(f->m.cdev.coal[0][0], 10);
	assert_int_equal(f->m.cdev.coal[2][1], 15);
	assert_int_equal(f->m.cdev.coal[3][0], 20);
	assert_int_equal(vnet_net_set_vq_coal(f->net, 2, &vq), VNET_OK);
	assert_int_equal(f->m.cdev.coal[2][0], 7);
	assert_int_equal(f->m.cdev.coal[0][0], 10); /* the other receive queue keeps its own */
	assert_int_equal(vnet_net_get_vq_coal(f->net, 2, &got), VNET_OK);
	assert_int_equal(got.max_usecs, 7);
	assert_int_equal(got.max_packets, 9);
	/* Only enabled data queues. */
	assert_int_equal(vnet_net_set_vq_coal(f->net, 4, &vq), VNET_EINVAL);
	/* A short answer to VQ_GET (result not covered): EPROTO, values untouched. */
	f->m.ctrl_lie = NDM_CTRL_LIE_SHORT;
	got = (struct vnet_net_coal){0xaa, 0xbb};
	assert_int_equal(vnet_net_get_vq_coal(f->net, 2, &got), VNET_EPROTO);
	assert_int_equal(got.max_usecs, 0xaa);
	f->m.ctrl_lie = NDM_CTRL_LIE_NONE;
	/* ERR: ignore the values (spec 5.1.6.5.9.1). */
	f->m.ctrl_err_classes = 1u << VIRTIO_NET_CTRL_NOTF_COAL;
	assert_int_equal(vnet_net_get_vq_coal(f->net, 2, &got), VNET_EIO);
	assert_int_equal(got.max_packets, 0xbb);
	fx_free(f);

	f = fx_std(BASE, 1);
	assert_int_equal(vnet_net_set_coal(f->net, false, &rxc), VNET_ENOTSUP);
	assert_int_equal(vnet_net_set_vq_coal(f->net, 0, &rxc), VNET_ENOTSUP);
	fx_free(f);
}

/* ------------------------------------------------------------ errors, lies */

static void test_refusal_named_state_kept(void **state)
{
	(void)state;
	struct fx *f = fx_std(ALLCTRL, 1);
	assert_int_equal(vnet_net_vlan_add(f->net, 10), VNET_OK);
	f->m.ctrl_err_classes = 1u << VIRTIO_NET_CTRL_VLAN;
	assert_int_equal(vnet_net_vlan_add(f->net, 100), VNET_EIO);
	assert_int_equal(vnet_net_vlan_del(f->net, 10), VNET_EIO);
	assert_false(vnet_net_vlan_present(f->net, 100));
	assert_true(vnet_net_vlan_present(f->net, 10));
	struct vnet_net_ctrl_error e;
	vnet_net_ctrl_last_error(f->net, &e);
	assert_int_equal(e.class_, VIRTIO_NET_CTRL_VLAN);
	assert_int_equal(e.cmd, VIRTIO_NET_CTRL_VLAN_DEL);
	assert_int_equal(e.ack, VIRTIO_NET_ERR);
	assert_int_equal(e.rc, VNET_EIO);
	assert_string_equal(vnet_net_ctrl_class_name(e.class_), "VLAN");
	assert_string_equal(vnet_net_ctrl_cmd_name(e.class_, e.cmd), "DEL");
	assert_string_equal(vnet_net_ctrl_cmd_name(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG), "RSS_CONFIG");
	assert_string_equal(vnet_net_ctrl_class_name(200), "?");
	assert_int_equal(cstats(f).refused, 2);
	/* A refusal is not a device fault: the queue works, no ctrl_errors. */
	f->m.ctrl_err_classes = 0;
	struct vnet_net_info info;
	vnet_net_get_info(f->net, &info);
	assert_int_equal(info.ctrl_errors, 0);
	assert_int_equal(vnet_net_vlan_add(f->net, 100), VNET_OK);
	fx_free(f);
}

/* Each lie, on a setter of each kind: a named EPROTO, the recorded state
 * unchanged, counted as a device fault; the queue survives. */
static void test_lies_keep_state(void **state)
{
	(void)state;
	static const enum ndm_ctrl_lie lies[] = {NDM_CTRL_LIE_NO_ACK, NDM_CTRL_LIE_LEN0, NDM_CTRL_LIE_SHORT,
	                                         NDM_CTRL_LIE_LONG, NDM_CTRL_LIE_ACK_VALUE};
	for (unsigned i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		struct fx *f = fx_std(ALLCTRL, 1);
		static const uint8_t mac0[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}, mac[6] = {2, 1, 1, 1, 1, 1};
		f->m.ctrl_lie = lies[i];
		f->m.ctrl_lie_ack = 0x7e;
		assert_int_equal(vnet_net_vlan_add(f->net, 5), VNET_EPROTO);
		assert_false(vnet_net_vlan_present(f->net, 5));
		assert_int_equal(vnet_net_set_mac(f->net, mac), VNET_EPROTO);
		struct vnet_net_info info;
		vnet_net_get_info(f->net, &info);
		assert_memory_equal(info.mac, mac0, 6);
		assert_int_equal(vnet_net_set_rx_mode(f->net, VNET_NET_RX_NOBCAST, true), VNET_EPROTO);
		assert_false(vnet_net_get_rx_mode(f->net, VNET_NET_RX_NOBCAST));
		assert_int_equal(info.ctrl_errors, 2);
		struct vnet_net_ctrl_error e;
		vnet_net_ctrl_last_error(f->net, &e);
		assert_int_equal(e.class_, VIRTIO_NET_CTRL_RX);
		assert_int_equal(e.cmd, VIRTIO_NET_CTRL_RX_NOBCAST);
		assert_int_equal(e.rc, VNET_EPROTO);
		assert_int_equal(cstats(f).failed, 3);
		f->m.ctrl_lie = NDM_CTRL_LIE_NONE;
		assert_false(vnet_vq_is_broken(vnet_net_ctrlq(f->net)));
		assert_int_equal(vnet_net_vlan_add(f->net, 5), VNET_OK);
		fx_free(f);
	}
	/* Silence: a timeout that names the command; then broken fast. */
	struct fx *f = fx_std(ALLCTRL, 1);
	f->m.ctrl_mode = NDM_CTRL_SILENT;
	struct vnet_net_coal c = {1, 2};
	assert_int_equal(vnet_net_set_coal(f->net, true, &c), VNET_ETIMEDOUT);
	struct vnet_net_ctrl_error e;
	vnet_net_ctrl_last_error(f->net, &e);
	assert_int_equal(e.class_, VIRTIO_NET_CTRL_NOTF_COAL);
	assert_int_equal(e.cmd, VIRTIO_NET_CTRL_NOTF_COAL_TX_SET);
	assert_int_equal(e.rc, VNET_ETIMEDOUT);
	assert_int_equal(vnet_net_vlan_add(f->net, 1), VNET_EBROKEN);
	fx_free(f);
}

/* ------------------------------------------------------------ replay */

static void test_replay_after_reset(void **state)
{
	(void)state;
	struct fx *f = fx_new(ALLCTRL | N(RSS), 2);
	struct vnet_net_opts o = opts(2);
	fx_up(f, &o);
	static const uint8_t mac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
	uint8_t uc[2][6] = {{0x02, 0, 0, 0, 0, 1}, {0x02, 0, 0, 0, 0, 2}}, mc[1][6] = {{0x33, 0x33, 0, 0, 0, 1}};
	assert_int_equal(vnet_net_set_mac(f->net, mac), VNET_OK);
	assert_int_equal(vnet_net_set_rx_mode(f->net, VNET_NET_RX_ALLMULTI, true), VNET_OK);
	assert_int_equal(vnet_net_set_rx_mode(f->net, VNET_NET_RX_NOBCAST, true), VNET_OK);
	assert_int_equal(vnet_net_set_mac_table(f->net, (const uint8_t(*)[6])uc, 2, (const uint8_t(*)[6])mc, 1), VNET_OK);
	assert_int_equal(vnet_net_vlan_add(f->net, 100), VNET_OK);
	assert_int_equal(vnet_net_vlan_add(f->net, 3000), VNET_OK);
	assert_int_equal(vnet_net_set_guest_offloads(f->net, 0), VNET_OK);
	struct vnet_net_rss cfg;
	vnet_net_rss_default(f->net, &cfg);
	cfg.indir[3] = 0;
	assert_int_equal(vnet_net_set_rss(f->net, &cfg), VNET_OK);
	struct vnet_net_coal rxc = {11, 12}, vq = {3, 4};
	assert_int_equal(vnet_net_set_coal(f->net, false, &rxc), VNET_OK);
	assert_int_equal(vnet_net_set_vq_coal(f->net, 3, &vq), VNET_OK);
	struct ndm_ctrl_dev want = f->m.cdev;

	/* Reset: the device forgets everything (spec 5.1.6.5.2, 5.1.6.5.9). */
	vnet_net_stop(f->net);
	memset(&f->m.cdev, 0, sizeof(f->m.cdev));
	static const uint8_t cfg_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	ndm_set_mac(&f->m, cfg_mac);
	assert_int_equal(vnet_net_restart(f->net), VNET_OK);
	assert_int_equal(cstats(f).replays, 1);
	assert_memory_equal(f->m.cdev.rx, want.rx, sizeof(want.rx));
	assert_int_equal(f->m.cdev.n_uc, 2);
	assert_int_equal(f->m.cdev.n_mc, 1);
	assert_memory_equal(f->m.cdev.uc, want.uc, 12);
	assert_memory_equal(f->m.cdev.mc, want.mc, 6);
	assert_memory_equal(f->m.cdev.mac, mac, 6);
	assert_memory_equal(f->m.ft.config, mac, 6);
	assert_memory_equal(f->m.cdev.vlan, want.vlan, sizeof(want.vlan));
	assert_int_equal(f->m.cdev.offloads, 0);
	assert_true(f->m.cdev.rss_on);  /* sent after VQ_PAIRS_SET, which turns RSS off */
	assert_int_equal(f->m.cdev.indir_len, want.indir_len);
	assert_memory_equal(f->m.cdev.indir, want.indir, sizeof(want.indir));
	assert_memory_equal(f->m.cdev.key, want.key, 40);
	assert_int_equal(f->m.cdev.pairs, 2);
	assert_memory_equal(f->m.cdev.coal, want.coal, sizeof(want.coal));
	assert_int_equal(f->m.cdev.malformed, 0);
	/* A replay that meets a refusal still sends the rest and reports it. */
	f->m.ctrl_err_classes = 1u << VIRTIO_NET_CTRL_MAC;
	memset(&f->m.cdev, 0, sizeof(f->m.cdev));
	assert_int_equal(vnet_net_ctrl_replay(f->net), VNET_EIO);
	assert_memory_equal(f->m.cdev.vlan, want.vlan, sizeof(want.vlan));
	assert_true(f->m.cdev.rss_on);
	fx_free(f);
}

/* ------------------------------------------------------------ link */

static void test_link_gate_and_speed(void **state)
{
	(void)state;
	struct fx *f = fx_std(ALLCTRL, 1);
	struct vnet_net_info info;
	vnet_net_get_info(f->net, &info);
	assert_true(info.speed_known);
	assert_int_equal(info.speed_mbps, 10000);
	assert_int_equal(info.duplex, VIRTIO_NET_DUPLEX_FULL);
	ndm_set_status(&f->m, 0);
	vnet_net_config_changed(f->net);
	struct vnet_net_link l;
	vnet_net_get_link(f->net, &l);
	assert_false(l.up);
	assert_int_equal(l.changes, 1);
	struct vnet_pkt *p[3];
	for (int i = 0; i < 3; i++) {
		p[i] = vnet_net_pkt_alloc(f->net);
		memset(p[i]->data, 0xab, 60);
		p[i]->len = 60;
	}
	assert_int_equal(vnet_net_tx_burst(f->net, 0, p, 3), 0);
	assert_int_equal(ndm_poll(&f->m), 0);
	struct vnet_net_queue_stats st;
	vnet_net_get_stats(f->net, 0, &st);
	assert_int_equal(st.tx_link_down, 3);
	assert_int_equal(st.tx_packets, 0);
	/* Link back (and the speed changed to unknown): traffic resumes. */
	ndm_set_status(&f->m, VIRTIO_NET_S_LINK_UP);
	ndm_set_speed(&f->m, 0xffffffffu, 7);
	vnet_net_config_changed(f->net);
	vnet_net_get_link(f->net, &l);
	assert_true(l.up);
	assert_false(l.speed_known);
	assert_int_equal(l.duplex, VIRTIO_NET_DUPLEX_UNKNOWN);
	assert_int_equal(l.changes, 2);
	assert_int_equal(vnet_net_tx_burst(f->net, 0, p, 3), 3);
	assert_int_equal(ndm_poll(&f->m), 3);
	vnet_net_get_stats(f->net, 0, &st);
	assert_int_equal(st.tx_packets, 3);
	assert_int_equal(st.tx_link_down, 3);
	fx_free(f);
}

/* ------------------------------------------------------------ moderation */

static void sink_free(void *arg, struct vnet_pkt *p)
{
	struct vnet_net *net = arg;
	vnet_net_pkt_free(net, p);
}

static void inject_n(struct fx *f, unsigned n)
{
	uint8_t fr[64];
	memset(fr, 0x5a, sizeof(fr));
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(ndm_rx_inject(&f->m, 0, fr, sizeof(fr), NULL), 1);
}

/* One interrupt episode on the manual clock: irq, then polls (the clock
 * advancing `step_ns` between them) until the queue is re-armed; returns
 * the polls it took. */
static unsigned episode_t(struct fx *f, unsigned frames, uint64_t step_ns)
{
	inject_n(f, frames);
	vnet_net_rx_irq(f->net, 0);
	unsigned polls = 0;
	bool more = true;
	while (more) {
		vnet_net_poll(f->net, 0, 64, 0, sink_free, f->net, &more);
		polls++;
		assert_true(polls < 5000);
		assert_int_equal(ndm_rx_irq_armed(&f->m, 0), !more);
		fake_hal_advance_ns(step_ns);
	}
	return polls;
}

static unsigned episode(struct fx *f, unsigned frames)
{
	return episode_t(f, frames, 1000);
}

static uint64_t mod_level(struct fx *f)
{
	struct vnet_net_queue_stats st;
	vnet_net_get_stats(f->net, 0, &st);
	return st.moder_level;
}

/* Raise the level to `want` with episodes whose next interrupt comes
 * 10 us after the re-arm (a busy queue). */
static void mod_raise(struct fx *f, uint64_t want)
{
	for (int i = 0; i < 10 && mod_level(f) < want; i++) {
		episode(f, 8);
		fake_hal_advance_ns(10000);
	}
	assert_int_equal(mod_level(f), want);
}

static struct fx *mod_fx(void)
{
	fake_hal_clock_manual(true);
	struct fx *f = fx_new(ALLCTRL, 1);
	struct vnet_net_opts o = opts(1);
	o.rx_moderation = true;
	fx_up(f, &o);
	return f;
}

static void mod_fx_free(struct fx *f)
{
	fx_free(f);
	fake_hal_clock_manual(false);
}

static void test_sw_moderation(void **state)
{
	(void)state;
	struct fx *f = mod_fx();
	/* Quiet: one frame; the poll that found it keeps interrupts off, the
	 * next (empty) one re-arms at once: level 0, no hold. */
	assert_int_equal(episode(f, 1), 2);
	struct vnet_net_queue_stats st;
	vnet_net_get_stats(f->net, 0, &st);
	assert_int_equal(st.moder_level, 0);
	assert_int_equal(st.moder_held, 1);
	assert_int_equal(st.rx_irq_packets, 1);
	/* Interrupts soon after the re-arm (busy) raise the level one step
	 * per episode; each level holds longer after the last work. */
	fake_hal_advance_ns(10000);
	episode(f, 40);
	assert_int_equal(mod_level(f), 1);
	fake_hal_advance_ns(10000);
	unsigned p1 = episode(f, 40); /* level 2: 32 us hold, 1 us per poll */
	assert_int_equal(mod_level(f), 2);
	assert_int_equal(p1, 33); /* work at t, empty and held at t+1 .. t+31 us, re-armed at t+32 */
	mod_raise(f, 7);
	fake_hal_advance_ns(10000);
	episode(f, 1);
	assert_int_equal(mod_level(f), 7); /* the top level stays */
	/* A gap between the busy (1 ms) and the idle (8 ms) bound lowers one
	 * step, a long idle gap (an idle ping) drops to 0 and re-arms at the
	 * first empty poll. */
	fake_hal_advance_ns(2000000);
	episode(f, 1);
	assert_int_equal(mod_level(f), 6);
	fake_hal_advance_ns(20000000);
	assert_int_equal(episode(f, 1), 2);
	assert_int_equal(mod_level(f), 0);
	mod_fx_free(f);

	/* Moderation off: the first drained poll re-arms (as before). */
	f = fx_std(ALLCTRL, 1);
	assert_int_equal(episode(f, 40), 1);
	vnet_net_get_stats(f->net, 0, &st);
	assert_int_equal(st.moder_held, 0);
	assert_int_equal(st.rx_irq_packets, 40);
	fx_free(f);
}

/* The hold runs from the last poll that found work: frames arriving
 * while held are taken without a new interrupt and extend it; the
 * first empty poll past the hold re-arms. */
static void test_sw_moderation_hold(void **state)
{
	(void)state;
	struct fx *f = mod_fx();
	mod_raise(f, 3); /* 64 us */
	fake_hal_advance_ns(10000);
	struct vnet_net_queue_stats st0, st;
	vnet_net_get_stats(f->net, 0, &st0);
	inject_n(f, 10);
	vnet_net_rx_irq(f->net, 0);
	assert_int_equal(mod_level(f), 4); /* 128 us */
	bool more;
	assert_int_equal(vnet_net_poll(f->net, 0, 64, 0, sink_free, f->net, &more), 10);
	assert_true(more);
	for (int i = 0; i < 5; i++) {
		fake_hal_advance_ns(100000); /* within the hold */
		inject_n(f, 3);
		assert_int_equal(vnet_net_poll(f->net, 0, 64, 0, sink_free, f->net, &more), 3);
		assert_true(more);
		assert_false(ndm_rx_irq_armed(&f->m, 0));
	}
	/* Empty polls inside the hold keep it. */
	fake_hal_advance_ns(127000);
	assert_int_equal(vnet_net_poll(f->net, 0, 64, 0, sink_free, f->net, &more), 0);
	assert_true(more);
	assert_false(ndm_rx_irq_armed(&f->m, 0));
	/* Past it: re-armed. */
	fake_hal_advance_ns(1000);
	assert_int_equal(vnet_net_poll(f->net, 0, 64, 0, sink_free, f->net, &more), 0);
	assert_false(more);
	assert_true(ndm_rx_irq_armed(&f->m, 0));
	vnet_net_get_stats(f->net, 0, &st);
	assert_int_equal(st.rx_interrupts - st0.rx_interrupts, 1);
	assert_int_equal(st.rx_irq_packets - st0.rx_irq_packets, 25);
	assert_int_equal(st.moder_held - st0.moder_held, 7);
	mod_fx_free(f);
}

/* The device coalesces (NOTF_COAL rx programmed): the fallback stands
 * aside, the first drained poll re-arms whatever the level was. */
static void test_sw_moderation_dev_coal(void **state)
{
	(void)state;
	struct fx *f = mod_fx();
	mod_raise(f, 3);
	struct vnet_net_coal c = {50, 32};
	assert_int_equal(vnet_net_set_coal(f->net, false, &c), VNET_OK);
	struct vnet_net_queue_stats st;
	vnet_net_get_stats(f->net, 0, &st);
	uint64_t held = st.moder_held;
	fake_hal_advance_ns(10000);
	assert_int_equal(episode(f, 40), 1);
	vnet_net_get_stats(f->net, 0, &st);
	assert_int_equal(st.moder_held, held);
	assert_int_equal(st.moder_level, 3); /* not adapted while the device coalesces */
	mod_fx_free(f);
}

/* ------------------------------------------------------------ flow control */

static void test_tx_stop_wake(void **state)
{
	(void)state;
	struct fx *f = fx_std(ALLCTRL, 1);
	struct vnet_pkt *p[80];
	for (int i = 0; i < 80; i++) {
		p[i] = vnet_net_pkt_alloc(f->net);
		assert_non_null(p[i]);
		memset(p[i]->data, 0x11, 60);
		p[i]->len = 60;
	}
	/* The ring holds QMAX: the burst is cut short, the queue stops once. */
	unsigned k = vnet_net_tx_burst(f->net, 0, p, 80);
	assert_int_equal(k, QMAX);
	assert_true(vnet_net_tx_stopped(f->net, 0));
	assert_int_equal(vnet_net_tx_burst(f->net, 0, p + k, 80 - k), 0);
	struct vnet_net_queue_stats st;
	vnet_net_get_stats(f->net, 0, &st);
	assert_int_equal(st.tx_stops, 1);
	assert_int_equal(st.tx_wakes, 0);
	/* The device completes; the service loop's reclaim wakes the queue. */
	assert_int_equal(ndm_poll(&f->m), QMAX);
	bool more;
	vnet_net_poll(f->net, 0, 8, 0, sink_free, f->net, &more);
	assert_false(vnet_net_tx_stopped(f->net, 0));
	vnet_net_get_stats(f->net, 0, &st);
	assert_int_equal(st.tx_wakes, 1);
	assert_int_equal(vnet_net_tx_burst(f->net, 0, p + k, 80 - k), 80 - k);
	assert_false(vnet_net_tx_stopped(f->net, 0));
	vnet_net_get_stats(f->net, 0, &st);
	assert_int_equal(st.tx_stops, 1);
	assert_int_equal(ndm_poll(&f->m), 80 - k);
	fx_free(f);
}

/* ------------------------------------------------------------ local control queue */

struct local {
	unsigned calls;
	uint8_t last_class, last_cmd;
	uint16_t pairs;
	uint8_t answer;
};

static uint8_t local_ctrl(void *arg, uint8_t class_, uint8_t cmd, const void *data, uint32_t len, void *result,
                          uint32_t rlen)
{
	struct local *l = arg;
	(void)result;
	(void)rlen;
	l->calls++;
	l->last_class = class_;
	l->last_cmd = cmd;
	if (class_ == VIRTIO_NET_CTRL_MQ && cmd == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET && len == 2) {
		const uint8_t *d = data;
		l->pairs = (uint16_t)(d[0] | d[1] << 8);
	}
	return l->answer;
}

/* A front-end serving the control queue (vhost-user): no controlq ring,
 * no controlq index check against the transport, commands to the hook. */
static void test_ctrl_local(void **state)
{
	(void)state;
	struct fx *f = fx_new(BASE | N(MQ) | N(CTRL_VLAN), 4);
	f->m.ft.num_queues = 8; /* the transport has data queues only: no index 8 */
	struct local l = {0, 0, 0, 0, VIRTIO_NET_OK};
	struct vnet_net_opts o = opts(4);
	o.ctrl_local = local_ctrl;
	o.ctrl_local_arg = &l;
	fx_up(f, &o);
	assert_null(vnet_net_ctrlq(f->net));
	struct vnet_net_info info;
	vnet_net_get_info(f->net, &info);
	assert_true(info.ctrl_vq);
	assert_int_equal(info.queue_pairs, 4);
	assert_int_equal(l.pairs, 4);
	assert_int_equal(f->m.ctrl_total, 0); /* nothing went to the device */
	assert_int_equal(vnet_net_set_queue_pairs(f->net, 2), VNET_OK);
	assert_int_equal(l.pairs, 2);
	/* The front-end refuses: a named EIO, state kept. */
	l.answer = VIRTIO_NET_ERR;
	assert_int_equal(vnet_net_vlan_add(f->net, 7), VNET_EIO);
	assert_false(vnet_net_vlan_present(f->net, 7));
	struct vnet_net_ctrl_error e;
	vnet_net_ctrl_last_error(f->net, &e);
	assert_int_equal(e.class_, VIRTIO_NET_CTRL_VLAN);
	assert_int_equal(e.rc, VNET_EIO);
	assert_int_equal(vnet_net_set_queue_pairs(f->net, 3), VNET_EIO);
	vnet_net_get_info(f->net, &info);
	assert_int_equal(info.queue_pairs, 2);
	fx_free(f);
}

/* Bring-up asks for every control class offered, and no more. */
static void test_negotiates_ctrl_classes(void **state)
{
	(void)state;
	struct fx *f = fx_std(ALLCTRL | N(RSS) | N(HASH_REPORT), 2);
	uint64_t got = ndm_features(&f->m);
	uint64_t want = N(CTRL_RX_EXTRA) | N(CTRL_VLAN) | N(CTRL_MAC_ADDR) | N(GUEST_ANNOUNCE) | N(CTRL_GUEST_OFFLOADS) |
	                N(NOTF_COAL) | N(VQ_NOTF_COAL) | N(SPEED_DUPLEX) | N(RSS);
	assert_int_equal(got & want, want);
	assert_false(got & N(HASH_REPORT)); /* only on request */
	fx_free(f);
	/* Without a control queue none of them. */
	f = fx_new(ALLCTRL | N(RSS), 1);
	struct vnet_net_opts o = opts(1);
	o.no_ctrl_vq = true;
	fx_up(f, &o);
	got = ndm_features(&f->m);
	assert_false(got & (want & ~N(SPEED_DUPLEX)));
	assert_int_equal(vnet_net_vlan_add(f->net, 1), VNET_ENOTSUP);
	assert_int_equal(vnet_net_ctrl_replay(f->net), VNET_OK);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_toeplitz_known_vectors),
		cmocka_unit_test(test_rx_modes),
		cmocka_unit_test(test_mac_table_and_overflow),
		cmocka_unit_test(test_mac_addr_set),
		cmocka_unit_test(test_vlan_filter),
		cmocka_unit_test(test_guest_offloads),
		cmocka_unit_test(test_announce),
		cmocka_unit_test(test_rss_config),
		cmocka_unit_test(test_hash_report),
		cmocka_unit_test(test_tx_pick_follows_table),
		cmocka_unit_test(test_coalescing),
		cmocka_unit_test(test_refusal_named_state_kept),
		cmocka_unit_test(test_lies_keep_state),
		cmocka_unit_test(test_replay_after_reset),
		cmocka_unit_test(test_link_gate_and_speed),
		cmocka_unit_test(test_sw_moderation),
		cmocka_unit_test(test_sw_moderation_hold),
		cmocka_unit_test(test_sw_moderation_dev_coal),
		cmocka_unit_test(test_negotiates_ctrl_classes),
		cmocka_unit_test(test_tx_stop_wake),
		cmocka_unit_test(test_ctrl_local),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
