/*
 * Orion's test IPv4 stack (kernel/net/) and its link to the virtio-net
 * glue (kernel/dev/vnet.c).
 *
 * The stack exists to put real traffic through the orion-vnet driver:
 * Ethernet, ARP (cache with timeouts, answers for our address), IPv4 with
 * header-checksum verification, ICMP echo (replies, and `ping`), UDP with
 * an echo service on port 7, a minimal TCP (net/tcp.h).  Frames up to the
 * device MTU; checksum offload and TSO through the netdev_* calls below
 * when the device negotiated them.  No fragmentation, no options we act
 * on, no routing beyond "on-link or via the gateway".  Every received length
 * field is bounds-checked against the frame before it is used; malformed
 * frames are dropped and counted in struct net_stats.
 *
 * Several interfaces (vnet0..vnet7), each with its own configuration,
 * counters and ARP cache.
 *
 * Concurrency: one CPU.  Frames are processed either in the MSI-X handler
 * (interrupts are off there) or from main context with interrupts off, so
 * "interrupts off" is the stack's only lock: every entry point from main
 * context (ping, stats) takes it with irq_save()/irq_restore().
 */
#ifndef ORION_NET_H
#define ORION_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_ETH_HLEN 14u
#define NET_ETH_MAX_FRAME 1514u        /* without FCS, at the default MTU of 1500 */
#define NET_MTU_DEFAULT 1500u
/* The largest frame the stack builds or takes: an IPv4 packet of 65535
 * bytes (its total length field) behind the Ethernet header.  Frames
 * beyond the MTU are only TSO super-frames (sent) or coalesced GUEST_TSO
 * frames (received). */
#define NET_FRAME_MAX (NET_ETH_HLEN + 65535u)
#define NET_UDP_ECHO_PORT 7u
#define NET_UDP_MAX_PAYLOAD 1472u      /* 1500 - 20 (IPv4) - 8 (UDP): at the default MTU; mtu - 28 in general */
/* A UDP datagram to port 7 with exactly this payload stops the echo
 * service (selftest=echo returns PASS): how the host ends a UDP test. */
#define NET_ECHO_STOP_MAGIC "ORION-ECHO-STOP"

struct net_stats {
	uint64_t rx_frames, tx_frames, tx_fail;
	uint64_t rx_runt, rx_not_for_us, rx_unknown_ethertype;
	uint64_t arp_rx, arp_req_rx, arp_reply_rx, arp_req_tx, arp_reply_tx, arp_bad;
	uint64_t arp_cache_timeouts;
	uint64_t ip_rx, ip_bad_hdr, ip_bad_csum, ip_bad_len, ip_frag_dropped, ip_not_for_us;
	uint64_t ip_unknown_proto;
	uint64_t icmp_rx, icmp_bad, icmp_echo_req_rx, icmp_echo_reply_tx, icmp_echo_reply_rx;
	uint64_t udp_rx, udp_bad, udp_no_port, udp_echo_tx;
	/* Frames not sent because they would exceed the interface's MTU or
	 * what the device takes in one frame (an echo reply to a request
	 * larger than our MTU, a ping larger than the MTU): one per frame. */
	uint64_t tx_too_big;
	/* L4 checksums not computed in software: received with DATA_VALID
	 * (device checked) or NEEDS_CSUM (never computed: the sender is the
	 * host itself); sent with checksum offload. */
	uint64_t rx_csum_offloaded, tx_csum_offloaded;
	/* 802.1Q (kernel/net/vlan.c), on the device's base interface:
	 * tagged frames received (each also counted on its VLAN
	 * interface's rx_frames), those for a VLAN not configured here
	 * (dropped), malformed tags; tagged frames sent.  Gratuitous ARPs
	 * sent on a GUEST_ANNOUNCE request, on every interface. */
	uint64_t vlan_rx, vlan_unknown, vlan_bad, vlan_tx;
	uint64_t arp_announce_tx;
};

/* Interface configuration (host order IPv4 addresses). */
struct net_if_cfg {
	uint8_t mac[6];
	uint32_t ip, mask, gw;
	uint8_t prefix;
	uint16_t mtu;                   /* device MTU; 0 = NET_MTU_DEFAULT */
};

