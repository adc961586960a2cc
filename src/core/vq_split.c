/*
 * Virtqueue engine, split-ring half (spec 2.7 "Split Virtqueues").
 *
 * What this file does: lays out the three split-ring parts in the DMA area
 * virtqueue.c allocated, turns scatter-gather chains into descriptor chains
 * (direct, or through the per-slot indirect table), publishes them in
 * batches, decides whether the device wants a doorbell, and takes
 * completions back from the used ring, checking every value the device
 * wrote.  It also drives used-buffer notification suppression.
 *
 * What it does not do: argument validation, the broken-queue gate and the
 * add/complete/kick counters (virtqueue.c); ringing the doorbell (the
 * transport); any locking (the caller serialises, see virtqueue.h).
 *
 * Trust model.  The driver never reads back what it wrote to shared memory:
 * the descriptor links live in the private shadow[] (free list and chain
 * links through shadow[].next), chain metadata in vq->chain[head], our
 * indices and flags in struct vq_split.  From the ring it reads only
 * used->idx, used entries, used->flags and avail_event, each loaded once
 * into a local and range-checked before it indexes anything.
 *
 * Ring layout in vq->ring (one allocation, 4096-aligned):
 *   [0]            descriptor table, 16 * size        (spec: align 16)
 *   [16 * size]    avail ring + used_event, 6 + 2 * size (spec: align 2)
 *   [used_off]     used ring + avail_event, 6 + 8 * size (spec: align 4)
 * used_off is rounded up to 64 so the part the device writes does not share
 * a cache line with the parts the driver writes.
 *
 * Choices where the spec leaves room:
 *  - Used-buffer notifications with EVENT_IDX: while callbacks are enabled,
 *    get_used itself moves used_event to last_used after consuming (store
 *    then full barrier), so a consumer that never calls enable_cb again
 *    still gets the next notification.  Disabling writes used_event =
 *    last_used - 1, the position farthest from the device (it costs at most
 *    one spurious notification per 64K completions while disabled); avail
 *    flags stay 0, as spec 2.7.7.1 requires with EVENT_IDX.
 *  - IN_ORDER batches (spec 2.7.9): one used entry for head X completes
 *    every outstanding chain up to and including X.  X gets the used len
 *    from the entry (checked against its writable bytes); the skipped
 *    chains get len = their full writable length, because the spec says
 *    skipped buffers "are assumed to have been used (read or written) by
 *    the device completely".
 *  - A kick_prepare with nothing new since the last decision returns false
 *    without touching shared memory.
 *  - At init the ring's suppression state mirrors vq->cb_enabled (false
 *    after creation), so the device and the engine agree from the start.
 */
#include "vnet_mem.h"

#include "vq_priv.h"

/* ---- layout ---- */

/* Cache line the used ring starts on (see the essay above). */
#define VQ_SPLIT_USED_LINE 64u

static inline size_t vq_split_avail_off(uint16_t size)
{
	return vring_split_desc_bytes(size);
}

/* Legacy devices (no VERSION_1) expect the used ring at the next 4096
 * boundary (§2.7.2 "Legacy Interfaces: A Note on Virtqueue Layout"). */
#define VQ_SPLIT_LEGACY_ALIGN 4096u

static inline size_t vq_split_used_off(uint16_t size, bool legacy)
{
	size_t end = vq_split_avail_off(size) + vring_split_avail_bytes(size);
	size_t a = legacy ? VQ_SPLIT_LEGACY_ALIGN : VQ_SPLIT_USED_LINE;
	return (end + a - 1u) & ~(size_t)(a - 1u);
}

_Static_assert(VQ_SPLIT_USED_LINE % VRING_USED_ALIGN == 0, "used ring alignment");
_Static_assert(VRING_DESC_ALIGN <= 4096, "descriptor table at the 4096-aligned base");

size_t vq_split_ring_bytes(uint16_t size, bool legacy)
{
	return vq_split_used_off(size, legacy) + vring_split_used_bytes(size);
}

