/*
 * Feature negotiation: names, formatting, the dependency closure and its
 * guarantees (accepted is a subset of offered & wanted, self-consistent,
 * and maximal), VERSION_1 handling, transport and legacy filtering.
 *
 * Negotiation itself is device-neutral (src/core/features.c); virtio-net's
 * table and names live in src/net/net_features.c.  The spec's requirement
 * table (5.1.3.1) is transcribed here a second time, independently of
 * src/net/net_features.c, and each row is checked by
 * behaviour: with its requirements the feature is accepted, without them
 * it is dropped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vnet/features.h"
#include "vnet/net.h"

#define V1 VNET_BIT(VIRTIO_F_VERSION_1)
#define N(x) VNET_BIT(VIRTIO_NET_F_##x)
#define ALL_TRANSPORT VNET_FEATURES_RESERVED_RANGE

/* virtio-net's table, as the net layer hands it to negotiation. */
static const struct vnet_feature_rule *net_rules(size_t *n)
{
	return vnet_net_feature_rules(n);
}
static size_t nrules(void)
{
	size_t n;
	vnet_net_feature_rules(&n);
	return n;
}
#define RULES net_rules(NULL), nrules()
#define NEG(off, want, tr, acc) vnet_features_negotiate((off), (want), (tr), VNET_FEATURES_NET_KNOWN, RULES, (acc))

static uint64_t negotiate(uint64_t offered, uint64_t wanted)
{
	uint64_t acc = 0xdeadbeef;
	assert_int_equal(NEG(offered, wanted, ALL_TRANSPORT, &acc), VNET_OK);
	return acc;
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(vnet_feature_name(VIRTIO_F_VERSION_1), "VERSION_1");
	assert_string_equal(vnet_feature_name(VIRTIO_F_RING_PACKED), "RING_PACKED");
	assert_string_equal(vnet_feature_name(VIRTIO_F_RING_RESET), "RING_RESET");
	assert_string_equal(vnet_feature_name(VIRTIO_NET_F_CSUM), "CSUM");
	assert_string_equal(vnet_feature_name(VIRTIO_NET_F_GUEST_TSO4), "GUEST_TSO4");
	assert_string_equal(vnet_feature_name(VIRTIO_NET_F_MQ), "MQ");
	assert_string_equal(vnet_feature_name(VIRTIO_NET_F_SPEED_DUPLEX), "SPEED_DUPLEX");
	assert_string_equal(vnet_feature_name(VIRTIO_NET_F_RSS_CONTEXT), "RSS_CONTEXT");
	assert_string_equal(vnet_feature_name(VIRTIO_NET_F_IPSEC), "IPSEC");
	assert_non_null(strstr(vnet_feature_name(VIRTIO_NET_F_GSO), "legacy"));
	assert_null(vnet_feature_name(4));    /* undefined */
	assert_null(vnet_feature_name(58));   /* undefined */
	assert_null(vnet_feature_name(200));  /* out of range, no crash */
	/* every bit the driver can accept has a name */
	uint64_t known = VNET_FEATURES_NET_KNOWN | VNET_FEATURES_DEVICE_INDEPENDENT;
	for (unsigned b = 0; b < 64; b++)
		if (known & VNET_BIT(b))
			assert_non_null(vnet_feature_name(b));
}

static void test_format(void **state)
{
	(void)state;
	char buf[128];
	size_t n = vnet_features_format(buf, sizeof(buf), N(CSUM) | V1 | VNET_BIT(4));
	assert_string_equal(buf, "CSUM bit4 VERSION_1");
	assert_int_equal(n, strlen(buf));

	vnet_features_format(buf, sizeof(buf), 0);
	assert_string_equal(buf, "");

	/* Truncation: NUL-terminated, ends in "...", never overruns. */
	char small[16];
	memset(small, 'X', sizeof(small));
	n = vnet_features_format(small, sizeof(small), N(CSUM) | N(GUEST_CSUM) | N(MRG_RXBUF) | V1);
	assert_true(n < sizeof(small));
	assert_int_equal(strlen(small), n);
	assert_non_null(strstr(small, "..."));
	assert_int_equal(strncmp(small, "CSUM", 4), 0);

	assert_int_equal(vnet_features_format(small, 0, V1), 0); /* size 0: untouched */
	assert_int_equal(small[0], 'C');
}

/* The core's half knows no device type: device-independent names only,
 * no device-type bit accepted without the device layer's mask, no rule
 * applied without its table. */
