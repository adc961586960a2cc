/*
 * Virtqueue engine, packed-ring half (spec 2.8 "Packed Virtqueues").
 *
 * What it does: lays out the packed ring in the memory virtqueue.c
 * allocated, writes available descriptors (direct chains or one indirect
 * descriptor per chain), publishes them in batches, decides whether the
 * device wants an available-buffer notification, takes used descriptors
 * back with every device-written field checked against the private shadow,
 * and drives the driver event suppression area.  It does not validate the
 * caller's arguments, count stats other than bad_len, or refuse calls on a
 * broken queue: the common half (virtqueue.c) does that.
 *
 * Ring memory (one DMA area, 4096-aligned by virtqueue.c):
 *   [0, 16*size)          descriptor ring (16-byte aligned, spec 2.8.10.1)
 *   [drv, drv+4)          driver event suppression, on its own cache line
 *   [dev, dev+4)          device event suppression, on its own cache line
 * The device polls the descriptor ring and reads the driver area; we poll
 * the device area.  Separate lines keep one side's writes from invalidating
 * the line the other side is polling.
 *
 * Positions: a ring offset 0..size-1 plus a one-bit wrap counter (spec
 * 2.8.1).  Sizes need not be powers of two, so every advance compares with
 * size and flips the counter; nothing is masked.
 *
 * Buffer ids: one per chain, 0..size-1, from a free list threaded through
 * vq->chain[id].last.  chain[id] holds the cookie (NULL = id free), the
 * writable byte count (bound for the used length) and the number of ring
 * descriptors the chain occupies (how far a used descriptor advances us).
 * With IN_ORDER the id is the ring position of the chain's first
 * descriptor instead (free by construction: that position's previous
 * chain completed before the ring could come round to it), so neither a
 * free list nor a FIFO of outstanding ids is kept: the oldest outstanding
 * chain is the one at last_used, the next at last_used + its ndesc.  That
 * saves four stores and the list walks per buffer on both sides, and the
 * back-end sees ids in ring order as DPDK's in-order paths give them.
 *
 * Batch publishing (chosen over publish-per-add): vnet_vq_add writes every
 * field of every descriptor except the flags of the first descriptor of the
 * not-yet-published batch; the flags of the later descriptors are written
 * directly, which is safe because the device polls descriptors strictly in
 * ring order (spec 2.8.2) and stops at the first one that is not available
 * (the spec's own deferral of the first descriptor's flags, 2.8.21.1 and
 * 2.8.17, stretched over a batch of chains).  kick_prepare then issues one
 * write barrier and stores that single flags word (spec 2.8.21.1.1), exposing the whole batch at once:
 * a burst of N adds costs one barrier.  The batch can never lap itself:
 * descriptors of the pending batch are not free, so it holds at most
 * size - num_free <= size descriptors, and its first descriptor stays the
 * one the device is waiting on.
 *
 * Trust: the device may write only the used descriptors (id, len, flags)
 * and the device event suppression area.  A used descriptor is accepted
 * only if its id is an outstanding chain, its flags carry no bit beyond
 * AVAIL, USED, WRITE, NEXT and (on a queue with indirect tables) INDIRECT
 * (see PD_USED_OK), and the chain fits in the descriptors published
 * and not yet used; otherwise the queue latches broken (vq_fault) and
 * get_used stops.  A used length above the chain's writable bytes is
 * handed back as 0 and counted (stats.bad_len), not latched.
 *
 * Semantics where the spec leaves room:
 *  - kick_prepare returns false when nothing was published since the last
 *    decision (a device that re-enables notifications re-checks the ring
 *    itself); a DESC event with an offset >= size, a reserved flags value,
 *    or DESC without EVENT_IDX all mean "notify" (a kick is always safe).
 *  - The used length is bounded by the chain's writable bytes whatever the
 *    WRITE bit says: QEMU never sets WRITE in used descriptors.
 *  - IN_ORDER: a used descriptor naming id X completes, in availability
 *    order, every outstanding buffer up to and including X.  The earlier
 *    ones are handed back with their whole writable length: spec 2.8.8
 *    says skipped buffers "are assumed to have been used (read or written)
 *    by the device completely" (the split half does the same); X comes
 *    back with the reported length.  A batch larger than the caller's
 *    array is handed back over several get_used calls.
 *  - With EVENT_IDX and callbacks enabled, get_used moves the driver
 *    event offset to the new last_used (no barrier); enable_cb is still
 *    what must be called before sleeping.
 *  - A device completing a buffer it could not have seen yet (unpublished)
 *    is caught only through the descriptor count (USED_IDX): there is no
 *    per-chain "published" mark.
 */
#include "vnet_mem.h"

#include "vq_priv.h"

#define VQ_PACKED_NONE 0xffffu /* no id: ids are < size <= 32768 */

