/*
 * Virtqueue engine against a misbehaving device (tests/devmodel faults),
 * both layouts.
 *
 * For every misbehaviour the outcome a user relies on is asserted: either
 * the chain is dropped and counted (too-long used len: handed back with
 * len 0, stats.bad_len, the queue keeps working) or the queue latches
 * broken with the expected stats.broken_reason, after which add says
 * VNET_EBROKEN and get_used returns nothing.  In every case: no crash, no
 * out-of-bounds access (ASan), and after the device is reset
 * detach_unused hands back every cookie the device still had, so that
 * completed + detached == added and no cookie comes back twice.
 */
#include "test_vq_common.h"

#define MAXC 4096

struct mal {
	struct rig r;
	uint8_t seen[MAXC];
	uint32_t ilen[MAXC];
	uint64_t next;           /* next cookie */
	unsigned bad_len_seen;   /* chains handed back with len 0 although written */
};

static void mal_add(struct mal *m, unsigned nout, unsigned nin)
{
	struct vnet_sg sg[4];
	uint32_t il = 0;
	for (unsigned j = 0; j < nout + nin; j++) {
		sg[j].addr = seg_iova(&m->r, j);
		sg[j].len = 8u + j;
		if (j >= nout)
			il += sg[j].len;
	}
	assert_true(m->next < MAXC);
	m->ilen[m->next] = il;
	assert_int_equal(vnet_vq_add(m->r.vq, sg, nout, nin, cookie_of(m->next)), VNET_OK);
	m->next++;
}

static unsigned mal_drain(struct mal *m)
{
	struct vnet_vq_used u[16];
	unsigned n, total = 0;
	while ((n = vnet_vq_get_used(m->r.vq, u, 16)) != 0) {
		for (unsigned i = 0; i < n; i++) {
			uint64_t k = seq_of(u[i].cookie);
			assert_true(k < m->next);
			if (m->seen[k])
				fail_msg("cookie %llu handed back twice", (unsigned long long)k);
			m->seen[k] = 1;
			assert_true(u[i].len <= m->ilen[k]);
			if (u[i].len == 0 && m->ilen[k])
				m->bad_len_seen++;
		}
		total += n;
	}
	return total;
}

/* n healthy chains, one at a time, checking each comes back */
static void mal_healthy(struct mal *m, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t k = m->next;
		mal_add(m, 1, 1);
		rig_kick(&m->r);
		assert_int_equal(dm_poll(m->r.dm, 8), 1);
		assert_int_equal(mal_drain(m), 1);
		assert_int_equal(m->seen[k], 1);
	}
	rig_check_dm(&m->r);
}

static void mal_open(struct mal *m, enum vnet_vq_layout l, uint64_t extra, uint16_t ind)
{
	memset(m, 0, sizeof(*m));
	rig_open(&m->r, l, 8, extra, ind, NULL, 0);
	/* warm up past one wrap so indices are not trivial */
	mal_healthy(m, 11);
}

/* Reset the device, take everything back, check the books, free. */
static void mal_close(struct mal *m)
{
	rig_check_dm(&m->r);
	dm_destroy(m->r.dm);
	m->r.dm = NULL;
	void *c;
	unsigned det = 0;
	while ((c = vnet_vq_detach_unused(m->r.vq)) != NULL) {
		uint64_t k = seq_of(c);
		assert_true(k < m->next);
		if (m->seen[k])
			fail_msg("cookie %llu detached after it was already handed back", (unsigned long long)k);
		m->seen[k] = 1;
		assert_true(++det <= 8);
	}
	for (uint64_t k = 0; k < m->next; k++)
		if (!m->seen[k])
			fail_msg("cookie %llu never came back", (unsigned long long)k);
	struct vnet_vq_stats st;
	vnet_vq_get_stats(m->r.vq, &st);
	assert_int_equal(st.added, m->next);
	assert_int_equal(st.completed + st.detached, st.added);
	assert_int_equal(vnet_vq_outstanding(m->r.vq), 0);
	/* the queue is reusable after a reset, broken or not */
	assert_int_equal(vnet_vq_reset(m->r.vq), VNET_OK);
	assert_false(vnet_vq_is_broken(m->r.vq));
	m->r.dm = dm_create(&m->r.dc);
	assert_non_null(m->r.dm);
	mal_healthy(m, 10);
	rig_close(&m->r);
}

