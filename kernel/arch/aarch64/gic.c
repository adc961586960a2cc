/*
 * The GIC on QEMU virt: GICv2 (the default, "arm,cortex-a15-gic") or GICv3
 * (gic-version=3, "arm,gic-v3"), found in the DTB.  One CPU, group 1
 * interrupts on v3, group 0 on v2 (QEMU's virt without EL3 has a single
 * security state: GICD_CTLR.DS = 1 on v3, no security extensions on v2).
 *
 * GICv2 (IHI 0048B): distributor GICD + memory-mapped CPU interface GICC.
 * GICv3 (IHI 0069): distributor with affinity routing (ARE), the CPU's
 * redistributor (GICR: RD frame, then SGI frame at +64 KiB for
 * SGIs/PPIs), and the system-register CPU interface (ICC_*_EL1).
 *
 * Every SPI starts disabled; a driver enables its line with
 * a64_irq_enable() after registering a handler.  Dispatch
 * (a64_gic_handle, from the IRQ vector): acknowledge, run the handler with
 * IRQs masked, end of interrupt; spurious INTIDs (1020-1023) are ignored.
 */
#include <stdbool.h>
#include <stdint.h>

#include "aarch64.h"

#define MAX_INTID 1020

#define GICD_CTLR 0x000
#define GICD_TYPER 0x004
#define GICD_IGROUPR 0x080
#define GICD_ISENABLER 0x100
#define GICD_ICENABLER 0x180
#define GICD_ICPENDR 0x280
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR 0x800
#define GICD_ICFGR 0xc00
#define GICD_IROUTER 0x6000

#define GICC_CTLR 0x00
#define GICC_PMR 0x04
#define GICC_IAR 0x0c
#define GICC_EOIR 0x10

#define GICR_WAKER 0x14
#define GICR_SGI 0x10000          /* SGI_base frame of the redistributor */
#define GICR_TYPER 0x08

#define PRIO_DEFAULT 0xa0

struct handler {
	a64_irq_fn fn;
	void *arg;
	uint64_t count;
};
static struct handler handlers[MAX_INTID];
static unsigned nlines;
static uintptr_t gicd, gicc, gicr;
static int version;

#define icc_read(r) sysreg_read(r)
#define icc_write(r, v) sysreg_write(r, v)

/* Distributor-side register for an SPI, or the redistributor's SGI frame
 * for INTIDs < 32 on v3 (GICD's banked copies are RAZ/WI under ARE). */
static uintptr_t cfg_base(unsigned intid)
{
	return (version == 3 && intid < 32) ? gicr + GICR_SGI : gicd;
}

static void v3_wait_rwp(void)
{
	for (unsigned i = 0; i < 1000000 && (mmio_read32(gicd + GICD_CTLR) & (1u << 31)); i++)
		;
}

/* Find this CPU's redistributor: the one whose GICR_TYPER affinity
 * matches MPIDR (frames of 128 KiB, Last bit 4 ends the list). */
static uintptr_t v3_find_redist(uintptr_t first)
{
	uint64_t mpidr = sysreg_read(mpidr_el1);
	uint32_t aff = (uint32_t)((mpidr & 0xffffff) | ((mpidr >> 32 & 0xff) << 24));
	uintptr_t r = first;
	for (unsigned i = 0; i < 512; i++, r += 0x20000) {
		uint64_t typer = (uint64_t)mmio_read32(r + GICR_TYPER) |
				 (uint64_t)mmio_read32(r + GICR_TYPER + 4) << 32;
		if ((uint32_t)(typer >> 32) == aff)
			return r;
		if (typer & (1u << 4))
			break;
	}
	return first;
}

