/*
 * virtio-pci legacy transport (I/O BAR 0 header, VirtIO 1.2 §4.1.4.10)
 * against a fake legacy function.
 *
 * The fake is a register-level model of the 0.9.5 header written from the
 * spec's table: HostFeatures, GuestFeatures, Queue Address (page frame
 * number) per queue_select, the fixed queue_size, Queue Notify, status
 * (0 resets) and the read-to-clear ISR byte, then the device-specific
 * configuration at 20.  It implements the vnet_hal_pci_* functions the
 * transport calls (device info, the I/O BAR, I/O accesses, bus mastering)
 * and checks each access: inside the BAR, naturally aligned, the width of
 * the field it hits, no write to a read-only field.  Every test asserts
 * the fake saw no bad access and nothing leaked.
 *
 * What a user relies on: a legacy-only function is recognised and bound;
 * its registers are driven with the legacy widths; the fixed queue size,
 * the 32-bit feature space and the legacy ring layout are enforced with
 * errors that name them; a vanished function and a device lying about its
 * queue are refused.  The end-to-end path (core negotiation without
 * VERSION_1, the engine allocating the legacy layout) is a later step: the
 * last test pins that the core still refuses such a device, so the step
 * that changes it changes this test knowingly.
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

#include "transport/pci/virtio_pci_legacy.c"

#include "core/device_priv.h"
#include "fake_hal.h"
#include "vnet/device.h"
#include "vnet/virtqueue.h"
#include "vnet/spec/virtio_net.h"

#define LQ 4u
#define CFGLEN 12u

static struct lfn {
	struct vnet_pci_info info;
	int io_bar_rc;            /* vnet_hal_pci_io_bar result */
	uint32_t bar_len;
	bool bus_master;
	bool all_ones;
	bool pfn_ignored;         /* Queue Address writes do not stick */
	bool reset_never;         /* status never reads 0 after a reset */
	uint32_t host_features, guest_features;
	uint16_t qsel, qnum[LQ];
	uint32_t pfn[LQ];
	uint8_t status, isr;
	uint8_t cfg[CFGLEN];
	uint16_t notes[16];
	unsigned nnotes;
	unsigned bad;
	unsigned status_writes;
} L;

static struct vnet_pci_dev *const lpdev = (struct vnet_pci_dev *)&L;

static void lbad(const char *what, uint32_t off, unsigned w)
{
	L.bad++;
	fprintf(stderr, "fake legacy: %s at 0x%x width %u\n", what, off, w);
}

/* Width of the header field at off; 0 past the header. */
static unsigned hdr_width(uint32_t off)
{
	switch (off) {
	case 0x00: case 0x04: case 0x08: return 4;
	case 0x0c: case 0x0e: case 0x10: return 2;
	case 0x12: case 0x13: return 1;
	default: return 0;
	}
}

static bool lcheck(uint32_t off, unsigned w)
{
	if (off + w > L.bar_len || (off & (w - 1u))) {
		lbad("out of BAR or misaligned", off, w);
		return false;
	}
	if (off < VIRTIO_PCI_LEGACY_CONFIG && hdr_width(off) != w) {
		lbad("wrong width for header field", off, w);
		return false;
	}
	return true;
}

static uint32_t lread(uint32_t off, unsigned w)
{
	if (!lcheck(off, w))
		return 0;
	if (L.all_ones)
		return w == 4 ? 0xffffffffu : w == 2 ? 0xffffu : 0xffu;
	if (off >= VIRTIO_PCI_LEGACY_CONFIG) {
		uint32_t o = off - VIRTIO_PCI_LEGACY_CONFIG, v = 0;
		for (unsigned i = 0; i < w; i++)
			v |= (uint32_t)(o + i < CFGLEN ? L.cfg[o + i] : 0) << (8 * i);
		return v;
	}
	switch (off) {
	case 0x00: return L.host_features;
	case 0x04: return L.guest_features;
	case 0x08: return L.qsel < LQ ? L.pfn[L.qsel] : 0;
	case 0x0c: return L.qsel < LQ ? L.qnum[L.qsel] : 0;
	case 0x0e: return L.qsel;
	case 0x10: return 0;
	case 0x12:
		if (L.reset_never && L.status == 0)
			return VIRTIO_STATUS_ACKNOWLEDGE;
		return L.status;
	case 0x13: {
		uint8_t v = L.isr;
		L.isr = 0;
		return v;
	}
	}
	return 0;
}

