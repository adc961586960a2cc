/*
 * Virtqueue engine against the spec-following device model
 * (tests/devmodel): every case runs for the split and the packed layout.
 *
 * What a user relies on and what is asserted here: every cookie comes back
 * exactly once with the length the device wrote; the device sees exactly
 * the bytes posted; the ring survives many wrap-arounds at every legal
 * size; notification suppression follows the spec both ways (a missing
 * kick stalls the device model, an unneeded one is counted); a full ring
 * says VNET_ENOSPC and recovers; reset with buffers outstanding hands
 * every cookie back; NOTIFICATION_DATA carries the right value; enable_cb
 * reports a completion that slipped in; and a concurrent device thread
 * changes none of that.  The device model counts every driver-side spec
 * violation it sees and each test asserts there were none.
 */
#define _GNU_SOURCE
#include "test_vq_common.h"

#include <sched.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* stream: post, kick, let the device run, reap, check                 */
/* ------------------------------------------------------------------ */

struct stream {
	struct rig *r;
	uint64_t total;
	unsigned max_burst;
	unsigned max_out, max_in;  /* segments per chain (random 0..max, at least one in all) */
	uint32_t seed;
	bool check_data;           /* per-chain buffers, contents and pattern checked */
	bool in_order;             /* cookies must come back in add order */
	bool expect_indirect;      /* multi-segment chains must reach the device as indirect */
	bool threaded;
	bool lenient_len;          /* only len <= writable bytes is checked */
	uint32_t fixed_len;        /* DM_LEN_FIXED value, 0 = FULL */
	/* per seq */
	uint32_t *csum, *olen, *ilen, *slot;
	uint8_t *ret;
	unsigned *free_slots;
	unsigned nfree;
	unsigned segs;             /* segments per slot */
	uint64_t next_seq, done, next_expected;
	unsigned cb_bad;           /* device saw something else than posted */
};

static void stream_on_buffer(void *ctx, const struct dm_buf_info *info)
{
	struct stream *s = ctx;
	if (info->seq >= s->next_seq || info->out_len != s->olen[info->seq] || info->in_len != s->ilen[info->seq] ||
	    (s->check_data && info->out_csum != s->csum[info->seq]) ||
	    (s->expect_indirect && info->nseg > 1 && !info->indirect)) {
		__atomic_fetch_add(&s->cb_bad, 1, __ATOMIC_RELAXED);
		if (getenv("ORION_VNET_TEST_VERBOSE"))
			fprintf(stderr, "seq %llu: device saw out %u in %u csum %08x ind %d, posted out %u in %u csum %08x\n",
			        (unsigned long long)info->seq, info->out_len, info->in_len, info->out_csum, info->indirect,
			        s->olen[info->seq], s->ilen[info->seq], s->csum[info->seq]);
	}
}

static void stream_init(struct stream *s, struct rig *r, uint64_t total)
{
	memset(s, 0, sizeof(*s));
	s->r = r;
	s->total = total;
	s->max_burst = r ? r->vc.size : 1;
	s->max_out = 1;
	s->max_in = 1;
	s->seed = 0x9e3779b9u;
}

static void stream_alloc(struct stream *s)
{
	s->csum = calloc(s->total, sizeof(uint32_t));
	s->olen = calloc(s->total, sizeof(uint32_t));
	s->ilen = calloc(s->total, sizeof(uint32_t));
	s->slot = calloc(s->total, sizeof(uint32_t));
	s->ret = calloc(s->total, 1);
	s->segs = s->max_out + s->max_in;
	unsigned nslots = s->check_data ? s->r->nslots / s->segs : 1;
	assert_true(nslots >= 1);
	s->free_slots = calloc(nslots, sizeof(unsigned));
	assert_true(s->csum && s->olen && s->ilen && s->slot && s->ret && s->free_slots);
	for (unsigned i = 0; i < nslots; i++)
		s->free_slots[s->nfree++] = nslots - 1u - i;
}

static void stream_free(struct stream *s)
{
	free(s->csum);
	free(s->olen);
	free(s->ilen);
	free(s->slot);
	free(s->ret);
	free(s->free_slots);
}

/* Post chain next_seq. Returns VNET_OK / VNET_ENOSPC. */
static int stream_add(struct stream *s)
{
	struct rig *r = s->r;
	uint64_t k = s->next_seq;
	unsigned nout = s->max_out ? xs32(&s->seed) % (s->max_out + 1u) : 0;
	unsigned nin = s->max_in ? xs32(&s->seed) % (s->max_in + 1u) : 0;
	if (nout + nin == 0) {
		if (s->max_out)
			nout = 1;
		else
			nin = 1;
	}
	if (nout + nin > r->vc.size) {
		nout = nout > r->vc.size ? r->vc.size : nout;
		nin = r->vc.size - nout;
	}
	unsigned slot = 0;
	if (s->check_data) {
		if (!s->nfree)
			return VNET_ENOSPC;
		slot = s->free_slots[--s->nfree];
	}
	struct vnet_sg sg[16];
	uint32_t csum = DM_CSUM_INIT, ol = 0, il = 0;
	for (unsigned j = 0; j < nout + nin; j++) {
		unsigned si = slot * s->segs + j;
		sg[j].addr = seg_iova(r, si);
		sg[j].len = 1u + xs32(&s->seed) % SEG;
		if (j < nout) {
			ol += sg[j].len;
			if (s->check_data) {
				uint8_t *p = seg_va(r, si);
				for (unsigned b = 0; b < sg[j].len; b++)
					p[b] = (uint8_t)xs32(&s->seed);
				csum = dm_checksum(csum, p, sg[j].len);
			}
		} else {
			il += sg[j].len;
			if (s->check_data)
				memset(seg_va(r, si), 0, SEG);
		}
	}
	s->csum[k] = csum;
	s->olen[k] = ol;
	s->ilen[k] = il;
	s->slot[k] = slot;
	int rc = vnet_vq_add(r->vq, sg, nout, nin, cookie_of(k));
	if (rc != VNET_OK) {
		if (s->check_data)
			s->free_slots[s->nfree++] = slot;
		return rc;
	}
	s->next_seq++;
	return VNET_OK;
}

static void stream_reap_one(struct stream *s, const struct vnet_vq_used *u)
{
	uint64_t k = seq_of(u->cookie);
	assert_true(k < s->next_seq);
	if (s->ret[k])
		fail_msg("cookie %llu returned twice", (unsigned long long)k);
	s->ret[k] = 1;
	uint32_t want = s->fixed_len && s->fixed_len < s->ilen[k] ? s->fixed_len : s->ilen[k];
	if (s->lenient_len ? u->len > s->ilen[k] : u->len != want)
		fail_msg("cookie %llu: len %u, device wrote %u", (unsigned long long)k, u->len, want);
	if (s->in_order) {
		if (k != s->next_expected)
			fail_msg("cookie %llu returned, expected %llu (in order)", (unsigned long long)k,
			         (unsigned long long)s->next_expected);
		s->next_expected++;
	}
	if (s->check_data) /* written bytes are checked in sg_pattern_case */
		s->free_slots[s->nfree++] = s->slot[k];
	s->done++;
}

static unsigned stream_drain(struct stream *s)
{
	struct vnet_vq_used u[32];
	unsigned n, total = 0;
	while ((n = vnet_vq_get_used(s->r->vq, u, 32)) != 0) {
		for (unsigned i = 0; i < n; i++)
			stream_reap_one(s, &u[i]);
		total += n;
	}
	return total;
}

