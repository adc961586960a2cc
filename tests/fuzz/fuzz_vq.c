/*
 * libFuzzer target for the virtqueue engine alone (src/core virtqueue.c,
 * vq_split.c, vq_packed.c), both layouts, against a device the input
 * controls.
 *
 * What it does: the first bytes choose the layout, the queue size and the
 * ring features (EVENT_IDX, IN_ORDER, INDIRECT_DESC); the rest is a
 * program of steps.  The driver side posts chains (1-4 elements, readable
 * and writable, each with a cookie the harness tracks), publishes, takes
 * completions, toggles notifications, and detaches + resets.  The device
 * side is a minimal device written here from the spec: it learns posted
 * buffers from the available side (split avail ring / packed available
 * descriptors) and answers with used entries whose id, length, flags and
 * publication the input chooses: honest (the oldest, or any, buffer it
 * saw), corrupted, or raw bytes written anywhere the device may write
 * (split used ring and avail_event; packed descriptor ring and device
 * event area).
 * Invariants checked after every step (abort = finding):
 *  - every cookie handed back (get_used, detach_unused) was outstanding and
 *    comes back exactly once; a completion's length is never larger than
 *    the writable bytes posted with it;
 *  - the engine's accounting: added == completed + detached + outstanding,
 *    outstanding == what the harness thinks the device holds, free
 *    descriptors <= size;
 *  - at the end every outstanding cookie comes back from detach_unused,
 *    and destroy gives back every DMA and private allocation (fake HAL
 *    counters).
 * What it does not: model timing or threads; buffer memory is never
 * touched by the engine, so sg addresses are arbitrary.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_hal.h"
#include "vnet/features.h"
#include "vnet/spec/virtio_config.h"
#include "vnet/spec/virtio_ring.h"
#include "vnet/virtqueue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_TOK 512u
#define FZ_SEEN 512u

#define CHECK(c)                                                                          \
	do {                                                                              \
		if (!(c)) {                                                               \
			fprintf(stderr, "fuzz_vq: invariant failed: %s (line %d)\n", #c, __LINE__); \
			abort();                                                          \
		}                                                                         \
	} while (0)

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

/* Little-endian, as gen_seeds_rx.py writes it (struct.pack "<H"/"<I").
 * One read per statement: the order of two calls in one expression is
 * unspecified (gcc evaluated them right to left and read every 16- and
 * 32-bit field of the seeds swapped; fuzz_net_rx.c had the same bug). */
static uint16_t u16(struct in *in)
{
	uint8_t lo = u8(in);
	uint8_t hi = u8(in);
	return (uint16_t)(lo | (hi << 8));
}

static uint32_t u32(struct in *in)
{
	uint32_t lo = u16(in);
	uint32_t hi = u16(in);
	return lo | (hi << 16);
}

/* The byte order the seeds were written in, checked once per process: a
 * reader that swaps bytes again makes every replay fail, not just fuzz
 * somewhere else than the seeds meant. */
static void fz_check_reader(void)
{
	static const uint8_t b[] = {0x34, 0x12, 0x78, 0x56, 0x34, 0x12};
	struct in in = {b, sizeof(b)};
	uint16_t v16 = u16(&in);
	uint32_t v32 = u32(&in);
	CHECK(v16 == 0x1234u);
	CHECK(v32 == 0x12345678u);
}

struct tok {
	bool out;        /* posted, not yet handed back */
	uint32_t in_len; /* writable bytes posted */
};

/* What the device saw made available: a buffer id and its ring slots. */
struct seen {
	uint16_t id;
	uint16_t ndesc;
};

struct fz {
	struct vnet_vq *vq;
	uint16_t size;
	bool packed;
	struct tok tok[FZ_TOK];
	unsigned outstanding;
	/* device side */
	uint8_t *desc, *drv, *dev; /* ring areas, device view */
	uint16_t last_avail;       /* split */
	uint16_t used_idx;         /* split: device's used index (published separately) */
	uint16_t avail_pos, used_pos;
	bool avail_wrap, used_wrap;
	struct seen seen[FZ_SEEN];
	unsigned nseen;
};

