/*
 * Generic ECAM PCIe host bridge: device-tree parsing, configuration access
 * and BAR assignment (see orion/pci_ecam.h for the contract and the
 * placement policy).
 *
 * Trusts: nothing the device reports.  A BAR size probe that is not of
 * the form 1..10..0 (a power-of-two size), a size larger than any window,
 * a 64-bit BAR in the last BAR slot, an unknown header type: each is
 * logged, counted, and the BAR or function left undecoded, never placed
 * at an address that could overlap another.
 * Does not: assign expansion ROMs, use the bridges' prefetchable windows,
 * handle hot-plug, or configure MSI (the arch's job).
 */
#include <stdbool.h>
#include <stdint.h>

#include "orion/fdt.h"
#include "orion/pci_ecam.h"

#define CFG_VENDOR 0x00
#define CFG_COMMAND 0x04
#define CMD_IO 0x1u
#define CMD_MEM 0x2u
#define CMD_MASTER 0x4u
#define CFG_HEADER 0x0e
#define CFG_BAR0 0x10
#define BR_PRIMARY 0x18
#define BR_SECONDARY 0x19
#define BR_SUBORDINATE 0x1a
#define BR_IO_BASE 0x1c
#define BR_IO_LIMIT 0x1d
#define BR_MEM_BASE 0x20
#define BR_MEM_LIMIT 0x22
#define BR_PREF_BASE 0x24
#define BR_PREF_LIMIT 0x26
#define BR_PREF_BASE_HI 0x28
#define BR_PREF_LIMIT_HI 0x2c
#define BR_IO_BASE_HI 0x30
#define BR_IO_LIMIT_HI 0x32

#define ECAM_BUS_SIZE (1ull << 20)   /* 32 devices x 8 functions x 4 KiB */
/* Bridge windows have 1 MiB (memory) and 4 KiB (I/O) granularity
 * (PCI-to-PCI Bridge Architecture Spec 1.2, 3.2.5.6 and 3.2.5.8). */
#define BR_MEM_ALIGN (1ull << 20)
#define BR_IO_ALIGN 0x1000ull
#define IO_FIRST 0x1000ull
/* Bridges nested deeper than this are left unconfigured. */
#define MAX_BRIDGE_DEPTH 8

const char *pci_ecam_strerror(int err)
{
	switch (err) {
	case PCI_ECAM_OK: return "ok";
	case PCI_ECAM_ERR_NOTFOUND: return "not found";
	case PCI_ECAM_ERR_DTB: return "malformed pci-host-ecam-generic node";
	case PCI_ECAM_ERR_RANGE: return "bus/device/function/offset out of range";
	}
	return "unknown PCI ECAM error";
}

#define LOG(h, ...) do { if ((h)->log) (h)->log(__VA_ARGS__); } while (0)

/* ---- ECAM MMIO ---- */

/* PCI configuration registers are little-endian (PCI Local Bus 6.1); a
 * big-endian CPU swaps what it loads.  __BYTE_ORDER__ is the compiler's,
 * not an architecture test. */
static uint32_t le32(uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return __builtin_bswap32(v);
#else
	return v;
#endif
}

static uint16_t le16(uint16_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return __builtin_bswap16(v);
#else
	return v;
#endif
}

static uintptr_t ecam_addr(const struct pci_ecam *h, unsigned bus, unsigned devfn, unsigned off)
{
	return (uintptr_t)(h->cfg_cpu + ((uint64_t)(bus - h->bus_start) << 20) +
			   ((uint64_t)devfn << 12) + off);
}

static uint32_t ecam_read(void *ctx, unsigned bus, unsigned devfn, unsigned off, unsigned width)
{
	uintptr_t a = ecam_addr(ctx, bus, devfn, off);
	if (width == 4)
		return le32(*(volatile uint32_t *)a);
	if (width == 2)
		return le16(*(volatile uint16_t *)a);
	return *(volatile uint8_t *)a;
}

static void ecam_write(void *ctx, unsigned bus, unsigned devfn, unsigned off, unsigned width,
		       uint32_t v)
{
	uintptr_t a = ecam_addr(ctx, bus, devfn, off);
	if (width == 4)
		*(volatile uint32_t *)a = le32(v);
	else if (width == 2)
		*(volatile uint16_t *)a = le16((uint16_t)v);
	else
		*(volatile uint8_t *)a = (uint8_t)v;
}