void a64_gic_init(void)
{
	version = a64_plat.gic_version;
	if (!version)
		return;
	gicd = (uintptr_t)a64_plat.gicd_base;
	nlines = 32 * ((mmio_read32(gicd + GICD_TYPER) & 0x1f) + 1);
	if (nlines > MAX_INTID)
		nlines = MAX_INTID;

	mmio_write32(gicd + GICD_CTLR, 0);
	if (version == 3)
		v3_wait_rwp();
	for (unsigned i = 32; i < nlines; i += 32) {
		mmio_write32(gicd + GICD_ICENABLER + i / 8, 0xffffffffu);
		mmio_write32(gicd + GICD_ICPENDR + i / 8, 0xffffffffu);
		/* v3: group 1 (ICC_IGRPEN1).  v2 without the security
		 * extensions signals group 0 as IRQ with GICC_CTLR bit 0, so
		 * everything stays in group 0 there. */
		if (version == 3)
			mmio_write32(gicd + GICD_IGROUPR + i / 8, 0xffffffffu);
	}
	for (unsigned i = 32; i < nlines; i += 4)
		mmio_write32(gicd + GICD_IPRIORITYR + i, PRIO_DEFAULT * 0x01010101u);

	if (version == 2) {
		gicc = (uintptr_t)a64_plat.gicc_base;
		for (unsigned i = 32; i < nlines; i += 4)
			mmio_write32(gicd + GICD_ITARGETSR + i, 0x01010101u);   /* CPU 0 */
		for (unsigned i = 0; i < 32; i += 4)
			mmio_write32(gicd + GICD_IPRIORITYR + i, PRIO_DEFAULT * 0x01010101u);
		mmio_write32(gicd + GICD_ICENABLER, 0xffff0000u);   /* PPIs off */
		mmio_write32(gicd + GICD_CTLR, 1);
		mmio_write32(gicc + GICC_PMR, 0xf0);
		mmio_write32(gicc + GICC_CTLR, 1);
		return;
	}

	/* v3: affinity routing, group 1; every SPI to this CPU. */
	uint64_t mpidr = sysreg_read(mpidr_el1);
	uint64_t route = (mpidr & 0xffffff) | ((mpidr >> 32 & 0xff) << 32);
	for (unsigned i = 32; i < nlines; i++)
		mmio_write64(gicd + GICD_IROUTER + 8 * i, route);
	mmio_write32(gicd + GICD_CTLR, (1u << 4) | (1u << 1) | (1u << 0));   /* ARE, Grp1, Grp0 */
	v3_wait_rwp();

	gicr = v3_find_redist((uintptr_t)a64_plat.gicr_base);
	uint32_t w = mmio_read32(gicr + GICR_WAKER);
	mmio_write32(gicr + GICR_WAKER, w & ~(1u << 1));   /* ProcessorSleep = 0 */
	for (unsigned i = 0; i < 1000000 && (mmio_read32(gicr + GICR_WAKER) & (1u << 2)); i++)
		;
	uintptr_t sgi = gicr + GICR_SGI;
	mmio_write32(sgi + GICD_ICENABLER, 0xffffffffu);
	mmio_write32(sgi + GICD_IGROUPR, 0xffffffffu);
	for (unsigned i = 0; i < 32; i += 4)
		mmio_write32(sgi + GICD_IPRIORITYR + i, PRIO_DEFAULT * 0x01010101u);

	/* ICC_SRE_EL1.SRE: system-register interface; PMR: all priorities;
	 * BPR 0; group 1 on. */
	icc_write(S3_0_C12_C12_5, icc_read(S3_0_C12_C12_5) | 1);   /* ICC_SRE_EL1 */
	isb();
	icc_write(S3_0_C4_C6_0, 0xff);                             /* ICC_PMR_EL1 */
	icc_write(S3_0_C12_C12_3, 0);                              /* ICC_BPR1_EL1 */
	icc_write(S3_0_C12_C12_7, 1);                              /* ICC_IGRPEN1_EL1 */
	isb();
}

int a64_irq_register(unsigned intid, a64_irq_fn fn, void *arg)
{
	if (intid >= MAX_INTID)
		return -1;
	handlers[intid].arg = arg;
	handlers[intid].fn = fn;
	return 0;
}

void a64_irq_enable(unsigned intid, bool level)
{
	if (!version || intid >= nlines)
		return;
	uintptr_t b = cfg_base(intid);
	if (intid >= 32) {
		/* ICFGR: 2 bits per INTID, bit 1 set = edge. */
		uintptr_t r = b + GICD_ICFGR + (intid / 16) * 4;
		uint32_t v = mmio_read32(r);
		unsigned sh = (intid % 16) * 2 + 1;
		v = level ? (v & ~(1u << sh)) : (v | (1u << sh));
		mmio_write32(r, v);
	}
	mmio_write32(b + GICD_ISENABLER + (intid / 32) * 4, 1u << (intid % 32));
	if (version == 3 && intid >= 32)
		v3_wait_rwp();
}

void a64_irq_disable(unsigned intid)
{
	if (!version || intid >= nlines)
		return;
	mmio_write32(cfg_base(intid) + GICD_ICENABLER + (intid / 32) * 4, 1u << (intid % 32));
	if (version == 3 && intid >= 32)
		v3_wait_rwp();
}

uint64_t a64_irq_count(unsigned intid)
{
	return intid < MAX_INTID ? handlers[intid].count : 0;
}

void a64_gic_handle(void)
{
	if (!version)
		return;
	for (;;) {
		uint32_t iar = version == 2 ? mmio_read32(gicc + GICC_IAR)
					    : (uint32_t)icc_read(S3_0_C12_C12_0);   /* ICC_IAR1_EL1 */
		unsigned id = iar & 0xffffff;
		if (version == 2)
			id = iar & 0x3ff;
		if (id >= 1020)
			return;
		struct handler *h = &handlers[id];
		h->count++;
		if (h->fn)
			h->fn(h->arg);
		if (version == 2)
			mmio_write32(gicc + GICC_EOIR, iar);
		else
			icc_write(S3_0_C12_C12_1, iar);                      /* ICC_EOIR1_EL1 */
		isb();
	}
}
