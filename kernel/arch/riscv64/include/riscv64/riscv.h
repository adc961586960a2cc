/*
 * riscv64 private definitions: CSR access, the trap frame, SBI calls and
 * the platform description the DTB walk fills in.  Only files under
 * kernel/arch/riscv64/ see this (include/riscv64/); common code sees orion/arch.h.
 *
 * The kernel runs in S-mode under OpenSBI with translation off
 * (satp = 0, "Bare"): virtual == physical for RAM and MMIO alike; OpenSBI's
 * PMP keeps its own memory out of our reach.  One hart (the one OpenSBI
 * started us on); the others stay parked in the firmware.
 */
#ifndef ORION_ARCH_RISCV64_H
#define ORION_ARCH_RISCV64_H

#include <stdbool.h>
#include <stdint.h>

#include "orion/fdt.h"

/* ---- CSRs (RISC-V privileged spec 1.12, ch. 4) ---- */
#define csr_read(csr) ({ unsigned long v_; __asm__ volatile("csrr %0, " #csr : "=r"(v_) :: "memory"); v_; })
#define csr_write(csr, v) __asm__ volatile("csrw " #csr ", %0" :: "rK"((unsigned long)(v)) : "memory")
#define csr_set(csr, v) __asm__ volatile("csrs " #csr ", %0" :: "rK"((unsigned long)(v)) : "memory")
#define csr_clear(csr, v) __asm__ volatile("csrc " #csr ", %0" :: "rK"((unsigned long)(v)) : "memory")
/* Clear bits and return the old value, in one instruction. */
#define csr_read_clear(csr, v) ({ unsigned long o_; __asm__ volatile("csrrc %0, " #csr ", %1" : "=r"(o_) : "rK"((unsigned long)(v)) : "memory"); o_; })

#define SSTATUS_SIE (1ul << 1)     /* S-mode interrupts enabled */
#define SSTATUS_SPIE (1ul << 5)
#define SSTATUS_SPP (1ul << 8)
#define SIE_SSIE (1ul << 1)        /* supervisor software */
#define SIE_STIE (1ul << 5)        /* supervisor timer */
#define SIE_SEIE (1ul << 9)        /* supervisor external (PLIC) */
#define SCAUSE_INTR (1ul << 63)
#define IRQ_S_SOFT 1
#define IRQ_S_TIMER 5
#define IRQ_S_EXT 9
#define EXC_BREAKPOINT 3

/* ---- trap frame: layout shared with trap.S ---- */
struct rv_frame {
	unsigned long x[32];   /* x[0] unused; x[2] is the sp before the trap */
	unsigned long sepc, sstatus, scause, stval;
};
#define RV_FRAME_SIZE (36 * 8)
_Static_assert(sizeof(struct rv_frame) == RV_FRAME_SIZE, "trap.S frame layout");

void rv_trap(struct rv_frame *f);        /* trap.c, called from trap.S */
/* An exception hook (self-tests): return true when handled (sepc may be
 * advanced), false to dump and panic.  One hook; NULL clears. */
void rv_set_exception_hook(bool (*fn)(struct rv_frame *f));
const char *rv_exception_name(unsigned long code);
uint64_t rv_intr_count(unsigned cause);  /* interrupts by scause code */

/* ---- SBI (RISC-V SBI spec 2.0) ---- */
struct sbiret {
	long error;
	long value;
};
struct sbiret sbi_ecall(long ext, long fid, unsigned long a0, unsigned long a1, unsigned long a2);
bool sbi_has_extension(long ext);
void sbi_console_putchar(int c);                 /* legacy extension 0x01 */
void sbi_set_timer(uint64_t stime);              /* TIME extension, or legacy 0x00 */
/* SRST shutdown; returns only when the firmware lacks SRST. */
void sbi_shutdown(bool failure);
#define SBI_EXT_BASE 0x10
#define SBI_EXT_TIME 0x54494D45
#define SBI_EXT_SRST 0x53525354

/* ---- the platform, as the device tree describes it (entry.c) ---- */
#define RV_MAX_MMIO 32
struct rv_platform {
	unsigned long hartid;
	const void *dtb;
	uint64_t timebase_hz;            /* /cpus timebase-frequency */
	uint64_t uart_base;              /* ns16550a; 0 = none (SBI console) */
	unsigned uart_shift, uart_width; /* reg-shift, reg-io-width */
	unsigned uart_irq;               /* PLIC source, 0 = none */
	uint64_t plic_base;              /* 0 = no PLIC: devices are polled */
	unsigned plic_ndev;              /* riscv,ndev */
	int plic_ctx;                    /* this hart's S-mode context, -1 unknown */
	uint64_t finisher_base;          /* sifive,test0; 0 = SBI SRST */
	uint64_t mmio_base[RV_MAX_MMIO], mmio_size[RV_MAX_MMIO];
	unsigned mmio_irq[RV_MAX_MMIO], n_mmio;
};
extern struct rv_platform rv_plat;
/* The checked device tree (valid when rv_fdt_err == FDT_OK). */
extern struct fdt rv_fdt;
extern int rv_fdt_err;
/* The DTB node of the PLIC (for interrupt specifiers), or < 0. */
extern int rv_plic_node;
/* A node's index-th interrupt as a PLIC source, or 0 (none, or it goes to
 * another controller). */
unsigned rv_dt_plic_irq(int node, unsigned index);

/* ---- drivers ---- */
void rv_timer_irq(void);                         /* S-timer interrupt (timer.c) */
int plic_init(uint64_t base, unsigned ndev, unsigned ctx);   /* irq.c */
bool plic_present(void);
void plic_dispatch(void);                        /* S-external interrupt */

static inline void rv_wfi(void) { __asm__ volatile("wfi" ::: "memory"); }

#endif
