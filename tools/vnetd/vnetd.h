/*
 * vnetd: bridges one vhost-user port (libvnet, include/vnet/vnet_port.h) to
 * one Linux TAP device opened with IFF_VNET_HDR, so that ordinary Linux
 * applications reach a vhost-user back-end (DPDK's vhost PMD, OVS-DPDK)
 * through the kernel's network stack.
 *
 * Files, one job each:
 *   vnetd.c         main: options in, TAP and port up, the event loop,
 *                   signals, the orderly exit (every buffer back)
 *   vnetd_opts.c    command line parsing and its error messages
 *   vnetd_tap.c     the TAP: open, header size, offloads, carrier
 *   vnetd_bridge.c  the two frame paths and the virtio-net header <->
 *                   struct vnet_pkt offload mapping
 *   vnetd_stats.c   the counters, described once by a table
 *
 * Threads: one.  The port's data path and service calls, the TAP reads and
 * writes, and the signal flags are all handled by the main loop.
 *
 * What it trusts: nothing the TAP or the back-end hands it.  A TAP header
 * vnetd cannot map, a frame longer than the port can carry, a frame the
 * TAP refuses: each is a counted drop with a named reason, never silent.
 */
#ifndef VNETD_H
#define VNETD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vnet/net.h"
#include "vnet/vnet_config.h"
#include "vnet/vnet_port.h"
#include "vnet_ctlsrv.h"

#define VNETD_BURST 32u          /* frames per TAP read burst / tx_burst */
#define VNETD_RX_BUDGET 64u      /* frames per vnet_port_poll() */
#define VNETD_MAX_SEGS 64u       /* iovecs of one frame written to the TAP */
#define VNETD_TAP_HDR_MAX 32u    /* the largest virtio-net header we hand the TAP */
#define VNETD_FRAME_MAX VNET_NET_FRAME_MAX /* a GSO super-frame: 64 KiB IP + Ethernet + VLAN */
#define VNETD_QUEUE_SIZE 1024u   /* ring size unless --queue-size (capped by the back-end) */
#define VNETD_POOL_OFFLOAD 8192u /* packet buffers with offloads on (16 MiB of the arena) */

struct vnetd_opts {
	const char *vhost_path;
	bool server;
	const char *tap_name;
	bool poll_mode;              /* default: interrupt mode */
	enum vnet_net_ring ring;
	uint16_t queue_size;
	uint32_t pool_size;
	uint32_t connect_timeout_ms;
	uint32_t reconnect_ms;
	bool offloads;               /* ask the port for checksum/segmentation offloads */
	bool quiet;                  /* no start-up line */
	/* --config FILE (vnetd_config.c): the file's values are the defaults,
	 * every option given on the command line overrides them. */
	const char *config_path;
	const char *device_name;     /* --device NAME: which [[device]] table */
	const struct vnet_config *cfg;            /* NULL without --config */
	const struct vnet_config_device *cfg_dev; /* the device's table, or NULL */
	bool offloads_cli;           /* --offloads given: overrides the file's offload keys */
	bool pool_cli;               /* --pool given */
	bool no_flow_control;        /* flow_control_enabled = false: frames finding the ring full are dropped
	                              * at once instead of held (VNETD_HOLD_NS) */
	/* control socket (vnetd_control.c) */
	const char *control_path;    /* --control PATH or [control] socket; NULL: none */
	const char *control_group;   /* [control] group: read-only commands; NULL: vnetd's group */
};

/*
 * Counters.  Every frame read from the TAP ends as exactly one of: sent
 * to the port (port_out_frames) or one of the drop_to_port_* reasons;
 * every frame from the port as tap_out_frames or one of drop_to_tap_*.
 * So at exit (nothing in flight inside vnetd):
 *   tap_in_frames  == port_out_frames + sum(drop_to_port_*)
 *   port_in_frames == tap_out_frames  + sum(drop_to_tap_*)
 */
