/*
 * orion-vnet virtqueue engine: the driver side of one virtqueue, split or
 * packed layout, behind one interface chosen at creation.
 *
 * Model: the caller posts buffers as scatter-gather chains, each with an
 * opaque cookie; the engine hands the cookie back exactly once, either from
 * vnet_vq_get_used() when the device completes the chain, or from
 * vnet_vq_detach_unused() when the queue is torn down.  Buffers (and the
 * memory the sg entries point at) are owned by the device between add and
 * that hand-back.
 *
 * The device is untrusted: every id, length, index and flag read from shared
 * memory is checked against the engine's private shadow.  A violation is
 * counted in struct vnet_vq_stats and latches the queue broken; from then on
 * add/get_used fail fast (VNET_EBROKEN / 0) and only detach_unused and
 * destroy are useful.
 *
 * Concurrency: one queue is used by one thread at a time; the caller
 * serialises add/kick_prepare/get_used/enable_cb/disable_cb/detach.  Only
 * the doorbell write that follows a true kick_prepare (done by the
 * transport) may happen outside that serialisation.
 */
#ifndef VNET_VIRTQUEUE_H
#define VNET_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnet_error.h"

struct vnet_vq; /* opaque */

enum vnet_vq_layout {
	VNET_VQ_SPLIT = 0,
	VNET_VQ_PACKED = 1,
};

/* Ring features the engine honours, as a bitmask of VIRTIO_F_* bit numbers
 * (VNET_BIT(VIRTIO_F_EVENT_IDX) ...).  Pass the *negotiated* features;
 * bits the engine does not know are ignored. */
struct vnet_vq_config {
	uint16_t index;          /* virtqueue index on the device */
	uint16_t size;           /* 1..32768; split: power of two */
	enum vnet_vq_layout layout;
	uint64_t features;       /* negotiated device features */
	uint16_t indirect_max;   /* max descriptors per indirect table; 0 = never use indirect */
	uint16_t indirect_min;   /* chains of fewer elements stay direct; 0 or 1 = 2 (any multi-element chain) */
	const char *name;        /* for logs and stats, copied (15 chars kept) */
	/* Every buffer is device-readable only (a transmit queue), so used
	 * lengths mean nothing to the caller: with IN_ORDER on a split ring
	 * get_used then completes buffers from used->idx alone, without
	 * reading the used entries (spec 2.7.9: the entries of all but each
	 * batch's last buffer are not even written), and reports len 0.  A
	 * writable buffer added to such a queue is refused (VNET_EINVAL). */
	bool read_only;
};

/* One scatter-gather element: device address (struct vnet_dma.iova) + length. */
struct vnet_sg {
	uint64_t addr;
	uint32_t len;
};

/* A completion handed back by vnet_vq_get_used(). */
struct vnet_vq_used {
	void *cookie;
	uint32_t len;  /* bytes the device wrote, checked <= writable bytes posted */
};

/* Reasons a queue latches broken (bit numbers in stats.broken_reason). */
enum vnet_vq_fault {
	VNET_VQ_FAULT_NONE = 0,
	VNET_VQ_FAULT_ID_RANGE,      /* used id >= queue size */
	VNET_VQ_FAULT_ID_NOT_HEAD,   /* used id is not an outstanding chain head (incl. double completion) */
	VNET_VQ_FAULT_USED_IDX,      /* used index moved by more than outstanding, or backwards */
	VNET_VQ_FAULT_LEN,           /* reserved: a too-long used len is not latched, see bad_len */
	VNET_VQ_FAULT_FLAGS,         /* packed: impossible flags in a used descriptor */
	VNET_VQ_FAULT_IN_ORDER,      /* IN_ORDER negotiated but device completed out of order */
};

