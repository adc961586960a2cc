/*
 * The shell's "vnet hashlog vnetN [clear]": per device, a ring of the last
 * VD_HASHLOG_LEN received frames' receive records (the pair the frame
 * arrived on, the hash value and report type the device put in the
 * virtio_net_hdr_hash, VirtIO 1.2 §5.1.6.4.4, and the frame's IPv4
 * addresses and TCP/UDP ports as this file parses them), so a test can
 * compare the device's hash with one it computes itself.  Filled by
 * vd_hashlog_rx() from deliver() (vnet.c); without HASH_REPORT
 * negotiated every record has t=NONE and v=0.
 */
#include "vnet_priv.h"

#define VD_HASHLOG_LEN 512u

struct hashlog_rec {
	uint32_t hash;
	uint32_t src, dst;   /* IPv4, host order; 0 when not IPv4 */
	uint16_t sport, dport;
	uint16_t pair;
	uint16_t report;     /* VIRTIO_NET_HASH_REPORT_* */
	uint8_t proto;       /* IPv4 protocol, 0 none */
};

static struct hashlog_rec hashlog[VNET_MAX_DEVS][VD_HASHLOG_LEN];
static uint32_t hashlog_n[VNET_MAX_DEVS]; /* records written since clear */

static uint16_t rd16(const uint8_t *b) { return (uint16_t)(b[0] << 8 | b[1]); }
static uint32_t rd32(const uint8_t *b) { return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]; }

void vd_hashlog_rx(const struct vnetdev *d, const struct vnet_pkt *p)
{
	if (d->index >= VNET_MAX_DEVS)
		return;
	struct hashlog_rec *r = &hashlog[d->index][hashlog_n[d->index]++ % VD_HASHLOG_LEN];
	memset(r, 0, sizeof(*r));
	r->hash = p->hash;
	r->report = p->hash_report;
	r->pair = p->queue;
	/* Headers from the first segment only (the frame is untrusted: every
	 * offset is checked against its length). */
	const uint8_t *f = p->data;
	uint32_t len = p->len, off = 14;
	if (len < 14)
		return;
	uint16_t et = rd16(f + 12);
	if (et == 0x8100 && len >= 18) {
		et = rd16(f + 16);
		off = 18;
	}
	if (et != 0x0800 || len < off + 20 || (f[off] >> 4) != 4)
		return;
	uint32_t ihl = (f[off] & 0xfu) * 4u;
	if (ihl < 20 || len < off + ihl)
		return;
	r->src = rd32(f + off + 12);
	r->dst = rd32(f + off + 16);
	r->proto = f[off + 9];
	bool first_frag = (rd16(f + off + 6) & 0x1fffu) == 0;
	if ((r->proto == 6 || r->proto == 17) && first_frag && len >= off + ihl + 4) {
		r->sport = rd16(f + off + ihl);
		r->dport = rd16(f + off + ihl + 2);
	}
}

static const char *report_name(uint16_t t)
{
	static const char *const n[] = {"NONE", "IPv4", "TCPv4", "UDPv4", "IPv6", "TCPv6", "UDPv6", "IPv6_EX",
		"TCPv6_EX", "UDPv6_EX"};
	return t < ARRAY_SIZE(n) ? n[t] : "?";
}

static void ip4(char *b, size_t n, uint32_t a)
{
	ksnprintf(b, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xffu, (a >> 8) & 0xffu, a & 0xffu);
}

/* One line per record, oldest first, then "hashlog vnetN: R records (L lost)". */
int vd_hashlog_cmd(struct vnetdev *d, bool clear)
{
	unsigned i = d->index;
	if (i >= VNET_MAX_DEVS)
		return 1;
	if (clear) {
		unsigned long fl = irq_save();
		hashlog_n[i] = 0;
		irq_restore(fl);
		kprintf("hashlog %s: cleared\n", d->name);
		return 0;
	}
	unsigned long fl = irq_save();
	uint32_t n = hashlog_n[i];
	irq_restore(fl);
	uint32_t have = n < VD_HASHLOG_LEN ? n : VD_HASHLOG_LEN;
	for (uint32_t k = n - have; k != n; k++) {
		struct hashlog_rec r;
		fl = irq_save();
		r = hashlog[i][k % VD_HASHLOG_LEN];
		irq_restore(fl);
		char s[16], t[16];
		if (!r.proto) {
			kprintf("hash q=%u v=0x%08x t=%s -\n", r.pair, r.hash, report_name(r.report));
			continue;
		}
		ip4(s, sizeof(s), r.src);
		ip4(t, sizeof(t), r.dst);
		if (r.proto == 6 || r.proto == 17)
			kprintf("hash q=%u v=0x%08x t=%s %s %s:%u > %s:%u\n", r.pair, r.hash, report_name(r.report),
				r.proto == 6 ? "tcp" : "udp", s, r.sport, t, r.dport);
		else
			kprintf("hash q=%u v=0x%08x t=%s ip%u %s > %s\n", r.pair, r.hash, report_name(r.report), r.proto,
				s, t);
	}
	kprintf("hashlog %s: %u records (%u lost)\n", d->name, have, n - have);
	return 0;
}
