/*
 * Endianness helpers for VirtIO 1.x structures, which are little-endian on
 * every platform (spec 1.4 "Basic Facilities / Feature Bits": a modern
 * device is always LE).  On little-endian CPUs these compile to nothing; on
 * big-endian ones (ppc64, s390x) they swap.  The vnet_le* typedefs mark wire
 * fields so a missing conversion is visible in review.
 */
#ifndef VNET_SPEC_VIRTIO_TYPES_H
#define VNET_SPEC_VIRTIO_TYPES_H

#include <stdint.h>

typedef uint16_t vnet_le16;
typedef uint32_t vnet_le32;
typedef uint64_t vnet_le64;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
static inline uint16_t vnet_le16_to_cpu(vnet_le16 v) { return __builtin_bswap16(v); }
static inline uint32_t vnet_le32_to_cpu(vnet_le32 v) { return __builtin_bswap32(v); }
static inline uint64_t vnet_le64_to_cpu(vnet_le64 v) { return __builtin_bswap64(v); }
#else
static inline uint16_t vnet_le16_to_cpu(vnet_le16 v) { return v; }
static inline uint32_t vnet_le32_to_cpu(vnet_le32 v) { return v; }
static inline uint64_t vnet_le64_to_cpu(vnet_le64 v) { return v; }
#endif
#define vnet_cpu_to_le16(v) vnet_le16_to_cpu(v)
#define vnet_cpu_to_le32(v) vnet_le32_to_cpu(v)
#define vnet_cpu_to_le64(v) vnet_le64_to_cpu(v)

#define VNET_BIT(n) (1ULL << (n))

#endif