void vq_split_ring_addrs(const struct vnet_vq *vq, uint64_t *d, uint64_t *dr, uint64_t *dv)
{
	/* Device addresses, never pointers: the device sees vq->ring.iova. */
	*d = vq->ring.iova;
	*dr = vq->ring.iova + vq_split_avail_off(vq->size);
	*dv = vq->ring.iova + vq_split_used_off(vq->size, vq->legacy);
}

/* ---- used-buffer notification suppression (spec 2.7.7) ---- */

static void vq_split_set_avail_flags(struct vq_split *s, uint16_t flags)
{
	/* Shadowed: a store dirties a line the device reads on every fetch. */
	if (s->avail_flags == flags)
		return;
	s->avail_flags = flags;
	VQ_STORE16(&s->avail->flags, flags);
}

/* Ask for no notifications, without a barrier (best effort by nature). */
static void vq_split_suppress(struct vnet_vq *vq)
{
	struct vq_split *s = &vq->split;
	if (vq->event_idx) {
		/* Spec 2.7.7.1: with EVENT_IDX flags MUST stay 0; the farthest
		 * position from the device is the one just behind us. */
		VQ_STORE16(s->used_event, (uint16_t)(s->last_used - 1u));
	} else {
		vq_split_set_avail_flags(s, VRING_AVAIL_F_NO_INTERRUPT);
	}
}

/* Ask to be notified at the next completion (no barrier: callers add it). */
static void vq_split_unsuppress(struct vnet_vq *vq)
{
	struct vq_split *s = &vq->split;
	if (vq->event_idx)
		VQ_STORE16(s->used_event, s->last_used);
	else
		vq_split_set_avail_flags(s, 0);
}

/* ---- init / fini ---- */

int vq_split_init(struct vnet_vq *vq, bool first)
{
	struct vq_split *s = &vq->split;
	uint16_t size = vq->size;
	char *base = vq->ring.va;

	if (first) {
		s->shadow = vnet_hal_zalloc(sizeof(*s->shadow) * size);
		if (!s->shadow)
			return VNET_ENOMEM;
		s->order = NULL;
		if (vq->in_order) {
			s->order = vnet_hal_zalloc(sizeof(*s->order) * size);
			if (!s->order) {
				vnet_hal_free(s->shadow);
				s->shadow = NULL;
				return VNET_ENOMEM;
			}
		}
	}
	s->desc = (struct vring_desc *)(void *)base;
	s->avail = (struct vring_avail *)(void *)(base + vq_split_avail_off(size));
	s->used = (struct vring_used *)(void *)(base + vq_split_used_off(size, vq->legacy));
	s->used_event = &s->avail->ring[size];
	s->avail_event = (vnet_le16 *)(void *)&s->used->ring[size];

	/* Free list 0 -> 1 -> ... -> size-1 -> 0.  With IN_ORDER these links
	 * are never changed, so allocation walks the table in ring order and
	 * wraps to 0 (spec 2.7.5: "starting from offset 0 in the table, and
	 * wrapping around at the end"). */
	uint16_t mask = (uint16_t)(size - 1u);
	for (uint32_t i = 0; i < size; i++)
		s->shadow[i].next = (uint16_t)((i + 1u) & mask);
	s->free_head = 0;
	vq->num_free = size;
	s->avail_idx = 0;
	s->avail_published = 0;
	s->avail_kicked = 0;
	s->last_used = 0;
	s->avail_flags = 0; /* the ring memory is zeroed (create, reset) */
	s->batch_left = 0;
	s->batch_len = 0;
	/* used->flags starts at 0 (spec 2.7.10.1: the driver MUST initialise
	 * it so): the ring was zeroed by the caller. */
	if (vq->cb_enabled)
		vq_split_unsuppress(vq);
	else
		vq_split_suppress(vq);
	return VNET_OK;
}

void vq_split_fini(struct vnet_vq *vq)
{
	struct vq_split *s = &vq->split;
	vnet_hal_free(s->order);
	s->order = NULL;
	vnet_hal_free(s->shadow);
	s->shadow = NULL;
}

