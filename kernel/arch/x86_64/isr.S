/*
 * 256 interrupt entry stubs and the common save/restore path.
 *
 * Each stub pushes a dummy error code (for vectors where the CPU pushes
 * none) and its vector number, then jumps to isr_common, which saves the
 * general registers in the order of struct regs (include/orion/irq.h) and
 * calls idt_dispatch(struct regs *).  The CPU aligned RSP to 16 before its
 * 5-word frame; 2 + 15 more words keep the call 16-byte aligned.
 */
	.altmacro
	.text
	.code64

.macro isr_stub n
	.balign 16
isr_stub_\n:
	.if (\n == 8) || ((\n >= 10) && (\n <= 14)) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
	.else
	pushq $0
	.endif
	pushq $\n
	jmp isr_common
.endm

.macro isr_addr n
	.quad isr_stub_\n
.endm

	.set i, 0
	.rept 256
	isr_stub %i
	.set i, i + 1
	.endr

isr_common:
	push %r15
	push %r14
	push %r13
	push %r12
	push %r11
	push %r10
	push %r9
	push %r8
	push %rbp
	push %rdi
	push %rsi
	push %rdx
	push %rcx
	push %rbx
	push %rax
	mov %rsp, %rdi
	cld
	call idt_dispatch
	pop %rax
	pop %rbx
	pop %rcx
	pop %rdx
	pop %rsi
	pop %rdi
	pop %rbp
	pop %r8
	pop %r9
	pop %r10
	pop %r11
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	add $16, %rsp
	iretq

	.section .rodata
	.balign 8
	.globl isr_stub_table
isr_stub_table:
	.set i, 0
	.rept 256
	isr_addr %i
	.set i, i + 1
	.endr
