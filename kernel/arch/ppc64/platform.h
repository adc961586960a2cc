/* What Orion takes from QEMU's ppce500 device tree (platform.c). */
#ifndef ORION_PPC64_PLATFORM_H
#define ORION_PPC64_PLATFORM_H

#include <stdint.h>
#include <stdbool.h>
#include "orion/fdt.h"

struct ppc64_platform {
	struct fdt fdt;
	bool fdt_ok;
	int fdt_err;               /* fdt_init's result */
	uint64_t ram_base, ram_size;
	uint32_t tb_hz;
	const char *bootargs;      /* "" if none */
	uint64_t uart;             /* NS16550 (CPU address) */
	uint64_t pci_regs;         /* fsl,mpc8540-pci host registers */
	uint64_t gpio;             /* fsl,qoriq-gpio (power-off line 0) */
	uint64_t mpic;             /* fsl,mpic */
	uint64_t guts;             /* fsl,mpc8544-guts (RSTCR) */
	unsigned uart_irq;         /* the UART's MPIC source, 0 = unknown */
	uint64_t initrd_start, initrd_end;
};

extern struct ppc64_platform ppc64_plat;

/* Parse the DTB QEMU passed in r3; keeps the board defaults (e500.h) for
 * anything missing.  Never fails: a bad DTB is reported later on the
 * console (fdt_ok false) and the defaults are used. */
void ppc64_platform_probe(const void *dtb);

#endif
