/*
 * include/vnet/vnet_hal_pci.h over the Orion kernel's PCI layer.
 *
 * The opaque struct vnet_pci_dev * handed to the transport is the kernel's
 * struct pci_dev * (from its static device table, so it never dangles);
 * only this file converts between the two (orion_hal_pci_dev() is the
 * kernel's way in; the kernel never calls vnet_hal_pci_dev_get/_info:
 * they exist for the transport and any host that enumerates through the
 * HAL).  BARs need no mapping: the arch identity-maps physical memory up to
 * arch_phys_limit() (x86_64: 64 GiB, covering the PCI holes QEMU's
 * firmware uses below and above 4 GiB; a BAR beyond that is refused).
 * MSI-X entries get an irq from arch_msi_alloc each.
 */
#include <stdbool.h>
#include <stdint.h>

#include "orion/arch.h"
#include "orion/klib.h"
#include "orion/pci.h"
#include "orion_hal.h"
#include "vnet/vnet_error.h"
#include "vnet/vnet_hal_pci.h"

static struct pci_dev *to_dev(struct vnet_pci_dev *d)
{
	return (struct pci_dev *)(void *)d;
}

static const struct pci_dev *to_cdev(const struct vnet_pci_dev *d)
{
	return (const struct pci_dev *)(const void *)d;
}

struct vnet_pci_dev *orion_hal_pci_dev(struct pci_dev *d)
{
	return (struct vnet_pci_dev *)(void *)d;
}

struct vnet_pci_dev *vnet_hal_pci_dev_get(unsigned n)
{
	return (struct vnet_pci_dev *)(void *)pci_get(n);
}

void vnet_hal_pci_dev_info(const struct vnet_pci_dev *dev, struct vnet_pci_info *out)
{
	const struct pci_dev *d = to_cdev(dev);
	out->vendor_id = d->vendor;
	out->device_id = d->device;
	out->subsys_vendor_id = d->subsys_vendor;
	out->subsys_id = d->subsys_id;
	out->revision = d->revision;
	out->class_code = d->class_code;
	out->subclass = d->subclass;
	out->prog_if = d->prog_if;
	out->bus = d->bus;
	out->dev = d->dev;
	out->fn = d->fn;
	strlcpy(out->name, d->name, sizeof(out->name));
}

uint8_t vnet_hal_pci_cfg_read8(struct vnet_pci_dev *dev, unsigned off) { return pci_cfg_read8(to_dev(dev), off); }
uint16_t vnet_hal_pci_cfg_read16(struct vnet_pci_dev *dev, unsigned off) { return pci_cfg_read16(to_dev(dev), off); }
uint32_t vnet_hal_pci_cfg_read32(struct vnet_pci_dev *dev, unsigned off) { return pci_cfg_read32(to_dev(dev), off); }
void vnet_hal_pci_cfg_write8(struct vnet_pci_dev *dev, unsigned off, uint8_t v) { pci_cfg_write8(to_dev(dev), off, v); }
void vnet_hal_pci_cfg_write16(struct vnet_pci_dev *dev, unsigned off, uint16_t v) { pci_cfg_write16(to_dev(dev), off, v); }
void vnet_hal_pci_cfg_write32(struct vnet_pci_dev *dev, unsigned off, uint32_t v) { pci_cfg_write32(to_dev(dev), off, v); }

int vnet_hal_pci_bar_map(struct vnet_pci_dev *dev, unsigned bar, volatile void **va, uint64_t *len)
{
	struct pci_dev *d = to_dev(dev);

	if (!d || bar > 5 || !va || !len)
		return VNET_EINVAL;
	const struct pci_bar *b = &d->bar[bar];
	if (b->type == PCI_BAR_NONE)
		return (bar > 0 && d->bar[bar - 1].type == PCI_BAR_MEM64) ? VNET_EINVAL : VNET_ENODEV;
	if (b->type == PCI_BAR_IO)
		return VNET_ENOTSUP;
	if (!b->base || !b->size || b->base + b->size > arch_phys_limit() || b->base + b->size < b->base)
		return VNET_ENODEV;
	pci_enable(d, PCI_CMD_MEM);
	*va = (volatile void *)(uintptr_t)b->base;
	*len = b->size;
	return VNET_OK;
}

void vnet_hal_pci_bar_unmap(struct vnet_pci_dev *dev, unsigned bar)
{
	(void)dev;
	(void)bar;   /* identity map: nothing to undo */
}

void vnet_hal_pci_set_bus_master(struct vnet_pci_dev *dev, bool on)
{
	if (on)
		pci_enable(to_dev(dev), PCI_CMD_MASTER);
	else
		pci_disable(to_dev(dev), PCI_CMD_MASTER);
}

int vnet_hal_pci_msix_enable(struct vnet_pci_dev *dev, unsigned nvec)
{
	if (!nvec)
		return VNET_EINVAL;
	int n = pci_msix_enable(to_dev(dev), nvec);
	return n > 0 ? n : VNET_ENOTSUP;
}

