/*
 * ACPI table discovery (see acpi.h).
 *
 * Multiboot v1 does not pass the RSDP, so it is searched the BIOS way: the
 * first KiB of the EBDA, then 0xE0000-0xFFFFF on 16-byte boundaries.  The
 * XSDT is preferred when the RSDP revision is 2 or more.  Every table's
 * length is sanity-checked (< 1 MiB) before its checksum is summed, so a
 * corrupt pointer costs a warning, not a fault.  When ACPI is missing the
 * caller falls back to the architectural default APIC addresses.
 */
#include <stdint.h>

#include "x86/acpi.h"
#include "x86/io.h"
#include "orion/klib.h"
#include "orion/kprintf.h"

struct sdt_header {
	char sig[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem_id[6], oem_table_id[8];
	uint32_t oem_rev, creator_id, creator_rev;
} __attribute__((packed));

static struct acpi_info info;

static bool sum_ok(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;
	while (n--)
		s += *b++;
	return s == 0;
}

static const uint8_t *find_rsdp(void)
{
	uint64_t ebda = (uint64_t)(*(volatile uint16_t *)phys_to_virt(0x40e)) << 4;
	if (ebda >= 0x80000 && ebda < 0xa0000)
		for (uint64_t a = ebda; a < ebda + 1024; a += 16)
			if (!memcmp(phys_to_virt(a), "RSD PTR ", 8) && sum_ok(phys_to_virt(a), 20))
				return phys_to_virt(a);
	for (uint64_t a = 0xe0000; a < 0x100000; a += 16)
		if (!memcmp(phys_to_virt(a), "RSD PTR ", 8) && sum_ok(phys_to_virt(a), 20))
			return phys_to_virt(a);
	return NULL;
}

static const struct sdt_header *table_ok(uint64_t pa, const char *sig)
{
	if (!pa || pa >= (64ull << 30))
		return NULL;
	const struct sdt_header *h = phys_to_virt(pa);
	if (sig && memcmp(h->sig, sig, 4))
		return NULL;
	if (h->length < sizeof(*h) || h->length > (1u << 20) || !sum_ok(h, h->length)) {
		kprintf("acpi: table %.4s at %#lx has a bad length or checksum\n", h->sig, pa);
		return NULL;
	}
	return h;
}

static void parse_madt(const struct sdt_header *h)
{
	const uint8_t *p = (const uint8_t *)h;
	const uint8_t *end = p + h->length;

	info.have_madt = true;
	info.lapic_addr = *(const uint32_t *)(p + 36);
	for (p += 44; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
		switch (p[0]) {
		case 0:   /* processor local APIC; flags bit 0 = enabled */
			if (p[1] >= 8 && (*(const uint32_t *)(p + 4) & 1))
				info.ncpus++;
			break;
		case 1:   /* I/O APIC: the first one serves the ISA IRQs */
			if (p[1] >= 12 && !info.ioapic_addr) {
				info.ioapic_addr = *(const uint32_t *)(p + 4);
				info.ioapic_gsi_base = *(const uint32_t *)(p + 8);
			}
			break;
		case 2:   /* interrupt source override */
			if (p[1] >= 10 && info.niso < ARRAY_SIZE(info.iso)) {
				struct acpi_iso *o = &info.iso[info.niso++];
				o->isa_irq = p[3];
				o->gsi = *(const uint32_t *)(p + 4);
				o->flags = *(const uint16_t *)(p + 8);
			}
			break;
		case 5:   /* 64-bit local APIC address override */
			if (p[1] >= 12)
				info.lapic_addr = *(const uint64_t *)(p + 4);
			break;
		}
	}
}

/*
 * \_S5 in the DSDT is "Name(_S5_, Package(){a, b, ...})":
 * 08 '_S5_' 12 PkgLength NumElements then integers, each either a
 * BytePrefix (0x0A) constant or the one-byte Zero/One opcodes.
 */
static void parse_s5(const struct sdt_header *dsdt)
{
	const uint8_t *p = (const uint8_t *)dsdt + sizeof(*dsdt);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;

	for (; p + 8 < end; p++) {
		if (memcmp(p, "_S5_", 4) || p[4] != 0x12)
			continue;
		const uint8_t *q = p + 5;
		q += ((q[0] >> 6) & 3) + 1;   /* PkgLength: lead byte + follow bytes */
		q++;                          /* NumElements */
		if (q >= end)
			return;
		if (*q == 0x0a && q + 1 < end)
			info.slp_typ_s5 = q[1];
		else if (*q == 0x00 || *q == 0x01)
			info.slp_typ_s5 = *q;
		else
			return;
		info.s5_from_dsdt = true;
		return;
	}
}

static void parse_fadt(const struct sdt_header *h)
{
	const uint8_t *p = (const uint8_t *)h;

	info.have_fadt = true;
	if (h->length >= 68)
		info.pm1a_cnt = (uint16_t)*(const uint32_t *)(p + 64);
	uint64_t dsdt = h->length >= 44 ? *(const uint32_t *)(p + 40) : 0;
	if (h->length >= 148 && *(const uint64_t *)(p + 140))
		dsdt = *(const uint64_t *)(p + 140);
	const struct sdt_header *d = table_ok(dsdt, "DSDT");
	if (d)
		parse_s5(d);
}

void acpi_init(void)
{
	const uint8_t *rsdp = find_rsdp();
	if (!rsdp) {
		kprintf("acpi: no RSDP, using default APIC addresses\n");
		return;
	}
	uint8_t rev = rsdp[15];
	const struct sdt_header *root = NULL;
	unsigned entsz = 4;
	if (rev >= 2 && sum_ok(rsdp, *(const uint32_t *)(rsdp + 20)))
		root = table_ok(*(const uint64_t *)(rsdp + 24), "XSDT");
	if (root)
		entsz = 8;
	else
		root = table_ok(*(const uint32_t *)(rsdp + 16), "RSDT");
	if (!root) {
		kprintf("acpi: no valid RSDT/XSDT\n");
		return;
	}
	info.present = true;
	memcpy(info.oem, rsdp + 9, 6);
	unsigned n = (root->length - sizeof(*root)) / entsz;
	const uint8_t *ents = (const uint8_t *)root + sizeof(*root);
	for (unsigned i = 0; i < n; i++) {
		uint64_t pa = entsz == 8 ? *(const uint64_t *)(ents + 8 * i)
					 : *(const uint32_t *)(ents + 4 * i);
		const struct sdt_header *h = table_ok(pa, NULL);
		if (!h)
			continue;
		if (!memcmp(h->sig, "APIC", 4))
			parse_madt(h);
		else if (!memcmp(h->sig, "FACP", 4))
			parse_fadt(h);
	}
	kprintf("acpi: rev %u oem '%s' madt %s fadt %s cpus %u lapic %#lx ioapic %#lx "
		"isos %u pm1a_cnt %#x s5 %u%s\n",
		rev, info.oem, info.have_madt ? "yes" : "no", info.have_fadt ? "yes" : "no",
		info.ncpus, info.lapic_addr, info.ioapic_addr, info.niso, info.pm1a_cnt,
		info.slp_typ_s5, info.s5_from_dsdt ? "" : " (default)");
}

const struct acpi_info *acpi_get(void)
{
	return &info;
}
