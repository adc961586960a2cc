/*
 * Orion's IPv4 test stack: Ethernet, ARP, IPv4, ICMP echo, UDP echo.
 *
 * It is here to drive the orion-vnet driver with real traffic from QEMU's
 * user-mode network (slirp), not to be a general stack.  What it does:
 *   - accepts frames addressed to our MAC or broadcast; everything else is
 *     counted and dropped;
 *   - ARP: answers requests for our address, learns senders (RFC 826
 *     merge), keeps a small cache whose entries expire after ARP_TTL_NS;
 *   - IPv4: verifies version, IHL, header checksum, total length against
 *     the frame, drops fragments (no reassembly), accepts our address and
 *     broadcasts;
 *   - ICMP: verifies the checksum, answers echo requests, hands echo
 *     replies to the ping client (ping.c);
 *   - UDP: verifies length and (when present) checksum; port 7 echoes the
 *     payload back to the sender, any size that fits one frame;
 *   - TCP: handed to tcp.c.
 * Frame sizes: up to the interface's MTU (the device's, jumbo included)
 * plus the Ethernet header, and what the device takes in one frame; a
 * reply that would be larger is not sent and counted (tx_too_big).
 * Receive offloads: a frame the device marks DATA_VALID or NEEDS_CSUM
 * (net_input_meta) skips the software L4 checksum check (counted in
 * rx_csum_offloaded); every other frame is checked.
 * What it does not: fragmentation, IP options (skipped, not interpreted),
 * routing tables, DHCP, IPv6.
 *
 * Interfaces: up to NET_MAX_IF (vnet0..vnet7), each with its own
 * address, counters and ARP cache.  A frame is processed in the context of
 * the interface it arrived on, and everything sent in answer (ARP reply,
 * echo reply) leaves on that interface; the device glue keeps the queue
 * pair (netdev_tx sends on the pair being received from).
 *
 * Trust: every length field in a received frame is compared with the bytes
 * actually received before anything is read through it.  Replies go to the
 * Ethernet source of the request, so answering never needs ARP.
 *
 * Context: interrupts off (see orion/net.h).  One static frame buffer for
 * transmit is enough because nothing here runs concurrently.
 */
#include "orion/net.h"

#include "orion/arch.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/timer.h"
#include "net_priv.h"

#define ETH_P_IP 0x0800u
#define ETH_P_ARP 0x0806u
#define ARP_HLEN 28u
#define IP_HLEN_MIN 20u
#define IP_PROTO_ICMP 1u
#define IP_PROTO_UDP 17u
#define IP_PROTO_TCP 6u
#define ICMP_ECHO_REPLY 0u
#define ICMP_ECHO_REQUEST 8u
#define UDP_HLEN 8u
#define IP_TTL 64u
#define ARP_CACHE_SIZE 16u
#define ARP_TTL_NS (60ull * 1000000000ull) /* a stale entry is re-resolved after a minute */

static uint8_t txf[NET_FRAME_MAX + NET_VLAN_HLEN]; /* room for a tag (vlan.c) */
static uint16_t ip_id;
static volatile bool echo_stop;

static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct arp_entry {
	uint32_t ip;
	uint8_t mac[6];
	bool valid;
	uint64_t t_ns;
};

/* One interface (vnetN): its own address, counters and ARP cache, so two
 * NICs on separate networks (even with the same addresses, as QEMU user
 * networks have) never answer or learn for each other. */
struct nif {
	unsigned index;
	unsigned dev;               /* the device (netdev_* index): index, or a VLAN's device */
	uint16_t vid;               /* 802.1Q VLAN id, 0 = untagged (vlan.c) */
	bool up;
	struct net_if_cfg cfg;
	struct net_stats st;
	struct arp_entry arp_cache[ARP_CACHE_SIZE];
};
static struct nif ifs[NET_IF_SLOTS];

static struct nif *nif_get(unsigned ifn)
{
	return ifn < NET_IF_SLOTS && ifs[ifn].up ? &ifs[ifn] : NULL;
}

/* ------------------------------------------------------------ helpers */

