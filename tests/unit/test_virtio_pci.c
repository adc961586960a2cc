/*
 * virtio-pci modern transport against a fake PCI function.
 *
 * The fake function is a 256-byte configuration space built per test plus
 * one 16 KiB memory BAR holding a register-level model of the virtio
 * structures (spec 4.1.4): common configuration with selector semantics
 * (device_feature_select, queue_select, read-back of MSI-X vectors, reset
 * on status 0, queue_reset), the read-to-clear ISR byte, device-specific
 * configuration bytes, and a notify area that records every doorbell.
 *
 * How register accesses reach the model: the transport source is compiled
 * into this file with VNET_PCI_TEST_MMIO, which routes its pci_rd and pci_wr
 * macros to the fk_mmio_* hooks below instead of raw volatile accesses.
 * The hooks check that every access lies inside a structure the
 * capability list declared, is naturally aligned, and has the width of
 * the field it hits; violations are counted and every test asserts zero.
 * The vnet_hal_pci_* functions (config space, BAR mapping, MSI-X) are
 * implemented here too; the rest of the HAL is platform/fake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define VNET_PCI_TEST_MMIO 1
#include "transport/pci/virtio_pci.c"

#include "core/device_priv.h"
#include "vnet/spec/virtio_net.h"
#include "fake_hal.h"
#include "vnet/device.h"

/* ------------------------------------------------------------------ */
/* Fake PCI function                                                   */
/* ------------------------------------------------------------------ */

#define FK_BAR_LEN 0x4000u
#define FK_NQ 4u
/* Default structure placement inside BAR 0. */
#define FK_COMMON 0x0000u
#define FK_ISR 0x1000u
#define FK_DEVCFG 0x2000u
#define FK_DEVCFG_LEN 0x40u
#define FK_NOTIFY 0x3000u
#define FK_NOTIFY_LEN 0x1000u
#define FK_MULT 4u

struct fk_q {
	uint16_t size, max, msix, enable, notify_off, notif_cfg_data, reset;
	unsigned reset_polls, reset_writes;
	uint32_t desc[2], drv[2], dev[2];
};

struct fk_note {
	uint32_t off;
	unsigned width;
	uint32_t val;
};

static struct fk_fn {
	uint8_t cfg[256];
	unsigned bad_cfg;                /* config accesses out of range/misaligned */
	uint8_t *bar_mem[6];
	uint64_t bar_len[6];
	int bar_err[6];                  /* bar_map result when no memory */
	unsigned maps, unmaps;
	bool bus_master;
	unsigned msix_size;              /* 0 = no MSI-X capability */
	bool msix_on;
	vnet_pci_irq_fn irq_fn[8];
	void *irq_arg[8];
	unsigned msix_disables;
} F;

static struct fk_model {
	/* where the transport may look: set from the caps the test built */
	uint32_t common_off, common_len, isr_off, dev_off, dev_len, notify_off, notify_len;
	uint32_t dfsel, drvfsel;
	uint64_t dev_features;
	uint32_t drv_features[2];
	uint16_t cfg_vec, num_queues;
	uint16_t num_queues_after_fok; /* non-zero: num_queues grows to this at FEATURES_OK (QEMU MQ) */
	uint8_t status, gen, isr;
	uint16_t qsel;
	struct fk_q q[FK_NQ];
	bool refuse_vectors;
	uint8_t status_log[32];
	unsigned nstatus;
	uint8_t devcfg[FK_DEVCFG_LEN];
	unsigned devcfg_widths[64];
	unsigned ndevcfg;
	struct fk_note notes[16];
	unsigned nnotes;
	unsigned bad_mmio;
	unsigned reset_delay;
} M;

static struct vnet_pci_dev *const fk_pdev = (struct vnet_pci_dev *)&F;

static void fk_bad(const char *what, uint32_t off, unsigned width)
{
	M.bad_mmio++;
	fprintf(stderr, "fake pci: bad MMIO %s at BAR0+0x%x width %u\n", what, off, width);
}

static void fk_model_reset(void)
{
	M.status = 0;
	M.cfg_vec = VIRTIO_MSI_NO_VECTOR;
	M.drv_features[0] = M.drv_features[1] = 0;
	for (unsigned i = 0; i < FK_NQ; i++) {
		struct fk_q *q = &M.q[i];
		q->size = q->max;
		q->msix = VIRTIO_MSI_NO_VECTOR;
		q->enable = 0;
		q->reset = 0;
		q->reset_polls = 0;
	}
}

/* Locate an access in BAR 0; returns false (and counts) if it is outside
 * the BAR or misaligned. */
static bool fk_locate(const volatile void *a, unsigned width, uint32_t *off)
{
	uintptr_t base = (uintptr_t)F.bar_mem[0];
	uintptr_t x = (uintptr_t)a;
	if (!base || x < base || x + width > base + F.bar_len[0]) {
		M.bad_mmio++;
		fprintf(stderr, "fake pci: MMIO outside BAR0 (%p width %u)\n", (const void *)a, width);
		return false;
	}
	*off = (uint32_t)(x - base);
	if (*off & (width - 1u)) {
		fk_bad("misaligned", *off, width);
		return false;
	}
	return true;
}

static bool in(uint32_t off, unsigned width, uint32_t start, uint32_t len)
{
	return off >= start && (uint64_t)off + width <= (uint64_t)start + len;
}

/* Width of the common-cfg field at byte offset o (0 if none). */
static unsigned cc_width(uint32_t o)
{
	if (o < 0x10)
		return (o & 3u) ? 0 : 4;
	if (o == 0x14 || o == 0x15)
		return 1;
	if (o >= 0x20 && o < 0x38)
		return (o & 3u) ? 0 : 4;
	if (o < 0x40)
		return (o & 1u) ? 0 : 2;
	return 0;
}

static struct fk_q *fk_selq(void)
{
	return M.qsel < FK_NQ ? &M.q[M.qsel] : NULL;
}

static void fk_queue_reset_done(struct fk_q *q)
{
	q->reset = 0;
	q->enable = 0;
	q->size = q->max;
	q->msix = VIRTIO_MSI_NO_VECTOR;
}

static uint32_t cc_read(uint32_t o)
{
	struct fk_q *q = fk_selq();
	static const struct fk_q none;
	const struct fk_q *r = q ? q : &none;
	switch (o) {
	case 0x00: return M.dfsel;
	case 0x04: return M.dfsel == 0 ? (uint32_t)M.dev_features
			  : M.dfsel == 1 ? (uint32_t)(M.dev_features >> 32) : 0;
	case 0x08: return M.drvfsel;
	case 0x0c: return M.drvfsel < 2 ? M.drv_features[M.drvfsel] : 0;
	case 0x10: return M.cfg_vec;
	case 0x12: return M.num_queues;
	case 0x14: return M.status;
	case 0x15: return M.gen;
	case 0x16: return M.qsel;
	case 0x18: return r->size;
	case 0x1a: return r->msix;
	case 0x1c: return r->enable;
	case 0x1e: return r->notify_off;
	case 0x20: return r->desc[0];
	case 0x24: return r->desc[1];
	case 0x28: return r->drv[0];
	case 0x2c: return r->drv[1];
	case 0x30: return r->dev[0];
	case 0x34: return r->dev[1];
	case 0x38: return r->notif_cfg_data;
	case 0x3a:
		if (q && q->reset) {
			if (q->reset_polls == 0) {
				fk_queue_reset_done(q);
				return 0;
			}
			q->reset_polls--;
			return 1;
		}
		return r->reset;
	default: return 0;
	}
}

