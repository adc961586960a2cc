/*
 * The aarch64 virt machine as its device tree describes it.
 *
 * Where the DTB is: x0 at entry if it points at a DTB header (a loader
 * that follows the Linux boot protocol), else the start of RAM, where QEMU
 * puts it for an image that is not a Linux kernel (hw/arm/boot.c: the
 * "bare-metal" case; docs/system/arm/virt.rst).  Nothing is hard-coded
 * except that fallback address; every base, interrupt and the PSCI conduit
 * come from the tree, so gic-version=2|3, highmem=on|off and other
 * memory sizes need no change here.
 */
#include <stdint.h>
#include <stdbool.h>

#include "orion/fdt.h"
#include "aarch64.h"

/* QEMU virt's RAM base (hw/arm/virt.c memmap VIRT_MEM). */
#define VIRT_RAM_BASE 0x40000000ull
/* The FDT header is read before its size is known; QEMU's is 1 MiB. */
#define DTB_MAX (2u << 20)

struct fdt a64_fdt;
bool a64_have_fdt;
struct a64_platform a64_plat;

static bool is_gic(int node)
{
	return fdt_is_compatible(&a64_fdt, node, "arm,cortex-a15-gic") ||
	       fdt_is_compatible(&a64_fdt, node, "arm,gic-400") ||
	       fdt_is_compatible(&a64_fdt, node, "arm,gic-v3");
}

int a64_fdt_gic_intid(int node, unsigned index, bool *level)
{
	struct fdt_irq irq;
	if (!a64_have_fdt || fdt_irq(&a64_fdt, node, index, &irq) || irq.ncells != 3 ||
	    !is_gic(irq.ctrl))
		return -1;
	/* GIC binding: <type number flags>; type 0 SPI (INTID 32 + n),
	 * 1 PPI (16 + n); flags bits 3:0 trigger, 4 and 8 = level. */
	if (level)
		*level = (irq.cells[2] & 0xc) != 0;
	if (irq.cells[0] == 0 && irq.cells[1] < 988)
		return (int)(32 + irq.cells[1]);
	if (irq.cells[0] == 1 && irq.cells[1] < 16)
		return (int)(16 + irq.cells[1]);
	return -1;
}

static uint64_t reg0(int node, unsigned i)
{
	uint64_t a = 0;
	if (fdt_reg_cpu(&a64_fdt, node, i, &a, NULL))
		return 0;
	return a;
}

static int find_stdout_uart(void)
{
	int chosen = fdt_path(&a64_fdt, "/chosen");
	const char *p = chosen >= 0 ? fdt_prop_str(&a64_fdt, chosen, "stdout-path") : NULL;
	if (p) {
		char path[96];
		unsigned i = 0;
		/* "path:options" (Devicetree Spec 3.6): keep the path. */
		while (p[i] && p[i] != ':' && i + 1 < sizeof(path)) {
			path[i] = p[i];
			i++;
		}
		path[i] = '\0';
		int n = fdt_path(&a64_fdt, path);
		if (n >= 0 && fdt_is_compatible(&a64_fdt, n, "arm,pl011"))
			return n;
	}
	return fdt_find_compatible(&a64_fdt, -1, "arm,pl011");
}

void a64_platform_init(uint64_t dtb_x0)
{
	struct a64_platform *p = &a64_plat;
	uint64_t cand[2] = { dtb_x0, VIRT_RAM_BASE };
	for (unsigned i = 0; i < 2 && !a64_have_fdt; i++) {
		const void *b = (const void *)(uintptr_t)cand[i];
		if (!cand[i] || (cand[i] & 7))
			continue;
		uint32_t size = fdt_header_size(b);
		if (size == 0 || size > DTB_MAX)
			continue;
		if (fdt_init(&a64_fdt, b, size) == FDT_OK) {
			a64_have_fdt = true;
			p->dtb_pa = cand[i];
			p->dtb_size = size;
		}
	}
	/* Without a tree only the documented virt addresses are left: the
	 * console, so the failure can at least be reported. */
	p->uart_base = 0x09000000;
	if (!a64_have_fdt)
		return;

	int uart = find_stdout_uart();
	if (uart >= 0) {
		uint64_t a = reg0(uart, 0);
		if (a)
			p->uart_base = a;
		bool lvl;
		int id = a64_fdt_gic_intid(uart, 0, &lvl);
		p->uart_irq = id > 0 ? (unsigned)id : 0;
	}
	fdt_memory(&a64_fdt, 0, &p->ram_base, &p->ram_size);
	p->bootargs = fdt_bootargs(&a64_fdt);

	int gic = fdt_find_compatible(&a64_fdt, -1, "arm,gic-v3");
	if (gic >= 0) {
		p->gic_version = 3;
		p->gicd_base = reg0(gic, 0);
		p->gicr_base = reg0(gic, 1);
	} else {
		gic = fdt_find_compatible(&a64_fdt, -1, "arm,cortex-a15-gic");
		if (gic < 0)
			gic = fdt_find_compatible(&a64_fdt, -1, "arm,gic-400");
		if (gic >= 0) {
			p->gic_version = 2;
			p->gicd_base = reg0(gic, 0);
			p->gicc_base = reg0(gic, 1);
			int v2m = fdt_find_compatible(&a64_fdt, -1, "arm,gic-v2m-frame");
			if (v2m >= 0)
				p->v2m_base = reg0(v2m, 0);
		}
	}
	if (!p->gicd_base || (p->gic_version == 2 && !p->gicc_base) ||
	    (p->gic_version == 3 && !p->gicr_base))
		p->gic_version = 0;

	/* armv8-timer interrupts: secure phys, non-secure phys, virtual, hyp. */
	int t = fdt_find_compatible(&a64_fdt, -1, "arm,armv8-timer");
	int id = t >= 0 ? a64_fdt_gic_intid(t, 2, NULL) : -1;
	p->timer_irq = id > 0 ? (unsigned)id : 27;   /* PPI 11, the architected default */

	int psci = fdt_find_compatible(&a64_fdt, -1, "arm,psci-0.2");
	if (psci < 0)
		psci = fdt_find_compatible(&a64_fdt, -1, "arm,psci-1.0");
	if (psci >= 0) {
		const char *m = fdt_prop_str(&a64_fdt, psci, "method");
		p->psci = m != NULL;
		p->psci_smc = m && m[0] == 's';
	}
}
