/*
 * Private state of the virtio-net layer (include/vnet/net.h), shared by
 * the files of src/net and by nothing else.
 *
 * Map of src/net, one job per file (function prefix in brackets):
 *   net_pool.c      packet-buffer pool: alloc/free, init/fini [net_pool_]
 *   net_rx.c        receive: refill, completions, header checks [net_rx_]
 *   net_tx.c        transmit: header fill, post, reclaim [net_tx_]
 *   net_ctrl.c      control queue: commands, every class, state, replay [net_ctrl_]
 *   net_rss.c       Toeplitz hash, RSS/hash config, TX steering [net_rss_]
 *   net_setup.c     create, destroy, stop, restart, config change [net_setup_]
 *   net_poll.c      service loop and interrupt helpers [net_poll_]
 *   net_info.c      info, stats and accessors [net_info_]
 *   net_features.c  virtio-net feature names and dependency rules [net_feat_]
 *   net_recover.c   queue reset (RING_RESET), watchdog, recovery [net_recover_]
 * The hot path (rx, tx, pool) takes no lock, allocates nothing and never
 * logs; everything in setup/ctrl is control path and may busy-wait,
 * bounded by timeout_ns.
 *
 * Buffer layout (one pool slot, buf_size bytes):
 *   [ headroom ... | virtio_net_hdr | frame ...                ]
 *   ^buf           ^buf+room-hdr     ^buf+VNET_NET_HEADROOM = data
 * Header and frame are contiguous, so each buffer is a single descriptor
 * (VERSION_1 implies ANY_LAYOUT, VirtIO 1.2 §5.1.6.6); a multi-segment
 * transmit frame or a big-packet receive post is a chain of buffers linked
 * through next, one descriptor each (docs/offloads.md).
 *
 * Ownership: pkt->owner says who holds a buffer (pool, application, the
 * device's receive or transmit ring); every path that takes a buffer back
 * checks it with net_pool_owns() and the marker first, so a foreign or
 * doubly freed pointer is refused instead of corrupting the pool.
 * Serialisation: as vnet/net.h says, one thread per queue pair, the pool
 * shared and unlocked.
 */
#ifndef VNET_NET_PRIV_H
#define VNET_NET_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "vnet/device.h"
#include "vnet/features.h"
#include "vnet/net.h"
#include "vnet/net_recover.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/spec/virtio_net.h"
#include "vnet/vnet_hal.h"
#include "net_ctrl_priv.h"
#include "net_stats.h"

/* Bytes in front of the frame: room for the largest header we may
 * negotiate and for a host that prepends an encapsulation.  Receive
 * buffers are posted at VNET_NET_HEADROOM - hdr_len.  A buffer the
 * application allocates (vnet_net_pkt_alloc, alloc_chain) starts its frame
 * at net->tx_headroom = 64 + the header rounded up to 16 bytes (80 for the
 * 10- and 12-byte headers, 96 for HASH_REPORT's 20): the header then sits
 * in the buffer's second cache line, the one that also holds the frame's
 * first 32-48 bytes, so the driver's header write and the application's
 * Ethernet/IP/UDP header writes take one line for ownership, not two
 * (docs/performance.md, "Data path work": TX 64 B +16 % split / +30-40 %
 * packed); and the frame is 16-byte aligned, which takes a vhost-user
 * back-end's copy (DPDK's rte_memcpy) onto its aligned path
 * (docs/performance.md, "Fewer stores per frame").  The same offset for
 * receive buffers measured lower on packed RX, so receive keeps 64.
 * Pool buffers are 64-byte aligned (net_pool.c). */
#define VNET_NET_HEADROOM 64u
static inline uint16_t net_tx_headroom(uint16_t hdr_len)
{
	return (uint16_t)(VNET_NET_HEADROOM + ((hdr_len + 15u) & ~15u));
}
#define VNET_NET_BUF_DEFAULT 2048u
#define VNET_NET_QSIZE_DEFAULT 256u
#define VNET_NET_ETH_HLEN 14u
#define VNET_NET_CTRL_DATA_MAX 1024u /* RSS_CONFIG: 8 + 2 * 256 + 3 + 64 */
#define VNET_NET_BURST_MAX 64u
#define VQ_UNLIKELY_NET(x) __builtin_expect(!!(x), 0)
#define VQ_LIKELY_NET(x) __builtin_expect(!!(x), 1)