struct vnet_vq_stats {
	uint64_t added;           /* chains made available */
	uint64_t completed;       /* chains handed back by get_used */
	uint64_t detached;        /* chains handed back by detach_unused */
	uint64_t kicks;           /* kick_prepare returned true */
	uint64_t kicks_suppressed;/* kick_prepare returned false: device asked not to be notified */
	uint64_t full;            /* add refused with VNET_ENOSPC */
	uint64_t bad_len;         /* used len > posted writable bytes: chain handed back with
	                           * len 0 (the consumer drops it as a runt) and counted here */
	uint64_t faults;          /* device protocol violations seen (each latches broken) */
	uint32_t broken_reason;   /* enum vnet_vq_fault of the first violation, 0 if healthy */
};

/*
 * Create a queue: allocates the ring (DMA) and the shadow state (private)
 * through the HAL.  The rings are zeroed and ready to hand to the device.
 * Returns VNET_OK, VNET_EINVAL (bad size/layout), VNET_ENOMEM.
 * Context: may sleep; not on the data path.
 */
int vnet_vq_create(const struct vnet_vq_config *cfg, struct vnet_vq **out);

/* Free everything.  The caller must have detached all buffers first
 * (vnet_vq_detach_unused until NULL) and the device must no longer use the
 * ring (reset).  NULL-safe. */
void vnet_vq_destroy(struct vnet_vq *vq);

/* For a device whose reset did not complete (it may still read and write
 * the ring, the indirect tables and every buffer it holds): free the
 * engine's private state but keep the shared memory (ring and indirect
 * tables) allocated for good, so it can never be reused while the device
 * writes it.  The cookies still outstanding are abandoned, not handed
 * back: their buffers stay the device's.  Logged.  Returns the bytes of
 * device-visible memory kept.  NULL-safe. */
size_t vnet_vq_abandon(struct vnet_vq *vq);

/* Device addresses of the three ring areas, for the transport's queue setup.
 * split: descriptor table, available ring, used ring;
 * packed: descriptor ring, driver event suppression, device event suppression. */
void vnet_vq_ring_addrs(const struct vnet_vq *vq, uint64_t *desc, uint64_t *driver, uint64_t *device);

/*
 * Post one chain: out_n device-readable elements followed by in_n
 * device-writable ones (sg[0 .. out_n+in_n-1]); out_n + in_n >= 1.
 * Uses an indirect table when negotiated and the chain has at least
 * indirect_min (>= 2) and at most indirect_max elements.
 * Returns VNET_OK, VNET_ENOSPC (not enough free descriptors; nothing
 * posted), VNET_EINVAL (bad arguments, e.g. zero elements, NULL cookie,
 * more elements than the queue size), VNET_EBROKEN.
 * The buffer is visible to the device only after the next kick_prepare
 * (batched: many adds, one publish).
 */
int vnet_vq_add(struct vnet_vq *vq, const struct vnet_sg *sg, unsigned out_n, unsigned in_n, void *cookie);

/*
 * Post n one-element chains at once: sg[i] with cookies[i], all
 * device-readable (writable false) or all device-writable.  The same as
 * n calls of vnet_vq_add(vq, &sg[i], !writable, writable, cookies[i]) in
 * order, stopping at the first that fails (no room, NULL cookie, broken
 * queue), without a call per buffer.  Returns how many were posted (a
 * prefix of the arrays); published by the next kick_prepare.
 */
unsigned vnet_vq_add_bufs(struct vnet_vq *vq, const struct vnet_sg *sg, void *const *cookies, unsigned n,
                          bool writable);

/*
 * Make every chain added since the last publish visible to the device (one
 * memory barrier for the whole batch) and decide whether the device wants a
 * notification (event idx / NO_NOTIFY / packed event suppression).
 * Returns true if the caller must notify the device (transport notify with
 * vnet_vq_notify_data() when NOTIFICATION_DATA was negotiated).
 */
bool vnet_vq_kick_prepare(struct vnet_vq *vq);

/* Value for a NOTIFICATION_DATA doorbell: queue index, next offset, wrap. */
uint32_t vnet_vq_notify_data(const struct vnet_vq *vq);

/* Queue index given at creation (for the doorbell when no notification data). */
uint16_t vnet_vq_index(const struct vnet_vq *vq);

