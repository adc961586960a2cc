/*
 * Virtqueue engine, layout-independent half: creation and teardown, the
 * public dispatchers, statistics, the broken latch and detach for reset.
 *
 * The split (vq_split.c) and packed (vq_packed.c) halves do the ring work.
 * Dispatch is a switch on the layout fixed at creation: one well-predicted
 * branch per call, no function pointers on the data path.
 */
#include "vnet_mem.h"

#include "vnet_log.h"
#include "vq_priv.h"

static bool vq_size_valid(enum vnet_vq_layout layout, uint16_t size)
{
	if (size == 0 || size > VRING_MAX_SIZE)
		return false;
	/* Split rings index with "idx % size" on free-running 16-bit counters,
	 * which needs a power of two (spec 2.7 "Queue Size"); packed rings
	 * allow any size up to 32768 (spec 2.8). */
	if (layout == VNET_VQ_SPLIT)
		return (size & (size - 1u)) == 0;
	return true;
}

int vnet_vq_create(const struct vnet_vq_config *cfg, struct vnet_vq **out)
{
	if (!cfg || !out)
		return VNET_EINVAL;
	*out = NULL;
	if (cfg->layout != VNET_VQ_SPLIT && cfg->layout != VNET_VQ_PACKED)
		return VNET_EINVAL;
	if (!vq_size_valid(cfg->layout, cfg->size))
		return VNET_EINVAL;
	if (cfg->layout == VNET_VQ_PACKED && !(cfg->features & VNET_BIT(VIRTIO_F_RING_PACKED)))
		return VNET_EINVAL;

	struct vnet_vq *vq = vnet_hal_zalloc(sizeof(*vq));
	if (!vq)
		return VNET_ENOMEM;
	vq->layout = cfg->layout;
	vq->size = cfg->size;
	vq->index = cfg->index;
	vq->event_idx = (cfg->features & VNET_BIT(VIRTIO_F_EVENT_IDX)) != 0;
	vq->in_order = (cfg->features & VNET_BIT(VIRTIO_F_IN_ORDER)) != 0;
	vq->read_only = cfg->read_only;
	vq->notif_data = (cfg->features & VNET_BIT(VIRTIO_F_NOTIFICATION_DATA)) != 0;
	/* No VERSION_1: a legacy device and its ring layout (vq_split.c). */
	vq->legacy = !(cfg->features & VNET_BIT(VIRTIO_F_VERSION_1));
	/* An indirect table longer than the queue size is not allowed (spec
	 * 2.7.5.3.1: the driver MUST NOT create a table longer than the
	 * queue size). */
	if ((cfg->features & VNET_BIT(VIRTIO_F_INDIRECT_DESC)) && cfg->indirect_max > 1)
		vq->indirect_max = cfg->indirect_max > cfg->size ? cfg->size : cfg->indirect_max;
	vq->indirect_min = cfg->indirect_min > 2 ? cfg->indirect_min : 2;
	const char *name = cfg->name ? cfg->name : "vq";
	size_t i;
	for (i = 0; i + 1 < sizeof(vq->name) && name[i]; i++)
		vq->name[i] = name[i];
	vq->name[i] = '\0';

	int rc = VNET_ENOMEM;
	vq->chain = vnet_hal_zalloc(sizeof(*vq->chain) * vq->size);
	if (!vq->chain)
		goto err_chain;
	size_t ring_bytes = vq->layout == VNET_VQ_SPLIT ? vq_split_ring_bytes(vq->size, vq->legacy)
	                                                : vq_packed_ring_bytes(vq->size);
	rc = vnet_hal_dma_alloc(ring_bytes, 4096, &vq->ring);
	if (rc != VNET_OK)
		goto err_ring;
	if (vq->indirect_max) {
		rc = vnet_hal_dma_alloc((size_t)vq->size * vq->indirect_max * 16u, 16, &vq->indir);
		if (rc != VNET_OK)
			goto err_indir;
	}
	rc = vq->layout == VNET_VQ_SPLIT ? vq_split_init(vq, true) : vq_packed_init(vq, true);
	if (rc != VNET_OK)
		goto err_init;
	*out = vq;
	return VNET_OK;

err_init:
	vnet_hal_dma_free(&vq->indir);
err_indir:
	vnet_hal_dma_free(&vq->ring);
err_ring:
	vnet_hal_free(vq->chain);
err_chain:
	vnet_hal_free(vq);
	return rc;
}

void vnet_vq_destroy(struct vnet_vq *vq)
{
	if (!vq)
		return;
	if (vq->outstanding)
		VNET_WARN("%s: destroyed with %u chains outstanding (not detached)", vq->name,
		          (unsigned)vq->outstanding);
	if (vq->layout == VNET_VQ_SPLIT)
		vq_split_fini(vq);
	else
		vq_packed_fini(vq);
	vnet_hal_dma_free(&vq->indir);
	vnet_hal_dma_free(&vq->ring);
	vnet_hal_free(vq->chain);
	vnet_hal_free(vq);
}

