/*
 * orion-vnet virtio-net device: the layer applications and network stacks
 * use.  It negotiates features on top of a transport (virtio-pci modern,
 * virtio-mmio or vhost-user), creates the receive/transmit (and control) virtqueues, keeps
 * the receive queues filled from a preallocated pool of zero-copy packet
 * buffers, and moves packets in bursts.
 *
 * Packet buffers: every buffer is one DMA region with room for the
 * virtio-net header in front of the frame, so header and frame travel as a
 * single descriptor (VIRTIO_F_VERSION_1 implies ANY_LAYOUT, spec 5.1.6.6).
 * Larger frames (up to 64 KiB with segmentation offload) are chains of
 * buffers through `next` in both directions: see the offload contract
 * below and docs/offloads.md.
 * A buffer is owned by exactly one party at a time:
 *   pool -> application: vnet_net_pkt_alloc(), or vnet_net_rx_burst()
 *   application -> device: vnet_net_tx_burst() (accepted ones only)
 *   application -> pool: vnet_net_pkt_free()
 * Buffers the device completes on transmit go back to the pool inside the
 * next tx_burst (batched reclaim); receive buffers are reposted inside
 * rx_burst (in batches with opts.rx_refill_batch).  With mergeable receive buffers a frame may span several
 * buffers, linked through `next` (the head carries pkt_len).
 *
 * Concurrency: each queue pair is used by one thread at a time; the pool is
 * shared between queue pairs and is NOT locked: use one queue pair, or one
 * thread, unless the platform serialises (the kernel does).  Control calls
 * (create, destroy, set_*) are control-path and may busy-wait, bounded.
 */
#ifndef VNET_NET_H
#define VNET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "features.h"
#include "spec/virtio_net.h"
#include "virtqueue.h"
#include "vnet_error.h"

struct vnet_transport_ops;
struct vnet_net; /* opaque */

/* Every net feature bit below 64 that the spec defines for a modern device
 * (bits 4 and 58 are undefined; 6, 41, 42 are legacy-only): the device-type
 * mask the net layer hands to negotiation (vnet_device_opts.known). */
#define VNET_FEATURES_NET_KNOWN                                                            \
	(VNET_BIT(VIRTIO_NET_F_CSUM) | VNET_BIT(VIRTIO_NET_F_GUEST_CSUM) |                 \
	 VNET_BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) | VNET_BIT(VIRTIO_NET_F_MTU) |          \
	 VNET_BIT(VIRTIO_NET_F_MAC) | VNET_BIT(VIRTIO_NET_F_GUEST_TSO4) |                   \
	 VNET_BIT(VIRTIO_NET_F_GUEST_TSO6) | VNET_BIT(VIRTIO_NET_F_GUEST_ECN) |             \
	 VNET_BIT(VIRTIO_NET_F_GUEST_UFO) | VNET_BIT(VIRTIO_NET_F_HOST_TSO4) |              \
	 VNET_BIT(VIRTIO_NET_F_HOST_TSO6) | VNET_BIT(VIRTIO_NET_F_HOST_ECN) |               \
	 VNET_BIT(VIRTIO_NET_F_HOST_UFO) | VNET_BIT(VIRTIO_NET_F_MRG_RXBUF) |               \
	 VNET_BIT(VIRTIO_NET_F_STATUS) | VNET_BIT(VIRTIO_NET_F_CTRL_VQ) |                   \
	 VNET_BIT(VIRTIO_NET_F_CTRL_RX) | VNET_BIT(VIRTIO_NET_F_CTRL_VLAN) |                \
	 VNET_BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) | VNET_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) |     \
	 VNET_BIT(VIRTIO_NET_F_MQ) | VNET_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |                 \
	 VNET_BIT(VIRTIO_NET_F_DEVICE_STATS) | VNET_BIT(VIRTIO_NET_F_HASH_TUNNEL) |         \
	 VNET_BIT(VIRTIO_NET_F_VQ_NOTF_COAL) | VNET_BIT(VIRTIO_NET_F_NOTF_COAL) |           \
	 VNET_BIT(VIRTIO_NET_F_GUEST_USO4) | VNET_BIT(VIRTIO_NET_F_GUEST_USO6) |            \
	 VNET_BIT(VIRTIO_NET_F_HOST_USO) | VNET_BIT(VIRTIO_NET_F_HASH_REPORT) |             \
	 VNET_BIT(VIRTIO_NET_F_GUEST_HDRLEN) | VNET_BIT(VIRTIO_NET_F_RSS) |                 \
	 VNET_BIT(VIRTIO_NET_F_RSC_EXT) | VNET_BIT(VIRTIO_NET_F_STANDBY) |                  \
	 VNET_BIT(VIRTIO_NET_F_SPEED_DUPLEX))

/* virtio-net's feature dependency table (VirtIO 1.2 §5.1.3.1, §5.1.4.2 and
 * control-queue users; static, read-only); *n gets its length.  The net
 * layer passes it to negotiation; tests and tools may walk it. */
const struct vnet_feature_rule *vnet_net_feature_rules(size_t *n);

