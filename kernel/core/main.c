/*
 * kmain: bring the kernel up in dependency order, then run a self-test or
 * the shell.
 *
 *   serial -> cmdline (copied out of multiboot memory) -> GDT/TSS -> IDT
 *   -> page allocator -> heap -> ACPI -> TSC calibration -> LAPIC/IOAPIC
 *   (PIC masked) -> interrupts on -> LAPIC tick -> serial RX IRQ -> PCI
 *   scan -> late-init hook -> "orion: boot ok" -> selftest=NAME or shell.
 */
#include <stdint.h>

#include "orion/acpi.h"
#include "orion/cmdline.h"
#include "orion/io.h"
#include "orion/irq.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/mm.h"
#include "orion/multiboot.h"
#include "orion/pci.h"
#include "orion/power.h"
#include "orion/selftest.h"
#include "orion/serial.h"
#include "orion/shell.h"
#include "orion/timer.h"

void kmain(uint32_t magic, uint32_t mbi_pa);

__attribute__((weak)) void orion_late_init(void);
extern const uint64_t boot_pdpt[512];

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

void kmain(uint32_t magic, uint32_t mbi_pa)
{
	const struct multiboot_info *mbi = (const struct multiboot_info *)(uintptr_t)mbi_pa;

	timer_mark_entry();   /* the clock of "boot ok" and "vnetN: up" (timer.h) */
	serial_init();
	kprintf("\norion: Orion test kernel (orion-vnet), x86_64\n");
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
		panic("not started by a multiboot loader (magic %#x)", magic);
	cmdline_init((mbi->flags & MB_INFO_CMDLINE) ? (const char *)(uintptr_t)mbi->cmdline : "");
	kprintf("orion: cmdline '%s'\n", cmdline_raw());

	kprintf("orion: identity map 0-64 GiB with %s pages\n",
		(boot_pdpt[0] & 0x80) ? "1 GiB" : "2 MiB");
	gdt_init();
	idt_init();
	pmm_init(mbi);   /* last use of the multiboot data */
	mbi = NULL;
	acpi_init();
	timer_init();
	apic_init();
	cpu_sti();
	timer_start_tick();
	serial_enable_irq();
	pci_init();
	pci_print(false);
	report_virtio_net();
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
}