#define PD_AVAIL ((uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL))
#define PD_USED ((uint16_t)(1u << VRING_PACKED_DESC_F_USED))
#define PD_WRAP_BITS ((uint16_t)(PD_AVAIL | PD_USED))
/* Bits a device may leave in a used descriptor (VirtIO 1.2 §2.8.3-§2.8.7).
 * The driver acts on the two wrap bits only; WRITE ("some data was
 * written", §2.8.3) is not needed since the used length is bounded by the
 * chain's writable bytes anyway.  NEXT is "reserved in used descriptors,
 * and should be ignored by drivers" (§2.8.6).  INDIRECT has no meaning in
 * a used descriptor ("Scatter/gather lists only apply to available
 * descriptors. A single used descriptor corresponds to the whole list",
 * §2.8.5), so a driver may ignore it too: DPDK 22.11's vhost library
 * writes the used descriptor of an indirect chain back with INDIRECT still
 * set (0x8084 on the first lap, with and without IN_ORDER), an echo of the
 * available descriptor's flags.  It is accepted only on a queue that posts
 * indirect descriptors: a device that was never given one is not echoing
 * anything.  The other bits (3-6, 8-14) are defined nowhere in the spec;
 * a device setting them is writing garbage into the ring, and the queue
 * latches broken. */
#define PD_USED_OK ((uint16_t)(PD_WRAP_BITS | VRING_DESC_F_WRITE | VRING_DESC_F_NEXT))
#define PD_USED_OK_INDIRECT ((uint16_t)(PD_USED_OK | VRING_DESC_F_INDIRECT))

#define VQ_CACHELINE 64u

static inline size_t vq_packed_align(size_t v, size_t a)
{
	return (v + a - 1u) & ~(a - 1u);
}

static inline size_t vq_packed_driver_off(uint16_t size)
{
	return vq_packed_align(sizeof(struct vring_packed_desc) * (size_t)size, VQ_CACHELINE);
}

static inline size_t vq_packed_device_off(uint16_t size)
{
	return vq_packed_driver_off(size) + VQ_CACHELINE;
}

size_t vq_packed_ring_bytes(uint16_t size)
{
	return vq_packed_device_off(size) + VQ_CACHELINE;
}

void vq_packed_ring_addrs(const struct vnet_vq *vq, uint64_t *d, uint64_t *dr, uint64_t *dv)
{
	/* Device addresses (iova), never the driver's virtual addresses. */
	*d = vq->ring.iova;
	*dr = vq->ring.iova + vq_packed_driver_off(vq->size);
	*dv = vq->ring.iova + vq_packed_device_off(vq->size);
}

int vq_packed_init(struct vnet_vq *vq, bool first)
{
	struct vq_packed *p = &vq->packed;
	char *base = vq->ring.va;

	(void)first; /* no private arrays: ids live in vq->chain */
	/* Spec 2.8.13: the descriptor ring is zero-initialised, so no
	 * descriptor looks available (or used) to either side.  The HAL and
	 * vnet_vq_reset already zeroed it; doing it here too keeps init
	 * self-contained and it is not on the data path. */
	memset(base, 0, vq_packed_ring_bytes(vq->size));
	p->desc = (struct vring_packed_desc *)base;
	p->driver = (struct vring_packed_desc_event *)(base + vq_packed_driver_off(vq->size));
	p->device = (struct vring_packed_desc_event *)(base + vq_packed_device_off(vq->size));

	/* Both wrap counters start at 1 (spec 2.8.1). */
	p->next_avail = 0;
	p->avail_wrap = 1;
	p->avail_used_flags = PD_AVAIL;
	p->last_used = 0;
	p->used_wrap = 1;
	p->used_flags = PD_WRAP_BITS;

	for (uint16_t i = 0; i < vq->size; i++) {
		vq->chain[i].cookie = NULL;
		vq->chain[i].last = (uint16_t)(i + 1u < vq->size ? i + 1u : VQ_PACKED_NONE);
	}
	p->free_id = 0;
	vq->num_free = vq->size;

	p->pending_desc = 0;
	p->pending_first = 0;
	p->pending_first_flags = 0;
	p->since_kick = 0;
	/* Like the split half, the ring starts with the suppression state of
	 * vq->cb_enabled (false after create: no used-buffer notifications
	 * until the consumer asks with vnet_vq_enable_cb).  A zeroed driver
	 * area would read as ENABLE, so DISABLE is written explicitly. */
	p->event_off_wrap = 0;
	p->event_flags = vq->cb_enabled ? VRING_PACKED_EVENT_FLAG_ENABLE : VRING_PACKED_EVENT_FLAG_DISABLE;
	VQ_STORE16(&p->driver->off_wrap, 0);
	VQ_STORE16(&p->driver->flags, p->event_flags);

	p->io_target = VQ_PACKED_NONE;
	p->io_len = 0;
	return VNET_OK;
}