/* ---- supplying buffers (spec 2.7.13) ---- */

/* The ring and shadow pointers the add paths store through, read once per
 * call into locals: with -fno-strict-aliasing every ring store would
 * otherwise force them to be reloaded from the queue. */
struct vq_split_w {
	struct vring_desc *desc;
	vnet_le16 *ring;     /* avail->ring */
	uint16_t *order;     /* IN_ORDER slot -> head FIFO, NULL without */
	struct vq_chain *chain;
	uint16_t mask;
};

static inline struct vq_split_w vq_split_w(const struct vnet_vq *vq)
{
	const struct vq_split *s = &vq->split;
	/* order is allocated only with IN_ORDER (vq_split_init), NULL otherwise. */
	struct vq_split_w w = {s->desc, s->avail->ring, s->order, vq->chain, (uint16_t)(vq->size - 1u)};
	return w;
}

/* Make head available: its avail ring entry now, idx later (spec
 * 2.7.13.2; kick_prepare publishes, so a burst of adds costs one barrier
 * and one idx store).  Both add paths. */
static inline void vq_split_avail_at(const struct vq_split_w *w, uint16_t idx, uint16_t head)
{
	uint16_t slot = (uint16_t)(idx & w->mask);
	if (w->order) {
		/* One-descriptor buffers in order put head == slot, lap after
		 * lap: the entry already holds it, and skipping the store
		 * spares a read-for-ownership of a line the device reads.  The
		 * barrier before avail->idx still orders every store made. */
		if (VQ_LOAD16(&w->ring[slot]) != head)
			VQ_STORE16(&w->ring[slot], head);
		VQ_SET_IF_CHANGED(w->order[slot], head);
	} else {
		VQ_STORE16(&w->ring[slot], head);
	}
}

static inline void vq_split_avail(struct vnet_vq *vq, uint16_t head)
{
	struct vq_split_w w = vq_split_w(vq);
	vq_split_avail_at(&w, vq->split.avail_idx, head);
	vq->split.avail_idx++;
}

/*
 * The descriptor, avail entry and chain stores of one buffer in descriptor
 * head, made available at avail position idx (shared by vq_split_add_one
 * and the burst add).  len, flags and next go in one 64-bit store (bytes
 * 8..15 of the descriptor, little-endian image len | flags << 32 | next <<
 * 48); nothing is visible to the device before avail->idx moves
 * (2.7.13.3).  Storing the tail only when it changes measured worse on
 * round-trip latency (docs/performance.md, "Fewer stores per frame").
 */
static inline void vq_split_put_one(const struct vq_split_w *w, uint16_t head, uint16_t idx, uint64_t addr,
                                    uint32_t len, bool writable, void *cookie)
{
	struct vring_desc *d = &w->desc[head];
	uint64_t tail = (uint64_t)len | (uint64_t)(writable ? VRING_DESC_F_WRITE : 0u) << 32;
	vq_store_desc(d, addr, tail);
	struct vq_chain *c = &w->chain[head];
	c->cookie = cookie;
	VQ_SET_IF_CHANGED(c->meta, vq_chain_meta_one(writable ? len : 0u));
	VQ_SET_IF_CHANGED(c->last, head);
	vq_split_avail_at(w, idx, head);
}

/*
 * One buffer in one descriptor, the common network case (TX frame with its
 * header in front, RX refill), apart from the chain path so it compiles to
 * a short leaf.
 */
static inline int vq_split_add_one(struct vnet_vq *vq, uint64_t addr, uint32_t len, bool writable, void *cookie)
{
	struct vq_split *s = &vq->split;

	if (VQ_UNLIKELY(vq->num_free == 0))
		return VNET_ENOSPC;
	uint16_t head = s->free_head;
	struct vq_split_w w = vq_split_w(vq);
	vq_split_put_one(&w, head, s->avail_idx, addr, len, writable, cookie);
	s->free_head = s->shadow[head].next;
	s->avail_idx++;
	vq->num_free = (uint16_t)(vq->num_free - 1u);
	return VNET_OK;
}