/* pkt->owner values: who holds the buffer now. */
enum vnet_pkt_owner {
	VNET_OWN_POOL = 0x504f4f4cu,   /* "POOL" */
	VNET_OWN_APP = 0x41505021u,    /* "APP!" */
	VNET_OWN_DEV_RX = 0x44565258u, /* "DVRX" */
	VNET_OWN_DEV_TX = 0x44565458u, /* "DVTX" */
	VNET_OWN_DEV_TXC = 0x44565443u, /* "DVTC": head of a transmit chain (its segments are DVTX) */
};

/* Buffer accounting (net_info.c, vnet_net_get_vq_acct): what the rings a
 * queue had before its current one counted (a resize replaces the ring,
 * net_recover.c); the current ring's engine counters are added when read. */
struct net_acct_base {
	uint64_t added, completed, detached;
};

struct vnet_net_q {
	struct vnet_vq *rx;
	struct vnet_vq *tx;
	uint16_t rx_batch;          /* net_rx_refill posts once this many slots are free (>= 1) */
	struct vnet_net_queue_stats st;
	struct net_poll_mod mod;    /* control plane: software moderation (net_poll.c) */
	/* lost-notification check (vnet_net_rx_missed_check, net_poll.c) */
	bool miss_seen;             /* the last check saw completions waiting, armed */
	uint64_t miss_polls;        /* st.polls at the last check */
	struct net_stats_q lat;     /* performance monitor: latency sampling (net_stats.c) */
	/* recovery: TX watchdog (net_recover.c) */
	bool tx_wd_armed;           /* tx_wd_* hold an observation */
	uint64_t tx_wd_completed;   /* tx completions at the last progress seen */
	uint64_t tx_wd_ns;          /* host clock of the last progress seen */
	/* buffer accounting: rings replaced by a resize (net_info.c) */
	struct net_acct_base rx_retired, tx_retired;
};

/* recovery (net_recover.c): configuration and counters */
struct net_recover_state {
	struct vnet_net_recover_opts o;   /* defaults filled in */
	struct vnet_net_recover_stats st;
	uint16_t pending_vq;              /* queue at fault for st.pending, VNET_NET_VQ_ALL */
	bool configured;
};

struct vnet_net {
	struct vnet_device *dev;   /* opaque: used only through vnet/device.h */
	struct vnet_net_opts opts;
	uint64_t timeout_ns;
	uint16_t hdr_len;
	uint16_t mtu;
	uint8_t mac[6];
	bool mac_from_device;
	bool link_up;
	bool mrg_rxbuf;
	bool running;               /* DRIVER_OK and not stopped: data path open */
	/* A device reset did not complete: the device may still read and
	 * write every ring and every buffer it held.  Latched: from then on
	 * nothing it held is reclaimed, reused or freed (net_setup.c). */
	bool dead;
	uint32_t leaked_bufs;       /* buffers left with a dead device */
	uint64_t leaked_bytes;      /* device-visible memory kept at destroy (rings, pool, ctrl buffer) */
	uint64_t features;          /* negotiated at create; restart must get the same */
	uint16_t pairs;             /* in use */
	uint16_t created;           /* pairs with queues (q[0..created)) */
	uint16_t max_pairs;         /* device maximum */
	uint16_t qsize;
	enum vnet_vq_layout layout;
	struct vnet_net_q *q;       /* [created] private */
	struct vnet_vq *ctrl;
	uint16_t ctrl_index;        /* controlq index, VNET_NET_NO_CTRL without one */
	struct vnet_dma ctrl_mem;   /* command buffer (net_ctrl.c), device-visible */
	uint64_t ctrl_errors;       /* control answers that broke the protocol (net_ctrl.c) */
	struct net_acct_base ctrl_retired; /* buffer accounting: controlq rings replaced by a resize */
	struct net_ctrl_state cs;   /* control plane: what the device was told, for replay (net_ctrl.c) */
	struct net_recover_state rs;/* recovery (net_recover.c) */
	/* pool */
	struct vnet_dma pool_mem;
	struct vnet_dma bounce;     /* bounce: device-visible shadow of pool_mem (net_bounce.c), else empty */
	struct vnet_pkt *pkts;      /* [pool_size] private descriptors of the buffers */
	uint32_t *free_stack;       /* [pool_size] indices of free buffers */
	uint64_t pkt_fresh[2];      /* bytes room..hdr_len of a fresh buffer (net_pool_get) */
	uint16_t tx_headroom;       /* frame offset in an allocated buffer: net_tx_headroom(hdr_len) */
	uint32_t free_top;
	uint32_t pool_size;
	uint32_t buf_size;
	uint32_t buf_stride;        /* bytes from one pool buffer to the next (net_pool_init) */
	/* offloads (net_setup.c decides at create, docs/offloads.md) */
	uint8_t tx_gso_ok;          /* bit t: gso_type t (VNET_PKT_GSO_*, ECN stripped) may be sent */
	uint8_t rx_gso_ok;          /* bit t: the device may deliver gso_type t */
	bool tx_ecn_ok, rx_ecn_ok;  /* HOST_ECN / GUEST_ECN */
	uint16_t tx_segs_max;       /* segments per transmitted frame (<= VNET_NET_TX_SEGS_MAX, ring) */
	uint16_t tx_indirect_min;   /* descriptors from which a tx chain goes indirect; 0: no indirect */
	bool rx_big;                /* big-packet mode: each receive post is a chain (§5.1.6.3.1) */
	uint16_t rx_chain;          /* buffers per receive post (1, or the big-packet chain) */
};