static void cc_write(uint32_t o, uint32_t v)
{
	struct fk_q *q = fk_selq();
	switch (o) {
	case 0x00: M.dfsel = v; return;
	case 0x08: M.drvfsel = v; return;
	case 0x0c:
		if (M.drvfsel < 2)
			M.drv_features[M.drvfsel] = v;
		return;
	case 0x10:
		M.cfg_vec = M.refuse_vectors && v != VIRTIO_MSI_NO_VECTOR ? VIRTIO_MSI_NO_VECTOR
									  : (uint16_t)v;
		return;
	case 0x14:
		if (M.nstatus < sizeof(M.status_log))
			M.status_log[M.nstatus++] = (uint8_t)v;
		if (v == 0)
			fk_model_reset();
		else
			M.status = (uint8_t)v;
		if ((v & VIRTIO_STATUS_FEATURES_OK) && M.num_queues_after_fok)
			M.num_queues = M.num_queues_after_fok;
		return;
	case 0x16: M.qsel = (uint16_t)v; return;
	default: break;
	}
	if (!q)
		return;   /* writes to a non-existent queue are dropped */
	switch (o) {
	case 0x18: q->size = (uint16_t)v; return;
	case 0x1a:
		q->msix = M.refuse_vectors && v != VIRTIO_MSI_NO_VECTOR ? VIRTIO_MSI_NO_VECTOR
									: (uint16_t)v;
		return;
	case 0x1c:
		if (v != 1)
			fk_bad("queue_enable != 1", o, 2);
		q->enable = (uint16_t)v;
		return;
	case 0x20: q->desc[0] = v; return;
	case 0x24: q->desc[1] = v; return;
	case 0x28: q->drv[0] = v; return;
	case 0x2c: q->drv[1] = v; return;
	case 0x30: q->dev[0] = v; return;
	case 0x34: q->dev[1] = v; return;
	case 0x3a:
		if (v == 1) {
			q->reset_writes++;
			q->reset = 1;
			q->reset_polls = M.reset_delay;
		}
		return;
	default:
		fk_bad("write to a read-only common cfg field", o, 0);
		return;
	}
}

static uint32_t fk_read(const volatile void *a, unsigned width)
{
	uint32_t off;
	if (!fk_locate(a, width, &off))
		return 0;
	if (in(off, width, M.common_off, M.common_len)) {
		uint32_t o = off - M.common_off;
		if (cc_width(o) != width) {
			fk_bad("common cfg field width", off, width);
			return 0;
		}
		return cc_read(o);
	}
	if (in(off, width, M.isr_off, 1)) {
		uint8_t v = M.isr;
		M.isr = 0;   /* read-to-clear */
		return v;
	}
	if (in(off, width, M.dev_off, M.dev_len)) {
		uint32_t o = off - M.dev_off, v = 0;
		if (M.ndevcfg < 64)
			M.devcfg_widths[M.ndevcfg++] = width;
		for (unsigned i = 0; i < width; i++)
			v |= (uint32_t)(o + i < sizeof(M.devcfg) ? M.devcfg[o + i] : 0) << (8 * i);
		return v;
	}
	fk_bad("read outside declared structures", off, width);
	return 0;
}

static void fk_write(volatile void *a, unsigned width, uint32_t v)
{
	uint32_t off;
	if (!fk_locate(a, width, &off))
		return;
	if (in(off, width, M.common_off, M.common_len)) {
		uint32_t o = off - M.common_off;
		if (cc_width(o) != width) {
			fk_bad("common cfg field width", off, width);
			return;
		}
		cc_write(o, v);
		return;
	}
	if (in(off, width, M.notify_off, M.notify_len)) {
		if (M.nnotes < 16)
			M.notes[M.nnotes++] = (struct fk_note){off - M.notify_off, width, v};
		return;
	}
	fk_bad("write outside common/notify", off, width);
}

uint8_t vnet_pci_test_rd8(const volatile void *a) { return (uint8_t)fk_read(a, 1); }
uint16_t vnet_pci_test_rd16(const volatile void *a) { return (uint16_t)fk_read(a, 2); }
uint32_t vnet_pci_test_rd32(const volatile void *a) { return fk_read(a, 4); }
void vnet_pci_test_wr8(volatile void *a, uint8_t v) { fk_write(a, 1, v); }
void vnet_pci_test_wr16(volatile void *a, uint16_t v) { fk_write(a, 2, v); }
void vnet_pci_test_wr32(volatile void *a, uint32_t v) { fk_write(a, 4, v); }

/* ---- the vnet_hal_pci.h contract ---- */

struct vnet_pci_dev *vnet_hal_pci_dev_get(unsigned n)
{
	return n == 0 ? fk_pdev : NULL;
}

static uint16_t cfg16(unsigned off)
{
	return (uint16_t)(F.cfg[off] | F.cfg[off + 1] << 8);
}

void vnet_hal_pci_dev_info(const struct vnet_pci_dev *dev, struct vnet_pci_info *out)
{
	assert_ptr_equal(dev, fk_pdev);
	memset(out, 0, sizeof(*out));
	out->vendor_id = cfg16(0x00);
	out->device_id = cfg16(0x02);
	out->subsys_vendor_id = cfg16(0x2c);
	out->subsys_id = cfg16(0x2e);
	out->dev = 3;
	memcpy(out->name, "00:03.0", 8);
}

static bool cfg_ok(unsigned off, unsigned width)
{
	if (off + width > 256 || (off & (width - 1u))) {
		F.bad_cfg++;
		fprintf(stderr, "fake pci: bad config access 0x%x width %u\n", off, width);
		return false;
	}
	return true;
}

uint8_t vnet_hal_pci_cfg_read8(struct vnet_pci_dev *dev, unsigned off)
{
	(void)dev;
	return cfg_ok(off, 1) ? F.cfg[off] : 0xff;
}

uint16_t vnet_hal_pci_cfg_read16(struct vnet_pci_dev *dev, unsigned off)
{
	(void)dev;
	return cfg_ok(off, 2) ? cfg16(off) : 0xffff;
}

uint32_t vnet_hal_pci_cfg_read32(struct vnet_pci_dev *dev, unsigned off)
{
	(void)dev;
	return cfg_ok(off, 4) ? (uint32_t)cfg16(off) | (uint32_t)cfg16(off + 2) << 16 : 0xffffffffu;
}

/* The transport must never write config space (spec 4.1.4.1: the
 * capabilities are read-only for the driver). */
void vnet_hal_pci_cfg_write8(struct vnet_pci_dev *dev, unsigned off, uint8_t v)
{
	(void)dev, (void)off, (void)v;
	F.bad_cfg++;
}

void vnet_hal_pci_cfg_write16(struct vnet_pci_dev *dev, unsigned off, uint16_t v)
{
	(void)dev, (void)off, (void)v;
	F.bad_cfg++;
}

void vnet_hal_pci_cfg_write32(struct vnet_pci_dev *dev, unsigned off, uint32_t v)
{
	(void)dev, (void)off, (void)v;
	F.bad_cfg++;
}

int vnet_hal_pci_bar_map(struct vnet_pci_dev *dev, unsigned bar, volatile void **va, uint64_t *len)
{
	(void)dev;
	if (bar > 5)
		return VNET_EINVAL;
	if (!F.bar_mem[bar])
		return F.bar_err[bar] ? F.bar_err[bar] : VNET_ENODEV;
	F.maps++;
	*va = F.bar_mem[bar];
	*len = F.bar_len[bar];
	return VNET_OK;
}

void vnet_hal_pci_bar_unmap(struct vnet_pci_dev *dev, unsigned bar)
{
	(void)dev;
	assert_true(bar <= 5 && F.bar_mem[bar]);
	F.unmaps++;
}

void vnet_hal_pci_set_bus_master(struct vnet_pci_dev *dev, bool on)
{
	(void)dev;
	F.bus_master = on;
}

int vnet_hal_pci_msix_enable(struct vnet_pci_dev *dev, unsigned nvec)
{
	(void)dev;
	if (!F.msix_size)
		return VNET_ENOTSUP;
	assert_false(F.msix_on);
	F.msix_on = true;
	return (int)(nvec < F.msix_size ? nvec : F.msix_size);
}

