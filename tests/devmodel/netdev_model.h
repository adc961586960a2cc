/*
 * virtio-net device model for unit tests of src/net: a network
 * device (spec 5.1) on top of the fake transport, playing the device side
 * of every receiveq/transmitq/controlq the driver sets up.
 *
 * What it does:
 *  - offers a chosen feature set and a config space (mac, status with
 *    LINK_UP, max_virtqueue_pairs, mtu: spec 5.1.4), all changeable before
 *    the driver comes up, including values the spec forbids;
 *  - learns ring addresses and sizes by wrapping the transport's
 *    setup_queue, forgets them on device reset, and walks the split
 *    (spec 2.7) and packed (spec 2.8) rings itself through
 *    fake_hal_iova_to_va(), so any address the driver hands out that is
 *    not live DMA memory is a recorded violation;
 *  - transmitq: ndm_poll() consumes every posted frame, strips the
 *    virtio_net_hdr (spec 5.1.6.2), records header and frame bytes for the
 *    test, and completes the buffer with used length 0;
 *  - receiveq: ndm_rx_inject() writes a frame with a header the test
 *    controls into posted receive buffers, spreading it over several
 *    buffers with num_buffers when MRG_RXBUF is negotiated (spec 5.1.6.4),
 *    and lets the test lie in every field (num_buffers, flags, csum
 *    offsets, gso_type, used length);
 *  - controlq: answered synchronously from the doorbell (the driver waits
 *    for it in a busy loop) with VIRTIO_NET_OK, VIRTIO_NET_ERR, or never
 *    (spec 5.1.6.5), or with a lie (ctrl_lie: no ack written, an ack that
 *    is neither, used length 0, a used id that is not the command's);
 *    every command is recorded;
 *  - reset: the fake transport's switches (reset_never_completes,
 *    reset_delay_polls) make a reset never complete or complete only
 *    after N status reads.
 * What it does not: interrupts (it only reports whether the driver asks
 * for the next one: ndm_rx_irq_armed), event suppression beyond asking for
 * every doorbell, indirect descriptors on the receive side, threads.
 * Everything is synchronous; one test thread drives it.
 */
#ifndef VNET_TEST_NETDEV_MODEL_H
#define VNET_TEST_NETDEV_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "fake_transport.h"
#include "vnet/spec/virtio_net.h"
#include "vnet/transport.h"

#define NDM_FRAME_MAX 65600u  /* largest frame the model records or injects (a 64 KiB GSO frame) */
#define NDM_TX_MAX 256u       /* recorded tx frames (later ones only counted) */
#define NDM_CTRL_MAX 32u      /* recorded control commands */
#define NDM_RX_SEG_MAX 64u    /* buffers one injected frame may span */
#define NDM_ID_OF_HEAD 0xffffu
#define NDM_CTRL_DATA 1024u   /* command data bytes the model reads and records */
#define NDM_MAC_MAX 64u       /* MAC table entries the model accepts per list */
#define NDM_INDIR_MAX 256u    /* RSS indirection entries the model accepts */
#define NDM_COAL_VQ 64u       /* virtqueues with per-queue coalescing */

enum ndm_ctrl_mode {
	NDM_CTRL_OK = 0,  /* ack VIRTIO_NET_OK */
	NDM_CTRL_ERR,     /* ack VIRTIO_NET_ERR */
	NDM_CTRL_SILENT,  /* consume the command, never complete it */
};

/* Lies in control-queue answers (second hardening round), on top of
 * ctrl_mode OK/ERR: applied to every command until changed. */
enum ndm_ctrl_lie {
	NDM_CTRL_LIE_NONE = 0,
	NDM_CTRL_LIE_NO_ACK,    /* complete with used length 1, ack byte never written */
	NDM_CTRL_LIE_ACK_VALUE, /* write ctrl_lie_ack (neither OK nor ERR) as the ack */
	NDM_CTRL_LIE_LEN0,      /* write the ack but report used length 0 */
	NDM_CTRL_LIE_BAD_ID,    /* complete with a used id that is not the command's (size + 1) */
	NDM_CTRL_LIE_SHORT,     /* used length one short of result + ack (a short ack) */
	NDM_CTRL_LIE_LONG,      /* used length 8 past the writable bytes (a wrong-length answer) */
};

