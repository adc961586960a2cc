/*
 * x86_64 interrupt glue of orion/arch.h: irqs are IDT vectors, lines are
 * IOAPIC GSIs, MSI-X messages target the BSP's LAPIC (apic.c, idt.c).
 */
#include <stdint.h>

#include "orion/arch.h"
#include "x86/irq.h"

unsigned arch_irq_limit(void) { return 256; }

int arch_irq_line_attach(unsigned line, bool level, bool active_low, irq_handler_fn fn, void *arg)
{
	int vec = irq_alloc_vector();
	if (vec < 0)
		return -1;
	irq_register(vec, fn, arg);
	if (ioapic_route(line, (uint8_t)vec, level, active_low) != 0) {
		irq_free_vector(vec);   /* also unregisters */
		return -1;
	}
	return vec;
}

void arch_irq_line_mask(unsigned line, bool masked)
{
	ioapic_mask(line, masked);
}

void arch_irq_line_detach(unsigned line, int irq)
{
	ioapic_mask(line, true);
	irq_free_vector(irq);
}

bool arch_irq_line_state(unsigned line, bool *masked, bool *pending)
{
	/* Bit 16 mask, bit 14 remote IRR (a level interrupt not yet EOIed). */
	uint32_t lo = ioapic_entry_low(line);
	*masked = (lo & (1u << 16)) != 0;
	*pending = (lo & (1u << 14)) != 0;
	return true;
}

bool arch_msi_supported(void) { return true; }
int arch_msi_alloc(void) { return irq_alloc_vector(); }
void arch_msi_free(int irq) { irq_free_vector(irq); }

int arch_msi_compose(int irq, uint64_t *addr, uint32_t *data)
{
	if (irq < IRQ_VEC_DYN_FIRST || irq > IRQ_VEC_DYN_LAST)
		return -1;
	msi_compose((uint8_t)irq, addr, data);
	return 0;
}