static void test_core_is_device_neutral(void **state)
{
	(void)state;
	assert_string_equal(vnet_feature_common_name(VIRTIO_F_VERSION_1), "VERSION_1");
	assert_string_equal(vnet_feature_common_name(VIRTIO_F_RING_PACKED), "RING_PACKED");
	assert_null(vnet_feature_common_name(VIRTIO_NET_F_MAC));
	assert_null(vnet_feature_common_name(VIRTIO_NET_F_GUEST_RSC6)); /* 42: a net legacy bit */
	assert_string_equal(vnet_feature_name(VIRTIO_NET_F_GUEST_RSC6), "GUEST_RSC6(legacy)");
	assert_null(vnet_feature_common_name(200));
	char buf[64];
	vnet_features_format_names(buf, sizeof(buf), N(MAC) | V1, NULL);
	assert_string_equal(buf, "bit5 VERSION_1");
	vnet_features_format_names(buf, sizeof(buf), N(MAC) | V1, vnet_feature_name);
	assert_string_equal(buf, "MAC VERSION_1");

	uint64_t acc = 0;
	uint64_t off = V1 | N(MAC) | N(MQ) | VNET_BIT(VIRTIO_F_EVENT_IDX);
	assert_int_equal(vnet_features_negotiate(off, ~0ULL, ALL_TRANSPORT, 0, NULL, 0, &acc), VNET_OK);
	assert_int_equal(acc, V1 | VNET_BIT(VIRTIO_F_EVENT_IDX));
	/* Mask without rules: MQ kept without CTRL_VQ (net's rule is net's). */
	assert_int_equal(vnet_features_negotiate(off, ~0ULL, ALL_TRANSPORT, VNET_FEATURES_NET_KNOWN, NULL, 0, &acc),
			 VNET_OK);
	assert_int_equal(acc, off);
	assert_int_equal(NEG(off, ~0ULL, ALL_TRANSPORT, &acc), VNET_OK);
	assert_int_equal(acc, V1 | N(MAC) | VNET_BIT(VIRTIO_F_EVENT_IDX));
	/* The reserved range stays the core's: a device mask cannot add legacy bits. */
	assert_int_equal(vnet_features_negotiate(V1 | VNET_BIT(24), ~0ULL, ALL_TRANSPORT, ~0ULL, NULL, 0, &acc), VNET_OK);
	assert_int_equal(acc, V1);
}

static void test_version1_required(void **state)
{
	(void)state;
	uint64_t acc = 123;
	assert_int_equal(NEG(N(CSUM) | N(MAC), ~0ULL, ALL_TRANSPORT, &acc), VNET_ENOTSUP);
	assert_int_equal(acc, 0);
	/* VERSION_1 is accepted when offered even if the caller forgot it. */
	assert_int_equal(negotiate(V1 | N(MAC), N(MAC)), V1 | N(MAC));
	/* and even if the transport mask forgot it */
	assert_int_equal(NEG(V1, 0, 0, &acc), VNET_OK);
	assert_int_equal(acc, V1);
}

static void test_subset_of_offered_and_wanted(void **state)
{
	(void)state;
	/* wanted but not offered: not accepted */
	assert_int_equal(negotiate(V1, N(MAC) | N(MRG_RXBUF)), V1);
	/* offered but not wanted (device-independent and net alike) */
	uint64_t off = V1 | N(MAC) | VNET_BIT(VIRTIO_F_RING_PACKED) | VNET_BIT(VIRTIO_F_IN_ORDER) |
		       VNET_BIT(VIRTIO_F_EVENT_IDX) | VNET_BIT(VIRTIO_F_INDIRECT_DESC) |
		       VNET_BIT(VIRTIO_F_NOTIFICATION_DATA) | VNET_BIT(VIRTIO_F_ACCESS_PLATFORM) |
		       VNET_BIT(VIRTIO_F_RING_RESET);
	assert_int_equal(negotiate(off, N(MAC)), V1 | N(MAC));
	assert_int_equal(negotiate(off, VNET_BIT(VIRTIO_F_EVENT_IDX)), V1 | VNET_BIT(VIRTIO_F_EVENT_IDX));
	assert_int_equal(negotiate(off, ~0ULL), off);
}

static void test_transport_mask(void **state)
{
	(void)state;
	uint64_t off = V1 | N(MAC) | VNET_BIT(VIRTIO_F_RING_PACKED) | VNET_BIT(VIRTIO_F_EVENT_IDX);
	uint64_t acc;
	/* transport carries EVENT_IDX but not RING_PACKED; net bits unaffected */
	assert_int_equal(NEG(off, ~0ULL, VNET_BIT(VIRTIO_F_EVENT_IDX), &acc), VNET_OK);
	assert_int_equal(acc, V1 | N(MAC) | VNET_BIT(VIRTIO_F_EVENT_IDX));
}

