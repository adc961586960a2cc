/*
 * vnetd's pure parts, without a TAP or a back-end: the command line (what
 * is refused and what the defaults are), the TUNSETOFFLOAD bits a feature
 * set gives, the TAP header <-> struct vnet_pkt mapping in both directions
 * (every reason a TAP header is refused), and the software checksum
 * against a checksum computed independently here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <linux/if_tun.h>

#include "vnet/features.h"
#include "vnet/spec/virtio_net.h"
#include "vnetd.h"

/* ------------------------------------------------------------- options */

static int parse(struct vnetd_opts *o, bool *help, int n, ...)
{
	char *argv[32];
	va_list ap;
	va_start(ap, n);
	argv[0] = (char *)"vnetd";
	for (int i = 0; i < n; i++)
		argv[i + 1] = va_arg(ap, char *);
	va_end(ap);
	argv[n + 1] = NULL;
	return vnetd_parse_opts(n + 1, argv, o, help);
}

static void test_opts_defaults(void **state)
{
	(void)state;
	struct vnetd_opts o;
	bool help;
	assert_int_equal(parse(&o, &help, 4, "--vhost-user", "/x.sock", "--tap", "t0"), 0);
	assert_false(help);
	assert_string_equal(o.vhost_path, "/x.sock");
	assert_string_equal(o.tap_name, "t0");
	assert_false(o.server);
	assert_false(o.poll_mode); /* interrupt mode by default */
	assert_true(o.offloads);
	assert_int_equal(o.ring, VNET_NET_RING_AUTO);
	assert_int_equal(o.connect_timeout_ms, 10000);
	assert_int_equal(parse(&o, &help, 10, "--vhost-user", "/x", "--tap", "abcdefghijklmno", "--server", "--poll",
			       "--offloads", "off", "--ring", "split"),
			 0);
	assert_true(o.server);
	assert_true(o.poll_mode);
	assert_false(o.offloads);
	assert_int_equal(o.ring, VNET_NET_RING_SPLIT);
	assert_int_equal(parse(&o, &help, 1, "--help"), 0);
	assert_true(help);
}

static void test_opts_refused(void **state)
{
	(void)state;
	struct vnetd_opts o;
	bool help;
	/* Each is a usage error (2), never a start with a surprise. */
	assert_int_equal(parse(&o, &help, 0), 2);
	assert_int_equal(parse(&o, &help, 2, "--vhost-user", "/x"), 2);
	assert_int_equal(parse(&o, &help, 2, "--tap", "t0"), 2);
	assert_int_equal(parse(&o, &help, 5, "--vhost-user", "/x", "--tap", "t0", "--nope"), 2);
	assert_int_equal(parse(&o, &help, 4, "--vhost-user", "/x", "--tap", "abcdefghijklmnop"), 2); /* 16 */
	assert_int_equal(parse(&o, &help, 4, "--vhost-user", "/x", "--tap", ""), 2);
	assert_int_equal(parse(&o, &help, 4, "--vhost-user", "/x", "--tap", ".."), 2);
	assert_int_equal(parse(&o, &help, 4, "--vhost-user", "/x", "--tap", "a b"), 2);
	assert_int_equal(parse(&o, &help, 4, "--vhost-user", "/x", "--tap", "a:b"), 2);
	assert_int_equal(parse(&o, &help, 4, "--vhost-user", "", "--tap", "t0"), 2);
	assert_int_equal(parse(&o, &help, 6, "--vhost-user", "/x", "--tap", "t0", "--queues", "2"), 2);
	assert_int_equal(parse(&o, &help, 6, "--vhost-user", "/x", "--tap", "t0", "--queues", "1"), 0);
	assert_int_equal(parse(&o, &help, 6, "--vhost-user", "/x", "--tap", "t0", "--queue-size", "300"), 2);
	assert_int_equal(parse(&o, &help, 6, "--vhost-user", "/x", "--tap", "t0", "--queue-size", "-256"), 2);
	assert_int_equal(parse(&o, &help, 6, "--vhost-user", "/x", "--tap", "t0", "--queue-size", "65536"), 2);
	assert_int_equal(parse(&o, &help, 6, "--vhost-user", "/x", "--tap", "t0", "--connect-timeout-ms", "1x"), 2);
	assert_int_equal(parse(&o, &help, 6, "--vhost-user", "/x", "--tap", "t0", "--ring", "ring"), 2);
	assert_int_equal(parse(&o, &help, 6, "--vhost-user", "/x", "--tap", "t0", "--irq", "--poll"), 2);
	assert_int_equal(parse(&o, &help, 5, "--vhost-user", "/x", "--tap", "t0", "stray"), 2);
	assert_int_equal(parse(&o, &help, 3, "--vhost-user", "/x", "--tap"), 2);
}