uint16_t net_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
uint32_t net_rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
void net_wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
void net_wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* One's-complement sum (RFC 1071), not yet folded or inverted. */
uint32_t net_csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	while (n > 1) {
		sum += net_rd16(p);
		p += 2;
		n -= 2;
	}
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

unsigned long net_lock(void) { return irq_save(); }
void net_unlock(unsigned long flags) { irq_restore(flags); }

struct net_stats *net_if_stats(unsigned ifn)
{
	struct nif *n = nif_get(ifn);
	return n ? &n->st : NULL;
}

unsigned net_if_mtu(unsigned ifn)
{
	struct nif *n = nif_get(ifn);
	return n && n->cfg.mtu >= 68 ? n->cfg.mtu : NET_MTU_DEFAULT;
}

uint32_t net_next_hop(unsigned ifn, uint32_t dst)
{
	struct nif *n = nif_get(ifn);
	if (!n || (dst & n->cfg.mask) == (n->cfg.ip & n->cfg.mask) || n->cfg.gw == 0)
		return dst;
	return n->cfg.gw;
}

uint16_t net_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

bool net_parse_ip(const char *s, uint32_t *out)
{
	uint32_t ip = 0;
	for (int i = 0; i < 4; i++) {
		if (*s < '0' || *s > '9')
			return false;
		uint32_t v = 0;
		int digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (uint32_t)(*s++ - '0');
			digits++;
		}
		if (v > 255 || digits > 3)
			return false;
		ip = ip << 8 | v;
		if (i < 3 && *s++ != '.')
			return false;
	}
	if (*s != 0 && *s != '/')
		return false;
	*out = ip;
	return true;
}

char *net_fmt_ip(uint32_t ip, char *buf)
{
	ksnprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	return buf;
}

static void nif_init(unsigned ifn, const struct net_if_cfg *c)
{
	struct nif *n = &ifs[ifn];
	memset(n, 0, sizeof(*n));
	n->index = ifn;
	n->dev = ifn;
	n->cfg = *c;
	n->up = true;
	if (!ip_id)
		ip_id = (uint16_t)timer_ns();
}

void net_init(unsigned ifn, const struct net_if_cfg *c)
{
	if (ifn < NET_MAX_IF)
		nif_init(ifn, c);
}

void net_init_vlan(unsigned ifn, unsigned dev, uint16_t vid, const struct net_if_cfg *c)
{
	if (ifn < NET_MAX_IF || ifn >= NET_IF_SLOTS)
		return;
	nif_init(ifn, c);
	ifs[ifn].dev = dev;
	ifs[ifn].vid = vid;
}

unsigned net_if_dev(unsigned ifn)
{
	struct nif *n = nif_get(ifn);
	return n ? n->dev : ifn;
}

void net_fini(unsigned ifn)
{
	if (ifn >= NET_MAX_IF)
		return;
	/* Down: no address, ARP cache or counters left, on the device and on
	 * each of its VLAN interfaces (bring-up sets them up again). */
	for (unsigned i = NET_MAX_IF; i < NET_IF_SLOTS; i++)
		if (ifs[i].up && ifs[i].dev == ifn)
			memset(&ifs[i], 0, sizeof(ifs[i]));
	memset(&ifs[ifn], 0, sizeof(ifs[ifn]));
}

const struct net_if_cfg *net_cfg(unsigned ifn)
{
	struct nif *n = nif_get(ifn);
	return n ? &n->cfg : NULL;
}

void net_set_mac(unsigned ifn, const uint8_t mac[6])
{
	struct nif *n = nif_get(ifn);
	if (n)
		memcpy(n->cfg.mac, mac, 6);
}

unsigned net_if_for(uint32_t dst)
{
	for (unsigned i = 0; i < NET_IF_SLOTS; i++)
		if (ifs[i].up && (dst & ifs[i].cfg.mask) == (ifs[i].cfg.ip & ifs[i].cfg.mask))
			return i;
	return 0;
}

int net_if_parse(const char *name)
{
	if (!name || strncmp(name, "vnet", 4) != 0 || name[4] < '0' || name[4] > '9' || (name[5] && name[5] != '.'))
		return -1;
	unsigned n = (unsigned)(name[4] - '0');
	if (n >= NET_MAX_IF)
		return -1;
	if (name[5] == '.') {
		uint64_t vid;
		return kstrtou64(name + 6, &vid) && vid < 4096 ? net_vlan_find(n, (uint16_t)vid) : -1;
	}
	return (int)n;
}

