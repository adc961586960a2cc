/*
 * Device core against the fake transport: the spec 3.1.1 init sequence in
 * exact order, the bounded reset wait, FEATURES_OK refusal, legacy (no
 * VERSION_1) devices, generation-checked config reads, queue setup checks,
 * queue reset, notify gating, FAILED and DEVICE_NEEDS_RESET handling, and
 * negotiation with the feature knowledge a device layer passes in opts
 * (most tests use virtio-net's, as the net layer does; one uses a toy
 * device type to show the core assumes none).
 *
 * Time: waits use the fake HAL's relax step, so a "1 second" bound passes
 * in a few hundred polls; nothing here measures wall time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/device_priv.h"
#include "fake_hal.h"
#include "fake_transport.h"
#include "vnet/device.h"
#include "vnet/features.h"
#include "vnet/net.h"
#include "vnet/virtqueue.h"

#define V1 VNET_BIT(VIRTIO_F_VERSION_1)
#define N(x) VNET_BIT(VIRTIO_NET_F_##x)
#define ACK VIRTIO_STATUS_ACKNOWLEDGE
#define DRV VIRTIO_STATUS_DRIVER
#define FOK VIRTIO_STATUS_FEATURES_OK
#define DOK VIRTIO_STATUS_DRIVER_OK
#define FAILED VIRTIO_STATUS_FAILED

struct fx {
	struct fake_transport ft;
	struct vnet_device dev;
};

static int setup(void **state)
{
	static struct fx fx;
	memset(&fx, 0, sizeof(fx));
	fake_transport_init(&fx.ft, V1 | N(MAC) | N(CSUM) | N(HOST_TSO4) | N(CTRL_VQ) | N(MQ), 3, 256);
	/* 10 ms per relax: a 1 s bound is reached in ~100 polls */
	fake_hal_set_relax_step_ns(10 * 1000 * 1000);
	struct vnet_device_opts o = {.known = VNET_FEATURES_NET_KNOWN, .feature_name = vnet_feature_name};
	o.rules = vnet_net_feature_rules(&o.nrules);
	assert_int_equal(vnet_device_init(&fx.dev, &fake_transport_ops, &fx.ft, &o), VNET_OK);
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_hal_set_relax_step_ns(0);
	assert_int_equal(fake_hal_live_dma(), 0);
	assert_int_equal(fake_hal_live_private(), 0);
	return 0;
}

static struct vnet_queue_setup qs(uint16_t index, uint16_t size)
{
	struct vnet_queue_setup q = {.index = index, .size = size, .desc = 0x1000, .driver = 0x2000,
				     .device = 0x3000, .vector = VNET_VECTOR_NONE};
	return q;
}

static void test_init_requires_ops(void **state)
{
	(void)state;
	struct vnet_device dev;
	struct vnet_transport_ops ops = fake_transport_ops;
	ops.notify = NULL;
	assert_int_equal(vnet_device_init(&dev, &ops, NULL, NULL), VNET_EINVAL);
	ops = fake_transport_ops;
	ops.enable_queue = NULL; /* optional */
	ops.reset_queue = NULL;
	ops.set_config_vector = NULL;
	assert_int_equal(vnet_device_init(&dev, &ops, NULL, NULL), VNET_OK);
	assert_int_equal(vnet_device_init(&dev, NULL, NULL, NULL), VNET_EINVAL);
	/* a device that was never bound refuses everything */
	struct vnet_device zero;
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(vnet_device_probe(&zero), VNET_EINVAL);
	assert_int_equal(vnet_device_negotiate(&zero, ~0ULL), VNET_EINVAL);
}

/* create allocates an opaque device usable through the API alone; a
 * missing op fails without leaking; destroy frees it (NULL-safe). */
