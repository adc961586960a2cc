/*
 * virtio-mmio register front-end: see fake_mmio.h for what it is.
 *
 * The register semantics are written from VirtIO 1.2 §4.2.2 (the register
 * table and its normative sections), not from the transport, so the two can
 * disagree and a test notices.  The window memory itself is never read or
 * written: it only gives the transport real, distinct addresses, and the
 * hooks below turn each access into a register operation on the model.
 */
#include "fake_mmio.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnet/spec/virtio_config.h"
#include "vnet/spec/virtio_mmio.h"

static struct fake_mmio *live[FMM_MAX];

/* Accesses that hit no live window: a wild pointer in the transport. */
unsigned fmm_stray_accesses;

static void bad(struct fake_mmio *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->last_bad, sizeof(f->last_bad), fmt, ap);
	va_end(ap);
	f->bad++;
	fprintf(stderr, "fake mmio: %s\n", f->last_bad);
}

int fmm_init(struct fake_mmio *f, const struct vnet_transport_ops *ops, void *ctx,
	     uint32_t device_id, uint32_t window_len)
{
	memset(f, 0, sizeof(*f));
	f->dev_ops = ops;
	f->dev_ctx = ctx;
	f->magic = VIRTIO_MMIO_MAGIC;
	f->version = VIRTIO_MMIO_VERSION;
	f->device_id = device_id;
	f->vendor_id = 0x554d4551u;
	f->qmax_force = -1;
	f->queue_ready_stuck_at = -1;
	f->window_len = window_len ? window_len : FMM_WINDOW_DEFAULT;
	f->window = aligned_alloc(4096, (f->window_len + 4095u) & ~4095u);
	if (!f->window)
		return -1;
	for (unsigned i = 0; i < FMM_MAX; i++) {
		if (!live[i]) {
			live[i] = f;
			return 0;
		}
	}
	free(f->window);
	f->window = NULL;
	return -1;
}

void fmm_fini(struct fake_mmio *f)
{
	for (unsigned i = 0; i < FMM_MAX; i++)
		if (live[i] == f)
			live[i] = NULL;
	free(f->window);
	f->window = NULL;
}

/* The window an access falls in, and its offset; NULL for a stray one. */
static struct fake_mmio *locate(const volatile void *a, unsigned width, uint32_t *off)
{
	uintptr_t x = (uintptr_t)a;
	for (unsigned i = 0; i < FMM_MAX; i++) {
		struct fake_mmio *f = live[i];
		if (!f)
			continue;
		uintptr_t base = (uintptr_t)f->window;
		if (x >= base && x + width <= base + f->window_len) {
			*off = (uint32_t)(x - base);
			if (*off & (width - 1u)) {
				bad(f, "misaligned %u-byte access at 0x%03x", width, *off);
				return NULL;
			}
			return f;
		}
	}
	fmm_stray_accesses++;
	fprintf(stderr, "fake mmio: access at %p (width %u) outside every window\n", (const void *)a, width);
	return NULL;
}

static struct fmm_queue *selq(struct fake_mmio *f)
{
	return f->qsel < FMM_QUEUES ? &f->q[f->qsel] : NULL;
}

/* Spec 4.2.2 "Upon reset, the device MUST clear all bits in
 * InterruptStatus and ready bits in the QueueReady register". */
static void device_reset(struct fake_mmio *f)
{
	f->resets++;
	f->int_status = 0;
	f->features_sent = false;
	f->dfsel_written = f->drvfsel_written = false;
	f->drv_features[0] = f->drv_features[1] = 0;
	memset(f->q, 0, sizeof(f->q));
	f->dev_ops->reset(f->dev_ctx);
}

static uint32_t queue_num_max(struct fake_mmio *f)
{
	if (f->qmax_force >= 0)
		return (uint32_t)f->qmax_force;
	/* A queue past the device's count reads 0 ("not available"). */
	uint16_t n = f->dev_ops->num_queues(f->dev_ctx);
	if ((n && f->qsel >= n) || f->qsel > 0xffffu)
		return 0;
	return f->dev_ops->queue_max_size(f->dev_ctx, (uint16_t)f->qsel);
}