bool net_get_stats(unsigned ifn, struct net_stats *out)
{
	unsigned long f = irq_save();
	struct nif *n = nif_get(ifn);
	if (n)
		*out = n->st;
	irq_restore(f);
	return n != NULL;
}

bool net_echo_stop_requested(void) { return echo_stop; }

/* ------------------------------------------------------------ Ethernet */

/* Largest frame ifn sends: MTU + Ethernet header, capped by the device;
 * a super-frame (TSO) only by the device. */
static size_t frame_max(struct nif *n, bool super)
{
	struct netdev_caps c;
	size_t mtu_frame = NET_ETH_HLEN + net_if_mtu(n->index);
	if (!netdev_caps(n->dev, &c))
		return mtu_frame;
	size_t dev = c.max_tx < NET_FRAME_MAX ? c.max_tx : NET_FRAME_MAX;
	if (n->vid && !super)
		dev -= NET_VLAN_HLEN; /* the tag vlan.c inserts */
	if (super)
		return dev;
	return mtu_frame < dev ? mtu_frame : dev;
}

static int eth_send_meta(struct nif *n, const uint8_t dst[6], uint16_t type, size_t payload_len,
                         const struct netdev_txmeta *m)
{
	memcpy(txf, dst, 6);
	memcpy(txf + 6, n->cfg.mac, 6);
	net_wr16(txf + 12, type);
	size_t len = NET_ETH_HLEN + payload_len;
	/* Pad to the 60-byte Ethernet minimum: slirp does not need it, a
	 * real switch behind a tap device would. */
	if (len < 60) {
		memset(txf + len, 0, 60 - len);
		len = 60;
	}
	if (len > frame_max(n, m && m->gso_size)) {
		n->st.tx_too_big++;
		return -1;
	}
	if (n->vid)
		len = net_vlan_tag(n->dev, txf, len, n->vid); /* no offloads on a VLAN (netdev_caps false) */
	if (netdev_tx_meta(n->dev, txf, len, n->vid ? NULL : m) != 0) {
		n->st.tx_fail++;
		return -1;
	}
	n->st.tx_frames++;
	if (m && m->csum)
		n->st.tx_csum_offloaded++;
	return 0;
}

static int eth_send(struct nif *n, const uint8_t dst[6], uint16_t type, size_t payload_len)
{
	return eth_send_meta(n, dst, type, payload_len, NULL);
}

uint8_t *net_tx_payload(void) { return txf + NET_ETH_HLEN; }

/* ------------------------------------------------------------ ARP */

static struct arp_entry *arp_find(struct nif *n, uint32_t ip)
{
	uint64_t now = timer_ns();
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &n->arp_cache[i];
		if (!e->valid || e->ip != ip)
			continue;
		if (now - e->t_ns > ARP_TTL_NS) {
			e->valid = false;
			n->st.arp_cache_timeouts++;
			return NULL;
		}
		return e;
	}
	return NULL;
}

static void arp_update(struct nif *n, uint32_t ip, const uint8_t mac[6], bool insert)
{
	struct arp_entry *e = arp_find(n, ip);
	if (!e && insert) {
		/* Free slot, else evict the oldest entry. */
		struct arp_entry *c = n->arp_cache;
		e = &c[0];
		for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
			if (!c[i].valid) {
				e = &c[i];
				break;
			}
			if (c[i].t_ns < e->t_ns)
				e = &c[i];
		}
	}
	if (!e)
		return;
	e->ip = ip;
	memcpy(e->mac, mac, 6);
	e->valid = true;
	e->t_ns = timer_ns();
}

bool net_arp_lookup(unsigned ifn, uint32_t ip, uint8_t mac[6])
{
	struct nif *n = nif_get(ifn);
	struct arp_entry *e = n ? arp_find(n, ip) : NULL;
	if (!e)
		return false;
	memcpy(mac, e->mac, 6);
	return true;
}

