/*
 * PCI enumeration, BAR decoding, capabilities and MSI-X (see pci.h).
 *
 * The scan starts at bus 0 and descends into every PCI-to-PCI bridge's
 * secondary bus (depth-bounded, each bus visited once), so q35's PCIe
 * root ports are followed.  BAR sizes use the write-ones probe with the
 * command register's I/O and memory decode bits cleared meanwhile, so the
 * device never decodes the temporary all-ones address.
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/pci.h"
#include "vnet/vnet_mmio.h"

static struct pci_dev devs[PCI_MAX_DEVS];
static unsigned ndevs;
static bool bus_seen[256];

static uint32_t raw_read32(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	return arch_pci_cfg_read(bus, dev, fn, off, 4);
}

uint32_t pci_cfg_read32(const struct pci_dev *d, unsigned off)
{
	if (off > 252 || (off & 3))
		return 0xffffffffu;
	return arch_pci_cfg_read(d->bus, d->dev, d->fn, off, 4);
}

uint16_t pci_cfg_read16(const struct pci_dev *d, unsigned off)
{
	if (off > 254 || (off & 1))
		return 0xffff;
	return (uint16_t)arch_pci_cfg_read(d->bus, d->dev, d->fn, off, 2);
}

uint8_t pci_cfg_read8(const struct pci_dev *d, unsigned off)
{
	if (off > 255)
		return 0xff;
	return (uint8_t)arch_pci_cfg_read(d->bus, d->dev, d->fn, off, 1);
}

void pci_cfg_write32(const struct pci_dev *d, unsigned off, uint32_t v)
{
	if (off > 252 || (off & 3))
		return;
	arch_pci_cfg_write(d->bus, d->dev, d->fn, off, 4, v);
}

void pci_cfg_write16(const struct pci_dev *d, unsigned off, uint16_t v)
{
	if (off > 254 || (off & 1))
		return;
	arch_pci_cfg_write(d->bus, d->dev, d->fn, off, 2, v);
}

void pci_cfg_write8(const struct pci_dev *d, unsigned off, uint8_t v)
{
	if (off > 255)
		return;
	arch_pci_cfg_write(d->bus, d->dev, d->fn, off, 1, v);
}

unsigned pci_cap_find(const struct pci_dev *d, uint8_t cap_id, unsigned after)
{
	if (!(pci_cfg_read16(d, 0x06) & (1u << 4)))   /* status: capability list */
		return 0;
	unsigned off = after ? pci_cfg_read8(d, after + 1) : pci_cfg_read8(d, 0x34);
	for (unsigned steps = 0; steps < 48 && off >= 0x40 && off < 0x100; steps++) {
		off &= 0xfc;
		if (pci_cfg_read8(d, off) == cap_id)
			return off;
		off = pci_cfg_read8(d, off + 1);
	}
	return 0;
}

uint16_t pci_enable(struct pci_dev *d, uint16_t bits)
{
	uint16_t cmd = pci_cfg_read16(d, 0x04) | bits;
	pci_cfg_write16(d, 0x04, cmd);
	return cmd;
}

void pci_disable(struct pci_dev *d, uint16_t bits)
{
	pci_cfg_write16(d, 0x04, pci_cfg_read16(d, 0x04) & ~bits);
}