static void fz_device_attach(struct fz *z)
{
	uint64_t d, drv, dev;
	vnet_vq_ring_addrs(z->vq, &d, &drv, &dev);
	size_t dl = z->packed ? 16u * (size_t)z->size : vring_split_desc_bytes(z->size);
	size_t al = z->packed ? 4u : vring_split_avail_bytes(z->size);
	size_t ul = z->packed ? 4u : vring_split_used_bytes(z->size);
	z->desc = fake_hal_iova_to_va(d, dl);
	z->drv = fake_hal_iova_to_va(drv, al);
	z->dev = fake_hal_iova_to_va(dev, ul);
	CHECK(z->desc && z->drv && z->dev);
	z->last_avail = z->used_idx = 0;
	z->avail_pos = z->used_pos = 0;
	z->avail_wrap = z->used_wrap = true; /* spec 2.8.1: both start at 1 */
	z->nseen = 0;
}

static void fz_seen_add(struct fz *z, uint16_t id, uint16_t ndesc)
{
	if (z->nseen < FZ_SEEN)
		z->seen[z->nseen++] = (struct seen){id, ndesc};
}

/* The device reads what was made available (without checking it: a
 * driver bug would show as an engine invariant, not here). */
static void fz_device_consume(struct fz *z)
{
	if (!z->packed) {
		const struct vring_avail *a = (const void *)z->drv;
		uint16_t idx = vnet_le16_to_cpu(__atomic_load_n(&a->idx, __ATOMIC_ACQUIRE));
		for (unsigned k = 0; z->last_avail != idx && k < z->size; k++, z->last_avail++)
			fz_seen_add(z, vnet_le16_to_cpu(a->ring[z->last_avail % z->size]), 1);
		return;
	}
	const struct vring_packed_desc *r = (const void *)z->desc;
	for (unsigned k = 0; k < z->size; k++) {
		uint16_t pos = z->avail_pos;
		bool wrap = z->avail_wrap;
		uint16_t id = 0, nd = 0;
		for (;;) {
			uint16_t f = vnet_le16_to_cpu(__atomic_load_n(&r[pos].flags, __ATOMIC_ACQUIRE));
			bool av = (f >> VRING_PACKED_DESC_F_AVAIL) & 1u, us = (f >> VRING_PACKED_DESC_F_USED) & 1u;
			if (av != wrap || us == wrap)
				return; /* not (yet, or wholly) available */
			id = vnet_le16_to_cpu(r[pos].id);
			nd++;
			if (++pos == z->size) {
				pos = 0;
				wrap = !wrap;
			}
			if (!(f & VRING_DESC_F_NEXT) || nd >= z->size)
				break;
		}
		z->avail_pos = pos;
		z->avail_wrap = wrap;
		fz_seen_add(z, id, nd);
	}
}

/* Write one used entry: buffer k of what the device saw (removed from the
 * list), with the input's length; mode may corrupt the id or the flags. */