void vq_packed_fini(struct vnet_vq *vq)
{
	(void)vq; /* nothing allocated beyond what virtqueue.c frees */
}

/* ---- making buffers available ---- */

/* Hot-path state is copied into locals (struct vq_packed_cursor) and
 * written back once: the ring stores could alias the shadow as far as the
 * compiler knows (-fno-strict-aliasing), which would otherwise force a
 * reload and store of every shadow field around every descriptor write. */
struct vq_packed_cursor {
	uint16_t pos;     /* next_avail */
	uint16_t flags;   /* avail_used_flags */
	uint16_t wrap;    /* avail_wrap */
	uint16_t pending; /* pending_desc */
};

/* Step an avail cursor one descriptor on, flipping the wrap counter and the
 * "available" flag pattern at the end of the ring (every add path). */
static inline void vq_packed_step(uint16_t *pos, uint16_t *wrap, uint16_t *auf, uint16_t size)
{
	if (VQ_UNLIKELY(++*pos == size)) {
		*pos = 0;
		*wrap ^= 1u;
		*auf ^= PD_WRAP_BITS;
	}
}

/* Write one descriptor at the cursor and step it; flip the wrap counter
 * (and the AVAIL/USED pattern meaning "available") when passing the end.
 * Every descriptor gets its own wrap bits: a chain may cross the end.  The
 * first descriptor of an unpublished batch keeps its old flags (the device
 * stops there); its new flags are kept for vq_packed_publish. */
static inline void vq_packed_put(struct vnet_vq *vq, struct vq_packed_cursor *k, uint64_t addr, uint32_t len,
                                 uint16_t id, uint16_t flags)
{
	struct vring_packed_desc *d = &vq->packed.desc[k->pos];

	flags |= k->flags;
	VQ_STORE64(&d->addr, addr);
	VQ_STORE32(&d->len, len);
	VQ_STORE16(&d->id, id);
	if (k->pending == 0) {
		vq->packed.pending_first = k->pos;
		vq->packed.pending_first_flags = flags;
	} else {
		VQ_STORE16(&d->flags, flags);
	}
	k->pending++;
	vq_packed_step(&k->pos, &k->wrap, &k->flags, vq->size);
}

/*
 * The ring and chain stores of a one-descriptor buffer at ring position
 * pos with buffer id (shared by vq_packed_add_one and the burst add).  A
 * descriptor behind the first of the pending batch (first == false) gets
 * len, id and flags in one 64-bit store: the device does not read past the
 * batch's first descriptor, whose flags are still the old ones until
 * vq_packed_publish (spec 2.8.21.1, flags of the first descriptor written
 * last; the others are covered by that barrier).
 */
static inline void vq_packed_put_one(struct vq_packed *p, struct vring_packed_desc *ring, struct vq_chain *c,
                                     uint16_t pos, uint16_t id,
                                     uint64_t addr, uint32_t len, uint16_t flags, bool writable, void *cookie,
                                     bool first)
{
	struct vring_packed_desc *d = &ring[pos];
	if (VQ_UNLIKELY(first)) {
		VQ_STORE64(&d->addr, addr);
		VQ_STORE32(&d->len, len);
		VQ_STORE16(&d->id, id);
		p->pending_first = pos;
		p->pending_first_flags = flags;
	} else {
		/* len | id << 32 | flags << 48 is the little-endian image of
		 * bytes 8..15 of the descriptor. */
		vq_store_desc(d, addr, (uint64_t)len | (uint64_t)id << 32 | (uint64_t)flags << 48);
	}
	c->cookie = cookie;
	VQ_SET_IF_CHANGED(c->meta, vq_chain_meta_one(writable ? len : 0u));
}

/*
 * The common network case, one buffer in one descriptor (TX frame with its
 * header in front, RX refill), kept apart from the chain path so it
 * compiles to a short leaf.
 */
static inline int vq_packed_add_one(struct vnet_vq *vq, uint64_t addr, uint32_t len, bool writable, void *cookie)
{
	struct vq_packed *p = &vq->packed;

	if (VQ_UNLIKELY(vq->num_free == 0 || (!vq->in_order && p->free_id == VQ_PACKED_NONE)))
		return VNET_ENOSPC;
	uint16_t pos = p->next_avail;
	uint16_t id = vq->in_order ? pos : p->free_id;
	struct vq_chain *c = &vq->chain[id];
	uint16_t flags = (uint16_t)(p->avail_used_flags | (writable ? VRING_DESC_F_WRITE : 0u));

	if (!vq->in_order)
		p->free_id = c->last;
	vq_packed_put_one(p, p->desc, c, pos, id, addr, len, flags, writable, cookie, p->pending_desc == 0);
	p->pending_desc++;
	vq_packed_step(&pos, &p->avail_wrap, &p->avail_used_flags, vq->size);
	p->next_avail = pos;
	vq->num_free = (uint16_t)(vq->num_free - 1u);
	return VNET_OK;
}

