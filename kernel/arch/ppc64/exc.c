/*
 * Exceptions: IVPR/IVOR0..15 point at boot.S's stubs; every one is fatal
 * (Orion polls, MSR[EE] stays 0), so the handler prints what happened and
 * ends the run with FAIL.
 */
#include "e500.h"
#include "exc.h"
#include "orion/kprintf.h"

extern char __ivpr_base[];
extern char ppc64_vec_0[], ppc64_vec_1[], ppc64_vec_2[], ppc64_vec_3[];
extern char ppc64_vec_4[], ppc64_vec_5[], ppc64_vec_6[], ppc64_vec_7[];
extern char ppc64_vec_8[], ppc64_vec_9[], ppc64_vec_10[], ppc64_vec_11[];
extern char ppc64_vec_12[], ppc64_vec_13[], ppc64_vec_14[], ppc64_vec_15[];

void ppc64_fatal(void) __attribute__((noreturn));
void ppc64_exception(unsigned long n, struct ppc64_regs *r);

static ppc64_exc_fn handlers[16];
/* entry.c arch_idle's wait instruction; bring-up builds define none. */
extern char ppc64_idle_wait[] __attribute__((weak));

void ppc64_exc_set_handler(unsigned n, ppc64_exc_fn fn)
{
	if (n >= 2 && n <= 14)
		handlers[n] = fn;
}

#define MFSPR(n) ({ uint64_t v_; __asm__ volatile("mfspr %0," #n : "=r"(v_)); v_; })
#define MTSPR(n, v) __asm__ volatile("mtspr " #n ",%0" : : "r"((uint64_t)(v)))

static const char *const exc_name[16] = {
	"critical input", "machine check", "data storage", "instruction storage",
	"external input", "alignment", "program", "floating-point unavailable",
	"system call", "auxiliary processor unavailable", "decrementer",
	"fixed-interval timer", "watchdog timer", "data TLB error",
	"instruction TLB error", "debug",
};

void ppc_exc_init(void)
{
	char *v[16] = {
		ppc64_vec_0, ppc64_vec_1, ppc64_vec_2, ppc64_vec_3, ppc64_vec_4,
		ppc64_vec_5, ppc64_vec_6, ppc64_vec_7, ppc64_vec_8, ppc64_vec_9,
		ppc64_vec_10, ppc64_vec_11, ppc64_vec_12, ppc64_vec_13,
		ppc64_vec_14, ppc64_vec_15,
	};
	uint64_t base = (uint64_t)__ivpr_base;

	MTSPR(63, base);   /* IVPR */
	MTSPR(400, (uint64_t)v[0] - base);
	MTSPR(401, (uint64_t)v[1] - base);
	MTSPR(402, (uint64_t)v[2] - base);
	MTSPR(403, (uint64_t)v[3] - base);
	MTSPR(404, (uint64_t)v[4] - base);
	MTSPR(405, (uint64_t)v[5] - base);
	MTSPR(406, (uint64_t)v[6] - base);
	MTSPR(407, (uint64_t)v[7] - base);
	MTSPR(408, (uint64_t)v[8] - base);
	MTSPR(409, (uint64_t)v[9] - base);
	MTSPR(410, (uint64_t)v[10] - base);
	MTSPR(411, (uint64_t)v[11] - base);
	MTSPR(412, (uint64_t)v[12] - base);
	MTSPR(413, (uint64_t)v[13] - base);
	MTSPR(414, (uint64_t)v[14] - base);
	MTSPR(415, (uint64_t)v[15] - base);
	__asm__ volatile("isync");
}

void ppc64_exception(unsigned long n, struct ppc64_regs *r)
{
	uint64_t pc = r->pc, msr = r->msr;

	/* An interrupt that arrived between arch_idle's wrteei and its wait
	 * resumes after the wait, so the idle caller re-checks for work. */
	if ((n == 4 || n == 10) && r->pc == (uint64_t)(uintptr_t)ppc64_idle_wait)
		r->pc += 4;
	if (n < 16 && handlers[n] && handlers[n](r))
		return;
	if (n == 0) {          /* critical class: CSRR0/1 */
		pc = MFSPR(58);
		msr = MFSPR(59);
	} else if (n == 1) {   /* machine check: MCSRR0/1 */
		pc = MFSPR(570);
		msr = MFSPR(571);
	} else if (n == 15) {  /* debug (e5500: DSRR0/1) */
		pc = MFSPR(574);
		msr = MFSPR(575);
	}
	kprintf("\nppc64: exception %lu (%s)\n", n, n < 16 ? exc_name[n] : "?");
	kprintf("  pc  %016llx msr %016llx lr  %016llx ctr %016llx\n", (unsigned long long)pc,
		(unsigned long long)msr, (unsigned long long)r->lr, (unsigned long long)r->ctr);
	kprintf("  cr  %08llx xer %08llx esr %08llx dear %016llx mcsr %08llx\n",
		(unsigned long long)r->cr, (unsigned long long)r->xer, (unsigned long long)MFSPR(62),
		(unsigned long long)MFSPR(61), (unsigned long long)MFSPR(572));
	for (unsigned i = 0; i < 32; i += 4)
		kprintf("  r%-2u %016llx %016llx %016llx %016llx\n", i, (unsigned long long)r->gpr[i],
			(unsigned long long)r->gpr[i + 1], (unsigned long long)r->gpr[i + 2],
			(unsigned long long)r->gpr[i + 3]);
	kprintf("PANIC: unhandled exception %lu (%s) at %#llx\n", n, n < 16 ? exc_name[n] : "?",
		(unsigned long long)pc);
	ppc64_fatal();
}
