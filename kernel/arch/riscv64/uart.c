/*
 * riscv64 console (orion/arch.h arch_console_*): the NS16550A the DTB
 * names ("ns16550a" with reg-shift/reg-io-width; QEMU virt: 0x10000000,
 * byte registers, PLIC source 10).  The line discipline and receive ring
 * are common (dev/serial.c).
 *
 * Until the DTB walk found the UART (rv_entry does it before orion_main,
 * so normally never) output goes to the SBI console and input reads
 * nothing.  Transmit polls THRE with a bound so a wedged UART slows
 * output instead of hanging; receive interrupts come through the PLIC.
 */
#include <stddef.h>
#include <stdint.h>

#include "orion/arch.h"
#include "riscv64/riscv.h"

#define REG_DATA 0
#define REG_IER 1
#define REG_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define IER_RDA 0x01

static void (*rx_fn)(void);

static uintptr_t reg_addr(unsigned r)
{
	return (uintptr_t)rv_plat.uart_base + ((uintptr_t)r << rv_plat.uart_shift);
}

static uint8_t reg_read(unsigned r)
{
	if (rv_plat.uart_width == 4)
		return (uint8_t)*(volatile uint32_t *)reg_addr(r);
	return *(volatile uint8_t *)reg_addr(r);
}

static void reg_write(unsigned r, uint8_t v)
{
	if (rv_plat.uart_width == 4)
		*(volatile uint32_t *)reg_addr(r) = v;
	else
		*(volatile uint8_t *)reg_addr(r) = v;
}

void arch_console_init(void)
{
	if (!rv_plat.uart_base)
		return;
	/* The divisor stays what firmware set (OpenSBI already prints through
	 * this UART); only the frame format and FIFOs are programmed. */
	reg_write(REG_IER, 0x00);
	reg_write(REG_LCR, 0x03);       /* 8N1, DLAB off */
	reg_write(REG_FCR, 0xc7);       /* FIFO on, cleared, 14-byte trigger */
	reg_write(REG_MCR, 0x0b);       /* DTR, RTS, OUT2 */
}

void arch_console_putc(char c)
{
	if (!rv_plat.uart_base) {
		sbi_console_putchar(c);
		return;
	}
	for (unsigned i = 0; i < 1000000 && !(reg_read(REG_LSR) & LSR_THRE); i++)
		cpu_relax();
	reg_write(REG_DATA, (uint8_t)c);
}

int arch_console_getc(void)
{
	if (!rv_plat.uart_base)
		return -1;
	return (reg_read(REG_LSR) & LSR_DR) ? reg_read(REG_DATA) : -1;
}

static void uart_irq(void *arg)
{
	(void)arg;
	rx_fn();
}

bool arch_console_irq_enable(void (*rx)(void))
{
	if (!rv_plat.uart_base || !rv_plat.uart_irq || !rx)
		return false;
	rx_fn = rx;
	/* The 16550's interrupt is level, active high (its INTR pin). */
	if (arch_irq_line_attach(rv_plat.uart_irq, true, false, uart_irq, NULL) < 0)
		return false;
	reg_write(REG_IER, IER_RDA);
	return true;
}
