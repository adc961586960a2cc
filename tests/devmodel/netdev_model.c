/*
 * virtio-net device model: see netdev_model.h for what it is.
 *
 * Ring handling is written here from the spec (split-ring.tex,
 * packed-ring.tex) rather than borrowed from tests/devmodel/devmodel.c,
 * because a network device needs what the generic model does not offer:
 * the bytes of each buffer (to record a transmitted frame, to write a
 * received one with a header of the test's choosing) and control over
 * how many buffers one completion round uses.  Only what the net tests
 * need is modelled: the device asks for every doorbell (used->flags 0,
 * avail_event kept at the next entry, packed device event ENABLE) and
 * completes in the order it consumed.
 *
 * Violations (addresses outside live DMA memory, malformed chains, a
 * readable buffer on the receive side...) are counted in m->violations
 * and, like a real device that hits a DMA fault, the queue stops.
 */
#include "netdev_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_hal.h"
#include "vnet/features.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/spec/virtio_ring.h"

#define LD16(p) vnet_le16_to_cpu(__atomic_load_n((p), __ATOMIC_RELAXED))
#define LD32(p) vnet_le32_to_cpu(__atomic_load_n((p), __ATOMIC_RELAXED))
#define LD64(p) vnet_le64_to_cpu(__atomic_load_n((p), __ATOMIC_RELAXED))
#define ST16(p, v) __atomic_store_n((p), vnet_cpu_to_le16(v), __ATOMIC_RELAXED)
#define ST32(p, v) __atomic_store_n((p), vnet_cpu_to_le32(v), __ATOMIC_RELAXED)
#define F_ACQ() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define F_REL() __atomic_thread_fence(__ATOMIC_RELEASE)

#define P_AVAIL ((uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL))
#define P_USED ((uint16_t)(1u << VRING_PACKED_DESC_F_USED))
#define NDM_SEG_MAX 64u
/* Header size in use: 20 bytes with HASH_REPORT (spec 5.1.6.1); m in scope. */
#define NDM_HDR_LEN ndm_hdr_len(m)

struct ndm_vq {
	bool live;
	bool dead;
	bool packed;
	uint16_t index;
	uint16_t size;
	/* split */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;
	uint16_t used_idx;
	/* packed */
	struct vring_packed_desc *pdesc;
	struct vring_packed_desc_event *drv_event; /* driver event suppression (spec 2.8.10) */
	uint16_t avail_pos, used_pos;
	bool avail_wrap, used_wrap;
	/* buffer counts of this ring (ndm_vq_count) */
	uint32_t taken;     /* consumed (vq_pop) */
	uint32_t given;     /* completed (vq_push) */
};

/* One consumed buffer (chain) as the device sees it. */
struct ndm_buf {
	uint16_t id;
	uint16_t ndesc;     /* ring slots it occupies (packed used_pos step) */
	unsigned nseg;
	struct {
		uint8_t *va;
		uint32_t len;
		bool write;
	} seg[NDM_SEG_MAX];
	uint32_t out_len, in_len;
};

/* Saved consumer position, to give buffers back when a frame does not fit. */
struct ndm_pos {
	uint16_t last_avail, avail_pos;
	bool avail_wrap;
	uint32_t taken;
};

__attribute__((format(printf, 2, 3))) static void vio(struct netdev_model *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->last_violation, sizeof(m->last_violation), fmt, ap);
	va_end(ap);
	m->violations++;
	if (getenv("ORION_VNET_TEST_VERBOSE"))
		fprintf(stderr, "netdev_model violation: %s\n", m->last_violation);
}

static uint32_t ndm_hdr_len(const struct netdev_model *m)
{
	return (m->ft.driver_features & VNET_BIT(VIRTIO_NET_F_HASH_REPORT)) ? VIRTIO_NET_HDR_LEN_HASH
	                                                                      : VIRTIO_NET_HDR_LEN_BASE;
}

/* ------------------------------------------------------------ config */

void ndm_set_mac(struct netdev_model *m, const uint8_t mac[6])
{
	fake_transport_set_config(&m->ft, offsetof(struct virtio_net_config, mac), mac, 6);
}

static void set_le16(struct netdev_model *m, uint32_t off, uint16_t v)
{
	vnet_le16 le = vnet_cpu_to_le16(v);
	fake_transport_set_config(&m->ft, off, &le, 2);
}

void ndm_set_status(struct netdev_model *m, uint16_t status)
{
	set_le16(m, offsetof(struct virtio_net_config, status), status);
}

void ndm_set_max_pairs(struct netdev_model *m, uint16_t pairs)
{
	set_le16(m, offsetof(struct virtio_net_config, max_virtqueue_pairs), pairs);
	/* receiveq/transmitq per pair plus the control queue, as far as the
	 * fake transport has queue slots; a lying 0 still has pair 0. */
	uint32_t nq = 2u * (pairs ? pairs : 1u) + 1u;
	m->ft.num_queues = (uint16_t)(nq < FT_MAX_QUEUES ? nq : FT_MAX_QUEUES);
}

void ndm_set_rss_caps(struct netdev_model *m, uint8_t max_key, uint16_t max_indir, uint32_t types)
{
	m->rss_max_key = max_key;
	m->rss_max_indir = max_indir;
	m->rss_types = types;
	fake_transport_set_config(&m->ft, offsetof(struct virtio_net_config, rss_max_key_size), &max_key, 1);
	set_le16(m, offsetof(struct virtio_net_config, rss_max_indirection_table_length), max_indir);
	vnet_le32 t = vnet_cpu_to_le32(types);
	fake_transport_set_config(&m->ft, offsetof(struct virtio_net_config, supported_hash_types), &t, 4);
}

void ndm_set_speed(struct netdev_model *m, uint32_t speed, uint8_t duplex)
{
	vnet_le32 sp = vnet_cpu_to_le32(speed);
	fake_transport_set_config(&m->ft, offsetof(struct virtio_net_config, speed), &sp, 4);
	fake_transport_set_config(&m->ft, offsetof(struct virtio_net_config, duplex), &duplex, 1);
}

void ndm_set_mtu(struct netdev_model *m, uint16_t mtu)
{
	set_le16(m, offsetof(struct virtio_net_config, mtu), mtu);
}

