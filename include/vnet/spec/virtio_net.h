/*
 * virtio-net wire formats (spec 5.1 "Network Device", net/description.tex):
 * feature bits, the device configuration layout, the per-packet header, and
 * the control-queue classes, commands and their payloads.
 *
 * Only layouts are here; what the driver does with them lives in src/net.
 * Everything on the wire is little-endian (vnet_le* fields).  Offsets the
 * spec fixes are checked at compile time so a packing mistake fails the
 * build rather than corrupting a device's view of a packet.
 *
 * Feature bits 64 and above (RSS_CONTEXT, the UDP-tunnel GSO family,
 * OUT_NET_HEADER, IPSEC) are defined for completeness but cannot be carried
 * by the 64-bit feature words the core uses; the driver never accepts them
 * (see src/core/features.c).
 */
#ifndef VNET_SPEC_VIRTIO_NET_H
#define VNET_SPEC_VIRTIO_NET_H

#include <stddef.h>
#include "virtio_types.h"

/* ---- feature bits (spec 5.1.3 "Feature bits") ---- */
#define VIRTIO_NET_F_CSUM                  0  /* device handles partial csum (TX) */
#define VIRTIO_NET_F_GUEST_CSUM            1  /* driver handles partial csum (RX) */
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS   2
#define VIRTIO_NET_F_MTU                   3
#define VIRTIO_NET_F_MAC                   5
#define VIRTIO_NET_F_GUEST_TSO4            7
#define VIRTIO_NET_F_GUEST_TSO6            8
#define VIRTIO_NET_F_GUEST_ECN             9
#define VIRTIO_NET_F_GUEST_UFO             10
#define VIRTIO_NET_F_HOST_TSO4             11
#define VIRTIO_NET_F_HOST_TSO6             12
#define VIRTIO_NET_F_HOST_ECN              13
#define VIRTIO_NET_F_HOST_UFO              14
#define VIRTIO_NET_F_MRG_RXBUF             15
#define VIRTIO_NET_F_STATUS                16
#define VIRTIO_NET_F_CTRL_VQ               17
#define VIRTIO_NET_F_CTRL_RX               18
#define VIRTIO_NET_F_CTRL_VLAN             19
#define VIRTIO_NET_F_CTRL_RX_EXTRA         20
#define VIRTIO_NET_F_GUEST_ANNOUNCE        21
#define VIRTIO_NET_F_MQ                    22
#define VIRTIO_NET_F_CTRL_MAC_ADDR         23
#define VIRTIO_NET_F_DEVICE_STATS          50
#define VIRTIO_NET_F_HASH_TUNNEL           51
#define VIRTIO_NET_F_VQ_NOTF_COAL          52
#define VIRTIO_NET_F_NOTF_COAL             53
#define VIRTIO_NET_F_GUEST_USO4            54
#define VIRTIO_NET_F_GUEST_USO6            55
#define VIRTIO_NET_F_HOST_USO              56
#define VIRTIO_NET_F_HASH_REPORT           57
#define VIRTIO_NET_F_GUEST_HDRLEN          59
#define VIRTIO_NET_F_RSS                   60
#define VIRTIO_NET_F_RSC_EXT               61
#define VIRTIO_NET_F_STANDBY               62
#define VIRTIO_NET_F_SPEED_DUPLEX          63
/* Beyond the 64-bit feature word: never accepted by this driver. */
#define VIRTIO_NET_F_RSS_CONTEXT                 64
#define VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO        65
#define VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO_CSUM   66
#define VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO         67
#define VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO_CSUM    68
#define VIRTIO_NET_F_OUT_NET_HEADER              69
#define VIRTIO_NET_F_IPSEC                       70

/* Legacy-only bits (spec 5.1.3.2 "Legacy Interface: Feature bits"): a
 * modern (VERSION_1) driver never accepts them. */
#define VIRTIO_NET_F_GSO                   6
#define VIRTIO_NET_F_GUEST_RSC4            41
#define VIRTIO_NET_F_GUEST_RSC6            42

/* ---- device configuration layout (spec 5.1.4) ---- */
#define VIRTIO_NET_S_LINK_UP  1u
#define VIRTIO_NET_S_ANNOUNCE 2u

