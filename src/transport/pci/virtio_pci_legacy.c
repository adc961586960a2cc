/*
 * virtio-pci legacy transport (VirtIO 1.2 §4.1.4.10 "Legacy Interfaces: A
 * Note on PCI Device Layout", the virtio 0.9.5 I/O BAR 0 header).
 *
 * A legacy-only PCI function (QEMU's virtio-net-pci with disable-modern=on)
 * has no virtio capabilities: its registers are a 20-byte header at the
 * start of I/O BAR 0 (feature words 0..31, Queue Address as a page frame
 * number, a fixed queue_size, queue_select, Queue Notify, status, ISR)
 * followed by the device-specific configuration.  This file turns such a
 * function into the same struct vnet_transport_ops the modern transport
 * provides.  virtio_pci.c is untouched: a function with the modern
 * capabilities is always driven through them (a transitional device uses
 * the modern interface); the host calls vnet_pci_legacy_probe() only for a
 * function vnet_pci_probe() answered with VNET_PCI_LEGACY_ONLY.
 *
 * What it does: identification (a transitional device id 0x1000..0x103f,
 * the only ids a legacy device has), the I/O BAR, the ops primitives over
 * it with every value checked, INTx with the read-to-clear ISR byte.
 * What lives above it (the ops table's .legacy = true switches it on):
 *  - feature negotiation without VIRTIO_F_VERSION_1 and no FEATURES_OK
 *    handshake (a legacy device ignores that bit, §3.1.2): src/core
 *    (vnet_features_negotiate_legacy, device.c);
 *  - the legacy ring layout (§2.7.2: descriptor table, avail ring, used ring
 *    at the next 4096 boundary, in one allocation whose address / 4096 is
 *    written): setup_queue checks the addresses it is given have exactly
 *    that layout and refuses others; the split engine allocates it when
 *    VERSION_1 is not negotiated (vq_split.c);
 *  - the legacy virtio-net header (no num_buffers without MRG_RXBUF):
 *    src/net/net_setup.c.  Still missing: guest-endian rings and config
 *    (only little-endian hosts work: the engine writes little-endian).
 * No MSI-X (INTx only: the config space would move to 0x18), no packed
 * rings, no NOTIFICATION_DATA, no queue reset, only feature bits 0..31.
 *
 * Trust: as in the modern transport.  queue_size above the spec maximum or
 * not a power of two, a Queue Address that does not read back, and all-ones
 * reads (a function that vanished) are counted and refused with a log line
 * naming the register.
 *
 * Register access: through the vnet_hal_pci_io_* functions of
 * include/vnet/vnet_hal_pci.h (the platform owns port numbers and I/O
 * space), at naturally aligned offsets inside the BAR size.
 * Serialisation: as every transport; notify() and vnet_pci_legacy_isr()
 * may run concurrently with the rest.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/vnet_log.h"
#include "vnet/features.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/spec/virtio_pci.h"
#include "vnet/virtio_pci.h"
#include "transport/config_copy.h"
#include "vnet/vnet_hal.h"
#include "vnet/vnet_hal_pci.h"

#define LEG_QUEUE_SIZE_MAX 32768u
#define LEG_REMOVE_RESET_TIMEOUT_NS 1000000000ull
/* Queue Address is 32 bits of 4096-byte frames: rings below 2^44. */
#define LEG_PFN_LIMIT (1ull << (32 + VIRTIO_PCI_LEGACY_PFN_SHIFT))

#define LEG_ERR(l, fmt, ...) VNET_ERR("%s: " fmt, (l)->name, ##__VA_ARGS__)
#define LEG_INFO(l, fmt, ...) VNET_INFO("%s: " fmt, (l)->name, ##__VA_ARGS__)

struct vnet_pci_legacy {
	struct vnet_pci_dev *pdev;
	char name[24];
	uint32_t type;
	uint32_t bar_len;          /* I/O BAR 0 size */
	uint32_t config_len;       /* device config bytes after the header */
	uint64_t features;
	unsigned violations;
};

