/*
 * vnetctl_pcap.h - the libpcap file format and the capture stream between
 * vnetd and `vnetctl capture` (docs/management.md, "capture").
 *
 * libpcap file (what tcpdump -r and tshark -r read), all little-endian:
 *   global header, 24 bytes:
 *     0  u32 magic 0xa1b2c3d4 (microsecond timestamps)
 *     4  u16 version major 2,  6 u16 minor 4
 *     8  i32 thiszone 0,      12 u32 sigfigs 0
 *    16  u32 snaplen,         20 u32 linktype 1 (LINKTYPE_ETHERNET)
 *   each record: 16-byte header then incl_len bytes of the frame:
 *     0  u32 ts_sec, 4 u32 ts_usec, 8 u32 incl_len, 12 u32 orig_len
 *
 * The stream: after vnetd's ordinary reply (status 0) to a capture
 * request, the socket carries records exactly as they go into the file
 * (record header + frame bytes, incl_len <= snaplen), then one end
 * marker: a record header whose incl_len is VNETCTL_PCAP_END, followed by
 * u64 captured and u64 dropped (LE).  vnetd closes the socket after it.
 *
 * Pure functions, no I/O.
 */
#ifndef VNETCTL_PCAP_H
#define VNETCTL_PCAP_H

#include <stddef.h>
#include <stdint.h>

#define VNETCTL_PCAP_MAGIC 0xa1b2c3d4u
#define VNETCTL_PCAP_LINKTYPE_ETHERNET 1u
#define VNETCTL_PCAP_GLOBAL_LEN 24u
#define VNETCTL_PCAP_REC_LEN 16u
#define VNETCTL_PCAP_SNAPLEN_DEFAULT 65535u
#define VNETCTL_PCAP_SNAPLEN_MAX 262144u
#define VNETCTL_PCAP_END 0xffffffffu
#define VNETCTL_PCAP_END_LEN (VNETCTL_PCAP_REC_LEN + 16u)

struct vnetctl_pcap_rec {
	uint32_t ts_sec, ts_usec, incl_len, orig_len;
};

void vnetctl_pcap_global_encode(uint8_t out[VNETCTL_PCAP_GLOBAL_LEN], uint32_t snaplen);
void vnetctl_pcap_rec_encode(uint8_t out[VNETCTL_PCAP_REC_LEN], const struct vnetctl_pcap_rec *r);
void vnetctl_pcap_rec_decode(const uint8_t in[VNETCTL_PCAP_REC_LEN], struct vnetctl_pcap_rec *r);
/* The end marker (VNETCTL_PCAP_END_LEN bytes). */
void vnetctl_pcap_end_encode(uint8_t out[VNETCTL_PCAP_END_LEN], uint64_t captured, uint64_t dropped);
/* The 16 bytes after an end record header. */
void vnetctl_pcap_end_decode(const uint8_t in[16], uint64_t *captured, uint64_t *dropped);
/* The record header for a frame of orig_len bytes at snaplen, time in µs
 * since the epoch: incl_len = min(orig_len, snaplen). */
struct vnetctl_pcap_rec vnetctl_pcap_rec_make(uint64_t ts_us, uint32_t orig_len, uint32_t snaplen);

#endif
