/*
 * include/vnet/vnet_mmio.h: the register accessors store and load the
 * little-endian image virtio registers have (VirtIO 1.2 §4.1.3, §4.2.2)
 * whatever the host's byte order.
 *
 * The tests look at the bytes in memory, never at a value read back with
 * the same accessor: a write accessor that forgot to swap on a big-endian
 * host would put 0x12 0x34 where 0x34 0x12 belongs, and these assertions
 * would fail there.  On a little-endian host they pin the layout the
 * device sees.  The target memory is ordinary RAM standing in for a BAR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vnet/vnet_mmio.h"

/* Aligned scratch "registers", with guard bytes to catch wide stores. */
static union {
	uint64_t align;
	uint8_t b[16];
} reg;

static void reg_fill(void)
{
	memset(reg.b, 0xa5, sizeof(reg.b));
}

static void assert_untouched_from(size_t from)
{
	for (size_t i = from; i < sizeof(reg.b); i++)
		assert_int_equal(reg.b[i], 0xa5);
}

static void test_write8_stores_one_byte(void **state)
{
	(void)state;
	reg_fill();
	vnet_mmio_write8(reg.b, 0x5a);
	assert_int_equal(reg.b[0], 0x5a);
	assert_untouched_from(1);
}

static void test_write16_stores_little_endian(void **state)
{
	(void)state;
	reg_fill();
	vnet_mmio_write16(reg.b, 0x1234);
	static const uint8_t want[2] = {0x34, 0x12};
	assert_memory_equal(reg.b, want, sizeof(want));
	assert_untouched_from(2);
}

static void test_write32_stores_little_endian(void **state)
{
	(void)state;
	reg_fill();
	vnet_mmio_write32(reg.b, 0x12345678u);
	static const uint8_t want[4] = {0x78, 0x56, 0x34, 0x12};
	assert_memory_equal(reg.b, want, sizeof(want));
	assert_untouched_from(4);
}

static void test_write64_split_stores_little_endian(void **state)
{
	(void)state;
	reg_fill();
	vnet_mmio_write64_split(reg.b, 0x0123456789abcdefull);
	/* Low half at the lower address, each half little-endian: the whole
	 * is the 8-byte little-endian image of the value. */
	static const uint8_t want[8] = {0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01};
	assert_memory_equal(reg.b, want, sizeof(want));
	assert_untouched_from(8);
}

static void test_reads_decode_little_endian(void **state)
{
	(void)state;
	static const uint8_t img[4] = {0x78, 0x56, 0x34, 0x12};
	memcpy(reg.b, img, sizeof(img));
	assert_int_equal(vnet_mmio_read8(reg.b), 0x78);
	assert_int_equal(vnet_mmio_read16(reg.b), 0x5678);
	assert_int_equal(vnet_mmio_read16(reg.b + 2), 0x1234);
	assert_int_equal(vnet_mmio_read32(reg.b), 0x12345678u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write8_stores_one_byte),
		cmocka_unit_test(test_write16_stores_little_endian),
		cmocka_unit_test(test_write32_stores_little_endian),
		cmocka_unit_test(test_write64_split_stores_little_endian),
		cmocka_unit_test(test_reads_decode_little_endian),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
