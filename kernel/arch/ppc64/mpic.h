/*
 * Interrupts on ppce500: the Freescale MPIC (OpenPIC) for external
 * sources, the decrementer for the tick (mpic.c, tick.c).
 */
#ifndef ORION_PPC64_MPIC_H
#define ORION_PPC64_MPIC_H
#include <stdint.h>
#include <stdbool.h>

#define MPIC_MAX_SRC 256

typedef void (*ppc64_irq_fn)(void *arg);

void ppc64_mpic_init(uint64_t base);
/* Route MPIC source src (the DTB's interrupt number) to CPU 0 at the given
 * priority (1..15) with handler fn; level-sensitive unless edge.  Unmasked
 * on return.  Returns 0, or -1 (bad source or no MPIC). */
int ppc64_mpic_route(unsigned src, bool edge, unsigned prio, ppc64_irq_fn fn, void *arg);
void ppc64_mpic_mask(unsigned src, bool masked);
/* Replace the handler only (routing unchanged); 0 or -1 (bad source). */
int ppc64_mpic_set_handler(unsigned src, ppc64_irq_fn fn, void *arg);
/* Mask and activity (in service / pending) bits of a source. */
bool ppc64_mpic_state(unsigned src, bool *masked, bool *pending);
uint64_t ppc64_mpic_count(unsigned src);

/* Decrementer tick at hz, calling fn from the interrupt. */
void ppc64_tick_start(unsigned hz, void (*fn)(void));
uint64_t ppc64_ticks(void);

/* MSR[EE]. */
static inline unsigned long ppc64_irq_save(void)
{
	unsigned long msr;
	__asm__ volatile("mfmsr %0; wrteei 0" : "=r"(msr) : : "memory");
	return msr;
}
static inline void ppc64_irq_restore(unsigned long msr)
{
	__asm__ volatile("wrtee %0" : : "r"(msr) : "memory");
}
static inline void ppc64_irq_on(void)
{
	__asm__ volatile("wrteei 1" : : : "memory");
}
static inline bool ppc64_irq_enabled(void)
{
	unsigned long msr;
	__asm__ volatile("mfmsr %0" : "=r"(msr));
	return (msr & 0x8000) != 0;
}
#endif
