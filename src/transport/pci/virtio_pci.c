/*
 * virtio-pci modern transport (spec 4.1 "Virtio Over PCI Bus").
 *
 * A virtio 1.x PCI function describes itself with vendor-specific
 * capabilities in PCI configuration space: each names a BAR, an offset and
 * a length for one structure (common configuration, notification area, ISR
 * byte, device-specific configuration).  Probe walks that list once,
 * distrusting every byte of it, maps the BARs and keeps pointers to the
 * chosen structures; after that every transport op is a handful of
 * exactly-sized MMIO accesses to those structures, addressed by field name.
 *
 * What this file does: device identification (any virtio device type: the
 * transport reports the type and the host decides what to drive), the
 * capability walk and its
 * checks, BAR mapping, the struct vnet_transport_ops primitives (features,
 * status, config bytes, per-queue programming, doorbells, vectors), MSI-X
 * entry binding and the INTx ISR read.
 *
 * What it does not do: the init sequence, reset waits, feature decisions
 * and generation retries are the core's (src/core/device.c); rings are
 * virtqueue.c's.  There is no legacy (I/O BAR 0) interface here (that is
 * virtio_pci_legacy.c; a legacy-only function is answered with
 * VNET_PCI_LEGACY_ONLY, without a log), no
 * VIRTIO_PCI_CAP_PCI_CFG window access, no shared-memory or admin-queue
 * support, and capabilities in I/O BARs are skipped (the HAL maps memory
 * BARs only), so a device whose only notify capability is in an I/O BAR is
 * refused.
 *
 * Trust: the device and its capability list are untrusted.  Capability
 * pointers, lengths, BAR numbers, offsets and lengths are checked before
 * any structure is touched; queue sizes, notify offsets and vector
 * read-backs are checked before use.  A bad value is an error with a log
 * line naming the field, and (for runtime values) counts a violation; it is
 * never a wild access.
 *
 * Register access: only through the pci_rd* / pci_wr* macros below, which
 * are the volatile, little-endian vnet_mmio_* accessors of
 * include/vnet/vnet_mmio.h (byte-swapping on a big-endian host).  Unit
 * tests compile this file with VNET_PCI_TEST_MMIO defined to route them to
 * a register-level device model instead; production builds have no hook.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/vnet_log.h"
#include "core/vnet_mem.h"
#include "vnet/features.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/spec/virtio_pci.h"
#include "vnet/vnet_hal.h"
#include "vnet/vnet_hal_pci.h"
#include "vnet/vnet_mmio.h"
#include "vnet/virtio_pci.h"
#include "transport/config_copy.h"

#ifdef VNET_PCI_TEST_MMIO
uint8_t vnet_pci_test_rd8(const volatile void *a);
uint16_t vnet_pci_test_rd16(const volatile void *a);
uint32_t vnet_pci_test_rd32(const volatile void *a);
void vnet_pci_test_wr8(volatile void *a, uint8_t v);
void vnet_pci_test_wr16(volatile void *a, uint16_t v);
void vnet_pci_test_wr32(volatile void *a, uint32_t v);
#define pci_rd8 vnet_pci_test_rd8
#define pci_rd16 vnet_pci_test_rd16
#define pci_rd32 vnet_pci_test_rd32
#define pci_wr8 vnet_pci_test_wr8
#define pci_wr16 vnet_pci_test_wr16
#define pci_wr32 vnet_pci_test_wr32
#else
#define pci_rd8 vnet_mmio_read8
#define pci_rd16 vnet_mmio_read16
#define pci_rd32 vnet_mmio_read32
#define pci_wr8 vnet_mmio_write8
#define pci_wr16 vnet_mmio_write16
#define pci_wr32 vnet_mmio_write32
#endif

/* Spec 2.7 / 2.8: a virtqueue has at most 32768 entries (split and packed). */
#define PCI_QUEUE_SIZE_MAX 32768u
/* Bound on waiting for status 0 in vnet_pci_remove(). */
#define PCI_REMOVE_RESET_TIMEOUT_NS 1000000000ull

#define PCI_ERR(p, fmt, ...) VNET_ERR("%s: " fmt, (p)->name, ##__VA_ARGS__)
#define PCI_WARN(p, fmt, ...) VNET_WARN("%s: " fmt, (p)->name, ##__VA_ARGS__)
#define PCI_INFO(p, fmt, ...) VNET_INFO("%s: " fmt, (p)->name, ##__VA_ARGS__)

/* One virtio structure chosen from the capability list. */
struct pci_region {
	volatile uint8_t *va;   /* BAR mapping + cap.offset; NULL if absent */
	uint32_t len;           /* cap.length, checked to fit the BAR */
	uint32_t offset;        /* cap.offset (for logs) */
	uint8_t bar;
	uint8_t cap_pos;        /* config-space position of the capability */
};

/* Per-queue state: written on the setup path, read by notify(). */
struct pci_queue {
	volatile uint8_t *notify;  /* doorbell address, NULL until setup_queue */
	uint16_t notify_value;     /* queue index, or queue_notif_config_data */
	uint16_t max_size;         /* queue_size as read after reset */
	bool max_known;
	bool reset_started;        /* reset_queue wrote queue_reset = 1 */
};

struct pci_irq_slot {
	struct vnet_pci *p;
	unsigned entry;
};

struct pci_bar {
	volatile uint8_t *va;
	uint64_t len;
	int state;              /* 0 untried, 1 mapped, < 0 vnet_err from bar_map */
};

struct vnet_pci {
	struct vnet_pci_dev *pdev;
	char name[16];
	uint32_t type;             /* virtio device type, from the PCI ids */
	struct pci_region common, notify, isr, device;
	uint32_t notify_mult;      /* notify_off_multiplier */
	uint16_t nq;               /* num_queues, capped at VNET_PCI_MAX_QUEUES */
	struct pci_queue *q;       /* nq entries (at least one allocated) */
	uint64_t features;         /* accepted, from set_driver_features */
	bool notif_data;           /* VIRTIO_F_NOTIFICATION_DATA accepted */
	bool notif_config_data;    /* VIRTIO_F_NOTIF_CONFIG_DATA accepted */
	struct pci_bar bar[VIRTIO_PCI_BAR_MAX + 1];
	unsigned nvec;             /* MSI-X entries bound, 0 = INTx */
	struct pci_irq_slot *slots;
	vnet_pci_vector_fn irq_cb;
	void *irq_arg;
	unsigned violations;
};

/* Address of a common-cfg field, by name. */
#define CC(p, field) ((p)->common.va + offsetof(struct virtio_pci_common_cfg, field))

/* 64-bit fields are two 32-bit fields, low half first (VirtIO 1.2
 * §4.1.3), as vnet_mmio_write64_split() does; spelled out over pci_wr32 so
 * the unit test's register model sees the two halves too. */
static void pci_wr64(volatile uint8_t *a, uint64_t v)
{
	pci_wr32(a, (uint32_t)v);
	pci_wr32(a + 4, (uint32_t)(v >> 32));
}

/* ------------------------------------------------------------------ */
/* Capability walk                                                     */
/* ------------------------------------------------------------------ */

static const char *cap_type_name(unsigned t)
{
	switch (t) {
	case VIRTIO_PCI_CAP_COMMON_CFG: return "common";
	case VIRTIO_PCI_CAP_NOTIFY_CFG: return "notify";
	case VIRTIO_PCI_CAP_ISR_CFG: return "isr";
	case VIRTIO_PCI_CAP_DEVICE_CFG: return "device";
	default: return "?";
	}
}

/* Why the last candidate of a structure type was rejected (for the final
 * error when no candidate of a required type was usable). */
struct cap_reject {
	int rc;                 /* 0 = no candidate seen */
	uint8_t pos;
	const char *field;
};

struct cap_walk {
	unsigned virtio_caps;   /* vendor caps with a virtio cfg_type */
	struct cap_reject why[VIRTIO_PCI_CAP_DEVICE_CFG + 1];
};

static int pci_bar_get(struct vnet_pci *p, unsigned bar)
{
	struct pci_bar *b = &p->bar[bar];
	if (b->state == 0) {
		volatile void *va = NULL;
		uint64_t len = 0;
		int rc = vnet_hal_pci_bar_map(p->pdev, bar, &va, &len);
		if (rc >= 0 && (!va || len == 0))
			rc = VNET_ENODEV;
		if (rc < 0) {
			b->state = rc;
		} else {
			b->va = (volatile uint8_t *)va;
			b->len = len;
			b->state = 1;
		}
	}
	return b->state < 0 ? b->state : VNET_OK;
}

static void cap_reject(struct vnet_pci *p, struct cap_walk *w, unsigned type, unsigned pos, int rc,
		       const char *field)
{
	/* Not fatal by itself: spec 4.1.4.1 lets a device offer several
	 * capabilities of one type and the driver use the first it can. */
	PCI_WARN(p, "%s capability at 0x%02x unusable: bad %s (%s); ignored", cap_type_name(type),
		 pos, field, vnet_strerror(rc));
	w->why[type].rc = rc;
	w->why[type].pos = (uint8_t)pos;
	w->why[type].field = field;
}

/*
 * One vendor-specific capability at pos (already known to lie at
 * 0x40..0xfc, 4-byte aligned).  Returns VNET_OK whether it was taken,
 * ignored or rejected; rejection is remembered in w.
 */
