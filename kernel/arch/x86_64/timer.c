/*
 * x86_64 time: the TSC is the arch counter, the LAPIC timer the tick
 * (orion/arch.h arch_counter_*, arch_timer_init, arch_tick_start; the
 * common clock and tick hooks are core/time.c).
 *
 * The PIT runs at 1.193182 MHz whatever the machine.  Channel 2 is the
 * one whose output can be read back (port 0x61 bit 5) and whose gate is
 * software-controlled (bit 0), so it times a 20 ms one-shot (mode 0)
 * against the TSC without any interrupt.  The wait is bounded; if the PIT
 * never fires, a 1 GHz TSC is assumed and a warning printed.  The LAPIC
 * timer (divide by 16) is then calibrated against the TSC and runs
 * periodically at TIMER_HZ.
 */
#include <stdint.h>

#include "x86/io.h"
#include "x86/irq.h"
#include "orion/kprintf.h"
#include "orion/timer.h"

#define PIT_HZ 1193182u
#define CAL_MS 20u

#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0

static uint64_t tsc_hz;

static uint64_t pit_measure_tsc(void)
{
	uint16_t count = PIT_HZ * CAL_MS / 1000;
	uint8_t g = inb(0x61);

	outb(0x61, (g & ~0x02) & ~0x01);       /* speaker off, gate low */
	outb(0x43, 0xb0);                      /* ch2, lo/hi byte, mode 0, binary */
	outb(0x42, count & 0xff);
	outb(0x42, count >> 8);
	g = inb(0x61) & ~0x02;
	outb(0x61, g | 0x01);                  /* gate high: counting starts */
	uint64_t t0 = rdtsc();
	for (uint32_t i = 0; i < 50000000u; i++) {
		if (inb(0x61) & 0x20) {
			uint64_t t1 = rdtsc();
			outb(0x61, g & ~0x01);
			return t1 - t0;
		}
	}
	outb(0x61, g & ~0x01);
	return 0;
}

/*
 * The same 20 ms against PIT channel 0 read back with the latch command,
 * for boards without the port 0x61 gate/output (microvm has a PIT but no
 * PC speaker port: 0x61 reads 0xff).  Channel 0 counts down from 65536 in
 * mode 2 (about 55 ms a period); its IRQ 0 is not routed (IOAPIC pin
 * masked), so it interrupts nobody.  Bounded like the channel 2 loop.
 */
static uint16_t pit_ch0_count(void)
{
	outb(0x43, 0x00);                      /* latch channel 0 */
	uint8_t lo = inb(0x40);
	return (uint16_t)(lo | (inb(0x40) << 8));
}

static uint64_t pit_ch0_measure_tsc(void)
{
	uint32_t want = PIT_HZ * CAL_MS / 1000, elapsed = 0;
	outb(0x43, 0x34);                      /* ch0, lo/hi byte, mode 2, binary */
	outb(0x40, 0x00);
	outb(0x40, 0x00);                      /* reload 65536 */
	uint16_t prev = pit_ch0_count();
	uint64_t t0 = rdtsc();
	for (uint32_t i = 0; i < 50000000u; i++) {
		uint16_t cur = pit_ch0_count();
		elapsed += (uint16_t)(prev - cur);   /* counts down; wraps at the reload */
		prev = cur;
		if (elapsed >= want)
			return (rdtsc() - t0) * want / elapsed;
	}
	return 0;
}

void arch_timer_init(void)
{
	uint64_t best = 0;
	bool ch0 = inb(0x61) == 0xff;          /* no speaker port: channel 2 unusable */

	/* Best (shortest) of three: a VM exit or SMI only ever adds time. */
	for (int i = 0; i < 3; i++) {
		uint64_t d = ch0 ? pit_ch0_measure_tsc() : pit_measure_tsc();
		if (d && (!best || d < best))
			best = d;
	}
	if (ch0)
		kprintf("timer: no port 0x61 (PC speaker): calibrating against PIT channel 0\n");
	if (!best) {
		kprintf("timer: PIT calibration failed, assuming 1 GHz TSC\n");
		tsc_hz = 1000000000ull;
	} else {
		tsc_hz = best * 1000 / CAL_MS;
	}
	kprintf("timer: TSC %lu.%03lu MHz\n", tsc_hz / 1000000, (tsc_hz / 1000) % 1000);
}

uint64_t arch_counter_read(void)
{
	return rdtsc();
}

uint64_t arch_counter_hz(void)
{
	return tsc_hz;
}

static void tick(void *arg)
{
	(void)arg;
	timer_tick();
}

bool arch_tick_start(void)
{
	lapic_write(LAPIC_TIMER_DIV, 0x3);          /* divide by 16 */
	lapic_write(LAPIC_LVT_TIMER, 1u << 16);     /* masked while measuring */
	lapic_write(LAPIC_TIMER_INIT, 0xffffffffu);
	delay_ms(10);
	uint32_t elapsed = 0xffffffffu - lapic_read(LAPIC_TIMER_CUR);
	lapic_write(LAPIC_TIMER_INIT, 0);
	uint64_t per_sec = (uint64_t)elapsed * 100;
	uint32_t init = (uint32_t)(per_sec / TIMER_HZ);
	if (!init)
		init = 1;
	irq_register(IRQ_VEC_TIMER, tick, NULL);
	lapic_write(LAPIC_LVT_TIMER, IRQ_VEC_TIMER | (1u << 17));   /* periodic */
	lapic_write(LAPIC_TIMER_INIT, init);
	kprintf("timer: LAPIC timer %lu kHz (/16), tick %u Hz\n", per_sec / 1000, TIMER_HZ);
	return true;
}
