/*
 * riscv64 PCI (orion/arch.h arch_pci_*): QEMU virt's PCIe host, a
 * "pci-host-ecam-generic" node, through the common ECAM host driver
 * (kernel/dev/pci_ecam.c).  No firmware assigns BARs on this machine
 * (OpenSBI does not touch PCI), so arch_pci_init lets pci_ecam_assign()
 * number the buses and place every BAR in the DTB's windows before the
 * common scan.  On virt the windows are identity-reachable CPU addresses
 * (satp Bare), so a BAR's CPU address is simply where it was placed.
 *
 * INTx: the common code swizzles the pin to the root bus; the host's
 * interrupt-map (pci_ecam_intx) names the controller and specifier.  Only
 * our PLIC is accepted, and its one-cell specifier is the source id
 * (virt: slot S pin P -> 32 + (S + P - 1) mod 4).  QEMU's PLIC inputs are
 * level: the line stays up until the device's ISR status is read, so
 * level/active-high is what the route reports (the PLIC has nothing to
 * program for it).
 */
#include <stdarg.h>
#include <stdint.h>

#include "orion/arch.h"
#include "orion/fdt.h"
#include "orion/kprintf.h"
#include "orion/pci.h"
#include "orion/pci_ecam.h"
#include "riscv64/riscv.h"

static struct pci_ecam host;
static bool have_host;

static void ecam_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kprintf("pci: ");
	kvprintf(fmt, ap);
	kprintf("\n");
	va_end(ap);
}

int arch_pci_init(void)
{
	if (rv_fdt_err != FDT_OK)
		return -1;
	host.log = ecam_log;
	int rc = pci_ecam_from_fdt(&host, &rv_fdt, 0);
	if (rc != PCI_ECAM_OK) {
		if (rc != PCI_ECAM_ERR_NOTFOUND)
			kprintf("pci: host bridge unusable: %s\n", pci_ecam_strerror(rc));
		return -1;
	}
	int n = pci_ecam_assign(&host);
	have_host = true;
	kprintf("pci: ecam %#lx buses %u-%u, mem32 %#lx+%#lx, mem64 %#lx+%#lx, io %#lx+%#lx: "
		"%d functions, %u bridges, %u BARs placed, %u failed\n",
		host.cfg_cpu, host.bus_start, host.last_bus, host.mem32.cpu, host.mem32.size, host.mem64.cpu,
		host.mem64.size, host.io.cpu, host.io.size, n, host.stats.bridges, host.stats.bars,
		host.stats.bars_failed);
	return 0;
}

uint32_t arch_pci_cfg_read(unsigned bus, unsigned dev, unsigned fn, unsigned off, unsigned width)
{
	if (!have_host)
		return width == 4 ? 0xffffffffu : width == 2 ? 0xffffu : 0xffu;
	return pci_ecam_read(&host, bus, dev, fn, off, width);
}

void arch_pci_cfg_write(unsigned bus, unsigned dev, unsigned fn, unsigned off, unsigned width, uint32_t v)
{
	if (have_host)
		pci_ecam_write(&host, bus, dev, fn, off, width, v);
}

int arch_pci_intx_route(const struct pci_dev *d, struct pci_intx_route *r)
{
	(void)d;
	if (!have_host) {
		r->why = "no PCI host bridge";
		return -1;
	}
	struct fdt_irq irq;
	int rc = pci_ecam_intx(&host, &rv_fdt, host.bus_start, r->root_slot, r->root_pin, &irq);
	if (rc != PCI_ECAM_OK) {
		r->why = rc == PCI_ECAM_ERR_NOTFOUND ? "interrupt-map has no entry for the slot and pin"
						     : "interrupt-map unusable";
		return -1;
	}
	if (irq.ctrl != rv_plic_node || irq.ncells != 1) {
		r->why = "interrupt-map routes the pin to a controller other than our PLIC";
		return -1;
	}
	r->gsi = irq.cells[0];
	r->level = true;
	r->active_low = false;
	ksnprintf(r->path, sizeof(r->path), "interrupt-map slot %u INT%c -> plic %u", r->root_slot,
		  'A' + (r->root_pin - 1) % 4, r->gsi);
	return 0;
}