static __attribute__((noinline)) int vq_split_add_chain(struct vnet_vq *vq, const struct vnet_sg *sg,
                                                        unsigned out_n, unsigned in_n, void *cookie)
{
	struct vq_split *s = &vq->split;
	unsigned total = out_n + in_n;
	/* One ring slot instead of total when an indirect table fits
	 * (spec 2.7.5.3); a single element gains nothing from it, nor (the
	 * caller's choice, indirect_min) a short chain. */
	bool indirect = VQ_UNLIKELY(total > 1) && total >= vq->indirect_min && total <= vq->indirect_max;
	unsigned need = indirect ? 1u : total;

	if (VQ_UNLIKELY(vq->num_free < need))
		return VNET_ENOSPC;

	struct vring_desc *shadow = s->shadow;
	uint16_t head = s->free_head;
	uint64_t bytes = 0;
	uint32_t in_len = 0;
	uint16_t last;

	/* Until avail->idx moves, nothing written here is visible to the
	 * device (spec 2.7.13.3), so an early return leaves no trace. */
	if (indirect) {
		/* Table of slot head, sequential indices (spec 2.7.5.3: required
		 * with IN_ORDER, and the simplest choice anyway). */
		struct vring_desc *t = vq_indir_va(vq, head);
		for (unsigned k = 0; k < total; k++) {
			uint16_t flags = k >= out_n ? VRING_DESC_F_WRITE : 0u;
			uint16_t next = 0;
			if (k + 1u < total) {
				flags |= VRING_DESC_F_NEXT;
				next = (uint16_t)(k + 1u);
			}
			bytes += sg[k].len;
			if (k >= out_n)
				in_len += sg[k].len;
			t[k].addr = vnet_cpu_to_le64(sg[k].addr);
			t[k].len = vnet_cpu_to_le32(sg[k].len);
			t[k].flags = vnet_cpu_to_le16(flags);
			t[k].next = vnet_cpu_to_le16(next);
		}
		/* Spec 2.7.5.3.1: no NEXT together with INDIRECT. */
		struct vring_desc *d = &s->desc[head];
		d->addr = vnet_cpu_to_le64(vq_indir_iova(vq, head));
		d->len = vnet_cpu_to_le32((uint32_t)(total * sizeof(struct vring_desc)));
		d->flags = vnet_cpu_to_le16(VRING_DESC_F_INDIRECT);
		d->next = 0;
		last = head;
	} else {
		struct vring_desc *desc = s->desc;
		uint16_t i = head;
		last = head;
		for (unsigned k = 0; k < total; k++) {
			uint16_t flags = k >= out_n ? VRING_DESC_F_WRITE : 0u;
			uint16_t next = shadow[i].next;
			bytes += sg[k].len;
			if (k >= out_n)
				in_len += sg[k].len;
			desc[i].addr = vnet_cpu_to_le64(sg[k].addr);
			desc[i].len = vnet_cpu_to_le32(sg[k].len);
			if (k + 1u < total) {
				/* With IN_ORDER next is i + 1 mod size, as spec
				 * 2.7.5.2 requires: the shadow links never change. */
				desc[i].flags = vnet_cpu_to_le16(flags | VRING_DESC_F_NEXT);
				desc[i].next = vnet_cpu_to_le16(next);
			} else {
				desc[i].flags = vnet_cpu_to_le16(flags);
				desc[i].next = 0;
			}
			last = i;
			i = next;
		}
	}
	/* Spec 2.7.5.2: a chain MUST NOT exceed 2^32 bytes (this also keeps
	 * in_len, the bound for the used len, from wrapping). */
	if (VQ_UNLIKELY(bytes > UINT32_MAX))
		return VNET_EINVAL;

	s->free_head = shadow[last].next;
	vq->num_free = (uint16_t)(vq->num_free - need);

	struct vq_chain *c = &vq->chain[head];
	c->cookie = cookie;
	c->in_len = in_len;
	c->ndesc = (uint16_t)need;
	c->last = last;
	c->indirect = indirect;
	vq_split_avail(vq, head);
	return VNET_OK;
}

