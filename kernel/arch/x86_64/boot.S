/*
 * Multiboot (v1) entry and the climb to 64-bit long mode.
 *
 * QEMU's -kernel multiboot loader refuses 64-bit ELF files unless the
 * header carries the a.out-kludge address fields (flag bit 16); with them
 * it copies the image [load_addr, load_end_addr) from the file, zeroes up
 * to bss_end_addr and jumps to entry_addr in 32-bit protected mode with
 * paging off, EAX = 0x2BADB002 and EBX = the multiboot info address.
 *
 * Here: zero .bss (other loaders may not), check for long mode, build an
 * identity map of the first 64 GiB (1 GiB pages when CPUID says pdpe1gb,
 * else 2 MiB pages through 64 page directories), enable PAE + EFER.LME +
 * paging, load a minimal GDT and far-jump to 64-bit code, which calls
 * x86_entry(magic, mbi) (entry.c).  64 GiB covers RAM, the LAPIC/IOAPIC and the 64-bit
 * PCI BARs firmware places above 4 GiB.  Everything is cacheable in the
 * page tables; the firmware's MTRRs make the PCI hole uncached.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS ((1 << 0) | (1 << 1) | (1 << 16))
#define NGIB 64

	.section .multiboot, "a"
	.balign 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	.long mb_header         /* header_addr */
	.long __kernel_start    /* load_addr */
	.long __load_end        /* load_end_addr */
	.long __bss_end         /* bss_end_addr */
	.long _start32          /* entry_addr */

	.section .boot32, "ax"
	.code32
	.globl _start32
_start32:
	cli
	cld
	mov %eax, %ebp                  /* multiboot magic */
	mov %ebx, %esi                  /* multiboot info */

	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb

	mov $boot_stack_top, %esp

	/* Long mode available? (CPUID 0x80000001 EDX.LM, bit 29) */
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb no_long_mode
	mov $0x80000001, %eax
	cpuid
	bt $29, %edx
	jnc no_long_mode
	mov %edx, %ebx                  /* keep feature bits: bit 26 = pdpe1gb */

	/* PML4[0] -> PDPT */
	mov $boot_pdpt, %eax
	or $3, %eax
	mov %eax, boot_pml4

	bt $26, %ebx
	jnc 2f
	/* 1 GiB pages: PDPT[i] = i GiB | PS | RW | P */
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $30, %eax
	or $0x83, %eax
	mov %eax, boot_pdpt(,%ecx,8)
	mov %ecx, %eax
	shr $2, %eax
	mov %eax, boot_pdpt+4(,%ecx,8)
	inc %ecx
	cmp $NGIB, %ecx
	jb 1b
	jmp 4f

	/* 2 MiB pages: PDPT[i] -> PD i, PD entries j = j * 2 MiB | PS | RW | P */
2:	xor %ecx, %ecx
3:	mov %ecx, %eax
	shl $12, %eax
	add $boot_pd, %eax
	or $3, %eax
	mov %eax, boot_pdpt(,%ecx,8)
	inc %ecx
	cmp $NGIB, %ecx
	jb 3b
	xor %ecx, %ecx
5:	mov %ecx, %eax
	shl $21, %eax
	or $0x83, %eax
	mov %eax, boot_pd(,%ecx,8)
	mov %ecx, %eax
	shr $11, %eax
	mov %eax, boot_pd+4(,%ecx,8)
	inc %ecx
	cmp $(NGIB * 512), %ecx
	jb 5b

4:	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $(1 << 5), %eax              /* PAE */
	mov %eax, %cr4
	mov $0xC0000080, %ecx           /* EFER */
	rdmsr
	or $(1 << 8), %eax              /* LME */
	wrmsr
	mov %cr0, %eax
	or $((1 << 31) | (1 << 16) | 1), %eax   /* PG | WP | PE */
	mov %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $0x08, $start64

no_long_mode:
	mov $msg_no_lm, %esi
6:	lodsb
	test %al, %al
	jz 7f
	mov $0x3f8, %dx
	out %al, %dx
	jmp 6b
7:	hlt
	jmp 7b

	.code64
start64:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %eax, %eax
	mov %ax, %fs
	mov %ax, %gs
	mov $boot_stack_top, %rsp
	mov %ebp, %edi                  /* arg0: magic (zero-extended) */
	mov %esi, %esi                  /* arg1: multiboot info */
	xor %ebp, %ebp                  /* end of the frame-pointer chain */
	call x86_entry
8:	cli
	hlt
	jmp 8b

	.section .rodata
	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00209a0000000000        /* 0x08: 64-bit code, DPL0 */
	.quad 0x0000920000000000        /* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt
msg_no_lm:
	.asciz "orion: CPU has no long mode\r\n"

	.section .bss
	.balign 4096
boot_pml4:
	.skip 4096
	.globl boot_pdpt
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4096 * NGIB
	.globl boot_stack_top
boot_stack:
	.skip 65536
boot_stack_top:
