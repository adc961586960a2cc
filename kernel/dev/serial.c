/*
 * The console (see serial.h), architecture-neutral: "\n" -> "\r\n", the
 * 256-byte receive ring filled by the arch UART's interrupt, and the
 * input wait with its idle hook.  The UART itself is the arch's
 * (arch_console_* in orion/arch.h; x86_64: COM1 16550).
 *
 * Receive: the interrupt drains up to 64 bytes from the UART into the
 * ring; a full ring drops new bytes (a person typing cannot outrun it).
 */
#include <stddef.h>
#include <stdint.h>

#include "orion/arch.h"
#include "orion/serial.h"
#include "orion/timer.h"

static volatile uint8_t rx_ring[256];
static volatile uint32_t rx_head, rx_tail;   /* head: producer (IRQ) */
static bool irq_on;
static bool (*idle_hook)(void);

void serial_set_idle_hook(bool (*fn)(void))
{
	idle_hook = fn;
}

void serial_init(void)
{
	arch_console_init();
}

void serial_putc(char c)
{
	if (c == '\n')
		arch_console_putc('\r');
	arch_console_putc(c);
}

void serial_write(const char *s, unsigned long n)
{
	while (n--)
		serial_putc(*s++);
}

static void serial_rx(void)
{
	int c;
	for (unsigned i = 0; i < 64 && (c = arch_console_getc()) >= 0; i++) {
		if (rx_head - rx_tail < sizeof(rx_ring)) {
			rx_ring[rx_head % sizeof(rx_ring)] = (uint8_t)c;
			rx_head++;
		}
	}
}

void serial_enable_irq(void)
{
	irq_on = arch_has_irqs() && arch_console_irq_enable(serial_rx);
}

int serial_getc_nonblock(void)
{
	if (!irq_on)
		return arch_console_getc();
	unsigned long f = irq_save();
	int c = -1;
	if (rx_tail != rx_head) {
		c = rx_ring[rx_tail % sizeof(rx_ring)];
		rx_tail++;
	}
	irq_restore(f);
	return c;
}

int serial_getc(void)
{
	for (;;) {
		irq_disable();
		int c = serial_getc_nonblock();
		if (c >= 0) {
			irq_enable();
			return c;
		}
		/* Interrupts are off: the hook runs under the kernel's lock, and
		 * work deferred by an interrupt after it returned still wakes the
		 * wait below (arch_idle is atomic with the check) at the latest
		 * on the tick. */
		bool busy = idle_hook && idle_hook();
		if (!irq_on || busy) {
			irq_enable();
			cpu_relax();
			timer_poll_tick();
			continue;
		}
		/* Woken by the UART or the tick; atomic with the check. */
		arch_idle();
	}
}
