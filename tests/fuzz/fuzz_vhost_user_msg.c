/*
 * libFuzzer target for the vhost-user message codec.
 *
 * Each input is used twice:
 *   1. as a message received from a hostile peer: it goes through every
 *      decoder (header, request, and each reply parser, with expectations
 *      taken both from fixed values and from the input itself so the
 *      accepting paths are reachable).  Checked: no crash or sanitizer
 *      report, only documented return codes, a reason code exactly when the
 *      message is rejected as malformed, outputs untouched on failure, and
 *      idempotence: an accepted request, rebuilt from its decoded fields by
 *      the builder, decodes to the same fields.
 *   2. as a parameter source: the bytes pick a request (or reply) type and
 *      its arguments; whatever a builder accepts must decode back to exactly
 *      those arguments, with the fd count and reply expectation the protocol
 *      defines.
 *
 * The same function is driven by libFuzzer (clang -fsanitize=fuzzer) and by
 * replay_main.c (any compiler), which replays the seed corpus in every CI
 * run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnet/vhost_user_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                         \
	do {                                                                             \
		if (!(c)) {                                                              \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                         \
		}                                                                        \
	} while (0)

static uint8_t out[VNET_VU_MSG_MAX];

/* A parser result is one of: OK with no reason; EPROTO with a reason in
 * range; EIO (back-end said no) with BACKEND_FAILED. */
static void check_result(int rc, enum vnet_vu_err why)
{
	if (rc == VNET_OK)
		CHECK(why == VNET_VU_ERR_NONE);
	else if (rc == VNET_EPROTO)
		CHECK(why > VNET_VU_ERR_NONE && why < VNET_VU_ERR_COUNT_ && why != VNET_VU_ERR_BACKEND_FAILED);
	else if (rc == VNET_EIO)
		CHECK(why == VNET_VU_ERR_BACKEND_FAILED);
	else
		CHECK(0 && "unexpected return code");
	CHECK(vnet_vu_strerror(why) != NULL);
}

/* ---- byte source for parameters ---- */
struct src {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct src *s, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++) {
		v <<= 8;
		if (s->n) {
			v |= *s->p++;
			s->n--;
		}
	}
	return v;
}

/* ---- field-wise comparison of decoded requests ---- */
static int region_eq(const struct vhost_user_mem_region *a, const struct vhost_user_mem_region *b)
{
	return a->guest_phys_addr == b->guest_phys_addr && a->memory_size == b->memory_size &&
	       a->userspace_addr == b->userspace_addr && a->mmap_offset == b->mmap_offset;
}

static int req_eq(const struct vnet_vu_req *a, const struct vnet_vu_req *b)
{
	if (a->request != b->request || a->size != b->size || a->nfds != b->nfds ||
	    a->need_reply != b->need_reply || a->expects_reply != b->expects_reply)
		return 0;
	switch (a->request) {
	case VHOST_USER_SEND_RARP:
		return memcmp(a->u.mac, b->u.mac, 6) == 0;
	case VHOST_USER_SET_FEATURES:
	case VHOST_USER_SET_PROTOCOL_FEATURES:
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
	case VHOST_USER_NET_SET_MTU:
	case VHOST_USER_SET_STATUS:
		return a->u.u64 == b->u.u64;
	case VHOST_USER_GET_VRING_BASE:
		/* num carries nothing in this request: the decoder accepts any
		 * value (the rst does not reserve it) and the builder sends 0 */
		return a->u.state.index == b->u.state.index;
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
	case VHOST_USER_SET_VRING_ENDIAN:
	case VHOST_USER_VRING_KICK:
		return a->u.state.index == b->u.state.index && a->u.state.num == b->u.state.num;
	case VHOST_USER_SET_VRING_ADDR:
		return memcmp(&a->u.addr, &b->u.addr, sizeof(a->u.addr)) == 0;
	case VHOST_USER_SET_MEM_TABLE:
		if (a->u.mem.nregions != b->u.mem.nregions)
			return 0;
		for (uint32_t i = 0; i < a->u.mem.nregions; i++)
			if (!region_eq(&a->u.mem.regions[i], &b->u.mem.regions[i]))
				return 0;
		return 1;
	case VHOST_USER_ADD_MEM_REG:
	case VHOST_USER_REM_MEM_REG:
		return region_eq(&a->u.region, &b->u.region);
	case VHOST_USER_SET_LOG_BASE:
		return a->u.log.mmap_size == b->u.log.mmap_size && a->u.log.mmap_offset == b->u.log.mmap_offset;
	case VHOST_USER_IOTLB_MSG:
		return a->u.iotlb.iova == b->u.iotlb.iova && a->u.iotlb.size == b->u.iotlb.size &&
		       a->u.iotlb.uaddr == b->u.iotlb.uaddr && a->u.iotlb.perm == b->u.iotlb.perm &&
		       a->u.iotlb.type == b->u.iotlb.type;
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_SET_CONFIG:
		return a->u.config.offset == b->u.config.offset && a->u.config.size == b->u.config.size &&
		       a->u.config.flags == b->u.config.flags &&
		       (a->request == VHOST_USER_GET_CONFIG ||
			memcmp(a->u.config.data, b->u.config.data, a->u.config.size) == 0);
	case VHOST_USER_GET_INFLIGHT_FD:
	case VHOST_USER_SET_INFLIGHT_FD:
		return a->u.inflight.mmap_size == b->u.inflight.mmap_size &&
		       a->u.inflight.mmap_offset == b->u.inflight.mmap_offset &&
		       a->u.inflight.num_queues == b->u.inflight.num_queues &&
		       a->u.inflight.queue_size == b->u.inflight.queue_size;
	default:
		return 1; /* payload-less */
	}
}