static void test_unknown_and_legacy_never_accepted(void **state)
{
	(void)state;
	uint64_t junk = VNET_BIT(4) | VNET_BIT(58) | N(GSO) | VNET_BIT(VIRTIO_NET_F_GUEST_RSC6) |
			VNET_BIT(24) | VNET_BIT(27) | VNET_BIT(30) | VNET_BIT(44) | VNET_BIT(49);
	uint64_t acc = negotiate(V1 | junk, ~0ULL);
	assert_int_equal(acc, V1);
	/* ADMIN_VQ / SR_IOV only where the transport has them */
	uint64_t pci_only = VNET_BIT(VIRTIO_F_SR_IOV) | VNET_BIT(VIRTIO_F_ADMIN_VQ) |
			    VNET_BIT(VIRTIO_F_NOTIF_CONFIG_DATA);
	assert_int_equal(NEG(V1 | pci_only, ~0ULL, VNET_BIT(VIRTIO_F_RING_PACKED), &acc),
			 VNET_OK);
	assert_int_equal(acc, V1);
}

/* ---- the spec's requirement table, transcribed independently ---- */
struct spec_row {
	unsigned bit;
	uint64_t all;
	uint64_t any;
};
static const struct spec_row spec_rows[] = {
	{VIRTIO_NET_F_GUEST_TSO4, N(GUEST_CSUM), 0},
	{VIRTIO_NET_F_GUEST_TSO6, N(GUEST_CSUM), 0},
	{VIRTIO_NET_F_GUEST_ECN, 0, N(GUEST_TSO4) | N(GUEST_TSO6)},
	{VIRTIO_NET_F_GUEST_UFO, N(GUEST_CSUM), 0},
	{VIRTIO_NET_F_GUEST_USO4, N(GUEST_CSUM), 0},
	{VIRTIO_NET_F_GUEST_USO6, N(GUEST_CSUM), 0},
	{VIRTIO_NET_F_HOST_TSO4, N(CSUM), 0},
	{VIRTIO_NET_F_HOST_TSO6, N(CSUM), 0},
	{VIRTIO_NET_F_HOST_ECN, 0, N(HOST_TSO4) | N(HOST_TSO6)},
	{VIRTIO_NET_F_HOST_UFO, N(CSUM), 0},
	{VIRTIO_NET_F_HOST_USO, N(CSUM), 0},
	{VIRTIO_NET_F_CTRL_RX, N(CTRL_VQ), 0},
	{VIRTIO_NET_F_CTRL_VLAN, N(CTRL_VQ), 0},
	{VIRTIO_NET_F_GUEST_ANNOUNCE, N(CTRL_VQ), 0},
	{VIRTIO_NET_F_MQ, N(CTRL_VQ), 0},
	{VIRTIO_NET_F_CTRL_MAC_ADDR, N(CTRL_VQ), 0},
	{VIRTIO_NET_F_NOTF_COAL, N(CTRL_VQ), 0},
	{VIRTIO_NET_F_RSC_EXT, 0, N(HOST_TSO4) | N(HOST_TSO6)},
	{VIRTIO_NET_F_RSS, N(CTRL_VQ), 0},
	{VIRTIO_NET_F_VQ_NOTF_COAL, N(CTRL_VQ), 0},
	{VIRTIO_NET_F_HASH_TUNNEL, N(CTRL_VQ), N(RSS) | N(HASH_REPORT)},
	/* driver policy rows (spec 5.1.4.2 SHOULD NOT; ctrl-only commands) */
	{VIRTIO_NET_F_HASH_REPORT, N(CTRL_VQ), 0},
	{VIRTIO_NET_F_CTRL_RX_EXTRA, N(CTRL_VQ), 0},
	{VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, N(CTRL_VQ), 0},
	{VIRTIO_NET_F_DEVICE_STATS, N(CTRL_VQ), 0},
};

/* The requirements of the requirements, so "with its requirements" is a
 * consistent set (e.g. GUEST_ECN via GUEST_TSO4 needs GUEST_CSUM too). */
static uint64_t support_of(uint64_t set)
{
	if (set & (N(GUEST_TSO4) | N(GUEST_TSO6)))
		set |= N(GUEST_CSUM);
	if (set & (N(HOST_TSO4) | N(HOST_TSO6)))
		set |= N(CSUM);
	if (set & (N(RSS) | N(HASH_REPORT)))
		set |= N(CTRL_VQ);
	return set;
}

