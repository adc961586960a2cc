/*
 * Bring-up, teardown and recovery of a virtio-net device (VirtIO 1.2
 * §5.1.5 "Device Initialization" on top of the §3.1.1 sequence that
 * src/core/device.c runs).
 *
 * What it does: chooses the features it can honour, reads and validates
 * the configuration (MAC, MTU, max_virtqueue_pairs; each only when its
 * feature was negotiated), sizes and sets up the receiveq/transmitq pairs
 * and the controlq with the host's interrupt routing, fills the receive
 * queues, sets DRIVER_OK and asks for the queue pairs wanted; destroy,
 * stop (reset and take every buffer back) and restart (same features,
 * same rings, set up again).  Queue setup is written once
 * (net_setup_queues) for create and restart.
 * What it does not: the data path, interrupts or MSI-X programming (the
 * host's, through opts.vector_of), register access (the transport's).
 * Trusts: no config value before its range check (the controlq index
 * 2 * max_virtqueue_pairs is checked in 32 bits against what the
 * transport can address); a failure at any step sets FAILED (or resets)
 * and releases everything.  Nor that a reset completes: one that does not
 * (net_setup_reset) latches the device dead, and then nothing the device
 * could still write is reclaimed, reused or freed (kept and counted).
 * Serialised by the control thread; may busy-wait, bounded by timeout_ns.
 */
#include "core/vnet_log.h"
#include "core/vnet_mem.h"
#include "net_priv.h"
#include "vnet/device.h"
#include "vnet/features.h"
#include "vnet/net_ctrl.h"
#include "vnet/spec/virtio_config.h"

static void net_setup_ctrl_config_changed(struct vnet_net *net);

static void net_setup_read_link(struct vnet_net *net)
{
	if (!vnet_device_has_feature(net->dev, VIRTIO_NET_F_STATUS)) {
		/* Without STATUS the link is assumed up (spec 5.1.4). */
		net->link_up = true;
		return;
	}
	vnet_le16 st = 0;
	if (vnet_device_read_config(net->dev, 6, &st, sizeof(st)) == VNET_OK)
		net->link_up = (vnet_le16_to_cpu(st) & VIRTIO_NET_S_LINK_UP) != 0;
}

void vnet_net_config_changed(struct vnet_net *net)
{
	if (!net)
		return;
	bool was = net->link_up;
	net_setup_read_link(net);
	if (was != net->link_up) {
		net->cs.link_changes++;
		VNET_INFO("%s: link %s", vnet_device_name(net->dev), net->link_up ? "up" : "down");
	}
	net_setup_ctrl_config_changed(net);
	if (vnet_device_needs_reset(net->dev))
		VNET_ERR("%s: device needs reset", vnet_device_name(net->dev));
}

/* Control plane part of a config change (VirtIO 1.2 §5.1.4): speed and
 * duplex may have changed; ANNOUNCE asks for gratuitous packets
 * (§5.1.6.5.4, net_ctrl.c). */
static void net_setup_ctrl_config_changed(struct vnet_net *net)
{
	net_ctrl_read_speed(net);
	if (!vnet_device_has_feature(net->dev, VIRTIO_NET_F_GUEST_ANNOUNCE) ||
	    !vnet_device_has_feature(net->dev, VIRTIO_NET_F_STATUS))
		return;
	vnet_le16 st = 0;
	if (vnet_device_read_config(net->dev, 6, &st, sizeof(st)) == VNET_OK &&
	    (vnet_le16_to_cpu(st) & VIRTIO_NET_S_ANNOUNCE))
		net_ctrl_announce(net);
}

/* Control-plane features wanted with a control queue: every class the
 * driver speaks (net_ctrl.c, net_rss.c); HASH_REPORT only on request (it
 * grows the header to 20 bytes). */
static uint64_t net_setup_wanted_ctrl(const struct vnet_net_opts *o)
{
	uint64_t w = VNET_BIT(VIRTIO_NET_F_SPEED_DUPLEX);
	if (o->no_ctrl_vq)
		return w;
	w |= VNET_BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) | VNET_BIT(VIRTIO_NET_F_CTRL_VLAN) |
	     VNET_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) | VNET_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) |
	     VNET_BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) | VNET_BIT(VIRTIO_NET_F_NOTF_COAL) |
	     VNET_BIT(VIRTIO_NET_F_VQ_NOTF_COAL);
	if (!o->no_rss)
		w |= VNET_BIT(VIRTIO_NET_F_RSS);
	if (o->hash_report)
		w |= VNET_BIT(VIRTIO_NET_F_HASH_REPORT);
	return w;
}

/* MSI-X vector of virtqueue vq_index (or VNET_NET_VQ_CONFIG): the host's
 * routing policy (vnet_net_opts.vector_of); none without one. */
uint16_t net_setup_vector(const struct vnet_net *net, uint16_t vq_index)
{
	return net->opts.vector_of ? net->opts.vector_of(net->opts.vector_arg, vq_index) : VNET_VECTOR_NONE;
}