static int pci_cap_consider(struct vnet_pci *p, struct cap_walk *w, unsigned pos)
{
	struct vnet_pci_dev *d = p->pdev;
	unsigned cap_len = vnet_hal_pci_cfg_read8(d, pos + offsetof(struct virtio_pci_cap, cap_len));
	unsigned type = vnet_hal_pci_cfg_read8(d, pos + offsetof(struct virtio_pci_cap, cfg_type));

	switch (type) {
	case VIRTIO_PCI_CAP_COMMON_CFG:
	case VIRTIO_PCI_CAP_NOTIFY_CFG:
	case VIRTIO_PCI_CAP_ISR_CFG:
	case VIRTIO_PCI_CAP_DEVICE_CFG:
		break;
	case VIRTIO_PCI_CAP_PCI_CFG:
	case VIRTIO_PCI_CAP_SHARED_MEMORY_CFG:
	case VIRTIO_PCI_CAP_VENDOR_CFG:
		w->virtio_caps++;   /* virtio's, but nothing this driver uses */
		return VNET_OK;
	default:
		return VNET_OK;     /* reserved cfg_type: MUST be ignored (4.1.4.1) */
	}
	w->virtio_caps++;

	struct pci_region *r = type == VIRTIO_PCI_CAP_COMMON_CFG   ? &p->common
			       : type == VIRTIO_PCI_CAP_NOTIFY_CFG ? &p->notify
			       : type == VIRTIO_PCI_CAP_ISR_CFG    ? &p->isr
								   : &p->device;
	if (r->va)
		return VNET_OK;     /* an earlier one was usable: it wins (4.1.4.1) */

	unsigned need = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? sizeof(struct virtio_pci_notify_cap)
							  : sizeof(struct virtio_pci_cap);
	if (cap_len < need) {
		cap_reject(p, w, type, pos, VNET_EPROTO, "cap_len (shorter than the structure)");
		return VNET_OK;
	}
	if (pos + cap_len > VIRTIO_PCI_CFG_SPACE_SIZE) {
		cap_reject(p, w, type, pos, VNET_EPROTO, "cap_len (runs past config space)");
		return VNET_OK;
	}
	unsigned bar = vnet_hal_pci_cfg_read8(d, pos + offsetof(struct virtio_pci_cap, bar));
	if (bar > VIRTIO_PCI_BAR_MAX) {
		/* Reserved bar value: the capability MUST be ignored (4.1.4.1). */
		cap_reject(p, w, type, pos, VNET_EPROTO, "bar (reserved value > 5)");
		return VNET_OK;
	}
	uint32_t off = vnet_hal_pci_cfg_read32(d, pos + offsetof(struct virtio_pci_cap, offset));
	uint32_t len = vnet_hal_pci_cfg_read32(d, pos + offsetof(struct virtio_pci_cap, length));
	uint32_t mult = 0;
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		mult = vnet_hal_pci_cfg_read32(
			d, pos + offsetof(struct virtio_pci_notify_cap, notify_off_multiplier));

	int rc = pci_bar_get(p, bar);
	if (rc < 0) {
		cap_reject(p, w, type, pos, rc, "bar (cannot map it)");
		return VNET_OK;
	}
	/* 64-bit sum: offset 0xffffffff + length cannot wrap past the check. */
	if ((uint64_t)off + len > p->bar[bar].len) {
		cap_reject(p, w, type, pos, VNET_ERANGE, "offset/length (beyond the BAR)");
		return VNET_OK;
	}
	/* Minimum lengths and alignments per structure (spec 4.1.4.3-4.1.4.6).
	 * A misaligned structure would make our naturally aligned register
	 * accesses misaligned, which some buses fault on. */
	switch (type) {
	case VIRTIO_PCI_CAP_COMMON_CFG:
		if (len < VIRTIO_PCI_COMMON_CFG_LEN_V1_0) {
			cap_reject(p, w, type, pos, VNET_ERANGE, "length (common cfg too short)");
			return VNET_OK;
		}
		if (off & 3u) {
			cap_reject(p, w, type, pos, VNET_EPROTO, "offset (not 4-byte aligned)");
			return VNET_OK;
		}
		break;
	case VIRTIO_PCI_CAP_NOTIFY_CFG:
		if (len < 2) {
			cap_reject(p, w, type, pos, VNET_ERANGE, "length (notify area < 2 bytes)");
			return VNET_OK;
		}
		if (off & 1u) {
			cap_reject(p, w, type, pos, VNET_EPROTO, "offset (not 2-byte aligned)");
			return VNET_OK;
		}
		break;
	case VIRTIO_PCI_CAP_ISR_CFG:
		if (len < 1) {
			cap_reject(p, w, type, pos, VNET_ERANGE, "length (0)");
			return VNET_OK;
		}
		break;
	default: /* DEVICE_CFG */
		if (len < 1) {
			cap_reject(p, w, type, pos, VNET_ERANGE, "length (0)");
			return VNET_OK;
		}
		if (off & 3u) {
			cap_reject(p, w, type, pos, VNET_EPROTO, "offset (not 4-byte aligned)");
			return VNET_OK;
		}
		break;
	}
	r->va = p->bar[bar].va + off;
	r->len = len;
	r->offset = off;
	r->bar = (uint8_t)bar;
	r->cap_pos = (uint8_t)pos;
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		p->notify_mult = mult;
	return VNET_OK;
}

/*
 * Walk the capability list.  Structural damage (a pointer into the header,
 * a misaligned pointer, a cycle, too many entries) stops the walk with
 * VNET_EPROTO: nothing after such a pointer can be trusted.
 */
static int pci_caps_walk(struct vnet_pci *p, struct cap_walk *w)
{
	struct vnet_pci_dev *d = p->pdev;
	uint16_t status = vnet_hal_pci_cfg_read16(d, VIRTIO_PCI_CFG_STATUS);
	if (status == 0xffffu || !(status & VIRTIO_PCI_STATUS_CAP_LIST))
		return VNET_OK;     /* no list: w->virtio_caps stays 0 */

	unsigned pos = vnet_hal_pci_cfg_read8(d, VIRTIO_PCI_CFG_CAP_PTR);
	unsigned from = VIRTIO_PCI_CFG_CAP_PTR;
	uint64_t seen = 0;      /* one bit per dword of config space */
	for (unsigned n = 0; pos != 0; n++) {
		if (n >= VIRTIO_PCI_CAP_MAX) {
			PCI_ERR(p, "capability list longer than %u entries", VIRTIO_PCI_CAP_MAX);
			return VNET_EPROTO;
		}
		if (pos < VIRTIO_PCI_CFG_HEADER_END || (pos & 3u)) {
			PCI_ERR(p, "bad capability pointer 0x%02x (cap_next at 0x%02x): %s", pos, from,
				pos < VIRTIO_PCI_CFG_HEADER_END ? "points into the PCI header"
								: "not 4-byte aligned");
			return VNET_EPROTO;
		}
		if (seen & (1ull << (pos / 4u))) {
			PCI_ERR(p, "capability list cycles back to 0x%02x (cap_next at 0x%02x)", pos,
				from);
			return VNET_EPROTO;
		}
		seen |= 1ull << (pos / 4u);
		unsigned id = vnet_hal_pci_cfg_read8(d, pos);
		if (id == VIRTIO_PCI_CAP_ID_VNDR) {
			int rc = pci_cap_consider(p, w, pos);
			if (rc < 0)
				return rc;
		}
		from = pos + 1u;
		pos = vnet_hal_pci_cfg_read8(d, pos + 1u);
	}
	return VNET_OK;
}

