/*
 * orion-vnet vhost-user message codec (front-end side).
 *
 * What it does: turns front-end requests into the exact bytes
 * docs/interop/vhost-user.rst defines, and checks back-end replies before
 * anything in them is used.  A reply is accepted only if every one of these
 * holds, each failure having its own reason code (enum vnet_vu_err):
 *   - at least a 12-byte header, version bits == 1, size <= VNET_VU_MAX_PAYLOAD;
 *   - exactly 12 + size bytes in the buffer (fewer: truncated; more: trailing);
 *   - REPLY flag set, and the request code is the one the caller sent;
 *   - the payload size the request type defines, and values in range.
 * It also decodes requests (vnet_vu_parse_request), which is what a test
 * back-end needs and what lets the fuzzer check encode/decode round trips,
 * and builds replies for the same reason.
 *
 * What it does not do: sockets, file descriptors, waiting, state.  Fds travel
 * out of band (SCM_RIGHTS); the codec only says how many must accompany a
 * message (struct vnet_vu_req.nfds / vnet_vu_msg_nfds()).  The connection
 * state machine (which request when, feature gating such as "SET_VRING_ENABLE
 * needs VHOST_USER_F_PROTOCOL_FEATURES") lives in the Linux transport.
 *
 * Byte order: vhost-user numbers are host-native (both peers share a host),
 * so the codec writes native integers; on the x86/arm64 hosts we run on that
 * is little-endian.  Buffers need no alignment: fields are copied bytewise.
 *
 * Context: every function is pure and reentrant; it touches only the buffers
 * passed in, for the duration of the call.  Freestanding (core flags).
 *
 * Return conventions:
 *   builders  -> total message length (header + payload), or VNET_EINVAL
 *                (bad argument) / VNET_ENOSPC (cap too small).
 *   parsers   -> VNET_OK; VNET_EPROTO with *why set for a malformed message;
 *                VNET_EIO when a well-formed reply says the back-end failed
 *                (non-zero REPLY_ACK, empty GET_CONFIG reply); VNET_EINVAL for
 *                a caller bug (NULL pointer).  `why` may be NULL; on success
 *                and on VNET_EINVAL it is set to VNET_VU_ERR_NONE.
 *   Outputs are written only on VNET_OK (exception: vnet_vu_parse_ack
 *   also reports the back-end's non-zero code on VNET_EIO).
 */
#ifndef VNET_VHOST_USER_MSG_H
#define VNET_VHOST_USER_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnet_error.h"
#include "spec/vhost_user.h"

/* Largest payload accepted from a peer.  The biggest message a net
 * front-end exchanges is SET_CONFIG/GET_CONFIG (12 + 256 bytes) or a full
 * SET_MEM_TABLE (8 + 8 * 32); a page is a generous ceiling that still stops
 * a hostile size field from making the transport read megabytes. */
#define VNET_VU_MAX_PAYLOAD 4096u
/* A receive buffer of this size holds any acceptable message. */
#define VNET_VU_MSG_MAX (VHOST_USER_HDR_SIZE + VNET_VU_MAX_PAYLOAD)

/* The fd-carrying vring messages have 8 bits of index; we hold every vring
 * message to the same bound so that any ring we configure can get fds. */
#define VNET_VU_MAX_VRING_INDEX 255u
/* Ring size bound of VirtIO (spec 2.6 "Virtqueues": at most 32768). */
#define VNET_VU_MAX_VRING_NUM 32768u

/* Builder flag: set NEED_REPLY (only meaningful once REPLY_ACK is
 * negotiated; the back-end then answers with a u64, see vnet_vu_parse_ack). */
#define VNET_VU_NEED_REPLY 0x1u

