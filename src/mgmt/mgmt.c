/*
 * The management command layer's entry: the command table (full names,
 * aliases, usage), the argv split (--json, --size N, positionals), device
 * lookup with the host's ops, errors, help, and the per-device slots.
 * docs/management.md is the command reference.
 */
#include <stdarg.h>

#include "mgmt_priv.h"

static int mgmt_help(struct mctx *c);

/* The commands, in help order; mgmt_fns[i] runs mgmt_info[i]. */
static const struct vnet_mgmt_cmd_info mgmt_info[] = {
	{"virtio_net_device_info", "devinfo", "[DEV]",
	  "device state: MAC, MTU, link, features, queues, ring layout (every device without DEV)", false},
	{"virtio_net_device_reset", "devreset", "DEV",
	  "full reset, re-initialisation and replay of all driver state", true},
	{"virtio_net_device_remove", "devremove", "DEV",
	  "orderly teardown: every buffer returned, device reset, name freed", true},
	{"virtio_net_virtqueue_info", "vqinfo", "[DEV] [QUEUE]",
	  "virtqueues: index, size, layout, in flight, free descriptors, broken latch", false},
	{"virtio_net_virtqueue_reset", "vqreset", "DEV QUEUE [--size N]",
	  "reset one virtqueue (RING_RESET; a device reset with replay without it)", true},
	{"virtio_net_virtqueue_remove", "vqremove", "DEV QUEUE",
	  "take the last queue pair in use out of service (fewer MQ pairs)", true},
	{"virtio_net_feature_info", "featinfo", "[DEV]", "features offered, wanted and negotiated, by name and bit",
	  false},
	{"virtio_net_feature_set", "featset", "DEV FEATURE=on|off|+FEATURE|-FEATURE...",
	  "renegotiate with a changed wanted set (reset + re-init)", true},
	{"virtio_net_feature_get", "featget", "[DEV] FEATURE...",
	  "one feature (name or bit): offered, wanted, negotiated", false},
	{"virtio_net_performance_stats", "perf", "[DEV] [--watch SECONDS]",
	  "packets/s, bytes/s, drops/s, errors/s, interrupts/s, packets per interrupt since the last call", false},
	{"virtio_net_virtqueue_stats", "vqstats", "[DEV] [QUEUE]",
	  "per-virtqueue engine counters and per-pair driver counters", false},
	{"virtio_net_control_info", "ctrlinfo", "[DEV]",
	  "RX mode, MAC and MAC tables, VLAN filter, pairs, RSS, coalescing, guest offloads", false},
	{"virtio_net_control_set", "ctrlset", "DEV KEY=VALUE...",
	  "change control state through the control queue (see help virtio_net_control_set)", true},
	{"help", "?", "[COMMAND]", "list the commands, or one command's usage", false},
};
#define MGMT_NCMDS (sizeof(mgmt_info) / sizeof(mgmt_info[0]))
static int (*const mgmt_fns[MGMT_NCMDS])(struct mctx *c) = {md_device_info, md_device_reset, md_device_remove, md_vq_info, md_vq_reset, md_vq_remove, md_feature_info, md_feature_set, md_feature_get, ms_perf, ms_vq_stats, mc_control_info, mc_control_set, mgmt_help};

const struct vnet_mgmt_cmd_info *vnet_mgmt_commands(size_t *n)
{
	if (n)
		*n = MGMT_NCMDS;
	return mgmt_info;
}

static int mgmt_find(const char *name)
{
	for (unsigned i = 0; i < MGMT_NCMDS; i++)
		if (mp_streq(name, mgmt_info[i].name) || mp_streq(name, mgmt_info[i].alias))
			return (int)i;
	return -1;
}

const struct vnet_mgmt_cmd_info *vnet_mgmt_lookup(const char *name)
{
	int i = mgmt_find(name);
	return i < 0 ? 0 : &mgmt_info[i];
}

void vnet_mgmt_init(struct vnet_mgmt *m, const struct vnet_mgmt_host_ops *ops, void *arg)
{
	memset(m, 0, sizeof(*m));
	m->ops = ops;
	m->arg = arg;
}

static void mgmt_copy_name(char *dst, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < VNET_MGMT_NAME_MAX; i++)
		dst[i] = src[i];
	dst[i] = 0;
}

struct vnet_mgmt_slot *mgmt_slot(struct vnet_mgmt *m, const char *name)
{
	struct vnet_mgmt_slot *free_slot = 0;
	for (unsigned i = 0; i < VNET_MGMT_DEVS_MAX; i++) {
		struct vnet_mgmt_slot *s = &m->slot[i];
		if (s->used && mp_streq(s->name, name))
			return s;
		if (!s->used && !free_slot)
			free_slot = s;
	}
	if (!free_slot)
		free_slot = &m->slot[0]; /* bounded: the oldest baseline goes */
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = true;
	mgmt_copy_name(free_slot->name, name);
	return free_slot;
}

