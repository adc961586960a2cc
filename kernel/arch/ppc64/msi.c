/*
 * MSI on ppce500: the MPIC's MSI block (CCSR +0x41600, QEMU openpic FSL
 * model).  A message is a 32-bit write to MSIIR (+0x140) whose value names
 * a shared-interrupt register (SRS, bits 31:29) and a bit in it (IBS,
 * 28:24); the bit is set in MSIR<SRS> and MPIC source 224 + SRS is raised
 * until software reads MSIR<SRS> (which clears it).  So 8 x 32 = 256
 * message targets behind 8 MPIC sources.
 *
 * The device reaches MSIIR through the PCI host's inbound view of the
 * CCSR: the host bridge function's BAR0 (1 MiB), which ppc_pci_assign()
 * places in the memory window (pci_fsl.c).  The device writes the data
 * little-endian and the MSI block is a big-endian register, so the data
 * word carries the byte-swapped MSIIR value: SRS << 5 | IBS.
 *
 * Orion's irq numbers for messages: PPC64_MSI_IRQ0 + SRS * 32 + IBS, after
 * the 256 MPIC vectors.  The cascade handler reads MSIR once and runs the
 * handler of every bit that was set.
 */
#include "e500.h"
#include "mpic.h"
#include "msi.h"
#include "platform.h"

#define MSI_BLOCK   0x41600u     /* CCSR offset */
#define MSIR(n)     (0x10u * (n))
#define MSIIR       0x140u
#define MSI_SRC0    224u         /* MPIC sources of MSIR0..7 (DTB msi@41600) */

static uint64_t msi_bus_addr;    /* MSIIR as the device sees it, 0 = no MSI */
static uint32_t used[PPC64_MSI_COUNT / 32];
static struct { ppc64_irq_fn fn; void *arg; uint64_t count; } vec[PPC64_MSI_COUNT];

static void cascade(void *arg)
{
	unsigned srs = (unsigned)(uintptr_t)arg;
	uint32_t bits = ppc_in32be(ppc64_plat.mpic - 0x40000u + MSI_BLOCK + MSIR(srs));
	while (bits) {
		unsigned ibs = 31u - (unsigned)__builtin_clz(bits);
		bits &= ~(1u << ibs);
		unsigned i = srs * 32 + ibs;
		vec[i].count++;
		if (vec[i].fn)
			vec[i].fn(vec[i].arg);
	}
}

void ppc64_msi_init(uint64_t ccsr_bus_base)
{
	msi_bus_addr = 0;
	if (!ccsr_bus_base)
		return;
	for (unsigned s = 0; s < PPC64_MSI_COUNT / 32; s++)
		if (ppc64_mpic_route(MSI_SRC0 + s, false, 6, cascade, (void *)(uintptr_t)s) != 0)
			return;
	msi_bus_addr = ccsr_bus_base + MSI_BLOCK + MSIIR;
}

bool ppc64_msi_ok(void) { return msi_bus_addr != 0; }

int ppc64_msi_alloc(void)
{
	if (!msi_bus_addr)
		return -1;
	unsigned long f = ppc64_irq_save();
	for (unsigned i = 0; i < PPC64_MSI_COUNT; i++)
		if (!(used[i / 32] & (1u << (i % 32)))) {
			used[i / 32] |= 1u << (i % 32);
			ppc64_irq_restore(f);
			return (int)(PPC64_MSI_IRQ0 + i);
		}
	ppc64_irq_restore(f);
	return -1;
}

static bool is_msi(int irq)
{
	return irq >= (int)PPC64_MSI_IRQ0 && irq < (int)(PPC64_MSI_IRQ0 + PPC64_MSI_COUNT);
}

void ppc64_msi_free(int irq)
{
	if (!is_msi(irq))
		return;
	unsigned i = (unsigned)irq - PPC64_MSI_IRQ0;
	unsigned long f = ppc64_irq_save();
	used[i / 32] &= ~(1u << (i % 32));
	vec[i].fn = 0;
	vec[i].arg = 0;
	ppc64_irq_restore(f);
}

int ppc64_msi_compose(int irq, uint64_t *addr, uint32_t *data)
{
	if (!msi_bus_addr || !is_msi(irq))
		return -1;
	unsigned i = (unsigned)irq - PPC64_MSI_IRQ0;
	*addr = msi_bus_addr;
	*data = (i / 32) << 5 | (i % 32);   /* bswap32(SRS << 29 | IBS << 24) */
	return 0;
}

int ppc64_msi_set_handler(int irq, ppc64_irq_fn fn, void *arg)
{
	if (!is_msi(irq))
		return -1;
	unsigned i = (unsigned)irq - PPC64_MSI_IRQ0;
	unsigned long f = ppc64_irq_save();
	vec[i].fn = fn;
	vec[i].arg = arg;
	ppc64_irq_restore(f);
	return 0;
}

uint64_t ppc64_msi_count(int irq)
{
	return is_msi(irq) ? vec[(unsigned)irq - PPC64_MSI_IRQ0].count : 0;
}
