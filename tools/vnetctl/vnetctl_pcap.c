/* The libpcap file format and the capture stream (vnetctl_pcap.h). */
#include "vnetctl_pcap.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

void vnetctl_pcap_global_encode(uint8_t out[VNETCTL_PCAP_GLOBAL_LEN], uint32_t snaplen)
{
	put32(out, VNETCTL_PCAP_MAGIC);
	put16(out + 4, 2);
	put16(out + 6, 4);
	put32(out + 8, 0);
	put32(out + 12, 0);
	put32(out + 16, snaplen);
	put32(out + 20, VNETCTL_PCAP_LINKTYPE_ETHERNET);
}

void vnetctl_pcap_rec_encode(uint8_t out[VNETCTL_PCAP_REC_LEN], const struct vnetctl_pcap_rec *r)
{
	put32(out, r->ts_sec);
	put32(out + 4, r->ts_usec);
	put32(out + 8, r->incl_len);
	put32(out + 12, r->orig_len);
}

void vnetctl_pcap_rec_decode(const uint8_t in[VNETCTL_PCAP_REC_LEN], struct vnetctl_pcap_rec *r)
{
	r->ts_sec = get32(in);
	r->ts_usec = get32(in + 4);
	r->incl_len = get32(in + 8);
	r->orig_len = get32(in + 12);
}

void vnetctl_pcap_end_encode(uint8_t out[VNETCTL_PCAP_END_LEN], uint64_t captured, uint64_t dropped)
{
	struct vnetctl_pcap_rec r = {.incl_len = VNETCTL_PCAP_END};
	vnetctl_pcap_rec_encode(out, &r);
	put64(out + VNETCTL_PCAP_REC_LEN, captured);
	put64(out + VNETCTL_PCAP_REC_LEN + 8, dropped);
}

void vnetctl_pcap_end_decode(const uint8_t in[16], uint64_t *captured, uint64_t *dropped)
{
	*captured = get64(in);
	*dropped = get64(in + 8);
}

struct vnetctl_pcap_rec vnetctl_pcap_rec_make(uint64_t ts_us, uint32_t orig_len, uint32_t snaplen)
{
	struct vnetctl_pcap_rec r = {.ts_sec = (uint32_t)(ts_us / 1000000u), .ts_usec = (uint32_t)(ts_us % 1000000u),
				     .incl_len = orig_len < snaplen ? orig_len : snaplen, .orig_len = orig_len};
	return r;
}
