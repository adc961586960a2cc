/*
 * C entry from boot.S: 64-bit mode, stack, BSS and TOC are set.  Maps the
 * devices (TLB1), installs the exception vectors (so a fault this early
 * still ends the run with FAIL; arch_cpu_init installs them again), reads
 * the DTB and starts the timebase clock, then hands over to
 * ppc64_arch_main: entry.c in the kernel (the console comes up in
 * orion_main), bringup/main.c in the bring-up build.
 */
#include "e500.h"
#include "platform.h"
#include "timebase.h"

void ppc64_start(void *dtb, unsigned long magic);
void ppc64_arch_main(void *dtb, unsigned long magic);   /* the kernel (or bring-up) */

void ppc64_start(void *dtb, unsigned long magic)
{
	ppc_mmu_init();
	ppc_exc_init();
	ppc64_platform_probe(dtb);
	ppc_tb_init(ppc64_plat.tb_hz);
	ppc64_arch_main(dtb, magic);
	ppc_poweroff();
}
