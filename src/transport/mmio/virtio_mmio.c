/*
 * virtio-mmio transport, version 2 (VirtIO 1.2 §4.2 "Virtio Over MMIO").
 *
 * A virtio-mmio device is one window of 32-bit control registers at fixed
 * offsets (§4.2.2) followed by its configuration space at 0x100, plus one
 * interrupt line.  There is nothing to discover inside the window beyond
 * MagicValue, Version and DeviceID: probe checks those three (in the order
 * §4.2.3.1.1 prescribes) and every transport op afterwards is a handful of
 * 32-bit register accesses.
 *
 * What this file does: device identification (any virtio device type: the
 * transport reports DeviceID and the host decides what to drive), the
 * struct vnet_transport_ops primitives (features through the two selector
 * windows, status, reset, config generation and config bytes, per-queue
 * programming through QueueSel, QueueReady, the QueueNotify doorbell with
 * or without NOTIFICATION_DATA) and the interrupt acknowledge
 * (InterruptStatus / InterruptACK) for the host's interrupt handler.
 *
 * What it does not do: finding windows, mapping them and routing their
 * interrupt are the host's (device tree, ACPI, command line); the init
 * sequence, reset waits, feature decisions and generation retries are the
 * core's (src/core/device.c); rings are virtqueue.c's, and since the
 * transport only programs three addresses it is the same for split and
 * packed rings.  No legacy (version 1) interface, no shared-memory regions,
 * no MSI.  Per-queue reset (VIRTIO_F_RING_RESET, QueueReset at 0x0c0) is
 * mm_reset_queue().
 *
 * Trust: the device is untrusted.  Every value read is checked before use:
 * MagicValue, Version, DeviceID at probe; QueueNumMax against the spec's
 * 32768 and against the size chosen; QueueReady before setup and after
 * enabling; Status against its 8 defined bits; InterruptStatus against its
 * 2 defined bits.  An all-ones read of a register that cannot legitimately
 * hold all-ones makes the transport re-read MagicValue: if that no longer
 * reads "virt", the device vanished (hot-unplug, a bus error, a window that
 * was never backed) and the op fails with VNET_ENODEV instead of acting on
 * garbage.  Each runtime violation is counted (vnet_mmio_violations()) and,
 * outside the interrupt path, logged naming the register.
 *
 * Register access: only through the mm_rd* / mm_wr* macros below, which are
 * the volatile, little-endian vnet_mmio_* accessors of
 * include/vnet/vnet_mmio.h (byte-swapping on a big-endian host).  Control
 * registers are accessed 32 bits wide and aligned only (§4.2.2.2); the
 * configuration space with the natural width of each field.  Unit tests
 * compile this file with VNET_MMIO_TEST_HOOKS defined to route the accesses
 * to a register-level device model; production builds have no hook.
 *
 * Serialisation: the caller serialises every op on one device except
 * notify() (one 32-bit store, concurrent per queue) and vnet_mmio_isr()
 * (a load and a store; may run in an interrupt handler at any time).  The
 * violation counter and the "gone" latch are plain fields that the
 * interrupt path may also bump: a lost increment under that race only
 * makes a diagnostic counter low, and "gone" only ever goes false->true.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/vnet_log.h"
#include "vnet/features.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/spec/virtio_mmio.h"
#include "vnet/virtio_mmio.h"
#include "transport/config_copy.h"
#include "vnet/vnet_hal.h"
#include "vnet/vnet_mmio.h"

#ifdef VNET_MMIO_TEST_HOOKS
uint8_t vnet_mmio_test_rd8(const volatile void *a);
uint16_t vnet_mmio_test_rd16(const volatile void *a);
uint32_t vnet_mmio_test_rd32(const volatile void *a);
void vnet_mmio_test_wr32(volatile void *a, uint32_t v);
#define mm_rd8 vnet_mmio_test_rd8
#define mm_rd16 vnet_mmio_test_rd16
#define mm_rd32 vnet_mmio_test_rd32
#define mm_wr32 vnet_mmio_test_wr32
#else
#define mm_rd8 vnet_mmio_read8
#define mm_rd16 vnet_mmio_read16
#define mm_rd32 vnet_mmio_read32
#define mm_wr32 vnet_mmio_write32
#endif

/* Spec 2.7 / 2.8: a virtqueue has at most 32768 entries (split and packed). */
#define MMIO_QUEUE_SIZE_MAX 32768u
/* Bound on waiting for status 0 in vnet_mmio_remove(). */
#define MMIO_REMOVE_RESET_TIMEOUT_NS 1000000000ull
#define MMIO_ALL_ONES 0xffffffffu
/* No queue programmed and waiting for enable_queue(). */
#define MMIO_NO_QUEUE 0xffffffffu

