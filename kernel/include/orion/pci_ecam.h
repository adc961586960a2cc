/*
 * Generic PCIe host bridge with ECAM configuration space
 * ("pci-host-ecam-generic", Linux's host-generic-pci binding; PCI Firmware
 * Spec 3.2 4.1.2 for the ECAM address layout) as QEMU's aarch64 and
 * riscv64 `virt` machines describe it in their device tree: `reg` is the
 * ECAM window, `bus-range` the buses it decodes, `ranges` the I/O, 32-bit
 * and 64-bit memory windows (PCI address -> CPU address), `interrupt-map`
 * the INTx wiring.
 *
 * No firmware runs before Orion on these machines, so every BAR is
 * unassigned at boot.  pci_ecam_assign() plays firmware: it numbers the
 * buses behind bridges, sizes every BAR of every function (decoding off
 * meanwhile), places each in a window at its natural alignment, programs
 * bridge windows, and turns on memory/I/O decoding where something was
 * placed.  The common PCI scan (dev/pci.c) then finds the BARs as if
 * firmware had assigned them.
 *
 * Placement policy: everything goes to the 32-bit memory window while it
 * fits (one address range the kernel always maps, and any device can use
 * it); a 64-bit BAR that no longer fits falls back to the 64-bit window,
 * on the root bus only (behind a bridge it would need the bridge's
 * prefetchable window, which is left disabled).  I/O BARs go to the I/O
 * window from PCI address 0x1000 (port 0 reads as "unassigned" to some
 * drivers).  A BAR that fits nowhere, or whose size probe is malformed
 * (not a power of two, larger than any window), stays unassigned: it is
 * counted in stats.bars_failed and logged, its decode type is left off,
 * and the rest of the bus still works.
 *
 * Arch-neutral: configuration accesses go through struct pci_cfg_ops, by
 * default the ECAM window itself (little-endian registers, converted on a
 * big-endian CPU), and tests/unit/test_pci_ecam.c supplies a fake bus.
 * The ECAM window and the windows' CPU addresses are identity mapped
 * (VA == PA) by the arch.  Single-threaded: boot time only.
 */
#ifndef ORION_PCI_ECAM_H
#define ORION_PCI_ECAM_H

#include <stdbool.h>
#include <stdint.h>

#include "orion/fdt.h"

enum pci_ecam_err {
	PCI_ECAM_OK = 0,
	PCI_ECAM_ERR_NOTFOUND = -1,  /* no such host bridge / no INTx mapping */
	PCI_ECAM_ERR_DTB = -2,       /* the node lacks or garbles reg, bus-range, ranges */
	PCI_ECAM_ERR_RANGE = -3,     /* bus, device, function or offset out of range */
};
const char *pci_ecam_strerror(int err);

/* Config access: width 1, 2 or 4, off naturally aligned, < 4096. */
struct pci_cfg_ops {
	uint32_t (*read)(void *ctx, unsigned bus, unsigned devfn, unsigned off, unsigned width);
	void (*write)(void *ctx, unsigned bus, unsigned devfn, unsigned off, unsigned width,
		      uint32_t v);
	void *ctx;
};

enum pci_ecam_space { PCI_ECAM_IO = 1, PCI_ECAM_MEM32 = 2, PCI_ECAM_MEM64 = 3 };

struct pci_ecam_window {
	bool present;
	bool prefetchable;
	uint64_t pci;       /* first PCI bus address */
	uint64_t cpu;       /* the CPU physical address it appears at */
	uint64_t size;
	uint64_t next;      /* allocation cursor, PCI address */
};

struct pci_ecam_stats {
	unsigned functions;    /* every function found, bridges included */
	unsigned bridges;      /* PCI-to-PCI bridges numbered */
	unsigned bars;         /* BARs placed */
	unsigned bars_failed;  /* implemented BARs left unassigned (see log) */
};

#define PCI_ECAM_MAX_BUS 256

struct pci_ecam {
	int node;                     /* the DTB node, -1 if built by hand */
	uint64_t cfg_cpu, cfg_size;   /* ECAM window */
	unsigned bus_start, bus_end;
	struct pci_ecam_window io, mem32, mem64;
	struct pci_cfg_ops ops;
	/* Optional diagnostics sink (kprintf in the kernel). */
	void (*log)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
	/* Filled by pci_ecam_assign(). */
	unsigned last_bus;
	struct pci_ecam_stats stats;
	/* The bridge above each secondary bus (for the INTx swizzle). */
	struct { bool valid; uint8_t bus, dev; } upstream[PCI_ECAM_MAX_BUS];
};

/*
 * The nth (0-based) enabled pci-host-ecam-generic node of the tree: reads
 * reg (ECAM window), bus-range (default 0..255, clipped to what the window
 * holds: 1 MiB per bus) and every ranges entry, and sets ops to ECAM MMIO.
 * PCI_ECAM_ERR_NOTFOUND (h untouched) if there are fewer hosts, PCI_ECAM_ERR_DTB (and a
 * log line, if log is set beforehand) if the node is malformed.
 */
int pci_ecam_from_fdt(struct pci_ecam *h, const struct fdt *fdt, unsigned nth);

/* Config space of bus/dev/fn through h->ops.  Reads of a bad address give
 * all ones (like a master abort); writes to one are dropped. */
uint32_t pci_ecam_read(const struct pci_ecam *h, unsigned bus, unsigned dev, unsigned fn,
		       unsigned off, unsigned width);
void pci_ecam_write(const struct pci_ecam *h, unsigned bus, unsigned dev, unsigned fn,
		    unsigned off, unsigned width, uint32_t v);
/* The ECAM address of a config register, or 0 if out of range. */
uint64_t pci_ecam_cfg_addr(const struct pci_ecam *h, unsigned bus, unsigned dev, unsigned fn,
			   unsigned off);

/*
 * Enumerate from bus_start and assign bus numbers, BARs and bridge windows
 * (see the policy above).  Returns the number of functions found.
 * Idempotent in effect: a second call re-sizes and re-places everything
 * from the windows' starts.
 */
int pci_ecam_assign(struct pci_ecam *h);

/*
 * Size and place the BARs of one type-0 function (decoding off meanwhile)
 * in h's windows from their cursors (next), then turn on the decode types
 * that were placed; returns them (CMD_IO 1 / CMD_MEM 2).  A 64-bit BAR
 * that does not fit mem32 may go to mem64.  Used by PCIe hot-plug
 * (dev/pcie_hotplug.c) with a root port's windows and the arch's config
 * access as ops.
 */
unsigned pci_ecam_assign_fn(struct pci_ecam *h, unsigned bus, unsigned dev, unsigned fn);

/* CPU address of a PCI bus address in a space (I/O or memory), or
 * PCI_ECAM_ERR_NOTFOUND if no window holds it. */
int pci_ecam_to_cpu(const struct pci_ecam *h, enum pci_ecam_space space, uint64_t pci,
		    uint64_t *cpu);

/*
 * The interrupt a function's INTx pin (1 = INTA .. 4 = INTD) raises: the
 * pin is swizzled through every bridge up to the root bus (PCI-to-PCI
 * Bridge Spec 9.1: pin' = (pin - 1 + dev) mod 4 + 1), then looked up in the
 * host node's interrupt-map with interrupt-map-mask.  *irq gets the parent
 * controller and its interrupt specifier cells.
 */
int pci_ecam_intx(const struct pci_ecam *h, const struct fdt *fdt, unsigned bus, unsigned dev,
		  unsigned pin, struct fdt_irq *irq);

#endif
