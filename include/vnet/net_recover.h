/*
 * orion-vnet: virtqueue reset (VIRTIO_F_RING_RESET) and automatic recovery
 * of a virtio-net device (docs/reliability.md, "RING_RESET" and
 * "Recovery").  Code: src/net/net_recover.c.
 *
 * Queue reset (VirtIO 1.2 §2.6.1 "Virtqueue Reset"): one queue is reset
 * on the device (PCI common cfg queue_reset §4.1.4.3, MMIO QueueReset
 * §4.2.2), every buffer it held is reclaimed and counted, its ring is
 * rebuilt (optionally with another size, up to the device's maximum),
 * set up and re-enabled and (receive queue) refilled.  Every other queue,
 * the negotiated features and the device's control state stay as they
 * are.  Needs RING_RESET negotiated (the driver asks for it whenever the
 * transport carries it: PCI modern and MMIO; QEMU 7.2 offers it with its
 * default queue_reset=on); without it VNET_ENOTSUP and the caller falls
 * back to a device reset (vnet_net_halt + vnet_net_restart).
 *
 * Recovery: vnet_net_watchdog() is called by the host from its tick with
 * its clock.  It looks for the triggers below and repairs what it finds:
 *   - DEVICE_NEEDS_RESET in the device status (§2.1.2), or a status that
 *     cannot be read;
 *   - a data queue latched broken (a protocol violation seen by the ring
 *     engine);
 *   - a control-queue timeout (the controlq latched broken by net_ctrl);
 *   - the TX watchdog: a transmit queue holding buffers with no completion
 *     for opts.tx_timeout_ns;
 *   - a trigger the host reports (vnet_net_recover(), e.g. the vhost-user
 *     port's stall detector).
 * Action: a single broken queue is queue-reset first when RING_RESET was
 * negotiated; otherwise, or when that fails, the whole device is reset and
 * brought up again with the full driver state replayed (features, pairs,
 * MAC, RX mode, MAC tables, VLAN filters, RSS, coalescing, guest offloads:
 * vnet_net_restart).  Every buffer taken back is counted.  Attempts that
 * follow each other within opts.stable_ns are a streak: the n-th waits
 * backoff_ns << (n - 1) (capped at backoff_max_ns) after the previous one,
 * and a streak longer than opts.max_attempts latches the device dead for
 * recovery (stats.dead, one log line): it is halted and never tried again
 * automatically.  Every event is counted by cause and logged.
 *
 * Context: control path; the caller serialises these calls with every
 * other call on the device (the data path included: a reset takes the
 * rings away).  May busy-wait, bounded by the device's timeouts.
 */
#ifndef VNET_NET_RECOVER_H
#define VNET_NET_RECOVER_H

#include <stdbool.h>
#include <stdint.h>

#include "net.h"

/* ------------------------------------------------------------ recovery */

/*
 * Reset virtqueue vq_index (receiveq 2i, transmitq 2i + 1 of a pair in
 * use, or the controlq) and bring it back; new_size 0 keeps its size,
 * otherwise the ring is rebuilt with new_size entries (a power of two for
 * split rings, at most the device's maximum for that queue).
 * Returns VNET_OK; VNET_ENOTSUP without RING_RESET (nothing touched);
 * VNET_EINVAL (no such queue, bad size; nothing touched); VNET_EBROKEN if
 * the device is dead; VNET_ETIMEDOUT / a transport error if the device did
 * not complete the queue reset (the queue stays broken, its buffers with
 * the device: a device reset is the way out); VNET_ENOMEM if a resized ring
 * could not be allocated (the old size is kept).  Buffers reclaimed are
 * added to stats.reclaimed.
 */
int vnet_net_queue_reset(struct vnet_net *net, uint16_t vq_index, uint16_t new_size);

enum vnet_net_recover_cause {
	VNET_RECOVER_NONE = 0,
	VNET_RECOVER_NEEDS_RESET,   /* DEVICE_NEEDS_RESET (or unreadable status) */
	VNET_RECOVER_QUEUE_BROKEN,  /* a data queue latched broken */
	VNET_RECOVER_CTRL_TIMEOUT,  /* the controlq latched broken (timeout or a lie) */
	VNET_RECOVER_TX_WATCHDOG,   /* no transmit completion for tx_timeout_ns with work pending */
	VNET_RECOVER_BACKEND_STALL, /* vhost-user back-end connected but not processing (host-reported) */
	VNET_RECOVER_MANUAL,        /* the host asked (vnet_net_recover) */
	VNET_RECOVER_CAUSES
};

