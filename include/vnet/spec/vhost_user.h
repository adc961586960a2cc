/*
 * vhost-user wire format, as QEMU's docs/interop/vhost-user.rst defines it
 * ("Message Specification", "Front-end message types", "Protocol features").
 *
 * A message is a 12-byte header (request, flags, size) followed by `size`
 * payload bytes.  Unlike VirtIO structures, every number here is in the
 * *machine native* byte order (vhost-user.rst: "All numbers are in the
 * machine native byte order"): both peers run on the same host.  So these
 * fields are plain uintNN_t, not vnet_leNN.
 *
 * File descriptors never appear in the byte stream: they travel beside a
 * message as SCM_RIGHTS ancillary data.  This header only describes bytes;
 * which messages carry how many fds is the codec's business
 * (include/vnet/vhost_user_msg.h).
 *
 * Layout asserts pin every size and offset the protocol fixes.  Structures
 * whose C size includes tail padding (inflight, IOTLB) are sent with that
 * padding, because QEMU and DPDK both put sizeof() of their (unpacked)
 * structure in the header and check it on receipt.
 */
#ifndef VNET_SPEC_VHOST_USER_H
#define VNET_SPEC_VHOST_USER_H

#include <stddef.h>
#include <stdint.h>

/* ---- header flags (vhost-user.rst "Header") ---- */
#define VHOST_USER_VERSION_MASK     0x3u /* bits 0-1 */
#define VHOST_USER_VERSION          0x1u /* the only version defined */
#define VHOST_USER_FLAG_REPLY       0x4u /* bit 2: set on every back-end reply */
#define VHOST_USER_FLAG_NEED_REPLY  0x8u /* bit 3: REPLY_ACK requested */

/* ---- front-end requests (vhost-user.rst "Front-end message types") ---- */
#define VHOST_USER_GET_FEATURES            1u
#define VHOST_USER_SET_FEATURES            2u
#define VHOST_USER_SET_OWNER               3u
#define VHOST_USER_RESET_OWNER             4u  /* deprecated, never sent by us */
#define VHOST_USER_SET_MEM_TABLE           5u
#define VHOST_USER_SET_LOG_BASE            6u
#define VHOST_USER_SET_LOG_FD              7u
#define VHOST_USER_SET_VRING_NUM           8u
#define VHOST_USER_SET_VRING_ADDR          9u
#define VHOST_USER_SET_VRING_BASE          10u
#define VHOST_USER_GET_VRING_BASE          11u
#define VHOST_USER_SET_VRING_KICK          12u
#define VHOST_USER_SET_VRING_CALL          13u
#define VHOST_USER_SET_VRING_ERR           14u
#define VHOST_USER_GET_PROTOCOL_FEATURES   15u
#define VHOST_USER_SET_PROTOCOL_FEATURES   16u
#define VHOST_USER_GET_QUEUE_NUM           17u
#define VHOST_USER_SET_VRING_ENABLE        18u
#define VHOST_USER_SEND_RARP               19u
#define VHOST_USER_NET_SET_MTU             20u
#define VHOST_USER_SET_BACKEND_REQ_FD      21u /* formerly SET_SLAVE_REQ_FD */
#define VHOST_USER_IOTLB_MSG               22u
#define VHOST_USER_SET_VRING_ENDIAN        23u
#define VHOST_USER_GET_CONFIG              24u
#define VHOST_USER_SET_CONFIG              25u
#define VHOST_USER_CREATE_CRYPTO_SESSION   26u /* not used by a net front-end */
#define VHOST_USER_CLOSE_CRYPTO_SESSION    27u /* not used by a net front-end */
#define VHOST_USER_POSTCOPY_ADVISE         28u /* not used: no migration */
#define VHOST_USER_POSTCOPY_LISTEN         29u /* not used: no migration */
#define VHOST_USER_POSTCOPY_END            30u /* not used: no migration */
#define VHOST_USER_GET_INFLIGHT_FD         31u
#define VHOST_USER_SET_INFLIGHT_FD         32u
#define VHOST_USER_GPU_SET_SOCKET          33u /* not used by a net front-end */
#define VHOST_USER_RESET_DEVICE            34u
#define VHOST_USER_VRING_KICK              35u
#define VHOST_USER_GET_MAX_MEM_SLOTS       36u
#define VHOST_USER_ADD_MEM_REG             37u
#define VHOST_USER_REM_MEM_REG             38u
#define VHOST_USER_SET_STATUS              39u
#define VHOST_USER_GET_STATUS              40u