/*
 * The same as n calls of vq_split_add_one (stopping at the first NULL
 * cookie), with the free-list head and the avail index kept in locals for
 * the whole burst and stored back once (the per-descriptor stores are then
 * the ring's and the chain's only).  Inlined with writable and IN_ORDER
 * (w.order set) as constants.
 */
static inline __attribute__((always_inline)) unsigned vq_split_add_bufs_k(struct vnet_vq *vq, const struct vnet_sg *sg,
                                                                          void *const *cookies, unsigned n,
                                                                          const bool writable, const bool in_order)
{
	struct vq_split *s = &vq->split;
	uint16_t head = s->free_head, idx = s->avail_idx;
	const struct vring_desc *shadow = s->shadow;
	struct vq_split_w w = vq_split_w(vq);
	if (!in_order)
		w.order = NULL;
	else if (!w.order)
		__builtin_unreachable(); /* the caller tested it */
	unsigned i = 0;
	for (; i < n && cookies[i]; i++, idx++) {
		vq_split_put_one(&w, head, idx, sg[i].addr, sg[i].len, writable, cookies[i]);
		head = shadow[head].next;
	}
	s->free_head = head;
	s->avail_idx = idx;
	vq->num_free = (uint16_t)(vq->num_free - i);
	return i;
}

unsigned vq_split_add_bufs(struct vnet_vq *vq, const struct vnet_sg *sg, void *const *cookies, unsigned n,
                           bool writable)
{
	if (n > vq->num_free)
		n = vq->num_free;
	/* order is allocated only with IN_ORDER (vq_split_init). */
	if (vq->split.order)
		return writable ? vq_split_add_bufs_k(vq, sg, cookies, n, true, true)
		                : vq_split_add_bufs_k(vq, sg, cookies, n, false, true);
	return writable ? vq_split_add_bufs_k(vq, sg, cookies, n, true, false)
	                : vq_split_add_bufs_k(vq, sg, cookies, n, false, false);
}

int vq_split_add(struct vnet_vq *vq, const struct vnet_sg *sg, unsigned out_n, unsigned in_n, void *cookie)
{
	if (VQ_LIKELY(out_n + in_n == 1))
		return vq_split_add_one(vq, sg[0].addr, sg[0].len, in_n != 0, cookie);
	return vq_split_add_chain(vq, sg, out_n, in_n, cookie);
}

bool vq_split_kick_prepare(struct vnet_vq *vq)
{
	struct vq_split *s = &vq->split;
	uint16_t old = s->avail_kicked;
	uint16_t cur = s->avail_idx;

	if (cur == old)
		return false; /* nothing made available since the last decision */

	/* Spec 2.7.13.3.1: descriptors and ring entries visible before idx. */
	vq_wmb();
	VQ_STORE16(&s->avail->idx, cur);
	s->avail_published = cur;
	/* Spec 2.7.13.4.1: idx store ordered before reading used->flags /
	 * avail_event, or a device going to sleep could be missed. */
	vq_mb();
	s->avail_kicked = cur;

	if (vq->event_idx) {
		/* Spec 2.7.10.1: notify if an entry we published in [old, cur)
		 * sat at avail_event.  The whole batch since the last decision
		 * is tested at once. */
		uint16_t ev = VQ_LOAD16(s->avail_event);
		return vring_need_event(ev, cur, old) != 0;
	}
	/* Without EVENT_IDX only bit 0 has a meaning (spec 2.7.10.2). */
	return (VQ_LOAD16(&s->used->flags) & VRING_USED_F_NO_NOTIFY) == 0;
}

uint32_t vq_split_notify_data(const struct vnet_vq *vq)
{
	/* Split: next_off | next_wrap << 15 is the published 16-bit avail idx. */
	uint16_t idx = vq->split.avail_published;
	return vring_notification_data(vq->index, (uint16_t)(idx & 0x7fffu), idx >> 15);
}