static void decode_bars(struct pci_dev *d, unsigned nbars)
{
	uint16_t cmd = pci_cfg_read16(d, 0x04);
	pci_cfg_write16(d, 0x04, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));

	for (unsigned i = 0; i < nbars; i++) {
		unsigned off = 0x10 + 4 * i;
		uint32_t orig = pci_cfg_read32(d, off);
		pci_cfg_write32(d, off, 0xffffffffu);
		uint32_t probe = pci_cfg_read32(d, off);
		pci_cfg_write32(d, off, orig);
		struct pci_bar *b = &d->bar[i];

		if (orig & 1) {   /* I/O */
			uint32_t mask = probe & 0xfffffffcu;
			if (!mask)
				continue;
			mask |= 0xffff0000u;   /* I/O BARs may implement only 16 bits */
			b->type = PCI_BAR_IO;
			b->base = orig & 0xfffffffcu;
			b->size = (uint32_t)(~mask + 1);
			continue;
		}
		unsigned kind = (orig >> 1) & 3;
		uint64_t base = orig & 0xfffffff0u;
		uint64_t mask = probe & 0xfffffff0u;
		if (kind != 2 && !mask)
			continue;   /* unimplemented: reads back as zero */
		if (kind == 2 && i + 1 < nbars) {
			uint32_t orig_hi = pci_cfg_read32(d, off + 4);
			pci_cfg_write32(d, off + 4, 0xffffffffu);
			uint32_t probe_hi = pci_cfg_read32(d, off + 4);
			pci_cfg_write32(d, off + 4, orig_hi);
			base |= (uint64_t)orig_hi << 32;
			mask |= (uint64_t)probe_hi << 32;
			b->type = PCI_BAR_MEM64;
			i++;   /* the next slot is the upper half */
		} else {
			mask |= 0xffffffff00000000ull;
			b->type = PCI_BAR_MEM32;
		}
		if (!(mask & 0xfffffffffffffff0ull)) {
			b->type = PCI_BAR_NONE;
			continue;
		}
		b->base = base;
		b->size = ~mask + 1;
		b->prefetchable = (orig >> 3) & 1;
	}
	pci_cfg_write16(d, 0x04, cmd);
}

static void scan_bus(unsigned bus, unsigned depth);

/* Read the function's identity, BARs and MSI-X capability into d. */
static void fill_fn(struct pci_dev *d, unsigned bus, unsigned dev, unsigned fn)
{
	uint32_t id = raw_read32(bus, dev, fn, 0);
	uint8_t htype = (raw_read32(bus, dev, fn, 0x0c) >> 16) & 0x7f;
	memset(d, 0, sizeof(*d));
	d->bus = bus;
	d->dev = dev;
	d->fn = fn;
	d->vendor = id & 0xffff;
	d->device = id >> 16;
	uint32_t cls = raw_read32(bus, dev, fn, 0x08);
	d->revision = cls & 0xff;
	d->prog_if = (cls >> 8) & 0xff;
	d->subclass = (cls >> 16) & 0xff;
	d->class_code = cls >> 24;
	d->header_type = htype;
	uint32_t intr = raw_read32(bus, dev, fn, 0x3c);
	d->irq_line = intr & 0xff;
	d->irq_pin = (intr >> 8) & 0xff;
	for (unsigned i = 0; i < PCI_MSIX_MAX; i++)
		d->msix_vec[i] = -1;
	ksnprintf(d->name, sizeof(d->name), "%02x:%02x.%u", bus, dev, fn);
	if (htype == 0) {
		uint32_t ss = raw_read32(bus, dev, fn, 0x2c);
		d->subsys_vendor = ss & 0xffff;
		d->subsys_id = ss >> 16;
		decode_bars(d, 6);
	} else if (htype == 1) {
		decode_bars(d, 2);
	}
	d->msix_cap = (uint8_t)pci_cap_find(d, PCI_CAP_MSIX, 0);
	if (d->msix_cap)
		d->msix_size = (pci_cfg_read16(d, d->msix_cap + 2) & 0x7ff) + 1;
}

static void add_fn(unsigned bus, unsigned dev, unsigned fn, unsigned depth)
{
	uint32_t id = raw_read32(bus, dev, fn, 0);
	if ((id & 0xffff) == 0xffff)
		return;
	uint8_t htype = (raw_read32(bus, dev, fn, 0x0c) >> 16) & 0x7f;

	if (ndevs < PCI_MAX_DEVS)
		fill_fn(&devs[ndevs++], bus, dev, fn);
	else
		kprintf("pci: more than %u functions, %02x:%02x.%u ignored\n", PCI_MAX_DEVS, bus, dev, fn);
	if (htype == 1 && depth < 8) {
		unsigned secondary = (raw_read32(bus, dev, fn, 0x18) >> 8) & 0xff;
		if (secondary && secondary != bus)
			scan_bus(secondary, depth + 1);
	}
}

/* ---- hot-plug (kernel/dev/pcie_hotplug.c) ----
 * A removed function's entry keeps its memory (pointers stay valid) with
 * vendor 0xffff, which no lookup matches; a function added later takes
 * the first such entry, else a new one. */