/* Offloads the user asked for (opts block "offloads", docs/offloads.md).
 * Segmentation needs checksum offload in the same direction (§5.1.3.1:
 * HOST_TSO4 requires CSUM, GUEST_TSO4 GUEST_CSUM...), so asking for one
 * asks for the other; what the device does not offer, or what the rule
 * table then rules out (ECN without a TSO), is left out by negotiation. */
static uint64_t net_setup_offload_wanted(const struct vnet_net_opts *o)
{
	/* Each option and the feature it asks for; tx ones imply CSUM, rx
	 * ones GUEST_CSUM. */
	const struct {
		bool on, tx;
		uint8_t bit;
	} ask[] = {
		{o->tx_tso4, true, VIRTIO_NET_F_HOST_TSO4},   {o->tx_tso6, true, VIRTIO_NET_F_HOST_TSO6},
		{o->tx_ecn, true, VIRTIO_NET_F_HOST_ECN},     {o->tx_ufo, true, VIRTIO_NET_F_HOST_UFO},
		{o->tx_uso, true, VIRTIO_NET_F_HOST_USO},     {o->rx_tso4, false, VIRTIO_NET_F_GUEST_TSO4},
		{o->rx_tso6, false, VIRTIO_NET_F_GUEST_TSO6}, {o->rx_ecn, false, VIRTIO_NET_F_GUEST_ECN},
		{o->rx_ufo, false, VIRTIO_NET_F_GUEST_UFO},   {o->rx_uso4, false, VIRTIO_NET_F_GUEST_USO4},
		{o->rx_uso6, false, VIRTIO_NET_F_GUEST_USO6},
	};
	uint64_t w = 0;
	for (size_t i = 0; i < sizeof(ask) / sizeof(ask[0]); i++)
		if (ask[i].on)
			w |= VNET_BIT(ask[i].bit) |
			     VNET_BIT(ask[i].tx ? VIRTIO_NET_F_CSUM : VIRTIO_NET_F_GUEST_CSUM);
	return w;
}

/* What the data path may send and accept, from the negotiated set. */
static void net_setup_offload_state(struct vnet_net *net, uint64_t f)
{
#define HAS(x) ((f & VNET_BIT(VIRTIO_NET_F_##x)) != 0)
	net->tx_gso_ok = (uint8_t)((HAS(HOST_TSO4) ? 1u << VNET_PKT_GSO_TCPV4 : 0) |
	                           (HAS(HOST_TSO6) ? 1u << VNET_PKT_GSO_TCPV6 : 0) |
	                           (HAS(HOST_UFO) ? 1u << VNET_PKT_GSO_UDP : 0) |
	                           (HAS(HOST_USO) ? 1u << VNET_PKT_GSO_UDP_L4 : 0));
	/* §5.1.6.4.1: UDP_L4 with either USO direction bit. */
	net->rx_gso_ok = (uint8_t)((HAS(GUEST_TSO4) ? 1u << VNET_PKT_GSO_TCPV4 : 0) |
	                           (HAS(GUEST_TSO6) ? 1u << VNET_PKT_GSO_TCPV6 : 0) |
	                           (HAS(GUEST_UFO) ? 1u << VNET_PKT_GSO_UDP : 0) |
	                           (HAS(GUEST_USO4) || HAS(GUEST_USO6) ? 1u << VNET_PKT_GSO_UDP_L4 : 0));
	net->tx_ecn_ok = HAS(HOST_ECN);
	net->rx_ecn_ok = HAS(GUEST_ECN);
	/* §5.1.6.3.1: guest GSO without MRG_RXBUF needs 64 KiB receive buffers. */
	net->rx_big = net->rx_gso_ok != 0 && !HAS(MRG_RXBUF);
#undef HAS
}

/* Sizes that depend on the queue size (called once qsize is known):
 * segments per transmitted frame, the indirect threshold, and the
 * big-packet receive chain (each buffer of buf_size, the chain at least
 * VNET_NET_RX_BIG_BYTES; buf_size grows when the chain would be longer
 * than the ring or VNET_NET_RX_BIG_SEGS_MAX). */
static void net_setup_offload_sizes(struct vnet_net *net)
{
	bool indirect = (net->features & VNET_BIT(VIRTIO_F_INDIRECT_DESC)) != 0;
	uint16_t segs = VNET_NET_TX_SEGS_MAX < net->qsize ? (uint16_t)VNET_NET_TX_SEGS_MAX : net->qsize;
	net->tx_segs_max = segs;
	net->tx_indirect_min = 0;
	if (indirect) {
		uint16_t m = net->opts.tx_indirect_min ? net->opts.tx_indirect_min : VNET_NET_TX_INDIRECT_MIN_DEFAULT;
		net->tx_indirect_min = m < 2 ? 2 : m;
	}
	net->rx_chain = 1;
	if (!net->rx_big)
		return;
	uint32_t cap = VNET_NET_RX_BIG_SEGS_MAX < net->qsize ? VNET_NET_RX_BIG_SEGS_MAX : net->qsize;
	uint32_t per = net_rx_buf_bytes(net);
	if ((VNET_NET_RX_BIG_BYTES + per - 1u) / per > cap) {
		/* Fewer, larger buffers: the chain must fit the ring. */
		uint32_t need = (VNET_NET_RX_BIG_BYTES + cap - 1u) / cap;
		net->buf_size = (need + VNET_NET_HEADROOM - net->hdr_len + 63u) & ~63u;
		per = net_rx_buf_bytes(net);
	}
	net->rx_chain = (uint16_t)((VNET_NET_RX_BIG_BYTES + per - 1u) / per);
}

