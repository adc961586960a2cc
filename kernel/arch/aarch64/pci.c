/*
 * PCI on aarch64 virt (orion/arch.h PCI contract): the generic ECAM host
 * bridge the DTB describes (kernel/dev/pci_ecam.c).  No firmware runs
 * before Orion, so arch_pci_init() assigns every BAR and enables decoding
 * before the common scan.  INTx: the common code swizzles to the root bus;
 * the host node's interrupt-map gives the GIC SPI (virt: slot S pin P ->
 * SPI 3 + (S + P - 1) mod 4, level high).
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/pci.h"
#include "orion/pci_ecam.h"
#include "aarch64/aarch64.h"

static struct pci_ecam host;
static bool have_host;

__attribute__((format(printf, 1, 2))) static void ecam_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

int arch_pci_init(void)
{
	if (!a64_have_fdt)
		return -1;
	host.log = ecam_log;
	int rc = pci_ecam_from_fdt(&host, &a64_fdt, 0);
	if (rc) {
		if (rc != PCI_ECAM_ERR_NOTFOUND)
			kprintf("aarch64: PCIe host bridge unusable: %s\n", pci_ecam_strerror(rc));
		return -1;
	}
	if (host.cfg_cpu + host.cfg_size > arch_phys_limit()) {
		kprintf("aarch64: PCIe ECAM %#lx beyond the identity map\n", host.cfg_cpu);
		return -1;
	}
	have_host = true;
	int n = pci_ecam_assign(&host);
	kprintf("aarch64: PCIe ECAM %#lx buses %u-%u: %d functions, %u BARs assigned "
		"(%u failed), %u bridges; mem32 %#lx io %#lx->cpu %#lx\n",
		host.cfg_cpu, host.bus_start, host.bus_end, n, host.stats.bars,
		host.stats.bars_failed, host.stats.bridges, host.mem32.pci, host.io.pci, host.io.cpu);
	return 0;
}

uint32_t arch_pci_cfg_read(unsigned bus, unsigned dev, unsigned fn, unsigned off, unsigned width)
{
	if (!have_host || off >= 256)
		return width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
	return pci_ecam_read(&host, bus, dev, fn, off, width);
}

void arch_pci_cfg_write(unsigned bus, unsigned dev, unsigned fn, unsigned off, unsigned width, uint32_t v)
{
	if (have_host && off < 256)
		pci_ecam_write(&host, bus, dev, fn, off, width, v);
}

int arch_pci_intx_route(const struct pci_dev *d, struct pci_intx_route *r)
{
	(void)d;
	struct fdt_irq irq;
	if (!have_host) {
		r->why = "no PCIe host bridge";
		return -1;
	}
	int rc = pci_ecam_intx(&host, &a64_fdt, host.bus_start, r->root_slot, r->root_pin, &irq);
	if (rc) {
		r->why = rc == PCI_ECAM_ERR_NOTFOUND ? "no interrupt-map entry" : "malformed interrupt-map";
		return -1;
	}
	/* GIC binding: <type number flags>, type 0 = SPI, flags 4 = level high. */
	if (irq.ncells != 3 || irq.cells[0] != 0) {
		r->why = "interrupt-map target is not a GIC SPI";
		return -1;
	}
	r->gsi = irq.cells[1];
	r->level = (irq.cells[2] & 0xc) != 0 || (irq.cells[2] & 0xf) == 0;
	r->active_low = (irq.cells[2] & 0xa) != 0 && !(irq.cells[2] & 0x5);
	ksnprintf(r->path, sizeof(r->path), "gic spi %u (intid %u)", r->gsi, 32 + r->gsi);
	return 0;
}