/* Interfaces (vnet0..vnet7): index ifn is the device vnet<ifn>. */
#define NET_MAX_IF 8u
/* 802.1Q VLAN interfaces ("vnetN.VID", kernel/net/vlan.c): stack
 * indexes NET_MAX_IF .. NET_IF_SLOTS - 1, each on one device with one
 * VLAN id; every net_* call taking an ifn takes these too (netdev_* calls
 * take the device index only). */
#define NET_VLAN_MAX 16u
#define NET_IF_SLOTS (NET_MAX_IF + NET_VLAN_MAX)
#define NET_ETH_P_8021Q 0x8100u
#define NET_VLAN_HLEN 4u

/* ---- provided by the device glue (kernel/dev/vnet.c) ---- */

/* Queue one Ethernet frame (copied) on vnet<ifn>: on the queue pair whose
 * receive path is running (a reply leaves where its request came in),
 * otherwise on the pair the flow's replies arrive on (flow hash, RSS's key
 * and table: kernel/dev/vnet.c tx_steer).  0, or -1 if the device is not up or had no
 * buffer or ring slot.  Call with interrupts off. */
int netdev_tx(unsigned ifn, const void *frame, size_t len);

/* Offload request for one transmitted frame (netdev_tx_meta). */
struct netdev_txmeta {
	bool csum;              /* device fills the L4 checksum at csum_start + csum_offset;
	                         * the field holds the folded, uninverted pseudo-header sum */
	uint16_t csum_start, csum_offset;
	uint16_t gso_size;      /* != 0: TCPv4 super-frame cut by the device into gso_size payloads */
	uint16_t hdr_len;       /* Ethernet + IPv4 + TCP header bytes of the super-frame */
};
/* netdev_tx with offloads (m may be NULL: none).  -1 as netdev_tx, and
 * for an offload the device did not negotiate or a frame larger than
 * netdev_caps().max_tx. */
int netdev_tx_meta(unsigned ifn, const void *frame, size_t len, const struct netdev_txmeta *m);

/* What vnet<ifn> can do, for the stack. */
struct netdev_caps {
	uint16_t mtu;           /* device MTU (1500 without VIRTIO_NET_F_MTU) */
	uint32_t max_tx;        /* largest frame netdev_tx takes (Ethernet header included) */
	bool tx_csum;           /* VIRTIO_NET_F_CSUM negotiated: netdev_txmeta.csum works */
	bool tx_tso4;           /* HOST_TSO4 negotiated and frames up to NET_FRAME_MAX sendable */
	bool rx_csum;           /* GUEST_CSUM: frames may arrive NET_RX_CSUM_VALID / _PARTIAL */
	bool rx_tso4;           /* GUEST_TSO4: coalesced TCP frames up to NET_FRAME_MAX arrive */
};
/* False (c untouched) if vnet<ifn> is not up.  Call with interrupts off. */
bool netdev_caps(unsigned ifn, struct netdev_caps *c);
/* Main-context service of every device: receive work deferred by an
 * interrupt handler past its budget, and (poll mode) the polling itself;
 * each call does at most a budget per queue pair.  True if work remains
 * (call again before sleeping).  Call with interrupts off. */
bool netdev_service(void);
/* True once vnet<ifn> is up. */
bool netdev_up(unsigned ifn);
/* True if some device only moves packets when polled (poll mode). */
bool netdev_needs_poll(void);

/* ---- the stack (kernel/net/) ---- */

/* Configure interface ifn (< NET_MAX_IF) and mark it up. */
void net_init(unsigned ifn, const struct net_if_cfg *cfg);
/* Take interface ifn down (device detached): it answers nothing, its
 * address, ARP cache and counters are forgotten; net_init brings it back. */
void net_fini(unsigned ifn);
/* Configuration of ifn, NULL if it is not up. */
const struct net_if_cfg *net_cfg(unsigned ifn);
/* The interface's MAC after the device's changed (CTRL_MAC_ADDR). */
void net_set_mac(unsigned ifn, const uint8_t mac[6]);
/* The driver handle of vnet<ifn> once up, else NULL (control-plane selftest). */
struct vnet_net *netdev_net(unsigned ifn);
/* The interface whose subnet holds dst (the first such), else 0: the
 * default route is vnet0's gateway. */
