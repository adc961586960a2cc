/*
 * Device-specific configuration space read at natural widths, shared by
 * the register transports (virtio-pci modern and legacy, virtio-mmio).
 *
 * VirtIO 1.2 §4.1.3.1 (PCI) and §4.2.2.2 (MMIO): a driver reads each field
 * with an access of its own width, aligned.  Each of those config spaces
 * starts 4-byte aligned, so taking, at every position, the widest aligned
 * access that still fits (32, then 16, then 8 bits) covers every field
 * whole whenever the caller asks for whole fields.  The register values are
 * already host-order (the accessors convert from little-endian); they are
 * stored back into the caller's buffer as little-endian bytes, i.e. the
 * config space's own layout, whatever the host's byte order.
 *
 * What this does not do: range checks and device-gone checks (the caller
 * does them first), the generation retry loop (src/core/device.c).
 * Control path only; the caller serialises its device.
 */
#ifndef VNET_TRANSPORT_CONFIG_COPY_H
#define VNET_TRANSPORT_CONFIG_COPY_H

#include <stdint.h>

/* One transport's config-space accessors: read a field of 8, 16 or 32 bits
 * at config offset `off` (host order). */
struct vnet_config_reader {
	uint8_t (*rd8)(void *ctx, uint32_t off);
	uint16_t (*rd16)(void *ctx, uint32_t off);
	uint32_t (*rd32)(void *ctx, uint32_t off);
};

/* Copy config bytes [offset, offset + len) into out, widest aligned access
 * first.  The accessors are static functions of the transport: the compiler
 * resolves the calls at each (inlined) use. */
static inline void vnet_config_copy(const struct vnet_config_reader *r, void *ctx, uint32_t offset, uint8_t *out,
				    uint32_t len)
{
	uint32_t pos = offset, end = offset + len;
	while (pos < end) {
		uint32_t left = end - pos;
		if (!(pos & 3u) && left >= 4) {
			uint32_t v = r->rd32(ctx, pos);
			out[0] = (uint8_t)v;
			out[1] = (uint8_t)(v >> 8);
			out[2] = (uint8_t)(v >> 16);
			out[3] = (uint8_t)(v >> 24);
			out += 4;
			pos += 4;
		} else if (!(pos & 1u) && left >= 2) {
			uint16_t v = r->rd16(ctx, pos);
			out[0] = (uint8_t)v;
			out[1] = (uint8_t)(v >> 8);
			out += 2;
			pos += 2;
		} else {
			*out++ = r->rd8(ctx, pos);
			pos++;
		}
	}
}

#endif
