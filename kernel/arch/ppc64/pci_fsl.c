/*
 * The Freescale PCI host of QEMU's ppce500 (hw/pci-host/ppce500.c).
 *
 * Config space: indirect, CFG_ADDR (big-endian register) at +0 takes
 * 0x80000000 | bus << 16 | dev << 11 | fn << 8 | offset & 0xfc, CFG_DATA
 * at +4 is little-endian (byte-reversed loads/stores; a sub-word access
 * lands at +4 + (offset & 3)).
 *
 * Windows: with no firmware nothing is decoded until the ATMU is set up.
 * Orion programs
 *   outbound window 1: CPU 0xE000_0000 -> PCI 0xE000_0000, 256 MiB
 *                      (bus address == CPU address, so BAR values are
 *                      usable as they are, 32-bit BARs included),
 *   inbound window 1:  PCI 0 -> RAM 0, 1 GiB (device DMA, bus address ==
 *                      physical address).
 * The DTB's ranges describe the CPU 0xC_0000_0000 window a firmware would
 * set up; Orion does not use it (see README.md).  No I/O window: the modern
 * virtio-pci interface needs none, and I/O BARs stay unassigned (I/O
 * decoding off).
 *
 * BAR assignment: every memory BAR of every function on bus 0 (QEMU's
 * ppce500 has no bridges unless a test adds one), naturally aligned,
 * bottom-up from the window base; 64-bit BARs get a 32-bit address.  The
 * host bridge's own function (Freescale class 0x0b20, BAR0 = CCSR) is
 * left alone.  Memory decoding is enabled after the BARs are written.
 */
#include "e500.h"
#include "pci_fsl.h"
#include "platform.h"
#include "orion/kprintf.h"

#define PCI_CFG_ADDR   (ppc64_plat.pci_regs + 0x0)
#define PCI_CFG_DATA   (ppc64_plat.pci_regs + 0x4)
#define PCI_OW1        (ppc64_plat.pci_regs + 0xC20)
#define PCI_IW1        (ppc64_plat.pci_regs + 0xDE0)
#define POTAR 0x0
#define POTEAR 0x4
#define POWBAR 0x8
#define POWAR 0x10
#define PITAR 0x0
#define PIWBAR 0x8
#define PIWBEAR 0xC
#define PIWAR 0x10
#define WAR_EN        0x80000000u
#define PIWAR_PF      0x20000000u
#define PIWAR_LOCAL   0x00f00000u
#define PIWAR_SNOOP   0x00055000u
#define POWAR_MEM_RW  0x00044000u

extern uint64_t ppc64_pvpanic_base;

static uint32_t cfg_addr(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	return 0x80000000u | (bus & 0xff) << 16 | (dev & 0x1f) << 11 | (fn & 7) << 8 | (off & 0xfc);
}

uint32_t ppc_pci_cfg_read(unsigned bus, unsigned dev, unsigned fn, unsigned off, unsigned size)
{
	ppc_out32be(PCI_CFG_ADDR, cfg_addr(bus, dev, fn, off));
	switch (size) {
	case 1: return ppc_in8(PCI_CFG_DATA + (off & 3));
	case 2: return ppc_in16le(PCI_CFG_DATA + (off & 2));
	default: return ppc_in32le(PCI_CFG_DATA);
	}
}

void ppc_pci_cfg_write(unsigned bus, unsigned dev, unsigned fn, unsigned off, unsigned size, uint32_t v)
{
	ppc_out32be(PCI_CFG_ADDR, cfg_addr(bus, dev, fn, off));
	switch (size) {
	case 1: ppc_out8(PCI_CFG_DATA + (off & 3), (uint8_t)v); break;
	case 2: ppc_out16le(PCI_CFG_DATA + (off & 2), (uint16_t)v); break;
	default: ppc_out32le(PCI_CFG_DATA, v); break;
	}
}

