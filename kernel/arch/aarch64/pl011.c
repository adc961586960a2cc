/*
 * PL011 UART console (ARM PrimeCell UART, DDI 0183): QEMU virt's
 * "arm,pl011" at the DTB's address (0x09000000).  QEMU ignores the baud
 * rate divisors; they are set for 115200 at the usual 24 MHz clock so real
 * hardware would agree.  Output is polled (bounded wait on TXFF); input is
 * interrupt-driven into a ring once serial_enable_irq() ran and the GIC is
 * up (RX and RX-timeout interrupts, level, SPI from the DTB), polled
 * before that or without an interrupt line.
 */
#include <stdbool.h>
#include <stdint.h>

#include "orion/serial.h"
#include "aarch64.h"

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

/* A bound on the TXFF wait so a wedged UART cannot hang the kernel. */
#define TX_SPIN 1000000u

static uintptr_t base = 0x09000000;
static volatile bool irq_on;
static char rx_ring[256];
static volatile unsigned rx_head, rx_tail;   /* head: writer (IRQ), tail: reader */
static bool (*idle_hook)(void);

static uint32_t rd(unsigned off) { return mmio_read32(base + off); }
static void wr(unsigned off, uint32_t v) { mmio_write32(base + off, v); }

void serial_init(void)
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

static void putc_raw(char c)
{
	for (unsigned i = 0; i < TX_SPIN && (rd(UART_FR) & FR_TXFF); i++)
		;
	wr(UART_DR, (uint8_t)c);
}

void serial_putc(char c)
{
	if (c == '\n')
		putc_raw('\r');
	putc_raw(c);
}

void serial_write(const char *s, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		serial_putc(s[i]);
}

static void rx_irq(void *arg)
{
	(void)arg;
	while (!(rd(UART_FR) & FR_RXFE)) {
		char c = (char)(rd(UART_DR) & 0xff);
		unsigned next = (rx_head + 1) % sizeof(rx_ring);
		if (next != rx_tail) {     /* full: drop, like a FIFO overrun */
			rx_ring[rx_head] = c;
			rx_head = next;
		}
	}
	wr(UART_ICR, IM_RX | IM_RT);
}

void serial_enable_irq(void)
{
	unsigned id = a64_plat.uart_irq;
	if (!id || !a64_plat.gic_version)
		return;   /* stays polled */
	a64_irq_register(id, rx_irq, NULL);
	wr(UART_IFLS, 0);              /* RX interrupt at 1/8 full; RT covers the rest */
	wr(UART_IMSC, IM_RX | IM_RT);
	a64_irq_enable(id, true);
	irq_on = true;
}

int serial_getc_nonblock(void)
{
	if (!irq_on) {
		if (rd(UART_FR) & FR_RXFE)
			return -1;
		return (int)(rd(UART_DR) & 0xff);
	}
	if (rx_tail == rx_head)
		return -1;
	int c = (uint8_t)rx_ring[rx_tail];
	rx_tail = (rx_tail + 1) % sizeof(rx_ring);
	return c;
}

void serial_set_idle_hook(bool (*fn)(void))
{
	idle_hook = fn;
}

int serial_getc(void)
{
	for (;;) {
		uint64_t f;
		__asm__ volatile("mrs %0, daif; msr daifset, #2" : "=r"(f) :: "memory");
		int c = serial_getc_nonblock();
		if (c >= 0) {
			__asm__ volatile("msr daif, %0" ::"r"(f) : "memory");
			return c;
		}
		bool busy = idle_hook && idle_hook();
		/* WFI wakes on a pending interrupt even while PSTATE.I masks
		 * it, so an interrupt arriving between the check above and the
		 * WFI is not lost; unmasking then takes it.  Polled input has
		 * no interrupt: the timer tick wakes the WFI. */
		if (!busy)
			__asm__ volatile("wfi" ::: "memory");
		__asm__ volatile("msr daif, %0; isb" ::"r"(f) : "memory");
	}
}