static __attribute__((noinline)) int vq_packed_add_chain(struct vnet_vq *vq, const struct vnet_sg *sg,
                                                         unsigned out_n, unsigned in_n, void *cookie)
{
	struct vq_packed *p = &vq->packed;
	unsigned total = out_n + in_n;
	/* One ring descriptor pointing at the chain's indirect table when
	 * indirect is in use, the chain has at least indirect_min (>= 2)
	 * elements and fits; otherwise a direct chain (spec 2.8.6 / 2.8.7). */
	bool indirect = total > 1 && total >= vq->indirect_min && total <= vq->indirect_max;
	unsigned need = indirect ? 1u : total;

	if (VQ_UNLIKELY(need > vq->num_free || (!vq->in_order && p->free_id == VQ_PACKED_NONE)))
		return VNET_ENOSPC;

	uint16_t id = vq->in_order ? p->next_avail : p->free_id;
	struct vq_chain *c = &vq->chain[id];
	uint16_t next_free = vq->in_order ? p->free_id : c->last;
	struct vq_packed_cursor k = {p->next_avail, p->avail_used_flags, p->avail_wrap, p->pending_desc};
	uint64_t in_len = 0;

	if (indirect) {
		/* Spec 2.8.7 / 2.8.19: only WRITE is valid inside the table; ids
		 * there are reserved.  The table is ordered before the ring
		 * descriptor by the barrier in vq_packed_publish. */
		struct vring_packed_desc *t = vq_indir_va(vq, id);
		for (unsigned i = 0; i < total; i++) {
			uint16_t f = 0;
			if (i >= out_n) {
				f = VRING_DESC_F_WRITE;
				in_len += sg[i].len;
			}
			VQ_STORE64(&t[i].addr, sg[i].addr);
			VQ_STORE32(&t[i].len, sg[i].len);
			VQ_STORE16(&t[i].id, 0);
			VQ_STORE16(&t[i].flags, f);
		}
		vq_packed_put(vq, &k, vq_indir_iova(vq, id), (uint32_t)(total * sizeof(struct vring_packed_desc)), id,
		              VRING_DESC_F_INDIRECT);
	} else {
		/* Direct chain: NEXT on all but the last (spec 2.8.6).  Every
		 * descriptor carries the id; the spec needs it in the last one
		 * and the others' are ignored. */
		for (unsigned i = 0; i < total; i++) {
			uint16_t f = i + 1u < total ? VRING_DESC_F_NEXT : 0u;
			if (i >= out_n) {
				f |= VRING_DESC_F_WRITE;
				in_len += sg[i].len;
			}
			vq_packed_put(vq, &k, sg[i].addr, sg[i].len, id, f);
		}
	}

	p->next_avail = k.pos;
	p->avail_used_flags = k.flags;
	p->avail_wrap = k.wrap;
	p->pending_desc = k.pending;
	p->free_id = next_free;
	/* Writable bytes, saturated: the bound a used length is checked against. */
	c->cookie = cookie;
	c->in_len = in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)in_len;
	c->ndesc = (uint16_t)need;
	c->indirect = indirect;
	vq->num_free = (uint16_t)(vq->num_free - need);
	return VNET_OK;
}

/*
 * IN_ORDER burst: ids are ring positions, and the n <= num_free positions
 * from next_avail on are free.  The first descriptor of a new pending batch
 * is peeled off (its flags wait for vq_packed_publish), so the loop writes
 * every other descriptor whole, in one store.  Stops at a NULL cookie.
 * Inlined with writable a constant.
 */
static inline __attribute__((always_inline)) unsigned
vq_packed_add_bufs_in_order(struct vnet_vq *vq, const struct vnet_sg *sg, void *const *cookies, unsigned n,
                            bool writable)
{
	struct vq_packed *p = &vq->packed;
	const uint16_t wflag = writable ? VRING_DESC_F_WRITE : 0u;
	uint16_t pos = p->next_avail, wrap = p->avail_wrap, auf = p->avail_used_flags;
	struct vq_chain *const chain = vq->chain;
	struct vring_packed_desc *const ring = p->desc;
	unsigned i = 0;
	if (n == 0 || !cookies[0])
		return 0;
	if (p->pending_desc == 0) {
		vq_packed_put_one(p, ring, &chain[pos], pos, pos, sg[0].addr, sg[0].len, (uint16_t)(auf | wflag), writable,
		                  cookies[0], true);
		vq_packed_step(&pos, &wrap, &auf, vq->size);
		i = 1;
	}
	/* In runs up to the end of the ring, so the inner loop has no wrap test. */
	while (i < n) {
		unsigned end = i + (n - i < (unsigned)(vq->size - pos) ? n - i : (unsigned)(vq->size - pos));
		const uint16_t f = (uint16_t)(auf | wflag);
		for (; i < end; i++, pos++) {
			void *cookie = cookies[i];
			if (VQ_UNLIKELY(!cookie))
				goto out;
			vq_packed_put_one(p, ring, &chain[pos], pos, pos, sg[i].addr, sg[i].len, f, writable, cookie, false);
		}
		if (pos == vq->size) {
			pos = 0;
			wrap ^= 1u;
			auf ^= PD_WRAP_BITS;
		}
	}
out:
	p->next_avail = pos;
	p->avail_wrap = wrap;
	p->avail_used_flags = auf;
	p->pending_desc = (uint16_t)(p->pending_desc + i);
	return i;
}