/* Why an id is not a usable virtio id, for the probe's log line. */
static const char *pci_id_problem(const struct vnet_pci_info *info)
{
	if (info->device_id < VIRTIO_PCI_DEVICE_ID_TRANS_FIRST ||
	    info->device_id > VIRTIO_PCI_DEVICE_ID_MODERN_LAST)
		return "outside the virtio range 0x1000..0x107f";
	if (info->device_id >= VIRTIO_PCI_DEVICE_ID_MODERN_BASE)
		return "modern id 0x1040 names device type 0, which is reserved";
	return info->subsys_id == 0 ? "transitional id with subsystem device id 0 (reserved type)"
				    : "transitional id with a subsystem device id above 0x3f";
}

int vnet_pci_identify(const struct vnet_pci_info *info, uint32_t *type)
{
	if (!info || !type)
		return VNET_EINVAL;
	*type = 0;
	if (info->vendor_id != VIRTIO_PCI_VENDOR_ID)
		return VNET_ENODEV;
	uint16_t id = info->device_id;
	if (id >= VIRTIO_PCI_DEVICE_ID_MODERN_BASE && id <= VIRTIO_PCI_DEVICE_ID_MODERN_LAST) {
		/* VirtIO 1.2 §4.1.2: modern id = 0x1040 + device type; type 0
		 * is reserved (§5 "Device Types"), so 0x1040 names nothing. */
		if (id == VIRTIO_PCI_DEVICE_ID_MODERN_BASE)
			return VNET_EPROTO;
		*type = (uint32_t)(id - VIRTIO_PCI_DEVICE_ID_MODERN_BASE);
		return VNET_OK;
	}
	if (id >= VIRTIO_PCI_DEVICE_ID_TRANS_FIRST && id <= VIRTIO_PCI_DEVICE_ID_TRANS_LAST) {
		/* Transitional (VirtIO 1.2 §4.1.2.3): the subsystem device id is the device
		 * type.  Only types a modern id could also name (1..0x3f) are
		 * taken: anything else is not a device this spec describes. */
		if (info->subsys_id == 0 ||
		    info->subsys_id > VIRTIO_PCI_DEVICE_ID_MODERN_LAST - VIRTIO_PCI_DEVICE_ID_MODERN_BASE)
			return VNET_EPROTO;
		*type = info->subsys_id;
		return VNET_OK;
	}
	/* Vendor 0x1af4 also makes non-virtio functions (e.g. QEMU's ivshmem). */
	return VNET_ENODEV;
}

static void pci_unmap_all(struct vnet_pci *p)
{
	for (unsigned b = 0; b <= VIRTIO_PCI_BAR_MAX; b++) {
		if (p->bar[b].state == 1)
			vnet_hal_pci_bar_unmap(p->pdev, b);
		p->bar[b].state = 0;
		p->bar[b].va = NULL;
	}
}

