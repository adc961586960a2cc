/*
 * IDT, interrupt dispatch and the vector allocator.
 *
 * Every vector goes through isr_common into idt_dispatch().  Exceptions
 * without a registered handler print a full register dump (plus CR2 for
 * page faults) and panic.  Hardware vectors call the registered handler
 * and then EOI the LAPIC; the spurious vector gets no EOI, as the SDM
 * requires.  Double fault uses IST1, NMI IST2 (see gdt.c).
 */
#include <stdint.h>

#include "x86/io.h"
#include "x86/irq.h"
#include "orion/klib.h"
#include "orion/kprintf.h"

struct idt_entry {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
} __attribute__((packed));

extern const uint64_t isr_stub_table[256];
void idt_dispatch(struct regs *r);

static struct idt_entry idt[256] __attribute__((aligned(16)));
static struct {
	irq_handler_fn fn;
	void *arg;
	uint64_t count;
	bool allocated;
} vectors[256];

static const char *const exc_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
	"invalid opcode", "device not available", "double fault", "coproc overrun",
	"invalid TSS", "segment not present", "stack fault", "general protection",
	"page fault", "reserved", "x87 FP", "alignment check", "machine check",
	"SIMD FP", "virtualization", "control protection", "reserved", "reserved",
	"reserved", "reserved", "reserved", "reserved", "hypervisor injection",
	"VMM communication", "security", "reserved",
};

void idt_init(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = isr_stub_table[v];
		idt[v].off_lo = a & 0xffff;
		idt[v].sel = 0x08;
		idt[v].ist = v == 8 ? 1 : v == 2 ? 2 : 0;
		idt[v].type = 0x8e;   /* present, DPL0, 64-bit interrupt gate */
		idt[v].off_mid = (a >> 16) & 0xffff;
		idt[v].off_hi = a >> 32;
		idt[v].zero = 0;
	}
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(ptr) : "memory");
}

static void dump_regs(const struct regs *r)
{
	uint64_t cr0, cr2, cr3, cr4;
	__asm__ volatile("mov %%cr0, %0; mov %%cr2, %1; mov %%cr3, %2; mov %%cr4, %3"
			 : "=r"(cr0), "=r"(cr2), "=r"(cr3), "=r"(cr4));
	kprintf("RIP %04lx:%016lx RFLAGS %016lx err %lx\n", r->cs, r->rip, r->rflags, r->error);
	kprintf("RSP %04lx:%016lx\n", r->ss, r->rsp);
	kprintf("RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n", r->rax, r->rbx, r->rcx, r->rdx);
	kprintf("RSI %016lx RDI %016lx RBP %016lx\n", r->rsi, r->rdi, r->rbp);
	kprintf("R8  %016lx R9  %016lx R10 %016lx R11 %016lx\n", r->r8, r->r9, r->r10, r->r11);
	kprintf("R12 %016lx R13 %016lx R14 %016lx R15 %016lx\n", r->r12, r->r13, r->r14, r->r15);
	kprintf("CR0 %016lx CR2 %016lx CR3 %016lx CR4 %016lx\n", cr0, cr2, cr3, cr4);
}

void idt_dispatch(struct regs *r)
{
	unsigned v = r->vector & 0xff;

	vectors[v].count++;
	if (v < 32) {
		if (vectors[v].fn) {
			vectors[v].fn(r);   /* exception handlers get the frame */
			return;
		}
		kprintf("\n*** exception %u (%s)\n", v, exc_names[v]);
		dump_regs(r);
		panic("unhandled exception %u at %#lx", v, r->rip);
	}
	if (v == IRQ_VEC_SPURIOUS)
		return;
	if (vectors[v].fn)
		vectors[v].fn(vectors[v].arg);
	if (v >= 0x20 && v < 0x30)
		return;   /* spurious from the masked 8259: no LAPIC EOI */
	lapic_eoi();
}

int irq_alloc_vector(void)
{
	uint64_t f = irq_save();
	int got = -1;
	for (int v = IRQ_VEC_DYN_FIRST; v <= IRQ_VEC_DYN_LAST; v++) {
		if (!vectors[v].allocated) {
			vectors[v].allocated = true;
			got = v;
			break;
		}
	}
	irq_restore(f);
	return got;
}

void irq_free_vector(int v)
{
	if (v < IRQ_VEC_DYN_FIRST || v > IRQ_VEC_DYN_LAST)
		return;
	irq_unregister(v);
	vectors[v].allocated = false;
}

int irq_register(int v, irq_handler_fn fn, void *arg)
{
	if (v < 0 || v > 255 || v == IRQ_VEC_SPURIOUS)
		return -1;
	uint64_t f = irq_save();
	vectors[v].fn = fn;
	vectors[v].arg = arg;
	irq_restore(f);
	return 0;
}

void irq_unregister(int v)
{
	if (v < 0 || v > 255)
		return;
	uint64_t f = irq_save();
	vectors[v].fn = NULL;
	vectors[v].arg = NULL;
	irq_restore(f);
}

uint64_t irq_count(int v)
{
	return (v < 0 || v > 255) ? 0 : vectors[v].count;
}
