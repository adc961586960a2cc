/*
 * Private control-plane state of a virtio-net device (include/vnet/net_ctrl.h),
 * kept by net_ctrl.c / net_rss.c / net_vlan.c and read by the data path
 * hooks (link gate, RSS steering, poll moderation).
 *
 * It is the driver's record of what the device was told, so that a device
 * reset, which forgets all of it (VirtIO 1.2 §5.1.6.5.2: "an empty MAC
 * filtering table on reset", §5.1.6.5.9: coalescing parameters 0), can be
 * replayed (vnet_net_ctrl_replay).  Only successful commands update it.
 */
#ifndef VNET_NET_CTRL_PRIV_H
#define VNET_NET_CTRL_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "vnet/net_ctrl.h"

#define VNET_NET_COAL_VQ_MAX 64u   /* per-virtqueue coalescing recorded for indices below this */

struct net_ctrl_state {
	/* RX mode: bit m set in rx_set = the user set mode m; rx_on = its value */
	uint8_t rx_set, rx_on;
	/* MAC table as last accepted (the full lists, also when overflowed) */
	bool table_set;
	bool uc_overflow, mc_overflow;
	uint32_t n_uc, n_mc;
	uint8_t uc[VNET_NET_MAC_TABLE_MAX][6], mc[VNET_NET_MAC_TABLE_MAX][6];
	bool mac_set;                   /* CTRL_MAC_ADDR accepted net->mac */
	/* VLAN filter: one bit per id */
	bool vlan_used;
	uint32_t vlan[4096 / 32];
	bool offloads_set;
	uint64_t offloads;
	bool rss_set;
	struct vnet_net_rss rss;
	/* coalescing: [0] tx, [1] rx for NOTF_COAL; per vq for VQ_NOTF_COAL */
	bool coal_set[2];
	struct vnet_net_coal coal[2];
	uint64_t vq_coal_set;           /* bit per vq index < 64 */
	struct vnet_net_coal vq_coal[VNET_NET_COAL_VQ_MAX];
	/* announce, link */
	bool announce_pending;
	uint64_t link_changes;
	uint32_t speed;
	uint8_t duplex;
	bool local;                     /* commands go to opts.ctrl_local, no controlq */
	/* errors and counters */
	struct vnet_net_ctrl_error last;
	struct vnet_net_ctrl_stats st;
};

/* Software interrupt moderation per receive queue (net_poll.c). */
struct net_poll_mod {
	uint8_t level;                  /* 0 .. NET_POLL_MOD_LEVELS-1: hold time net_poll_hold_ns[level] */
	bool in_episode;                /* between an interrupt and the re-arm */
	uint32_t episode_pkts;          /* frames since the interrupt that opened the episode */
	uint64_t last_work_ns;          /* vnet_hal_time_ns() of the episode's last poll that found work */
	uint64_t last_rearm_ns;         /* ... of the last re-arm (0: never): the gap to the next interrupt adapts the level */
	bool tx_stopped;                /* flow control: the transmit ring was full (net_ctrl_tx_flow) */
};

/* net_ctrl.c: read config.speed/duplex (SPEED_DUPLEX), at bring-up and on a config change. */
void net_ctrl_read_speed(struct vnet_net *net);
/* net_ctrl.c: status had ANNOUNCE set (config change): callback + ack, or pending. */
void net_ctrl_announce(struct vnet_net *net);

struct vnet_pkt;
/* net_rss.c: fill pkt->hash / hash_report from the receive header (rx hook). */
void net_rss_rx_hash(const struct vnet_net *net, struct vnet_pkt *p, const void *hdr);
/* net_rss.c: after VQ_PAIRS_SET, the recorded RSS again (table folded
 * onto the pairs in use). */
int net_rss_after_pairs(struct vnet_net *net);
/* net_rss.c: send the recorded RSS/hash configuration again (replay). */
int net_rss_replay(struct vnet_net *net);
struct vnet_net_q;
/* net_ctrl.c: flow control at the end of tx_burst (tx hook): a burst cut
 * short by a full ring stops the queue (tx_stops), completions that make
 * room again wake it (tx_wakes; also from vnet_net_poll's reclaim).
 * Returns done. */
unsigned net_ctrl_tx_flow(struct vnet_net *net, struct vnet_net_q *q, unsigned done, unsigned n);
void net_ctrl_tx_wake_check(struct vnet_net_q *q);
/* net_ctrl.c: tx_burst while the link is down (tx hook): counts, returns 0. */
unsigned net_ctrl_tx_link_down(struct vnet_net *net, uint16_t qp, unsigned n);

#endif