/* ------------------------------------------------------- TUNSETOFFLOAD */

static void test_tun_offloads(void **state)
{
	(void)state;
	uint64_t csum = VNET_BIT(VIRTIO_NET_F_CSUM);
	assert_int_equal(vnetd_tun_offloads_for(0), 0);
	/* Segmentation without checksum offload is nothing (tun would refuse it). */
	assert_int_equal(vnetd_tun_offloads_for(VNET_BIT(VIRTIO_NET_F_HOST_TSO4) | VNET_BIT(VIRTIO_NET_F_HOST_TSO6)), 0);
	assert_int_equal(vnetd_tun_offloads_for(csum), TUN_F_CSUM);
	assert_int_equal(vnetd_tun_offloads_for(csum | VNET_BIT(VIRTIO_NET_F_HOST_TSO4)), TUN_F_CSUM | TUN_F_TSO4);
	assert_int_equal(vnetd_tun_offloads_for(csum | VNET_BIT(VIRTIO_NET_F_HOST_TSO6)), TUN_F_CSUM | TUN_F_TSO6);
	/* ECN only with a TSO. */
	assert_int_equal(vnetd_tun_offloads_for(csum | VNET_BIT(VIRTIO_NET_F_HOST_ECN)), TUN_F_CSUM);
	assert_int_equal(vnetd_tun_offloads_for(csum | VNET_BIT(VIRTIO_NET_F_HOST_TSO4) | VNET_BIT(VIRTIO_NET_F_HOST_ECN)),
			 TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN);
	assert_int_equal(vnetd_tun_offloads_for(csum | VNET_BIT(VIRTIO_NET_F_HOST_UFO)), TUN_F_CSUM | TUN_F_UFO);
	assert_int_equal(vnetd_tun_offloads_for(csum | VNET_BIT(VIRTIO_NET_F_HOST_USO)), TUN_F_CSUM | 0x20 | 0x40);
	/* Receive-side features say nothing about what the TAP may hand us. */
	assert_int_equal(vnetd_tun_offloads_for(csum | VNET_BIT(VIRTIO_NET_F_GUEST_TSO4) |
						VNET_BIT(VIRTIO_NET_F_GUEST_CSUM)),
			 TUN_F_CSUM);
	char buf[64];
	assert_string_equal(vnetd_tun_offload_names(0, buf, sizeof(buf)), "none");
	assert_string_equal(vnetd_tun_offload_names(TUN_F_CSUM | TUN_F_TSO4, buf, sizeof(buf)), "csum,tso4");
}

/* ----------------------------------------------------------- checksums */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* An Ethernet + IPv4 + UDP frame with `payload` bytes. */
static uint32_t make_udp(uint8_t *f, uint32_t payload)
{
	memset(f, 0, 14 + 20 + 8 + payload);
	f[12] = 0x08;
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	uint16_t tot = (uint16_t)(20 + 8 + payload);
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[8] = 64;
	ip[9] = 17;
	const uint8_t src[4] = {10, 231, 77, 1}, dst[4] = {10, 231, 77, 2};
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	uint8_t *udp = ip + 20;
	udp[0] = 0x12, udp[1] = 0x34, udp[2] = 0x14, udp[3] = 0x51;
	uint16_t ulen = (uint16_t)(8 + payload);
	udp[4] = (uint8_t)(ulen >> 8);
	udp[5] = (uint8_t)ulen;
	for (uint32_t i = 0; i < payload; i++)
		udp[8 + i] = (uint8_t)(i * 7 + 3);
	return 14 + 20 + 8 + payload;
}