/* speed/duplex "unknown" values (spec 5.1.4.2: treat speed above
 * 0x7fffffff and duplex other than 0/1 as unknown) */
#define VIRTIO_NET_SPEED_UNKNOWN   0xffffffffu
#define VIRTIO_NET_SPEED_MAX_VALID 0x7fffffffu
#define VIRTIO_NET_DUPLEX_HALF     0x00u
#define VIRTIO_NET_DUPLEX_FULL     0x01u
#define VIRTIO_NET_DUPLEX_UNKNOWN  0xffu

/* Device-normative ranges the driver checks (spec 5.1.4.1). */
#define VIRTIO_NET_MTU_MIN             68u
#define VIRTIO_NET_RSS_MIN_KEY_SIZE    40u
#define VIRTIO_NET_RSS_MIN_INDIR_LEN   128u

/*
 * Fields beyond mac exist only when their feature is offered (status:
 * STATUS; max_virtqueue_pairs: MQ or RSS; mtu: MTU; speed/duplex:
 * SPEED_DUPLEX; rss_max_key_size, supported_hash_types: RSS or
 * HASH_REPORT; rss_max_indirection_table_length: RSS;
 * supported_tunnel_types: HASH_TUNNEL).  Every field is naturally aligned,
 * so no packing is needed; the asserts below prove it.  Read it through
 * vnet_device_read_config() (generation-checked), and check that the
 * device's config space is long enough for the fields a feature implies.
 */
struct virtio_net_config {
	uint8_t mac[6];
	vnet_le16 status;
	vnet_le16 max_virtqueue_pairs;
	vnet_le16 mtu;
	vnet_le32 speed;
	uint8_t duplex;
	uint8_t rss_max_key_size;
	vnet_le16 rss_max_indirection_table_length;
	vnet_le32 supported_hash_types;
	vnet_le32 supported_tunnel_types;
};
_Static_assert(offsetof(struct virtio_net_config, mac) == 0, "config.mac at 0");
_Static_assert(offsetof(struct virtio_net_config, status) == 6, "config.status at 6");
_Static_assert(offsetof(struct virtio_net_config, max_virtqueue_pairs) == 8, "config.max_virtqueue_pairs at 8");
_Static_assert(offsetof(struct virtio_net_config, mtu) == 10, "config.mtu at 10");
_Static_assert(offsetof(struct virtio_net_config, speed) == 12, "config.speed at 12");
_Static_assert(offsetof(struct virtio_net_config, duplex) == 16, "config.duplex at 16");
_Static_assert(offsetof(struct virtio_net_config, rss_max_key_size) == 17, "config.rss_max_key_size at 17");
_Static_assert(offsetof(struct virtio_net_config, rss_max_indirection_table_length) == 18,
	       "config.rss_max_indirection_table_length at 18");
_Static_assert(offsetof(struct virtio_net_config, supported_hash_types) == 20, "config.supported_hash_types at 20");
_Static_assert(offsetof(struct virtio_net_config, supported_tunnel_types) == 24, "config.supported_tunnel_types at 24");
_Static_assert(sizeof(struct virtio_net_config) == 28, "virtio_net_config is 28 bytes");

/* ---- per-packet header (spec 5.1.6 "Device Operation") ---- */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM    1u
#define VIRTIO_NET_HDR_F_DATA_VALID    2u
#define VIRTIO_NET_HDR_F_RSC_INFO      4u
#define VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM 8u
#define VIRTIO_NET_HDR_F_SECURITY      16u
#define VIRTIO_NET_HDR_F_SECURITY_ERR  32u
#define VIRTIO_NET_HDR_F_SECURITY_SA_SOFT_EXPIRY_WARN 64u

#define VIRTIO_NET_HDR_GSO_NONE        0u
#define VIRTIO_NET_HDR_GSO_TCPV4       1u
#define VIRTIO_NET_HDR_GSO_UDP         3u
#define VIRTIO_NET_HDR_GSO_TCPV6       4u
#define VIRTIO_NET_HDR_GSO_UDP_L4      5u
#define VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV4 0x20u
#define VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV6 0x40u
#define VIRTIO_NET_HDR_GSO_ECN         0x80u

