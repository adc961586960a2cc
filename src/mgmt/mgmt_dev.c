/*
 * Device, virtqueue and feature commands (docs/management.md):
 * device_info/reset/remove, virtqueue_info/reset/remove,
 * feature_info/set/get.  Every argument is checked before anything is
 * changed; a changing command then runs one driver call sequence and
 * reports its result.
 */
#include "mgmt_priv.h"
#include "vnet/net_recover.h"

/* Features the driver can honour when they change at runtime through
 * vnet_net_restart_features (the data path reads the negotiated set; the
 * control classes check it per command).  Everything else is either
 * ring-shaping (VNET_NET_FEATURES_RING_FIXED) or not implemented by the
 * driver (DEVICE_STATS, RSC_EXT, HASH_TUNNEL, STANDBY, GUEST_HDRLEN ...). */
#define NB(x) VNET_BIT(VIRTIO_NET_F_##x)
#define MD_SETTABLE                                                                                            \
	(NB(CSUM) | NB(GUEST_CSUM) | NB(CTRL_GUEST_OFFLOADS) | NB(HOST_TSO4) | NB(HOST_TSO6) | NB(HOST_ECN) |  \
	 NB(HOST_UFO) | NB(HOST_USO) | NB(GUEST_TSO4) | NB(GUEST_TSO6) | NB(GUEST_ECN) | NB(GUEST_UFO) |        \
	 NB(GUEST_USO4) | NB(GUEST_USO6) | NB(STATUS) | NB(CTRL_RX) | NB(CTRL_VLAN) | NB(CTRL_RX_EXTRA) |      \
	 NB(GUEST_ANNOUNCE) | NB(CTRL_MAC_ADDR) | NB(NOTF_COAL) | NB(VQ_NOTF_COAL) | NB(SPEED_DUPLEX))
#define MD_GUEST_GSO (NB(GUEST_TSO4) | NB(GUEST_TSO6) | NB(GUEST_UFO) | NB(GUEST_USO4) | NB(GUEST_USO6))

static const char *md_ring(enum vnet_vq_layout l)
{
	return l == VNET_VQ_PACKED ? "packed" : "split";
}

/* The wanted set: what the last feature_set asked for; before one, the
 * set negotiated at bring-up (the driver's request is not kept by the
 * net layer; what it asked for and the device did not offer is not
 * shown). */
static uint64_t md_wanted(struct mctx *c, const char *name, const struct vnet_net_info *ni)
{
	struct vnet_mgmt_slot *s = mgmt_slot(c->m, name);
	return s->have_wanted ? s->wanted : ni->negotiated;
}

static void md_device_body(struct mctx *c, const char *name, struct vnet_net *net)
{
	struct mo *o = c->o;
	struct vnet_net_info ni;
	vnet_net_get_info(net, &ni);
	mo_bool(o, "running", vnet_net_is_running(net));
	mo_bool(o, "dead", ni.dead);
	mo_mac(o, "mac", ni.mac);
	mo_str(o, "mac_source", ni.mac_from_device ? "device" : "generated");
	mo_u64(o, "mtu", ni.mtu);
	mo_str(o, "link", ni.link_up ? "up" : "down");
	mgmt_speed_duplex(o, ni.speed_known, ni.speed_mbps, ni.duplex);
	mo_u64(o, "queue_pairs", ni.queue_pairs);
	mo_u64(o, "max_queue_pairs", ni.max_queue_pairs);
	mo_u64(o, "queue_size", ni.queue_size);
	mo_str(o, "ring", md_ring(ni.layout));
	mo_u64(o, "header_bytes", ni.hdr_len);
	mo_bool(o, "control_queue", ni.ctrl_vq);
	mo_hex(o, "offered", ni.offered);
	mo_hex(o, "wanted", md_wanted(c, name, &ni));
	mo_hex(o, "negotiated", ni.negotiated);
	mo_features(o, "negotiated_names", ni.negotiated);
	mo_u64(o, "tx_frame_max", ni.tx_frame_max);
	mo_u64(o, "tx_segs_max", ni.tx_segs_max);
	mo_bool(o, "rx_big", ni.rx_big);
	mo_u64(o, "buf_size", ni.buf_size);
	mo_u64(o, "pool_free", vnet_net_pool_free_count(net));
	mo_u64(o, "leaked_bufs", ni.leaked_bufs);
	mo_u64(o, "ctrl_errors", ni.ctrl_errors);
	struct vnet_mgmt_host_counters hc;
	const struct vnet_mgmt_host_ops *ops = c->m->ops;
	if (ops->host_counters && ops->host_counters(c->m->arg, name, &hc)) {
		mo_obj(o, "host");
		mo_u64(o, "interrupts", hc.interrupts);
		mo_u64(o, "deferred", hc.deferred);
		mo_u64(o, "tx_nobuf", hc.tx_nobuf);
		mo_obj_end(o);
	}
	const char *key, *value, *source;
	if (ops->config_at && ops->config_at(c->m->arg, name, 0, &key, &value, &source)) {
		mo_obj(o, "config");
		for (unsigned i = 0; ops->config_at(c->m->arg, name, i, &key, &value, &source); i++) {
			mo_obj(o, key);
			mo_str(o, "value", value);
			mo_str(o, "source", source);
			mo_obj_end(o);
		}
		mo_obj_end(o);
	}
}