/*
 * Take up to max completions, oldest first.  Returns how many were written
 * to out[] (0 if none, or if the queue is broken).  Every returned cookie is
 * owned by the caller again.
 */
unsigned vnet_vq_get_used(struct vnet_vq *vq, struct vnet_vq_used *out, unsigned max);

/* True if the device has completed something not yet taken (cheap check). */
bool vnet_vq_has_used(struct vnet_vq *vq);

/* A hint, no effect on state: start fetching the ring line the next
 * get_used reads first (the packed descriptor at the used cursor, or the
 * split used index), so that a completion the device wrote meanwhile is in
 * cache by then.  For a caller that has other work to do before it
 * reclaims (the transmit path posts its burst first). */
void vnet_vq_prefetch_used(const struct vnet_vq *vq);

/*
 * Ask the device for used-buffer notifications again.  Returns false if
 * completions arrived in the meantime (the caller must poll again before
 * sleeping: this re-check is what avoids a lost wake-up).
 */
bool vnet_vq_enable_cb(struct vnet_vq *vq);

/* Ask the device not to notify (best effort: the device may still do so). */
void vnet_vq_disable_cb(struct vnet_vq *vq);

/*
 * Take back one chain the device has not completed, for reset/teardown.
 * Call only when the device no longer processes the queue (after reset).
 * Returns its cookie, or NULL when none is left.  Works on a broken queue.
 */
void *vnet_vq_detach_unused(struct vnet_vq *vq);

/* Reinitialise the ring to its just-created state (after every buffer was
 * detached), e.g. for a device reset and re-enable.  VNET_EBUSY if chains
 * are still outstanding.  Clears the broken latch; stats are kept. */
int vnet_vq_reset(struct vnet_vq *vq);

uint16_t vnet_vq_size(const struct vnet_vq *vq);
unsigned vnet_vq_num_free(const struct vnet_vq *vq);   /* free descriptors */
unsigned vnet_vq_outstanding(const struct vnet_vq *vq);/* chains owned by the device */
bool vnet_vq_is_broken(const struct vnet_vq *vq);
enum vnet_vq_layout vnet_vq_layout(const struct vnet_vq *vq);
const char *vnet_vq_name(const struct vnet_vq *vq);
void vnet_vq_get_stats(const struct vnet_vq *vq, struct vnet_vq_stats *st);

/*
 * The ring's notification state as both sides see it, for diagnosing a
 * queue that went quiet: has the device completed buffers the driver has
 * not taken (used_ready), and is the driver asking to be notified
 * (cb_enabled, driver_event/driver_flags)?  Each shared field is read once,
 * relaxed, and only shown: nothing here is trusted or changed.
 *   split:  avail_pos = avail->idx as published, used_pos = last_used,
 *           device_used = used->idx, driver_event = used_event,
 *           driver_flags = avail->flags, device_event = avail_event,
 *           device_flags = used->flags.
 *   packed: avail_pos / used_pos = ring position | wrap counter << 15 (the
 *           off_wrap encoding, §2.8.10), device_used = the flags of the
 *           descriptor at used_pos, driver_event / driver_flags = the driver
 *           event suppression area, device_event / device_flags = the
 *           device's.
 */
struct vnet_vq_ring_state {
	bool cb_enabled;     /* enable_cb was the last of enable/disable */
	bool used_ready;     /* the device completed something get_used has not taken */
	bool event_idx;      /* VIRTIO_F_EVENT_IDX negotiated (packed: descriptor events usable) */
	uint16_t avail_pos;
	uint16_t used_pos;
	uint16_t device_used;
	uint16_t driver_event;
	uint16_t driver_flags;
	uint16_t device_event;
	uint16_t device_flags;
};

/* Fill *st (zeroed for a NULL queue).  Works on a broken queue. */
void vnet_vq_get_ring_state(const struct vnet_vq *vq, struct vnet_vq_ring_state *st);

/* Latch broken from outside (e.g. the transport saw DEVICE_NEEDS_RESET). */
void vnet_vq_mark_broken(struct vnet_vq *vq, enum vnet_vq_fault why);

#endif
