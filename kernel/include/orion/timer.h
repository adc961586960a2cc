/*
 * Time, architecture-neutral (core/time.c) over the arch's free-running
 * counter (arch_counter_read/arch_counter_hz in orion/arch.h: x86_64 the
 * TSC calibrated against the PIT).  timer_ns() is the monotonic clock
 * (nanoseconds since timer_init).  Boot-time figures printed for people
 * and scripts ("orion: boot ok (N ms)", "vnetN: up ... (N ms since kernel
 * entry)", uptime) all use timer_since_entry_ns(): one clock, counted from
 * the counter read first thing in orion_main.  The arch's periodic tick
 * (x86_64: the LAPIC timer on vector 0xf0) calls timer_tick() at TIMER_HZ
 * to wake the CPU from its idle wait and to run tick hooks; an arch
 * without one (poll mode) gets the hooks run from timer_poll_tick(), which
 * the idle and delay loops call.
 */
#ifndef ORION_TIMER_H
#define ORION_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define TIMER_HZ 100

void timer_mark_entry(void);    /* first thing in orion_main: the counter at kernel entry */
void timer_init(void);          /* arch_timer_init + the ns conversion */
void timer_start_tick(void);    /* arch_tick_start; after interrupts are on */
uint64_t timer_ns(void);        /* monotonic ns since timer_init */
uint64_t timer_since_entry_ns(void); /* ns since timer_mark_entry (0 before timer_init) */
uint64_t timer_counter_hz(void);     /* the arch counter's frequency */
bool timer_tick_running(void);       /* a tick interrupt drives timer_tick */
uint64_t timer_ticks(void);     /* ticks since timer_start_tick */
void delay_ns(uint64_t ns);     /* busy wait (cpu_relax) */
void delay_us(uint64_t us);
void delay_ms(uint64_t ms);
/* Run fn(arg) from the tick (interrupts off); up to 8 hooks.  0 or -1. */
int timer_add_tick_hook(void (*fn)(void *arg), void *arg);
/* Called by the arch's tick interrupt handler. */
void timer_tick(void);
/* Without a tick interrupt: run timer_tick() if a tick period passed since
 * the last one (interrupts are disabled around it); else nothing. */
void timer_poll_tick(void);

#endif