/* ---- protocol feature bits (vhost-user.rst "Protocol features") ---- */
#define VHOST_USER_PROTOCOL_F_MQ                    0
#define VHOST_USER_PROTOCOL_F_LOG_SHMFD             1
#define VHOST_USER_PROTOCOL_F_RARP                  2
#define VHOST_USER_PROTOCOL_F_REPLY_ACK             3
#define VHOST_USER_PROTOCOL_F_NET_MTU               4
#define VHOST_USER_PROTOCOL_F_BACKEND_REQ           5
#define VHOST_USER_PROTOCOL_F_CROSS_ENDIAN          6
#define VHOST_USER_PROTOCOL_F_CRYPTO_SESSION        7
#define VHOST_USER_PROTOCOL_F_PAGEFAULT             8
#define VHOST_USER_PROTOCOL_F_CONFIG                9
#define VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD       10
#define VHOST_USER_PROTOCOL_F_HOST_NOTIFIER         11
#define VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD        12
#define VHOST_USER_PROTOCOL_F_RESET_DEVICE          13
#define VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS  14
#define VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS   15
#define VHOST_USER_PROTOCOL_F_STATUS                16

/* Virtio feature bit 30 (reserved/"UNUSED" in VirtIO) is borrowed by
 * vhost-user to say "GET/SET_PROTOCOL_FEATURES are understood". */
#define VHOST_USER_F_PROTOCOL_FEATURES 30

/* SET_VRING_KICK/CALL/ERR u64 payload: bits 0-7 vring index, bit 8 "no fd
 * in the ancillary data" (poll instead).  Bits 9-63 are unused, sent 0. */
#define VHOST_USER_VRING_IDX_MASK  0xffull
#define VHOST_USER_VRING_NOFD_MASK 0x100ull

/* vring address flags: bit 0 asks the back-end to log used-ring writes. */
#define VHOST_USER_VRING_F_LOG 0x1u

/* SET_MEM_TABLE carries at most 8 regions (one fd each): the fixed array
 * QEMU and DPDK both size their buffers by. */
#define VHOST_USER_MAX_RAM_SLOTS 8u

/* Config space access: QEMU and DPDK both cap the payload at 256 bytes. */
#define VHOST_USER_MAX_CONFIG_SIZE 256u
#define VHOST_USER_CONFIG_F_WRITABLE  0u /* front-end writes a writable field */
#define VHOST_USER_CONFIG_F_MIGRATION 1u /* live-migration restore */

/* ---- header ---- */
struct vhost_user_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size; /* payload bytes that follow */
};
_Static_assert(sizeof(struct vhost_user_hdr) == 12, "vhost-user header is 12 bytes");
#define VHOST_USER_HDR_SIZE 12u

/* ---- payloads ---- */

/* "A vring state description": SET_VRING_NUM/BASE/ENABLE/ENDIAN,
 * GET_VRING_BASE (request and reply), VRING_KICK. */
struct vhost_user_vring_state {
	uint32_t index;
	uint32_t num;
};
_Static_assert(sizeof(struct vhost_user_vring_state) == 8, "vring state is 8 bytes");

/* "A vring address description".  Note the order: descriptor, used,
 * available, log.  (The rst table also shows a "size" column, but no such
 * field exists in the field list nor in any implementation.) */
