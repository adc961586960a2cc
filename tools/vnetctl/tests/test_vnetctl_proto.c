/*
 * test_vnetctl_proto.c - the control socket's framing and access rule
 * (tools/vnetctl/vnetctl_proto.c): round trips; every malformed header and
 * request refused with a reason; every truncation of a request refused
 * without reading past it (exact-size heap copies under ASan); the access
 * decision for root, the owner, group members (primary and supplementary)
 * and outsiders, for read-only and changing commands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vnetctl_proto.h"

static void test_round_trip(void **state)
{
	(void)state;
	uint8_t buf[256];
	const char *argv[] = {"virtio_net_device_info", "vnet0", "--json"};
	size_t n = vnetctl_request_encode(buf, sizeof buf, 3, argv);
	assert_int_equal(n, VNETCTL_HDR_LEN + 2 + 23 + 6 + 7);
	uint32_t len;
	const char *why = NULL;
	assert_int_equal(vnetctl_hdr_decode(buf, VNETCTL_T_REQUEST, &len, &why), 0);
	assert_int_equal(len, n - VNETCTL_HDR_LEN);
	int argc;
	const char *out[VNETCTL_ARGC_MAX];
	assert_int_equal(vnetctl_request_decode(buf + VNETCTL_HDR_LEN, len, &argc, out, &why), 0);
	assert_int_equal(argc, 3);
	for (int i = 0; i < 3; i++)
		assert_string_equal(out[i], argv[i]);
	/* reply */
	uint8_t rep[VNETCTL_HDR_LEN + 4 + 5];
	vnetctl_hdr_encode(rep, VNETCTL_T_REPLY, 9);
	vnetctl_reply_status_encode(rep + VNETCTL_HDR_LEN, VNETCTL_REFUSED);
	memcpy(rep + VNETCTL_HDR_LEN + 4, "hello", 5);
	assert_int_equal(vnetctl_hdr_decode(rep, VNETCTL_T_REPLY, &len, &why), 0);
	int32_t st;
	const char *text;
	size_t tl;
	assert_int_equal(vnetctl_reply_decode(rep + VNETCTL_HDR_LEN, len, &st, &text, &tl), 0);
	assert_int_equal(st, VNETCTL_REFUSED);
	assert_int_equal(tl, 5);
	assert_memory_equal(text, "hello", 5);
	assert_int_equal(vnetctl_reply_decode(rep + VNETCTL_HDR_LEN, 3, &st, &text, &tl), -1);
}

static void test_encode_limits(void **state)
{
	(void)state;
	uint8_t buf[64];
	const char *argv[] = {"a", "", "c"};
	assert_int_equal(vnetctl_request_encode(buf, sizeof buf, 3, argv), 0); /* empty argument */
	assert_int_equal(vnetctl_request_encode(buf, sizeof buf, 0, argv), 0);
	assert_int_equal(vnetctl_request_encode(buf, sizeof buf, 33, argv), 0);
	const char *longarg[] = {"0123456789012345678901234567890123456789012345678901234567890123"};
	assert_int_equal(vnetctl_request_encode(buf, sizeof buf, 1, longarg), 0); /* does not fit */
	static uint8_t big[2 * VNETCTL_REQ_MAX];
	static char huge[VNETCTL_REQ_MAX];
	memset(huge, 'x', sizeof huge - 1);
	const char *hv[] = {huge};
	assert_int_equal(vnetctl_request_encode(big, sizeof big, 1, hv), 0); /* over VNETCTL_REQ_MAX */
}

static void test_bad_headers(void **state)
{
	(void)state;
	uint8_t h[VNETCTL_HDR_LEN];
	uint32_t len;
	const char *why;
	vnetctl_hdr_encode(h, VNETCTL_T_REQUEST, 10);
	h[0] = 'X';
	assert_int_equal(vnetctl_hdr_decode(h, VNETCTL_T_REQUEST, &len, &why), -1);
	assert_non_null(strstr(why, "magic"));
	vnetctl_hdr_encode(h, VNETCTL_T_REQUEST, 10);
	h[4] = 2;
	assert_int_equal(vnetctl_hdr_decode(h, VNETCTL_T_REQUEST, &len, &why), -1);
	assert_non_null(strstr(why, "version"));
	vnetctl_hdr_encode(h, VNETCTL_T_REPLY, 10);
	assert_int_equal(vnetctl_hdr_decode(h, VNETCTL_T_REQUEST, &len, &why), -1);
	assert_non_null(strstr(why, "type"));
	vnetctl_hdr_encode(h, VNETCTL_T_REQUEST, 10);
	h[7] = 1;
	assert_int_equal(vnetctl_hdr_decode(h, VNETCTL_T_REQUEST, &len, &why), -1);
	assert_non_null(strstr(why, "reserved"));
	vnetctl_hdr_encode(h, VNETCTL_T_REQUEST, VNETCTL_REQ_MAX + 1);
	assert_int_equal(vnetctl_hdr_decode(h, VNETCTL_T_REQUEST, &len, &why), -1);
	assert_non_null(strstr(why, "too long"));
	vnetctl_hdr_encode(h, VNETCTL_T_REPLY, VNETCTL_REPLY_MAX);
	assert_int_equal(vnetctl_hdr_decode(h, VNETCTL_T_REPLY, &len, &why), 0);
	vnetctl_hdr_encode(h, VNETCTL_T_REPLY, VNETCTL_REPLY_MAX + 1);
	assert_int_equal(vnetctl_hdr_decode(h, VNETCTL_T_REPLY, &len, &why), -1);
}