/*
 * Per-packet offload metadata (struct vnet_pkt, head segment only; the
 * fields of continuation segments are ignored).  docs/offloads.md has the
 * whole contract; in short (VirtIO 1.2 §5.1.6.2 transmit, §5.1.6.4 receive):
 *
 * Transmit (the application fills, vnet_net_tx_burst checks):
 *   VNET_PKT_F_CSUM_PARTIAL  the device completes the L4 checksum: it sums
 *       from csum_start to the end of the frame and stores the result at
 *       csum_start + csum_offset (the application put the pseudo-header
 *       sum there).  Needs VIRTIO_NET_F_CSUM.  Offsets count from the first
 *       byte of the Ethernet frame across all segments; the 2-byte field
 *       must lie inside the frame.
 *   VNET_PKT_F_GSO  a super-frame the device segments (TSO/USO) or
 *       fragments (UFO): gso_type is one of VNET_PKT_GSO_TCPV4 (HOST_TSO4),
 *       _TCPV6 (HOST_TSO6), _UDP (HOST_UFO), _UDP_L4 (HOST_USO), optionally
 *       | VNET_PKT_GSO_ECN on a TCP type (HOST_ECN: the TCP segment has CWR
 *       set); gso_size is the MSS (payload bytes per segment, >= 1);
 *       hdr_len the bytes of Ethernet+IP+L4 headers to replicate
 *       (csum_start + csum_offset + 2 <= hdr_len < frame length).  A GSO
 *       frame must also be CSUM_PARTIAL (spec: NEEDS_CSUM with any GSO).
 *   A frame is a chain of pool buffers linked through `next`: each
 *   segment's data/len lie inside its own buffer, len >= 1; the header
 *   travels in front of the head's data.  pkt_len and nseg are ignored on
 *   input and set by tx_burst.  At most VNET_NET_TX_SEGS_MAX segments and
 *   VNET_NET_FRAME_MAX bytes; a frame over the device MTU (plus Ethernet
 *   and VLAN header) must be a GSO frame.
 *   Anything else (an offload not negotiated, gso_size 0, hdr_len past the
 *   frame, offsets outside it, an unknown type) is consumed and counted
 *   (tx_drops, tx_errors, tx_bad_offload): never sent.
 *
 * Receive (the driver fills from the device's header, after checking it):
 *   VNET_PKT_F_CSUM_VALID    DATA_VALID: the device validated the checksum.
 *   VNET_PKT_F_CSUM_PARTIAL  NEEDS_CSUM: the packet was validated but its
 *       L4 checksum is only the pseudo-header sum; csum_start/csum_offset
 *       say where (inside the frame).  Both need GUEST_CSUM.
 *   neither                  not checked: verify in software.
 *   VNET_PKT_F_GSO  a coalesced frame (GUEST_TSO4/6, UFO, USO4/6 as
 *       negotiated): gso_type (with ECN only under GUEST_ECN), gso_size
 *       (MSS, >= 1), hdr_len (the device's, <= pkt_len; a hint).  With
 *       CSUM_PARTIAL (the spec's rule) or, tolerated, CSUM_VALID alone.
 *   A header that breaks these rules drops the frame (rx_drops, rx_errors,
 *   and rx_csum_bad or rx_gso_bad).
 */
#define VNET_PKT_F_CSUM_PARTIAL 0x01u
#define VNET_PKT_F_CSUM_VALID   0x02u
#define VNET_PKT_F_GSO          0x04u

/* struct vnet_pkt.gso_type (the header's values, §5.1.6). */
#define VNET_PKT_GSO_NONE   VIRTIO_NET_HDR_GSO_NONE
#define VNET_PKT_GSO_TCPV4  VIRTIO_NET_HDR_GSO_TCPV4
#define VNET_PKT_GSO_UDP    VIRTIO_NET_HDR_GSO_UDP    /* UFO: IP fragmentation */
#define VNET_PKT_GSO_TCPV6  VIRTIO_NET_HDR_GSO_TCPV6
#define VNET_PKT_GSO_UDP_L4 VIRTIO_NET_HDR_GSO_UDP_L4 /* USO: UDP segmentation */
#define VNET_PKT_GSO_ECN    VIRTIO_NET_HDR_GSO_ECN    /* flag, with TCPV4/TCPV6 */

/* Largest frame (Ethernet header included, virtio header not) a GSO
 * super-frame may be in either direction: a 64 KiB IP packet plus
 * Ethernet and VLAN headers. */
#define VNET_NET_FRAME_MAX (65535u + 14u + 4u)
/* Most segments in one transmitted frame. */
#define VNET_NET_TX_SEGS_MAX 64u

