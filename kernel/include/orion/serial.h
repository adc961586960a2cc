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
/* Wait for a byte, halting the CPU between interrupts.  Before each halt
 * it runs the idle hook (if set) with interrupts off; a hook returning
 * true has work left, and the wait polls instead of halting. */
int serial_getc(void);
/* The idle hook of serial_getc (main-context work the shell must not
 * starve: the network's deferred receive polls).  One hook; NULL clears. */
void serial_set_idle_hook(bool (*fn)(void));

#endif