static uint64_t net_setup_wanted(const struct vnet_net_opts *o, uint64_t offered)
{
	uint64_t w = VNET_BIT(VIRTIO_F_VERSION_1) | VNET_BIT(VIRTIO_NET_F_MAC) | VNET_BIT(VIRTIO_NET_F_STATUS) |
	             VNET_BIT(VIRTIO_NET_F_MTU) | VNET_BIT(VIRTIO_F_ACCESS_PLATFORM) |
	             VNET_BIT(VIRTIO_F_NOTIFICATION_DATA) | VNET_BIT(VIRTIO_F_ANY_LAYOUT) |
	             VNET_BIT(VIRTIO_F_RING_RESET) /* recovery: net_recover.c */ | o->extra_features;
	if (!o->no_mrg_rxbuf)
		w |= VNET_BIT(VIRTIO_NET_F_MRG_RXBUF);
	if (!o->no_ctrl_vq)
		w |= VNET_BIT(VIRTIO_NET_F_CTRL_VQ) | VNET_BIT(VIRTIO_NET_F_CTRL_RX) | VNET_BIT(VIRTIO_NET_F_MQ);
	if (!o->no_event_idx)
		w |= VNET_BIT(VIRTIO_F_EVENT_IDX);
	if (!o->no_indirect)
		w |= VNET_BIT(VIRTIO_F_INDIRECT_DESC);
	if (!o->no_in_order)
		w |= VNET_BIT(VIRTIO_F_IN_ORDER);
	w |= net_setup_wanted_ctrl(o);
	if (o->tx_csum)
		w |= VNET_BIT(VIRTIO_NET_F_CSUM);
	if (o->rx_csum)
		w |= VNET_BIT(VIRTIO_NET_F_GUEST_CSUM);
	w |= net_setup_offload_wanted(o);
	if (o->ring == VNET_NET_RING_PACKED ||
	    (o->ring == VNET_NET_RING_AUTO && (offered & VNET_BIT(VIRTIO_F_RING_PACKED))))
		w |= VNET_BIT(VIRTIO_F_RING_PACKED);
	return w;
}

/* Size a queue: what the caller asked (or the default), capped by the device. */
static uint16_t net_setup_qsize(struct vnet_net *net, uint16_t index, uint16_t want)
{
	uint16_t max = vnet_device_queue_max_size(net->dev, index);
	if (max == 0)
		return 0;
	uint16_t s = want ? want : VNET_NET_QSIZE_DEFAULT;
	if (s > max)
		s = max;
	if (net->layout == VNET_VQ_SPLIT) {
		/* Split sizes must be powers of two: round down. */
		uint16_t p = 1;
		while ((uint32_t)p * 2u <= s)
			p = (uint16_t)(p * 2u);
		s = p;
	}
	return s;
}

/* Indirect tables (§2.7.5.3, §2.8.7): transmit queues for chains of at
 * least tx_indirect_min descriptors, receive queues for big-packet chains;
 * never the controlq or single-descriptor buffers. */
static void net_setup_vq_indirect(const struct vnet_net *net, uint16_t index, struct vnet_vq_config *c)
{
	if (!(net->features & VNET_BIT(VIRTIO_F_INDIRECT_DESC)) || index == net->ctrl_index)
		return;
	if (index & 1u) {
		c->indirect_max = net->tx_segs_max;
		c->indirect_min = net->tx_indirect_min;
	} else if (net->rx_chain > 1) {
		c->indirect_max = net->rx_chain;
		c->indirect_min = 2;
	}
}

void net_setup_vq_config(const struct vnet_net *net, uint16_t index, uint16_t size, const char *name,
                         struct vnet_vq_config *c)
{
	memset(c, 0, sizeof(*c));
	c->index = index;
	c->size = size;
	c->layout = net->layout;
	c->features = net->features;
	c->name = name;
	/* Transmit queues: the device only reads (no used lengths needed). */
	c->read_only = index != net->ctrl_index && (index & 1u);
	net_setup_vq_indirect(net, index, c);
}

/*
 * Set up one virtqueue with the device: create it first when *vq is NULL
 * (create; the size is what was asked, capped by the device), or reuse the
 * ring it already has (restart, after vnet_vq_reset), then hand it to the
 * device with the host's vector.  On failure a ring created here is
 * destroyed again; an existing one stays for destroy to release.
 */
static int net_setup_vq(struct vnet_net *net, uint16_t index, uint16_t want, const char *kind, uint16_t num,
                        struct vnet_vq **vq)
{
	const char *dname = vnet_device_name(net->dev);
	bool fresh = *vq == 0;
	int rc;
	if (fresh) {
		char name[16];
		vnet_snprintf(name, sizeof(name), "%s%u", kind, (unsigned)num);
		uint16_t size = net_setup_qsize(net, index, want);
		if (size == 0) {
			VNET_ERR("%s: %s (queue %u) not available", dname, name, (unsigned)index);
			return VNET_ENODEV;
		}
		struct vnet_vq_config c;
		net_setup_vq_config(net, index, size, name, &c);
		rc = vnet_vq_create(&c, vq);
		if (rc != VNET_OK) {
			VNET_ERR("%s: cannot create %s (size %u): %s", dname, name, size, vnet_strerror(rc));
			*vq = 0;
			return rc;
		}
	}
	rc = vnet_device_setup_queue(net->dev, *vq, net_setup_vector(net, index));
	if (rc != VNET_OK) {
		VNET_ERR("%s: queue setup of %s failed: %s", dname, vnet_vq_name(*vq), vnet_strerror(rc));
		if (fresh) {
			vnet_vq_destroy(*vq);
			*vq = 0;
		}
	}
	return rc;
}

/* Every queue in spec order (receiveq i = 2i, transmitq i = 2i + 1, then
 * the controlq): created at create, set up again at restart. */
static int net_setup_queues(struct vnet_net *net)
{
	for (uint16_t i = 0; i < net->created; i++) {
		int rc = net_setup_vq(net, (uint16_t)(2 * i), net->qsize, "rx", i, &net->q[i].rx);
		if (rc != VNET_OK)
			return rc;
		rc = net_setup_vq(net, (uint16_t)(2 * i + 1), net->qsize, "tx", i, &net->q[i].tx);
		if (rc != VNET_OK)
			return rc;
	}
	if (net->ctrl_index != VNET_NET_NO_CTRL)
		return net_setup_vq(net, net->ctrl_index, 64, "ctrl", 0, &net->ctrl);
	return VNET_OK;
}

/* Buffers the device holds now (posted to a receive or transmit ring). */
static uint32_t net_setup_device_held(const struct vnet_net *net)
{
	uint32_t n = 0;
	for (uint32_t i = 0; net->pkts && i < net->pool_size; i++)
		n += net->pkts[i].owner == VNET_OWN_DEV_RX || net->pkts[i].owner == VNET_OWN_DEV_TX ||
		     net->pkts[i].owner == VNET_OWN_DEV_TXC;
	return n;
}

/*
 * Reset the device, bounded (vnet_device_reset).  Spec 2.4.2: until status
 * reads 0 the device may still use the rings, so a reset that does not
 * complete (or whose status cannot be read) latches the net dead: the
 * buffers it holds are left with it (counted in leaked_bufs, logged) and
 * from then on nothing it could write is reclaimed, reused or freed.
 * Once dead it stays dead (VNET_EBROKEN, no further reset tried).
 */
static int net_setup_reset(struct vnet_net *net)
{
	if (net->dead)
		return VNET_EBROKEN;
	int rc = vnet_device_reset(net->dev);
	if (rc == VNET_OK)
		return VNET_OK;
	net->dead = true;
	net->running = false;
	net->leaked_bufs = net_setup_device_held(net);
	VNET_ERR("%s: device reset did not complete (%s): device latched dead, %u buffers and every ring left "
	         "with it",
	         vnet_device_name(net->dev), vnet_strerror(rc), (unsigned)net->leaked_bufs);
	return rc;
}

/* Teardown for destroy and the bring-up error paths.  Returns VNET_OK, or
 * the reset error when the device may still use memory: then the rings,
 * the buffer pool and the control buffer stay allocated for good (only
 * private memory is freed), counted and logged. */
