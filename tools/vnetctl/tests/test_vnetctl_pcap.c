/* The libpcap writer and the capture stream's end marker, byte by byte
 * (vnetctl_pcap.h): what tcpdump and tshark read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vnetctl_pcap.h"

static void global_header(void **state)
{
	(void)state;
	uint8_t g[VNETCTL_PCAP_GLOBAL_LEN];
	memset(g, 0xee, sizeof g);
	vnetctl_pcap_global_encode(g, 65535);
	static const uint8_t want[24] = {
		0xd4, 0xc3, 0xb2, 0xa1, /* magic, little-endian: microsecond pcap */
		0x02, 0x00, 0x04, 0x00, /* version 2.4 */
		0x00, 0x00, 0x00, 0x00, /* thiszone */
		0x00, 0x00, 0x00, 0x00, /* sigfigs */
		0xff, 0xff, 0x00, 0x00, /* snaplen 65535 */
		0x01, 0x00, 0x00, 0x00, /* LINKTYPE_ETHERNET */
	};
	assert_memory_equal(g, want, sizeof want);
	vnetctl_pcap_global_encode(g, 0x01020304);
	assert_int_equal(g[16], 0x04);
	assert_int_equal(g[17], 0x03);
	assert_int_equal(g[18], 0x02);
	assert_int_equal(g[19], 0x01);
}

static void record_header(void **state)
{
	(void)state;
	/* 1764684000.123456 s, a 1514-byte frame at snaplen 65535: whole. */
	struct vnetctl_pcap_rec r = vnetctl_pcap_rec_make(1764684000123456ull, 1514, 65535);
	assert_int_equal(r.ts_sec, 1764684000u);
	assert_int_equal(r.ts_usec, 123456u);
	assert_int_equal(r.incl_len, 1514u);
	assert_int_equal(r.orig_len, 1514u);
	uint8_t h[VNETCTL_PCAP_REC_LEN];
	vnetctl_pcap_rec_encode(h, &r);
	static const uint8_t want[16] = {
		0xe0, 0xf0, 0x2e, 0x69, /* 1764684000 = 0x692ef0e0 */
		0x40, 0xe2, 0x01, 0x00, /* 123456 = 0x0001e240 */
		0xea, 0x05, 0x00, 0x00, /* incl_len 1514 */
		0xea, 0x05, 0x00, 0x00, /* orig_len 1514 */
	};
	assert_memory_equal(h, want, sizeof want);
	struct vnetctl_pcap_rec back;
	vnetctl_pcap_rec_decode(h, &back);
	assert_memory_equal(&back, &r, sizeof r);
}

static void truncated_keeps_original_length(void **state)
{
	(void)state;
	struct vnetctl_pcap_rec r = vnetctl_pcap_rec_make(999999, 9000, 128);
	assert_int_equal(r.ts_sec, 0);
	assert_int_equal(r.ts_usec, 999999u);
	assert_int_equal(r.incl_len, 128u);
	assert_int_equal(r.orig_len, 9000u);
	uint8_t h[VNETCTL_PCAP_REC_LEN];
	vnetctl_pcap_rec_encode(h, &r);
	assert_int_equal(h[8], 128);
	assert_int_equal(h[9], 0);
	assert_int_equal(h[12], 0x28); /* 9000 = 0x2328 */
	assert_int_equal(h[13], 0x23);
	/* exactly the snap length: not truncated */
	r = vnetctl_pcap_rec_make(0, 128, 128);
	assert_int_equal(r.incl_len, 128u);
}

static void end_marker(void **state)
{
	(void)state;
	uint8_t e[VNETCTL_PCAP_END_LEN];
	vnetctl_pcap_end_encode(e, 5, 0x0102030405060708ull);
	struct vnetctl_pcap_rec r;
	vnetctl_pcap_rec_decode(e, &r);
	assert_int_equal(r.incl_len, VNETCTL_PCAP_END); /* never a real record: > any snap length */
	assert_true(VNETCTL_PCAP_END > VNETCTL_PCAP_SNAPLEN_MAX);
	assert_int_equal(e[16], 5);
	assert_int_equal(e[23], 0);
	assert_int_equal(e[24], 0x08);
	assert_int_equal(e[31], 0x01);
	uint64_t c, d;
	vnetctl_pcap_end_decode(e + VNETCTL_PCAP_REC_LEN, &c, &d);
	assert_int_equal(c, 5);
	assert_true(d == 0x0102030405060708ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(global_header),
		cmocka_unit_test(record_header),
		cmocka_unit_test(truncated_keeps_original_length),
		cmocka_unit_test(end_marker),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
