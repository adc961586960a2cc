/*
 * Device model: see devmodel.h for what it is.  Written from the VirtIO 1.x
 * spec (split-ring.tex, packed-ring.tex), deliberately not from the driver
 * engine in src/core: its job is to disagree with the engine when the
 * engine is wrong.
 *
 * The device side keeps its own state only (next avail position, used
 * position, wrap counters, consumed-but-not-completed buffers); it never
 * looks at the driver's private shadow.  Shared fields are accessed with
 * relaxed atomics plus explicit fences, mirroring what a real device on
 * another CPU sees.
 */
#define _GNU_SOURCE
#include "devmodel.h"

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_hal.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/spec/virtio_ring.h"

#define LD16(p) vnet_le16_to_cpu(__atomic_load_n((p), __ATOMIC_RELAXED))
#define LD32(p) vnet_le32_to_cpu(__atomic_load_n((p), __ATOMIC_RELAXED))
#define LD64(p) vnet_le64_to_cpu(__atomic_load_n((p), __ATOMIC_RELAXED))
#define ST16(p, v) __atomic_store_n((p), vnet_cpu_to_le16(v), __ATOMIC_RELAXED)
#define ST32(p, v) __atomic_store_n((p), vnet_cpu_to_le32(v), __ATOMIC_RELAXED)
#define ST64(p, v) __atomic_store_n((p), vnet_cpu_to_le64(v), __ATOMIC_RELAXED)
#define F_ACQ() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define F_REL() __atomic_thread_fence(__ATOMIC_RELEASE)
#define F_FULL() __atomic_thread_fence(__ATOMIC_SEQ_CST)

#define P_AVAIL ((uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL))
#define P_USED ((uint16_t)(1u << VRING_PACKED_DESC_F_USED))
#define NO_MEMBER 0xffffu

struct dm_pend {
	uint64_t seq;
	uint32_t in_len;
	uint32_t used_len;
	uint16_t id;      /* split head / packed buffer id */
	uint16_t ndesc;   /* ring descriptors (split: main table; packed: ring slots) */
	uint16_t member;  /* split: a non-head descriptor of the chain, or NO_MEMBER */
	uint16_t first;   /* split: head; packed: ring position of the first descriptor */
	bool indirect;    /* packed: posted as one indirect descriptor */
};

/* Second pass over writable segments once the used length is known. */
struct dm_wseg {
	uint64_t addr;
	uint32_t len;
};

struct dm_fault_req {
	enum dm_fault fault;
	uint32_t arg;
};

#define DM_MAX_FAULTS 16

struct dm {
	struct dm_config cfg;
	bool event_idx, in_order, indirect_ok, notif_data;
	bool dead;        /* a violation the device cannot continue after */
	/* ring pointers (device view of the driver's memory) */
	struct vring_desc *sdesc;
	struct vring_avail *avail;
	struct vring_used *used;
	vnet_le16 *used_event;   /* &avail->ring[size] */
	vnet_le16 *avail_event;  /* &used->ring[size] */
	struct vring_packed_desc *pdesc;
	struct vring_packed_desc_event *drv_evt;
	struct vring_packed_desc_event *dev_evt;
	/* device state */
	uint16_t last_avail;     /* split: next avail entry (free-running) */
	uint16_t used_idx;       /* split: next used idx (free-running) */
	uint16_t sig_used;       /* split: used idx at the last interrupt decision */
	uint16_t in_order_next;  /* split+IN_ORDER: descriptor the next chain must start at */
	uint16_t avail_pos, avail_wrap;  /* packed */
	uint16_t used_pos, used_wrap;    /* packed */
	uint64_t used_lin, sig_lin;      /* packed: descriptors marked used, free-running */
	uint64_t seq;
	uint8_t *busy;           /* split: per descriptor; packed: per buffer id */
	uint16_t *cnext;         /* split: chain links as read at consume time */
	struct dm_pend *pend;    /* consumed, not completed, in consumption order */
	unsigned npend;
	struct dm_pend *work;    /* scratch for one completion round */
	struct dm_wseg *ws;      /* scratch: writable segments of one buffer */
	unsigned *sel, *perm;    /* scratch: completion selection */
	uint32_t rng;
	bool paused;
	bool sleeping;
	bool threaded;
	bool rewrite_next;       /* DM_FAULT_REWRITE_DESC armed */
	uint16_t db_avail;       /* split: avail->idx at the previous doorbell */
	uint64_t db_consumed;    /* st.consumed at the previous doorbell */
	/* faults */
	pthread_mutex_t lock;
	struct dm_fault_req faults[DM_MAX_FAULTS];
	unsigned nfaults;
	/* thread */
	pthread_t thr;
	int stop;                /* atomic */
	int doorbell;            /* atomic: a doorbell not yet seen by the device */
	struct dm_stats st;
	char last_vio[256];
};

uint32_t dm_checksum(uint32_t h, const void *p, size_t len)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

__attribute__((format(printf, 2, 3))) static void vio(struct dm *dm, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dm->last_vio, sizeof(dm->last_vio), fmt, ap);
	va_end(ap);
	dm->st.violations++;
	if (getenv("ORION_VNET_TEST_VERBOSE"))
		fprintf(stderr, "devmodel violation: %s\n", dm->last_vio);
}

static uint32_t rnd(struct dm *dm)
{
	uint32_t x = dm->rng;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	dm->rng = x;
	return x;
}

/* ------------------------------------------------------------------ */
/* creation                                                            */
/* ------------------------------------------------------------------ */

static void set_avail_suppression(struct dm *dm, bool want);

