/*
 * COM1 (0x3F8) console, 115200 8N1.  Output is polled (bounded wait on the
 * transmit-holding-register-empty bit); input is interrupt-driven once
 * serial_enable_irq() ran (ISA IRQ 4 through the IOAPIC into a ring
 * buffer), polled before that.
 */
#ifndef ORION_SERIAL_H
#define ORION_SERIAL_H

#include <stdbool.h>

void serial_init(void);
void serial_putc(char c);          /* "\n" is sent as "\r\n" */
void serial_write(const char *s, unsigned long n);
void serial_enable_irq(void);
/* Next received byte, or -1 if none arrived (never blocks). */
int serial_getc_nonblock(void);
/* Wait for a byte, halting the CPU between interrupts. */
int serial_getc(void);

#endif
