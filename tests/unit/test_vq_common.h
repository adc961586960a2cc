/*
 * Shared rig for the virtqueue unit tests: one engine queue (vnet_vq) wired
 * to one device model (tests/devmodel), plus data buffers in fake DMA
 * memory and cookie bookkeeping.  Header-only so each test_*.c stays one
 * executable.  Every case runs for both layouts (cmocka prestate).
 */
#ifndef VNET_TEST_VQ_COMMON_H
#define VNET_TEST_VQ_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devmodel.h"
#include "fake_hal.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/spec/virtio_ring.h"
#include "vnet/virtqueue.h"
#include "vnet/vnet_hal.h"

static const enum vnet_vq_layout LAYOUT_SPLIT = VNET_VQ_SPLIT;
static const enum vnet_vq_layout LAYOUT_PACKED = VNET_VQ_PACKED;
#define BOTH(fn)                                                                       \
	cmocka_unit_test_prestate(fn, (void *)&LAYOUT_SPLIT),                          \
	cmocka_unit_test_prestate(fn, (void *)&LAYOUT_PACKED)
/* Layout-specific cases are registered only where they apply (never
 * registered-and-skipped, which would read as a pass). */
#define SPLIT_ONLY(fn) cmocka_unit_test_prestate(fn, (void *)&LAYOUT_SPLIT)
#define PACKED_ONLY(fn) cmocka_unit_test_prestate(fn, (void *)&LAYOUT_PACKED)
#define LAYOUT(state) (*(const enum vnet_vq_layout *)*(state))
#define LNAME(l) ((l) == VNET_VQ_SPLIT ? "split" : "packed")

static inline uint64_t feats(enum vnet_vq_layout l, uint64_t extra)
{
	return VNET_BIT(VIRTIO_F_VERSION_1) | (l == VNET_VQ_PACKED ? VNET_BIT(VIRTIO_F_RING_PACKED) : 0) | extra;
}

#define SEG 64u /* bytes per data segment */

struct rig {
	struct vnet_vq *vq;
	struct dm *dm;
	struct dm_config dc;
	struct vnet_vq_config vc;
	struct vnet_dma data;       /* data segments, SEG bytes each */
	unsigned nslots;            /* data.len / SEG */
	size_t dma0, priv0;
	bool nd;                    /* NOTIFICATION_DATA negotiated */
};

/* tmpl: device-model options (policy, notify, ...), may be NULL;
 * read_only: vnet_vq_config.read_only (a transmit queue). */
static inline void rig_open_ro(struct rig *r, enum vnet_vq_layout l, uint16_t size, uint64_t extra,
                               uint16_t indirect_max, const struct dm_config *tmpl, unsigned data_segs, bool read_only)
{
	memset(r, 0, sizeof(*r));
	r->dma0 = fake_hal_live_dma();
	r->priv0 = fake_hal_live_private();
	r->vc.index = 3;
	r->vc.size = size;
	r->vc.layout = l;
	r->vc.features = feats(l, extra);
	r->vc.indirect_max = indirect_max;
	r->vc.name = "tq";
	r->vc.read_only = read_only;
	r->nd = (extra & VNET_BIT(VIRTIO_F_NOTIFICATION_DATA)) != 0;
	assert_int_equal(vnet_vq_create(&r->vc, &r->vq), VNET_OK);
	if (tmpl)
		r->dc = *tmpl;
	r->dc.layout = l;
	r->dc.size = size;
	r->dc.index = r->vc.index;
	r->dc.features = r->vc.features;
	vnet_vq_ring_addrs(r->vq, &r->dc.desc_addr, &r->dc.driver_addr, &r->dc.device_addr);
	r->dm = dm_create(&r->dc);
	assert_non_null(r->dm);
	assert_int_equal(dm_violations(r->dm), 0);
	if (!data_segs)
		data_segs = 64;
	r->nslots = data_segs;
	assert_int_equal(vnet_hal_dma_alloc((size_t)data_segs * SEG, 64, &r->data), VNET_OK);
}

static inline void rig_open(struct rig *r, enum vnet_vq_layout l, uint16_t size, uint64_t extra, uint16_t indirect_max,
                            const struct dm_config *tmpl, unsigned data_segs)
{
	rig_open_ro(r, l, size, extra, indirect_max, tmpl, data_segs, false);
}

static inline uint64_t seg_iova(const struct rig *r, unsigned i)
{
	return r->data.iova + (uint64_t)(i % r->nslots) * SEG;
}
static inline uint8_t *seg_va(const struct rig *r, unsigned i)
{
	return (uint8_t *)r->data.va + (size_t)(i % r->nslots) * SEG;
}

static inline bool rig_kick(struct rig *r)
{
	if (!vnet_vq_kick_prepare(r->vq))
		return false;
	dm_doorbell(r->dm, r->nd ? vnet_vq_notify_data(r->vq) : vnet_vq_index(r->vq));
	return true;
}

static inline void rig_check_dm(struct rig *r)
{
	if (dm_violations(r->dm))
		fail_msg("device model saw %llu driver violation(s), last: %s",
		         (unsigned long long)dm_violations(r->dm), dm_last_violation(r->dm));
}

/* Device reset: the device is gone, take every buffer back. Returns count. */
static inline unsigned rig_detach_all(struct rig *r, uint8_t *seen, size_t nseen)
{
	unsigned n = 0;
	void *c;
	while ((c = vnet_vq_detach_unused(r->vq)) != NULL) {
		uintptr_t k = (uintptr_t)c - 1u;
		if (seen) {
			assert_true(k < nseen);
			assert_int_equal(seen[k], 0);
			seen[k] = 1;
		}
		n++;
		assert_true(n <= r->vc.size);
	}
	return n;
}

static inline void rig_close(struct rig *r)
{
	if (r->dm) {
		rig_check_dm(r);
		dm_destroy(r->dm);
		r->dm = NULL;
	}
	rig_detach_all(r, NULL, 0);
	assert_int_equal(vnet_vq_outstanding(r->vq), 0);
	vnet_vq_destroy(r->vq);
	vnet_hal_dma_free(&r->data);
	assert_int_equal(fake_hal_live_dma(), r->dma0);
	assert_int_equal(fake_hal_live_private(), r->priv0);
}

static inline void *cookie_of(uint64_t k)
{
	return (void *)(uintptr_t)(k + 1u);
}
static inline uint64_t seq_of(void *c)
{
	return (uint64_t)(uintptr_t)c - 1u;
}

static inline uint32_t xs32(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

#endif
