/*
 * Private to src/mgmt (the management command layer, vnet/mgmt.h).
 *
 * Map, one job per file:
 *   mgmt.c          command table, argv split, dispatch, help, errors [mgmt_]
 *   mgmt_out.c      the output writer: aligned text or one JSON object [mo_]
 *   mgmt_parse.c    argument parsers: numbers, MACs, features, queues [mp_]
 *   mgmt_dev.c      device_*, virtqueue_*, feature_* commands [md_]
 *   mgmt_ctrl.c     control_info / control_set [mc_]
 *   mgmt_stats.c    performance_stats, virtqueue_stats [ms_]
 * Only the public API (include/vnet) is used; nothing is allocated.
 */
#ifndef VNET_MGMT_PRIV_H
#define VNET_MGMT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnet/features.h"
#include "vnet/mgmt.h"
#include "vnet/net.h"
#include "vnet/net_ctrl.h"
#include "vnet/virtqueue.h"

/* The mem* functions the freestanding core may use (docs/design.md). */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

#define MGMT_POS_MAX 24u      /* positional arguments per command */
#define MO_DEPTH 8u           /* nesting of objects/arrays */
#define MO_BUF 256u           /* output buffered before the sink sees it */
#define MO_KEY_COL 24u        /* text: values start in this column (plus indent) */
#define MO_WRAP 100u          /* text: scalar lists wrap at this column */

/* ------------------------------------------------------------ output */

struct mo {
	const struct vnet_mgmt_sink *sink;
	bool json;
	char buf[MO_BUF];
	size_t len;
	unsigned depth;
	bool first[MO_DEPTH];     /* json: no comma before the next member */
	bool arr[MO_DEPTH];       /* this level is an array */
	bool scalar_line;         /* text: a scalar array's line is open */
	unsigned col;             /* text: column on the open line */
};

void mo_init(struct mo *o, const struct vnet_mgmt_sink *sink, bool json);
void mo_flush(struct mo *o);
void mo_raw(struct mo *o, const char *s, size_t n);
void mo_puts(struct mo *o, const char *s);
/* The top-level object of a successful command (json: {"ok":true,...}). */
void mo_begin(struct mo *o, const char *command, const char *device);
void mo_end(struct mo *o);
void mo_obj(struct mo *o, const char *key);      /* key NULL inside an array */
void mo_obj_end(struct mo *o);
void mo_arr(struct mo *o, const char *key);
void mo_arr_end(struct mo *o);
void mo_u64(struct mo *o, const char *key, uint64_t v);
void mo_i64(struct mo *o, const char *key, int64_t v);
void mo_hex(struct mo *o, const char *key, uint64_t v);
void mo_str(struct mo *o, const char *key, const char *s);
void mo_bool(struct mo *o, const char *key, bool v);
void mo_null(struct mo *o, const char *key);
void mo_mac(struct mo *o, const char *key, const uint8_t mac[6]);
/* v / 100 with two decimals (rates, ratios). */
void mo_fix2(struct mo *o, const char *key, uint64_t v100);
/* Space-separated feature names of a mask, as an array of strings. */
void mo_features(struct mo *o, const char *key, uint64_t mask);
/* Plain text line (text mode only; ignored in JSON). */
void mo_text(struct mo *o, const char *s);

/* Small formatting helpers (freestanding). */
size_t mo_fmt_u64(char *buf, uint64_t v);                 /* >= 21 bytes */
size_t mo_fmt_hex(char *buf, uint64_t v);                 /* "0x..", >= 19 bytes */
size_t mo_fmt_mac(char *buf, const uint8_t mac[6]);       /* >= 18 bytes */

/* ------------------------------------------------------------ parsing */

size_t mp_strlen(const char *s);
bool mp_streq(const char *a, const char *b);
bool mp_streq_nocase(const char *a, const char *b);
bool mp_u64(const char *s, uint64_t *v);                  /* decimal or 0x hex, no sign */
bool mp_u64_max(const char *s, uint64_t max, uint64_t *v);
bool mp_bool(const char *s, bool *v);                     /* on|off|1|0|true|false|yes|no */
bool mp_mac(const char *s, uint8_t mac[6]);
/* A feature by name (with or without VIRTIO_F_/VIRTIO_NET_F_, any case)
 * or bit number (0..63): its bit, or -1. */