uint64_t ndm_features(const struct netdev_model *m)
{
	return (m->ft.status & VIRTIO_STATUS_FEATURES_OK) ? m->ft.driver_features : 0;
}

static uint16_t cfg_max_pairs(const struct netdev_model *m)
{
	vnet_le16 v;
	memcpy(&v, m->ft.config + offsetof(struct virtio_net_config, max_virtqueue_pairs), 2);
	return vnet_le16_to_cpu(v);
}

/* Spec 5.1.2: controlq is 2N with MQ, else 2. */
static uint16_t ctrl_index(const struct netdev_model *m)
{
	if (m->ft.driver_features & (VNET_BIT(VIRTIO_NET_F_MQ) | VNET_BIT(VIRTIO_NET_F_RSS)))
		return (uint16_t)(2u * cfg_max_pairs(m));
	return 2;
}

/* ------------------------------------------------------------ rings */

static void vq_forget(struct netdev_model *m, uint16_t index);

static void vq_attach(struct netdev_model *m, const struct vnet_queue_setup *q)
{
	vq_forget(m, q->index);
	struct ndm_vq *v = &m->vq[q->index];
	v->index = q->index;
	v->size = q->size;
	v->packed = (m->ft.driver_features & VNET_BIT(VIRTIO_F_RING_PACKED)) != 0;
	/* Spec 2.8.1: both wrap counters start at 1. */
	v->avail_wrap = true;
	v->used_wrap = true;
	if (v->packed) {
		v->pdesc = fake_hal_iova_to_va(q->desc, 16u * (size_t)q->size);
		v->drv_event = fake_hal_iova_to_va(q->driver, sizeof(*v->drv_event));
		if (!v->pdesc || !v->drv_event || !fake_hal_iova_to_va(q->device, 4)) {
			vio(m, "queue %u: packed ring not in DMA memory", q->index);
			return;
		}
	} else {
		v->desc = fake_hal_iova_to_va(q->desc, vring_split_desc_bytes(q->size));
		v->avail = fake_hal_iova_to_va(q->driver, vring_split_avail_bytes(q->size));
		v->used = fake_hal_iova_to_va(q->device, vring_split_used_bytes(q->size));
		if (!v->desc || !v->avail || !v->used) {
			vio(m, "queue %u: split ring not in DMA memory", q->index);
			return;
		}
	}
	v->live = true;
}

static struct ndm_pos pos_save(const struct ndm_vq *v)
{
	return (struct ndm_pos){v->last_avail, v->avail_pos, v->avail_wrap, v->taken};
}

static void pos_restore(struct ndm_vq *v, struct ndm_pos p)
{
	v->last_avail = p.last_avail;
	v->avail_pos = p.avail_pos;
	v->avail_wrap = p.avail_wrap;
	v->taken = p.taken;
}

static bool buf_seg(struct netdev_model *m, struct ndm_vq *v, struct ndm_buf *b, uint64_t addr, uint32_t len,
                    bool write)
{
	if (b->nseg == NDM_SEG_MAX) {
		vio(m, "queue %u: chain longer than %u", v->index, NDM_SEG_MAX);
		return false;
	}
	if (!write && b->in_len) {
		vio(m, "queue %u: readable descriptor after a writable one", v->index);
		return false;
	}
	uint8_t *va = fake_hal_iova_to_va(addr, len);
	if (!va || len == 0) {
		vio(m, "queue %u: buffer iova 0x%llx len %u not in DMA memory", v->index, (unsigned long long)addr, len);
		return false;
	}
	b->seg[b->nseg].va = va;
	b->seg[b->nseg].len = len;
	b->seg[b->nseg].write = write;
	b->nseg++;
	if (write)
		b->in_len += len;
	else
		b->out_len += len;
	return true;
}

/* An indirect table (spec 2.7.5.3 / 2.8.7): its entries become segments. */
static bool buf_indirect(struct netdev_model *m, struct ndm_vq *v, struct ndm_buf *b, uint64_t addr, uint32_t len)
{
	if (len == 0 || len % 16u) {
		vio(m, "queue %u: indirect table length %u", v->index, len);
		return false;
	}
	unsigned n = len / 16u;
	if (v->packed) {
		struct vring_packed_desc *t = fake_hal_iova_to_va(addr, len);
		if (!t) {
			vio(m, "queue %u: indirect table not in DMA memory", v->index);
			return false;
		}
		for (unsigned i = 0; i < n; i++) {
			uint16_t f = LD16(&t[i].flags);
			if (!buf_seg(m, v, b, LD64(&t[i].addr), LD32(&t[i].len), (f & VRING_DESC_F_WRITE) != 0))
				return false;
		}
		return true;
	}
	struct vring_desc *t = fake_hal_iova_to_va(addr, len);
	if (!t) {
		vio(m, "queue %u: indirect table not in DMA memory", v->index);
		return false;
	}
	unsigned i = 0;
	for (unsigned k = 0; k <= n; k++) {
		if (k == n || i >= n) {
			vio(m, "queue %u: indirect chain loops or leaves the table", v->index);
			return false;
		}
		uint16_t f = LD16(&t[i].flags);
		if (f & VRING_DESC_F_INDIRECT) {
			vio(m, "queue %u: nested indirect", v->index);
			return false;
		}
		if (!buf_seg(m, v, b, LD64(&t[i].addr), LD32(&t[i].len), (f & VRING_DESC_F_WRITE) != 0))
			return false;
		if (!(f & VRING_DESC_F_NEXT))
			return true;
		i = LD16(&t[i].next);
	}
	return false;
}

