/*
 * The tick from the Book E decrementer: DECAR auto-reload (TCR[ARE]),
 * interrupt enable TCR[DIE]; IVOR10 clears TSR[DIS] (write one) and calls
 * the tick function with MSR[EE] = 0.
 */
#include "e500.h"
#include "exc.h"
#include "mpic.h"
#include "timebase.h"

#define SPRN_DEC   22
#define SPRN_DECAR 54
#define SPRN_TSR   336
#define SPRN_TCR   340
#define TCR_DIE    0x04000000u
#define TCR_ARE    0x00400000u
#define TSR_DIS    0x08000000u

static void (*tick_fn)(void);
static volatile uint64_t ticks;

static int decrementer(struct ppc64_regs *r)
{
	(void)r;
	__asm__ volatile("mtspr 336,%0" : : "r"((uint64_t)TSR_DIS));
	ticks++;
	if (tick_fn)
		tick_fn();
	return 1;
}

void ppc64_tick_start(unsigned hz, void (*fn)(void))
{
	uint64_t period = ppc_tb_hz() / (hz ? hz : 100);
	uint64_t tcr;

	tick_fn = fn;
	ppc64_exc_set_handler(10, decrementer);
	__asm__ volatile("mtspr 54,%0; mtspr 22,%0" : : "r"(period));
	__asm__ volatile("mtspr 336,%0" : : "r"((uint64_t)TSR_DIS));
	__asm__ volatile("mfspr %0,340" : "=r"(tcr));
	tcr |= TCR_DIE | TCR_ARE;
	__asm__ volatile("mtspr 340,%0" : : "r"(tcr));
}

uint64_t ppc64_ticks(void)
{
	return ticks;
}
