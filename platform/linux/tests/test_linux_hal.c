/*
 * Linux HAL: the DMA arena is what a vhost-user back-end maps, so these
 * tests check what the transport and the back-end rely on: zeroed,
 * aligned, non-overlapping allocations inside the registered region,
 * iova == va, memory visible through the arena fd (a second mapping of
 * the fd sees our writes, as the back-end's does), space coming back on
 * free, and the argument checks of the HAL contract.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "vnet/vnet_error.h"
#include "vnet/vnet_hal.h"
#include "vnet_linux.h"

static int setup_arena(void **state)
{
	(void)state;
	/* 8 MiB is plenty and keeps the test cheap. */
	int rc = vnet_linux_arena_init(8u << 20);
	return rc == VNET_OK || rc == VNET_EBUSY ? 0 : -1;
}

static void test_alloc_zeroed_aligned_inside_arena(void **state)
{
	(void)state;
	int fd;
	void *base;
	size_t size;
	assert_int_equal(vnet_linux_arena_get(&fd, &base, &size), VNET_OK);
	assert_true(fd >= 0);
	size_t aligns[] = {1, 64, 256, 4096};
	struct vnet_dma d[4];
	for (int i = 0; i < 4; i++) {
		assert_int_equal(vnet_hal_dma_alloc(1000 + (size_t)i, aligns[i], &d[i]), VNET_OK);
		assert_true(d[i].len >= 1000u + (size_t)i);
		assert_int_equal((uintptr_t)d[i].va % aligns[i], 0);
		assert_int_equal(d[i].iova, (uint64_t)(uintptr_t)d[i].va);
		assert_true((uint8_t *)d[i].va >= (uint8_t *)base);
		assert_true((uint8_t *)d[i].va + d[i].len <= (uint8_t *)base + size);
		for (size_t k = 0; k < d[i].len; k++)
			assert_int_equal(((uint8_t *)d[i].va)[k], 0);
		memset(d[i].va, 0xa5, d[i].len); /* dirty it: the next user must get zeroes */
	}
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++) {
			uintptr_t a = (uintptr_t)d[i].va, b = (uintptr_t)d[j].va;
			assert_true(a + d[i].len <= b || b + d[j].len <= a);
		}
	for (int i = 0; i < 4; i++)
		vnet_hal_dma_free(&d[i]);
	assert_int_equal(vnet_linux_arena_used(), 0);
	struct vnet_dma again;
	assert_int_equal(vnet_hal_dma_alloc(4000, 64, &again), VNET_OK);
	for (size_t k = 0; k < again.len; k++)
		assert_int_equal(((uint8_t *)again.va)[k], 0);
	vnet_hal_dma_free(&again);
}

static void test_visible_through_fd(void **state)
{
	(void)state;
	int fd;
	void *base;
	size_t size;
	assert_int_equal(vnet_linux_arena_get(&fd, &base, &size), VNET_OK);
	struct vnet_dma d;
	assert_int_equal(vnet_hal_dma_alloc(256, 64, &d), VNET_OK);
	/* What a back-end does with the SET_MEM_TABLE fd: map it itself. */
	uint8_t *peer = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(peer != MAP_FAILED);
	size_t off = (size_t)(d.iova - (uint64_t)(uintptr_t)base);
	memcpy(d.va, "driver", 6);
	assert_memory_equal(peer + off, "driver", 6);
	memcpy(peer + off + 8, "device", 6);
	assert_memory_equal((uint8_t *)d.va + 8, "device", 6);
	munmap(peer, size);
	vnet_hal_dma_free(&d);
}

static void test_free_coalesces_and_exhaustion(void **state)
{
	(void)state;
	size_t size;
	assert_int_equal(vnet_linux_arena_get(NULL, NULL, &size), VNET_OK);
	struct vnet_dma big;
	/* More than the arena: refused, nothing leaked. */
	assert_int_equal(vnet_hal_dma_alloc(size + 4096, 64, &big), VNET_ENOMEM);
	assert_int_equal(vnet_linux_arena_used(), 0);
	/* Three thirds, freed middle-first: only coalescing makes room for
	 * the whole arena again. */
	struct vnet_dma t[3];
	size_t third = (size / 3) & ~(size_t)4095;
	for (int i = 0; i < 3; i++)
		assert_int_equal(vnet_hal_dma_alloc(third, 4096, &t[i]), VNET_OK);
	vnet_hal_dma_free(&t[1]);
	vnet_hal_dma_free(&t[0]);
	vnet_hal_dma_free(&t[2]);
	assert_int_equal(vnet_linux_arena_used(), 0);
	assert_int_equal(vnet_hal_dma_alloc(size, 4096, &big), VNET_OK);
	vnet_hal_dma_free(&big);
	/* A zeroed struct frees as a no-op (HAL contract). */
	struct vnet_dma z;
	memset(&z, 0, sizeof(z));
	vnet_hal_dma_free(&z);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	struct vnet_dma d;
	assert_int_equal(vnet_hal_dma_alloc(0, 64, &d), VNET_EINVAL);
	assert_int_equal(vnet_hal_dma_alloc(64, 3, &d), VNET_EINVAL);
	assert_int_equal(vnet_hal_dma_alloc(64, 8192, &d), VNET_EINVAL);
	assert_int_equal(vnet_hal_dma_alloc(64, 64, NULL), VNET_EINVAL);
	assert_int_equal(vnet_linux_arena_init(0), VNET_EINVAL);
	/* The arena exists with another size: cannot be re-created. */
	assert_int_equal(vnet_linux_arena_init(16u << 20), VNET_EBUSY);
}

static char last_line[256];
static int last_level = -1;
static void capture(enum vnet_log_level level, const char *line, void *arg)
{
	(void)arg;
	last_level = (int)level;
	strncpy(last_line, line, sizeof(last_line) - 1);
}

static void test_log_filter_and_callback(void **state)
{
	(void)state;
	vnet_linux_set_log_callback(capture, NULL);
	vnet_linux_set_log_level(VNET_LOG_WARN);
	vnet_hal_log(VNET_LOG_INFO, "filtered");
	assert_int_equal(last_level, -1);
	vnet_hal_log(VNET_LOG_ERR, "kept");
	assert_int_equal(last_level, VNET_LOG_ERR);
	assert_string_equal(last_line, "kept");
	vnet_linux_set_log_callback(NULL, NULL);
}

static void test_time_monotonic_and_zalloc(void **state)
{
	(void)state;
	uint64_t a = vnet_hal_time_ns();
	vnet_hal_relax();
	uint64_t b = vnet_hal_time_ns();
	assert_true(b >= a);
	uint8_t *p = vnet_hal_zalloc(128);
	assert_non_null(p);
	for (int i = 0; i < 128; i++)
		assert_int_equal(p[i], 0);
	vnet_hal_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_zeroed_aligned_inside_arena),
		cmocka_unit_test(test_visible_through_fd),
		cmocka_unit_test(test_free_coalesces_and_exhaustion),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_log_filter_and_callback),
		cmocka_unit_test(test_time_monotonic_and_zalloc),
	};
	return cmocka_run_group_tests(tests, setup_arena, NULL);
}
