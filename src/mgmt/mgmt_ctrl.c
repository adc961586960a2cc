/*
 * control_info / control_set over include/vnet/net_ctrl.h (VirtIO 1.2
 * §5.1.6.5).  control_set parses and checks every KEY=VALUE (syntax,
 * ranges, the feature each class needs, the driver's own argument rules)
 * before the first command is sent; then each setting is one driver call,
 * in the order given.  A device refusal stops there: the error names the
 * setting that failed and the ones already applied (the driver keeps its
 * recorded state as it was for the refused one, net_ctrl.h).
 */
#include "mgmt_priv.h"

#define MC_ACTIONS 12u
#define MC_MACS 64u           /* per list: more than VNET_NET_MAC_TABLE_MAX, to reach the overflow fallback */

static const char *const mc_rx_names[VNET_NET_RX_MODES] = {"promisc", "allmulti", "alluni",
                                                           "nomulti", "nouni",    "nobcast"};

static bool mc_has(const struct vnet_net_info *ni, unsigned bit)
{
	return (ni->negotiated & (1ull << bit)) != 0;
}

int mc_control_info(struct mctx *c)
{
	const char *name;
	int rc;
	struct vnet_net *net = mgmt_device_only(c, true, &name, &rc);
	if (!net)
		return rc;
	struct vnet_net_info ni;
	vnet_net_get_info(net, &ni);
	struct mo *o = c->o;
	mo_begin(o, c->cmd->name, name);
	mo_bool(o, "control_queue", ni.ctrl_vq);
	mo_obj(o, "rx_mode");
	bool rx = mc_has(&ni, VIRTIO_NET_F_CTRL_RX), rx_extra = mc_has(&ni, VIRTIO_NET_F_CTRL_RX_EXTRA);
	mo_bool(o, "supported", rx);
	mo_bool(o, "extra_supported", rx_extra);
	for (unsigned m = 0; m < VNET_NET_RX_MODES; m++)
		mo_bool(o, mc_rx_names[m], vnet_net_get_rx_mode(net, (enum vnet_net_rx_mode)m));
	mo_obj_end(o);
	mo_mac(o, "mac", ni.mac);
	mo_bool(o, "mac_settable", mc_has(&ni, VIRTIO_NET_F_CTRL_MAC_ADDR));
	struct vnet_net_mac_filter_state fs;
	vnet_net_mac_filter_state(net, &fs);
	mo_obj(o, "mac_table");
	mo_u64(o, "unicast", fs.n_uc);
	mo_u64(o, "multicast", fs.n_mc);
	mo_bool(o, "unicast_overflow", fs.uc_overflow);
	mo_bool(o, "multicast_overflow", fs.mc_overflow);
	mo_u64(o, "limit", VNET_NET_MAC_TABLE_MAX);
	mo_obj_end(o);
	mo_obj(o, "vlan_filter");
	mo_bool(o, "supported", mc_has(&ni, VIRTIO_NET_F_CTRL_VLAN));
	unsigned nv = 0;
	mo_arr(o, "vlans");
	for (uint16_t v = 0; v < 4096; v++)
		if (vnet_net_vlan_present(net, v)) {
			mo_u64(o, 0, v);
			nv++;
		}
	mo_arr_end(o);
	mo_u64(o, "count", nv);
	mo_obj_end(o);
	mo_obj(o, "queue_pairs");
	mo_bool(o, "mq", mc_has(&ni, VIRTIO_NET_F_MQ));
	mo_u64(o, "in_use", ni.queue_pairs);
	mo_u64(o, "max", ni.max_queue_pairs);
	mo_obj_end(o);
	struct vnet_net_rss_caps caps;
	vnet_net_rss_get_caps(net, &caps);
	mo_obj(o, "rss");
	mo_bool(o, "rss", caps.rss);
	mo_bool(o, "hash_report", caps.hash_report);
	mo_u64(o, "max_key_len", caps.max_key_len);
	mo_u64(o, "max_indir_len", caps.max_indir_len);
	mo_hex(o, "supported_hash_types", caps.hash_types);
	struct vnet_net_rss cfg;
	bool set = vnet_net_get_rss(net, &cfg);
	mo_bool(o, "configured", set);
	if (set) {
		mo_hex(o, "hash_types", cfg.hash_types);
		mo_u64(o, "indir_len", cfg.indir_len);
		mo_u64(o, "key_len", cfg.key_len);
		mo_u64(o, "unclassified", cfg.unclassified);
		/* The table itself (at most 256 entries of a pair number). */
		mo_arr(o, "indir");
		for (uint16_t k = 0; k < cfg.indir_len && k < VNET_NET_RSS_INDIR_MAX; k++)
			mo_u64(o, 0, cfg.indir[k]);
		mo_arr_end(o);
	}
	mo_obj_end(o);
	mo_obj(o, "coalescing");
	bool nc = mc_has(&ni, VIRTIO_NET_F_NOTF_COAL), vqc = mc_has(&ni, VIRTIO_NET_F_VQ_NOTF_COAL);
	mo_bool(o, "notf_coal", nc);
	mo_bool(o, "vq_notf_coal", vqc);
	if (vqc) {
		/* VQ_GET asks the device (read-only; §5.1.6.5.9). */
		mo_arr(o, "virtqueues");
		for (uint16_t p = 0; p < ni.queue_pairs && 2u * p + 1u < 64u; p++) {
			for (unsigned d = 0; d < 2; d++) {
				struct vnet_net_coal cl;
				char l[16];
				l[0] = d ? 't' : 'r';
				l[1] = 'x';
				mo_fmt_u64(l + 2, p);
				uint16_t idx = (uint16_t)(2u * p + d);
				mo_obj(o, l);
				mo_str(o, "name", l);
				if (vnet_net_get_vq_coal(net, idx, &cl) == VNET_OK) {
					mo_u64(o, "max_usecs", cl.max_usecs);
					mo_u64(o, "max_packets", cl.max_packets);
				} else {
					mo_null(o, "max_usecs");
					mo_null(o, "max_packets");
				}
				mo_obj_end(o);
			}
		}
		mo_arr_end(o);
	}
	mo_obj_end(o);
	mo_obj(o, "guest_offloads");
	mo_bool(o, "supported", mc_has(&ni, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS));
	uint64_t off = vnet_net_get_guest_offloads(net);
	mo_hex(o, "mask", off);
	mo_features(o, "enabled", off);
	mo_obj_end(o);
	struct vnet_net_link lk;
	vnet_net_get_link(net, &lk);
	mo_obj(o, "link");
	mo_bool(o, "up", lk.up);
	mgmt_speed_duplex(o, lk.speed_known, lk.speed_mbps, lk.duplex);
	mo_u64(o, "changes", lk.changes);
	mo_bool(o, "announce_pending", vnet_net_announce_pending(net));
	mo_obj_end(o);
	struct vnet_net_ctrl_stats cs;
	vnet_net_ctrl_get_stats(net, &cs);
	mo_obj(o, "commands");
	mo_u64(o, "sent", cs.cmds);
	mo_u64(o, "ok", cs.ok);
	mo_u64(o, "refused", cs.refused);
	mo_u64(o, "failed", cs.failed);
	mo_u64(o, "replays", cs.replays);
	mo_u64(o, "mac_overflows", cs.mac_overflows);
	mo_obj_end(o);
	struct vnet_net_ctrl_error e;
	vnet_net_ctrl_last_error(net, &e);
	mo_obj(o, "last_error");
	if (e.rc == VNET_OK) {
		mo_str(o, "error", "none");
	} else {
		mo_str(o, "class", vnet_net_ctrl_class_name(e.class_));
		mo_str(o, "cmd", vnet_net_ctrl_cmd_name(e.class_, e.cmd));
		mo_u64(o, "ack", e.ack);
		mo_str(o, "error", vnet_strerror(e.rc));
	}
	mo_obj_end(o);
	mo_end(o);
	return VNET_OK;
}