static int arp_send(struct nif *n, uint16_t op, const uint8_t eth_dst[6], const uint8_t tha[6], uint32_t tpa)
{
	uint8_t *p = net_tx_payload();
	net_wr16(p + 0, 1);       /* Ethernet */
	net_wr16(p + 2, ETH_P_IP);
	p[4] = 6;
	p[5] = 4;
	net_wr16(p + 6, op);
	memcpy(p + 8, n->cfg.mac, 6);
	net_wr32(p + 14, n->cfg.ip);
	memcpy(p + 18, tha, 6);
	net_wr32(p + 24, tpa);
	int rc = eth_send(n, eth_dst, ETH_P_ARP, ARP_HLEN);
	if (rc == 0) {
		if (op == 1)
			n->st.arp_req_tx++;
		else
			n->st.arp_reply_tx++;
	}
	return rc;
}

int net_arp_announce(unsigned ifn)
{
	static const uint8_t zero[6];
	struct nif *n = nif_get(ifn);
	/* RFC 5227 ARP announcement: a request with sender = target = ours. */
	if (!n || arp_send(n, 1, bcast_mac, zero, n->cfg.ip) != 0)
		return -1;
	n->st.arp_announce_tx++;
	return 0;
}

int net_arp_request(unsigned ifn, uint32_t ip)
{
	static const uint8_t zero[6];
	struct nif *n = nif_get(ifn);
	return n ? arp_send(n, 1, bcast_mac, zero, ip) : -1;
}

static void arp_input(struct nif *nf, const uint8_t *p, size_t n)
{
	nf->st.arp_rx++;
	if (n < ARP_HLEN || net_rd16(p) != 1 || net_rd16(p + 2) != ETH_P_IP || p[4] != 6 || p[5] != 4) {
		nf->st.arp_bad++;
		return;
	}
	uint16_t op = net_rd16(p + 6);
	const uint8_t *sha = p + 8;
	uint32_t spa = net_rd32(p + 14);
	uint32_t tpa = net_rd32(p + 24);
	if (op != 1 && op != 2) {
		nf->st.arp_bad++;
		return;
	}
	if (sha[0] & 1) {
		/* A multicast sender hardware address is never legitimate. */
		nf->st.arp_bad++;
		return;
	}
	bool for_us = tpa == nf->cfg.ip;
	/* RFC 826: update an existing entry for the sender; add one if the
	 * packet is aimed at us.  spa 0 is an address probe: learn nothing. */
	if (spa != 0)
		arp_update(nf, spa, sha, for_us);
	if (op == 1) {
		nf->st.arp_req_rx++;
		if (for_us)
			arp_send(nf, 2, sha, sha, spa);
	} else {
		nf->st.arp_reply_rx++;
	}
}

/* ------------------------------------------------------------ IPv4 */

/* IPv4 header at net_tx_payload(), payload of plen bytes already written
 * behind it; sends to dst_mac. */
static int ip_send_meta(struct nif *n, const uint8_t dst_mac[6], uint32_t dst, uint8_t proto, size_t plen,
                        const struct netdev_txmeta *m)
{
	uint8_t *h = net_tx_payload();
	if (plen > NET_FRAME_MAX - NET_ETH_HLEN - IP_HLEN_MIN) {
		n->st.tx_too_big++;
		return -1;
	}
	h[0] = 0x45;
	h[1] = 0;
	net_wr16(h + 2, (uint16_t)(IP_HLEN_MIN + plen));
	net_wr16(h + 4, ip_id++);
	net_wr16(h + 6, 0x4000); /* DF: we never fragment */
	h[8] = IP_TTL;
	h[9] = proto;
	net_wr16(h + 10, 0);
	net_wr32(h + 12, n->cfg.ip);
	net_wr32(h + 16, dst);
	net_wr16(h + 10, net_csum_fold(net_csum_add(0, h, IP_HLEN_MIN)));
	return eth_send_meta(n, dst_mac, ETH_P_IP, IP_HLEN_MIN + plen, m);
}

static int ip_send(struct nif *n, const uint8_t dst_mac[6], uint32_t dst, uint8_t proto, size_t plen)
{
	return ip_send_meta(n, dst_mac, dst, proto, plen, NULL);
}