struct pci_dev *pci_hotplug_add(unsigned bus, unsigned dev, unsigned fn)
{
	if ((raw_read32(bus, dev, fn, 0) & 0xffff) == 0xffff)
		return NULL;
	struct pci_dev *d = NULL;
	for (unsigned i = 0; i < ndevs && !d; i++)
		if (devs[i].vendor == 0xffff)
			d = &devs[i];
	if (!d && ndevs < PCI_MAX_DEVS)
		d = &devs[ndevs++];
	if (!d) {
		kprintf("pci: more than %u functions, %02x:%02x.%u ignored\n", PCI_MAX_DEVS, bus, dev, fn);
		return NULL;
	}
	fill_fn(d, bus, dev, fn);
	return d;
}

void pci_hotplug_remove(struct pci_dev *d)
{
	d->vendor = 0xffff;
	d->device = 0xffff;
	d->msix_on = false;
	d->msix_table = NULL;
	ksnprintf(d->name, sizeof(d->name), "gone");
}

static void scan_bus(unsigned bus, unsigned depth)
{
	if (bus_seen[bus])
		return;
	bus_seen[bus] = true;
	for (unsigned dev = 0; dev < 32; dev++) {
		if ((raw_read32(bus, dev, 0, 0) & 0xffff) == 0xffff)
			continue;
		bool multi = (raw_read32(bus, dev, 0, 0x0c) >> 16) & 0x80;
		for (unsigned fn = 0; fn < (multi ? 8u : 1u); fn++)
			add_fn(bus, dev, fn, depth);
	}
}

void pci_init(void)
{
	ndevs = 0;
	memset(bus_seen, 0, sizeof(bus_seen));
	if (arch_pci_init() != 0) {
		kprintf("pci: no PCI host bridge\n");
		return;
	}
	scan_bus(0, 0);
	/* Host bridge with several functions = several root buses (rare in QEMU). */
	if ((raw_read32(0, 0, 0, 0x0c) >> 16) & 0x80)
		for (unsigned fn = 1; fn < 8; fn++)
			if ((raw_read32(0, 0, fn, 0) & 0xffff) != 0xffff)
				scan_bus(fn, 0);
}

unsigned pci_count(void) { return ndevs; }

struct pci_dev *pci_get(unsigned i)
{
	return i < ndevs ? &devs[i] : NULL;
}

struct pci_dev *pci_find(uint16_t vendor, uint16_t device, unsigned nth)
{
	for (unsigned i = 0; i < ndevs; i++)
		if (devs[i].vendor == vendor && (device == 0xffff || devs[i].device == device))
			if (nth-- == 0)
				return &devs[i];
	return NULL;
}

const char *pci_known_name(const struct pci_dev *d)
{
	if (d->vendor == 0x1af4) {
		/* virtio 1.x: 0x1040 + device type is modern-only; 0x1000-0x103f transitional */
		switch (d->device) {
		case 0x1000: return "virtio-net (transitional)";
		case 0x1041: return "virtio-net (modern)";
		case 0x1001: return "virtio-blk (transitional)";
		case 0x1042: return "virtio-blk (modern)";
		default: return d->device >= 0x1040 ? "virtio (modern)" : "virtio (transitional)";
		}
	}
	if (d->class_code == 0x06 && d->subclass == 0x00)
		return "host bridge";
	if (d->class_code == 0x06 && d->subclass == 0x01)
		return "ISA bridge";
	if (d->class_code == 0x06 && d->subclass == 0x04)
		return "PCI bridge";
	if (d->class_code == 0x03)
		return "display";
	if (d->class_code == 0x01)
		return "storage";
	if (d->class_code == 0x02)
		return "network";
	if (d->class_code == 0x0c && d->subclass == 0x05)
		return "SMBus";
	return NULL;
}