static void test_create_destroy(void **state)
{
	struct fx *fx = *state;
	size_t live0 = fake_hal_live_private();
	struct vnet_device *dev = (struct vnet_device *)1;
	struct vnet_transport_ops ops = fake_transport_ops;
	ops.setup_queue = NULL;
	assert_int_equal(vnet_device_create(&ops, &fx->ft, NULL, &dev), VNET_EINVAL);
	assert_null(dev);
	assert_int_equal(fake_hal_live_private(), live0);
	assert_int_equal(vnet_device_create(&fake_transport_ops, &fx->ft, NULL, NULL), VNET_EINVAL);
	struct vnet_device_opts o = {.name = "dev7"};
	assert_int_equal(vnet_device_create(&fake_transport_ops, &fx->ft, &o, &dev), VNET_OK);
	assert_non_null(dev);
	assert_int_equal(fake_hal_live_private(), live0 + 1);
	assert_string_equal(vnet_device_name(dev), "dev7");
	assert_int_equal(vnet_device_negotiate(dev, V1 | N(MAC)), VNET_OK);
	assert_int_equal(vnet_device_features(dev), V1 | N(MAC));
	assert_int_equal(vnet_device_reset(dev), VNET_OK);
	vnet_device_destroy(dev);
	vnet_device_destroy(NULL);
	assert_int_equal(fake_hal_live_private(), live0);
}

/* A toy device type: bit 0 needs bit 1 (a SPEC rule), bit 3 needs bit 2
 * (a SHOULD: dropped from the accepted set, tolerated in an offer); it
 * knows bits 0..3 only. */
static const struct vnet_feature_rule toy_rules[] = {
	{0, VNET_FRULE_SPEC, VNET_BIT(1), 0},
	{3, VNET_FRULE_SHOULD, VNET_BIT(2), 0},
};

/* The core applies the rules and device-type mask the device layer gives,
 * and no device type's of its own. */
static void test_negotiate_with_device_rules(void **state)
{
	struct fx *fx = *state;
	struct fake_transport *ft = &fx->ft;
	uint64_t low = VNET_BIT(0) | VNET_BIT(1) | VNET_BIT(2) | VNET_BIT(3) | VNET_BIT(5) | VNET_BIT(50);
	struct vnet_device_opts o = {.rules = toy_rules, .nrules = 2, .known = 0xfULL};

	ft->offered = V1 | low | VNET_BIT(VIRTIO_F_EVENT_IDX) | VNET_BIT(24);
	assert_int_equal(vnet_device_init(&fx->dev, &fake_transport_ops, ft, &o), VNET_OK);
	/* bit 0 without bit 1, bit 3 without bit 2: dropped; 5 and 50 unknown;
	 * legacy bit 24 never, whatever is wanted. */
	assert_int_equal(vnet_device_negotiate(&fx->dev, VNET_BIT(0) | VNET_BIT(3) | VNET_BIT(5) | VNET_BIT(50) |
							       VNET_BIT(VIRTIO_F_EVENT_IDX) | VNET_BIT(24)),
			 VNET_OK);
	assert_int_equal(vnet_device_features(&fx->dev), V1 | VNET_BIT(VIRTIO_F_EVENT_IDX));
	assert_int_equal(vnet_device_reset(&fx->dev), VNET_OK);
	assert_int_equal(vnet_device_negotiate(&fx->dev, low), VNET_OK);
	assert_int_equal(vnet_device_features(&fx->dev), V1 | VNET_BIT(0) | VNET_BIT(1) | VNET_BIT(2) | VNET_BIT(3));

	/* No rules and no mask: the caller's wanted device-type bits, as they are
	 * (what virtio-net's table would drop is kept: the core has no table). */
	ft->offered = V1 | N(MQ) | N(MAC) | VNET_BIT(24);
	assert_int_equal(vnet_device_init(&fx->dev, &fake_transport_ops, ft, NULL), VNET_OK);
	assert_int_equal(vnet_device_negotiate(&fx->dev, N(MQ) | N(MAC) | VNET_BIT(24)), VNET_OK);
	assert_int_equal(vnet_device_features(&fx->dev), V1 | N(MQ) | N(MAC));
	assert_int_equal(vnet_device_reset(&fx->dev), VNET_OK);
}