int net_ip_send(unsigned ifn, const uint8_t dst_mac[6], uint32_t dst, uint8_t proto, size_t plen)
{
	struct nif *n = nif_get(ifn);
	return n ? ip_send(n, dst_mac, dst, proto, plen) : -1;
}

int net_ip_send_meta(unsigned ifn, const uint8_t dst_mac[6], uint32_t dst, uint8_t proto, size_t plen,
                     const struct netdev_txmeta *m)
{
	struct nif *n = nif_get(ifn);
	return n ? ip_send_meta(n, dst_mac, dst, proto, plen, m) : -1;
}

static void icmp_input(struct nif *nf, const uint8_t *eth_src, uint32_t src, const uint8_t *p, size_t n, bool bcast)
{
	nf->st.icmp_rx++;
	if (n < 8 || net_csum_fold(net_csum_add(0, p, n)) != 0) {
		nf->st.icmp_bad++;
		return;
	}
	if (p[0] == ICMP_ECHO_REQUEST && p[1] == 0) {
		nf->st.icmp_echo_req_rx++;
		if (bcast)
			return;
		if (n > frame_max(nf, false) - NET_ETH_HLEN - IP_HLEN_MIN) {
			nf->st.tx_too_big++; /* larger than our MTU: we never fragment */
			return;
		}
		uint8_t *r = net_tx_payload() + IP_HLEN_MIN;
		memcpy(r, p, n);
		r[0] = ICMP_ECHO_REPLY;
		net_wr16(r + 2, 0);
		net_wr16(r + 2, net_csum_fold(net_csum_add(0, r, n)));
		if (ip_send(nf, eth_src, src, IP_PROTO_ICMP, n) == 0)
			nf->st.icmp_echo_reply_tx++;
	} else if (p[0] == ICMP_ECHO_REPLY && p[1] == 0) {
		nf->st.icmp_echo_reply_rx++;
		net_ping_reply(src, net_rd16(p + 4), net_rd16(p + 6), p + 8, n - 8);
	}
}

static uint32_t udp_pseudo(uint32_t src, uint32_t dst, size_t ulen)
{
	uint32_t s = 0;
	s += src >> 16;
	s += src & 0xffff;
	s += dst >> 16;
	s += dst & 0xffff;
	s += IP_PROTO_UDP;
	s += (uint32_t)ulen;
	return s;
}

static void udp_input(struct nif *nf, const uint8_t *eth_src, uint32_t src, uint32_t dst, const uint8_t *p, size_t n,
                      bool bcast, bool csum_done)
{
	nf->st.udp_rx++;
	if (n < UDP_HLEN) {
		nf->st.udp_bad++;
		return;
	}
	uint16_t sport = net_rd16(p), dport = net_rd16(p + 2);
	size_t ulen = net_rd16(p + 4);
	if (ulen < UDP_HLEN || ulen > n) {
		nf->st.udp_bad++;
		return;
	}
	if (csum_done) {
		nf->st.rx_csum_offloaded++;
	} else if (net_rd16(p + 6) != 0 && net_csum_fold(net_csum_add(udp_pseudo(src, dst, ulen), p, ulen)) != 0) {
		nf->st.udp_bad++;
		return;
	}
	if (dport != NET_UDP_ECHO_PORT || bcast) {
		nf->st.udp_no_port++;
		return;
	}
	const uint8_t *data = p + UDP_HLEN;
	size_t dlen = ulen - UDP_HLEN;
	if (dlen == sizeof(NET_ECHO_STOP_MAGIC) - 1 && memcmp(data, NET_ECHO_STOP_MAGIC, dlen) == 0)
		echo_stop = true;
	if (dlen > frame_max(nf, false) - NET_ETH_HLEN - IP_HLEN_MIN - UDP_HLEN) {
		nf->st.tx_too_big++; /* the reply would not fit one frame; we never fragment */
		return;
	}
	uint8_t *r = net_tx_payload() + IP_HLEN_MIN;
	net_wr16(r, dport);
	net_wr16(r + 2, sport);
	net_wr16(r + 4, (uint16_t)ulen);
	net_wr16(r + 6, 0);
	memcpy(r + UDP_HLEN, data, dlen);
	uint16_t c = net_csum_fold(net_csum_add(udp_pseudo(nf->cfg.ip, src, ulen), r, ulen));
	net_wr16(r + 6, c ? c : 0xffff); /* 0 means "no checksum" (RFC 768) */
	if (ip_send(nf, eth_src, src, IP_PROTO_UDP, ulen) == 0)
		nf->st.udp_echo_tx++;
}