/* Why a message was rejected.  Stable values: they end up in logs. */
enum vnet_vu_err {
	VNET_VU_ERR_NONE = 0,
	VNET_VU_ERR_SHORT_HEADER,     /* fewer than 12 bytes */
	VNET_VU_ERR_VERSION,          /* version bits != 1 */
	VNET_VU_ERR_OVERSIZE,         /* header size > VNET_VU_MAX_PAYLOAD */
	VNET_VU_ERR_TRUNCATED,        /* fewer bytes than 12 + header size */
	VNET_VU_ERR_TRAILING,         /* more bytes than 12 + header size */
	VNET_VU_ERR_NOT_REPLY,        /* reply without the REPLY flag */
	VNET_VU_ERR_UNEXPECTED_REPLY, /* request with the REPLY flag */
	VNET_VU_ERR_REQUEST,          /* reply to another request than the one sent */
	VNET_VU_ERR_UNKNOWN_REQUEST,  /* request code the codec does not know */
	VNET_VU_ERR_PAYLOAD_SIZE,     /* size differs from what the request type defines */
	VNET_VU_ERR_VALUE,            /* a field is out of range or contradicts the request */
	VNET_VU_ERR_BACKEND_FAILED,   /* well-formed reply reporting failure (VNET_EIO) */
	VNET_VU_ERR_COUNT_
};

/* Short description of a reason; never NULL (unknown values included). */
const char *vnet_vu_strerror(enum vnet_vu_err why);
/* "GET_FEATURES", ... for logs; "UNKNOWN" for codes outside the table. */
const char *vnet_vu_request_name(uint32_t request);

/* ------------------------------------------------------------------------
 * Front-end request builders.  buf needs cap >= the returned length
 * (VNET_VU_MSG_MAX always suffices); flags is 0 or VNET_VU_NEED_REPLY.
 * Argument checks mirror the ones vnet_vu_parse_request applies, so a
 * message we build is always one we would accept.
 * ---------------------------------------------------------------------- */
int vnet_vu_build_get_features(void *buf, size_t cap, unsigned flags);
int vnet_vu_build_set_features(void *buf, size_t cap, unsigned flags, uint64_t features);
int vnet_vu_build_set_owner(void *buf, size_t cap, unsigned flags);
int vnet_vu_build_reset_owner(void *buf, size_t cap, unsigned flags);
/* n regions (1..8), one fd per region in the same order. memory_size != 0,
 * and neither the guest nor the user range may wrap. */
int vnet_vu_build_set_mem_table(void *buf, size_t cap, unsigned flags,
				const struct vhost_user_mem_region *regions, unsigned n);
/* LOG_SHMFD form: 1 fd, and the back-end always replies with a u64. */
int vnet_vu_build_set_log_base(void *buf, size_t cap, unsigned flags, const struct vhost_user_log *log);
int vnet_vu_build_set_log_fd(void *buf, size_t cap, unsigned flags);          /* 1 fd */
int vnet_vu_build_set_vring_num(void *buf, size_t cap, unsigned flags, uint32_t index, uint32_t num);
int vnet_vu_build_set_vring_addr(void *buf, size_t cap, unsigned flags, const struct vhost_user_vring_addr *addr);
/* num: next available index (split), or index | wrap counter << 15 (packed) */
int vnet_vu_build_set_vring_base(void *buf, size_t cap, unsigned flags, uint32_t index, uint32_t num);
int vnet_vu_build_get_vring_base(void *buf, size_t cap, unsigned flags, uint32_t index);
/* has_fd false sets the "no fd" bit: the back-end polls (kick) or the
 * front-end polls (call).  has_fd true: exactly 1 fd accompanies it. */
