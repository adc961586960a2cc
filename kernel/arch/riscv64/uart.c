/*
 * NS16550A console on MMIO (QEMU virt: "ns16550a" at the DTB's address,
 * reg-shift 0, 1-byte registers) behind the common serial.h API.
 *
 * Before rv_uart_setup() names the UART (the DTB walk), output goes to the
 * SBI console so the first lines of the boot are never lost, and input
 * reads nothing.  Transmit polls THRE with a bound; receive is
 * interrupt-driven through the PLIC once serial_enable_irq() ran (RX
 * FIFO drained into a 256-byte ring, new bytes dropped when full), polled
 * before that or without a PLIC.  The register layout is the 16550's
 * (one register per 1 << reg-shift bytes).
 */
#include <stddef.h>
#include <stdint.h>

#include "orion/serial.h"
#include "riscv.h"

#define REG_DATA 0
#define REG_IER 1
#define REG_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define IER_RDA 0x01

static uintptr_t uart_base;
static unsigned uart_shift, uart_width, uart_irqsrc;
static volatile uint8_t rx_ring[256];
static volatile uint32_t rx_head, rx_tail;   /* head: producer (IRQ) */
static bool irq_on;
static bool (*idle_hook)(void);

static uint8_t reg_read(unsigned r)
{
	uintptr_t a = uart_base + ((uintptr_t)r << uart_shift);
	if (uart_width == 4)
		return (uint8_t)*(volatile uint32_t *)a;
	return *(volatile uint8_t *)a;
}

static void reg_write(unsigned r, uint8_t v)
{
	uintptr_t a = uart_base + ((uintptr_t)r << uart_shift);
	if (uart_width == 4)
		*(volatile uint32_t *)a = v;
	else
		*(volatile uint8_t *)a = v;
}

void rv_uart_setup(uint64_t base, unsigned shift, unsigned width, unsigned irq)
{
	uart_base = (uintptr_t)base;
	uart_shift = shift;
	uart_width = width == 4 ? 4 : 1;
	uart_irqsrc = irq;
}

void serial_set_idle_hook(bool (*fn)(void))
{
	idle_hook = fn;
}

void serial_init(void)
{
	if (!uart_base)
		return;
	/* QEMU's UART ignores the divisor; real 16550s keep what firmware set,
	 * so only the frame format and FIFOs are programmed. */
	reg_write(REG_IER, 0x00);
	reg_write(REG_LCR, 0x03);       /* 8N1, DLAB off */
	reg_write(REG_FCR, 0xc7);       /* FIFO on, cleared, 14-byte trigger */
	reg_write(REG_MCR, 0x0b);       /* DTR, RTS, OUT2 */
}

static void tx(char c)
{
	if (!uart_base) {
		sbi_console_putchar(c);
		return;
	}
	for (unsigned i = 0; i < 1000000 && !(reg_read(REG_LSR) & LSR_THRE); i++)
		__asm__ volatile("" ::: "memory");
	reg_write(REG_DATA, (uint8_t)c);
}

void serial_putc(char c)
{
	if (c == '\n')
		tx('\r');
	tx(c);
}

void serial_write(const char *s, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		serial_putc(s[i]);
}

void rv_uart_irq(void)
{
	for (unsigned n = 0; n < 64 && (reg_read(REG_LSR) & LSR_DR); n++) {
		uint8_t b = reg_read(REG_DATA);
		uint32_t h = rx_head;
		if (h - rx_tail < sizeof(rx_ring)) {
			rx_ring[h % sizeof(rx_ring)] = b;
			rx_head = h + 1;
		}
	}
}

static void uart_plic_handler(void *arg)
{
	(void)arg;
	rv_uart_irq();
}

void serial_enable_irq(void)
{
	if (!uart_base || !uart_irqsrc || !plic_present())
		return;
	if (plic_route(uart_irqsrc, uart_plic_handler, NULL) != 0)
		return;
	irq_on = true;
	reg_write(REG_IER, IER_RDA);
}

int serial_getc_nonblock(void)
{
	if (!uart_base)
		return -1;
	if (!irq_on) {
		if (reg_read(REG_LSR) & LSR_DR)
			return reg_read(REG_DATA);
		return -1;
	}
	unsigned long s = csr_read_clear(sstatus, SSTATUS_SIE);
	int c = -1;
	if (rx_tail != rx_head) {
		c = rx_ring[rx_tail % sizeof(rx_ring)];
		rx_tail++;
	}
	csr_set(sstatus, s & SSTATUS_SIE);
	return c;
}

/*
 * Wait for a byte.  With interrupts: check the ring with SIE off, run the
 * idle hook, then WFI still with SIE off — WFI wakes on a pending enabled
 * interrupt even when SIE is clear (privileged spec 3.3.3), so an
 * interrupt that arrives between the check and the WFI is not lost; SIE is
 * then opened briefly so the handler runs.  Without interrupts it polls.
 */
int serial_getc(void)
{
	for (;;) {
		int c = serial_getc_nonblock();
		if (c >= 0)
			return c;
		bool busy = idle_hook && idle_hook();
		if (busy || !irq_on)
			continue;
		unsigned long s = csr_read_clear(sstatus, SSTATUS_SIE);
		if (rx_tail == rx_head)
			rv_wfi();
		csr_set(sstatus, SSTATUS_SIE);
		csr_clear(sstatus, SSTATUS_SIE & ~s);
	}
}