struct dm *dm_create(const struct dm_config *cfg)
{
	struct dm *dm = calloc(1, sizeof(*dm));
	if (!dm)
		return NULL;
	dm->cfg = *cfg;
	uint16_t n = cfg->size;
	dm->event_idx = (cfg->features & VNET_BIT(VIRTIO_F_EVENT_IDX)) != 0;
	dm->in_order = (cfg->features & VNET_BIT(VIRTIO_F_IN_ORDER)) != 0;
	dm->indirect_ok = (cfg->features & VNET_BIT(VIRTIO_F_INDIRECT_DESC)) != 0;
	dm->notif_data = (cfg->features & VNET_BIT(VIRTIO_F_NOTIFICATION_DATA)) != 0;
	dm->rng = cfg->seed ? cfg->seed : 0x12345678u;
	dm->avail_wrap = 1;  /* spec 2.8.1: both wrap counters start at 1 */
	dm->used_wrap = 1;
	pthread_mutex_init(&dm->lock, NULL);
	dm->busy = calloc(n ? n : 1, 1);
	dm->cnext = calloc(n ? n : 1, sizeof(uint16_t));
	dm->pend = calloc(n ? n : 1, sizeof(*dm->pend));
	dm->work = calloc(n ? n : 1, sizeof(*dm->work));
	dm->ws = calloc(n ? n : 1, sizeof(*dm->ws));
	dm->sel = calloc(n ? n : 1, sizeof(unsigned));
	dm->perm = calloc(n ? n : 1, sizeof(unsigned));
	dm->sleeping = cfg->notify == DM_NOTIFY_SLEEP;
	if (!dm->busy || !dm->cnext || !dm->pend || !dm->work || !dm->ws || !dm->sel || !dm->perm) {
		dm_destroy(dm);
		return NULL;
	}
	if (n == 0 || n > VRING_MAX_SIZE) {
		vio(dm, "queue size %u", (unsigned)n);
		dm->dead = true;
		return dm;
	}
	if (cfg->layout == VNET_VQ_SPLIT) {
		/* spec 2.7 table: alignment 16 / 2 / 4 */
		if (cfg->desc_addr % VRING_DESC_ALIGN || cfg->driver_addr % VRING_AVAIL_ALIGN ||
		    cfg->device_addr % VRING_USED_ALIGN)
			vio(dm, "split ring parts misaligned");
		dm->sdesc = fake_hal_iova_to_va(cfg->desc_addr, vring_split_desc_bytes(n));
		dm->avail = fake_hal_iova_to_va(cfg->driver_addr, vring_split_avail_bytes(n));
		dm->used = fake_hal_iova_to_va(cfg->device_addr, vring_split_used_bytes(n));
		if (!dm->sdesc || !dm->avail || !dm->used) {
			vio(dm, "split ring not in DMA memory");
			dm->dead = true;
			return dm;
		}
		dm->used_event = &dm->avail->ring[n];
		dm->avail_event = (vnet_le16 *)&dm->used->ring[n];
		if (cfg->notify == DM_NOTIFY_NEVER && dm->event_idx)
			ST16(dm->avail_event, cfg->avail_event);
	} else {
		if (cfg->desc_addr % VRING_PACKED_DESC_ALIGN || cfg->driver_addr % VRING_PACKED_EVENT_ALIGN ||
		    cfg->device_addr % VRING_PACKED_EVENT_ALIGN)
			vio(dm, "packed ring parts misaligned");
		dm->pdesc = fake_hal_iova_to_va(cfg->desc_addr, 16u * (size_t)n);
		dm->drv_evt = fake_hal_iova_to_va(cfg->driver_addr, 4);
		dm->dev_evt = fake_hal_iova_to_va(cfg->device_addr, 4);
		if (!dm->pdesc || !dm->drv_evt || !dm->dev_evt) {
			vio(dm, "packed ring not in DMA memory");
			dm->dead = true;
			return dm;
		}
	}
	set_avail_suppression(dm, cfg->notify != DM_NOTIFY_NEVER);
	return dm;
}

void dm_destroy(struct dm *dm)
{
	if (!dm)
		return;
	if (dm->threaded)
		dm_stop(dm);
	pthread_mutex_destroy(&dm->lock);
	free(dm->busy);
	free(dm->cnext);
	free(dm->pend);
	free(dm->work);
	free(dm->ws);
	free(dm->sel);
	free(dm->perm);
	free(dm);
}

/* ------------------------------------------------------------------ */
/* available-buffer notification suppression (device half)             */
/* ------------------------------------------------------------------ */

/* want: the device asks to be notified of the next available buffer. */
static void set_avail_suppression(struct dm *dm, bool want)
{
	if (dm->cfg.notify == DM_NOTIFY_NEVER)
		want = false;
	if (dm->cfg.layout == VNET_VQ_SPLIT) {
		if (dm->event_idx) {
			/* spec 2.7.10: notify when the driver writes entry
			 * avail_event.  "Not wanted" points it as far back as
			 * possible (last_avail - 1); NEVER keeps the fixed value. */
			if (dm->cfg.notify != DM_NOTIFY_NEVER)
				ST16(dm->avail_event, want ? dm->last_avail : (uint16_t)(dm->last_avail - 1u));
		} else {
			ST16(&dm->used->flags, want ? 0 : VRING_USED_F_NO_NOTIFY);
		}
	} else {
		if (want && dm->event_idx) {
			/* spec 2.8.10: notify when the descriptor at our next
			 * avail position (with its wrap) is made available. */
			ST16(&dm->dev_evt->off_wrap,
			     (uint16_t)(dm->avail_pos | (dm->avail_wrap << VRING_PACKED_EVENT_F_WRAP_CTR)));
			F_REL();
			ST16(&dm->dev_evt->flags, VRING_PACKED_EVENT_FLAG_DESC);
		} else {
			ST16(&dm->dev_evt->flags, want ? VRING_PACKED_EVENT_FLAG_ENABLE : VRING_PACKED_EVENT_FLAG_DISABLE);
		}
	}
}

/* ------------------------------------------------------------------ */
/* processing one buffer's data                                        */
/* ------------------------------------------------------------------ */

struct dm_walk {
	struct dm_buf_info info;
	bool seen_write;
	uint32_t written;     /* writable bytes already filled */
	uint32_t want;        /* used length to report */
	bool bad;
};

/* One data segment: readable ones are checksummed, writable ones get the
 * pattern up to the used length chosen for the buffer. */
static void seg(struct dm *dm, struct dm_walk *w, uint64_t addr, uint32_t len, bool write)
{
	w->info.nseg++;
	if (write)
		w->seen_write = true;
	else if (w->seen_write) {
		/* spec 2.7.4.1 / 2.8 "Scatter-Gather Support": readable before writable */
		vio(dm, "buffer seq %llu: readable descriptor after a writable one",
		    (unsigned long long)w->info.seq);
		w->bad = true;
	}
	uint8_t *p = len ? fake_hal_iova_to_va(addr, len) : NULL;
	if (len && !p) {
		vio(dm, "buffer seq %llu: segment 0x%llx+%u outside DMA memory", (unsigned long long)w->info.seq,
		    (unsigned long long)addr, (unsigned)len);
		w->bad = true;
		return;
	}
	if (!write) {
		w->info.out_csum = dm_checksum(w->info.out_csum, p, len);
		w->info.out_len += len;
		dm->st.out_bytes += len;
	} else {
		w->info.in_len += len;
		dm->st.in_bytes += len;
	}
}