static void stream_run(struct stream *s)
{
	struct rig *r = s->r;
	unsigned idle = 0;
	while (s->done < s->total) {
		unsigned burst = 1u + xs32(&s->seed) % s->max_burst;
		unsigned added = 0;
		while (added < burst && s->next_seq < s->total && stream_add(s) == VNET_OK)
			added++;
		rig_kick(r);
		unsigned got = 0;
		if (!s->threaded)
			dm_poll(r->dm, r->vc.size);
		got = stream_drain(s);
		if (got == 0 && added == 0) {
			if (++idle > (s->threaded ? 200000000u : 1000u))
				fail_msg("%s: stalled at %llu/%llu (outstanding %u, device pending %u, broken %d)",
				         LNAME(r->vc.layout), (unsigned long long)s->done, (unsigned long long)s->total,
				         vnet_vq_outstanding(r->vq), s->threaded ? 0 : dm_pending(r->dm),
				         vnet_vq_is_broken(r->vq));
			if (s->threaded && (idle & 63u) == 0)
				sched_yield();
		} else {
			idle = 0;
		}
		if (!s->threaded)
			rig_check_dm(r);
	}
	assert_false(vnet_vq_is_broken(r->vq));
	assert_int_equal(s->cb_bad, 0);
	for (uint64_t k = 0; k < s->total; k++)
		if (s->ret[k] != 1)
			fail_msg("cookie %llu returned %u times", (unsigned long long)k, s->ret[k]);
	struct vnet_vq_stats st;
	vnet_vq_get_stats(r->vq, &st);
	assert_int_equal(st.faults, 0);
	assert_int_equal(st.bad_len, 0);
	assert_int_equal(vnet_vq_outstanding(r->vq), 0);
	assert_int_equal(vnet_vq_num_free(r->vq), r->vc.size);
}

/* Run total chains through a fresh rig; dm options from tmpl. */
static void run_stream(enum vnet_vq_layout l, uint16_t size, uint64_t extra, uint16_t ind, struct dm_config *tmpl,
                       uint64_t total, unsigned max_out, unsigned max_in, bool check, bool in_order)
{
	struct rig r;
	struct stream s;
	struct dm_config dc;
	memset(&dc, 0, sizeof(dc));
	if (tmpl)
		dc = *tmpl;
	unsigned segs = max_out + max_in;
	stream_init(&s, NULL, total);
	s.max_out = max_out;
	s.max_in = max_in;
	s.check_data = check;
	s.in_order = in_order;
	s.fixed_len = dc.len_mode == DM_LEN_FIXED ? dc.len_value : 0;
	s.expect_indirect = ind > 1 && (extra & VNET_BIT(VIRTIO_F_INDIRECT_DESC)) && segs <= ind;
	dc.on_buffer = stream_on_buffer;
	dc.ctx = &s;
	rig_open(&r, l, size, extra, ind, &dc, check ? (unsigned)size * segs : 64);
	s.r = &r;
	s.max_burst = size;
	stream_alloc(&s);
	stream_run(&s);
	stream_free(&s);
	rig_close(&r);
}

/* ------------------------------------------------------------------ */
/* create / destroy / invalid                                          */
/* ------------------------------------------------------------------ */

static void test_create_destroy(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	static const uint16_t split_sizes[] = {1, 2, 4, 256, 1024, 32768};
	static const uint16_t packed_sizes[] = {1, 2, 3, 7, 256, 1000, 32768};
	const uint16_t *sz = l == VNET_VQ_SPLIT ? split_sizes : packed_sizes;
	size_t nsz = l == VNET_VQ_SPLIT ? sizeof(split_sizes) / 2 : sizeof(packed_sizes) / 2;
	size_t dma0 = fake_hal_live_dma(), priv0 = fake_hal_live_private();
	for (size_t i = 0; i < nsz; i++) {
		for (int ind = 0; ind < 2; ind++) {
			struct vnet_vq_config c = {.index = 1, .size = sz[i], .layout = l,
			                           .features = feats(l, ind ? VNET_BIT(VIRTIO_F_INDIRECT_DESC) : 0),
			                           .indirect_max = ind ? 8 : 0, .name = "a-rather-long-queue-name"};
			struct vnet_vq *vq = NULL;
			assert_int_equal(vnet_vq_create(&c, &vq), VNET_OK);
			assert_non_null(vq);
			assert_int_equal(vnet_vq_size(vq), sz[i]);
			assert_int_equal(vnet_vq_num_free(vq), sz[i]);
			assert_int_equal(vnet_vq_outstanding(vq), 0);
			assert_int_equal(vnet_vq_layout(vq), l);
			assert_false(vnet_vq_is_broken(vq));
			assert_true(strlen(vnet_vq_name(vq)) <= 15);
			uint64_t d, dr, dv;
			vnet_vq_ring_addrs(vq, &d, &dr, &dv);
			/* the device reaches every ring part through DMA memory */
			size_t dl = 16u * (size_t)sz[i];
			size_t drl = l == VNET_VQ_SPLIT ? vring_split_avail_bytes(sz[i]) : 4;
			size_t dvl = l == VNET_VQ_SPLIT ? vring_split_used_bytes(sz[i]) : 4;
			assert_non_null(fake_hal_iova_to_va(d, dl));
			assert_non_null(fake_hal_iova_to_va(dr, drl));
			assert_non_null(fake_hal_iova_to_va(dv, dvl));
			assert_int_equal(vnet_vq_detach_unused(vq), NULL);
			vnet_vq_destroy(vq);
			assert_int_equal(fake_hal_live_dma(), dma0);
			assert_int_equal(fake_hal_live_private(), priv0);
		}
	}
	/* allocation failure at every step unwinds without a leak */
	for (long n = 0; n < 16; n++) {
		struct vnet_vq_config c = {.size = 64, .layout = l,
		                           .features = feats(l, VNET_BIT(VIRTIO_F_INDIRECT_DESC) | VNET_BIT(VIRTIO_F_IN_ORDER)),
		                           .indirect_max = 4};
		struct vnet_vq *vq = NULL;
		fake_hal_fail_alloc_after(n);
		int rc = vnet_vq_create(&c, &vq);
		fake_hal_fail_alloc_after(-1);
		if (rc == VNET_OK) {
			vnet_vq_destroy(vq);
		} else {
			assert_int_equal(rc, VNET_ENOMEM);
			assert_null(vq);
		}
		assert_int_equal(fake_hal_live_dma(), dma0);
		assert_int_equal(fake_hal_live_private(), priv0);
		if (rc == VNET_OK)
			break;
	}
	vnet_vq_destroy(NULL);
}