static void assert_broken(struct mal *m, enum vnet_vq_fault why)
{
	struct vnet_vq_stats st;
	vnet_vq_get_stats(m->r.vq, &st);
	if (!vnet_vq_is_broken(m->r.vq))
		fail_msg("%s: queue not broken, expected fault %d", LNAME(m->r.vc.layout), why);
	if (st.broken_reason != (uint32_t)why)
		fail_msg("%s: broken_reason %u, expected %d", LNAME(m->r.vc.layout), st.broken_reason, why);
	assert_true(st.faults >= 1);
	struct vnet_sg sg = {seg_iova(&m->r, 0), 8};
	assert_int_equal(vnet_vq_add(m->r.vq, &sg, 1, 0, cookie_of(MAXC - 1)), VNET_EBROKEN);
	struct vnet_vq_used u[4];
	assert_int_equal(vnet_vq_get_used(m->r.vq, u, 4), 0);
	assert_false(vnet_vq_has_used(m->r.vq));
	assert_false(vnet_vq_kick_prepare(m->r.vq));
}

/* Post four 2-element chains, inject, let the device run, reap. */
static void mal_inject_run(struct mal *m, enum dm_fault f, uint32_t arg)
{
	for (int i = 0; i < 4; i++)
		mal_add(m, 1, 1);
	rig_kick(&m->r);
	dm_inject(m->r.dm, f, arg);
	dm_poll(m->r.dm, 0); /* faults acting on the index alone */
	mal_drain(m);
	dm_poll(m->r.dm, 8);
	mal_drain(m);
}

static void test_used_id_out_of_range(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	for (uint32_t arg = 0; arg < 3; arg++) {
		struct mal m;
		mal_open(&m, l, 0, 0);
		mal_inject_run(&m, DM_FAULT_ID_RANGE, arg == 2 ? 40000 : arg);
		assert_broken(&m, VNET_VQ_FAULT_ID_RANGE);
		mal_close(&m);
	}
}

static void test_used_id_not_head(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	struct mal m;
	mal_open(&m, l, 0, 0);
	mal_inject_run(&m, DM_FAULT_ID_NOT_HEAD, 0);
	assert_broken(&m, VNET_VQ_FAULT_ID_NOT_HEAD);
	mal_close(&m);
}

static void test_double_completion(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	struct mal m;
	mal_open(&m, l, 0, 0);
	uint64_t first = m.next;
	mal_inject_run(&m, DM_FAULT_DOUBLE, 0);
	/* the first completion is genuine and handed back once */
	assert_int_equal(m.seen[first], 1);
	assert_broken(&m, VNET_VQ_FAULT_ID_NOT_HEAD);
	mal_close(&m);
}

static void test_used_len_too_long(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	for (uint32_t arg = 0; arg < 2; arg++) {
		struct mal m;
		mal_open(&m, l, 0, 0);
		uint64_t first = m.next;
		mal_inject_run(&m, DM_FAULT_LEN, arg ? 0x7fffffffu : 0);
		assert_false(vnet_vq_is_broken(m.r.vq));
		struct vnet_vq_stats st;
		vnet_vq_get_stats(m.r.vq, &st);
		assert_int_equal(st.bad_len, 1);
		assert_int_equal(st.faults, 0);
		assert_int_equal(st.broken_reason, VNET_VQ_FAULT_NONE);
		/* all four came back, the bad one as a runt */
		for (int i = 0; i < 4; i++)
			assert_int_equal(m.seen[first + i], 1);
		assert_int_equal(m.bad_len_seen, 1);
		mal_healthy(&m, 20);
		mal_close(&m);
	}
}