int md_device_info(struct mctx *c)
{
	struct mo *o = c->o;
	const struct vnet_mgmt_host_ops *ops = c->m->ops;
	if (c->npos > 1)
		return mgmt_fail(c, VNET_EINVAL, "usage: %s %s", c->cmd->name, c->cmd->usage);
	if (c->npos == 1) {
		unsigned i = 0;
		const char *name;
		int rc;
		struct vnet_net *net = mgmt_device(c, &i, false, 0, &name, &rc);
		if (!net)
			return rc;
		mo_begin(o, c->cmd->name, name);
		md_device_body(c, name, net);
		mo_end(o);
		return VNET_OK;
	}
	mo_begin(o, c->cmd->name, 0);
	mo_arr(o, "devices");
	unsigned n = 0;
	for (unsigned i = 0; ops->name_at; i++) {
		const char *name = ops->name_at(c->m->arg, i);
		if (!name)
			break;
		struct vnet_net *net = ops->find ? ops->find(c->m->arg, name) : 0;
		mo_obj(o, name);
		mo_str(o, "name", name);
		if (net)
			md_device_body(c, name, net);
		else
			mo_bool(o, "up", false);
		mo_obj_end(o);
		n++;
	}
	mo_arr_end(o);
	mo_u64(o, "count", n);
	mo_end(o);
	return VNET_OK;
}

/* stop + restart (restart replays the control state), and the report:
 * for virtqueue_reset (qarg, the queue asked for) why the whole device
 * was reset.  VNET_OK or the error (already printed). */
static int md_reset_replay(struct mctx *c, const char *name, struct vnet_net *net, const char *qarg)
{
	struct vnet_net_ctrl_stats s0, s1;
	vnet_net_ctrl_get_stats(net, &s0);
	uint32_t inflight = vnet_net_stop(net);
	if (vnet_net_is_dead(net)) {
		mgmt_changed(c, name);
		return mgmt_fail(c, VNET_EBROKEN, "%s: the device reset did not complete: device latched dead", name);
	}
	int rc = vnet_net_restart(net);
	mgmt_changed(c, name);
	if (rc != VNET_OK)
		return mgmt_fail(c, rc, "%s: restart after reset failed: %s", name, vnet_strerror(rc));
	vnet_net_ctrl_get_stats(net, &s1);
	struct mo *o = c->o;
	mo_begin(o, c->cmd->name, name);
	if (qarg) {
		mo_str(o, "queue", qarg);
		mo_str(o, "method", "device_reset");
		mo_str(o, "why", "VIRTIO_F_RING_RESET not negotiated");
	} else {
		mo_str(o, "result", "reset, re-initialised, control state replayed");
	}
	mo_u64(o, "buffers_reclaimed", inflight);
	mo_u64(o, "replays", s1.replays - s0.replays);
	mo_bool(o, "running", vnet_net_is_running(net));
	mo_end(o);
	return VNET_OK;
}

