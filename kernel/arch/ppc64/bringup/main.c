/* Throwaway bring-up main (not part of the kernel build). */
#include "../e500.h"
#include "../pci_fsl.h"
#include "../timebase.h"
#include "orion/kprintf.h"
#include "orion/serial.h"
#include "orion/klib.h"

static uint32_t be32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Minimal: find the first property named `name` anywhere. */
static const uint8_t *fdt_find(const void *fdt, const char *name, uint32_t *len)
{
	const uint8_t *f = fdt;
	const uint8_t *st = f + be32(f + 8), *str = f + be32(f + 12);
	const uint8_t *p = st;
	for (;;) {
		uint32_t tok = be32(p); p += 4;
		if (tok == 1) { p += (strlen((const char *)p) + 4) & ~3u; }
		else if (tok == 2 || tok == 4) {}
		else if (tok == 3) {
			uint32_t l = be32(p), no = be32(p + 4);
			if (!strcmp((const char *)str + no, name)) { *len = l; return p + 8; }
			p += 8 + ((l + 3) & ~3u);
		} else return 0;
	}
}

void ppc64_arch_main(void *dtb, unsigned long magic)
{
	uint32_t len;
	kprintf("orion-ppc64 bring-up: dtb %p magic %lx fdt-magic %x\n", dtb, magic, be32(dtb));
	const uint8_t *tbf = fdt_find(dtb, "timebase-frequency", &len);
	ppc_tb_init(tbf ? be32(tbf) : 0);
	kprintf("timebase %u Hz, tb %llu\n", ppc_tb_hz(), (unsigned long long)ppc_mftb());
	const uint8_t *mem = fdt_find(dtb, "reg", &len);  /* not the memory node; just show */
	(void)mem;
	uint64_t t0 = ppc_time_ns();
	ppc_delay_ns(10000000);
	kprintf("10 ms delay took %llu ns\n", (unsigned long long)(ppc_time_ns() - t0));
	ppc_pci_host_init(256u << 20);
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
	const char *args = (const char *)fdt_find(dtb, "bootargs", &len);
	kprintf("bootargs '%s'\n", args ? args : "");
	if (args && !strcmp(args, "fault")) {
		kprintf("executing an illegal instruction\n");
		__asm__ volatile(".long 0");
	}
	if (args && !strcmp(args, "fail")) {
		extern void ppc64_fatal(void);
		ppc64_fatal();
	}
	kprintf("bring-up: PASS, powering off\n");
	ppc_poweroff();
}
