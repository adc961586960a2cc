/*
 * The EL1 exception vector table (ARMv8-A: 16 entries of 0x80 bytes, 2 KiB
 * aligned).  Orion runs only at EL1 on SP_EL1, so the "current EL with
 * SP_ELx" group is the one used; the others report A64_EXC_BAD.
 * Each entry saves x0..x30, ELR, SPSR, ESR and FAR in a struct a64_frame
 * on the current stack and calls a64_exception(frame); on return the
 * (possibly changed) ELR/SPSR and registers are restored and ERET resumes.
 * Exceptions arrive with IRQs masked (PSTATE.I set by the hardware), so a
 * handler is never interrupted.
 */
#define FRAME 288

.macro save kind
	sub	sp, sp, #FRAME
	stp	x0, x1, [sp, #0]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	mrs	x21, elr_el1
	stp	x30, x21, [sp, #240]
	mrs	x22, spsr_el1
	mrs	x23, esr_el1
	stp	x22, x23, [sp, #256]
	mrs	x24, far_el1
	mov	x25, #\kind
	stp	x24, x25, [sp, #272]
	mov	x0, sp
	bl	a64_exception
	b	a64_restore
.endm

.macro ventry kind
	.balign	0x80
	save	\kind
.endm

	.section .text.vectors, "ax"
	.global a64_vectors
	.balign	2048
a64_vectors:
	/* current EL, SP_EL0 */
	ventry	4
	ventry	4
	ventry	4
	ventry	4
	/* current EL, SP_ELx */
	ventry	0
	ventry	1
	ventry	2
	ventry	3
	/* lower EL, AArch64 */
	ventry	4
	ventry	4
	ventry	4
	ventry	4
	/* lower EL, AArch32 */
	ventry	4
	ventry	4
	ventry	4
	ventry	4

	.text
a64_restore:
	ldp	x22, x23, [sp, #256]
	msr	spsr_el1, x22
	ldp	x30, x21, [sp, #240]
	msr	elr_el1, x21
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x19, [sp, #144]
	ldp	x20, x21, [sp, #160]
	ldp	x22, x23, [sp, #176]
	ldp	x24, x25, [sp, #192]
	ldp	x26, x27, [sp, #208]
	ldp	x28, x29, [sp, #224]
	add	sp, sp, #FRAME
	eret