int md_device_reset(struct mctx *c)
{
	const char *name;
	int rc;
	struct vnet_net *net = mgmt_device_only(c, false, &name, &rc);
	if (!net)
		return rc;
	if (vnet_net_is_dead(net))
		return mgmt_fail(c, VNET_EBROKEN, "%s: device latched dead (an earlier reset did not complete)", name);
	return md_reset_replay(c, name, net, NULL);
}

int md_device_remove(struct mctx *c)
{
	const char *name;
	int rc;
	struct vnet_net *net = mgmt_device_only(c, false, &name, &rc);
	if (!net)
		return rc;
	const struct vnet_mgmt_host_ops *ops = c->m->ops;
	if (!ops->remove)
		return mgmt_fail(c, VNET_ENOTSUP, "%s: this host cannot remove devices", name);
	char keep[VNET_MGMT_NAME_MAX];
	size_t k = 0;
	for (; name[k] && k + 1 < sizeof(keep); k++)
		keep[k] = name[k];
	keep[k] = 0;
	rc = ops->remove(c->m->arg, keep);
	if (rc != VNET_OK)
		return mgmt_fail(c, rc, "%s: removal failed: %s", keep, vnet_strerror(rc));
	vnet_mgmt_forget(c->m, keep);
	struct mo *o = c->o;
	mo_begin(o, c->cmd->name, keep);
	mo_str(o, "result", "removed");
	mo_end(o);
	return VNET_OK;
}

/* ------------------------------------------------------------ virtqueues */

void md_vq_describe(struct mo *o, const char *label, struct vnet_vq *vq)
{
	mo_obj(o, label);
	mo_str(o, "name", label);
	mo_u64(o, "index", vnet_vq_index(vq));
	mo_u64(o, "size", vnet_vq_size(vq));
	mo_str(o, "layout", md_ring(vnet_vq_layout(vq)));
	mo_u64(o, "in_flight", vnet_vq_outstanding(vq));
	mo_u64(o, "free_descriptors", vnet_vq_num_free(vq));
	mo_bool(o, "broken", vnet_vq_is_broken(vq));
	/* Both sides' view of the ring (struct vnet_vq_ring_state says what
	 * each field is per layout): used_ready with notify on in a queue
	 * that went quiet is a lost notification. */
	struct vnet_vq_ring_state r;
	vnet_vq_get_ring_state(vq, &r);
	mo_obj(o, "ring");
	mo_bool(o, "used_ready", r.used_ready);
	mo_bool(o, "notify", r.cb_enabled);
	mo_bool(o, "event_idx", r.event_idx);
	mo_hex(o, "avail", r.avail_pos);
	mo_hex(o, "used", r.used_pos);
	mo_hex(o, "device_used", r.device_used);
	mo_hex(o, "driver_event", r.driver_event);
	mo_hex(o, "driver_flags", r.driver_flags);
	mo_hex(o, "device_event", r.device_event);
	mo_hex(o, "device_flags", r.device_flags);
	mo_obj_end(o);
	mo_obj_end(o);
}

/* Parse and check a queue against the device; error printed on failure. */
static int md_queue(struct mctx *c, struct vnet_net *net, const char *name, const char *arg, struct mp_queue *q)
{
	struct vnet_net_info ni;
	vnet_net_get_info(net, &ni);
	char np[24];
	mo_fmt_u64(np, ni.queue_pairs);
	if (!mp_queue(arg, ni.max_queue_pairs, q))
		return mgmt_fail(c, VNET_EINVAL, "%s: unknown queue '%s' (rxN, txN, pairN, ctrl or a virtqueue index)",
		                 name, arg);
	if (q->kind == MP_Q_CTRL) {
		if (!vnet_net_ctrlq(net))
			return mgmt_fail(c, VNET_EINVAL, "%s: no control queue ('%s')", name, arg);
		return VNET_OK;
	}
	if (q->pair >= ni.queue_pairs)
		return mgmt_fail(c, VNET_EINVAL, "%s: unknown queue '%s': %s queue pair(s) in use", name, arg, np);
	return VNET_OK;
}

static void md_vq_label(char *buf, const char *kind, uint16_t pair)
{
	size_t n = mp_strlen(kind);
	memcpy(buf, kind, n);
	mo_fmt_u64(buf + n, pair);
}

