/*
 * riscv64 entry from OpenSBI (fw_dynamic, QEMU -bios default -kernel ELF).
 *
 * OpenSBI jumps to the ELF entry in S-mode with a0 = hart id and a1 = the
 * device tree's physical address; translation is off (satp = 0) and S-mode
 * interrupts are disabled.  QEMU loads the ELF's PT_LOAD segment at its
 * physical address (0x80200000, linker.ld) and OpenSBI starts exactly one
 * hart there; the others wait in the firmware (SBI HSM) for ever.
 *
 * Here: gp for linker relaxation, interrupts masked, the boot stack, .bss
 * zeroed, stvec set, then rv_entry(hartid, dtb) in C, which never returns.
 * a0/a1 are not touched on the way.
 */
	.section .text.boot, "ax"
	.globl _start
_start:
	.option push
	.option norelax
	la	gp, __global_pointer$
	.option pop
	csrw	sie, zero
	csrci	sstatus, 2		/* SSTATUS.SIE */
	la	sp, rv_boot_stack_top
	la	t0, __bss_start
	la	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:	la	t0, rv_trap_entry
	csrw	stvec, t0		/* direct mode: the address is 4-aligned */
	mv	fp, zero		/* the end of every backtrace */
	call	rv_entry
3:	wfi
	j	3b

	.section .bss.stack, "aw", @nobits
	.balign 16
	.globl rv_boot_stack, rv_boot_stack_top
rv_boot_stack:
	.space	65536
rv_boot_stack_top:
