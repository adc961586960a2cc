/*
 * vhost-user message codec tests.
 *
 * Encodings are checked byte for byte against the layouts of
 * docs/interop/vhost-user.rst, written out by hand here (not produced by
 * the codec), so a wrong offset or field order fails.  vhost-user is
 * host-endian; the byte vectors below are the little-endian rendering, which
 * is what every host we build on uses (a big-endian host skips them).
 *
 * Replies are assembled by hand too, so each rejection path (truncated
 * header, truncated payload, trailing bytes, version, REPLY flag, request
 * code, payload size, oversize, out-of-range values) is driven by exactly
 * the malformation it names, and the reported reason is asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vnet/vhost_user_msg.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_LE 0
#else
#define HOST_LE 1
#endif

#define SKIP_IF_BE()              \
	do {                      \
		if (!HOST_LE)     \
			skip();   \
	} while (0)

/* little-endian byte helpers for expected vectors */
#define U32(v) (uint8_t)(v), (uint8_t)((v) >> 8), (uint8_t)((v) >> 16), (uint8_t)((uint32_t)(v) >> 24)
#define U64(v) U32((uint32_t)((uint64_t)(v))), U32((uint32_t)((uint64_t)(v) >> 32))

static uint8_t buf[VNET_VU_MSG_MAX + 64];

static void expect_msg(int n, const uint8_t *want, size_t wn)
{
	assert_int_equal(n, (int)wn);
	assert_memory_equal(buf, want, wn);
}

/* Fill buf with garbage so padding that is not explicitly zeroed shows. */
static void dirty(void)
{
	memset(buf, 0xAA, sizeof(buf));
}