int vnet_hal_pci_msix_bind(struct vnet_pci_dev *dev, unsigned entry, vnet_pci_irq_fn fn, void *arg)
{
	(void)dev;
	if (!F.msix_on || entry >= F.msix_size || entry >= 8 || !fn)
		return VNET_EINVAL;
	F.irq_fn[entry] = fn;
	F.irq_arg[entry] = arg;
	return VNET_OK;
}

void vnet_hal_pci_msix_mask(struct vnet_pci_dev *dev, unsigned entry, bool masked)
{
	(void)dev, (void)entry, (void)masked;
}

void vnet_hal_pci_msix_disable(struct vnet_pci_dev *dev)
{
	(void)dev;
	F.msix_on = false;
	memset(F.irq_fn, 0, sizeof(F.irq_fn));
	F.msix_disables++;
}

/* ---- configuration-space builder ---- */

static void put16(unsigned off, uint16_t v)
{
	F.cfg[off] = (uint8_t)v;
	F.cfg[off + 1] = (uint8_t)(v >> 8);
}

static void put32(unsigned off, uint32_t v)
{
	put16(off, (uint16_t)v);
	put16(off + 2, (uint16_t)(v >> 16));
}

/* A virtio vendor capability at pos. */
static void cap_put(unsigned pos, unsigned next, unsigned type, unsigned bar, uint32_t off,
		    uint32_t len)
{
	F.cfg[pos] = VIRTIO_PCI_CAP_ID_VNDR;
	F.cfg[pos + 1] = (uint8_t)next;
	F.cfg[pos + 2] = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? 20 : 16;
	F.cfg[pos + 3] = (uint8_t)type;
	F.cfg[pos + 4] = (uint8_t)bar;
	put32(pos + 8, off);
	put32(pos + 12, len);
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		put32(pos + 16, FK_MULT);
}

/* Capability positions of the default list. */
#define CAP_COMMON 0x40u
#define CAP_NOTIFY 0x50u
#define CAP_ISR 0x64u
#define CAP_DEVICE 0x74u
#define CAP_MSIX 0x84u

#define V1 VNET_BIT(VIRTIO_F_VERSION_1)
#define NETF(x) VNET_BIT(VIRTIO_NET_F_##x)

/* A well-formed modern virtio-net function (1af4:1041). */
static void fk_build(void)
{
	for (unsigned b = 0; b < 6; b++)
		free(F.bar_mem[b]);
	memset(&F, 0, sizeof(F));
	memset(&M, 0, sizeof(M));
	put16(0x00, 0x1af4);
	put16(0x02, 0x1041);
	put16(0x06, VIRTIO_PCI_STATUS_CAP_LIST);
	F.cfg[0x08] = 1;   /* revision */
	put16(0x2c, 0x1af4);
	put16(0x2e, 0x0040);
	F.cfg[0x34] = CAP_COMMON;
	cap_put(CAP_COMMON, CAP_NOTIFY, VIRTIO_PCI_CAP_COMMON_CFG, 0, FK_COMMON, 0x40);
	cap_put(CAP_NOTIFY, CAP_ISR, VIRTIO_PCI_CAP_NOTIFY_CFG, 0, FK_NOTIFY, FK_NOTIFY_LEN);
	cap_put(CAP_ISR, CAP_DEVICE, VIRTIO_PCI_CAP_ISR_CFG, 0, FK_ISR, 1);
	cap_put(CAP_DEVICE, CAP_MSIX, VIRTIO_PCI_CAP_DEVICE_CFG, 0, FK_DEVCFG, FK_DEVCFG_LEN);
	/* A non-vendor capability (MSI-X, id 0x11) ends the list. */
	F.cfg[CAP_MSIX] = 0x11;
	F.cfg[CAP_MSIX + 1] = 0;

	F.bar_mem[0] = calloc(1, FK_BAR_LEN);
	F.bar_len[0] = FK_BAR_LEN;

	M.common_off = FK_COMMON;
	M.common_len = 0x40;
	M.isr_off = FK_ISR;
	M.dev_off = FK_DEVCFG;
	M.dev_len = FK_DEVCFG_LEN;
	M.notify_off = FK_NOTIFY;
	M.notify_len = FK_NOTIFY_LEN;
	M.dev_features = V1 | NETF(MAC) | NETF(STATUS) | VNET_BIT(VIRTIO_F_EVENT_IDX);
	M.num_queues = 3;
	for (unsigned i = 0; i < FK_NQ; i++) {
		M.q[i].max = 256;
		M.q[i].notify_off = (uint16_t)i;
		M.q[i].notif_cfg_data = (uint16_t)(0x70 + i);
	}
	fk_model_reset();
	for (unsigned i = 0; i < FK_DEVCFG_LEN; i++)
		M.devcfg[i] = (uint8_t)(0xa0 + i);
}

/* Private allocations live before the test: a test that fails midway
 * leaks its struct vnet_pci, which must not fail every later test too. */
static size_t priv_before;

static int setup(void **state)
{
	(void)state;
	fk_build();
	priv_before = fake_hal_live_private();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unsigned bad_mmio = M.bad_mmio, bad_cfg = F.bad_cfg, maps = F.maps, unmaps = F.unmaps;
	for (unsigned b = 0; b < 6; b++) {
		free(F.bar_mem[b]);
		F.bar_mem[b] = NULL;
	}
	M.bad_mmio = F.bad_cfg = 0;
	/* Nothing out of bounds, ever; nothing leaked; every map undone. */
	assert_int_equal(bad_mmio, 0);
	assert_int_equal(bad_cfg, 0);
	assert_int_equal(maps, unmaps);
	assert_int_equal(fake_hal_live_private(), priv_before);
	return 0;
}

static struct vnet_pci *probe_ok(void)
{
	struct vnet_pci *p = NULL;
	assert_int_equal(vnet_pci_probe(fk_pdev, &p), VNET_OK);
	assert_non_null(p);
	return p;
}

static void probe_fails(int want_rc, const char *log_needle)
{
	struct vnet_pci *p = (struct vnet_pci *)(uintptr_t)1;
	int rc = vnet_pci_probe(fk_pdev, &p);
	if (rc != want_rc)
		fail_msg("probe returned %d (%s), expected %d; last log: %s", rc, vnet_strerror(rc),
			 want_rc, fake_hal_last_log());
	assert_null(p);
	if (log_needle && !strstr(fake_hal_last_log(), log_needle))
		fail_msg("log \"%s\" does not mention \"%s\"", fake_hal_last_log(), log_needle);
	assert_false(F.bus_master);
}

/* ------------------------------------------------------------------ */
/* Well-formed device: probe and ops                                   */
/* ------------------------------------------------------------------ */

static void test_probe_and_basic_ops(void **state)
{
	(void)state;
	struct vnet_pci *p = probe_ok();
	const struct vnet_transport_ops *ops = vnet_pci_ops();
	assert_string_equal(vnet_pci_name(p), "pci 00:03.0");
	assert_true(F.bus_master);
	assert_int_equal(ops->num_queues(p), 3);

	/* Both feature halves through the selector. */
	uint64_t f = 0;
	M.dev_features |= VNET_BIT(VIRTIO_F_RING_PACKED);
	assert_int_equal(ops->get_device_features(p, &f), VNET_OK);
	assert_true(f == M.dev_features);
	assert_int_equal(ops->set_driver_features(p, V1 | NETF(MAC) | VNET_BIT(VIRTIO_F_EVENT_IDX)),
			 VNET_OK);
	assert_int_equal(M.drv_features[0], (uint32_t)(NETF(MAC) | VNET_BIT(VIRTIO_F_EVENT_IDX)));
	assert_int_equal(M.drv_features[1], 1u);   /* VERSION_1 is bit 32 */

	/* Status byte, reset, generation. */
	assert_int_equal(ops->set_status(p, 0x03), VNET_OK);
	assert_int_equal(ops->get_status(p), 0x03);
	assert_int_equal(ops->reset(p), VNET_OK);
	assert_int_equal(ops->get_status(p), 0);
	M.gen = 7;
	assert_int_equal(ops->config_generation(p), 7);

	/* Transport feature mask: the PCI-carried bits, never ADMIN_VQ. */
	assert_true(ops->transport_features & VNET_BIT(VIRTIO_F_RING_RESET));
	assert_true(ops->transport_features & VNET_BIT(VIRTIO_F_NOTIFICATION_DATA));
	assert_false(ops->transport_features & VNET_BIT(VIRTIO_F_ADMIN_VQ));

	vnet_pci_remove(p);
	assert_false(F.bus_master);
	assert_int_equal(M.status_log[M.nstatus - 1], 0);
}

