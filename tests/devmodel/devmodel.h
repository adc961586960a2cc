/*
 * Device model for unit tests: the DEVICE side of one virtqueue, split
 * (spec 2.7) or packed (spec 2.8), written from the spec and not from the
 * driver's engine, so the two can disagree and a test notices.
 *
 * What it does:
 *  - reads the rings at the device addresses the driver hands out
 *    (vnet_vq_ring_addrs) through fake_hal_iova_to_va(); any address or
 *    length outside a live DMA allocation is a driver bug and is recorded
 *    as a violation, as is every breach of a driver-normative rule it can
 *    see (chain length, readable-after-writable, NEXT|INDIRECT, nested
 *    indirect, indirect length not a multiple of 16, a descriptor or buffer
 *    id reused while the device owns it, IN_ORDER layout rules, bad
 *    notification data).  Tests assert dm_violations() == 0.
 *  - "processes" each buffer: checksums the readable bytes (dm_checksum, so
 *    a test can compare with what it posted) and fills the writable bytes
 *    with dm_pattern_byte(seq, offset), reporting a configurable used
 *    length;
 *  - completes in order, in reversed batches or in a seeded random order,
 *    and with IN_ORDER may write one used entry per batch (spec 2.7.9 /
 *    2.8.9 "In-order use of descriptors");
 *  - keeps the device half of notification suppression (used->flags /
 *    avail_event, packed device event suppression) and honours the
 *    driver's (avail->flags / used_event, packed driver event suppression)
 *    when deciding to "interrupt"; counts interrupts and doorbells;
 *  - runs synchronously (dm_poll) or in its own thread (dm_start/dm_stop);
 *  - injects deterministic, one-shot misbehaviour (dm_inject).
 *
 * What it does not do: it is not a network device, has no timing model and
 * never blocks; a real device's DMA faults are modelled as violations.
 *
 * Thread safety: dm_doorbell may be called from any thread at any time;
 * every other call must not race with itself, and while the device thread
 * runs (dm_start) only dm_doorbell, dm_inject and dm_get_stats may be used.
 */
#ifndef VNET_TEST_DEVMODEL_H
#define VNET_TEST_DEVMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnet/virtqueue.h"

/* Order in which consumed buffers are completed. */
enum dm_policy {
	DM_IN_ORDER = 0,      /* oldest first */
	DM_REVERSE_BATCH,     /* pending buffers in chunks of cfg.batch, each chunk newest first */
	DM_RANDOM,            /* each poll completes a random non-empty subset in random order */
};

/* Used length reported for a buffer (never more than its writable bytes). */
enum dm_len_mode {
	DM_LEN_FULL = 0,      /* every writable byte */
	DM_LEN_FIXED,         /* min(cfg.len_value, writable bytes) */
};

/* How the device asks for available-buffer notifications (doorbells). */
enum dm_notify_mode {
	DM_NOTIFY_ALWAYS = 0, /* always wants them (flags 0 / ENABLE / avail_event = next) */
	DM_NOTIFY_SLEEP,      /* processes only after a doorbell once it went idle: a
	                       * missing kick stalls the queue (tests see it) */
	DM_NOTIFY_NEVER,      /* suppresses them: NO_NOTIFY / DISABLE; with EVENT_IDX on split
	                       * avail_event is written once (cfg.avail_event) and never moved */
};

struct dm_buf_info {
	uint64_t seq;         /* consumption order, from 0 (= the order the driver made buffers available) */
	uint16_t id;          /* split: head descriptor; packed: buffer id */
	uint16_t ndesc;       /* ring descriptors used (1 for an indirect buffer) */
	uint16_t nseg;        /* data segments (readable + writable) */
	bool indirect;
	uint32_t out_len;     /* readable bytes */
	uint32_t in_len;      /* writable bytes */
	uint32_t used_len;    /* what the device will report */
	uint32_t out_csum;    /* dm_checksum over the readable bytes in order */
};

struct dm_config {
	enum vnet_vq_layout layout;
	uint16_t size;
	uint16_t index;         /* queue index, checked in notification data */
	uint64_t features;      /* negotiated, VNET_BIT(VIRTIO_F_*) */
	uint64_t desc_addr, driver_addr, device_addr; /* from vnet_vq_ring_addrs */
	enum dm_policy policy;
	unsigned batch;         /* REVERSE_BATCH chunk / IN_ORDER batch size (0 = everything pending) */
	uint32_t seed;          /* RANDOM */
	enum dm_len_mode len_mode;
	uint32_t len_value;
	bool in_order_batch;    /* with IN_ORDER: one used entry per batch */
	enum dm_notify_mode notify;
	uint16_t avail_event;   /* DM_NOTIFY_NEVER + EVENT_IDX (split): fixed avail_event */
	bool echo_indirect;     /* packed: the used descriptor of an indirect buffer keeps
	                         * VIRTQ_DESC_F_INDIRECT (as DPDK 22.11's vhost writes it);
	                         * with an IN_ORDER batch, the first buffer's flag is echoed */
	/* Called for every buffer consumed, in ring order, from the device context. */
	void (*on_buffer)(void *ctx, const struct dm_buf_info *info);
	void *ctx;
};

