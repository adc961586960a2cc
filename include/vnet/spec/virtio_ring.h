/*
 * Virtqueue wire layouts: split (spec 2.7 "Split Virtqueues") and packed
 * (spec 2.8 "Packed Virtqueues").  Sizes and offsets the spec fixes are
 * checked at compile time.
 */
#ifndef VNET_SPEC_VIRTIO_RING_H
#define VNET_SPEC_VIRTIO_RING_H

#include <stddef.h>
#include "virtio_types.h"

/* ---- descriptor flags (same values in both layouts) ---- */
#define VRING_DESC_F_NEXT     1u  /* split only: chain continues at .next */
#define VRING_DESC_F_WRITE    2u  /* device writes this buffer */
#define VRING_DESC_F_INDIRECT 4u  /* buffer is a table of descriptors */
/* packed only (spec 2.8.1 "Driver and Device Ring Wrap Counters") */
#define VRING_PACKED_DESC_F_AVAIL 7
#define VRING_PACKED_DESC_F_USED  15

/* ---- split ring ---- */
struct vring_desc {
	vnet_le64 addr;
	vnet_le32 len;
	vnet_le16 flags;
	vnet_le16 next;
};
_Static_assert(sizeof(struct vring_desc) == 16, "split descriptor is 16 bytes");
_Static_assert(offsetof(struct vring_desc, len) == 8, "desc.len at 8");
_Static_assert(offsetof(struct vring_desc, flags) == 12, "desc.flags at 12");
_Static_assert(offsetof(struct vring_desc, next) == 14, "desc.next at 14");

#define VRING_AVAIL_F_NO_INTERRUPT 1u
struct vring_avail {
	vnet_le16 flags;
	vnet_le16 idx;
	vnet_le16 ring[]; /* queue size entries, then le16 used_event (EVENT_IDX) */
};
_Static_assert(sizeof(struct vring_avail) == 4, "avail header is 4 bytes");

#define VRING_USED_F_NO_NOTIFY 1u
struct vring_used_elem {
	vnet_le32 id;  /* head of the used chain (spec: le32, index fits 16 bits) */
	vnet_le32 len; /* bytes written into device-writable buffers */
};
_Static_assert(sizeof(struct vring_used_elem) == 8, "used element is 8 bytes");

struct vring_used {
	vnet_le16 flags;
	vnet_le16 idx;
	struct vring_used_elem ring[]; /* queue size entries, then le16 avail_event */
};
_Static_assert(sizeof(struct vring_used) == 4, "used header is 4 bytes");
_Static_assert(offsetof(struct vring_used, ring) == 4, "used ring at 4");

/* Alignment the spec requires of each split part (spec 2.7 table). */
#define VRING_DESC_ALIGN  16
#define VRING_AVAIL_ALIGN 2
#define VRING_USED_ALIGN  4
/* Largest queue size either layout allows (spec 2.6 "Virtqueues"). */
#define VRING_MAX_SIZE 32768u

static inline size_t vring_split_desc_bytes(unsigned n) { return 16u * (size_t)n; }
/* flags + idx + ring[n] + used_event */
static inline size_t vring_split_avail_bytes(unsigned n) { return 6u + 2u * (size_t)n; }
/* flags + idx + ring[n] + avail_event */
static inline size_t vring_split_used_bytes(unsigned n) { return 6u + 8u * (size_t)n; }

/*
 * Event index test (spec 2.7.10 "Used Buffer Notification Suppression" and
 * 2.7.13.4): notify if new_idx has moved past event_idx since old_idx,
 * computed modulo 2^16 so it holds across the wrap.
 */
static inline int vring_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

/* ---- packed ring ---- */
struct vring_packed_desc {
	vnet_le64 addr;
	vnet_le32 len;
	vnet_le16 id;
	vnet_le16 flags;
};
_Static_assert(sizeof(struct vring_packed_desc) == 16, "packed descriptor is 16 bytes");
_Static_assert(offsetof(struct vring_packed_desc, id) == 12, "packed desc.id at 12");
_Static_assert(offsetof(struct vring_packed_desc, flags) == 14, "packed desc.flags at 14");

/* Event suppression structure (spec 2.8.10 "Event Suppression Structure Format"). */
#define VRING_PACKED_EVENT_FLAG_ENABLE  0x0u
#define VRING_PACKED_EVENT_FLAG_DISABLE 0x1u
#define VRING_PACKED_EVENT_FLAG_DESC    0x2u
#define VRING_PACKED_EVENT_F_WRAP_CTR   15
struct vring_packed_desc_event {
	vnet_le16 off_wrap; /* bits 0-14 offset, bit 15 wrap counter */
	vnet_le16 flags;    /* bits 0-1 as above */
};
_Static_assert(sizeof(struct vring_packed_desc_event) == 4, "event suppression is 4 bytes");

#define VRING_PACKED_DESC_ALIGN  16
#define VRING_PACKED_EVENT_ALIGN 4

/*
 * Notification data for VIRTIO_F_NOTIFICATION_DATA (spec "Driver
 * Notifications"): bits 0-15 queue index, 16-30 next_off, bit 31 next_wrap.
 * For split rings next_off|next_wrap<<15 is simply the 16-bit avail index.
 */
static inline uint32_t vring_notification_data(uint16_t vq_index, uint16_t next_off, int next_wrap)
{
	return (uint32_t)vq_index | ((uint32_t)(next_off & 0x7fffu) << 16) |
	       ((uint32_t)(next_wrap ? 1u : 0u) << 31);
}

#endif