#define MM_ERR(m, fmt, ...) VNET_ERR("%s: " fmt, (m)->name, ##__VA_ARGS__)
#define MM_WARN(m, fmt, ...) VNET_WARN("%s: " fmt, (m)->name, ##__VA_ARGS__)
#define MM_INFO(m, fmt, ...) VNET_INFO("%s: " fmt, (m)->name, ##__VA_ARGS__)

struct vnet_mmio {
	volatile uint8_t *base;    /* the window, as mapped by the host */
	uint32_t config_len;       /* bytes of configuration space (window - 0x100) */
	char name[24];
	uint32_t device_id;        /* virtio device type */
	uint32_t vendor_id;
	uint64_t features;         /* accepted, from set_driver_features */
	bool notif_data;           /* VIRTIO_F_NOTIFICATION_DATA accepted */
	bool gone;                 /* MagicValue stopped reading "virt" */
	uint32_t programmed;       /* queue set up and not yet enabled, or MMIO_NO_QUEUE */
	unsigned violations;
	uint32_t resetting;        /* queue whose QueueReset we wrote 1 to, or MMIO_NO_QUEUE */
};

/* Address of a control register. */
#define R(m, off) ((m)->base + (off))

/*
 * A register read all-ones: is the device still there?  Re-reading
 * MagicValue tells a vanished device (everything reads all-ones, or the
 * window now holds something else) from a value that merely looks odd.
 * Latched: once gone, every op fails without touching the window again
 * beyond this check.  quiet: no log (interrupt context).
 */
static bool mm_gone(struct vnet_mmio *m, const char *reg, bool quiet)
{
	if (m->gone)
		return true;
	uint32_t magic = mm_rd32(R(m, VIRTIO_MMIO_MAGIC_VALUE));
	if (magic == VIRTIO_MMIO_MAGIC)
		return false;
	m->gone = true;
	m->violations++;
	if (!quiet)
		MM_ERR(m, "%s reads 0xffffffff and MagicValue now reads 0x%08x: device gone", reg,
		       (unsigned)magic);
	return true;
}

/* ------------------------------------------------------------------ */
/* Probe and remove                                                    */
/* ------------------------------------------------------------------ */

int vnet_mmio_probe(volatile void *base, uint64_t len, const char *name, struct vnet_mmio **out)
{
	if (!out)
		return VNET_EINVAL;
	*out = NULL;
	if (!base || ((uintptr_t)base & 3u) || len < VNET_MMIO_WINDOW_MIN)
		return VNET_EINVAL;
	if (len > VNET_MMIO_WINDOW_MAX)
		len = VNET_MMIO_WINDOW_MAX;

	/* The name first, so every log line below can carry it. */
	struct vnet_mmio tmp = {.base = (volatile uint8_t *)base};
	const char *n = name ? name : "mmio";
	size_t i;
	for (i = 0; i + 1 < sizeof(tmp.name) && n[i]; i++)
		tmp.name[i] = n[i];
	tmp.name[i] = '\0';
	struct vnet_mmio *m = &tmp;

	/* Spec 4.2.3.1.1: MagicValue and Version first, then DeviceID, and
	 * nothing else if DeviceID is 0. */
	uint32_t magic = mm_rd32(R(m, VIRTIO_MMIO_MAGIC_VALUE));
	if (magic != VIRTIO_MMIO_MAGIC) {
		if (magic == MMIO_ALL_ONES)
			MM_ERR(m, "MagicValue reads 0xffffffff: nothing answers in this window");
		else
			MM_ERR(m, "MagicValue 0x%08x is not 0x%08x (\"virt\"): not a virtio-mmio device",
			       (unsigned)magic, VIRTIO_MMIO_MAGIC);
		return VNET_ENODEV;
	}
	uint32_t version = mm_rd32(R(m, VIRTIO_MMIO_VERSION_REG));
	if (version == VIRTIO_MMIO_VERSION_LEGACY) {
		MM_ERR(m, "virtio-mmio Version 1: a legacy device (VirtIO 1.2 §4.2.4), not supported; "
			  "only Version 2 (virtio 1.x) devices are driven (QEMU: -global "
			  "virtio-mmio.force-legacy=false)");
		return VNET_ENOTSUP;
	}
	if (version != VIRTIO_MMIO_VERSION) {
		MM_ERR(m, "virtio-mmio Version %u unknown: only Version 2 is driven", (unsigned)version);
		return VNET_EPROTO;
	}
	uint32_t id = mm_rd32(R(m, VIRTIO_MMIO_DEVICE_ID));
	if (id == 0)
		return VNET_ENODEV; /* a placeholder: MUST NOT report an error (§4.2.2.2) */
	uint32_t vendor = mm_rd32(R(m, VIRTIO_MMIO_VENDOR_ID));

	m = vnet_hal_zalloc(sizeof(*m));
	if (!m)
		return VNET_ENOMEM;
	*m = tmp;
	m->config_len = (uint32_t)(len - VIRTIO_MMIO_CONFIG);
	m->device_id = id;
	m->vendor_id = vendor;
	m->programmed = MMIO_NO_QUEUE;
	m->resetting = MMIO_NO_QUEUE;
	MM_INFO(m, "virtio-mmio v2 device type %u vendor 0x%08x, %u config bytes", (unsigned)id,
		(unsigned)vendor, (unsigned)m->config_len);
	*out = m;
	return VNET_OK;
}

