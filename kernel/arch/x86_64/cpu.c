/*
 * x86_64 CPU primitives of orion/arch.h: the interrupt flag, PAUSE, the
 * "sti; hlt" idle wait and the frame-pointer backtrace.
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/kprintf.h"
#include "x86/io.h"

#define RFLAGS_IF (1u << 9)

unsigned long irq_save(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(f) : : "memory");
	return f;
}

void irq_restore(unsigned long f)
{
	if (f & RFLAGS_IF)
		cpu_sti();
}

bool irq_enabled(void) { return (read_rflags() & RFLAGS_IF) != 0; }
void irq_enable(void) { cpu_sti(); }
void irq_disable(void) { cpu_cli(); }
void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
/* STI's one-instruction shadow makes the check-then-wait atomic. */
void arch_idle(void) { cpu_sti_hlt(); }
bool arch_has_irqs(void) { return true; }

/* rbp chain: [rbp] = caller's rbp, [rbp + 8] = return address.  The
 * frames live on the boot stack inside the kernel image. */
void arch_backtrace(void)
{
	const uint64_t *fp = __builtin_frame_address(0);
	for (int i = 0; i < 16 && fp; i++) {
		uint64_t a = (uint64_t)(uintptr_t)fp;
		if (a & 7 || a < 0x100000 || a >= (4ull << 30))
			break;
		kprintf(" %#lx", fp[1]);
		fp = (const uint64_t *)(uintptr_t)fp[0];
	}
}

/* boot.S maps 0-64 GiB (RAM, LAPIC/IOAPIC, 64-bit BARs above 4 GiB). */
uint64_t arch_phys_limit(void) { return 64ull << 30; }
