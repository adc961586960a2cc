/*
 * riscv64 time (orion/arch.h): the `time` CSR (rdtime) is the counter, at
 * the DTB's /cpus timebase-frequency (10 MHz on QEMU virt); the tick is
 * the S-mode timer interrupt armed through SBI set_timer (S-mode cannot
 * write mtimecmp; with Sstc OpenSBI uses stimecmp on our behalf).
 * set_timer also clears the pending STIP, and each tick re-arms at an
 * absolute time, so handler latency does not make the tick drift.  The ns
 * conversion and the tick hooks are common (core/time.c).
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/kprintf.h"
#include "orion/timer.h"
#include "riscv64/riscv.h"

static uint64_t tick_period, next_tick;

uint64_t arch_counter_read(void)
{
	uint64_t t;
	__asm__ volatile("rdtime %0" : "=r"(t));
	return t;
}

uint64_t arch_counter_hz(void)
{
	return rv_plat.timebase_hz;
}

void arch_timer_init(void)
{
	/* Nothing to calibrate: the frequency is the DTB's (entry.c). */
	if (!rv_plat.timebase_hz)
		panic("riscv64: the device tree gives no /cpus timebase-frequency");
}

void rv_timer_irq(void)
{
	uint64_t now = arch_counter_read();
	/* Behind by more than a period (a long interrupts-off stretch): the
	 * next tick is one period from now rather than a burst of catch-ups. */
	next_tick += tick_period;
	if (next_tick <= now)
		next_tick = now + tick_period;
	sbi_set_timer(next_tick);
	timer_tick();
}

bool arch_tick_start(void)
{
	tick_period = rv_plat.timebase_hz / TIMER_HZ;
	if (!tick_period)
		return false;
	next_tick = arch_counter_read() + tick_period;
	sbi_set_timer(next_tick);
	csr_set(sie, SIE_STIE);
	return true;
}
