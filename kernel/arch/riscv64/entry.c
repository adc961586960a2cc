/*
 * riscv64 entry and platform discovery.  boot.S calls rv_entry(hartid,
 * dtb) with OpenSBI's a0/a1; everything the kernel learns about the
 * machine comes from that device tree (nothing is hard-coded):
 *
 *   /cpus timebase-frequency           the `time` CSR's rate (timer.c)
 *   /chosen stdout-path, "ns16550a"    the console UART: reg, reg-shift,
 *                                      reg-io-width, interrupts (uart.c)
 *   "riscv,plic0"                      the PLIC: reg, riscv,ndev, and from
 *                                      interrupts-extended the context
 *                                      whose target is this hart's intc
 *                                      with cause 9, S-external (irq.c)
 *   "sifive,test0"                     the QEMU test finisher (exit.c)
 *   "virtio,mmio"                      every window: reg + interrupts,
 *                                      handed to orion_virtio_mmio_add
 *   "pci-host-ecam-generic"            the PCIe host (pci.c)
 *   memory nodes, /chosen bootargs and linux,initrd-*, the reservation
 *   block and /reserved-memory         struct orion_boot_info
 *
 * The DTB is walked before orion_main so the console works from its first
 * line; it stays where OpenSBI put it (reserved, never allocated).  A DTB
 * that fdt_init refuses leaves the SBI console and is reported by
 * arch_cpu_init as a panic.
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/fdt.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/virtio_mmio.h"
#include "riscv64/riscv.h"

__attribute__((noreturn)) void rv_entry(unsigned long hartid, const void *dtb);

struct rv_platform rv_plat = { .plic_ctx = -1 };
struct fdt rv_fdt;
int rv_fdt_err = FDT_ERR_NOTFOUND;
int rv_plic_node = -1;
static struct orion_boot_info boot_info;

static void add_reserved(uint64_t base, uint64_t len)
{
	if (len && boot_info.nreserved < ORION_BOOT_MAX_RANGES)
		boot_info.reserved[boot_info.nreserved++] = (struct orion_mem_range){ base, len };
}

unsigned rv_dt_plic_irq(int node, unsigned index)
{
	struct fdt_irq irq;
	if (rv_plic_node < 0 || fdt_irq(&rv_fdt, node, index, &irq) != FDT_OK)
		return 0;
	if (irq.ctrl != rv_plic_node || irq.ncells < 1)
		return 0;
	return irq.cells[0];
}

/* The "cpu" node of hart `hartid` (its reg), or < 0. */
static int cpu_node_of(unsigned long hartid)
{
	int cpus = fdt_path(&rv_fdt, "/cpus");
	for (int c = cpus >= 0 ? fdt_first_child(&rv_fdt, cpus) : -1; c >= 0; c = fdt_next_sibling(&rv_fdt, c)) {
		const char *t = fdt_prop_str(&rv_fdt, c, "device_type");
		uint64_t reg, sz;
		if (t && !strcmp(t, "cpu") && fdt_reg(&rv_fdt, c, 0, &reg, &sz) == FDT_OK && reg == hartid)
			return c;
	}
	return -1;
}

static void find_plic(void)
{
	int n = fdt_find_compatible(&rv_fdt, -1, "riscv,plic0");
	if (n < 0)
		n = fdt_find_compatible(&rv_fdt, -1, "sifive,plic-1.0.0");
	uint64_t base, size;
	if (n < 0 || !fdt_is_enabled(&rv_fdt, n) || fdt_reg_cpu(&rv_fdt, n, 0, &base, &size) != FDT_OK)
		return;
	int cpu = cpu_node_of(rv_plat.hartid);
	/* Context i of the PLIC is its i-th interrupts-extended entry: a
	 * hart's "riscv,cpu-intc" and the cause it raises there (11 M-mode
	 * external, 9 S-mode external). */
	struct fdt_irq irq;
	for (unsigned i = 0; fdt_irq(&rv_fdt, n, i, &irq) == FDT_OK; i++) {
		if (irq.ncells >= 1 && irq.cells[0] == IRQ_S_EXT && cpu >= 0 && fdt_parent(&rv_fdt, irq.ctrl) == cpu) {
			rv_plat.plic_ctx = (int)i;
			break;
		}
	}
	if (rv_plat.plic_ctx < 0)
		return;
	rv_plic_node = n;
	rv_plat.plic_base = base;
	rv_plat.plic_ndev = fdt_prop_u32(&rv_fdt, n, "riscv,ndev", 0);
}