/*
 * The header every modern (VERSION_1) device uses: num_buffers is always
 * present (spec 5.1.6.1 legacy note: only legacy dropped it without
 * MRG_RXBUF), so the base header is 12 bytes.  With RSC_INFO on receive,
 * csum_start/csum_offset carry the coalesced segment and dup-ACK counts
 * (spec 5.1.6.4 "Processing of Incoming Packets").
 */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	vnet_le16 hdr_len;
	vnet_le16 gso_size;
	vnet_le16 csum_start;   /* rsc: number of coalesced segments */
	vnet_le16 csum_offset;  /* rsc: number of duplicated ACKs */
	vnet_le16 num_buffers;
};
_Static_assert(sizeof(struct virtio_net_hdr) == 12, "v1 net header is 12 bytes");
_Static_assert(offsetof(struct virtio_net_hdr, hdr_len) == 2, "hdr.hdr_len at 2");
_Static_assert(offsetof(struct virtio_net_hdr, gso_size) == 4, "hdr.gso_size at 4");
_Static_assert(offsetof(struct virtio_net_hdr, csum_start) == 6, "hdr.csum_start at 6");
_Static_assert(offsetof(struct virtio_net_hdr, csum_offset) == 8, "hdr.csum_offset at 8");
_Static_assert(offsetof(struct virtio_net_hdr, num_buffers) == 10, "hdr.num_buffers at 10");

/* With VIRTIO_NET_F_HASH_REPORT the header grows to 20 bytes (spec 5.1.6.3.1:
 * "20 bytes if VIRTIO_NET_F_HASH_REPORT is negotiated"). */
struct virtio_net_hdr_hash {
	struct virtio_net_hdr hdr;
	vnet_le32 hash_value;
	vnet_le16 hash_report;
	vnet_le16 padding_reserved;
};
_Static_assert(sizeof(struct virtio_net_hdr_hash) == 20, "hash-report header is 20 bytes");
_Static_assert(offsetof(struct virtio_net_hdr_hash, hash_value) == 12, "hdr.hash_value at 12");
_Static_assert(offsetof(struct virtio_net_hdr_hash, hash_report) == 16, "hdr.hash_report at 16");

/* With the UDP-tunnel GSO features (bits >= 64, not negotiated here) the
 * header is 24 bytes, 32 with OUT_NET_HEADER/IPSEC; sizes kept for the
 * record (spec 5.1.6.3.1). */
#define VIRTIO_NET_HDR_LEN_BASE        12u
/* Legacy interface without MRG_RXBUF: no num_buffers (spec 5.1.6.1 legacy). */
#define VIRTIO_NET_HDR_LEN_LEGACY      10u
#define VIRTIO_NET_HDR_LEN_HASH        20u
#define VIRTIO_NET_HDR_LEN_UDP_TUNNEL  24u
#define VIRTIO_NET_HDR_LEN_OUT_NET     32u

/* hash_report values (spec 5.1.6.4.4 "Hash reporting for incoming packets") */
#define VIRTIO_NET_HASH_REPORT_NONE      0u
#define VIRTIO_NET_HASH_REPORT_IPv4      1u
#define VIRTIO_NET_HASH_REPORT_TCPv4     2u
#define VIRTIO_NET_HASH_REPORT_UDPv4     3u
#define VIRTIO_NET_HASH_REPORT_IPv6      4u
#define VIRTIO_NET_HASH_REPORT_TCPv6     5u
#define VIRTIO_NET_HASH_REPORT_UDPv6     6u
#define VIRTIO_NET_HASH_REPORT_IPv6_EX   7u
#define VIRTIO_NET_HASH_REPORT_TCPv6_EX  8u
#define VIRTIO_NET_HASH_REPORT_UDPv6_EX  9u
#define VIRTIO_NET_HASH_REPORT_MAX       9u