void vnet_mmio_remove(struct vnet_mmio *m)
{
	if (!m)
		return;
	/* Reset: it stops DMA and the interrupt (spec 2.4). */
	if (!m->gone) {
		mm_wr32(R(m, VIRTIO_MMIO_STATUS), 0);
		uint64_t start = vnet_hal_time_ns();
		for (;;) {
			uint32_t st = mm_rd32(R(m, VIRTIO_MMIO_STATUS));
			if (st == 0)
				break;
			if (st == MMIO_ALL_ONES && mm_gone(m, "Status", false))
				break;
			if (vnet_hal_time_ns() - start >= MMIO_REMOVE_RESET_TIMEOUT_NS) {
				MM_ERR(m, "device did not reset on remove: Status still 0x%x",
				       (unsigned)st);
				break;
			}
			vnet_hal_relax();
		}
	}
	vnet_hal_free(m);
}

/* ------------------------------------------------------------------ */
/* Interrupt and accessors                                             */
/* ------------------------------------------------------------------ */

uint32_t vnet_mmio_isr(struct vnet_mmio *m)
{
	if (!m || m->gone)
		return 0;
	uint32_t v = mm_rd32(R(m, VIRTIO_MMIO_INTERRUPT_STATUS));
	if (v == MMIO_ALL_ONES && mm_gone(m, "InterruptStatus", true))
		return 0;
	if (v & ~VIRTIO_MMIO_INT_MASK)
		m->violations++; /* undefined bits: ignored, never acknowledged */
	uint32_t ack = v & VIRTIO_MMIO_INT_MASK;
	if (ack)
		mm_wr32(R(m, VIRTIO_MMIO_INTERRUPT_ACK), ack);
	return ack;
}

unsigned vnet_mmio_violations(const struct vnet_mmio *m)
{
	return m ? m->violations : 0;
}

uint32_t vnet_mmio_device_type(const struct vnet_mmio *m)
{
	return m ? m->device_id : 0;
}

uint32_t vnet_mmio_vendor_id(const struct vnet_mmio *m)
{
	return m ? m->vendor_id : 0;
}

const char *vnet_mmio_name(const struct vnet_mmio *m)
{
	return m ? m->name : "mmio";
}

/* ------------------------------------------------------------------ */
/* Transport ops                                                       */
/* ------------------------------------------------------------------ */

static int mm_get_device_features(void *ctx, uint64_t *features)
{
	struct vnet_mmio *m = ctx;
	if (!features)
		return VNET_EINVAL;
	*features = 0;
	if (m->gone)
		return VNET_ENODEV;
	/* Spec 4.2.2.2: write DeviceFeaturesSel before each read. */
	mm_wr32(R(m, VIRTIO_MMIO_DEVICE_FEATURES_SEL), 0);
	uint32_t lo = mm_rd32(R(m, VIRTIO_MMIO_DEVICE_FEATURES));
	mm_wr32(R(m, VIRTIO_MMIO_DEVICE_FEATURES_SEL), 1);
	uint32_t hi = mm_rd32(R(m, VIRTIO_MMIO_DEVICE_FEATURES));
	if (lo == MMIO_ALL_ONES && hi == MMIO_ALL_ONES && mm_gone(m, "DeviceFeatures", false))
		return VNET_ENODEV;
	*features = (uint64_t)lo | ((uint64_t)hi << 32);
	return VNET_OK;
}