static void find_uart(void)
{
	int n = -1;
	const char *path = fdt_prop_str(&rv_fdt, fdt_path(&rv_fdt, "/chosen"), "stdout-path");
	if (path) {
		/* "path[:options]"; an alias name (no leading '/') is not followed. */
		char p[64];
		size_t i = 0;
		for (; path[i] && path[i] != ':' && i + 1 < sizeof(p); i++)
			p[i] = path[i];
		p[i] = 0;
		n = p[0] == '/' ? fdt_path(&rv_fdt, p) : -1;
		if (n >= 0 && !fdt_is_compatible(&rv_fdt, n, "ns16550a"))
			n = -1;
	}
	if (n < 0)
		n = fdt_find_compatible(&rv_fdt, -1, "ns16550a");
	uint64_t base, size;
	if (n < 0 || fdt_reg_cpu(&rv_fdt, n, 0, &base, &size) != FDT_OK)
		return;
	rv_plat.uart_base = base;
	rv_plat.uart_shift = fdt_prop_u32(&rv_fdt, n, "reg-shift", 0);
	rv_plat.uart_width = fdt_prop_u32(&rv_fdt, n, "reg-io-width", 1);
	rv_plat.uart_irq = rv_dt_plic_irq(n, 0);
}

static void find_devices(void)
{
	uint64_t base, size;
	int n = fdt_find_compatible(&rv_fdt, -1, "sifive,test0");
	if (n >= 0 && fdt_reg_cpu(&rv_fdt, n, 0, &base, &size) == FDT_OK)
		rv_plat.finisher_base = base;
	for (n = fdt_find_compatible(&rv_fdt, -1, "virtio,mmio"); n >= 0;
	     n = fdt_find_compatible(&rv_fdt, n, "virtio,mmio")) {
		if (!fdt_is_enabled(&rv_fdt, n) || fdt_reg_cpu(&rv_fdt, n, 0, &base, &size) != FDT_OK)
			continue;
		if (rv_plat.n_mmio == RV_MAX_MMIO)
			break;
		rv_plat.mmio_base[rv_plat.n_mmio] = base;
		rv_plat.mmio_size[rv_plat.n_mmio] = size;
		rv_plat.mmio_irq[rv_plat.n_mmio++] = rv_dt_plic_irq(n, 0);
	}
}

static void fill_boot_info(void)
{
	uint64_t base, size;
	for (unsigned i = 0; boot_info.nram < ORION_BOOT_MAX_RANGES && fdt_memory(&rv_fdt, i, &base, &size) == FDT_OK; i++)
		boot_info.ram[boot_info.nram++] = (struct orion_mem_range){ base, size };
	/* Everything below the kernel is OpenSBI's (it runs from the start of
	 * RAM, PMP-protected, and jumped to us 2 MiB above it). */
	for (unsigned i = 0; i < boot_info.nram; i++)
		if (boot_info.ram[i].base < (uintptr_t)__kernel_start)
			add_reserved(boot_info.ram[i].base, (uintptr_t)__kernel_start - boot_info.ram[i].base);
	for (unsigned i = 0; fdt_reserved(&rv_fdt, i, &base, &size) == FDT_OK; i++)
		add_reserved(base, size);
	int rm = fdt_path(&rv_fdt, "/reserved-memory");
	for (int c = rm >= 0 ? fdt_first_child(&rv_fdt, rm) : -1; c >= 0; c = fdt_next_sibling(&rv_fdt, c))
		for (unsigned i = 0; fdt_reg_cpu(&rv_fdt, c, i, &base, &size) == FDT_OK; i++)
			add_reserved(base, size);
	add_reserved((uintptr_t)rv_plat.dtb, rv_fdt.totalsize);
	uint64_t start, end;
	if (fdt_initrd(&rv_fdt, &start, &end) == FDT_OK && end > start) {
		boot_info.initrd_base = start;
		boot_info.initrd_len = end - start;
	}
	const char *args = fdt_bootargs(&rv_fdt);
	boot_info.cmdline = args ? args : "";
	boot_info.dtb = rv_plat.dtb;
}

