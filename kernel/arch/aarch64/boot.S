/*
 * aarch64 entry.  QEMU's virt machine loads this ELF (no firmware, no
 * -bios) and starts CPU 0 at _start: at EL1 normally, at EL2 with
 * virtualization=on (then we drop to EL1).  For a non-Linux image QEMU
 * copies the DTB to the start of RAM and leaves x0 alone; if x0 holds a
 * DTB address anyway (a Linux-style loader), platform.c prefers it.
 * Other CPUs (-smp > 1) stay powered off until PSCI CPU_ON, which Orion
 * never calls.
 *
 * Here: mask everything, leave EL2 if needed, set SP_EL1 to the boot stack,
 * zero .bss, allow FP/SIMD instructions (the kernel is built with
 * -mgeneral-regs-only, but a stray one must not trap), then
 * a64_entry(x0) in C with the MMU still off (hence -mstrict-align: with
 * the MMU off every data access is Device memory, where an unaligned
 * access faults).
 */
	.section .text.boot, "ax"
	.global _start
_start:
	msr	daifset, #0xf
	mov	x19, x0			/* possible DTB pointer */
	mrs	x1, CurrentEL
	lsr	x1, x1, #2
	cmp	x1, #2
	b.ne	1f
	/* EL2: EL1 is AArch64 (HCR_EL2.RW), timers and counters accessible
	 * from EL1 (CNTHCTL_EL2.EL1PCTEN|EL1PCEN), no virtual offset. */
	mov	x1, #(1 << 31)
	msr	hcr_el2, x1
	mov	x1, #3
	msr	cnthctl_el2, x1
	msr	cntvoff_el2, xzr
	mov	x1, #0x3c5		/* EL1h, D A I F masked */
	msr	spsr_el2, x1
	adr	x1, 1f
	msr	elr_el2, x1
	eret
1:
	ldr	x1, =__stack_top
	mov	sp, x1
	ldr	x1, =__bss_start
	ldr	x2, =__bss_end
2:	cmp	x1, x2
	b.hs	3f
	stp	xzr, xzr, [x1], #16
	b	2b
3:
	mov	x1, #(3 << 20)		/* CPACR_EL1.FPEN: no FP/SIMD trap */
	msr	cpacr_el1, x1
	isb
	mov	x0, x19
	mov	x29, xzr
	mov	x30, xzr
	bl	a64_entry
4:	wfi
	b	4b