static uint8_t rd8(struct vnet_pci_legacy *l, uint32_t off)
{
	return vnet_hal_pci_io_read8(l->pdev, 0, off);
}

static uint16_t rd16(struct vnet_pci_legacy *l, uint32_t off)
{
	return vnet_hal_pci_io_read16(l->pdev, 0, off);
}

static uint32_t rd32(struct vnet_pci_legacy *l, uint32_t off)
{
	return vnet_hal_pci_io_read32(l->pdev, 0, off);
}

static void wr8(struct vnet_pci_legacy *l, uint32_t off, uint8_t v)
{
	vnet_hal_pci_io_write8(l->pdev, 0, off, v);
}

static void wr16(struct vnet_pci_legacy *l, uint32_t off, uint16_t v)
{
	vnet_hal_pci_io_write16(l->pdev, 0, off, v);
}

static void wr32(struct vnet_pci_legacy *l, uint32_t off, uint32_t v)
{
	vnet_hal_pci_io_write32(l->pdev, 0, off, v);
}

/* A vanished function reads all-ones everywhere.  Device status 0xff can
 * never be legitimate (bits 4 and 5 are reserved, spec 2.1), and reading it
 * has no side effect (unlike the read-to-clear ISR byte next to it). */
static bool leg_gone(struct vnet_pci_legacy *l)
{
	return rd8(l, VIRTIO_PCI_LEGACY_STATUS) == 0xffu;
}

/* ------------------------------------------------------------------ */
/* Probe and remove                                                    */
/* ------------------------------------------------------------------ */

int vnet_pci_legacy_probe(struct vnet_pci_dev *pdev, struct vnet_pci_legacy **out)
{
	if (!pdev || !out)
		return VNET_EINVAL;
	*out = NULL;
	struct vnet_pci_info info;
	vnet_hal_pci_dev_info(pdev, &info);
	if (info.vendor_id != VIRTIO_PCI_VENDOR_ID)
		return VNET_ENODEV;
	struct vnet_pci_legacy tmp = {.pdev = pdev};
	static const char pre[] = "pci ";
	size_t n = 0;
	for (size_t i = 0; pre[i]; i++)
		tmp.name[n++] = pre[i];
	for (size_t i = 0; i < sizeof(info.name) && info.name[i] && n + 1 < sizeof(tmp.name); i++)
		tmp.name[n++] = info.name[i];
	tmp.name[n] = '\0';
	struct vnet_pci_legacy *l = &tmp;

	/* Legacy devices only ever had the transitional ids, whose subsystem
	 * device id is the device type (§4.1.2.3). */
	if (info.device_id < VIRTIO_PCI_DEVICE_ID_TRANS_FIRST ||
	    info.device_id > VIRTIO_PCI_DEVICE_ID_TRANS_LAST) {
		LEG_ERR(l, "device id 0x%04x is not a transitional id (0x1000..0x103f): no legacy "
			   "interface", info.device_id);
		return VNET_ENODEV;
	}
	if (info.subsys_id == 0 ||
	    info.subsys_id > VIRTIO_PCI_DEVICE_ID_MODERN_LAST - VIRTIO_PCI_DEVICE_ID_MODERN_BASE) {
		LEG_ERR(l, "transitional id 0x%04x with subsystem device id 0x%04x names no device type",
			info.device_id, info.subsys_id);
		return VNET_EPROTO;
	}
	uint32_t len = 0;
	int rc = vnet_hal_pci_io_bar(pdev, 0, &len);
	if (rc < 0) {
		LEG_ERR(l, "legacy interface needs I/O BAR 0: %s", vnet_strerror(rc));
		return rc;
	}
	if (len < VIRTIO_PCI_LEGACY_CONFIG) {
		LEG_ERR(l, "I/O BAR 0 is %u bytes, shorter than the %u-byte legacy header", len,
			VIRTIO_PCI_LEGACY_CONFIG);
		return VNET_ERANGE;
	}
	tmp.bar_len = len;
	if (leg_gone(l)) {
		LEG_ERR(l, "I/O BAR 0 reads all-ones: no device answers");
		return VNET_ENODEV;
	}
	l = vnet_hal_zalloc(sizeof(*l));
	if (!l)
		return VNET_ENOMEM;
	*l = tmp;
	l->type = info.subsys_id;
	l->config_len = len - VIRTIO_PCI_LEGACY_CONFIG;
	vnet_hal_pci_set_bus_master(pdev, true);
	LEG_INFO(l, "virtio %04x:%04x type %u: legacy interface, I/O BAR 0 of %u bytes",
		 info.vendor_id, info.device_id, (unsigned)l->type, len);
	*out = l;
	return VNET_OK;
}