struct vnet_pkt {
	uint8_t *data;          /* first byte of the Ethernet frame in this segment */
	uint32_t len;           /* bytes of frame in this segment */
	uint32_t pkt_len;       /* head segment: whole frame length (rx; set by tx_burst) */
	uint32_t room;          /* bytes available from data to the end of the buffer */
	uint16_t flags;         /* VNET_PKT_F_* (head) */
	uint16_t csum_start;    /* CSUM_PARTIAL: offset of the checksummed area in the frame */
	uint16_t csum_offset;   /* CSUM_PARTIAL: checksum field at csum_start + csum_offset */
	uint8_t gso_type;       /* GSO: VNET_PKT_GSO_* */
	uint8_t nseg;           /* head: number of segments (rx; set by tx_burst) */
	uint16_t gso_size;      /* GSO: MSS */
	uint16_t hdr_len;       /* GSO: header bytes replicated in each segment */
	uint16_t queue;         /* rx: queue pair it arrived on */
	struct vnet_pkt *next;  /* next segment (rx: mergeable or big-packet; tx: a chain), NULL at the end */
	/* private to the driver */
	uint64_t iova;          /* device address of the buffer start (header) */
	uint8_t *buf;           /* buffer start (header) */
	uint32_t idx;           /* index in the pool */
	uint32_t owner;         /* ownership marker, checked on free/tx */
	/* control plane (vnet/net_ctrl.h): rx hash report (HASH_REPORT) */
	uint32_t hash;          /* rx: hash_value the device reported (0 without) */
	uint16_t hash_report;   /* rx: VIRTIO_NET_HASH_REPORT_* (NONE without) */
};

enum vnet_net_ring {
	VNET_NET_RING_AUTO = 0, /* packed when offered, split otherwise */
	VNET_NET_RING_SPLIT,
	VNET_NET_RING_PACKED,
};

struct vnet_net_opts {
	uint16_t queue_pairs;      /* wanted pairs; 0 = 1; capped by the device's max (MQ) */
	uint16_t queue_size;       /* 0 = min(device max, 256) */
	enum vnet_net_ring ring;
	bool no_event_idx;         /* decline VIRTIO_F_EVENT_IDX */
	bool no_indirect;          /* decline VIRTIO_F_INDIRECT_DESC */
	bool no_in_order;          /* decline VIRTIO_F_IN_ORDER */
	bool no_mrg_rxbuf;         /* decline VIRTIO_NET_F_MRG_RXBUF */
	bool no_ctrl_vq;           /* decline the control queue (and everything needing it) */
	bool tx_csum;              /* accept VIRTIO_NET_F_CSUM (caller may send CSUM_PARTIAL) */
	bool rx_csum;              /* accept VIRTIO_NET_F_GUEST_CSUM (caller handles CSUM_PARTIAL rx) */
	uint32_t pool_size;        /* packet buffers; 0 = enough to fill every rx queue twice */
	uint32_t buf_size;         /* bytes per buffer incl. header room; 0 = 2048 */
	uint64_t extra_features;   /* further features the caller handles itself */
	uint64_t timeout_ns;       /* bound for device waits; 0 = 1 s */
	const char *name;          /* the device's name in the core's log lines (copied at create,
	                            * at most 15 characters kept); NULL = "vnet0" */
	/* Interrupt routing, the host's policy: the driver asks for the
	 * MSI-X entry of each virtqueue index it sets up (receiveq i = 2i,
	 * transmitq i = 2i + 1, controlq) and of configuration changes
	 * (vq_index == VNET_NET_VQ_CONFIG).  Return VNET_VECTOR_NONE for no
	 * vector (for config: the config vector is then not written).  Called
	 * from create and restart (control path), once per index each time. */
	uint16_t (*vector_of)(void *arg, uint16_t vq_index);
	void *vector_arg;
	/* Repost receive buffers only once at least this many ring slots are
	 * free (capped at a quarter of the ring); 0 or 1 = refill on every
	 * rx_burst, so the device always sees a full ring.  A batch keeps the
	 * driver from rewriting, on every packet, the descriptor and ring
	 * cache lines next to the ones a polling device reads next (with
	 * IN_ORDER the freed slot is the one the device just used): a
	 * round-trip latency gain when the device runs on another core.  The
	 * ring then holds up to batch - 1 fewer buffers. */
	uint16_t rx_refill_batch;
	/* control plane (vnet/net_ctrl.h) */
	bool no_rss;               /* decline VIRTIO_NET_F_RSS (accepted when offered otherwise) */
	bool hash_report;          /* accept VIRTIO_NET_F_HASH_REPORT: 20-byte header, pkt->hash/hash_report */
	bool rx_moderation;        /* software interrupt moderation in vnet_net_poll (docs/control-plane.md) */
	/* GUEST_ANNOUNCE: called from vnet_net_config_changed when the device
	 * asks for an announcement (send gratuitous ARPs now); the driver
	 * sends ANNOUNCE_ACK after it returns.  NULL: only the pending flag
	 * (vnet_net_announce_pending / vnet_net_announce_ack). */
	void (*announce)(void *arg, struct vnet_net *net);
	void *announce_arg;
	/* A front-end that serves the control queue itself (vhost-user, as
	 * DPDK's virtio-user does): with CTRL_VQ negotiated no controlq is
	 * created; every command goes to this function, which applies it
	 * (e.g. VQ_PAIRS_SET as SET_VRING_ENABLE per ring) and returns the
	 * ack (VIRTIO_NET_OK / VIRTIO_NET_ERR); a command-specific result of
	 * rlen bytes goes to result.  Control path, the caller's thread. */
	uint8_t (*ctrl_local)(void *arg, uint8_t class_, uint8_t cmd, const void *data, uint32_t len, void *result,
	                      uint32_t rlen);
	void *ctrl_local_arg;
	/* offloads (docs/offloads.md).  Each asks for a feature; what the
	 * device also offers and the dependency rules (§5.1.3.1) allow is
	 * negotiated (see info.negotiated).  A transmit segmentation option
	 * implies tx_csum, a receive one rx_csum (the spec requires them);
	 * the ECN options need a TSO option of the same direction.  With a
	 * receive GSO option and without MRG_RXBUF the receive queues run in
	 * big-packet mode (§5.1.6.3.1): each posted buffer is a chain of pool
	 * buffers of at least 65601 bytes, so the queue holds fewer frames;
	 * create fails (VNET_EINVAL) if pool_size cannot hold one chain per
	 * queue. */
	bool tx_tso4;              /* VIRTIO_NET_F_HOST_TSO4 */
	bool tx_tso6;              /* VIRTIO_NET_F_HOST_TSO6 */
	bool tx_ecn;               /* VIRTIO_NET_F_HOST_ECN */
	bool tx_ufo;               /* VIRTIO_NET_F_HOST_UFO */
	bool tx_uso;               /* VIRTIO_NET_F_HOST_USO */
	bool rx_tso4;              /* VIRTIO_NET_F_GUEST_TSO4 */
	bool rx_tso6;              /* VIRTIO_NET_F_GUEST_TSO6 */
	bool rx_ecn;               /* VIRTIO_NET_F_GUEST_ECN */
	bool rx_ufo;               /* VIRTIO_NET_F_GUEST_UFO */
	bool rx_uso4;              /* VIRTIO_NET_F_GUEST_USO4 */
	bool rx_uso6;              /* VIRTIO_NET_F_GUEST_USO6 */
	/* A transmitted frame whose descriptors (header + segments) number at
	 * least this goes through an indirect table (one ring slot) when
	 * INDIRECT_DESC was negotiated; shorter ones as a direct chain.
	 * 0 = VNET_NET_TX_INDIRECT_MIN_DEFAULT; single-descriptor frames are
	 * always direct. */
	uint16_t tx_indirect_min;
	/* bounce */
	bool bounce;               /* copy every frame through device-visible bounce buffers (an
	                            * untrusted device, a confidential guest: docs/reliability.md);
	                            * not with big-packet receive (VNET_ENOTSUP at create) */
};