int vnet_vu_build_set_vring_kick(void *buf, size_t cap, unsigned flags, uint32_t index, bool has_fd);
int vnet_vu_build_set_vring_call(void *buf, size_t cap, unsigned flags, uint32_t index, bool has_fd);
int vnet_vu_build_set_vring_err(void *buf, size_t cap, unsigned flags, uint32_t index, bool has_fd);
int vnet_vu_build_get_protocol_features(void *buf, size_t cap, unsigned flags);
int vnet_vu_build_set_protocol_features(void *buf, size_t cap, unsigned flags, uint64_t features);
int vnet_vu_build_get_queue_num(void *buf, size_t cap, unsigned flags);
int vnet_vu_build_set_vring_enable(void *buf, size_t cap, unsigned flags, uint32_t index, bool enable);
/* The MAC goes in the first 6 payload bytes, the other 2 are zero. */
int vnet_vu_build_send_rarp(void *buf, size_t cap, unsigned flags, const uint8_t mac[6]);
/* mtu 68..65535 (the virtio-net MTU range, spec 5.1.4.1) */
int vnet_vu_build_net_set_mtu(void *buf, size_t cap, unsigned flags, uint32_t mtu);
int vnet_vu_build_set_backend_req_fd(void *buf, size_t cap, unsigned flags); /* 1 fd */
/* perm 0..3, type 1..4; the back-end always acks with a u64 */
int vnet_vu_build_iotlb_msg(void *buf, size_t cap, unsigned flags, const struct vhost_user_iotlb *msg);
int vnet_vu_build_set_vring_endian(void *buf, size_t cap, unsigned flags, uint32_t index, bool big_endian);
/* size 1..256, offset + size must not wrap; payload sent zero-filled as
 * QEMU does (the back-end echoes the header and fills the bytes). */
int vnet_vu_build_get_config(void *buf, size_t cap, unsigned flags, uint32_t offset, uint32_t size);
/* cfg_flags: VHOST_USER_CONFIG_F_WRITABLE or _MIGRATION */
int vnet_vu_build_set_config(void *buf, size_t cap, unsigned flags, uint32_t offset, uint32_t size,
			     uint32_t cfg_flags, const void *data);
int vnet_vu_build_get_inflight_fd(void *buf, size_t cap, unsigned flags, uint16_t num_queues,
				  uint16_t queue_size);
int vnet_vu_build_set_inflight_fd(void *buf, size_t cap, unsigned flags,
				  const struct vhost_user_inflight *inflight); /* 1 fd */
int vnet_vu_build_reset_device(void *buf, size_t cap, unsigned flags);
int vnet_vu_build_vring_kick(void *buf, size_t cap, unsigned flags, uint32_t index);
int vnet_vu_build_get_max_mem_slots(void *buf, size_t cap, unsigned flags);
int vnet_vu_build_add_mem_reg(void *buf, size_t cap, unsigned flags,
			      const struct vhost_user_mem_region *region); /* 1 fd */
int vnet_vu_build_rem_mem_reg(void *buf, size_t cap, unsigned flags,
			      const struct vhost_user_mem_region *region); /* 0 fds */
int vnet_vu_build_set_status(void *buf, size_t cap, unsigned flags, uint8_t status);
int vnet_vu_build_get_status(void *buf, size_t cap, unsigned flags);

/* ------------------------------------------------------------------------
 * Header and request decoding.
 * ---------------------------------------------------------------------- */

/* Check the first 12 bytes only (len may be just 12): enough, size within
 * VNET_VU_MAX_PAYLOAD, version 1.  For a transport that reads the header,
 * then hdr->size more bytes.  Does not look at REPLY or the request code. */
int vnet_vu_hdr_decode(const void *msg, size_t len, struct vhost_user_hdr *hdr, enum vnet_vu_err *why);

/* A decoded front-end request. */
struct vnet_vu_req {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	unsigned nfds;      /* fds that must travel with it (SCM_RIGHTS) */
	bool need_reply;    /* NEED_REPLY flag */
	bool expects_reply; /* a reply will come: inherent to the type, or NEED_REPLY */
	union {
		uint64_t u64;  /* SET_[PROTOCOL_]FEATURES, KICK/CALL/ERR, NET_SET_MTU, SET_STATUS */
		uint8_t mac[6]; /* SEND_RARP */
		struct vhost_user_vring_state state;
		struct vhost_user_vring_addr addr;
		struct {
			uint32_t nregions;
			struct vhost_user_mem_region regions[VHOST_USER_MAX_RAM_SLOTS];
		} mem;
		struct vhost_user_mem_region region; /* ADD/REM_MEM_REG */
		struct vhost_user_log log;
		struct vhost_user_iotlb iotlb;
		struct {
			uint32_t offset;
			uint32_t size;
			uint32_t flags;
			const uint8_t *data; /* points into msg: valid while msg is */
		} config;
		struct vhost_user_inflight inflight;
	} u;
};