size_t vnet_vq_abandon(struct vnet_vq *vq)
{
	if (!vq)
		return 0;
	size_t kept = vq->ring.len + vq->indir.len;
	VNET_WARN("%s: abandoned to a device that was not reset: %u chains and %zu bytes of ring memory kept",
	          vq->name, (unsigned)vq->outstanding, kept);
	if (vq->layout == VNET_VQ_SPLIT)
		vq_split_fini(vq);
	else
		vq_packed_fini(vq);
	/* vq->ring and vq->indir are deliberately not freed. */
	vnet_hal_free(vq->chain);
	vnet_hal_free(vq);
	return kept;
}

int vnet_vq_reset(struct vnet_vq *vq)
{
	if (!vq)
		return VNET_EINVAL;
	if (vq->outstanding)
		return VNET_EBUSY;
	memset(vq->ring.va, 0, vq->ring.len);
	memset(vq->chain, 0, sizeof(*vq->chain) * vq->size);
	vq->broken = false;
	vq->stats.broken_reason = VNET_VQ_FAULT_NONE;
	vq->detach_cursor = 0;
	return vq->layout == VNET_VQ_SPLIT ? vq_split_init(vq, false) : vq_packed_init(vq, false);
}

void vq_fault(struct vnet_vq *vq, enum vnet_vq_fault why, uint32_t a, uint32_t b)
{
	static const char *const what[] = {
		[VNET_VQ_FAULT_NONE] = "none",
		[VNET_VQ_FAULT_ID_RANGE] = "used id out of range",
		[VNET_VQ_FAULT_ID_NOT_HEAD] = "used id is not an outstanding buffer",
		[VNET_VQ_FAULT_USED_IDX] = "used index moved by more than outstanding",
		[VNET_VQ_FAULT_LEN] = "used length too large",
		[VNET_VQ_FAULT_FLAGS] = "bad flags in used descriptor",
		[VNET_VQ_FAULT_IN_ORDER] = "out-of-order completion with IN_ORDER",
	};
	vq->stats.faults++;
	if (vq->broken)
		return;
	vq->broken = true;
	vq->stats.broken_reason = (uint32_t)why;
	VNET_ERR("%s: device fault: %s (%u, %u): queue latched broken", vq->name,
	         (unsigned)why < sizeof(what) / sizeof(what[0]) ? what[why] : "?", (unsigned)a, (unsigned)b);
}

void vnet_vq_mark_broken(struct vnet_vq *vq, enum vnet_vq_fault why)
{
	if (!vq || vq->broken)
		return;
	vq->broken = true;
	vq->stats.broken_reason = (uint32_t)why;
}

void vnet_vq_ring_addrs(const struct vnet_vq *vq, uint64_t *desc, uint64_t *driver, uint64_t *device)
{
	uint64_t d, dr, dv;
	if (vq->layout == VNET_VQ_SPLIT)
		vq_split_ring_addrs(vq, &d, &dr, &dv);
	else
		vq_packed_ring_addrs(vq, &d, &dr, &dv);
	if (desc)
		*desc = d;
	if (driver)
		*driver = dr;
	if (device)
		*device = dv;
}

int vnet_vq_add(struct vnet_vq *vq, const struct vnet_sg *sg, unsigned out_n, unsigned in_n, void *cookie)
{
	if (VQ_UNLIKELY(!vq || !sg || !cookie))
		return VNET_EINVAL;
	if (VQ_UNLIKELY(vq->broken))
		return VNET_EBROKEN;
	unsigned total = out_n + in_n;
	if (VQ_UNLIKELY(total == 0 || total < out_n || total > vq->size || (in_n && vq->read_only)))
		return VNET_EINVAL;
	int rc = vq->layout == VNET_VQ_SPLIT ? vq_split_add(vq, sg, out_n, in_n, cookie)
	                                     : vq_packed_add(vq, sg, out_n, in_n, cookie);
	if (VQ_LIKELY(rc == VNET_OK)) {
		vq->stats.added++;
		vq->outstanding++;
	} else if (rc == VNET_ENOSPC) {
		vq->stats.full++;
	}
	return rc;
}

unsigned vnet_vq_add_bufs(struct vnet_vq *vq, const struct vnet_sg *sg, void *const *cookies, unsigned n,
                          bool writable)
{
	if (VQ_UNLIKELY(!vq || !sg || !cookies || vq->broken || (writable && vq->read_only)))
		return 0;
	/* A NULL cookie ends the burst where vnet_vq_add would refuse it (the
	 * layouts' loops stop there). */
	unsigned k = vq->layout == VNET_VQ_SPLIT ? vq_split_add_bufs(vq, sg, cookies, n, writable)
	                                         : vq_packed_add_bufs(vq, sg, cookies, n, writable);
	vq->stats.added += k;
	vq->outstanding = (uint16_t)(vq->outstanding + k);
	if (k < n && cookies[k])
		vq->stats.full++;
	return k;
}