#define VNET_NET_TX_INDIRECT_MIN_DEFAULT 3u

/* vector_of()'s vq_index for the configuration-change vector. */
#define VNET_NET_VQ_CONFIG 0xffffu

/*
 * Buffer accounting of one virtqueue.  A buffer is what VirtIO 1.2 §2.7
 * and §2.8 call one: a descriptor chain made available as a unit (a
 * receive post, which is a chain of pool buffers in big-packet mode; a
 * transmitted frame with all its segments; a control command).  Counted
 * over the life of the device handle, across queue resets, resizes and
 * device resets:
 *   posted     made available to the device
 *   completed  returned used by the device and taken by the driver
 *   reclaimed  taken back without a completion once the device (or the
 *              queue, RING_RESET) was reset: vnet_net_halt/stop, restart,
 *              vnet_net_queue_reset and recovery
 *   leaked     left with a device whose reset did not complete (latched
 *              dead, vnet_net_is_dead): never taken back nor reused
 *   in_flight  with the device now
 * posted == completed + reclaimed + leaked + in_flight holds at any time
 * (vnet_net_vq_acct_balanced), and in_flight is 0 once vnet_net_halt has
 * returned, whether the reset completed (the buffers were reclaimed) or
 * not (they are leaked).  The figures are derived from the virtqueue
 * engine's own counters when read: the data path does no extra work.
 * Units differ from info.leaked_bufs and the recovery counter
 * `reclaimed`, which count pool buffers (a chain counts once per buffer).
 */
struct vnet_net_vq_acct {
	uint64_t posted, completed, reclaimed, leaked, in_flight;
};

static inline bool vnet_net_vq_acct_balanced(const struct vnet_net_vq_acct *a)
{
	return a->posted == a->completed + a->reclaimed + a->leaked + a->in_flight;
}

/*
 * Per queue-pair counters.  Drops and errors answer different questions:
 *   rx_drops  frames the device completed that the driver did not deliver
 *             (every reason: runt, bad header, bad num_buffers, too long),
 *             one per frame as the driver delimits it (a head and the
 *             buffers its num_buffers claimed), so with a well-behaved
 *             device frames completed = rx_packets + rx_drops;
 *   rx_errors device protocol violations seen on this queue (a subset of
 *             the reasons above, plus completions that are not ours);
 *   tx_drops  frames the driver took from the application and freed
 *             without sending (malformed, offload not negotiated), so
 *             frames taken by tx_burst = tx_packets + tx_drops;
 *   tx_errors application errors: those malformed frames and buffers
 *             refused untouched (not owned, multi-segment; they stay the
 *             caller's), plus transmit completions that are not ours.
 */