/* ---- receiving used buffers (spec 2.7.14) ---- */

/* Return a completed (or detached) chain's descriptors to the free pool,
 * from the shadow: the device may have rewritten the table. */
static inline void vq_split_free_chain(struct vnet_vq *vq, uint16_t head)
{
	struct vq_split *s = &vq->split;
	struct vq_chain *c = &vq->chain[head];
	if (!vq->in_order) {
		/* Splice the chain (links intact in the shadow) in front. */
		s->shadow[c->last].next = s->free_head;
		s->free_head = head;
	}
	/* IN_ORDER: chains complete in allocation order, so the free region
	 * stays the contiguous run [free_head, free_head + num_free). */
	vq->num_free = (uint16_t)(vq->num_free + c->ndesc);
}

/*
 * IN_ORDER: hand back up to room chains of the current batch, oldest first.
 * The batch's last chain gets batch_len; the others are the "skipped
 * buffers" of spec 2.7.9, used completely, so their len is in_len.
 */
static unsigned vq_split_drain_batch(struct vnet_vq *vq, struct vnet_vq_used *out, unsigned room)
{
	struct vq_split *s = &vq->split;
	uint16_t mask = (uint16_t)(vq->size - 1u);
	unsigned n = 0;
	while (n < room && s->batch_left) {
		uint16_t head = s->order[s->last_used & mask];
		struct vq_chain *c = &vq->chain[head];
		if (VQ_UNLIKELY(!c->cookie)) {
			/* Only reachable if the FIFO and chain[] disagree. */
			vq_fault(vq, VNET_VQ_FAULT_ID_NOT_HEAD, head, s->last_used);
			s->batch_left = 0;
			break;
		}
		out[n].cookie = c->cookie;
		out[n].len = s->batch_left == 1 ? s->batch_len : c->in_len;
		n++;
		c->cookie = NULL;
		vq_split_free_chain(vq, head);
		s->last_used++;
		s->batch_left--;
	}
	return n;
}

static unsigned vq_split_get_used_in_order(struct vnet_vq *vq, struct vnet_vq_used *out, unsigned max,
                                           uint16_t used_idx)
{
	struct vq_split *s = &vq->split;
	uint16_t mask = (uint16_t)(vq->size - 1u);
	const struct vring_used_elem *ring = s->used->ring;
	const uint16_t *order = s->order;
	struct vq_chain *chain = vq->chain;
	unsigned n = 0;
	/* In locals across the loop (stores to out[] would otherwise force
	 * them back to memory per entry, -fno-strict-aliasing); written back
	 * around the batch drain, which works on the queue itself. */
	uint16_t last_used = s->last_used, num_free = vq->num_free;

	while (n < max && !vq->broken) {
		if (s->batch_left) {
			s->last_used = last_used;
			vq->num_free = num_free;
			n += vq_split_drain_batch(vq, out + n, max - n);
			last_used = s->last_used;
			num_free = vq->num_free;
			continue;
		}
		uint16_t pending = (uint16_t)(used_idx - last_used);
		if (!pending)
			break;
		/* The batch's entry sits where its first chain was made
		 * available (spec 2.7.9), i.e. at last_used. */
		const struct vring_used_elem *e = &ring[last_used & mask];
		uint32_t id = VQ_LOAD32(&e->id);
		uint32_t len = VQ_LOAD32(&e->len);
		if (VQ_UNLIKELY(id >= vq->size)) {
			vq_fault(vq, VNET_VQ_FAULT_ID_RANGE, id, last_used);
			break;
		}
		struct vq_chain *c = &chain[id];
		void *cookie = c->cookie;
		if (VQ_UNLIKELY(!cookie)) {
			vq_fault(vq, VNET_VQ_FAULT_ID_NOT_HEAD, id, last_used);
			break;
		}
		if (VQ_UNLIKELY(len > c->in_len)) {
			len = 0;
			vq->stats.bad_len++;
		}
		if (VQ_LIKELY(order[last_used & mask] == id)) {
			/* A batch of one (a device that does not batch). */
			out[n].cookie = cookie;
			out[n].len = len;
			n++;
			c->cookie = NULL;
			num_free = (uint16_t)(num_free + c->ndesc);
			last_used++;
			continue;
		}
		/* Batch size: position of id in the FIFO, which must lie within
		 * what used->idx says was completed. */
		uint16_t j = 1;
		while (j < pending && order[(uint16_t)(last_used + j) & mask] != id)
			j++;
		if (VQ_UNLIKELY(j >= pending)) {
			vq_fault(vq, VNET_VQ_FAULT_IN_ORDER, id, last_used);
			break;
		}
		s->batch_left = (uint16_t)(j + 1u);
		s->batch_len = len;
	}
	s->last_used = last_used;
	vq->num_free = num_free;
	return n;
}