static int net_setup_release(struct vnet_net *net)
{
	/* The device must no longer touch memory: reset first (bounded). */
	int rc = net_setup_reset(net);
	bool keep = rc != VNET_OK;
	const char *name = vnet_device_name(net->dev);
	for (uint16_t i = 0; net->q && i < net->created; i++) {
		struct vnet_vq *vqs[2] = {net->q[i].rx, net->q[i].tx};
		for (int k = 0; k < 2; k++) {
			if (!vqs[k])
				continue;
			if (keep) {
				net->leaked_bytes += vnet_vq_abandon(vqs[k]);
				continue;
			}
			void *c;
			while ((c = vnet_vq_detach_unused(vqs[k])) != 0) {
				/* A transmit frame or big-packet receive post is a chain. */
				net_pool_put_chain(net, c);
			}
			vnet_vq_destroy(vqs[k]);
		}
	}
	if (net->ctrl) {
		if (keep) {
			net->leaked_bytes += vnet_vq_abandon(net->ctrl);
		} else {
			while (vnet_vq_detach_unused(net->ctrl))
				;
			vnet_vq_destroy(net->ctrl);
		}
	}
	if (keep) {
		/* The device may still write the command buffer's ack. */
		net->leaked_bytes += net->ctrl_mem.len;
		net->ctrl_mem = (struct vnet_dma){0};
		net->leaked_bytes += net_pool_abandon(net);
		VNET_ERR("%s: destroyed without a completed reset: %llu bytes of device-visible memory kept for good "
		         "(%u buffers were with the device)",
		         name, (unsigned long long)net->leaked_bytes, (unsigned)net->leaked_bufs);
	} else {
		net_ctrl_free(net);
		net_pool_fini(net);
	}
	vnet_hal_free(net->q);
	vnet_device_destroy(net->dev);
	vnet_hal_free(net);
	return rc;
}

/* Last steps shared by create and restart: config vector, fill the
 * receive queues, DRIVER_OK, first doorbells, link, queue pairs. */
static int net_setup_go_live(struct vnet_net *net)
{
	int rc;
	uint16_t cv = net_setup_vector(net, VNET_NET_VQ_CONFIG);
	if (cv != VNET_VECTOR_NONE) {
		rc = vnet_device_set_config_vector(net->dev, cv);
		if (rc != VNET_OK && rc != VNET_ENOTSUP)
			return rc;
	}
	/* Receive buffers may be posted before DRIVER_OK (spec 5.1.5 step 5:
	 * "fill the receive queues"); they are notified once live. */
	for (uint16_t i = 0; i < net->created; i++) {
		/* Batch: at least 1, at most a quarter of the ring, so the
		 * device always has three quarters of it posted. */
		uint16_t b = net->opts.rx_refill_batch, cap = (uint16_t)(vnet_vq_size(net->q[i].rx) / 4u);
		if (b > cap)
			b = cap;
		net->q[i].rx_batch = b ? b : 1u;
		net_rx_refill(net, &net->q[i]);
	}
	rc = vnet_device_driver_ok(net->dev);
	if (rc != VNET_OK)
		return rc;
	net->running = true;
	/* Notifications are held back before DRIVER_OK: ring every rx doorbell once. */
	for (uint16_t i = 0; i < net->created; i++)
		vnet_device_notify(net->dev, net->q[i].rx);
	net_setup_read_link(net);
	net_ctrl_read_speed(net);
	uint16_t want = net->pairs;
	if (want > 1) {
		net->pairs = 1;
		rc = vnet_net_set_queue_pairs(net, want);
		if (rc != VNET_OK)
			VNET_WARN("%s: device refused %u queue pairs (%s): using 1", vnet_device_name(net->dev), want,
			          vnet_strerror(rc));
	}
	return VNET_OK;
}

/* The rings set up, then live (create, restart, renegotiation); after a
 * reset (replay) the recorded control state is sent again: the reset
 * emptied the device's filters and parameters.  A replay failure is
 * logged and counted by the control layer; the data path is up. */
static int net_setup_up(struct vnet_net *net, bool replay)
{
	int rc = net_setup_queues(net);
	if (rc == VNET_OK)
		rc = net_setup_go_live(net);
	if (rc == VNET_OK && replay)
		(void)vnet_net_ctrl_replay(net);
	return rc;
}

/* The net names for the core's log lines.  A static function: the
 * address of an extern one would need the GOT in a PIE-default build,
 * which the freestanding core does not have. */
static const char *net_setup_feature_name(unsigned bit)
{
	return vnet_feature_name(bit);
}

int vnet_net_create(const struct vnet_transport_ops *ops, void *ctx, const struct vnet_net_opts *opts,
                    struct vnet_net **out)
{
	static const struct vnet_net_opts defaults;
	if (!ops || !out)
		return VNET_EINVAL;
	*out = 0;
	struct vnet_net *net = vnet_hal_zalloc(sizeof(*net));
	if (!net)
		return VNET_ENOMEM;
	net->opts = opts ? *opts : defaults;
	net->timeout_ns = net->opts.timeout_ns ? net->opts.timeout_ns : 1000000000ull;
	struct vnet_device_opts dopts = {
		.reset_timeout_ns = net->timeout_ns,
		.queue_reset_timeout_ns = net->timeout_ns, /* RING_RESET (net_recover.c) */
		.name = net->opts.name ? net->opts.name : "vnet0",
		.known = VNET_FEATURES_NET_KNOWN,
		.feature_name = net_setup_feature_name,
	};
	dopts.rules = vnet_net_feature_rules(&dopts.nrules);
	int rc = vnet_device_create(ops, ctx, &dopts, &net->dev);
	if (rc != VNET_OK) {
		vnet_hal_free(net);
		return rc;
	}
	const char *name = vnet_device_name(net->dev);