/* ------------------------------------------------------------ control_set */

enum mc_kind { MC_RX, MC_MAC, MC_TABLE, MC_VLAN_ADD, MC_VLAN_DEL, MC_PAIRS, MC_RSS, MC_RSS_TABLE, MC_COAL, MC_OFFLOADS };

struct mc_action {
	enum mc_kind kind;
	const char *arg;          /* the KEY=VALUE as given */
	unsigned mode;            /* MC_RX */
	bool on;                  /* MC_RX; MC_RSS: default (true) / off; MC_COAL: tx */
	uint8_t mac[6];
	uint64_t n;               /* vlan id, pairs, offload mask */
	struct vnet_net_coal coal;
};

struct mc_plan {
	struct mc_action a[MC_ACTIONS];
	unsigned n;
	bool table;               /* uc= or mc= given: one TABLE_SET */
	uint8_t uc[MC_MACS][6], mc[MC_MACS][6];
	uint32_t n_uc, n_mc;
	uint16_t indir[VNET_NET_RSS_INDIR_MAX]; /* rss_table= entries (MC_RSS_TABLE; a->n of them) */
};

static bool mc_key(const char *arg, const char *key, const char **val)
{
	size_t i = 0;
	while (key[i] && arg[i] == key[i])
		i++;
	if (key[i] || arg[i] != '=')
		return false;
	*val = arg + i + 1;
	return true;
}