/* Without IN_ORDER: ids from the free-id list. */
static inline unsigned vq_packed_add_bufs_any(struct vnet_vq *vq, const struct vnet_sg *sg, void *const *cookies,
                                              unsigned n, bool writable)
{
	struct vq_packed *p = &vq->packed;
	const uint16_t size = vq->size;
	const uint16_t wflag = writable ? VRING_DESC_F_WRITE : 0u;
	uint16_t pos = p->next_avail, wrap = p->avail_wrap, auf = p->avail_used_flags, pending = p->pending_desc;
	uint16_t free_id = p->free_id;
	struct vq_chain *chain = vq->chain;
	struct vring_packed_desc *ring = p->desc;
	unsigned i = 0;
	for (; i < n && free_id != VQ_PACKED_NONE && cookies[i]; i++) {
		uint16_t id = free_id;
		struct vq_chain *c = &chain[id];
		free_id = c->last;
		vq_packed_put_one(p, ring, c, pos, id, sg[i].addr, sg[i].len, (uint16_t)(auf | wflag), writable, cookies[i],
		                  pending == 0);
		pending++;
		vq_packed_step(&pos, &wrap, &auf, size);
	}
	p->free_id = free_id;
	p->next_avail = pos;
	p->avail_wrap = wrap;
	p->avail_used_flags = auf;
	p->pending_desc = pending;
	return i;
}

/*
 * The same as n calls of vq_packed_add_one (stopping at the first NULL
 * cookie), with the ring cursor and the free id kept in locals for the
 * whole burst and stored back once: the per-descriptor stores are then only
 * the ring's and the chain's, not six fields of the queue state per
 * descriptor.
 */
unsigned vq_packed_add_bufs(struct vnet_vq *vq, const struct vnet_sg *sg, void *const *cookies, unsigned n,
                           bool writable)
{
	if (n > vq->num_free)
		n = vq->num_free;
	unsigned i;
	if (vq->in_order)
		i = writable ? vq_packed_add_bufs_in_order(vq, sg, cookies, n, true)
		             : vq_packed_add_bufs_in_order(vq, sg, cookies, n, false);
	else
		i = vq_packed_add_bufs_any(vq, sg, cookies, n, writable);
	vq->num_free = (uint16_t)(vq->num_free - i);
	return i;
}

int vq_packed_add(struct vnet_vq *vq, const struct vnet_sg *sg, unsigned out_n, unsigned in_n, void *cookie)
{
	if (VQ_LIKELY(out_n + in_n == 1))
		return vq_packed_add_one(vq, sg[0].addr, sg[0].len, in_n != 0, cookie);
	return vq_packed_add_chain(vq, sg, out_n, in_n, cookie);
}

/* Expose the pending batch: one barrier, then the first descriptor's flags
 * (spec 2.8.21.1.1 "Updating flags": the driver MUST perform a suitable
 * memory barrier before the flags update). */
static inline void vq_packed_publish(struct vnet_vq *vq)
{
	struct vq_packed *p = &vq->packed;

	if (p->pending_desc == 0)
		return;
	vq_wmb();
	VQ_STORE16(&p->desc[p->pending_first].flags, p->pending_first_flags);
	p->since_kick += p->pending_desc;
	p->pending_desc = 0;
}

