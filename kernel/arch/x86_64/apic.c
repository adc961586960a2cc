/*
 * Local APIC and I/O APIC setup; the 8259 PICs are remapped to 0x20-0x2f
 * and fully masked (the remap keeps a stray PIC interrupt from looking
 * like a CPU exception).
 *
 * Addresses come from the ACPI MADT, else the architectural defaults
 * (LAPIC 0xFEE00000, IOAPIC 0xFEC00000).  All IOAPIC pins start masked;
 * irq_route_isa()/ioapic_route() unmask the ones a driver asks for.  The
 * LAPIC runs in xAPIC (MMIO) mode; x2APIC is not used.
 */
#include <stdint.h>

#include "x86/acpi.h"
#include "x86/io.h"
#include "x86/irq.h"
#include "orion/kprintf.h"

#define LAPIC_ID 0x20
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_ESR 0x280
#define MSR_APIC_BASE 0x1b

static uint64_t lapic_pa = 0xfee00000;
static uint64_t ioapic_pa = 0xfec00000;
static uint32_t ioapic_gsi_base;
static unsigned ioapic_pins = 24;
static uint32_t bsp_id;

uint32_t lapic_read(unsigned reg) { return mmio_read32(lapic_pa + reg); }
void lapic_write(unsigned reg, uint32_t v) { mmio_write32(lapic_pa + reg, v); }
void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }
uint32_t lapic_id(void) { return lapic_read(LAPIC_ID) >> 24; }
uint64_t lapic_base(void) { return lapic_pa; }
uint64_t ioapic_base(void) { return ioapic_pa; }

static uint32_t ioapic_read(unsigned reg)
{
	mmio_write32(ioapic_pa, reg);
	return mmio_read32(ioapic_pa + 0x10);
}

static void ioapic_write(unsigned reg, uint32_t v)
{
	mmio_write32(ioapic_pa, reg);
	mmio_write32(ioapic_pa + 0x10, v);
}

static void pic_disable(void)
{
	/* ICW1..ICW4: cascade, vectors 0x20/0x28, 8086 mode; then mask all. */
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 0x20);
	outb(0xa1, 0x28);
	outb(0x21, 0x04);
	outb(0xa1, 0x02);
	outb(0x21, 0x01);
	outb(0xa1, 0x01);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

void apic_init(void)
{
	const struct acpi_info *a = acpi_get();

	if (a->have_madt && a->lapic_addr)
		lapic_pa = a->lapic_addr;
	if (a->have_madt && a->ioapic_addr) {
		ioapic_pa = a->ioapic_addr;
		ioapic_gsi_base = a->ioapic_gsi_base;
	}
	pic_disable();

	/* Globally enable the LAPIC at its (possibly relocated) base. */
	uint64_t msr = rdmsr(MSR_APIC_BASE);
	wrmsr(MSR_APIC_BASE, (msr & 0xfffull) | (lapic_pa & ~0xfffull) | (1u << 11));
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_LINT0, 1u << 16);
	lapic_write(LAPIC_LVT_LINT1, 0x400);           /* NMI delivery */
	lapic_write(LAPIC_LVT_ERROR, 0xfe);
	lapic_write(LAPIC_ESR, 0);
	lapic_write(LAPIC_SVR, 0x100 | IRQ_VEC_SPURIOUS);
	bsp_id = lapic_id();

	ioapic_pins = ((ioapic_read(1) >> 16) & 0xff) + 1;
	for (unsigned i = 0; i < ioapic_pins; i++) {
		ioapic_write(0x10 + 2 * i, 1u << 16);
		ioapic_write(0x11 + 2 * i, 0);
	}
	kprintf("apic: lapic %#lx id %u, ioapic %#lx gsi %u-%u\n", lapic_pa, bsp_id, ioapic_pa,
		ioapic_gsi_base, ioapic_gsi_base + ioapic_pins - 1);
}

int ioapic_route(unsigned gsi, uint8_t vector, bool level, bool active_low)
{
	if (gsi < ioapic_gsi_base || gsi >= ioapic_gsi_base + ioapic_pins)
		return -1;
	unsigned pin = gsi - ioapic_gsi_base;
	uint32_t lo = vector | (active_low ? 1u << 13 : 0) | (level ? 1u << 15 : 0);
	uint64_t f = irq_save();
	ioapic_write(0x11 + 2 * pin, bsp_id << 24);
	ioapic_write(0x10 + 2 * pin, lo);
	irq_restore(f);
	return 0;
}

void ioapic_mask(unsigned gsi, bool masked)
{
	if (gsi < ioapic_gsi_base || gsi >= ioapic_gsi_base + ioapic_pins)
		return;
	unsigned reg = 0x10 + 2 * (gsi - ioapic_gsi_base);
	uint64_t f = irq_save();
	uint32_t lo = ioapic_read(reg);
	ioapic_write(reg, masked ? lo | (1u << 16) : lo & ~(1u << 16));
	irq_restore(f);
}

bool irq_isa_override(unsigned isa_irq, unsigned *gsi, bool *level, bool *active_low, bool pci)
{
	const struct acpi_info *a = acpi_get();
	bool found = false;

	/* Defaults when no override names the IRQ: identity, and the bus's
	 * own convention (ISA: edge, active high; PCI: level, active low). */
	*gsi = isa_irq;
	*level = pci;
	*active_low = pci;
	for (unsigned i = 0; i < a->niso; i++) {
		if (a->iso[i].isa_irq != isa_irq)
			continue;
		found = true;
		*gsi = a->iso[i].gsi;
		/* MPS INTI flags (ACPI 6.x table 5.50): polarity bits 1:0,
		 * trigger bits 3:2; 00 = conforms to the bus. */
		unsigned pol = a->iso[i].flags & 3, trig = (a->iso[i].flags >> 2) & 3;
		if (pol == 1)
			*active_low = false;
		else if (pol == 3)
			*active_low = true;
		if (trig == 1)
			*level = false;
		else if (trig == 3)
			*level = true;
	}
	return found;
}

int irq_route_isa(unsigned isa_irq)
{
	unsigned gsi;
	bool level, low;

	if (isa_irq > 15)
		return -1;
	irq_isa_override(isa_irq, &gsi, &level, &low, false);
	return ioapic_route(gsi, (uint8_t)(IRQ_VEC_ISA_BASE + isa_irq), level, low);
}

uint32_t ioapic_entry_low(unsigned gsi)
{
	if (gsi < ioapic_gsi_base || gsi >= ioapic_gsi_base + ioapic_pins)
		return 1u << 16;
	uint64_t f = irq_save();
	uint32_t lo = ioapic_read(0x10 + 2 * (gsi - ioapic_gsi_base));
	irq_restore(f);
	return lo;
}

void msi_compose(uint8_t vector, uint64_t *addr, uint32_t *data)
{
	/* Intel SDM 10.11: 0xFEE, destination ID in 19:12, RH=0, DM=0 (physical). */
	*addr = 0xfee00000ull | ((uint64_t)(bsp_id & 0xff) << 12);
	/* Edge trigger, fixed delivery mode, the vector in bits 7:0. */
	*data = vector;
}