struct vnetd_stats {
	uint64_t tap_in_frames, tap_in_bytes;     /* read from the TAP */
	uint64_t port_out_frames, port_out_bytes; /* posted to the port's transmit queue */
	uint64_t port_in_frames, port_in_bytes;   /* received from the port */
	uint64_t tap_out_frames, tap_out_bytes;   /* written to the TAP */
	/* toward the port */
	uint64_t drop_to_port_down;       /* the back-end was gone */
	uint64_t drop_to_port_too_long;   /* longer than the port's buffers can carry */
	uint64_t drop_to_port_bad_header; /* a TAP header vnetd cannot map (offload not negotiated, offsets outside the frame) */
	uint64_t drop_to_port_ring_full;  /* the transmit ring stayed full past the hold time */
	uint64_t drop_to_port_refused;    /* the driver core refused the frame (its tx_drops) */
	uint64_t drop_to_port_shutdown;   /* still waiting for ring space at exit */
	/* toward the TAP */
	uint64_t drop_to_tap_down;        /* the TAP interface was down (EIO) */
	uint64_t drop_to_tap_rejected;    /* the kernel refused the frame or its header (EINVAL) */
	uint64_t drop_to_tap_error;       /* any other write error */
	uint64_t drop_to_tap_segments;    /* more segments than one write can carry */
	/* offloads */
	uint64_t port_out_csum;           /* sent with a partial checksum for the device to complete */
	uint64_t port_out_gso, port_out_gso_bytes; /* segmentation super-frames sent */
	uint64_t tap_out_csum;            /* handed to the TAP with a partial checksum (NEEDS_CSUM) */
	uint64_t tap_out_csum_valid;      /* handed to the TAP as checksum validated (DATA_VALID) */
	uint64_t tap_out_gso, tap_out_gso_bytes; /* coalesced super-frames handed to the TAP */
	uint64_t sw_csum;                 /* partial checksums vnetd completed itself */
	/* the back-end */
	uint64_t backend_losses;          /* the port went down */
	uint64_t backend_returns;         /* and came back */
	uint64_t tap_read_errors;         /* TAP reads that failed other than EAGAIN */
	uint64_t tap_wakeups;             /* interrupt mode: sleeps the TAP fd ended (a frame to send) */
};

struct vnetd {
	struct vnetd_opts o;
	int tap_fd;
	unsigned tap_hdr_len;            /* virtio-net header bytes on the TAP */
	unsigned tun_offloads;           /* TUN_F_* set with TUNSETOFFLOAD */
	struct vnet_port *port;
	struct vnet_net *net;
	uint64_t negotiated;
	bool up;                         /* the port's state as last reported */
	/* Frames read from the TAP that the transmit ring had no room for:
	 * held (and the TAP not read) until it has, at most a hold time. */
	struct vnet_pkt *pending[VNETD_BURST];
	unsigned npending;
	uint64_t pending_since_ns;
	bool starved;                    /* the pool was empty at the last TAP read */
	bool refusal_logged;             /* the port refused a frame: said once */
	/* Buffers the next TAP read goes into: read_segs of them (1, or
	 * enough for a 64 KiB super-frame when the TAP may send one). */
	struct vnet_pkt *stash[VNETD_MAX_SEGS];
	unsigned nstash, read_segs;
	uint8_t *discard;                /* read overflow: a frame longer than one buffer */
	uint32_t pool_total;             /* packet buffers in the port's pool */
	struct vnetd_stats st;
	/* control socket (tools/common/vnet_ctlsrv.h; ctl.fd -1 when none) */
	struct vnet_ctlsrv ctl;
	char ctl_tag[32];                /* "vnetd[TAP]" for its log lines */
};

/* vnetd_opts.c: parse argv into *o.  Returns 0, or prints the reason to
 * stderr and returns 2 (bad usage).  *help: --help was asked for (usage
 * printed to stdout, return 0). */
int vnetd_parse_opts(int argc, char **argv, struct vnetd_opts *o, bool *help);
void vnetd_usage(FILE *out);

