/*
 * Time on riscv64: the `time` CSR (rdtime), which OpenSBI/QEMU run at the
 * DTB's /cpus timebase-frequency (10 MHz on QEMU virt), is the monotonic
 * clock; the tick is the S-mode timer interrupt armed through SBI
 * set_timer (S-mode cannot write mtimecmp; with Sstc OpenSBI uses
 * stimecmp for us).  TIMER_HZ ticks run the tick hooks; set_timer also
 * clears the pending STIP, so each tick re-arms the next one at an
 * absolute time (no drift from handler latency).
 *
 * ns conversion: t / hz whole seconds plus the remainder, so nothing
 * overflows for centuries of uptime at any timebase below 2^32 Hz.
 */
#include <stdint.h>

#include "orion/timer.h"
#include "riscv.h"

static uint64_t timebase_hz, time_entry, tick_period, next_tick;
static volatile uint64_t ticks;
static struct {
	void (*fn)(void *);
	void *arg;
} hooks[8];

static inline uint64_t rdtime(void)
{
	uint64_t t;
	__asm__ volatile("rdtime %0" : "=r"(t));
	return t;
}

static uint64_t to_ns(uint64_t t)
{
	if (!timebase_hz)
		return 0;
	return (t / timebase_hz) * 1000000000ull + (t % timebase_hz) * 1000000000ull / timebase_hz;
}

void timer_mark_entry(void)
{
	time_entry = rdtime();
}

void rv_timer_setup(uint64_t hz)
{
	timebase_hz = hz;
}

void timer_init(void)
{
	/* Nothing to calibrate: the timebase comes from the DTB. */
}

uint64_t timer_ns(void)
{
	return to_ns(rdtime() - time_entry);
}

uint64_t timer_since_entry_ns(void)
{
	return to_ns(rdtime() - time_entry);
}

uint64_t timer_tsc_hz(void)
{
	return timebase_hz;
}

uint64_t timer_ticks(void)
{
	return ticks;
}

void delay_ns(uint64_t ns)
{
	uint64_t end = timer_ns() + ns;
	while (timer_ns() < end)
		__asm__ volatile("" ::: "memory");
}

void delay_us(uint64_t us) { delay_ns(us * 1000); }
void delay_ms(uint64_t ms) { delay_ns(ms * 1000000); }

int timer_add_tick_hook(void (*fn)(void *), void *arg)
{
	for (unsigned i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		if (!hooks[i].fn) {
			hooks[i].arg = arg;
			hooks[i].fn = fn;
			return 0;
		}
	}
	return -1;
}

void rv_timer_irq(void)
{
	uint64_t now = rdtime();
	/* Catch up without a storm: if we fell behind, the next tick is one
	 * period from now. */
	next_tick += tick_period;
	if (next_tick <= now)
		next_tick = now + tick_period;
	sbi_set_timer(next_tick);
	ticks++;
	for (unsigned i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++)
		if (hooks[i].fn)
			hooks[i].fn(hooks[i].arg);
}

void timer_start_tick(void)
{
	if (!timebase_hz)
		return;
	tick_period = timebase_hz / TIMER_HZ;
	next_tick = rdtime() + tick_period;
	sbi_set_timer(next_tick);
	csr_set(sie, SIE_STIE);
}
