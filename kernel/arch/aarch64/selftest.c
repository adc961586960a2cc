/*
 * aarch64 parts of the self-tests (orion/arch.h): a BRK caught by a
 * registered synchronous-exception hook and resumed after, and an
 * undefined instruction nobody handles for selftest=fault.
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/kprintf.h"
#include "aarch64/aarch64.h"

#define BRK_SELFTEST 0x4f

static volatile int brk_seen;
static volatile uint64_t brk_imm;

static bool brk_handler(struct a64_frame *f)
{
	/* BRK is reported with ELR at the BRK itself; ISS holds the immediate. */
	brk_imm = f->esr & 0xffff;
	f->elr += 4;
	brk_seen++;
	return true;
}

int arch_selftest_exception(void)
{
	a64_brk_hook = brk_handler;
	__asm__ volatile("brk #0x4f" ::: "memory");
	a64_brk_hook = NULL;
	if (brk_seen != 1 || brk_imm != BRK_SELFTEST) {
		kprintf("selftest: FAIL BRK handler ran %d times (immediate %#lx)\n", brk_seen, brk_imm);
		return -1;
	}
	kprintf("selftest: exception dispatch ok\n");
	return 0;
}

void arch_raise_fault(void)
{
	__asm__ volatile("udf #0" ::: "memory");
}