void vnet_mgmt_forget(struct vnet_mgmt *m, const char *name)
{
	for (unsigned i = 0; i < VNET_MGMT_DEVS_MAX; i++)
		if (m->slot[i].used && mp_streq(m->slot[i].name, name))
			memset(&m->slot[i], 0, sizeof(m->slot[i]));
}

void mgmt_changed(struct mctx *c, const char *name)
{
	if (c->m->ops && c->m->ops->changed)
		c->m->ops->changed(c->m->arg, name);
}

const char *mgmt_feature_name(unsigned bit, char buf[8])
{
	const char *n = vnet_feature_name(bit);
	if (n)
		return n;
	buf[0] = 'b';
	buf[1] = 'i';
	buf[2] = 't';
	mo_fmt_u64(buf + 3, bit & 127u);
	return buf;
}

void mgmt_speed_duplex(struct mo *o, bool speed_known, uint32_t speed_mbps, uint8_t duplex)
{
	if (speed_known)
		mo_u64(o, "speed_mbps", speed_mbps);
	else
		mo_null(o, "speed_mbps");
	mo_str(o, "duplex", duplex == VIRTIO_NET_DUPLEX_FULL ? "full" : duplex == VIRTIO_NET_DUPLEX_HALF ? "half" : "unknown");
}

bool mgmt_is_queue(struct mctx *c, const char *s)
{
	struct mp_queue q;
	(void)c;
	return mp_queue(s, 0x7fff, &q);
}

int mgmt_fail(struct mctx *c, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = 0, cap = sizeof(c->err) - 1;
	for (const char *p = fmt; *p && n < cap; p++) {
		if (p[0] == '%' && p[1] == 's') {
			const char *a = va_arg(ap, const char *);
			for (; a && *a && n < cap; a++)
				c->err[n++] = *a;
			p++;
		} else {
			c->err[n++] = *p;
		}
	}
	c->err[n] = 0;
	va_end(ap);
	struct mo *o = c->o;
	if (o->json) {
		mo_raw(o, "{", 1);
		o->depth = 1;
		o->first[1] = true;
		o->arr[1] = false;
		mo_bool(o, "ok", false);
		mo_str(o, "command", c->cmd ? c->cmd->name : "");
		mo_str(o, "error", c->err);
		mo_str(o, "code", vnet_strerror(rc));
		mo_raw(o, "}\n", 2);
		o->depth = 0;
	} else {
		mo_puts(o, "error: ");
		mo_puts(o, c->err);
		mo_raw(o, "\n", 1);
	}
	mo_flush(o);
	return rc;
}

struct vnet_net *mgmt_device_only(struct mctx *c, bool optional, const char **name, int *rc)
{
	unsigned i = 0;
	struct vnet_net *net = mgmt_device(c, &i, optional, 0, name, rc);
	if (!net || mgmt_extra(c, i, rc))
		return NULL;
	return net;
}

bool mgmt_extra(struct mctx *c, unsigned i, int *rc)
{
	if (c->npos <= i)
		return false;
	*rc = mgmt_fail(c, VNET_EINVAL, "unexpected argument '%s' (usage: %s %s)", c->pos[i], c->cmd->name,
	                c->cmd->usage);
	return true;
}

struct vnet_net *mgmt_device_then(struct mctx *c, unsigned *i, bool optional,
                                  bool (*other)(struct mctx *, const char *), const char *missing, const char **name,
                                  int *rc)
{
	struct vnet_net *net = mgmt_device(c, i, optional, other, name, rc);
	if (!net)
		return NULL;
	if (c->npos <= *i) {
		*rc = mgmt_fail(c, VNET_EINVAL, "%s: %s (usage: %s %s)", *name, missing, c->cmd->name, c->cmd->usage);
		return NULL;
	}
	return net;
}

struct vnet_net *mgmt_device(struct mctx *c, unsigned *i, bool optional, bool (*other)(struct mctx *, const char *),
                             const char **name, int *rc)
{
	const struct vnet_mgmt_host_ops *ops = c->m->ops;
	const char *arg = *i < c->npos ? c->pos[*i] : 0;
	if (arg && optional && other && other(c, arg) && !(ops->find && ops->find(c->m->arg, arg)))
		arg = 0; /* the next argument is not a device: use the default */
	if (!arg) {
		if (!optional) {
			*rc = mgmt_fail(c, VNET_EINVAL, "%s: a device name is required (usage: %s %s)", c->cmd->name,
			                c->cmd->name, c->cmd->usage);
			return 0;
		}
		arg = ops->name_at ? ops->name_at(c->m->arg, 0) : 0;
		if (!arg) {
			*rc = mgmt_fail(c, VNET_ENODEV, "no device");
			return 0;
		}
	} else {
		(*i)++;
	}
	struct vnet_net *net = ops->find ? ops->find(c->m->arg, arg) : 0;
	if (!net) {
		*rc = mgmt_fail(c, VNET_ENODEV, "unknown device '%s'", arg);
		return 0;
	}
	*name = arg;
	return net;
}