static uint32_t config_read(struct fake_mmio *f, uint32_t o, unsigned width)
{
	uint8_t b[4] = {0};
	int rc = f->dev_ops->read_config(f->dev_ctx, o, b, width);
	if (rc < 0) {
		bad(f, "config read at 0x%x width %u outside the device's config space", o, width);
		return 0;
	}
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* QueueReset (spec 4.2.2, RING_RESET): a write of 1 starts the back-end's
 * queue reset; reads poll it: 1 while in progress, 0 (and QueueReady 0)
 * once done. */
static void fmm_queue_reset_write(struct fake_mmio *f, struct fmm_queue *q, uint32_t v)
{
	uint64_t drv = (uint64_t)f->drv_features[1] << 32 | f->drv_features[0];
	if (!(drv & (1ull << 40)))
		bad(f, "QueueReset written without RING_RESET negotiated");
	if (v != 1) {
		bad(f, "QueueReset written with %u", v);
		return;
	}
	if (q)
		q->resetting = true;
}

static uint32_t fmm_queue_reset_read(struct fake_mmio *f, struct fmm_queue *q)
{
	if (!q || !q->resetting)
		return 0;
	if (!f->dev_ops->reset_queue || f->dev_ops->reset_queue(f->dev_ctx, (uint16_t)f->qsel) != 0)
		return 1;
	q->resetting = false;
	q->ready = 0;
	q->num_written = false;
	f->queue_resets++;
	return 0;
}

static uint32_t reg_read(struct fake_mmio *f, uint32_t off, unsigned width)
{
	f->reads++;
	if (f->all_ones)
		return width == 4 ? 0xffffffffu : width == 2 ? 0xffffu : 0xffu;
	if (off >= VIRTIO_MMIO_CONFIG)
		return config_read(f, off - VIRTIO_MMIO_CONFIG, width);
	/* Spec 4.2.2.2: control registers are 32-bit accesses only. */
	if (width != 4) {
		bad(f, "%u-byte read of control register 0x%03x", width, off);
		return 0;
	}
	struct fmm_queue *q = selq(f);
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: return f->magic;
	case VIRTIO_MMIO_VERSION_REG: return f->version;
	case VIRTIO_MMIO_DEVICE_ID: return f->device_id;
	case VIRTIO_MMIO_VENDOR_ID: return f->vendor_id;
	case VIRTIO_MMIO_DEVICE_FEATURES: {
		if (!f->dfsel_written)
			bad(f, "DeviceFeatures read before DeviceFeaturesSel was written");
		uint64_t feat = 0;
		f->dev_ops->get_device_features(f->dev_ctx, &feat);
		return f->dfsel == 0 ? (uint32_t)feat : f->dfsel == 1 ? (uint32_t)(feat >> 32) : 0;
	}
	case VIRTIO_MMIO_QUEUE_NUM_MAX: return queue_num_max(f);
	case VIRTIO_MMIO_QUEUE_READY:
		if (f->queue_ready_stuck_at >= 0)
			return (uint32_t)f->queue_ready_stuck_at;
		return q ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS: return f->int_status;
	case VIRTIO_MMIO_STATUS: {
		int st = f->dev_ops->get_status(f->dev_ctx);
		return (st < 0 ? 0u : (uint32_t)st) | f->status_extra;
	}
	case VIRTIO_MMIO_CONFIG_GENERATION: return f->dev_ops->config_generation(f->dev_ctx);
	case VIRTIO_MMIO_QUEUE_RESET: return fmm_queue_reset_read(f, q);
	default:
		bad(f, "read of write-only or undescribed register 0x%03x", off);
		return 0;
	}
}

static void queue_ready_write(struct fake_mmio *f, struct fmm_queue *q, uint32_t v)
{
	if (v == 0) {
		q->ready = 0;
		return;
	}
	if (v != 1) {
		bad(f, "QueueReady written with %u", v);
		return;
	}
	if (!q->num_written)
		bad(f, "queue %u made ready without QueueNum", f->qsel);
	struct vnet_queue_setup s = {
		.index = (uint16_t)f->qsel,
		.size = (uint16_t)q->num,
		.desc = (uint64_t)q->desc[1] << 32 | q->desc[0],
		.driver = (uint64_t)q->driver[1] << 32 | q->driver[0],
		.device = (uint64_t)q->device[1] << 32 | q->device[0],
		.vector = VNET_VECTOR_NONE,
	};
	int rc = f->dev_ops->setup_queue(f->dev_ctx, &s);
	if (rc == 0 && f->dev_ops->enable_queue)
		rc = f->dev_ops->enable_queue(f->dev_ctx, s.index);
	/* A queue the device could not take stays not ready. */
	q->ready = rc == 0 ? 1u : 0u;
}