/* Take the next available buffer.  1: got one; 0: none; -1: violation (queue stops). */
static int vq_pop_split(struct netdev_model *m, struct ndm_vq *v, struct ndm_buf *b)
{
	uint16_t aidx = LD16(&v->avail->idx);
	if (aidx == v->last_avail)
		return 0;
	if ((uint16_t)(aidx - v->last_avail) > v->size) {
		vio(m, "queue %u: avail idx %u runs %u ahead", v->index, aidx, (uint16_t)(aidx - v->last_avail));
		return -1;
	}
	/* Spec 2.7.13: read the ring entry only after seeing idx. */
	F_ACQ();
	uint16_t head = LD16(&v->avail->ring[v->last_avail % v->size]);
	if (head >= v->size) {
		vio(m, "queue %u: avail head %u >= size", v->index, head);
		return -1;
	}
	b->id = head;
	uint16_t i = head;
	for (unsigned k = 0;; k++) {
		if (k >= v->size || i >= v->size) {
			vio(m, "queue %u: descriptor chain loops or leaves the table", v->index);
			return -1;
		}
		struct vring_desc *d = &v->desc[i];
		uint16_t f = LD16(&d->flags);
		b->ndesc++;
		bool ok;
		if (f & VRING_DESC_F_INDIRECT) {
			if (f & VRING_DESC_F_NEXT) {
				vio(m, "queue %u: INDIRECT with NEXT", v->index);
				return -1;
			}
			ok = buf_indirect(m, v, b, LD64(&d->addr), LD32(&d->len));
		} else {
			ok = buf_seg(m, v, b, LD64(&d->addr), LD32(&d->len), (f & VRING_DESC_F_WRITE) != 0);
		}
		if (!ok)
			return -1;
		if (!(f & VRING_DESC_F_NEXT))
			break;
		i = LD16(&d->next);
	}
	v->last_avail++;
	/* Keep asking for every doorbell (spec 2.7.10, EVENT_IDX avail_event). */
	ST16((vnet_le16 *)&v->used->ring[v->size], v->last_avail);
	return 1;
}

static int vq_pop_packed(struct netdev_model *m, struct ndm_vq *v, struct ndm_buf *b)
{
	struct vring_packed_desc *d = &v->pdesc[v->avail_pos];
	uint16_t f = LD16(&d->flags);
	/* Spec 2.8.1: available when AVAIL matches the device's avail wrap
	 * counter and USED does not. */
	if (((f & P_AVAIL) != 0) != v->avail_wrap || ((f & P_USED) != 0) == v->avail_wrap)
		return 0;
	/* Spec 2.8.21.1: the rest of the descriptor only after its flags. */
	F_ACQ();
	for (unsigned k = 0;; k++) {
		if (k >= v->size) {
			vio(m, "queue %u: packed chain longer than the ring", v->index);
			return -1;
		}
		d = &v->pdesc[v->avail_pos];
		f = LD16(&d->flags);
		if (k > 0 && (((f & P_AVAIL) != 0) != v->avail_wrap || ((f & P_USED) != 0) == v->avail_wrap)) {
			vio(m, "queue %u: chain continues into a descriptor not made available", v->index);
			return -1;
		}
		bool ok;
		if (f & VRING_DESC_F_INDIRECT)
			ok = buf_indirect(m, v, b, LD64(&d->addr), LD32(&d->len));
		else
			ok = buf_seg(m, v, b, LD64(&d->addr), LD32(&d->len), (f & VRING_DESC_F_WRITE) != 0);
		if (!ok)
			return -1;
		b->ndesc++;
		/* Spec 2.8.6: the buffer id is in the last descriptor of the chain. */
		b->id = LD16(&d->id);
		if (++v->avail_pos == v->size) {
			v->avail_pos = 0;
			v->avail_wrap = !v->avail_wrap;
		}
		if (!(f & VRING_DESC_F_NEXT))
			break;
	}
	if (b->id >= v->size) {
		vio(m, "queue %u: buffer id %u >= size", v->index, b->id);
		return -1;
	}
	return 1;
}

static int vq_pop(struct netdev_model *m, struct ndm_vq *v, struct ndm_buf *b)
{
	if (!v->live || v->dead)
		return 0;
	memset(b, 0, offsetof(struct ndm_buf, seg));
	b->nseg = 0;
	b->in_len = b->out_len = 0;
	int r = v->packed ? vq_pop_packed(m, v, b) : vq_pop_split(m, v, b);
	if (r < 0)
		v->dead = true;
	if (r == 1)
		v->taken++;
	return r;
}

/* Write one used element; split publishes it with vq_publish(). */
static void vq_push(struct ndm_vq *v, const struct ndm_buf *b, uint32_t len)
{
	v->given++;
	if (!v->packed) {
		struct vring_used_elem *e = &v->used->ring[v->used_idx % v->size];
		ST32(&e->id, b->id);
		ST32(&e->len, len);
		v->used_idx++;
		return;
	}
	struct vring_packed_desc *d = &v->pdesc[v->used_pos];
	ST32(&d->len, len);
	ST16(&d->id, b->id);
	uint16_t f = v->used_wrap ? (uint16_t)(P_AVAIL | P_USED) : 0;
	if (len)
		f |= VRING_DESC_F_WRITE;
	/* Spec 2.8.21.2: id and len before the flags that expose them. */
	F_REL();
	ST16(&d->flags, f);
	v->used_pos = (uint16_t)(v->used_pos + b->ndesc);
	if (v->used_pos >= v->size) {
		v->used_pos = (uint16_t)(v->used_pos - v->size);
		v->used_wrap = !v->used_wrap;
	}
}

static void vq_publish(struct ndm_vq *v)
{
	if (v->packed)
		return;
	/* Spec 2.7.14: used elements before the index that exposes them. */
	F_REL();
	ST16(&v->used->idx, v->used_idx);
}

/* Copy n bytes at byte offset off of the buffer's writable space. */
static void buf_write(struct ndm_buf *b, uint32_t off, const void *src, uint32_t n)
{
	const uint8_t *s = src;
	for (unsigned i = 0; i < b->nseg && n; i++) {
		if (!b->seg[i].write)
			continue;
		if (off >= b->seg[i].len) {
			off -= b->seg[i].len;
			continue;
		}
		uint32_t k = b->seg[i].len - off;
		if (k > n)
			k = n;
		memcpy(b->seg[i].va + off, s, k);
		s += k;
		n -= k;
		off = 0;
	}
}

