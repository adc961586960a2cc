/*
 * virtio-mmio windows the platform describes (a DTB "virtio,mmio" node,
 * x86 microvm's "virtio_mmio.device=SIZE@BASE:IRQ" on the fw_cfg command
 * line, a board's fixed layout).  The arch registers each window in
 * arch_devices_init(); dev/vnet.c then probes every window in registration
 * order with the driver's virtio-mmio transport (vnet_mmio_probe) and
 * names each virtio-net device vnetN after the PCI ones.
 */
#ifndef ORION_VIRTIO_MMIO_H
#define ORION_VIRTIO_MMIO_H

#include <stdint.h>

#define ORION_VIRTIO_MMIO_MAX 32

struct orion_virtio_mmio_window {
	uint64_t base;   /* physical (== virtual) address of the registers */
	uint64_t size;   /* window length (at least 0x100) */
	int irq;         /* interrupt line for arch_irq_line_attach (attached
			  * level-triggered, active high), or -1: poll */
};

/*
 * Register a window; irq is the platform line (x86: GSI, GIC: SPI as the
 * arch's arch_irq_line_attach numbers it, PLIC: source) or -1.  0, or -1
 * (table full, base 0 or not 4-byte aligned, size below 0x100, the same
 * base twice), with the reason printed.
 */
int orion_virtio_mmio_add(uint64_t base, uint64_t size, int irq);
unsigned orion_virtio_mmio_count(void);
/* Window i in registration order, or NULL. */
const struct orion_virtio_mmio_window *orion_virtio_mmio_get(unsigned i);

#endif