int vnet_pci_probe(struct vnet_pci_dev *pdev, struct vnet_pci **out)
{
	if (!pdev || !out)
		return VNET_EINVAL;
	*out = NULL;
	struct vnet_pci_info info;
	memset(&info, 0, sizeof(info));
	vnet_hal_pci_dev_info(pdev, &info);
	/* info.name is "bb:dd.f" but may lack its NUL: copy at most 7 chars. */
	char bdf[8];
	size_t k;
	for (k = 0; k < 7 && info.name[k]; k++)
		bdf[k] = info.name[k];
	bdf[k] = '\0';
	uint32_t type;
	int rc = vnet_pci_identify(&info, &type);
	if (rc != VNET_OK) {
		/* Another vendor's function is not news (callers probe every
		 * function); a 0x1af4 function we refuse is told why. */
		if (info.vendor_id == VIRTIO_PCI_VENDOR_ID)
			VNET_WARN("pci %s: 1af4:%04x (subsystem %04x) is not a virtio device: %s", bdf,
				  info.device_id, info.subsys_id, pci_id_problem(&info));
		return rc;
	}

	struct vnet_pci *p = vnet_hal_zalloc(sizeof(*p));
	if (!p)
		return VNET_ENOMEM;
	p->pdev = pdev;
	p->type = type;
	vnet_snprintf(p->name, sizeof(p->name), "pci %s", bdf);

	struct cap_walk w;
	memset(&w, 0, sizeof(w));
	rc = pci_caps_walk(p, &w);
	if (rc < 0)
		goto err_unmap;

	if (w.virtio_caps == 0) {
		/* Spec 4.1.5.1.1: no virtio capabilities means a legacy device.
		 * Not an error of this transport's: a result of its own, and
		 * no log, so the host decides (bind the legacy transport, or
		 * refuse the function in its own words). */
		rc = VNET_PCI_LEGACY_ONLY;
		goto err_unmap;
	}
	static const unsigned required[] = {VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_NOTIFY_CFG};
	for (unsigned i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		unsigned t = required[i];
		const struct pci_region *r = t == VIRTIO_PCI_CAP_COMMON_CFG ? &p->common : &p->notify;
		if (r->va)
			continue;
		if (w.why[t].rc) {
			PCI_ERR(p, "no usable %s capability: the one at 0x%02x has a bad %s",
				cap_type_name(t), w.why[t].pos, w.why[t].field);
			rc = w.why[t].rc;
		} else {
			PCI_ERR(p, "no %s capability (cfg_type %u) in the capability list",
				cap_type_name(t), t);
			rc = VNET_EPROTO;
		}
		goto err_unmap;
	}
	if (!p->isr.va)
		PCI_WARN(p, "no usable ISR capability: INTx mode unavailable");
	if (!p->device.va)
		PCI_WARN(p, "no usable device configuration capability: config reads will fail");

	/* Release BARs mapped while evaluating capabilities we did not take. */
	for (unsigned b = 0; b <= VIRTIO_PCI_BAR_MAX; b++) {
		bool used = (p->common.va && p->common.bar == b) || (p->notify.va && p->notify.bar == b) ||
			    (p->isr.va && p->isr.bar == b) || (p->device.va && p->device.bar == b);
		if (p->bar[b].state == 1 && !used) {
			vnet_hal_pci_bar_unmap(pdev, b);
			p->bar[b].state = 0;
			p->bar[b].va = NULL;
		}
	}

	uint16_t nq = pci_rd16(CC(p, num_queues));
	if (nq > VNET_PCI_MAX_QUEUES) {
		PCI_WARN(p, "num_queues %u: using the first %u", nq, VNET_PCI_MAX_QUEUES);
		nq = VNET_PCI_MAX_QUEUES;
	}
	p->nq = nq;
	p->q = vnet_hal_zalloc((nq ? nq : 1u) * sizeof(*p->q));
	if (!p->q) {
		rc = VNET_ENOMEM;
		goto err_unmap;
	}

	/* The rings are in driver memory the device reads and writes. */
	vnet_hal_pci_set_bus_master(pdev, true);
	/* No queue count here: it may grow at FEATURES_OK (pci_set_status). */
	PCI_INFO(p, "virtio %04x:%04x type %u: common bar%u+0x%x, notify bar%u+0x%x (x%u)", info.vendor_id,
		 info.device_id, (unsigned)p->type, p->common.bar, p->common.offset, p->notify.bar, p->notify.offset,
		 p->notify_mult);
	*out = p;
	return VNET_OK;

err_unmap:
	pci_unmap_all(p);
	vnet_hal_free(p->q);
	vnet_hal_free(p);
	return rc;
}

void vnet_pci_remove(struct vnet_pci *p)
{
	if (!p)
		return;
	/* Reset first: it stops DMA and interrupts (spec 2.4), then the
	 * vectors and bus mastering can go. */
	bool quiet = false;
	pci_wr8(CC(p, device_status), 0);
	uint64_t start = vnet_hal_time_ns();
	for (;;) {
		if (pci_rd8(CC(p, device_status)) == 0) {
			quiet = true;
			break;
		}
		if (vnet_hal_time_ns() - start >= PCI_REMOVE_RESET_TIMEOUT_NS)
			break;
		vnet_hal_relax();
	}
	if (p->slots) {
		vnet_hal_pci_msix_disable(p->pdev);
		vnet_hal_free(p->slots);
	}
	if (quiet)
		vnet_hal_pci_set_bus_master(p->pdev, false);
	else
		PCI_ERR(p, "device did not reset on remove: bus mastering left on");
	pci_unmap_all(p);
	vnet_hal_free(p->q);
	vnet_hal_free(p);
}

/* ------------------------------------------------------------------ */
/* Interrupts                                                          */
/* ------------------------------------------------------------------ */

static void pci_irq_trampoline(void *arg)
{
	const struct pci_irq_slot *s = arg;
	s->p->irq_cb(s->p->irq_arg, s->entry);
}

int vnet_pci_irq_setup(struct vnet_pci *p, unsigned want_vectors, vnet_pci_vector_fn cb,
		       void *arg)
{
	if (!p || !cb || p->slots)
		return VNET_EINVAL;
	if (want_vectors > VIRTIO_PCI_MSIX_MAX_VECTORS)
		want_vectors = VIRTIO_PCI_MSIX_MAX_VECTORS;
	int n = want_vectors ? vnet_hal_pci_msix_enable(p->pdev, want_vectors) : VNET_ENOTSUP;
	if (n == VNET_ENOTSUP || n == 0) {
		if (!p->isr.va) {
			PCI_ERR(p, "neither MSI-X nor an ISR capability: no interrupt path");
			return VNET_ENOTSUP;
		}
		PCI_INFO(p, "no MSI-X: INTx with ISR status");
		return 0;
	}
	if (n < 0)
		return n;
	if ((unsigned)n > want_vectors)
		n = (int)want_vectors;

	p->slots = vnet_hal_zalloc((size_t)n * sizeof(*p->slots));
	if (!p->slots) {
		vnet_hal_pci_msix_disable(p->pdev);
		return VNET_ENOMEM;
	}
	/* The callback must be in place before the first entry is unmasked. */
	p->irq_cb = cb;
	p->irq_arg = arg;
	for (unsigned i = 0; i < (unsigned)n; i++) {
		p->slots[i].p = p;
		p->slots[i].entry = i;
		int rc = vnet_hal_pci_msix_bind(p->pdev, i, pci_irq_trampoline, &p->slots[i]);
		if (rc < 0) {
			PCI_ERR(p, "binding MSI-X entry %u failed: %s", i, vnet_strerror(rc));
			vnet_hal_pci_msix_disable(p->pdev);
			vnet_hal_free(p->slots);
			p->slots = NULL;
			return rc;
		}
	}
	p->nvec = (unsigned)n;
	return n;
}

