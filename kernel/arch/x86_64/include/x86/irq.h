/*
 * x86_64 interrupts: IDT, vector allocation, LAPIC/IOAPIC (arch/x86_64 only).
 *
 * Vector map:
 *   0x00-0x1f  CPU exceptions: register dump and panic (unless a handler
 *              was registered with irq_register, used by self-tests)
 *   0x20-0x2f  legacy 8259 PIC after remapping; the PIC is fully masked,
 *              these only catch its spurious interrupts
 *   0x30-0x3f  ISA IRQ n -> vector 0x30+n via the IOAPIC (irq_route_isa)
 *   0x40-0xef  dynamically allocated (irq_alloc_vector), e.g. MSI-X
 *   0xf0       LAPIC timer tick
 *   0xff       LAPIC spurious vector (no EOI)
 *
 * Handlers run with interrupts disabled on the only CPU (the BSP).  The
 * dispatcher sends the LAPIC EOI after the handler returns, so handlers
 * must not call irq_eoi() themselves.
 */
#ifndef X86_IRQ_H
#define X86_IRQ_H

#include <stdint.h>
#include <stdbool.h>

#include "orion/arch.h"

/* Saved state on interrupt entry; layout matches arch/isr.S. */
struct regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

#define IRQ_VEC_ISA_BASE 0x30
#define IRQ_VEC_DYN_FIRST 0x40
#define IRQ_VEC_DYN_LAST 0xef
#define IRQ_VEC_TIMER 0xf0
#define IRQ_VEC_SPURIOUS 0xff

void gdt_init(void);
void idt_init(void);

/* A free vector in 0x40..0xef, or -1.  Release with irq_free_vector(). */
int irq_alloc_vector(void);
void irq_free_vector(int vector);
/*
 * irq_register (orion/arch.h) takes a vector.  For exception vectors (< 32)
 * fn receives the struct regs * instead of arg and the faulting context
 * resumes when it returns.
 */

/* LAPIC / IOAPIC (arch/apic.c). */
void apic_init(void);
void lapic_eoi(void);
uint32_t lapic_id(void);
uint64_t lapic_base(void);
uint64_t ioapic_base(void);
/* Raw LAPIC register access (reg = byte offset, e.g. 0x320 LVT timer). */
uint32_t lapic_read(unsigned reg);
void lapic_write(unsigned reg, uint32_t v);
/*
 * Route ISA IRQ isa_irq (0-15) through the IOAPIC to vector 0x30+isa_irq on
 * the BSP, honouring the MADT interrupt source overrides; unmasked.
 */
int irq_route_isa(unsigned isa_irq);
/* Route a GSI with explicit polarity/trigger to a vector; unmasked. */
int ioapic_route(unsigned gsi, uint8_t vector, bool level, bool active_low);
void ioapic_mask(unsigned gsi, bool masked);
/* Low dword of a GSI's redirection entry (bit 14 remote IRR, 16 mask);
 * "masked" for a GSI outside the IOAPIC. */
uint32_t ioapic_entry_low(unsigned gsi);
/*
 * ISA IRQ -> GSI through the MADT interrupt source overrides.  Without an
 * override (or for "conforms to the bus" flags) the GSI equals the IRQ and
 * the trigger/polarity follow the bus: ISA edge/high, or level/low when
 * pci is true (a PCI line steered onto an ISA IRQ).  True if an override
 * named the IRQ.
 */
bool irq_isa_override(unsigned isa_irq, unsigned *gsi, bool *level, bool *active_low, bool pci);

/*
 * MSI/MSI-X message for edge-triggered, fixed delivery of vector to the
 * BSP's LAPIC (physical destination mode).
 */
void msi_compose(uint8_t vector, uint64_t *addr, uint32_t *data);

#endif