bool vq_packed_kick_prepare(struct vnet_vq *vq)
{
	struct vq_packed *p = &vq->packed;

	vq_packed_publish(vq);
	uint32_t n = p->since_kick;
	if (n == 0)
		return false; /* nothing new since the last decision */
	p->since_kick = 0;

	/* Spec 2.8.21.3.1: barrier between exposing the flags and reading the
	 * device event suppression area, or a notification the device asked
	 * for could be missed. */
	vq_mb();
	/* One 32-bit load: off_wrap and flags from the same instant. */
	uint32_t ev = VQ_LOAD32((uint32_t *)(void *)p->device);
	uint16_t off_wrap = (uint16_t)(ev & 0xffffu);
	uint16_t flags = (uint16_t)((ev >> 16) & 0x3u);

	if (flags == VRING_PACKED_EVENT_FLAG_DISABLE)
		return false;
	if (flags != VRING_PACKED_EVENT_FLAG_DESC || !vq->event_idx)
		return true; /* ENABLE, reserved value, or DESC without EVENT_IDX */

	/* Spec 2.8.10 / 2.8.14: notify if the descriptor (off, wrap) is among
	 * those made available since the previous decision, i.e. positions
	 * [new-n, new) on a line where the current lap is 0..size-1 and the
	 * previous lap -size..-1 (n <= size: a batch cannot lap itself). */
	int32_t size = vq->size;
	int32_t off = off_wrap & 0x7fff;
	if (off >= size || n > (uint32_t)size)
		return true; /* nonsense hint or more than a lap: be safe, notify */
	int32_t ev_pos = ((uint16_t)(off_wrap >> VRING_PACKED_EVENT_F_WRAP_CTR) == p->avail_wrap) ? off : off - size;
	int32_t new_pos = p->next_avail;
	int32_t old_pos = new_pos - (int32_t)n;
	return ev_pos >= old_pos && ev_pos < new_pos;
}

uint32_t vq_packed_notify_data(const struct vnet_vq *vq)
{
	const struct vq_packed *p = &vq->packed;

	/* Spec 2.8.16 and "Driver Notifications": next_off/next_wrap name the
	 * next descriptor not yet made available, which is the head of the
	 * unpublished batch if there is one. */
	if (p->pending_desc)
		return vring_notification_data(vq->index, p->pending_first, (p->pending_first_flags & PD_AVAIL) != 0);
	return vring_notification_data(vq->index, p->next_avail, p->avail_wrap);
}

/* ---- taking used buffers back ---- */

static inline bool vq_packed_desc_used(const struct vq_packed *p)
{
	uint16_t f = VQ_LOAD16(&p->desc[p->last_used].flags);
	/* Spec 2.8.1: used when AVAIL == USED == the wrap counter we expect. */
	return (f & PD_WRAP_BITS) == p->used_flags;
}

/* Used-side cursor, kept in locals for the same reason as the avail side. */
struct vq_packed_ucursor {
	uint16_t pos;      /* last_used */
	uint16_t flags;    /* used_flags */
	uint16_t wrap;     /* used_wrap */
	uint16_t free_id;  /* head of the free-id list */
	uint32_t in_flight;/* descriptors published and not yet used */
};

/* Step the used cursor past a completed chain's descriptors and mark it
 * free (IN_ORDER: that is all, the id is the position). */
static inline void vq_packed_complete_in_order(struct vnet_vq *vq, struct vq_packed_ucursor *u, struct vq_chain *c)
{
	uint16_t nd = c->ndesc;

	u->pos = (uint16_t)(u->pos + nd);
	if (u->pos >= vq->size) {
		u->pos = (uint16_t)(u->pos - vq->size);
		u->wrap ^= 1u;
		u->flags ^= PD_WRAP_BITS;
	}
	u->in_flight -= nd;
	c->cookie = NULL;
}

/* The same, and chain id (c) back on the free-id list. */
static inline void vq_packed_complete(struct vnet_vq *vq, struct vq_packed_ucursor *u, uint16_t id, struct vq_chain *c)
{
	vq_packed_complete_in_order(vq, u, c);
	c->last = u->free_id;
	u->free_id = id;
}

static inline uint32_t vq_packed_checked_len(struct vnet_vq *vq, const struct vq_chain *c, uint32_t len)
{
	if (VQ_UNLIKELY(len > c->in_len)) {
		vq->stats.bad_len++;
		return 0;
	}
	return len;
}

/*
 * Read the used descriptor at u->pos if the device has written it: true
 * with its id (checked: in range, an outstanding chain's) and len; false
 * when it is not used yet or on a fault (the queue is then broken).
 */
static inline bool vq_packed_read_used(struct vnet_vq *vq, const struct vring_packed_desc *ring,
                                       const struct vq_chain *chain, const struct vq_packed_ucursor *u,
                                       uint16_t bad_flags, uint16_t *id_out, uint32_t *len_out)
{
	const struct vring_packed_desc *d = &ring[u->pos];
	uint16_t flags = VQ_LOAD16(&d->flags);
	/* Spec 2.8.1: used when AVAIL == USED == our wrap counter. */
	if ((flags & PD_WRAP_BITS) != u->flags)
		return false;
	/* Spec 2.8.22: read id and len only after seeing the flags that
	 * make them valid. */
	vq_rmb();
	uint16_t id = VQ_LOAD16(&d->id);
	uint32_t len = VQ_LOAD32(&d->len);
	if (VQ_UNLIKELY(flags & bad_flags)) {
		vq_fault(vq, VNET_VQ_FAULT_FLAGS, flags, u->pos);
		return false;
	}
	if (VQ_UNLIKELY(id >= vq->size)) {
		vq_fault(vq, VNET_VQ_FAULT_ID_RANGE, id, vq->size);
		return false;
	}
	if (VQ_UNLIKELY(chain[id].cookie == NULL)) {
		vq_fault(vq, VNET_VQ_FAULT_ID_NOT_HEAD, id, u->pos);
		return false;
	}
	/* len is taken whatever WRITE says (QEMU never sets WRITE in used
	 * descriptors) and bounded by in_len by the caller. */
	*id_out = id;
	*len_out = len;
	return true;
}