struct vnet_net_queue_stats {
	uint64_t rx_packets, rx_bytes, rx_drops, rx_errors;
	uint64_t tx_packets, tx_bytes, tx_drops, tx_errors;
	uint64_t rx_kicks, tx_kicks;        /* notifications sent to the device */
	uint64_t rx_interrupts, tx_interrupts; /* counted by the host calling vnet_net_irq_* */
	uint64_t rx_merged;                 /* frames made of more than one buffer */
	uint64_t rx_no_buf;                 /* refill found the pool empty */
	/* Service loop (vnet_net_poll): calls, calls that spent their whole
	 * budget (the host deferred the rest to a later poll), and re-arms
	 * that found work already waiting (lost wake-up avoided). */
	uint64_t polls, poll_budget_exhausted, poll_rearm_races;
	uint64_t rx_missed_notify;          /* vnet_net_rx_missed_check: completions found waiting, notifications
	                                     * armed, no poll for a whole check period (lost interrupts) */
	/* control plane: link gate, interrupt moderation, tx flow control */
	uint64_t tx_link_down;              /* frames refused (left with the caller) while the link was down */
	uint64_t rx_irq_packets;            /* frames received between an interrupt and the re-arm */
	uint64_t moder_held;                /* polls that kept notifications off (rx_moderation): found work, or empty inside the hold */
	uint64_t moder_level;               /* current moderation level (0 = re-arm as soon as drained) */
	uint64_t tx_stops, tx_wakes;        /* queue stopped on a full ring / woken by completions */
	/* offloads.  Transmit: every frame counted in tx_packets is in at most
	 * one of tx_gso/none and may be in tx_csum; tx_bad_offload is the part
	 * of tx_drops refused for their offload metadata or segment chain.
	 * Receive: rx_packets = rx_csum_valid + rx_csum_partial + rx_csum_none;
	 * rx_csum_bad and rx_gso_bad are parts of rx_drops. */
	uint64_t tx_csum;                   /* frames sent CSUM_PARTIAL (device completes the checksum) */
	uint64_t tx_gso, tx_gso_bytes;      /* TSO/USO/UFO super-frames sent, and their frame bytes */
	uint64_t tx_sg;                     /* frames sent as more than one segment */
	uint64_t tx_indirect;               /* frames sent through an indirect table */
	uint64_t tx_bad_offload;            /* dropped: offload metadata or segment chain invalid */
	uint64_t rx_csum_valid;             /* delivered DATA_VALID */
	uint64_t rx_csum_partial;           /* delivered NEEDS_CSUM (validated, checksum to complete) */
	uint64_t rx_csum_none;              /* delivered not checked by the device */
	uint64_t rx_csum_bad;               /* dropped: checksum flags not negotiated or offsets outside the frame */
	uint64_t rx_gso, rx_gso_bytes;      /* coalesced frames delivered, and their frame bytes */
	uint64_t rx_gso_bad;                /* dropped: GSO type not negotiated, gso_size 0, hdr_len past the frame */
	/* buffer accounting of the pair's receiveq and transmitq (struct
	 * vnet_net_vq_acct below; filled in by vnet_net_get_stats) */
	struct vnet_net_vq_acct rx_acct, tx_acct;
};

struct vnet_net_info {
	uint8_t mac[6];
	bool mac_from_device;
	bool link_up;
	uint16_t mtu;
	uint16_t queue_pairs;        /* in use */
	uint16_t max_queue_pairs;    /* device maximum */
	uint16_t queue_size;
	enum vnet_vq_layout layout;
	uint64_t offered;            /* device features */
	uint64_t negotiated;
	uint16_t hdr_len;            /* virtio-net header bytes in use */
	bool ctrl_vq;
	bool dead;                   /* a device reset did not complete (see vnet_net_halt) */
	uint32_t leaked_bufs;        /* buffers left with the dead device */
	uint64_t ctrl_errors;        /* control answers that broke the protocol (timeouts included) */
	/* control plane: link speed (SPEED_DUPLEX) */
	bool speed_known;            /* speed read and <= 0x7fffffff */
	uint32_t speed_mbps;
	uint8_t duplex;              /* VIRTIO_NET_DUPLEX_* */
	/* offloads */
	uint32_t tx_frame_max;       /* largest frame tx_burst can send: VNET_NET_FRAME_MAX, or less when
	                              * tx_segs_max whole buffers hold less (a small queue) */
	uint16_t tx_segs_max;        /* most segments per transmitted frame */
	bool tx_indirect;            /* transmit chains may use indirect tables */
	bool rx_big;                 /* big-packet receive mode (GUEST GSO without MRG_RXBUF) */
	uint32_t rx_buf_bytes;       /* bytes the device may write per posted receive buffer (chain) */
	uint32_t buf_size;           /* bytes per pool buffer as used (opts.buf_size after the driver's growth) */
};

/*
 * Bring the device up: negotiate, read and validate config, create queues,
 * fill the receive queues, DRIVER_OK, and (with MQ) tell the device how many
 * pairs to use.  On failure everything is released, the device is left
 * with FAILED set (or reset), and a negative vnet_err says why (also logged).
 * Virtqueue indices follow the spec (5.1.2): receiveq i = 2i, transmitq
 * i = 2i + 1, controlq = 2 * max_virtqueue_pairs (MQ) or 2.
 */