/* Gather the readable bytes (up to cap); returns how many were copied. */
static uint32_t buf_read(const struct ndm_buf *b, void *dst, uint32_t cap)
{
	uint8_t *d = dst;
	uint32_t got = 0;
	for (unsigned i = 0; i < b->nseg; i++) {
		if (b->seg[i].write)
			continue;
		uint32_t k = b->seg[i].len;
		if (k > cap - got)
			k = cap - got;
		memcpy(d + got, b->seg[i].va, k);
		got += k;
	}
	return got;
}

/* ------------------------------------------------------------ buffer counts */

/* Buffers made available on v and not completed: consumed and kept, plus
 * those not consumed yet (split: the avail index ahead of the device's;
 * packed: walked without consuming, vq_pop_packed writes nothing). */
static uint32_t vq_held(struct netdev_model *m, struct ndm_vq *v)
{
	uint32_t n = v->taken - v->given;
	if (!v->live || v->dead)
		return n;
	if (!v->packed) {
		uint16_t ahead = (uint16_t)(LD16(&v->avail->idx) - v->last_avail);
		return n + (ahead <= v->size ? ahead : 0u);
	}
	struct ndm_pos p = pos_save(v);
	struct ndm_buf b;
	while (vq_pop(m, v, &b) == 1)
		n++;
	pos_restore(v, p);
	return n;
}

/* The device forgets ring index (reset, queue reset, set up again): its
 * counts move to the model's lifetime totals. */
static void vq_forget(struct netdev_model *m, uint16_t index)
{
	struct ndm_vq *v = &m->vq[index];
	m->vq_used_past[index] += v->given;
	m->vq_dropped[index] += vq_held(m, v);
	memset(v, 0, sizeof(*v));
}

void ndm_vq_count(struct netdev_model *m, uint16_t index, struct ndm_vq_count *c)
{
	memset(c, 0, sizeof(*c));
	if (index >= FT_MAX_QUEUES)
		return;
	struct ndm_vq *v = &m->vq[index];
	c->used = m->vq_used_past[index] + v->given;
	c->dropped = m->vq_dropped[index];
	c->held = vq_held(m, v);
}

/* ------------------------------------------------------------ transport wrappers */

static int ndm_setup_queue(void *ctx, const struct vnet_queue_setup *q)
{
	struct netdev_model *m = (struct netdev_model *)ctx;
	int rc = fake_transport_ops.setup_queue(ctx, q);
	if (rc == VNET_OK)
		vq_attach(m, q);
	return rc;
}

/* Recovery: what a device reset also forgets when m->reset_forgets
 * (QEMU's virtio_net_reset: filters, modes, MAC back to the permanent one). */
static void ndm_recover_forget(struct netdev_model *m)
{
	m->device_resets++;
	if (!m->reset_forgets)
		return;
	memset(&m->cdev, 0, sizeof(m->cdev));
	ndm_set_mac(m, m->perm_mac);
}

static int ndm_reset(void *ctx)
{
	struct netdev_model *m = (struct netdev_model *)ctx;
	/* Spec 2.4: after reset the device forgets every queue. */
	for (uint16_t i = 0; i < FT_MAX_QUEUES; i++)
		vq_forget(m, i);
	ndm_recover_forget(m);
	return fake_transport_ops.reset(ctx);
}

/* Spec 2.6.1: a queue reset forgets that queue's ring (the driver sets it
 * up again, vq_attach then learns the new one). */
static int ndm_recover_reset_queue(void *ctx, uint16_t index)
{
	struct netdev_model *m = (struct netdev_model *)ctx;
	int rc = fake_transport_ops.reset_queue(ctx, index);
	if (rc == VNET_OK && index < FT_MAX_QUEUES) {
		vq_forget(m, index);
		m->queue_resets++;
	}
	return rc;
}

int ndm_break_queue(struct netdev_model *m, uint16_t index)
{
	if (index >= FT_MAX_QUEUES || !m->vq[index].live)
		return -1;
	struct ndm_vq *v = &m->vq[index];
	struct ndm_buf b;
	memset(&b, 0, sizeof(b));
	b.id = (uint16_t)(v->size + 3u); /* no such descriptor */
	b.ndesc = 1;
	vq_push(v, &b, 0);
	v->given--; /* an entry for no buffer: not a completion */
	vq_publish(v);
	return 0;
}

/*
 * The device side of each control class (spec 5.1.6.5), as QEMU's
 * virtio-net serves them: checks the feature and the payload length,
 * keeps the state in m->cdev, answers ERR for what it cannot take
 * (counted in cdev.malformed) or for a class in m->ctrl_err_classes.
 * A command-specific result (VQ_GET) goes to result[*rlen] when room
 * (the writable bytes before the ack) allows.
 */