struct vnet_net_recover_opts {
	uint64_t tx_timeout_ns;   /* TX watchdog; 0 = default 2 s; UINT64_MAX = off */
	uint64_t backoff_ns;      /* first retry delay in a streak; 0 = default 100 ms */
	uint64_t backoff_max_ns;  /* cap; 0 = default 10 s */
	uint64_t stable_ns;       /* healthy time that ends a streak; 0 = default 30 s */
	unsigned max_attempts;    /* attempts in one streak before dead; 0 = default 5 */
	bool no_queue_reset;      /* always reset the whole device */
	bool manual;              /* watchdog only detects (stats.pending), never acts */
	/* The cause a TX watchdog stall is counted as; 0 = VNET_RECOVER_TX_WATCHDOG.
	 * The vhost-user port sets VNET_RECOVER_BACKEND_STALL: its back-end is
	 * still connected (a lost one is a disconnect), so a transmit queue
	 * that stopped completing is a back-end that stopped processing. */
	enum vnet_net_recover_cause tx_stall_cause;
};

struct vnet_net_recover_stats {
	uint64_t by_cause[VNET_RECOVER_CAUSES]; /* triggers acted on, per cause */
	uint64_t queue_resets;      /* successful vnet_net_queue_reset (host calls and recovery) */
	uint64_t queue_reset_fails;
	uint64_t device_resets;     /* full resets + replay that brought the device back */
	uint64_t device_reset_fails;
	uint64_t replay_errors;     /* restarts whose control-state replay failed */
	uint64_t reclaimed;         /* buffers taken back from the device by resets */
	uint64_t deferred;          /* watchdog calls that held a trigger back (back-off) */
	unsigned streak;            /* attempts in the current streak */
	enum vnet_net_recover_cause last_cause;
	int last_error;             /* result of the last attempt (VNET_OK once it worked) */
	uint64_t last_ns;           /* host clock of the last attempt */
	enum vnet_net_recover_cause pending; /* detected, not yet acted on (back-off, manual) */
	bool dead;                  /* gave up: the device is halted, no more automatic attempts */
};

/* Configure recovery (copied; NULL = defaults).  May be called any time. */
void vnet_net_recover_configure(struct vnet_net *net, const struct vnet_net_recover_opts *opts);

/*
 * Host tick: detect the triggers and recover (unless opts.manual or back-off
 * holds it).  now_ns is the host's monotonic clock (the TX watchdog and the
 * back-off are measured with it only).  Returns the cause acted on
 * (VNET_RECOVER_NONE if nothing was wrong or the action was deferred); the
 * outcome is in stats.last_error.
 */
enum vnet_net_recover_cause vnet_net_watchdog(struct vnet_net *net, uint64_t now_ns);

/*
 * Recover now for a cause the host saw (VNET_RECOVER_BACKEND_STALL,
 * VNET_RECOVER_MANUAL, ...); vq_index names the one queue at fault
 * (queue reset first) or VNET_NET_VQ_ALL for the whole device.  Honours the
 * streak limit (VNET_EBROKEN once dead) but not the back-off delay.
 * VNET_RECOVER_MANUAL (an operator's reset) counts toward the streak only
 * when it fails: successful manual resets never latch the device dead.
 * Returns VNET_OK when the device is back.
 */
#define VNET_NET_VQ_ALL 0xffffu
int vnet_net_recover(struct vnet_net *net, enum vnet_net_recover_cause cause, uint16_t vq_index, uint64_t now_ns);

/* Start afresh after the host replaced what failed (e.g. the vhost-user
 * port connected a new back-end): clears dead, the streak and pending;
 * the counters stay.  A device latched dead by a reset that did not
 * complete (vnet_net_is_dead) stays dead. */
void vnet_net_recover_rearm(struct vnet_net *net);

void vnet_net_recover_get_stats(const struct vnet_net *net, struct vnet_net_recover_stats *st);
/* Short name of a cause ("needs-reset", "queue-broken", ...). */
const char *vnet_net_recover_cause_name(enum vnet_net_recover_cause c);

#endif
