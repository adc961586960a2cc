/*
 * Exception handling at EL1: the vector table (vectors.S) calls
 * a64_exception() with the saved frame.  IRQs go to the GIC dispatcher.
 * A synchronous exception is fatal (register dump, then panic, which
 * exits FAIL during a self-test), except one: the semihosting HLT of
 * a64_semihost_exit() traps as "unknown reason" when QEMU runs without
 * -semihosting; it is skipped and a64_semihost_exit() falls back to PSCI.
 */
#include <stdint.h>

#include "orion/kprintf.h"
#include "aarch64.h"

extern char a64_vectors[];

/* HLT #0xF000, the A64 semihosting trap. */
#define INSN_HLT_SEMIHOST 0xd45e0000u
#define ESR_EC(esr) (((esr) >> 26) & 0x3f)

bool a64_semihost_missing;

static const char *ec_name(unsigned ec)
{
	switch (ec) {
	case 0x00: return "unknown (undefined instruction)";
	case 0x07: return "FP/SIMD access";
	case 0x15: return "SVC";
	case 0x18: return "system register trap";
	case 0x20: case 0x21: return "instruction abort";
	case 0x22: return "PC alignment";
	case 0x24: case 0x25: return "data abort";
	case 0x26: return "SP alignment";
	case 0x3c: return "BRK";
	}
	return "other";
}

static void dump(const struct a64_frame *f)
{
	static const char *kinds[] = { "synchronous", "IRQ", "FIQ", "SError", "unexpected vector" };
	unsigned ec = ESR_EC(f->esr);
	kprintf("\naarch64: %s exception: ESR %#lx (EC %#x %s) FAR %#lx ELR %#lx SPSR %#lx\n",
		kinds[f->kind <= A64_EXC_BAD ? f->kind : A64_EXC_BAD], f->esr, ec, ec_name(ec),
		f->far, f->elr, f->spsr);
	for (unsigned i = 0; i < 31; i += 2) {
		if (i + 1 < 31)
			kprintf("  x%-2u %016lx  x%-2u %016lx\n", i, f->x[i], i + 1, f->x[i + 1]);
		else
			kprintf("  x%-2u %016lx  sp  %016lx\n", i, f->x[i],
				(uint64_t)(uintptr_t)f + A64_FRAME_SIZE);
	}
}

void a64_exception(struct a64_frame *f);
void a64_exception(struct a64_frame *f)
{
	if (f->kind == A64_EXC_IRQ) {
		a64_gic_handle();
		return;
	}
	if (f->kind == A64_EXC_SYNC && ESR_EC(f->esr) == 0 &&
	    *(const uint32_t *)(uintptr_t)f->elr == INSN_HLT_SEMIHOST) {
		a64_semihost_missing = true;
		f->elr += 4;
		return;
	}
	dump(f);
	panic("unhandled aarch64 exception");
}

void a64_exceptions_init(void)
{
	sysreg_write(vbar_el1, (uint64_t)(uintptr_t)a64_vectors);
	isb();
}