static void fz_device_use(struct fz *z, struct in *in)
{
	uint8_t sel = u8(in), mode = u8(in);
	uint32_t len = (mode & 0x80) ? u32(in) : u8(in);
	struct seen s = {u16(in), 1};
	if (z->nseen && !(mode & 0x40)) {
		unsigned k = (mode & 0x20) ? sel % z->nseen : 0; /* 0: in order */
		s = z->seen[k];
		memmove(&z->seen[k], &z->seen[k + 1], (z->nseen - k - 1) * sizeof(s));
		z->nseen--;
	}
	if (mode & 0x10)
		s.id ^= (uint16_t)(1u << (sel & 15));
	if (!z->packed) {
		struct vring_used *u = (void *)z->dev;
		u->ring[z->used_idx % z->size].id = vnet_cpu_to_le32(s.id);
		u->ring[z->used_idx % z->size].len = vnet_cpu_to_le32(len);
		z->used_idx++;
		if (mode & 0x08) /* publish at once (else a later publish step) */
			__atomic_store_n(&u->idx, vnet_cpu_to_le16(z->used_idx), __ATOMIC_RELEASE);
		return;
	}
	struct vring_packed_desc *r = (void *)z->desc;
	struct vring_packed_desc *d = &r[z->used_pos];
	d->id = vnet_cpu_to_le16(s.id);
	d->len = vnet_cpu_to_le32(len);
	uint16_t f = z->used_wrap ? (uint16_t)((1u << VRING_PACKED_DESC_F_AVAIL) | (1u << VRING_PACKED_DESC_F_USED)) : 0;
	if (len)
		f |= VRING_DESC_F_WRITE;
	if (mode & 0x04)
		f ^= (uint16_t)(1u << (sel & 15)); /* lie in the flags */
	__atomic_store_n(&d->flags, vnet_cpu_to_le16(f), __ATOMIC_RELEASE);
	uint16_t step = (mode & 0x02) ? (uint16_t)(1u + sel % z->size) : s.ndesc;
	z->used_pos = (uint16_t)(z->used_pos + step);
	while (z->used_pos >= z->size) {
		z->used_pos = (uint16_t)(z->used_pos - z->size);
		z->used_wrap = !z->used_wrap;
	}
}

/* Raw bytes anywhere the device may write. */
static void fz_device_raw(struct fz *z, struct in *in)
{
	uint16_t off = u16(in);
	uint16_t v = u16(in);
	uint8_t *base;
	size_t len;
	if (!z->packed) {
		if (off & 1u) {
			base = z->dev;
			len = vring_split_used_bytes(z->size);
		} else {
			base = z->dev;
			len = 4; /* used flags / idx */
		}
	} else if (off & 1u) {
		base = z->desc;
		len = 16u * (size_t)z->size;
	} else {
		base = z->dev;
		len = 4; /* device event suppression */
	}
	size_t at = (size_t)(off >> 1) % (len - 1u);
	memcpy(base + at, &v, 2);
}

static void fz_check(struct fz *z)
{
	struct vnet_vq_stats st;
	vnet_vq_get_stats(z->vq, &st);
	unsigned out = vnet_vq_outstanding(z->vq);
	CHECK(out == z->outstanding);
	CHECK(st.added == st.completed + st.detached + out);
	CHECK(vnet_vq_num_free(z->vq) <= z->size);
	/* A fault latches the queue broken (until a reset clears it). */
	if (vnet_vq_is_broken(z->vq))
		CHECK(vnet_vq_add(z->vq, &(struct vnet_sg){0x1000, 1}, 0, 1, &z->tok[0]) == VNET_EBROKEN);
}

static void fz_take(struct fz *z, void *cookie, uint32_t len, bool detached)
{
	struct tok *t = cookie;
	CHECK(t >= z->tok && t < z->tok + FZ_TOK);
	CHECK(t->out); /* never handed back twice */
	if (!detached)
		CHECK(len <= t->in_len);
	t->out = false;
	z->outstanding--;
}

static void fz_add(struct fz *z, struct in *in)
{
	uint8_t a = u8(in);
	unsigned n = 1u + (a & 3u);
	unsigned out_n = (a >> 2) % (n + 1u);
	struct vnet_sg sg[4];
	uint32_t in_len = 0;
	for (unsigned i = 0; i < n; i++) {
		sg[i].addr = 0x100000u + (uint64_t)u8(in) * 4096u;
		sg[i].len = 1u + u8(in) * 16u;
		if (i >= out_n)
			in_len += sg[i].len;
	}
	/* a free token */
	unsigned k = u8(in) % FZ_TOK;
	for (unsigned j = 0; j < FZ_TOK && z->tok[k].out; j++)
		k = (k + 1) % FZ_TOK;
	if (z->tok[k].out)
		return;
	int rc = vnet_vq_add(z->vq, sg, out_n, n - out_n, &z->tok[k]);
	CHECK(rc == VNET_OK || rc == VNET_ENOSPC || rc == VNET_EBROKEN || rc == VNET_EINVAL);
	if (rc == VNET_OK) {
		z->tok[k].out = true;
		z->tok[k].in_len = in_len;
		z->outstanding++;
	}
}

