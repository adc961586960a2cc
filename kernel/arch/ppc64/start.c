/*
 * C entry from boot.S: 64-bit mode, stack, BSS and TOC are set.  Maps the
 * devices (TLB1), installs the exception vectors, reads the DTB, brings
 * the console up and starts the timebase clock, then hands over.
 */
#include "e500.h"
#include "platform.h"
#include "timebase.h"
#include "orion/serial.h"

void ppc64_start(void *dtb, unsigned long magic);
void ppc64_arch_main(void *dtb, unsigned long magic);   /* the kernel (or bring-up) */

void ppc64_start(void *dtb, unsigned long magic)
{
	ppc_mmu_init();
	ppc_exc_init();
	ppc64_platform_probe(dtb);
	serial_init();
	ppc_tb_init(ppc64_plat.tb_hz);
	ppc64_arch_main(dtb, magic);
	ppc_poweroff();
}
