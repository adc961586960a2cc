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
 * aligned) | IVORn (16-byte aligned offset).  Orion runs with MSR[EE]=0
 * (poll mode), so every exception that reaches here is a fault: save r1
 * and r3 in SPRG0/1, load the IVOR number into r3, switch to the
 * exception stack and call ppc64_exception(n), which prints the state and
 * stops.  Critical and machine-check classes use other save registers;
 * the C side reads the right ones.
 */
	.section .vectors, "ax"
	.balign	0x10000
	.globl	__ivpr_base
__ivpr_base:
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.balign	0x100
	.globl	ppc64_vec_\n
ppc64_vec_\n:
	mtspr	SPRN_SPRG0, 1
	mtspr	SPRN_SPRG1, 3
	li	3, \n
	b	ppc64_exc_common
	.endr

ppc64_exc_common:
	lis	1, __exc_stack_top@ha
	addi	1, 1, __exc_stack_top@l
	li	0, 0
	stdu	0, -256(1)
	lis	12, ppc64_exception@ha
	addi	12, 12, ppc64_exception@l
	ld	2, 8(12)
	ld	0, 0(12)
	mtctr	0
	bctrl
4:	wait
	b	4b