/*
 * IN_ORDER on a read-only queue (vnet_vq_config.read_only, transmit): the
 * buffers [last_used, used_idx) are complete in the order they were made
 * available, whatever the entries say: used->idx counts buffers, and the
 * entries of all but a batch's last are not written (spec 2.7.9).  Their
 * lengths would be bounded to 0 anyway (nothing writable was posted), so
 * the used ring itself is not read: no miss on lines the device wrote
 * but the index's.  used_idx was checked against what was published.
 */
static unsigned vq_split_get_used_in_order_ro(struct vnet_vq *vq, struct vnet_vq_used *out, unsigned max,
                                              uint16_t used_idx)
{
	struct vq_split *s = &vq->split;
	uint16_t mask = (uint16_t)(vq->size - 1u);
	const uint16_t *order = s->order;
	struct vq_chain *chain = vq->chain;
	uint16_t last_used = s->last_used, num_free = vq->num_free;
	uint16_t pending = (uint16_t)(used_idx - last_used);
	unsigned k = pending < max ? pending : max, n = 0;
	for (; n < k; n++) {
		uint16_t head = order[last_used & mask];
		struct vq_chain *c = &chain[head];
		if (VQ_UNLIKELY(!c->cookie)) {
			/* Only reachable if the FIFO and chain[] disagree. */
			vq_fault(vq, VNET_VQ_FAULT_ID_NOT_HEAD, head, last_used);
			break;
		}
		out[n].cookie = c->cookie;
		out[n].len = 0;
		c->cookie = NULL;
		num_free = (uint16_t)(num_free + c->ndesc);
		last_used++;
	}
	s->last_used = last_used;
	vq->num_free = num_free;
	return n;
}

