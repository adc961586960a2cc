/*
 * Time from the ARMv8 generic timer: CNTVCT_EL0 (the virtual count, equal
 * to the physical one on virt since nothing sets an offset) at CNTFRQ_EL0
 * Hz is the monotonic clock; no calibration is needed.  The EL1 virtual
 * timer (CNTV, PPI from the DTB's "arm,armv8-timer", INTID 27) ticks at
 * TIMER_HZ through the GIC to wake WFI and run the tick hooks.  Without a
 * GIC there is no tick; hooks are then run from arch idle polling.
 */
#include <stdint.h>

#include "orion/timer.h"
#include "aarch64.h"

#define MAX_HOOKS 8

static uint64_t freq, entry_count, ticks, period;
static bool started;
static struct { void (*fn)(void *); void *arg; } hooks[MAX_HOOKS];
static unsigned nhooks;

static uint64_t count(void)
{
	isb();   /* CNTVCT reads may be speculated early without it */
	return sysreg_read(cntvct_el0);
}

static uint64_t to_ns(uint64_t c)
{
	if (!freq)
		return 0;
	return c / freq * 1000000000ull + c % freq * 1000000000ull / freq;
}

void timer_mark_entry(void)
{
	entry_count = count();
}

void timer_init(void)
{
	freq = sysreg_read(cntfrq_el0) & 0xffffffffu;
	if (!freq)
		freq = 62500000;   /* QEMU's default when firmware left it 0 */
}

uint64_t timer_ns(void) { return to_ns(count()); }
uint64_t timer_since_entry_ns(void) { return freq ? to_ns(count() - entry_count) : 0; }
uint64_t timer_tsc_hz(void) { return freq; }
uint64_t timer_ticks(void) { return ticks; }

void delay_ns(uint64_t ns)
{
	uint64_t end = timer_ns() + ns;
	while (timer_ns() < end)
		__asm__ volatile("yield");
}

void delay_us(uint64_t us) { delay_ns(us * 1000); }
void delay_ms(uint64_t ms) { delay_ns(ms * 1000000); }

int timer_add_tick_hook(void (*fn)(void *arg), void *arg)
{
	if (!fn || nhooks >= MAX_HOOKS)
		return -1;
	hooks[nhooks].arg = arg;
	hooks[nhooks].fn = fn;
	nhooks++;
	return 0;
}

void a64_timer_run_hooks(void);
void a64_timer_run_hooks(void)
{
	for (unsigned i = 0; i < nhooks; i++)
		hooks[i].fn(hooks[i].arg);
}

static void tick(void *arg)
{
	(void)arg;
	/* TVAL counts down from now; re-arming from the handler drifts by
	 * the handler's latency, which no user of the tick cares about. */
	sysreg_write(cntv_tval_el0, period);
	ticks++;
	a64_timer_run_hooks();
}

void timer_start_tick(void)
{
	if (started || !a64_plat.gic_version)
		return;
	period = freq / TIMER_HZ;
	a64_irq_register(a64_plat.timer_irq, tick, NULL);
	sysreg_write(cntv_tval_el0, period);
	sysreg_write(cntv_ctl_el0, 1);     /* ENABLE, IMASK clear */
	a64_irq_enable(a64_plat.timer_irq, true);
	started = true;
}