void md_vq_each(struct mo *o, struct vnet_net *net, const struct mp_queue *q,
                void (*fn)(struct mo *, struct vnet_net *, const char *, struct vnet_vq *))
{
	struct vnet_net_info ni;
	vnet_net_get_info(net, &ni);
	for (uint16_t p = 0; p < ni.queue_pairs; p++) {
		char l[16];
		if (q && (q->kind == MP_Q_CTRL || q->pair != p))
			continue;
		if (!q || q->kind != MP_Q_TX) {
			md_vq_label(l, "rx", p);
			fn(o, net, l, vnet_net_rxq(net, p));
		}
		if (!q || q->kind != MP_Q_RX) {
			md_vq_label(l, "tx", p);
			fn(o, net, l, vnet_net_txq(net, p));
		}
	}
	if (vnet_net_ctrlq(net) && (!q || q->kind == MP_Q_CTRL))
		fn(o, net, "ctrl", vnet_net_ctrlq(net));
}

static void md_vq_describe_fn(struct mo *o, struct vnet_net *net, const char *label, struct vnet_vq *vq)
{
	(void)net;
	md_vq_describe(o, label, vq);
}

int md_vq_info(struct mctx *c)
{
	unsigned i = 0;
	const char *name;
	int rc;
	struct vnet_net *net = mgmt_device(c, &i, true, mgmt_is_queue, &name, &rc);
	if (!net)
		return rc;
	struct mp_queue q = {MP_Q_PAIR, 0};
	bool one = false;
	if (c->npos > i) {
		rc = md_queue(c, net, name, c->pos[i], &q);
		if (rc != VNET_OK)
			return rc;
		one = true;
		i++;
	}
	if (mgmt_extra(c, i, &rc))
		return rc;
	struct vnet_net_info ni;
	vnet_net_get_info(net, &ni);
	struct mo *o = c->o;
	mo_begin(o, c->cmd->name, name);
	mo_u64(o, "queue_pairs", ni.queue_pairs);
	mo_arr(o, "queues");
	md_vq_each(o, net, one ? &q : NULL, md_vq_describe_fn);
	mo_arr_end(o);
	mo_end(o);
	return VNET_OK;
}

/* "DEV QUEUE" and nothing else: the device, the queue parsed into *q and
 * its argument in *qarg; NULL with *rc set (the error already said). */
static struct vnet_net *md_device_queue(struct mctx *c, const char **name, struct mp_queue *q, const char **qarg,
                                        int *rc)
{
	unsigned i = 0;
	struct vnet_net *net = mgmt_device_then(c, &i, false, 0, "a queue is required", name, rc);
	if (!net)
		return NULL;
	*rc = md_queue(c, net, *name, c->pos[i], q);
	if (*rc != VNET_OK)
		return NULL;
	*qarg = c->pos[i++];
	if (mgmt_extra(c, i, rc))
		return NULL;
	return net;
}

