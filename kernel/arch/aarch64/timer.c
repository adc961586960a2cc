/*
 * The ARMv8 generic timer (orion/arch.h time contract).  CNTVCT_EL0 (the
 * virtual count, equal to the physical one on virt: nothing sets an
 * offset, and boot.S zeroes CNTVOFF_EL2 when started at EL2) at
 * CNTFRQ_EL0 Hz is the free-running counter; no calibration is needed.
 * The EL1 virtual timer (CNTV, the DTB's "arm,armv8-timer" third
 * interrupt: PPI 11, INTID 27) ticks at TIMER_HZ and calls timer_tick().
 * Without a GIC there is no tick (arch_tick_start false: poll mode).
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/timer.h"
#include "aarch64/aarch64.h"

static uint64_t freq, period;

uint64_t arch_counter_read(void)
{
	isb();   /* without it the read may be taken early (ARM ARM D11.2.2) */
	return sysreg_read(cntvct_el0);
}

uint64_t arch_counter_hz(void) { return freq; }

void arch_timer_init(void)
{
	freq = sysreg_read(cntfrq_el0) & 0xffffffffu;
	if (!freq)
		freq = 62500000;   /* QEMU's value, should firmware have left it 0 */
}

static void tick(void *arg)
{
	(void)arg;
	/* TVAL counts down from now: re-arming here drifts by the handler's
	 * latency, which no user of the tick cares about. */
	sysreg_write(cntv_tval_el0, period);
	timer_tick();
}

bool arch_tick_start(void)
{
	if (!a64_plat.gic_version || !freq)
		return false;
	period = freq / TIMER_HZ;
	irq_register((int)a64_plat.timer_irq, tick, NULL);
	sysreg_write(cntv_tval_el0, period);
	sysreg_write(cntv_ctl_el0, 1);     /* ENABLE, IMASK clear */
	isb();
	a64_irq_enable(a64_plat.timer_irq, true);
	return true;
}