/* Device-side control state (ndm_ctrl_serve), what a command left behind
 * as QEMU's device would keep it; zeroed at init only (a test that resets
 * the device clears it with memset to check a replay). */
struct ndm_ctrl_dev {
	uint8_t rx[6];              /* CTRL_RX command values (PROMISC .. NOBCAST) */
	uint32_t n_uc, n_mc;
	uint8_t uc[NDM_MAC_MAX][6], mc[NDM_MAC_MAX][6];
	unsigned tables;            /* TABLE_SET accepted */
	uint8_t mac[6];             /* last ADDR_SET */
	uint8_t vlan[4096 / 8];
	uint64_t offloads;
	uint16_t pairs;             /* VQ_PAIRS_SET */
	bool rss_on;                /* RSS_CONFIG in force (VQ_PAIRS_SET turns it off) */
	uint32_t hash_types;
	uint16_t indir_len, unclassified, max_tx_vq;
	uint16_t indir[NDM_INDIR_MAX];
	uint8_t key_len, key[255];
	unsigned hash_configs;      /* RSS_CONFIG / HASH_CONFIG accepted */
	uint32_t coal[NDM_COAL_VQ][2]; /* per vq: usecs, packets */
	unsigned announce_acks;
	unsigned malformed;         /* commands answered ERR as malformed or not negotiated */
};

struct ndm_tx_frame {
	uint16_t qp;
	struct virtio_net_hdr hdr;  /* as the driver wrote it (little-endian fields) */
	uint32_t len;               /* frame bytes after the header */
	uint16_t ndesc;             /* ring descriptors the chain took (1 with an indirect table) */
	uint16_t nseg;              /* data segments (descriptors, direct or in the table) */
	bool indirect;              /* went through an indirect table */
	uint8_t *data;              /* [NDM_FRAME_MAX], allocated on first use (ndm_fini frees) */
};

struct ndm_ctrl_rec {
	uint8_t class_, cmd;
	uint32_t len;               /* command-specific data bytes */
	uint8_t data[NDM_CTRL_DATA];
	uint8_t ack;                /* what the model answered (0xff: nothing) */
};

/* How one injected frame is presented (all fields in CPU order). */
struct ndm_rx {
	uint8_t flags;              /* VIRTIO_NET_HDR_F_* */
	uint8_t gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
	bool set_num_buffers;       /* write num_buffers as given, not the true count */
	uint16_t num_buffers;
	uint32_t chunk;             /* at most this many bytes per buffer incl. the header (0: fill) */
	bool set_used_len;          /* report used_len for the first buffer instead of the true one */
	uint32_t used_len;
	/* Lies on a later buffer of a merged frame (second hardening round):
	 * buffer seg (1 .. buffers used - 1) is reported with used length
	 * seg_len (set_seg_len) and/or with used id seg_id instead of its own
	 * (set_seg_id: split used id / packed buffer id); seg_hdr writes a
	 * header-looking prefix with num_buffers = seg_nbufs at the start of
	 * buffer seg (frame bytes there, which the driver must not parse). */
	uint16_t seg;
	bool set_seg_len;
	uint32_t seg_len;
	bool set_seg_id;
	uint16_t seg_id;            /* NDM_ID_OF_HEAD: the id of the frame's first buffer */
	bool seg_hdr;
	uint16_t seg_nbufs;
	/* HASH_REPORT negotiated: the 20-byte header carries these */
	uint32_t hash_value;
	uint16_t hash_report;
};

struct ndm_vq;