static void test_init_sequence_order(void **state)
{
	struct fx *fx = *state;
	struct fake_transport *ft = &fx->ft;
	ft->status = ACK | DRV | FOK | DOK; /* left over from a previous driver */

	assert_int_equal(vnet_device_negotiate(&fx->dev, N(MAC) | N(CSUM) | N(HOST_TSO4) | N(MQ)), VNET_OK);
	/* CTRL_VQ not wanted -> MQ dropped; CSUM/HOST_TSO4 kept */
	assert_int_equal(vnet_device_features(&fx->dev), V1 | N(MAC) | N(CSUM) | N(HOST_TSO4));
	assert_int_equal(ft->driver_features, V1 | N(MAC) | N(CSUM) | N(HOST_TSO4));
	assert_int_equal(vnet_device_offered(&fx->dev), ft->offered);

	struct vnet_queue_setup q0 = qs(0, 256), q1 = qs(1, 128);
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q0, false), VNET_OK);
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q1, false), VNET_OK);
	assert_int_equal(vnet_device_driver_ok(&fx->dev), VNET_OK);
	assert_true(vnet_device_is_live(&fx->dev));

	/* Status writes, exactly, in spec 3.1.1 order. */
	const uint8_t want[] = {ACK, ACK | DRV, ACK | DRV | FOK, ACK | DRV | FOK | DOK};
	assert_int_equal(ft->n_status_writes, sizeof(want));
	assert_memory_equal(ft->status_writes, want, sizeof(want));

	/* The reset comes first, features between DRIVER and FEATURES_OK,
	 * queues between FEATURES_OK and DRIVER_OK, each enabled after setup. */
	assert_int_equal(ft->events[0].type, FT_EV_RESET);
	assert_int_equal(fake_transport_count(ft, FT_EV_RESET), 1);
	int drv = fake_transport_first_status_with(ft, DRV);
	int feat = fake_transport_first(ft, FT_EV_FEATURES);
	int fok = fake_transport_first_status_with(ft, FOK);
	int setup0 = fake_transport_first(ft, FT_EV_SETUP_QUEUE);
	int enable0 = fake_transport_first(ft, FT_EV_ENABLE_QUEUE);
	int dok = fake_transport_first_status_with(ft, DOK);
	assert_true(drv < feat && feat < fok && fok < setup0 && setup0 < enable0 && enable0 < dok);
	assert_int_equal(fake_transport_count(ft, FT_EV_FEATURES), 1);
	assert_int_equal(fake_transport_count(ft, FT_EV_SETUP_QUEUE), 2);
	assert_int_equal(fake_transport_count(ft, FT_EV_ENABLE_QUEUE), 2);
	assert_true(ft->q[0].enabled && ft->q[1].enabled && !ft->q[2].enabled);
	assert_int_equal(ft->q[1].setup.size, 128);
	assert_int_equal(ft->q[1].setup.desc, 0x1000);
	assert_int_equal(ft->q[1].setup.driver, 0x2000);
	assert_int_equal(ft->q[1].setup.device, 0x3000);
	if (ft->violations)
		fail_msg("fake device saw a violation: %s", ft->last_violation);
}

static void test_probe_then_config_then_negotiate(void **state)
{
	struct fx *fx = *state;
	struct fake_transport *ft = &fx->ft;
	const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	fake_transport_set_config(ft, 0, mac, 6);

	uint8_t buf[6];
	/* Config before probe: refused (no device state yet). */
	assert_int_equal(vnet_device_read_config(&fx->dev, 0, buf, 6), VNET_EINVAL);
	assert_int_equal(vnet_device_probe(&fx->dev), VNET_OK);
	assert_int_equal(vnet_device_offered(&fx->dev), ft->offered);
	assert_int_equal(vnet_device_features(&fx->dev), 0);
	/* Spec 3.1.1 step 4: config may be read before features are accepted. */
	assert_int_equal(vnet_device_read_config(&fx->dev, 0, buf, 6), VNET_OK);
	assert_memory_equal(buf, mac, 6);
	assert_int_equal(vnet_device_negotiate(&fx->dev, N(MAC)), VNET_OK);
	/* negotiate after probe does not reset again */
	assert_int_equal(fake_transport_count(ft, FT_EV_RESET), 1);
	assert_int_equal(ft->violations, 0);
	/* out of range config read: the transport's VNET_ERANGE comes through */
	assert_int_equal(vnet_device_read_config(&fx->dev, FT_CONFIG_MAX - 2, buf, 6), VNET_ERANGE);
	assert_int_equal(vnet_device_read_config(&fx->dev, 0, NULL, 0), VNET_OK);
}