void rv_entry(unsigned long hartid, const void *dtb)
{
	rv_plat.hartid = hartid;
	rv_plat.dtb = dtb;
	boot_info.arch = "riscv64";
	boot_info.cmdline = "";
	uint32_t size = dtb ? fdt_header_size(dtb) : 0;
	rv_fdt_err = size ? fdt_init(&rv_fdt, dtb, size) : FDT_ERR_BADMAGIC;
	if (rv_fdt_err == FDT_OK) {
		int cpus = fdt_path(&rv_fdt, "/cpus");
		rv_plat.timebase_hz = fdt_prop_u32(&rv_fdt, cpus, "timebase-frequency", 0);
		find_plic();     /* first: the others name PLIC sources */
		find_uart();
		find_devices();
		fill_boot_info();
	}
	orion_main(&boot_info);
}

void arch_cpu_init(const struct orion_boot_info *bi)
{
	(void)bi;
	if (rv_fdt_err != FDT_OK)
		panic("riscv64: no usable device tree at %p from OpenSBI: %s", rv_plat.dtb, fdt_strerror(rv_fdt_err));
	extern char rv_trap_entry[];
	csr_write(stvec, (uintptr_t)rv_trap_entry);
	struct sbiret spec = sbi_ecall(SBI_EXT_BASE, 0, 0, 0, 0);
	struct sbiret impl = sbi_ecall(SBI_EXT_BASE, 1, 0, 0, 0);
	kprintf("orion: hart %lu in S-mode, SBI %ld.%ld (implementation %ld), DTB at %p (%u bytes), satp bare\n",
		rv_plat.hartid, (spec.value >> 24) & 0x7f, spec.value & 0xffffff, impl.value, rv_plat.dtb,
		rv_fdt.totalsize);
}

void arch_platform_init(void)
{
	kprintf("orion: dtb: uart %#lx (irq %u), timebase %lu Hz, plic %#lx (%u sources, context %d), "
		"finisher %#lx, %u virtio-mmio windows\n",
		rv_plat.uart_base, rv_plat.uart_irq, rv_plat.timebase_hz, rv_plat.plic_base, rv_plat.plic_ndev,
		rv_plat.plic_ctx, rv_plat.finisher_base, rv_plat.n_mmio);
	if (!rv_plat.finisher_base)
		kprintf("orion: no sifive,test0 finisher: exit through SBI SRST (QEMU status 0)\n");
}

void arch_irq_init(void)
{
	if (!rv_plat.plic_base || plic_init(rv_plat.plic_base, rv_plat.plic_ndev, (unsigned)rv_plat.plic_ctx) != 0)
		kprintf("orion: no PLIC for hart %lu: devices are polled\n", rv_plat.hartid);
}

void arch_devices_init(void)
{
	for (unsigned i = 0; i < rv_plat.n_mmio; i++)
		orion_virtio_mmio_add(rv_plat.mmio_base[i], rv_plat.mmio_size[i],
				      rv_plat.mmio_irq[i] ? (int)rv_plat.mmio_irq[i] : -1);
}
