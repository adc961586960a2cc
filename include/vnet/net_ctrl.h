/*
 * orion-vnet control plane of a virtio-net device (VirtIO 1.2 §5.1.6.5):
 * every control-queue class the driver speaks, the link view
 * (STATUS, SPEED_DUPLEX, ANNOUNCE), the Toeplitz hash shared by RSS and
 * TX steering, and the state the driver keeps so a reset can replay it.
 *
 * Every setter:
 *  - checks that its feature was negotiated (VNET_ENOTSUP otherwise: the
 *    spec forbids sending the command) and its arguments (VNET_EINVAL);
 *  - sends one synchronous command, bounded by opts.timeout_ns
 *    (vnet_net_ctrl_cmd in vnet/net.h: its return values apply);
 *  - on VNET_OK records the new state (vnet_net_ctrl_replay sends it
 *    again after a restart); on any failure the recorded state is the
 *    one before the call, and vnet_net_ctrl_last_error() names the class,
 *    the command, the ack byte and the error (also logged).
 * Context: control path (may busy-wait, bounded); the caller serialises
 * control calls with each other; they may run while other threads use
 * the data path (the state touched by the data path is only read there).
 */
#ifndef VNET_NET_CTRL_H
#define VNET_NET_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

/* ------------------------------------------------------------ RX mode (§5.1.6.5.1) */

/* The six CTRL_RX commands; values are the spec's command numbers.
 * PROMISC, ALLMULTI need CTRL_RX; the others CTRL_RX_EXTRA. */
enum vnet_net_rx_mode {
	VNET_NET_RX_PROMISC = 0,
	VNET_NET_RX_ALLMULTI = 1,
	VNET_NET_RX_ALLUNI = 2,
	VNET_NET_RX_NOMULTI = 3,
	VNET_NET_RX_NOUNI = 4,
	VNET_NET_RX_NOBCAST = 5,
};
#define VNET_NET_RX_MODES 6u

int vnet_net_set_rx_mode(struct vnet_net *net, enum vnet_net_rx_mode mode, bool on);
/* What the driver asked for (not counting the overflow fallback below). */
bool vnet_net_get_rx_mode(const struct vnet_net *net, enum vnet_net_rx_mode mode);

/* ------------------------------------------------------------ MAC filter (§5.1.6.5.2) */

/* The driver's limit per table.  A longer list is not an error: the
 * table is sent empty and the device is put in promiscuous (unicast list)
 * or all-multicast (multicast list) mode instead, as Linux does; the
 * fallback is undone when a later list fits (unless the user asked for
 * that mode himself).  vnet_net_mac_filter_state() reports it. */
#define VNET_NET_MAC_TABLE_MAX 32u

/* uc: unicast addresses (group bit clear), mc: multicast (group bit set);
 * either count may be 0 (then its array may be NULL).  Needs CTRL_RX. */
int vnet_net_set_mac_table(struct vnet_net *net, const uint8_t (*uc)[6], uint32_t n_uc, const uint8_t (*mc)[6],
                           uint32_t n_mc);
struct vnet_net_mac_filter_state {
	uint32_t n_uc, n_mc;      /* entries the device has (0 when overflowed) */
	bool uc_overflow;         /* unicast list too long: promisc forced on */
	bool mc_overflow;         /* multicast list too long: allmulti forced on */
};
void vnet_net_mac_filter_state(const struct vnet_net *net, struct vnet_net_mac_filter_state *st);

/* Default MAC at runtime (MAC_ADDR_SET, needs CTRL_MAC_ADDR): the device
 * updates config.mac before acking (spec 5.1.6.5.2); info.mac follows. */
int vnet_net_set_mac(struct vnet_net *net, const uint8_t mac[6]);

/* ------------------------------------------------------------ VLAN filter (§5.1.6.5.3) */

/* vid 0..4095; needs CTRL_VLAN.  Adding a present id or deleting an
 * absent one still sends the command (the device is the judge). */
int vnet_net_vlan_add(struct vnet_net *net, uint16_t vid);
int vnet_net_vlan_del(struct vnet_net *net, uint16_t vid);
bool vnet_net_vlan_present(const struct vnet_net *net, uint16_t vid);