static void test_every_spec_row(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(spec_rows) / sizeof(spec_rows[0]); i++) {
		const struct spec_row *r = &spec_rows[i];
		uint64_t f = VNET_BIT(r->bit);
		const char *name = vnet_feature_name(r->bit);
		/* alone: dropped (every row has some requirement) */
		assert_int_equal(negotiate(V1 | f, ~0ULL), V1);
		/* with all of `all` and each single member of `any`: kept */
		uint64_t anys = r->any ? r->any : 0;
		for (unsigned b = 0; b < 64 || anys == 0; b++) {
			uint64_t one = 0;
			if (anys) {
				if (!(anys & VNET_BIT(b)))
					continue;
				one = VNET_BIT(b);
			}
			uint64_t with = support_of(V1 | f | r->all | one);
			uint64_t acc = negotiate(with, ~0ULL);
			if (!(acc & f))
				fail_msg("%s dropped although its requirements were offered", name);
			if (!anys)
				break;
		}
		/* missing any single member of `all`: dropped */
		for (unsigned b = 0; b < 64; b++) {
			if (!(r->all & VNET_BIT(b)))
				continue;
			uint64_t with = support_of(V1 | f | r->all | (r->any & -r->any)) & ~VNET_BIT(b);
			uint64_t acc = negotiate(with, ~0ULL);
			if (acc & f)
				fail_msg("%s kept without %s", name, vnet_feature_name(b));
		}
		/* the core's table has a rule for this bit */
		size_t n;
		const struct vnet_feature_rule *rules = vnet_net_feature_rules(&n);
		bool found = false;
		for (size_t k = 0; k < n; k++)
			if (rules[k].bit == r->bit && rules[k].all == r->all && rules[k].any == r->any)
				found = true;
		if (!found)
			fail_msg("no matching rule for %s in the core's table", name);
	}
	/* and the core's table has nothing the transcription lacks */
	size_t n;
	vnet_net_feature_rules(&n);
	assert_int_equal(n, sizeof(spec_rows) / sizeof(spec_rows[0]));
}

static void test_closure_examples(void **state)
{
	(void)state;
	/* HOST_TSO4 offered without CSUM: TSO4 dropped */
	assert_int_equal(negotiate(V1 | N(HOST_TSO4), ~0ULL), V1);
	assert_int_equal(negotiate(V1 | N(HOST_TSO4) | N(CSUM), ~0ULL), V1 | N(HOST_TSO4) | N(CSUM));
	/* the driver not wanting CSUM has the same effect */
	assert_int_equal(negotiate(V1 | N(HOST_TSO4) | N(CSUM), ~N(CSUM)), V1);
	/* MQ without CTRL_VQ dropped; with it, kept */
	assert_int_equal(negotiate(V1 | N(MQ), ~0ULL), V1);
	assert_int_equal(negotiate(V1 | N(MQ) | N(CTRL_VQ), ~0ULL), V1 | N(MQ) | N(CTRL_VQ));
	/* RSS depends on CTRL_VQ; dropping CTRL_VQ (not wanted) drops RSS,
	 * MQ, and HASH_TUNNEL whose any-of then has nothing left */
	uint64_t ctl = N(CTRL_VQ) | N(MQ) | N(RSS) | N(HASH_REPORT) | N(HASH_TUNNEL) | N(CTRL_RX);
	assert_int_equal(negotiate(V1 | ctl | N(MAC), ~0ULL), V1 | ctl | N(MAC));
	assert_int_equal(negotiate(V1 | ctl | N(MAC), ~N(CTRL_VQ)), V1 | N(MAC));
	/* HASH_TUNNEL keeps with RSS alone or HASH_REPORT alone */
	assert_int_equal(negotiate(V1 | N(CTRL_VQ) | N(RSS) | N(HASH_TUNNEL), ~0ULL),
			 V1 | N(CTRL_VQ) | N(RSS) | N(HASH_TUNNEL));
	assert_int_equal(negotiate(V1 | N(CTRL_VQ) | N(HASH_REPORT) | N(HASH_TUNNEL), ~0ULL),
			 V1 | N(CTRL_VQ) | N(HASH_REPORT) | N(HASH_TUNNEL));
	assert_int_equal(negotiate(V1 | N(CTRL_VQ) | N(HASH_TUNNEL), ~0ULL), V1 | N(CTRL_VQ));
}