bool vnet_vq_kick_prepare(struct vnet_vq *vq)
{
	if (VQ_UNLIKELY(!vq || vq->broken))
		return false;
	bool kick = vq->layout == VNET_VQ_SPLIT ? vq_split_kick_prepare(vq) : vq_packed_kick_prepare(vq);
	if (kick)
		vq->stats.kicks++;
	else
		vq->stats.kicks_suppressed++;
	return kick;
}

uint32_t vnet_vq_notify_data(const struct vnet_vq *vq)
{
	return vq->layout == VNET_VQ_SPLIT ? vq_split_notify_data(vq) : vq_packed_notify_data(vq);
}

uint16_t vnet_vq_index(const struct vnet_vq *vq)
{
	return vq->index;
}

unsigned vnet_vq_get_used(struct vnet_vq *vq, struct vnet_vq_used *out, unsigned max)
{
	if (VQ_UNLIKELY(!vq || !out || vq->broken || max == 0))
		return 0;
	unsigned n = vq->layout == VNET_VQ_SPLIT ? vq_split_get_used(vq, out, max)
	                                         : vq_packed_get_used(vq, out, max);
	vq->stats.completed += n;
	return n;
}

bool vnet_vq_has_used(struct vnet_vq *vq)
{
	if (!vq || vq->broken)
		return false;
	return vq->layout == VNET_VQ_SPLIT ? vq_split_has_used(vq) : vq_packed_has_used(vq);
}

void vnet_vq_prefetch_used(const struct vnet_vq *vq)
{
	if (VQ_UNLIKELY(!vq))
		return;
	/* Split: the index only (a read-only in-order queue reads nothing
	 * else; prefetching the entry as well measured no better). */
	if (vq->layout == VNET_VQ_SPLIT)
		__builtin_prefetch(&vq->split.used->idx, 0, 3);
	else
		__builtin_prefetch(&vq->packed.desc[vq->packed.last_used], 0, 3);
}

void vnet_vq_get_ring_state(const struct vnet_vq *vq, struct vnet_vq_ring_state *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!vq)
		return;
	st->cb_enabled = vq->cb_enabled;
	st->event_idx = vq->event_idx;
	if (vq->layout == VNET_VQ_SPLIT)
		vq_split_ring_state(vq, st);
	else
		vq_packed_ring_state(vq, st);
}

bool vnet_vq_enable_cb(struct vnet_vq *vq)
{
	if (!vq || vq->broken)
		return true; /* nothing more will come: let the caller sleep */
	vq->cb_enabled = true;
	return vq->layout == VNET_VQ_SPLIT ? vq_split_enable_cb(vq) : vq_packed_enable_cb(vq);
}

void vnet_vq_disable_cb(struct vnet_vq *vq)
{
	if (!vq)
		return;
	vq->cb_enabled = false;
	if (vq->layout == VNET_VQ_SPLIT)
		vq_split_disable_cb(vq);
	else
		vq_packed_disable_cb(vq);
}

void *vnet_vq_detach_unused(struct vnet_vq *vq)
{
	if (!vq)
		return NULL;
	for (; vq->detach_cursor < vq->size; vq->detach_cursor++) {
		uint16_t i = vq->detach_cursor;
		void *cookie = vq->chain[i].cookie;
		if (!cookie)
			continue;
		vq->chain[i].cookie = NULL;
		if (vq->layout == VNET_VQ_SPLIT)
			vq_split_release(vq, i);
		else
			vq_packed_release(vq, i);
		vq->outstanding--;
		vq->stats.detached++;
		vq->detach_cursor++;
		return cookie;
	}
	/* Everything is back: leave the ring ready to be reused. */
	vq->detach_cursor = 0;
	return NULL;
}

uint16_t vnet_vq_size(const struct vnet_vq *vq) { return vq->size; }
unsigned vnet_vq_num_free(const struct vnet_vq *vq) { return vq->num_free; }
unsigned vnet_vq_outstanding(const struct vnet_vq *vq) { return vq->outstanding; }
bool vnet_vq_is_broken(const struct vnet_vq *vq) { return vq->broken; }
enum vnet_vq_layout vnet_vq_layout(const struct vnet_vq *vq) { return vq->layout; }
const char *vnet_vq_name(const struct vnet_vq *vq) { return vq->name; }

void vnet_vq_get_stats(const struct vnet_vq *vq, struct vnet_vq_stats *st)
{
	*st = vq->stats;
}