int vnet_hal_pci_msix_bind(struct vnet_pci_dev *dev, unsigned entry, vnet_pci_irq_fn fn, void *arg)
{
	struct pci_dev *d = to_dev(dev);

	if (!d->msix_on || entry >= d->msix_size || entry >= PCI_MSIX_MAX || !fn)
		return VNET_EINVAL;
	int vec = d->msix_vec[entry];
	if (vec < 0) {
		vec = arch_msi_alloc();
		if (vec < 0)
			return VNET_ENOSPC;
	}
	irq_register(vec, fn, arg);
	if (pci_msix_set(d, entry, vec) != 0) {
		arch_msi_free(vec);
		return VNET_EINVAL;
	}
	return VNET_OK;
}

void vnet_hal_pci_msix_mask(struct vnet_pci_dev *dev, unsigned entry, bool masked)
{
	pci_msix_mask(to_dev(dev), entry, masked);
}

void vnet_hal_pci_msix_disable(struct vnet_pci_dev *dev)
{
	struct pci_dev *d = to_dev(dev);
	int16_t vecs[PCI_MSIX_MAX];

	memcpy(vecs, d->msix_vec, sizeof(vecs));
	pci_msix_disable(d);   /* masks first, so no message races the free */
	for (unsigned i = 0; i < PCI_MSIX_MAX; i++)
		if (vecs[i] >= 0)
			arch_msi_free(vecs[i]);
}

/* ---- I/O BARs (the legacy virtio-pci transport) ----
 * Over arch_pci_io_* (orion/arch.h); the weak defaults below stand in for
 * an arch without PCI I/O access. */

__attribute__((weak)) bool arch_pci_io_supported(void)
{
	return false;
}

__attribute__((weak)) uint32_t arch_pci_io_read(uint64_t addr, unsigned width)
{
	(void)addr;
	(void)width;
	return 0xffffffffu;
}

__attribute__((weak)) void arch_pci_io_write(uint64_t addr, unsigned width, uint32_t v)
{
	(void)addr;
	(void)width;
	(void)v;
}

int vnet_hal_pci_io_bar(struct vnet_pci_dev *dev, unsigned bar, uint32_t *len)
{
	struct pci_dev *d = to_dev(dev);

	if (!d || bar > 5 || !len)
		return VNET_EINVAL;
	const struct pci_bar *b = &d->bar[bar];
	if (b->type == PCI_BAR_NONE)
		return VNET_ENODEV;
	if (b->type != PCI_BAR_IO || !arch_pci_io_supported())
		return VNET_ENOTSUP;
	if (!b->base || !b->size || b->size > 0x10000u)
		return VNET_ENODEV;
	pci_enable(d, PCI_CMD_IO);
	*len = (uint32_t)b->size;
	return VNET_OK;
}

/* One access at off of I/O BAR bar: all ones (reads) or nothing (writes)
 * for anything but an assigned I/O BAR; the transport checks offsets
 * against the size vnet_hal_pci_io_bar reported. */
static uint32_t io_rd(struct vnet_pci_dev *dev, unsigned bar, uint32_t off, unsigned width)
{
	const struct pci_dev *d = to_dev(dev);
	if (!d || bar > 5 || d->bar[bar].type != PCI_BAR_IO)
		return 0xffffffffu;
	return arch_pci_io_read(d->bar[bar].base + off, width);
}

static void io_wr(struct vnet_pci_dev *dev, unsigned bar, uint32_t off, unsigned width, uint32_t v)
{
	const struct pci_dev *d = to_dev(dev);
	if (d && bar <= 5 && d->bar[bar].type == PCI_BAR_IO)
		arch_pci_io_write(d->bar[bar].base + off, width, v);
}

uint8_t vnet_hal_pci_io_read8(struct vnet_pci_dev *dev, unsigned bar, uint32_t off)
{
	return (uint8_t)io_rd(dev, bar, off, 1);
}

uint16_t vnet_hal_pci_io_read16(struct vnet_pci_dev *dev, unsigned bar, uint32_t off)
{
	return (uint16_t)io_rd(dev, bar, off, 2);
}

uint32_t vnet_hal_pci_io_read32(struct vnet_pci_dev *dev, unsigned bar, uint32_t off)
{
	return io_rd(dev, bar, off, 4);
}

void vnet_hal_pci_io_write8(struct vnet_pci_dev *dev, unsigned bar, uint32_t off, uint8_t v)
{
	io_wr(dev, bar, off, 1, v);
}

void vnet_hal_pci_io_write16(struct vnet_pci_dev *dev, unsigned bar, uint32_t off, uint16_t v)
{
	io_wr(dev, bar, off, 2, v);
}

void vnet_hal_pci_io_write32(struct vnet_pci_dev *dev, unsigned bar, uint32_t off, uint32_t v)
{
	io_wr(dev, bar, off, 4, v);
}
