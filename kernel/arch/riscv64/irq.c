/*
 * riscv64 interrupts of orion/arch.h over the platform-level interrupt
 * controller (RISC-V PLIC spec 1.0.0; QEMU virt "sifive,plic-1.0.0").
 *
 * An irq and a line are the same number here: the PLIC source id
 * (1..riscv,ndev; 0 means "no interrupt").  Our PLIC context is this
 * hart's S-mode one, found by the DTB walk (entry.c) from the PLIC's
 * interrupts-extended.  Every attached source gets priority 1 over
 * threshold 0.  The S-external interrupt claims until the claim register
 * reads 0, running each source's handler before completing it; a
 * level-triggered device (virtio's INTx, virtio-mmio) must have dropped
 * its line by then — its handler reads and acknowledges the device's
 * interrupt status — or the gateway raises it again at completion, which
 * is the PLIC's way of not losing a level interrupt.
 *
 * No MSI: QEMU virt's PLIC has no message target (that needs the AIA's
 * IMSIC, "-M virt,aia=aplic-imsic"), so PCI functions use INTx.
 *
 * Register map (byte offsets from the base):
 *   0x000000 + 4*s            priority of source s (0 = never)
 *   0x001000 + 4*(s/32)       pending bits
 *   0x002000 + 0x80*c         enable bits of context c (bit s%32 of word s/32)
 *   0x200000 + 0x1000*c       priority threshold of context c
 *   0x200004 + 0x1000*c       claim (read) / complete (write)
 */
#include <stdint.h>

#include "orion/arch.h"
#include "riscv64/riscv.h"

#define PLIC_SOURCES 1024   /* the spec's maximum: ids 1..1023 */

static uintptr_t plic_base;
static unsigned plic_ndev, plic_ctx;
static struct {
	irq_handler_fn fn;
	void *arg;
	uint64_t count;
} src_tab[PLIC_SOURCES];
static uint64_t unclaimed;   /* a source claimed with no handler */

static volatile uint32_t *reg(uintptr_t off)
{
	return (volatile uint32_t *)(plic_base + off);
}

static bool valid(unsigned s)
{
	return plic_base && s >= 1 && s <= plic_ndev;
}

bool plic_present(void)
{
	return plic_base != 0;
}

int plic_init(uint64_t base, unsigned ndev, unsigned ctx)
{
	if (!base || !ndev || ndev >= PLIC_SOURCES)
		return -1;
	plic_base = (uintptr_t)base;
	plic_ndev = ndev;
	plic_ctx = ctx;
	/* Everything off until attached: priority 0, enable bits clear. */
	for (unsigned s = 1; s <= ndev; s++)
		*reg(4 * s) = 0;
	for (unsigned w = 0; w <= ndev / 32; w++)
		*reg(0x2000 + 0x80 * ctx + 4 * w) = 0;
	*reg(0x200000 + 0x1000 * ctx) = 0;
	csr_set(sie, SIE_SEIE);
	return 0;
}

void plic_dispatch(void)
{
	volatile uint32_t *claim = reg(0x200004 + 0x1000 * plic_ctx);
	for (unsigned n = 0; n < 1024; n++) {
		uint32_t s = *claim;
		if (s == 0)
			break;
		if (s < PLIC_SOURCES && src_tab[s].fn) {
			src_tab[s].count++;
			src_tab[s].fn(src_tab[s].arg);
		} else {
			/* Nobody owns it: disable it so it cannot storm. */
			unclaimed++;
			arch_irq_line_mask(s, true);
		}
		*claim = s;
	}
}

unsigned arch_irq_limit(void)
{
	return plic_base ? plic_ndev + 1 : 1;
}

int irq_register(int irq, irq_handler_fn fn, void *arg)
{
	if (irq < 0 || !valid((unsigned)irq) || !fn)
		return -1;
	unsigned long f = irq_save();
	src_tab[irq].fn = fn;
	src_tab[irq].arg = arg;
	irq_restore(f);
	return 0;
}

void irq_unregister(int irq)
{
	if (irq < 0 || irq >= PLIC_SOURCES)
		return;
	unsigned long f = irq_save();
	src_tab[irq].fn = 0;
	src_tab[irq].arg = 0;
	irq_restore(f);
}

uint64_t irq_count(int irq)
{
	return (irq >= 0 && irq < PLIC_SOURCES) ? src_tab[irq].count : 0;
}

/* The PLIC gateway knows each source's trigger (QEMU virt: level for all
 * of them); level/active_low are not programmable and are ignored. */
int arch_irq_line_attach(unsigned line, bool level, bool active_low, irq_handler_fn fn, void *arg)
{
	(void)level;
	(void)active_low;
	if (!valid(line) || !fn || src_tab[line].fn)
		return -1;
	irq_register((int)line, fn, arg);
	*reg(4 * line) = 1;
	arch_irq_line_mask(line, false);
	return (int)line;
}

void arch_irq_line_mask(unsigned line, bool masked)
{
	if (!valid(line))
		return;
	unsigned long f = irq_save();
	volatile uint32_t *en = reg(0x2000 + 0x80 * plic_ctx + 4 * (line / 32));
	if (masked)
		*en &= ~(1u << (line % 32));
	else
		*en |= 1u << (line % 32);
	irq_restore(f);
}

void arch_irq_line_detach(unsigned line, int irq)
{
	(void)irq;   /* the same number */
	if (!valid(line))
		return;
	arch_irq_line_mask(line, true);
	*reg(4 * line) = 0;
	irq_unregister((int)line);
}

bool arch_irq_line_state(unsigned line, bool *masked, bool *pending)
{
	if (!valid(line))
		return false;
	*masked = !(*reg(0x2000 + 0x80 * plic_ctx + 4 * (line / 32)) & (1u << (line % 32)));
	*pending = (*reg(0x1000 + 4 * (line / 32)) & (1u << (line % 32))) != 0;
	return true;
}

bool arch_msi_supported(void) { return false; }
int arch_msi_alloc(void) { return -1; }
void arch_msi_free(int irq) { (void)irq; }

int arch_msi_compose(int irq, uint64_t *addr, uint32_t *data)
{
	(void)irq;
	(void)addr;
	(void)data;
	return -1;
}