static uint32_t pick_used_len(struct dm *dm, uint32_t in_len)
{
	if (dm->cfg.len_mode == DM_LEN_FIXED)
		return dm->cfg.len_value < in_len ? dm->cfg.len_value : in_len;
	return in_len;
}

static void fill_writable(uint64_t seq, const struct dm_wseg *ws, unsigned nws, uint32_t used_len)
{
	uint32_t off = 0;
	for (unsigned i = 0; i < nws && off < used_len; i++) {
		uint32_t n = ws[i].len;
		if (n > used_len - off)
			n = used_len - off;
		uint8_t *p = fake_hal_iova_to_va(ws[i].addr, n);
		if (!p)
			return;
		for (uint32_t j = 0; j < n; j++)
			p[j] = dm_pattern_byte(seq, off + j);
		off += n;
	}
}

/* Indirect table (split and packed descriptors have the same addr/len at
 * offsets 0/8; flags/next vs id/flags differ). */
static bool walk_indirect(struct dm *dm, struct dm_walk *w, uint64_t addr, uint32_t len, struct dm_wseg *ws,
                          unsigned *nws, bool rewrite)
{
	w->info.indirect = true;
	if (!dm->indirect_ok) {
		vio(dm, "INDIRECT used without VIRTIO_F_INDIRECT_DESC");
		return false;
	}
	if (len == 0 || len % 16) {
		/* spec 2.7.5.3 / 2.8.x: a table of 16-byte descriptors */
		vio(dm, "indirect table length %u not a non-zero multiple of 16", (unsigned)len);
		return false;
	}
	unsigned n = len / 16;
	if (n > dm->cfg.size) {
		vio(dm, "indirect table of %u entries longer than queue size %u", n, (unsigned)dm->cfg.size);
		return false;
	}
	void *tab = fake_hal_iova_to_va(addr, len);
	if (!tab) {
		vio(dm, "indirect table 0x%llx+%u outside DMA memory", (unsigned long long)addr, (unsigned)len);
		return false;
	}
	if (dm->cfg.layout == VNET_VQ_SPLIT) {
		struct vring_desc *t = tab;
		unsigned i = 0, count = 0;
		for (;;) {
			if (++count > n) {
				vio(dm, "indirect chain loops or exceeds its table");
				return false;
			}
			uint64_t a = LD64(&t[i].addr);
			uint32_t l = LD32(&t[i].len);
			uint16_t f = LD16(&t[i].flags);
			uint16_t nx = LD16(&t[i].next);
			if (f & VRING_DESC_F_INDIRECT) {
				vio(dm, "INDIRECT flag inside an indirect table");
				return false;
			}
			if (f & VRING_DESC_F_WRITE && *nws < dm->cfg.size) {
				ws[*nws].addr = a;
				ws[(*nws)++].len = l;
			}
			seg(dm, w, a, l, f & VRING_DESC_F_WRITE);
			if (!(f & VRING_DESC_F_NEXT))
				break;
			if (nx >= n) {
				vio(dm, "indirect next %u beyond table of %u", (unsigned)nx, n);
				return false;
			}
			if (dm->in_order && nx != i + 1)
				vio(dm, "IN_ORDER: indirect next %u after %u (spec: sequential)", (unsigned)nx, i);
			i = nx;
		}
		if (rewrite)
			for (unsigned k = 0; k < n; k++) {
				ST64(&t[k].addr, 0xbad0000000000000ULL + k);
				ST32(&t[k].len, 0xffffffffu);
				ST16(&t[k].flags, VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT);
				ST16(&t[k].next, 0xffff);
			}
	} else {
		struct vring_packed_desc *t = tab;
		for (unsigned i = 0; i < n; i++) {
			uint64_t a = LD64(&t[i].addr);
			uint32_t l = LD32(&t[i].len);
			uint16_t f = LD16(&t[i].flags);
			/* spec 2.8 "Indirect Descriptors": only WRITE is valid */
			if (f & ~VRING_DESC_F_WRITE) {
				vio(dm, "packed indirect entry %u has flags 0x%x (only WRITE allowed)", i, (unsigned)f);
				return false;
			}
			if (f & VRING_DESC_F_WRITE && *nws < dm->cfg.size) {
				ws[*nws].addr = a;
				ws[(*nws)++].len = l;
			}
			seg(dm, w, a, l, f & VRING_DESC_F_WRITE);
		}
		if (rewrite)
			for (unsigned k = 0; k < n; k++) {
				ST64(&t[k].addr, 0xbad0000000000000ULL + k);
				ST32(&t[k].len, 0xffffffffu);
				ST16(&t[k].id, 0xffff);
				ST16(&t[k].flags, VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT);
			}
	}
	return true;
}

static void finish_buffer(struct dm *dm, struct dm_walk *w, const struct dm_wseg *ws, unsigned nws)
{
	w->info.used_len = pick_used_len(dm, w->info.in_len);
	fill_writable(w->info.seq, ws, nws, w->info.used_len);
	if (dm->cfg.on_buffer)
		dm->cfg.on_buffer(dm->cfg.ctx, &w->info);
}

/* ------------------------------------------------------------------ */
/* split: consume                                                      */
/* ------------------------------------------------------------------ */

