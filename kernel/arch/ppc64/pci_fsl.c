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
 * BAR assignment: kernel/dev/pci_ecam.c's pci_ecam_assign(), the generic
 * "play firmware" pass (bus numbers, BARs at natural alignment, bridge
 * windows, decoding on), through this host's config accessors and the one
 * memory window above; no I/O window.  The host bridge's own function
 * (Freescale 1957:0030, BAR0 = an inbound view of the CCSR) is hidden from
 * that pass, so its BAR stays untouched.  INTx: pci_ecam_intx() on the
 * host node's interrupt-map.
 */
#include <stdarg.h>
#include <stdbool.h>

#include "e500.h"
#include "pci_fsl.h"
#include "platform.h"
#include "orion/kprintf.h"
#include "orion/pci_ecam.h"

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

static struct pci_ecam host;
static uint64_t ccsr_bus;

uint64_t ppc_pci_ccsr_bus_base(void) { return ccsr_bus; }
static bool host_ready;

static bool is_host_function(unsigned bus, unsigned devfn)
{
	return bus == 0 && devfn == 0 &&
	       ppc_pci_cfg_read(0, 0, 0, 0x00, 4) == 0x00301957u;
}

static uint32_t ecam_read(void *ctx, unsigned bus, unsigned devfn, unsigned off, unsigned width)
{
	(void)ctx;
	if (off >= 256 || is_host_function(bus, devfn))
		return width == 1 ? 0xffu : width == 2 ? 0xffffu : 0xffffffffu;
	return ppc_pci_cfg_read(bus, devfn >> 3, devfn & 7, off, width);
}

static void ecam_write(void *ctx, unsigned bus, unsigned devfn, unsigned off, unsigned width, uint32_t v)
{
	(void)ctx;
	if (off >= 256 || is_host_function(bus, devfn))
		return;
	ppc_pci_cfg_write(bus, devfn >> 3, devfn & 7, off, width, v);
}

static void ecam_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void ecam_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

void ppc_pci_assign(void)
{
	host = (struct pci_ecam){ 0 };
	host.node = ppc64_plat.fdt_ok ? fdt_find_compatible(&ppc64_plat.fdt, -1, "fsl,mpc8540-pci") : -1;
	host.bus_start = 0;
	host.bus_end = 255;
	host.mem32 = (struct pci_ecam_window){ .present = true, .pci = PPC_PCI_MEM_BASE,
					       .cpu = PPC_PCI_MEM_BASE, .size = PPC_PCI_MEM_SIZE };
	host.ops = (struct pci_cfg_ops){ ecam_read, ecam_write, NULL };
	host.log = ecam_log;
	pci_ecam_assign(&host);
	host_ready = true;
	if (host.stats.bars_failed)
		kprintf("pci: %u BARs left unassigned\n", host.stats.bars_failed);

	/* The host function's BAR0 is the CCSR as PCI masters see it: MSI
	 * messages go to the MPIC's MSIIR through it (msi.c).  1 MiB, placed
	 * after everything pci_ecam placed, memory decoding on. */
	ccsr_bus = 0;
	if (ppc_pci_cfg_read(0, 0, 0, 0x00, 4) == 0x00301957u) {
		uint32_t orig = ppc_pci_cfg_read(0, 0, 0, 0x10, 4);
		ppc_pci_cfg_write(0, 0, 0, 0x10, 4, 0xffffffffu);
		uint32_t mask = ppc_pci_cfg_read(0, 0, 0, 0x10, 4) & ~0xfu;
		uint64_t size = (uint32_t)(~mask + 1);
		uint64_t base = (host.mem32.next + size - 1) & ~(size - 1);
		if (!(orig & 1) && mask && !(size & (size - 1)) &&
		    base + size <= PPC_PCI_MEM_BASE + PPC_PCI_MEM_SIZE) {
			ppc_pci_cfg_write(0, 0, 0, 0x10, 4, (uint32_t)base | (orig & 0xfu));
			host.mem32.next = base + size;
			uint16_t cmd = (uint16_t)ppc_pci_cfg_read(0, 0, 0, 0x04, 2);
			ppc_pci_cfg_write(0, 0, 0, 0x04, 2, cmd | 0x2u);
			ccsr_bus = base;
		} else {
			ppc_pci_cfg_write(0, 0, 0, 0x10, 4, orig);
			kprintf("pci: host CCSR view not placed: no MSI\n");
		}
	}

	/* pvpanic-pci (1b36:0011) is the FAIL exit (exit.c). */
	for (unsigned dev = 0; dev < 32; dev++) {
		if (ppc_pci_cfg_read(0, dev, 0, 0x00, 4) != 0x00111b36u)
			continue;
		uint32_t bar = ppc_pci_cfg_read(0, dev, 0, 0x10, 4);
		if (!(bar & 1) && (bar & ~0xfu))
			ppc64_pvpanic_base = bar & ~0xfu;
	}
}

/* INTx of a bus-0 slot/pin (after any bridge swizzle): the MPIC source. */
int ppc_pci_intx(unsigned dev, unsigned fn, unsigned pin, unsigned *src)
{
	struct fdt_irq irq;
	(void)fn;
	if (!host_ready || !ppc64_plat.fdt_ok ||
	    pci_ecam_intx(&host, &ppc64_plat.fdt, 0, dev, pin, &irq) != PCI_ECAM_OK || irq.ncells < 1)
		return -1;
	*src = irq.cells[0];
	return 0;
}