	/* Steps 1-4a, then look at config before deciding (spec 3.1.1 step 4). */
	rc = vnet_device_probe(net->dev);
	if (rc != VNET_OK)
		goto fail;
	uint64_t offered = vnet_device_offered(net->dev);
	uint64_t wanted = net_setup_wanted(&net->opts, offered);
	struct virtio_net_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	if (offered & VNET_BIT(VIRTIO_NET_F_MTU)) {
		vnet_le16 mtu;
		rc = vnet_device_read_config(net->dev, __builtin_offsetof(struct virtio_net_config, mtu), &mtu, 2);
		if (rc != VNET_OK)
			goto fail;
		cfg.mtu = mtu;
		/* A device MTU below the IPv4 minimum is unusable: decline the
		 * feature rather than accept a value we must not honour (spec
		 * 5.1.4.2: the driver SHOULD NOT accept MTU if mtu < 68). */
		if (vnet_le16_to_cpu(mtu) < VIRTIO_NET_MTU_MIN) {
			VNET_WARN("%s: device MTU %u below %u: feature MTU declined", name,
			          (unsigned)vnet_le16_to_cpu(mtu), VIRTIO_NET_MTU_MIN);
			wanted &= ~VNET_BIT(VIRTIO_NET_F_MTU);
		}
	}
	rc = vnet_device_negotiate(net->dev, wanted);
	if (rc != VNET_OK)
		goto fail;
	uint64_t f = vnet_device_features(net->dev);
	net->features = f;
	net->layout = (f & VNET_BIT(VIRTIO_F_RING_PACKED)) ? VNET_VQ_PACKED : VNET_VQ_SPLIT;
	net->mrg_rxbuf = (f & VNET_BIT(VIRTIO_NET_F_MRG_RXBUF)) != 0;
	net_setup_offload_state(net, f);
	/* VERSION_1: the header always carries num_buffers (spec 5.1.6).  A
	 * legacy device (no VERSION_1, a legacy transport) has it only with
	 * MRG_RXBUF, and needs ANY_LAYOUT for the header to share the data's
	 * descriptor, which is how this layer frames every message (5.1.6.6
	 * legacy: without it the header must be a descriptor of its own). */
	net->hdr_len = VIRTIO_NET_HDR_LEN_BASE;
	if (!(f & VNET_BIT(VIRTIO_F_VERSION_1))) {
		if (!(f & VNET_BIT(VIRTIO_F_ANY_LAYOUT))) {
			VNET_ERR("%s: legacy device without VIRTIO_F_ANY_LAYOUT (offered 0x%llx): not supported", name,
			         (unsigned long long)vnet_device_offered(net->dev));
			rc = VNET_ENOTSUP;
			goto fail;
		}
		if (!net->mrg_rxbuf)
			net->hdr_len = VIRTIO_NET_HDR_LEN_LEGACY;
	}
	if (f & VNET_BIT(VIRTIO_NET_F_HASH_REPORT))
		net->hdr_len = VIRTIO_NET_HDR_LEN_HASH; /* spec 5.1.6.1: 20 bytes with HASH_REPORT */

	/* Configuration, each field only when its feature was negotiated. */
	if (f & VNET_BIT(VIRTIO_NET_F_MAC)) {
		rc = vnet_device_read_config(net->dev, 0, net->mac, 6);
		if (rc != VNET_OK)
			goto fail;
		net->mac_from_device = true;
	} else {
		/* Locally administered, unicast (spec 5.1.5 step 3: the driver
		 * generates a random MAC; we derive one from the clock). */
		uint64_t t = vnet_hal_time_ns();
		net->mac[0] = 0x52;
		net->mac[1] = 0x56;
		for (int i = 2; i < 6; i++)
			net->mac[i] = (uint8_t)(t >> (8 * (i - 2)));
	}
	net->mtu = 1500;
	if (f & VNET_BIT(VIRTIO_NET_F_MTU))
		net->mtu = vnet_le16_to_cpu(cfg.mtu);
	net->max_pairs = 1;
	/* Spec 5.1.2: N = max_virtqueue_pairs with MQ or RSS, else 1. */
	bool has_n = (f & (VNET_BIT(VIRTIO_NET_F_MQ) | VNET_BIT(VIRTIO_NET_F_RSS))) != 0;
	if (has_n) {
		vnet_le16 mp;
		rc = vnet_device_read_config(net->dev, __builtin_offsetof(struct virtio_net_config, max_virtqueue_pairs),
		                             &mp, 2);
		if (rc != VNET_OK)
			goto fail;
		uint16_t m = vnet_le16_to_cpu(mp);
		/* spec 5.1.4: 1..0x8000; anything else is a lying device. */
		if (m < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || m > VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX) {
			VNET_ERR("%s: max_virtqueue_pairs %u out of range 1..32768", name, (unsigned)m);
			rc = VNET_ERANGE;
			goto fail_status;
		}
		/* The controlq is queue 2 * max_pairs (spec 5.1.2), computed in
		 * 32 bits: 0x8000 is in range but its controlq index 0x10000
		 * fits no 16-bit queue index (it used to wrap to 0 and program
		 * receiveq0 twice), and an index at or past the transport's
		 * num_queues cannot be set up.  Both mean the device's config
		 * and its transport disagree: refuse, clearly, before touching
		 * any queue. */
		uint32_t ci = 2u * (uint32_t)m;
		uint16_t nq = vnet_device_num_queues(net->dev);
		/* A front-end that serves the control queue itself has no ring
		 * at that index (opts.ctrl_local). */
		bool ring = (f & VNET_BIT(VIRTIO_NET_F_CTRL_VQ)) && !net->opts.ctrl_local;
		if (ci >= VNET_NET_NO_CTRL || (ring && nq != 0 && ci >= nq)) {
			VNET_ERR("%s: max_virtqueue_pairs %u puts the controlq at index %lu, which the transport "
			         "cannot address (it reports %u queues, 0 = unknown; indices are 16-bit)",
			         name, (unsigned)m, (unsigned long)ci, (unsigned)nq);
			rc = VNET_ERANGE;
			goto fail_status;
		}
		net->max_pairs = m;
	}
	uint16_t want_pairs = net->opts.queue_pairs ? net->opts.queue_pairs : 1;
	net->pairs = want_pairs < net->max_pairs ? want_pairs : net->max_pairs;
	/* Only create the pairs we use (queue indices are fixed by the spec, so
	 * the control queue index still follows max_pairs). */
	uint16_t create_pairs = net->pairs;
	net->created = create_pairs;