void vnet_pci_legacy_remove(struct vnet_pci_legacy *l)
{
	if (!l)
		return;
	bool quiet = false;
	wr8(l, VIRTIO_PCI_LEGACY_STATUS, 0);
	uint64_t start = vnet_hal_time_ns();
	for (;;) {
		if (rd8(l, VIRTIO_PCI_LEGACY_STATUS) == 0) {
			quiet = true;
			break;
		}
		if (vnet_hal_time_ns() - start >= LEG_REMOVE_RESET_TIMEOUT_NS)
			break;
		vnet_hal_relax();
	}
	if (quiet)
		vnet_hal_pci_set_bus_master(l->pdev, false);
	else
		LEG_ERR(l, "device did not reset on remove: bus mastering left on");
	vnet_hal_free(l);
}

uint8_t vnet_pci_legacy_isr(struct vnet_pci_legacy *l)
{
	if (!l)
		return 0;
	/* Read-to-clear, deasserts INTx (§4.1.4.5 applies to the legacy ISR
	 * byte too). */
	uint8_t v = rd8(l, VIRTIO_PCI_LEGACY_ISR);
	if (v == 0xffu)
		return 0; /* vanished: nothing to service */
	return (uint8_t)(v & (VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG));
}

unsigned vnet_pci_legacy_violations(const struct vnet_pci_legacy *l)
{
	return l ? l->violations : 0;
}

uint32_t vnet_pci_legacy_device_type(const struct vnet_pci_legacy *l)
{
	return l ? l->type : 0;
}

/* ------------------------------------------------------------------ */
/* Transport ops                                                       */
/* ------------------------------------------------------------------ */

static int leg_get_device_features(void *ctx, uint64_t *features)
{
	struct vnet_pci_legacy *l = ctx;
	if (!features)
		return VNET_EINVAL;
	*features = 0;
	uint32_t f = rd32(l, VIRTIO_PCI_LEGACY_HOST_FEATURES);
	if (f == 0xffffffffu && leg_gone(l)) {
		l->violations++;
		LEG_ERR(l, "device features read all-ones: device gone");
		return VNET_ENODEV;
	}
	*features = f; /* legacy: bits 0..31 only */
	return VNET_OK;
}

static int leg_set_driver_features(void *ctx, uint64_t features)
{
	struct vnet_pci_legacy *l = ctx;
	if (features >> 32) {
		LEG_ERR(l, "feature bits above 31 (0x%016llx) do not exist on the legacy interface",
			(unsigned long long)features);
		return VNET_EINVAL;
	}
	wr32(l, VIRTIO_PCI_LEGACY_GUEST_FEATURES, (uint32_t)features);
	l->features = features;
	return VNET_OK;
}

static int leg_get_status(void *ctx)
{
	struct vnet_pci_legacy *l = ctx;
	uint8_t v = rd8(l, VIRTIO_PCI_LEGACY_STATUS);
	if (v == 0xffu && leg_gone(l)) {
		l->violations++;
		LEG_ERR(l, "device status reads 0xff: device gone");
		return VNET_ENODEV;
	}
	return v;
}

