/*
 * Time keeping over the arch counter, tick hooks (see timer.h).
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/timer.h"

__extension__ typedef unsigned __int128 u128;

static uint64_t c0, ns_mult;   /* ns = ((counter - c0) * ns_mult) >> 32 */
static uint64_t c_entry;       /* kernel entry (timer_mark_entry) */
static uint64_t hz;
static bool tick_running, poll_ticks;
static volatile uint64_t ticks;
static uint64_t next_poll_ns;
static struct {
	void (*fn)(void *);
	void *arg;
} hooks[8];

void timer_mark_entry(void)
{
	c_entry = arch_counter_read();
}

void timer_init(void)
{
	arch_timer_init();
	hz = arch_counter_hz();
	if (!hz)
		hz = 1000000000ull;   /* the arch said nothing: better a wrong clock than none */
	ns_mult = (1000000000ull << 32) / hz;   /* fits: 10^9 * 2^32 < 2^64 */
	c0 = arch_counter_read();
}

uint64_t timer_ns(void)
{
	return (uint64_t)(((u128)(arch_counter_read() - c0) * ns_mult) >> 32);
}

uint64_t timer_since_entry_ns(void)
{
	/* ns_mult is 0 until calibration: report 0 rather than a guess. */
	return (uint64_t)(((u128)(arch_counter_read() - c_entry) * ns_mult) >> 32);
}

uint64_t timer_counter_hz(void) { return hz; }
bool timer_tick_running(void) { return tick_running; }
uint64_t timer_ticks(void) { return ticks; }

void delay_ns(uint64_t ns)
{
	uint64_t end = timer_ns() + ns;
	while (timer_ns() < end) {
		cpu_relax();
		timer_poll_tick();
	}
}

void delay_us(uint64_t us) { delay_ns(us * 1000); }
void delay_ms(uint64_t ms) { delay_ns(ms * 1000000); }

int timer_add_tick_hook(void (*fn)(void *), void *arg)
{
	for (unsigned i = 0; i < 8; i++) {
		if (!hooks[i].fn) {
			unsigned long f = irq_save();
			hooks[i].arg = arg;
			hooks[i].fn = fn;
			irq_restore(f);
			return 0;
		}
	}
	return -1;
}

void timer_tick(void)
{
	ticks++;
	for (unsigned i = 0; i < 8; i++)
		if (hooks[i].fn)
			hooks[i].fn(hooks[i].arg);
}

void timer_start_tick(void)
{
	tick_running = arch_tick_start();
	poll_ticks = !tick_running;
}

void timer_poll_tick(void)
{
	if (!poll_ticks)
		return;
	uint64_t now = timer_ns();
	if (now < next_poll_ns)
		return;
	unsigned long f = irq_save();
	if (now >= next_poll_ns) {   /* re-checked under the lock */
		next_poll_ns = now + 1000000000ull / TIMER_HZ;
		timer_tick();
	}
	irq_restore(f);
}
