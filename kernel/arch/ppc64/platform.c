/*
 * The board description from the DTB (kernel/lib/fdt.c).  QEMU's ppce500
 * tree: /memory, /cpus/PowerPC,8544@0 timebase-frequency, /chosen
 * bootargs, /soc@fe0000000 (ranges onto CCSR) with serial@4500 (ns16550)
 * and gpio@ff000 (fsl,qoriq-gpio, whose pin 0 is the gpio-poweroff line),
 * /pci@fe0008000 (fsl,mpc8540-pci).  e500.h's constants are the fallback.
 */
#include "e500.h"
#include "platform.h"

struct ppc64_platform ppc64_plat = {
	.ram_size = 128ull << 20,
	.tb_hz = E500_TB_FREQ_DEFAULT,
	.bootargs = "",
	.uart = E500_UART0,
	.pci_regs = E500_PCI_REGS,
	.gpio = E500_GPIO,
	.mpic = E500_MPIC,
	.guts = E500_GUTS,
};

static void reg_of(const struct fdt *f, const char *compat, uint64_t *out)
{
	uint64_t a, s;
	int n = fdt_find_compatible(f, -1, compat);
	/* Only inside the CCSR mapping mmu.c sets up (16 MiB, covers CCSR). */
	if (n >= 0 && fdt_reg_cpu(f, n, 0, &a, &s) == FDT_OK &&
	    a >= E500_CCSR_BASE && a + s <= E500_CCSR_BASE + E500_CCSR_MAP)
		*out = a;
}

void ppc64_platform_probe(const void *dtb)
{
	struct ppc64_platform *p = &ppc64_plat;
	struct fdt *f = &p->fdt;
	uint32_t size = dtb ? fdt_header_size(dtb) : 0;

	p->fdt_err = size ? fdt_init(f, dtb, size) : FDT_ERR_BADMAGIC;
	p->fdt_ok = p->fdt_err == FDT_OK;
	if (!p->fdt_ok)
		return;

	uint64_t base, len;
	if (fdt_memory(f, 0, &base, &len) == FDT_OK && len) {
		p->ram_base = base;
		p->ram_size = len;
	}
	int cpus = fdt_path(f, "/cpus");
	for (int c = cpus >= 0 ? fdt_first_child(f, cpus) : -1; c >= 0; c = fdt_next_sibling(f, c)) {
		uint32_t hz = fdt_prop_u32(f, c, "timebase-frequency", 0);
		if (hz) {
			p->tb_hz = hz;
			break;
		}
	}
	const char *args = fdt_bootargs(f);
	if (args)
		p->bootargs = args;
	reg_of(f, "ns16550", &p->uart);
	reg_of(f, "fsl,mpc8540-pci", &p->pci_regs);
	reg_of(f, "fsl,qoriq-gpio", &p->gpio);
	reg_of(f, "fsl,mpic", &p->mpic);
	reg_of(f, "fsl,mpc8544-guts", &p->guts);
	int u = fdt_find_compatible(f, -1, "ns16550");
	struct fdt_irq irq;
	if (u >= 0 && fdt_irq(f, u, 0, &irq) == FDT_OK && irq.ncells >= 1)
		p->uart_irq = irq.cells[0];
	uint64_t is, ie;
	if (fdt_initrd(f, &is, &ie) == FDT_OK && ie > is) {
		p->initrd_start = is;
		p->initrd_end = ie;
	}
}