int md_vq_reset(struct mctx *c)
{
	const char *name, *qarg;
	int rc;
	struct mp_queue q;
	struct vnet_net *net = md_device_queue(c, &name, &q, &qarg, &rc);
	if (!net)
		return rc;
	struct vnet_net_info ni;
	vnet_net_get_info(net, &ni);
	bool ring_reset = (ni.negotiated & VNET_BIT(VIRTIO_F_RING_RESET)) != 0;
	uint64_t sz = 0;
	if (c->opt_size && (!mp_u64_max(c->opt_size, 32768u, &sz) || sz == 0))
		return mgmt_fail(c, VNET_EINVAL, "%s: bad --size '%s' (1..32768)", name, c->opt_size);
	if (c->opt_size && !ring_reset)
		/* A new size needs the ring rebuilt on its own (§2.6.1 per-queue
		 * reset): a device reset reuses the rings as they are. */
		return mgmt_fail(c, VNET_ENOTSUP,
		                 "%s: --size needs a per-queue reset (VIRTIO_F_RING_RESET not negotiated): nothing changed",
		                 name);
	if (vnet_net_is_dead(net))
		return mgmt_fail(c, VNET_EBROKEN, "%s: device latched dead", name);
	struct mo *o = c->o;
	if (ring_reset) {
		/* VirtIO 1.2 §2.6.1: one queue (a pair: both), the others untouched. */
		uint16_t idx[2];
		unsigned n = 0;
		if (q.kind == MP_Q_CTRL)
			idx[n++] = vnet_vq_index(vnet_net_ctrlq(net));
		if (q.kind == MP_Q_RX || q.kind == MP_Q_PAIR)
			idx[n++] = (uint16_t)(2u * q.pair);
		if (q.kind == MP_Q_TX || q.kind == MP_Q_PAIR)
			idx[n++] = (uint16_t)(2u * q.pair + 1u);
		uint32_t inflight = 0;
		for (unsigned k = 0; k < n; k++) {
			struct vnet_vq *vq = q.kind == MP_Q_CTRL ? vnet_net_ctrlq(net)
			                     : (idx[k] & 1u)     ? vnet_net_txq(net, q.pair)
			                                         : vnet_net_rxq(net, q.pair);
			inflight += vq ? vnet_vq_outstanding(vq) : 0;
			rc = vnet_net_queue_reset(net, idx[k], (uint16_t)sz);
			if (rc != VNET_OK) {
				mgmt_changed(c, name);
				return mgmt_fail(c, rc, "%s: per-queue reset of '%s' refused: %s%s", name, qarg,
				                 vnet_strerror(rc),
				                 rc == VNET_EINVAL ? " (split rings take a power of two up to the device's "
				                                     "maximum); nothing changed"
				                                   : "");
			}
		}
		mgmt_changed(c, name);
		mo_begin(o, c->cmd->name, name);
		mo_str(o, "queue", qarg);
		mo_str(o, "method", "queue_reset");
		mo_u64(o, "buffers_reclaimed", inflight);
		struct vnet_vq *vq = q.kind == MP_Q_CTRL ? vnet_net_ctrlq(net)
		                     : q.kind == MP_Q_TX ? vnet_net_txq(net, q.pair)
		                                         : vnet_net_rxq(net, q.pair);
		mo_u64(o, "size", vq ? vnet_vq_size(vq) : 0);
		mo_bool(o, "running", vnet_net_is_running(net));
		mo_end(o);
		return VNET_OK;
	}
	return md_reset_replay(c, name, net, qarg);
}

int md_vq_remove(struct mctx *c)
{
	const char *name, *qarg;
	int rc;
	struct mp_queue q;
	struct vnet_net *net = md_device_queue(c, &name, &q, &qarg, &rc);
	if (!net)
		return rc;
	if (q.kind == MP_Q_CTRL)
		return mgmt_fail(c, VNET_EINVAL, "%s: the control queue cannot be taken out of service", name);
	struct vnet_net_info ni;
	vnet_net_get_info(net, &ni);
	if (!(ni.negotiated & VNET_BIT(VIRTIO_NET_F_MQ)))
		return mgmt_fail(c, VNET_ENOTSUP, "%s: taking a pair out of service needs VIRTIO_NET_F_MQ (not negotiated)",
		                 name);
	char last[16];
	md_vq_label(last, "pair", (uint16_t)(ni.queue_pairs - 1u));
	if (q.pair == 0 && ni.queue_pairs == 1)
		return mgmt_fail(c, VNET_EINVAL, "%s: pair0 is the last pair in use and cannot be taken out of service",
		                 name);
	if (q.pair != ni.queue_pairs - 1u)
		return mgmt_fail(c, VNET_EINVAL,
		                 "%s: '%s': only the last pair in use (%s) can be taken out of service (VQ_PAIRS_SET "
		                 "uses the first N pairs)",
		                 name, qarg, last);
	rc = vnet_net_set_queue_pairs(net, (uint16_t)(ni.queue_pairs - 1u));
	mgmt_changed(c, name);
	if (rc != VNET_OK)
		return mgmt_fail(c, rc, "%s: VQ_PAIRS_SET failed: %s (pairs unchanged)", name, vnet_strerror(rc));
	struct mo *o = c->o;
	mo_begin(o, c->cmd->name, name);
	mo_str(o, "removed", last);
	mo_u64(o, "pairs_before", ni.queue_pairs);
	vnet_net_get_info(net, &ni);
	mo_u64(o, "pairs_after", ni.queue_pairs);
	mo_end(o);
	return VNET_OK;
}