/* Supported/enabled hash types (spec 5.1.6.4.3.1); TYPE_X = 1 << (REPORT_X - 1). */
#define VIRTIO_NET_HASH_TYPE_IPv4    (1u << 0)
#define VIRTIO_NET_HASH_TYPE_TCPv4   (1u << 1)
#define VIRTIO_NET_HASH_TYPE_UDPv4   (1u << 2)
#define VIRTIO_NET_HASH_TYPE_IPv6    (1u << 3)
#define VIRTIO_NET_HASH_TYPE_TCPv6   (1u << 4)
#define VIRTIO_NET_HASH_TYPE_UDPv6   (1u << 5)
#define VIRTIO_NET_HASH_TYPE_IP_EX   (1u << 6)
#define VIRTIO_NET_HASH_TYPE_TCP_EX  (1u << 7)
#define VIRTIO_NET_HASH_TYPE_UDP_EX  (1u << 8)
#define VIRTIO_NET_HASH_TYPE_ALL     0x1ffu

/* Encapsulation types for the inner header hash (spec 5.1.6.4.3.4). */
#define VIRTIO_NET_HASH_TUNNEL_TYPE_GRE_2784  (1u << 0)
#define VIRTIO_NET_HASH_TUNNEL_TYPE_GRE_2890  (1u << 1)
#define VIRTIO_NET_HASH_TUNNEL_TYPE_GRE_7676  (1u << 2)
#define VIRTIO_NET_HASH_TUNNEL_TYPE_GRE_UDP   (1u << 3)
#define VIRTIO_NET_HASH_TUNNEL_TYPE_VXLAN     (1u << 4)
#define VIRTIO_NET_HASH_TUNNEL_TYPE_VXLAN_GPE (1u << 5)
#define VIRTIO_NET_HASH_TUNNEL_TYPE_GENEVE    (1u << 6)
#define VIRTIO_NET_HASH_TUNNEL_TYPE_IPIP      (1u << 7)
#define VIRTIO_NET_HASH_TUNNEL_TYPE_NVGRE     (1u << 8)

/* ---- control virtqueue (spec 5.1.6.5 "Control Virtqueue") ----
 * A command is: header {class, command}, command-specific data (device
 * readable), then one ack byte (device writable) and, for a few commands,
 * a command-specific result (device writable). */
struct virtio_net_ctrl_hdr {
	uint8_t class_;   /* "class" in the spec; renamed to stay C++-friendly */
	uint8_t cmd;
};
_Static_assert(sizeof(struct virtio_net_ctrl_hdr) == 2, "ctrl header is 2 bytes");

typedef uint8_t virtio_net_ctrl_ack;
#define VIRTIO_NET_OK  0u
#define VIRTIO_NET_ERR 1u

/* RX mode (spec 5.1.6.5.1), data: one u8 (0 off / 1 on).
 * PROMISC/ALLMULTI need CTRL_RX; the others need CTRL_RX_EXTRA. */
#define VIRTIO_NET_CTRL_RX            0u
#define VIRTIO_NET_CTRL_RX_PROMISC    0u
#define VIRTIO_NET_CTRL_RX_ALLMULTI   1u
#define VIRTIO_NET_CTRL_RX_ALLUNI     2u
#define VIRTIO_NET_CTRL_RX_NOMULTI    3u
#define VIRTIO_NET_CTRL_RX_NOUNI      4u
#define VIRTIO_NET_CTRL_RX_NOBCAST    5u

/* MAC filtering (spec 5.1.6.5.2).  TABLE_SET data: two tables, unicast
 * then multicast, each le32 entries followed by entries * 6 bytes.
 * ADDR_SET data: the 6-byte default MAC (needs CTRL_MAC_ADDR). */
#define VIRTIO_NET_CTRL_MAC           1u
#define VIRTIO_NET_CTRL_MAC_TABLE_SET 0u
#define VIRTIO_NET_CTRL_MAC_ADDR_SET  1u
struct virtio_net_ctrl_mac {
	vnet_le32 entries;
	uint8_t macs[][6];
};
_Static_assert(sizeof(struct virtio_net_ctrl_mac) == 4, "ctrl_mac header is 4 bytes");