int vnet_net_create(const struct vnet_transport_ops *ops, void *ctx, const struct vnet_net_opts *opts,
                    struct vnet_net **out);
/*
 * Reset the device, take every buffer back, free everything.  NULL-safe.
 * Returns VNET_OK, or the reset's error (VNET_ETIMEDOUT, a transport
 * error; VNET_EBROKEN if the device was latched dead before) when the
 * device did not confirm the reset: it may then still write the rings and
 * every buffer it held, so that device-visible memory (rings, the buffer
 * pool, the control buffer) is kept allocated for good, its size logged,
 * and only private memory is freed.  The handle is gone either way.
 */
int vnet_net_destroy(struct vnet_net *net);

/*
 * Recovery (device reset, DEVICE_NEEDS_RESET, vhost-user back-end lost).
 * vnet_net_halt: reset the device (a lost vhost-user back-end is reset at
 * once by its transport), take every buffer the device held back into the
 * pool, and reinitialise the rings; *inflight (may be NULL) gets how many
 * buffers were in flight.  Returns VNET_OK, or the reset's error when the
 * reset did not complete (bounded by opts.timeout_ns): the device is then
 * latched dead (vnet_net_is_dead, info.dead): nothing it held is taken
 * back (the buffers are counted in info.leaked_bufs and logged, never
 * reused: the pool count stays short by that many), *inflight is 0, and
 * restart, tx_reclaim and control commands refuse (VNET_EBROKEN / 0);
 * destroy keeps the memory (above).
 * vnet_net_stop: the same, returning only the in-flight count (0 when the
 * reset failed; check vnet_net_is_dead).
 * While stopped, rx_burst returns 0 and tx_burst accepts nothing; packets
 * the application holds stay valid and its own.
 * vnet_net_restart: bring the same device up again on the same transport
 * (after the transport reconnected): probe, negotiate the same features
 * (VNET_ENOTSUP if the device no longer offers one the rings depend on),
 * set the queues up again, refill, DRIVER_OK; VNET_EBROKEN once dead.
 * Context: control path.
 */
int vnet_net_halt(struct vnet_net *net, uint32_t *inflight);
uint32_t vnet_net_stop(struct vnet_net *net);
int vnet_net_restart(struct vnet_net *net);
/*
 * vnet_net_restart_features: restart with a changed feature set (the
 * management layer's feature_set): reset, negotiate `wanted` (the whole
 * set the driver asks for; offered & known & the rules decide), set the
 * queues up again, replay the control state.  The features in
 * VNET_NET_FEATURES_RING_FIXED shape the rings and buffers (layout, event
 * index, in-order, indirect tables, header size, queue indices, MTU and
 * MAC read at create), as do the guest GSO bits without MRG_RXBUF
 * (big-packet receive): wanting a change of any of them is VNET_ENOTSUP
 * and nothing happens.  A device that negotiates such a change anyway is
 * renegotiated with the previous set (VNET_ENOTSUP, running as before).
 * Other errors as vnet_net_restart.  Context: control path.
 */
#define VNET_NET_FEATURES_RING_FIXED                                                       \
	(VNET_BIT(VIRTIO_F_VERSION_1) | VNET_BIT(VIRTIO_F_RING_PACKED) | VNET_BIT(VIRTIO_F_EVENT_IDX) |   \
	 VNET_BIT(VIRTIO_F_IN_ORDER) | VNET_BIT(VIRTIO_F_INDIRECT_DESC) | VNET_BIT(VIRTIO_F_ACCESS_PLATFORM) | \
	 VNET_BIT(VIRTIO_F_NOTIFICATION_DATA) | VNET_BIT(VIRTIO_F_RING_RESET) | VNET_BIT(VIRTIO_F_ANY_LAYOUT) | \
	 VNET_BIT(VIRTIO_NET_F_MRG_RXBUF) | VNET_BIT(VIRTIO_NET_F_HASH_REPORT) | VNET_BIT(VIRTIO_NET_F_CTRL_VQ) | \
	 VNET_BIT(VIRTIO_NET_F_MQ) | VNET_BIT(VIRTIO_NET_F_RSS) | VNET_BIT(VIRTIO_NET_F_MTU) |              \
	 VNET_BIT(VIRTIO_NET_F_MAC))
int vnet_net_restart_features(struct vnet_net *net, uint64_t wanted);
bool vnet_net_is_dead(const struct vnet_net *net);
bool vnet_net_is_running(const struct vnet_net *net);

void vnet_net_get_info(const struct vnet_net *net, struct vnet_net_info *info);
void vnet_net_get_stats(const struct vnet_net *net, uint16_t qp, struct vnet_net_queue_stats *st);
/* Buffer accounting of virtqueue index vq_index (receiveq 2i / transmitq
 * 2i + 1 of any pair the driver created, in use or not, or the controlq).
 * VNET_OK, or VNET_EINVAL (no such queue; *a zeroed). */
int vnet_net_get_vq_acct(const struct vnet_net *net, uint16_t vq_index, struct vnet_net_vq_acct *a);
/* Virtqueue of queue pair qp (rx or tx) or the control queue, for stats/debug. */
struct vnet_vq *vnet_net_rxq(const struct vnet_net *net, uint16_t qp);
struct vnet_vq *vnet_net_txq(const struct vnet_net *net, uint16_t qp);
struct vnet_vq *vnet_net_ctrlq(const struct vnet_net *net);