static void test_invalid_config(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	size_t dma0 = fake_hal_live_dma(), priv0 = fake_hal_live_private();
	struct vnet_vq *vq = (struct vnet_vq *)0x1;
	struct vnet_vq_config c = {.size = 0, .layout = l, .features = feats(l, 0)};
	assert_int_equal(vnet_vq_create(&c, &vq), VNET_EINVAL);
	assert_null(vq);
	c.size = 32769;
	assert_int_equal(vnet_vq_create(&c, &vq), VNET_EINVAL);
	c.size = 65535;
	assert_int_equal(vnet_vq_create(&c, &vq), VNET_EINVAL);
	c.size = 6;
	if (l == VNET_VQ_SPLIT) {
		/* spec 2.7: split queue size is a power of 2 */
		assert_int_equal(vnet_vq_create(&c, &vq), VNET_EINVAL);
	} else {
		/* spec 2.8: packed size need not be */
		assert_int_equal(vnet_vq_create(&c, &vq), VNET_OK);
		vnet_vq_destroy(vq);
		c.features = feats(VNET_VQ_SPLIT, 0); /* RING_PACKED not negotiated */
		assert_int_equal(vnet_vq_create(&c, &vq), VNET_EINVAL);
	}
	assert_int_equal(vnet_vq_create(NULL, &vq), VNET_EINVAL);
	assert_int_equal(fake_hal_live_dma(), dma0);
	assert_int_equal(fake_hal_live_private(), priv0);

	/* bad add arguments are refused and leave the queue intact */
	struct rig r;
	rig_open(&r, l, 8, 0, 0, NULL, 0);
	struct vnet_sg sg[9];
	for (int i = 0; i < 9; i++) {
		sg[i].addr = seg_iova(&r, (unsigned)i);
		sg[i].len = 8;
	}
	assert_int_equal(vnet_vq_add(r.vq, sg, 0, 0, cookie_of(0)), VNET_EINVAL);
	assert_int_equal(vnet_vq_add(r.vq, sg, 1, 0, NULL), VNET_EINVAL);
	assert_int_equal(vnet_vq_add(r.vq, sg, 5, 4, cookie_of(0)), VNET_EINVAL);
	assert_int_equal(vnet_vq_num_free(r.vq), 8);
	assert_int_equal(vnet_vq_outstanding(r.vq), 0);
	assert_int_equal(vnet_vq_add(r.vq, sg, 4, 4, cookie_of(0)), VNET_OK);
	rig_kick(&r);
	dm_poll(r.dm, 8);
	struct vnet_vq_used u;
	assert_int_equal(vnet_vq_get_used(r.vq, &u, 1), 1);
	assert_ptr_equal(u.cookie, cookie_of(0));
	assert_int_equal(u.len, 32);
	rig_close(&r);
}

/* ------------------------------------------------------------------ */
/* wrap-around and sizes                                               */
/* ------------------------------------------------------------------ */

static void test_wraparound(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	run_stream(l, 8, 0, 0, NULL, 100000, 2, 1, false, true);
	run_stream(l, 256, 0, 0, NULL, 100000, 2, 1, false, true);
	if (l == VNET_VQ_PACKED) {
		run_stream(l, 3, 0, 0, NULL, 30000, 2, 1, false, true);
		run_stream(l, 7, 0, 0, NULL, 30000, 2, 2, false, true);
		run_stream(l, 1000, 0, 0, NULL, 30000, 2, 1, false, true);
	}
}

static void fill_and_drain(struct rig *r, unsigned rounds)
{
	uint16_t size = r->vc.size;
	uint64_t k = 0;
	for (unsigned round = 0; round < rounds; round++) {
		unsigned n = 0;
		struct vnet_sg sg = {seg_iova(r, 0), 16};
		while (vnet_vq_add(r->vq, &sg, 1, 0, cookie_of(k + n)) == VNET_OK)
			n++;
		assert_int_equal(n, size);
		assert_int_equal(vnet_vq_num_free(r->vq), 0);
		assert_int_equal(vnet_vq_outstanding(r->vq), size);
		assert_true(rig_kick(r));
		dm_poll(r->dm, size);
		struct vnet_vq_used u[64];
		unsigned got = 0, m;
		while ((m = vnet_vq_get_used(r->vq, u, 64)) != 0) {
			for (unsigned i = 0; i < m; i++) {
				assert_ptr_equal(u[i].cookie, cookie_of(k + got + i));
				assert_int_equal(u[i].len, 0);
			}
			got += m;
		}
		assert_int_equal(got, size);
		k += n;
		rig_check_dm(r);
	}
	struct vnet_vq_stats st;
	vnet_vq_get_stats(r->vq, &st);
	assert_int_equal(st.full, rounds);
	assert_int_equal(st.added, (uint64_t)size * rounds);
	assert_int_equal(st.completed, (uint64_t)size * rounds);
}

static void test_sizes(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	static const uint16_t sizes[] = {1, 2, 3, 4, 256, 32768};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (l == VNET_VQ_SPLIT && (sizes[i] & (sizes[i] - 1u)))
			continue;
		struct rig r;
		rig_open(&r, l, sizes[i], 0, 0, NULL, 0);
		fill_and_drain(&r, 3);
		rig_close(&r);
	}
	/* a few chain shapes through the smallest legal rings */
	run_stream(l, 1, 0, 0, NULL, 2000, 1, 0, false, true);
	run_stream(l, 2, 0, 0, NULL, 2000, 1, 1, false, true);
	if (l == VNET_VQ_PACKED)
		run_stream(l, 3, 0, 0, NULL, 2000, 2, 1, false, true);
}

/* ------------------------------------------------------------------ */
/* scatter-gather and indirect                                         */
/* ------------------------------------------------------------------ */

/* Checks the written pattern too: a variant of the stream with explicit
 * shapes so the writable segments are known. */
static void sg_pattern_case(enum vnet_vq_layout l, uint64_t extra, uint16_t ind, uint32_t fixed)
{
	struct rig r;
	struct dm_config dc;
	memset(&dc, 0, sizeof(dc));
	if (fixed) {
		dc.len_mode = DM_LEN_FIXED;
		dc.len_value = fixed;
	}
	rig_open(&r, l, 16, extra, ind, &dc, 16 * 8);
	uint32_t seed = 77;
	for (uint64_t k = 0; k < 3000; k++) {
		unsigned nout = xs32(&seed) % 4, nin = xs32(&seed) % 5;
		if (nout + nin == 0)
			nin = 1;
		struct vnet_sg sg[8];
		uint32_t csum = DM_CSUM_INIT, il = 0;
		for (unsigned j = 0; j < nout + nin; j++) {
			sg[j].addr = seg_iova(&r, j);
			sg[j].len = 1u + xs32(&seed) % SEG;
			uint8_t *p = seg_va(&r, j);
			if (j < nout) {
				for (unsigned b = 0; b < sg[j].len; b++)
					p[b] = (uint8_t)xs32(&seed);
				csum = dm_checksum(csum, p, sg[j].len);
			} else {
				memset(p, 0xee, SEG);
				il += sg[j].len;
			}
		}
		assert_int_equal(vnet_vq_add(r.vq, sg, nout, nin, cookie_of(k)), VNET_OK);
		rig_kick(&r);
		struct dm_stats before;
		dm_get_stats(r.dm, &before);
		assert_int_equal(dm_poll(r.dm, 1), 1);
		rig_check_dm(&r);
		struct vnet_vq_used u;
		assert_int_equal(vnet_vq_get_used(r.vq, &u, 1), 1);
		assert_ptr_equal(u.cookie, cookie_of(k));
		uint32_t want = fixed && fixed < il ? fixed : il;
		assert_int_equal(u.len, want);
		/* device-written bytes carry the pattern, bytes past len untouched */
		uint32_t off = 0;
		for (unsigned j = nout; j < nout + nin; j++) {
			const uint8_t *p = seg_va(&r, j);
			for (unsigned b = 0; b < sg[j].len; b++, off++) {
				uint8_t exp = off < want ? dm_pattern_byte(k, off) : 0xee;
				if (p[b] != exp)
					fail_msg("chain %llu seg %u byte %u: %02x want %02x", (unsigned long long)k, j, b,
					         p[b], exp);
			}
		}
		struct dm_stats after;
		dm_get_stats(r.dm, &after);
		(void)before;
		(void)csum;
	}
	rig_close(&r);
}

/* The readable bytes as the device saw them equal what was posted. */
static uint32_t g_last_csum, g_last_out;
static bool g_last_ind;
static void last_info(void *ctx, const struct dm_buf_info *i)
{
	(void)ctx;
	g_last_csum = i->out_csum;
	g_last_out = i->out_len;
	g_last_ind = i->indirect;
}

