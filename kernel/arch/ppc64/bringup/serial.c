/* orion/serial.h on the ppce500 NS16550 (uart.c), polled. */
#include "../e500.h"
#include "../platform.h"
#include "orion/serial.h"

static bool (*idle_hook)(void);

void serial_init(void)
{
	ppc_uart_init(ppc64_plat.uart);
}

void serial_putc(char c)
{
	ppc_uart_putc(c);
}

void serial_write(const char *s, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		ppc_uart_putc(s[i]);
}

void serial_enable_irq(void)
{
}

int serial_getc_nonblock(void)
{
	return ppc_uart_getc();
}

void serial_set_idle_hook(bool (*fn)(void))
{
	idle_hook = fn;
}

int serial_getc(void)
{
	for (;;) {
		int c = ppc_uart_getc();
		if (c >= 0)
			return c;
		if (idle_hook)
			idle_hook();
	}
}