/* Without IN_ORDER: every used descriptor names one chain. */
static inline unsigned vq_packed_get_used_any(struct vnet_vq *vq, struct vq_packed_ucursor *u,
                                              struct vnet_vq_used *out, unsigned max, uint16_t bad_flags)
{
	const struct vring_packed_desc *ring = vq->packed.desc;
	struct vq_chain *chain = vq->chain;
	unsigned n = 0;
	uint16_t id;
	uint32_t len;
	while (n < max && vq_packed_read_used(vq, ring, chain, u, bad_flags, &id, &len)) {
		struct vq_chain *c = &chain[id];
		if (VQ_UNLIKELY(c->ndesc > u->in_flight)) {
			vq_fault(vq, VNET_VQ_FAULT_USED_IDX, id, c->ndesc);
			break;
		}
		out[n].cookie = c->cookie;
		out[n].len = vq_packed_checked_len(vq, c, len);
		n++;
		vq_packed_complete(vq, u, id, c);
	}
	return n;
}

/*
 * IN_ORDER (spec 2.8.8): one used descriptor with the id of the last
 * buffer of a batch completes every buffer made available before it; it
 * sits at the first descriptor of the batch.  Ids are positions, so the
 * oldest outstanding buffer is the one at last_used and the walk reaches
 * the target unless it lies past what was published.  Buffers before the
 * target were used "completely": their length is everything they offered
 * the device to write.  A batch larger than max carries over to the next
 * call (io_target, io_len).
 */
static inline unsigned vq_packed_get_used_in_order(struct vnet_vq *vq, struct vq_packed_ucursor *u,
                                                   struct vnet_vq_used *out, unsigned max, uint16_t bad_flags)
{
	struct vq_packed *p = &vq->packed;
	const struct vring_packed_desc *ring = p->desc;
	struct vq_chain *chain = vq->chain;
	const uint16_t size = vq->size;
	uint16_t target = p->io_target;
	uint32_t tlen = p->io_len;
	unsigned n = 0;
	while (n < max) {
		if (target == VQ_PACKED_NONE && !vq_packed_read_used(vq, ring, chain, u, bad_flags, &target, &tlen)) {
			target = VQ_PACKED_NONE;
			break;
		}
		/* Descriptors from the cursor to the batch's last buffer: inside
		 * what was published, or the batch reaches a buffer we have not
		 * exposed yet. */
		uint32_t rem = target >= u->pos ? (uint32_t)(target - u->pos) : (uint32_t)target + size - u->pos;
		if (VQ_UNLIKELY(rem >= u->in_flight)) {
			vq_fault(vq, u->in_flight == 0 && p->pending_desc == 0 ? VNET_VQ_FAULT_IN_ORDER : VNET_VQ_FAULT_USED_IDX,
			         target, rem);
			target = VQ_PACKED_NONE;
			break;
		}
		for (; n < max; n++) {
			struct vq_chain *c = &chain[u->pos];
			uint16_t nd = c->ndesc;
			void *cookie = c->cookie;
			/* The walk goes from head to head; the target must be one. */
			if (VQ_UNLIKELY(!cookie || (rem && nd > rem))) {
				vq_fault(vq, VNET_VQ_FAULT_USED_IDX, target, nd);
				target = VQ_PACKED_NONE;
				goto out;
			}
			out[n].cookie = cookie;
			if (rem == 0) {
				out[n].len = vq_packed_checked_len(vq, c, tlen);
				vq_packed_complete_in_order(vq, u, c);
				target = VQ_PACKED_NONE;
				n++;
				break;
			}
			out[n].len = c->in_len;
			vq_packed_complete_in_order(vq, u, c);
			rem -= nd;
		}
	}
out:
	p->io_target = target;
	p->io_len = tlen;
	return n;
}