/* Misbehaviour, applied one-shot to the next completion(s) (dm_inject). */
enum dm_fault {
	DM_FAULT_NONE = 0,
	DM_FAULT_ID_RANGE,     /* next used id = size + arg (instead of the real one) */
	DM_FAULT_ID_NOT_HEAD,  /* next used id = something not an outstanding head/id (a chain
	                        * member when one exists); the real buffer stays pending */
	DM_FAULT_DOUBLE,       /* next completion is written twice */
	DM_FAULT_LEN,          /* next used len = writable bytes + 1 + arg */
	DM_FAULT_IDX_JUMP,     /* split: used idx published as real + outstanding + 1 + arg */
	DM_FAULT_IDX_BACK,     /* split: used idx moved back by 1 + arg (applied at next poll) */
	DM_FAULT_REWRITE_DESC, /* next consumed buffer: its descriptors (and indirect table)
	                        * are overwritten with garbage after reading them */
	DM_FAULT_FLAGS,        /* packed: next used descriptor gets extra flag bits arg
	                        * (0 = NEXT|INDIRECT) */
	DM_FAULT_WRONG_WRAP,   /* packed: next used descriptor written with the wrong wrap:
	                        * arg 0 = AVAIL=USED=!wrap, 1 = AVAIL=wrap, USED=!wrap */
	DM_FAULT_OUT_OF_ORDER, /* the second pending buffer is completed alone, before the
	                        * first (an IN_ORDER violation; the first stays pending) */
	DM_FAULT__COUNT
};

struct dm_stats {
	uint64_t consumed;        /* buffers read from the avail side */
	uint64_t completed;       /* buffers completed (incl. skipped ones of in-order batches) */
	uint64_t used_entries;    /* used ring entries / used descriptors written */
	uint64_t interrupts;      /* used-buffer notifications the device would send */
	uint64_t interrupt_checks;/* times it decided (batches) */
	uint64_t notifications;   /* doorbells received */
	uint64_t notify_unneeded; /* doorbells while it had asked not to be notified */
	uint64_t wakeups;         /* DM_NOTIFY_SLEEP: woken by a doorbell */
	uint64_t out_bytes, in_bytes;
	uint64_t violations;      /* driver bugs seen (see dm_last_violation) */
	uint64_t faults_applied;
	uint32_t last_notify_data;
};

struct dm;

struct dm *dm_create(const struct dm_config *cfg);
void dm_destroy(struct dm *dm); /* stops the thread if running */

/* Consume up to budget available buffers, then complete per policy.
 * Returns buffers completed in this call. */
unsigned dm_poll(struct dm *dm, unsigned budget);
/* Complete everything pending (in policy order) without consuming more. */
unsigned dm_flush(struct dm *dm);
/* Stop completing (buffers are still consumed) until resumed. */
void dm_pause_completions(struct dm *dm, bool paused);

/* The driver's kick (transport notify).  data: NOTIFICATION_DATA value,
 * or the queue index when not negotiated. */
void dm_doorbell(struct dm *dm, uint32_t data);

int dm_start(struct dm *dm);   /* device thread; 0 on success */
void dm_stop(struct dm *dm);

void dm_inject(struct dm *dm, enum dm_fault fault, uint32_t arg);

void dm_get_stats(struct dm *dm, struct dm_stats *st);
uint64_t dm_violations(struct dm *dm);
const char *dm_last_violation(struct dm *dm);
unsigned dm_pending(struct dm *dm); /* consumed, not yet completed */

/* FNV-1a over bytes, chainable (start with DM_CSUM_INIT). */
#define DM_CSUM_INIT 0x811c9dc5u
uint32_t dm_checksum(uint32_t h, const void *p, size_t len);
/* Byte the device writes at offset off of the writable space of buffer seq. */
static inline uint8_t dm_pattern_byte(uint64_t seq, uint32_t off)
{
	return (uint8_t)(0x5au ^ (uint8_t)seq ^ (uint8_t)(off * 7u) ^ (uint8_t)(off >> 8));
}

#endif