static void sg_csum_case(enum vnet_vq_layout l, uint64_t extra, uint16_t ind)
{
	struct rig r;
	struct dm_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.on_buffer = last_info;
	rig_open(&r, l, 8, extra, ind, &dc, 16);
	uint32_t seed = 5;
	for (uint64_t k = 0; k < 2000; k++) {
		unsigned nout = 1u + xs32(&seed) % 6, nin = xs32(&seed) % 2;
		struct vnet_sg sg[8];
		uint32_t csum = DM_CSUM_INIT, ol = 0;
		for (unsigned j = 0; j < nout + nin; j++) {
			sg[j].addr = seg_iova(&r, j);
			sg[j].len = 1u + xs32(&seed) % SEG;
			if (j < nout) {
				uint8_t *p = seg_va(&r, j);
				for (unsigned b = 0; b < sg[j].len; b++)
					p[b] = (uint8_t)xs32(&seed);
				csum = dm_checksum(csum, p, sg[j].len);
				ol += sg[j].len;
			}
		}
		unsigned free0 = vnet_vq_num_free(r.vq);
		assert_int_equal(vnet_vq_add(r.vq, sg, nout, nin, cookie_of(k)), VNET_OK);
		bool use_ind = ind > 1 && nout + nin > 1 && nout + nin <= ind;
		if (use_ind)
			assert_int_equal(vnet_vq_num_free(r.vq), free0 - 1u);
		else if (!(extra & VNET_BIT(VIRTIO_F_INDIRECT_DESC)))
			assert_int_equal(vnet_vq_num_free(r.vq), free0 - (nout + nin));
		rig_kick(&r);
		assert_int_equal(dm_poll(r.dm, 1), 1);
		rig_check_dm(&r);
		assert_int_equal(g_last_csum, csum);
		assert_int_equal(g_last_out, ol);
		if (use_ind)
			assert_true(g_last_ind);
		struct vnet_vq_used u;
		assert_int_equal(vnet_vq_get_used(r.vq, &u, 1), 1);
		assert_ptr_equal(u.cookie, cookie_of(k));
	}
	rig_close(&r);
}

static void test_sg_chains(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	sg_pattern_case(l, 0, 0, 0);
	sg_pattern_case(l, 0, 0, 70);
	sg_csum_case(l, 0, 0);
	/* many chains of random shapes in flight at once */
	run_stream(l, 64, 0, 0, NULL, 20000, 3, 3, true, true);
	if (l == VNET_VQ_PACKED)
		run_stream(l, 10, 0, 0, NULL, 20000, 3, 3, true, true);
}

static void test_indirect(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	uint64_t ind = VNET_BIT(VIRTIO_F_INDIRECT_DESC);
	sg_pattern_case(l, ind, 8, 0);
	sg_pattern_case(l, ind, 8, 33);
	sg_csum_case(l, ind, 8);
	sg_csum_case(l, ind, 4); /* some chains longer than the table: direct */
	run_stream(l, 64, ind, 8, NULL, 20000, 3, 3, true, true);
	run_stream(l, 4, ind, 8, NULL, 20000, 4, 4, true, true);
}

/* ------------------------------------------------------------------ */
/* event index                                                         */
/* ------------------------------------------------------------------ */

static void test_need_event(void **state)
{
	(void)state;
	/* spec 2.7.10: notify iff event_idx in [old, new) modulo 2^16 */
	assert_true(vring_need_event(0, 1, 0));
	assert_false(vring_need_event(1, 1, 0));
	assert_false(vring_need_event(0, 0, 0));
	assert_true(vring_need_event(15, 20, 15));
	assert_true(vring_need_event(19, 20, 15));
	assert_false(vring_need_event(20, 20, 15));
	assert_false(vring_need_event(14, 20, 15));
	/* across the 16-bit wrap */
	assert_true(vring_need_event(65535, 0, 65535));
	assert_true(vring_need_event(65535, 5, 65530));
	assert_true(vring_need_event(4, 5, 65530));
	assert_false(vring_need_event(5, 5, 65530));
	assert_false(vring_need_event(65529, 5, 65530));
	assert_true(vring_need_event(65530, 5, 65530));
	/* a full lap: every event index is crossed */
	assert_false(vring_need_event(7, 7, 7));
	for (uint32_t e = 0; e < 65536; e += 4099)
		assert_int_equal(vring_need_event((uint16_t)e, 100, 50), (uint16_t)(e - 50u) < 50u);
}

/* split, EVENT_IDX: the device parks avail_event at E and never moves it.
 * Publishing one chain per decision, the driver must kick exactly when the
 * avail index goes from E to E+1, i.e. once every 65536 chains. */
static void test_event_idx_kick_wrap(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	/* Split only: packed has no avail_event; its DESC event is covered by
	 * test_event_idx_sleep across many wraps. */
	assert_int_equal(l, VNET_VQ_SPLIT);
	struct rig r;
	struct dm_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.notify = DM_NOTIFY_NEVER;
	dc.avail_event = 100;
	rig_open(&r, l, 8, VNET_BIT(VIRTIO_F_EVENT_IDX), 0, &dc, 0);
	const uint32_t n = 3u * 65536u + 300u;
	uint32_t kicks = 0;
	struct vnet_sg sg = {seg_iova(&r, 0), 8};
	for (uint32_t k = 1; k <= n; k++) {
		assert_int_equal(vnet_vq_add(r.vq, &sg, 1, 0, cookie_of(k)), VNET_OK);
		bool kick = rig_kick(&r);
		bool want = (uint16_t)k == 101; /* new avail idx == E + 1 */
		if (kick != want)
			fail_msg("chain %u: kick %d, spec says %d", k, kick, want);
		kicks += kick;
		assert_int_equal(dm_poll(r.dm, 8), 1);
		struct vnet_vq_used u;
		assert_int_equal(vnet_vq_get_used(r.vq, &u, 1), 1);
		assert_ptr_equal(u.cookie, cookie_of(k));
	}
	uint32_t want_kicks = 0;
	for (uint32_t k = 1; k <= n; k++)
		want_kicks += (uint16_t)k == 101;
	assert_int_equal(want_kicks, 4);
	assert_int_equal(kicks, want_kicks);
	struct dm_stats ds;
	dm_get_stats(r.dm, &ds);
	assert_int_equal(ds.notifications, want_kicks);
	assert_int_equal(ds.notify_unneeded, 0);
	struct vnet_vq_stats st;
	vnet_vq_get_stats(r.vq, &st);
	assert_int_equal(st.kicks, want_kicks);
	assert_int_equal(st.kicks_suppressed, n - want_kicks);
	rig_close(&r);
}

/* The device sleeps until a doorbell when idle; with EVENT_IDX it asks for
 * one at its next avail position.  Per round: first chain -> kick, second
 * chain -> no kick (the device has not run); with callbacks enabled after a
 * drain each completed batch interrupts exactly once.  Runs past 65536
 * chains so both index spaces wrap. */