/* The UDP checksum computed the textbook way (RFC 768), all at once. */
static uint16_t udp_csum_reference(const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + 14, *udp = ip + 20;
	uint32_t ulen = len - 34, sum = 0;
	for (int i = 12; i < 20; i += 2)
		sum += be16(ip + i);
	sum += 17 + ulen;
	for (uint32_t i = 0; i < ulen; i += 2)
		sum += i + 1 < ulen ? be16(udp + i) : (uint32_t)udp[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* What Linux leaves in the field for CHECKSUM_PARTIAL: the folded
 * pseudo-header sum, not inverted. */
static void put_pseudo_sum(uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + 14;
	uint32_t sum = 0;
	for (int i = 12; i < 20; i += 2)
		sum += be16(ip + i);
	sum += 17 + (len - 34);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f[34 + 6] = (uint8_t)(sum >> 8);
	f[34 + 7] = (uint8_t)sum;
}

static void test_csum_complete(void **state)
{
	(void)state;
	static uint8_t f[2048];
	for (uint32_t payload = 0; payload < 40; payload++) { /* odd and even lengths */
		uint32_t len = make_udp(f, payload);
		uint16_t want = udp_csum_reference(f, len);
		put_pseudo_sum(f, len);
		assert_true(vnetd_csum_complete(f, len, 34, 6));
		assert_int_equal(be16(f + 40), want);
	}
	uint32_t len = make_udp(f, 100);
	/* The field must lie inside the frame. */
	assert_false(vnetd_csum_complete(f, len, (uint16_t)(len - 1), 0));
	assert_false(vnetd_csum_complete(f, len, 34, (uint16_t)(len - 34 - 1)));
	assert_true(vnetd_csum_complete(f, len, 34, (uint16_t)(len - 34 - 2)));
}

/* --------------------------------------------------- TAP header mapping */

static struct vnetd *dev(uint64_t negotiated)
{
	static struct vnetd d;
	memset(&d, 0, sizeof(d));
	d.negotiated = negotiated;
	return &d;
}

static struct virtio_net_hdr hdr(uint8_t flags, uint16_t start, uint16_t off, uint8_t gso, uint16_t size,
				 uint16_t hlen)
{
	struct virtio_net_hdr h;
	memset(&h, 0, sizeof(h));
	h.flags = flags;
	h.csum_start = vnet_cpu_to_le16(start);
	h.csum_offset = vnet_cpu_to_le16(off);
	h.gso_type = gso;
	h.gso_size = vnet_cpu_to_le16(size);
	h.hdr_len = vnet_cpu_to_le16(hlen);
	return h;
}

static void test_tap_hdr_to_pkt(void **state)
{
	(void)state;
	static uint8_t f[2048];
	uint64_t csum = VNET_BIT(VIRTIO_NET_F_CSUM), tso4 = VNET_BIT(VIRTIO_NET_F_HOST_TSO4);
	struct vnet_pkt p;
	memset(&p, 0, sizeof(p));
	p.data = f;
	p.len = p.pkt_len = make_udp(f, 64);
	struct virtio_net_hdr h;

	/* No offload: no flags. */
	h = hdr(0, 0, 0, 0, 0, 0);
	assert_true(vnetd_tap_hdr_to_pkt(dev(csum), &h, &p));
	assert_int_equal(p.flags, 0);
	/* DATA_VALID from the TAP is not passed on (§5.1.6.2.1). */
	h = hdr(VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0);
	assert_true(vnetd_tap_hdr_to_pkt(dev(csum), &h, &p));
	assert_int_equal(p.flags, 0);
	/* Partial checksum with CSUM negotiated: passed to the device. */
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 6, 0, 0, 0);
	assert_true(vnetd_tap_hdr_to_pkt(dev(csum), &h, &p));
	assert_int_equal(p.flags, VNET_PKT_F_CSUM_PARTIAL);
	assert_int_equal(p.csum_start, 34);
	assert_int_equal(p.csum_offset, 6);
	/* Without CSUM: completed here, no flag left. */
	struct vnetd *d = dev(0);
	f[40] = f[41] = 0;
	uint16_t want = udp_csum_reference(f, p.len);
	put_pseudo_sum(f, p.len);
	assert_true(vnetd_tap_hdr_to_pkt(d, &h, &p));
	assert_int_equal(p.flags, 0);
	assert_int_equal(d->st.sw_csum, 1);
	assert_int_equal(be16(f + 40), want);
	/* Offsets outside the frame: refused either way. */
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, (uint16_t)(p.len - 1), 0, 0, 0, 0);
	assert_false(vnetd_tap_hdr_to_pkt(dev(csum), &h, &p));
	assert_false(vnetd_tap_hdr_to_pkt(dev(0), &h, &p));

	/* GSO: TCPv4 with HOST_TSO4. */
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 16, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 66);
	assert_true(vnetd_tap_hdr_to_pkt(dev(csum | tso4), &h, &p));
	assert_int_equal(p.flags, VNET_PKT_F_CSUM_PARTIAL | VNET_PKT_F_GSO);
	assert_int_equal(p.gso_type, VNET_PKT_GSO_TCPV4);
	assert_int_equal(p.gso_size, 1448);
	assert_int_equal(p.hdr_len, 66);
	/* ... refused: type not negotiated, ECN without HOST_ECN, no
	 * NEEDS_CSUM, gso_size 0, an unknown type. */
	assert_false(vnetd_tap_hdr_to_pkt(dev(csum), &h, &p));
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 16, VIRTIO_NET_HDR_GSO_TCPV6, 1448, 66);
	assert_false(vnetd_tap_hdr_to_pkt(dev(csum | tso4), &h, &p));
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 16, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448, 66);
	assert_false(vnetd_tap_hdr_to_pkt(dev(csum | tso4), &h, &p));
	assert_true(vnetd_tap_hdr_to_pkt(dev(csum | tso4 | VNET_BIT(VIRTIO_NET_F_HOST_ECN)), &h, &p));
	assert_int_equal(p.gso_type, VNET_PKT_GSO_TCPV4 | VNET_PKT_GSO_ECN);
	h = hdr(0, 0, 0, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 66);
	assert_false(vnetd_tap_hdr_to_pkt(dev(csum | tso4), &h, &p));
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 16, VIRTIO_NET_HDR_GSO_TCPV4, 0, 66);
	assert_false(vnetd_tap_hdr_to_pkt(dev(csum | tso4), &h, &p));
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 16, 2 /* no such type */, 1448, 66);
	assert_false(vnetd_tap_hdr_to_pkt(dev(~0ull), &h, &p));
	/* UDP_L4 needs HOST_USO, UDP HOST_UFO. */
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 6, VIRTIO_NET_HDR_GSO_UDP_L4, 1400, 42);
	assert_false(vnetd_tap_hdr_to_pkt(dev(csum | VNET_BIT(VIRTIO_NET_F_HOST_UFO)), &h, &p));
	assert_true(vnetd_tap_hdr_to_pkt(dev(csum | VNET_BIT(VIRTIO_NET_F_HOST_USO)), &h, &p));
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 6, VIRTIO_NET_HDR_GSO_UDP, 1400, 42);
	assert_true(vnetd_tap_hdr_to_pkt(dev(csum | VNET_BIT(VIRTIO_NET_F_HOST_UFO)), &h, &p));
}