/* Hand-assembled message: header fields as given, then plen payload bytes. */
static size_t mk(uint32_t req, uint32_t flags, uint32_t size, const void *payload, size_t plen)
{
	memcpy(buf, &req, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	if (plen)
		memcpy(buf + 12, payload, plen);
	return 12 + plen;
}

#define RF (VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY) /* 0x5 */

/* ====================================================================== */
/* builders                                                               */
/* ====================================================================== */

static void test_empty_requests_bytes(void **state)
{
	(void)state;
	SKIP_IF_BE();
	static const struct {
		int (*fn)(void *, size_t, unsigned);
		uint8_t code;
	} t[] = {
		{vnet_vu_build_get_features, 1},         {vnet_vu_build_set_owner, 3},
		{vnet_vu_build_reset_owner, 4},          {vnet_vu_build_set_log_fd, 7},
		{vnet_vu_build_get_protocol_features, 15}, {vnet_vu_build_get_queue_num, 17},
		{vnet_vu_build_set_backend_req_fd, 21},  {vnet_vu_build_reset_device, 34},
		{vnet_vu_build_get_max_mem_slots, 36},   {vnet_vu_build_get_status, 40},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const uint8_t want[] = {t[i].code, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0};
		dirty();
		expect_msg(t[i].fn(buf, sizeof(buf), 0), want, sizeof(want));
		const uint8_t want_nr[] = {t[i].code, 0, 0, 0, 0x09, 0, 0, 0, 0, 0, 0, 0};
		expect_msg(t[i].fn(buf, sizeof(buf), VNET_VU_NEED_REPLY), want_nr, sizeof(want_nr));
	}
}

static void test_set_features_bytes(void **state)
{
	(void)state;
	SKIP_IF_BE();
	uint64_t f = (1ULL << 32) | (1ULL << 30) | 0x0102030405ULL;
	const uint8_t want[] = {U32(2), U32(1), U32(8), U64(f)};
	dirty();
	expect_msg(vnet_vu_build_set_features(buf, sizeof(buf), 0, f), want, sizeof(want));
	const uint8_t want_pf[] = {U32(16), U32(9), U32(8), U64(0x1ffffULL)};
	expect_msg(vnet_vu_build_set_protocol_features(buf, sizeof(buf), VNET_VU_NEED_REPLY, 0x1ffff), want_pf,
		   sizeof(want_pf));
}

static void test_set_mem_table_bytes(void **state)
{
	(void)state;
	SKIP_IF_BE();
	const struct vhost_user_mem_region r[2] = {
		{.guest_phys_addr = 0x0, .memory_size = 0x80000000ULL, .userspace_addr = 0x7f0000000000ULL,
		 .mmap_offset = 0},
		{.guest_phys_addr = 0x100000000ULL, .memory_size = 0x40000000ULL,
		 .userspace_addr = 0x7f1000000000ULL, .mmap_offset = 0x1000},
	};
	const uint8_t want[] = {
		U32(5), U32(1), U32(8 + 2 * 32),
		U32(2), U32(0), /* nregions, padding */
		U64(0x0), U64(0x80000000ULL), U64(0x7f0000000000ULL), U64(0),
		U64(0x100000000ULL), U64(0x40000000ULL), U64(0x7f1000000000ULL), U64(0x1000),
	};
	dirty();
	int n = vnet_vu_build_set_mem_table(buf, sizeof(buf), 0, r, 2);
	expect_msg(n, want, sizeof(want));
	assert_int_equal(vnet_vu_msg_nfds(buf, (size_t)n), 2); /* one fd per region */
}

static void test_set_vring_addr_bytes(void **state)
{
	(void)state;
	SKIP_IF_BE();
	const struct vhost_user_vring_addr a = {
		.index = 3, .flags = VHOST_USER_VRING_F_LOG, .desc = 0x1111000, .used = 0x3333000,
		.avail = 0x2222000, .log = 0x4444000,
	};
	/* field order on the wire: desc, used, avail, log */
	const uint8_t want[] = {U32(9), U32(1), U32(40), U32(3), U32(1),
				U64(0x1111000), U64(0x3333000), U64(0x2222000), U64(0x4444000)};
	dirty();
	expect_msg(vnet_vu_build_set_vring_addr(buf, sizeof(buf), 0, &a), want, sizeof(want));
}

static void test_vring_state_requests_bytes(void **state)
{
	(void)state;
	SKIP_IF_BE();
	const uint8_t num[] = {U32(8), U32(1), U32(8), U32(1), U32(256)};
	expect_msg(vnet_vu_build_set_vring_num(buf, sizeof(buf), 0, 1, 256), num, sizeof(num));
	const uint8_t base[] = {U32(10), U32(1), U32(8), U32(0), U32(0x8005)};
	expect_msg(vnet_vu_build_set_vring_base(buf, sizeof(buf), 0, 0, 0x8005), base, sizeof(base));
	const uint8_t gbase[] = {U32(11), U32(1), U32(8), U32(7), U32(0)};
	expect_msg(vnet_vu_build_get_vring_base(buf, sizeof(buf), 0, 7), gbase, sizeof(gbase));
	const uint8_t en[] = {U32(18), U32(9), U32(8), U32(2), U32(1)};
	expect_msg(vnet_vu_build_set_vring_enable(buf, sizeof(buf), VNET_VU_NEED_REPLY, 2, true), en, sizeof(en));
	const uint8_t dis[] = {U32(18), U32(1), U32(8), U32(2), U32(0)};
	expect_msg(vnet_vu_build_set_vring_enable(buf, sizeof(buf), 0, 2, false), dis, sizeof(dis));
	const uint8_t endian[] = {U32(23), U32(1), U32(8), U32(4), U32(1)};
	expect_msg(vnet_vu_build_set_vring_endian(buf, sizeof(buf), 0, 4, true), endian, sizeof(endian));
	const uint8_t kick[] = {U32(35), U32(1), U32(8), U32(5), U32(0)};
	expect_msg(vnet_vu_build_vring_kick(buf, sizeof(buf), 0, 5), kick, sizeof(kick));
}

static void test_vring_fd_requests_bytes(void **state)
{
	(void)state;
	SKIP_IF_BE();
	const uint8_t kick_fd[] = {U32(12), U32(1), U32(8), U64(0x03)};
	int n = vnet_vu_build_set_vring_kick(buf, sizeof(buf), 0, 3, true);
	expect_msg(n, kick_fd, sizeof(kick_fd));
	assert_int_equal(vnet_vu_msg_nfds(buf, (size_t)n), 1);

	/* bit 8: no fd, poll */
	const uint8_t kick_poll[] = {U32(12), U32(1), U32(8), U64(0x103)};
	n = vnet_vu_build_set_vring_kick(buf, sizeof(buf), 0, 3, false);
	expect_msg(n, kick_poll, sizeof(kick_poll));
	assert_int_equal(vnet_vu_msg_nfds(buf, (size_t)n), 0);

	const uint8_t call[] = {U32(13), U32(1), U32(8), U64(0xff)};
	n = vnet_vu_build_set_vring_call(buf, sizeof(buf), 0, 255, true);
	expect_msg(n, call, sizeof(call));
	assert_int_equal(vnet_vu_msg_nfds(buf, (size_t)n), 1);

	const uint8_t err[] = {U32(14), U32(1), U32(8), U64(0x100)};
	n = vnet_vu_build_set_vring_err(buf, sizeof(buf), 0, 0, false);
	expect_msg(n, err, sizeof(err));
	assert_int_equal(vnet_vu_msg_nfds(buf, (size_t)n), 0);
}

static void test_misc_u64_requests_bytes(void **state)
{
	(void)state;
	SKIP_IF_BE();
	const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	const uint8_t rarp[] = {U32(19), U32(1), U32(8), 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0, 0};
	dirty();
	expect_msg(vnet_vu_build_send_rarp(buf, sizeof(buf), 0, mac), rarp, sizeof(rarp));
	const uint8_t mtu[] = {U32(20), U32(9), U32(8), U64(9000)};
	expect_msg(vnet_vu_build_net_set_mtu(buf, sizeof(buf), VNET_VU_NEED_REPLY, 9000), mtu, sizeof(mtu));
	const uint8_t st[] = {U32(39), U32(1), U32(8), U64(0x0f)};
	expect_msg(vnet_vu_build_set_status(buf, sizeof(buf), 0, 0x0f), st, sizeof(st));
}

static void test_config_requests_bytes(void **state)
{
	(void)state;
	SKIP_IF_BE();
	/* GET_CONFIG: header echoes offset/size, payload zero-filled, size 12+n */
	const uint8_t get[] = {U32(24), U32(1), U32(12 + 6), U32(0), U32(6), U32(0), 0, 0, 0, 0, 0, 0};
	dirty();
	expect_msg(vnet_vu_build_get_config(buf, sizeof(buf), 0, 0, 6), get, sizeof(get));
	const uint8_t data[2] = {0xdc, 0x05};
	const uint8_t set[] = {U32(25), U32(1), U32(12 + 2), U32(10), U32(2), U32(1), 0xdc, 0x05};
	expect_msg(vnet_vu_build_set_config(buf, sizeof(buf), 0, 10, 2, VHOST_USER_CONFIG_F_MIGRATION, data), set,
		   sizeof(set));
}

static void test_inflight_mem_reg_log_iotlb_bytes(void **state)
{
	(void)state;
	SKIP_IF_BE();
	/* inflight: 20 bytes of fields + 4 of tail padding, size 24 */
	const uint8_t gif[] = {U32(31), U32(1), U32(24), U64(0), U64(0), 2, 0, 0x00, 0x01, 0, 0, 0, 0};
	dirty();
	int n = vnet_vu_build_get_inflight_fd(buf, sizeof(buf), 0, 2, 256);
	expect_msg(n, gif, sizeof(gif));
	assert_int_equal(vnet_vu_msg_nfds(buf, (size_t)n), 0);

	const struct vhost_user_inflight in = {.mmap_size = 0x2000, .mmap_offset = 0x10, .num_queues = 4,
					       .queue_size = 128, .pad = 0xdeadbeef};
	const uint8_t sif[] = {U32(32), U32(1), U32(24), U64(0x2000), U64(0x10), 4, 0, 128, 0, 0, 0, 0, 0};
	dirty();
	n = vnet_vu_build_set_inflight_fd(buf, sizeof(buf), 0, &in);
	expect_msg(n, sif, sizeof(sif)); /* caller's pad is not leaked */
	assert_int_equal(vnet_vu_msg_nfds(buf, (size_t)n), 1);

	const struct vhost_user_mem_region r = {.guest_phys_addr = 0x100000, .memory_size = 0x200000,
						.userspace_addr = 0x7f0000100000ULL, .mmap_offset = 0x100000};
	const uint8_t add[] = {U32(37), U32(9), U32(40), U64(0), U64(0x100000), U64(0x200000),
			       U64(0x7f0000100000ULL), U64(0x100000)};
	dirty();
	n = vnet_vu_build_add_mem_reg(buf, sizeof(buf), VNET_VU_NEED_REPLY, &r);
	expect_msg(n, add, sizeof(add));
	assert_int_equal(vnet_vu_msg_nfds(buf, (size_t)n), 1);
	n = vnet_vu_build_rem_mem_reg(buf, sizeof(buf), VNET_VU_NEED_REPLY, &r);
	assert_int_equal(n, 52);
	assert_int_equal(buf[0], 38);
	assert_memory_equal(buf + 4, add + 4, sizeof(add) - 4);
	assert_int_equal(vnet_vu_msg_nfds(buf, (size_t)n), 0); /* REM: no fd */

	const struct vhost_user_log log = {.mmap_size = 0x10000, .mmap_offset = 0x40};
	const uint8_t lb[] = {U32(6), U32(1), U32(16), U64(0x10000), U64(0x40)};
	n = vnet_vu_build_set_log_base(buf, sizeof(buf), 0, &log);
	expect_msg(n, lb, sizeof(lb));
	assert_int_equal(vnet_vu_msg_nfds(buf, (size_t)n), 1);

	const struct vhost_user_iotlb io = {.iova = 0x1000, .size = 0x2000, .uaddr = 0x7f00000,
					    .perm = 3, .type = VHOST_USER_IOTLB_UPDATE};
	const uint8_t iot[] = {U32(22), U32(1), U32(32), U64(0x1000), U64(0x2000), U64(0x7f00000), 3, 2,
			       0, 0, 0, 0, 0, 0};
	dirty();
	expect_msg(vnet_vu_build_iotlb_msg(buf, sizeof(buf), 0, &io), iot, sizeof(iot));
}

static void test_builders_reject_bad_arguments(void **state)
{
	(void)state;
	struct vhost_user_mem_region r[9];
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 9; i++) {
		r[i].memory_size = 0x1000;
		r[i].guest_phys_addr = 0x1000ULL * (unsigned)i;
	}
	assert_int_equal(vnet_vu_build_get_features(NULL, 100, 0), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_get_features(buf, sizeof(buf), 0x2), VNET_EINVAL); /* unknown flag */
	assert_int_equal(vnet_vu_build_get_features(buf, 11, 0), VNET_ENOSPC);
	assert_int_equal(vnet_vu_build_get_features(buf, 12, 0), 12);
	assert_int_equal(vnet_vu_build_set_features(buf, 19, 0, 1), VNET_ENOSPC);
	assert_int_equal(vnet_vu_build_set_mem_table(buf, sizeof(buf), 0, r, 0), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_set_mem_table(buf, sizeof(buf), 0, r, 9), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_set_mem_table(buf, sizeof(buf), 0, NULL, 1), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_set_mem_table(buf, sizeof(buf), 0, r, 8), 12 + 8 + 8 * 32);
	assert_int_equal(vnet_vu_build_set_mem_table(buf, 12 + 8 + 8 * 32 - 1, 0, r, 8), VNET_ENOSPC);
	r[1].memory_size = 0;
	assert_int_equal(vnet_vu_build_set_mem_table(buf, sizeof(buf), 0, r, 2), VNET_EINVAL);
	r[1].memory_size = 2;
	r[1].userspace_addr = UINT64_MAX; /* range wraps */
	assert_int_equal(vnet_vu_build_set_mem_table(buf, sizeof(buf), 0, r, 2), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_add_mem_reg(buf, sizeof(buf), 0, &r[1]), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_set_vring_num(buf, sizeof(buf), 0, 0, 0), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_set_vring_num(buf, sizeof(buf), 0, 0, 32769), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_set_vring_num(buf, sizeof(buf), 0, 256, 8), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_set_vring_base(buf, sizeof(buf), 0, 0, 0x10000), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_set_vring_kick(buf, sizeof(buf), 0, 256, true), VNET_EINVAL);
	struct vhost_user_vring_addr a = {.index = 0, .flags = 2};
	assert_int_equal(vnet_vu_build_set_vring_addr(buf, sizeof(buf), 0, &a), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_net_set_mtu(buf, sizeof(buf), 0, 67), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_net_set_mtu(buf, sizeof(buf), 0, 65536), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_get_config(buf, sizeof(buf), 0, 0, 0), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_get_config(buf, sizeof(buf), 0, 0, 257), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_get_config(buf, sizeof(buf), 0, UINT32_MAX, 2), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_get_config(buf, sizeof(buf), 0, 0, 256), 12 + 12 + 256);
	uint8_t d[4] = {0};
	assert_int_equal(vnet_vu_build_set_config(buf, sizeof(buf), 0, 0, 4, 2, d), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_set_config(buf, sizeof(buf), 0, 0, 4, 0, NULL), VNET_EINVAL);
	struct vhost_user_iotlb io = {.perm = 4, .type = 2};
	assert_int_equal(vnet_vu_build_iotlb_msg(buf, sizeof(buf), 0, &io), VNET_EINVAL);
	io.perm = 1;
	io.type = 0;
	assert_int_equal(vnet_vu_build_iotlb_msg(buf, sizeof(buf), 0, &io), VNET_EINVAL);
	struct vhost_user_log log = {0};
	assert_int_equal(vnet_vu_build_set_log_base(buf, sizeof(buf), 0, &log), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_get_inflight_fd(buf, sizeof(buf), 0, 0, 128), VNET_EINVAL);
	assert_int_equal(vnet_vu_build_send_rarp(buf, sizeof(buf), 0, NULL), VNET_EINVAL);
}