/* ------------------------------------------------------------ guest offloads (§5.1.6.5.8) */

/* Receive offloads the device may use from now on: a mask of GUEST_*
 * feature bits (VNET_BIT(VIRTIO_NET_F_GUEST_CSUM) ...), each of which must
 * have been negotiated (VNET_EINVAL otherwise, spec: MUST NOT enable an
 * offload not negotiated).  Needs CTRL_GUEST_OFFLOADS. */
int vnet_net_set_guest_offloads(struct vnet_net *net, uint64_t offloads);
uint64_t vnet_net_get_guest_offloads(const struct vnet_net *net);

/* ------------------------------------------------------------ announce (§5.1.6.5.4) */

/* With GUEST_ANNOUNCE, a config change with VIRTIO_NET_S_ANNOUNCE
 * (vnet_net_config_changed) calls opts.announce (control-plane block of
 * vnet_net_opts) and then sends ANNOUNCE_ACK; without a callback it only
 * sets the pending flag, and the host sends its gratuitous ARPs and then
 * calls vnet_net_announce_ack().  The spec's order: announce, then ack. */
bool vnet_net_announce_pending(const struct vnet_net *net);
int vnet_net_announce_ack(struct vnet_net *net);

/* ------------------------------------------------------------ RSS and hash (§5.1.6.5.6-7, §5.1.6.4.3) */

#define VNET_NET_RSS_KEY_MAX 64u     /* bytes; devices offer >= 40 */
#define VNET_NET_RSS_INDIR_MAX 256u  /* entries; devices offer >= 128 */
#define VNET_NET_RSS_KEY_DEFAULT_LEN 40u

struct vnet_net_rss {
	uint32_t hash_types;               /* VIRTIO_NET_HASH_TYPE_*; 0 = hashing off */
	uint16_t indir_len;                /* power of two, <= device max and VNET_NET_RSS_INDIR_MAX */
	uint16_t unclassified;             /* receive queue (pair number) for unhashed packets */
	uint16_t indir[VNET_NET_RSS_INDIR_MAX]; /* receive queue (pair number) per entry, < pairs in use */
	uint8_t key_len;                   /* bytes, <= device rss_max_key_size */
	uint8_t key[VNET_NET_RSS_KEY_MAX];
};

/* What the device offers (from config space; zero without RSS /
 * HASH_REPORT). */
struct vnet_net_rss_caps {
	bool rss;                          /* RSS negotiated: RSS_CONFIG */
	bool hash_report;                  /* HASH_REPORT negotiated: per-packet hash */
	uint8_t max_key_len;
	uint16_t max_indir_len;
	uint32_t hash_types;               /* supported_hash_types */
};
void vnet_net_rss_get_caps(const struct vnet_net *net, struct vnet_net_rss_caps *caps);

/* A configuration spreading the pairs in use round-robin over
 * min(128, device max) entries, the built-in 40-byte key and every
 * supported IPv4/IPv6 TCP/UDP/IP hash type. */
void vnet_net_rss_default(const struct vnet_net *net, struct vnet_net_rss *cfg);
/* With RSS: RSS_CONFIG (steering and hash).  With HASH_REPORT only:
 * HASH_CONFIG (hash calculation; indirection fields ignored).  The
 * recorded configuration is also what TX steering hashes with. */
int vnet_net_set_rss(struct vnet_net *net, const struct vnet_net_rss *cfg);
/* The recorded configuration; VNET_ENOTSUP-like false when none was set. */
bool vnet_net_get_rss(const struct vnet_net *net, struct vnet_net_rss *cfg);

/* Toeplitz hash (Microsoft RSS spec, as VirtIO 1.2 §5.1.6.4.3 uses it)
 * of n input bytes with a key of key_len bytes (key_len >= n + 4). */
uint32_t vnet_net_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *in, size_t n);
/* Hash of an Ethernet frame as the device computes it (§5.1.6.4.3.1:
 * the most specific enabled type among TCP/UDP over IPv4/IPv6, then IP;
 * no extension headers) with the given key and hash types; *report gets
 * the VIRTIO_NET_HASH_REPORT_* value (NONE and hash 0 when no type
 * applies).  Frames with one 802.1Q tag are looked through. */
