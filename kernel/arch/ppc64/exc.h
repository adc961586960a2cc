/* The context boot.S saves on every exception (layout fixed by boot.S). */
#ifndef ORION_PPC64_EXC_H
#define ORION_PPC64_EXC_H
#include <stdint.h>

struct ppc64_regs {
	uint64_t gpr[32];
	uint64_t cr, lr, ctr, xer;
	uint64_t pc, msr;       /* SRR0/SRR1 (resume address and MSR) */
	uint64_t vec;           /* IVOR number */
	uint64_t pad;
};
_Static_assert(sizeof(struct ppc64_regs) == 8 * 40, "boot.S FRAME");

/*
 * A handler for IVOR n (2..14; the critical/machine-check/debug classes
 * are always fatal): return true if it handled the exception (the context,
 * perhaps with pc advanced, is resumed), false to fall through to the dump.
 */
typedef int (*ppc64_exc_fn)(struct ppc64_regs *r);
void ppc64_exc_set_handler(unsigned n, ppc64_exc_fn fn);

#endif