unsigned vq_split_get_used(struct vnet_vq *vq, struct vnet_vq_used *out, unsigned max)
{
	struct vq_split *s = &vq->split;
	uint16_t used_idx = VQ_LOAD16(&s->used->idx);
	uint16_t pending = (uint16_t)(used_idx - s->last_used);
	unsigned n = 0;

	/* The device can only have completed what we published and have not
	 * consumed; anything else (a jump, or idx moving backwards, which
	 * wraps to a huge count) is a fault.  Those published chains are all
	 * outstanding, so this is at least as strict as "<= outstanding". */
	if (VQ_UNLIKELY(pending > (uint16_t)(s->avail_published - s->last_used))) {
		vq_fault(vq, VNET_VQ_FAULT_USED_IDX, used_idx, s->last_used);
		return 0;
	}
	if (!pending && !s->batch_left)
		return 0;
	/* Spec 2.7.8.2: the device sets entries before idx; read idx first,
	 * entries after. */
	vq_rmb();

	if (vq->in_order && vq->read_only) {
		n = vq_split_get_used_in_order_ro(vq, out, max, used_idx);
	} else if (vq->in_order) {
		n = vq_split_get_used_in_order(vq, out, max, used_idx);
	} else {
		/* Locals for everything the loop updates: the core is built with
		 * -fno-strict-aliasing, so stores to out[] would otherwise force
		 * vq fields back to memory on every entry. */
		uint16_t mask = (uint16_t)(vq->size - 1u);
		uint32_t size = vq->size;
		const struct vring_used_elem *ring = s->used->ring;
		struct vq_chain *chain = vq->chain;
		struct vring_desc *shadow = s->shadow;
		uint16_t last_used = s->last_used;
		uint16_t free_head = s->free_head;
		uint16_t num_free = vq->num_free;
		unsigned lim = pending < max ? pending : max;
		while (n < lim) {
			const struct vring_used_elem *e = &ring[last_used & mask];
			uint32_t id = VQ_LOAD32(&e->id);
			uint32_t len = VQ_LOAD32(&e->len);
			if (VQ_UNLIKELY(id >= size)) {
				vq_fault(vq, VNET_VQ_FAULT_ID_RANGE, id, last_used);
				break;
			}
			struct vq_chain *c = &chain[id];
			void *cookie = c->cookie;
			/* Not a head we gave, or given back already. */
			if (VQ_UNLIKELY(!cookie)) {
				vq_fault(vq, VNET_VQ_FAULT_ID_NOT_HEAD, id, last_used);
				break;
			}
			if (VQ_UNLIKELY(len > c->in_len)) {
				len = 0;
				vq->stats.bad_len++;
			}
			c->cookie = NULL;
			/* Descriptors back to the free list, links from the shadow. */
			shadow[c->last].next = free_head;
			free_head = (uint16_t)id;
			num_free = (uint16_t)(num_free + c->ndesc);
			out[n].cookie = cookie;
			out[n].len = len;
			n++;
			last_used++;
		}
		s->last_used = last_used;
		s->free_head = free_head;
		vq->num_free = num_free;
	}
	vq->outstanding = (uint16_t)(vq->outstanding - n);

	if (vq->event_idx && vq->cb_enabled && n && !vq->broken) {
		/* Keep used-buffer notifications armed for the next entry
		 * (spec 2.7.7.1), and order that store before our next read of
		 * used->idx so a completion racing with it is seen by one side
		 * (spec 2.7.14 note on missed notifications). */
		VQ_STORE16(s->used_event, s->last_used);
		vq_mb();
	}
	return n;
}

bool vq_split_has_used(struct vnet_vq *vq)
{
	/* Relaxed: a hint; get_used re-reads with the proper barrier. */
	return VQ_LOAD16(&vq->split.used->idx) != vq->split.last_used;
}

void vq_split_ring_state(const struct vnet_vq *vq, struct vnet_vq_ring_state *st)
{
	const struct vq_split *s = &vq->split;
	st->avail_pos = s->avail_published;
	st->used_pos = s->last_used;
	st->device_used = VQ_LOAD16(&s->used->idx);
	st->used_ready = st->device_used != s->last_used || s->batch_left;
	st->driver_event = VQ_LOAD16(s->used_event);
	st->driver_flags = s->avail_flags;
	st->device_event = VQ_LOAD16(s->avail_event);
	st->device_flags = VQ_LOAD16(&s->used->flags);
}

bool vq_split_enable_cb(struct vnet_vq *vq)
{
	vq_split_unsuppress(vq);
	/* Spec 2.7.14 note: re-enable, barrier, re-check used->idx; without
	 * it a completion landing before the device saw the store is lost. */
	vq_mb();
	return VQ_LOAD16(&vq->split.used->idx) == vq->split.last_used;
}

void vq_split_disable_cb(struct vnet_vq *vq)
{
	vq_split_suppress(vq);
}

void vq_split_release(struct vnet_vq *vq, uint16_t i)
{
	if (!vq->in_order) {
		vq_split_free_chain(vq, i);
		return;
	}
	/* IN_ORDER: detach goes in slot order, not ring order, so the free
	 * region would have holes.  Keep the descriptors reserved until the
	 * last chain is back (the common layer decrements outstanding after
	 * this call); then the whole table is free and the FIFO is empty by
	 * definition.  The ring must be reset (vnet_vq_reset) before reuse
	 * anyway, since the device was reset. */
	if (vq->outstanding <= 1) {
		vq->num_free = vq->size;
		vq->split.batch_left = 0;
	}
}