static void test_read_config_widths_and_bounds(void **state)
{
	(void)state;
	struct vnet_pci *p = probe_ok();
	const struct vnet_transport_ops *ops = vnet_pci_ops();
	uint8_t buf[16];

	/* 6 bytes at 0 (a MAC): one 32-bit then one 16-bit access. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(ops->read_config(p, 0, buf, 6), VNET_OK);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(buf[i], 0xa0 + i);
	assert_int_equal(M.ndevcfg, 2);
	assert_int_equal(M.devcfg_widths[0], 4);
	assert_int_equal(M.devcfg_widths[1], 2);

	/* 3 bytes at 1: a byte then an aligned 16-bit access. */
	M.ndevcfg = 0;
	assert_int_equal(ops->read_config(p, 1, buf, 3), VNET_OK);
	assert_memory_equal(buf, ((uint8_t[]){0xa1, 0xa2, 0xa3}), 3);
	assert_int_equal(M.ndevcfg, 2);
	assert_int_equal(M.devcfg_widths[0], 1);
	assert_int_equal(M.devcfg_widths[1], 2);

	/* The last byte is readable, one past it is not. */
	assert_int_equal(ops->read_config(p, FK_DEVCFG_LEN - 1, buf, 1), VNET_OK);
	assert_int_equal(buf[0], 0xa0 + FK_DEVCFG_LEN - 1);
	M.ndevcfg = 0;
	assert_int_equal(ops->read_config(p, FK_DEVCFG_LEN - 4, buf, 8), VNET_ERANGE);
	assert_int_equal(ops->read_config(p, 0xffffffffu, buf, 2), VNET_ERANGE);
	assert_int_equal(M.ndevcfg, 0);   /* refused before any access */
	vnet_pci_remove(p);
}

static void test_read_config_without_device_cap(void **state)
{
	(void)state;
	F.cfg[CAP_ISR + 1] = CAP_MSIX;   /* unlink the device cfg capability */
	struct vnet_pci *p = probe_ok();
	uint8_t b[4];
	assert_int_equal(vnet_pci_ops()->read_config(p, 0, b, 4), VNET_ERANGE);
	vnet_pci_remove(p);
}

static struct vnet_queue_setup qset(uint16_t index, uint16_t size, uint16_t vector)
{
	struct vnet_queue_setup q = {
		.index = index,
		.size = size,
		.desc = 0x1122334455667000ull + index,
		.driver = 0x00000001aabb0000ull + index,
		.device = 0xfedcba9876540000ull + index,
		.vector = vector,
	};
	return q;
}

static void test_queue_setup_and_notify(void **state)
{
	(void)state;
	struct vnet_pci *p = probe_ok();
	const struct vnet_transport_ops *ops = vnet_pci_ops();

	assert_int_equal(ops->queue_max_size(p, 1), 256);
	assert_int_equal(ops->queue_max_size(p, 3), 0);   /* beyond num_queues */
	struct vnet_queue_setup q = qset(1, 128, VNET_VECTOR_NONE);
	assert_int_equal(ops->setup_queue(p, &q), VNET_OK);
	const struct fk_q *mq = &M.q[1];
	assert_int_equal(mq->size, 128);
	assert_int_equal(mq->desc[0], (uint32_t)q.desc);
	assert_int_equal(mq->desc[1], (uint32_t)(q.desc >> 32));
	assert_int_equal(mq->drv[0], (uint32_t)q.driver);
	assert_int_equal(mq->drv[1], (uint32_t)(q.driver >> 32));
	assert_int_equal(mq->dev[0], (uint32_t)q.device);
	assert_int_equal(mq->dev[1], (uint32_t)(q.device >> 32));
	assert_int_equal(mq->enable, 0);   /* setup does not enable */
	/* After our write, queue_size holds our size; the max is remembered. */
	assert_int_equal(ops->queue_max_size(p, 1), 256);
	assert_int_equal(ops->enable_queue(p, 1), VNET_OK);
	assert_int_equal(mq->enable, 1);

	/* Doorbell: 16-bit queue index at notify + queue_notify_off * mult. */
	ops->notify(p, 1, 0xabcd0001u);
	assert_int_equal(M.nnotes, 1);
	assert_int_equal(M.notes[0].off, 1 * FK_MULT);
	assert_int_equal(M.notes[0].width, 2);
	assert_int_equal(M.notes[0].val, 1);
	/* A queue never set up, or past num_queues: no doorbell. */
	ops->notify(p, 0, 0);
	ops->notify(p, 200, 0);
	assert_int_equal(M.nnotes, 1);

	/* Re-programming a live queue is refused. */
	assert_int_equal(ops->setup_queue(p, &q), VNET_EBUSY);
	/* Index past num_queues, size 0, size > 32768. */
	q = qset(3, 64, VNET_VECTOR_NONE);
	assert_int_equal(ops->setup_queue(p, &q), VNET_EINVAL);
	q = qset(0, 0, VNET_VECTOR_NONE);
	assert_int_equal(ops->setup_queue(p, &q), VNET_EINVAL);
	/* A vector without MSI-X enabled is refused before touching the device. */
	q = qset(0, 64, 0);
	assert_int_equal(ops->setup_queue(p, &q), VNET_EINVAL);
	vnet_pci_remove(p);
}

static void test_notification_data(void **state)
{
	(void)state;
	struct vnet_pci *p = probe_ok();
	const struct vnet_transport_ops *ops = vnet_pci_ops();
	M.dev_features |= VNET_BIT(VIRTIO_F_NOTIFICATION_DATA);
	assert_int_equal(ops->set_driver_features(p, V1 | VNET_BIT(VIRTIO_F_NOTIFICATION_DATA)),
			 VNET_OK);
	struct vnet_queue_setup q = qset(2, 64, VNET_VECTOR_NONE);
	assert_int_equal(ops->setup_queue(p, &q), VNET_OK);
	ops->notify(p, 2, 0x80050002u);
	assert_int_equal(M.nnotes, 1);
	assert_int_equal(M.notes[0].off, 2 * FK_MULT);
	assert_int_equal(M.notes[0].width, 4);
	assert_int_equal(M.notes[0].val, 0x80050002u);
	vnet_pci_remove(p);
}

static void test_notif_config_data(void **state)
{
	(void)state;
	struct vnet_pci *p = probe_ok();
	const struct vnet_transport_ops *ops = vnet_pci_ops();
	/* Without NOTIFICATION_DATA: 16-bit queue_notif_config_data. */
	assert_int_equal(ops->set_driver_features(p, V1 | VNET_BIT(VIRTIO_F_NOTIF_CONFIG_DATA)),
			 VNET_OK);
	struct vnet_queue_setup q = qset(1, 64, VNET_VECTOR_NONE);
	assert_int_equal(ops->setup_queue(p, &q), VNET_OK);
	ops->notify(p, 1, 0x12340001u);
	assert_int_equal(M.notes[0].width, 2);
	assert_int_equal(M.notes[0].val, 0x71);
	/* With NOTIFICATION_DATA: it replaces the index in the low 16 bits. */
	assert_int_equal(ops->reset(p), VNET_OK);
	assert_int_equal(ops->set_driver_features(p, V1 | VNET_BIT(VIRTIO_F_NOTIF_CONFIG_DATA) |
							 VNET_BIT(VIRTIO_F_NOTIFICATION_DATA)),
			 VNET_OK);
	assert_int_equal(ops->setup_queue(p, &q), VNET_OK);
	ops->notify(p, 1, 0x12340001u);
	assert_int_equal(M.notes[1].width, 4);
	assert_int_equal(M.notes[1].val, 0x12340071u);
	vnet_pci_remove(p);
}

