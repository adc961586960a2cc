/*
 * riscv64 CPU primitives of orion/arch.h: sstatus.SIE as the interrupt
 * flag, the WFI idle wait, the frame-pointer backtrace, the exception
 * self-tests.
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/kprintf.h"
#include "riscv64/riscv.h"

unsigned long irq_save(void)
{
	return csr_read_clear(sstatus, SSTATUS_SIE) & SSTATUS_SIE;
}

void irq_restore(unsigned long f)
{
	if (f & SSTATUS_SIE)
		csr_set(sstatus, SSTATUS_SIE);
}

bool irq_enabled(void) { return (csr_read(sstatus) & SSTATUS_SIE) != 0; }
void irq_enable(void) { csr_set(sstatus, SSTATUS_SIE); }
void irq_disable(void) { csr_clear(sstatus, SSTATUS_SIE); }

/* Zihintpause's PAUSE is a FENCE hint, but gcc 12 does not take
 * "pause" under -march=rv64imac; a plain compiler barrier serves. */
void cpu_relax(void) { __asm__ volatile("" ::: "memory"); }

/*
 * WFI with SIE clear still wakes when an interrupt enabled in sie becomes
 * pending (privileged spec 1.12 §3.3.3, "the hart resumes ... even if
 * the global interrupt enable is off"), so the check the caller made
 * with interrupts off and this wait cannot lose a wake-up: the interrupt
 * is taken as soon as SIE is set.
 */
void arch_idle(void)
{
	rv_wfi();
	csr_set(sstatus, SSTATUS_SIE);
}

/* The S-timer tick always exists (SBI TIME); without a PLIC the devices
 * are polled, which the common code learns from arch_irq_line_attach. */
bool arch_has_irqs(void) { return true; }

/* With -fno-omit-frame-pointer the RISC-V frame record sits just below
 * the frame pointer: fp[-1] = return address, fp[-2] = caller's fp. */
void arch_backtrace(void)
{
	extern char rv_boot_stack[], rv_boot_stack_top[];
	const uintptr_t lo = (uintptr_t)rv_boot_stack, hi = (uintptr_t)rv_boot_stack_top;
	const uint64_t *fp = __builtin_frame_address(0);
	for (int i = 0; i < 16; i++) {
		uintptr_t a = (uintptr_t)fp;
		if (a & 7 || a <= lo + 16 || a > hi)
			break;
		kprintf(" %#lx", fp[-1]);
		fp = (const uint64_t *)(uintptr_t)fp[-2];
	}
}

/* Bare mode: every physical address is reachable as is (Sv39-sized
 * bound: RAM, the PCI windows up to 32 GiB, everything QEMU virt has). */
uint64_t arch_phys_limit(void) { return 1ull << 39; }

static volatile unsigned breakpoints;

static bool breakpoint_hook(struct rv_frame *f)
{
	if (f->scause != EXC_BREAKPOINT)
		return false;
	breakpoints++;
	/* Skip the ebreak: 2 bytes if compressed (low bits != 11), else 4. */
	f->sepc += ((*(const uint16_t *)f->sepc & 3) == 3) ? 4 : 2;
	return true;
}

int arch_selftest_exception(void)
{
	unsigned before = breakpoints;
	rv_set_exception_hook(breakpoint_hook);
	__asm__ volatile("ebreak" ::: "memory");
	rv_set_exception_hook(NULL);
	if (breakpoints != before + 1) {
		kprintf("selftest: ebreak did not reach the exception hook\n");
		return -1;
	}
	kprintf("selftest: exception dispatch ok (ebreak caught, execution resumed)\n");
	return 0;
}

void arch_raise_fault(void)
{
	/* A load from address 8: no PMA covers it on QEMU virt, so the hart
	 * takes a load access fault (scause 5). */
	uintptr_t bad = 8;
	__asm__ volatile("" : "+r"(bad));
	(void)*(volatile uint32_t *)bad;
}