/* ------------------------------------------------------------ features */

static void md_feature_row(struct mo *o, unsigned bit, uint64_t off, uint64_t want, uint64_t neg)
{
	char nb[8], num[24];
	const char *fname = mgmt_feature_name(bit, nb);
	uint64_t m = 1ull << bit;
	if (o->json) {
		mo_obj(o, fname);
		mo_str(o, "name", fname);
		mo_u64(o, "bit", bit);
		mo_bool(o, "offered", (off & m) != 0);
		mo_bool(o, "wanted", (want & m) != 0);
		mo_bool(o, "negotiated", (neg & m) != 0);
		mo_obj_end(o);
		return;
	}
	size_t n = mo_fmt_u64(num, bit);
	mo_raw(o, "  ", 2);
	mo_raw(o, "    ", 4 - (n < 4 ? n : 3));
	mo_raw(o, num, n);
	mo_raw(o, "  ", 2);
	size_t fl = mp_strlen(fname);
	mo_puts(o, fname);
	for (size_t k = fl; k < 22; k++)
		mo_raw(o, " ", 1);
	mo_puts(o, (off & m) ? " yes    " : " no     ");
	mo_puts(o, (want & m) ? " yes    " : " no     ");
	mo_puts(o, (neg & m) ? " yes\n" : " no\n");
}

/* The features table: JSON an array of objects, text a table. */
static void md_feature_table_head(struct mo *o)
{
	if (o->json)
		mo_arr(o, "features");
	else
		mo_puts(o, "   bit  name                   offered wanted  negotiated\n");
}

static void md_feature_table_end(struct mo *o)
{
	if (o->json)
		mo_arr_end(o);
}

int md_feature_info(struct mctx *c)
{
	const char *name;
	int rc;
	struct vnet_net *net = mgmt_device_only(c, true, &name, &rc);
	if (!net)
		return rc;
	struct vnet_net_info ni;
	vnet_net_get_info(net, &ni);
	uint64_t want = md_wanted(c, name, &ni);
	struct mo *o = c->o;
	mo_begin(o, c->cmd->name, name);
	mo_hex(o, "offered", ni.offered);
	mo_hex(o, "wanted", want);
	mo_hex(o, "negotiated", ni.negotiated);
	md_feature_table_head(o);
	uint64_t all = ni.offered | want | ni.negotiated;
	for (unsigned b = 0; b < 64; b++)
		if (all & (1ull << b))
			md_feature_row(o, b, ni.offered, want, ni.negotiated);
	md_feature_table_end(o);
	mo_end(o);
	return VNET_OK;
}

static bool md_is_feature(struct mctx *c, const char *s)
{
	(void)c;
	return mp_feature(s) >= 0;
}

int md_feature_get(struct mctx *c)
{
	unsigned i = 0;
	const char *name;
	int rc;
	struct vnet_net *net = mgmt_device_then(c, &i, true, md_is_feature, "a feature is required", &name, &rc);
	if (!net)
		return rc;
	for (unsigned k = i; k < c->npos; k++)
		if (mp_feature(c->pos[k]) < 0)
			return mgmt_fail(c, VNET_EINVAL, "unknown feature '%s' (a name such as GUEST_CSUM or a bit 0..63)",
			                 c->pos[k]);
	struct vnet_net_info ni;
	vnet_net_get_info(net, &ni);
	uint64_t want = md_wanted(c, name, &ni);
	struct mo *o = c->o;
	mo_begin(o, c->cmd->name, name);
	md_feature_table_head(o);
	for (unsigned k = i; k < c->npos; k++)
		md_feature_row(o, (unsigned)mp_feature(c->pos[k]), ni.offered, want, ni.negotiated);
	md_feature_table_end(o);
	mo_end(o);
	return VNET_OK;
}