/* Rebuild a decoded request with the public builders.  Returns the length,
 * or a negative code when the builder refused (which would be a bug: the
 * decoder and the builders share their rules). */
static int rebuild(const struct vnet_vu_req *r, uint8_t *buf, size_t cap)
{
	unsigned fl = r->need_reply ? VNET_VU_NEED_REPLY : 0;
	const struct vhost_user_vring_state *s = &r->u.state;
	switch (r->request) {
	case VHOST_USER_GET_FEATURES: return vnet_vu_build_get_features(buf, cap, fl);
	case VHOST_USER_SET_FEATURES: return vnet_vu_build_set_features(buf, cap, fl, r->u.u64);
	case VHOST_USER_SET_OWNER: return vnet_vu_build_set_owner(buf, cap, fl);
	case VHOST_USER_RESET_OWNER: return vnet_vu_build_reset_owner(buf, cap, fl);
	case VHOST_USER_SET_MEM_TABLE:
		return vnet_vu_build_set_mem_table(buf, cap, fl, r->u.mem.regions, r->u.mem.nregions);
	case VHOST_USER_SET_LOG_BASE: return vnet_vu_build_set_log_base(buf, cap, fl, &r->u.log);
	case VHOST_USER_SET_LOG_FD: return vnet_vu_build_set_log_fd(buf, cap, fl);
	case VHOST_USER_SET_VRING_NUM: return vnet_vu_build_set_vring_num(buf, cap, fl, s->index, s->num);
	case VHOST_USER_SET_VRING_ADDR: return vnet_vu_build_set_vring_addr(buf, cap, fl, &r->u.addr);
	case VHOST_USER_SET_VRING_BASE: return vnet_vu_build_set_vring_base(buf, cap, fl, s->index, s->num);
	case VHOST_USER_GET_VRING_BASE: return vnet_vu_build_get_vring_base(buf, cap, fl, s->index);
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR: {
		uint32_t idx = (uint32_t)(r->u.u64 & VHOST_USER_VRING_IDX_MASK);
		bool has_fd = !(r->u.u64 & VHOST_USER_VRING_NOFD_MASK);
		if (r->request == VHOST_USER_SET_VRING_KICK)
			return vnet_vu_build_set_vring_kick(buf, cap, fl, idx, has_fd);
		if (r->request == VHOST_USER_SET_VRING_CALL)
			return vnet_vu_build_set_vring_call(buf, cap, fl, idx, has_fd);
		return vnet_vu_build_set_vring_err(buf, cap, fl, idx, has_fd);
	}
	case VHOST_USER_GET_PROTOCOL_FEATURES: return vnet_vu_build_get_protocol_features(buf, cap, fl);
	case VHOST_USER_SET_PROTOCOL_FEATURES: return vnet_vu_build_set_protocol_features(buf, cap, fl, r->u.u64);
	case VHOST_USER_GET_QUEUE_NUM: return vnet_vu_build_get_queue_num(buf, cap, fl);
	case VHOST_USER_SET_VRING_ENABLE: return vnet_vu_build_set_vring_enable(buf, cap, fl, s->index, s->num);
	case VHOST_USER_SEND_RARP: return vnet_vu_build_send_rarp(buf, cap, fl, r->u.mac);
	case VHOST_USER_NET_SET_MTU: return vnet_vu_build_net_set_mtu(buf, cap, fl, (uint32_t)r->u.u64);
	case VHOST_USER_SET_BACKEND_REQ_FD: return vnet_vu_build_set_backend_req_fd(buf, cap, fl);
	case VHOST_USER_IOTLB_MSG: return vnet_vu_build_iotlb_msg(buf, cap, fl, &r->u.iotlb);
	case VHOST_USER_SET_VRING_ENDIAN: return vnet_vu_build_set_vring_endian(buf, cap, fl, s->index, s->num);
	case VHOST_USER_GET_CONFIG:
		/* GET_CONFIG's flags field is not a builder argument (always 0) */
		if (r->u.config.flags != 0)
			return 0;
		return vnet_vu_build_get_config(buf, cap, fl, r->u.config.offset, r->u.config.size);
	case VHOST_USER_SET_CONFIG:
		return vnet_vu_build_set_config(buf, cap, fl, r->u.config.offset, r->u.config.size, r->u.config.flags,
						r->u.config.data);
	case VHOST_USER_GET_INFLIGHT_FD:
		/* the request's mmap fields are not builder arguments (sent 0) */
		if (r->u.inflight.mmap_size || r->u.inflight.mmap_offset)
			return 0;
		return vnet_vu_build_get_inflight_fd(buf, cap, fl, r->u.inflight.num_queues, r->u.inflight.queue_size);
	case VHOST_USER_SET_INFLIGHT_FD: return vnet_vu_build_set_inflight_fd(buf, cap, fl, &r->u.inflight);
	case VHOST_USER_RESET_DEVICE: return vnet_vu_build_reset_device(buf, cap, fl);
	case VHOST_USER_VRING_KICK: return vnet_vu_build_vring_kick(buf, cap, fl, s->index);
	case VHOST_USER_GET_MAX_MEM_SLOTS: return vnet_vu_build_get_max_mem_slots(buf, cap, fl);
	case VHOST_USER_ADD_MEM_REG: return vnet_vu_build_add_mem_reg(buf, cap, fl, &r->u.region);
	case VHOST_USER_REM_MEM_REG: return vnet_vu_build_rem_mem_reg(buf, cap, fl, &r->u.region);
	case VHOST_USER_SET_STATUS: return vnet_vu_build_set_status(buf, cap, fl, (uint8_t)r->u.u64);
	case VHOST_USER_GET_STATUS: return vnet_vu_build_get_status(buf, cap, fl);
	default: CHECK(0 && "decoder accepted a request the builders do not know"); return -1;
	}
}