uint8_t vnet_pci_isr(struct vnet_pci *p)
{
	if (!p || !p->isr.va)
		return 0;
	/* Spec 4.1.4.5: the read itself clears the byte and deasserts INTx. */
	return pci_rd8(p->isr.va);
}

unsigned vnet_pci_violations(const struct vnet_pci *p)
{
	return p ? p->violations : 0;
}

uint32_t vnet_pci_device_type(const struct vnet_pci *p)
{
	return p ? p->type : 0;
}

const char *vnet_pci_name(const struct vnet_pci *p)
{
	return p ? p->name : "pci";
}

/* ------------------------------------------------------------------ */
/* Transport ops                                                       */
/* ------------------------------------------------------------------ */

static int pci_get_device_features(void *ctx, uint64_t *features)
{
	struct vnet_pci *p = ctx;
	if (!features)
		return VNET_EINVAL;
	pci_wr32(CC(p, device_feature_select), 0);
	uint64_t lo = pci_rd32(CC(p, device_feature));
	pci_wr32(CC(p, device_feature_select), 1);
	uint64_t hi = pci_rd32(CC(p, device_feature));
	*features = lo | (hi << 32);
	return VNET_OK;
}

static int pci_set_driver_features(void *ctx, uint64_t features)
{
	struct vnet_pci *p = ctx;
	/* The feature-dependent common-cfg fields must exist before we
	 * agree to the features that give them meaning. */
	if (vnet_features_has(features, VIRTIO_F_NOTIF_CONFIG_DATA) &&
	    p->common.len < VIRTIO_PCI_COMMON_CFG_LEN_NOTIF_DATA) {
		PCI_ERR(p, "NOTIF_CONFIG_DATA offered but common cfg length %u lacks "
			   "queue_notif_config_data", p->common.len);
		return VNET_ERANGE;
	}
	if (vnet_features_has(features, VIRTIO_F_RING_RESET) &&
	    p->common.len < VIRTIO_PCI_COMMON_CFG_LEN_RESET) {
		PCI_ERR(p, "RING_RESET offered but common cfg length %u lacks queue_reset",
			p->common.len);
		return VNET_ERANGE;
	}
	pci_wr32(CC(p, driver_feature_select), 0);
	pci_wr32(CC(p, driver_feature), (uint32_t)features);
	pci_wr32(CC(p, driver_feature_select), 1);
	pci_wr32(CC(p, driver_feature), (uint32_t)(features >> 32));
	p->features = features;
	p->notif_data = vnet_features_has(features, VIRTIO_F_NOTIFICATION_DATA);
	p->notif_config_data = vnet_features_has(features, VIRTIO_F_NOTIF_CONFIG_DATA);
	return VNET_OK;
}

static int pci_get_status(void *ctx)
{
	struct vnet_pci *p = ctx;
	return pci_rd8(CC(p, device_status));
}

static int pci_set_status(void *ctx, uint8_t status)
{
	struct vnet_pci *p = ctx;
	pci_wr8(CC(p, device_status), status);
	if (!(status & VIRTIO_STATUS_FEATURES_OK))
		return VNET_OK;
	/* num_queues may grow once features are accepted: a device may
	 * expose only the queues its base features need until a feature
	 * that adds queues is negotiated (QEMU does), and the rest appear at
	 * FEATURES_OK.  Re-read it (still
	 * capped) and grow the per-queue state; never shrink it, so indices
	 * handed out stay valid (a queue that went away reads queue_size 0). */
	uint16_t nq = pci_rd16(CC(p, num_queues));
	if (nq > VNET_PCI_MAX_QUEUES)
		nq = VNET_PCI_MAX_QUEUES;
	if (nq > p->nq) {
		struct pci_queue *q = vnet_hal_zalloc(nq * sizeof(*q));
		if (!q)
			return VNET_ENOMEM;
		if (p->nq)
			memcpy(q, p->q, p->nq * sizeof(*q));
		vnet_hal_free(p->q);
		p->q = q;
		p->nq = nq;
	}
	PCI_INFO(p, "%u queues after feature negotiation", p->nq);
	return VNET_OK;
}

static int pci_reset(void *ctx)
{
	struct vnet_pci *p = ctx;
	/* Spec 4.1.4.3: writing 0 resets; the core waits for it to read 0.
	 * A reset returns every queue_size to its maximum and forgets any
	 * queue reset in progress. */
	pci_wr8(CC(p, device_status), 0);
	for (unsigned i = 0; i < p->nq; i++) {
		p->q[i].max_known = false;
		p->q[i].reset_started = false;
	}
	return VNET_OK;
}

