/*
 * PL011 UART console (ARM PrimeCell UART, DDI 0183; orion/arch.h console
 * contract): QEMU virt's "arm,pl011" at the DTB's address (0x09000000).
 * QEMU ignores the baud divisors; they are set for 115200 at the usual
 * 24 MHz clock so real hardware would agree.  Transmit waits on TXFF with
 * a bound; receive interrupts (RX and RX timeout, level, SPI 1 from the
 * DTB) call the common ring's rx function, which drains the FIFO with
 * arch_console_getc.
 */
#include <stdbool.h>
#include <stdint.h>

#include "orion/arch.h"
#include "aarch64/aarch64.h"

#define UART_DR 0x00
#define UART_FR 0x18
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define UART_IBRD 0x24
#define UART_FBRD 0x28
#define UART_LCRH 0x2c
#define LCRH_FEN (1u << 4)
#define LCRH_WLEN8 (3u << 5)
#define UART_CR 0x30
#define CR_UARTEN (1u << 0)
#define CR_TXE (1u << 8)
#define CR_RXE (1u << 9)
#define UART_IFLS 0x34
#define UART_IMSC 0x38
#define IM_RX (1u << 4)
#define IM_RT (1u << 6)
#define UART_ICR 0x44

/* About a million polls of TXFF: a wedged UART slows output, never hangs. */
#define TX_SPIN 1000000u

static uintptr_t base = 0x09000000;
static void (*rx_fn)(void);

static uint32_t rd(unsigned off) { return mmio_read32(base + off); }
static void wr(unsigned off, uint32_t v) { mmio_write32(base + off, v); }

void arch_console_init(void)
{
	if (a64_plat.uart_base)
		base = (uintptr_t)a64_plat.uart_base;
	wr(UART_CR, 0);
	wr(UART_IMSC, 0);
	wr(UART_ICR, 0x7ff);
	wr(UART_IBRD, 13);            /* 24 MHz / (16 * 115200) = 13.02 */
	wr(UART_FBRD, 1);
	wr(UART_LCRH, LCRH_WLEN8 | LCRH_FEN);
	wr(UART_CR, CR_UARTEN | CR_TXE | CR_RXE);
}

void arch_console_putc(char c)
{
	for (unsigned i = 0; i < TX_SPIN && (rd(UART_FR) & FR_TXFF); i++)
		cpu_relax();
	wr(UART_DR, (uint8_t)c);
}

int arch_console_getc(void)
{
	if (rd(UART_FR) & FR_RXFE)
		return -1;
	return (int)(rd(UART_DR) & 0xff);
}

static void uart_irq(void *arg)
{
	(void)arg;
	/* Clear first, then drain: a byte arriving after the drain raises
	 * the interrupt again instead of waiting for the next byte. */
	wr(UART_ICR, IM_RX | IM_RT);
	rx_fn();
}

bool arch_console_irq_enable(void (*rx)(void))
{
	unsigned id = a64_plat.uart_irq;
	if (!rx || id < 32 || !a64_plat.gic_version)
		return false;   /* stays polled */
	rx_fn = rx;
	if (arch_irq_line_attach(id - 32, true, false, uart_irq, NULL) < 0)
		return false;
	wr(UART_IFLS, 0);             /* RX at 1/8 full; RT covers a lone byte */
	wr(UART_IMSC, IM_RX | IM_RT);
	return true;
}