static bool split_consume_one(struct dm *dm, struct dm_wseg *ws)
{
	uint16_t size = dm->cfg.size;
	uint16_t head = LD16(&dm->avail->ring[dm->last_avail % size]);
	if (head >= size) {
		vio(dm, "avail ring entry %u: head %u >= size", (unsigned)dm->last_avail, (unsigned)head);
		dm->dead = true;
		return false;
	}
	if (dm->in_order && head != dm->in_order_next)
		vio(dm, "IN_ORDER: head %u, expected %u (spec 2.7.5: ring order)", (unsigned)head,
		    (unsigned)dm->in_order_next);
	struct dm_walk w;
	memset(&w, 0, sizeof(w));
	w.info.seq = dm->seq;
	w.info.id = head;
	w.info.out_csum = DM_CSUM_INIT;
	unsigned nws = 0;
	uint16_t member = NO_MEMBER;
	uint16_t i = head;
	unsigned count = 0;
	bool rewrite = dm->rewrite_next;
	for (;;) {
		if (++count > size) {
			vio(dm, "chain from head %u longer than queue size (loop?)", (unsigned)head);
			dm->dead = true;
			return false;
		}
		if (dm->busy[i]) {
			vio(dm, "descriptor %u made available while the device owns it", (unsigned)i);
			dm->dead = true;
			return false;
		}
		dm->busy[i] = 1;
		if (i != head && member == NO_MEMBER)
			member = i;
		struct vring_desc *d = &dm->sdesc[i];
		uint64_t a = LD64(&d->addr);
		uint32_t l = LD32(&d->len);
		uint16_t f = LD16(&d->flags);
		uint16_t nx = LD16(&d->next);
		if (f & VRING_DESC_F_INDIRECT) {
			if (f & VRING_DESC_F_NEXT)
				vio(dm, "descriptor %u has both INDIRECT and NEXT (spec 2.7.5.3.1)", (unsigned)i);
			if (!walk_indirect(dm, &w, a, l, ws, &nws, rewrite)) {
				dm->dead = true;
				return false;
			}
			w.info.ndesc++;
			break;
		}
		if (f & VRING_DESC_F_WRITE && nws < size) {
			ws[nws].addr = a;
			ws[nws++].len = l;
		}
		seg(dm, &w, a, l, f & VRING_DESC_F_WRITE);
		w.info.ndesc++;
		if (!(f & VRING_DESC_F_NEXT))
			break;
		if (nx >= size) {
			vio(dm, "descriptor %u: next %u >= size", (unsigned)i, (unsigned)nx);
			dm->dead = true;
			return false;
		}
		dm->cnext[i] = nx;
		if (dm->in_order && nx != (uint16_t)((i + 1u) % size))
			vio(dm, "IN_ORDER: descriptor %u next %u (spec 2.7.5: x+1)", (unsigned)i, (unsigned)nx);
		i = nx;
	}
	if (w.bad)
		dm->dead = true;
	if (dm->in_order)
		dm->in_order_next = (uint16_t)((head + w.info.ndesc) % size);
	if (rewrite) {
		/* DM_FAULT_REWRITE_DESC: a device MUST NOT write the descriptor
		 * table (spec 2.7.5.1); this one does, after reading it. */
		uint16_t k = head;
		for (unsigned c = 0; c < w.info.ndesc; c++) {
			struct vring_desc *d = &dm->sdesc[k];
			ST64(&d->addr, 0xbad0000000000000ULL + c);
			ST32(&d->len, 0xffffffffu);
			ST16(&d->flags, VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE);
			ST16(&d->next, (uint16_t)((k ^ 1u) % size));
			k = dm->cnext[k];
		}
		dm->rewrite_next = false;
		dm->st.faults_applied++;
	}
	finish_buffer(dm, &w, ws, nws);
	struct dm_pend *p = &dm->pend[dm->npend++];
	p->seq = dm->seq++;
	p->in_len = w.info.in_len;
	p->used_len = w.info.used_len;
	p->id = head;
	p->ndesc = w.info.ndesc;
	p->member = member;
	p->indirect = false;
	p->first = head;
	dm->last_avail++;
	dm->st.consumed++;
	return true;
}