static int mm_set_driver_features(void *ctx, uint64_t features)
{
	struct vnet_mmio *m = ctx;
	if (m->gone)
		return VNET_ENODEV;
	mm_wr32(R(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL), 0);
	mm_wr32(R(m, VIRTIO_MMIO_DRIVER_FEATURES), (uint32_t)features);
	mm_wr32(R(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL), 1);
	mm_wr32(R(m, VIRTIO_MMIO_DRIVER_FEATURES), (uint32_t)(features >> 32));
	m->features = features;
	m->notif_data = vnet_features_has(features, VIRTIO_F_NOTIFICATION_DATA);
	return VNET_OK;
}

static int mm_get_status(void *ctx)
{
	struct vnet_mmio *m = ctx;
	if (m->gone)
		return VNET_ENODEV;
	uint32_t v = mm_rd32(R(m, VIRTIO_MMIO_STATUS));
	if (v <= 0xffu)
		return (int)v;
	if (v == MMIO_ALL_ONES && mm_gone(m, "Status", false))
		return VNET_ENODEV;
	/* Status is a 32-bit register holding the 8-bit device status
	 * (spec 2.1): bits above it mean the value cannot be trusted. */
	m->violations++;
	MM_ERR(m, "Status reads 0x%08x: bits above the 8-bit device status set", (unsigned)v);
	return VNET_ERANGE;
}

static int mm_set_status(void *ctx, uint8_t status)
{
	struct vnet_mmio *m = ctx;
	if (m->gone)
		return VNET_ENODEV;
	/* Whether FEATURES_OK stuck is the core's re-read (spec 3.1.1 step 6). */
	mm_wr32(R(m, VIRTIO_MMIO_STATUS), status);
	return VNET_OK;
}

static int mm_reset(void *ctx)
{
	struct vnet_mmio *m = ctx;
	if (m->gone)
		return VNET_ENODEV;
	/* Spec 4.2.2: writing 0 to Status resets the device, which also
	 * clears every QueueReady and InterruptStatus; the core waits for
	 * Status to read 0. */
	mm_wr32(R(m, VIRTIO_MMIO_STATUS), 0);
	m->programmed = MMIO_NO_QUEUE;
	m->resetting = MMIO_NO_QUEUE;
	return VNET_OK;
}

static uint32_t mm_config_generation(void *ctx)
{
	struct vnet_mmio *m = ctx;
	return mm_rd32(R(m, VIRTIO_MMIO_CONFIG_GENERATION));
}

/* Config-space accessors for vnet_config_copy(): offsets from 0x100. */
static uint8_t mm_cfg_rd8(void *ctx, uint32_t off)
{
	struct vnet_mmio *m = ctx;
	return mm_rd8(m->base + VIRTIO_MMIO_CONFIG + off);
}

static uint16_t mm_cfg_rd16(void *ctx, uint32_t off)
{
	struct vnet_mmio *m = ctx;
	return mm_rd16(m->base + VIRTIO_MMIO_CONFIG + off);
}

static uint32_t mm_cfg_rd32(void *ctx, uint32_t off)
{
	struct vnet_mmio *m = ctx;
	return mm_rd32(m->base + VIRTIO_MMIO_CONFIG + off);
}

static const struct vnet_config_reader mm_config_reader = {mm_cfg_rd8, mm_cfg_rd16, mm_cfg_rd32};

static int mm_read_config(void *ctx, uint32_t offset, void *buf, uint32_t len)
{
	struct vnet_mmio *m = ctx;
	if (!buf && len)
		return VNET_EINVAL;
	if ((uint64_t)offset + len > m->config_len)
		return VNET_ERANGE;
	if (m->gone)
		return VNET_ENODEV;
	/* Spec 4.2.2.2: natural widths (transport/config_copy.h); the space
	 * starts at 0x100 of a 4-byte aligned window. */
	vnet_config_copy(&mm_config_reader, m, offset, buf, len);
	return VNET_OK;
}

static uint16_t mm_num_queues(void *ctx)
{
	(void)ctx;
	return 0; /* MMIO has no queue count: QueueNumMax 0 ends the queues */
}