static void event_idx_sleep_case(enum vnet_vq_layout l, uint16_t size)
{
	struct rig r;
	struct dm_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.notify = DM_NOTIFY_SLEEP;
	rig_open(&r, l, size, VNET_BIT(VIRTIO_F_EVENT_IDX), 0, &dc, 0);
	const uint32_t rounds = 33000; /* 66000 chains */
	struct vnet_sg sg = {seg_iova(&r, 0), 8};
	uint64_t k = 0;
	for (uint32_t i = 0; i < rounds; i++) {
		assert_true(vnet_vq_enable_cb(r.vq));
		struct dm_stats a, b;
		dm_get_stats(r.dm, &a);
		assert_int_equal(vnet_vq_add(r.vq, &sg, 1, 0, cookie_of(k)), VNET_OK);
		if (!rig_kick(&r))
			fail_msg("round %u: no kick for a sleeping device", i);
		assert_int_equal(vnet_vq_add(r.vq, &sg, 1, 0, cookie_of(k + 1)), VNET_OK);
		if (rig_kick(&r))
			fail_msg("round %u: kick although the device asked only for the first", i);
		assert_int_equal(dm_poll(r.dm, 16), 2);
		dm_get_stats(r.dm, &b);
		if (b.interrupts != a.interrupts + 1)
			fail_msg("round %u: %llu interrupts for one batch with callbacks enabled", i,
			         (unsigned long long)(b.interrupts - a.interrupts));
		struct vnet_vq_used u[4];
		assert_int_equal(vnet_vq_get_used(r.vq, u, 4), 2);
		assert_ptr_equal(u[0].cookie, cookie_of(k));
		assert_ptr_equal(u[1].cookie, cookie_of(k + 1));
		k += 2;
	}
	struct dm_stats ds;
	dm_get_stats(r.dm, &ds);
	assert_int_equal(ds.notifications, rounds);
	assert_int_equal(ds.wakeups, rounds);
	assert_int_equal(ds.notify_unneeded, 0);
	struct vnet_vq_stats st;
	vnet_vq_get_stats(r.vq, &st);
	assert_int_equal(st.kicks, rounds);
	assert_int_equal(st.kicks_suppressed, rounds);
	rig_close(&r);
}

static void test_event_idx_sleep(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	event_idx_sleep_case(l, 8);
	if (l == VNET_VQ_PACKED)
		event_idx_sleep_case(l, 7);
}

/* Without EVENT_IDX: NO_NOTIFY / DISABLE from the device suppresses every
 * kick; disable_cb suppresses every interrupt; enable_cb brings them back. */
static void test_flags_suppression(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	struct rig r;
	struct dm_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.notify = DM_NOTIFY_NEVER;
	rig_open(&r, l, 8, 0, 0, &dc, 0);
	struct vnet_sg sg = {seg_iova(&r, 0), 8};
	vnet_vq_disable_cb(r.vq);
	for (uint64_t k = 0; k < 1000; k++) {
		assert_int_equal(vnet_vq_add(r.vq, &sg, 1, 0, cookie_of(k)), VNET_OK);
		assert_false(rig_kick(&r));
		assert_int_equal(dm_poll(r.dm, 8), 1);
		struct vnet_vq_used u;
		assert_int_equal(vnet_vq_get_used(r.vq, &u, 1), 1);
	}
	struct dm_stats ds;
	dm_get_stats(r.dm, &ds);
	assert_int_equal(ds.interrupts, 0);
	assert_int_equal(ds.notifications, 0);
	assert_true(vnet_vq_enable_cb(r.vq));
	assert_int_equal(vnet_vq_add(r.vq, &sg, 1, 0, cookie_of(1000)), VNET_OK);
	rig_kick(&r);
	assert_int_equal(dm_poll(r.dm, 8), 1);
	dm_get_stats(r.dm, &ds);
	assert_int_equal(ds.interrupts, 1);
	rig_close(&r);
}

/* ------------------------------------------------------------------ */
/* IN_ORDER, out of order                                              */
/* ------------------------------------------------------------------ */

static void test_in_order_batch(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	struct dm_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.in_order_batch = true;
	uint64_t io = VNET_BIT(VIRTIO_F_IN_ORDER);
	uint16_t sizes[2] = {16, (uint16_t)(l == VNET_VQ_PACKED ? 10 : 64)};
	for (int i = 0; i < 2; i++) {
		dc.batch = i ? 5 : 0;
		/* one used entry per batch: skipped chains come back with their
		 * full writable length (spec: "used completely") */
		struct rig r;
		struct stream s;
		dc.on_buffer = stream_on_buffer;
		dc.ctx = &s;
		stream_init(&s, NULL, 20000);
		s.max_out = 2;
		s.max_in = 2;
		s.in_order = true;
		s.check_data = false;
		s.lenient_len = true; /* skipped chains: see test_in_order_skipped_len */
		rig_open(&r, l, sizes[i], io, 0, &dc, 64);
		s.r = &r;
		s.max_burst = sizes[i];
		stream_alloc(&s);
		stream_run(&s);
		struct dm_stats ds;
		dm_get_stats(r.dm, &ds);
		assert_int_equal(ds.completed, 20000);
		/* batching really happened */
		assert_true(ds.used_entries < ds.completed);
		stream_free(&s);
		rig_close(&r);
	}
	/* with indirect tables too (readable-only chains: lengths are 0) */
	dc.batch = 3;
	dc.on_buffer = NULL;
	run_stream(l, 16, io | VNET_BIT(VIRTIO_F_INDIRECT_DESC), 4, &dc, 10000, 3, 0, false, true);
}

/* IN_ORDER batch with writable buffers: spec 2.7.9 / 2.8.9 "The skipped
 * buffers (for which no used ring entry was written) are assumed to have
 * been used (read or written) by the device completely", so each skipped
 * chain comes back with its whole writable length, the last one with the
 * length in the used entry. */
static void test_in_order_skipped_len(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	struct dm_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.in_order_batch = true;
	dc.len_mode = DM_LEN_FIXED;
	dc.len_value = 10;
	struct rig r;
	rig_open(&r, l, 8, VNET_BIT(VIRTIO_F_IN_ORDER), 0, &dc, 0);
	struct vnet_sg sg[2] = {{seg_iova(&r, 0), 8}, {seg_iova(&r, 1), 40}};
	for (uint64_t k = 0; k < 4; k++)
		assert_int_equal(vnet_vq_add(r.vq, sg, 1, 1, cookie_of(k)), VNET_OK);
	rig_kick(&r);
	assert_int_equal(dm_poll(r.dm, 8), 4);
	struct dm_stats ds;
	dm_get_stats(r.dm, &ds);
	assert_int_equal(ds.used_entries, 1);
	struct vnet_vq_used u[8];
	assert_int_equal(vnet_vq_get_used(r.vq, u, 8), 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_ptr_equal(u[i].cookie, cookie_of(i));
		uint32_t want = i == 3 ? 10 : 40;
		if (u[i].len != want)
			fail_msg("%s: chain %u of an IN_ORDER batch: len %u, spec says %u", LNAME(l), i, u[i].len, want);
	}
	rig_close(&r);
}

/* A read-only queue (vnet_vq_config.read_only: transmit) refuses writable
 * buffers, and with IN_ORDER hands back every buffer in order with len 0.
 * On a split ring it completes from used->idx alone (spec 2.7.9: only a
 * batch's last entry is written): the entries are not read, so a length
 * the device makes up cannot matter, while an index beyond what was
 * published still latches the queue broken.  The packed ring still checks the ids it
 * must read (a used descriptor is how the device completes there). */
/* Post six read-only buffers on r, let the device complete them, take
 * them back: returns how many came back, checking order and len 0. */
static unsigned ro_round(struct rig *r, uint64_t *next, uint64_t *back, enum dm_fault f)
{
	struct vnet_sg sg = {0, 40};
	for (int i = 0; i < 6; i++, (*next)++) {
		sg.addr = seg_iova(r, (unsigned)*next);
		assert_int_equal(vnet_vq_add(r->vq, &sg, 1, 0, cookie_of(*next)), VNET_OK);
	}
	rig_kick(r);
	if (f != DM_FAULT_NONE)
		dm_inject(r->dm, f, 0);
	assert_int_equal(dm_poll(r->dm, 8), 6);
	struct vnet_vq_used u[8];
	unsigned k = vnet_vq_get_used(r->vq, u, 8);
	for (unsigned i = 0; i < k; i++, (*back)++) {
		assert_ptr_equal(u[i].cookie, cookie_of(*back));
		assert_int_equal(u[i].len, 0);
	}
	return k;
}