static void lwrite(uint32_t off, unsigned w, uint32_t v)
{
	if (!lcheck(off, w))
		return;
	if (L.all_ones)
		return;
	switch (off) {
	case 0x04: L.guest_features = v; return;
	case 0x08:
		if (L.qsel < LQ && !L.pfn_ignored)
			L.pfn[L.qsel] = v;
		return;
	case 0x0e: L.qsel = (uint16_t)v; return;
	case 0x10:
		if (L.nnotes < 16)
			L.notes[L.nnotes++] = (uint16_t)v;
		return;
	case 0x12:
		L.status_writes++;
		L.status = (uint8_t)v;
		if (v == 0) {
			memset(L.pfn, 0, sizeof(L.pfn));
			L.guest_features = 0;
			L.isr = 0;
		}
		return;
	default:
		lbad("write to a read-only field or the config", off, w);
	}
}

/* ---- the vnet_hal_pci.h functions the legacy transport uses ---- */

void vnet_hal_pci_dev_info(const struct vnet_pci_dev *dev, struct vnet_pci_info *out)
{
	assert_ptr_equal(dev, lpdev);
	*out = L.info;
}

int vnet_hal_pci_io_bar(struct vnet_pci_dev *dev, unsigned bar, uint32_t *len)
{
	assert_ptr_equal(dev, lpdev);
	assert_int_equal(bar, 0);
	if (L.io_bar_rc < 0)
		return L.io_bar_rc;
	*len = L.bar_len;
	return VNET_OK;
}

#define IOFN(w, t)                                                                         \
	t vnet_hal_pci_io_read##w(struct vnet_pci_dev *dev, unsigned bar, uint32_t off)    \
	{                                                                                  \
		assert_ptr_equal(dev, lpdev);                                              \
		assert_int_equal(bar, 0);                                                  \
		return (t)lread(off, (w) / 8);                                             \
	}                                                                                  \
	void vnet_hal_pci_io_write##w(struct vnet_pci_dev *dev, unsigned bar, uint32_t off, t v) \
	{                                                                                  \
		assert_ptr_equal(dev, lpdev);                                              \
		assert_int_equal(bar, 0);                                                  \
		lwrite(off, (w) / 8, v);                                                   \
	}
IOFN(8, uint8_t)
IOFN(16, uint16_t)
IOFN(32, uint32_t)

void vnet_hal_pci_set_bus_master(struct vnet_pci_dev *dev, bool on)
{
	assert_ptr_equal(dev, lpdev);
	L.bus_master = on;
}

/* ---- fixture ---- */

static size_t priv0;

static int setup(void **state)
{
	(void)state;
	memset(&L, 0, sizeof(L));
	L.info.vendor_id = 0x1af4;
	L.info.device_id = 0x1000;
	L.info.subsys_vendor_id = 0x1af4;
	L.info.subsys_id = 1;
	memcpy(L.info.name, "00:04.0", 8);
	L.bar_len = 0x20;
	L.host_features = VNET_BIT(VIRTIO_NET_F_MAC) | VNET_BIT(VIRTIO_NET_F_STATUS) |
			  VNET_BIT(VIRTIO_F_EVENT_IDX) | VNET_BIT(27) /* ANY_LAYOUT */;
	for (unsigned i = 0; i < 3; i++)
		L.qnum[i] = 256;
	for (unsigned i = 0; i < CFGLEN; i++)
		L.cfg[i] = (uint8_t)(0x50 + i);
	priv0 = fake_hal_live_private();
	fake_hal_set_relax_step_ns(10 * 1000 * 1000);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_hal_set_relax_step_ns(0);
	assert_int_equal(L.bad, 0);
	assert_int_equal(fake_hal_live_private(), priv0);
	return 0;
}

