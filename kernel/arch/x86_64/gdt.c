/*
 * The long-mode GDT and the TSS.
 *
 * Selectors match the boot GDT (0x08 code, 0x10 data) so nothing has to be
 * reloaded twice.  The TSS exists for its interrupt stack table: double
 * faults and NMIs switch to their own stacks (IST1/IST2) so a kernel stack
 * overflow still produces a register dump instead of a triple fault.
 * Orion has no user mode, so RSP0 is unused.
 */
#include <stdint.h>

#include "x86/irq.h"
#include "orion/klib.h"

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

_Static_assert(sizeof(struct tss) == 104, "TSS layout");

static struct tss tss;
static uint64_t gdt[5];
static uint8_t ist_stacks[2][16384] __attribute__((aligned(16)));

void gdt_init(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss;
	uint64_t limit = sizeof(tss) - 1;

	tss.ist[0] = (uint64_t)(uintptr_t)(ist_stacks[0] + sizeof(ist_stacks[0]));
	tss.ist[1] = (uint64_t)(uintptr_t)(ist_stacks[1] + sizeof(ist_stacks[1]));
	tss.iomap_base = sizeof(tss);   /* no I/O bitmap */

	gdt[0] = 0;
	gdt[1] = 0x00209a0000000000ull;   /* 0x08: 64-bit code */
	gdt[2] = 0x0000920000000000ull;   /* 0x10: data */
	/* 0x18: 16-byte available 64-bit TSS descriptor (type 9, present) */
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[4] = base >> 32;

	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt };

	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq $0x08\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movw $0x10, %%ax\n\t"
		"movw %%ax, %%ds\n\t"
		"movw %%ax, %%es\n\t"
		"movw %%ax, %%ss\n\t"
		"movw $0x18, %%ax\n\t"
		"ltr %%ax"
		: : "m"(ptr) : "rax", "memory");
}