static int leg_set_status(void *ctx, uint8_t status)
{
	struct vnet_pci_legacy *l = ctx;
	wr8(l, VIRTIO_PCI_LEGACY_STATUS, status);
	return VNET_OK;
}

static int leg_reset(void *ctx)
{
	struct vnet_pci_legacy *l = ctx;
	/* Writing 0 resets (the core waits for status 0). */
	wr8(l, VIRTIO_PCI_LEGACY_STATUS, 0);
	return VNET_OK;
}

static uint32_t leg_config_generation(void *ctx)
{
	(void)ctx;
	return 0; /* legacy has no generation counter */
}

/* Config-space accessors for vnet_config_copy(): offsets from the
 * legacy config start. */
static uint8_t leg_cfg_rd8(void *ctx, uint32_t off)
{
	return rd8(ctx, VIRTIO_PCI_LEGACY_CONFIG + off);
}

static uint16_t leg_cfg_rd16(void *ctx, uint32_t off)
{
	return rd16(ctx, VIRTIO_PCI_LEGACY_CONFIG + off);
}

static uint32_t leg_cfg_rd32(void *ctx, uint32_t off)
{
	return rd32(ctx, VIRTIO_PCI_LEGACY_CONFIG + off);
}

static const struct vnet_config_reader leg_config_reader = {leg_cfg_rd8, leg_cfg_rd16, leg_cfg_rd32};

static int leg_read_config(void *ctx, uint32_t offset, void *buf, uint32_t len)
{
	struct vnet_pci_legacy *l = ctx;
	if (!buf && len)
		return VNET_EINVAL;
	if ((uint64_t)offset + len > l->config_len)
		return VNET_ERANGE;
	/* Any width is allowed on the legacy interface (§4.1.4.10); the
	 * natural one is used anyway (transport/config_copy.h).  The config
	 * starts at 20, 4-byte aligned. */
	vnet_config_copy(&leg_config_reader, l, offset, buf, len);
	return VNET_OK;
}

static uint16_t leg_num_queues(void *ctx)
{
	(void)ctx;
	return 0; /* no count: queue_size 0 ends the queues */
}

static uint16_t leg_queue_max_size(void *ctx, uint16_t index)
{
	struct vnet_pci_legacy *l = ctx;
	wr16(l, VIRTIO_PCI_LEGACY_QUEUE_SEL, index);
	uint16_t v = rd16(l, VIRTIO_PCI_LEGACY_QUEUE_NUM);
	if (v == 0xffffu && leg_gone(l))
		return 0;
	/* Split rings only, and the size is not negotiable: it must be a
	 * legal split size, a power of two up to 32768 (§2.7). */
	if (v > LEG_QUEUE_SIZE_MAX || (v & (v - 1u))) {
		l->violations++;
		LEG_ERR(l, "queue %u: queue_size %u is not a power of two up to %u; queue refused",
			index, v, LEG_QUEUE_SIZE_MAX);
		return 0;
	}
	return v;
}

/* Legacy split layout (§2.7.2) for size entries at desc: the three areas
 * contiguous, the used ring at the next 4096 boundary after the avail ring
 * (with used_event). */
static uint64_t leg_used_offset(uint16_t size)
{
	uint64_t avail_end = 16ull * size + 6u + 2ull * size;
	uint64_t a = VIRTIO_PCI_LEGACY_QUEUE_ALIGN;
	return (avail_end + a - 1u) & ~(a - 1u);
}