static void test_short_common_cfg_refuses_late_features(void **state)
{
	(void)state;
	/* A virtio 1.0-sized common cfg (0x38 bytes) has no queue_reset. */
	put32(CAP_COMMON + 12, 0x38);
	M.common_len = 0x38;
	struct vnet_pci *p = probe_ok();
	const struct vnet_transport_ops *ops = vnet_pci_ops();
	assert_int_equal(ops->set_driver_features(p, V1 | VNET_BIT(VIRTIO_F_RING_RESET)),
			 VNET_ERANGE);
	assert_int_equal(ops->set_driver_features(p, V1 | VNET_BIT(VIRTIO_F_NOTIF_CONFIG_DATA)),
			 VNET_ERANGE);
	assert_int_equal(ops->set_driver_features(p, V1), VNET_OK);
	assert_int_equal(ops->reset_queue(p, 0), VNET_ENOTSUP);
	vnet_pci_remove(p);
}

static void test_notify_offset_beyond_cap(void **state)
{
	(void)state;
	/* Notify area of 0xffe bytes: the last 2-byte doorbell is at 0xffc. */
	put32(CAP_NOTIFY + 12, 0xffe);
	M.notify_len = 0xffe;
	M.q[2].notify_off = 0x400;   /* 0x400 * 4 + 2 > 0xffe */
	struct vnet_pci *p = probe_ok();
	const struct vnet_transport_ops *ops = vnet_pci_ops();
	struct vnet_queue_setup q = qset(2, 64, VNET_VECTOR_NONE);
	assert_int_equal(ops->setup_queue(p, &q), VNET_ERANGE);
	assert_non_null(strstr(fake_hal_last_log(), "queue_notify_off"));
	assert_int_equal(vnet_pci_violations(p), 1);
	ops->notify(p, 2, 0);   /* never set up: nothing written */
	assert_int_equal(M.nnotes, 0);
	/* The last legal slot works: 0x3ff * 4 + 2 <= 0xffe. */
	M.q[2].notify_off = 0x3ff;
	assert_int_equal(ops->setup_queue(p, &q), VNET_OK);
	ops->notify(p, 2, 0);
	assert_int_equal(M.nnotes, 1);
	assert_int_equal(M.notes[0].off, 0x3ff * 4);
	/* ...but not for a 4-byte NOTIFICATION_DATA doorbell: 0xffc + 4 > 0xffe. */
	assert_int_equal(ops->set_driver_features(p, V1 | VNET_BIT(VIRTIO_F_NOTIFICATION_DATA)),
			 VNET_OK);
	M.q[1].notify_off = 0x3ff;
	q = qset(1, 64, VNET_VECTOR_NONE);
	assert_int_equal(ops->setup_queue(p, &q), VNET_ERANGE);
	assert_int_equal(vnet_pci_violations(p), 2);
	vnet_pci_remove(p);
}

static void test_notify_multiplier_zero(void **state)
{
	(void)state;
	put32(CAP_NOTIFY + 16, 0);   /* all queues share one doorbell */
	put32(CAP_NOTIFY + 12, 2);
	M.q[0].notify_off = 0x1234;
	M.q[1].notify_off = 7;
	struct vnet_pci *p = probe_ok();
	const struct vnet_transport_ops *ops = vnet_pci_ops();
	struct vnet_queue_setup q0 = qset(0, 64, VNET_VECTOR_NONE), q1 = qset(1, 64, VNET_VECTOR_NONE);
	assert_int_equal(ops->setup_queue(p, &q0), VNET_OK);
	assert_int_equal(ops->setup_queue(p, &q1), VNET_OK);
	ops->notify(p, 0, 0);
	ops->notify(p, 1, 0);
	assert_int_equal(M.nnotes, 2);
	assert_int_equal(M.notes[0].off, 0);
	assert_int_equal(M.notes[1].off, 0);
	assert_int_equal(M.notes[0].val, 0);
	assert_int_equal(M.notes[1].val, 1);
	vnet_pci_remove(p);
}

static void test_queue_max_size_hostile(void **state)
{
	(void)state;
	M.q[0].max = 32769;
	M.q[1].max = 32768;
	fk_model_reset();
	struct vnet_pci *p = probe_ok();
	const struct vnet_transport_ops *ops = vnet_pci_ops();
	assert_int_equal(ops->queue_max_size(p, 0), 0);
	assert_non_null(strstr(fake_hal_last_log(), "queue_size 32769"));
	assert_int_equal(vnet_pci_violations(p), 1);
	assert_int_equal(ops->queue_max_size(p, 1), 32768);
	vnet_pci_remove(p);
}

static void test_num_queues_capped(void **state)
{
	(void)state;
	M.num_queues = 0xffff;
	struct vnet_pci *p = probe_ok();
	assert_int_equal(vnet_pci_ops()->num_queues(p), VNET_PCI_MAX_QUEUES);
	/* Queues past the cap do not exist for the core. */
	assert_int_equal(vnet_pci_ops()->queue_max_size(p, VNET_PCI_MAX_QUEUES), 0);
	vnet_pci_remove(p);
}

/* QEMU's virtio-net adds its extra queue pairs only once MQ is accepted:
 * num_queues grows at FEATURES_OK, and the queues past the probe-time
 * count must become usable (they are refused before). */
static void test_num_queues_grows_at_features_ok(void **state)
{
	(void)state;
	M.num_queues_after_fok = FK_NQ;
	struct vnet_pci *p = probe_ok();
	const struct vnet_transport_ops *ops = vnet_pci_ops();
	assert_int_equal(ops->num_queues(p), 3);
	assert_int_equal(ops->queue_max_size(p, 3), 0);
	assert_int_equal(ops->set_status(p, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER), VNET_OK);
	assert_int_equal(ops->num_queues(p), 3);
	assert_int_equal(ops->set_status(p, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	                                        VIRTIO_STATUS_FEATURES_OK), VNET_OK);
	assert_int_equal(ops->num_queues(p), FK_NQ);
	assert_int_equal(ops->queue_max_size(p, 3), 256);
	struct vnet_queue_setup q = qset(3, 64, VNET_VECTOR_NONE);
	assert_int_equal(ops->setup_queue(p, &q), VNET_OK);
	assert_int_equal(M.q[3].size, 64);
	vnet_pci_remove(p);
}

/* ------------------------------------------------------------------ */
/* Interrupts                                                          */
/* ------------------------------------------------------------------ */

static unsigned irq_hits[8];
static void *irq_seen_arg;

static void irq_cb(void *arg, unsigned entry)
{
	irq_seen_arg = arg;
	if (entry < 8)
		irq_hits[entry]++;
}

