/*
 * Trap dispatch (S-mode, stvec direct): interrupts by cause — S-timer to
 * the tick, S-external to the PLIC, S-software cleared — and exceptions to
 * the self-test hook or a register dump and panic (whose backtrace runs
 * through rv_trap's frame record into the interrupted code's chain).
 *
 * Interrupts run with SIE clear (the hart cleared it on entry, sret
 * restores it from SPIE): handlers never nest.  An exception inside a
 * handler is dumped like any other.
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/kprintf.h"
#include "riscv64/riscv.h"

static bool (*exception_hook)(struct rv_frame *f);
static uint64_t intr_count[16];

static const char *const exc_names[] = {
	[0] = "instruction address misaligned",
	[1] = "instruction access fault",
	[2] = "illegal instruction",
	[3] = "breakpoint",
	[4] = "load address misaligned",
	[5] = "load access fault",
	[6] = "store/AMO address misaligned",
	[7] = "store/AMO access fault",
	[8] = "environment call from U-mode",
	[9] = "environment call from S-mode",
	[12] = "instruction page fault",
	[13] = "load page fault",
	[15] = "store/AMO page fault",
};

const char *rv_exception_name(unsigned long code)
{
	if (code < sizeof(exc_names) / sizeof(exc_names[0]) && exc_names[code])
		return exc_names[code];
	return "reserved";
}

void rv_set_exception_hook(bool (*fn)(struct rv_frame *f))
{
	exception_hook = fn;
}

uint64_t rv_intr_count(unsigned cause)
{
	return cause < 16 ? intr_count[cause] : 0;
}

static void dump(const struct rv_frame *f)
{
	static const char *const abi[32] = {
		"zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
		"a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
	};
	kprintf("sepc %016lx stval %016lx scause %016lx sstatus %016lx\n", f->sepc, f->stval, f->scause,
		f->sstatus);
	for (unsigned i = 1; i < 32; i++)
		kprintf("%4s %016lx%s", abi[i], f->x[i], i % 4 == 3 ? "\n" : "  ");
	kprintf("\n");
}

void rv_trap(struct rv_frame *f)
{
	unsigned long cause = f->scause;
	if (cause & SCAUSE_INTR) {
		unsigned long code = cause & ~SCAUSE_INTR;
		if (code < 16)
			intr_count[code]++;
		switch (code) {
		case IRQ_S_TIMER:
			rv_timer_irq();
			return;
		case IRQ_S_EXT:
			plic_dispatch();
			return;
		case IRQ_S_SOFT:
			csr_clear(sip, SIE_SSIE);
			return;
		default:
			/* Not enabled by us; mask it so it cannot storm. */
			csr_clear(sie, 1ul << code);
			return;
		}
	}
	if (exception_hook && exception_hook(f))
		return;
	kprintf("\nEXCEPTION %lu (%s) at sepc %#lx\n", cause, rv_exception_name(cause), f->sepc);
	dump(f);
	panic("unhandled exception %lu (%s) at %#lx, stval %#lx", cause, rv_exception_name(cause), f->sepc,
	      f->stval);
}