void pci_print(bool verbose)
{
	for (unsigned i = 0; i < ndevs; i++) {
		struct pci_dev *d = &devs[i];
		if (d->vendor == 0xffff)
			continue;   /* hot-removed */
		const char *n = pci_known_name(d);
		kprintf("pci %s %04x:%04x class %02x.%02x.%02x%s%s", d->name, d->vendor, d->device,
			d->class_code, d->subclass, d->prog_if, n ? " " : "", n ? n : "");
		if (d->msix_cap)
			kprintf(" msix %u", d->msix_size);
		kprintf("\n");
		if (!verbose)
			continue;
		for (unsigned b = 0; b < 6; b++) {
			struct pci_bar *bar = &d->bar[b];
			if (bar->type == PCI_BAR_NONE)
				continue;
			kprintf("      bar%u %s %#lx size %#lx%s\n", b,
				bar->type == PCI_BAR_IO ? "io   " : bar->type == PCI_BAR_MEM64 ? "mem64" : "mem32",
				bar->base, bar->size, bar->prefetchable ? " prefetch" : "");
		}
		if (d->irq_pin)
			kprintf("      intx pin %c line %u\n", 'A' + d->irq_pin - 1, d->irq_line);
	}
}

/* ---- MSI-X (PCI Local Bus 3.0 / PCIe base spec, MSI-X capability) ---- */

#define MSIX_CTRL_ENABLE (1u << 15)
#define MSIX_CTRL_FMASK (1u << 14)
#define MSIX_ENTRY_MASKED 1u

/* Vector Control of entry idx (the table is little-endian, PCI 3.0 6.8.2). */
static void entry_mask(struct pci_dev *d, unsigned idx, bool masked)
{
	volatile uint32_t *c = d->msix_table + 4 * idx + 3;
	uint32_t v = vnet_mmio_read32(c);
	vnet_mmio_write32(c, masked ? v | MSIX_ENTRY_MASKED : v & ~MSIX_ENTRY_MASKED);
}