static bool cfg_ok(const struct pci_ecam *h, unsigned bus, unsigned dev, unsigned fn,
		   unsigned off, unsigned width)
{
	return bus >= h->bus_start && bus <= h->bus_end && dev < 32 && fn < 8 &&
	       (width == 1 || width == 2 || width == 4) && off % width == 0 &&
	       off + width <= 4096 && h->ops.read;
}

uint32_t pci_ecam_read(const struct pci_ecam *h, unsigned bus, unsigned dev, unsigned fn,
		       unsigned off, unsigned width)
{
	if (!cfg_ok(h, bus, dev, fn, off, width))
		return width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
	return h->ops.read(h->ops.ctx, bus, dev << 3 | fn, off, width);
}

void pci_ecam_write(const struct pci_ecam *h, unsigned bus, unsigned dev, unsigned fn,
		    unsigned off, unsigned width, uint32_t v)
{
	if (cfg_ok(h, bus, dev, fn, off, width) && h->ops.write)
		h->ops.write(h->ops.ctx, bus, dev << 3 | fn, off, width, v);
}

uint64_t pci_ecam_cfg_addr(const struct pci_ecam *h, unsigned bus, unsigned dev, unsigned fn,
			   unsigned off)
{
	if (!cfg_ok(h, bus, dev, fn, off & ~3u, 4))
		return 0;
	return ecam_addr(h, bus, dev << 3 | fn, off);
}

/* ---- Device tree ---- */

static int parse_node(struct pci_ecam *h, const struct fdt *fdt, int node)
{
	uint64_t size;
	if (fdt_reg_cpu(fdt, node, 0, &h->cfg_cpu, &size) || size < ECAM_BUS_SIZE) {
		LOG(h, "pci-ecam: node has no usable reg (ECAM window of at least 1 MiB)\n");
		return PCI_ECAM_ERR_DTB;
	}
	h->cfg_size = size;
	h->bus_start = 0;
	h->bus_end = 255;
	uint32_t len;
	const uint8_t *br = fdt_prop(fdt, node, "bus-range", &len);
	if (br) {
		if (len != 8 || fdt_be32(br) > fdt_be32(br + 4) || fdt_be32(br + 4) > 255) {
			LOG(h, "pci-ecam: malformed bus-range\n");
			return PCI_ECAM_ERR_DTB;
		}
		h->bus_start = fdt_be32(br);
		h->bus_end = fdt_be32(br + 4);
	}
	/* The window holds 1 MiB per bus; decode no bus beyond it. */
	uint64_t nbus = size / ECAM_BUS_SIZE;
	if (h->bus_end - h->bus_start + 1 > nbus)
		h->bus_end = h->bus_start + (unsigned)nbus - 1;

	if (fdt_address_cells(fdt, node) != 3) {
		LOG(h, "pci-ecam: #address-cells is not 3\n");
		return PCI_ECAM_ERR_DTB;
	}
	struct fdt_range r;
	int rc;
	unsigned i;
	for (i = 0; (rc = fdt_range(fdt, node, i, &r)) != FDT_ERR_NOTFOUND; i++) {
		if (rc) {
			LOG(h, "pci-ecam: ranges entry %u unusable: %s\n", i, fdt_strerror(rc));
			if (rc == FDT_ERR_NOTRANSLATE)
				continue;
			return PCI_ECAM_ERR_DTB;
		}
		unsigned space = r.child_hi >> 24 & 3;
		struct pci_ecam_window *w = space == PCI_ECAM_IO ? &h->io :
					    space == PCI_ECAM_MEM32 ? &h->mem32 :
					    space == PCI_ECAM_MEM64 ? &h->mem64 : NULL;
		if (!w || r.size == 0 || r.child + r.size < r.child || r.cpu + r.size < r.cpu)
			continue;   /* config space entries or empty: nothing to place */
		if (space == PCI_ECAM_MEM32 && r.child + r.size > (1ull << 32)) {
			LOG(h, "pci-ecam: 32-bit memory window beyond 4 GiB ignored\n");
			continue;
		}
		if (space == PCI_ECAM_IO && r.child + r.size > (1ull << 32))
			continue;
		if (w->present && w->size >= r.size)
			continue;   /* keep the largest window of each kind */
		w->present = true;
		w->prefetchable = r.child_hi >> 30 & 1;
		w->pci = r.child;
		w->cpu = r.cpu;
		w->size = r.size;
	}
	if (!h->mem32.present && !h->mem64.present) {
		LOG(h, "pci-ecam: no memory window in ranges\n");
		return PCI_ECAM_ERR_DTB;
	}
	h->node = node;
	h->ops.read = ecam_read;
	h->ops.write = ecam_write;
	h->ops.ctx = h;
	return PCI_ECAM_OK;
}

