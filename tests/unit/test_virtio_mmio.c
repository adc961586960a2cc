/*
 * virtio-mmio transport (version 2) against a register window in memory.
 *
 * The window is tests/devmodel/fake_mmio.c: a register front-end written
 * from VirtIO 1.2 §4.2.2 in front of a device back-end — the fake transport
 * (spec-following status, features, config generation, with misbehaviour
 * switches) for the register-level tests, the virtio-net device model for
 * the bring-up and traffic tests.  The transport source is compiled into
 * this file with VNET_MMIO_TEST_HOOKS, which routes its register accesses
 * to the front-end; the front-end checks every access against the driver
 * rules of §4.2.2.2 (32-bit control accesses, no read of a W register, no
 * queue register touched while QueueReady is 1...) and every test asserts
 * it saw no breach, no stray address and no leak.
 *
 * What a user relies on, and what is asserted: a virtio-net device behind
 * an MMIO window comes up through the device core and src/net with split
 * and with packed rings and passes frames both ways; every malformed
 * register value the transport can meet (magic, version, device id, queue
 * sizes, QueueReady, a reset or a config generation that never settles, a
 * vanished device, undefined interrupt bits) is refused with an error that
 * names it, and is bounded.
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

#define VNET_MMIO_TEST_HOOKS 1
#include "transport/mmio/virtio_mmio.c"

#include "core/device_priv.h"
#include "fake_hal.h"
#include "fake_mmio.h"
#include "fake_transport.h"
#include "netdev_model.h"
#include "vnet/device.h"
#include "vnet/net.h"
#include "vnet/net_recover.h"
#include "vnet/spec/virtio_net.h"

#define V1 VNET_BIT(VIRTIO_F_VERSION_1)
#define F(x) VNET_BIT(VIRTIO_F_##x)
#define N(x) VNET_BIT(VIRTIO_NET_F_##x)
#define QMAX 256u
#define CFG_LEN 0x40u
#define WINDOW (VIRTIO_MMIO_CONFIG + CFG_LEN)

/* Register-level fixture: front-end over the fake transport. */
static struct fake_transport FT;
static struct fake_mmio W;
static size_t priv_before, dma_before;