/* Decode and validate one complete front-end request (exactly len bytes).
 * Payload-less requests must have size 0. */
int vnet_vu_parse_request(const void *msg, size_t len, struct vnet_vu_req *req, enum vnet_vu_err *why);
/* Fds a complete request carries, or a negative vnet_err if it is invalid. */
int vnet_vu_msg_nfds(const void *msg, size_t len);

/* ------------------------------------------------------------------------
 * Reply parsers (front-end receiving).  msg/len is one complete message.
 * ---------------------------------------------------------------------- */
int vnet_vu_parse_features(const void *msg, size_t len, uint64_t *features, enum vnet_vu_err *why);
int vnet_vu_parse_protocol_features(const void *msg, size_t len, uint64_t *features, enum vnet_vu_err *why);
/* Back-end's queue count (DPDK and QEMU net count queue pairs); 0 rejected. */
int vnet_vu_parse_queue_num(const void *msg, size_t len, uint64_t *num, enum vnet_vu_err *why);
/* 0 rejected. */
int vnet_vu_parse_max_mem_slots(const void *msg, size_t len, uint64_t *slots, enum vnet_vu_err *why);
/* GET_STATUS: the rst and QEMU/DPDK use a u64 payload (not a u8); values
 * above 0xff cannot be a VirtIO device status and are rejected. */
int vnet_vu_parse_status(const void *msg, size_t len, uint8_t *status, enum vnet_vu_err *why);
/* GET_VRING_BASE: the reply's index must equal `index`; num <= 0xffff (a
 * 16-bit ring index, or for packed rings index | wrap << 15). */
int vnet_vu_parse_vring_base(const void *msg, size_t len, uint32_t index, uint32_t *num,
			     enum vnet_vu_err *why);
/* GET_CONFIG: payload must be 12 + size with the echoed offset and size;
 * size bytes are copied to dst.  A payload of size 0 is the rst's way for
 * the back-end to report failure: VNET_EIO. */
int vnet_vu_parse_config(const void *msg, size_t len, uint32_t offset, uint32_t size, void *dst,
			 enum vnet_vu_err *why);
/* GET_INFLIGHT_FD: 24-byte inflight description (+ 1 fd out of band when
 * mmap_size != 0; mmap_size == 0 means "no inflight area"). */
int vnet_vu_parse_inflight(const void *msg, size_t len, struct vhost_user_inflight *inflight,
			   enum vnet_vu_err *why);
/* REPLY_ACK for `request` (also the mandatory replies to SET_LOG_BASE and
 * IOTLB_MSG): u64, 0 = success -> VNET_OK; non-zero -> VNET_EIO with the
 * value in *code (code may be NULL). */
int vnet_vu_parse_ack(const void *msg, size_t len, uint32_t request, uint64_t *code, enum vnet_vu_err *why);

/* ------------------------------------------------------------------------
 * Reply builders (back-end side), for test back-ends and round-trip checks.
 * ---------------------------------------------------------------------- */
int vnet_vu_build_reply_u64(void *buf, size_t cap, uint32_t request, uint64_t value);
int vnet_vu_build_reply_vring_state(void *buf, size_t cap, uint32_t request, uint32_t index, uint32_t num);
/* size 0 builds the "failed" reply (payload-less); data may be NULL then. */
int vnet_vu_build_reply_config(void *buf, size_t cap, uint32_t offset, uint32_t size, uint32_t cfg_flags,
			       const void *data);
int vnet_vu_build_reply_inflight(void *buf, size_t cap, const struct vhost_user_inflight *inflight);

#endif