struct netdev_model {
	struct fake_transport ft;   /* first: the transport ctx is &m->ft */
	struct vnet_transport_ops ops;
	enum ndm_ctrl_mode ctrl_mode;
	enum ndm_ctrl_lie ctrl_lie;
	uint8_t ctrl_lie_ack;       /* NDM_CTRL_LIE_ACK_VALUE */
	bool tx_hold;               /* ndm_poll leaves transmit buffers posted */
	struct ndm_vq *vq;          /* [FT_MAX_QUEUES] device-side ring state */
	/* records */
	struct ndm_tx_frame *tx;    /* [NDM_TX_MAX] */
	unsigned ntx;               /* frames recorded (<= NDM_TX_MAX) */
	uint64_t tx_total;          /* frames consumed */
	struct ndm_ctrl_dev cdev;   /* device-side control state */
	uint32_t ctrl_err_classes;  /* bit per class: answer VIRTIO_NET_ERR (a device that refuses it) */
	uint8_t rss_max_key;        /* what RSS_CONFIG/HASH_CONFIG accept (ndm_set_rss_caps) */
	uint16_t rss_max_indir;
	uint32_t rss_types;
	struct ndm_ctrl_rec ctrl[NDM_CTRL_MAX];
	unsigned nctrl;
	uint64_t ctrl_total;
	/* Offloads (transmit header checks, ndm_tx_check_hdr): frames with
	 * NEEDS_CSUM, GSO super-frames and the wire segments they make. */
	uint64_t tx_csum, tx_gso, tx_gso_segs;
	unsigned violations;        /* driver bugs seen by the model */
	char last_violation[200];
	/* Recovery (ndm_recover_* in netdev_model.c): with reset_forgets the
	 * device forgets its control state on a device reset as QEMU does
	 * (cdev zeroed, config mac back to perm_mac); queue resets seen. */
	bool reset_forgets;
	uint8_t perm_mac[6];        /* ndm_init's mac */
	unsigned queue_resets;      /* queue resets completed (RING_RESET) */
	unsigned device_resets;     /* device resets started */
	/* Buffer counts per virtqueue index over the model's life (ndm_vq_count):
	 * completions written by rings already forgotten, and buffers those
	 * rings held when they were forgotten. */
	uint64_t vq_used_past[FT_MAX_QUEUES];
	uint64_t vq_dropped[FT_MAX_QUEUES];
};

/*
 * Set up a device: offers `offered` (VNET_BIT() mask), max_pairs queue
 * pairs (config max_virtqueue_pairs, also when MQ is not offered) plus the
 * control queue, every queue of max size qmax; mac 52:54:00:12:34:56,
 * status LINK_UP, mtu 1500.  Returns 0, or -1 if out of memory.
 */
int ndm_init(struct netdev_model *m, uint64_t offered, uint16_t max_pairs, uint16_t qmax);
void ndm_fini(struct netdev_model *m);

/* The transport to hand to vnet_net_create(ops, ctx, ...). */
static inline const struct vnet_transport_ops *ndm_ops(struct netdev_model *m)
{
	return &m->ops;
}
static inline void *ndm_ctx(struct netdev_model *m)
{
	return &m->ft;
}

/* Config space writers (raw values: anything goes, as a lying device). */
void ndm_set_mac(struct netdev_model *m, const uint8_t mac[6]);
void ndm_set_status(struct netdev_model *m, uint16_t status);
void ndm_set_max_pairs(struct netdev_model *m, uint16_t pairs);
void ndm_set_mtu(struct netdev_model *m, uint16_t mtu);

/* RSS/hash capabilities in config (rss_max_key_size,
 * rss_max_indirection_table_length, supported_hash_types; spec 5.1.4),
 * also what the model accepts.  ndm_init sets 40, 128, 0x3f. */
void ndm_set_rss_caps(struct netdev_model *m, uint8_t max_key, uint16_t max_indir, uint32_t types);
/* config speed (Mb/s) and duplex (SPEED_DUPLEX). */
void ndm_set_speed(struct netdev_model *m, uint32_t speed, uint8_t duplex);

/* Negotiated features as the device saw them (0 before FEATURES_OK). */
uint64_t ndm_features(const struct netdev_model *m);

