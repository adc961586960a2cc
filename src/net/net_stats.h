/*
 * Performance monitor, data-path side (net_stats.c): sampled latency
 * histograms per queue pair.  Off by default; vnet_net_set_latency_sampling()
 * turns it on.  The hooks below are one branch each when it is off.
 *   TX completion latency: one burst in 2^shift, the last frame it posted
 *     is timed from the end of tx_burst's post loop to the reclaim that
 *     takes its completion.
 *   RX interrupt-to-delivery: one interrupt in 2^shift is timed from
 *     vnet_net_rx_irq() to the first frame vnet_net_poll() hands to fn.
 */
#ifndef VNET_NET_STATS_H
#define VNET_NET_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "vnet/net.h"
#include "vnet/virtqueue.h"

struct net_stats_q {
	bool on;
	uint32_t mask;              /* sample when (count & mask) == 0 */
	uint32_t tx_bursts, rx_irqs;
	const void *tx_pkt;         /* sampled frame in flight, NULL when none */
	uint64_t tx_t0;
	uint64_t rx_t0;             /* 0: no interrupt being timed */
	uint64_t tx_hist[VNET_NET_LAT_BUCKETS], rx_hist[VNET_NET_LAT_BUCKETS];
};

struct vnet_net_q;
/* cold paths, only when sampling is on */
void net_stats_tx_post(struct vnet_net_q *q, struct vnet_pkt **pkts, unsigned done);
void net_stats_tx_done(struct vnet_net_q *q, const struct vnet_vq_used *u, unsigned k);
void net_stats_rx_irq(struct vnet_net_q *q);
void net_stats_rx_deliver(struct vnet_net_q *q);

#endif
