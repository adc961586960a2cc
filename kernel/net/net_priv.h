/*
 * Internal interfaces between the files of kernel/net/ (stack.c: frame
 * processing; ping.c: ICMP echo client and shell commands).  Same context
 * rule as orion/net.h: interrupts off.
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

/* The transmit frame's payload area (behind the Ethernet header). */
uint8_t *net_tx_payload(void);
/* Send the IPv4 packet whose payload (plen bytes) is at
 * net_tx_payload() + 20 from interface ifn; -1 if ifn is not up. */
int net_ip_send(unsigned ifn, const uint8_t dst_mac[6], uint32_t dst, uint8_t proto, size_t plen);
bool net_arp_lookup(unsigned ifn, uint32_t ip, uint8_t mac[6]);
int net_arp_request(unsigned ifn, uint32_t ip);
/* An ICMP echo reply arrived (called by stack.c). */
void net_ping_reply(uint32_t src, uint16_t id, uint16_t seq, const uint8_t *data, size_t len);

#endif