static int decode_copy(const void *p, uint32_t len, const char **why)
{
	uint8_t *c = malloc(len ? len : 1);
	assert_non_null(c);
	memcpy(c, p, len);
	int argc;
	const char *argv[VNETCTL_ARGC_MAX];
	int rc = vnetctl_request_decode(c, len, &argc, argv, why);
	free(c);
	return rc;
}

static void test_bad_requests(void **state)
{
	(void)state;
	const char *why;
	static const struct {
		const char *bytes;
		uint32_t len;
		const char *says;
	} bad[] = {
		{"", 0, "too short"},
		{"\x01", 1, "too short"},
		{"\x00\x00", 2, "out of range"},
		{"\x21\x00" "a", 3, "out of range"},
		{"\x01\x00" "abc", 5, "NUL-terminated"},
		{"\x01\x00", 2, "NUL-terminated"},
		{"\x01\x00\x00", 3, "empty argument"},
		{"\x02\x00" "a\x00", 4, "NUL-terminated"},
		{"\x01\x00" "a\x00" "b", 5, "after the last"},
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		why = NULL;
		assert_int_equal(decode_copy(bad[k].bytes, bad[k].len, &why), -1);
		if (!why || !strstr(why, bad[k].says))
			fail_msg("#%zu: '%s'", k, why ? why : "(none)");
	}
	/* every truncation of a good request is refused */
	uint8_t buf[128];
	const char *argv[] = {"virtio_net_control_set", "vnet0", "promisc", "on"};
	size_t n = vnetctl_request_encode(buf, sizeof buf, 4, argv);
	uint32_t plen = (uint32_t)(n - VNETCTL_HDR_LEN);
	for (uint32_t cut = 0; cut < plen; cut++)
		assert_int_equal(decode_copy(buf + VNETCTL_HDR_LEN, cut, &why), -1);
	assert_int_equal(decode_copy(buf + VNETCTL_HDR_LEN, plen, &why), 0);
}

static void test_access(void **state)
{
	(void)state;
	const uint32_t owner = 1000, ro = 2000;
	struct vnetctl_peer root = {.uid = 0, .gid = 0};
	struct vnetctl_peer own = {.uid = 1000, .gid = 1000};
	struct vnetctl_peer member = {.uid = 1001, .gid = 2000};
	uint32_t sup[] = {5, 2000};
	struct vnetctl_peer supp = {.uid = 1002, .gid = 1002, .groups = sup, .ngroups = 2};
	struct vnetctl_peer outsider = {.uid = 65534, .gid = 65534, .groups = sup, .ngroups = 1};
	assert_int_equal(vnetctl_access_decide(&root, owner, ro, true), VNETCTL_ALLOW);
	assert_int_equal(vnetctl_access_decide(&root, owner, ro, false), VNETCTL_ALLOW);
	assert_int_equal(vnetctl_access_decide(&own, owner, ro, true), VNETCTL_ALLOW);
	assert_int_equal(vnetctl_access_decide(&member, owner, ro, false), VNETCTL_ALLOW);
	assert_int_equal(vnetctl_access_decide(&member, owner, ro, true), VNETCTL_DENY_CHANGE);
	assert_int_equal(vnetctl_access_decide(&supp, owner, ro, false), VNETCTL_ALLOW);
	assert_int_equal(vnetctl_access_decide(&supp, owner, ro, true), VNETCTL_DENY_CHANGE);
	assert_int_equal(vnetctl_access_decide(&outsider, owner, ro, false), VNETCTL_DENY_ALL);
	assert_int_equal(vnetctl_access_decide(&outsider, owner, ro, true), VNETCTL_DENY_ALL);
	/* the owner's own group does not make a member an owner */
	struct vnetctl_peer owner_group = {.uid = 1003, .gid = 1000};
	assert_int_equal(vnetctl_access_decide(&owner_group, owner, 1000, true), VNETCTL_DENY_CHANGE);
	assert_non_null(strstr(vnetctl_access_reason(VNETCTL_DENY_CHANGE), "root and the socket's owner"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_encode_limits),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_access),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
