/*
 * Internal interfaces between the files of kernel/net/ (stack.c: frame
 * processing; ping.c: ICMP echo client and shell commands; tcp.c: TCP;
 * tcp_cmd.c: the tcp shell command).  Same context rule as orion/net.h:
 * interrupts off.
 */
#ifndef ORION_NET_PRIV_H
#define ORION_NET_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orion/net.h"

uint16_t net_rd16(const uint8_t *p);
uint32_t net_rd32(const uint8_t *p);
void net_wr16(uint8_t *p, uint16_t v);
void net_wr32(uint8_t *p, uint32_t v);
uint32_t net_csum_add(uint32_t sum, const uint8_t *p, size_t n);
uint16_t net_csum_fold(uint32_t sum);

/* The stack's lock (interrupts off, see orion/net.h), for files that
 * must not include architecture headers. */
unsigned long net_lock(void);
void net_unlock(unsigned long flags);

/* The transmit frame's payload area (behind the Ethernet header), room
 * for NET_FRAME_MAX - NET_ETH_HLEN bytes. */
uint8_t *net_tx_payload(void);
/* Send the IPv4 packet whose payload (plen bytes) is at
 * net_tx_payload() + 20 from interface ifn; -1 if ifn is not up, -1 and
 * tx_too_big counted if the frame exceeds the MTU or the device. */
int net_ip_send(unsigned ifn, const uint8_t dst_mac[6], uint32_t dst, uint8_t proto, size_t plen);
/* The same with offloads (m may be NULL).  A super-frame (m->gso_size)
 * may exceed the MTU up to what the device takes. */
int net_ip_send_meta(unsigned ifn, const uint8_t dst_mac[6], uint32_t dst, uint8_t proto, size_t plen,
                     const struct netdev_txmeta *m);
/* ifn's MTU (NET_MTU_DEFAULT if unknown or not up). */
unsigned net_if_mtu(unsigned ifn);
/* Next hop for dst on ifn: dst itself on ifn's subnet, the gateway otherwise. */
uint32_t net_next_hop(unsigned ifn, uint32_t dst);
/* Counters of ifn for files of the stack (NULL if not up). */
struct net_stats *net_if_stats(unsigned ifn);
/* TCP segment (IPv4 payload p, n bytes) for us on ifn (tcp.c). */
void net_tcp_input(unsigned ifn, const uint8_t *eth_src, uint32_t src, uint32_t dst, const uint8_t *p, size_t n,
                   unsigned rxflags);
/* The tcp shell command (tcp_cmd.c). */
void net_tcp_shell_init(void);
bool net_arp_lookup(unsigned ifn, uint32_t ip, uint8_t mac[6]);
int net_arp_request(unsigned ifn, uint32_t ip);
/* An ICMP echo reply arrived (called by stack.c). */
void net_ping_reply(uint32_t src, uint16_t id, uint16_t seq, const uint8_t *data, size_t len);

/* 802.1Q (vlan.c, stack.c): a VLAN interface ifn (NET_MAX_IF ..) on
 * device dev with id vid; a received tagged frame (ifn: the interface it
 * arrived on), stripped and handed to its VLAN's interface; the tag
 * inserted into a frame built in a buffer with NET_VLAN_HLEN bytes to
 * spare (returns the new length). */
void net_init_vlan(unsigned ifn, unsigned dev, uint16_t vid, const struct net_if_cfg *c);
void net_vlan_input(unsigned ifn, const uint8_t *frame, size_t len, unsigned rxflags);
size_t net_vlan_tag(unsigned dev, uint8_t *frame, size_t len, uint16_t vid);
/* A gratuitous ARP for ifn's address (announce). */
int net_arp_announce(unsigned ifn);

#endif
