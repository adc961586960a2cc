/*
 * Freescale MPIC as QEMU models it (hw/intc/openpic.c, FSL v2.0 model):
 * source n's vector/priority register at +0x10000 + 0x20 n and its
 * destination register 0x10 after it; the current CPU's task priority,
 * interrupt acknowledge and end-of-interrupt at +0x80, +0xA0, +0xB0.
 * Vectors are the source numbers; the spurious vector is 0xffff.
 * External input (IVOR4) acknowledges, dispatches, and ends the
 * interrupt; it runs with MSR[EE] = 0 and returns through rfi.
 */
#include "e500.h"
#include "exc.h"
#include "mpic.h"
#include "orion/kprintf.h"

#define MPIC_GCR     0x1020
#define GCR_RESET    0x80000000u
#define GCR_MIXED    0x20000000u
#define MPIC_SVR     0x10E0
#define MPIC_CTPR    0x0080
#define MPIC_IACK    0x00A0
#define MPIC_EOI     0x00B0
#define SRC_VPR(n)   (0x10000u + 0x20u * (n))
#define SRC_DR(n)    (0x10010u + 0x20u * (n))
#define VPR_MASK     0x80000000u
#define VPR_SENSE    0x00400000u   /* level */
#define VPR_PRIO(p)  (((uint32_t)(p) & 0xf) << 16)
#define SPURIOUS     0xffffu

static uint64_t mpic;
static struct { ppc64_irq_fn fn; void *arg; uint64_t count; } srcs[MPIC_MAX_SRC];
static uint64_t spurious;

static int external(struct ppc64_regs *r)
{
	(void)r;
	for (unsigned guard = 0; guard < 16; guard++) {
		uint32_t v = ppc_in32be(mpic + MPIC_IACK) & 0xffff;
		if (v == SPURIOUS || v >= MPIC_MAX_SRC) {
			spurious++;
			break;
		}
		srcs[v].count++;
		if (srcs[v].fn)
			srcs[v].fn(srcs[v].arg);
		ppc_out32be(mpic + MPIC_EOI, 0);
	}
	return 1;
}

void ppc64_mpic_init(uint64_t base)
{
	mpic = base;
	ppc_out32be(mpic + MPIC_GCR, GCR_RESET);
	for (unsigned i = 0; i < 1000 && (ppc_in32be(mpic + MPIC_GCR) & GCR_RESET); i++)
		;
	ppc_out32be(mpic + MPIC_GCR, GCR_MIXED);
	ppc_out32be(mpic + MPIC_SVR, SPURIOUS);
	for (unsigned n = 0; n < MPIC_MAX_SRC; n++)
		srcs[n].fn = 0;
	ppc64_exc_set_handler(4, external);
	ppc_out32be(mpic + MPIC_CTPR, 0);   /* accept every priority > 0 */
}

int ppc64_mpic_route(unsigned src, bool edge, unsigned prio, ppc64_irq_fn fn, void *arg)
{
	if (!mpic || src >= MPIC_MAX_SRC || prio == 0 || prio > 15)
		return -1;
	srcs[src].fn = fn;
	srcs[src].arg = arg;
	ppc_out32be(mpic + SRC_VPR(src), VPR_MASK | (edge ? 0 : VPR_SENSE) | VPR_PRIO(prio) | src);
	ppc_out32be(mpic + SRC_DR(src), 1);   /* CPU 0 */
	ppc_out32be(mpic + SRC_VPR(src), (edge ? 0 : VPR_SENSE) | VPR_PRIO(prio) | src);
	return 0;
}

void ppc64_mpic_mask(unsigned src, bool masked)
{
	if (!mpic || src >= MPIC_MAX_SRC)
		return;
	uint32_t v = ppc_in32be(mpic + SRC_VPR(src));
	ppc_out32be(mpic + SRC_VPR(src), masked ? (v | VPR_MASK) : (v & ~VPR_MASK));
}

int ppc64_mpic_set_handler(unsigned src, ppc64_irq_fn fn, void *arg)
{
	if (src >= MPIC_MAX_SRC)
		return -1;
	unsigned long f = ppc64_irq_save();
	srcs[src].fn = fn;
	srcs[src].arg = arg;
	ppc64_irq_restore(f);
	return 0;
}

bool ppc64_mpic_state(unsigned src, bool *masked, bool *pending)
{
	if (!mpic || src >= MPIC_MAX_SRC)
		return false;
	uint32_t v = ppc_in32be(mpic + SRC_VPR(src));
	*masked = (v & VPR_MASK) != 0;
	*pending = (v & 0x40000000u) != 0;   /* A: activity */
	return true;
}

uint64_t ppc64_mpic_count(unsigned src)
{
	return src < MPIC_MAX_SRC ? srcs[src].count : 0;
}