#define VNET_NET_NO_CTRL 0xffffu

/* ------------------------------------------------------------ pool (inline) */

/* Take a buffer from the pool with every field the application sees reset;
 * NULL when empty.  The caller sets owner.
 * Only what differs from a fresh buffer is stored: a recycled plain
 * transmit buffer already has all but len and pkt_len fresh, and on the
 * transmit path every store waits in the store buffer behind the stores
 * into frame and ring lines the device read last (a read-for-ownership
 * each), so stores, not loads of this hot line, set the rate
 * (docs/performance.md, "Fewer stores per frame"). */
static inline void net_pool_fresh_w(struct vnet_pkt *p, uint64_t f0, uint64_t f1, uint16_t headroom)
{
	uint8_t *data = p->buf + headroom;
	p->len = 0;
	p->pkt_len = 0;
	/* room, flags, csum_start, csum_offset, gso_type, nseg, gso_size and
	 * hdr_len are 16 contiguous bytes (net_pool.c asserts it): two loads
	 * against the template (f0, f1) instead of a test per field. */
	uint64_t w[2];
	__builtin_memcpy(w, &p->room, sizeof(w));
	if (VQ_UNLIKELY_NET(((w[0] ^ f0) | (w[1] ^ f1)) != 0 || p->data != data || p->next)) {
		p->data = data;
		p->next = 0;
		w[0] = f0;
		w[1] = f1;
		__builtin_memcpy(&p->room, w, sizeof(w));
	}
}

static inline void net_pool_fresh(const struct vnet_net *net, struct vnet_pkt *p)
{
	net_pool_fresh_w(p, net->pkt_fresh[0], net->pkt_fresh[1], net->tx_headroom);
}

static inline struct vnet_pkt *net_pool_get(struct vnet_net *net)
{
	if (VQ_UNLIKELY_NET(net->free_top == 0))
		return 0;
	struct vnet_pkt *p = &net->pkts[net->free_stack[--net->free_top]];
	net_pool_fresh(net, p);
	return p;
}

/* Put a buffer back (owner marked, next cleared if set), the stack top in
 * the caller's local (a batch of puts then stores it once). */
static inline void net_pool_put_at(uint32_t *stack, struct vnet_pkt *p, uint32_t *top)
{
	p->owner = VNET_OWN_POOL;
	if (p->next) /* stored only when set: see net_pool_get */
		p->next = 0;
	stack[(*top)++] = p->idx;
}

static inline void net_pool_put(struct vnet_net *net, struct vnet_pkt *p)
{
	uint32_t top = net->free_top;
	net_pool_put_at(net->free_stack, p, &top);
	net->free_top = top;
}

/* True if p is one of our pool descriptors: inside the array, and the
 * element its own index names (catches misaligned pointers without a
 * division on the per-packet path). */
static inline bool net_pool_owns_at(uintptr_t base, uintptr_t last, const struct vnet_pkt *p)
{
	/* One unsigned compare: below the array wraps to a huge offset. */
	uintptr_t off = (uintptr_t)p - base;
	if (VQ_UNLIKELY_NET(off > last))
		return false;
	/* In range, so reading idx stays inside the array even if p is
	 * misaligned; an exact offset match also bounds idx. */
	return (uintptr_t)p->idx * sizeof(*p) == off;
}

