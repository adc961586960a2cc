/*
 * Leaving the machine on riscv64 QEMU virt.
 *
 * The "sifive,test0" finisher (the DTB's test@100000 on virt): a 32-bit
 * write of 0x5555 exits QEMU with status 0, (s << 16) | 0x3333 exits with
 * status s, 0x7777 resets.  orion_exit(code) writes status (code << 1) | 1
 * — the same statuses x86's isa-debug-exit gives, PASS 0x10 -> 33 and
 * FAIL 0x11 -> 35 — so a test cannot mistake a plain power-off (status 0,
 * e.g. SBI SRST or a firmware that lost the kernel) for a pass.  Without a
 * finisher it falls back to SBI SRST (QEMU status 0), then parks the hart.
 * OpenSBI finds its own reset device in the same DTB (on virt that is the
 * finisher too), so a tree without one usually leaves SRST nothing to
 * call: the hart parks and a test's timeout ends QEMU (checked by hand
 * with a DTB stripped of test@100000: "no sifive,test0 finisher", then
 * the park).
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/power.h"
#include "riscv64/riscv.h"

__attribute__((noreturn)) void orion_halt(void)
{
	csr_clear(sstatus, SSTATUS_SIE);
	for (;;)
		rv_wfi();
}

__attribute__((noreturn)) void orion_exit(unsigned code)
{
	csr_clear(sstatus, SSTATUS_SIE);
	if (rv_plat.finisher_base) {
		uint32_t status = ((code << 1) | 1) & 0xffff;
		*(volatile uint32_t *)(uintptr_t)rv_plat.finisher_base = (status << 16) | 0x3333;
	}
	sbi_shutdown(code != ORION_EXIT_PASS);
	orion_halt();
}

__attribute__((noreturn)) void orion_poweroff(void)
{
	csr_clear(sstatus, SSTATUS_SIE);
	if (rv_plat.finisher_base)
		*(volatile uint32_t *)(uintptr_t)rv_plat.finisher_base = 0x5555;
	sbi_shutdown(false);
	orion_halt();
}

__attribute__((noreturn)) void orion_reboot(void)
{
	csr_clear(sstatus, SSTATUS_SIE);
	if (rv_plat.finisher_base)
		*(volatile uint32_t *)(uintptr_t)rv_plat.finisher_base = 0x7777;
	sbi_ecall(SBI_EXT_SRST, 0, 1, 0, 0);   /* cold reboot */
	orion_halt();
}