/* VLAN filtering (spec 5.1.6.5.3), data: le16 VLAN id. */
#define VIRTIO_NET_CTRL_VLAN          2u
#define VIRTIO_NET_CTRL_VLAN_ADD      0u
#define VIRTIO_NET_CTRL_VLAN_DEL      1u

/* Gratuitous packet sending (spec 5.1.6.5.4), no data. */
#define VIRTIO_NET_CTRL_ANNOUNCE      3u
#define VIRTIO_NET_CTRL_ANNOUNCE_ACK  0u

/* Multiqueue (spec 5.1.6.5.5 - 5.1.6.5.7). */
#define VIRTIO_NET_CTRL_MQ                 4u
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET    0u  /* automatic receive steering */
#define VIRTIO_NET_CTRL_MQ_RSS_CONFIG      1u  /* configurable receive steering */
#define VIRTIO_NET_CTRL_MQ_HASH_CONFIG     2u  /* configurable hash calculation */
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN    1u
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX    0x8000u

struct virtio_net_ctrl_mq_pairs_set {
	vnet_le16 virtqueue_pairs;
};
_Static_assert(sizeof(struct virtio_net_ctrl_mq_pairs_set) == 2, "mq_pairs_set is 2 bytes");

/* HASH_CONFIG: fixed head, then hash_key_length bytes of key. The
 * reserved words make it line up with virtio_net_rss_config. */
struct virtio_net_hash_config {
	vnet_le32 hash_types;
	vnet_le16 reserved[4];   /* must be zero */
	uint8_t hash_key_length;
	uint8_t hash_key_data[];
};
_Static_assert(offsetof(struct virtio_net_hash_config, hash_key_length) == 12, "hash_config key len at 12");

/*
 * RSS_CONFIG has two variable-length arrays, so it is built in pieces:
 *   struct virtio_net_rss_config_head
 *   vnet_le16 indirection_table[indirection_table_mask + 1]  (rss_rq_id each)
 *   struct virtio_net_rss_config_tail
 *   uint8_t hash_key_data[hash_key_length]
 * An rss_rq_id holds bits 1..16 of a receive virtqueue index (i.e. the
 * receive queue number: vq index 2k -> k) in bits 0..14, bit 15 zero.
 */
struct virtio_net_rss_config_head {
	vnet_le32 hash_types;
	vnet_le16 indirection_table_mask;  /* entries - 1, entries a power of two */
	vnet_le16 unclassified_queue;      /* rss_rq_id */
};
_Static_assert(sizeof(struct virtio_net_rss_config_head) == 8, "rss_config head is 8 bytes");

struct virtio_net_rss_config_tail {
	vnet_le16 max_tx_vq;
	uint8_t hash_key_length;
} __attribute__((packed));
_Static_assert(sizeof(struct virtio_net_rss_config_tail) == 3, "rss_config tail is 3 bytes");

#define VIRTIO_NET_RSS_RQ_ID(vq_index) ((uint16_t)(((vq_index) >> 1) & 0x7fffu))

/* Offloads state (spec 5.1.6.5.8), data: le64 bitmask of GUEST_* offloads.
 * The UDP-tunnel receive offloads are feature bits 65/66 but travel in
 * this 64-bit mask as bits 46/47. */
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS      5u
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET  0u
#define VIRTIO_NET_OFFLOAD_GUEST_UDP_TUNNEL_GSO       46
#define VIRTIO_NET_OFFLOAD_GUEST_UDP_TUNNEL_GSO_CSUM  47

/* Notification coalescing (spec 5.1.6.5.9). */
#define VIRTIO_NET_CTRL_NOTF_COAL         6u
#define VIRTIO_NET_CTRL_NOTF_COAL_TX_SET  0u  /* NOTF_COAL */
#define VIRTIO_NET_CTRL_NOTF_COAL_RX_SET  1u  /* NOTF_COAL */
#define VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET  2u  /* VQ_NOTF_COAL */
#define VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET  3u  /* VQ_NOTF_COAL */
struct virtio_net_ctrl_coal {
	vnet_le32 max_packets;
	vnet_le32 max_usecs;
};
_Static_assert(sizeof(struct virtio_net_ctrl_coal) == 8, "ctrl_coal is 8 bytes");
struct virtio_net_ctrl_coal_vq {
	vnet_le16 vq_index;
	vnet_le16 reserved;
	struct virtio_net_ctrl_coal coal;
};
_Static_assert(sizeof(struct virtio_net_ctrl_coal_vq) == 12, "ctrl_coal_vq is 12 bytes");
_Static_assert(offsetof(struct virtio_net_ctrl_coal_vq, coal) == 4, "coal_vq.coal at 4");

