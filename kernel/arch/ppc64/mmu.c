/*
 * e5500 MMU: Book3E never runs untranslated, so everything Orion touches
 * is covered by TLB1 (variable-size, software-loaded) entries, identity
 * mapped, protected from invalidation (IPROT), PID 0, supervisor RWX.
 * e5500 TLB1 pages are 4^n KiB, so each size below is an even power of
 * two in KiB.  Entry 0 (QEMU's initial mapping of the kernel and DTB) is
 * rewritten in place with a larger size; the code running from it stays
 * mapped at the same address throughout.
 */
#include "e500.h"
#include "pci_fsl.h"

#define SPRN_MAS0 624
#define SPRN_MAS1 625
#define SPRN_MAS2 626
#define SPRN_MAS3 627
#define SPRN_MAS7 944

#define MAS0_TLBSEL1   0x10000000u
#define MAS0_ESEL(n)   (((uint32_t)(n) & 0x3f) << 16)
#define MAS1_VALID     0x80000000u
#define MAS1_IPROT     0x40000000u
#define MAS1_TSIZE(t)  (((uint32_t)(t) & 0x1f) << 7)
#define MAS2_I         0x08u
#define MAS2_M         0x04u
#define MAS2_G         0x02u
#define MAS3_SX        0x10u
#define MAS3_SW        0x04u
#define MAS3_SR        0x01u

#define mtspr(n, v) __asm__ volatile("mtspr " #n ",%0" : : "r"((uint64_t)(v)))

void ppc_tlb1_map(unsigned esel, uint64_t va, uint64_t pa, unsigned tsize_log2_kib, int io)
{
	uint64_t mas2 = (va & ~0xfffull) | (io ? (MAS2_I | MAS2_G) : MAS2_M);
	uint32_t mas3 = (uint32_t)(pa & 0xfffff000u) | MAS3_SX | MAS3_SW | MAS3_SR;

	mtspr(624, MAS0_TLBSEL1 | MAS0_ESEL(esel));
	mtspr(625, MAS1_VALID | MAS1_IPROT | MAS1_TSIZE(tsize_log2_kib));
	mtspr(626, mas2);
	mtspr(627, mas3);
	mtspr(944, pa >> 32);
	__asm__ volatile("isync; tlbwe; isync" : : : "memory");
}

void ppc_mmu_init(void)
{
	/* RAM: 1 GiB from 0 (QEMU's -m fits; -m above 1 GiB is not used). */
	ppc_tlb1_map(0, 0, 0, 20, 0);
	/* CCSR and the PCI I/O window behind it: 16 MiB at 0xF_E000_0000. */
	ppc_tlb1_map(1, E500_CCSR_BASE, E500_CCSR_BASE, 14, 1);
	/* PCI memory window as Orion programs it (pci_fsl.c): 256 MiB at
	 * 0xE000_0000, CPU address == PCI bus address. */
	ppc_tlb1_map(2, PPC_PCI_MEM_BASE, PPC_PCI_MEM_BASE, 18, 1);
}
