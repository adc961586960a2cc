/*
 * Private state of a virtqueue (see include/vnet/virtqueue.h for the model).
 *
 * Layout-independent parts live here and in virtqueue.c (creation, stats,
 * detach, accessors, dispatch); the layout-specific halves are in
 * vq_split.c and vq_packed.c, each exporting the vq_<layout>_* functions
 * declared at the end of this header.
 *
 * Trust rule: the engine reads from shared memory only what the spec lets
 * the device write (split: used->idx, used ring entries, avail_event and
 * used->flags; packed: id/len/flags of used descriptors and the device event
 * suppression area).  Everything else the driver needs (descriptor chains,
 * its own indices and flags) comes from the shadow below, never from the
 * ring, so a device that rewrites descriptors cannot steer the driver.
 */
#ifndef VNET_CORE_VQ_PRIV_H
#define VNET_CORE_VQ_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "vnet/spec/virtio_config.h"
#include "vnet/spec/virtio_ring.h"
#include "vnet/vnet_hal.h"
#include "vnet/virtqueue.h"

/* ---- shared-memory access and barriers ----
 * Ring fields shared with the device are accessed with relaxed atomics so the
 * compiler neither tears nor caches them; ordering comes from the explicit
 * fences below, each placed where the spec requires a memory barrier.
 * Fences are seq_cst/acq/rel thread fences: on x86 the release/acquire ones
 * are compiler barriers (TSO) and the full one is MFENCE/LOCK; on arm64 they
 * are DMB ISH(LD/ST), sufficient for a coherent (virtual) device. */
#define VQ_LOAD16(p) vnet_le16_to_cpu(__atomic_load_n((p), __ATOMIC_RELAXED))
#define VQ_LOAD32(p) vnet_le32_to_cpu(__atomic_load_n((p), __ATOMIC_RELAXED))
#define VQ_STORE16(p, v) __atomic_store_n((p), vnet_cpu_to_le16(v), __ATOMIC_RELAXED)
#define VQ_STORE32(p, v) __atomic_store_n((p), vnet_cpu_to_le32(v), __ATOMIC_RELAXED)
#define VQ_STORE64(p, v) __atomic_store_n((p), vnet_cpu_to_le64(v), __ATOMIC_RELAXED)
/*
 * A whole 16-byte descriptor in one store where the device cannot be
 * reading it yet (split: before avail->idx moves, spec 2.7.13.3; packed:
 * behind the first descriptor of an unpublished batch, 2.8.21.1): lo and hi
 * are the values of bytes 0..7 and 8..15.  One store-buffer entry instead
 * of two, on the path where the stores queue behind stores into lines the
 * device read last (docs/performance.md, "Fewer stores per frame"); with
 * SIMD registers only (kernels build without them: two stores).  d is
 * 16-byte aligned (spec 2.7.5 and 2.8.10: rings are).
 */
static inline void vq_store_desc(void *d, uint64_t lo, uint64_t hi)
{
#if defined(__SSE2__) || defined(__ARM_NEON)
	typedef uint64_t vq_u64x2 __attribute__((vector_size(16)));
	vq_u64x2 v = {vnet_cpu_to_le64(lo), vnet_cpu_to_le64(hi)};
	*(volatile vq_u64x2 *)d = v;
#else
	VQ_STORE64((vnet_le64 *)d, lo);
	VQ_STORE64((vnet_le64 *)d + 1, hi);
#endif
}
/* Writes before it are visible before writes after it (publish). */
#define vq_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
/* Reads after it see data at least as new as reads before it (consume). */
#define vq_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
/* Full barrier: order our index/flag store before reading the device's
 * suppression fields (spec 2.7.13.4 / 2.8.21.3.1: "memory barrier"). */
#define vq_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)

/*
 * vq_io_wmb(): every store to ordinary memory before it (ring
 * descriptors, indices, flags) is visible to the device before any MMIO
 * store after it (the doorbell).  VirtIO 1.2 §2.7.13 / §2.8.21: the
 * driver publishes, then "performs a suitable memory barrier", then
 * notifies.  The fences above are C11 fences meant for
 * memory seen by other CPUs; what they compile to need not order a
 * Device-memory or I/O store (an inner-shareable DMB on aarch64; GCC's
 * riscv64 mapping of a seq_cst fence may drop the I/O bits), so the one
 * path every doorbell takes, vnet_device_notify(), issues this:
 *  - x86-64: stores are not reordered with later stores, uncached ones
 *    included (x86 TSO): a compiler barrier;
 *  - aarch64: DMB OSHST, store-store over the outer shareable domain a
 *    device belongs to (Linux's writel() uses the same before its store);
 *  - riscv64: FENCE W,O, memory writes before device output;
 *  - ppc64: SYNC (hwsync), which orders cacheable stores against
 *    cache-inhibited ones (eieio orders each class only within itself),
 *    as the kernel's byte-reversed accessors (kernel/arch/ppc64/e500.h) do;
 *  - anything else: a sequentially consistent fence, the best C11 offers.
 * Freestanding (inline asm); any context.
 */
