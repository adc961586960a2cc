/*
 * Private to kernel/arch/aarch64: system-register access, the exception
 * frame (layout shared with vectors.S), and the interfaces between this
 * directory's files.  Nothing outside kernel/arch/aarch64 includes it.
 */
#ifndef ORION_ARCH_AARCH64_H
#define ORION_ARCH_AARCH64_H

#include <stdint.h>
#include <stdbool.h>

#include "orion/fdt.h"

#define sysreg_read(r) ({ uint64_t v_; __asm__ volatile("mrs %0, " #r : "=r"(v_)); v_; })
#define sysreg_write(r, v) __asm__ volatile("msr " #r ", %0" ::"r"((uint64_t)(v)) : "memory")
#define isb() __asm__ volatile("isb" ::: "memory")
#define dsb(opt) __asm__ volatile("dsb " #opt ::: "memory")

/* 32-bit MMIO.  Device memory (nGnRE) in the identity map: accesses are
 * neither merged nor reordered with each other; the compiler barrier and
 * volatile keep the compiler from doing so. */
static inline uint32_t mmio_read32(uintptr_t a)
{
	uint32_t v;
	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline void mmio_write32(uintptr_t a, uint32_t v)
{
	__asm__ volatile("str %w0, [%1]" ::"rZ"(v), "r"(a) : "memory");
}

static inline void mmio_write8(uintptr_t a, uint8_t v)
{
	__asm__ volatile("strb %w0, [%1]" ::"rZ"(v), "r"(a) : "memory");
}

static inline void mmio_write64(uintptr_t a, uint64_t v)
{
	__asm__ volatile("str %x0, [%1]" ::"rZ"(v), "r"(a) : "memory");
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

/* GIC: enable INTID with a trigger (SPIs only; PPIs are fixed), mask it,
 * and the handler table (one handler per INTID, run with IRQs masked,
 * EOI after it returns). */
typedef void (*a64_irq_fn)(void *arg);
int a64_irq_register(unsigned intid, a64_irq_fn fn, void *arg);
void a64_irq_enable(unsigned intid, bool level);
void a64_irq_disable(unsigned intid);
uint64_t a64_irq_count(unsigned intid);
void a64_gic_handle(void);

/* Semihosting SYS_EXIT with a status for QEMU; returns only if the
 * debugger interface is off (the HLT traps as undefined and is skipped). */
void a64_semihost_exit(unsigned status);

#endif