static void test_msix_vectors(void **state)
{
	(void)state;
	F.msix_size = 4;
	struct vnet_pci *p = probe_ok();
	const struct vnet_transport_ops *ops = vnet_pci_ops();
	int cookie;
	memset(irq_hits, 0, sizeof(irq_hits));
	assert_int_equal(vnet_pci_irq_setup(p, 3, irq_cb, &cookie), 3);
	assert_int_equal(vnet_pci_irq_setup(p, 3, irq_cb, &cookie), VNET_EINVAL);   /* twice */
	/* Each bound entry reaches the callback with its own number. */
	assert_non_null(F.irq_fn[2]);
	assert_null(F.irq_fn[3]);
	F.irq_fn[2](F.irq_arg[2]);
	F.irq_fn[0](F.irq_arg[0]);
	assert_int_equal(irq_hits[2], 1);
	assert_int_equal(irq_hits[0], 1);
	assert_ptr_equal(irq_seen_arg, &cookie);

	struct vnet_queue_setup q = qset(0, 64, 1);
	assert_int_equal(ops->setup_queue(p, &q), VNET_OK);
	assert_int_equal(M.q[0].msix, 1);
	q = qset(1, 64, 3);   /* entry 3 was not granted */
	assert_int_equal(ops->setup_queue(p, &q), VNET_EINVAL);
	assert_int_equal(ops->set_config_vector(p, 2), VNET_OK);
	assert_int_equal(M.cfg_vec, 2);
	assert_int_equal(ops->set_config_vector(p, 3), VNET_EINVAL);

	/* The device cannot map vectors: read-back NO_VECTOR -> VNET_EIO. */
	M.refuse_vectors = true;
	q = qset(1, 64, 0);
	assert_int_equal(ops->setup_queue(p, &q), VNET_EIO);
	assert_non_null(strstr(fake_hal_last_log(), "queue_msix_vector"));
	assert_int_equal(ops->set_config_vector(p, 0), VNET_EIO);
	assert_int_equal(ops->set_config_vector(p, VNET_VECTOR_NONE), VNET_OK);
	/* NO_VECTOR read-back is the device's right, not a violation. */
	assert_int_equal(vnet_pci_violations(p), 0);

	vnet_pci_remove(p);
	assert_int_equal(F.msix_disables, 1);
	assert_false(F.msix_on);
}

static void test_intx_isr(void **state)
{
	(void)state;
	F.msix_size = 0;   /* QEMU vectors=0 */
	struct vnet_pci *p = probe_ok();
	assert_int_equal(vnet_pci_irq_setup(p, 3, irq_cb, NULL), 0);
	M.isr = VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG;
	assert_int_equal(vnet_pci_isr(p), 3);
	assert_int_equal(vnet_pci_isr(p), 0);   /* read-to-clear */
	struct vnet_queue_setup q = qset(0, 64, 0);
	assert_int_equal(vnet_pci_ops()->setup_queue(p, &q), VNET_EINVAL);
	vnet_pci_remove(p);
	assert_int_equal(F.msix_disables, 0);
}

static void test_no_msix_no_isr(void **state)
{
	(void)state;
	F.cfg[CAP_NOTIFY + 1] = CAP_DEVICE;   /* unlink ISR */
	struct vnet_pci *p = probe_ok();
	assert_int_equal(vnet_pci_irq_setup(p, 2, irq_cb, NULL), VNET_ENOTSUP);
	assert_int_equal(vnet_pci_isr(p), 0);
	vnet_pci_remove(p);
}

/* ------------------------------------------------------------------ */
/* Queue reset (spec 4.1.4.3: queue_reset reads 1 while ongoing, 0 done) */
/* ------------------------------------------------------------------ */

static void test_queue_reset(void **state)
{
	(void)state;
	struct vnet_pci *p = probe_ok();
	const struct vnet_transport_ops *ops = vnet_pci_ops();
	assert_int_equal(ops->reset_queue(p, 0), VNET_ENOTSUP);   /* not negotiated */
	assert_int_equal(ops->set_driver_features(p, V1 | VNET_BIT(VIRTIO_F_RING_RESET)), VNET_OK);
	struct vnet_queue_setup q = qset(0, 64, VNET_VECTOR_NONE);
	assert_int_equal(ops->setup_queue(p, &q), VNET_OK);
	assert_int_equal(ops->enable_queue(p, 0), VNET_OK);

	M.reset_delay = 2;
	assert_int_equal(ops->reset_queue(p, 0), VNET_EAGAIN);
	assert_int_equal(ops->reset_queue(p, 0), VNET_EAGAIN);
	assert_int_equal(ops->reset_queue(p, 0), VNET_OK);
	assert_int_equal(M.q[0].reset_writes, 1);   /* polling never re-triggers */
	assert_int_equal(M.q[0].enable, 0);
	/* Set up again with different values and enable. */
	q = qset(0, 32, VNET_VECTOR_NONE);
	assert_int_equal(ops->setup_queue(p, &q), VNET_OK);
	assert_int_equal(M.q[0].size, 32);
	assert_int_equal(ops->enable_queue(p, 0), VNET_OK);
	assert_int_equal(ops->reset_queue(p, 7), VNET_EINVAL);
	vnet_pci_remove(p);
}

/* ------------------------------------------------------------------ */
/* Identification and legacy-only devices                              */
/* ------------------------------------------------------------------ */

static void test_identification(void **state)
{
	(void)state;
	/* Another vendor: refused without a word (hosts probe every function). */
	put16(0x00, 0x8086);
	unsigned long logs = fake_hal_log_count();
	probe_fails(VNET_ENODEV, NULL);
	assert_int_equal(fake_hal_log_count(), logs);
	put16(0x00, 0x1af4);
	/* A 0x1af4 id outside 0x1000..0x107f (QEMU's ivshmem is 1af4:1110). */
	put16(0x02, 0x1110);
	probe_fails(VNET_ENODEV, "1af4:1110 (subsystem 0040) is not a virtio device: outside the virtio range");
	put16(0x02, 0x0fff);
	probe_fails(VNET_ENODEV, "outside the virtio range 0x1000..0x107f");
	put16(0x02, 0x1080);
	probe_fails(VNET_ENODEV, "outside the virtio range 0x1000..0x107f");
	/* In range but naming no device type. */
	put16(0x02, 0x1040);
	probe_fails(VNET_EPROTO, "device type 0, which is reserved");
	put16(0x02, 0x1000);
	put16(0x2e, 0);
	probe_fails(VNET_EPROTO, "subsystem device id 0");
	put16(0x2e, 0x40);
	probe_fails(VNET_EPROTO, "subsystem device id above 0x3f");
	assert_int_equal(F.maps, 0);   /* refused before any BAR was touched */

	/* Transitional net with modern caps: modern interface, type 1. */
	put16(0x2e, 1);
	struct vnet_pci *p = probe_ok();
	assert_int_equal(vnet_pci_device_type(p), 1);
	vnet_pci_remove(p);
}

/* The transport drives any device type: a modern virtio-blk id (0x1042),
 * a transitional console (0x1003, subsystem 3) and the last modern id
 * probe and report their type; ops work the same. */
static void test_any_device_type_probes(void **state)
{
	(void)state;
	static const struct {
		uint16_t dev, subsys;
		uint32_t type;
	} ids[] = {{0x1042, 0x1100, 2}, {0x1003, 3, 3}, {0x107f, 0x1100, 63}, {0x1041, 0x1100, 1}};
	for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		put16(0x02, ids[i].dev);
		put16(0x2e, ids[i].subsys);
		struct vnet_pci *p = probe_ok();
		assert_int_equal(vnet_pci_device_type(p), ids[i].type);
		assert_true(F.bus_master);
		assert_int_equal(vnet_pci_ops()->get_status(p), 0);
		vnet_pci_remove(p);
	}
	assert_int_equal(vnet_pci_device_type(NULL), 0);
}