static unsigned split_consume(struct dm *dm, unsigned budget, struct dm_wseg *ws)
{
	unsigned n = 0;
	uint16_t avail_idx = LD16(&dm->avail->idx);
	/* spec 2.7.13 (device side): read the index, then the ring entries */
	F_ACQ();
	uint16_t navail = (uint16_t)(avail_idx - dm->last_avail);
	if (navail > dm->cfg.size) {
		vio(dm, "avail idx %u is %u ahead of the device (size %u)", (unsigned)avail_idx, (unsigned)navail,
		    (unsigned)dm->cfg.size);
		dm->dead = true;
		return 0;
	}
	while (n < budget && dm->last_avail != avail_idx && !dm->dead) {
		if (!split_consume_one(dm, ws))
			break;
		n++;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* packed: consume                                                     */
/* ------------------------------------------------------------------ */

static bool packed_is_avail(uint16_t flags, uint16_t wrap)
{
	bool a = (flags & P_AVAIL) != 0, u = (flags & P_USED) != 0;
	return a == (wrap != 0) && u != (wrap != 0);
}

static bool packed_consume_one(struct dm *dm, struct dm_wseg *ws)
{
	uint16_t size = dm->cfg.size;
	uint16_t first = dm->avail_pos;
	struct vring_packed_desc *d0 = &dm->pdesc[first];
	if (!packed_is_avail(LD16(&d0->flags), dm->avail_wrap))
		return false;
	/* spec 2.8.21.1: flags were written last, after a barrier: read the
	 * rest of the chain only after seeing them. */
	F_ACQ();
	struct dm_walk w;
	memset(&w, 0, sizeof(w));
	w.info.seq = dm->seq;
	w.info.out_csum = DM_CSUM_INIT;
	unsigned nws = 0;
	uint16_t pos = dm->avail_pos, wrap = dm->avail_wrap;
	unsigned count = 0;
	uint16_t id = 0;
	bool rewrite = dm->rewrite_next;
	for (;;) {
		if (++count > size) {
			vio(dm, "packed chain at %u longer than queue size", (unsigned)first);
			dm->dead = true;
			return false;
		}
		struct vring_packed_desc *d = &dm->pdesc[pos];
		uint16_t f = LD16(&d->flags);
		if (!packed_is_avail(f, wrap)) {
			/* spec 2.8.6: every descriptor of the list carries correct
			 * AVAIL/USED bits, and the first is exposed last. */
			vio(dm, "packed chain at %u: descriptor %u not available (flags 0x%x wrap %u)", (unsigned)first,
			    (unsigned)pos, (unsigned)f, (unsigned)wrap);
			dm->dead = true;
			return false;
		}
		uint64_t a = LD64(&d->addr);
		uint32_t l = LD32(&d->len);
		id = LD16(&d->id);
		if (f & VRING_DESC_F_INDIRECT) {
			if (f & VRING_DESC_F_NEXT || count > 1)
				vio(dm, "packed: INDIRECT descriptor inside a NEXT list (spec 2.8 Indirect)");
			if (!walk_indirect(dm, &w, a, l, ws, &nws, rewrite)) {
				dm->dead = true;
				return false;
			}
		} else {
			if (f & VRING_DESC_F_WRITE && nws < size) {
				ws[nws].addr = a;
				ws[nws++].len = l;
			}
			seg(dm, &w, a, l, f & VRING_DESC_F_WRITE);
		}
		if (rewrite) {
			ST64(&d->addr, 0xbad0000000000000ULL + count);
			ST32(&d->len, 0xffffffffu);
			ST16(&d->id, (uint16_t)(id ^ 0x5555u));
			/* keep the AVAIL/USED bits: garbage in the others */
			ST16(&d->flags, (uint16_t)((f & (P_AVAIL | P_USED)) |
			                           ((f ^ (VRING_DESC_F_WRITE | VRING_DESC_F_INDIRECT)) & 7u)));
		}
		w.info.ndesc++;
		bool more = (f & VRING_DESC_F_NEXT) && !(f & VRING_DESC_F_INDIRECT);
		if (++pos == size) {
			pos = 0;
			wrap ^= 1u;
		}
		if (!more)
			break;
	}
	if (w.bad)
		dm->dead = true;
	/* spec 2.8.6: the buffer id is in the last descriptor */
	if (id >= size) {
		vio(dm, "packed buffer id %u >= size", (unsigned)id);
		dm->dead = true;
		return false;
	}
	if (dm->busy[id]) {
		vio(dm, "packed buffer id %u reused while the device owns it", (unsigned)id);
		dm->dead = true;
		return false;
	}
	dm->busy[id] = 1;
	if (rewrite) {
		dm->rewrite_next = false;
		dm->st.faults_applied++;
	}
	w.info.id = id;
	finish_buffer(dm, &w, ws, nws);
	struct dm_pend *p = &dm->pend[dm->npend++];
	p->seq = dm->seq++;
	p->in_len = w.info.in_len;
	p->used_len = w.info.used_len;
	p->id = id;
	p->ndesc = (uint16_t)count;
	p->member = NO_MEMBER;
	p->first = first;
	p->indirect = w.info.indirect;
	dm->avail_pos = pos;
	dm->avail_wrap = wrap;
	dm->st.consumed++;
	return true;
}

static unsigned packed_consume(struct dm *dm, unsigned budget, struct dm_wseg *ws)
{
	unsigned n = 0;
	while (n < budget && !dm->dead && dm->npend < dm->cfg.size) {
		if (!packed_consume_one(dm, ws))
			break;
		n++;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* completion                                                          */
/* ------------------------------------------------------------------ */

static bool take_fault(struct dm *dm, struct dm_fault_req *out)
{
	bool got = false;
	pthread_mutex_lock(&dm->lock);
	if (dm->nfaults) {
		*out = dm->faults[0];
		memmove(&dm->faults[0], &dm->faults[1], (dm->nfaults - 1) * sizeof(dm->faults[0]));
		dm->nfaults--;
		got = true;
	}
	pthread_mutex_unlock(&dm->lock);
	return got;
}

static bool peek_fault(struct dm *dm, enum dm_fault *f)
{
	pthread_mutex_lock(&dm->lock);
	bool got = dm->nfaults != 0;
	if (got)
		*f = dm->faults[0].fault;
	pthread_mutex_unlock(&dm->lock);
	return got;
}

/* An id that is not an outstanding head (split) / buffer id (packed). */
static bool pick_not_head(struct dm *dm, uint16_t *id)
{
	if (dm->cfg.layout == VNET_VQ_SPLIT)
		for (unsigned k = 0; k < dm->npend; k++)
			if (dm->pend[k].member != NO_MEMBER) {
				*id = dm->pend[k].member;
				return true;
			}
	for (unsigned i = 0; i < dm->cfg.size; i++)
		if (!dm->busy[i]) {
			*id = (uint16_t)i;
			return true;
		}
	return false;
}

static void release_busy(struct dm *dm, const struct dm_pend *p)
{
	if (dm->cfg.layout == VNET_VQ_PACKED) {
		dm->busy[p->id] = 0;
		return;
	}
	/* split: the chain as the device read it at consume time (the ring
	 * itself may have been rewritten by DM_FAULT_REWRITE_DESC) */
	uint16_t i = p->first;
	for (unsigned k = 0; k < p->ndesc && i < dm->cfg.size; k++) {
		dm->busy[i] = 0;
		i = dm->cnext[i];
	}
}

static void split_interrupt_check(struct dm *dm)
{
	/* spec 2.7.10 / 2.7.14: used idx written, then a full barrier
	 * before looking at the driver's suppression fields. */
	F_FULL();
	dm->st.interrupt_checks++;
	bool fire;
	if (dm->event_idx) {
		uint16_t ue = LD16(dm->used_event);
		fire = vring_need_event(ue, dm->used_idx, dm->sig_used);
	} else {
		fire = !(LD16(&dm->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
	}
	dm->sig_used = dm->used_idx;
	if (fire)
		dm->st.interrupts++;
}

static void packed_interrupt_check(struct dm *dm)
{
	F_FULL();
	dm->st.interrupt_checks++;
	uint16_t fl = LD16(&dm->drv_evt->flags) & 3u;
	bool fire = false;
	if (fl == VRING_PACKED_EVENT_FLAG_ENABLE) {
		fire = true;
	} else if (fl == VRING_PACKED_EVENT_FLAG_DESC) {
		if (!dm->event_idx) {
			vio(dm, "driver event flags DESC without EVENT_IDX (spec 2.8.10)");
			fire = true;
		} else {
			uint16_t ow = LD16(&dm->drv_evt->off_wrap);
			uint16_t off = ow & 0x7fffu;
			unsigned wrap = ow >> 15;
			uint64_t period = 2u * (uint64_t)dm->cfg.size;
			if (off >= dm->cfg.size) {
				vio(dm, "driver event offset %u >= size", (unsigned)off);
			} else {
				/* Linear position (mod 2*size) of the event descriptor:
				 * wrap counter 1 is the first lap (spec 2.8.1). */
				uint64_t e = off + (wrap ? 0 : dm->cfg.size);
				uint64_t span = dm->used_lin - dm->sig_lin;
				uint64_t rel = (e + period - (dm->sig_lin % period)) % period;
				fire = span >= period || rel < span;
			}
		}
	} else if (fl == VRING_PACKED_EVENT_FLAG_DISABLE) {
		fire = false;
	} else {
		vio(dm, "driver event flags 3 (reserved)");
	}
	dm->sig_lin = dm->used_lin;
	if (fire)
		dm->st.interrupts++;
}

static void split_put(struct dm *dm, uint32_t id, uint32_t len)
{
	struct vring_used_elem *e = &dm->used->ring[dm->used_idx % dm->cfg.size];
	ST32(&e->id, id);
	ST32(&e->len, len);
	dm->used_idx++;
	dm->st.used_entries++;
}

/* cfg.echo_indirect: the extra flags a device that echoes the available
 * descriptor's INDIRECT bit writes into the used descriptor of p. */
static uint16_t packed_echo_flags(const struct dm *dm, const struct dm_pend *p)
{
	return (dm->cfg.echo_indirect && p->indirect) ? (uint16_t)VRING_DESC_F_INDIRECT : 0;
}

static void packed_put(struct dm *dm, uint16_t id, uint32_t len, uint16_t skip, uint16_t extra_flags,
                       int wrong_wrap)
{
	struct vring_packed_desc *d = &dm->pdesc[dm->used_pos];
	ST16(&d->id, id);
	ST32(&d->len, len);
	uint16_t f = dm->used_wrap ? (P_AVAIL | P_USED) : 0;
	if (wrong_wrap == 0)
		f = dm->used_wrap ? 0 : (P_AVAIL | P_USED);
	else if (wrong_wrap == 1)
		f = dm->used_wrap ? P_AVAIL : P_USED;
	/* spec 2.8.4: WRITE in a used descriptor says data was written */
	if (len)
		f |= VRING_DESC_F_WRITE;
	f |= extra_flags;
	/* spec 2.8.21.2 (device): id/len visible before the flags flip */
	F_REL();
	ST16(&d->flags, f);
	dm->st.used_entries++;
	unsigned np = dm->used_pos + (skip ? skip : 1u);
	while (np >= dm->cfg.size) {
		np -= dm->cfg.size;
		dm->used_wrap ^= 1u;
	}
	dm->used_pos = (uint16_t)np;
	dm->used_lin += skip ? skip : 1u;
}

/* Complete work[0..n) as one batch: used entries, one publish, one
 * interrupt decision.  Applies queued faults. */
static void complete_batch(struct dm *dm, struct dm_pend *work, unsigned n)
{
	bool split = dm->cfg.layout == VNET_VQ_SPLIT;
	bool batch_one = dm->in_order && dm->cfg.in_order_batch && n > 1;
	int idx_jump = -1;
	bool dup = false;
	uint16_t dup_id = 0, dup_ndesc = 0;
	uint32_t dup_len = 0;
	uint32_t jump_arg = 0;
	struct dm_fault_req fr = {DM_FAULT_NONE, 0};

	if (batch_one) {
		/* IN_ORDER: one used entry for the last buffer of the batch
		 * (spec 2.7.9 / 2.8.9), idx / position skip the whole batch. */
		enum dm_fault pf;
		unsigned ndesc = 0;
		for (unsigned k = 0; k < n; k++) {
			release_busy(dm, &work[k]);
			ndesc += work[k].ndesc;
		}
		const struct dm_pend *last = &work[n - 1];
		if (split) {
			struct vring_used_elem *e = &dm->used->ring[dm->used_idx % dm->cfg.size];
			ST32(&e->id, last->id);
			ST32(&e->len, last->used_len);
			dm->used_idx = (uint16_t)(dm->used_idx + n);
			dm->st.used_entries++;
		} else {
			/* position skip is in descriptors; ndesc <= size */
			packed_put(dm, last->id, last->used_len, (uint16_t)ndesc, packed_echo_flags(dm, &work[0]), -1);
		}
		(void)pf;
		dm->st.completed += n;
	} else {
		/* (a duplicate with no completion left to replace is written
		 * after the loop) */
		for (unsigned k = 0; k < n; k++) {
			struct dm_pend *p = &work[k];
			uint32_t len = p->used_len;
			if (dup) {
				dup = false;
				if (split)
					split_put(dm, dup_id, dup_len);
				else
					packed_put(dm, dup_id, dup_len, dup_ndesc, 0, -1);
				dm->pend[dm->npend++] = *p;
				continue;
			}
			bool have = take_fault(dm, &fr);
			if (have) {
				dm->st.faults_applied++;
				switch (fr.fault) {
				case DM_FAULT_ID_RANGE:
				case DM_FAULT_ID_NOT_HEAD: {
					uint16_t bad = 0;
					uint32_t bid;
					if (fr.fault == DM_FAULT_ID_RANGE) {
						bid = (uint32_t)dm->cfg.size + fr.arg;
						if (!split && bid > 0xffffu)
							bid = 0xffffu;
					} else {
						if (!pick_not_head(dm, &bad))
							bad = dm->cfg.size - 1u;
						bid = bad;
					}
					if (split)
						split_put(dm, bid, len);
					else
						packed_put(dm, (uint16_t)bid, len, 1, 0, -1);
					/* the real buffer is not completed: put it back */
					dm->pend[dm->npend++] = *p;
					continue;
				}
				case DM_FAULT_LEN:
					len = p->in_len + 1u + fr.arg;
					break;
				case DM_FAULT_IDX_JUMP:
					idx_jump = 1;
					jump_arg = fr.arg;
					break;
				case DM_FAULT_DOUBLE:
					/* the real completion now; the duplicate takes the
					 * place of the next one (which stays pending), so
					 * the index never runs past what is outstanding */
					release_busy(dm, p);
					if (split)
						split_put(dm, p->id, len);
					else
						packed_put(dm, p->id, len, p->ndesc, 0, -1);
					dm->st.completed++;
					dup = true;
					dup_id = p->id;
					dup_len = len;
					dup_ndesc = p->ndesc;
					continue;
				case DM_FAULT_FLAGS:
					if (!split) {
						release_busy(dm, p);
						packed_put(dm, p->id, len, p->ndesc,
						           (uint16_t)(fr.arg ? fr.arg
						                             : (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT)),
						           -1);
						dm->st.completed++;
						continue;
					}
					break;
				case DM_FAULT_WRONG_WRAP:
					if (!split) {
						release_busy(dm, p);
						packed_put(dm, p->id, len, p->ndesc, 0, fr.arg ? 1 : 0);
						dm->st.completed++;
						continue;
					}
					break;
				default:
					/* consume-side / round-level faults are not ours:
					 * put it back at the head and stop looking */
					pthread_mutex_lock(&dm->lock);
					if (dm->nfaults < DM_MAX_FAULTS) {
						memmove(&dm->faults[1], &dm->faults[0], dm->nfaults * sizeof(dm->faults[0]));
						dm->faults[0] = fr;
						dm->nfaults++;
					}
					pthread_mutex_unlock(&dm->lock);
					dm->st.faults_applied--;
					break;
				}
			}
			release_busy(dm, p);
			if (split)
				split_put(dm, p->id, len);
			else
				packed_put(dm, p->id, len, p->ndesc, packed_echo_flags(dm, p), -1);
			dm->st.completed++;
		}
	}
	if (dup) {
		if (split)
			split_put(dm, dup_id, dup_len);
		else
			packed_put(dm, dup_id, dup_len, dup_ndesc, 0, -1);
	}
	if (split) {
		uint16_t pub = dm->used_idx;
		if (idx_jump >= 0) {
			/* more than the driver has outstanding: beyond avail->idx */
			uint16_t ai = LD16(&dm->avail->idx);
			pub = (uint16_t)(ai + 1u + jump_arg);
			dm->used_idx = pub;
		}
		/* spec 2.7.8: ring entries visible before the index */
		F_REL();
		ST16(&dm->used->idx, pub);
		split_interrupt_check(dm);
	} else {
		packed_interrupt_check(dm);
	}
}

/* Move n entries from the pending list (by index list idx[]) to work[]. */
static void take_pending(struct dm *dm, const unsigned *sel, unsigned n, struct dm_pend *work)
{
	for (unsigned k = 0; k < n; k++) {
		work[k] = dm->pend[sel[k]];
		dm->pend[sel[k]].seq = UINT64_MAX; /* tombstone */
	}
	unsigned j = 0;
	for (unsigned k = 0; k < dm->npend; k++)
		if (dm->pend[k].seq != UINT64_MAX)
			dm->pend[j++] = dm->pend[k];
	dm->npend = j;
}

static unsigned complete_round(struct dm *dm, bool all)
{
	unsigned total = 0;
	if (dm->npend == 0 || dm->paused || dm->dead)
		return 0;
	unsigned *sel = dm->sel;
	unsigned n = dm->npend;
	unsigned chunk = dm->cfg.batch ? dm->cfg.batch : n;
	enum dm_fault pf;
	bool ooo = peek_fault(dm, &pf) && pf == DM_FAULT_OUT_OF_ORDER && n >= 2;
	if (ooo) {
		/* complete the second pending buffer alone, before the first */
		struct dm_fault_req fr = {DM_FAULT_NONE, 0};
		take_fault(dm, &fr);
		dm->st.faults_applied++;
		sel[0] = 1;
		unsigned before = dm->npend;
		take_pending(dm, sel, 1, dm->work);
		complete_batch(dm, dm->work, 1);
		return before - dm->npend;
	}
	switch (ooo ? DM_IN_ORDER : dm->cfg.policy) {
	case DM_IN_ORDER:
	case DM_REVERSE_BATCH: {
		while (dm->npend) {
			unsigned m = dm->npend < chunk ? dm->npend : chunk;
			for (unsigned k = 0; k < m; k++)
				sel[k] = dm->cfg.policy == DM_REVERSE_BATCH && !ooo ? m - 1u - k : k;
			if (ooo && m >= 2) {
				sel[0] = 1;
				sel[1] = 0;
				ooo = false;
			}
			unsigned before = dm->npend;
			take_pending(dm, sel, m, dm->work);
			complete_batch(dm, dm->work, m);
			/* faults may have put buffers back */
			total += before - dm->npend;
			if (before == dm->npend)
				break;
			if (!all && dm->cfg.policy == DM_IN_ORDER && chunk >= n)
				break;
		}
		break;
	}
	case DM_RANDOM: {
		unsigned m = all ? n : 1u + rnd(dm) % n;
		/* random selection without repetition: partial Fisher-Yates */
		unsigned *perm = dm->perm;
		for (unsigned k = 0; k < n; k++)
			perm[k] = k;
		for (unsigned k = 0; k < m; k++) {
			unsigned r = k + rnd(dm) % (n - k);
			unsigned t = perm[k];
			perm[k] = perm[r];
			perm[r] = t;
			sel[k] = perm[k];
		}
		unsigned before = dm->npend;
		take_pending(dm, sel, m, dm->work);
		complete_batch(dm, dm->work, m);
		total += before - dm->npend;
		break;
	}
	}
	return total;
}

/* ------------------------------------------------------------------ */
/* poll / doorbell / thread                                            */
/* ------------------------------------------------------------------ */

static bool avail_pending(struct dm *dm)
{
	if (dm->cfg.layout == VNET_VQ_SPLIT)
		return LD16(&dm->avail->idx) != dm->last_avail;
	return packed_is_avail(LD16(&dm->pdesc[dm->avail_pos].flags), dm->avail_wrap);
}

static unsigned poll_locked(struct dm *dm, unsigned budget)
{
	if (dm->dead)
		return 0;
	struct dm_fault_req fr = {DM_FAULT_NONE, 0};
	enum dm_fault pf;
	/* consume-side and index faults that act at the start of a poll */
	while (peek_fault(dm, &pf) && (pf == DM_FAULT_REWRITE_DESC || pf == DM_FAULT_IDX_BACK)) {
		take_fault(dm, &fr);
		dm->st.faults_applied++;
		if (fr.fault == DM_FAULT_REWRITE_DESC) {
			dm->rewrite_next = true;
			dm->st.faults_applied--; /* counted when it happens */
		} else if (dm->cfg.layout == VNET_VQ_SPLIT) {
			F_REL();
			ST16(&dm->used->idx, (uint16_t)(dm->used_idx - 1u - fr.arg));
		}
	}

	if (dm->sleeping && dm->cfg.notify == DM_NOTIFY_SLEEP) {
		if (__atomic_exchange_n(&dm->doorbell, 0, __ATOMIC_ACQ_REL)) {
			dm->sleeping = false;
			dm->st.wakeups++;
			set_avail_suppression(dm, false);
			F_FULL();
		}
	} else {
		__atomic_store_n(&dm->doorbell, 0, __ATOMIC_RELAXED);
	}

	struct dm_wseg *ws = dm->ws;
	unsigned consumed = 0;
	if (!dm->sleeping) {
		consumed = dm->cfg.layout == VNET_VQ_SPLIT ? split_consume(dm, budget, ws)
		                                           : packed_consume(dm, budget, ws);
		if (dm->cfg.notify == DM_NOTIFY_ALWAYS) {
			set_avail_suppression(dm, true);
		} else if (dm->cfg.notify == DM_NOTIFY_SLEEP && !avail_pending(dm)) {
			/* idle: ask for a doorbell, then re-check so a buffer
			 * that raced with the request is not lost (spec 2.7.10 /
			 * 2.8.10 "re-test after enabling") */
			set_avail_suppression(dm, true);
			F_FULL();
			if (!avail_pending(dm))
				dm->sleeping = true;
			else
				set_avail_suppression(dm, false);
		}
	}
	(void)consumed;
	return complete_round(dm, false);
}

unsigned dm_poll(struct dm *dm, unsigned budget)
{
	return poll_locked(dm, budget);
}

unsigned dm_flush(struct dm *dm)
{
	unsigned n = 0;
	while (dm->npend && !dm->paused && !dm->dead) {
		unsigned k = complete_round(dm, true);
		if (!k)
			break;
		n += k;
	}
	return n;
}

void dm_pause_completions(struct dm *dm, bool paused)
{
	dm->paused = paused;
}

/* Position of the first descriptor not made available (packed), scanning
 * from the device's avail position. */
static void packed_next_avail(struct dm *dm, uint16_t *off, uint16_t *wrap)
{
	uint16_t pos = dm->avail_pos, w = dm->avail_wrap;
	for (unsigned k = 0; k < dm->cfg.size; k++) {
		if (!packed_is_avail(LD16(&dm->pdesc[pos].flags), w))
			break;
		if (++pos == dm->cfg.size) {
			pos = 0;
			w ^= 1u;
		}
	}
	*off = pos;
	*wrap = w;
}

void dm_doorbell(struct dm *dm, uint32_t data)
{
	__atomic_fetch_add(&dm->st.notifications, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&dm->st.last_notify_data, data, __ATOMIC_RELAXED);
	if (!__atomic_load_n(&dm->threaded, __ATOMIC_ACQUIRE) && !dm->dead) {
		/* Synchronous mode: the driver is not running concurrently, so
		 * the doorbell can be checked against the ring right now. */
		F_FULL();
		if (dm->notif_data) {
			if ((data & 0xffffu) != dm->cfg.index)
				vio(dm, "notification data queue %u, expected %u", (unsigned)(data & 0xffffu),
				    (unsigned)dm->cfg.index);
			if (dm->cfg.layout == VNET_VQ_SPLIT) {
				uint16_t ai = LD16(&dm->avail->idx);
				if ((data >> 16) != ai)
					vio(dm, "split notification data idx %u, avail->idx %u", (unsigned)(data >> 16),
					    (unsigned)ai);
			} else {
				uint16_t off, w;
				packed_next_avail(dm, &off, &w);
				if (((data >> 16) & 0x7fffu) != off || (data >> 31) != w)
					vio(dm, "packed notification data off %u wrap %u, next unavailable is %u/%u",
					    (unsigned)((data >> 16) & 0x7fffu), (unsigned)(data >> 31), (unsigned)off,
					    (unsigned)w);
			}
		} else if (data != dm->cfg.index) {
			vio(dm, "doorbell value %u, expected queue index %u", (unsigned)data, (unsigned)dm->cfg.index);
		}
		bool unneeded = false;
		if (dm->cfg.notify == DM_NOTIFY_SLEEP && !dm->sleeping)
			unneeded = true;
		if (dm->cfg.notify == DM_NOTIFY_NEVER) {
			if (dm->cfg.layout == VNET_VQ_SPLIT && dm->event_idx) {
				uint16_t ai = LD16(&dm->avail->idx);
				/* 16-bit window: conclusive only if less than a lap was
				 * made available since the previous doorbell */
				uint64_t lap = dm->st.consumed - dm->db_consumed + (uint16_t)(ai - dm->last_avail);
				unneeded = lap < 65536u && !vring_need_event(dm->cfg.avail_event, ai, dm->db_avail);
			} else {
				unneeded = true;
			}
		}
		if (dm->cfg.layout == VNET_VQ_SPLIT)
			dm->db_avail = LD16(&dm->avail->idx);
		dm->db_consumed = dm->st.consumed + (dm->cfg.layout == VNET_VQ_SPLIT
		                                         ? (uint16_t)(dm->db_avail - dm->last_avail)
		                                         : 0u);
		if (unneeded)
			dm->st.notify_unneeded++;
	}
	__atomic_store_n(&dm->doorbell, 1, __ATOMIC_RELEASE);
}

static void *dm_thread(void *arg)
{
	struct dm *dm = arg;
	unsigned idle = 0;
	while (!__atomic_load_n(&dm->stop, __ATOMIC_ACQUIRE)) {
		unsigned before = dm->npend;
		unsigned n = poll_locked(dm, 64);
		if (n == 0 && before == dm->npend) {
			if (++idle > 16)
				sched_yield();
		} else {
			idle = 0;
		}
	}
	return NULL;
}

int dm_start(struct dm *dm)
{
	if (dm->threaded)
		return -1;
	__atomic_store_n(&dm->stop, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&dm->threaded, true, __ATOMIC_RELEASE);
	if (pthread_create(&dm->thr, NULL, dm_thread, dm) != 0) {
		dm->threaded = false;
		return -1;
	}
	return 0;
}

void dm_stop(struct dm *dm)
{
	if (!dm->threaded)
		return;
	__atomic_store_n(&dm->stop, 1, __ATOMIC_RELEASE);
	pthread_join(dm->thr, NULL);
	__atomic_store_n(&dm->threaded, false, __ATOMIC_RELEASE);
}

void dm_inject(struct dm *dm, enum dm_fault fault, uint32_t arg)
{
	pthread_mutex_lock(&dm->lock);
	if (dm->nfaults < DM_MAX_FAULTS) {
		dm->faults[dm->nfaults].fault = fault;
		dm->faults[dm->nfaults].arg = arg;
		dm->nfaults++;
	}
	pthread_mutex_unlock(&dm->lock);
}

void dm_get_stats(struct dm *dm, struct dm_stats *st)
{
	*st = dm->st;
	st->notifications = __atomic_load_n(&dm->st.notifications, __ATOMIC_RELAXED);
}

uint64_t dm_violations(struct dm *dm)
{
	return dm->st.violations;
}

const char *dm_last_violation(struct dm *dm)
{
	return dm->last_vio;
}

unsigned dm_pending(struct dm *dm)
{
	return dm->npend;
}