static int setup(void **state)
{
	(void)state;
	fake_transport_init(&FT, V1 | N(MAC) | N(STATUS) | F(EVENT_IDX) | F(RING_PACKED) |
					 F(NOTIFICATION_DATA) | F(RING_RESET),
			    3, QMAX);
	FT.config_len = CFG_LEN;
	for (unsigned i = 0; i < CFG_LEN; i++)
		FT.config[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(fmm_init(&W, &fake_transport_ops, &FT, 1, WINDOW), 0);
	fmm_stray_accesses = 0;
	priv_before = fake_hal_live_private();
	dma_before = fake_hal_live_dma();
	fake_hal_set_relax_step_ns(10 * 1000 * 1000);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_hal_set_relax_step_ns(0);
	unsigned bad = W.bad;
	fmm_fini(&W);
	/* The transport never broke a driver rule of §4.2.2.2, never touched
	 * an address outside the window, and freed what it allocated. */
	if (bad)
		fail_msg("front-end saw %u driver breaches, last: %s", bad, W.last_bad);
	assert_int_equal(fmm_stray_accesses, 0);
	assert_int_equal(fake_hal_live_private(), priv_before);
	assert_int_equal(fake_hal_live_dma(), dma_before);
	return 0;
}

static struct vnet_mmio *probe_ok(void)
{
	struct vnet_mmio *m = NULL;
	int rc = vnet_mmio_probe(fmm_base(&W), W.window_len, "mmio@test", &m);
	if (rc != VNET_OK)
		fail_msg("probe: %s; last log: %s", vnet_strerror(rc), fake_hal_last_log());
	assert_non_null(m);
	return m;
}

static void probe_fails(int want_rc, const char *log_needle)
{
	struct vnet_mmio *m = (struct vnet_mmio *)(uintptr_t)1;
	unsigned long logs = fake_hal_log_count();
	int rc = vnet_mmio_probe(fmm_base(&W), W.window_len, "mmio@test", &m);
	if (rc != want_rc)
		fail_msg("probe returned %d (%s), expected %d; last log: %s", rc, vnet_strerror(rc),
			 want_rc, fake_hal_last_log());
	assert_null(m);
	if (!log_needle) {
		assert_int_equal(fake_hal_log_count(), logs); /* nothing reported */
	} else {
		assert_true(fake_hal_log_count() > logs);
		if (!strstr(fake_hal_last_log(), log_needle))
			fail_msg("log \"%s\" does not mention \"%s\"", fake_hal_last_log(), log_needle);
		/* Every error names the window. */
		assert_non_null(strstr(fake_hal_last_log(), "mmio@test"));
	}
	/* Nothing was written to a device that was refused. */
	assert_int_equal(W.writes, 0);
}

/* A device core bound to the transport, negotiated and ready for queues. */
static void core_up(struct vnet_device *dev, struct vnet_mmio *m, uint64_t wanted)
{
	assert_int_equal(vnet_device_init(dev, vnet_mmio_ops(), m, NULL), VNET_OK);
	assert_int_equal(vnet_device_probe(dev), VNET_OK);
	assert_int_equal(vnet_device_negotiate(dev, wanted), VNET_OK);
}

static struct vnet_queue_setup qset(uint16_t index, uint16_t size)
{
	struct vnet_queue_setup q = {
		.index = index,
		.size = size,
		.desc = 0x1122334455667700ull + index,
		.driver = 0x0000000a00001000ull + index,
		.device = 0xfedcba9800002000ull + index,
		.vector = VNET_VECTOR_NONE,
	};
	return q;
}

/* ------------------------------------------------------------------ */
/* Identification                                                      */
/* ------------------------------------------------------------------ */

static void test_probe_identity(void **state)
{
	(void)state;
	W.device_id = 2;
	W.vendor_id = 0x1af4;
	struct vnet_mmio *m = probe_ok();
	assert_int_equal(vnet_mmio_device_type(m), 2);
	assert_int_equal(vnet_mmio_vendor_id(m), 0x1af4);
	assert_string_equal(vnet_mmio_name(m), "mmio@test");
	assert_int_equal(vnet_mmio_violations(m), 0);
	/* Probe does not reset or otherwise write the device (the core does). */
	assert_int_equal(W.writes, 0);
	assert_int_equal(vnet_mmio_ops()->num_queues(m), 0);
	assert_string_equal(vnet_mmio_ops()->name, "mmio");
	vnet_mmio_remove(m);
	assert_int_equal(W.resets, 1);
	/* Accessors are NULL-safe. */
	assert_int_equal(vnet_mmio_device_type(NULL), 0);
	assert_int_equal(vnet_mmio_isr(NULL), 0);
	vnet_mmio_remove(NULL);
}

static void test_bad_magic(void **state)
{
	(void)state;
	W.magic = 0x76697274u; /* "virt" byte-swapped: a big-endian mistake */
	probe_fails(VNET_ENODEV, "MagicValue 0x76697274");
	/* §4.2.3.1.1: nothing read after a bad magic. */
	assert_int_equal(W.reads, 1);
}

static void test_version1_legacy_refused(void **state)
{
	(void)state;
	W.version = 1;
	probe_fails(VNET_ENOTSUP, "legacy");
	assert_non_null(strstr(fake_hal_last_log(), "Version 1"));
}

static void test_version3_refused(void **state)
{
	(void)state;
	W.version = 3;
	probe_fails(VNET_EPROTO, "Version 3 unknown");
}

static void test_device_id_zero_is_silent(void **state)
{
	(void)state;
	/* A placeholder window (QEMU microvm / virt keep many): ENODEV,
	 * no error reported (§4.2.2.2), and no register beyond the first
	 * three touched (§4.2.3.1.1). */
	W.device_id = 0;
	probe_fails(VNET_ENODEV, NULL);
	assert_int_equal(W.reads, 3);
}

static void test_all_ones_window(void **state)
{
	(void)state;
	W.all_ones = true;
	probe_fails(VNET_ENODEV, "0xffffffff");
}

static void test_probe_arguments(void **state)
{
	(void)state;
	struct vnet_mmio *m = NULL;
	assert_int_equal(vnet_mmio_probe(fmm_base(&W), W.window_len, NULL, NULL), VNET_EINVAL);
	assert_int_equal(vnet_mmio_probe(NULL, W.window_len, NULL, &m), VNET_EINVAL);
	assert_int_equal(vnet_mmio_probe(W.window + 2, W.window_len - 4, NULL, &m), VNET_EINVAL);
	assert_int_equal(vnet_mmio_probe(fmm_base(&W), VNET_MMIO_WINDOW_MIN - 4, NULL, &m), VNET_EINVAL);
	assert_null(m);
	assert_int_equal(W.reads + W.writes, 0);
	/* A window of only the control registers has no config space. */
	assert_int_equal(vnet_mmio_probe(fmm_base(&W), VNET_MMIO_WINDOW_MIN, NULL, &m), VNET_OK);
	uint8_t b[1];
	assert_int_equal(vnet_mmio_ops()->read_config(m, 0, b, 1), VNET_ERANGE);
	assert_string_equal(vnet_mmio_name(m), "mmio");
	vnet_mmio_remove(m);
}

/* ------------------------------------------------------------------ */
/* Through the device core                                             */
/* ------------------------------------------------------------------ */

static void test_core_bringup_registers(void **state)
{
	(void)state;
	struct vnet_mmio *m = probe_ok();
	struct vnet_device dev;
	assert_int_equal(vnet_device_init(&dev, vnet_mmio_ops(), m, NULL), VNET_OK);
	assert_int_equal(vnet_device_probe(&dev), VNET_OK);
	/* Both feature words came through DeviceFeaturesSel 0 and 1. */
	assert_true(vnet_device_offered(&dev) == FT.offered);
	uint8_t mac[6];
	assert_int_equal(vnet_device_read_config(&dev, 0, mac, 6), VNET_OK);
	assert_int_equal(mac[0], 0xa0);
	assert_int_equal(mac[5], 0xa5);
	uint8_t cfg[CFG_LEN];
	assert_int_equal(vnet_device_read_config(&dev, 1, cfg, CFG_LEN - 1), VNET_OK);
	assert_int_equal(cfg[CFG_LEN - 2], (uint8_t)(0xa0 + CFG_LEN - 1));
	assert_int_equal(vnet_device_read_config(&dev, CFG_LEN - 2, cfg, 4), VNET_ERANGE);

	assert_int_equal(vnet_device_negotiate(&dev, ~0ull), VNET_OK);
	/* RING_RESET is carried (QueueReset, spec 4.2.2). */
	assert_true(FT.driver_features == (V1 | N(MAC) | N(STATUS) | F(EVENT_IDX) |
					   F(RING_PACKED) | F(NOTIFICATION_DATA) | F(RING_RESET)));
	assert_int_equal(vnet_device_num_queues(&dev), 0);
	assert_int_equal(vnet_device_queue_max_size(&dev, 0), QMAX);
	/* Past the device's queues: QueueNumMax 0 = not available. */
	assert_int_equal(vnet_device_queue_max_size(&dev, 3), 0);
	struct vnet_queue_setup none = qset(3, 64);
	assert_int_equal(vnet_device_setup_queue_raw(&dev, &none, true), VNET_ENODEV);

	for (uint16_t i = 0; i < 2; i++) {
		struct vnet_queue_setup q = qset(i, (uint16_t)(i ? 100 : QMAX));
		assert_int_equal(vnet_device_setup_queue_raw(&dev, &q, true), VNET_OK);
		/* The back-end got the 64-bit addresses whole from the
		 * Low/High pairs and the size from QueueNum. */
		assert_true(FT.q[i].enabled);
		assert_int_equal(FT.q[i].setup.size, q.size);
		assert_true(FT.q[i].setup.desc == q.desc);
		assert_true(FT.q[i].setup.driver == q.driver);
		assert_true(FT.q[i].setup.device == q.device);
		assert_int_equal(W.q[i].ready, 1);
	}
	/* No vectors on MMIO. */
	struct vnet_queue_setup v = qset(2, 64);
	v.vector = 0;
	assert_int_equal(vnet_device_setup_queue_raw(&dev, &v, true), VNET_EINVAL);
	assert_false(FT.q[2].configured);
	assert_int_equal(vnet_device_driver_ok(&dev), VNET_OK);
	assert_true(vnet_device_is_live(&dev));
	static const uint8_t seq[] = {0x01, 0x03, 0x0b, 0x0f};
	assert_int_equal(FT.n_status_writes, sizeof(seq));
	assert_memory_equal(FT.status_writes, seq, sizeof(seq));

	/* NOTIFICATION_DATA negotiated: the whole 32-bit value, with the
	 * queue index in the low half. */
	vnet_mmio_ops()->notify(m, 1, 0x80050001u);
	assert_int_equal(W.last_notify, 0x80050001u);
	assert_int_equal(FT.q[1].notifies, 1);

	assert_int_equal(vnet_device_reset(&dev), VNET_OK);
	assert_int_equal(W.q[0].ready, 0);
	assert_int_equal(vnet_mmio_violations(m), 0);
	vnet_mmio_remove(m);
	assert_int_equal(FT.violations, 0);
}

static void test_notify_without_notification_data(void **state)
{
	(void)state;
	struct vnet_mmio *m = probe_ok();
	struct vnet_device dev;
	core_up(&dev, m, V1 | N(MAC));
	struct vnet_queue_setup q = qset(1, 64);
	assert_int_equal(vnet_device_setup_queue_raw(&dev, &q, false), VNET_OK);
	assert_int_equal(vnet_device_driver_ok(&dev), VNET_OK);
	/* §4.2.3.3: the queue index alone. */
	vnet_mmio_ops()->notify(m, 1, 0x80050001u);
	assert_int_equal(W.last_notify, 1);
	vnet_mmio_remove(m);
	assert_int_equal(FT.violations, 0);
}

static void test_queue_num_max_zero(void **state)
{
	(void)state;
	W.qmax_force = 0;
	struct vnet_mmio *m = probe_ok();
	struct vnet_device dev;
	core_up(&dev, m, V1);
	assert_int_equal(vnet_device_queue_max_size(&dev, 0), 0);
	struct vnet_queue_setup q = qset(0, 64);
	assert_int_equal(vnet_device_setup_queue_raw(&dev, &q, false), VNET_ENODEV);
	assert_non_null(strstr(fake_hal_last_log(), "not available"));
	/* The transport's own check, below the core's. */
	assert_int_equal(vnet_mmio_ops()->setup_queue(m, &q), VNET_ENODEV);
	assert_non_null(strstr(fake_hal_last_log(), "QueueNumMax reads 0"));
	assert_int_equal(W.q[0].num_written, false);
	vnet_mmio_remove(m);
}

static void test_queue_num_max_beyond_spec(void **state)
{
	(void)state;
	W.qmax_force = 65535;
	struct vnet_mmio *m = probe_ok();
	struct vnet_device dev;
	core_up(&dev, m, V1);
	/* Above the spec's 32768: the queue is refused, the lie counted. */
	assert_int_equal(vnet_device_queue_max_size(&dev, 0), 0);
	assert_int_equal(vnet_mmio_violations(m), 1);
	assert_non_null(strstr(fake_hal_last_log(), "QueueNumMax 65535 exceeds"));
	vnet_mmio_remove(m);
}

static void test_queue_num_max_smaller_than_asked(void **state)
{
	(void)state;
	W.qmax_force = 64;
	struct vnet_mmio *m = probe_ok();
	struct vnet_device dev;
	core_up(&dev, m, V1);
	struct vnet_queue_setup q = qset(0, 128);
	/* The core refuses a size above the device's maximum... */
	assert_int_equal(vnet_device_setup_queue_raw(&dev, &q, false), VNET_EINVAL);
	assert_non_null(strstr(fake_hal_last_log(), "device maximum"));
	/* ...and the transport re-checks at setup (a maximum that shrank
	 * since it was read is a device lie). */
	assert_int_equal(vnet_mmio_ops()->setup_queue(m, &q), VNET_ERANGE);
	assert_int_equal(vnet_mmio_violations(m), 1);
	assert_non_null(strstr(fake_hal_last_log(), "QueueNumMax now 64"));
	assert_false(W.q[0].num_written);
	/* The size it allows works. */
	q.size = 64;
	assert_int_equal(vnet_device_setup_queue_raw(&dev, &q, false), VNET_OK);
	vnet_mmio_remove(m);
	assert_int_equal(FT.violations, 0);
}

static void test_queue_ready_not_latching(void **state)
{
	(void)state;
	W.queue_ready_stuck_at = 0;
	struct vnet_mmio *m = probe_ok();
	struct vnet_device dev;
	core_up(&dev, m, V1);
	struct vnet_queue_setup q = qset(0, 64);
	assert_int_equal(vnet_device_setup_queue_raw(&dev, &q, false), VNET_EIO);
	assert_int_equal(vnet_mmio_violations(m), 1);
	assert_non_null(strstr(fake_hal_last_log(), "queue 0 enable failed"));
	vnet_mmio_remove(m);
}

static void test_queue_ready_before_setup(void **state)
{
	(void)state;
	/* A queue already live cannot be re-programmed (§4.2.2.2). */
	W.queue_ready_stuck_at = 1;
	struct vnet_mmio *m = probe_ok();
	struct vnet_device dev;
	core_up(&dev, m, V1);
	struct vnet_queue_setup q = qset(0, 64);
	assert_int_equal(vnet_mmio_ops()->setup_queue(m, &q), VNET_EBUSY);
	assert_non_null(strstr(fake_hal_last_log(), "QueueReady reads 1 before setup"));
	assert_false(W.q[0].num_written);
	/* enable without a programmed queue is refused before any access */
	assert_int_equal(vnet_mmio_ops()->enable_queue(m, 0), VNET_EINVAL);
	vnet_mmio_remove(m);
}

static void test_reset_never_completes(void **state)
{
	(void)state;
	struct vnet_mmio *m = probe_ok();
	FT.reset_never_completes = true;
	FT.status = VIRTIO_STATUS_ACKNOWLEDGE;
	struct vnet_device dev;
	assert_int_equal(vnet_device_init(&dev, vnet_mmio_ops(), m, NULL), VNET_OK);
	/* Bounded by the core's 1 s (fake time advances per relax). */
	assert_int_equal(vnet_device_probe(&dev), VNET_ETIMEDOUT);
	assert_non_null(strstr(fake_hal_last_log(), "reset did not complete"));
	/* remove's own wait is bounded too, and says so. */
	vnet_mmio_remove(m);
	assert_non_null(strstr(fake_hal_last_log(), "did not reset on remove"));
}

static void test_config_generation_never_settles(void **state)
{
	(void)state;
	struct vnet_mmio *m = probe_ok();
	struct vnet_device dev;
	assert_int_equal(vnet_device_init(&dev, vnet_mmio_ops(), m, NULL), VNET_OK);
	assert_int_equal(vnet_device_probe(&dev), VNET_OK);
	FT.gen_never_settles = true;
	unsigned before = FT.generation_reads;
	uint8_t mac[6];
	assert_int_equal(vnet_device_read_config(&dev, 0, mac, 6), VNET_ETIMEDOUT);
	assert_non_null(strstr(fake_hal_last_log(), "generation did not settle"));
	/* Bounded: default retries, two ConfigGeneration reads each. */
	assert_true(FT.generation_reads - before <= 2u * VNET_DEVICE_CONFIG_RETRIES_DEFAULT + 2u);
	/* A torn read is retried and ends consistent. */
	FT.gen_never_settles = false;
	uint8_t alt[CFG_LEN];
	memset(alt, 0x11, sizeof(alt));
	fake_transport_set_config_alt(&FT, 0, alt, sizeof(alt));
	FT.config_tears = 1;
	assert_int_equal(vnet_device_read_config(&dev, 0, mac, 6), VNET_OK);
	for (unsigned i = 1; i < 6; i++)
		assert_int_equal(mac[i], mac[0] == 0x11 ? 0x11 : 0xa0 + i);
	vnet_mmio_remove(m);
}

static void test_features_ok_not_kept(void **state)
{
	(void)state;
	FT.refuse_features_ok = true;
	struct vnet_mmio *m = probe_ok();
	struct vnet_device dev;
	assert_int_equal(vnet_device_init(&dev, vnet_mmio_ops(), m, NULL), VNET_OK);
	assert_int_equal(vnet_device_negotiate(&dev, V1 | N(MAC)), VNET_EIO);
	/* FAILED was written through Status. */
	assert_true(FT.status & VIRTIO_STATUS_FAILED);
	vnet_mmio_remove(m);
}

static void test_status_bits_above_byte(void **state)
{
	(void)state;
	struct vnet_mmio *m = probe_ok();
	W.status_extra = 0x100;
	struct vnet_device dev;
	assert_int_equal(vnet_device_init(&dev, vnet_mmio_ops(), m, NULL), VNET_OK);
	assert_int_equal(vnet_device_probe(&dev), VNET_ERANGE);
	assert_int_equal(vnet_mmio_violations(m), 1);
	assert_non_null(strstr(fake_hal_last_log(), "reading device status"));
	W.status_extra = 0;
	vnet_mmio_remove(m);
}

static void test_device_vanishes(void **state)
{
	(void)state;
	struct vnet_mmio *m = probe_ok();
	struct vnet_device dev;
	core_up(&dev, m, V1 | N(MAC));
	/* Surprise removal: every register reads all-ones from now on. */
	W.all_ones = true;
	assert_int_equal(vnet_mmio_isr(m), 0);
	assert_int_equal(vnet_mmio_violations(m), 1);
	assert_int_equal(vnet_device_reset(&dev), VNET_ENODEV);
	assert_int_equal(vnet_device_queue_max_size(&dev, 0), 0);
	struct vnet_queue_setup q = qset(0, 64);
	assert_int_equal(vnet_mmio_ops()->setup_queue(m, &q), VNET_ENODEV);
	uint64_t feat = 1;
	assert_int_equal(vnet_mmio_ops()->get_device_features(m, &feat), VNET_ENODEV);
	assert_true(feat == 0);
	/* Counted once, however many ops then fail. */
	assert_int_equal(vnet_mmio_violations(m), 1);
	unsigned writes = W.writes;
	vnet_mmio_remove(m); /* quick: nothing to wait for */
	assert_int_equal(W.writes, writes);
}

static void test_device_vanishes_during_features(void **state)
{
	(void)state;
	struct vnet_mmio *m = probe_ok();
	W.all_ones = true;
	struct vnet_device dev;
	assert_int_equal(vnet_device_init(&dev, vnet_mmio_ops(), m, NULL), VNET_OK);
	assert_int_equal(vnet_device_probe(&dev), VNET_ENODEV);
	assert_non_null(strstr(fake_hal_last_log(), "reading device status"));
	vnet_mmio_remove(m);
}

/* ------------------------------------------------------------------ */
/* Interrupt acknowledge                                               */
/* ------------------------------------------------------------------ */

static void test_isr(void **state)
{
	(void)state;
	struct vnet_mmio *m = probe_ok();
	/* Not ours: nothing acknowledged, nothing written. */
	assert_int_equal(vnet_mmio_isr(m), 0);
	assert_int_equal(W.acks, 0);
	W.int_status = VIRTIO_MMIO_INT_VRING;
	assert_int_equal(vnet_mmio_isr(m), VIRTIO_MMIO_INT_VRING);
	assert_int_equal(W.last_ack, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(W.int_status, 0);
	W.int_status = VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG;
	assert_int_equal(vnet_mmio_isr(m), VIRTIO_MMIO_INT_MASK);
	assert_int_equal(W.int_status, 0);
	assert_int_equal(W.acks, 2);
	assert_int_equal(vnet_mmio_violations(m), 0);
	/* Undefined bits: ignored, not acknowledged (the front-end would
	 * count that as a breach), counted. */
	W.int_status = 0x80000000u | VIRTIO_MMIO_INT_CONFIG;
	assert_int_equal(vnet_mmio_isr(m), VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(W.last_ack, VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(vnet_mmio_violations(m), 1);
	W.int_status = 0;
	vnet_mmio_remove(m);
}

/* ------------------------------------------------------------------ */
/* virtio-net over MMIO, through src/net and the device model          */
/* ------------------------------------------------------------------ */

struct netfx {
	struct netdev_model m;
	struct fake_mmio w;
	struct vnet_mmio *mm;
	struct vnet_net *net;
};

static void fill_frame(uint8_t *b, uint32_t len, uint32_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		b[i] = (uint8_t)(seed * 29u + i * 5u + (i >> 8));
}

static struct netfx *net_up(enum vnet_vq_layout layout, uint64_t extra)
{
	struct netfx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	uint64_t offered = V1 | N(MAC) | N(STATUS) | N(MTU) | N(CTRL_VQ) | N(CTRL_RX) | N(MRG_RXBUF) |
			   F(EVENT_IDX) | F(INDIRECT_DESC) | extra;
	if (layout == VNET_VQ_PACKED)
		offered |= F(RING_PACKED);
	assert_int_equal(ndm_init(&f->m, offered, 1, 64), 0);
	assert_int_equal(fmm_init(&f->w, ndm_ops(&f->m), ndm_ctx(&f->m), 1, 0x200), 0);
	assert_int_equal(vnet_mmio_probe(fmm_base(&f->w), f->w.window_len, "mmio@net", &f->mm),
			 VNET_OK);
	assert_int_equal(vnet_mmio_device_type(f->mm), 1);
	struct vnet_net_opts o;
	memset(&o, 0, sizeof(o));
	o.pool_size = 192;
	int rc = vnet_net_create(vnet_mmio_ops(), f->mm, &o, &f->net);
	if (rc != VNET_OK)
		fail_msg("vnet_net_create over mmio: %s; last log: %s", vnet_strerror(rc),
			 fake_hal_last_log());
	return f;
}

static void net_down(struct netfx *f)
{
	vnet_net_destroy(f->net);
	assert_int_equal(vnet_mmio_violations(f->mm), 0);
	vnet_mmio_remove(f->mm);
	unsigned bad = f->w.bad;
	fmm_fini(&f->w);
	if (bad)
		fail_msg("front-end: %u driver breaches, last: %s", bad, f->w.last_bad);
	if (f->m.violations)
		fail_msg("device model: %u violations, last: %s", f->m.violations, f->m.last_violation);
	if (f->m.ft.violations)
		fail_msg("transport rules: %u violations, last: %s", f->m.ft.violations,
			 f->m.ft.last_violation);
	ndm_fini(&f->m);
	free(f);
}

static void net_traffic(enum vnet_vq_layout layout, uint64_t extra)
{
	struct netfx *f = net_up(layout, extra);
	struct vnet_net_info info;
	vnet_net_get_info(f->net, &info);
	assert_int_equal(info.layout, layout);
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	assert_memory_equal(info.mac, mac, 6);
	assert_true(info.link_up);
	assert_true(info.ctrl_vq);
	assert_int_equal(info.negotiated & F(RING_RESET), 0);
	assert_int_equal(info.queue_size, 64);

	/* Transmit: frames of several sizes reach the device byte for byte. */
	static const uint32_t lens[] = {14, 60, 1514, 333, 1000, 64};
	struct vnet_pkt *p[6];
	for (unsigned i = 0; i < 6; i++) {
		p[i] = vnet_net_pkt_alloc(f->net);
		assert_non_null(p[i]);
		fill_frame(p[i]->data, lens[i], i);
		p[i]->len = lens[i];
	}
	assert_int_equal(vnet_net_tx_burst(f->net, 0, p, 6), 6);
	assert_true(f->w.notifies > 0); /* the doorbell went through QueueNotify */
	assert_int_equal(ndm_poll(&f->m), 6);
	static uint8_t want[2048];
	for (unsigned i = 0; i < 6; i++) {
		assert_int_equal(f->m.tx[i].len, lens[i]);
		fill_frame(want, lens[i], i);
		assert_memory_equal(f->m.tx[i].data, want, lens[i]);
	}
	assert_int_equal(vnet_net_tx_reclaim(f->net, 0), 6);

	/* Receive: frames injected by the device arrive intact, 200 of them
	 * so both rings wrap several times. */
	for (unsigned n = 0; n < 200; n++) {
		uint32_t len = 14 + (n * 37u) % 1500u;
		static uint8_t fr[1514];
		fill_frame(fr, len, 1000 + n);
		assert_int_equal(ndm_rx_inject(&f->m, 0, fr, len, NULL), 1);
		if (n % 3 == 0)
			f->w.int_status |= VIRTIO_MMIO_INT_VRING;
		if (f->w.int_status)
			assert_int_equal(vnet_mmio_isr(f->mm), VIRTIO_MMIO_INT_VRING);
		struct vnet_pkt *r[2];
		assert_int_equal(vnet_net_rx_burst(f->net, 0, r, 2), 1);
		assert_int_equal(r[0]->pkt_len, len);
		assert_memory_equal(r[0]->data, fr, len);
		vnet_net_pkt_free(f->net, r[0]);
	}
	struct vnet_net_queue_stats st;
	vnet_net_get_stats(f->net, 0, &st);
	assert_int_equal(st.rx_packets, 200);
	assert_int_equal(st.tx_packets, 6);
	assert_int_equal(st.rx_errors + st.rx_drops + st.tx_errors + st.tx_drops, 0);

	/* A control command through the control queue (answered from the
	 * QueueNotify doorbell). */
	assert_int_equal(vnet_net_set_promisc(f->net, true), VNET_OK);
	assert_int_equal(ndm_ctrl_count(&f->m, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC), 1);

	/* Stop and restart over the same window: reset via Status 0, the
	 * queues programmed again. */
	unsigned resets = f->w.resets;
	vnet_net_stop(f->net);
	assert_int_equal(f->w.resets, resets + 1);
	assert_int_equal(vnet_net_restart(f->net), VNET_OK);
	struct vnet_pkt *t = vnet_net_pkt_alloc(f->net);
	assert_non_null(t);
	fill_frame(t->data, 100, 7);
	t->len = 100;
	assert_int_equal(vnet_net_tx_burst(f->net, 0, &t, 1), 1);
	assert_int_equal(ndm_poll(&f->m), 1);
	net_down(f);
}

static void test_net_split(void **state)
{
	(void)state;
	net_traffic(VNET_VQ_SPLIT, 0);
}

static void test_net_packed(void **state)
{
	(void)state;
	net_traffic(VNET_VQ_PACKED, 0);
}

static void test_net_split_notification_data(void **state)
{
	(void)state;
	net_traffic(VNET_VQ_SPLIT, F(NOTIFICATION_DATA) | F(IN_ORDER));
}

static void test_net_packed_notification_data(void **state)
{
	(void)state;
	net_traffic(VNET_VQ_PACKED, F(NOTIFICATION_DATA) | F(IN_ORDER));
}

/* RING_RESET over MMIO (QueueReset, spec 4.2.2): a receive queue reset
 * through the register window, resized, and traffic again; the device
 * itself is not reset. */
static void net_queue_reset(enum vnet_vq_layout layout)
{
	struct netfx *f = net_up(layout, F(RING_RESET));
	struct vnet_net_info info;
	vnet_net_get_info(f->net, &info);
	assert_true(info.negotiated & F(RING_RESET));
	unsigned resets = f->w.resets;
	f->m.ft.queue_reset_polls = 2; /* QueueReset reads 1 twice first */
	assert_int_equal(vnet_net_queue_reset(f->net, 0, 32), VNET_OK);
	assert_int_equal(f->w.queue_resets, 1);
	assert_int_equal(f->w.resets, resets);
	assert_int_equal(vnet_vq_size(vnet_net_rxq(f->net, 0)), 32);
	assert_int_equal(f->w.q[0].num, 32);
	static uint8_t fr[100];
	fill_frame(fr, sizeof(fr), 5);
	assert_int_equal(ndm_rx_inject(&f->m, 0, fr, sizeof(fr), NULL), 1);
	struct vnet_pkt *r[2];
	assert_int_equal(vnet_net_rx_burst(f->net, 0, r, 2), 1);
	assert_memory_equal(r[0]->data, fr, sizeof(fr));
	vnet_net_pkt_free(f->net, r[0]);
	/* A reset that never completes: bounded, the queue left broken. */
	f->m.ft.queue_reset_never_completes = true;
	assert_int_equal(vnet_net_queue_reset(f->net, 1, 0), VNET_ETIMEDOUT);
	assert_true(vnet_vq_is_broken(vnet_net_txq(f->net, 0)));
	f->m.ft.queue_reset_never_completes = false;
	net_down(f);
}

static void test_net_queue_reset_split(void **state)
{
	(void)state;
	net_queue_reset(VNET_VQ_SPLIT);
}

static void test_net_queue_reset_packed(void **state)
{
	(void)state;
	net_queue_reset(VNET_VQ_PACKED);
}

static void test_net_queue_not_available(void **state)
{
	(void)state;
	/* The device has no control queue behind its window (QueueNumMax
	 * 0 for index 2): create fails naming it, everything released. */
	struct netdev_model m;
	struct fake_mmio w;
	assert_int_equal(ndm_init(&m, V1 | N(MAC) | N(CTRL_VQ) | N(CTRL_RX), 1, 64), 0);
	m.ft.q[2].max_size = 0;
	assert_int_equal(fmm_init(&w, ndm_ops(&m), ndm_ctx(&m), 1, 0x200), 0);
	struct vnet_mmio *mm = NULL;
	assert_int_equal(vnet_mmio_probe(fmm_base(&w), w.window_len, "mmio@net", &mm), VNET_OK);
	struct vnet_net_opts o;
	memset(&o, 0, sizeof(o));
	o.pool_size = 192;
	struct vnet_net *net = NULL;
	assert_int_equal(vnet_net_create(vnet_mmio_ops(), mm, &o, &net), VNET_ENODEV);
	assert_null(net);
	assert_non_null(strstr(fake_hal_last_log(), "bring-up failed: no such device"));
	vnet_mmio_remove(mm);
	assert_int_equal(w.bad, 0);
	fmm_fini(&w);
	ndm_fini(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_probe_identity),
		T(test_bad_magic),
		T(test_version1_legacy_refused),
		T(test_version3_refused),
		T(test_device_id_zero_is_silent),
		T(test_all_ones_window),
		T(test_probe_arguments),
		T(test_core_bringup_registers),
		T(test_notify_without_notification_data),
		T(test_queue_num_max_zero),
		T(test_queue_num_max_beyond_spec),
		T(test_queue_num_max_smaller_than_asked),
		T(test_queue_ready_not_latching),
		T(test_queue_ready_before_setup),
		T(test_reset_never_completes),
		T(test_config_generation_never_settles),
		T(test_features_ok_not_kept),
		T(test_status_bits_above_byte),
		T(test_device_vanishes),
		T(test_device_vanishes_during_features),
		T(test_isr),
		T(test_net_split),
		T(test_net_packed),
		T(test_net_split_notification_data),
		T(test_net_packed_notification_data),
		T(test_net_queue_reset_split),
		T(test_net_queue_reset_packed),
		T(test_net_queue_not_available),
#undef T
	};
	return cmocka_run_group_tests_name("virtio_mmio", tests, NULL, NULL);
}
