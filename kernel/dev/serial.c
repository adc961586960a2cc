/*
 * COM1 16550 UART driver (see serial.h).
 *
 * Transmit waits for THRE with a bound (about a million polls) so a wedged
 * or absent UART slows output down instead of hanging the kernel.
 * Receive: the IRQ 4 handler drains the RX FIFO into a 256-byte ring; a
 * full ring drops new bytes (a person typing cannot outrun it).  MCR.OUT2
 * must be set or the PC wiring keeps the UART's interrupt off the bus.
 */
#include <stddef.h>
#include <stdint.h>

#include "orion/io.h"
#include "orion/irq.h"
#include "orion/serial.h"

#define COM1 0x3f8
#define REG_DATA 0
#define REG_IER 1
#define REG_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define LSR_DR 0x01
#define LSR_THRE 0x20

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
	outb(COM1 + REG_IER, 0x00);
	outb(COM1 + REG_LCR, 0x80);       /* DLAB */
	outb(COM1 + 0, 1);                /* divisor 1 = 115200 baud */
	outb(COM1 + 1, 0);
	outb(COM1 + REG_LCR, 0x03);       /* 8N1 */
	outb(COM1 + REG_FCR, 0xc7);       /* FIFO on, cleared, 14-byte trigger */
	outb(COM1 + REG_MCR, 0x0b);       /* DTR, RTS, OUT2 */
}

static void tx(char c)
{
	for (unsigned i = 0; i < 1000000 && !(inb(COM1 + REG_LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(COM1 + REG_DATA, (uint8_t)c);
}

void serial_putc(char c)
{
	if (c == '\n')
		tx('\r');
	tx(c);
}

void serial_write(const char *s, unsigned long n)
{
	while (n--)
		serial_putc(*s++);
}

static void serial_irq(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < 64 && (inb(COM1 + REG_LSR) & LSR_DR); i++) {
		uint8_t c = inb(COM1 + REG_DATA);
		if (rx_head - rx_tail < sizeof(rx_ring)) {
			rx_ring[rx_head % sizeof(rx_ring)] = c;
			rx_head++;
		}
	}
}

void serial_enable_irq(void)
{
	irq_register(IRQ_VEC_ISA_BASE + 4, serial_irq, NULL);
	if (irq_route_isa(4) == 0) {
		irq_on = true;
		outb(COM1 + REG_IER, 0x01);   /* received-data-available */
	}
}

int serial_getc_nonblock(void)
{
	if (!irq_on)
		return (inb(COM1 + REG_LSR) & LSR_DR) ? inb(COM1 + REG_DATA) : -1;
	uint64_t f = irq_save();
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
		cpu_cli();
		int c = serial_getc_nonblock();
		if (c >= 0) {
			cpu_sti();
			return c;
		}
		/* Interrupts are off: the hook runs under the kernel's lock, and
		 * work deferred by an interrupt after it returned still wakes the
		 * hlt below (sti; hlt is atomic) at the latest on the tick. */
		bool busy = idle_hook && idle_hook();
		if (!irq_on || busy) {
			cpu_sti();
			cpu_relax();
			continue;
		}
		/* Woken by the UART or the LAPIC tick; atomic with the check. */
		cpu_sti_hlt();
	}
}
