/*
 * QEMU's ppce500 board (hw/ppc/e500.c, e500plat.c) as Orion sees it.
 *
 * Physical map (36-bit; identity mapped by the TLB1 entries of mmu.c):
 *   0x0_0000_0000  RAM (-m), kernel linked at 1 MiB, DTB placed by QEMU
 *   0xC_0000_0000  PCI memory window, 512 MiB -> PCI bus 0xE000_0000
 *   0xF_0000_0000  platform bus (unused)
 *   0xF_E000_0000  CCSR, 1 MiB: UART0 +0x4500, PCI host +0x8000,
 *                  MPIC +0x40000, GUTS +0xE0000, GPIO +0xFF000
 *   0xF_E100_0000  PCI I/O window, 64 KiB -> PCI I/O 0
 * The DTB describes all of it; these are the fallbacks and the TLB layout.
 */
#ifndef ORION_PPC64_E500_H
#define ORION_PPC64_E500_H

#include <stdint.h>

#define E500_CCSR_BASE      0xFE0000000ull
#define E500_CCSR_SIZE      0x100000ull
#define E500_CCSR_MAP       0x1000000ull    /* TLB1 entry: CCSR + PCI I/O */
#define E500_UART0          (E500_CCSR_BASE + 0x4500)
#define E500_PCI_REGS       (E500_CCSR_BASE + 0x8000)
#define E500_GPIO           (E500_CCSR_BASE + 0xFF000)
#define E500_MPIC           (E500_CCSR_BASE + 0x40000)
#define E500_GUTS           (E500_CCSR_BASE + 0xE0000)

#define E500_PCI_MEM_CPU    0xC00000000ull
#define E500_PCI_MEM_BUS    0xE0000000ull
#define E500_PCI_MEM_SIZE   0x20000000ull
#define E500_PCI_IO_CPU     0xFE1000000ull
#define E500_PCI_IO_SIZE    0x10000ull

#define E500_TB_FREQ_DEFAULT 400000000u   /* QEMU's timebase-frequency */

/* Big-endian MMIO with the ordering Power asks for (sync before a store,
 * twi/isync after a load so the access completes before what follows). */
static inline uint8_t ppc_in8(uint64_t a)
{
	uint8_t v = *(volatile uint8_t *)a;
	__asm__ volatile("twi 0,%0,0; isync" : : "r"(v) : "memory");
	return v;
}

static inline void ppc_out8(uint64_t a, uint8_t v)
{
	__asm__ volatile("sync" : : : "memory");
	*(volatile uint8_t *)a = v;
}

static inline uint32_t ppc_in32be(uint64_t a)
{
	uint32_t v = *(volatile uint32_t *)a;
	__asm__ volatile("twi 0,%0,0; isync" : : "r"(v) : "memory");
	return v;
}

static inline void ppc_out32be(uint64_t a, uint32_t v)
{
	__asm__ volatile("sync" : : : "memory");
	*(volatile uint32_t *)a = v;
}

/* Little-endian 32/16-bit MMIO (byte-reversed load/store). */
static inline uint32_t ppc_in32le(uint64_t a)
{
	uint32_t v;
	__asm__ volatile("lwbrx %0,0,%1; twi 0,%0,0; isync" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline void ppc_out32le(uint64_t a, uint32_t v)
{
	__asm__ volatile("sync; stwbrx %0,0,%1" : : "r"(v), "r"(a) : "memory");
}

static inline uint16_t ppc_in16le(uint64_t a)
{
	uint16_t v;
	__asm__ volatile("lhbrx %0,0,%1; twi 0,%0,0; isync" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline void ppc_out16le(uint64_t a, uint16_t v)
{
	__asm__ volatile("sync; sthbrx %0,0,%1" : : "r"(v), "r"(a) : "memory");
}

static inline uint64_t ppc_mftb(void)
{
	uint64_t t;
	__asm__ volatile("mfspr %0,268" : "=r"(t));
	return t;
}

/* mmu.c */
void ppc_tlb1_map(unsigned esel, uint64_t va, uint64_t pa, unsigned tsize_log2_kib, int io);
void ppc_mmu_init(void);
/* uart.c */
void ppc_uart_init(uint64_t base);
void ppc_uart_putc(char c);      /* "\n" as "\r\n" (bring-up) */
void ppc_uart_raw_putc(char c);  /* one byte, bounded wait */
int ppc_uart_getc(void);   /* -1 when nothing is waiting */
/* exit.c */
void ppc_poweroff(void) __attribute__((noreturn));
/* FAIL: pvpanic if present (QEMU exit 1), else stop. */
void ppc64_fatal(void) __attribute__((noreturn));
/* exc.c */
void ppc_exc_init(void);

#endif