/* vnet_pci_identify() is pure: ids in, type out, nothing touched. */
static void test_identify_pure(void **state)
{
	(void)state;
	struct vnet_pci_info info = {.vendor_id = 0x1af4, .device_id = 0x1041, .subsys_id = 0x1100};
	uint32_t type = 99;
	assert_int_equal(vnet_pci_identify(&info, &type), VNET_OK);
	assert_int_equal(type, 1);
	info.device_id = 0x1059;   /* modern 0x1040 + 25 (audio) */
	assert_int_equal(vnet_pci_identify(&info, &type), VNET_OK);
	assert_int_equal(type, 25);
	info.device_id = 0x1001;   /* transitional block */
	info.subsys_id = 2;
	assert_int_equal(vnet_pci_identify(&info, &type), VNET_OK);
	assert_int_equal(type, 2);
	info.device_id = 0x103f;
	info.subsys_id = 0x3f;
	assert_int_equal(vnet_pci_identify(&info, &type), VNET_OK);
	assert_int_equal(type, 0x3f);
	info.subsys_id = 0x40;
	assert_int_equal(vnet_pci_identify(&info, &type), VNET_EPROTO);
	assert_int_equal(type, 0);
	info.device_id = 0x1040;
	assert_int_equal(vnet_pci_identify(&info, &type), VNET_EPROTO);
	info.device_id = 0x1100;
	assert_int_equal(vnet_pci_identify(&info, &type), VNET_ENODEV);
	info.vendor_id = 0x10ec;
	info.device_id = 0x1041;
	assert_int_equal(vnet_pci_identify(&info, &type), VNET_ENODEV);
	assert_int_equal(type, 0);
	assert_int_equal(vnet_pci_identify(NULL, &type), VNET_EINVAL);
	assert_int_equal(vnet_pci_identify(&info, NULL), VNET_EINVAL);
}

static void test_legacy_only_no_cap_list(void **state)
{
	(void)state;
	put16(0x02, 0x1000);
	put16(0x2e, 1);
	put16(0x06, 0);        /* no capabilities list at all */
	/* Its own result, no error or warning logged: the host decides (the
	 * Orion kernel switches to the legacy transport). */
	unsigned long errs = fake_hal_log_count_level(VNET_LOG_ERR), warns = fake_hal_log_count_level(VNET_LOG_WARN);
	probe_fails(VNET_PCI_LEGACY_ONLY, NULL);
	assert_int_equal(fake_hal_log_count_level(VNET_LOG_ERR), errs);
	assert_int_equal(fake_hal_log_count_level(VNET_LOG_WARN), warns);
	assert_int_equal(F.maps, 0);
}

static void test_legacy_only_msix_cap_only(void **state)
{
	(void)state;
	/* QEMU disable-modern=on: a capability list with MSI-X but no
	 * virtio capabilities. */
	put16(0x02, 0x1000);
	put16(0x2e, 1);
	F.cfg[0x34] = CAP_MSIX;
	unsigned long errs = fake_hal_log_count_level(VNET_LOG_ERR), warns = fake_hal_log_count_level(VNET_LOG_WARN);
	probe_fails(VNET_PCI_LEGACY_ONLY, NULL);
	assert_int_equal(fake_hal_log_count_level(VNET_LOG_ERR), errs);
	assert_int_equal(fake_hal_log_count_level(VNET_LOG_WARN), warns);
	/* distinct from every error, VNET_ENOTSUP included (a BAR map may
	 * return that) */
	assert_true(VNET_PCI_LEGACY_ONLY > 0);
}

/* ------------------------------------------------------------------ */
/* Malformed capability lists                                          */
/* ------------------------------------------------------------------ */

static void test_cap_ptr_into_header(void **state)
{
	(void)state;
	F.cfg[0x34] = 0x20;
	probe_fails(VNET_EPROTO, "points into the PCI header");
}

static void test_cap_next_into_header(void **state)
{
	(void)state;
	F.cfg[CAP_NOTIFY + 1] = 0x3c;
	probe_fails(VNET_EPROTO, "cap_next at 0x51");
}

static void test_cap_cycle(void **state)
{
	(void)state;
	F.cfg[CAP_MSIX + 1] = CAP_NOTIFY;   /* ... -> msix -> notify -> ... */
	probe_fails(VNET_EPROTO, "cycles back to 0x50");
	fk_build();
	F.cfg[CAP_COMMON + 1] = CAP_COMMON;   /* self loop */
	probe_fails(VNET_EPROTO, "cycles");
}

static void test_cap_next_unaligned(void **state)
{
	(void)state;
	F.cfg[CAP_ISR + 1] = 0x76;
	probe_fails(VNET_EPROTO, "not 4-byte aligned");
	fk_build();
	F.cfg[0x34] = 0x41;
	probe_fails(VNET_EPROTO, "not 4-byte aligned");
}

static void test_cap_len_too_small(void **state)
{
	(void)state;
	F.cfg[CAP_COMMON + 2] = 12;
	probe_fails(VNET_EPROTO, "cap_len");
	fk_build();
	F.cfg[CAP_NOTIFY + 2] = 16;   /* notify cap needs 20 (multiplier) */
	probe_fails(VNET_EPROTO, "cap_len");
}

static void test_cap_len_past_config_space(void **state)
{
	(void)state;
	/* The last capability at 0xf8 claims 16 bytes: 0xf8 + 16 > 256. */
	F.cfg[CAP_MSIX + 1] = 0xf8;
	F.cfg[CAP_NOTIFY] = 0x11;   /* the real notify cap becomes non-vendor */
	F.cfg[0xf8] = VIRTIO_PCI_CAP_ID_VNDR;
	F.cfg[0xf9] = 0;
	F.cfg[0xfa] = 20;
	F.cfg[0xfb] = VIRTIO_PCI_CAP_NOTIFY_CFG;
	probe_fails(VNET_EPROTO, "config space");
}

static void test_cap_bar_reserved(void **state)
{
	(void)state;
	F.cfg[CAP_COMMON + 4] = 6;
	probe_fails(VNET_EPROTO, "bad bar");
	fk_build();
	F.cfg[CAP_NOTIFY + 4] = 7;
	probe_fails(VNET_EPROTO, "bad bar");
	fk_build();
	F.cfg[CAP_COMMON + 4] = 0xff;
	probe_fails(VNET_EPROTO, "bad bar");
}

static void test_cap_bar_unimplemented(void **state)
{
	(void)state;
	F.cfg[CAP_COMMON + 4] = 3;   /* no BAR 3: bar_map says ENODEV */
	probe_fails(VNET_ENODEV, "cannot map");
}

static void test_cap_beyond_bar(void **state)
{
	(void)state;
	put32(CAP_COMMON + 8, FK_BAR_LEN - 0x20);   /* 0x40 bytes from here overrun */
	probe_fails(VNET_ERANGE, "offset/length");
	fk_build();
	put32(CAP_NOTIFY + 12, FK_BAR_LEN);   /* notify at 0x3000 + 0x4000 */
	probe_fails(VNET_ERANGE, "offset/length");
}

static void test_cap_offset_length_overflow(void **state)
{
	(void)state;
	put32(CAP_COMMON + 8, 0xffffffffu);
	probe_fails(VNET_ERANGE, "offset/length");
	fk_build();
	put32(CAP_COMMON + 8, 0x40);
	put32(CAP_COMMON + 12, 0xffffffc0u);   /* wraps to 0 in 32 bits */
	probe_fails(VNET_ERANGE, "offset/length");
}

static void test_common_too_short(void **state)
{
	(void)state;
	put32(CAP_COMMON + 12, 0x30);
	probe_fails(VNET_ERANGE, "too short");
}

static void test_common_misaligned(void **state)
{
	(void)state;
	put32(CAP_COMMON + 8, 0x2);
	probe_fails(VNET_EPROTO, "aligned");
}

static void test_missing_common_or_notify(void **state)
{
	(void)state;
	F.cfg[0x34] = CAP_NOTIFY;   /* list starts after common */
	probe_fails(VNET_EPROTO, "no common capability");
	fk_build();
	F.cfg[CAP_COMMON + 1] = CAP_ISR;   /* skip notify */
	probe_fails(VNET_EPROTO, "no notify capability");
	fk_build();
	F.cfg[CAP_COMMON + 3] = 0x42;   /* reserved cfg_type: ignored */
	probe_fails(VNET_EPROTO, "no common capability");
}

