/*
 * orion-vnet MMIO register accessors: how a transport reads and writes the
 * registers of a mapped virtio structure (a PCI BAR, a virtio-mmio window).
 *
 * What they do: one volatile, exactly-sized access per call, never merged,
 * split or reordered against each other by the compiler, and the byte
 * order conversion.  virtio registers are little-endian whatever the host
 * (VirtIO 1.2 §4.1.3 for PCI: all 16-, 32- and 64-bit fields are
 * little-endian; §4.2.2 for MMIO: all register values are little endian), so on a big-endian host the 16-, 32- and
 * 64-bit accessors byte-swap; on a little-endian host the swap compiles
 * away.  Values passed in and returned are host order.
 *
 * What they do not do: ordering against ordinary memory (the rings) is the
 * caller's job, with the barriers the spec asks for (vq_io_wmb() in
 * src/core/vq_priv.h before a doorbell, issued by vnet_device_notify());
 * alignment is the
 * caller's too (structures are checked at probe; every access is naturally
 * aligned).  No 64-bit single access: virtio 64-bit registers are written
 * as two 32-bit halves (vnet_mmio_write64_split).
 *
 * Freestanding: the swaps are compiler intrinsics (__builtin_bswap*),
 * which GCC and Clang expand inline even under -fno-builtin (that flag
 * only affects the unprefixed library names); the core_undefined_symbols
 * test would catch a library call.  Any context, including interrupts.
 */
#ifndef VNET_MMIO_H
#define VNET_MMIO_H

#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define VNET_MMIO_SWAP 1
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define VNET_MMIO_SWAP 0
#else
#error "vnet_mmio.h: host byte order unknown (__BYTE_ORDER__ not defined)"
#endif

/* Host order <-> little-endian register order (an involution either way). */
static inline uint16_t vnet_mmio_le16(uint16_t v)
{
#if VNET_MMIO_SWAP
	return __builtin_bswap16(v);
#else
	return v;
#endif
}

static inline uint32_t vnet_mmio_le32(uint32_t v)
{
#if VNET_MMIO_SWAP
	return __builtin_bswap32(v);
#else
	return v;
#endif
}

static inline uint8_t vnet_mmio_read8(const volatile void *p)
{
	return *(const volatile uint8_t *)p;
}

static inline uint16_t vnet_mmio_read16(const volatile void *p)
{
	return vnet_mmio_le16(*(const volatile uint16_t *)p);
}

static inline uint32_t vnet_mmio_read32(const volatile void *p)
{
	return vnet_mmio_le32(*(const volatile uint32_t *)p);
}

static inline void vnet_mmio_write8(volatile void *p, uint8_t v)
{
	*(volatile uint8_t *)p = v;
}

static inline void vnet_mmio_write16(volatile void *p, uint16_t v)
{
	*(volatile uint16_t *)p = vnet_mmio_le16(v);
}

static inline void vnet_mmio_write32(volatile void *p, uint32_t v)
{
	*(volatile uint32_t *)p = vnet_mmio_le32(v);
}

/*
 * A 64-bit register (queue addresses) as two 32-bit writes, low half at the
 * lower address and first (VirtIO 1.2 §4.1.3: 64-bit fields are two 32-bit
 * fields, low part first; §4.1.3.1: the driver MUST use 32-bit accesses
 * for them).
 * Each half is little-endian, so the eight bytes in memory are the
 * little-endian image of v on any host.
 */
static inline void vnet_mmio_write64_split(volatile void *p, uint64_t v)
{
	vnet_mmio_write32(p, (uint32_t)v);
	vnet_mmio_write32((volatile uint8_t *)p + 4, (uint32_t)(v >> 32));
}

#endif