static uint8_t ndm_ctrl_serve(struct netdev_model *m, uint8_t cls, uint8_t cmd, const uint8_t *d, uint32_t n,
                              uint32_t room, uint8_t *result, uint32_t *rlen)
{
	struct ndm_ctrl_dev *c = &m->cdev;
	uint64_t f = m->ft.driver_features;
#define NDM_HAS(x) ((f & VNET_BIT(VIRTIO_NET_F_##x)) != 0)
#define NDM_BAD() do { c->malformed++; return VIRTIO_NET_ERR; } while (0)
	if (cls < 32 && ((m->ctrl_err_classes >> cls) & 1u))
		return VIRTIO_NET_ERR;
	switch (cls) {
	case VIRTIO_NET_CTRL_RX:
		if (cmd > VIRTIO_NET_CTRL_RX_NOBCAST || n != 1 || d[0] > 1)
			NDM_BAD();
		if (!NDM_HAS(CTRL_RX) || (cmd > VIRTIO_NET_CTRL_RX_ALLMULTI && !NDM_HAS(CTRL_RX_EXTRA)))
			NDM_BAD();
		c->rx[cmd] = d[0];
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_MAC:
		if (!NDM_HAS(CTRL_RX))
			NDM_BAD();
		if (cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
			if (!NDM_HAS(CTRL_MAC_ADDR) || n != 6)
				NDM_BAD();
			memcpy(c->mac, d, 6);
			/* Spec 5.1.6.5.2: config mac updated before the command is consumed. */
			ndm_set_mac(m, d);
			return VIRTIO_NET_OK;
		}
		if (cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET) {
			uint32_t e1, e2;
			if (n < 8)
				NDM_BAD();
			memcpy(&e1, d, 4);
			e1 = vnet_le32_to_cpu(e1);
			if (e1 > NDM_MAC_MAX || n < 8 + 6 * e1)
				NDM_BAD();
			memcpy(&e2, d + 4 + 6 * e1, 4);
			e2 = vnet_le32_to_cpu(e2);
			if (e2 > NDM_MAC_MAX || n != 8 + 6 * e1 + 6 * e2)
				NDM_BAD();
			c->n_uc = e1;
			c->n_mc = e2;
			memcpy(c->uc, d + 4, 6 * e1);
			memcpy(c->mc, d + 8 + 6 * e1, 6 * e2);
			c->tables++;
			return VIRTIO_NET_OK;
		}
		NDM_BAD();
	case VIRTIO_NET_CTRL_VLAN: {
		if (!NDM_HAS(CTRL_VLAN) || n != 2 || cmd > VIRTIO_NET_CTRL_VLAN_DEL)
			NDM_BAD();
		uint16_t vid = (uint16_t)(d[0] | d[1] << 8);
		if (vid >= 4096)
			NDM_BAD();
		if (cmd == VIRTIO_NET_CTRL_VLAN_ADD)
			c->vlan[vid >> 3] |= (uint8_t)(1u << (vid & 7));
		else
			c->vlan[vid >> 3] &= (uint8_t)~(1u << (vid & 7));
		return VIRTIO_NET_OK;
	}
	case VIRTIO_NET_CTRL_ANNOUNCE: {
		if (!NDM_HAS(GUEST_ANNOUNCE) || cmd != VIRTIO_NET_CTRL_ANNOUNCE_ACK || n != 0)
			NDM_BAD();
		/* Spec 5.1.6.5.4: clear ANNOUNCE before marking the buffer used. */
		vnet_le16 st;
		memcpy(&st, m->ft.config + offsetof(struct virtio_net_config, status), 2);
		ndm_set_status(m, (uint16_t)(vnet_le16_to_cpu(st) & ~VIRTIO_NET_S_ANNOUNCE));
		c->announce_acks++;
		return VIRTIO_NET_OK;
	}
	case VIRTIO_NET_CTRL_MQ:
		if (cmd == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET) {
			if (!NDM_HAS(MQ) || n != 2)
				NDM_BAD();
			uint16_t p = (uint16_t)(d[0] | d[1] << 8);
			if (p < 1 || p > cfg_max_pairs(m))
				NDM_BAD();
			c->pairs = p;
			c->rss_on = false; /* as QEMU: automatic steering replaces RSS */
			return VIRTIO_NET_OK;
		}
		if (cmd == VIRTIO_NET_CTRL_MQ_RSS_CONFIG || cmd == VIRTIO_NET_CTRL_MQ_HASH_CONFIG) {
			bool rss = cmd == VIRTIO_NET_CTRL_MQ_RSS_CONFIG;
			if (rss ? !NDM_HAS(RSS) : !NDM_HAS(HASH_REPORT))
				NDM_BAD();
			uint32_t off, types;
			uint16_t len = 1, uncl = 0, mtx = 0;
			if (n < 12)
				NDM_BAD();
			memcpy(&types, d, 4);
			types = vnet_le32_to_cpu(types);
			if (rss) {
				uint16_t mask = (uint16_t)(d[4] | d[5] << 8);
				len = (uint16_t)(mask + 1u);
				uncl = (uint16_t)(d[6] | d[7] << 8);
				if (len & mask || len > NDM_INDIR_MAX || len > m->rss_max_indir || n < 8u + 2u * len + 3u)
					NDM_BAD();
				for (uint16_t i = 0; i < len; i++)
					c->indir[i] = (uint16_t)(d[8 + 2 * i] | d[9 + 2 * i] << 8);
				off = 8u + 2u * len;
				mtx = (uint16_t)(d[off] | d[off + 1] << 8);
				off += 2;
			} else {
				off = 12;
			}
			uint8_t kl = d[off++];
			if (n != off + kl || kl > m->rss_max_key || (types & ~m->rss_types))
				NDM_BAD();
			c->hash_types = types;
			c->indir_len = len;
			c->unclassified = uncl;
			c->max_tx_vq = mtx;
			c->key_len = kl;
			memcpy(c->key, d + off, kl);
			c->rss_on = rss;
			c->hash_configs++;
			return VIRTIO_NET_OK;
		}
		NDM_BAD();
	case VIRTIO_NET_CTRL_GUEST_OFFLOADS: {
		if (!NDM_HAS(CTRL_GUEST_OFFLOADS) || n != 8 || cmd != VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET)
			NDM_BAD();
		uint64_t o;
		memcpy(&o, d, 8);
		o = vnet_le64_to_cpu(o);
		if (o & ~f)
			NDM_BAD(); /* an offload that was not negotiated */
		c->offloads = o;
		return VIRTIO_NET_OK;
	}
	case VIRTIO_NET_CTRL_NOTF_COAL: {
		struct virtio_net_ctrl_coal w;
		if (cmd == VIRTIO_NET_CTRL_NOTF_COAL_TX_SET || cmd == VIRTIO_NET_CTRL_NOTF_COAL_RX_SET) {
			if (!NDM_HAS(NOTF_COAL) || n != 8)
				NDM_BAD();
			memcpy(&w, d, 8);
			unsigned dir = cmd == VIRTIO_NET_CTRL_NOTF_COAL_TX_SET ? 1u : 0u;
			for (unsigned i = dir; i < NDM_COAL_VQ; i += 2) {
				c->coal[i][0] = vnet_le32_to_cpu(w.max_usecs);
				c->coal[i][1] = vnet_le32_to_cpu(w.max_packets);
			}
			return VIRTIO_NET_OK;
		}
		if (!NDM_HAS(VQ_NOTF_COAL))
			NDM_BAD();
		uint16_t vq = (uint16_t)(d[0] | (n > 1 ? d[1] << 8 : 0));
		if (vq >= NDM_COAL_VQ || vq / 2u >= (c->pairs ? c->pairs : 1u))
			NDM_BAD(); /* not an enabled data queue */
		if (cmd == VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET) {
			if (n != 12)
				NDM_BAD();
			memcpy(&w, d + 4, 8);
			c->coal[vq][0] = vnet_le32_to_cpu(w.max_usecs);
			c->coal[vq][1] = vnet_le32_to_cpu(w.max_packets);
			return VIRTIO_NET_OK;
		}
		if (cmd == VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET) {
			if (n != 4 || room < 8)
				NDM_BAD();
			w.max_usecs = vnet_cpu_to_le32(c->coal[vq][0]);
			w.max_packets = vnet_cpu_to_le32(c->coal[vq][1]);
			memcpy(result, &w, 8);
			*rlen = 8;
			return VIRTIO_NET_OK;
		}
		NDM_BAD();
	}
	default:
		NDM_BAD();
	}
#undef NDM_HAS
#undef NDM_BAD
}