/* The text of v up to the next ',' (at most cap - 1 bytes) into one,
 * terminated; its length. */
static size_t mc_item(const char *v, char *one, size_t cap)
{
	size_t k = 0;
	while (v[k] && v[k] != ',' && k + 1 < cap) {
		one[k] = v[k];
		k++;
	}
	one[k] = 0;
	return k;
}

/* "MAC,MAC..." or "none" into list; group bit as `group` says. */
static int mc_mac_list(struct mctx *c, const char *arg, const char *v, uint8_t (*list)[6], uint32_t *n, bool group)
{
	*n = 0;
	if (mp_streq(v, "none") || !*v)
		return VNET_OK;
	while (*v) {
		char one[18];
		size_t k = mc_item(v, one, sizeof(one));
		if ((v[k] && v[k] != ',') || !mp_mac(one, list[*n]))
			return mgmt_fail(c, VNET_EINVAL, "'%s': bad MAC address in the list (XX:XX:XX:XX:XX:XX)", arg);
		if (((list[*n][0] & 1u) != 0) != group)
			return mgmt_fail(c, VNET_EINVAL, group ? "'%s': %s is not a multicast address" :
			                                         "'%s': %s is a multicast address, not unicast",
			                 arg, one);
		if (++*n == MC_MACS && v[k])
			return mgmt_fail(c, VNET_EINVAL, "'%s': more than 64 addresses", arg);
		v += k;
		if (*v == ',')
			v++;
	}
	return VNET_OK;
}

static int mc_need(struct mctx *c, const struct vnet_net_info *ni, const char *arg, unsigned bit)
{
	if (mc_has(ni, bit))
		return VNET_OK;
	char nb[8];
	return mgmt_fail(c, VNET_ENOTSUP, "'%s' needs VIRTIO_NET_F_%s (not negotiated); nothing changed", arg,
	                 mgmt_feature_name(bit, nb));
}

/* The action being parsed (p->a[p->n], its fields filled) counts as `kind`. */
static int mc_add(struct mc_plan *p, enum mc_kind kind)
{
	p->a[p->n++].kind = kind;
	return VNET_OK;
}

/* mc_add() once the feature `bit` the setting needs is negotiated. */
static int mc_add_need(struct mctx *c, const struct vnet_net_info *ni, struct mc_plan *p, enum mc_kind kind,
                       unsigned bit)
{
	int rc = mc_need(c, ni, p->a[p->n].arg, bit);
	return rc != VNET_OK ? rc : mc_add(p, kind);
}

