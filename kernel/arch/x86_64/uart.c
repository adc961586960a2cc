/*
 * x86_64 console: the COM1 16550 UART at port 0x3F8, 115200 8N1
 * (orion/arch.h arch_console_*; the line discipline and receive ring are
 * common, dev/serial.c).
 *
 * Transmit waits for THRE with a bound (about a million polls) so a wedged
 * or absent UART slows output down instead of hanging the kernel.
 * Receive interrupt: ISA IRQ 4 through the IOAPIC (vector 0x34).  MCR.OUT2
 * must be set or the PC wiring keeps the UART's interrupt off the bus.
 */
#include <stddef.h>
#include <stdint.h>

#include "orion/arch.h"
#include "x86/io.h"
#include "x86/irq.h"

#define COM1 0x3f8
#define REG_DATA 0
#define REG_IER 1
#define REG_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define LSR_DR 0x01
#define LSR_THRE 0x20

static void (*rx_fn)(void);

void arch_console_init(void)
{
	outb(COM1 + REG_IER, 0x00);
	outb(COM1 + REG_LCR, 0x80);       /* DLAB */
	outb(COM1 + 0, 1);                /* divisor 1 = 115200 baud */
	outb(COM1 + 1, 0);
	outb(COM1 + REG_LCR, 0x03);       /* 8N1 */
	outb(COM1 + REG_FCR, 0xc7);       /* FIFO on, cleared, 14-byte trigger */
	outb(COM1 + REG_MCR, 0x0b);       /* DTR, RTS, OUT2 */
}

void arch_console_putc(char c)
{
	for (unsigned i = 0; i < 1000000 && !(inb(COM1 + REG_LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(COM1 + REG_DATA, (uint8_t)c);
}

int arch_console_getc(void)
{
	return (inb(COM1 + REG_LSR) & LSR_DR) ? inb(COM1 + REG_DATA) : -1;
}

static void uart_irq(void *arg)
{
	(void)arg;
	rx_fn();
}

bool arch_console_irq_enable(void (*rx)(void))
{
	rx_fn = rx;
	irq_register(IRQ_VEC_ISA_BASE + 4, uart_irq, NULL);
	if (irq_route_isa(4) != 0) {
		irq_unregister(IRQ_VEC_ISA_BASE + 4);
		return false;
	}
	outb(COM1 + REG_IER, 0x01);   /* received-data-available */
	return true;
}