static void ndm_ctrl_process(struct netdev_model *m, struct ndm_vq *v)
{
	struct ndm_buf b;
	bool done = false;
	while (vq_pop(m, v, &b) == 1) {
		uint8_t cmd[2 + NDM_CTRL_DATA];
		uint32_t n = buf_read(&b, cmd, sizeof(cmd));
		m->ctrl_total++;
		/* Spec 5.1.6.5: class, command, data readable; ack writable. */
		if (n < 2 || b.in_len < 1) {
			vio(m, "controlq: command of %u readable / %u writable bytes", n, b.in_len);
			v->dead = true;
			return;
		}
		struct ndm_ctrl_rec *r = m->nctrl < NDM_CTRL_MAX ? &m->ctrl[m->nctrl++] : 0;
		uint8_t result[16];
		uint32_t rlen = 0;
		uint8_t ack = m->ctrl_mode == NDM_CTRL_OK ? VIRTIO_NET_OK : VIRTIO_NET_ERR;
		if (m->ctrl_mode == NDM_CTRL_SILENT)
			ack = 0xff;
		else if (ack == VIRTIO_NET_OK)
			ack = ndm_ctrl_serve(m, cmd[0], cmd[1], cmd + 2, n - 2, b.in_len - 1u, result, &rlen);
		if (r) {
			r->class_ = cmd[0];
			r->cmd = cmd[1];
			r->len = n - 2;
			memcpy(r->data, cmd + 2, n - 2);
			r->ack = ack;
		}
		if (m->ctrl_mode == NDM_CTRL_SILENT)
			continue; /* keep the buffer forever */
		uint32_t used = b.in_len; /* result (if any) + ack */
		switch (m->ctrl_lie) {
		case NDM_CTRL_LIE_NONE:
			break;
		case NDM_CTRL_LIE_NO_ACK:
			ack = 0xff; /* recorded as "nothing written" */
			break;
		case NDM_CTRL_LIE_ACK_VALUE:
			ack = m->ctrl_lie_ack;
			break;
		case NDM_CTRL_LIE_LEN0:
			used = 0;
			break;
		case NDM_CTRL_LIE_BAD_ID:
			b.id = (uint16_t)(v->size + 1u);
			break;
		case NDM_CTRL_LIE_SHORT:
			used = b.in_len - 1u; /* one byte short of result + ack */
			break;
		case NDM_CTRL_LIE_LONG:
			used = b.in_len + 8u; /* more than the driver made writable */
			break;
		}
		if (rlen && ack == VIRTIO_NET_OK && m->ctrl_lie != NDM_CTRL_LIE_NO_ACK)
			buf_write(&b, 0, result, rlen);
		if (r)
			r->ack = ack;
		/* The ack is the last writable byte (spec 5.1.6.5: class, command,
		 * data readable; ack writable). */
		if (m->ctrl_lie != NDM_CTRL_LIE_NO_ACK)
			buf_write(&b, b.in_len - 1u, &ack, 1);
		vq_push(v, &b, used);
		done = true;
	}
	if (done)
		vq_publish(v);
}

static void ndm_on_notify(void *arg, uint16_t index, uint32_t data)
{
	struct netdev_model *m = arg;
	(void)data;
	if (index < FT_MAX_QUEUES && index == ctrl_index(m))
		ndm_ctrl_process(m, &m->vq[index]);
}

/* ------------------------------------------------------------ public */

int ndm_init(struct netdev_model *m, uint64_t offered, uint16_t max_pairs, uint16_t qmax)
{
	memset(m, 0, sizeof(*m));
	fake_transport_init(&m->ft, offered, 3, qmax);
	for (unsigned i = 0; i < FT_MAX_QUEUES; i++)
		m->ft.q[i].max_size = qmax;
	m->ops = fake_transport_ops;
	m->ops.name = "ndm";
	m->ops.setup_queue = ndm_setup_queue;
	m->ops.reset = ndm_reset;
	m->ops.reset_queue = ndm_recover_reset_queue;
	m->ft.on_notify = ndm_on_notify;
	m->ft.on_notify_arg = m;
	m->vq = calloc(FT_MAX_QUEUES, sizeof(*m->vq));
	m->tx = calloc(NDM_TX_MAX, sizeof(*m->tx));
	if (!m->vq || !m->tx) {
		ndm_fini(m);
		return -1;
	}
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	ndm_set_mac(m, mac);
	memcpy(m->perm_mac, mac, 6);
	ndm_set_status(m, VIRTIO_NET_S_LINK_UP);
	ndm_set_max_pairs(m, max_pairs);
	ndm_set_mtu(m, 1500);
	ndm_set_rss_caps(m, 40, 128, 0x3f);
	ndm_set_speed(m, 10000, VIRTIO_NET_DUPLEX_FULL);
	return 0;
}

void ndm_fini(struct netdev_model *m)
{
	for (unsigned i = 0; m->tx && i < NDM_TX_MAX; i++)
		free(m->tx[i].data);
	free(m->vq);
	free(m->tx);
	m->vq = 0;
	m->tx = 0;
}

