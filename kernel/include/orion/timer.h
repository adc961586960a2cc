/*
 * Time.  The TSC, calibrated against PIT channel 2 at boot, gives the
 * monotonic clock (nanoseconds since calibration).  Boot-time figures
 * printed for people and scripts ("orion: boot ok (N ms)", "vnetN: up ...
 * (N ms since kernel entry)", uptime) all use timer_since_entry_ns(): one
 * clock, counted from the TSC read first thing in kmain.  The LAPIC timer,
 * calibrated against the TSC, ticks at TIMER_HZ on vector 0xf0 to wake
 * the CPU from HLT and to run tick hooks.
 */
#ifndef ORION_TIMER_H
#define ORION_TIMER_H

#include <stdint.h>

#define TIMER_HZ 100

void timer_mark_entry(void);    /* first thing in kmain: the TSC of kernel entry */
void timer_init(void);          /* TSC calibration; before apic_init */
void timer_start_tick(void);    /* LAPIC periodic timer; after apic_init */
uint64_t timer_ns(void);        /* monotonic ns since boot calibration */
uint64_t timer_since_entry_ns(void); /* ns since timer_mark_entry (0 before timer_init) */
uint64_t timer_tsc_hz(void);
uint64_t timer_ticks(void);     /* LAPIC ticks since timer_start_tick */
void delay_ns(uint64_t ns);     /* busy wait (PAUSE) */
void delay_us(uint64_t us);
void delay_ms(uint64_t ms);
/* Run fn(arg) from the tick interrupt; up to 8 hooks.  0 or -1. */
int timer_add_tick_hook(void (*fn)(void *arg), void *arg);

#endif
