/* Throwaway bring-up test until split-v1: exercises the arch code alone. */
#include <stdint.h>
#include <stdatomic.h>

#include "orion/kprintf.h"
#include "orion/power.h"
#include "orion/serial.h"
#include "orion/timer.h"
#include "orion/fdt.h"
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