static uint32_t pci_config_generation(void *ctx)
{
	struct vnet_pci *p = ctx;
	return pci_rd8(CC(p, config_generation));
}

/* Device-config accessors for vnet_config_copy(). */
static uint8_t pci_cfg_rd8(void *ctx, uint32_t off)
{
	struct vnet_pci *p = ctx;
	return pci_rd8(p->device.va + off);
}

static uint16_t pci_cfg_rd16(void *ctx, uint32_t off)
{
	struct vnet_pci *p = ctx;
	return pci_rd16(p->device.va + off);
}

static uint32_t pci_cfg_rd32(void *ctx, uint32_t off)
{
	struct vnet_pci *p = ctx;
	return pci_rd32(p->device.va + off);
}

static const struct vnet_config_reader pci_config_reader = {pci_cfg_rd8, pci_cfg_rd16, pci_cfg_rd32};

static int pci_read_config(void *ctx, uint32_t offset, void *buf, uint32_t len)
{
	struct vnet_pci *p = ctx;
	if (!buf && len)
		return VNET_EINVAL;
	if (!p->device.va || (uint64_t)offset + len > p->device.len)
		return VNET_ERANGE;
	/* Spec 4.1.3.1: natural widths (transport/config_copy.h); the
	 * structure starts 4-byte aligned (checked at probe). */
	vnet_config_copy(&pci_config_reader, p, offset, buf, len);
	return VNET_OK;
}

static uint16_t pci_num_queues(void *ctx)
{
	struct vnet_pci *p = ctx;
	return p->nq;
}

static uint16_t pci_queue_max_size(void *ctx, uint16_t index)
{
	struct vnet_pci *p = ctx;
	if (index >= p->nq)
		return 0;
	struct pci_queue *pq = &p->q[index];
	/* queue_size reads the maximum only until we write our choice, so
	 * the first read after a reset is remembered. */
	if (!pq->max_known) {
		pci_wr16(CC(p, queue_select), index);
		uint16_t v = pci_rd16(CC(p, queue_size));
		if (v > PCI_QUEUE_SIZE_MAX) {
			p->violations++;
			PCI_ERR(p, "queue %u: queue_size %u exceeds the spec maximum %u; queue refused",
				index, v, PCI_QUEUE_SIZE_MAX);
			v = 0;
		}
		pq->max_size = v;
		pq->max_known = true;
	}
	return pq->max_size;
}

static int pci_setup_queue(void *ctx, const struct vnet_queue_setup *q)
{
	struct vnet_pci *p = ctx;
	if (!q || q->index >= p->nq || q->size == 0 || q->size > PCI_QUEUE_SIZE_MAX)
		return VNET_EINVAL;
	/* Spec 4.1.5.1.2: no vector outside the MSI-X table we enabled. */
	if (q->vector != VNET_VECTOR_NONE && q->vector >= p->nvec)
		return VNET_EINVAL;
	struct pci_queue *pq = &p->q[q->index];

	pci_wr16(CC(p, queue_select), q->index);
	uint16_t en = pci_rd16(CC(p, queue_enable));
	if (en != 0) {
		/* Spec 4.1.4.3.2: fields are configured before enabling; a
		 * live queue cannot be re-programmed without a queue reset. */
		PCI_ERR(p, "queue %u: queue_enable reads %u before setup", q->index, en);
		return VNET_EBUSY;
	}

	/* Doorbell address (spec 4.1.4.4): cap.offset + queue_notify_off *
	 * notify_off_multiplier, and the 2 or 4 bytes written there must lie
	 * inside the notify structure and be naturally aligned. */
	uint32_t width = p->notif_data ? 4u : 2u;
	uint16_t noff = pci_rd16(CC(p, queue_notify_off));
	uint64_t at = (uint64_t)noff * p->notify_mult;
	if (at + width > p->notify.len) {
		p->violations++;
		PCI_ERR(p, "queue %u: queue_notify_off %u * notify_off_multiplier %u + %u is beyond "
			   "the notify capability length %u",
			q->index, noff, p->notify_mult, width, p->notify.len);
		return VNET_ERANGE;
	}
	volatile uint8_t *doorbell = p->notify.va + at;
	if ((uintptr_t)doorbell & (width - 1u)) {
		p->violations++;
		PCI_ERR(p, "queue %u: notify address bar%u+0x%llx not %u-byte aligned", q->index,
			p->notify.bar, (unsigned long long)(p->notify.offset + at), width);
		return VNET_ERANGE;
	}
	uint16_t value = q->index;
	if (p->notif_config_data)
		value = pci_rd16(CC(p, queue_notif_config_data));

	pci_wr16(CC(p, queue_size), q->size);
	pci_wr64(CC(p, queue_desc), q->desc);
	pci_wr64(CC(p, queue_driver), q->driver);
	pci_wr64(CC(p, queue_device), q->device);
	pci_wr16(CC(p, queue_msix_vector), q->vector);
	if (q->vector != VNET_VECTOR_NONE) {
		/* Spec 4.1.5.1.2.2: verify the mapping by reading it back;
		 * NO_VECTOR means the device could not allocate it. */
		uint16_t rb = pci_rd16(CC(p, queue_msix_vector));
		if (rb != q->vector) {
			if (rb != VIRTIO_MSI_NO_VECTOR)
				p->violations++;
			PCI_ERR(p, "queue %u: queue_msix_vector reads back 0x%04x after writing %u",
				q->index, rb, q->vector);
			return VNET_EIO;
		}
	}
	pq->notify = doorbell;
	pq->notify_value = value;
	/* Our size is in queue_size now; the maximum stays cached. */
	return VNET_OK;
}