/* Inner header hash (spec 5.1.6.4.3.3). */
#define VIRTIO_NET_CTRL_HASH_TUNNEL      7u
#define VIRTIO_NET_CTRL_HASH_TUNNEL_SET  0u
struct virtio_net_hash_tunnel {
	vnet_le32 enabled_tunnel_types;
};

/* Device statistics (spec 5.1.6.5.10), needs DEVICE_STATS. */
#define VIRTIO_NET_CTRL_STATS        8u
#define VIRTIO_NET_CTRL_STATS_QUERY  0u
#define VIRTIO_NET_CTRL_STATS_GET    1u
#define VIRTIO_NET_STATS_TYPE_CVQ       (1ull << 32)
#define VIRTIO_NET_STATS_TYPE_RX_BASIC  (1ull << 0)
#define VIRTIO_NET_STATS_TYPE_RX_CSUM   (1ull << 1)
#define VIRTIO_NET_STATS_TYPE_RX_GSO    (1ull << 2)
#define VIRTIO_NET_STATS_TYPE_RX_SPEED  (1ull << 3)
#define VIRTIO_NET_STATS_TYPE_TX_BASIC  (1ull << 16)
#define VIRTIO_NET_STATS_TYPE_TX_CSUM   (1ull << 17)
#define VIRTIO_NET_STATS_TYPE_TX_GSO    (1ull << 18)
#define VIRTIO_NET_STATS_TYPE_TX_SPEED  (1ull << 19)
#define VIRTIO_NET_STATS_TYPE_REPLY_CVQ       32u
#define VIRTIO_NET_STATS_TYPE_REPLY_RX_BASIC  0u
#define VIRTIO_NET_STATS_TYPE_REPLY_RX_CSUM   1u
#define VIRTIO_NET_STATS_TYPE_REPLY_RX_GSO    2u
#define VIRTIO_NET_STATS_TYPE_REPLY_RX_SPEED  3u
#define VIRTIO_NET_STATS_TYPE_REPLY_TX_BASIC  16u
#define VIRTIO_NET_STATS_TYPE_REPLY_TX_CSUM   17u
#define VIRTIO_NET_STATS_TYPE_REPLY_TX_GSO    18u
#define VIRTIO_NET_STATS_TYPE_REPLY_TX_SPEED  19u

struct virtio_net_stats_capabilities {
	vnet_le64 supported_stats_types[1];
};

/* One request entry of STATS_GET (the data is an array of these). */
struct virtio_net_ctrl_queue_stats_entry {
	vnet_le16 vq_index;
	vnet_le16 reserved[3];
	vnet_le64 types_bitmap[1];
};
_Static_assert(sizeof(struct virtio_net_ctrl_queue_stats_entry) == 16, "stats request entry is 16 bytes");

/* Header of each statistics reply; size includes this header. */
struct virtio_net_stats_reply_hdr {
	uint8_t type;
	uint8_t reserved;
	vnet_le16 vq_index;
	vnet_le16 reserved1;
	vnet_le16 size;
};
_Static_assert(sizeof(struct virtio_net_stats_reply_hdr) == 8, "stats reply header is 8 bytes");

/* RSS contexts (spec 5.1.6.5.7), needs RSS_CONTEXT (bit 64: never
 * negotiated by this driver; class kept for completeness). */
#define VIRTNET_RSS_CTX_CTRL          9u
#define VIRTNET_RSS_CTX_CTRL_CAP_GET  0u
#define VIRTNET_RSS_CTX_CTRL_ADD      1u
#define VIRTNET_RSS_CTX_CTRL_MOD      2u
#define VIRTNET_RSS_CTX_CTRL_DEL      3u

#endif