static int leg_setup_queue(void *ctx, const struct vnet_queue_setup *q)
{
	struct vnet_pci_legacy *l = ctx;
	if (!q || q->size == 0 || q->size > LEG_QUEUE_SIZE_MAX)
		return VNET_EINVAL;
	if (q->vector != VNET_VECTOR_NONE)
		return VNET_EINVAL; /* INTx only */
	wr16(l, VIRTIO_PCI_LEGACY_QUEUE_SEL, q->index);
	uint16_t fixed = rd16(l, VIRTIO_PCI_LEGACY_QUEUE_NUM);
	if (fixed == 0) {
		LEG_ERR(l, "queue %u: queue_size 0: queue not available", q->index);
		return VNET_ENODEV;
	}
	if (q->size != fixed) {
		/* "There was no mechanism to negotiate the queue size". */
		LEG_ERR(l, "queue %u: size %u, but a legacy queue has the device's fixed size %u",
			q->index, q->size, fixed);
		return VNET_EINVAL;
	}
	uint32_t pfn0 = rd32(l, VIRTIO_PCI_LEGACY_QUEUE_PFN);
	if (pfn0 != 0) {
		if (pfn0 == 0xffffffffu && leg_gone(l))
			return VNET_ENODEV;
		LEG_ERR(l, "queue %u: Queue Address reads 0x%x before setup: queue in use", q->index,
			pfn0);
		return VNET_EBUSY;
	}
	uint64_t used_off = leg_used_offset(q->size);
	if ((q->desc & (VIRTIO_PCI_LEGACY_QUEUE_ALIGN - 1u)) || q->desc >= LEG_PFN_LIMIT ||
	    q->desc == 0) {
		LEG_ERR(l, "queue %u: ring at 0x%llx is not a 4096-aligned address below 2^44 "
			   "(Queue Address is a 32-bit page number)",
			q->index, (unsigned long long)q->desc);
		return VNET_ERANGE;
	}
	if (q->driver != q->desc + 16ull * q->size || q->device != q->desc + used_off) {
		LEG_ERR(l, "queue %u: ring areas at +0x%llx/+0x%llx, the legacy layout needs "
			   "+0x%llx/+0x%llx (used ring 4096-aligned)",
			q->index, (unsigned long long)(q->driver - q->desc),
			(unsigned long long)(q->device - q->desc), 16ull * q->size,
			(unsigned long long)used_off);
		return VNET_ERANGE;
	}
	uint32_t pfn = (uint32_t)(q->desc >> VIRTIO_PCI_LEGACY_PFN_SHIFT);
	wr32(l, VIRTIO_PCI_LEGACY_QUEUE_PFN, pfn);
	/* Writing the address is what activates a legacy queue; a device
	 * that did not take it reads something else back. */
	uint32_t rb = rd32(l, VIRTIO_PCI_LEGACY_QUEUE_PFN);
	if (rb != pfn) {
		l->violations++;
		LEG_ERR(l, "queue %u: Queue Address reads back 0x%x after writing 0x%x", q->index, rb,
			pfn);
		return VNET_EIO;
	}
	return VNET_OK;
}

static void leg_notify(void *ctx, uint16_t index, uint32_t data)
{
	struct vnet_pci_legacy *l = ctx;
	(void)data; /* no NOTIFICATION_DATA on the legacy interface */
	wr16(l, VIRTIO_PCI_LEGACY_QUEUE_NOTIFY, index);
}

static const struct vnet_transport_ops legacy_ops = {
	.name = "pci-legacy",
	/* The device-independent bits the legacy interface has (§6.1 and
	 * §2.7): indirect descriptors and event index.  No VERSION_1. */
	.transport_features = VNET_BIT(VIRTIO_F_INDIRECT_DESC) | VNET_BIT(VIRTIO_F_EVENT_IDX),
	.legacy = true,
	.get_device_features = leg_get_device_features,
	.set_driver_features = leg_set_driver_features,
	.get_status = leg_get_status,
	.set_status = leg_set_status,
	.reset = leg_reset,
	.config_generation = leg_config_generation,
	.read_config = leg_read_config,
	.num_queues = leg_num_queues,
	.queue_max_size = leg_queue_max_size,
	.setup_queue = leg_setup_queue,
	.enable_queue = NULL,
	.reset_queue = NULL,
	.notify = leg_notify,
	.set_config_vector = NULL,
};

const struct vnet_transport_ops *vnet_pci_legacy_ops(void)
{
	return &legacy_ops;
}