/* QueueNumMax of the selected queue, checked; 0 = not usable. */
static uint32_t mm_selected_max(struct vnet_mmio *m, uint16_t index)
{
	uint32_t v = mm_rd32(R(m, VIRTIO_MMIO_QUEUE_NUM_MAX));
	if (v <= MMIO_QUEUE_SIZE_MAX)
		return v;
	if (v == MMIO_ALL_ONES && mm_gone(m, "QueueNumMax", false))
		return 0;
	m->violations++;
	MM_ERR(m, "queue %u: QueueNumMax %u exceeds the spec maximum %u; queue refused", index,
	       (unsigned)v, MMIO_QUEUE_SIZE_MAX);
	return 0;
}

static uint16_t mm_queue_max_size(void *ctx, uint16_t index)
{
	struct vnet_mmio *m = ctx;
	if (m->gone)
		return 0;
	/* Unlike PCI's queue_size, QueueNumMax is not overwritten by the
	 * size we choose (that goes to QueueNum), so it is read each time. */
	mm_wr32(R(m, VIRTIO_MMIO_QUEUE_SEL), index);
	return (uint16_t)mm_selected_max(m, index);
}

/* A 64-bit address as its Low/High register pair (spec 4.2.2). */
static void mm_wr64(struct vnet_mmio *m, uint32_t low_off, uint64_t v)
{
	mm_wr32(R(m, low_off), (uint32_t)v);
	mm_wr32(R(m, low_off + 4u), (uint32_t)(v >> 32));
}

static int mm_setup_queue(void *ctx, const struct vnet_queue_setup *q)
{
	struct vnet_mmio *m = ctx;
	if (!q || q->size == 0 || q->size > MMIO_QUEUE_SIZE_MAX)
		return VNET_EINVAL;
	/* One interrupt line, no vectors (spec 4.2.3.4). */
	if (q->vector != VNET_VECTOR_NONE)
		return VNET_EINVAL;
	if (m->gone)
		return VNET_ENODEV;

	/* Spec 4.2.3.2 steps 1-3: select, check not in use, read the max. */
	mm_wr32(R(m, VIRTIO_MMIO_QUEUE_SEL), q->index);
	uint32_t ready = mm_rd32(R(m, VIRTIO_MMIO_QUEUE_READY));
	if (ready == MMIO_ALL_ONES && mm_gone(m, "QueueReady", false))
		return VNET_ENODEV;
	if (ready != 0) {
		/* Spec 4.2.2.2: the queue registers MUST NOT be touched
		 * while QueueReady is non-zero. */
		MM_ERR(m, "queue %u: QueueReady reads %u before setup", q->index, (unsigned)ready);
		return VNET_EBUSY;
	}
	uint32_t max = mm_selected_max(m, q->index);
	if (m->gone)
		return VNET_ENODEV;
	if (max == 0) {
		MM_ERR(m, "queue %u: QueueNumMax reads 0: queue not available", q->index);
		return VNET_ENODEV;
	}
	if (q->size > max) {
		/* The core checked the size against queue_max_size(): the
		 * device's maximum changed under us. */
		m->violations++;
		MM_ERR(m, "queue %u: QueueNumMax now %u, below the size %u chosen from it", q->index,
		       (unsigned)max, q->size);
		return VNET_ERANGE;
	}
	/* Steps 5-6. */
	mm_wr32(R(m, VIRTIO_MMIO_QUEUE_NUM), q->size);
	mm_wr64(m, VIRTIO_MMIO_QUEUE_DESC_LOW, q->desc);
	mm_wr64(m, VIRTIO_MMIO_QUEUE_DRIVER_LOW, q->driver);
	mm_wr64(m, VIRTIO_MMIO_QUEUE_DEVICE_LOW, q->device);
	m->programmed = q->index;
	return VNET_OK;
}

static int mm_enable_queue(void *ctx, uint16_t index)
{
	struct vnet_mmio *m = ctx;
	if (m->programmed != index)
		return VNET_EINVAL;
	if (m->gone)
		return VNET_ENODEV;
	m->programmed = MMIO_NO_QUEUE;
	/* Step 7; QueueReady "returns the last value written to it"
	 * (spec 4.2.2), so a read-back other than 1 is a device that did not
	 * take the queue. */
	mm_wr32(R(m, VIRTIO_MMIO_QUEUE_SEL), index);
	mm_wr32(R(m, VIRTIO_MMIO_QUEUE_READY), 1);
	uint32_t rb = mm_rd32(R(m, VIRTIO_MMIO_QUEUE_READY));
	if (rb == 1)
		return VNET_OK;
	if (rb == MMIO_ALL_ONES && mm_gone(m, "QueueReady", false))
		return VNET_ENODEV;
	m->violations++;
	MM_ERR(m, "queue %u: QueueReady reads back %u after writing 1", index, (unsigned)rb);
	return VNET_EIO;
}