/* Check one KEY=VALUE into an action; VNET_OK or the printed error. */
static int mc_parse(struct mctx *c, struct vnet_net *net, const struct vnet_net_info *ni, const char *arg,
                    struct mc_plan *p)
{
	const char *v;
	if (p->n == MC_ACTIONS)
		return mgmt_fail(c, VNET_EINVAL, "too many settings (at most 12)");
	struct mc_action *a = &p->a[p->n];
	memset(a, 0, sizeof(*a));
	a->arg = arg;
	int rc;
	for (unsigned m = 0; m < VNET_NET_RX_MODES; m++) {
		if (!mc_key(arg, mc_rx_names[m], &v))
			continue;
		if (!mp_bool(v, &a->on))
			return mgmt_fail(c, VNET_EINVAL, "'%s': bad value '%s' (on or off)", arg, v);
		a->mode = m;
		return mc_add_need(c, ni, p, MC_RX,
		                   m <= VNET_NET_RX_ALLMULTI ? VIRTIO_NET_F_CTRL_RX : VIRTIO_NET_F_CTRL_RX_EXTRA);
	}
	if (mc_key(arg, "mac", &v)) {
		if (!mp_mac(v, a->mac))
			return mgmt_fail(c, VNET_EINVAL, "'%s': bad MAC address '%s' (XX:XX:XX:XX:XX:XX)", arg, v);
		if (a->mac[0] & 1u)
			return mgmt_fail(c, VNET_EINVAL, "'%s': %s is a multicast address", arg, v);
		return mc_add_need(c, ni, p, MC_MAC, VIRTIO_NET_F_CTRL_MAC_ADDR);
	}
	bool uc = mc_key(arg, "uc", &v);
	if (uc || mc_key(arg, "mc", &v)) {
		rc = uc ? mc_mac_list(c, arg, v, p->uc, &p->n_uc, false) : mc_mac_list(c, arg, v, p->mc, &p->n_mc, true);
		if (rc != VNET_OK)
			return rc;
		rc = mc_need(c, ni, arg, VIRTIO_NET_F_CTRL_RX);
		if (rc != VNET_OK)
			return rc;
		if (p->table)
			return VNET_OK;
		p->table = true;
		return mc_add(p, MC_TABLE);
	}
	bool add = mc_key(arg, "vlan_add", &v);
	if (add || mc_key(arg, "vlan_del", &v)) {
		if (!mp_u64_max(v, 4095, &a->n))
			return mgmt_fail(c, VNET_EINVAL, "'%s': bad VLAN id '%s' (0..4095)", arg, v);
		return mc_add_need(c, ni, p, add ? MC_VLAN_ADD : MC_VLAN_DEL, VIRTIO_NET_F_CTRL_VLAN);
	}
	if (mc_key(arg, "pairs", &v)) {
		if (!mp_u64_max(v, ni->max_queue_pairs, &a->n) || a->n == 0) {
			char mx[24];
			mo_fmt_u64(mx, ni->max_queue_pairs);
			return mgmt_fail(c, VNET_EINVAL, "'%s': bad pair count '%s' (1..%s)", arg, v, mx);
		}
		return mc_add_need(c, ni, p, MC_PAIRS, VIRTIO_NET_F_MQ);
	}
	if (mc_key(arg, "rss", &v)) {
		if (mp_streq(v, "default") || mp_streq(v, "on"))
			a->on = true;
		else if (!mp_streq(v, "off"))
			return mgmt_fail(c, VNET_EINVAL, "'%s': bad value '%s' (default or off)", arg, v);
		struct vnet_net_rss_caps caps;
		vnet_net_rss_get_caps(net, &caps);
		if (!caps.rss && !caps.hash_report)
			return mgmt_fail(c, VNET_ENOTSUP,
			                 "'%s' needs VIRTIO_NET_F_RSS or HASH_REPORT (not negotiated); nothing changed", arg);
		return mc_add(p, MC_RSS);
	}
	if (mc_key(arg, "rss_table", &v)) {
		/* Q,Q,...: the whole indirection table, its length a power of two
		 * within the device's rss_max_indirection_table_length, every
		 * entry a pair in use (spec 5.1.6.5.7.1); sent as RSS_CONFIG with
		 * the recorded key and hash types, which the driver keeps for a
		 * reset to replay. */
		struct vnet_net_rss_caps caps;
		vnet_net_rss_get_caps(net, &caps);
		if (!caps.rss)
			return mgmt_fail(c, VNET_ENOTSUP, "'%s' needs VIRTIO_NET_F_RSS (not negotiated); nothing changed",
			                 arg);
		uint64_t len = 0;
		while (*v) {
			char one[24];
			size_t k = mc_item(v, one, sizeof(one));
			uint64_t q;
			if (!mp_u64_max(one, ni->queue_pairs ? ni->queue_pairs - 1u : 0u, &q) || ni->queue_pairs == 0) {
				char mx[24];
				mo_fmt_u64(mx, ni->queue_pairs ? ni->queue_pairs - 1u : 0u);
				return mgmt_fail(c, VNET_EINVAL, "'%s': bad queue '%s' (0..%s, the pairs in use); nothing changed",
				                 arg, one, mx);
			}
			if (len == VNET_NET_RSS_INDIR_MAX || len == caps.max_indir_len)
				return mgmt_fail(c, VNET_EINVAL, "'%s': more entries than the table holds; nothing changed", arg);
			p->indir[len++] = (uint16_t)q;
			v += k;
			if (*v == ',') {
				v++;
				if (!*v)
					return mgmt_fail(c, VNET_EINVAL, "'%s': empty entry; nothing changed", arg);
			}
		}
		if (len == 0 || (len & (len - 1u))) {
			char mx[24];
			mo_fmt_u64(mx, caps.max_indir_len < VNET_NET_RSS_INDIR_MAX ? caps.max_indir_len : VNET_NET_RSS_INDIR_MAX);
			return mgmt_fail(c, VNET_EINVAL,
			                 "'%s': the table needs a power-of-two number of entries (1..%s); nothing changed", arg,
			                 mx);
		}
		a->n = len;
		return mc_add(p, MC_RSS_TABLE);
	}
	bool tx = mc_key(arg, "coal_tx", &v);
	if (tx || mc_key(arg, "coal_rx", &v)) {
		char us[24];
		size_t k = mc_item(v, us, sizeof(us));
		uint64_t u, n;
		if (v[k] != ',' || !mp_u64_max(us, 0xffffffffu, &u) || !mp_u64_max(v + k + 1, 0xffffffffu, &n))
			return mgmt_fail(c, VNET_EINVAL, "'%s': expected USECS,PACKETS (each 0..4294967295)", arg);
		a->on = tx;
		a->coal.max_usecs = (uint32_t)u;
		a->coal.max_packets = (uint32_t)n;
		return mc_add_need(c, ni, p, MC_COAL, VIRTIO_NET_F_NOTF_COAL);
	}
	if (mc_key(arg, "offloads", &v)) {
		uint64_t mask = 0;
		const uint64_t guest = VNET_BIT(VIRTIO_NET_F_GUEST_CSUM) | VNET_BIT(VIRTIO_NET_F_GUEST_TSO4) |
		                       VNET_BIT(VIRTIO_NET_F_GUEST_TSO6) | VNET_BIT(VIRTIO_NET_F_GUEST_ECN) |
		                       VNET_BIT(VIRTIO_NET_F_GUEST_UFO) | VNET_BIT(VIRTIO_NET_F_GUEST_USO4) |
		                       VNET_BIT(VIRTIO_NET_F_GUEST_USO6);
		if (!mp_streq(v, "none")) {
			while (*v) {
				char one[40];
				size_t k = mc_item(v, one, sizeof(one));
				int bit = mp_feature(one);
				if (bit < 0)
					return mgmt_fail(c, VNET_EINVAL, "'%s': unknown feature '%s'", arg, one);
				if (!(guest & (1ull << bit)))
					return mgmt_fail(c, VNET_EINVAL, "'%s': %s is not a receive (GUEST_*) offload", arg, one);
				if (!mc_has(ni, (unsigned)bit))
					return mgmt_fail(c, VNET_EINVAL, "'%s': %s was not negotiated; nothing changed", arg, one);
				mask |= 1ull << bit;
				v += k;
				if (*v == ',')
					v++;
			}
		}
		a->n = mask;
		return mc_add_need(c, ni, p, MC_OFFLOADS, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
	}
	return mgmt_fail(c, VNET_EINVAL,
	                 "unknown setting '%s' (promisc allmulti alluni nomulti nouni nobcast mac uc mc vlan_add "
	                 "vlan_del pairs rss rss_table coal_rx coal_tx offloads; see help virtio_net_control_set)",
	                 arg);
}

static int mc_apply(struct vnet_net *net, struct mc_plan *p, const struct mc_action *a)
{
	switch (a->kind) {
	case MC_RX:
		return vnet_net_set_rx_mode(net, (enum vnet_net_rx_mode)a->mode, a->on);
	case MC_MAC:
		return vnet_net_set_mac(net, a->mac);
	case MC_TABLE:
		return vnet_net_set_mac_table(net, (const uint8_t (*)[6])p->uc, p->n_uc, (const uint8_t (*)[6])p->mc,
		                              p->n_mc);
	case MC_VLAN_ADD:
		return vnet_net_vlan_add(net, (uint16_t)a->n);
	case MC_VLAN_DEL:
		return vnet_net_vlan_del(net, (uint16_t)a->n);
	case MC_PAIRS:
		return vnet_net_set_queue_pairs(net, (uint16_t)a->n);
	case MC_RSS: {
		struct vnet_net_rss cfg;
		vnet_net_rss_default(net, &cfg);
		if (!a->on)
			cfg.hash_types = 0;
		return vnet_net_set_rss(net, &cfg);
	}
	case MC_RSS_TABLE: {
		/* Only the table changes: the recorded key, hash types and
		 * unclassified queue stay (the default ones when none is recorded). */
		struct vnet_net_rss cfg;
		if (!vnet_net_get_rss(net, &cfg))
			vnet_net_rss_default(net, &cfg);
		cfg.indir_len = (uint16_t)a->n;
		for (uint64_t i = 0; i < a->n; i++)
			cfg.indir[i] = p->indir[i];
		return vnet_net_set_rss(net, &cfg);
	}
	case MC_COAL:
		return vnet_net_set_coal(net, a->on, &a->coal);
	case MC_OFFLOADS:
		return vnet_net_set_guest_offloads(net, a->n);
	}
	return VNET_EINVAL;
}

int mc_control_set(struct mctx *c)
{
	unsigned i = 0;
	const char *name;
	int rc;
	struct vnet_net *net = mgmt_device_then(c, &i, false, 0, "no setting given", &name, &rc);
	if (!net)
		return rc;
	struct vnet_net_info ni;
	vnet_net_get_info(net, &ni);
	static struct mc_plan plan; /* ~800 bytes of MAC lists: off the stack (control path, serialised) */
	memset(&plan, 0, sizeof(plan));
	for (unsigned k = i; k < c->npos; k++) {
		rc = mc_parse(c, net, &ni, c->pos[k], &plan);
		if (rc != VNET_OK)
			return rc;
	}
	if (vnet_net_is_dead(net))
		return mgmt_fail(c, VNET_EBROKEN, "%s: device latched dead", name);
	unsigned done = 0;
	for (; done < plan.n; done++) {
		rc = mc_apply(net, &plan, &plan.a[done]);
		if (rc != VNET_OK)
			break;
	}
	if (plan.a[0].kind == MC_PAIRS || done)
		mgmt_changed(c, name);
	if (rc != VNET_OK) {
		struct vnet_net_ctrl_error e;
		vnet_net_ctrl_last_error(net, &e);
		char applied[24];
		mo_fmt_u64(applied, done);
		const char *why = rc == VNET_EIO ? "refused by the device (ack ERR)" : vnet_strerror(rc);
		return mgmt_fail(c, rc, "%s: '%s' failed: %s (%s.%s); %s earlier setting(s) applied, this one not", name,
		                 plan.a[done].arg, why, vnet_net_ctrl_class_name(e.class_),
		                 vnet_net_ctrl_cmd_name(e.class_, e.cmd), applied);
	}
	struct mo *o = c->o;
	mo_begin(o, c->cmd->name, name);
	mo_arr(o, "applied");
	for (unsigned k = i; k < c->npos; k++)
		mo_str(o, 0, c->pos[k]);
	mo_arr_end(o);
	mo_end(o);
	return VNET_OK;
}