static unsigned log2_u64(uint64_t v)
{
	unsigned n = 0;
	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

void ppc_pci_host_init(uint64_t ram_bytes)
{
	/* Outbound: CPU PPC_PCI_MEM_BASE -> PCI PPC_PCI_MEM_BASE. POWAR last:
	 * the window only decodes once its enable bit is written. */
	ppc_out32be(PCI_OW1 + POWAR, 0);
	ppc_out32be(PCI_OW1 + POTAR, (uint32_t)(PPC_PCI_MEM_BASE >> 12));
	ppc_out32be(PCI_OW1 + POTEAR, 0);
	ppc_out32be(PCI_OW1 + POWBAR, (uint32_t)(PPC_PCI_MEM_BASE >> 12));
	ppc_out32be(PCI_OW1 + POWAR, WAR_EN | POWAR_MEM_RW | (log2_u64(PPC_PCI_MEM_SIZE) - 1));

	/* Inbound: PCI 0 -> RAM 0, a power of two >= RAM (at least 4 KiB). */
	uint64_t win = 4096;
	while (win < ram_bytes && win < PPC_PCI_MEM_BASE)
		win <<= 1;
	ppc_out32be(PCI_IW1 + PIWAR, 0);
	ppc_out32be(PCI_IW1 + PITAR, 0);
	ppc_out32be(PCI_IW1 + PIWBAR, 0);
	ppc_out32be(PCI_IW1 + PIWBEAR, 0);
	ppc_out32be(PCI_IW1 + PIWAR, WAR_EN | PIWAR_PF | PIWAR_LOCAL | PIWAR_SNOOP | (log2_u64(win) - 1));
}

static int assign_function(unsigned bus, unsigned dev, unsigned fn, uint64_t *next)
{
	uint32_t id = ppc_pci_cfg_read(bus, dev, fn, 0x00, 4);
	uint32_t cls = ppc_pci_cfg_read(bus, dev, fn, 0x08, 4) >> 16;
	unsigned hdr = ppc_pci_cfg_read(bus, dev, fn, 0x0e, 1) & 0x7f;
	int assigned = 0;

	if ((id & 0xffff) == 0x1957 && cls == 0x0b20)
		return 0;   /* the host bridge itself (BAR0 = CCSR) */
	if (hdr != 0)
		return 0;   /* bridges: not on QEMU's ppce500 */

	uint16_t cmd = (uint16_t)ppc_pci_cfg_read(bus, dev, fn, 0x04, 2);
	ppc_pci_cfg_write(bus, dev, fn, 0x04, 2, cmd & ~0x3u);   /* decoding off while probing */

	for (unsigned i = 0; i < 6; i++) {
		unsigned off = 0x10 + 4 * i;
		uint32_t orig = ppc_pci_cfg_read(bus, dev, fn, off, 4);
		if (orig & 1)
			continue;   /* I/O BAR: no I/O window */
		int is64 = ((orig >> 1) & 3) == 2;
		ppc_pci_cfg_write(bus, dev, fn, off, 4, 0xffffffffu);
		uint64_t mask = ppc_pci_cfg_read(bus, dev, fn, off, 4) & ~0xfull;
		if (is64) {
			ppc_pci_cfg_write(bus, dev, fn, off + 4, 4, 0xffffffffu);
			mask |= (uint64_t)ppc_pci_cfg_read(bus, dev, fn, off + 4, 4) << 32;
		} else {
			mask |= 0xffffffff00000000ull;
		}
		uint64_t size = ~mask + 1;
		if (mask == 0xffffffff00000000ull || size == 0) {
			ppc_pci_cfg_write(bus, dev, fn, off, 4, orig);
			if (is64)
				i++;
			continue;   /* not implemented */
		}
		uint64_t base = (*next + size - 1) & ~(size - 1);
		if (base + size > PPC_PCI_MEM_BASE + PPC_PCI_MEM_SIZE) {
			kprintf("pci: %02x:%02x.%x BAR%u (%llu bytes) does not fit the window\n",
				bus, dev, fn, i, (unsigned long long)size);
			ppc_pci_cfg_write(bus, dev, fn, off, 4, 0);
			if (is64) {
				ppc_pci_cfg_write(bus, dev, fn, off + 4, 4, 0);
				i++;
			}
			continue;
		}
		ppc_pci_cfg_write(bus, dev, fn, off, 4, (uint32_t)base | (orig & 0xf));
		if (is64) {
			ppc_pci_cfg_write(bus, dev, fn, off + 4, 4, (uint32_t)(base >> 32));
			i++;
		}
		*next = base + size;
		assigned++;
		if (id == 0x00111b36 && i == 0)
			ppc64_pvpanic_base = base;   /* pvpanic-pci: the FAIL exit */
	}
	ppc_pci_cfg_write(bus, dev, fn, 0x04, 2, (cmd & ~0x1u) | (assigned ? 0x2u : 0));
	return assigned;
}

void ppc_pci_assign(void)
{
	uint64_t next = PPC_PCI_MEM_BASE;

	for (unsigned dev = 0; dev < 32; dev++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			uint32_t id = ppc_pci_cfg_read(0, dev, fn, 0x00, 4);
			if ((id & 0xffff) == 0xffff || id == 0) {
				if (fn == 0)
					break;
				continue;
			}
			assign_function(0, dev, fn, &next);
			if (fn == 0 && !(ppc_pci_cfg_read(0, dev, 0, 0x0e, 1) & 0x80))
				break;
		}
	}
}

/*
 * INTx: the MPIC source of (dev, pin) from the host node's interrupt-map
 * (entries: 3 address cells, 1 pin cell, the controller's phandle, its
 * #interrupt-cells cells; interrupt-map-mask applied to the first four).
 * QEMU's ppce500 maps slot s pin p to MPIC source 1 + (s + p - 1) % 4,
 * level-sensitive.
 */
int ppc_pci_intx(unsigned dev, unsigned fn, unsigned pin, unsigned *src)
{
	const struct fdt *f = &ppc64_plat.fdt;
	uint32_t len, mlen;

	if (!ppc64_plat.fdt_ok || pin < 1 || pin > 4)
		return -1;
	int node = fdt_find_compatible(f, -1, "fsl,mpc8540-pci");
	if (node < 0)
		return -1;
	const uint8_t *map = fdt_prop(f, node, "interrupt-map", &len);
	const uint8_t *mask = fdt_prop(f, node, "interrupt-map-mask", &mlen);
	if (!map || !mask || mlen != 16)
		return -1;
	uint32_t want[4] = { (dev & 0x1f) << 11 | (fn & 7) << 8, 0, 0, pin };
	for (unsigned i = 0; i < 4; i++)
		want[i] &= fdt_be32(mask + 4 * i);
	for (uint32_t at = 0; at + 20 <= len;) {
		const uint8_t *e = map + at;
		int ctrl = fdt_node_by_phandle(f, fdt_be32(e + 16));
		uint32_t pcells = ctrl >= 0 ? fdt_prop_u32(f, ctrl, "#interrupt-cells", 0) : 0;
		if (pcells == 0 || at + 20 + 4 * pcells > len)
			return -1;
		bool hit = true;
		for (unsigned i = 0; i < 4; i++)
			if ((fdt_be32(e + 4 * i) & fdt_be32(mask + 4 * i)) != want[i])
				hit = false;
		if (hit) {
			*src = fdt_be32(e + 20);
			return 0;
		}
		at += 20 + 4 * pcells;
	}
	return -1;
}