static inline void vq_io_wmb(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("" : : : "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("dmb oshst" : : : "memory");
#elif defined(__riscv)
	__asm__ __volatile__("fence w,o" : : : "memory");
#elif defined(__powerpc__) || defined(__powerpc64__)
	__asm__ __volatile__("sync" : : : "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

#define VQ_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define VQ_LIKELY(x) __builtin_expect(!!(x), 1)
/* Store v into lvalue lv only when it differs.  For the chain metadata of
 * one-descriptor buffers (the same values lap after lap): on the transmit
 * path each store queues in the store buffer behind stores into ring and
 * frame lines the device read last, so a load and compare of a hot
 * private line is cheaper than the store (docs/performance.md, "Fewer
 * stores per frame"). */
#define VQ_SET_IF_CHANGED(lv, v)                                                                              \
	do {                                                                                                  \
		if ((lv) != (v))                                                                              \
			(lv) = (v);                                                                           \
	} while (0)

/* Per chain (split: per head descriptor; packed: per buffer id). */
struct vq_chain {
	void *cookie;                /* NULL when the slot is free */
	union {
		struct {
			uint32_t in_len;     /* sum of device-writable lengths: bound for used len */
			uint16_t ndesc;      /* ring descriptors the chain occupies (1 if indirect) */
			uint8_t indirect;    /* chain uses the indirect table of this slot */
			uint8_t meta_zero;   /* always 0 (part of meta) */
		};
		uint64_t meta;               /* the three above, compared and stored at once */
	};
	uint16_t last;               /* split: last ring descriptor of the chain;
	                              * packed: next id in the free-id list */
};

/* The meta image of a one-descriptor buffer offering in_len writable bytes. */
static inline uint64_t vq_chain_meta_one(uint32_t in_len)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return (uint64_t)in_len << 32 | (uint64_t)1u << 16;
#else
	return (uint64_t)in_len | (uint64_t)1u << 32;
#endif
}
_Static_assert(sizeof(((struct vq_chain *)0)->meta) == 8, "vq_chain: meta is 8 bytes");

/* Split-ring shadow (spec 2.7). */
struct vq_split {
	struct vring_desc *desc;       /* shared */
	struct vring_avail *avail;     /* shared */
	struct vring_used *used;       /* shared */
	vnet_le16 *used_event;         /* shared: &avail->ring[size] */
	vnet_le16 *avail_event;        /* shared: &used->ring[size] */
	struct vring_desc *shadow;     /* private: only .next is kept (host order): the
	                                * free list, and the links of outstanding chains */
	uint16_t free_head;            /* first free descriptor (list through shadow[].next) */
	uint16_t avail_idx;            /* our next avail->idx (free-running) */
	uint16_t avail_published;      /* avail->idx as last stored */
	uint16_t avail_kicked;         /* avail->idx at the last kick decision */
	uint16_t last_used;            /* next used entry to consume (free-running) */
	uint16_t avail_flags;          /* shadow of avail->flags */
	/* IN_ORDER: order[pos % size] is the head made available at avail
	 * position pos, so the FIFO of outstanding heads is
	 * order[last_used .. avail_idx) (no separate head/count needed). */
	uint16_t *order;               /* ring of size entries, NULL without IN_ORDER */
	uint16_t batch_left;           /* IN_ORDER: chains of the current used batch not yet
	                                * handed back (the caller's array was full) */
	uint32_t batch_len;            /* IN_ORDER: checked used len of that batch's last chain */
};

/* Packed-ring shadow (spec 2.8).  Positions are ring offsets 0..size-1 that
 * wrap at size (any size, not only powers of two) together with a one-bit
 * wrap counter; the pair (position, wrap) is what the device sees. */
struct vq_packed {
	struct vring_packed_desc *desc;              /* shared */
	struct vring_packed_desc_event *driver;      /* shared: we write */
	struct vring_packed_desc_event *device;      /* shared: device writes */
	uint16_t next_avail;           /* ring position of the next descriptor we write */
	uint16_t avail_wrap;           /* Driver Ring Wrap Counter (0/1) at next_avail */
	uint16_t avail_used_flags;     /* AVAIL/USED bits marking "available" in this lap */
	uint16_t last_used;            /* ring position of the next used descriptor */
	uint16_t used_wrap;            /* Device Ring Wrap Counter we expect at last_used */
	uint16_t used_flags;           /* AVAIL|USED bits of a used descriptor in this lap */
	uint16_t free_id;              /* head of the free buffer-id list (through chain.last); unused with IN_ORDER */
	uint16_t pending_desc;         /* ring descriptors written but not yet published */
	uint16_t pending_first;        /* first descriptor of the unpublished batch */
	uint16_t pending_first_flags;  /* its flags, stored last to publish the batch */
	uint32_t since_kick;           /* descriptors published since the last kick decision */
	uint16_t event_flags;          /* shadow of driver->flags */
	uint16_t event_off_wrap;       /* shadow of driver->off_wrap */
	/* IN_ORDER batch completion being handed back across get_used calls:
	 * every outstanding chain from last_used up to and including the one
	 * at position io_target (ids are positions, vq_packed.c) is complete. */
	uint16_t io_target;            /* VQ_PACKED_NONE when no batch is pending */
	uint32_t io_len;               /* used len reported for io_target */
};

struct vnet_vq {
	enum vnet_vq_layout layout;
	uint16_t size;
	uint16_t index;
	uint16_t num_free;          /* free ring descriptors */
	uint16_t outstanding;       /* chains owned by the device */
	uint16_t indirect_max;      /* 0: indirect not used */
	uint16_t indirect_min;      /* >= 2: shorter chains stay direct */
	bool event_idx;
	bool in_order;
	bool read_only;                /* cfg->read_only: no writable buffers, lengths unused */
	bool notif_data;
	bool legacy;        /* no VERSION_1: legacy split layout (used ring 4096-aligned) */
	bool broken;
	bool cb_enabled;
	char name[16];
	struct vq_chain *chain;     /* [size] private */
	struct vnet_dma ring;       /* shared ring memory */
	struct vnet_dma indir;      /* shared: size * indirect_max descriptors, slot i = chain i */
	uint16_t detach_cursor;     /* scan position for detach_unused */
	struct vnet_vq_stats stats;
	union {
		struct vq_split split;
		struct vq_packed packed;
	};
};

/* Latch broken with a reason; counted once per violation; logged once. */
void vq_fault(struct vnet_vq *vq, enum vnet_vq_fault why, uint32_t a, uint32_t b);

/* Indirect table for chain slot i (va and iova). */
static inline void *vq_indir_va(const struct vnet_vq *vq, uint16_t i)
{
	return (char *)vq->indir.va + (size_t)i * vq->indirect_max * 16u;
}
static inline uint64_t vq_indir_iova(const struct vnet_vq *vq, uint16_t i)
{
	return vq->indir.iova + (uint64_t)i * vq->indirect_max * 16u;
}

/* ---- per-layout halves ----
 * Bookkeeping split: virtqueue.c validates arguments, refuses calls on a
 * broken queue, and counts stats.added/full/completed/kicks; it increments
 * vq->outstanding after a successful add and decrements it on detach.  The
 * layout halves maintain vq->num_free, and decrement vq->outstanding for
 * every chain they hand back from get_used. */
/* Bytes and alignment of the shared ring area for this size. */
size_t vq_split_ring_bytes(uint16_t size, bool legacy);
size_t vq_packed_ring_bytes(uint16_t size);
/* Point the shadow at vq->ring, allocate layout-private arrays, initialise.
 * May be called again by vnet_vq_reset (arrays already allocated then). */
int vq_split_init(struct vnet_vq *vq, bool first);
int vq_packed_init(struct vnet_vq *vq, bool first);
void vq_split_fini(struct vnet_vq *vq);
void vq_packed_fini(struct vnet_vq *vq);
void vq_split_ring_addrs(const struct vnet_vq *vq, uint64_t *d, uint64_t *dr, uint64_t *dv);
void vq_packed_ring_addrs(const struct vnet_vq *vq, uint64_t *d, uint64_t *dr, uint64_t *dv);
int vq_split_add(struct vnet_vq *vq, const struct vnet_sg *sg, unsigned out_n, unsigned in_n, void *cookie);
int vq_packed_add(struct vnet_vq *vq, const struct vnet_sg *sg, unsigned out_n, unsigned in_n, void *cookie);
/* Up to n one-descriptor chains (vnet_vq_add_bufs), stopping at the first
 * NULL cookie or when the ring is full; returns how many were added. */
unsigned vq_split_add_bufs(struct vnet_vq *vq, const struct vnet_sg *sg, void *const *cookies, unsigned n,
                           bool writable);
unsigned vq_packed_add_bufs(struct vnet_vq *vq, const struct vnet_sg *sg, void *const *cookies, unsigned n,
                            bool writable);
bool vq_split_kick_prepare(struct vnet_vq *vq);
bool vq_packed_kick_prepare(struct vnet_vq *vq);
uint32_t vq_split_notify_data(const struct vnet_vq *vq);
uint32_t vq_packed_notify_data(const struct vnet_vq *vq);
unsigned vq_split_get_used(struct vnet_vq *vq, struct vnet_vq_used *out, unsigned max);
unsigned vq_packed_get_used(struct vnet_vq *vq, struct vnet_vq_used *out, unsigned max);
void vq_split_ring_state(const struct vnet_vq *vq, struct vnet_vq_ring_state *st);
void vq_packed_ring_state(const struct vnet_vq *vq, struct vnet_vq_ring_state *st);
bool vq_split_has_used(struct vnet_vq *vq);
bool vq_packed_has_used(struct vnet_vq *vq);
bool vq_split_enable_cb(struct vnet_vq *vq);
bool vq_packed_enable_cb(struct vnet_vq *vq);
void vq_split_disable_cb(struct vnet_vq *vq);
void vq_packed_disable_cb(struct vnet_vq *vq);
/* Release the chain in slot i back to the free pool (detach path; the
 * cookie has already been taken). */
void vq_split_release(struct vnet_vq *vq, uint16_t i);
void vq_packed_release(struct vnet_vq *vq, uint16_t i);

#endif