/* ---- part 1: the input as a received message ---- */
static void decode_all(const uint8_t *d, size_t n)
{
	enum vnet_vu_err why;
	struct vhost_user_hdr h = {0};
	int rc;

	rc = vnet_vu_hdr_decode(d, n, &h, &why);
	check_result(rc, why);
	CHECK(rc != VNET_EIO);
	if (rc == VNET_OK)
		CHECK(h.size <= VNET_VU_MAX_PAYLOAD);
	uint32_t hreq = n >= 4 ? h.request : 0;
	if (n >= 4)
		memcpy(&hreq, d, 4);

	/* request decoder + idempotence */
	struct vnet_vu_req r, r2;
	rc = vnet_vu_parse_request(d, n, &r, &why);
	check_result(rc, why);
	CHECK(rc != VNET_EIO);
	int nf = vnet_vu_msg_nfds(d, n);
	CHECK((rc == VNET_OK) == (nf >= 0));
	if (rc == VNET_OK) {
		CHECK(r.size + VHOST_USER_HDR_SIZE == n);
		CHECK((unsigned)nf == r.nfds && r.nfds <= VHOST_USER_MAX_RAM_SLOTS);
		CHECK(r.expects_reply || !r.need_reply);
		CHECK(vnet_vu_request_name(r.request) != NULL);
		int len = rebuild(&r, out, sizeof(out));
		CHECK(len >= 0);
		if (len > 0) {
			CHECK((size_t)len == n);
			rc = vnet_vu_parse_request(out, (size_t)len, &r2, &why);
			CHECK(rc == VNET_OK);
			if (!req_eq(&r, &r2))
				fprintf(stderr, "round trip of %s (size %u) changed it\n",
					vnet_vu_request_name(r.request), (unsigned)r.size);
			CHECK(req_eq(&r, &r2));
		}
	}

	/* reply parsers: outputs keep their sentinel unless OK */
	const uint64_t S = 0x5a5a5a5a5a5a5a5aULL;
	uint64_t v = S;
	rc = vnet_vu_parse_features(d, n, &v, &why);
	check_result(rc, why);
	CHECK(rc == VNET_OK || v == S);
	CHECK(rc != VNET_EIO);
	v = S;
	rc = vnet_vu_parse_protocol_features(d, n, &v, &why);
	check_result(rc, why);
	CHECK(rc == VNET_OK || v == S);
	v = S;
	rc = vnet_vu_parse_queue_num(d, n, &v, &why);
	check_result(rc, why);
	CHECK(rc == VNET_OK ? v != 0 : v == S);
	v = S;
	rc = vnet_vu_parse_max_mem_slots(d, n, &v, &why);
	check_result(rc, why);
	CHECK(rc == VNET_OK ? v != 0 : v == S);
	uint8_t st = 0xa5;
	rc = vnet_vu_parse_status(d, n, &st, &why);
	check_result(rc, why);
	CHECK(rc == VNET_OK || st == 0xa5);

	/* vring base: a fixed index, and the index the message carries */
	uint32_t idx_guess = 0;
	if (n >= 16)
		memcpy(&idx_guess, d + 12, 4);
	uint32_t idxs[2] = {0, idx_guess};
	for (int i = 0; i < 2; i++) {
		uint32_t num = 0xdeadbeef;
		rc = vnet_vu_parse_vring_base(d, n, idxs[i], &num, &why);
		check_result(rc, why);
		CHECK(rc == VNET_OK ? num <= 0xffff : num == 0xdeadbeef);
	}

	/* config: a fixed request, and the one the message echoes */
	uint32_t coff = 0, csz = 8;
	if (n >= 20) {
		memcpy(&coff, d + 12, 4);
		memcpy(&csz, d + 16, 4);
	}
	uint32_t cfgs[2][2] = {{0, 8}, {coff, csz}};
	for (int i = 0; i < 2; i++) {
		uint8_t cbuf[VHOST_USER_MAX_CONFIG_SIZE];
		rc = vnet_vu_parse_config(d, n, cfgs[i][0], cfgs[i][1], cbuf, &why);
		if (rc == VNET_EINVAL) /* request itself out of range: caller bug path */
			CHECK(cfgs[i][1] == 0 || cfgs[i][1] > VHOST_USER_MAX_CONFIG_SIZE ||
			      cfgs[i][0] > UINT32_MAX - cfgs[i][1]);
		else
			check_result(rc, why);
		if (rc == VNET_OK)
			CHECK(memcmp(cbuf, d + 24, cfgs[i][1]) == 0);
	}

	struct vhost_user_inflight in;
	memset(&in, 0x77, sizeof(in));
	rc = vnet_vu_parse_inflight(d, n, &in, &why);
	check_result(rc, why);
	CHECK(rc == VNET_OK || in.num_queues == 0x7777);

	uint64_t code = S;
	rc = vnet_vu_parse_ack(d, n, hreq, &code, &why);
	check_result(rc, why);
	CHECK(rc == VNET_EPROTO ? code == S : (rc == VNET_OK) == (code == 0));
}

