/*
 * x86_64 parts of the self-tests (orion/arch.h): exception dispatch with a
 * registered #UD handler, and an unhandled #UD for selftest=fault.
 *
 * ud2 rather than int3: some nested-KVM hosts intercept #BP and fail to
 * emulate it, and the test would then measure the host, not Orion.
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/kprintf.h"
#include "x86/irq.h"

static volatile int ud_seen;

static void ud_handler(void *frame)
{
	struct regs *r = frame;
	/* #UD is a fault: RIP points at the ud2; resume after its 2 bytes. */
	r->rip += 2;
	ud_seen++;
}

int arch_selftest_exception(void)
{
	irq_register(6, ud_handler, NULL);
	__asm__ volatile("ud2" ::: "memory");
	irq_unregister(6);
	if (ud_seen != 1) {
		kprintf("selftest: FAIL #UD handler ran %d times\n", ud_seen);
		return -1;
	}
	kprintf("selftest: exception dispatch ok\n");
	return 0;
}

void arch_raise_fault(void)
{
	__asm__ volatile("ud2" ::: "memory");
}
