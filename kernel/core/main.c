/*
 * orion_main: the common kernel entry (orion/arch.h), called by the arch's
 * boot code with the boot information; brings the kernel up in dependency
 * order, then runs a self-test or the shell.
 *
 *   counter at entry -> console -> cmdline (copied out of loader memory)
 *   -> arch CPU init (exceptions) -> page allocator -> heap -> arch
 *   platform (firmware tables) -> timer -> interrupt controller ->
 *   interrupts on -> tick -> console RX interrupt -> PCI scan -> arch
 *   devices (virtio-mmio windows) -> late-init hook -> "orion: boot ok"
 *   -> selftest=NAME or shell.
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/cmdline.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/mm.h"
#include "orion/pci.h"
#include "orion/power.h"
#include "orion/selftest.h"
#include "orion/serial.h"
#include "orion/shell.h"
#include "orion/timer.h"

__attribute__((weak)) void orion_late_init(void);

static void report_virtio_net(void)
{
	for (unsigned i = 0; i < pci_count(); i++) {
		const struct pci_dev *d = pci_get(i);
		if (d->vendor != 0x1af4 || (d->device != 0x1000 && d->device != 0x1041))
			continue;
		kprintf("orion: virtio-net %s %04x:%04x %s\n", d->name, d->vendor, d->device,
			d->device == 0x1041 ? "modern" : "transitional");
	}
}

void orion_main(const struct orion_boot_info *bi)
{
	timer_mark_entry();   /* the clock of "boot ok" and "vnetN: up" (timer.h) */
	serial_init();
	kprintf("\norion: Orion test kernel (orion-vnet), %s\n", bi->arch);
	cmdline_init(bi->cmdline ? bi->cmdline : "");
	kprintf("orion: cmdline '%s'\n", cmdline_raw());

	arch_cpu_init(bi);
	pmm_init(bi);   /* last use of the loader's memory map */
	kconfig_init(bi);   /* the initrd's configuration file under the command line */
	arch_platform_init();
	timer_init();
	arch_irq_init();
	irq_enable();
	timer_start_tick();
	serial_enable_irq();
	pci_init();
	pci_print(false);
	report_virtio_net();
	arch_devices_init();
	shell_builtins_init();
	selftest_builtins_init();
	if (orion_late_init)
		orion_late_init();

	kprintf("orion: boot ok (%lu ms, %lu MiB free)\n", timer_since_entry_ns() / 1000000,
		pmm_free_pages() * PAGE_SIZE >> 20);

	const char *t = cmdline_get("selftest");
	if (t) {
		int r = selftest_run(t);
		kprintf("orion: selftest %s %s\n", t, r == 0 ? "PASS" : "FAIL");
		orion_exit(r == 0 ? ORION_EXIT_PASS : ORION_EXIT_FAIL);
	}
	shell_run();
	orion_halt();
}
