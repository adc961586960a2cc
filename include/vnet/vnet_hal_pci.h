/*
 * orion-vnet PCI HAL: what the virtio-pci transport (src/transport/pci)
 * needs from a platform, and nothing more.
 *
 * The transport sees a PCI function only through an opaque handle.  It
 * reads the virtio capabilities from config space, maps the BARs they
 * point into, and asks for MSI-X vectors bound to callbacks.  Like
 * vnet_hal.h these are plain functions resolved by the linker; one
 * platform per binary (kernel/hal implements them for the Orion
 * kernel).  No platform type leaks through this header.
 *
 * Context: enumeration, mapping and MSI-X setup may sleep and are called
 * from probe/remove only; config accessors and MMIO helpers may be called
 * from any context, including an interrupt callback.  The platform
 * serialises config-space accesses itself; the transport serialises its
 * own use of one device.
 */
#ifndef VNET_HAL_PCI_H
#define VNET_HAL_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnet_mmio.h"

/* A PCI function; owned by the platform, valid until the binary exits. */
struct vnet_pci_dev;

struct vnet_pci_info {
	uint16_t vendor_id, device_id;
	uint16_t subsys_vendor_id, subsys_id;
	uint8_t revision, class_code, subclass, prog_if;
	uint8_t bus, dev, fn;
	char name[8];          /* "bb:dd.f", for log lines */
};

/* ---- enumeration ---- */

/* The n-th PCI function the platform found (0-based), NULL past the end. */
struct vnet_pci_dev *vnet_hal_pci_dev_get(unsigned n);
void vnet_hal_pci_dev_info(const struct vnet_pci_dev *dev, struct vnet_pci_info *out);

/* ---- configuration space ----
 * off is a byte offset below 256 (legacy config space), naturally aligned
 * for the access width.  Bad offsets read as all-ones and writes to them
 * are dropped.  Values are host-order (config space is little-endian).
 */
uint8_t vnet_hal_pci_cfg_read8(struct vnet_pci_dev *dev, unsigned off);
uint16_t vnet_hal_pci_cfg_read16(struct vnet_pci_dev *dev, unsigned off);
uint32_t vnet_hal_pci_cfg_read32(struct vnet_pci_dev *dev, unsigned off);
void vnet_hal_pci_cfg_write8(struct vnet_pci_dev *dev, unsigned off, uint8_t v);
void vnet_hal_pci_cfg_write16(struct vnet_pci_dev *dev, unsigned off, uint16_t v);
void vnet_hal_pci_cfg_write32(struct vnet_pci_dev *dev, unsigned off, uint32_t v);

/* ---- BARs ---- */

/*
 * Map memory BAR bar (0-5) uncached for the driver and enable memory
 * decoding.  On success *va points at the BAR's first byte and *len is
 * its size; the transport still range-checks every capability's
 * offset+length against *len.  Returns VNET_OK, VNET_EINVAL (bar > 5 or
 * the upper half of a 64-bit BAR), VNET_ENODEV (BAR not implemented or
 * not assigned), VNET_ENOTSUP (an I/O BAR).  Mapping twice returns the
 * same pointer.
 */
int vnet_hal_pci_bar_map(struct vnet_pci_dev *dev, unsigned bar, volatile void **va,
			 uint64_t *len);
void vnet_hal_pci_bar_unmap(struct vnet_pci_dev *dev, unsigned bar);

/* Enable (or disable) bus mastering: DMA.  Disable only after a device reset. */
void vnet_hal_pci_set_bus_master(struct vnet_pci_dev *dev, bool on);

/* ---- MSI-X ---- */

typedef void (*vnet_pci_irq_fn)(void *arg);

/*
 * Turn on MSI-X with every table entry masked; returns the number of
 * entries usable (1..nvec) or a negative vnet_err (VNET_ENOTSUP: no
 * MSI-X capability).  Entries are bound one by one afterwards.
 */
int vnet_hal_pci_msix_enable(struct vnet_pci_dev *dev, unsigned nvec);
/*
 * Route table entry `entry` to fn(arg) and unmask it.  fn runs in
 * interrupt context with interrupts disabled; the platform acknowledges
 * the interrupt controller after fn returns.  Rebinding an entry replaces
 * the callback.  Returns VNET_OK, VNET_EINVAL, VNET_ENOSPC (no CPU vector
 * left).
 */
int vnet_hal_pci_msix_bind(struct vnet_pci_dev *dev, unsigned entry, vnet_pci_irq_fn fn,
			   void *arg);
/* Mask/unmask one entry (e.g. around a queue reset); messages are held pending. */
void vnet_hal_pci_msix_mask(struct vnet_pci_dev *dev, unsigned entry, bool masked);
/* Mask everything, release every bound vector, clear MSI-X enable. */
void vnet_hal_pci_msix_disable(struct vnet_pci_dev *dev);

/* ---- I/O BARs (the legacy virtio-pci interface only) ----
 * Needed only by src/transport/pci/virtio_pci_legacy.c; a platform that
 * never links it (or has no I/O space) need not provide these.
 */

/*
 * Enable I/O decoding for I/O BAR bar (0-5) and report its size in *len.
 * Returns VNET_OK, VNET_EINVAL (bar > 5), VNET_ENODEV (BAR not implemented
 * or not assigned), VNET_ENOTSUP (a memory BAR, or no I/O space access on
 * this platform).
 */
int vnet_hal_pci_io_bar(struct vnet_pci_dev *dev, unsigned bar, uint32_t *len);
/*
 * One exactly-sized access at byte offset off of I/O BAR bar (naturally
 * aligned, off + width <= the BAR's size; the transport checks).  Values
 * are host order; the I/O region is little-endian.  Any context.
 */
uint8_t vnet_hal_pci_io_read8(struct vnet_pci_dev *dev, unsigned bar, uint32_t off);
uint16_t vnet_hal_pci_io_read16(struct vnet_pci_dev *dev, unsigned bar, uint32_t off);
uint32_t vnet_hal_pci_io_read32(struct vnet_pci_dev *dev, unsigned bar, uint32_t off);
void vnet_hal_pci_io_write8(struct vnet_pci_dev *dev, unsigned bar, uint32_t off, uint8_t v);
void vnet_hal_pci_io_write16(struct vnet_pci_dev *dev, unsigned bar, uint32_t off, uint16_t v);
void vnet_hal_pci_io_write32(struct vnet_pci_dev *dev, unsigned bar, uint32_t off, uint32_t v);

/* ---- MMIO register access ----
 * Accesses to a mapped BAR go through include/vnet/vnet_mmio.h (volatile,
 * exactly sized, little-endian on any host); included here so code that
 * maps a BAR with this header can read it.
 */

#endif
