/* MSI through the MPIC's MSI block (msi.c). */
#ifndef ORION_PPC64_MSI_H
#define ORION_PPC64_MSI_H
#include <stdbool.h>
#include <stdint.h>
#include "mpic.h"

#define PPC64_MSI_IRQ0  MPIC_MAX_SRC   /* irqs 256..511 are messages */
#define PPC64_MSI_COUNT 256u

/* ccsr_bus_base: PCI address of the host's CCSR view (0: no MSI). */
void ppc64_msi_init(uint64_t ccsr_bus_base);
bool ppc64_msi_ok(void);
int ppc64_msi_alloc(void);
void ppc64_msi_free(int irq);
int ppc64_msi_compose(int irq, uint64_t *addr, uint32_t *data);
int ppc64_msi_set_handler(int irq, ppc64_irq_fn fn, void *arg);
uint64_t ppc64_msi_count(int irq);
#endif