unsigned ndm_poll(struct netdev_model *m)
{
	unsigned n = 0;
	if (m->tx_hold)
		return 0;
	static uint8_t tmp[VIRTIO_NET_HDR_LEN_HASH + NDM_FRAME_MAX];
	for (uint16_t i = 1; i < FT_MAX_QUEUES; i += 2) {
		struct ndm_vq *v = &m->vq[i];
		struct ndm_buf b;
		bool done = false;
		while (vq_pop(m, v, &b) == 1) {
			if (b.in_len) {
				vio(m, "transmitq %u: buffer with %u writable bytes", i, b.in_len);
				v->dead = true;
				break;
			}
			if (b.out_len < NDM_HDR_LEN) {
				/* Spec 5.1.6.2: every packet is preceded by the header. */
				vio(m, "transmitq %u: %u bytes, shorter than the header", i, b.out_len);
			}
			uint32_t got = buf_read(&b, tmp, sizeof(tmp));
			m->tx_total++;
			if (got >= NDM_HDR_LEN) {
				/* Recorded while there is room; checked always. */
				static struct ndm_tx_frame spare;
				struct ndm_tx_frame *t = m->ntx < NDM_TX_MAX ? &m->tx[m->ntx++] : &spare;
				t->qp = (uint16_t)(i / 2);
				memcpy(&t->hdr, tmp, sizeof(t->hdr));
				t->len = got - NDM_HDR_LEN;
				t->ndesc = b.ndesc;
				t->nseg = (uint16_t)b.nseg;
				t->indirect = b.ndesc == 1 && b.nseg > 1;
				if (!t->data)
					t->data = malloc(NDM_FRAME_MAX);
				if (t->data)
					memcpy(t->data, tmp + NDM_HDR_LEN, t->len);
				ndm_tx_check_hdr(m, t);
			}
			/* Nothing written: used length 0 (spec 2.7.8). */
			vq_push(v, &b, 0);
			done = true;
			n++;
		}
		if (done)
			vq_publish(v);
	}
	return n;
}

/* ------------------------------------------------------------ offloads */

uint32_t ndm_gso_segments(const struct ndm_tx_frame *t)
{
	uint16_t gsz = vnet_le16_to_cpu(t->hdr.gso_size);
	uint16_t hl = vnet_le16_to_cpu(t->hdr.hdr_len);
	if (t->hdr.gso_type == VIRTIO_NET_HDR_GSO_NONE || gsz == 0 || hl >= t->len)
		return 1;
	return (t->len - hl + gsz - 1u) / gsz;
}

void ndm_tx_check_hdr(struct netdev_model *m, const struct ndm_tx_frame *t)
{
	uint64_t f = m->ft.driver_features;
	const struct virtio_net_hdr *h = &t->hdr;
	uint16_t start = vnet_le16_to_cpu(h->csum_start), off = vnet_le16_to_cpu(h->csum_offset);
	uint16_t gsz = vnet_le16_to_cpu(h->gso_size), hl = vnet_le16_to_cpu(h->hdr_len);
	if (vnet_le16_to_cpu(h->num_buffers) != 0)
		vio(m, "transmitq: num_buffers %u, not 0", vnet_le16_to_cpu(h->num_buffers));
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		vio(m, "transmitq: header flags 0x%x", h->flags);
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!(f & VNET_BIT(VIRTIO_NET_F_CSUM)))
			vio(m, "transmitq: NEEDS_CSUM without CSUM");
		if ((uint32_t)start + off + 2u > t->len)
			vio(m, "transmitq: checksum at %u+%u outside a %u-byte frame", start, off, t->len);
		m->tx_csum++;
	}
	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return;
	uint8_t base = (uint8_t)(h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN);
	bool ok = (base == VIRTIO_NET_HDR_GSO_TCPV4 && (f & VNET_BIT(VIRTIO_NET_F_HOST_TSO4))) ||
	          (base == VIRTIO_NET_HDR_GSO_TCPV6 && (f & VNET_BIT(VIRTIO_NET_F_HOST_TSO6))) ||
	          (base == VIRTIO_NET_HDR_GSO_UDP && (f & VNET_BIT(VIRTIO_NET_F_HOST_UFO))) ||
	          (base == VIRTIO_NET_HDR_GSO_UDP_L4 && (f & VNET_BIT(VIRTIO_NET_F_HOST_USO)));
	if (!ok)
		vio(m, "transmitq: gso_type 0x%x not negotiated", h->gso_type);
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) &&
	    (!(f & VNET_BIT(VIRTIO_NET_F_HOST_ECN)) ||
	     (base != VIRTIO_NET_HDR_GSO_TCPV4 && base != VIRTIO_NET_HDR_GSO_TCPV6)))
		vio(m, "transmitq: GSO_ECN on 0x%x without HOST_ECN or TCP", h->gso_type);
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		vio(m, "transmitq: GSO frame without NEEDS_CSUM");
	if (gsz == 0)
		vio(m, "transmitq: GSO frame with gso_size 0");
	if (hl > t->len)
		vio(m, "transmitq: hdr_len %u past a %u-byte frame", hl, t->len);
	if (t->len > 65535u + 18u)
		vio(m, "transmitq: GSO frame of %u bytes", t->len);
	m->tx_gso++;
	m->tx_gso_segs += ndm_gso_segments(t);
}

unsigned ndm_rx_avail(struct netdev_model *m, uint16_t qp)
{
	if (2u * qp >= FT_MAX_QUEUES)
		return 0;
	struct ndm_vq *v = &m->vq[2 * qp];
	struct ndm_pos p = pos_save(v);
	struct ndm_buf b;
	unsigned n = 0;
	while (vq_pop(m, v, &b) == 1)
		n++;
	pos_restore(v, p);
	return n;
}

static void ndm_rx_note_head(struct ndm_buf *b);