static void test_read_only_in_order(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	struct dm_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.in_order_batch = true;
	dc.batch = 4; /* one used entry per batch of up to 4 */
	struct rig r;
	rig_open_ro(&r, l, 8, VNET_BIT(VIRTIO_F_IN_ORDER), 0, &dc, 0, true);
	struct vnet_sg sg = {seg_iova(&r, 0), 40};
	void *ck[1] = {cookie_of(99)};
	assert_int_equal(vnet_vq_add(r.vq, &sg, 0, 1, cookie_of(99)), VNET_EINVAL);
	assert_int_equal(vnet_vq_add_bufs(r.vq, &sg, ck, 1, true), 0);
	assert_int_equal(vnet_vq_num_free(r.vq), 8);
	uint64_t next = 0, back = 0;
	for (int round = 0; round < 5; round++)
		assert_int_equal(ro_round(&r, &next, &back, DM_FAULT_NONE), 6);
	struct dm_stats ds;
	dm_get_stats(r.dm, &ds);
	assert_true(ds.used_entries < ds.completed); /* batches really happened */
	assert_false(vnet_vq_is_broken(r.vq));
	rig_close(&r);

	/* One entry per buffer, so that faults can be injected. */
	dc.in_order_batch = false;
	rig_open_ro(&r, l, 8, VNET_BIT(VIRTIO_F_IN_ORDER), 0, &dc, 0, true);
	next = back = 0;
	assert_int_equal(ro_round(&r, &next, &back, DM_FAULT_NONE), 6);
	if (l == VNET_VQ_PACKED) {
		/* packed reads the used descriptor's id: a bad one latches */
		assert_int_equal(ro_round(&r, &next, &back, DM_FAULT_ID_RANGE), 0);
		assert_true(vnet_vq_is_broken(r.vq));
		rig_close(&r);
		return;
	}
	/* split: a length the device makes up is never read (nothing was
	 * writable: 0 either way), not even counted */
	assert_int_equal(ro_round(&r, &next, &back, DM_FAULT_LEN), 6);
	struct vnet_vq_stats st;
	vnet_vq_get_stats(r.vq, &st);
	assert_int_equal(st.bad_len, 0);
	assert_false(vnet_vq_is_broken(r.vq));
	unsigned k;
	/* ...but an index past what was published still latches broken. */
	k = ro_round(&r, &next, &back, DM_FAULT_IDX_JUMP);
	struct vnet_vq_used u[8];
	while (vnet_vq_get_used(r.vq, u, 8))
		;
	assert_true(k < 6);
	assert_true(vnet_vq_is_broken(r.vq));
	rig_close(&r);
}

static void test_out_of_order(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	struct dm_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.policy = DM_RANDOM;
	dc.seed = 7;
	run_stream(l, 32, 0, 0, &dc, 30000, 3, 3, true, false);
	run_stream(l, 32, VNET_BIT(VIRTIO_F_INDIRECT_DESC), 4, &dc, 30000, 3, 3, true, false);
	if (l == VNET_VQ_PACKED)
		run_stream(l, 30, 0, 0, &dc, 30000, 2, 2, true, false);
	dc.policy = DM_REVERSE_BATCH;
	dc.batch = 5;
	run_stream(l, 32, 0, 0, &dc, 30000, 2, 2, true, false);
	dc.seed = 99;
	dc.policy = DM_RANDOM;
	dc.len_mode = DM_LEN_FIXED;
	dc.len_value = 20;
	run_stream(l, 16, VNET_BIT(VIRTIO_F_EVENT_IDX), 0, &dc, 30000, 1, 3, true, false);
}

/* ------------------------------------------------------------------ */
/* full ring, reset                                                    */
/* ------------------------------------------------------------------ */

static void test_full_ring(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	struct rig r;
	rig_open(&r, l, 16, 0, 0, NULL, 0);
	struct vnet_sg sg[3] = {{seg_iova(&r, 0), 8}, {seg_iova(&r, 1), 8}, {seg_iova(&r, 2), 8}};
	unsigned n = 0;
	int rc;
	while ((rc = vnet_vq_add(r.vq, sg, 2, 1, cookie_of(n))) == VNET_OK)
		n++;
	assert_int_equal(rc, VNET_ENOSPC);
	assert_int_equal(n, 5); /* 15 of 16 descriptors */
	assert_int_equal(vnet_vq_num_free(r.vq), 1);
	assert_int_equal(vnet_vq_add(r.vq, sg, 2, 1, cookie_of(99)), VNET_ENOSPC);
	/* one descriptor is still free: a single-element chain fits */
	assert_int_equal(vnet_vq_add(r.vq, sg, 1, 0, cookie_of(n)), VNET_OK);
	n++;
	assert_int_equal(vnet_vq_add(r.vq, sg, 1, 0, cookie_of(99)), VNET_ENOSPC);
	struct vnet_vq_stats st;
	vnet_vq_get_stats(r.vq, &st);
	assert_int_equal(st.full, 3);
	assert_int_equal(st.added, n);
	assert_int_equal(vnet_vq_outstanding(r.vq), n);
	/* reclaim one: work is accepted again */
	rig_kick(&r);
	dm_poll(r.dm, 1);
	struct vnet_vq_used u;
	assert_int_equal(vnet_vq_get_used(r.vq, &u, 1), 1);
	assert_ptr_equal(u.cookie, cookie_of(0));
	assert_int_equal(vnet_vq_add(r.vq, sg, 2, 1, cookie_of(n)), VNET_OK);
	n++;
	rig_kick(&r);
	dm_poll(r.dm, 16);
	struct vnet_vq_used uu[16];
	assert_int_equal(vnet_vq_get_used(r.vq, uu, 16), n - 1u);
	for (unsigned i = 0; i < n - 1u; i++)
		assert_ptr_equal(uu[i].cookie, cookie_of(i + 1u));
	assert_int_equal(vnet_vq_num_free(r.vq), 16);
	rig_close(&r);
}

/* vnet_vq_add_bufs: a burst of one-element chains behaves like that many
 * vnet_vq_add calls (order, stats, lengths) and stops at the first that
 * cannot be posted, leaving the rest untouched. */
