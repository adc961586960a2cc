/*
 * orion/arch.h on the ppce500 devices: console (NS16550), time (timebase
 * and decrementer), interrupts (MPIC), PCI (pci_fsl.c), exit (GPIO
 * power-off, pvpanic, GUTS reset).
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/kprintf.h"
#include "orion/pci.h"
#include "orion/power.h"
#include "orion/timer.h"
#include "e500.h"
#include "mpic.h"
#include "msi.h"
#include "pci_fsl.h"
#include "platform.h"

/* ---------------------------------------------------------------- console */

#define UART_IER 1
#define IER_RDA  0x01
#define UART_IRQ_DEFAULT 42      /* QEMU: serial@4500 interrupts = <42 2> */

void arch_console_init(void) { ppc_uart_init(ppc64_plat.uart); }
void arch_console_putc(char c) { ppc_uart_raw_putc(c); }
int arch_console_getc(void) { return ppc_uart_getc(); }

static void (*console_rx)(void);

static void console_irq(void *arg)
{
	(void)arg;
	if (console_rx)
		console_rx();
}

bool arch_console_irq_enable(void (*rx)(void))
{
	unsigned src = ppc64_plat.uart_irq ? ppc64_plat.uart_irq : UART_IRQ_DEFAULT;
	console_rx = rx;
	if (ppc64_mpic_route(src, false, 4, console_irq, NULL) != 0)
		return false;
	ppc_out8(ppc64_plat.uart + UART_IER, IER_RDA);
	return true;
}

/* ---------------------------------------------------------------- time */

uint64_t arch_counter_read(void) { return ppc_mftb(); }

static uint64_t counter_hz;
uint64_t arch_counter_hz(void) { return counter_hz; }
void arch_timer_init(void) { counter_hz = ppc64_plat.tb_hz; }

bool arch_tick_start(void)
{
	ppc64_tick_start(TIMER_HZ, timer_tick);
	return true;
}

/* ---------------------------------------------------------------- interrupts */

/* An irq is an MPIC vector, and Orion makes each source's vector its
 * number: irq == line == the DTB's interrupt number. */
unsigned arch_irq_limit(void) { return PPC64_MSI_IRQ0 + PPC64_MSI_COUNT; }

int irq_register(int irq, irq_handler_fn fn, void *arg)
{
	if (irq >= (int)PPC64_MSI_IRQ0)
		return ppc64_msi_set_handler(irq, fn, arg);
	return irq < 0 ? -1 : ppc64_mpic_set_handler((unsigned)irq, fn, arg);
}

void irq_unregister(int irq) { (void)irq_register(irq, NULL, NULL); }

uint64_t irq_count(int irq)
{
	if (irq >= (int)PPC64_MSI_IRQ0)
		return ppc64_msi_count(irq);
	return irq < 0 ? 0 : ppc64_mpic_count((unsigned)irq);
}

void arch_irq_init(void)
{
	ppc64_mpic_init(ppc64_plat.mpic);
}

int arch_irq_line_attach(unsigned line, bool level, bool active_low, irq_handler_fn fn, void *arg)
{
	(void)active_low;   /* QEMU's MPIC models the line's logical level */
	if (ppc64_mpic_route(line, !level, 5, fn, arg) != 0)
		return -1;
	return (int)line;
}

void arch_irq_line_mask(unsigned line, bool masked) { ppc64_mpic_mask(line, masked); }

void arch_irq_line_detach(unsigned line, int irq)
{
	(void)irq;
	ppc64_mpic_mask(line, true);
	(void)ppc64_mpic_set_handler(line, NULL, NULL);
}

bool arch_irq_line_state(unsigned line, bool *masked, bool *pending)
{
	return ppc64_mpic_state(line, masked, pending);
}

/* MSI through the MPIC's MSI block (msi.c); set up by arch_pci_init once
 * the host's CCSR view has a PCI address. */
bool arch_msi_supported(void) { return ppc64_msi_ok(); }
int arch_msi_alloc(void) { return ppc64_msi_alloc(); }
void arch_msi_free(int irq) { ppc64_msi_free(irq); }
int arch_msi_compose(int irq, uint64_t *addr, uint32_t *data) { return ppc64_msi_compose(irq, addr, data); }

/* ---------------------------------------------------------------- PCI */

int arch_pci_init(void)
{
	ppc_pci_host_init(ppc64_plat.ram_size);
	ppc_pci_assign();
	ppc64_msi_init(ppc_pci_ccsr_bus_base());
	return 0;
}

uint32_t arch_pci_cfg_read(unsigned bus, unsigned dev, unsigned fn, unsigned off, unsigned width)
{
	unsigned long f = ppc64_irq_save();   /* address then data: one sequence */
	uint32_t v = ppc_pci_cfg_read(bus, dev, fn, off, width);
	ppc64_irq_restore(f);
	return v;
}

void arch_pci_cfg_write(unsigned bus, unsigned dev, unsigned fn, unsigned off, unsigned width, uint32_t v)
{
	unsigned long f = ppc64_irq_save();
	ppc_pci_cfg_write(bus, dev, fn, off, width, v);
	ppc64_irq_restore(f);
}

int arch_pci_intx_route(const struct pci_dev *d, struct pci_intx_route *r)
{
	unsigned src;
	(void)d;
	if (ppc_pci_intx(r->root_slot, 0, r->root_pin, &src) != 0) {
		r->why = "no interrupt-map entry for the slot in the DTB";
		return -1;
	}
	r->gsi = src;
	r->level = true;
	r->active_low = true;
	ksnprintf(r->path, sizeof(r->path), "mpic src %u", src);
	return 0;
}

/* ---------------------------------------------------------------- exit */

#define GUTS_RSTCR 0xB0
#define RSTCR_HRESET 0x2

void orion_exit(unsigned code)
{
	if (code == ORION_EXIT_PASS)
		ppc_poweroff();     /* QEMU exit status 0 */
	kprintf("orion: exit code %#x (FAIL)\n", code);
	ppc64_fatal();              /* pvpanic: QEMU exit status 1 */
}

void orion_poweroff(void) { ppc_poweroff(); }

void orion_reboot(void)
{
	ppc_out32be(ppc64_plat.guts + GUTS_RSTCR, RSTCR_HRESET);
	orion_halt();
}

void orion_halt(void)
{
	(void)ppc64_irq_save();
	for (;;)
		__asm__ volatile("wait" ::: "memory");
}