static void test_pkt_to_tap_hdr(void **state)
{
	(void)state;
	struct vnet_pkt p;
	struct virtio_net_hdr h;
	struct vnetd *d = dev(0);
	memset(&p, 0, sizeof(p));
	p.pkt_len = 60;
	vnetd_pkt_to_tap_hdr(d, &p, &h);
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.gso_type, 0);

	p.flags = VNET_PKT_F_CSUM_VALID;
	vnetd_pkt_to_tap_hdr(d, &p, &h);
	assert_int_equal(h.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	assert_int_equal(d->st.tap_out_csum_valid, 1);

	p.pkt_len = 65000;
	p.flags = VNET_PKT_F_CSUM_PARTIAL | VNET_PKT_F_GSO;
	p.csum_start = 34;
	p.csum_offset = 16;
	p.gso_type = VNET_PKT_GSO_TCPV6 | VNET_PKT_GSO_ECN;
	p.gso_size = 1428;
	p.hdr_len = 86;
	vnetd_pkt_to_tap_hdr(d, &p, &h);
	assert_int_equal(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(vnet_le16_to_cpu(h.csum_start), 34);
	assert_int_equal(vnet_le16_to_cpu(h.csum_offset), 16);
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN);
	assert_int_equal(vnet_le16_to_cpu(h.gso_size), 1428);
	assert_int_equal(vnet_le16_to_cpu(h.hdr_len), 86);
	assert_int_equal(d->st.tap_out_csum, 1);
	assert_int_equal(d->st.tap_out_gso, 1);
	assert_int_equal(d->st.tap_out_gso_bytes, 65000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opts_defaults),  cmocka_unit_test(test_opts_refused),
		cmocka_unit_test(test_tun_offloads),   cmocka_unit_test(test_csum_complete),
		cmocka_unit_test(test_tap_hdr_to_pkt), cmocka_unit_test(test_pkt_to_tap_hdr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