static void test_reset_never_completes(void **state)
{
	struct fx *fx = *state;
	struct fake_transport *ft = &fx->ft;
	ft->status = ACK | DRV | DOK;
	ft->reset_never_completes = true;
	unsigned long logs = fake_hal_log_count();

	assert_int_equal(vnet_device_negotiate(&fx->dev, ~0ULL), VNET_ETIMEDOUT);
	/* bounded: ~1 s at 10 ms per poll, not forever */
	assert_true(ft->status_reads >= 2 && ft->status_reads < 1000);
	/* nothing of the init sequence was attempted on an unreset device */
	assert_int_equal(fake_transport_first_status_with(ft, ACK), -1);
	assert_int_equal(fake_transport_count(ft, FT_EV_FEATURES), 0);
	assert_true(fake_hal_log_count() > logs);
	assert_non_null(strstr(fake_hal_last_log(), "reset"));
	assert_false(vnet_device_is_live(&fx->dev));
	/* and no status write was attempted on the still-resetting device */
	assert_int_equal(ft->n_status_writes, 0);
	assert_int_equal(ft->violations, 0);
}

static void test_reset_completes_late(void **state)
{
	struct fx *fx = *state;
	struct fake_transport *ft = &fx->ft;
	ft->status = ACK;
	ft->reset_delay_polls = 20; /* 200 ms of fake time: inside the bound */
	assert_int_equal(vnet_device_negotiate(&fx->dev, N(MAC)), VNET_OK);
	assert_true(ft->status_reads > 20);
	assert_int_equal(ft->violations, 0);
}

static void test_reset_timeout_is_configurable(void **state)
{
	struct fx *fx = *state;
	struct fake_transport *ft = &fx->ft;
	struct vnet_device_opts o = {.reset_timeout_ns = 50 * 1000 * 1000ull, .name = "eth-test"};
	assert_int_equal(vnet_device_init(&fx->dev, &fake_transport_ops, ft, &o), VNET_OK);
	assert_string_equal(vnet_device_name(&fx->dev), "eth-test");
	ft->reset_delay_polls = 20; /* 200 ms > 50 ms bound */
	ft->status = ACK;
	assert_int_equal(vnet_device_reset(&fx->dev), VNET_ETIMEDOUT);
	assert_true(ft->status_reads <= 10);
	assert_non_null(strstr(fake_hal_last_log(), "eth-test"));
}

static void test_features_ok_refused(void **state)
{
	struct fx *fx = *state;
	struct fake_transport *ft = &fx->ft;
	ft->refuse_features_ok = true;
	assert_int_equal(vnet_device_negotiate(&fx->dev, N(MAC) | N(CSUM)), VNET_EIO);
	assert_int_equal(vnet_device_features(&fx->dev), 0);
	/* FAILED written last, keeping the bits set before (spec 2.1.1) */
	assert_true(ft->n_status_writes >= 4);
	uint8_t last = ft->status_writes[ft->n_status_writes - 1];
	assert_int_equal(last, ACK | DRV | FOK | FAILED);
	assert_true(ft->status & FAILED);
	/* the log names the refused features */
	assert_non_null(strstr(fake_hal_last_log(), "CSUM"));
	assert_non_null(strstr(fake_hal_last_log(), "VERSION_1"));
	/* nothing goes on after FAILED */
	struct vnet_queue_setup q = qs(0, 64);
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q, false), VNET_EINVAL);
	assert_int_equal(vnet_device_driver_ok(&fx->dev), VNET_EINVAL);
	assert_int_equal(fake_transport_count(ft, FT_EV_SETUP_QUEUE), 0);
	assert_int_equal(ft->violations, 0);

	/* Recovery: reset and negotiate again once the device is willing. */
	ft->refuse_features_ok = false;
	assert_int_equal(vnet_device_negotiate(&fx->dev, N(MAC)), VNET_OK);
	assert_int_equal(fake_transport_count(ft, FT_EV_RESET), 2);
	assert_int_equal(ft->violations, 0);
}