static void test_used_idx_jump(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	assert_int_equal(l, VNET_VQ_SPLIT); /* packed has no used index */
	for (uint32_t arg = 0; arg < 2; arg++) {
		struct mal m;
		mal_open(&m, l, 0, 0);
		mal_inject_run(&m, DM_FAULT_IDX_JUMP, arg ? 30000 : 0);
		assert_broken(&m, VNET_VQ_FAULT_USED_IDX);
		mal_close(&m);
	}
}

static void test_used_idx_backwards(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	assert_int_equal(l, VNET_VQ_SPLIT);
	for (uint32_t arg = 0; arg < 2; arg++) {
		struct mal m;
		mal_open(&m, l, 0, 0);
		mal_inject_run(&m, DM_FAULT_IDX_BACK, arg ? 3 : 0);
		assert_broken(&m, VNET_VQ_FAULT_USED_IDX);
		mal_close(&m);
	}
}

/* The device scribbles over descriptors (and indirect tables) it has read.
 * The engine keeps its chain links in a private shadow, so cookies, lengths
 * and freeing stay right, and what it posts next is valid again (the device
 * model would flag a corrupt chain as a violation). */
static void test_descriptor_rewrite(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	for (int ind = 0; ind < 2; ind++) {
		struct mal m;
		mal_open(&m, l, ind ? VNET_BIT(VIRTIO_F_INDIRECT_DESC) : 0, ind ? 4 : 0);
		for (int round = 0; round < 6; round++) {
			uint64_t first = m.next;
			for (int i = 0; i < 2; i++)
				mal_add(&m, 2, 1);
			rig_kick(&m.r);
			dm_inject(m.r.dm, DM_FAULT_REWRITE_DESC, 0);
			assert_int_equal(dm_poll(m.r.dm, 8), 2);
			assert_int_equal(mal_drain(&m), 2);
			assert_int_equal(m.seen[first], 1);
			assert_int_equal(m.seen[first + 1], 1);
			assert_false(vnet_vq_is_broken(m.r.vq));
			assert_int_equal(vnet_vq_num_free(m.r.vq), 8);
			mal_healthy(&m, 9);
		}
		struct dm_stats ds;
		dm_get_stats(m.r.dm, &ds);
		assert_int_equal(ds.faults_applied, 6);
		mal_close(&m);
	}
}

static void test_packed_garbage_flags(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	assert_int_equal(l, VNET_VQ_PACKED);
	/* INDIRECT (and NEXT) in a used descriptor of a queue without indirect
	 * tables: the device echoes nothing it was given, latched */
	struct mal m;
	mal_open(&m, l, 0, 0);
	mal_inject_run(&m, DM_FAULT_FLAGS, 0);
	assert_broken(&m, VNET_VQ_FAULT_FLAGS);
	mal_close(&m);
	mal_open(&m, l, 0, 0);
	mal_inject_run(&m, DM_FAULT_FLAGS, VRING_DESC_F_INDIRECT | 0x100u);
	assert_broken(&m, VNET_VQ_FAULT_FLAGS);
	mal_close(&m);
	/* NEXT alone: spec 2.8.6 says it is reserved in used descriptors and
	 * "should be ignored by drivers": the queue must keep working. */
	mal_open(&m, l, 0, 0);
	mal_inject_run(&m, DM_FAULT_FLAGS, VRING_DESC_F_NEXT);
	assert_false(vnet_vq_is_broken(m.r.vq));
	mal_close(&m);
}

/* A used descriptor with the wrong wrap bits is not a used descriptor: the
 * driver must not take it (nor anything behind it). */
