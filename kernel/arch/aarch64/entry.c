/*
 * a64_entry: the C side of boot.S, still with the MMU off (hence
 * -mstrict-align, see boot.S).  It finds the device tree, builds the
 * identity map and turns the MMU and caches on, turns the tree into a
 * struct orion_boot_info, and calls the common orion_main().
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/fdt.h"
#include "aarch64/aarch64.h"

__attribute__((noreturn)) void a64_entry(uint64_t x0);

static struct orion_boot_info boot_info;

static void add(struct orion_mem_range *r, unsigned *n, uint64_t base, uint64_t len)
{
	if (len && *n < ORION_BOOT_MAX_RANGES)
		r[(*n)++] = (struct orion_mem_range){ base, len };
}

void a64_entry(uint64_t x0)
{
	struct orion_boot_info *bi = &boot_info;

	a64_platform_init(x0);
	a64_mmu_init();
	bi->arch = "aarch64";
	bi->cmdline = a64_plat.bootargs ? a64_plat.bootargs : "";
	if (a64_have_fdt) {
		bi->dtb = (const void *)(uintptr_t)a64_plat.dtb_pa;
		uint64_t b, s;
		for (unsigned i = 0; fdt_memory(&a64_fdt, i, &b, &s) == FDT_OK; i++)
			add(bi->ram, &bi->nram, b, s);
		/* The blob itself (cmdline points into it until cmdline_init
		 * copies it) and the memory reservation block. */
		add(bi->reserved, &bi->nreserved, a64_plat.dtb_pa, a64_plat.dtb_size);
		for (unsigned i = 0; fdt_reserved(&a64_fdt, i, &b, &s) == FDT_OK; i++)
			add(bi->reserved, &bi->nreserved, b, s);
		uint64_t is, ie;
		if (fdt_initrd(&a64_fdt, &is, &ie) == FDT_OK && ie > is) {
			bi->initrd_base = is;
			bi->initrd_len = ie - is;
		}
	}
	/* Without a tree arch_cpu_init reports it once the console is up. */
	orion_main(bi);
}