int pci_ecam_from_fdt(struct pci_ecam *h, const struct fdt *fdt, unsigned nth)
{
	int n;
	for (n = fdt_find_compatible(fdt, -1, "pci-host-ecam-generic"); n >= 0;
	     n = fdt_find_compatible(fdt, n, "pci-host-ecam-generic"))
		if (fdt_is_enabled(fdt, n) && nth-- == 0)
			break;
	if (n < 0)
		return PCI_ECAM_ERR_NOTFOUND;   /* *h untouched */
	void (*log)(const char *, ...) = h->log;
	for (uint8_t *p = (uint8_t *)h, *e = p + sizeof(*h); p < e; p++)
		*p = 0;
	h->log = log;
	h->node = -1;
	return parse_node(h, fdt, n);
}

/* ---- BAR assignment ---- */

static uint32_t rd(struct pci_ecam *h, unsigned b, unsigned d, unsigned f, unsigned off, unsigned w)
{
	return pci_ecam_read(h, b, d, f, off, w);
}

static void wr(struct pci_ecam *h, unsigned b, unsigned d, unsigned f, unsigned off, unsigned w,
	       uint32_t v)
{
	pci_ecam_write(h, b, d, f, off, w, v);
}

static bool alloc(struct pci_ecam_window *w, uint64_t size, uint64_t *out)
{
	if (!w->present)
		return false;
	uint64_t base = (w->next + size - 1) & ~(size - 1);
	if (base < w->next || base < w->pci || base - w->pci > w->size ||
	    size > w->size - (base - w->pci))
		return false;
	w->next = base + size;
	*out = base;
	return true;
}

/* Size and place the nbars BARs of a function; returns the command
 * decode bits that may be turned on (a type with a failed BAR stays off). */