static void fz_detach_all(struct fz *z)
{
	void *c;
	while ((c = vnet_vq_detach_unused(z->vq)) != NULL)
		fz_take(z, c, 0, true);
	CHECK(z->outstanding == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t sizes[] = {1, 2, 4, 8, 16, 64, 256, 3};
	static int reader_checked;
	if (!reader_checked) {
		fz_check_reader();
		reader_checked = 1;
	}
	struct in in = {data, size};
	uint8_t c = u8(&in);
	struct fz *z = calloc(1, sizeof(*z));
	if (!z)
		return 0;
	z->packed = c & 1u;
	z->size = sizes[(c >> 4) & 7u];
	if (!z->packed && (z->size & (z->size - 1u)))
		z->size = 4; /* split sizes are powers of two */
	uint64_t f = VNET_BIT(VIRTIO_F_VERSION_1);
	if (c & 2u)
		f |= VNET_BIT(VIRTIO_F_EVENT_IDX);
	if (c & 4u)
		f |= VNET_BIT(VIRTIO_F_IN_ORDER);
	if (c & 8u)
		f |= VNET_BIT(VIRTIO_F_INDIRECT_DESC);
	if (z->packed)
		f |= VNET_BIT(VIRTIO_F_RING_PACKED);
	size_t dma0 = fake_hal_live_dma(), priv0 = fake_hal_live_private();
	struct vnet_vq_config cfg = {
		.index = 0,
		.size = z->size,
		.layout = z->packed ? VNET_VQ_PACKED : VNET_VQ_SPLIT,
		.features = f,
		.indirect_max = (c & 8u) ? 4 : 0,
		.name = "fuzz",
	};
	if (vnet_vq_create(&cfg, &z->vq) != VNET_OK) {
		free(z);
		return 0;
	}
	fz_device_attach(z);
	for (unsigned step = 0; in.n && step < 4096; step++) {
		uint8_t op = u8(&in);
		switch (op % 10u) {
		case 0:
		case 1:
			fz_add(z, &in);
			break;
		case 2:
			vnet_vq_kick_prepare(z->vq);
			fz_device_consume(z);
			break;
		case 3:
		case 4:
			fz_device_use(z, &in);
			break;
		case 5:
			if (!z->packed) {
				struct vring_used *u = (void *)z->dev;
				uint16_t v = (op & 0x80) ? u16(&in) : z->used_idx;
				__atomic_store_n(&u->idx, vnet_cpu_to_le16(v), __ATOMIC_RELEASE);
			}
			break;
		case 6: {
			struct vnet_vq_used u[8];
			unsigned max = 1u + (op >> 4) % 8u;
			(void)vnet_vq_has_used(z->vq);
			bool broken = vnet_vq_is_broken(z->vq);
			unsigned got = vnet_vq_get_used(z->vq, u, max);
			CHECK(got <= max);
			CHECK(!broken || got == 0);
			for (unsigned i = 0; i < got; i++)
				fz_take(z, u[i].cookie, u[i].len, false);
			break;
		}
		case 7:
			if (op & 0x10)
				(void)vnet_vq_enable_cb(z->vq);
			else
				vnet_vq_disable_cb(z->vq);
			break;
		case 8:
			fz_device_raw(z, &in);
			break;
		case 9:
			if ((op >> 4) == 0) {
				/* Reset: the device forgets everything, the driver takes all back. */
				fz_detach_all(z);
				CHECK(vnet_vq_reset(z->vq) == VNET_OK);
				CHECK(!vnet_vq_is_broken(z->vq));
				fz_device_attach(z);
			} else {
				(void)vnet_vq_notify_data(z->vq);
			}
			break;
		}
		fz_check(z);
	}
	fz_detach_all(z);
	fz_check(z);
	vnet_vq_destroy(z->vq);
	CHECK(fake_hal_live_dma() == dma0);
	CHECK(fake_hal_live_private() == priv0);
	free(z);
	return 0;
}