int ndm_rx_inject(struct netdev_model *m, uint16_t qp, const void *frame, uint32_t len, const struct ndm_rx *opt)
{
	static const struct ndm_rx plain;
	static struct ndm_buf bufs[NDM_RX_SEG_MAX];
	if (!opt)
		opt = &plain;
	if (2u * qp >= FT_MAX_QUEUES)
		return -1;
	struct ndm_vq *v = &m->vq[2 * qp];
	if (!v->live || v->dead)
		return -1;
	bool mrg = (m->ft.driver_features & VNET_BIT(VIRTIO_NET_F_MRG_RXBUF)) != 0;
	struct ndm_pos saved = pos_save(v);
	uint32_t total = NDM_HDR_LEN + len;
	uint32_t put[NDM_RX_SEG_MAX];
	unsigned nb = 0;
	uint32_t placed = 0;
	/* Spec 5.1.6.4: without MRG_RXBUF one buffer holds the whole packet;
	 * with it the device uses as many as it needs, in order. */
	while (placed < total) {
		if (nb == NDM_RX_SEG_MAX || (nb == 1 && !mrg) || vq_pop(m, v, &bufs[nb]) != 1) {
			pos_restore(v, saved);
			return -1;
		}
		if (bufs[nb].out_len) {
			vio(m, "receiveq %u: buffer with %u readable bytes", qp, bufs[nb].out_len);
			v->dead = true;
			return -1;
		}
		uint32_t cap = bufs[nb].in_len;
		if (opt->chunk && opt->chunk < cap)
			cap = opt->chunk;
		if (nb == 0 && cap < NDM_HDR_LEN) {
			pos_restore(v, saved);
			return -1;
		}
		uint32_t k = total - placed < cap ? total - placed : cap;
		put[nb++] = k;
		placed += k;
	}
	struct virtio_net_hdr h = {
		.flags = opt->flags,
		.gso_type = opt->gso_type,
		.hdr_len = vnet_cpu_to_le16(opt->hdr_len),
		.gso_size = vnet_cpu_to_le16(opt->gso_size),
		.csum_start = vnet_cpu_to_le16(opt->csum_start),
		.csum_offset = vnet_cpu_to_le16(opt->csum_offset),
		.num_buffers = vnet_cpu_to_le16(opt->set_num_buffers ? opt->num_buffers : (uint16_t)nb),
	};
	const uint8_t *src = frame;
	uint32_t off = 0; /* offset in frame */
	for (unsigned i = 0; i < nb; i++) {
		uint32_t used = put[i];
		if (i == 0) {
			struct virtio_net_hdr_hash hh = {h, vnet_cpu_to_le32(opt->hash_value),
			                                 vnet_cpu_to_le16(opt->hash_report), 0};
			buf_write(&bufs[0], 0, &hh, NDM_HDR_LEN);
			buf_write(&bufs[0], NDM_HDR_LEN, src, used - NDM_HDR_LEN);
			off = used - NDM_HDR_LEN;
			if (opt->set_used_len)
				used = opt->used_len;
		} else {
			buf_write(&bufs[i], 0, src + off, used);
			off += used;
			if (i == opt->seg && opt->seg_hdr) {
				struct virtio_net_hdr lie = h;
				lie.num_buffers = vnet_cpu_to_le16(opt->seg_nbufs);
				uint32_t k = used < sizeof(lie) ? used : (uint32_t)sizeof(lie);
				buf_write(&bufs[i], 0, &lie, k);
			}
			if (i == opt->seg && opt->set_seg_len)
				used = opt->seg_len;
			if (i == opt->seg && opt->set_seg_id)
				bufs[i].id = opt->seg_id == NDM_ID_OF_HEAD ? bufs[0].id : opt->seg_id;
		}
		vq_push(v, &bufs[i], used);
	}
	vq_publish(v);
	ndm_rx_note_head(&bufs[0]);
	return (int)nb;
}

/* The first buffer of the last frame ndm_rx_inject completed (its
 * addresses stay valid while the driver's memory does), for
 * ndm_rx_rewrite_last. */
static struct ndm_buf *ndm_last_rx_head; /* ndm_rx_inject's static bufs[0] */

static void ndm_rx_note_head(struct ndm_buf *b)
{
	ndm_last_rx_head = b;
}

int ndm_rx_rewrite_last(struct netdev_model *m, uint32_t off, const void *bytes, uint32_t n)
{
	(void)m;
	if (!ndm_last_rx_head || off + n > ndm_last_rx_head->in_len)
		return -1;
	buf_write(ndm_last_rx_head, off, bytes, n);
	return 0;
}

bool ndm_rx_irq_armed(struct netdev_model *m, uint16_t qp)
{
	if (2u * qp >= FT_MAX_QUEUES)
		return false;
	const struct ndm_vq *v = &m->vq[2 * qp];
	if (!v->live)
		return false;
	bool event_idx = (m->ft.driver_features & VNET_BIT(VIRTIO_F_EVENT_IDX)) != 0;
	F_ACQ();
	if (!v->packed) {
		if (!event_idx)
			return !(LD16(&v->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
		/* Spec 2.7.10: notify when the used idx passes used_event; the
		 * next completion moves it from used_idx to used_idx + 1. */
		uint16_t ev = LD16(&v->avail->ring[v->size]);
		return vring_need_event(ev, (uint16_t)(v->used_idx + 1u), v->used_idx) != 0;
	}
	uint16_t flags = LD16(&v->drv_event->flags);
	if (flags == VRING_PACKED_EVENT_FLAG_ENABLE)
		return true;
	if (flags != VRING_PACKED_EVENT_FLAG_DESC || !event_idx)
		return false;
	/* Spec 2.8.10: notify when the descriptor at off (with that wrap) is used. */
	uint16_t ow = LD16(&v->drv_event->off_wrap);
	uint16_t off = (uint16_t)(ow & 0x7fffu);
	bool wrap = (ow >> VRING_PACKED_EVENT_F_WRAP_CTR) != 0;
	return off == v->used_pos && wrap == v->used_wrap;
}

unsigned ndm_ctrl_count(const struct netdev_model *m, uint8_t class_, uint8_t cmd)
{
	unsigned n = 0;
	for (unsigned i = 0; i < m->nctrl; i++)
		n += m->ctrl[i].class_ == class_ && m->ctrl[i].cmd == cmd;
	return n;
}

const struct ndm_ctrl_rec *ndm_ctrl_last(const struct netdev_model *m, uint8_t class_, uint8_t cmd)
{
	for (unsigned i = m->nctrl; i-- > 0;)
		if (m->ctrl[i].class_ == class_ && m->ctrl[i].cmd == cmd)
			return &m->ctrl[i];
	return 0;
}