static unsigned assign_bars(struct pci_ecam *h, unsigned b, unsigned d, unsigned f,
			    unsigned nbars, bool root_bus)
{
	unsigned ok = 0, failed = 0;
	for (unsigned i = 0; i < nbars; i++) {
		unsigned off = CFG_BAR0 + 4 * i;
		uint32_t orig = rd(h, b, d, f, off, 4);
		wr(h, b, d, f, off, 4, 0xffffffffu);
		uint32_t mask = rd(h, b, d, f, off, 4);
		wr(h, b, d, f, off, 4, orig);
		if (mask == 0)
			continue;   /* not implemented */

		if (mask & 1) {
			uint32_t m = mask & ~3u;
			if ((m >> 16) == 0)
				m |= 0xffff0000u;   /* 16-bit I/O decoder */
			uint64_t size = (uint32_t)(~m + 1);
			uint64_t at;
			if (size == 0 || (size & (size - 1)) || !alloc(&h->io, size, &at)) {
				LOG(h, "pci-ecam: %02x:%02x.%u BAR%u: I/O size probe %#x %s\n", b, d, f,
				    i, mask, size && !(size & (size - 1)) ? "does not fit" : "malformed");
				failed |= CMD_IO;
				h->stats.bars_failed++;
				continue;
			}
			wr(h, b, d, f, off, 4, (uint32_t)at | (orig & 3u));
			ok |= CMD_IO;
			h->stats.bars++;
			continue;
		}

		/* Type and prefetchable bits from the value before the probe: they
		 * are read-only, but a BAR smaller than the spec's 16 bytes (QEMU's
		 * 2-byte pvpanic-pci) has writable bits 1..3, so the probe's mask
		 * would misreport them.  Such a BAR gets 16 bytes. */
		unsigned type = orig >> 1 & 3;
		bool is64 = type == 2;
		uint64_t full = 0xffffffff00000000ull | (mask & ~0xfu);
		if (is64) {
			if (i + 1 >= nbars) {
				LOG(h, "pci-ecam: %02x:%02x.%u BAR%u: 64-bit BAR in the last slot\n",
				    b, d, f, i);
				failed |= CMD_MEM;
				h->stats.bars_failed++;
				continue;
			}
			uint32_t origh = rd(h, b, d, f, off + 4, 4);
			wr(h, b, d, f, off + 4, 4, 0xffffffffu);
			uint32_t maskh = rd(h, b, d, f, off + 4, 4);
			wr(h, b, d, f, off + 4, 4, origh);
			full = (uint64_t)maskh << 32 | (mask & ~0xfu);
		}
		uint64_t size = ~full + 1;
		uint64_t at = 0;
		bool placed = false;
		bool sane = size != 0 && !(size & (size - 1)) && type != 3;
		if (sane) {
			placed = alloc(&h->mem32, size, &at);
			if (!placed && is64 && root_bus)
				placed = alloc(&h->mem64, size, &at);
		}
		if (!placed) {
			LOG(h, "pci-ecam: %02x:%02x.%u BAR%u: memory size %#llx %s\n", b, d, f, i,
			    (unsigned long long)size, sane ? "does not fit" : "malformed");
			failed |= CMD_MEM;
			h->stats.bars_failed++;
			i += is64;
			continue;
		}
		wr(h, b, d, f, off, 4, (uint32_t)at | (orig & 0xfu));
		if (is64) {
			wr(h, b, d, f, off + 4, 4, (uint32_t)(at >> 32));
			i++;
		}
		ok |= CMD_MEM;
		h->stats.bars++;
	}
	return ok & ~failed;
}

static void scan_bus(struct pci_ecam *h, unsigned bus, unsigned depth);

static void setup_bridge(struct pci_ecam *h, unsigned b, unsigned d, unsigned f, unsigned depth)
{
	h->stats.bridges++;
	unsigned cmd = rd(h, b, d, f, CFG_COMMAND, 2);
	wr(h, b, d, f, CFG_COMMAND, 2, cmd & ~(CMD_IO | CMD_MEM));
	unsigned own = assign_bars(h, b, d, f, 2, !h->upstream[b].valid);

	/* Prefetchable window off (base above limit). */
	wr(h, b, d, f, BR_PREF_BASE, 2, 0xfff0);
	wr(h, b, d, f, BR_PREF_LIMIT, 2, 0);
	wr(h, b, d, f, BR_PREF_BASE_HI, 4, 0);
	wr(h, b, d, f, BR_PREF_LIMIT_HI, 4, 0);

	if (h->last_bus >= h->bus_end || depth >= MAX_BRIDGE_DEPTH) {
		LOG(h, "pci-ecam: %02x:%02x.%u bridge left unconfigured (%s)\n", b, d, f,
		    depth >= MAX_BRIDGE_DEPTH ? "nested too deeply" : "no bus number left");
		wr(h, b, d, f, CFG_COMMAND, 2, (cmd & ~(CMD_IO | CMD_MEM)) | own);
		return;
	}
	unsigned sec = ++h->last_bus;
	h->upstream[sec].valid = true;
	h->upstream[sec].bus = (uint8_t)b;
	h->upstream[sec].dev = (uint8_t)d;
	wr(h, b, d, f, BR_PRIMARY, 1, b);
	wr(h, b, d, f, BR_SECONDARY, 1, sec);
	wr(h, b, d, f, BR_SUBORDINATE, 1, h->bus_end);   /* forward everything while scanning */

	uint64_t mem_start = 0, io_start = 0;
	struct pci_ecam_window *m = &h->mem32, *io = &h->io;
	if (m->present) {
		mem_start = (m->next + BR_MEM_ALIGN - 1) & ~(BR_MEM_ALIGN - 1);
		m->next = mem_start;
	}
	if (io->present) {
		io_start = (io->next + BR_IO_ALIGN - 1) & ~(BR_IO_ALIGN - 1);
		io->next = io_start;
	}

	scan_bus(h, sec, depth + 1);
	wr(h, b, d, f, BR_SUBORDINATE, 1, h->last_bus);

	unsigned enable = own;
	if (m->present && m->next > mem_start) {
		uint64_t end = (m->next + BR_MEM_ALIGN - 1) & ~(BR_MEM_ALIGN - 1);
		m->next = end;
		wr(h, b, d, f, BR_MEM_BASE, 2, (uint32_t)(mem_start >> 16) & 0xfff0);
		wr(h, b, d, f, BR_MEM_LIMIT, 2, (uint32_t)((end - 1) >> 16) & 0xfff0);
		enable |= CMD_MEM;
	} else {
		if (m->present)
			m->next = mem_start;
		wr(h, b, d, f, BR_MEM_BASE, 2, 0xfff0);
		wr(h, b, d, f, BR_MEM_LIMIT, 2, 0);
	}
	if (io->present && io->next > io_start) {
		uint64_t end = (io->next + BR_IO_ALIGN - 1) & ~(BR_IO_ALIGN - 1);
		io->next = end;
		wr(h, b, d, f, BR_IO_BASE, 1, (uint32_t)(io_start >> 8) & 0xf0);
		wr(h, b, d, f, BR_IO_LIMIT, 1, (uint32_t)((end - 1) >> 8) & 0xf0);
		wr(h, b, d, f, BR_IO_BASE_HI, 2, (uint32_t)(io_start >> 16));
		wr(h, b, d, f, BR_IO_LIMIT_HI, 2, (uint32_t)((end - 1) >> 16));
		enable |= CMD_IO;
	} else {
		if (io->present)
			io->next = io_start;
		wr(h, b, d, f, BR_IO_BASE, 1, 0xf0);
		wr(h, b, d, f, BR_IO_LIMIT, 1, 0);
		wr(h, b, d, f, BR_IO_BASE_HI, 2, 0);
		wr(h, b, d, f, BR_IO_LIMIT_HI, 2, 0);
	}
	/* Bus master so that downstream devices' DMA is forwarded upstream. */
	wr(h, b, d, f, CFG_COMMAND, 2, (cmd & ~(CMD_IO | CMD_MEM)) | enable | CMD_MASTER);
}