/*
 * Reset one queue (spec 2.6.1; 4.2.2: QueueReset, with RING_RESET).  The
 * first call writes 1; every call then reads QueueReset and QueueReady of
 * the selected queue: the reset is complete when both read 0 (4.2.2.1),
 * in progress while QueueReset reads 1.  Anything else is a device that
 * broke the protocol (counted, logged, VNET_EIO).
 */
static int mm_reset_queue(void *ctx, uint16_t index)
{
	struct vnet_mmio *m = ctx;
	if (!vnet_features_has(m->features, VIRTIO_F_RING_RESET))
		return VNET_ENOTSUP;
	if (m->gone)
		return VNET_ENODEV;
	mm_wr32(R(m, VIRTIO_MMIO_QUEUE_SEL), index);
	if (m->resetting != index) {
		mm_wr32(R(m, VIRTIO_MMIO_QUEUE_RESET), 1);
		m->resetting = index;
	}
	uint32_t r = mm_rd32(R(m, VIRTIO_MMIO_QUEUE_RESET));
	uint32_t e = mm_rd32(R(m, VIRTIO_MMIO_QUEUE_READY));
	if ((r == MMIO_ALL_ONES || e == MMIO_ALL_ONES) && mm_gone(m, "QueueReset", false)) {
		m->resetting = MMIO_NO_QUEUE;
		return VNET_ENODEV;
	}
	if (r > 1 || e > 1) {
		m->violations++;
		m->resetting = MMIO_NO_QUEUE;
		MM_ERR(m, "queue %u: QueueReset %u / QueueReady %u during queue reset", index, (unsigned)r,
		       (unsigned)e);
		return VNET_EIO;
	}
	if (r == 0 && e == 0) {
		m->resetting = MMIO_NO_QUEUE;
		return VNET_OK;
	}
	return VNET_EAGAIN;
}

static void mm_notify(void *ctx, uint16_t index, uint32_t data)
{
	struct vnet_mmio *m = ctx;
	/* No barrier here: vnet_vq_kick_prepare() already ordered the ring
	 * writes before its event check (spec 2.7.13 / 2.8.21), and this
	 * store comes after that on the same CPU. */
	if (m->notif_data)
		/* Spec 4.2.3.3: the 32-bit notification data; its low 16
		 * bits are the queue index. */
		mm_wr32(R(m, VIRTIO_MMIO_QUEUE_NOTIFY), (data & 0xffff0000u) | index);
	else
		mm_wr32(R(m, VIRTIO_MMIO_QUEUE_NOTIFY), index);
}

static const struct vnet_transport_ops mmio_ops = {
	.name = "mmio",
	/* Device-independent bits an MMIO transport carries (spec 6).
	 * SR_IOV and NOTIF_CONFIG_DATA are PCI's; ADMIN_VQ is not
	 * implemented here. */
	.transport_features = VNET_BIT(VIRTIO_F_INDIRECT_DESC) | VNET_BIT(VIRTIO_F_EVENT_IDX) |
			      VNET_BIT(VIRTIO_F_VERSION_1) | VNET_BIT(VIRTIO_F_ACCESS_PLATFORM) |
			      VNET_BIT(VIRTIO_F_RING_PACKED) | VNET_BIT(VIRTIO_F_IN_ORDER) |
			      VNET_BIT(VIRTIO_F_ORDER_PLATFORM) |
			      VNET_BIT(VIRTIO_F_NOTIFICATION_DATA) | VNET_BIT(VIRTIO_F_RING_RESET),
	.get_device_features = mm_get_device_features,
	.set_driver_features = mm_set_driver_features,
	.get_status = mm_get_status,
	.set_status = mm_set_status,
	.reset = mm_reset,
	.config_generation = mm_config_generation,
	.read_config = mm_read_config,
	.num_queues = mm_num_queues,
	.queue_max_size = mm_queue_max_size,
	.setup_queue = mm_setup_queue,
	.enable_queue = mm_enable_queue,
	.reset_queue = mm_reset_queue,
	.notify = mm_notify,
	.set_config_vector = NULL,
};

const struct vnet_transport_ops *vnet_mmio_ops(void)
{
	return &mmio_ops;
}