int pci_msix_enable(struct pci_dev *d, unsigned nvec)
{
	if (!d->msix_cap || !arch_msi_supported())
		return -1;
	uint32_t tbl = pci_cfg_read32(d, d->msix_cap + 4);
	unsigned bir = tbl & 7;
	uint64_t off = tbl & ~7u;
	if (bir > 5 || d->bar[bir].type == PCI_BAR_NONE || d->bar[bir].type == PCI_BAR_IO ||
	    off + 16ull * d->msix_size > d->bar[bir].size) {
		kprintf("pci %s: MSI-X table outside its BAR\n", d->name);
		return -1;
	}
	d->msix_table = (volatile uint32_t *)(uintptr_t)(d->bar[bir].base + off);
	pci_enable(d, PCI_CMD_MEM);

	/* Function-mask while entries are masked one by one, then enable. */
	uint16_t ctrl = pci_cfg_read16(d, d->msix_cap + 2);
	pci_cfg_write16(d, d->msix_cap + 2, ctrl | MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	for (unsigned i = 0; i < d->msix_size; i++)
		entry_mask(d, i, true);
	pci_cfg_write16(d, d->msix_cap + 2, (ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_FMASK);
	/* MSI-X replaces INTx; keep the legacy line quiet too. */
	pci_enable(d, PCI_CMD_INTX_DISABLE);
	d->msix_on = true;
	return (int)MIN(nvec, (unsigned)d->msix_size);
}

int pci_msix_set(struct pci_dev *d, unsigned idx, int irq)
{
	if (!d->msix_on || idx >= d->msix_size)
		return -1;
	uint64_t addr;
	uint32_t data;
	if (arch_msi_compose(irq, &addr, &data) != 0)
		return -1;
	volatile uint32_t *e = d->msix_table + 4 * idx;
	entry_mask(d, idx, true);   /* never let the device see a half-written entry */
	vnet_mmio_write32(&e[0], (uint32_t)addr);
	vnet_mmio_write32(&e[1], (uint32_t)(addr >> 32));
	vnet_mmio_write32(&e[2], data);
	entry_mask(d, idx, false);
	if (idx < PCI_MSIX_MAX)
		d->msix_vec[idx] = (int16_t)irq;
	return 0;
}

void pci_msix_mask(struct pci_dev *d, unsigned idx, bool masked)
{
	if (!d->msix_on || idx >= d->msix_size)
		return;
	entry_mask(d, idx, masked);
}

bool pci_msix_entry_state(struct pci_dev *d, unsigned idx, bool *masked, bool *pending)
{
	if (!d->msix_on || idx >= d->msix_size || !d->msix_table)
		return false;
	*masked = (vnet_mmio_read32(d->msix_table + 4 * idx + 3) & MSIX_ENTRY_MASKED) != 0 ||
	          (pci_cfg_read16(d, d->msix_cap + 2) & MSIX_CTRL_FMASK) != 0;
	/* The Pending Bit Array: BIR and offset at capability + 8 (PCI 3.0 6.8.2.5). */
	uint32_t pba = pci_cfg_read32(d, d->msix_cap + 8);
	unsigned bir = pba & 7;
	uint64_t off = pba & ~7u;
	if (bir > 5 || d->bar[bir].type == PCI_BAR_NONE || d->bar[bir].type == PCI_BAR_IO ||
	    off + 8ull * ((d->msix_size + 63u) / 64u) > d->bar[bir].size)
		return false;
	volatile uint32_t *bits = (volatile uint32_t *)(uintptr_t)(d->bar[bir].base + off);
	*pending = (vnet_mmio_read32(bits + idx / 32) >> (idx % 32)) & 1u;
	return true;
}

void pci_msix_disable(struct pci_dev *d)
{
	if (!d->msix_on)
		return;
	for (unsigned i = 0; i < d->msix_size; i++)
		entry_mask(d, i, true);
	uint16_t ctrl = pci_cfg_read16(d, d->msix_cap + 2);
	pci_cfg_write16(d, d->msix_cap + 2, ctrl & ~MSIX_CTRL_ENABLE);
	for (unsigned i = 0; i < PCI_MSIX_MAX; i++)
		d->msix_vec[i] = -1;
	d->msix_on = false;
}

/* ---- INTx routing (see pci_intx_route in pci.h) ----
 *
 * Where a function's INTx pin ends up is a property of the board, not of
 * the function.  The common part is the bridge swizzle: a function behind
 * PCI-to-PCI bridges is mapped to the bridge's pin on its parent bus
 * (PCI-to-PCI Bridge Architecture 1.2, table 9-1): pin' = ((pin - 1 +
 * device) mod 4) + 1, repeated up to bus 0.  The board's routing from a
 * bus-0 slot and pin to an interrupt line is the arch's
 * (arch_pci_intx_route; x86_64: kernel/arch/x86_64/pci.c).
 */

/* The bridge whose secondary bus is `bus`, or NULL. */
static struct pci_dev *bridge_to(unsigned bus)
{
	for (unsigned i = 0; i < ndevs; i++)
		if (devs[i].header_type == 1 && ((pci_cfg_read32(&devs[i], 0x18) >> 8) & 0xff) == bus)
			return &devs[i];
	return NULL;
}

struct pci_dev *pci_find_at(unsigned bus, unsigned dev, unsigned fn)
{
	for (unsigned i = 0; i < ndevs; i++)
		if (devs[i].bus == bus && devs[i].dev == dev && devs[i].fn == fn && devs[i].vendor != 0xffff)
			return &devs[i];
	return NULL;
}

int pci_intx_route(const struct pci_dev *d, struct pci_intx_route *r)
{
	memset(r, 0, sizeof(*r));
	r->pin = pci_cfg_read8(d, 0x3d);
	r->line = pci_cfg_read8(d, 0x3c);
	if (r->pin < 1 || r->pin > 4) {
		r->why = "function has no INTx pin";
		return -1;
	}
	/* Swizzle up to bus 0. */
	unsigned pin = r->pin, slot = d->dev, bus = d->bus;
	for (unsigned depth = 0; bus != 0; depth++) {
		struct pci_dev *br = bridge_to(bus);
		if (!br || depth >= 8) {
			r->why = "parent bridge not found";
			return -1;
		}
		pin = ((pin - 1u + slot) & 3u) + 1u;
		slot = br->dev;
		bus = br->bus;
	}
	r->root_slot = (uint8_t)slot;
	r->root_pin = (uint8_t)pin;
	if (arch_pci_intx_route(d, r) != 0) {
		if (!r->why)
			r->why = "the platform cannot route INTx";
		return -1;
	}
	return 0;
}
