/*
 * The platform-level interrupt controller (RISC-V PLIC spec 1.0.0; QEMU
 * virt "sifive,plic-1.0.0"): sources 1..ndev, each with a priority;
 * per context an enable bitmap, a priority threshold and a claim/complete
 * register.  Our context is this hart's S-mode one, found by the DTB walk
 * from the PLIC's interrupts-extended (the entry naming the hart's intc
 * with cause 9).  Every routed source gets priority 1 over threshold 0;
 * the S-external interrupt claims until the claim register reads 0,
 * calling each source's handler before completing it — a level-triggered
 * device (virtio) must have dropped its line by then (the handler reads
 * and acknowledges its interrupt status), or it is claimed again.
 *
 * Register map (offsets from the base):
 *   0x000000 + 4*s            priority of source s
 *   0x002000 + 0x80*c         enable bits of context c (bit s of word s/32)
 *   0x200000 + 0x1000*c       threshold of context c
 *   0x200004 + 0x1000*c       claim (read) / complete (write)
 */
#include <stdint.h>

#include "riscv.h"

#define PLIC_MAX_SRC 1024

static uintptr_t plic_base;
static unsigned plic_ndev, plic_ctx;
static struct {
	void (*fn)(void *);
	void *arg;
	uint64_t count;
} src_tab[128];
static uint64_t spurious;

static volatile uint32_t *reg(uintptr_t off)
{
	return (volatile uint32_t *)(plic_base + off);
}

bool plic_present(void)
{
	return plic_base != 0;
}

int plic_init(uint64_t base, unsigned ndev, unsigned ctx)
{
	if (!base || !ndev || ndev >= PLIC_MAX_SRC)
		return -1;
	plic_base = (uintptr_t)base;
	plic_ndev = ndev;
	plic_ctx = ctx;
	for (unsigned s = 1; s <= ndev; s++)
		*reg(4 * s) = 0;
	for (unsigned w = 0; w <= ndev / 32; w++)
		*reg(0x2000 + 0x80 * ctx + 4 * w) = 0;
	*reg(0x200000 + 0x1000 * ctx) = 0;
	csr_set(sie, SIE_SEIE);
	return 0;
}

void plic_mask(unsigned s, bool masked)
{
	if (!plic_base || s == 0 || s > plic_ndev)
		return;
	volatile uint32_t *en = reg(0x2000 + 0x80 * plic_ctx + 4 * (s / 32));
	if (masked)
		*en &= ~(1u << (s % 32));
	else
		*en |= 1u << (s % 32);
}

int plic_route(unsigned s, void (*fn)(void *), void *arg)
{
	if (!plic_base || s == 0 || s > plic_ndev || s >= sizeof(src_tab) / sizeof(src_tab[0]) || !fn)
		return -1;
	unsigned long f = csr_read_clear(sstatus, SSTATUS_SIE);
	src_tab[s].fn = fn;
	src_tab[s].arg = arg;
	*reg(4 * s) = 1;
	plic_mask(s, false);
	csr_set(sstatus, f & SSTATUS_SIE);
	return 0;
}

uint64_t plic_count(unsigned s)
{
	return s < sizeof(src_tab) / sizeof(src_tab[0]) ? src_tab[s].count : 0;
}

void plic_dispatch(void)
{
	volatile uint32_t *claim = reg(0x200004 + 0x1000 * plic_ctx);
	for (;;) {
		uint32_t s = *claim;
		if (s == 0)
			break;
		if (s < sizeof(src_tab) / sizeof(src_tab[0]) && src_tab[s].fn) {
			src_tab[s].count++;
			src_tab[s].fn(src_tab[s].arg);
		} else {
			spurious++;
			plic_mask(s, true);   /* nobody owns it: keep it quiet */
		}
		*claim = s;
	}
}