	net->tx_headroom = net_tx_headroom(net->hdr_len);
	net->buf_size = net->opts.buf_size ? net->opts.buf_size : VNET_NET_BUF_DEFAULT;
	if (!net->mrg_rxbuf) {
		/* Every frame must fit one buffer (spec 5.1.6.3.1). */
		uint32_t need = net->tx_headroom + VNET_NET_ETH_HLEN + 4u /* VLAN */ + net->mtu;
		if (net->buf_size < need)
			net->buf_size = (need + 63u) & ~63u;
	}
	if (net->buf_size < net->tx_headroom + 128u) {
		rc = VNET_EINVAL;
		goto fail_status;
	}

	net->qsize = net_setup_qsize(net, 0, net->opts.queue_size);
	if (net->qsize == 0) {
		VNET_ERR("%s: receiveq0 not available", name);
		rc = VNET_ENODEV;
		goto fail_status;
	}
	net_setup_offload_sizes(net);
	net->q = vnet_hal_zalloc(sizeof(*net->q) * create_pairs);
	if (!net->q) {
		rc = VNET_ENOMEM;
		goto fail_status;
	}
	rc = net_pool_init(net);
	if (rc != VNET_OK)
		goto fail_status;
	net->ctrl_index = VNET_NET_NO_CTRL;
	net->cs.local = (f & VNET_BIT(VIRTIO_NET_F_CTRL_VQ)) && net->opts.ctrl_local;
	if ((f & VNET_BIT(VIRTIO_NET_F_CTRL_VQ)) && !net->cs.local) {
		/* Spec 5.1.2: controlq is 2 * max_virtqueue_pairs with MQ, else 2. */
		/* With MQ the index was range-checked above (no 16-bit wrap). */
		net->ctrl_index = has_n ? (uint16_t)(2u * (uint32_t)net->max_pairs) : 2u;
		rc = net_ctrl_alloc(net);
		if (rc != VNET_OK)
			goto fail_status;
	}
	rc = net_setup_up(net, false);
	if (rc != VNET_OK)
		goto fail_status;
	*out = net;
	return VNET_OK;

fail_status:
	vnet_device_fail(net->dev);
fail:
	VNET_ERR("%s: bring-up failed: %s", name, vnet_strerror(rc));
	net_setup_release(net);
	return rc;
}

int vnet_net_destroy(struct vnet_net *net)
{
	if (!net)
		return VNET_OK;
	return net_setup_release(net);
}

/* Take back every chain of one queue into the pool and reinitialise its ring. */
static uint32_t net_setup_vq_drain(struct vnet_net *net, struct vnet_vq *vq)
{
	uint32_t n = 0;
	void *c;
	if (!vq)
		return 0;
	while ((c = vnet_vq_detach_unused(vq)) != 0) {
		n++;
		if (!net_ctrl_is_buffer(net, c))
			net_pool_put_chain(net, c); /* a chain: multi-segment tx, big-packet rx */
	}
	vnet_vq_reset(vq);
	return n;
}