static void reg_write(struct fake_mmio *f, uint32_t off, unsigned width, uint32_t v)
{
	f->writes++;
	if (f->all_ones)
		return;
	if (off >= VIRTIO_MMIO_CONFIG) {
		bad(f, "write to configuration space at 0x%03x", off);
		return;
	}
	if (width != 4) {
		bad(f, "%u-byte write of control register 0x%03x", width, off);
		return;
	}
	struct fmm_queue *q = selq(f);
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		f->dfsel = v;
		f->dfsel_written = true;
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		f->drvfsel = v;
		f->drvfsel_written = true;
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (!f->drvfsel_written)
			bad(f, "DriverFeatures written before DriverFeaturesSel");
		if (f->drvfsel < 2)
			f->drv_features[f->drvfsel] = v;
		return;
	case VIRTIO_MMIO_QUEUE_SEL:
		f->qsel = v;
		return;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		f->notifies++;
		f->last_notify = v;
		f->dev_ops->notify(f->dev_ctx, (uint16_t)v, v);
		return;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		f->acks++;
		f->last_ack = v;
		if (v & ~VIRTIO_MMIO_INT_MASK)
			bad(f, "InterruptACK 0x%x sets undefined bits", v);
		if (v & ~f->int_status)
			bad(f, "InterruptACK 0x%x acknowledges events not pending (0x%x)", v, f->int_status);
		f->int_status &= ~v;
		return;
	case VIRTIO_MMIO_STATUS:
		if (v > 0xffu) {
			bad(f, "Status written with 0x%x", v);
			return;
		}
		if (v == 0) {
			device_reset(f);
			return;
		}
		/* The back-end takes the features in one piece, right before
		 * the driver asks for FEATURES_OK (spec 3.1.1 steps 4-5). */
		if ((v & VIRTIO_STATUS_FEATURES_OK) && !f->features_sent) {
			f->features_sent = true;
			f->dev_ops->set_driver_features(
				f->dev_ctx, (uint64_t)f->drv_features[1] << 32 | f->drv_features[0]);
		}
		f->dev_ops->set_status(f->dev_ctx, (uint8_t)v);
		return;
	default:
		break;
	}
	if (off == VIRTIO_MMIO_QUEUE_READY) {
		if (q)
			queue_ready_write(f, q, v);
		return;
	}
	if (off == VIRTIO_MMIO_QUEUE_RESET) {
		fmm_queue_reset_write(f, q, v);
		return;
	}
	bool qreg = off == VIRTIO_MMIO_QUEUE_NUM ||
		    (off >= VIRTIO_MMIO_QUEUE_DESC_LOW && off <= VIRTIO_MMIO_QUEUE_DEVICE_HIGH &&
		     ((off & 0xfu) == 0 || (off & 0xfu) == 4));
	if (!qreg) {
		bad(f, "write to read-only or undescribed register 0x%03x", off);
		return;
	}
	if (!q)
		return; /* a queue that does not exist: dropped */
	/* Spec 4.2.2.2: not while QueueReady is non-zero. */
	if (q->ready) {
		bad(f, "queue %u register 0x%03x written while QueueReady is 1", f->qsel, off);
		return;
	}
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM: q->num = v; q->num_written = true; return;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: q->desc[0] = v; return;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: q->desc[1] = v; return;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW: q->driver[0] = v; return;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: q->driver[1] = v; return;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW: q->device[0] = v; return;
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: q->device[1] = v; return;
	default:
		bad(f, "write to undescribed register 0x%03x", off);
		return;
	}
}

/* ---- the hooks src/transport/mmio/virtio_mmio.c calls under VNET_MMIO_TEST_HOOKS ---- */

uint8_t vnet_mmio_test_rd8(const volatile void *a);
uint16_t vnet_mmio_test_rd16(const volatile void *a);
uint32_t vnet_mmio_test_rd32(const volatile void *a);
void vnet_mmio_test_wr32(volatile void *a, uint32_t v);

uint8_t vnet_mmio_test_rd8(const volatile void *a)
{
	uint32_t off;
	struct fake_mmio *f = locate(a, 1, &off);
	return f ? (uint8_t)reg_read(f, off, 1) : 0xffu;
}

uint16_t vnet_mmio_test_rd16(const volatile void *a)
{
	uint32_t off;
	struct fake_mmio *f = locate(a, 2, &off);
	return f ? (uint16_t)reg_read(f, off, 2) : 0xffffu;
}

uint32_t vnet_mmio_test_rd32(const volatile void *a)
{
	uint32_t off;
	struct fake_mmio *f = locate(a, 4, &off);
	return f ? reg_read(f, off, 4) : 0xffffffffu;
}

void vnet_mmio_test_wr32(volatile void *a, uint32_t v)
{
	uint32_t off;
	struct fake_mmio *f = locate(a, 4, &off);
	if (f)
		reg_write(f, off, 4, v);
}