static int pci_enable_queue(void *ctx, uint16_t index)
{
	struct vnet_pci *p = ctx;
	if (index >= p->nq || !p->q[index].notify)
		return VNET_EINVAL;
	pci_wr16(CC(p, queue_select), index);
	pci_wr16(CC(p, queue_enable), 1);
	p->q[index].reset_started = false;
	return VNET_OK;
}

static int pci_reset_queue(void *ctx, uint16_t index)
{
	struct vnet_pci *p = ctx;
	if (!vnet_features_has(p->features, VIRTIO_F_RING_RESET) ||
	    p->common.len < VIRTIO_PCI_COMMON_CFG_LEN_RESET)
		return VNET_ENOTSUP;
	if (index >= p->nq)
		return VNET_EINVAL;
	struct pci_queue *pq = &p->q[index];
	pci_wr16(CC(p, queue_select), index);
	if (!pq->reset_started) {
		pci_wr16(CC(p, queue_reset), 1);
		pq->reset_started = true;
	}
	/* Spec 4.1.4.3.1/.2: queue_reset reads 1 while the reset is ongoing;
	 * it is complete when queue_reset and queue_enable both read 0. */
	uint16_t r = pci_rd16(CC(p, queue_reset));
	uint16_t e = pci_rd16(CC(p, queue_enable));
	if (r > 1 || e > 1) {
		p->violations++;
		pq->reset_started = false;
		PCI_ERR(p, "queue %u: queue_reset %u / queue_enable %u during queue reset", index, r,
			e);
		return VNET_EIO;
	}
	if (r == 0 && e == 0) {
		pq->reset_started = false;
		pq->max_known = false;
		return VNET_OK;
	}
	return VNET_EAGAIN;
}

static void pci_notify(void *ctx, uint16_t index, uint32_t data)
{
	struct vnet_pci *p = ctx;
	if (index >= p->nq)
		return;
	const struct pci_queue *pq = &p->q[index];
	volatile uint8_t *a = pq->notify;
	if (!a)
		return;
	/* No barrier here: vnet_device_notify(), the only caller, issued
	 * vq_io_wmb() (ring writes before this store, §2.7.13 /
	 * §2.8.21, on weakly ordered CPUs too). */
	if (p->notif_data)
		/* Spec 4.1.5.2: 32-bit value; low 16 bits are the queue index
		 * or its NOTIF_CONFIG_DATA value. */
		pci_wr32(a, (data & 0xffff0000u) | pq->notify_value);
	else
		pci_wr16(a, pq->notify_value);
}

static int pci_set_config_vector(void *ctx, uint16_t vector)
{
	struct vnet_pci *p = ctx;
	if (vector != VNET_VECTOR_NONE && vector >= p->nvec)
		return VNET_EINVAL;
	pci_wr16(CC(p, config_msix_vector), vector);
	if (vector == VNET_VECTOR_NONE)
		return VNET_OK;
	uint16_t rb = pci_rd16(CC(p, config_msix_vector));
	if (rb != vector) {
		if (rb != VIRTIO_MSI_NO_VECTOR)
			p->violations++;
		PCI_ERR(p, "config_msix_vector reads back 0x%04x after writing %u", rb, vector);
		return VNET_EIO;
	}
	return VNET_OK;
}

static const struct vnet_transport_ops pci_ops = {
	.name = "pci",
	/* Device-independent bits a PCI transport carries (spec 6).
	 * ADMIN_VQ and SUSPEND are left out: not implemented here. */
	.transport_features = VNET_BIT(VIRTIO_F_INDIRECT_DESC) | VNET_BIT(VIRTIO_F_EVENT_IDX) |
			      VNET_BIT(VIRTIO_F_VERSION_1) | VNET_BIT(VIRTIO_F_ACCESS_PLATFORM) |
			      VNET_BIT(VIRTIO_F_RING_PACKED) | VNET_BIT(VIRTIO_F_IN_ORDER) |
			      VNET_BIT(VIRTIO_F_ORDER_PLATFORM) | VNET_BIT(VIRTIO_F_SR_IOV) |
			      VNET_BIT(VIRTIO_F_NOTIFICATION_DATA) |
			      VNET_BIT(VIRTIO_F_NOTIF_CONFIG_DATA) | VNET_BIT(VIRTIO_F_RING_RESET),
	.get_device_features = pci_get_device_features,
	.set_driver_features = pci_set_driver_features,
	.get_status = pci_get_status,
	.set_status = pci_set_status,
	.reset = pci_reset,
	.config_generation = pci_config_generation,
	.read_config = pci_read_config,
	.num_queues = pci_num_queues,
	.queue_max_size = pci_queue_max_size,
	.setup_queue = pci_setup_queue,
	.enable_queue = pci_enable_queue,
	.reset_queue = pci_reset_queue,
	.notify = pci_notify,
	.set_config_vector = pci_set_config_vector,
};

const struct vnet_transport_ops *vnet_pci_ops(void)
{
	return &pci_ops;
}