/* ---- part 2: the input as builder parameters ---- */
static void roundtrip(const uint8_t *d, size_t n)
{
	struct src s = {d, n};
	struct vnet_vu_req r;
	enum vnet_vu_err why;
	unsigned fl = (unsigned)take(&s, 1) & 0x3; /* bit 1: invalid flag, must be refused */
	uint32_t which = (uint32_t)take(&s, 1) % 48;
	uint32_t a32 = (uint32_t)take(&s, 4), b32 = (uint32_t)take(&s, 4);
	uint64_t a64 = take(&s, 8);
	int len = 0;
	uint8_t blob[VHOST_USER_MAX_CONFIG_SIZE + 1];
	struct vhost_user_mem_region regs[VHOST_USER_MAX_RAM_SLOTS + 1];
	for (unsigned i = 0; i < VHOST_USER_MAX_RAM_SLOTS + 1; i++) {
		regs[i].guest_phys_addr = take(&s, 8);
		regs[i].memory_size = take(&s, 8);
		regs[i].userspace_addr = take(&s, 8);
		regs[i].mmap_offset = take(&s, 8);
	}
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)take(&s, 1);
	size_t cap = sizeof(out);
	if (take(&s, 1) == 0xff) /* sometimes a too-small buffer */
		cap = (size_t)(take(&s, 2) % 300);

	memset(out, 0xcc, sizeof(out));
	uint32_t req = which;
	switch (which) {
	case VHOST_USER_SET_FEATURES: len = vnet_vu_build_set_features(out, cap, fl, a64); break;
	case VHOST_USER_SET_PROTOCOL_FEATURES: len = vnet_vu_build_set_protocol_features(out, cap, fl, a64); break;
	case VHOST_USER_SET_MEM_TABLE: len = vnet_vu_build_set_mem_table(out, cap, fl, regs, a32 % 10); break;
	case VHOST_USER_SET_LOG_BASE: {
		struct vhost_user_log lg = {a64, b32};
		len = vnet_vu_build_set_log_base(out, cap, fl, &lg);
		break;
	}
	case VHOST_USER_SET_VRING_NUM: len = vnet_vu_build_set_vring_num(out, cap, fl, a32 % 300, b32 % 40000); break;
	case VHOST_USER_SET_VRING_ADDR: {
		struct vhost_user_vring_addr ad = {a32 % 300, b32 % 3, a64, regs[0].memory_size, regs[0].userspace_addr,
						   regs[0].mmap_offset};
		len = vnet_vu_build_set_vring_addr(out, cap, fl, &ad);
		break;
	}
	case VHOST_USER_SET_VRING_BASE: len = vnet_vu_build_set_vring_base(out, cap, fl, a32 % 300, b32 % 0x10002); break;
	case VHOST_USER_GET_VRING_BASE: len = vnet_vu_build_get_vring_base(out, cap, fl, a32 % 300); break;
	case VHOST_USER_SET_VRING_KICK: len = vnet_vu_build_set_vring_kick(out, cap, fl, a32 % 300, b32 & 1); break;
	case VHOST_USER_SET_VRING_CALL: len = vnet_vu_build_set_vring_call(out, cap, fl, a32 % 300, b32 & 1); break;
	case VHOST_USER_SET_VRING_ERR: len = vnet_vu_build_set_vring_err(out, cap, fl, a32 % 300, b32 & 1); break;
	case VHOST_USER_SET_VRING_ENABLE: len = vnet_vu_build_set_vring_enable(out, cap, fl, a32 % 300, b32 & 1); break;
	case VHOST_USER_SEND_RARP: len = vnet_vu_build_send_rarp(out, cap, fl, blob); break;
	case VHOST_USER_NET_SET_MTU: len = vnet_vu_build_net_set_mtu(out, cap, fl, a32 % 70000); break;
	case VHOST_USER_IOTLB_MSG: {
		struct vhost_user_iotlb io = {a64, regs[0].guest_phys_addr, regs[0].memory_size,
					      (uint8_t)(b32 % 6), (uint8_t)((b32 >> 8) % 6), {0}};
		len = vnet_vu_build_iotlb_msg(out, cap, fl, &io);
		break;
	}
	case VHOST_USER_SET_VRING_ENDIAN: len = vnet_vu_build_set_vring_endian(out, cap, fl, a32 % 300, b32 & 1); break;
	case VHOST_USER_GET_CONFIG: len = vnet_vu_build_get_config(out, cap, fl, a32, b32 % 300); break;
	case VHOST_USER_SET_CONFIG:
		len = vnet_vu_build_set_config(out, cap, fl, a32 % 1024, b32 % 300, (uint32_t)(a64 % 3), blob);
		break;
	case VHOST_USER_GET_INFLIGHT_FD:
		len = vnet_vu_build_get_inflight_fd(out, cap, fl, (uint16_t)a32, (uint16_t)b32);
		break;
	case VHOST_USER_SET_INFLIGHT_FD: {
		struct vhost_user_inflight in = {a64, regs[0].mmap_offset, (uint16_t)a32, (uint16_t)b32, 0};
		len = vnet_vu_build_set_inflight_fd(out, cap, fl, &in);
		break;
	}
	case VHOST_USER_VRING_KICK: len = vnet_vu_build_vring_kick(out, cap, fl, a32 % 300); break;
	case VHOST_USER_ADD_MEM_REG: len = vnet_vu_build_add_mem_reg(out, cap, fl, &regs[0]); break;
	case VHOST_USER_REM_MEM_REG: len = vnet_vu_build_rem_mem_reg(out, cap, fl, &regs[0]); break;
	case VHOST_USER_SET_STATUS: len = vnet_vu_build_set_status(out, cap, fl, (uint8_t)a32); break;
	case VHOST_USER_GET_FEATURES: len = vnet_vu_build_get_features(out, cap, fl); break;
	case VHOST_USER_SET_OWNER: len = vnet_vu_build_set_owner(out, cap, fl); break;
	case VHOST_USER_RESET_OWNER: len = vnet_vu_build_reset_owner(out, cap, fl); break;
	case VHOST_USER_SET_LOG_FD: len = vnet_vu_build_set_log_fd(out, cap, fl); break;
	case VHOST_USER_GET_PROTOCOL_FEATURES: len = vnet_vu_build_get_protocol_features(out, cap, fl); break;
	case VHOST_USER_GET_QUEUE_NUM: len = vnet_vu_build_get_queue_num(out, cap, fl); break;
	case VHOST_USER_SET_BACKEND_REQ_FD: len = vnet_vu_build_set_backend_req_fd(out, cap, fl); break;
	case VHOST_USER_RESET_DEVICE: len = vnet_vu_build_reset_device(out, cap, fl); break;
	case VHOST_USER_GET_MAX_MEM_SLOTS: len = vnet_vu_build_get_max_mem_slots(out, cap, fl); break;
	case VHOST_USER_GET_STATUS: len = vnet_vu_build_get_status(out, cap, fl); break;
	default: {
		/* reply builders -> reply parsers */
		uint32_t num;
		uint64_t v;
		uint8_t cb[VHOST_USER_MAX_CONFIG_SIZE];
		struct vhost_user_inflight in = {a64, regs[0].mmap_offset, (uint16_t)a32, (uint16_t)b32, 0}, in2;
		switch (which % 4) {
		case 0:
			len = vnet_vu_build_reply_vring_state(out, cap, VHOST_USER_GET_VRING_BASE, a32, b32);
			if (len > 0) {
				int rc = vnet_vu_parse_vring_base(out, (size_t)len, a32, &num, &why);
				CHECK(rc == (b32 <= 0xffff ? VNET_OK : VNET_EPROTO));
				CHECK(rc != VNET_OK || num == b32);
			}
			break;
		case 1:
			len = vnet_vu_build_reply_u64(out, cap, VHOST_USER_GET_FEATURES, a64);
			if (len > 0) {
				CHECK(vnet_vu_parse_features(out, (size_t)len, &v, &why) == VNET_OK && v == a64);
				CHECK(vnet_vu_parse_protocol_features(out, (size_t)len, &v, &why) == VNET_EPROTO);
				CHECK(why == VNET_VU_ERR_REQUEST);
			}
			break;
		case 2: {
			uint32_t sz = b32 % 300;
			len = vnet_vu_build_reply_config(out, cap, a32, sz, 0, blob);
			if (len > 0 && sz > 0 && a32 <= UINT32_MAX - sz) {
				CHECK(vnet_vu_parse_config(out, (size_t)len, a32, sz, cb, &why) == VNET_OK);
				CHECK(memcmp(cb, blob, sz) == 0);
			} else if (len > 0 && sz == 0) {
				CHECK(vnet_vu_parse_config(out, (size_t)len, 0, 1, cb, &why) == VNET_EIO);
			}
			break;
		}
		default:
			len = vnet_vu_build_reply_inflight(out, cap, &in);
			if (len > 0) {
				CHECK(vnet_vu_parse_inflight(out, (size_t)len, &in2, &why) == VNET_OK);
				CHECK(in2.mmap_size == in.mmap_size && in2.mmap_offset == in.mmap_offset &&
				      in2.num_queues == in.num_queues && in2.queue_size == in.queue_size);
			}
			break;
		}
		CHECK(len > 0 || len == VNET_EINVAL || len == VNET_ENOSPC);
		return;
	}
	}

	CHECK(len > 0 || len == VNET_EINVAL || len == VNET_ENOSPC);
	if (fl & 0x2)
		CHECK(len == VNET_EINVAL);
	if (len <= 0)
		return;
	CHECK((size_t)len <= cap);
	/* never writes past the message it reports */
	if ((size_t)len < sizeof(out))
		CHECK(out[len] == 0xcc);

	int rc = vnet_vu_parse_request(out, (size_t)len, &r, &why);
	CHECK(rc == VNET_OK);
	CHECK(r.request == req);
	CHECK(r.need_reply == ((fl & VNET_VU_NEED_REPLY) != 0));
	/* per-type expectations: the values we passed come back */
	switch (req) {
	case VHOST_USER_SET_FEATURES:
	case VHOST_USER_SET_PROTOCOL_FEATURES: CHECK(r.u.u64 == a64); break;
	case VHOST_USER_SET_MEM_TABLE:
		CHECK(r.u.mem.nregions == a32 % 10 && r.nfds == r.u.mem.nregions);
		for (uint32_t i = 0; i < r.u.mem.nregions; i++)
			CHECK(region_eq(&r.u.mem.regions[i], &regs[i]));
		break;
	case VHOST_USER_SET_LOG_BASE:
		CHECK(r.u.log.mmap_size == a64 && r.u.log.mmap_offset == b32 && r.nfds == 1 && r.expects_reply);
		break;
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		CHECK((r.u.u64 & 0xff) == a32 % 300 && r.nfds == (b32 & 1));
		break;
	case VHOST_USER_SET_VRING_NUM: CHECK(r.u.state.index == a32 % 300 && r.u.state.num == b32 % 40000); break;
	case VHOST_USER_SET_VRING_BASE: CHECK(r.u.state.index == a32 % 300 && r.u.state.num == b32 % 0x10002); break;
	case VHOST_USER_GET_VRING_BASE: CHECK(r.u.state.index == a32 % 300 && r.expects_reply); break;
	case VHOST_USER_SET_VRING_ENABLE:
	case VHOST_USER_SET_VRING_ENDIAN: CHECK(r.u.state.index == a32 % 300 && r.u.state.num == (b32 & 1)); break;
	case VHOST_USER_SET_VRING_ADDR:
		CHECK(r.u.addr.index == a32 % 300 && r.u.addr.flags == b32 % 3 && r.u.addr.desc == a64 &&
		      r.u.addr.used == regs[0].memory_size && r.u.addr.avail == regs[0].userspace_addr &&
		      r.u.addr.log == regs[0].mmap_offset);
		break;
	case VHOST_USER_SEND_RARP: CHECK(memcmp(r.u.mac, blob, 6) == 0); break;
	case VHOST_USER_NET_SET_MTU: CHECK(r.u.u64 == a32 % 70000); break;
	case VHOST_USER_GET_CONFIG:
		CHECK(r.u.config.offset == a32 && r.u.config.size == b32 % 300 && r.expects_reply);
		break;
	case VHOST_USER_SET_CONFIG:
		CHECK(r.u.config.offset == a32 % 1024 && r.u.config.size == b32 % 300 &&
		      r.u.config.flags == a64 % 3 && memcmp(r.u.config.data, blob, r.u.config.size) == 0);
		break;
	case VHOST_USER_ADD_MEM_REG: CHECK(region_eq(&r.u.region, &regs[0]) && r.nfds == 1); break;
	case VHOST_USER_REM_MEM_REG: CHECK(region_eq(&r.u.region, &regs[0]) && r.nfds == 0); break;
	case VHOST_USER_SET_STATUS: CHECK(r.u.u64 == (uint8_t)a32); break;
	case VHOST_USER_SET_INFLIGHT_FD: CHECK(r.u.inflight.mmap_size == a64 && r.nfds == 1); break;
	case VHOST_USER_GET_INFLIGHT_FD:
		CHECK(r.u.inflight.num_queues == (uint16_t)a32 && r.u.inflight.queue_size == (uint16_t)b32 &&
		      r.expects_reply);
		break;
	default: break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_all(data, size);
	roundtrip(data, size);
	return 0;
}
