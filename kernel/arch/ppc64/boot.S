/*
 * Orion entry on QEMU ppce500 (e5500, 64-bit Book3E, big-endian, ELFv1).
 *
 * QEMU without -bios jumps to the ELF entry with the ePAPR register
 * convention: r3 = DTB physical address, r6 = 0x45504150 ("EPAP"),
 * r7 = size of the initial mapping, MSR[CM] = 0 (32-bit mode), TLB1
 * entry 0 mapping virtual 0 -> physical 0 up to the DTB's end.
 *
 * Here: switch to 64-bit mode (MSR[CM]) and make interrupts run in it
 * (EPCR[ICM]), set the stack, clear BSS, and call ppc64_start(dtb, magic)
 * through its ELFv1 function descriptor (entry point at +0, TOC at +8:
 * that is how r2 gets the TOC without any runtime relocation).
 *
 * Every address used below is < 2 GiB (linked at 1 MiB), so lis/addi with
 * @ha/@l builds it correctly even before 64-bit mode.
 */
#define SPRN_SPRG0 272
#define SPRN_SPRG1 273
#define SPRN_EPCR  307
#define SPRN_IVPR  63
#define EPCR_ICM   0x0200   /* high half: 0x02000000 */
#define MSR_CM     0x8000   /* high half: 0x80000000 */

	.section .text.boot, "ax"
	.globl _start
_start:
	mr	31, 3           /* DTB */
	mr	30, 6           /* ePAPR magic */

	mfmsr	4
	oris	4, 4, MSR_CM
	mtmsr	4
	isync
	mfspr	4, SPRN_EPCR
	oris	4, 4, EPCR_ICM
	mtspr	SPRN_EPCR, 4
	isync

	lis	1, __stack_top@ha
	addi	1, 1, __stack_top@l
	li	0, 0
	stdu	0, -128(1)

	/* BSS (8-byte aligned by the linker script). */
	lis	4, __bss_start@ha
	addi	4, 4, __bss_start@l
	lis	5, __bss_end@ha
	addi	5, 5, __bss_end@l
1:	cmpld	4, 5
	bge	2f
	std	0, 0(4)
	addi	4, 4, 8
	b	1b
2:
	lis	12, ppc64_start@ha
	addi	12, 12, ppc64_start@l
	ld	2, 8(12)
	ld	0, 0(12)
	mtctr	0
	mr	3, 31
	mr	4, 30
	bctrl
3:	wait
	b	3b

/*
 * Exception vectors.  Book E: the handler address is IVPR (64 KiB
 * aligned) | IVORn (16-byte aligned offset).  Each stub saves r1 in SPRG0,
 * switches to the exception stack, saves r3 and passes the IVOR number to
 * ppc64_exc_common, which saves the whole context (struct ppc64_regs,
 * exc.h) and calls ppc64_exception(n, regs).  If that returns, the
 * (possibly changed) context is restored and rfi resumes at regs->pc.
 * Critical, machine-check and debug interrupts save their PC/MSR in other
 * registers (CSRR/MCSRR/DSRR); the C side treats them as fatal and never
 * returns for them.  One exception stack: a fault inside the handler
 * starts over at its top (the dump of the first fault is lost, the second
 * still ends the run).
 */
#define FRAME      (112 + 8 * 40)     /* ABI minimum frame + struct ppc64_regs */
#define R(n)       (112 + 8 * (n))
#define R_CR       R(32)
#define R_LR       R(33)
#define R_CTR      R(34)
#define R_XER      R(35)
#define R_PC       R(36)
#define R_MSR      R(37)
#define R_VEC      R(38)

	.section .vectors, "ax"
	.balign	0x10000
	.globl	__ivpr_base
__ivpr_base:
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.balign	0x100
	.globl	ppc64_vec_\n
ppc64_vec_\n:
	mtspr	SPRN_SPRG0, 1
	lis	1, (__exc_stack_top - FRAME)@ha
	addi	1, 1, (__exc_stack_top - FRAME)@l
	std	3, R(3)(1)
	li	3, \n
	b	ppc64_exc_common
	.endr

ppc64_exc_common:
	std	0, R(0)(1)
	std	2, R(2)(1)
	.irp	r, 4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	std	\r, R(\r)(1)
	.endr
	mfspr	0, SPRN_SPRG0
	std	0, R(1)(1)
	mfcr	0
	std	0, R_CR(1)
	mflr	0
	std	0, R_LR(1)
	mfctr	0
	std	0, R_CTR(1)
	mfxer	0
	std	0, R_XER(1)
	mfsrr0	0
	std	0, R_PC(1)
	mfsrr1	0
	std	0, R_MSR(1)
	std	3, R_VEC(1)
	li	0, 0
	std	0, 0(1)                 /* back chain ends here */
	addi	4, 1, R(0)              /* r4 = struct ppc64_regs * */
	lis	12, ppc64_exception@ha
	addi	12, 12, ppc64_exception@l
	ld	2, 8(12)
	ld	0, 0(12)
	mtctr	0
	bctrl
	/* Resume. */
	ld	0, R_PC(1)
	mtsrr0	0
	ld	0, R_MSR(1)
	mtsrr1	0
	ld	0, R_CR(1)
	mtcr	0
	ld	0, R_LR(1)
	mtlr	0
	ld	0, R_CTR(1)
	mtctr	0
	ld	0, R_XER(1)
	mtxer	0
	ld	0, R(0)(1)
	ld	2, R(2)(1)
	.irp	r, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ld	\r, R(\r)(1)
	.endr
	ld	1, R(1)(1)
	rfi
