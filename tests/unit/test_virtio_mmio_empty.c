/*
 * virtio-mmio: an empty slot is not an error.
 *
 * VirtIO 1.2 §4.2.3.1.1: "The driver MUST ignore a device with DeviceID
 * 0x0, but MUST NOT report any error."  Platforms describe many more
 * windows than they populate (QEMU's virt and microvm machines: 32 slots,
 * legacy Version 1 by default), so an empty slot of any Version must come
 * back as VNET_MMIO_EMPTY — a result a host can tell from every error,
 * with nothing logged and no register beyond MagicValue and DeviceID read
 * (DeviceID sits at 0x008 in the legacy layout too, §4.2.4).  A populated
 * legacy device is still refused with its error, and a window with a wrong
 * MagicValue is still an error (DeviceID is not even read there).
 *
 * The window is tests/devmodel/fake_mmio.c in front of the fake transport,
 * as in test_virtio_mmio.c; the transport source is compiled in with
 * VNET_MMIO_TEST_HOOKS.
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

#include "fake_hal.h"
#include "fake_mmio.h"
#include "fake_transport.h"

#define V1 VNET_BIT(VIRTIO_F_VERSION_1)

static struct fake_transport FT;
static struct fake_mmio W;
static size_t priv_before;

static int setup(void **state)
{
	(void)state;
	fake_transport_init(&FT, V1, 2, 64);
	assert_int_equal(fmm_init(&W, &fake_transport_ops, &FT, 1, 0x200), 0);
	fmm_stray_accesses = 0;
	priv_before = fake_hal_live_private();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unsigned bad = W.bad;
	fmm_fini(&W);
	if (bad)
		fail_msg("front-end saw %u driver breaches, last: %s", bad, W.last_bad);
	assert_int_equal(fmm_stray_accesses, 0);
	assert_int_equal(fake_hal_live_private(), priv_before);
	return 0;
}

static int probe(struct vnet_mmio **m)
{
	*m = (struct vnet_mmio *)(uintptr_t)1;
	return vnet_mmio_probe(fmm_base(&W), W.window_len, "mmio@slot", m);
}

/* The result is distinct from every error code (and from success). */
static void test_empty_is_distinct(void **state)
{
	(void)state;
	assert_true(VNET_MMIO_EMPTY > 0);
	static const int errs[] = {VNET_EINVAL, VNET_ENOMEM, VNET_ENOSPC, VNET_EBROKEN, VNET_ETIMEDOUT,
	                           VNET_ENOTSUP, VNET_EIO,   VNET_EAGAIN, VNET_ERANGE,  VNET_EPROTO,
	                           VNET_ENODEV,  VNET_EBUSY, VNET_OK};
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		assert_int_not_equal(VNET_MMIO_EMPTY, errs[i]);
}

/* An empty slot of every Version: EMPTY, silent, two reads, no write. */
static void test_empty_slot_any_version(void **state)
{
	(void)state;
	static const uint32_t versions[] = {1, 2, 3, 0, 0xffff};
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		W.version = versions[i];
		W.device_id = 0;
		W.reads = W.writes = 0;
		unsigned long logs = fake_hal_log_count();
		struct vnet_mmio *m;
		int rc = probe(&m);
		if (rc != VNET_MMIO_EMPTY)
			fail_msg("Version %u, DeviceID 0: probe returned %d (%s), expected VNET_MMIO_EMPTY; "
			         "last log: %s",
			         (unsigned)versions[i], rc, vnet_strerror(rc), fake_hal_last_log());
		assert_null(m);
		if (fake_hal_log_count() != logs)
			fail_msg("Version %u, DeviceID 0: reported \"%s\"", (unsigned)versions[i], fake_hal_last_log());
		assert_int_equal(W.reads, 2); /* MagicValue, DeviceID */
		assert_int_equal(W.writes, 0);
	}
}

/* A populated legacy device is still refused, with its error. */
static void test_legacy_device_still_refused(void **state)
{
	(void)state;
	W.version = 1;
	W.device_id = 1;
	unsigned long logs = fake_hal_log_count();
	struct vnet_mmio *m;
	assert_int_equal(probe(&m), VNET_ENOTSUP);
	assert_null(m);
	assert_true(fake_hal_log_count() > logs);
	assert_non_null(strstr(fake_hal_last_log(), "legacy"));
	assert_int_equal(W.writes, 0);
}

/* A wrong MagicValue is an error, and DeviceID is not read after it. */
static void test_bad_magic_still_an_error(void **state)
{
	(void)state;
	W.magic = 0x12345678u;
	W.device_id = 0;
	unsigned long logs = fake_hal_log_count();
	struct vnet_mmio *m;
	assert_int_equal(probe(&m), VNET_ENODEV);
	assert_true(fake_hal_log_count() > logs);
	assert_int_equal(W.reads, 1);
}

/* A populated Version 2 window still probes. */
static void test_populated_window_probes(void **state)
{
	(void)state;
	struct vnet_mmio *m;
	assert_int_equal(probe(&m), VNET_OK);
	assert_non_null(m);
	assert_int_equal(vnet_mmio_device_type(m), 1);
	vnet_mmio_remove(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_empty_is_distinct),
		T(test_empty_slot_any_version),
		T(test_legacy_device_still_refused),
		T(test_bad_magic_still_an_error),
		T(test_populated_window_probes),
#undef T
	};
	return cmocka_run_group_tests_name("virtio_mmio_empty", tests, NULL, NULL);
}