int mp_feature(const char *s);

/* A queue argument: rxN, txN (pair N), pairN, ctrl, or a virtqueue index. */
enum mp_qkind { MP_Q_RX, MP_Q_TX, MP_Q_PAIR, MP_Q_CTRL };
struct mp_queue {
	enum mp_qkind kind;
	uint16_t pair;
};
bool mp_queue(const char *s, uint16_t max_pairs, struct mp_queue *q);

/* ------------------------------------------------------------ commands */

/* One parsed invocation. */
struct mctx {
	struct vnet_mgmt *m;
	struct mo *o;
	const struct vnet_mgmt_cmd_info *cmd;
	const char *pos[MGMT_POS_MAX];
	unsigned npos;
	const char *opt_size;     /* --size N (virtqueue_reset) */
	char err[160];            /* the error message being built */
};

/* Error: formats "fmt" with %s arguments only (each a string) into c->err,
 * prints it (text or JSON) and returns rc. */
int mgmt_fail(struct mctx *c, int rc, const char *fmt, ...);
/* The device named by pos[*i] (consumed), or the first device when
 * optional and pos[*i] is missing or, when `other` says it is another
 * kind of argument, not a device.  NULL after printing an error (*rc). */
/* mgmt_device() for a command that takes [DEV] (or DEV) and nothing more. */
struct vnet_net *mgmt_device_only(struct mctx *c, bool optional, const char **name, int *rc);
struct vnet_net *mgmt_device(struct mctx *c, unsigned *i, bool optional, bool (*other)(struct mctx *, const char *),
                             const char **name, int *rc);
/* mgmt_device(), then at least one argument after it: else the error
 * "NAME: <missing> (usage: ...)" and NULL (*rc). */
struct vnet_net *mgmt_device_then(struct mctx *c, unsigned *i, bool optional,
                                  bool (*other)(struct mctx *, const char *), const char *missing, const char **name,
                                  int *rc);
/* pos[i] and on are one argument too many: true after printing the
 * "unexpected argument" error (*rc); false when there is none. */
bool mgmt_extra(struct mctx *c, unsigned i, int *rc);
struct vnet_mgmt_slot *mgmt_slot(struct vnet_mgmt *m, const char *name);
void mgmt_changed(struct mctx *c, const char *name);
/* Feature name for output: the driver's, or "bitN" in buf. */
const char *mgmt_feature_name(unsigned bit, char buf[8]);
/* "speed_mbps" (null when unknown) and "duplex" of a link. */
void mgmt_speed_duplex(struct mo *o, bool speed_known, uint32_t speed_mbps, uint8_t duplex);
/* An `other` for mgmt_device(): s reads as a queue argument. */
bool mgmt_is_queue(struct mctx *c, const char *s);

int md_device_info(struct mctx *c);
int md_device_reset(struct mctx *c);
int md_device_remove(struct mctx *c);
int md_vq_info(struct mctx *c);
int md_vq_reset(struct mctx *c);
int md_vq_remove(struct mctx *c);
int md_feature_info(struct mctx *c);
int md_feature_set(struct mctx *c);
int md_feature_get(struct mctx *c);
int mc_control_info(struct mctx *c);
int mc_control_set(struct mctx *c);
int ms_perf(struct mctx *c);
int ms_vq_stats(struct mctx *c);

/* Shared by device_info and virtqueue_info: one virtqueue's description. */
void md_vq_describe(struct mo *o, const char *label, struct vnet_vq *vq);
/* fn for each virtqueue q selects (every one when q is NULL): rx0 tx0
 * rx1 ... then ctrl, each with its label.  Shared by virtqueue_info and
 * virtqueue_stats. */
void md_vq_each(struct mo *o, struct vnet_net *net, const struct mp_queue *q,
                void (*fn)(struct mo *, struct vnet_net *, const char *, struct vnet_vq *));

#endif
