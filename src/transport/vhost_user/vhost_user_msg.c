/*
 * vhost-user message codec: bytes in, bytes out, nothing else.
 *
 * The back-end is a separate process we do not trust more than a device:
 * every reply is checked in a fixed order (header, length, REPLY flag,
 * request code, payload size, values) and the first failure is reported
 * with its own reason, so a log line says exactly what the peer got wrong.
 * Requests are decoded with the same rules the builders enforce, so that a
 * test back-end built on this codec rejects anything we would never send.
 *
 * Fields are moved with memcpy rather than by casting the buffer to the
 * spec structs: receive buffers come from a socket read and carry no
 * alignment promise.  Offsets come from the spec structs (offsetof), whose
 * layout include/vnet/spec/vhost_user.h pins with static asserts.
 *
 * Not here: sockets, fds (we only count them), timeouts, the order in which
 * requests are legal, feature gating.  Those belong to the Linux transport.
 */
#include "core/vnet_mem.h"

#include "vnet/vhost_user_msg.h"

#define HDR VHOST_USER_HDR_SIZE

/* ---- byte helpers (native order, any alignment) ---- */

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof(v)); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, sizeof(v)); }
static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}
static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}
static uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static void set_why(enum vnet_vu_err *why, enum vnet_vu_err v)
{
	if (why)
		*why = v;
}

static int proto(enum vnet_vu_err *why, enum vnet_vu_err v)
{
	set_why(why, v);
	return VNET_EPROTO;
}

/* ---- names ---- */