int vnet_net_halt(struct vnet_net *net, uint32_t *inflight)
{
	if (inflight)
		*inflight = 0;
	if (!net)
		return VNET_EINVAL;
	net->running = false;
	/* The device must stop using the rings before they are taken back
	 * (a lost vhost-user back-end is gone already: its transport's reset
	 * completes at once).  A reset that does not complete leaves
	 * everything with the device: nothing is reclaimed. */
	int rc = net_setup_reset(net);
	if (rc != VNET_OK)
		return rc;
	uint32_t n = 0;
	for (uint16_t i = 0; i < net->created; i++) {
		n += net_setup_vq_drain(net, net->q[i].rx);
		n += net_setup_vq_drain(net, net->q[i].tx);
	}
	net_setup_vq_drain(net, net->ctrl);
	if (inflight)
		*inflight = n;
	return VNET_OK;
}

uint32_t vnet_net_stop(struct vnet_net *net)
{
	uint32_t n;
	(void)vnet_net_halt(net, &n);
	return n;
}

int vnet_net_restart(struct vnet_net *net)
{
	if (!net)
		return VNET_EINVAL;
	if (net->dead)
		return VNET_EBROKEN; /* rings the device may still write cannot be set up again */
	if (net->running) {
		int src = vnet_net_halt(net, 0);
		if (src != VNET_OK)
			return src;
	}
	uint64_t before = net->features;
	int rc = vnet_device_negotiate(net->dev, before);
	if (rc != VNET_OK)
		goto fail;
	uint64_t now_f = vnet_device_features(net->dev);
	if (now_f != before) {
		/* The rings were built for the old set (layout, event idx,
		 * in-order, header handling): a different device needs a new
		 * vnet_net, not a restart. */
		char was[160], now[160];
		vnet_features_format(was, sizeof(was), before);
		vnet_features_format(now, sizeof(now), now_f);
		VNET_ERR("%s: restart negotiated different features (was: %s; now: %s)", vnet_device_name(net->dev),
		         was, now);
		rc = VNET_ENOTSUP;
		goto fail_status;
	}
	rc = net_setup_up(net, true);
	if (rc != VNET_OK)
		goto fail_status;
	return VNET_OK;
fail_status:
	vnet_device_fail(net->dev);
fail:
	VNET_ERR("%s: restart failed: %s", vnet_device_name(net->dev), vnet_strerror(rc));
	return rc;
}

/*
 * Renegotiate with a changed feature set (management's feature_set): as
 * restart, but asking for `wanted` instead of the set negotiated before.
 * Only features that leave the rings and buffers as they were built may
 * change (VNET_NET_FEATURES_RING_FIXED in vnet/net.h, plus the guest GSO
 * bits without MRG_RXBUF, which switch big-packet receive mode): a change
 * of any of them is refused (VNET_ENOTSUP) before anything is touched.  If
 * the device then negotiates a set that changes one of them anyway, the
 * previous set is negotiated again (the call fails with VNET_ENOTSUP, the
 * device runs as before).  The control state is replayed (classes whose
 * feature is gone are skipped by the replay).
 */
int vnet_net_restart_features(struct vnet_net *net, uint64_t wanted)
{
	if (!net)
		return VNET_EINVAL;
	if (net->dead)
		return VNET_EBROKEN;
	uint64_t before = net->features;
	uint64_t fixed = VNET_NET_FEATURES_RING_FIXED;
	if (!net->mrg_rxbuf)
		fixed |= VNET_BIT(VIRTIO_NET_F_GUEST_TSO4) | VNET_BIT(VIRTIO_NET_F_GUEST_TSO6) |
		         VNET_BIT(VIRTIO_NET_F_GUEST_UFO) | VNET_BIT(VIRTIO_NET_F_GUEST_USO4) |
		         VNET_BIT(VIRTIO_NET_F_GUEST_USO6);
	if ((wanted ^ before) & fixed)
		return VNET_ENOTSUP;
	if (net->running) {
		int src = vnet_net_halt(net, 0);
		if (src != VNET_OK)
			return src;
	}
	int rc = vnet_device_negotiate(net->dev, wanted);
	uint64_t now_f = rc == VNET_OK ? vnet_device_features(net->dev) : 0;
	int result = rc;
	if (rc != VNET_OK || ((now_f ^ before) & fixed)) {
		VNET_WARN("%s: renegotiation %s: back to the previous feature set", vnet_device_name(net->dev),
		          rc != VNET_OK ? vnet_strerror(rc) : "changed a ring-shaping feature");
		result = rc != VNET_OK ? rc : VNET_ENOTSUP;
		(void)vnet_net_halt(net, 0);
		if (net->dead)
			return VNET_EBROKEN;
		rc = vnet_device_negotiate(net->dev, before);
		now_f = vnet_device_features(net->dev);
		if (rc == VNET_OK && now_f != before)
			rc = VNET_ENOTSUP;
		if (rc != VNET_OK)
			goto fail_status;
	}
	net->features = now_f;
	net_setup_offload_state(net, now_f);
	rc = net_setup_up(net, true);
	if (rc != VNET_OK)
		goto fail_status;
	return result;
fail_status:
	vnet_device_fail(net->dev);
	VNET_ERR("%s: renegotiation failed: %s", vnet_device_name(net->dev), vnet_strerror(rc));
	return rc;
}