static void ip_input(struct nif *nf, const uint8_t *eth_src, const uint8_t *p, size_t n, unsigned rxflags)
{
	nf->st.ip_rx++;
	if (n < IP_HLEN_MIN || (p[0] >> 4) != 4) {
		nf->st.ip_bad_hdr++;
		return;
	}
	size_t ihl = (size_t)(p[0] & 0xf) * 4u;
	if (ihl < IP_HLEN_MIN || ihl > n) {
		nf->st.ip_bad_hdr++;
		return;
	}
	if (net_csum_fold(net_csum_add(0, p, ihl)) != 0) {
		nf->st.ip_bad_csum++;
		return;
	}
	/* Total length must cover the header and fit what arrived (the frame
	 * may carry Ethernet padding behind it, which we ignore). */
	size_t tot = net_rd16(p + 2);
	if (tot < ihl || tot > n) {
		nf->st.ip_bad_len++;
		return;
	}
	if (net_rd16(p + 6) & 0x3fff) {
		/* MF set or a non-zero offset: a fragment; no reassembly. */
		nf->st.ip_frag_dropped++;
		return;
	}
	uint32_t src = net_rd32(p + 12), dst = net_rd32(p + 16);
	uint32_t subnet_bcast = (nf->cfg.ip & nf->cfg.mask) | ~nf->cfg.mask;
	bool bcast = dst == 0xffffffffu || dst == subnet_bcast;
	if (dst != nf->cfg.ip && !bcast) {
		nf->st.ip_not_for_us++;
		return;
	}
	switch (p[9]) {
	case IP_PROTO_ICMP:
		icmp_input(nf, eth_src, src, p + ihl, tot - ihl, bcast);
		break;
	case IP_PROTO_UDP:
		udp_input(nf, eth_src, src, dst, p + ihl, tot - ihl, bcast,
			  (rxflags & (NET_RX_CSUM_VALID | NET_RX_CSUM_PARTIAL)) != 0);
		break;
	case IP_PROTO_TCP:
		if (bcast) {
			nf->st.ip_not_for_us++;
			break;
		}
		if (rxflags & (NET_RX_CSUM_VALID | NET_RX_CSUM_PARTIAL))
			nf->st.rx_csum_offloaded++;
		net_tcp_input(nf->index, eth_src, src, dst, p + ihl, tot - ihl, rxflags);
		break;
	default:
		nf->st.ip_unknown_proto++;
		break;
	}
}

void net_input(unsigned ifn, const uint8_t *frame, size_t len) { net_input_meta(ifn, frame, len, 0); }

void net_input_meta(unsigned ifn, const uint8_t *frame, size_t len, unsigned rxflags)
{
	struct nif *nf = nif_get(ifn);
	if (!nf)
		return;
	nf->st.rx_frames++;
	if (len < NET_ETH_HLEN) {
		nf->st.rx_runt++;
		return;
	}
	if (memcmp(frame, nf->cfg.mac, 6) != 0 && memcmp(frame, bcast_mac, 6) != 0) {
		nf->st.rx_not_for_us++;
		return;
	}
	const uint8_t *src = frame + 6;
	uint16_t type = net_rd16(frame + 12);
	if (type == ETH_P_ARP)
		arp_input(nf, frame + NET_ETH_HLEN, len - NET_ETH_HLEN);
	else if (type == NET_ETH_P_8021Q)
		net_vlan_input(nf->index, frame, len, rxflags);
	else if (type == ETH_P_IP && !(src[0] & 1))
		ip_input(nf, src, frame + NET_ETH_HLEN, len - NET_ETH_HLEN, rxflags);
	else
		nf->st.rx_unknown_ethertype++;
}
