/* Throwaway bring-up main (not part of the kernel build). */
#include "../e500.h"
#include "../pci_fsl.h"
#include "../timebase.h"
#include "../platform.h"
#include "../exc.h"
#include "../mpic.h"
#include "orion/kprintf.h"
#include "orion/serial.h"
#include "orion/klib.h"

static void uart_irq(void *arg)
{
	(void)arg;
	ppc_out8(ppc64_plat.uart + 1, 0);   /* IER off: the line drops */
}

static unsigned trap_count;
int bringup_trap(struct ppc64_regs *r);
int bringup_trap(struct ppc64_regs *r)
{
	trap_count++;
	r->pc += 4;
	return 1;
}

void ppc64_arch_main(void *dtb, unsigned long magic)
{
	struct ppc64_platform *p = &ppc64_plat;
	serial_init();
	kprintf("orion-ppc64 bring-up: dtb %p magic %lx fdt %s\n", dtb, magic, fdt_strerror(p->fdt_err));
	kprintf("ram %llx+%llx uart %llx pci %llx gpio %llx\n", (unsigned long long)p->ram_base,
		(unsigned long long)p->ram_size, (unsigned long long)p->uart,
		(unsigned long long)p->pci_regs, (unsigned long long)p->gpio);
	kprintf("timebase %u Hz, tb %llu\n", ppc_tb_hz(), (unsigned long long)ppc_mftb());
	uint64_t t0 = ppc_time_ns();
	ppc_delay_ns(10000000);
	kprintf("10 ms delay took %llu ns\n", (unsigned long long)(ppc_time_ns() - t0));
	ppc_pci_host_init(p->ram_size);
	ppc_pci_assign();
	for (unsigned d = 0; d < 32; d++) {
		uint32_t id = ppc_pci_cfg_read(0, d, 0, 0, 4);
		if ((id & 0xffff) == 0xffff)
			continue;
		kprintf("pci 00:%02x.0 %04x:%04x cmd %04x", d, id & 0xffff, id >> 16,
			ppc_pci_cfg_read(0, d, 0, 4, 2));
		for (unsigned b = 0; b < 6; b++)
			kprintf(" %08x", ppc_pci_cfg_read(0, d, 0, 0x10 + 4 * b, 4));
		kprintf("\n");
		if (id == 0x10001af4 || id == 0x10411af4) {
			/* find the virtio common cfg cap and read device_feature_select etc */
			unsigned cap = ppc_pci_cfg_read(0, d, 0, 0x34, 1);
			while (cap) {
				unsigned vid = ppc_pci_cfg_read(0, d, 0, cap, 1);
				unsigned type = ppc_pci_cfg_read(0, d, 0, cap + 3, 1);
				if (vid == 9 && type == 1) {
					unsigned bar = ppc_pci_cfg_read(0, d, 0, cap + 4, 1);
					uint32_t off = ppc_pci_cfg_read(0, d, 0, cap + 8, 4);
					uint64_t base = ppc_pci_cfg_read(0, d, 0, 0x10 + 4 * bar, 4) & ~0xfull;
					volatile uint8_t *cc = (volatile uint8_t *)(base + off);
					uint16_t nq = (uint16_t)(cc[0x12] | cc[0x13] << 8);
					kprintf("virtio common cfg at %llx: num_queues %u status %u\n",
						(unsigned long long)(base + off), nq, cc[0x14]);
				}
				cap = ppc_pci_cfg_read(0, d, 0, cap + 1, 1);
			}
		}
	}
	const char *args = p->bootargs;
	kprintf("bootargs '%s'\n", args ? args : "");
	if (args && !strcmp(args, "irq")) {
		/* Decrementer tick, and virtio INTA (slot 1 -> MPIC 2) raised by
		 * a config-space interrupt-disable toggle is not possible; use
		 * the UART: THR-empty interrupt on MPIC 42. */
		ppc64_mpic_init(E500_CCSR_BASE + 0x40000);
		ppc64_tick_start(100, 0);
		ppc64_mpic_route(42, false, 5, uart_irq, 0);
		ppc64_irq_on();
		uint64_t t0 = ppc_time_ns();
		ppc_delay_ns(100000000);
		kprintf("irq: %llu ticks after 100 ms\n", (unsigned long long)ppc64_ticks());
		ppc_out8(p->uart + 1, 0x02);   /* IER: THR empty */
		ppc_delay_ns(1000000);
		uint64_t w0 = ppc_time_ns(), k0 = ppc64_ticks();
		for (int i = 0; i < 10; i++) {
			ppc64_irq_save();
			__asm__ volatile("wrteei 1; wait" ::: "memory");
		}
		kprintf("irq: 10 waits took %llu us, %llu ticks\n", (unsigned long long)((ppc_time_ns() - w0) / 1000),
			(unsigned long long)(ppc64_ticks() - k0));
		ppc64_irq_save();
		kprintf("irq: %llu ticks in %llu ms, uart interrupts %llu\n", (unsigned long long)ppc64_ticks(),
			(unsigned long long)((ppc_time_ns() - t0) / 1000000), (unsigned long long)ppc64_mpic_count(42));
	}
	if (args && !strcmp(args, "trap")) {
		/* A handled program exception: resume after the instruction. */
		extern int bringup_trap(struct ppc64_regs *r);
		ppc64_exc_set_handler(6, bringup_trap);
		__asm__ volatile(".long 0");
		kprintf("resumed after the handled illegal instruction (%u traps)\n", trap_count);
	}
	if (args && !strcmp(args, "fault")) {
		kprintf("executing an illegal instruction\n");
		__asm__ volatile(".long 0");
	}
	if (args && !strcmp(args, "fail")) {
		extern void ppc64_fatal(void);
		ppc64_fatal();
	}
	if (args && !strncmp(args, "core=", 5)) {
		extern int coretest(const char *ring);
		if (coretest(args + 5) != 0) {
			extern void ppc64_fatal(void);
			kprintf("coretest: FAIL\n");
			ppc64_fatal();
		}
		kprintf("coretest: PASS\n");
	}
	kprintf("bring-up: PASS, powering off\n");
	ppc_poweroff();
}
