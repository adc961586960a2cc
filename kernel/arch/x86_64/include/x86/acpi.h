/*
 * Minimal ACPI table reader: RSDP (EBDA and 0xE0000-0xFFFFF), RSDT/XSDT,
 * MADT (LAPIC, IOAPIC, interrupt source overrides) and FADT (PM1a control
 * block and the \_S5 sleep type from the DSDT, for power-off).  Tables are
 * read in place through the identity map; checksums are verified.
 */
#ifndef X86_ACPI_H
#define X86_ACPI_H

#include <stdint.h>
#include <stdbool.h>

struct acpi_iso {         /* MADT interrupt source override */
	uint8_t isa_irq;
	uint32_t gsi;
	uint16_t flags;       /* MPS INTI flags: bits 0-1 polarity, 2-3 trigger */
};

struct acpi_info {
	bool present;          /* RSDP found and RSDT/XSDT valid */
	bool have_madt, have_fadt;
	uint64_t lapic_addr;
	uint64_t ioapic_addr;
	uint32_t ioapic_gsi_base;
	unsigned ncpus;
	struct acpi_iso iso[16];
	unsigned niso;
	uint16_t pm1a_cnt;     /* I/O port, 0 if unknown */
	uint8_t slp_typ_s5;    /* SLP_TYPa for S5 */
	bool s5_from_dsdt;
	char oem[7];
};

void acpi_init(void);
const struct acpi_info *acpi_get(void);

#endif
