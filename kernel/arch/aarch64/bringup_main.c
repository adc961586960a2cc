/* Throwaway bring-up test until split-v1: exercises the arch code alone. */
#include <stdint.h>
#include <stdatomic.h>

#include "orion/kprintf.h"
#include "orion/power.h"
#include "orion/serial.h"
#include "orion/timer.h"
#include "orion/fdt.h"
#include "orion/pci_ecam.h"
#include "aarch64.h"

void a64_bringup_main(void);

void panic(const char *fmt, ...)
{
	va_list ap;
	kprintf("\nPANIC: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	orion_exit(ORION_EXIT_FAIL);
}

__attribute__((format(printf, 1, 2))) static void ecam_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

static volatile uint8_t buf[64] __attribute__((aligned(16)));

void a64_bringup_main(void)
{
	/* Unaligned access and exclusives on Normal memory. */
	volatile uint32_t *u = (volatile uint32_t *)(uintptr_t)(buf + 1);
	*u = 0x11223344;
	_Atomic uint32_t at = 5;
	atomic_fetch_add(&at, 3);
	kprintf("bringup: unaligned %#x atomic %u\n", *u, (unsigned)atomic_load(&at));

	for (int n = fdt_find_compatible(&a64_fdt, -1, "virtio,mmio"); n >= 0;
	     n = fdt_find_compatible(&a64_fdt, n, "virtio,mmio")) {
		uint64_t a, s;
		bool lvl;
		fdt_reg_cpu(&a64_fdt, n, 0, &a, &s);
		int id = a64_fdt_gic_intid(n, 0, &lvl);
		uint32_t magic = mmio_read32((uintptr_t)a), dev = mmio_read32((uintptr_t)a + 8);
		if (dev)
			kprintf("bringup: virtio-mmio %#lx irq %d %s magic %#x version %u device %u\n",
				a, id, lvl ? "level" : "edge", magic,
				mmio_read32((uintptr_t)a + 4), dev);
	}
	static struct pci_ecam h;
	h.log = ecam_log;
	int rc = pci_ecam_from_fdt(&h, &a64_fdt, 0);
	kprintf("bringup: ecam %d %s cfg %#lx buses %u-%u io %#lx->%#lx mem32 %#lx+%#lx mem64 %#lx\n", rc,
		pci_ecam_strerror(rc), h.cfg_cpu, h.bus_start, h.bus_end, h.io.pci, h.io.cpu,
		h.mem32.pci, h.mem32.size, h.mem64.pci);
	if (rc == 0) {
		int n = pci_ecam_assign(&h);
		kprintf("bringup: %d functions, %u bridges, %u BARs, %u failed\n", n, h.stats.bridges,
			h.stats.bars, h.stats.bars_failed);
		for (unsigned b = 0; b <= h.last_bus; b++)
			for (unsigned d = 0; d < 32; d++) {
				uint32_t id = pci_ecam_read(&h, b, d, 0, 0, 4);
				if ((id & 0xffff) == 0xffff)
					continue;
				kprintf("bringup: %02x:%02x.0 %04x:%04x cmd %#x", b, d, id & 0xffff, id >> 16,
					pci_ecam_read(&h, b, d, 0, 4, 2));
				for (unsigned i = 0; i < 6; i++)
					kprintf(" %08x", pci_ecam_read(&h, b, d, 0, 0x10 + 4 * i, 4));
				struct fdt_irq irq;
				unsigned pin = pci_ecam_read(&h, b, d, 0, 0x3d, 1);
				if (pin && pci_ecam_intx(&h, &a64_fdt, b, d, pin, &irq) == 0)
					kprintf(" INT%c SPI %u", 'A' + pin - 1, irq.cells[1]);
				kprintf("\n");
				if ((id & 0xffff) == 0x1af4) {
					/* the modern virtio capabilities: find common cfg BAR/offset */
					unsigned cap = pci_ecam_read(&h, b, d, 0, 0x34, 1);
					for (int k = 0; cap && k < 20; k++) {
						unsigned vid = pci_ecam_read(&h, b, d, 0, cap, 1);
						unsigned type = pci_ecam_read(&h, b, d, 0, cap + 3, 1);
						if (vid == 9 && type == 1) {
							unsigned bar = pci_ecam_read(&h, b, d, 0, cap + 4, 1);
							uint32_t off = pci_ecam_read(&h, b, d, 0, cap + 8, 4);
							uint64_t lo = pci_ecam_read(&h, b, d, 0, 0x10 + 4 * bar, 4) & ~0xfu;
							uint64_t hi = pci_ecam_read(&h, b, d, 0, 0x14 + 4 * bar, 4);
							uint64_t a = (hi << 32 | lo) + off;
							uint64_t cpu = 0;
							pci_ecam_to_cpu(&h, PCI_ECAM_MEM32, a, &cpu);
							kprintf("bringup: common cfg at %#lx: num_queues %u\n", cpu,
								*(volatile uint16_t *)(uintptr_t)(cpu + 0x12));
						}
						cap = pci_ecam_read(&h, b, d, 0, cap + 1, 1);
					}
				}
			}
	}
	timer_start_tick();
	serial_enable_irq();
	__asm__ volatile("msr daifclr, #2" ::: "memory");
	uint64_t t0 = timer_ns();
	while (timer_ticks() < 20)
		__asm__ volatile("wfi");
	uint64_t t1 = timer_ns();
	kprintf("bringup: 20 ticks in %lu ms (irq count %lu)\n", (t1 - t0) / 1000000,
		a64_irq_count(a64_plat.timer_irq));
	kprintf("bringup: type a key within 1 s\n");
	uint64_t end = timer_ns() + 1000000000ull;
	while (timer_ns() < end) {
		int c = serial_getc_nonblock();
		if (c >= 0) {
			kprintf("bringup: got '%c' (uart irqs %lu)\n", c, a64_irq_count(a64_plat.uart_irq));
			break;
		}
		__asm__ volatile("wfi");
	}
	if (a64_plat.bootargs && a64_plat.bootargs[0] == 'f') {
		kprintf("bringup: fault test\n");
		*(volatile uint32_t *)0x1234567000ull = 1;
	}
	kprintf("bringup: PASS\n");
	orion_exit(ORION_EXIT_PASS);
}
