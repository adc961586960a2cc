/* NS16550 on the CCSR (byte registers, stride 1), polled. */
#include "e500.h"

#define UART_THR 0
#define UART_RBR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_DLL 0
#define UART_DLM 1
#define LSR_DR   0x01
#define LSR_THRE 0x20

static uint64_t uart_base;

void ppc_uart_init(uint64_t base)
{
	uart_base = base;
	ppc_out8(base + UART_IER, 0);
	ppc_out8(base + UART_LCR, 0x80);     /* divisor latch */
	ppc_out8(base + UART_DLL, 1);
	ppc_out8(base + UART_DLM, 0);
	ppc_out8(base + UART_LCR, 0x03);     /* 8N1 */
	ppc_out8(base + UART_FCR, 0x07);     /* FIFO on, cleared */
	ppc_out8(base + UART_MCR, 0x03);     /* DTR, RTS */
}

void ppc_uart_putc(char c)
{
	if (c == '\n')
		ppc_uart_raw_putc('\r');
	ppc_uart_raw_putc(c);
}

void ppc_uart_raw_putc(char c)
{
	if (!uart_base)
		return;
	for (unsigned i = 0; i < 1000000; i++)
		if (ppc_in8(uart_base + UART_LSR) & LSR_THRE)
			break;
	ppc_out8(uart_base + UART_THR, (uint8_t)c);
}

int ppc_uart_getc(void)
{
	if (!uart_base || !(ppc_in8(uart_base + UART_LSR) & LSR_DR))
		return -1;
	return ppc_in8(uart_base + UART_RBR);
}
