/*
 * Private to kernel/arch/aarch64: system-register access, the exception
 * frame (layout shared with vectors.S), and the interfaces between this
 * directory's files.  Nothing outside kernel/arch/aarch64 includes it.
 */
#ifndef ORION_ARCH_AARCH64_H
#define ORION_ARCH_AARCH64_H

#include <stdint.h>
#include <stdbool.h>

#include "orion/arch.h"
#include "orion/fdt.h"

#define sysreg_read(r) ({ uint64_t v_; __asm__ volatile("mrs %0, " #r : "=r"(v_)); v_; })
#define sysreg_write(r, v) __asm__ volatile("msr " #r ", %0" ::"r"((uint64_t)(v)) : "memory")
#define isb() __asm__ volatile("isb" ::: "memory")
#define dsb(opt) __asm__ volatile("dsb " #opt ::: "memory")

/* 64-bit MMIO store (GICv3 IROUTER); 32-bit MMIO is arch.h's
 * mmio_read32/mmio_write32: Device-nGnRE in the identity map, so accesses
 * are neither merged nor reordered with each other. */
static inline void a64_mmio_write64(uintptr_t a, uint64_t v)
{
	*(volatile uint64_t *)a = v;
}

/* Exception frame pushed by vectors.S (288 bytes, 16-aligned). */
struct a64_frame {
	uint64_t x[31];      /* x0..x30 */
	uint64_t elr, spsr, esr, far;
	uint64_t kind;       /* A64_EXC_* */
};
#define A64_FRAME_SIZE 288
_Static_assert(sizeof(struct a64_frame) <= A64_FRAME_SIZE, "vectors.S frame");

enum {
	A64_EXC_SYNC = 0, A64_EXC_IRQ = 1, A64_EXC_FIQ = 2, A64_EXC_SERROR = 3,
	A64_EXC_BAD = 4,     /* a vector Orion never expects (EL0, SP_EL0, AArch32) */
};

/* The device tree QEMU handed over (platform.c); valid after a64_platform_init. */
extern struct fdt a64_fdt;
extern bool a64_have_fdt;

/* Where things are, from the DTB (platform.c). */
struct a64_platform {
	uint64_t uart_base;           /* PL011 */
	unsigned uart_irq;            /* GIC INTID, 0 = none */
	int gic_version;              /* 2 or 3, 0 = none found */
	uint64_t gicd_base, gicc_base, gicr_base; /* gicc for v2, gicr for v3 */
	uint64_t v2m_base;            /* GICv2m MSI frame, 0 = none */
	unsigned timer_irq;           /* virtual timer PPI as INTID */
	bool psci_smc;                /* PSCI conduit: smc, else hvc */
	bool psci;                    /* a PSCI node was found */
	const char *bootargs;
	uint64_t ram_base, ram_size;  /* the first RAM range */
	uint64_t dtb_pa;
	uint32_t dtb_size;
};
extern struct a64_platform a64_plat;

/* The GIC INTID of the index-th interrupt of a DTB node using the GIC's
 * 3-cell binding (SPI n -> 32 + n, PPI n -> 16 + n); *level from the
 * flags cell.  -1 if the node has none or it is not the GIC's. */
int a64_fdt_gic_intid(int node, unsigned index, bool *level);

void a64_platform_init(uint64_t dtb_x0);
void a64_mmu_init(void);
void a64_exceptions_init(void);
void a64_gic_init(void);
/* The IRQ exception: acknowledge, dispatch, EOI until nothing is pending. */
void a64_gic_handle(void);
/* Enable/disable an INTID at the GIC (SPIs get the trigger; PPIs are fixed). */
void a64_irq_enable(unsigned intid, bool level);
void a64_irq_disable(unsigned intid);
/* MSI through the GICv2m frame (gic.c). */
unsigned a64_msi_available(void);

/* A synchronous exception handler for self-tests: called for BRK (EC
 * 0x3c); returning true resumes at the (possibly changed) ELR. */
extern bool (*a64_brk_hook)(struct a64_frame *f);

/* Semihosting SYS_EXIT with a status for QEMU; returns only if the
 * debugger interface is off (the HLT traps as undefined and is skipped). */
void a64_semihost_exit(unsigned status);

#endif