/* vnetd_tap.c */
int vnetd_tap_open(const char *name, char *err, size_t errlen);
int vnetd_tap_set_hdr_len(int fd, unsigned len, char *err, size_t errlen);
/* TUN_F_* that the negotiated virtio-net features let the TAP hand us. */
unsigned vnetd_tun_offloads_for(uint64_t negotiated);
int vnetd_tap_set_offloads(int fd, unsigned tun_f, char *err, size_t errlen);
/* The TUN_F_* bits that let the TAP hand us super-frames. */
#define VNETD_TUN_F_GSO (0x02u | 0x04u | 0x10u | 0x20u | 0x40u) /* TSO4 TSO6 UFO USO4 USO6 */
/* True if this kernel's tun takes UDP segmentation offload (Linux >= 6.2). */
bool vnetd_tap_has_uso(int fd);
void vnetd_tap_set_carrier(int fd, bool on);
/* "csum tso4 ..." for a TUN_F_* mask (static buffer). */
const char *vnetd_tun_offload_names(unsigned tun_f, char *buf, size_t len);

/* vnetd_bridge.c */
/* vnet_port_poll() callback: one frame from the port to the TAP. */
void vnetd_port_to_tap(void *arg, struct vnet_pkt *pkt);
/* Read up to a burst from the TAP and send it; true when there may be
 * more to do at once (a full burst, frames held for ring space). */
bool vnetd_tap_to_port(struct vnetd *d, uint64_t now_ns);
/* Port down: drop what is held, read the TAP empty (each a counted drop). */
void vnetd_drain_while_down(struct vnetd *d);
/* Give the read stash back to the pool. */
void vnetd_stash_release(struct vnetd *d);
/* Exit: send what is held if the ring takes it, drop the rest. */
void vnetd_flush_pending(struct vnetd *d);
/* The TAP's header onto the head of a frame read from it (pkt_len set),
 * by what d->negotiated allows; false: drop it (a bad header). */
bool vnetd_tap_hdr_to_pkt(struct vnetd *d, const struct virtio_net_hdr *h, struct vnet_pkt *p);
/* The header for the TAP from a frame the port received (counts offloads). */
void vnetd_pkt_to_tap_hdr(struct vnetd *d, const struct vnet_pkt *p, struct virtio_net_hdr *h);
/* Complete a partial checksum in software (the Linux convention: the field
 * already holds the pseudo-header sum).  False if it is outside len. */
bool vnetd_csum_complete(uint8_t *frame, uint32_t len, uint16_t start, uint16_t offset);

/* vnetd_stats.c */
void vnetd_stats_print(const struct vnetd *d, const char *what);

/* vnetd_config.c: read --config FILE into *o as defaults (before the
 * command line is applied).  0, or 2 after printing FILE:LINE: KEY: REASON. */
int vnetd_config_load(const char *path, const char *device, struct vnetd_opts *o);
/* The file's driver options onto the port's (what the command line did
 * not override). */
void vnetd_config_port_opts(const struct vnetd_opts *o, struct vnet_port_opts *po);
/* After start: what only a running device takes (MAC, VLAN filter,
 * coalescing); each thing the device cannot honour is logged, not fatal. */
void vnetd_config_after_start(struct vnetd *d);
/* The device's name for commands: the [[device]] name, or "vnet0". */
const char *vnetd_device_name(const struct vnetd *d);

/* vnetd_control.c: the control socket (docs/management.md). */
int vnetd_control_open(struct vnetd *d);
/* Accept and answer every pending request (non-blocking listen socket). */
void vnetd_control_serve(struct vnetd *d);
void vnetd_control_close(struct vnetd *d);

/* vnetd_cmds.c: the management commands' host ops (vnet/mgmt.h) for the
 * control server: vnetd's one device, its counters, the clock. */
const struct vnet_mgmt_host_ops *vnetd_host_ops(void);

#endif