uint32_t vnet_net_frame_hash(const uint8_t *key, size_t key_len, uint32_t hash_types, const void *frame,
                             uint32_t len, uint16_t *report);
/* TX queue for a frame: the pair the device's RSS puts the flow's
 * replies on — the hash of the frame's tuple reversed (source and
 * destination addresses and ports swapped: Toeplitz is not symmetric),
 * with the recorded RSS key and types (else the default ones), through
 * the indirection table (or modulo the pairs in use) — so requests and
 * replies share a pair. */
uint16_t vnet_net_tx_pick(const struct vnet_net *net, const void *frame, uint32_t len);
/* Flow control: true while queue pair qp is stopped — a tx_burst was cut
 * short by a full ring; completions reclaimed later (the next tx_burst,
 * vnet_net_poll) wake it.  Counted in stats tx_stops / tx_wakes.  A host
 * holds that pair's traffic while stopped instead of retrying. */
bool vnet_net_tx_stopped(const struct vnet_net *net, uint16_t qp);

/* ------------------------------------------------------------ coalescing (§5.1.6.5.9) */

struct vnet_net_coal {
	uint32_t max_usecs;
	uint32_t max_packets;
};
/* NOTF_COAL: every transmit (tx true) or receive queue. */
int vnet_net_set_coal(struct vnet_net *net, bool tx, const struct vnet_net_coal *c);
/* VQ_NOTF_COAL: one enabled virtqueue by index (receiveq i = 2i, transmitq 2i + 1). */
int vnet_net_set_vq_coal(struct vnet_net *net, uint16_t vq_index, const struct vnet_net_coal *c);
/* VQ_NOTF_COAL_VQ_GET: what the device reports (ignored on ERR, spec). */
int vnet_net_get_vq_coal(struct vnet_net *net, uint16_t vq_index, struct vnet_net_coal *c);

/* ------------------------------------------------------------ link (§5.1.4) */

struct vnet_net_link {
	bool up;                 /* STATUS LINK_UP (always true without STATUS) */
	bool speed_known;        /* SPEED_DUPLEX negotiated and speed <= 0x7fffffff */
	uint32_t speed_mbps;     /* valid when speed_known */
	uint8_t duplex;          /* VIRTIO_NET_DUPLEX_HALF/FULL/UNKNOWN */
	uint64_t changes;        /* link transitions seen by config_changed */
};
void vnet_net_get_link(const struct vnet_net *net, struct vnet_net_link *link);

/* ------------------------------------------------------------ state, errors, replay */

struct vnet_net_ctrl_error {
	uint8_t class_, cmd;
	uint8_t ack;             /* the ack byte read (0xff: none written) */
	int rc;                  /* VNET_OK if no command failed yet */
};
void vnet_net_ctrl_last_error(const struct vnet_net *net, struct vnet_net_ctrl_error *e);
/* Spec names ("RX", "PROMISC"...); "?" for an unknown value. */
const char *vnet_net_ctrl_class_name(uint8_t class_);
const char *vnet_net_ctrl_cmd_name(uint8_t class_, uint8_t cmd);

struct vnet_net_ctrl_stats {
	uint64_t cmds;           /* commands sent */
	uint64_t ok;             /* acked VIRTIO_NET_OK */
	uint64_t refused;        /* acked VIRTIO_NET_ERR (VNET_EIO) */
	uint64_t failed;         /* timeouts, lies, broken queue (also in info.ctrl_errors) */
	uint64_t replays;        /* vnet_net_ctrl_replay calls */
	uint64_t announces;      /* ANNOUNCE seen in status */
	uint64_t mac_overflows;  /* tables that fell back to promisc/allmulti */
};
void vnet_net_ctrl_get_stats(const struct vnet_net *net, struct vnet_net_ctrl_stats *st);

/*
 * Send the recorded control state again, after a device reset
 * (vnet_net_restart calls it; a recovery path may too): MAC address, RX
 * modes, MAC table, VLAN table, guest offloads, RSS/hash, coalescing —
 * each only if it was set and its feature is negotiated.  Queue pairs are
 * not part of it (bring-up sends them).  Every command is tried; returns
 * VNET_OK or the first error (the rest were still sent).
 */
int vnet_net_ctrl_replay(struct vnet_net *net);

#endif