static void test_no_version_1(void **state)
{
	struct fx *fx = *state;
	struct fake_transport *ft = &fx->ft;
	ft->offered = N(MAC) | N(CSUM); /* legacy-only device */
	assert_int_equal(vnet_device_negotiate(&fx->dev, ~0ULL), VNET_ENOTSUP);
	assert_int_equal(fake_transport_count(ft, FT_EV_FEATURES), 0);
	assert_int_equal(fake_transport_first_status_with(ft, FOK), -1);
	assert_true(ft->status & FAILED);
	assert_int_equal(ft->status_writes[ft->n_status_writes - 1], ACK | DRV | FAILED);
	assert_non_null(strstr(fake_hal_last_log(), "VERSION_1"));
	assert_int_equal(ft->violations, 0);
}

static void test_config_generation_retry(void **state)
{
	struct fx *fx = *state;
	struct fake_transport *ft = &fx->ft;
	uint8_t a[16], b[16], out[16];
	memset(a, 0xaa, sizeof(a));
	memset(b, 0xbb, sizeof(b));
	fake_transport_set_config(ft, 8, a, sizeof(a));
	fake_transport_set_config_alt(ft, 8, b, sizeof(b));
	assert_int_equal(vnet_device_probe(&fx->dev), VNET_OK);

	/* three torn reads: contents flip A->B->A->B, each mid-copy */
	ft->config_tears = 3;
	ft->config_reads = 0;
	assert_int_equal(vnet_device_read_config(&fx->dev, 8, out, sizeof(out)), VNET_OK);
	assert_int_equal(ft->config_reads, 4);
	assert_memory_equal(out, b, sizeof(out)); /* consistent, the latest version */

	/* one more tear: the device now flips B->A mid-read; the retry sees A */
	ft->config_tears = 1;
	ft->config_reads = 0;
	assert_int_equal(vnet_device_read_config(&fx->dev, 8, out, sizeof(out)), VNET_OK);
	assert_int_equal(ft->config_reads, 2);
	assert_memory_equal(out, a, sizeof(out));

	/* no change: one read */
	ft->config_reads = 0;
	assert_int_equal(vnet_device_read_config(&fx->dev, 8, out, sizeof(out)), VNET_OK);
	assert_int_equal(ft->config_reads, 1);
	assert_memory_equal(out, a, sizeof(out));
}

static void test_config_generation_never_settles(void **state)
{
	struct fx *fx = *state;
	struct fake_transport *ft = &fx->ft;
	struct vnet_device_opts o = {.config_retries = 7};
	assert_int_equal(vnet_device_init(&fx->dev, &fake_transport_ops, ft, &o), VNET_OK);
	assert_int_equal(vnet_device_probe(&fx->dev), VNET_OK);
	ft->gen_never_settles = true;
	ft->config_reads = 0;
	uint8_t out[4];
	assert_int_equal(vnet_device_read_config(&fx->dev, 0, out, sizeof(out)), VNET_ETIMEDOUT);
	assert_int_equal(ft->config_reads, 7);
	assert_non_null(strstr(fake_hal_last_log(), "generation"));

	/* default bound */
	assert_int_equal(vnet_device_init(&fx->dev, &fake_transport_ops, ft, NULL), VNET_OK);
	assert_int_equal(vnet_device_probe(&fx->dev), VNET_OK);
	ft->config_reads = 0;
	assert_int_equal(vnet_device_read_config(&fx->dev, 0, out, sizeof(out)), VNET_ETIMEDOUT);
	assert_int_equal(ft->config_reads, VNET_DEVICE_CONFIG_RETRIES_DEFAULT);
}

