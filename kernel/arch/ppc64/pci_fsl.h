/* ppce500 PCI host: config access, ATMU windows, BAR assignment (pci_fsl.c). */
#ifndef ORION_PPC64_PCI_FSL_H
#define ORION_PPC64_PCI_FSL_H

#include <stdint.h>

#define PPC_PCI_MEM_BASE 0xE0000000ull   /* CPU == PCI bus address */
#define PPC_PCI_MEM_SIZE 0x10000000ull   /* 256 MiB, one TLB1 entry */

uint32_t ppc_pci_cfg_read(unsigned bus, unsigned dev, unsigned fn, unsigned off, unsigned size);
void ppc_pci_cfg_write(unsigned bus, unsigned dev, unsigned fn, unsigned off, unsigned size, uint32_t v);
void ppc_pci_host_init(uint64_t ram_bytes);
void ppc_pci_assign(void);
/* PCI address of the host's CCSR view (its BAR0), 0 if not placed. */
uint64_t ppc_pci_ccsr_bus_base(void);
/* MPIC source of INTx pin (1 = INTA) of bus-0 function dev.fn, from the
 * DTB interrupt-map; 0 or -1 (no map, no entry). */
int ppc_pci_intx(unsigned dev, unsigned fn, unsigned pin, unsigned *src);

#endif