static struct vnet_pci_legacy *lprobe(void)
{
	struct vnet_pci_legacy *l = NULL;
	int rc = vnet_pci_legacy_probe(lpdev, &l);
	if (rc != VNET_OK)
		fail_msg("legacy probe: %s; last log: %s", vnet_strerror(rc), fake_hal_last_log());
	return l;
}

static void lprobe_fails(int want, const char *needle)
{
	struct vnet_pci_legacy *l = (struct vnet_pci_legacy *)(uintptr_t)1;
	unsigned long logs = fake_hal_log_count();
	int rc = vnet_pci_legacy_probe(lpdev, &l);
	if (rc != want)
		fail_msg("probe returned %s, expected %s; last log: %s", vnet_strerror(rc),
			 vnet_strerror(want), fake_hal_last_log());
	assert_null(l);
	assert_false(L.bus_master);
	if (!needle) {
		assert_int_equal(fake_hal_log_count(), logs);
	} else if (!strstr(fake_hal_last_log(), needle)) {
		fail_msg("log \"%s\" does not mention \"%s\"", fake_hal_last_log(), needle);
	}
}

/* A ring laid out the legacy way at a 4096-aligned device address. */
static struct vnet_queue_setup legacy_ring(uint16_t index, uint16_t size, uint64_t at)
{
	uint64_t avail_end = 16ull * size + 6u + 2ull * size;
	struct vnet_queue_setup q = {
		.index = index,
		.size = size,
		.desc = at,
		.driver = at + 16ull * size,
		.device = at + ((avail_end + 4095u) & ~4095ull),
		.vector = VNET_VECTOR_NONE,
	};
	return q;
}

/* ---- tests ---- */

static void test_probe(void **state)
{
	(void)state;
	struct vnet_pci_legacy *l = lprobe();
	assert_int_equal(vnet_pci_legacy_device_type(l), 1);
	assert_true(L.bus_master);
	assert_non_null(strstr(fake_hal_last_log(), "pci 00:04.0"));
	assert_string_equal(vnet_pci_legacy_ops()->name, "pci-legacy");
	/* No VERSION_1 and nothing above bit 31 on this transport. */
	assert_int_equal(vnet_pci_legacy_ops()->transport_features & VNET_BIT(VIRTIO_F_VERSION_1), 0);
	vnet_pci_legacy_remove(l);
	assert_int_equal(L.status, 0);
	assert_false(L.bus_master);
	vnet_pci_legacy_remove(NULL);
}

static void test_probe_refusals(void **state)
{
	(void)state;
	L.info.vendor_id = 0x8086;
	lprobe_fails(VNET_ENODEV, NULL);
	L.info.vendor_id = 0x1af4;
	L.info.device_id = 0x1041;
	lprobe_fails(VNET_ENODEV, "not a transitional id");
	L.info.device_id = 0x1000;
	L.info.subsys_id = 0;
	lprobe_fails(VNET_EPROTO, "names no device type");
	L.info.subsys_id = 1;
	L.io_bar_rc = VNET_ENOTSUP;
	lprobe_fails(VNET_ENOTSUP, "needs I/O BAR 0");
	L.io_bar_rc = 0;
	L.bar_len = 0x10;
	lprobe_fails(VNET_ERANGE, "shorter than the 20-byte legacy header");
	L.bar_len = 0x20;
	L.all_ones = true;
	lprobe_fails(VNET_ENODEV, "all-ones");
	struct vnet_pci_legacy *l;
	assert_int_equal(vnet_pci_legacy_probe(NULL, &l), VNET_EINVAL);
}

