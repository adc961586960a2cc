/*
 * aarch64 CPU primitives of orion/arch.h: PSTATE.I through DAIF, YIELD,
 * the WFI idle wait, the frame-record backtrace, and the arch init hooks
 * orion_main calls.
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/kprintf.h"
#include "orion/timer.h"
#include "aarch64/aarch64.h"

#define DAIF_I (1u << 7)

unsigned long irq_save(void)
{
	unsigned long f;
	__asm__ volatile("mrs %0, daif; msr daifset, #2" : "=r"(f) :: "memory");
	return f;
}

void irq_restore(unsigned long f)
{
	__asm__ volatile("msr daif, %0" ::"r"(f) : "memory");
}

bool irq_enabled(void) { return !(sysreg_read(daif) & DAIF_I); }
void irq_enable(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
void irq_disable(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }
void cpu_relax(void) { __asm__ volatile("yield" ::: "memory"); }

/*
 * Entered with IRQs masked after the caller found no work.  WFI wakes on
 * a pending interrupt even while PSTATE.I masks it (ARM ARM D1.16.2,
 * "Wait For Interrupt"), so one arriving between the caller's check and
 * the WFI is not lost; unmasking afterwards takes it.
 */
void arch_idle(void)
{
	if (!arch_has_irqs()) {
		irq_enable();
		timer_poll_tick();
		return;
	}
	__asm__ volatile("dsb sy; wfi; msr daifclr, #2; isb" ::: "memory");
}

bool arch_has_irqs(void) { return a64_plat.gic_version != 0; }

/* AAPCS64 frame records: x29 -> {previous x29, x30}.  Frames live on the
 * boot stack inside the kernel image. */
void arch_backtrace(void)
{
	const uint64_t *fp = __builtin_frame_address(0);
	uint64_t lo = (uint64_t)(uintptr_t)__kernel_start, hi = (uint64_t)(uintptr_t)__kernel_end;
	for (int i = 0; i < 16 && fp; i++) {
		uint64_t a = (uint64_t)(uintptr_t)fp;
		if ((a & 7) || a < lo || a >= hi)
			break;
		kprintf(" %#lx", fp[1]);
		fp = (const uint64_t *)(uintptr_t)fp[0];
	}
}

/* mmu.c maps 0-1 TiB. */
uint64_t arch_phys_limit(void) { return 1ull << 40; }

void arch_cpu_init(const struct orion_boot_info *bi)
{
	(void)bi;
	a64_exceptions_init();
	if (!a64_have_fdt)
		panic("aarch64: no device tree at x0 or 0x40000000 (QEMU -M virt passes one)");
}

void arch_platform_init(void)
{
	const struct a64_platform *p = &a64_plat;
	kprintf("aarch64: DTB %#lx (%u bytes), GICv%d, PL011 %#lx irq %u, timer irq %u, "
		"PSCI %s, EL%lu, identity map 0-1 TiB\n",
		p->dtb_pa, p->dtb_size, p->gic_version, p->uart_base, p->uart_irq, p->timer_irq,
		p->psci ? (p->psci_smc ? "smc" : "hvc") : "none", (sysreg_read(CurrentEL) >> 2) & 3);
	if (!p->gic_version)
		kprintf("aarch64: no GIC in the device tree: poll mode\n");
}

void arch_irq_init(void)
{
	a64_gic_init();
	if (a64_plat.gic_version == 2)
		kprintf("aarch64: GICv2 MSI frame %s (%u SPIs)\n",
			a64_plat.v2m_base ? "v2m" : "none", a64_msi_available());
}