static void scan_bus(struct pci_ecam *h, unsigned bus, unsigned depth)
{
	for (unsigned d = 0; d < 32; d++) {
		for (unsigned f = 0; f < 8; f++) {
			if (rd(h, bus, d, f, CFG_VENDOR, 2) == 0xffff) {
				if (f == 0)
					break;
				continue;
			}
			unsigned hdr = rd(h, bus, d, f, CFG_HEADER, 1);
			h->stats.functions++;
			switch (hdr & 0x7f) {
			case 0: {
				unsigned cmd = rd(h, bus, d, f, CFG_COMMAND, 2);
				wr(h, bus, d, f, CFG_COMMAND, 2, cmd & ~(CMD_IO | CMD_MEM));
				unsigned en = assign_bars(h, bus, d, f, 6, !h->upstream[bus].valid);
				wr(h, bus, d, f, CFG_COMMAND, 2, (cmd & ~(CMD_IO | CMD_MEM)) | en);
				break;
			}
			case 1:
				setup_bridge(h, bus, d, f, depth);
				break;
			default:
				LOG(h, "pci-ecam: %02x:%02x.%u header type %#x not configured\n",
				    bus, d, f, hdr & 0x7f);
				break;
			}
			if (f == 0 && !(hdr & 0x80))
				break;   /* single-function device */
		}
	}
}

unsigned pci_ecam_assign_fn(struct pci_ecam *h, unsigned bus, unsigned dev, unsigned fn)
{
	unsigned cmd = rd(h, bus, dev, fn, CFG_COMMAND, 2);
	wr(h, bus, dev, fn, CFG_COMMAND, 2, cmd & ~(CMD_IO | CMD_MEM));
	unsigned en = assign_bars(h, bus, dev, fn, 6, true);
	wr(h, bus, dev, fn, CFG_COMMAND, 2, (cmd & ~(CMD_IO | CMD_MEM)) | en);
	return en;
}