static void test_features_32_bits(void **state)
{
	(void)state;
	struct vnet_pci_legacy *l = lprobe();
	const struct vnet_transport_ops *o = vnet_pci_legacy_ops();
	uint64_t f = 0;
	assert_int_equal(o->get_device_features(l, &f), VNET_OK);
	assert_true(f == L.host_features);
	assert_int_equal(o->set_driver_features(l, VNET_BIT(VIRTIO_NET_F_MAC)), VNET_OK);
	assert_int_equal(L.guest_features, VNET_BIT(VIRTIO_NET_F_MAC));
	assert_int_equal(o->set_driver_features(l, VNET_BIT(VIRTIO_F_VERSION_1)), VNET_EINVAL);
	assert_non_null(strstr(fake_hal_last_log(), "above 31"));
	assert_int_equal(L.guest_features, VNET_BIT(VIRTIO_NET_F_MAC));
	vnet_pci_legacy_remove(l);
}

static void test_status_config_isr_notify(void **state)
{
	(void)state;
	struct vnet_pci_legacy *l = lprobe();
	const struct vnet_transport_ops *o = vnet_pci_legacy_ops();
	assert_int_equal(o->set_status(l, VIRTIO_STATUS_ACKNOWLEDGE), VNET_OK);
	assert_int_equal(o->get_status(l), VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(o->reset(l), VNET_OK);
	assert_int_equal(o->get_status(l), 0);
	/* The config follows the 20-byte header (no MSI-X). */
	uint8_t b[CFGLEN];
	assert_int_equal(o->read_config(l, 0, b, 6), VNET_OK);
	assert_int_equal(b[0], 0x50);
	assert_int_equal(b[5], 0x55);
	assert_int_equal(o->read_config(l, 1, b, 11), VNET_OK);
	assert_int_equal(b[10], 0x5b);
	assert_int_equal(o->read_config(l, 10, b, 4), VNET_ERANGE);
	assert_int_equal(o->config_generation(l), o->config_generation(l));
	L.isr = VIRTIO_PCI_ISR_QUEUE;
	assert_int_equal(vnet_pci_legacy_isr(l), VIRTIO_PCI_ISR_QUEUE);
	assert_int_equal(vnet_pci_legacy_isr(l), 0); /* read cleared it */
	o->notify(l, 1, 0xdead0001u);
	assert_int_equal(L.nnotes, 1);
	assert_int_equal(L.notes[0], 1); /* index only: no NOTIFICATION_DATA */
	vnet_pci_legacy_remove(l);
}

static void test_queue_size_fixed_and_checked(void **state)
{
	(void)state;
	L.qnum[1] = 100;   /* not a power of two */
	L.qnum[2] = 65535; /* beyond the spec */
	struct vnet_pci_legacy *l = lprobe();
	const struct vnet_transport_ops *o = vnet_pci_legacy_ops();
	assert_int_equal(o->num_queues(l), 0);
	assert_int_equal(o->queue_max_size(l, 0), 256);
	assert_int_equal(o->queue_max_size(l, 1), 0);
	assert_int_equal(o->queue_max_size(l, 2), 0);
	assert_int_equal(vnet_pci_legacy_violations(l), 2);
	assert_int_equal(o->queue_max_size(l, 3), 0); /* no such queue */
	/* "No mechanism to negotiate the queue size". */
	struct vnet_queue_setup q = legacy_ring(0, 128, 0x100000);
	assert_int_equal(o->setup_queue(l, &q), VNET_EINVAL);
	assert_non_null(strstr(fake_hal_last_log(), "fixed size 256"));
	q = legacy_ring(3, 256, 0x100000);
	assert_int_equal(o->setup_queue(l, &q), VNET_ENODEV);
	assert_int_equal(L.pfn[0], 0);
	vnet_pci_legacy_remove(l);
}

static void test_queue_layout(void **state)
{
	(void)state;
	struct vnet_pci_legacy *l = lprobe();
	const struct vnet_transport_ops *o = vnet_pci_legacy_ops();
	struct vnet_queue_setup q = legacy_ring(0, 256, 0x123000);
	assert_int_equal(o->setup_queue(l, &q), VNET_OK);
	assert_int_equal(L.pfn[0], 0x123); /* address / 4096 */
	/* Programmed already: busy. */
	assert_int_equal(o->setup_queue(l, &q), VNET_EBUSY);
	/* The modern engine's layout (used ring on the next 64-byte line)
	 * is not the legacy one: refused, naming the offsets. */
	struct vnet_queue_setup m = legacy_ring(1, 256, 0x200000);
	m.device = m.driver + ((6u + 2u * 256u + 63u) & ~63u);
	assert_int_equal(o->setup_queue(l, &m), VNET_ERANGE);
	assert_non_null(strstr(fake_hal_last_log(), "legacy layout needs"));
	/* Misaligned, above 2^44, or with a vector. */
	m = legacy_ring(1, 256, 0x200800);
	assert_int_equal(o->setup_queue(l, &m), VNET_ERANGE);
	m = legacy_ring(1, 256, 1ull << 44);
	assert_int_equal(o->setup_queue(l, &m), VNET_ERANGE);
	assert_non_null(strstr(fake_hal_last_log(), "below 2^44"));
	m = legacy_ring(1, 256, 0x200000);
	m.vector = 0;
	assert_int_equal(o->setup_queue(l, &m), VNET_EINVAL);
	assert_int_equal(L.pfn[1], 0);
	/* A device that drops the address: the queue never went live. */
	L.pfn_ignored = true;
	m = legacy_ring(1, 256, 0x200000);
	assert_int_equal(o->setup_queue(l, &m), VNET_EIO);
	assert_int_equal(vnet_pci_legacy_violations(l), 1);
	assert_non_null(strstr(fake_hal_last_log(), "Queue Address reads back 0x0"));
	/* A reset forgets every queue address. */
	L.pfn_ignored = false;
	assert_int_equal(o->reset(l), VNET_OK);
	assert_int_equal(L.pfn[0], 0);
	vnet_pci_legacy_remove(l);
}

static void test_vanished_and_stuck_reset(void **state)
{
	(void)state;
	struct vnet_pci_legacy *l = lprobe();
	const struct vnet_transport_ops *o = vnet_pci_legacy_ops();
	L.all_ones = true;
	assert_int_equal(o->get_status(l), VNET_ENODEV);
	uint64_t f = 1;
	assert_int_equal(o->get_device_features(l, &f), VNET_ENODEV);
	assert_true(f == 0);
	assert_int_equal(o->queue_max_size(l, 0), 0);
	assert_int_equal(vnet_pci_legacy_isr(l), 0);
	L.all_ones = false;
	/* A reset that never completes: remove is bounded, leaves bus
	 * mastering on (the device may still DMA) and says so. */
	L.reset_never = true;
	vnet_pci_legacy_remove(l);
	assert_true(L.bus_master);
	assert_non_null(strstr(fake_hal_last_log(), "did not reset on remove"));
}

static void test_core_negotiates_legacy(void **state)
{
	(void)state;
	/* The device core drives a legacy transport without VERSION_1: 32
	 * feature bits, nothing not offered, ANY_LAYOUT kept, and no
	 * FEATURES_OK written (VirtIO 1.2 §3.1.2 legacy). */
	struct vnet_pci_legacy *l = lprobe();
	struct vnet_device dev;
	assert_int_equal(vnet_device_init(&dev, vnet_pci_legacy_ops(), l, NULL), VNET_OK);
	assert_int_equal(vnet_device_probe(&dev), VNET_OK);
	assert_true(vnet_device_offered(&dev) == L.host_features);
	assert_int_equal(vnet_device_negotiate(&dev, ~0ull), VNET_OK);
	uint64_t f = vnet_device_features(&dev);
	assert_true((f & ~(uint64_t)L.host_features) == 0);
	assert_false(f & VNET_BIT(VIRTIO_F_VERSION_1));
	assert_true(f & VNET_BIT(VIRTIO_F_ANY_LAYOUT));
	assert_true(f & VNET_BIT(VIRTIO_F_EVENT_IDX));
	assert_int_equal(L.guest_features, (uint32_t)f);
	assert_false(L.status & VIRTIO_STATUS_FEATURES_OK);
	vnet_pci_legacy_remove(l);
}

static void test_modern_transport_still_refuses(void **state)
{
	(void)state;
	/* Only a transport that says it is legacy gets the legacy path. */
	struct vnet_transport_ops modern = *vnet_pci_legacy_ops();
	modern.legacy = false;
	struct vnet_pci_legacy *l = lprobe();
	struct vnet_device dev;
	assert_int_equal(vnet_device_init(&dev, &modern, l, NULL), VNET_OK);
	assert_int_equal(vnet_device_negotiate(&dev, ~0ull), VNET_ENOTSUP);
	assert_non_null(strstr(fake_hal_last_log(), "legacy devices are not supported"));
	vnet_pci_legacy_remove(l);
}

static void test_engine_legacy_layout(void **state)
{
	(void)state;
	/* Without VERSION_1 the split engine allocates the legacy layout,
	 * which the transport's setup_queue accepts; with it, the modern one
	 * (used ring on the next 64-byte line), which it refuses. */
	struct vnet_pci_legacy *l = lprobe();
	const struct vnet_transport_ops *o = vnet_pci_legacy_ops();
	for (int legacy = 1; legacy >= 0; legacy--) {
		struct vnet_vq_config c = { .index = 0, .size = 256, .layout = VNET_VQ_SPLIT,
					    .features = legacy ? 0 : VNET_BIT(VIRTIO_F_VERSION_1), .name = "rx" };
		struct vnet_vq *vq;
		assert_int_equal(vnet_vq_create(&c, &vq), VNET_OK);
		struct vnet_queue_setup q = { .index = 0, .size = 256, .vector = VNET_VECTOR_NONE };
		vnet_vq_ring_addrs(vq, &q.desc, &q.driver, &q.device);
		assert_true(q.desc % 4096u == 0);
		/* The fake HAL's iovas are host pointers (above the 2^44 a
		 * Queue Address reaches): keep the engine's offsets, move the
		 * base. */
		q.driver = q.driver - q.desc + 0x100000u;
		q.device = q.device - q.desc + 0x100000u;
		q.desc = 0x100000u;
		assert_true(q.driver - q.desc == 16u * 256u);
		if (legacy) {
			assert_true(q.device - q.desc == 8192u);   /* 4096 + 6 + 512 rounded up to 4096 */
			assert_int_equal(o->setup_queue(l, &q), VNET_OK);
			assert_int_equal(L.pfn[0], (uint32_t)(q.desc >> 12));
			L.pfn[0] = 0;
		} else {
			assert_true((q.device - q.desc) % 4096u != 0);
			assert_int_equal(o->setup_queue(l, &q), VNET_ERANGE);
		}
		vnet_vq_destroy(vq);
	}
	vnet_pci_legacy_remove(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_probe),
		T(test_probe_refusals),
		T(test_features_32_bits),
		T(test_status_config_isr_notify),
		T(test_queue_size_fixed_and_checked),
		T(test_queue_layout),
		T(test_vanished_and_stuck_reset),
		T(test_core_negotiates_legacy),
		T(test_modern_transport_still_refuses),
		T(test_engine_legacy_layout),
#undef T
	};
	return cmocka_run_group_tests_name("virtio_pci_legacy", tests, NULL, NULL);
}
