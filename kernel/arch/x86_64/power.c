/*
 * x86_64 exit, power-off, reboot and halt (orion/arch.h; exit codes in
 * orion/power.h).  orion_exit writes the code to the isa-debug-exit port.
 *
 * Power-off order: ACPI S5 through the FADT's PM1a control block with the
 * DSDT's \_S5 SLP_TYPa (QEMU's PIIX4 and ICH9 both treat sleep type 0 as
 * "soft off"), then the fixed ports QEMU configurations use for PM1a_CNT:
 * 0x604 (SeaBIOS sets PMBASE 0x600 on pc and q35) and 0xB004 (QEMU before
 * 2.0 on pc).  If all fail the CPU halts.
 */
#include <stdint.h>

#include "x86/acpi.h"
#include "x86/io.h"
#include "orion/kprintf.h"
#include "orion/power.h"
#include "orion/timer.h"

#define SLP_EN (1u << 13)
#define DEBUG_EXIT_PORT 0xf4

void orion_halt(void)
{
	for (;;) {
		cpu_cli();
		cpu_hlt();
	}
}

void orion_poweroff(void)
{
	const struct acpi_info *a = acpi_get();

	cpu_cli();
	if (a && a->pm1a_cnt) {
		outw(a->pm1a_cnt, (uint16_t)((a->slp_typ_s5 & 7) << 10) | SLP_EN);
		delay_ms(50);
	}
	outw(0x604, SLP_EN);
	delay_ms(50);
	outw(0xB004, SLP_EN);
	delay_ms(50);
	kprintf("orion: power-off failed, halting\n");
	orion_halt();
}

void orion_exit(unsigned code)
{
	outl(DEBUG_EXIT_PORT, code);
	/* Still here: no isa-debug-exit device. */
	orion_poweroff();
}

void orion_reboot(void)
{
	cpu_cli();
	/* Keyboard controller pulse reset: wait for the input buffer first. */
	for (unsigned i = 0; i < 100000 && (inb(0x64) & 2); i++)
		cpu_relax();
	outb(0x64, 0xfe);
	delay_ms(50);
	/* PIIX/ICH reset control register: full reset. */
	outb(0xcf9, 0x02);
	outb(0xcf9, 0x06);
	delay_ms(50);
	/* Triple fault: an empty IDT and an exception. */
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) none = { 0, 0 };
	__asm__ volatile("lidt %0; int3" : : "m"(none));
	orion_halt();
}