static void test_queue_setup_checks(void **state)
{
	struct fx *fx = *state;
	struct fake_transport *ft = &fx->ft;
	struct vnet_queue_setup q = qs(0, 256);
	/* before FEATURES_OK: refused */
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q, false), VNET_EINVAL);
	assert_int_equal(vnet_device_probe(&fx->dev), VNET_OK);
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q, false), VNET_EINVAL);
	ft->q[1].max_size = 0;
	assert_int_equal(vnet_device_negotiate(&fx->dev, N(MAC)), VNET_OK);

	q = qs(0, 512); /* above max 256 */
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q, false), VNET_EINVAL);
	q = qs(0, 0);
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q, false), VNET_EINVAL);
	q = qs(0, 96); /* split must be a power of two */
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q, false), VNET_EINVAL);
	q = qs(1, 64); /* queue not available */
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q, false), VNET_ENODEV);
	q = qs(3, 64); /* beyond num_queues */
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q, false), VNET_ENODEV);
	q = qs(0, 64); /* packed ring without RING_PACKED negotiated */
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q, true), VNET_EINVAL);
	/* none of the above reached the device */
	assert_int_equal(fake_transport_count(ft, FT_EV_SETUP_QUEUE), 0);

	q = qs(0, 256); /* exactly max: fine */
	q.vector = 1;
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q, false), VNET_OK);
	assert_int_equal(ft->q[0].setup.vector, 1);
	/* a vector the device cannot map (reads back NO_VECTOR) */
	ft->vector_limit = 2;
	q = qs(2, 64);
	q.vector = 5;
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q, false), VNET_EIO);
	assert_false(ft->q[2].enabled);
	q.vector = VNET_VECTOR_NONE; /* caller falls back */
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q, false), VNET_OK);

	assert_int_equal(vnet_device_driver_ok(&fx->dev), VNET_OK);
	/* after DRIVER_OK without RING_RESET: no re-programming */
	q = qs(0, 64);
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q, false), VNET_EINVAL);
	assert_int_equal(vnet_device_queue_max_size(&fx->dev, 0), 256);
	assert_int_equal(vnet_device_queue_max_size(&fx->dev, 1), 0);
	assert_int_equal(vnet_device_queue_max_size(&fx->dev, 9), 0);
	assert_int_equal(vnet_device_num_queues(&fx->dev), 3);
	assert_int_equal(ft->violations, 0);
}

static void test_packed_layout_needs_ring_packed(void **state)
{
	struct fx *fx = *state;
	struct fake_transport *ft = &fx->ft;
	ft->offered |= VNET_BIT(VIRTIO_F_RING_PACKED);
	assert_int_equal(vnet_device_negotiate(&fx->dev, VNET_BIT(VIRTIO_F_RING_PACKED)), VNET_OK);
	struct vnet_queue_setup q = qs(0, 96); /* packed: any size up to max */
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q, false), VNET_EINVAL);
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q, true), VNET_OK);

	/* A transport that cannot carry RING_PACKED never gets it. */
	struct vnet_transport_ops narrow = fake_transport_ops;
	narrow.transport_features &= ~VNET_BIT(VIRTIO_F_RING_PACKED);
	assert_int_equal(vnet_device_init(&fx->dev, &narrow, ft, NULL), VNET_OK);
	assert_int_equal(vnet_device_negotiate(&fx->dev, VNET_BIT(VIRTIO_F_RING_PACKED)), VNET_OK);
	assert_false(vnet_device_has_feature(&fx->dev, VIRTIO_F_RING_PACKED));
	assert_int_equal(ft->violations, 0);
}