int pci_ecam_assign(struct pci_ecam *h)
{
	h->stats = (struct pci_ecam_stats){ 0 };
	for (unsigned i = 0; i < PCI_ECAM_MAX_BUS; i++)
		h->upstream[i].valid = false;
	h->mem32.next = h->mem32.pci;
	h->mem64.next = h->mem64.pci;
	h->io.next = h->io.pci < IO_FIRST ? IO_FIRST : h->io.pci;
	h->last_bus = h->bus_start;
	scan_bus(h, h->bus_start, 0);
	return (int)h->stats.functions;
}

int pci_ecam_to_cpu(const struct pci_ecam *h, enum pci_ecam_space space, uint64_t pci,
		    uint64_t *cpu)
{
	const struct pci_ecam_window *ws[2] = { NULL, NULL };
	if (space == PCI_ECAM_IO) {
		ws[0] = &h->io;
	} else {
		ws[0] = &h->mem32;
		ws[1] = &h->mem64;
	}
	for (unsigned i = 0; i < 2; i++) {
		const struct pci_ecam_window *w = ws[i];
		if (w && w->present && pci >= w->pci && pci - w->pci < w->size) {
			*cpu = w->cpu + (pci - w->pci);
			return PCI_ECAM_OK;
		}
	}
	return PCI_ECAM_ERR_NOTFOUND;
}

/* ---- INTx through interrupt-map ---- */

int pci_ecam_intx(const struct pci_ecam *h, const struct fdt *fdt, unsigned bus, unsigned dev,
		  unsigned pin, struct fdt_irq *irq)
{
	if (pin < 1 || pin > 4 || dev >= 32 || bus >= PCI_ECAM_MAX_BUS || h->node < 0)
		return PCI_ECAM_ERR_RANGE;
	for (unsigned hop = 0; h->upstream[bus].valid && hop < PCI_ECAM_MAX_BUS; hop++) {
		pin = (pin - 1 + dev) % 4 + 1;
		dev = h->upstream[bus].dev;
		bus = h->upstream[bus].bus;
	}
	uint32_t key[4] = { bus << 16 | dev << 11, 0, 0, pin };
	uint32_t mask[4] = { 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu };
	uint32_t len;
	const uint8_t *mm = fdt_prop(fdt, h->node, "interrupt-map-mask", &len);
	if (mm) {
		if (len != 16)
			return PCI_ECAM_ERR_DTB;
		for (unsigned k = 0; k < 4; k++)
			mask[k] = fdt_be32(mm + 4 * k);
	}
	if (fdt_prop_u32(fdt, h->node, "#interrupt-cells", 1) != 1)
		return PCI_ECAM_ERR_DTB;
	const uint8_t *map = fdt_prop(fdt, h->node, "interrupt-map", &len);
	if (!map || len % 4)
		return map ? PCI_ECAM_ERR_DTB : PCI_ECAM_ERR_NOTFOUND;
	uint32_t ncells = len / 4, c = 0;
	while (c < ncells) {
		/* child unit address (3) + child specifier (1) + parent phandle */
		if (ncells - c < 5)
			return PCI_ECAM_ERR_DTB;
		const uint8_t *e = map + 4 * c;
		int parent = fdt_node_by_phandle(fdt, fdt_be32(e + 16));
		if (parent < 0)
			return PCI_ECAM_ERR_DTB;
		/* The parent's unit address has its #address-cells (0 if it
		 * has none), its specifier #interrupt-cells. */
		uint32_t pac = fdt_prop_u32(fdt, parent, "#address-cells", 0);
		uint32_t pic = fdt_prop_u32(fdt, parent, "#interrupt-cells", 0);
		if (pac > 3 || pic < 1 || pic > FDT_IRQ_MAX_CELLS || ncells - c < 5 + pac + pic)
			return PCI_ECAM_ERR_DTB;
		bool match = true;
		for (unsigned k = 0; k < 4; k++)
			if ((key[k] & mask[k]) != (fdt_be32(e + 4 * k) & mask[k]))
				match = false;
		if (match) {
			irq->ctrl = parent;
			irq->ncells = pic;
			for (uint32_t k = 0; k < pic; k++)
				irq->cells[k] = fdt_be32(e + 4 * (5 + pac + k));
			return PCI_ECAM_OK;
		}
		c += 5 + pac + pic;
	}
	return PCI_ECAM_ERR_NOTFOUND;
}
