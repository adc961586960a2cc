/*
 * The identity map (VA == PA) and turning the MMU and caches on.
 *
 * Why: with the MMU off every data access is Device-nGnRnE, where an
 * unaligned access faults and exclusives (the driver core's atomics) are
 * not guaranteed to work; the driver's rings and buffers want Normal
 * cacheable memory (QEMU's virtio devices are cache coherent, the DTB says
 * dma-coherent).  Device memory stays Device-nGnRE, never executable.
 *
 * Layout: 4 KiB granule, 40-bit VA (T0SZ = 24), one level-0 table with two
 * entries, two level-1 tables of 1 GiB blocks: 0-1 TiB mapped, which
 * covers virt's low peripherals, RAM, highmem ECAM at 256 GiB and the
 * 64-bit PCI window at 512 GiB.  A 1 GiB block is Normal write-back if it
 * overlaps a RAM range of the DTB, else Device.  The kernel runs from RAM,
 * so its block is always Normal.  TTBR1 walks are disabled (EPD1).
 */
#include <stdint.h>

#include "aarch64.h"

#define GIB (1ull << 30)
#define NBLOCKS 1024          /* 1 TiB of 1 GiB blocks */

/* MAIR_EL1 attribute indices. */
#define ATTR_DEVICE_nGnRE 0
#define ATTR_NORMAL_WB 1
#define MAIR_VALUE ((0x04ull << (8 * ATTR_DEVICE_nGnRE)) | (0xffull << (8 * ATTR_NORMAL_WB)))

#define DESC_TABLE 3ull
#define DESC_BLOCK 1ull
#define DESC_ATTR(i) ((uint64_t)(i) << 2)
#define DESC_SH_INNER (3ull << 8)
#define DESC_AF (1ull << 10)
#define DESC_PXN (1ull << 53)
#define DESC_UXN (1ull << 54)

static uint64_t l0[512] __attribute__((aligned(4096)));
static uint64_t l1[2][512] __attribute__((aligned(4096)));

extern char __kernel_start[], __kernel_end[];

static bool block_is_ram(uint64_t base)
{
	uint64_t k = (uint64_t)(uintptr_t)__kernel_start;
	if (k >= base && k - base < GIB)
		return true;
	if (!a64_have_fdt)
		return false;
	uint64_t b, s;
	for (unsigned i = 0; fdt_memory(&a64_fdt, i, &b, &s) == FDT_OK; i++)
		if (b < base + GIB && base < b + s)
			return true;
	return false;
}

void a64_mmu_init(void)
{
	for (unsigned i = 0; i < NBLOCKS; i++) {
		uint64_t base = (uint64_t)i * GIB;
		uint64_t d = base | DESC_BLOCK | DESC_AF;
		if (block_is_ram(base))
			d |= DESC_ATTR(ATTR_NORMAL_WB) | DESC_SH_INNER;
		else
			d |= DESC_ATTR(ATTR_DEVICE_nGnRE) | DESC_PXN | DESC_UXN;
		l1[i / 512][i % 512] = d;
	}
	l0[0] = (uint64_t)(uintptr_t)l1[0] | DESC_TABLE;
	l0[1] = (uint64_t)(uintptr_t)l1[1] | DESC_TABLE;

	/* TCR_EL1: T0SZ 24, inner/outer WB-WA walks, inner shareable, 4 KiB
	 * granule, EPD1 (no TTBR1 walks), IPS = the CPU's PA range. */
	uint64_t parange = sysreg_read(id_aa64mmfr0_el1) & 0xf;
	if (parange > 5)
		parange = 5;   /* 48 bits is enough for the 40-bit map */
	uint64_t tcr = 24 | (1ull << 8) | (1ull << 10) | (3ull << 12) | (0ull << 14) |
		       (1ull << 23) | (parange << 32);
	dsb(sy);
	sysreg_write(mair_el1, MAIR_VALUE);
	sysreg_write(tcr_el1, tcr);
	sysreg_write(ttbr0_el1, (uint64_t)(uintptr_t)l0);
	isb();
	__asm__ volatile("tlbi vmalle1" ::: "memory");
	dsb(nsh);
	isb();
	/* SCTLR_EL1: M (MMU), C (data cache), I (instruction cache); A
	 * (alignment check) off; SA (stack alignment) on. */
	uint64_t sctlr = sysreg_read(sctlr_el1);
	sctlr |= (1ull << 0) | (1ull << 2) | (1ull << 12) | (1ull << 3);
	sctlr &= ~(1ull << 1);
	sysreg_write(sctlr_el1, sctlr);
	isb();
}