static void test_setup_queue_from_vq_and_notify(void **state)
{
	struct fx *fx = *state;
	struct fake_transport *ft = &fx->ft;
	assert_int_equal(vnet_device_negotiate(&fx->dev, 0), VNET_OK);
	struct vnet_vq_config cfg = {.index = 2, .size = 64, .layout = VNET_VQ_SPLIT,
				     .features = vnet_device_features(&fx->dev), .name = "txq0"};
	struct vnet_vq *vq = NULL;
	assert_int_equal(vnet_vq_create(&cfg, &vq), VNET_OK);

	/* no doorbell before DRIVER_OK (spec 3.1.1) */
	vnet_device_notify(&fx->dev, vq);
	assert_int_equal(fake_transport_count(ft, FT_EV_NOTIFY), 0);

	assert_int_equal(vnet_device_setup_queue(&fx->dev, vq, 3), VNET_OK);
	uint64_t d, dr, dv;
	vnet_vq_ring_addrs(vq, &d, &dr, &dv);
	assert_int_equal(ft->q[2].setup.index, 2);
	assert_int_equal(ft->q[2].setup.size, 64);
	assert_int_equal(ft->q[2].setup.desc, d);
	assert_int_equal(ft->q[2].setup.driver, dr);
	assert_int_equal(ft->q[2].setup.device, dv);
	assert_int_equal(ft->q[2].setup.vector, 3);
	assert_true(ft->q[2].enabled);

	assert_int_equal(vnet_device_driver_ok(&fx->dev), VNET_OK);
	vnet_device_notify(&fx->dev, vq);
	assert_int_equal(ft->q[2].notifies, 1);
	assert_int_equal(ft->q[2].last_notify_data, vnet_vq_notify_data(vq));

	/* a queue bigger than the device allows is refused */
	struct vnet_vq_config big = cfg;
	big.index = 0;
	big.size = 512;
	struct vnet_vq *vq2 = NULL;
	assert_int_equal(vnet_vq_create(&big, &vq2), VNET_OK);
	assert_int_equal(vnet_device_reset(&fx->dev), VNET_OK);
	assert_int_equal(vnet_device_negotiate(&fx->dev, 0), VNET_OK);
	assert_int_equal(vnet_device_setup_queue(&fx->dev, vq2, VNET_VECTOR_NONE), VNET_EINVAL);
	assert_false(ft->q[0].configured);

	vnet_vq_destroy(vq2);
	vnet_vq_destroy(vq);
	assert_int_equal(ft->violations, 0);
}

static void test_queue_reset(void **state)
{
	struct fx *fx = *state;
	struct fake_transport *ft = &fx->ft;
	/* without RING_RESET negotiated: not supported */
	assert_int_equal(vnet_device_negotiate(&fx->dev, 0), VNET_OK);
	assert_int_equal(vnet_device_reset_queue(&fx->dev, 0), VNET_ENOTSUP);

	ft->offered |= VNET_BIT(VIRTIO_F_RING_RESET);
	assert_int_equal(vnet_device_negotiate(&fx->dev, VNET_BIT(VIRTIO_F_RING_RESET)), VNET_OK);
	struct vnet_queue_setup q = qs(0, 64);
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q, false), VNET_OK);
	assert_int_equal(vnet_device_driver_ok(&fx->dev), VNET_OK);

	ft->queue_reset_polls = 5;
	assert_int_equal(vnet_device_reset_queue(&fx->dev, 0), VNET_OK);
	assert_int_equal(fake_transport_count(ft, FT_EV_RESET_QUEUE), 6);
	assert_false(ft->q[0].enabled);
	/* after a queue reset the queue may be set up again while live */
	assert_int_equal(vnet_device_setup_queue_raw(&fx->dev, &q, false), VNET_OK);
	assert_true(ft->q[0].enabled);

	ft->queue_reset_never_completes = true;
	assert_int_equal(vnet_device_reset_queue(&fx->dev, 0), VNET_ETIMEDOUT);

	/* a transport without the op */
	struct vnet_transport_ops ops = fake_transport_ops;
	ops.reset_queue = NULL;
	ft->queue_reset_never_completes = false;
	assert_int_equal(vnet_device_init(&fx->dev, &ops, ft, NULL), VNET_OK);
	assert_int_equal(vnet_device_negotiate(&fx->dev, VNET_BIT(VIRTIO_F_RING_RESET)), VNET_OK);
	assert_int_equal(vnet_device_reset_queue(&fx->dev, 0), VNET_ENOTSUP);
	assert_int_equal(ft->violations, 0);
}