static void test_fixed_point_chains(void **state)
{
	(void)state;
	/* GUEST_CSUM missing -> GUEST_TSO4/TSO6 dropped -> GUEST_ECN has no
	 * TSO left -> dropped too; needs more than one pass. */
	uint64_t g = N(GUEST_TSO4) | N(GUEST_TSO6) | N(GUEST_ECN) | N(GUEST_UFO);
	assert_int_equal(negotiate(V1 | g | N(GUEST_CSUM), ~0ULL), V1 | g | N(GUEST_CSUM));
	assert_int_equal(negotiate(V1 | g | N(GUEST_CSUM), ~N(GUEST_CSUM)), V1);
	/* host side: CSUM missing -> TSO4/6 -> ECN and RSC_EXT (any-of) */
	uint64_t h = N(HOST_TSO4) | N(HOST_TSO6) | N(HOST_ECN) | N(RSC_EXT) | N(HOST_UFO) | N(HOST_USO);
	assert_int_equal(negotiate(V1 | h | N(CSUM), ~0ULL), V1 | h | N(CSUM));
	assert_int_equal(negotiate(V1 | h, ~0ULL), V1);
	assert_int_equal(vnet_features_close(RULES, h), 0);
	/* close() is idempotent */
	uint64_t c = vnet_features_close(RULES, V1 | g | h | N(CSUM));
	assert_int_equal(vnet_features_close(RULES, c), c);
}

static void test_ecn_any_of(void **state)
{
	(void)state;
	/* one of TSO4/TSO6 is enough */
	uint64_t base = V1 | N(GUEST_CSUM) | N(GUEST_ECN);
	assert_int_equal(negotiate(base | N(GUEST_TSO6), ~0ULL), base | N(GUEST_TSO6));
	assert_int_equal(negotiate(base | N(GUEST_TSO4), ~0ULL), base | N(GUEST_TSO4));
	assert_int_equal(negotiate(base, ~0ULL), V1 | N(GUEST_CSUM));
	uint64_t hb = V1 | N(CSUM) | N(HOST_ECN);
	assert_int_equal(negotiate(hb | N(HOST_TSO4), ~0ULL), hb | N(HOST_TSO4));
	assert_int_equal(negotiate(hb, ~0ULL), V1 | N(CSUM));
}

static void test_validate(void **state)
{
	(void)state;
	unsigned bad = 999;
	assert_int_equal(vnet_features_validate(RULES, V1 | N(CSUM) | N(HOST_TSO4), false, &bad), VNET_OK);
	assert_int_equal(vnet_features_validate(RULES, V1 | N(HOST_TSO4) | N(MQ), false, &bad), VNET_EINVAL);
	assert_int_equal(bad, VIRTIO_NET_F_HOST_TSO4); /* lowest offender */
	/* spec_only ignores the driver-policy rows */
	assert_int_equal(vnet_features_validate(RULES, V1 | N(HASH_REPORT), true, &bad), VNET_OK);
	assert_int_equal(vnet_features_validate(RULES, V1 | N(HASH_REPORT), false, &bad), VNET_EINVAL);
	assert_int_equal(bad, VIRTIO_NET_F_HASH_REPORT);
	assert_int_equal(vnet_features_validate(RULES, V1 | N(MQ), true, NULL), VNET_EINVAL);
	assert_int_equal(vnet_features_validate(RULES, 0, false, NULL), VNET_OK);
}

/* Deterministic pseudo-random offers: the accepted set is always a subset
 * of offered & wanted, self-consistent, and maximal (adding back any
 * candidate bit makes it inconsistent). */
static void test_properties_random(void **state)
{
	(void)state;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	uint64_t known = VNET_FEATURES_NET_KNOWN | VNET_FEATURES_DEVICE_INDEPENDENT;
	for (int i = 0; i < 5000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t offered = x | V1;
		uint64_t y = x * 0x2545F4914F6CDD1DULL;
		uint64_t wanted = y | (y >> 3);
		uint64_t acc = negotiate(offered, wanted);
		assert_int_equal(acc & ~(offered & (wanted | V1)), 0);
		assert_true(acc & V1);
		assert_int_equal(vnet_features_validate(RULES, acc, false, NULL), VNET_OK);
		uint64_t cand = offered & (wanted | V1) & known & ~acc;
		for (unsigned b = 0; b < 64; b++)
			if (cand & VNET_BIT(b))
				assert_int_equal(vnet_features_validate(RULES, acc | VNET_BIT(b), false, NULL), VNET_EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_core_is_device_neutral),
		cmocka_unit_test(test_version1_required),
		cmocka_unit_test(test_subset_of_offered_and_wanted),
		cmocka_unit_test(test_transport_mask),
		cmocka_unit_test(test_unknown_and_legacy_never_accepted),
		cmocka_unit_test(test_every_spec_row),
		cmocka_unit_test(test_closure_examples),
		cmocka_unit_test(test_fixed_point_chains),
		cmocka_unit_test(test_ecn_any_of),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_properties_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