struct vhost_user_vring_addr {
	uint32_t index;
	uint32_t flags;   /* VHOST_USER_VRING_F_LOG */
	uint64_t desc;    /* descriptor table, front-end user address */
	uint64_t used;    /* used ring */
	uint64_t avail;   /* available ring */
	uint64_t log;     /* guest address logged for used-ring writes */
};
_Static_assert(sizeof(struct vhost_user_vring_addr) == 40, "vring address is 40 bytes");
_Static_assert(offsetof(struct vhost_user_vring_addr, desc) == 8, "desc at 8");
_Static_assert(offsetof(struct vhost_user_vring_addr, used) == 16, "used at 16");
_Static_assert(offsetof(struct vhost_user_vring_addr, avail) == 24, "avail at 24");
_Static_assert(offsetof(struct vhost_user_vring_addr, log) == 32, "log at 32");

/* One memory region (inside SET_MEM_TABLE, or after 8 bytes of padding in
 * ADD_MEM_REG/REM_MEM_REG). */
struct vhost_user_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset; /* where the region starts in the fd's mapping */
};
_Static_assert(sizeof(struct vhost_user_mem_region) == 32, "memory region is 32 bytes");

/* "Memory regions description": only nregions entries are sent, so the
 * payload size is 8 + 32 * nregions. */
struct vhost_user_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_user_mem_region regions[VHOST_USER_MAX_RAM_SLOTS];
};
_Static_assert(offsetof(struct vhost_user_mem_table, regions) == 8, "regions at 8");
#define VHOST_USER_MEM_TABLE_SIZE(n) (8u + 32u * (uint32_t)(n))

/* "Single memory region description" (ADD_MEM_REG, REM_MEM_REG). */
struct vhost_user_mem_reg {
	uint64_t padding;
	struct vhost_user_mem_region region;
};
_Static_assert(sizeof(struct vhost_user_mem_reg) == 40, "single region is 40 bytes");

/* "Log description" (SET_LOG_BASE with LOG_SHMFD). */
struct vhost_user_log {
	uint64_t mmap_size;
	uint64_t mmap_offset;
};
_Static_assert(sizeof(struct vhost_user_log) == 16, "log description is 16 bytes");

/* "An IOTLB message".  26 bytes of fields, sent as 32 (C tail padding). */
struct vhost_user_iotlb {
	uint64_t iova;
	uint64_t size;
	uint64_t uaddr;
	uint8_t perm; /* 0 none, 1 read, 2 write, 3 read/write */
	uint8_t type; /* 1 miss, 2 update, 3 invalidate, 4 access fail */
	uint8_t pad[6];
};
_Static_assert(sizeof(struct vhost_user_iotlb) == 32, "IOTLB message is 32 bytes");
_Static_assert(offsetof(struct vhost_user_iotlb, perm) == 24, "perm at 24");
#define VHOST_USER_IOTLB_MISS        1u
#define VHOST_USER_IOTLB_UPDATE      2u
#define VHOST_USER_IOTLB_INVALIDATE  3u
#define VHOST_USER_IOTLB_ACCESS_FAIL 4u

/* "Virtio device config space": 12-byte header, then `size` bytes. */
struct vhost_user_config_hdr {
	uint32_t offset;
	uint32_t size;
	uint32_t flags; /* VHOST_USER_CONFIG_F_* */
};
_Static_assert(sizeof(struct vhost_user_config_hdr) == 12, "config header is 12 bytes");
#define VHOST_USER_CONFIG_HDR_SIZE 12u

/* "Inflight description": 20 bytes of fields, sent as 24 (C tail padding;
 * QEMU and DPDK both send and check sizeof() == 24). */
struct vhost_user_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
	uint32_t pad;
};
_Static_assert(sizeof(struct vhost_user_inflight) == 24, "inflight description is 24 bytes");
_Static_assert(offsetof(struct vhost_user_inflight, num_queues) == 16, "num_queues at 16");
_Static_assert(offsetof(struct vhost_user_inflight, queue_size) == 18, "queue_size at 18");

#endif