/* Pool. alloc returns NULL when empty.  free takes a whole chain (next).
 * alloc_bulk: n buffers into pkts[0..n), all or none (returns n, or 0 when
 * fewer than n are free or net/pkts is NULL); each as alloc would give it. */
struct vnet_pkt *vnet_net_pkt_alloc(struct vnet_net *net);
unsigned vnet_net_pkt_alloc_bulk(struct vnet_net *net, struct vnet_pkt **pkts, unsigned n);
void vnet_net_pkt_free(struct vnet_net *net, struct vnet_pkt *pkt);
uint32_t vnet_net_pool_free_count(const struct vnet_net *net);

/*
 * Chains (offloads, docs/offloads.md).  alloc_chain: enough pool buffers
 * for a frame of len bytes (1..VNET_NET_FRAME_MAX), linked through next,
 * each segment's len set (the head from its default data offset, further
 * segments from the start of their buffer) and pkt_len/nseg on the head;
 * NULL (nothing taken) if len is out of range, the pool is short or more
 * than VNET_NET_TX_SEGS_MAX segments would be needed.  copy_in / copy_out
 * copy len bytes to / from the frame a chain carries, starting at frame
 * offset off (the segments' len, not room, bound it); they return the
 * bytes copied (less when the chain is shorter).  Not for the hot path of
 * small frames; no locking (the pool rule above).
 */
struct vnet_pkt *vnet_net_pkt_alloc_chain(struct vnet_net *net, uint32_t len);
uint32_t vnet_net_pkt_copy_in(struct vnet_pkt *pkt, uint32_t off, const void *src, uint32_t len);
uint32_t vnet_net_pkt_copy_out(const struct vnet_pkt *pkt, uint32_t off, void *dst, uint32_t len);

/*
 * Receive up to n frames from queue pair qp into pkts[]; refills the ring.
 * Returns the number received (0..n).  Frames with a bad header or length
 * are dropped and counted (rx_errors / rx_drops), never returned.
 */
unsigned vnet_net_rx_burst(struct vnet_net *net, uint16_t qp, struct vnet_pkt **pkts, unsigned n);

/*
 * Transmit up to n frames (a head with data/len set and optionally a chain
 * of segments through next, offload fields per flags; see the offload
 * contract above).  Reclaims completed transmissions (before posting if the ring
 * may lack room for the burst, after notifying otherwise).  Returns how many of the
 * first frames the driver took: each was either posted to the device, or —
 * if malformed (a segment of length 0 or past its buffer, too many
 * segments or bytes, offload metadata that breaks the contract above) —
 * freed back to the pool (the whole chain) and counted in tx_drops and
 * tx_errors (and tx_bad_offload), so one bad frame cannot stall the
 * queue.  Frames from the returned count on still belong to the caller
 * (ring full, or a frame with a buffer the caller does not own, which is
 * refused untouched and counted).  Returns 0 while stopped.
 */
unsigned vnet_net_tx_burst(struct vnet_net *net, uint16_t qp, struct vnet_pkt **pkts, unsigned n);

/* Reclaim completed transmit buffers without sending (e.g. from a tx interrupt). */
unsigned vnet_net_tx_reclaim(struct vnet_net *net, uint16_t qp);

/*
 * Interrupt-mode helpers.  enable returns false if work arrived in the
 * meantime (poll again before sleeping).  The host calls *_irq when it
 * takes an interrupt for that queue (counted in stats; rx_irq also
 * disables the receive queue's notifications until vnet_net_poll()
 * re-arms them).
 */
bool vnet_net_rx_intr_enable(struct vnet_net *net, uint16_t qp);
void vnet_net_rx_intr_disable(struct vnet_net *net, uint16_t qp);
void vnet_net_rx_irq(struct vnet_net *net, uint16_t qp);
void vnet_net_tx_irq(struct vnet_net *net, uint16_t qp);

/*
 * Lost-notification check of receive queue qp, for hosts that sleep on
 * interrupts: call it periodically (the Orion kernel: every 10 ms tick).  True
 * when, at this call and at the previous one, the queue had used-buffer
 * notifications armed and completions waiting (vnet_vq_get_ring_state),
 * and no vnet_net_poll() ran in between: the device (or the platform's
 * interrupt path) did not deliver the notification it owed (VirtIO 1.2
 * §2.7.10 / §2.8.10; the driver's side of the race is closed by the
 * re-arm re-check).  Counted in rx_missed_notify.  The host then services
 * the pair as if the interrupt had come (vnet_net_rx_irq + vnet_net_poll),
 * so a lost interrupt costs one check period instead of the queue.
 * Never true in poll mode (notifications off) or while the host owes the
 * queue a poll (rx_irq disabled them).  Serialised like vnet_net_poll().
 */
bool vnet_net_rx_missed_check(struct vnet_net *net, uint16_t qp);