/* ====================================================================== */
/* reply parsers: accepted replies                                        */
/* ====================================================================== */

static void test_parse_u64_replies(void **state)
{
	(void)state;
	enum vnet_vu_err why = VNET_VU_ERR_COUNT_;
	uint64_t v = 0, f = (1ULL << 30) | (1ULL << 32) | 0xdeadULL;

	size_t n = mk(VHOST_USER_GET_FEATURES, RF, 8, &f, 8);
	assert_int_equal(vnet_vu_parse_features(buf, n, &v, &why), VNET_OK);
	assert_true(v == f);
	assert_int_equal(why, VNET_VU_ERR_NONE);

	/* A NEED_REPLY bit echoed back by a back-end is tolerated. */
	n = mk(VHOST_USER_GET_PROTOCOL_FEATURES, RF | VHOST_USER_FLAG_NEED_REPLY, 8, &f, 8);
	assert_int_equal(vnet_vu_parse_protocol_features(buf, n, &v, &why), VNET_OK);
	assert_true(v == f);

	uint64_t q = 4;
	n = mk(VHOST_USER_GET_QUEUE_NUM, RF, 8, &q, 8);
	assert_int_equal(vnet_vu_parse_queue_num(buf, n, &v, &why), VNET_OK);
	assert_true(v == 4);
	n = mk(VHOST_USER_GET_MAX_MEM_SLOTS, RF, 8, &q, 8);
	assert_int_equal(vnet_vu_parse_max_mem_slots(buf, n, &v, &why), VNET_OK);
	assert_true(v == 4);

	uint64_t st = 0x0f;
	uint8_t s = 0;
	n = mk(VHOST_USER_GET_STATUS, RF, 8, &st, 8);
	assert_int_equal(vnet_vu_parse_status(buf, n, &s, &why), VNET_OK);
	assert_int_equal(s, 0x0f);
}