static void mgmt_help_one(struct mo *o, const struct vnet_mgmt_cmd_info *ci)
{
	if (o->json) {
		mo_obj(o, ci->name);
		mo_str(o, "alias", ci->alias);
		mo_str(o, "usage", ci->usage);
		mo_str(o, "summary", ci->summary);
		mo_bool(o, "changes", ci->changes);
		mo_obj_end(o);
		return;
	}
	mo_puts(o, ci->name);
	mo_raw(o, " ", 1);
	mo_puts(o, ci->usage);
	mo_puts(o, "  (alias ");
	mo_puts(o, ci->alias);
	mo_puts(o, ci->changes ? "; changes state)\n    " : ")\n    ");
	mo_puts(o, ci->summary);
	mo_raw(o, "\n", 1);
}

static const char mgmt_help_ctrlset[] =
	"keys: promisc|allmulti|alluni|nomulti|nouni|nobcast=on|off  mac=XX:XX:XX:XX:XX:XX\n"
	"      uc=MAC,MAC...|none  mc=MAC,MAC...|none (MAC tables)  vlan_add=ID  vlan_del=ID\n"
	"      pairs=N  rss=default|off  coal_rx=USECS,PACKETS  coal_tx=USECS,PACKETS\n"
	"      offloads=FEATURE,FEATURE...|none (GUEST_* receive offloads)\n"
	"      rss_table=Q,Q,... (RSS indirection table: 2^k entries, each a pair in use)\n";

static int mgmt_help(struct mctx *c)
{
	struct mo *o = c->o;
	if (c->npos > 1)
		return mgmt_fail(c, VNET_EINVAL, "help: at most one command");
	int one = -1;
	if (c->npos == 1) {
		one = mgmt_find(c->pos[0]);
		if (one < 0)
			return mgmt_fail(c, VNET_EINVAL, "help: unknown command '%s'", c->pos[0]);
	}
	mo_begin(o, "help", 0);
	if (o->json)
		mo_obj(o, "commands");
	for (unsigned i = 0; i < MGMT_NCMDS; i++)
		if (one < 0 || one == (int)i)
			mgmt_help_one(o, &mgmt_info[i]);
	if (o->json)
		mo_obj_end(o);
	if (!o->json) {
		if (one >= 0 && mp_streq(mgmt_info[one].name, "virtio_net_control_set"))
			mo_puts(o, mgmt_help_ctrlset);
		if (one < 0 || !mp_streq(mgmt_info[one].name, "help"))
			mo_puts(o, "DEV: a device name (default: the first device); QUEUE: rxN, txN, pairN, ctrl or a "
			           "virtqueue index; --json: one JSON object\n");
	}
	mo_end(o);
	return VNET_OK;
}

int vnet_mgmt_run(struct vnet_mgmt *m, int argc, const char *const *argv, const struct vnet_mgmt_sink *out)
{
	struct mo o;
	struct mctx c;
	memset(&c, 0, sizeof(c));
	c.m = m;
	c.o = &o;
	bool json = false;
	for (int i = 1; i < argc; i++)
		json |= mp_streq(argv[i], "--json");
	mo_init(&o, out, json);
	if (argc < 1 || !argv || !argv[0])
		return mgmt_fail(&c, VNET_EINVAL, "no command (try help)");
	int ci = mgmt_find(argv[0]);
	if (ci < 0)
		return mgmt_fail(&c, VNET_EINVAL, "unknown command '%s' (try help)", argv[0]);
	c.cmd = &mgmt_info[ci];
	int (*fn)(struct mctx *) = mgmt_fns[ci];
	if (!m || !m->ops)
		return mgmt_fail(&c, VNET_EINVAL, "no host");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (mp_streq(a, "--json"))
			continue;
		if (mp_streq(a, "--size") && mp_streq(c.cmd->name, "virtio_net_virtqueue_reset")) {
			if (i + 1 >= argc || (argv[i + 1][0] == '-' && argv[i + 1][1] == '-'))
				return mgmt_fail(&c, VNET_EINVAL, "--size needs a value");
			c.opt_size = argv[++i];
			continue;
		}
		/* --watch SECONDS repeats the command: the host's loop does it (the
		 * kernel shell, vnetctl), one call here is one sample. */
		if (mp_streq(a, "--watch") && fn == ms_perf)
			return mgmt_fail(&c, VNET_EINVAL, "%s: --watch SECONDS is run by the host's shell (Orion kernel, "
			                 "vnetctl), not by one call", c.cmd->name);
		if (a[0] == '-' && a[1] == '-')
			return mgmt_fail(&c, VNET_EINVAL, "%s: unknown option '%s' (usage: %s %s)", c.cmd->name, a,
			                 c.cmd->name, c.cmd->usage);
		if (c.npos == MGMT_POS_MAX)
			return mgmt_fail(&c, VNET_EINVAL, "too many arguments");
		c.pos[c.npos++] = a;
	}
	return fn(&c);
}