static void test_needs_reset(void **state)
{
	struct fx *fx = *state;
	struct fake_transport *ft = &fx->ft;
	assert_int_equal(vnet_device_negotiate(&fx->dev, 0), VNET_OK);
	assert_false(vnet_device_needs_reset(&fx->dev));
	ft->needs_reset = true;
	assert_true(vnet_device_needs_reset(&fx->dev));
	/* DRIVER_OK on a device that already needs a reset: reported */
	assert_int_equal(vnet_device_driver_ok(&fx->dev), VNET_EIO);
	assert_false(vnet_device_is_live(&fx->dev));
	assert_true(ft->status & FAILED);

	/* a reset clears it (spec 2.4.1: status back to 0) */
	assert_int_equal(vnet_device_reset(&fx->dev), VNET_OK);
	assert_false(vnet_device_needs_reset(&fx->dev));

	/* a device that gives up while accepting features */
	ft->needs_reset_at_features_ok = true;
	assert_int_equal(vnet_device_negotiate(&fx->dev, 0), VNET_EIO);
	assert_true(ft->status & FAILED);
	ft->needs_reset_at_features_ok = false;

	assert_int_equal(vnet_device_negotiate(&fx->dev, 0), VNET_OK);
	assert_int_equal(vnet_device_driver_ok(&fx->dev), VNET_OK);
	ft->needs_reset = true;
	assert_true(vnet_device_needs_reset(&fx->dev));
	assert_int_equal(ft->violations, 0);
}

static void test_fail_and_reset(void **state)
{
	struct fx *fx = *state;
	struct fake_transport *ft = &fx->ft;
	assert_int_equal(vnet_device_negotiate(&fx->dev, N(MAC)), VNET_OK);
	assert_int_equal(vnet_device_driver_ok(&fx->dev), VNET_OK);
	vnet_device_fail(&fx->dev);
	/* FAILED added on top of every bit set so far (spec 2.1.1) */
	assert_int_equal(ft->status_writes[ft->n_status_writes - 1], ACK | DRV | FOK | DOK | FAILED);
	assert_false(vnet_device_is_live(&fx->dev));
	assert_int_equal(vnet_device_features(&fx->dev), 0);

	assert_int_equal(vnet_device_reset(&fx->dev), VNET_OK);
	assert_int_equal(vnet_device_status(&fx->dev), 0);
	assert_int_equal(vnet_device_offered(&fx->dev), 0);
	assert_int_equal(vnet_device_negotiate(&fx->dev, N(MAC)), VNET_OK);
	assert_int_equal(vnet_device_features(&fx->dev), V1 | N(MAC));
	assert_int_equal(ft->violations, 0);
}

static void test_config_vector(void **state)
{
	struct fx *fx = *state;
	struct fake_transport *ft = &fx->ft;
	ft->vector_limit = 4;
	assert_int_equal(vnet_device_set_config_vector(&fx->dev, 0), VNET_OK);
	assert_int_equal(ft->config_vector, 0);
	assert_int_equal(vnet_device_set_config_vector(&fx->dev, 9), VNET_EIO);
	assert_int_equal(vnet_device_set_config_vector(&fx->dev, VNET_VECTOR_NONE), VNET_OK);
	struct vnet_transport_ops ops = fake_transport_ops;
	ops.set_config_vector = NULL;
	assert_int_equal(vnet_device_init(&fx->dev, &ops, ft, NULL), VNET_OK);
	assert_int_equal(vnet_device_set_config_vector(&fx->dev, 0), VNET_ENOTSUP);
}

int main(void)
{
	fake_hal_set_echo(0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_requires_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negotiate_with_device_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_sequence_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_then_config_then_negotiate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_never_completes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_completes_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_timeout_is_configurable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_ok_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_version_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_generation_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_generation_never_settles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_setup_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packed_layout_needs_ring_packed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setup_queue_from_vq_and_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_vector, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
