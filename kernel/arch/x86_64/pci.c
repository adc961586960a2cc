/*
 * x86_64 PCI: configuration mechanism #1 and the INTx routing of QEMU's
 * pc and q35 boards (orion/arch.h: arch_pci_*).
 *
 * Config access: CONFIG_ADDRESS (0xCF8) selects bus/device/function and
 * the dword, CONFIG_DATA (0xCFC + byte offset) moves the data; the pair
 * is one critical section (interrupts off).  It reaches the first 256
 * bytes of every function on pc (i440FX) and q35 (ECAM is not used).
 *
 * INTx: where a function's pin ends up is described by ACPI _PRT (AML we
 * do not interpret) or fixed by the chipset.  After the common bridge
 * swizzle (dev/pci.c) gives the bus-0 slot S and pin P:
 *
 *  - pc (i440FX + PIIX3, 8086:7000 at 00:01.0): bus-0 slot S pin P (1-4)
 *    drives PIRQ[(S - 1 + P - 1) mod 4] (QEMU's i440FX rotation: slot 1,
 *    the PIIX3 itself, starts at PIRQA).  The PIIX3's PIRQRC[A-D]
 *    registers (config 0x60-0x63: bit 7 = routing disabled, bits 3:0 = ISA
 *    IRQ) connect the PIRQ to an ISA IRQ, which QEMU wires to the IOAPIC
 *    pin of the same number; the MADT override for that IRQ (QEMU: 5, 9,
 *    10 and 11 are level, active high) gives the GSI and polarity.
 *    SeaBIOS programs PIRQA-D = 10, 10, 11, 11 and writes the same IRQ to
 *    the function's Interrupt Line; the router register wins (it is what
 *    the hardware does).
 *  - q35 (ICH9 LPC, 8086:2918 at 00:1f.0): in APIC mode PIRQ[A-H] drive
 *    IOAPIC pins 16-23 directly, whatever the PIC routing registers say.
 *    Bus-0 slots 0-24 are wired INT(P) -> PIRQ[E + (S + P - 1) mod 4]
 *    (QEMU's ich9 LPC default routing, which its DSDT _PRT repeats: GSI
 *    20 + (S + P - 1) mod 4, "Level, ActiveHigh").  Slots 25-31 use the
 *    chipset's D<N>IR registers; their QEMU reset value routes INTA-D to
 *    PIRQA-D (GSI 16-19), which is what is assumed here.  The Interrupt
 *    Line register only names the PIC-mode IRQ (10 or 11) and is
 *    informational.
 *  - anything else: not routed (the caller polls).
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/kprintf.h"
#include "orion/pci.h"
#include "x86/io.h"
#include "x86/irq.h"

#define CFG_ADDR 0xcf8
#define CFG_DATA 0xcfc

static uint32_t cfg_addr(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	return 0x80000000u | (bus << 16) | (dev << 11) | (fn << 8) | (off & 0xfc);
}

int arch_pci_init(void)
{
	return 0;   /* pc and q35 always have the host bridge; SeaBIOS assigned the BARs */
}

uint32_t arch_pci_cfg_read(unsigned bus, unsigned dev, unsigned fn, unsigned off, unsigned width)
{
	unsigned long f = irq_save();
	outl(CFG_ADDR, cfg_addr(bus, dev, fn, off));
	uint32_t v = width == 4 ? inl(CFG_DATA) : width == 2 ? inw(CFG_DATA + (off & 2)) : inb(CFG_DATA + (off & 3));
	irq_restore(f);
	return v;
}

void arch_pci_cfg_write(unsigned bus, unsigned dev, unsigned fn, unsigned off, unsigned width, uint32_t v)
{
	unsigned long f = irq_save();
	outl(CFG_ADDR, cfg_addr(bus, dev, fn, off));
	if (width == 4)
		outl(CFG_DATA, v);
	else if (width == 2)
		outw(CFG_DATA + (off & 2), (uint16_t)v);
	else
		outb(CFG_DATA + (off & 3), (uint8_t)v);
	irq_restore(f);
}

/* I/O BARs are port numbers (16 bits). */
bool arch_pci_io_supported(void)
{
	return true;
}

uint32_t arch_pci_io_read(uint64_t addr, unsigned width)
{
	uint16_t port = (uint16_t)addr;
	return width == 4 ? inl(port) : width == 2 ? inw(port) : inb(port);
}

void arch_pci_io_write(uint64_t addr, unsigned width, uint32_t v)
{
	uint16_t port = (uint16_t)addr;
	if (width == 4)
		outl(port, v);
	else if (width == 2)
		outw(port, (uint16_t)v);
	else
		outb(port, (uint8_t)v);
}

int arch_pci_intx_route(const struct pci_dev *d, struct pci_intx_route *r)
{
	(void)d;
	unsigned slot = r->root_slot, pin = r->root_pin;
	struct pci_dev *lpc = pci_find_at(0, 0x1f, 0);
	struct pci_dev *piix = pci_find_at(0, 1, 0);
	if (lpc && lpc->vendor == 0x8086 && lpc->device == 0x2918) {
		unsigned pirq = slot <= 24 ? 4u + ((slot + pin - 1u) & 3u) : pin - 1u;
		ksnprintf(r->path, sizeof(r->path), "ich9 PIRQ%c", 'A' + pirq);
		r->gsi = 16u + pirq;
		r->level = true;
		r->active_low = false;   /* QEMU's DSDT: GSIA-H are Level, ActiveHigh */
		return 0;
	}
	if (piix && piix->vendor == 0x8086 && piix->device == 0x7000) {
		unsigned pirq = (slot + pin - 2u) & 3u;   /* unsigned wrap keeps slot 0 in the rotation */
		uint8_t rc = pci_cfg_read8(piix, 0x60 + pirq);
		if (rc & 0x80) {
			r->why = "PIIX3 PIRQ routing disabled";
			return -1;
		}
		unsigned irq = rc & 0x0f;
		/* PIIX3 reserves IRQ 0-2, 8 and 13: not routable. */
		if (irq < 3 || irq == 8 || irq == 13) {
			r->why = "PIIX3 PIRQ routed to a reserved IRQ";
			return -1;
		}
		ksnprintf(r->path, sizeof(r->path), "piix3 PIRQ%c -> ISA IRQ %u", 'A' + pirq, irq);
		/* ISA IRQ -> GSI/trigger/polarity: the MADT override if there is
		 * one, else identity, level, active low (a PCI line's own
		 * convention; "conforms to the bus"). */
		unsigned gsi = irq;
		bool level = true, low = true;
		irq_isa_override(irq, &gsi, &level, &low, true);
		r->gsi = gsi;
		r->level = level;
		r->active_low = low;
		return 0;
	}
	r->why = "unknown chipset (neither PIIX3 nor ICH9)";
	return -1;
}
