/*
 * ppc64 (QEMU ppce500, e5500) entry and the orion/arch.h hooks that are
 * not a device: start.c maps the board and reads the DTB, then calls
 * ppc64_arch_main(), which turns the DTB into a struct orion_boot_info and
 * calls the common orion_main().
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/fdt.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "e500.h"
#include "exc.h"
#include "mpic.h"
#include "pci_fsl.h"
#include "platform.h"

/* TLB1 entry 0 maps this much RAM (mmu.c). */
#define PPC64_RAM_MAPPED (1ull << 30)

void ppc64_arch_main(void *dtb, unsigned long magic);

static struct orion_boot_info boot_info;
static unsigned long boot_magic;

void ppc64_arch_main(void *dtb, unsigned long magic)
{
	struct ppc64_platform *p = &ppc64_plat;
	struct orion_boot_info *bi = &boot_info;

	boot_magic = magic;
	bi->arch = "ppc64";
	bi->cmdline = p->bootargs;
	bi->dtb = p->fdt_ok ? dtb : NULL;
	if (p->fdt_ok) {
		uint64_t base, len;
		for (unsigned i = 0; bi->nram < ORION_BOOT_MAX_RANGES &&
		     fdt_memory(&p->fdt, i, &base, &len) == FDT_OK; i++) {
			if (base >= PPC64_RAM_MAPPED)
				continue;
			if (base + len > PPC64_RAM_MAPPED)
				len = PPC64_RAM_MAPPED - base;
			bi->ram[bi->nram++] = (struct orion_mem_range){ base, len };
		}
		bi->reserved[bi->nreserved++] = (struct orion_mem_range){
			(uint64_t)(uintptr_t)dtb, p->fdt.totalsize };
		for (unsigned i = 0; bi->nreserved < ORION_BOOT_MAX_RANGES &&
		     fdt_reserved(&p->fdt, i, &base, &len) == FDT_OK; i++)
			bi->reserved[bi->nreserved++] = (struct orion_mem_range){ base, len };
	} else {
		bi->ram[bi->nram++] = (struct orion_mem_range){ p->ram_base, p->ram_size };
	}
	if (p->initrd_end > p->initrd_start) {
		bi->initrd_base = p->initrd_start;
		bi->initrd_len = p->initrd_end - p->initrd_start;
	}
	orion_main(bi);
}

void arch_cpu_init(const struct orion_boot_info *bi)
{
	(void)bi;
	if (!ppc64_plat.fdt_ok)
		panic("ppc64: no usable device tree in r3 (%s; ePAPR magic %#lx)",
		      fdt_strerror(ppc64_plat.fdt_err), boot_magic);
	kprintf("orion: e5500 64-bit Book3E, TLB1: RAM 0-1 GiB, CCSR %#llx, PCI %#llx\n",
		(unsigned long long)E500_CCSR_BASE, (unsigned long long)PPC_PCI_MEM_BASE);
	ppc_exc_init();
}

void arch_platform_init(void)
{
	/* The DTB was read at entry (platform.c); nothing else to find. */
}

void arch_devices_init(void)
{
	/* ppce500 has no virtio-mmio windows. */
}

/* ---------------------------------------------------------------- CPU */

unsigned long irq_save(void) { return ppc64_irq_save(); }
void irq_restore(unsigned long flags) { ppc64_irq_restore(flags); }
bool irq_enabled(void) { return ppc64_irq_enabled(); }
void irq_enable(void) { ppc64_irq_on(); }
void irq_disable(void) { (void)ppc64_irq_save(); }
void cpu_relax(void) { __asm__ volatile("or 1,1,1; or 2,2,2" ::: "memory"); }
bool arch_has_irqs(void) { return true; }

/*
 * Enable interrupts and wait, atomically: an interrupt taken between the
 * wrteei and the wait resumes after the wait (exc.c moves a saved PC that
 * points at ppc64_idle_wait past it), so the caller re-checks its work.
 */
__attribute__((noinline)) void arch_idle(void)
{
	__asm__ volatile("wrteei 1\n"
			 ".globl ppc64_idle_wait\n"
			 "ppc64_idle_wait:\n"
			 "\twait\n" ::: "memory");
}

/* ELFv1 frames: back chain at 0(r1), the caller's LR saved at 16. */
void arch_backtrace(void)
{
	const uint64_t *sp = __builtin_frame_address(0);
	for (int i = 0; i < 16 && sp; i++) {
		uint64_t a = (uint64_t)(uintptr_t)sp;
		if (a & 7 || a < 0x100000 || a >= PPC64_RAM_MAPPED)
			break;
		const uint64_t *next = (const uint64_t *)(uintptr_t)sp[0];
		if (!next || next <= sp)
			break;
		kprintf(" %#llx", (unsigned long long)next[2]);
		sp = next;
	}
}

/* RAM (1 GiB), the PCI window and the CCSR are identity mapped. */
uint64_t arch_phys_limit(void) { return E500_CCSR_BASE + E500_CCSR_MAP; }

/* ---------------------------------------------------------------- self-tests */

static volatile int prog_seen;

static int prog_handler(struct ppc64_regs *r)
{
	r->pc += 4;   /* a program exception: resume after the instruction */
	prog_seen++;
	return 1;
}

int arch_selftest_exception(void)
{
	ppc64_exc_set_handler(6, prog_handler);
	__asm__ volatile(".long 0" ::: "memory");   /* illegal instruction */
	ppc64_exc_set_handler(6, NULL);
	if (prog_seen != 1) {
		kprintf("selftest: FAIL program-exception handler ran %d times\n", prog_seen);
		return -1;
	}
	kprintf("selftest: exception dispatch ok\n");
	return 0;
}

void arch_raise_fault(void)
{
	ppc64_exc_set_handler(6, NULL);
	__asm__ volatile(".long 0" ::: "memory");
}
