/*
 * a64_entry: the C side of boot.S, with the MMU off.  Order matters:
 * the DTB first (it says where the console is), the console (so every
 * later failure is visible), the identity map and caches, exception
 * vectors, the GIC, then the generic timer.  Interrupts stay masked; the
 * common kernel unmasks them when it is ready.
 */
#include <stdint.h>

#include "orion/kprintf.h"
#include "orion/serial.h"
#include "orion/timer.h"
#include "aarch64.h"

void a64_entry(uint64_t x0);
void a64_bringup_main(void);

void a64_entry(uint64_t x0)
{
	timer_mark_entry();
	a64_platform_init(x0);
	serial_init();
	kprintf("\norion: Orion test kernel (orion-vnet), aarch64\n");
	if (!a64_have_fdt)
		kprintf("aarch64: no device tree at x0 %#lx or 0x40000000: console only\n", x0);
	a64_mmu_init();
	a64_exceptions_init();
	a64_gic_init();
	timer_init();
	kprintf("aarch64: DTB %#lx (%u bytes), RAM %#lx+%#lx, GICv%d, PL011 %#lx irq %u, "
		"timer %lu Hz irq %u, PSCI %s\n",
		a64_plat.dtb_pa, a64_plat.dtb_size, a64_plat.ram_base, a64_plat.ram_size,
		a64_plat.gic_version, a64_plat.uart_base, a64_plat.uart_irq, timer_tsc_hz(),
		a64_plat.timer_irq, a64_plat.psci ? (a64_plat.psci_smc ? "smc" : "hvc") : "none");
	a64_bringup_main();
}