static void test_first_usable_cap_wins(void **state)
{
	(void)state;
	/* A second common cfg at 0x800, then the good one at 0: spec 4.1.4.1
	 * says the first one the driver can use wins. */
	cap_put(0x90, 0, VIRTIO_PCI_CAP_COMMON_CFG, 0, 0x800, 0x40);
	F.cfg[CAP_MSIX + 1] = 0x90;
	struct vnet_pci *p = probe_ok();
	/* All common accesses went to the first (M.common_off = 0). */
	assert_int_equal(vnet_pci_ops()->set_status(p, 1), VNET_OK);
	assert_int_equal(M.status, 1);
	vnet_pci_remove(p);

	/* First common unusable (BAR 6), second usable: take the second. */
	fk_build();
	F.cfg[CAP_COMMON + 4] = 6;
	cap_put(0x90, 0, VIRTIO_PCI_CAP_COMMON_CFG, 0, 0x800, 0x40);
	F.cfg[CAP_MSIX + 1] = 0x90;
	M.common_off = 0x800;
	p = probe_ok();
	assert_int_equal(vnet_pci_ops()->set_status(p, 1), VNET_OK);
	assert_int_equal(M.status, 1);
	vnet_pci_remove(p);
}

static void test_notify_in_io_bar_falls_back(void **state)
{
	(void)state;
	/* Like the spec's example: an I/O BAR notify first, memory second. */
	F.cfg[CAP_NOTIFY + 4] = 2;
	F.bar_err[2] = VNET_ENOTSUP;
	cap_put(0x90, 0, VIRTIO_PCI_CAP_NOTIFY_CFG, 0, FK_NOTIFY, FK_NOTIFY_LEN);
	F.cfg[CAP_MSIX + 1] = 0x90;
	struct vnet_pci *p = probe_ok();
	struct vnet_queue_setup q = qset(0, 64, VNET_VECTOR_NONE);
	assert_int_equal(vnet_pci_ops()->setup_queue(p, &q), VNET_OK);
	vnet_pci_ops()->notify(p, 0, 0);
	assert_int_equal(M.nnotes, 1);
	vnet_pci_remove(p);
}

static void test_unused_bar_unmapped(void **state)
{
	(void)state;
	/* The first common cfg is in BAR 1 but overruns it, so the second (BAR
	 * 0) is used: BAR 1 was mapped to check it and must not stay mapped
	 * (teardown checks maps == unmaps after remove). */
	F.bar_mem[1] = calloc(1, 0x100);
	F.bar_len[1] = 0x100;
	F.cfg[CAP_COMMON + 4] = 1;
	put32(CAP_COMMON + 8, 0xf0);
	cap_put(0x90, 0, VIRTIO_PCI_CAP_COMMON_CFG, 0, FK_COMMON, 0x40);
	F.cfg[CAP_MSIX + 1] = 0x90;
	struct vnet_pci *p = probe_ok();
	assert_int_equal(F.maps, F.unmaps + 1);   /* only BAR 0 still mapped */
	vnet_pci_remove(p);
}

/* ------------------------------------------------------------------ */
/* End to end through the device core                                  */
/* ------------------------------------------------------------------ */

static void test_core_end_to_end(void **state)
{
	(void)state;
	M.dev_features = V1 | NETF(MAC) | NETF(STATUS) | NETF(MQ) | VNET_BIT(VIRTIO_F_EVENT_IDX) |
			 VNET_BIT(VIRTIO_F_RING_RESET);
	F.msix_size = 3;
	struct vnet_pci *p = probe_ok();
	assert_int_equal(vnet_pci_irq_setup(p, 3, irq_cb, NULL), 3);

	struct vnet_device dev;
	assert_int_equal(vnet_device_init(&dev, vnet_pci_ops(), p, NULL), VNET_OK);
	assert_int_equal(vnet_device_probe(&dev), VNET_OK);
	assert_true(vnet_device_offered(&dev) == M.dev_features);
	uint8_t mac[6];
	assert_int_equal(vnet_device_read_config(&dev, 0, mac, 6), VNET_OK);
	assert_int_equal(mac[0], 0xa0);
	assert_int_equal(mac[5], 0xa5);
	assert_int_equal(vnet_device_negotiate(&dev, NETF(MAC) | NETF(STATUS) |
							    VNET_BIT(VIRTIO_F_EVENT_IDX) |
							    VNET_BIT(VIRTIO_F_RING_RESET)),
			 VNET_OK);
	uint64_t drv = (uint64_t)M.drv_features[1] << 32 | M.drv_features[0];
	assert_true(drv == (V1 | NETF(MAC) | NETF(STATUS) | VNET_BIT(VIRTIO_F_EVENT_IDX) |
			    VNET_BIT(VIRTIO_F_RING_RESET)));

	assert_int_equal(vnet_device_num_queues(&dev), 3);
	assert_int_equal(vnet_device_queue_max_size(&dev, 0), 256);
	for (uint16_t i = 0; i < 2; i++) {
		struct vnet_queue_setup q = qset(i, 256, i);
		assert_int_equal(vnet_device_setup_queue_raw(&dev, &q, false), VNET_OK);
		assert_int_equal(M.q[i].enable, 1);
		assert_int_equal(M.q[i].msix, i);
		assert_int_equal(M.q[i].size, 256);
	}
	/* Bigger than the device's maximum: refused by the core. */
	struct vnet_queue_setup big = qset(2, 512, VNET_VECTOR_NONE);
	assert_int_equal(vnet_device_setup_queue_raw(&dev, &big, false), VNET_EINVAL);
	assert_int_equal(vnet_device_set_config_vector(&dev, 2), VNET_OK);
	assert_int_equal(vnet_device_driver_ok(&dev), VNET_OK);
	assert_true(vnet_device_is_live(&dev));

	/* Spec 3.1.1: reset, ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK,
	 * each a superset of the one before. */
	static const uint8_t seq[] = {0x00, 0x01, 0x03, 0x0b, 0x0f};
	assert_int_equal(M.nstatus, sizeof(seq));
	assert_memory_equal(M.status_log, seq, sizeof(seq));

	/* Queue reset through the core, then set it up again live. */
	M.reset_delay = 1;
	assert_int_equal(vnet_device_reset_queue(&dev, 1), VNET_OK);
	struct vnet_queue_setup q1 = qset(1, 128, 1);
	assert_int_equal(vnet_device_setup_queue_raw(&dev, &q1, false), VNET_OK);
	assert_int_equal(M.q[1].size, 128);

	assert_int_equal(vnet_device_reset(&dev), VNET_OK);
	assert_int_equal(M.status, 0);
	vnet_pci_remove(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_probe_and_basic_ops),
		T(test_read_config_widths_and_bounds),
		T(test_read_config_without_device_cap),
		T(test_queue_setup_and_notify),
		T(test_notification_data),
		T(test_notif_config_data),
		T(test_short_common_cfg_refuses_late_features),
		T(test_notify_offset_beyond_cap),
		T(test_notify_multiplier_zero),
		T(test_queue_max_size_hostile),
		T(test_num_queues_capped),
		T(test_num_queues_grows_at_features_ok),
		T(test_msix_vectors),
		T(test_intx_isr),
		T(test_no_msix_no_isr),
		T(test_queue_reset),
		T(test_identification),
		T(test_any_device_type_probes),
		T(test_identify_pure),
		T(test_legacy_only_no_cap_list),
		T(test_legacy_only_msix_cap_only),
		T(test_cap_ptr_into_header),
		T(test_cap_next_into_header),
		T(test_cap_cycle),
		T(test_cap_next_unaligned),
		T(test_cap_len_too_small),
		T(test_cap_len_past_config_space),
		T(test_cap_bar_reserved),
		T(test_cap_bar_unimplemented),
		T(test_cap_beyond_bar),
		T(test_cap_offset_length_overflow),
		T(test_common_too_short),
		T(test_common_misaligned),
		T(test_missing_common_or_notify),
		T(test_first_usable_cap_wins),
		T(test_notify_in_io_bar_falls_back),
		T(test_unused_bar_unmapped),
		T(test_core_end_to_end),
#undef T
	};
	return cmocka_run_group_tests_name("virtio_pci", tests, NULL, NULL);
}