static void test_add_bufs(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	for (int pass = 0; pass < 2; pass++) {
		struct rig r;
		rig_open(&r, l, 16, pass ? VNET_BIT(VIRTIO_F_IN_ORDER) : 0, 0, NULL, 0);
		/* A 3-descriptor chain first: the burst starts mid-ring. */
		struct vnet_sg c3[3] = {{seg_iova(&r, 40), 8}, {seg_iova(&r, 41), 8}, {seg_iova(&r, 42), 8}};
		assert_int_equal(vnet_vq_add(r.vq, c3, 2, 1, cookie_of(100)), VNET_OK);
		struct vnet_sg sg[20];
		void *ck[20];
		for (unsigned i = 0; i < 20; i++) {
			sg[i] = (struct vnet_sg){seg_iova(&r, i), 8u + i};
			ck[i] = cookie_of(i);
		}
		/* 13 descriptors left: 13 of the 20 go on the ring. */
		assert_int_equal(vnet_vq_add_bufs(r.vq, sg, ck, 20, true), 13);
		assert_int_equal(vnet_vq_num_free(r.vq), 0);
		assert_int_equal(vnet_vq_outstanding(r.vq), 14);
		struct vnet_vq_stats st;
		vnet_vq_get_stats(r.vq, &st);
		assert_int_equal(st.added, 14);
		assert_int_equal(st.full, 1);
		assert_true(rig_kick(&r));
		dm_poll(r.dm, 16);
		struct vnet_vq_used u[16];
		assert_int_equal(vnet_vq_get_used(r.vq, u, 16), 14);
		assert_ptr_equal(u[0].cookie, cookie_of(100));
		assert_int_equal(u[0].len, 8);
		for (unsigned i = 0; i < 13; i++) {
			assert_ptr_equal(u[1 + i].cookie, cookie_of(i));
			assert_int_equal(u[1 + i].len, 8u + i); /* writable: the device filled it */
		}
		/* Device-readable buffers, a NULL cookie at 5: 5 posted, no "full". */
		ck[5] = NULL;
		assert_int_equal(vnet_vq_add_bufs(r.vq, sg, ck, 8, false), 5);
		vnet_vq_get_stats(r.vq, &st);
		assert_int_equal(st.added, 19);
		assert_int_equal(st.full, 1);
		assert_true(rig_kick(&r));
		dm_poll(r.dm, 16);
		assert_int_equal(vnet_vq_get_used(r.vq, u, 16), 5);
		for (unsigned i = 0; i < 5; i++) {
			assert_ptr_equal(u[i].cookie, cookie_of(i));
			assert_int_equal(u[i].len, 0);
		}
		assert_int_equal(vnet_vq_num_free(r.vq), 16);
		rig_check_dm(&r);
		/* A broken queue takes nothing. */
		vnet_vq_mark_broken(r.vq, VNET_VQ_FAULT_ID_RANGE);
		assert_int_equal(vnet_vq_add_bufs(r.vq, sg, ck, 4, false), 0);
		assert_int_equal(vnet_vq_outstanding(r.vq), 0);
		rig_close(&r);
	}
}

static void test_reset_outstanding(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	for (int ind = 0; ind < 2; ind++) {
		struct rig r;
		uint64_t extra = ind ? VNET_BIT(VIRTIO_F_INDIRECT_DESC) : 0;
		rig_open(&r, l, 32, extra, ind ? 4 : 0, NULL, 0);
		struct vnet_sg sg[2] = {{seg_iova(&r, 0), 8}, {seg_iova(&r, 1), 8}};
		unsigned n = 0;
		while (vnet_vq_add(r.vq, sg, 1, (n % 3) == 0, cookie_of(n)) == VNET_OK)
			n++;
		assert_true(n >= 16);
		rig_kick(&r);
		/* the device takes some, completes a few, then is reset */
		dm_pause_completions(r.dm, true);
		dm_poll(r.dm, n / 2);
		dm_pause_completions(r.dm, false);
		dm_inject(r.dm, DM_FAULT_NONE, 0);
		unsigned done = dm_flush(r.dm);
		(void)done;
		struct vnet_vq_used u[32];
		unsigned got = vnet_vq_get_used(r.vq, u, 32);
		uint8_t seen[64] = {0};
		for (unsigned i = 0; i < got; i++)
			seen[seq_of(u[i].cookie)] = 1;
		assert_int_equal(vnet_vq_reset(r.vq), VNET_EBUSY);
		rig_check_dm(&r);
		dm_destroy(r.dm);
		r.dm = NULL;
		unsigned det = rig_detach_all(&r, seen, 64);
		assert_int_equal(got + det, n);
		for (unsigned i = 0; i < n; i++)
			assert_int_equal(seen[i], 1);
		assert_null(vnet_vq_detach_unused(r.vq));
		assert_int_equal(vnet_vq_outstanding(r.vq), 0);
		struct vnet_vq_stats st;
		vnet_vq_get_stats(r.vq, &st);
		assert_int_equal(st.detached, det);
		assert_int_equal(st.completed + st.detached, st.added);
		/* reset and run again against a fresh device */
		assert_int_equal(vnet_vq_reset(r.vq), VNET_OK);
		assert_int_equal(vnet_vq_num_free(r.vq), 32);
		r.dm = dm_create(&r.dc);
		assert_non_null(r.dm);
		struct stream s;
		stream_init(&s, &r, 5000);
		s.max_out = 2;
		s.max_in = 2;
		s.in_order = true;
		stream_alloc(&s);
		stream_run(&s);
		stream_free(&s);
		rig_close(&r);
	}
}

/* ------------------------------------------------------------------ */
/* notification data                                                   */
/* ------------------------------------------------------------------ */

static void test_notification_data(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	uint16_t size = l == VNET_VQ_SPLIT ? 8 : 7;
	struct rig r;
	rig_open(&r, l, size, VNET_BIT(VIRTIO_F_NOTIFICATION_DATA), 0, NULL, 0);
	uint32_t seed = 3;
	uint64_t published = 0; /* chains = descriptors here */
	uint64_t k = 0;
	struct vnet_sg sg[2] = {{seg_iova(&r, 0), 8}, {seg_iova(&r, 1), 8}};
	while (published < 70000) {
		unsigned burst = 1u + xs32(&seed) % size;
		unsigned descs = 0;
		for (unsigned b = 0; b < burst; b++) {
			unsigned nseg = 1u + (xs32(&seed) & 1u);
			if (vnet_vq_add(r.vq, sg, nseg, 0, cookie_of(k)) != VNET_OK)
				break;
			k++;
			descs += l == VNET_VQ_SPLIT ? 1u : nseg; /* split idx counts chains */
		}
		assert_true(vnet_vq_kick_prepare(r.vq));
		published += descs;
		uint32_t nd = vnet_vq_notify_data(r.vq);
		uint32_t want;
		if (l == VNET_VQ_SPLIT) {
			/* bits 16-31: the avail idx, free-running 16 bits */
			want = 3u | ((uint32_t)(uint16_t)published << 16);
		} else {
			/* next_off and next_wrap of the next descriptor to be made
			 * available; the wrap counter starts at 1 (spec 2.8.1) */
			uint32_t off = (uint32_t)(published % size);
			uint32_t wrap = 1u ^ (uint32_t)((published / size) & 1u);
			want = 3u | off << 16 | wrap << 31;
		}
		if (nd != want)
			fail_msg("after %llu: notify data 0x%08x, want 0x%08x", (unsigned long long)published, nd, want);
		dm_doorbell(r.dm, nd);
		rig_check_dm(&r);
		dm_poll(r.dm, size);
		struct vnet_vq_used u[16];
		while (vnet_vq_get_used(r.vq, u, 16))
			;
	}
	rig_close(&r);
}

/* ------------------------------------------------------------------ */
/* enable_cb re-check                                                  */
/* ------------------------------------------------------------------ */

static void test_enable_cb_race(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	for (int ev = 0; ev < 2; ev++) {
		struct rig r;
		rig_open(&r, l, 8, ev ? VNET_BIT(VIRTIO_F_EVENT_IDX) : 0, 0, NULL, 0);
		struct vnet_sg sg = {seg_iova(&r, 0), 8};
		for (uint64_t k = 0; k < 200; k++) {
			assert_int_equal(vnet_vq_add(r.vq, &sg, 1, 0, cookie_of(k)), VNET_OK);
			rig_kick(&r);
			vnet_vq_disable_cb(r.vq);
			assert_false(vnet_vq_has_used(r.vq));
			/* nothing completed yet: enabling says "sleep is safe" */
			if (k % 2 == 0) {
				assert_true(vnet_vq_enable_cb(r.vq));
				vnet_vq_disable_cb(r.vq);
			}
			/* a completion slips in while callbacks are off */
			assert_int_equal(dm_poll(r.dm, 8), 1);
			assert_true(vnet_vq_has_used(r.vq));
			assert_false(vnet_vq_enable_cb(r.vq));
			struct vnet_vq_used u;
			assert_int_equal(vnet_vq_get_used(r.vq, &u, 1), 1);
			assert_ptr_equal(u.cookie, cookie_of(k));
			assert_true(vnet_vq_enable_cb(r.vq));
		}
		rig_close(&r);
	}
}