/*
 * Host-neutral service loop (NAPI-like), one queue pair per call.
 *
 * Receives at most `budget` frames from queue pair qp and hands each to
 * fn(arg, pkt) (ownership passes to fn: it must vnet_net_pkt_free() the
 * chain or keep it), then reclaims completed transmissions.
 *   - Fewer than `budget` frames and flags without VNET_NET_POLL_NO_REARM:
 *     the ring looked empty, so used-buffer notifications of the receive
 *     queue are re-enabled; if work arrived in the meantime (the
 *     lost-wake-up re-check of vnet_vq_enable_cb) they are disabled again
 *     and *more is set: call again before sleeping.
 *   - `budget` frames processed: notifications stay disabled, *more is set,
 *     poll_budget_exhausted is counted; the host defers the rest to a later
 *     call (its poll loop, a softirq, the next service()) so one queue
 *     cannot keep an interrupt handler from returning.
 *   - VNET_NET_POLL_NO_REARM (poll mode): notifications are left as they are.
 * An interrupt handler calls vnet_net_rx_irq() (counts it and disables the
 * queue's notifications), then vnet_net_poll().  Returns the frames handed
 * to fn.  0 with *more false when stopped, qp is out of range or fn is
 * NULL (more may be NULL).  budget 0 only reclaims transmissions and
 * reports *more (the ring was not looked at).
 * Context: the queue pair's owner (see Concurrency above); no allocation,
 * no logging, never sleeps.
 */
typedef void (*vnet_net_rx_fn)(void *arg, struct vnet_pkt *pkt);
#define VNET_NET_POLL_NO_REARM 0x1u
unsigned vnet_net_poll(struct vnet_net *net, uint16_t qp, unsigned budget, unsigned flags, vnet_net_rx_fn fn,
                       void *arg, bool *more);

/* Configuration-change interrupt: re-read link status (and announce). */
void vnet_net_config_changed(struct vnet_net *net);

/*
 * Control queue (VIRTIO_NET_F_CTRL_VQ) command, synchronous and bounded by
 * opts.timeout_ns: class/cmd and an optional device-readable payload
 * (<= 1024 bytes).  Returns VNET_OK (device acked VIRTIO_NET_OK), VNET_EIO
 * (device said VIRTIO_NET_ERR), VNET_ENOTSUP (no control queue),
 * VNET_ETIMEDOUT (no answer: the control queue is latched broken, the
 * command buffer stays with the device until reset), VNET_EPROTO (the
 * device completed the command without a valid ack: none written, used
 * length 0, or a value that is neither OK nor ERR), VNET_EBROKEN (the
 * answer broke the ring protocol, or the queue or device was latched
 * broken/dead before).  Each device fault counts in info.ctrl_errors.
 */
int vnet_net_ctrl_cmd(struct vnet_net *net, uint8_t class_, uint8_t cmd, const void *data, uint32_t len);
/* Promiscuous mode (VIRTIO_NET_F_CTRL_RX). */
int vnet_net_set_promisc(struct vnet_net *net, bool on);
/* Queue pairs in use (VIRTIO_NET_F_MQ), 1..max_queue_pairs. */
int vnet_net_set_queue_pairs(struct vnet_net *net, uint16_t pairs);

/* Virtio device core of this net device (for transports/hosts that need
 * status or config reads). */
struct vnet_device *vnet_net_device(struct vnet_net *net);

/*
 * Performance monitor: sampled latency histograms (src/net/net_stats.c).
 * Off by default.  vnet_net_set_latency_sampling(net, shift) with shift
 * 0..16 times one transmit burst and one receive interrupt in 2^shift on
 * every queue pair; a negative shift turns sampling off (the histograms
 * are kept).  Bucket b counts samples of v ns with floor(log2(v)) == b
 * (b 0 also holds 0 ns; the last bucket everything from 2^31 ns on).
 *   tx: end of tx_burst's post loop -> the reclaim that takes the
 *       sampled frame's completion (the burst's last posted frame);
 *   rx: vnet_net_rx_irq() -> the first frame vnet_net_poll() hands to fn
 *       (no samples in pure poll mode: there is no interrupt).
 * Context: the queue pair's owner (get may race with it and read a torn
 * histogram, each counter 64-bit).
 */
#define VNET_NET_LAT_BUCKETS 32
struct vnet_net_latency {
	uint64_t tx[VNET_NET_LAT_BUCKETS];
	uint64_t rx[VNET_NET_LAT_BUCKETS];
	bool sampling;
	uint8_t shift;
};
int vnet_net_set_latency_sampling(struct vnet_net *net, int shift);
void vnet_net_get_latency(const struct vnet_net *net, uint16_t qp, struct vnet_net_latency *lat);
/* Bucket of a value, and the p-th quantile (p in 1/10000: 5000 = p50,
 * 9900 = p99, 9990 = p99.9) of a histogram as the upper edge of its bucket
 * in ns (2^(b+1); bucket resolution: the true value lies in
 * [edge/2, edge)).  0 when the histogram is empty; *samples (may be NULL)
 * gets the sample count. */
unsigned vnet_net_lat_bucket(uint64_t ns);
uint64_t vnet_net_lat_quantile(const uint64_t *hist, unsigned p10000, uint64_t *samples);

#endif