unsigned vq_packed_get_used(struct vnet_vq *vq, struct vnet_vq_used *out, unsigned max)
{
	struct vq_packed *p = &vq->packed;
	const uint16_t size = vq->size;
	/* A used descriptor may never cover more than the descriptors made
	 * available and not yet used: that would reach into the unpublished
	 * batch (or past next_avail). */
	struct vq_packed_ucursor u = {p->last_used, p->used_flags, p->used_wrap, p->free_id,
	                              (uint32_t)size - vq->num_free - p->pending_desc};
	uint32_t in_flight0 = u.in_flight;
	const uint16_t bad_flags = (uint16_t)~(vq->indirect_max ? PD_USED_OK_INDIRECT : PD_USED_OK);
	unsigned n = vq->in_order ? vq_packed_get_used_in_order(vq, &u, out, max, bad_flags)
	                          : vq_packed_get_used_any(vq, &u, out, max, bad_flags);

	p->last_used = u.pos;
	p->used_flags = u.flags;
	p->used_wrap = u.wrap;
	p->free_id = u.free_id;
	vq->num_free = (uint16_t)(vq->num_free + (in_flight0 - u.in_flight));
	vq->outstanding = (uint16_t)(vq->outstanding - n);

	/* Callbacks armed for a specific descriptor (EVENT_IDX): move the
	 * event to the new last_used so the device still notifies on the next
	 * completion.  No barrier: only enable_cb's re-check closes the race
	 * with a completion landing now, so re-arm with enable_cb before
	 * sleeping. */
	if (n && p->event_flags == VRING_PACKED_EVENT_FLAG_DESC) {
		uint16_t ow = (uint16_t)(u.pos | (u.wrap << VRING_PACKED_EVENT_F_WRAP_CTR));
		if (ow != p->event_off_wrap) {
			p->event_off_wrap = ow;
			VQ_STORE16(&p->driver->off_wrap, ow);
		}
	}
	return n;
}

bool vq_packed_has_used(struct vnet_vq *vq)
{
	return vq->packed.io_target != VQ_PACKED_NONE || vq_packed_desc_used(&vq->packed);
}

void vq_packed_ring_state(const struct vnet_vq *vq, struct vnet_vq_ring_state *st)
{
	const struct vq_packed *p = &vq->packed;
	st->avail_pos = (uint16_t)(p->next_avail | (p->avail_wrap << VRING_PACKED_EVENT_F_WRAP_CTR));
	st->used_pos = (uint16_t)(p->last_used | (p->used_wrap << VRING_PACKED_EVENT_F_WRAP_CTR));
	st->device_used = VQ_LOAD16(&p->desc[p->last_used].flags);
	st->used_ready = p->io_target != VQ_PACKED_NONE || vq_packed_desc_used(p);
	st->driver_event = p->event_off_wrap;
	st->driver_flags = p->event_flags;
	st->device_event = VQ_LOAD16(&p->device->off_wrap);
	st->device_flags = VQ_LOAD16(&p->device->flags);
}

/* ---- used buffer notifications (driver event suppression) ---- */

bool vq_packed_enable_cb(struct vnet_vq *vq)
{
	struct vq_packed *p = &vq->packed;
	uint16_t want = VRING_PACKED_EVENT_FLAG_ENABLE;

	if (vq->event_idx) {
		/* Ask for a notification when the descriptor at last_used is
		 * used (spec 2.8.10), i.e. for the next completion only. */
		uint16_t ow = (uint16_t)(p->last_used | (p->used_wrap << VRING_PACKED_EVENT_F_WRAP_CTR));
		if (ow != p->event_off_wrap) {
			p->event_off_wrap = ow;
			VQ_STORE16(&p->driver->off_wrap, ow);
		}
		want = VRING_PACKED_EVENT_FLAG_DESC;
	}
	if (want != p->event_flags) {
		/* The device must see the offset before the flags that make it
		 * meaningful. */
		if (want == VRING_PACKED_EVENT_FLAG_DESC)
			vq_wmb();
		p->event_flags = want;
		VQ_STORE16(&p->driver->flags, want);
	}
	/* Spec 2.8.22 (receiving used buffers): full barrier between enabling
	 * notifications and re-testing the ring, else a completion written
	 * just before the device saw the enable is never signalled. */
	vq_mb();
	return !vq_packed_has_used(vq);
}

void vq_packed_disable_cb(struct vnet_vq *vq)
{
	struct vq_packed *p = &vq->packed;

	if (p->event_flags != VRING_PACKED_EVENT_FLAG_DISABLE) {
		p->event_flags = VRING_PACKED_EVENT_FLAG_DISABLE;
		VQ_STORE16(&p->driver->flags, VRING_PACKED_EVENT_FLAG_DISABLE);
	}
}

/* ---- teardown ---- */

void vq_packed_release(struct vnet_vq *vq, uint16_t i)
{
	struct vq_packed *p = &vq->packed;
	struct vq_chain *c = &vq->chain[i];

	/* The device has been reset: nothing pending will be published and
	 * no in-order batch is being handed back (vnet_vq_reset rebuilds the
	 * ring state).  Dropping them here keeps the counters consistent
	 * while the remaining chains are detached. */
	p->pending_desc = 0;
	p->since_kick = 0;
	p->io_target = VQ_PACKED_NONE;

	vq->num_free = (uint16_t)(vq->num_free + c->ndesc);
	c->ndesc = 0;
	c->in_len = 0;
	c->indirect = 0;
	c->last = p->free_id;
	p->free_id = i;
}