/* Process transmit queues: consume and record every posted frame, complete
 * them (unless tx_hold).  Returns frames consumed. */
unsigned ndm_poll(struct netdev_model *m);

/*
 * Offload half of the transmit side (called by ndm_poll for every frame):
 * checks the header the driver wrote against the negotiated features and
 * the frame (VirtIO 1.2 §5.1.6.2.1: num_buffers 0; flags only NEEDS_CSUM,
 * only with CSUM, the checksum field inside the frame; a GSO type only
 * when its HOST_ feature was negotiated, ECN only with HOST_ECN on TCP,
 * NEEDS_CSUM and gso_size with every GSO frame, hdr_len inside the frame,
 * a GSO frame at most 65535 + 18 bytes); each breach is a violation.
 * Counts tx_csum, tx_gso and the wire segments (ndm_gso_segments).
 */
void ndm_tx_check_hdr(struct netdev_model *m, const struct ndm_tx_frame *t);
/* Wire segments a GSO frame makes: ceil((len - hdr_len) / gso_size), 1
 * without GSO. */
uint32_t ndm_gso_segments(const struct ndm_tx_frame *t);

/* Receive buffers the driver has posted on receiveq qp and the model has
 * not used yet. */
unsigned ndm_rx_avail(struct netdev_model *m, uint16_t qp);

/*
 * Write one frame into receive buffers of queue pair qp and complete them.
 * opt NULL: a plain header (no flags, GSO_NONE, num_buffers = buffers
 * used).  Without MRG_RXBUF the frame must fit one buffer.
 * Returns the number of buffers used (>= 1), or -1 if the queue is not live,
 * there are not enough posted buffers, or the frame does not fit.
 */
int ndm_rx_inject(struct netdev_model *m, uint16_t qp, const void *frame, uint32_t len, const struct ndm_rx *opt);

/* A device that rewrites a receive buffer after completing it: write n
 * bytes at offset off (0 = the first header byte) of the first buffer of
 * the last frame ndm_rx_inject completed, through the address the driver
 * posted.  Returns 0, or -1 if there is no such frame or it would not fit. */
int ndm_rx_rewrite_last(struct netdev_model *m, uint32_t off, const void *bytes, uint32_t n);

/* True if the driver's used-buffer notification suppression (avail flags
 * or used_event, packed driver event suppression) asks the device to
 * notify when it completes the next receive buffer of queue pair qp. */
bool ndm_rx_irq_armed(struct netdev_model *m, uint16_t qp);

/* Recovery faults.  ndm_break_queue: complete a used entry with an id
 * outside the ring on virtqueue index (split and packed), so the driver's
 * engine latches it broken; -1 if the queue is not live. */
int ndm_break_queue(struct netdev_model *m, uint16_t index);

/* Buffers (descriptor chains) of virtqueue index as the device saw them,
 * over the model's life, device and queue resets included: the driver's
 * accounting (struct vnet_net_vq_acct) is checked against these.
 *   used     completions the device wrote (ndm_break_queue's entry for no
 *            buffer is not one)
 *   dropped  buffers the device held when it forgot the ring (device reset
 *            started, queue reset completed, the queue set up again)
 *   held     buffers made available and not completed, now (consumed and
 *            kept, e.g. a silent controlq, or not consumed yet, e.g. posted
 *            receive buffers, transmit buffers under tx_hold)
 * Every buffer the driver made visible is in exactly one of them. */
struct ndm_vq_count {
	uint64_t used, dropped;
	uint32_t held;
};
void ndm_vq_count(struct netdev_model *m, uint16_t index, struct ndm_vq_count *c);

/* Control commands answered and recorded, with a given class/cmd. */
unsigned ndm_ctrl_count(const struct netdev_model *m, uint8_t class_, uint8_t cmd);
/* Last recorded command of class/cmd, or NULL. */
const struct ndm_ctrl_rec *ndm_ctrl_last(const struct netdev_model *m, uint8_t class_, uint8_t cmd);

#endif