static void test_packed_wrong_wrap(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	assert_int_equal(l, VNET_VQ_PACKED);
	for (uint32_t arg = 0; arg < 2; arg++) {
		struct mal m;
		mal_open(&m, l, 0, 0);
		uint64_t first = m.next;
		mal_inject_run(&m, DM_FAULT_WRONG_WRAP, arg);
		for (int i = 0; i < 4; i++)
			assert_int_equal(m.seen[first + i], 0);
		if (vnet_vq_is_broken(m.r.vq))
			assert_broken(&m, VNET_VQ_FAULT_FLAGS);
		mal_close(&m);
	}
}

/* IN_ORDER negotiated, device completes out of order. */
static void test_in_order_violation(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	struct mal m;
	memset(&m, 0, sizeof(m));
	rig_open(&m.r, l, 8, VNET_BIT(VIRTIO_F_IN_ORDER), 0, NULL, 0);
	mal_healthy(&m, 11);
	mal_inject_run(&m, DM_FAULT_OUT_OF_ORDER, 0);
	struct vnet_vq_stats st;
	vnet_vq_get_stats(m.r.vq, &st);
	if (l == VNET_VQ_SPLIT) {
		/* one used entry naming the second chain, idx moved by one: as
		 * an IN_ORDER batch it would cover two chains, more than the
		 * index says were used (spec 2.7.9) */
		assert_broken(&m, VNET_VQ_FAULT_IN_ORDER);
	} else if (vnet_vq_is_broken(m.r.vq)) {
		/* packed: an entry naming the second buffer is a legal batch of
		 * two (spec 2.8.9); the lie shows only later, if at all */
		assert_true(st.broken_reason == VNET_VQ_FAULT_IN_ORDER || st.broken_reason == VNET_VQ_FAULT_ID_NOT_HEAD ||
		            st.broken_reason == VNET_VQ_FAULT_USED_IDX);
	}
	mal_close(&m);
}

/* Faults in a long run with a random completion order. */
static void test_fault_mid_stream(void **state)
{
	enum vnet_vq_layout l = LAYOUT(state);
	static const enum dm_fault faults[] = {DM_FAULT_ID_RANGE, DM_FAULT_ID_NOT_HEAD, DM_FAULT_DOUBLE};
	static const enum vnet_vq_fault want[] = {VNET_VQ_FAULT_ID_RANGE, VNET_VQ_FAULT_ID_NOT_HEAD,
	                                          VNET_VQ_FAULT_ID_NOT_HEAD};
	for (size_t f = 0; f < 3; f++) {
		struct mal m;
		struct dm_config dc;
		memset(&dc, 0, sizeof(dc));
		dc.policy = DM_RANDOM;
		dc.seed = 1234u + (uint32_t)f;
		memset(&m, 0, sizeof(m));
		rig_open(&m.r, l, 8, 0, 0, &dc, 0);
		uint32_t seed = 9;
		for (int it = 0; it < 200; it++) {
			while (vnet_vq_num_free(m.r.vq) >= 2 && m.next < MAXC - 8)
				mal_add(&m, 1, xs32(&seed) & 1u);
			rig_kick(&m.r);
			if (it == 100)
				dm_inject(m.r.dm, faults[f], 0);
			dm_poll(m.r.dm, 8);
			mal_drain(&m);
			if (vnet_vq_is_broken(m.r.vq))
				break;
		}
		assert_broken(&m, want[f]);
		mal_close(&m);
	}
}

int main(void)
{
	fake_hal_set_echo(0);
	const struct CMUnitTest tests[] = {
		BOTH(test_used_id_out_of_range),
		BOTH(test_used_id_not_head),
		BOTH(test_double_completion),
		BOTH(test_used_len_too_long),
		SPLIT_ONLY(test_used_idx_jump),
		SPLIT_ONLY(test_used_idx_backwards),
		BOTH(test_descriptor_rewrite),
		PACKED_ONLY(test_packed_garbage_flags),
		PACKED_ONLY(test_packed_wrong_wrap),
		BOTH(test_in_order_violation),
		BOTH(test_fault_mid_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