int md_feature_set(struct mctx *c)
{
	unsigned i = 0;
	const char *name;
	int rc;
	struct vnet_net *net = mgmt_device_then(c, &i, false, 0, "no change given", &name, &rc);
	if (!net)
		return rc;
	struct vnet_net_info ni;
	vnet_net_get_info(net, &ni);
	uint64_t cur = md_wanted(c, name, &ni), want = cur;
	uint64_t fixed = VNET_NET_FEATURES_RING_FIXED;
	if (!(ni.negotiated & NB(MRG_RXBUF)))
		fixed |= MD_GUEST_GSO;
	for (unsigned k = i; k < c->npos; k++) {
		const char *a = c->pos[k];
		char fb[48];
		bool on;
		size_t n = 0;
		if (a[0] == '+' || a[0] == '-') {
			on = a[0] == '+';
			for (const char *p = a + 1; *p && n + 1 < sizeof(fb); p++)
				fb[n++] = *p;
			fb[n] = 0;
		} else {
			const char *eq = a;
			while (*eq && *eq != '=')
				eq++;
			if (!*eq)
				return mgmt_fail(c, VNET_EINVAL, "'%s': expected FEATURE=on|off, +FEATURE or -FEATURE", a);
			for (const char *p = a; p < eq && n + 1 < sizeof(fb); p++)
				fb[n++] = *p;
			fb[n] = 0;
			if (!mp_bool(eq + 1, &on))
				return mgmt_fail(c, VNET_EINVAL, "'%s': bad value '%s' (on or off)", a, eq + 1);
		}
		int bit = mp_feature(fb);
		if (bit < 0)
			return mgmt_fail(c, VNET_EINVAL, "unknown feature '%s'", fb);
		char nb[8];
		const char *fname = mgmt_feature_name((unsigned)bit, nb);
		uint64_t m = 1ull << bit;
		if (m & fixed) {
			if (on == ((ni.negotiated & m) != 0))
				continue; /* no change asked */
			return mgmt_fail(c, VNET_ENOTSUP,
			                 "%s: %s shapes the rings and buffers (layout, header, queue indices): the driver "
			                 "cannot change it at runtime; nothing changed",
			                 name, fname);
		}
		if (on && !(ni.offered & m))
			return mgmt_fail(c, VNET_EINVAL, "%s: %s is not offered by the device; nothing changed", name, fname);
		if (on && !(MD_SETTABLE & m))
			return mgmt_fail(c, VNET_ENOTSUP, "%s: the driver cannot honour %s; nothing changed", name, fname);
		want = on ? want | m : want & ~m;
	}
	/* The dependency rules (§5.1.3.1) on what would be negotiated. */
	size_t nrules;
	const struct vnet_feature_rule *rules = vnet_net_feature_rules(&nrules);
	unsigned bad = 0;
	uint64_t result = want & ni.offered;
	if (vnet_features_validate(rules, nrules, result, false, &bad) != VNET_OK) {
		char nb[8];
		return mgmt_fail(c, VNET_EINVAL,
		                 "%s: %s needs a feature the new set lacks (VirtIO 1.2 §5.1.3.1; see "
		                 "virtio_net_feature_info); nothing changed",
		                 name, mgmt_feature_name(bad, nb));
	}
	if (vnet_net_is_dead(net))
		return mgmt_fail(c, VNET_EBROKEN, "%s: device latched dead", name);
	uint64_t before = ni.negotiated;
	bool renegotiated = false;
	if (want != cur) {
		rc = vnet_net_restart_features(net, want);
		mgmt_changed(c, name);
		renegotiated = true;
		if (rc != VNET_OK)
			return mgmt_fail(c, rc, "%s: renegotiation failed: %s (features as before)", name,
			                 vnet_strerror(rc));
	}
	struct vnet_mgmt_slot *s = mgmt_slot(c->m, name);
	s->wanted = want;
	s->have_wanted = true;
	vnet_net_get_info(net, &ni);
	struct mo *o = c->o;
	mo_begin(o, c->cmd->name, name);
	mo_bool(o, "renegotiated", renegotiated);
	mo_hex(o, "wanted", want);
	mo_hex(o, "negotiated_before", before);
	mo_hex(o, "negotiated", ni.negotiated);
	mo_features(o, "added", ni.negotiated & ~before);
	mo_features(o, "removed", before & ~ni.negotiated);
	mo_bool(o, "running", vnet_net_is_running(net));
	mo_end(o);
	return VNET_OK;
}