static const char *const vu_req_names[] = {
	[VHOST_USER_GET_FEATURES] = "GET_FEATURES",
	[VHOST_USER_SET_FEATURES] = "SET_FEATURES",
	[VHOST_USER_SET_OWNER] = "SET_OWNER",
	[VHOST_USER_RESET_OWNER] = "RESET_OWNER",
	[VHOST_USER_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[VHOST_USER_SET_LOG_BASE] = "SET_LOG_BASE",
	[VHOST_USER_SET_LOG_FD] = "SET_LOG_FD",
	[VHOST_USER_SET_VRING_NUM] = "SET_VRING_NUM",
	[VHOST_USER_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[VHOST_USER_SET_VRING_BASE] = "SET_VRING_BASE",
	[VHOST_USER_GET_VRING_BASE] = "GET_VRING_BASE",
	[VHOST_USER_SET_VRING_KICK] = "SET_VRING_KICK",
	[VHOST_USER_SET_VRING_CALL] = "SET_VRING_CALL",
	[VHOST_USER_SET_VRING_ERR] = "SET_VRING_ERR",
	[VHOST_USER_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[VHOST_USER_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[VHOST_USER_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[VHOST_USER_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	[VHOST_USER_SEND_RARP] = "SEND_RARP",
	[VHOST_USER_NET_SET_MTU] = "NET_SET_MTU",
	[VHOST_USER_SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD",
	[VHOST_USER_IOTLB_MSG] = "IOTLB_MSG",
	[VHOST_USER_SET_VRING_ENDIAN] = "SET_VRING_ENDIAN",
	[VHOST_USER_GET_CONFIG] = "GET_CONFIG",
	[VHOST_USER_SET_CONFIG] = "SET_CONFIG",
	[VHOST_USER_CREATE_CRYPTO_SESSION] = "CREATE_CRYPTO_SESSION",
	[VHOST_USER_CLOSE_CRYPTO_SESSION] = "CLOSE_CRYPTO_SESSION",
	[VHOST_USER_POSTCOPY_ADVISE] = "POSTCOPY_ADVISE",
	[VHOST_USER_POSTCOPY_LISTEN] = "POSTCOPY_LISTEN",
	[VHOST_USER_POSTCOPY_END] = "POSTCOPY_END",
	[VHOST_USER_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
	[VHOST_USER_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD",
	[VHOST_USER_GPU_SET_SOCKET] = "GPU_SET_SOCKET",
	[VHOST_USER_RESET_DEVICE] = "RESET_DEVICE",
	[VHOST_USER_VRING_KICK] = "VRING_KICK",
	[VHOST_USER_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
	[VHOST_USER_ADD_MEM_REG] = "ADD_MEM_REG",
	[VHOST_USER_REM_MEM_REG] = "REM_MEM_REG",
	[VHOST_USER_SET_STATUS] = "SET_STATUS",
	[VHOST_USER_GET_STATUS] = "GET_STATUS",
};

const char *vnet_vu_request_name(uint32_t request)
{
	if (request < sizeof(vu_req_names) / sizeof(vu_req_names[0]) && vu_req_names[request])
		return vu_req_names[request];
	return "UNKNOWN";
}

static const char *const vu_err_names[VNET_VU_ERR_COUNT_] = {
	[VNET_VU_ERR_NONE] = "no error",
	[VNET_VU_ERR_SHORT_HEADER] = "message shorter than the 12-byte header",
	[VNET_VU_ERR_VERSION] = "unsupported protocol version (flags bits 0-1 != 1)",
	[VNET_VU_ERR_OVERSIZE] = "payload size exceeds the codec's limit",
	[VNET_VU_ERR_TRUNCATED] = "message shorter than header + payload size",
	[VNET_VU_ERR_TRAILING] = "bytes beyond header + payload size",
	[VNET_VU_ERR_NOT_REPLY] = "reply lacks the REPLY flag",
	[VNET_VU_ERR_UNEXPECTED_REPLY] = "request carries the REPLY flag",
	[VNET_VU_ERR_REQUEST] = "reply is for a different request",
	[VNET_VU_ERR_UNKNOWN_REQUEST] = "unknown request code",
	[VNET_VU_ERR_PAYLOAD_SIZE] = "payload size wrong for this request type",
	[VNET_VU_ERR_VALUE] = "payload field out of range or inconsistent with the request",
	[VNET_VU_ERR_BACKEND_FAILED] = "back-end reported failure",
};

const char *vnet_vu_strerror(enum vnet_vu_err why)
{
	if ((unsigned)why < VNET_VU_ERR_COUNT_ && vu_err_names[why])
		return vu_err_names[why];
	return "unknown vhost-user codec error";
}

/* ---- shared validation rules (builders and request decoder) ---- */

static bool range_ok(uint64_t start, uint64_t size)
{
	/* size != 0 and start + size - 1 does not wrap */
	return size != 0 && start <= UINT64_MAX - (size - 1);
}

static bool region_ok(const struct vhost_user_mem_region *r)
{
	return range_ok(r->guest_phys_addr, r->memory_size) && range_ok(r->userspace_addr, r->memory_size) &&
	       range_ok(r->mmap_offset, r->memory_size);
}

static bool config_ok(uint32_t offset, uint32_t size)
{
	return size >= 1 && size <= VHOST_USER_MAX_CONFIG_SIZE && offset <= UINT32_MAX - size;
}

static bool iotlb_ok(const struct vhost_user_iotlb *m)
{
	return m->perm <= 3 && m->type >= VHOST_USER_IOTLB_MISS && m->type <= VHOST_USER_IOTLB_ACCESS_FAIL;
}

/* Requests whose reply is part of the type, whatever NEED_REPLY says.
 * SET_LOG_BASE is listed because we only speak its LOG_SHMFD form, which
 * the back-end acknowledges (vhost-user.rst "Communication"); IOTLB_MSG's
 * rst entry makes the u64 ack mandatory. */
static bool has_inherent_reply(uint32_t request)
{
	switch (request) {
	case VHOST_USER_GET_FEATURES:
	case VHOST_USER_GET_PROTOCOL_FEATURES:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_GET_QUEUE_NUM:
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_GET_INFLIGHT_FD:
	case VHOST_USER_GET_MAX_MEM_SLOTS:
	case VHOST_USER_GET_STATUS:
	case VHOST_USER_SET_LOG_BASE:
	case VHOST_USER_IOTLB_MSG:
		return true;
	default:
		return false;
	}
}

/* ---- builders ---- */

/* Write the header of a request; returns total length or an error. */
static int put_hdr(void *buf, size_t cap, uint32_t request, uint32_t hflags, uint32_t size)
{
	if (!buf || size > VNET_VU_MAX_PAYLOAD)
		return VNET_EINVAL;
	if (cap < HDR + (size_t)size)
		return VNET_ENOSPC;
	uint8_t *p = buf;
	put32(p + offsetof(struct vhost_user_hdr, request), request);
	put32(p + offsetof(struct vhost_user_hdr, flags), hflags);
	put32(p + offsetof(struct vhost_user_hdr, size), size);
	/* Padding and unused bytes go out as zero, never as stale memory. */
	memset(p + HDR, 0, size);
	return (int)(HDR + size);
}

static int req_hdr(void *buf, size_t cap, unsigned flags, uint32_t request, uint32_t size)
{
	if (flags & ~VNET_VU_NEED_REPLY)
		return VNET_EINVAL;
	uint32_t h = VHOST_USER_VERSION;
	if (flags & VNET_VU_NEED_REPLY)
		h |= VHOST_USER_FLAG_NEED_REPLY;
	return put_hdr(buf, cap, request, h, size);
}

static int build_empty(void *buf, size_t cap, unsigned flags, uint32_t request)
{
	return req_hdr(buf, cap, flags, request, 0);
}

static int build_u64(void *buf, size_t cap, unsigned flags, uint32_t request, uint64_t v)
{
	int n = req_hdr(buf, cap, flags, request, 8);
	if (n > 0)
		put64((uint8_t *)buf + HDR, v);
	return n;
}

static int build_state(void *buf, size_t cap, unsigned flags, uint32_t request, uint32_t index, uint32_t num)
{
	if (index > VNET_VU_MAX_VRING_INDEX)
		return VNET_EINVAL;
	int n = req_hdr(buf, cap, flags, request, sizeof(struct vhost_user_vring_state));
	if (n > 0) {
		uint8_t *p = (uint8_t *)buf + HDR;
		put32(p + offsetof(struct vhost_user_vring_state, index), index);
		put32(p + offsetof(struct vhost_user_vring_state, num), num);
	}
	return n;
}

static int build_vring_fd(void *buf, size_t cap, unsigned flags, uint32_t request, uint32_t index, bool has_fd)
{
	if (index > VNET_VU_MAX_VRING_INDEX)
		return VNET_EINVAL;
	return build_u64(buf, cap, flags, request, (uint64_t)index | (has_fd ? 0 : VHOST_USER_VRING_NOFD_MASK));
}

static void put_region(uint8_t *p, const struct vhost_user_mem_region *r)
{
	put64(p + offsetof(struct vhost_user_mem_region, guest_phys_addr), r->guest_phys_addr);
	put64(p + offsetof(struct vhost_user_mem_region, memory_size), r->memory_size);
	put64(p + offsetof(struct vhost_user_mem_region, userspace_addr), r->userspace_addr);
	put64(p + offsetof(struct vhost_user_mem_region, mmap_offset), r->mmap_offset);
}

static void get_region(const uint8_t *p, struct vhost_user_mem_region *r)
{
	r->guest_phys_addr = get64(p + offsetof(struct vhost_user_mem_region, guest_phys_addr));
	r->memory_size = get64(p + offsetof(struct vhost_user_mem_region, memory_size));
	r->userspace_addr = get64(p + offsetof(struct vhost_user_mem_region, userspace_addr));
	r->mmap_offset = get64(p + offsetof(struct vhost_user_mem_region, mmap_offset));
}

static void put_inflight(uint8_t *p, const struct vhost_user_inflight *in)
{
	put64(p + offsetof(struct vhost_user_inflight, mmap_size), in->mmap_size);
	put64(p + offsetof(struct vhost_user_inflight, mmap_offset), in->mmap_offset);
	memcpy(p + offsetof(struct vhost_user_inflight, num_queues), &in->num_queues, 2);
	memcpy(p + offsetof(struct vhost_user_inflight, queue_size), &in->queue_size, 2);
}

static void get_inflight(const uint8_t *p, struct vhost_user_inflight *in)
{
	in->mmap_size = get64(p + offsetof(struct vhost_user_inflight, mmap_size));
	in->mmap_offset = get64(p + offsetof(struct vhost_user_inflight, mmap_offset));
	in->num_queues = get16(p + offsetof(struct vhost_user_inflight, num_queues));
	in->queue_size = get16(p + offsetof(struct vhost_user_inflight, queue_size));
	in->pad = 0;
}

int vnet_vu_build_get_features(void *buf, size_t cap, unsigned flags)
{
	return build_empty(buf, cap, flags, VHOST_USER_GET_FEATURES);
}

int vnet_vu_build_set_features(void *buf, size_t cap, unsigned flags, uint64_t features)
{
	return build_u64(buf, cap, flags, VHOST_USER_SET_FEATURES, features);
}

int vnet_vu_build_set_owner(void *buf, size_t cap, unsigned flags)
{
	return build_empty(buf, cap, flags, VHOST_USER_SET_OWNER);
}

int vnet_vu_build_reset_owner(void *buf, size_t cap, unsigned flags)
{
	return build_empty(buf, cap, flags, VHOST_USER_RESET_OWNER);
}

int vnet_vu_build_set_mem_table(void *buf, size_t cap, unsigned flags, const struct vhost_user_mem_region *regions,
				unsigned n)
{
	if (!regions || n == 0 || n > VHOST_USER_MAX_RAM_SLOTS)
		return VNET_EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!region_ok(&regions[i]))
			return VNET_EINVAL;
	int len = req_hdr(buf, cap, flags, VHOST_USER_SET_MEM_TABLE, VHOST_USER_MEM_TABLE_SIZE(n));
	if (len > 0) {
		uint8_t *p = (uint8_t *)buf + HDR;
		put32(p + offsetof(struct vhost_user_mem_table, nregions), n);
		for (unsigned i = 0; i < n; i++)
			put_region(p + offsetof(struct vhost_user_mem_table, regions) +
					   i * sizeof(struct vhost_user_mem_region),
				   &regions[i]);
	}
	return len;
}

int vnet_vu_build_set_log_base(void *buf, size_t cap, unsigned flags, const struct vhost_user_log *log)
{
	if (!log || log->mmap_size == 0)
		return VNET_EINVAL;
	int n = req_hdr(buf, cap, flags, VHOST_USER_SET_LOG_BASE, sizeof(struct vhost_user_log));
	if (n > 0) {
		uint8_t *p = (uint8_t *)buf + HDR;
		put64(p + offsetof(struct vhost_user_log, mmap_size), log->mmap_size);
		put64(p + offsetof(struct vhost_user_log, mmap_offset), log->mmap_offset);
	}
	return n;
}

int vnet_vu_build_set_log_fd(void *buf, size_t cap, unsigned flags)
{
	return build_empty(buf, cap, flags, VHOST_USER_SET_LOG_FD);
}

int vnet_vu_build_set_vring_num(void *buf, size_t cap, unsigned flags, uint32_t index, uint32_t num)
{
	if (num == 0 || num > VNET_VU_MAX_VRING_NUM)
		return VNET_EINVAL;
	return build_state(buf, cap, flags, VHOST_USER_SET_VRING_NUM, index, num);
}

int vnet_vu_build_set_vring_addr(void *buf, size_t cap, unsigned flags, const struct vhost_user_vring_addr *addr)
{
	if (!addr || addr->index > VNET_VU_MAX_VRING_INDEX || (addr->flags & ~VHOST_USER_VRING_F_LOG))
		return VNET_EINVAL;
	int n = req_hdr(buf, cap, flags, VHOST_USER_SET_VRING_ADDR, sizeof(struct vhost_user_vring_addr));
	if (n > 0) {
		uint8_t *p = (uint8_t *)buf + HDR;
		put32(p + offsetof(struct vhost_user_vring_addr, index), addr->index);
		put32(p + offsetof(struct vhost_user_vring_addr, flags), addr->flags);
		put64(p + offsetof(struct vhost_user_vring_addr, desc), addr->desc);
		put64(p + offsetof(struct vhost_user_vring_addr, used), addr->used);
		put64(p + offsetof(struct vhost_user_vring_addr, avail), addr->avail);
		put64(p + offsetof(struct vhost_user_vring_addr, log), addr->log);
	}
	return n;
}

int vnet_vu_build_set_vring_base(void *buf, size_t cap, unsigned flags, uint32_t index, uint32_t num)
{
	if (num > 0xffffu)
		return VNET_EINVAL;
	return build_state(buf, cap, flags, VHOST_USER_SET_VRING_BASE, index, num);
}

int vnet_vu_build_get_vring_base(void *buf, size_t cap, unsigned flags, uint32_t index)
{
	return build_state(buf, cap, flags, VHOST_USER_GET_VRING_BASE, index, 0);
}

int vnet_vu_build_set_vring_kick(void *buf, size_t cap, unsigned flags, uint32_t index, bool has_fd)
{
	return build_vring_fd(buf, cap, flags, VHOST_USER_SET_VRING_KICK, index, has_fd);
}

int vnet_vu_build_set_vring_call(void *buf, size_t cap, unsigned flags, uint32_t index, bool has_fd)
{
	return build_vring_fd(buf, cap, flags, VHOST_USER_SET_VRING_CALL, index, has_fd);
}

int vnet_vu_build_set_vring_err(void *buf, size_t cap, unsigned flags, uint32_t index, bool has_fd)
{
	return build_vring_fd(buf, cap, flags, VHOST_USER_SET_VRING_ERR, index, has_fd);
}

int vnet_vu_build_get_protocol_features(void *buf, size_t cap, unsigned flags)
{
	return build_empty(buf, cap, flags, VHOST_USER_GET_PROTOCOL_FEATURES);
}

int vnet_vu_build_set_protocol_features(void *buf, size_t cap, unsigned flags, uint64_t features)
{
	return build_u64(buf, cap, flags, VHOST_USER_SET_PROTOCOL_FEATURES, features);
}

int vnet_vu_build_get_queue_num(void *buf, size_t cap, unsigned flags)
{
	return build_empty(buf, cap, flags, VHOST_USER_GET_QUEUE_NUM);
}

int vnet_vu_build_set_vring_enable(void *buf, size_t cap, unsigned flags, uint32_t index, bool enable)
{
	return build_state(buf, cap, flags, VHOST_USER_SET_VRING_ENABLE, index, enable ? 1u : 0u);
}

int vnet_vu_build_send_rarp(void *buf, size_t cap, unsigned flags, const uint8_t mac[6])
{
	if (!mac)
		return VNET_EINVAL;
	int n = req_hdr(buf, cap, flags, VHOST_USER_SEND_RARP, 8);
	if (n > 0)
		memcpy((uint8_t *)buf + HDR, mac, 6); /* bytes 6-7 stay zero */
	return n;
}

int vnet_vu_build_net_set_mtu(void *buf, size_t cap, unsigned flags, uint32_t mtu)
{
	if (mtu < 68 || mtu > 65535)
		return VNET_EINVAL;
	return build_u64(buf, cap, flags, VHOST_USER_NET_SET_MTU, mtu);
}

int vnet_vu_build_set_backend_req_fd(void *buf, size_t cap, unsigned flags)
{
	return build_empty(buf, cap, flags, VHOST_USER_SET_BACKEND_REQ_FD);
}

int vnet_vu_build_iotlb_msg(void *buf, size_t cap, unsigned flags, const struct vhost_user_iotlb *msg)
{
	if (!msg || !iotlb_ok(msg))
		return VNET_EINVAL;
	int n = req_hdr(buf, cap, flags, VHOST_USER_IOTLB_MSG, sizeof(struct vhost_user_iotlb));
	if (n > 0) {
		uint8_t *p = (uint8_t *)buf + HDR;
		put64(p + offsetof(struct vhost_user_iotlb, iova), msg->iova);
		put64(p + offsetof(struct vhost_user_iotlb, size), msg->size);
		put64(p + offsetof(struct vhost_user_iotlb, uaddr), msg->uaddr);
		p[offsetof(struct vhost_user_iotlb, perm)] = msg->perm;
		p[offsetof(struct vhost_user_iotlb, type)] = msg->type;
	}
	return n;
}

int vnet_vu_build_set_vring_endian(void *buf, size_t cap, unsigned flags, uint32_t index, bool big_endian)
{
	return build_state(buf, cap, flags, VHOST_USER_SET_VRING_ENDIAN, index, big_endian ? 1u : 0u);
}

static int build_config(void *buf, size_t cap, uint32_t request, uint32_t hflags, uint32_t offset, uint32_t size,
			uint32_t cfg_flags, const void *data)
{
	int n = put_hdr(buf, cap, request, hflags, VHOST_USER_CONFIG_HDR_SIZE + size);
	if (n > 0) {
		uint8_t *p = (uint8_t *)buf + HDR;
		put32(p + offsetof(struct vhost_user_config_hdr, offset), offset);
		put32(p + offsetof(struct vhost_user_config_hdr, size), size);
		put32(p + offsetof(struct vhost_user_config_hdr, flags), cfg_flags);
		if (data)
			memcpy(p + VHOST_USER_CONFIG_HDR_SIZE, data, size);
	}
	return n;
}

int vnet_vu_build_get_config(void *buf, size_t cap, unsigned flags, uint32_t offset, uint32_t size)
{
	if (!config_ok(offset, size) || (flags & ~VNET_VU_NEED_REPLY))
		return VNET_EINVAL;
	uint32_t h = VHOST_USER_VERSION | ((flags & VNET_VU_NEED_REPLY) ? VHOST_USER_FLAG_NEED_REPLY : 0);
	return build_config(buf, cap, VHOST_USER_GET_CONFIG, h, offset, size, VHOST_USER_CONFIG_F_WRITABLE, NULL);
}

int vnet_vu_build_set_config(void *buf, size_t cap, unsigned flags, uint32_t offset, uint32_t size,
			     uint32_t cfg_flags, const void *data)
{
	if (!data || !config_ok(offset, size) || cfg_flags > VHOST_USER_CONFIG_F_MIGRATION ||
	    (flags & ~VNET_VU_NEED_REPLY))
		return VNET_EINVAL;
	uint32_t h = VHOST_USER_VERSION | ((flags & VNET_VU_NEED_REPLY) ? VHOST_USER_FLAG_NEED_REPLY : 0);
	return build_config(buf, cap, VHOST_USER_SET_CONFIG, h, offset, size, cfg_flags, data);
}

int vnet_vu_build_get_inflight_fd(void *buf, size_t cap, unsigned flags, uint16_t num_queues, uint16_t queue_size)
{
	if (num_queues == 0 || queue_size == 0)
		return VNET_EINVAL;
	int n = req_hdr(buf, cap, flags, VHOST_USER_GET_INFLIGHT_FD, sizeof(struct vhost_user_inflight));
	if (n > 0) {
		struct vhost_user_inflight in = {.num_queues = num_queues, .queue_size = queue_size};
		put_inflight((uint8_t *)buf + HDR, &in);
	}
	return n;
}

int vnet_vu_build_set_inflight_fd(void *buf, size_t cap, unsigned flags, const struct vhost_user_inflight *inflight)
{
	if (!inflight || inflight->mmap_size == 0 || inflight->num_queues == 0 || inflight->queue_size == 0)
		return VNET_EINVAL;
	int n = req_hdr(buf, cap, flags, VHOST_USER_SET_INFLIGHT_FD, sizeof(struct vhost_user_inflight));
	if (n > 0)
		put_inflight((uint8_t *)buf + HDR, inflight);
	return n;
}

int vnet_vu_build_reset_device(void *buf, size_t cap, unsigned flags)
{
	return build_empty(buf, cap, flags, VHOST_USER_RESET_DEVICE);
}

int vnet_vu_build_vring_kick(void *buf, size_t cap, unsigned flags, uint32_t index)
{
	/* state.num is reserved and must be 0 (rst, VHOST_USER_VRING_KICK) */
	return build_state(buf, cap, flags, VHOST_USER_VRING_KICK, index, 0);
}

int vnet_vu_build_get_max_mem_slots(void *buf, size_t cap, unsigned flags)
{
	return build_empty(buf, cap, flags, VHOST_USER_GET_MAX_MEM_SLOTS);
}

static int build_mem_reg(void *buf, size_t cap, unsigned flags, uint32_t request,
			 const struct vhost_user_mem_region *region)
{
	if (!region || !region_ok(region))
		return VNET_EINVAL;
	int n = req_hdr(buf, cap, flags, request, sizeof(struct vhost_user_mem_reg));
	if (n > 0)
		put_region((uint8_t *)buf + HDR + offsetof(struct vhost_user_mem_reg, region), region);
	return n;
}

int vnet_vu_build_add_mem_reg(void *buf, size_t cap, unsigned flags, const struct vhost_user_mem_region *region)
{
	return build_mem_reg(buf, cap, flags, VHOST_USER_ADD_MEM_REG, region);
}

int vnet_vu_build_rem_mem_reg(void *buf, size_t cap, unsigned flags, const struct vhost_user_mem_region *region)
{
	return build_mem_reg(buf, cap, flags, VHOST_USER_REM_MEM_REG, region);
}

int vnet_vu_build_set_status(void *buf, size_t cap, unsigned flags, uint8_t status)
{
	return build_u64(buf, cap, flags, VHOST_USER_SET_STATUS, status);
}

int vnet_vu_build_get_status(void *buf, size_t cap, unsigned flags)
{
	return build_empty(buf, cap, flags, VHOST_USER_GET_STATUS);
}

/* ---- reply builders ---- */

#define REPLY_FLAGS (VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY)

int vnet_vu_build_reply_u64(void *buf, size_t cap, uint32_t request, uint64_t value)
{
	int n = put_hdr(buf, cap, request, REPLY_FLAGS, 8);
	if (n > 0)
		put64((uint8_t *)buf + HDR, value);
	return n;
}

int vnet_vu_build_reply_vring_state(void *buf, size_t cap, uint32_t request, uint32_t index, uint32_t num)
{
	int n = put_hdr(buf, cap, request, REPLY_FLAGS, sizeof(struct vhost_user_vring_state));
	if (n > 0) {
		uint8_t *p = (uint8_t *)buf + HDR;
		put32(p + offsetof(struct vhost_user_vring_state, index), index);
		put32(p + offsetof(struct vhost_user_vring_state, num), num);
	}
	return n;
}

int vnet_vu_build_reply_config(void *buf, size_t cap, uint32_t offset, uint32_t size, uint32_t cfg_flags,
			       const void *data)
{
	if (size == 0)
		return put_hdr(buf, cap, VHOST_USER_GET_CONFIG, REPLY_FLAGS, 0);
	if (!data || size > VHOST_USER_MAX_CONFIG_SIZE)
		return VNET_EINVAL;
	return build_config(buf, cap, VHOST_USER_GET_CONFIG, REPLY_FLAGS, offset, size, cfg_flags, data);
}

int vnet_vu_build_reply_inflight(void *buf, size_t cap, const struct vhost_user_inflight *inflight)
{
	if (!inflight)
		return VNET_EINVAL;
	int n = put_hdr(buf, cap, VHOST_USER_GET_INFLIGHT_FD, REPLY_FLAGS, sizeof(struct vhost_user_inflight));
	if (n > 0)
		put_inflight((uint8_t *)buf + HDR, inflight);
	return n;
}

/* ---- decoding ---- */

int vnet_vu_hdr_decode(const void *msg, size_t len, struct vhost_user_hdr *hdr, enum vnet_vu_err *why)
{
	set_why(why, VNET_VU_ERR_NONE);
	if (!msg || !hdr)
		return VNET_EINVAL;
	if (len < HDR)
		return proto(why, VNET_VU_ERR_SHORT_HEADER);
	const uint8_t *p = msg;
	struct vhost_user_hdr h = {
		.request = get32(p + offsetof(struct vhost_user_hdr, request)),
		.flags = get32(p + offsetof(struct vhost_user_hdr, flags)),
		.size = get32(p + offsetof(struct vhost_user_hdr, size)),
	};
	if ((h.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
		return proto(why, VNET_VU_ERR_VERSION);
	if (h.size > VNET_VU_MAX_PAYLOAD)
		return proto(why, VNET_VU_ERR_OVERSIZE);
	*hdr = h;
	return VNET_OK;
}

/* Header check plus "exactly 12 + size bytes". */
static int msg_decode(const void *msg, size_t len, struct vhost_user_hdr *hdr, enum vnet_vu_err *why)
{
	int rc = vnet_vu_hdr_decode(msg, len, hdr, why);
	if (rc != VNET_OK)
		return rc;
	if (len - HDR < hdr->size)
		return proto(why, VNET_VU_ERR_TRUNCATED);
	if (len - HDR > hdr->size)
		return proto(why, VNET_VU_ERR_TRAILING);
	return VNET_OK;
}

/*
 * Common reply checks, in the order a log reader wants them: the message
 * itself, then "is it a reply", then "to what", then its size.  Unknown
 * flag bits (besides version and REPLY) are ignored: the rst reserves them
 * without saying receivers must reject, and DPDK clears NEED_REPLY in its
 * replies while other back-ends may echo it.
 */
static int reply_decode(const void *msg, size_t len, uint32_t request, uint32_t want_size,
			enum vnet_vu_err *why)
{
	struct vhost_user_hdr h;
	int rc = msg_decode(msg, len, &h, why);
	if (rc != VNET_OK)
		return rc;
	if (!(h.flags & VHOST_USER_FLAG_REPLY))
		return proto(why, VNET_VU_ERR_NOT_REPLY);
	if (h.request != request)
		return proto(why, VNET_VU_ERR_REQUEST);
	if (h.size != want_size)
		return proto(why, VNET_VU_ERR_PAYLOAD_SIZE);
	return VNET_OK;
}

static int parse_u64(const void *msg, size_t len, uint32_t request, uint64_t *out, enum vnet_vu_err *why)
{
	set_why(why, VNET_VU_ERR_NONE);
	if (!msg || !out)
		return VNET_EINVAL;
	int rc = reply_decode(msg, len, request, 8, why);
	if (rc != VNET_OK)
		return rc;
	*out = get64((const uint8_t *)msg + HDR);
	return VNET_OK;
}

int vnet_vu_parse_features(const void *msg, size_t len, uint64_t *features, enum vnet_vu_err *why)
{
	return parse_u64(msg, len, VHOST_USER_GET_FEATURES, features, why);
}

int vnet_vu_parse_protocol_features(const void *msg, size_t len, uint64_t *features, enum vnet_vu_err *why)
{
	return parse_u64(msg, len, VHOST_USER_GET_PROTOCOL_FEATURES, features, why);
}

static int parse_nonzero(const void *msg, size_t len, uint32_t request, uint64_t *out, enum vnet_vu_err *why)
{
	uint64_t v;
	if (!out)
		return parse_u64(msg, len, request, NULL, why);
	int rc = parse_u64(msg, len, request, &v, why);
	if (rc != VNET_OK)
		return rc;
	if (v == 0)
		return proto(why, VNET_VU_ERR_VALUE);
	*out = v;
	return VNET_OK;
}

int vnet_vu_parse_queue_num(const void *msg, size_t len, uint64_t *num, enum vnet_vu_err *why)
{
	return parse_nonzero(msg, len, VHOST_USER_GET_QUEUE_NUM, num, why);
}

int vnet_vu_parse_max_mem_slots(const void *msg, size_t len, uint64_t *slots, enum vnet_vu_err *why)
{
	return parse_nonzero(msg, len, VHOST_USER_GET_MAX_MEM_SLOTS, slots, why);
}

int vnet_vu_parse_status(const void *msg, size_t len, uint8_t *status, enum vnet_vu_err *why)
{
	uint64_t v;
	if (!status)
		return parse_u64(msg, len, VHOST_USER_GET_STATUS, NULL, why);
	int rc = parse_u64(msg, len, VHOST_USER_GET_STATUS, &v, why);
	if (rc != VNET_OK)
		return rc;
	if (v > 0xffu)
		return proto(why, VNET_VU_ERR_VALUE);
	*status = (uint8_t)v;
	return VNET_OK;
}

int vnet_vu_parse_vring_base(const void *msg, size_t len, uint32_t index, uint32_t *num, enum vnet_vu_err *why)
{
	set_why(why, VNET_VU_ERR_NONE);
	if (!msg || !num)
		return VNET_EINVAL;
	int rc = reply_decode(msg, len, VHOST_USER_GET_VRING_BASE, sizeof(struct vhost_user_vring_state), why);
	if (rc != VNET_OK)
		return rc;
	const uint8_t *p = (const uint8_t *)msg + HDR;
	uint32_t ri = get32(p + offsetof(struct vhost_user_vring_state, index));
	uint32_t rn = get32(p + offsetof(struct vhost_user_vring_state, num));
	if (ri != index || rn > 0xffffu)
		return proto(why, VNET_VU_ERR_VALUE);
	*num = rn;
	return VNET_OK;
}

int vnet_vu_parse_config(const void *msg, size_t len, uint32_t offset, uint32_t size, void *dst,
			 enum vnet_vu_err *why)
{
	set_why(why, VNET_VU_ERR_NONE);
	if (!msg || !dst || !config_ok(offset, size))
		return VNET_EINVAL;
	/* The empty reply is the back-end's documented failure signal, so
	 * check for it before insisting on the full size. */
	int rc = reply_decode(msg, len, VHOST_USER_GET_CONFIG, 0, why);
	if (rc == VNET_OK) {
		set_why(why, VNET_VU_ERR_BACKEND_FAILED);
		return VNET_EIO;
	}
	rc = reply_decode(msg, len, VHOST_USER_GET_CONFIG, VHOST_USER_CONFIG_HDR_SIZE + size, why);
	if (rc != VNET_OK)
		return rc;
	const uint8_t *p = (const uint8_t *)msg + HDR;
	if (get32(p + offsetof(struct vhost_user_config_hdr, offset)) != offset ||
	    get32(p + offsetof(struct vhost_user_config_hdr, size)) != size)
		return proto(why, VNET_VU_ERR_VALUE);
	memcpy(dst, p + VHOST_USER_CONFIG_HDR_SIZE, size);
	return VNET_OK;
}

int vnet_vu_parse_inflight(const void *msg, size_t len, struct vhost_user_inflight *inflight,
			   enum vnet_vu_err *why)
{
	set_why(why, VNET_VU_ERR_NONE);
	if (!msg || !inflight)
		return VNET_EINVAL;
	int rc = reply_decode(msg, len, VHOST_USER_GET_INFLIGHT_FD, sizeof(struct vhost_user_inflight), why);
	if (rc != VNET_OK)
		return rc;
	get_inflight((const uint8_t *)msg + HDR, inflight);
	return VNET_OK;
}

int vnet_vu_parse_ack(const void *msg, size_t len, uint32_t request, uint64_t *code, enum vnet_vu_err *why)
{
	uint64_t v;
	int rc = parse_u64(msg, len, request, &v, why);
	if (rc != VNET_OK)
		return rc;
	if (code)
		*code = v;
	if (v != 0) {
		set_why(why, VNET_VU_ERR_BACKEND_FAILED);
		return VNET_EIO;
	}
	return VNET_OK;
}

/* ---- request decoding ---- */

static int state_decode(const uint8_t *p, struct vnet_vu_req *r, enum vnet_vu_err *why)
{
	r->u.state.index = get32(p + offsetof(struct vhost_user_vring_state, index));
	r->u.state.num = get32(p + offsetof(struct vhost_user_vring_state, num));
	if (r->u.state.index > VNET_VU_MAX_VRING_INDEX)
		return proto(why, VNET_VU_ERR_VALUE);
	bool ok = true;
	switch (r->request) {
	case VHOST_USER_SET_VRING_NUM:
		ok = r->u.state.num >= 1 && r->u.state.num <= VNET_VU_MAX_VRING_NUM;
		break;
	case VHOST_USER_SET_VRING_BASE:
		ok = r->u.state.num <= 0xffffu;
		break;
	case VHOST_USER_SET_VRING_ENABLE:
	case VHOST_USER_SET_VRING_ENDIAN:
		ok = r->u.state.num <= 1;
		break;
	default: /* GET_VRING_BASE: num unused; VRING_KICK: reserved, 0 */
		ok = r->request == VHOST_USER_GET_VRING_BASE || r->u.state.num == 0;
		break;
	}
	return ok ? VNET_OK : proto(why, VNET_VU_ERR_VALUE);
}

/* Payload size each request type defines; UINT32_MAX = variable. */
static bool fixed_size(uint32_t request, uint32_t *size)
{
	switch (request) {
	case VHOST_USER_GET_FEATURES:
	case VHOST_USER_SET_OWNER:
	case VHOST_USER_RESET_OWNER:
	case VHOST_USER_SET_LOG_FD:
	case VHOST_USER_GET_PROTOCOL_FEATURES:
	case VHOST_USER_GET_QUEUE_NUM:
	case VHOST_USER_SET_BACKEND_REQ_FD:
	case VHOST_USER_RESET_DEVICE:
	case VHOST_USER_GET_MAX_MEM_SLOTS:
	case VHOST_USER_GET_STATUS:
		*size = 0;
		return true;
	case VHOST_USER_SET_FEATURES:
	case VHOST_USER_SET_PROTOCOL_FEATURES:
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
	case VHOST_USER_SEND_RARP:
	case VHOST_USER_NET_SET_MTU:
	case VHOST_USER_SET_STATUS:
		*size = 8;
		return true;
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
	case VHOST_USER_SET_VRING_ENDIAN:
	case VHOST_USER_VRING_KICK:
		*size = sizeof(struct vhost_user_vring_state);
		return true;
	case VHOST_USER_SET_VRING_ADDR:
		*size = sizeof(struct vhost_user_vring_addr);
		return true;
	case VHOST_USER_SET_LOG_BASE:
		*size = sizeof(struct vhost_user_log);
		return true;
	case VHOST_USER_IOTLB_MSG:
		*size = sizeof(struct vhost_user_iotlb);
		return true;
	case VHOST_USER_GET_INFLIGHT_FD:
	case VHOST_USER_SET_INFLIGHT_FD:
		*size = sizeof(struct vhost_user_inflight);
		return true;
	case VHOST_USER_ADD_MEM_REG:
	case VHOST_USER_REM_MEM_REG:
		*size = sizeof(struct vhost_user_mem_reg);
		return true;
	case VHOST_USER_SET_MEM_TABLE:
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_SET_CONFIG:
		*size = UINT32_MAX;
		return true;
	default:
		return false; /* unknown, or a request a net front-end never sends */
	}
}

static int payload_decode(const uint8_t *p, struct vnet_vu_req *r, enum vnet_vu_err *why)
{
	switch (r->request) {
	case VHOST_USER_SET_FEATURES:
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		r->u.u64 = get64(p);
		return VNET_OK;
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		r->u.u64 = get64(p);
		if (r->u.u64 & ~(VHOST_USER_VRING_IDX_MASK | VHOST_USER_VRING_NOFD_MASK))
			return proto(why, VNET_VU_ERR_VALUE);
		r->nfds = (r->u.u64 & VHOST_USER_VRING_NOFD_MASK) ? 0 : 1;
		return VNET_OK;
	case VHOST_USER_SEND_RARP:
		memcpy(r->u.mac, p, 6);
		return (p[6] | p[7]) ? proto(why, VNET_VU_ERR_VALUE) : VNET_OK;
	case VHOST_USER_NET_SET_MTU:
		r->u.u64 = get64(p);
		return (r->u.u64 < 68 || r->u.u64 > 65535) ? proto(why, VNET_VU_ERR_VALUE) : VNET_OK;
	case VHOST_USER_SET_STATUS:
		r->u.u64 = get64(p);
		return r->u.u64 > 0xffu ? proto(why, VNET_VU_ERR_VALUE) : VNET_OK;
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
	case VHOST_USER_SET_VRING_ENDIAN:
	case VHOST_USER_VRING_KICK:
		return state_decode(p, r, why);
	case VHOST_USER_SET_VRING_ADDR: {
		struct vhost_user_vring_addr *a = &r->u.addr;
		a->index = get32(p + offsetof(struct vhost_user_vring_addr, index));
		a->flags = get32(p + offsetof(struct vhost_user_vring_addr, flags));
		a->desc = get64(p + offsetof(struct vhost_user_vring_addr, desc));
		a->used = get64(p + offsetof(struct vhost_user_vring_addr, used));
		a->avail = get64(p + offsetof(struct vhost_user_vring_addr, avail));
		a->log = get64(p + offsetof(struct vhost_user_vring_addr, log));
		if (a->index > VNET_VU_MAX_VRING_INDEX || (a->flags & ~VHOST_USER_VRING_F_LOG))
			return proto(why, VNET_VU_ERR_VALUE);
		return VNET_OK;
	}
	case VHOST_USER_SET_LOG_BASE:
		r->u.log.mmap_size = get64(p + offsetof(struct vhost_user_log, mmap_size));
		r->u.log.mmap_offset = get64(p + offsetof(struct vhost_user_log, mmap_offset));
		r->nfds = 1;
		return r->u.log.mmap_size ? VNET_OK : proto(why, VNET_VU_ERR_VALUE);
	case VHOST_USER_IOTLB_MSG: {
		struct vhost_user_iotlb *m = &r->u.iotlb;
		memset(m, 0, sizeof(*m));
		m->iova = get64(p + offsetof(struct vhost_user_iotlb, iova));
		m->size = get64(p + offsetof(struct vhost_user_iotlb, size));
		m->uaddr = get64(p + offsetof(struct vhost_user_iotlb, uaddr));
		m->perm = p[offsetof(struct vhost_user_iotlb, perm)];
		m->type = p[offsetof(struct vhost_user_iotlb, type)];
		return iotlb_ok(m) ? VNET_OK : proto(why, VNET_VU_ERR_VALUE);
	}
	case VHOST_USER_GET_INFLIGHT_FD:
		get_inflight(p, &r->u.inflight);
		return (r->u.inflight.num_queues && r->u.inflight.queue_size) ? VNET_OK
									       : proto(why, VNET_VU_ERR_VALUE);
	case VHOST_USER_SET_INFLIGHT_FD:
		get_inflight(p, &r->u.inflight);
		r->nfds = 1;
		return (r->u.inflight.mmap_size && r->u.inflight.num_queues && r->u.inflight.queue_size)
			       ? VNET_OK
			       : proto(why, VNET_VU_ERR_VALUE);
	case VHOST_USER_ADD_MEM_REG:
	case VHOST_USER_REM_MEM_REG:
		get_region(p + offsetof(struct vhost_user_mem_reg, region), &r->u.region);
		r->nfds = r->request == VHOST_USER_ADD_MEM_REG ? 1 : 0;
		return region_ok(&r->u.region) ? VNET_OK : proto(why, VNET_VU_ERR_VALUE);
	case VHOST_USER_SET_MEM_TABLE: {
		/* The size must hold the fixed part before nregions is read. */
		if (r->size < 8)
			return proto(why, VNET_VU_ERR_PAYLOAD_SIZE);
		uint32_t n = get32(p + offsetof(struct vhost_user_mem_table, nregions));
		if (n == 0 || n > VHOST_USER_MAX_RAM_SLOTS)
			return proto(why, VNET_VU_ERR_VALUE);
		if (r->size != VHOST_USER_MEM_TABLE_SIZE(n))
			return proto(why, VNET_VU_ERR_PAYLOAD_SIZE);
		r->u.mem.nregions = n;
		for (uint32_t i = 0; i < n; i++) {
			get_region(p + offsetof(struct vhost_user_mem_table, regions) +
					   i * sizeof(struct vhost_user_mem_region),
				   &r->u.mem.regions[i]);
			if (!region_ok(&r->u.mem.regions[i]))
				return proto(why, VNET_VU_ERR_VALUE);
		}
		r->nfds = n;
		return VNET_OK;
	}
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_SET_CONFIG: {
		if (r->size < VHOST_USER_CONFIG_HDR_SIZE)
			return proto(why, VNET_VU_ERR_PAYLOAD_SIZE);
		r->u.config.offset = get32(p + offsetof(struct vhost_user_config_hdr, offset));
		r->u.config.size = get32(p + offsetof(struct vhost_user_config_hdr, size));
		r->u.config.flags = get32(p + offsetof(struct vhost_user_config_hdr, flags));
		r->u.config.data = p + VHOST_USER_CONFIG_HDR_SIZE;
		if (!config_ok(r->u.config.offset, r->u.config.size) ||
		    r->u.config.flags > VHOST_USER_CONFIG_F_MIGRATION)
			return proto(why, VNET_VU_ERR_VALUE);
		if (r->size != VHOST_USER_CONFIG_HDR_SIZE + r->u.config.size)
			return proto(why, VNET_VU_ERR_PAYLOAD_SIZE);
		return VNET_OK;
	}
	case VHOST_USER_SET_LOG_FD:
	case VHOST_USER_SET_BACKEND_REQ_FD:
		r->nfds = 1;
		return VNET_OK;
	default: /* payload-less requests */
		return VNET_OK;
	}
}

int vnet_vu_parse_request(const void *msg, size_t len, struct vnet_vu_req *req, enum vnet_vu_err *why)
{
	set_why(why, VNET_VU_ERR_NONE);
	if (!msg || !req)
		return VNET_EINVAL;
	struct vhost_user_hdr h;
	int rc = msg_decode(msg, len, &h, why);
	if (rc != VNET_OK)
		return rc;
	if (h.flags & VHOST_USER_FLAG_REPLY)
		return proto(why, VNET_VU_ERR_UNEXPECTED_REPLY);
	uint32_t want;
	if (!fixed_size(h.request, &want))
		return proto(why, VNET_VU_ERR_UNKNOWN_REQUEST);
	if (want != UINT32_MAX && h.size != want)
		return proto(why, VNET_VU_ERR_PAYLOAD_SIZE);

	struct vnet_vu_req r;
	memset(&r, 0, sizeof(r));
	r.request = h.request;
	r.flags = h.flags;
	r.size = h.size;
	r.need_reply = (h.flags & VHOST_USER_FLAG_NEED_REPLY) != 0;
	r.expects_reply = r.need_reply || has_inherent_reply(h.request);
	rc = payload_decode((const uint8_t *)msg + HDR, &r, why);
	if (rc != VNET_OK)
		return rc;
	*req = r;
	return VNET_OK;
}

int vnet_vu_msg_nfds(const void *msg, size_t len)
{
	struct vnet_vu_req r;
	int rc = vnet_vu_parse_request(msg, len, &r, NULL);
	return rc != VNET_OK ? rc : (int)r.nfds;
}