static void test_parse_vring_base(void **state)
{
	(void)state;
	enum vnet_vu_err why;
	uint32_t num = 0;
	uint32_t p[2] = {3, 0x8123}; /* packed: wrap counter in bit 15 */
	size_t n = mk(VHOST_USER_GET_VRING_BASE, RF, 8, p, 8);
	assert_int_equal(vnet_vu_parse_vring_base(buf, n, 3, &num, &why), VNET_OK);
	assert_int_equal(num, 0x8123);

	/* reply about another ring than the one asked */
	assert_int_equal(vnet_vu_parse_vring_base(buf, n, 2, &num, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_VALUE);
	/* an index no ring can have */
	p[1] = 0x10000;
	n = mk(VHOST_USER_GET_VRING_BASE, RF, 8, p, 8);
	num = 77;
	assert_int_equal(vnet_vu_parse_vring_base(buf, n, 3, &num, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_VALUE);
	assert_int_equal(num, 77); /* outputs untouched on failure */
}

static void test_parse_config(void **state)
{
	(void)state;
	enum vnet_vu_err why;
	uint8_t pl[12 + 6] = {0};
	uint32_t off = 0, sz = 6, fl = 0;
	memcpy(pl, &off, 4);
	memcpy(pl + 4, &sz, 4);
	memcpy(pl + 8, &fl, 4);
	const uint8_t mac[6] = {0x52, 0x54, 0, 1, 2, 3};
	memcpy(pl + 12, mac, 6);
	uint8_t out[6] = {0};
	size_t n = mk(VHOST_USER_GET_CONFIG, RF, sizeof(pl), pl, sizeof(pl));
	assert_int_equal(vnet_vu_parse_config(buf, n, 0, 6, out, &why), VNET_OK);
	assert_memory_equal(out, mac, 6);

	/* echoed offset differs from the request */
	assert_int_equal(vnet_vu_parse_config(buf, n, 4, 6, out, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_VALUE);
	/* asked for 4 bytes, got a 6-byte payload */
	assert_int_equal(vnet_vu_parse_config(buf, n, 0, 4, out, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_PAYLOAD_SIZE);
	/* header size right for 4 bytes but the echoed size says 6 */
	uint8_t pl2[12 + 4];
	memcpy(pl2, pl, sizeof(pl2));
	n = mk(VHOST_USER_GET_CONFIG, RF, sizeof(pl2), pl2, sizeof(pl2));
	assert_int_equal(vnet_vu_parse_config(buf, n, 0, 4, out, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_VALUE);

	/* empty reply: the rst's failure signal */
	n = mk(VHOST_USER_GET_CONFIG, RF, 0, NULL, 0);
	assert_int_equal(vnet_vu_parse_config(buf, n, 0, 6, out, &why), VNET_EIO);
	assert_int_equal(why, VNET_VU_ERR_BACKEND_FAILED);
	/* ...but only if it is a well-formed reply */
	n = mk(VHOST_USER_GET_CONFIG, VHOST_USER_VERSION, 0, NULL, 0);
	assert_int_equal(vnet_vu_parse_config(buf, n, 0, 6, out, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_NOT_REPLY);
	/* bad request arguments are a caller bug, not a protocol error */
	assert_int_equal(vnet_vu_parse_config(buf, n, 0, 0, out, &why), VNET_EINVAL);
	assert_int_equal(vnet_vu_parse_config(buf, n, 0, 6, NULL, &why), VNET_EINVAL);
}

static void test_parse_inflight_and_ack(void **state)
{
	(void)state;
	enum vnet_vu_err why;
	uint8_t pl[24] = {0};
	uint64_t ms = 0x3000, mo = 0x100;
	uint16_t nq = 2, qs = 256;
	memcpy(pl, &ms, 8);
	memcpy(pl + 8, &mo, 8);
	memcpy(pl + 16, &nq, 2);
	memcpy(pl + 18, &qs, 2);
	struct vhost_user_inflight in;
	size_t n = mk(VHOST_USER_GET_INFLIGHT_FD, RF, 24, pl, 24);
	assert_int_equal(vnet_vu_parse_inflight(buf, n, &in, &why), VNET_OK);
	assert_true(in.mmap_size == 0x3000 && in.mmap_offset == 0x100);
	assert_int_equal(in.num_queues, 2);
	assert_int_equal(in.queue_size, 256);
	/* the 20 bytes of fields without the C tail padding: wrong size */
	n = mk(VHOST_USER_GET_INFLIGHT_FD, RF, 20, pl, 20);
	assert_int_equal(vnet_vu_parse_inflight(buf, n, &in, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_PAYLOAD_SIZE);

	uint64_t zero = 0, bad = 1, code = 99;
	n = mk(VHOST_USER_SET_MEM_TABLE, RF, 8, &zero, 8);
	assert_int_equal(vnet_vu_parse_ack(buf, n, VHOST_USER_SET_MEM_TABLE, &code, &why), VNET_OK);
	assert_true(code == 0);
	n = mk(VHOST_USER_SET_VRING_ENABLE, RF, 8, &bad, 8);
	assert_int_equal(vnet_vu_parse_ack(buf, n, VHOST_USER_SET_VRING_ENABLE, &code, &why), VNET_EIO);
	assert_int_equal(why, VNET_VU_ERR_BACKEND_FAILED);
	assert_true(code == 1);
	/* an ack for another request than the one in flight */
	assert_int_equal(vnet_vu_parse_ack(buf, n, VHOST_USER_SET_MEM_TABLE, NULL, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_REQUEST);
}

/* ====================================================================== */
/* reply parsers: every rejection path                                    */
/* ====================================================================== */

static void test_reject_truncated_header(void **state)
{
	(void)state;
	enum vnet_vu_err why;
	uint64_t v;
	uint64_t f = 1;
	size_t n = mk(VHOST_USER_GET_FEATURES, RF, 8, &f, 8);
	for (size_t len = 0; len < 12; len++) {
		assert_int_equal(vnet_vu_parse_features(buf, len, &v, &why), VNET_EPROTO);
		assert_int_equal(why, VNET_VU_ERR_SHORT_HEADER);
	}
	struct vhost_user_hdr h;
	assert_int_equal(vnet_vu_hdr_decode(buf, 11, &h, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_SHORT_HEADER);
	/* the header alone is enough for hdr_decode */
	assert_int_equal(vnet_vu_hdr_decode(buf, 12, &h, &why), VNET_OK);
	assert_int_equal(h.request, 1);
	assert_int_equal(h.flags, RF);
	assert_int_equal(h.size, 8);
	(void)n;
}

static void test_reject_truncated_payload_and_trailing(void **state)
{
	(void)state;
	enum vnet_vu_err why;
	uint64_t v = 0x55, out = 0x77;
	size_t n = mk(VHOST_USER_GET_FEATURES, RF, 8, &v, 8);
	for (size_t len = 12; len < n; len++) {
		assert_int_equal(vnet_vu_parse_features(buf, len, &out, &why), VNET_EPROTO);
		assert_int_equal(why, VNET_VU_ERR_TRUNCATED);
	}
	/* header says 8, buffer holds 9 payload bytes */
	buf[n] = 0;
	assert_int_equal(vnet_vu_parse_features(buf, n + 1, &out, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_TRAILING);
	assert_true(out == 0x77);
	/* a vring-base reply cut inside its payload */
	uint32_t st[2] = {0, 1};
	uint32_t num;
	n = mk(VHOST_USER_GET_VRING_BASE, RF, 8, st, 8);
	assert_int_equal(vnet_vu_parse_vring_base(buf, n - 4, 0, &num, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_TRUNCATED);
}

static void test_reject_version(void **state)
{
	(void)state;
	enum vnet_vu_err why;
	uint64_t v = 0, out;
	static const uint32_t bad_flags[] = {
		VHOST_USER_FLAG_REPLY,         /* version 0 */
		VHOST_USER_FLAG_REPLY | 0x2u,  /* version 2 */
		VHOST_USER_FLAG_REPLY | 0x3u,  /* version 3 */
	};
	for (size_t i = 0; i < 3; i++) {
		size_t n = mk(VHOST_USER_GET_FEATURES, bad_flags[i], 8, &v, 8);
		assert_int_equal(vnet_vu_parse_features(buf, n, &out, &why), VNET_EPROTO);
		assert_int_equal(why, VNET_VU_ERR_VERSION);
	}
}

static void test_reject_missing_reply_flag(void **state)
{
	(void)state;
	enum vnet_vu_err why;
	uint64_t v = 0, out;
	size_t n = mk(VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 8, &v, 8);
	assert_int_equal(vnet_vu_parse_features(buf, n, &out, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_NOT_REPLY);
	n = mk(VHOST_USER_SET_VRING_ADDR, VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY, 8, &v, 8);
	assert_int_equal(vnet_vu_parse_ack(buf, n, VHOST_USER_SET_VRING_ADDR, NULL, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_NOT_REPLY);
}

static void test_reject_wrong_request(void **state)
{
	(void)state;
	enum vnet_vu_err why;
	uint64_t v = 1, out;
	uint8_t s;
	size_t n = mk(VHOST_USER_GET_PROTOCOL_FEATURES, RF, 8, &v, 8);
	assert_int_equal(vnet_vu_parse_features(buf, n, &out, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_REQUEST);
	assert_int_equal(vnet_vu_parse_status(buf, n, &s, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_REQUEST);
	uint32_t num;
	assert_int_equal(vnet_vu_parse_vring_base(buf, n, 0, &num, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_REQUEST);
}

static void test_reject_wrong_payload_size(void **state)
{
	(void)state;
	enum vnet_vu_err why;
	uint8_t pl[16] = {1};
	uint64_t out;
	uint8_t s;
	uint32_t num;
	/* u64 replies with 0, 4 and 16 byte payloads */
	static const uint32_t sizes[] = {0, 4, 16};
	for (size_t i = 0; i < 3; i++) {
		size_t n = mk(VHOST_USER_GET_FEATURES, RF, sizes[i], pl, sizes[i]);
		assert_int_equal(vnet_vu_parse_features(buf, n, &out, &why), VNET_EPROTO);
		assert_int_equal(why, VNET_VU_ERR_PAYLOAD_SIZE);
		n = mk(VHOST_USER_GET_STATUS, RF, sizes[i], pl, sizes[i]);
		assert_int_equal(vnet_vu_parse_status(buf, n, &s, &why), VNET_EPROTO);
		assert_int_equal(why, VNET_VU_ERR_PAYLOAD_SIZE);
		n = mk(VHOST_USER_GET_VRING_BASE, RF, sizes[i], pl, sizes[i]);
		assert_int_equal(vnet_vu_parse_vring_base(buf, n, 0, &num, &why), VNET_EPROTO);
		assert_int_equal(why, VNET_VU_ERR_PAYLOAD_SIZE);
	}
	/* GET_STATUS as a bare u8 (not what the rst, QEMU or DPDK send) */
	size_t n = mk(VHOST_USER_GET_STATUS, RF, 1, pl, 1);
	assert_int_equal(vnet_vu_parse_status(buf, n, &s, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_PAYLOAD_SIZE);
}

static void test_reject_oversize(void **state)
{
	(void)state;
	enum vnet_vu_err why;
	uint64_t out;
	struct vhost_user_hdr h;
	/* size above the limit is reported as such even though only the
	 * header is present: the transport must not try to read it */
	size_t n = mk(VHOST_USER_GET_FEATURES, RF, VNET_VU_MAX_PAYLOAD + 1, NULL, 0);
	assert_int_equal(vnet_vu_hdr_decode(buf, n, &h, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_OVERSIZE);
	assert_int_equal(vnet_vu_parse_features(buf, n, &out, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_OVERSIZE);
	n = mk(VHOST_USER_GET_FEATURES, RF, UINT32_MAX, NULL, 0);
	assert_int_equal(vnet_vu_parse_features(buf, n, &out, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_OVERSIZE);
	/* exactly the limit is a size problem for GET_FEATURES, not oversize */
	memset(buf + 12, 0, VNET_VU_MAX_PAYLOAD);
	n = mk(VHOST_USER_GET_FEATURES, RF, VNET_VU_MAX_PAYLOAD, NULL, 0) + VNET_VU_MAX_PAYLOAD;
	assert_int_equal(vnet_vu_parse_features(buf, n, &out, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_PAYLOAD_SIZE);
}

static void test_reject_values(void **state)
{
	(void)state;
	enum vnet_vu_err why;
	uint64_t zero = 0, big = 0x100, out = 5;
	uint8_t s = 9;
	size_t n = mk(VHOST_USER_GET_QUEUE_NUM, RF, 8, &zero, 8);
	assert_int_equal(vnet_vu_parse_queue_num(buf, n, &out, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_VALUE);
	n = mk(VHOST_USER_GET_MAX_MEM_SLOTS, RF, 8, &zero, 8);
	assert_int_equal(vnet_vu_parse_max_mem_slots(buf, n, &out, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_VALUE);
	n = mk(VHOST_USER_GET_STATUS, RF, 8, &big, 8);
	assert_int_equal(vnet_vu_parse_status(buf, n, &s, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_VALUE);
	assert_true(out == 5 && s == 9);
}

static void test_null_arguments(void **state)
{
	(void)state;
	enum vnet_vu_err why = VNET_VU_ERR_VALUE;
	uint64_t v = 0;
	assert_int_equal(vnet_vu_parse_features(NULL, 20, &v, &why), VNET_EINVAL);
	assert_int_equal(why, VNET_VU_ERR_NONE);
	size_t n = mk(VHOST_USER_GET_FEATURES, RF, 8, &v, 8);
	assert_int_equal(vnet_vu_parse_features(buf, n, NULL, NULL), VNET_EINVAL);
	assert_int_equal(vnet_vu_parse_request(buf, n, NULL, NULL), VNET_EINVAL);
	/* why may be NULL on the failure path too */
	assert_int_equal(vnet_vu_parse_features(buf, 3, &v, NULL), VNET_EPROTO);
}

/* ====================================================================== */
/* request decoding and round trips                                       */
/* ====================================================================== */

static void test_request_roundtrip(void **state)
{
	(void)state;
	struct vnet_vu_req r;
	enum vnet_vu_err why;
	int n;

	n = vnet_vu_build_set_features(buf, sizeof(buf), VNET_VU_NEED_REPLY, 0x140000000ULL);
	assert_int_equal(vnet_vu_parse_request(buf, (size_t)n, &r, &why), VNET_OK);
	assert_int_equal(r.request, VHOST_USER_SET_FEATURES);
	assert_true(r.u.u64 == 0x140000000ULL);
	assert_true(r.need_reply && r.expects_reply);
	assert_int_equal(r.nfds, 0);

	n = vnet_vu_build_get_features(buf, sizeof(buf), 0);
	assert_int_equal(vnet_vu_parse_request(buf, (size_t)n, &r, &why), VNET_OK);
	assert_true(!r.need_reply && r.expects_reply); /* GET_* always answered */
	n = vnet_vu_build_set_owner(buf, sizeof(buf), 0);
	assert_int_equal(vnet_vu_parse_request(buf, (size_t)n, &r, &why), VNET_OK);
	assert_false(r.expects_reply);

	const struct vhost_user_vring_addr a = {.index = 1, .desc = 1, .used = 2, .avail = 3, .log = 4};
	n = vnet_vu_build_set_vring_addr(buf, sizeof(buf), 0, &a);
	assert_int_equal(vnet_vu_parse_request(buf, (size_t)n, &r, &why), VNET_OK);
	assert_memory_equal(&r.u.addr, &a, sizeof(a));

	const struct vhost_user_mem_region regs[3] = {
		{0, 0x1000, 0x7000, 0}, {0x1000, 0x1000, 0x9000, 0x1000}, {0x8000, 0x4000, 0xa000, 0}};
	n = vnet_vu_build_set_mem_table(buf, sizeof(buf), 0, regs, 3);
	assert_int_equal(vnet_vu_parse_request(buf, (size_t)n, &r, &why), VNET_OK);
	assert_int_equal(r.u.mem.nregions, 3);
	assert_int_equal(r.nfds, 3);
	assert_memory_equal(r.u.mem.regions, regs, sizeof(regs));

	const uint8_t cfg[3] = {7, 8, 9};
	n = vnet_vu_build_set_config(buf, sizeof(buf), 0, 20, 3, 0, cfg);
	assert_int_equal(vnet_vu_parse_request(buf, (size_t)n, &r, &why), VNET_OK);
	assert_int_equal(r.u.config.offset, 20);
	assert_int_equal(r.u.config.size, 3);
	assert_memory_equal(r.u.config.data, cfg, 3);

	n = vnet_vu_build_set_vring_enable(buf, sizeof(buf), 0, 9, true);
	assert_int_equal(vnet_vu_parse_request(buf, (size_t)n, &r, &why), VNET_OK);
	assert_int_equal(r.u.state.index, 9);
	assert_int_equal(r.u.state.num, 1);

	const uint8_t mac[6] = {1, 2, 3, 4, 5, 6};
	n = vnet_vu_build_send_rarp(buf, sizeof(buf), 0, mac);
	assert_int_equal(vnet_vu_parse_request(buf, (size_t)n, &r, &why), VNET_OK);
	assert_memory_equal(r.u.mac, mac, 6);

	/* reply builders round-trip through the reply parsers */
	uint32_t num;
	n = vnet_vu_build_reply_vring_state(buf, sizeof(buf), VHOST_USER_GET_VRING_BASE, 4, 1234);
	assert_int_equal(vnet_vu_parse_vring_base(buf, (size_t)n, 4, &num, &why), VNET_OK);
	assert_int_equal(num, 1234);
	uint8_t out[3];
	n = vnet_vu_build_reply_config(buf, sizeof(buf), 20, 3, 0, cfg);
	assert_int_equal(vnet_vu_parse_config(buf, (size_t)n, 20, 3, out, &why), VNET_OK);
	assert_memory_equal(out, cfg, 3);
}

static void test_request_decoder_rejects(void **state)
{
	(void)state;
	struct vnet_vu_req r;
	enum vnet_vu_err why;
	uint64_t v = 3;

	size_t n = mk(VHOST_USER_SET_FEATURES, RF, 8, &v, 8);
	assert_int_equal(vnet_vu_parse_request(buf, n, &r, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_UNEXPECTED_REPLY);
	n = mk(VHOST_USER_CREATE_CRYPTO_SESSION, VHOST_USER_VERSION, 8, &v, 8);
	assert_int_equal(vnet_vu_parse_request(buf, n, &r, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_UNKNOWN_REQUEST);
	n = mk(1000, VHOST_USER_VERSION, 0, NULL, 0);
	assert_int_equal(vnet_vu_parse_request(buf, n, &r, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_UNKNOWN_REQUEST);
	n = mk(VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 8, &v, 8);
	assert_int_equal(vnet_vu_parse_request(buf, n, &r, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_PAYLOAD_SIZE);
	/* KICK with bits beyond index and no-fd */
	v = 0x201;
	n = mk(VHOST_USER_SET_VRING_KICK, VHOST_USER_VERSION, 8, &v, 8);
	assert_int_equal(vnet_vu_parse_request(buf, n, &r, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_VALUE);
	assert_int_equal(vnet_vu_msg_nfds(buf, n), VNET_EPROTO);

	/* mem table: 9 regions, and size disagreeing with nregions */
	uint8_t pl[8 + 2 * 32] = {0};
	uint32_t nr = 9;
	memcpy(pl, &nr, 4);
	n = mk(VHOST_USER_SET_MEM_TABLE, VHOST_USER_VERSION, sizeof(pl), pl, sizeof(pl));
	assert_int_equal(vnet_vu_parse_request(buf, n, &r, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_VALUE);
	nr = 1;
	memcpy(pl, &nr, 4);
	uint64_t one = 1;
	memcpy(pl + 8 + 8, &one, 8); /* region 0 memory_size */
	n = mk(VHOST_USER_SET_MEM_TABLE, VHOST_USER_VERSION, sizeof(pl), pl, sizeof(pl));
	assert_int_equal(vnet_vu_parse_request(buf, n, &r, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_PAYLOAD_SIZE);
	n = mk(VHOST_USER_SET_MEM_TABLE, VHOST_USER_VERSION, 8 + 32, pl, 8 + 32);
	assert_int_equal(vnet_vu_parse_request(buf, n, &r, &why), VNET_OK);
	n = mk(VHOST_USER_SET_MEM_TABLE, VHOST_USER_VERSION, 4, pl, 4);
	assert_int_equal(vnet_vu_parse_request(buf, n, &r, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_PAYLOAD_SIZE);

	/* config: echoed size larger than what follows */
	uint8_t cp[12 + 2] = {0};
	uint32_t cs = 3;
	memcpy(cp + 4, &cs, 4);
	n = mk(VHOST_USER_SET_CONFIG, VHOST_USER_VERSION, sizeof(cp), cp, sizeof(cp));
	assert_int_equal(vnet_vu_parse_request(buf, n, &r, &why), VNET_EPROTO);
	assert_int_equal(why, VNET_VU_ERR_PAYLOAD_SIZE);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(vnet_vu_request_name(VHOST_USER_GET_FEATURES), "GET_FEATURES");
	assert_string_equal(vnet_vu_request_name(VHOST_USER_SET_VRING_ADDR), "SET_VRING_ADDR");
	assert_string_equal(vnet_vu_request_name(VHOST_USER_GET_STATUS), "GET_STATUS");
	assert_string_equal(vnet_vu_request_name(0), "UNKNOWN");
	assert_string_equal(vnet_vu_request_name(41), "UNKNOWN");
	assert_string_equal(vnet_vu_request_name(UINT32_MAX), "UNKNOWN");
	/* every reason has its own text, and out-of-range values still get one */
	for (int i = 0; i < VNET_VU_ERR_COUNT_; i++) {
		const char *a = vnet_vu_strerror((enum vnet_vu_err)i);
		assert_non_null(a);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(a, vnet_vu_strerror((enum vnet_vu_err)j));
	}
	assert_non_null(vnet_vu_strerror((enum vnet_vu_err)1000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_requests_bytes),
		cmocka_unit_test(test_set_features_bytes),
		cmocka_unit_test(test_set_mem_table_bytes),
		cmocka_unit_test(test_set_vring_addr_bytes),
		cmocka_unit_test(test_vring_state_requests_bytes),
		cmocka_unit_test(test_vring_fd_requests_bytes),
		cmocka_unit_test(test_misc_u64_requests_bytes),
		cmocka_unit_test(test_config_requests_bytes),
		cmocka_unit_test(test_inflight_mem_reg_log_iotlb_bytes),
		cmocka_unit_test(test_builders_reject_bad_arguments),
		cmocka_unit_test(test_parse_u64_replies),
		cmocka_unit_test(test_parse_vring_base),
		cmocka_unit_test(test_parse_config),
		cmocka_unit_test(test_parse_inflight_and_ack),
		cmocka_unit_test(test_reject_truncated_header),
		cmocka_unit_test(test_reject_truncated_payload_and_trailing),
		cmocka_unit_test(test_reject_version),
		cmocka_unit_test(test_reject_missing_reply_flag),
		cmocka_unit_test(test_reject_wrong_request),
		cmocka_unit_test(test_reject_wrong_payload_size),
		cmocka_unit_test(test_reject_oversize),
		cmocka_unit_test(test_reject_values),
		cmocka_unit_test(test_null_arguments),
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_request_decoder_rejects),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