/* The pool's bounds for net_pool_owns_at (a hot loop keeps them in locals). */
static inline uintptr_t net_pool_last(const struct vnet_net *net)
{
	return (uintptr_t)(net->pool_size - 1u) * sizeof(struct vnet_pkt);
}

static inline bool net_pool_owns(const struct vnet_net *net, const struct vnet_pkt *p)
{
	return net_pool_owns_at((uintptr_t)net->pkts, net_pool_last(net), p);
}

/* ------------------------------------------------------------ between files */

/* net_pool.c: allocate the pool for the queues created (opts.pool_size or
 * the default); fini frees it (NULL-safe parts), warning about buffers
 * the application still holds. */
int net_pool_init(struct vnet_net *net);
void net_pool_fini(struct vnet_net *net);
/* The same for a dead device: the descriptors go, the buffer memory stays
 * allocated for good (the device may still write any buffer it held);
 * returns its bytes. */
size_t net_pool_abandon(struct vnet_net *net);
/* bounce (net_bounce.c): opts.bounce, called from the pool and the hot paths */
int net_bounce_init(struct vnet_net *net);
void net_bounce_fini(struct vnet_net *net);
size_t net_bounce_abandon(struct vnet_net *net);
void net_bounce_rx(struct vnet_net *net, struct vnet_pkt *p, uint32_t len);
void net_bounce_tx(struct vnet_net *net, struct vnet_pkt *p);

/* Bytes the device may write into one receive buffer: from the header
 * slot in front of the frame area to the end of the buffer. */
static inline uint32_t net_rx_buf_bytes(const struct vnet_net *net)
{
	return net->buf_size - VNET_NET_HEADROOM + net->hdr_len;
}

/* Big-packet receive buffers hold at least this (header included): a 64 KiB
 * IP packet with Ethernet and VLAN headers plus the header (VirtIO 1.2
 * §5.1.6.3.1 says 65601 for a 12-byte header; older revisions 65562). */
#define VNET_NET_RX_BIG_BYTES 65601u
/* Most buffers in one big-packet receive chain. */
#define VNET_NET_RX_BIG_SEGS_MAX 64u
/* Most big-packet chains posted per receive queue (each holds 64 KiB of
 * pool memory). */
#define VNET_NET_RX_BIG_POSTS 32u

/* Receive posts (chains) a queue holds at most: the ring's slots, fewer in
 * big-packet mode (a direct chain takes rx_chain slots). */
static inline uint32_t net_rx_posts_max(const struct vnet_net *net)
{
	if (!net->rx_big)
		return net->qsize;
	uint32_t slots = (net->features & VNET_BIT(VIRTIO_F_INDIRECT_DESC)) ? net->qsize : net->qsize / net->rx_chain;
	return slots < VNET_NET_RX_BIG_POSTS ? slots : VNET_NET_RX_BIG_POSTS;
}

/* net_pool.c: give back a chain the device held (cookie of a detached or
 * completed buffer): every element that is one of ours, whatever its
 * owner marker says; returns the buffers put back. */
uint32_t net_pool_put_chain(struct vnet_net *net, struct vnet_pkt *p);

/* net_rx.c: post free buffers to q's receive ring (opts.rx_refill_batch). */
void net_rx_refill(struct vnet_net *net, struct vnet_net_q *q);

/* net_tx.c: give completed transmit buffers back to the pool; returns
 * completions taken. */
unsigned net_tx_reclaim(struct vnet_net *net, struct vnet_net_q *q);

/* net_setup.c: the ring configuration of virtqueue index (name, layout,
 * features, indirect use) with size entries, and the host's MSI-X vector
 * for it (queue reset with a resize, net_recover.c). */
void net_setup_vq_config(const struct vnet_net *net, uint16_t index, uint16_t size, const char *name,
                         struct vnet_vq_config *c);
uint16_t net_setup_vector(const struct vnet_net *net, uint16_t vq_index);

/* net_info.c: before a resize destroys vq (every chain detached), keep its
 * counters in the accounting of virtqueue index (no-op for an unknown one). */
void net_info_acct_retire(struct vnet_net *net, uint16_t index, const struct vnet_vq *vq);

/* net_ctrl.c: the device-visible command buffer; alloc before the
 * controlq is set up, free after it is destroyed.  net_ctrl_is_buffer()
 * tells a detached controlq cookie from a packet. */
int net_ctrl_alloc(struct vnet_net *net);
void net_ctrl_free(struct vnet_net *net);
bool net_ctrl_is_buffer(const struct vnet_net *net, const void *cookie);

#endif
