/*
 * Ending the run.  QEMU's ppce500 has no debug-exit device, so:
 *   PASS: drive GPIO pin 0 high - the board's "gpio-poweroff" line
 *         (e500.c ppce500_power_off) - and QEMU exits with status 0.
 *   FAIL: pvpanic-pci (tests add -device pvpanic-pci and
 *         -action panic=exit-failure): writing PANICKED to its BAR makes
 *         QEMU exit with status 1.  Without that device the CPU stops in a
 *         wait loop, so a failure can never look like a pass.
 */
#include "e500.h"
#include "platform.h"
#include "orion/kprintf.h"

#define GPIO_GPDIR 0x00
#define GPIO_GPDAT 0x08
#define GPIO_PIN0  0x80000000u   /* pin 0 is the most significant bit */

uint64_t ppc64_pvpanic_base;     /* set by the PCI scan (pci_fsl.c) */

void ppc_poweroff(void)
{
	/* Direction first: QEMU drives an output line when GPDAT changes. */
	ppc_out32be(ppc64_plat.gpio + GPIO_GPDIR, GPIO_PIN0);
	ppc_out32be(ppc64_plat.gpio + GPIO_GPDAT, 0);
	ppc_out32be(ppc64_plat.gpio + GPIO_GPDAT, GPIO_PIN0);
	for (;;)
		__asm__ volatile("wait");
}

void ppc64_fatal(void)
{
	if (ppc64_pvpanic_base)
		ppc_out8(ppc64_pvpanic_base, 1);   /* PVPANIC_PANICKED */
	kprintf("orion: stopped (no pvpanic device to report FAIL)\n");
	for (;;)
		__asm__ volatile("wait");
}