unsigned net_if_for(uint32_t dst);
/* One frame received on ifn (bytes are only read during the call). */
void net_input(unsigned ifn, const uint8_t *frame, size_t len);
/* The same with the device's receive offload flags. */
#define NET_RX_CSUM_VALID   0x1u /* DATA_VALID: the device checked the L4 checksum */
#define NET_RX_CSUM_PARTIAL 0x2u /* NEEDS_CSUM: the L4 checksum was never computed (host-local sender) */
#define NET_RX_GSO          0x4u /* a coalesced TCP frame (GUEST_TSO4), may exceed the MTU */
void net_input_meta(unsigned ifn, const uint8_t *frame, size_t len, unsigned rxflags);
/* Counters of ifn; false (out untouched) if it is not up. */
bool net_get_stats(unsigned ifn, struct net_stats *out);

/* "vnetN" (N < NET_MAX_IF) -> N, "vnetN.VID" -> its VLAN interface,
 * else -1. */
int net_if_parse(const char *name);
/* The device (netdev_* index) under interface ifn: ifn itself, or a
 * VLAN interface's device. */
unsigned net_if_dev(unsigned ifn);
/* The name of interface ifn ("vnet0", "vnet0.100") into buf (>= 16 bytes). */
char *net_if_name(unsigned ifn, char *buf);

/* ---- 802.1Q VLANs (kernel/net/vlan.c) ---- */

/* Read the command line for device dev: "vnetN.vlan=ID[,ID...]" (or
 * "vlan=" for vnet0) and each "vnetN.ID.ip=A.B.C.D[/M]" (gw: vnetN.ID.gw=),
 * and create the VLAN interfaces (after net_init(dev)).  Bad or missing
 * values are reported by name and skipped.  Returns the number created. */
unsigned net_vlan_setup(unsigned dev);
/* The VLAN ids configured on device dev, up to max into vids; returns
 * how many (the glue adds them to the device's VLAN filter). */
unsigned net_vlan_ids(unsigned dev, uint16_t *vids, unsigned max);
/* The stack interface of (dev, vid), -1 if none. */
int net_vlan_find(unsigned dev, uint16_t vid);
/* GUEST_ANNOUNCE: a gratuitous ARP (RFC 5227 announcement) for every
 * address of device dev: its own and each VLAN's (tagged).  Interrupts off. */
void net_announce(unsigned dev);
/* Parse "A.B.C.D" (host order out).  false on syntax errors. */
bool net_parse_ip(const char *s, uint32_t *out);
/* "A.B.C.D" into buf (>= 16 bytes); returns buf. */
char *net_fmt_ip(uint32_t ip, char *buf);

/* Wait (bounded) until the frame processing path ran at least once more:
 * netdev_service() first, then hlt unless work remains or a device polls. */
void net_wait_once(void);

/* ARP on ifn: resolve ip to a MAC, sending requests (retries inside timeout). */
bool net_arp_resolve(unsigned ifn, uint32_t ip, uint8_t mac[6], uint64_t timeout_ns, unsigned tries);

/* ICMP echo: send `count` requests to ip, print per-reply RTT (us) and a
 * min/avg/max summary.  Returns the number of replies received; *avg_us
 * etc. may be NULL. */
struct net_ping_result {
	unsigned sent, received;
	uint64_t min_ns, avg_ns, max_ns;
};
int net_ping(unsigned ifn, uint32_t ip, unsigned count, uint64_t timeout_ns, struct net_ping_result *res);
/* The same with dlen data bytes per request (net_ping: 56). */
int net_ping_size(unsigned ifn, uint32_t ip, unsigned count, size_t dlen, uint64_t timeout_ns,
                  struct net_ping_result *res);

/* UDP echo service state: true after the stop datagram arrived. */
bool net_echo_stop_requested(void);

/* Shell commands of the stack ("ping", "net stats [vnetN]", "tcp ..."). */
void net_shell_init(void);

#endif