/* ------------------------------------------------------------------ */
/* concurrent device thread                                            */
/* ------------------------------------------------------------------ */

static void concurrent_case(enum vnet_vq_layout l, uint64_t extra, uint16_t ind, enum dm_policy pol, uint64_t total)
{
	struct rig r;
	struct stream s;
	struct dm_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.notify = DM_NOTIFY_SLEEP;
	dc.policy = pol;
	dc.seed = 11;
	dc.batch = 4;
	dc.on_buffer = stream_on_buffer;
	dc.ctx = &s;
	stream_init(&s, NULL, total);
	s.max_out = 1;
	s.max_in = 1;
	s.threaded = true;
	s.in_order = pol == DM_IN_ORDER;
	rig_open(&r, l, 256, extra, ind, &dc, 64);
	s.r = &r;
	s.max_burst = 32;
	stream_alloc(&s);
	assert_int_equal(dm_start(r.dm), 0);
	stream_run(&s);
	dm_stop(r.dm);
	rig_check_dm(&r);
	struct dm_stats ds;
	dm_get_stats(r.dm, &ds);
	assert_int_equal(ds.completed, total);
	stream_free(&s);
	rig_close(&r);
}

static void test_concurrent(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	concurrent_case(l, VNET_BIT(VIRTIO_F_EVENT_IDX), 0, DM_IN_ORDER, 600000);
	concurrent_case(l, 0, 0, DM_REVERSE_BATCH, 200000);
	concurrent_case(l, VNET_BIT(VIRTIO_F_EVENT_IDX) | VNET_BIT(VIRTIO_F_INDIRECT_DESC), 4, DM_RANDOM, 200000);
}

/* A new queue asks for no used-buffer notifications until the consumer
 * calls enable_cb, with or without EVENT_IDX, in both layouts (a poll-mode
 * consumer must not take interrupts it never asked for; an interrupt-mode
 * consumer enables them before it sleeps). */
static void test_cb_initially_disabled(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	for (int ei = 0; ei < 2; ei++) {
		struct rig r;
		rig_open(&r, l, 16, ei ? VNET_BIT(VIRTIO_F_EVENT_IDX) : 0, 0, NULL, 0);
		struct dm_stats st;
		struct vnet_vq_used u[4];
		for (unsigned i = 0; i < 3; i++) {
			struct vnet_sg sg = {seg_iova(&r, i), SEG};
			assert_int_equal(vnet_vq_add(r.vq, &sg, 1, 0, cookie_of(i + 1)), VNET_OK);
			rig_kick(&r);
			dm_poll(r.dm, 16);
		}
		dm_get_stats(r.dm, &st);
		assert_int_equal(st.interrupts, 0);
		assert_int_equal(vnet_vq_get_used(r.vq, u, 4), 3);
		/* Once enabled, the next completion notifies. */
		assert_true(vnet_vq_enable_cb(r.vq));
		struct vnet_sg sg = {seg_iova(&r, 9), SEG};
		assert_int_equal(vnet_vq_add(r.vq, &sg, 1, 0, cookie_of(10)), VNET_OK);
		rig_kick(&r);
		dm_poll(r.dm, 16);
		dm_get_stats(r.dm, &st);
		assert_int_equal(st.interrupts, 1);
		assert_int_equal(vnet_vq_get_used(r.vq, u, 4), 1);
		rig_check_dm(&r);
		rig_close(&r);
	}
}

/* vnet_vq_get_ring_state: what a diagnosis of a quiet queue reads.
 * used_ready follows the device's completions and get_used; notify
 * follows enable/disable; positions move as chains are posted and taken. */
static void test_ring_state(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	for (int ei = 0; ei < 2; ei++) {
		struct rig r;
		rig_open(&r, l, 8, ei ? VNET_BIT(VIRTIO_F_EVENT_IDX) : 0, 0, NULL, 0);
		struct vnet_vq_ring_state rs;
		vnet_vq_get_ring_state(r.vq, &rs);
		assert_false(rs.used_ready);
		assert_false(rs.cb_enabled);
		assert_int_equal(rs.event_idx, ei);
		assert_int_equal(rs.avail_pos, l == VNET_VQ_PACKED ? 1u << 15 : 0); /* packed: wrap 1 */
		uint16_t used0 = rs.used_pos;
		for (unsigned i = 0; i < 3; i++) {
			struct vnet_sg sg = {seg_iova(&r, i), SEG};
			assert_int_equal(vnet_vq_add(r.vq, &sg, 1, 0, cookie_of(i + 1)), VNET_OK);
		}
		rig_kick(&r);
		vnet_vq_get_ring_state(r.vq, &rs);
		assert_false(rs.used_ready); /* posted, not completed */
		assert_int_equal(rs.avail_pos & 0x7fff, 3);
		assert_int_equal(dm_poll(r.dm, 16), 3);
		vnet_vq_get_ring_state(r.vq, &rs);
		assert_true(rs.used_ready);  /* the device completed, the driver has not looked */
		assert_int_equal(rs.used_pos, used0);
		if (l == VNET_VQ_SPLIT)
			assert_int_equal(rs.device_used, 3);
		struct vnet_vq_used u[4];
		assert_int_equal(vnet_vq_get_used(r.vq, u, 4), 3);
		vnet_vq_get_ring_state(r.vq, &rs);
		assert_false(rs.used_ready);
		assert_int_equal(rs.used_pos & 0x7fff, 3);
		assert_true(vnet_vq_enable_cb(r.vq));
		vnet_vq_get_ring_state(r.vq, &rs);
		assert_true(rs.cb_enabled);
		if (l == VNET_VQ_SPLIT && ei)
			assert_int_equal(rs.driver_event, 3); /* used_event = last_used */
		vnet_vq_disable_cb(r.vq);
		vnet_vq_get_ring_state(r.vq, &rs);
		assert_false(rs.cb_enabled);
		if (l == VNET_VQ_SPLIT && ei)
			assert_int_equal(rs.driver_event, 2); /* last_used - 1: farthest away */
		rig_check_dm(&r);
		rig_close(&r);
	}
	vnet_vq_get_ring_state(NULL, NULL); /* NULL-safe */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_cb_initially_disabled),
		BOTH(test_create_destroy),
		BOTH(test_invalid_config),
		BOTH(test_wraparound),
		BOTH(test_sizes),
		BOTH(test_sg_chains),
		BOTH(test_indirect),
		cmocka_unit_test(test_need_event),
		SPLIT_ONLY(test_event_idx_kick_wrap),
		BOTH(test_event_idx_sleep),
		BOTH(test_flags_suppression),
		BOTH(test_in_order_batch),
		BOTH(test_in_order_skipped_len),
		BOTH(test_read_only_in_order),
		BOTH(test_out_of_order),
		BOTH(test_full_ring),
		BOTH(test_add_bufs),
		BOTH(test_reset_outstanding),
		BOTH(test_notification_data),
		BOTH(test_enable_cb_race),
		BOTH(test_concurrent),
		BOTH(test_ring_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
