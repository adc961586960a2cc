/*
 * kernel/dev/pci_ecam.c on the host.  A fake PCI bus plays the hardware
 * side of configuration space (BARs answer the size probe with their mask,
 * bridges route config cycles to their secondary bus once numbered), and
 * a device tree built here (or, with a path argument, QEMU's aarch64 virt
 * DTB; CTest test_pci_ecam_qemu_virt) describes the host bridge.
 *
 * What the kernel relies on: every BAR placed at its natural alignment
 * inside a window, no two overlapping, bridge windows covering what is
 * behind them, decoding enabled only where everything was placed, bad
 * BAR probes and a malformed node refused with a counted, logged reason,
 * and INTx resolved through bridges and interrupt-map like QEMU wires it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fdt_builder.h"
#include "orion/pci_ecam.h"

/* ---- The fake bus ---- */

struct fake_fn {
	bool present;
	uint8_t cfg[256];
	uint32_t bar_mask[6];   /* size mask incl. RO type bits; 0 = unimplemented */
	bool bar_hi[6];         /* this slot is the upper half of a 64-bit BAR */
	bool bar_tiny[6];       /* < 16 bytes: every mask bit writable, type bits 0 */
	uint64_t bar_size[6];
	int child;              /* bridge: index of the fake bus behind it */
};

#define NBUS 4
struct fake_bus { struct fake_fn fn[32][8]; };
static struct fake_bus fbus[NBUS];
static unsigned n_reads, n_writes;

static void set16(uint8_t *c, unsigned off, uint16_t v) { c[off] = (uint8_t)v; c[off + 1] = (uint8_t)(v >> 8); }
static uint32_t get(const uint8_t *c, unsigned off, unsigned w)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < w; i++)
		v |= (uint32_t)c[off + i] << (8 * i);
	return v;
}

static struct fake_fn *fn_add(int b, unsigned d, unsigned f, uint16_t vendor, uint16_t device,
			      uint8_t hdr)
{
	struct fake_fn *fn = &fbus[b].fn[d][f];
	memset(fn, 0, sizeof(*fn));
	fn->present = true;
	fn->child = -1;
	set16(fn->cfg, 0, vendor);
	set16(fn->cfg, 2, device);
	fn->cfg[0x0e] = hdr;
	return fn;
}

/* A memory BAR of size (power of two) or an I/O BAR; 64-bit uses i, i+1. */
static void bar_mem(struct fake_fn *fn, unsigned i, uint64_t size, bool is64, bool pref)
{
	uint64_t m = ~(size - 1);
	fn->bar_size[i] = size;
	fn->bar_mask[i] = ((uint32_t)m & ~0xfu) | (is64 ? 4u : 0) | (pref ? 8u : 0);
	if (is64) {
		fn->bar_mask[i + 1] = (uint32_t)(m >> 32);
		fn->bar_hi[i + 1] = true;
	}
	uint32_t v = fn->bar_mask[i] & 0xf;
	memcpy(fn->cfg + 0x10 + 4 * i, &v, 4);
}

static void bar_io(struct fake_fn *fn, unsigned i, uint32_t size)
{
	fn->bar_size[i] = size;
	fn->bar_mask[i] = (~(size - 1) & 0xfffcu) | 1u;   /* 16-bit decoder */
	fn->cfg[0x10 + 4 * i] = 1;
}

/* Which fake bus answers bus number n: 0 is the root; another is the
 * child of a bridge whose secondary number is n (routing like a real
 * bridge: only once it was numbered, and within its subordinate range). */
static int route(int fb, unsigned root, unsigned n)
{
	if (n == root && fb == 0)
		return 0;
	for (unsigned d = 0; d < 32; d++)
		for (unsigned f = 0; f < 8; f++) {
			struct fake_fn *fn = &fbus[fb].fn[d][f];
			if (!fn->present || fn->child < 0)
				continue;
			unsigned sec = fn->cfg[0x19], sub = fn->cfg[0x1a];
			if (sec == 0 || n < sec || n > sub)
				continue;
			if (n == sec)
				return fn->child;
			int r = route(fn->child, root, n);
			if (r >= 0)
				return r;
		}
	return -1;
}

static struct fake_fn *lookup(unsigned bus, unsigned devfn)
{
	int fb = route(0, 0, bus);
	if (fb < 0)
		return NULL;
	struct fake_fn *fn = &fbus[fb].fn[devfn >> 3][devfn & 7];
	return fn->present ? fn : NULL;
}

static uint32_t fake_read(void *ctx, unsigned bus, unsigned devfn, unsigned off, unsigned w)
{
	(void)ctx;
	n_reads++;
	struct fake_fn *fn = lookup(bus, devfn);
	if (!fn)
		return w == 4 ? 0xffffffffu : (1u << (8 * w)) - 1;
	if (off >= 256)
		return 0;
	return get(fn->cfg, off, w);
}

static void fake_write(void *ctx, unsigned bus, unsigned devfn, unsigned off, unsigned w, uint32_t v)
{
	(void)ctx;
	n_writes++;
	struct fake_fn *fn = lookup(bus, devfn);
	if (!fn || off >= 256)
		return;
	bool bridge = (fn->cfg[0x0e] & 0x7f) == 1;
	unsigned nbars = bridge ? 2 : 6;
	if (off >= 0x10 && off < 0x10 + 4 * nbars) {
		assert_int_equal(w, 4);   /* BARs are written whole */
		unsigned i = (off - 0x10) / 4;
		uint32_t m = fn->bar_mask[i];
		uint32_t keep = fn->bar_hi[i] || fn->bar_tiny[i] ? 0 : (m & 1 ? 1u : m & 0xfu);
		uint32_t writable = fn->bar_hi[i] || fn->bar_tiny[i] ? m : (m & 1 ? m & ~3u : m & ~0xfu);
		uint32_t nv = (v & writable) | keep;
		memcpy(fn->cfg + off, &nv, 4);
		return;
	}
	if (off == 0x0e || off < 4)
		return;   /* read-only */
	for (unsigned i = 0; i < w; i++)
		fn->cfg[off + i] = (uint8_t)(v >> (8 * i));
}

static char logbuf[8192];
static void test_log(const char *fmt, ...)
{
	va_list ap;
	size_t n = strlen(logbuf);
	va_start(ap, fmt);
	vsnprintf(logbuf + n, sizeof(logbuf) - n, fmt, ap);
	va_end(ap);
}

/* A host like QEMU virt's: buses 0..15, I/O 64 KiB at CPU 0x3eff0000,
 * 32-bit memory 0x10000000 + 16 MiB (small on purpose), 64-bit memory at
 * 0x80_0000_0000 + 512 GiB. */
static void host_init(struct pci_ecam *h)
{
	memset(h, 0, sizeof(*h));
	h->node = -1;
	h->bus_start = 0;
	h->bus_end = 15;
	h->io = (struct pci_ecam_window){ .present = true, .pci = 0, .cpu = 0x3eff0000, .size = 0x10000 };
	h->mem32 = (struct pci_ecam_window){ .present = true, .pci = 0x10000000, .cpu = 0x10000000,
					     .size = 16u << 20 };
	h->mem64 = (struct pci_ecam_window){ .present = true, .prefetchable = true,
					     .pci = 0x8000000000ull, .cpu = 0x8000000000ull,
					     .size = 0x8000000000ull };
	h->ops.read = fake_read;
	h->ops.write = fake_write;
	h->log = test_log;
	logbuf[0] = '\0';
}

static uint64_t bar_value(const struct fake_fn *fn, unsigned i)
{
	uint32_t lo = get(fn->cfg, 0x10 + 4 * i, 4);
	if (lo & 1)
		return lo & ~3u;
	uint64_t v = lo & ~0xfu;
	if ((lo >> 1 & 3) == 2)
		v |= (uint64_t)get(fn->cfg, 0x14 + 4 * i, 4) << 32;
	return v;
}

/* The topology:
 *   bus 0: 00.0 endpoint (mem 4 KiB)
 *          01.0 virtio-net-like (I/O 32, mem 4 KiB, 64-bit pref 16 KiB)
 *          02.0 bridge A -> fake bus 1
 *          03.0 bad BAR probe (mask with a hole), plus a good I/O BAR
 *          04.0 64-bit 1 GiB BAR (too big for mem32: goes to mem64)
 *          05.0 and 05.2 multi-function
 *   bus 1: 00.0 endpoint (mem 1 MiB, I/O 256)
 *          01.0 bridge B -> fake bus 2
 *          02.0 64-bit 1 GiB BAR behind a bridge: cannot be placed
 *   bus 2: 03.0 endpoint (mem 8 KiB)
 */
static void topo_build(void)
{
	memset(fbus, 0, sizeof(fbus));
	n_reads = n_writes = 0;
	struct fake_fn *f;
	f = fn_add(0, 0, 0, 0x1b36, 0x0008, 0);
	bar_mem(f, 0, 0x1000, false, false);
	f = fn_add(0, 1, 0, 0x1af4, 0x1000, 0);
	bar_io(f, 0, 32);
	bar_mem(f, 1, 0x1000, false, false);
	bar_mem(f, 4, 0x4000, true, true);
	f = fn_add(0, 2, 0, 0x1b36, 0x000c, 1);
	f->child = 1;
	f = fn_add(0, 3, 0, 0x1234, 0x0001, 0);
	f->bar_mask[0] = 0xfff0f000u;               /* not a power-of-two size */
	bar_io(f, 1, 16);
	f = fn_add(0, 4, 0, 0x1234, 0x0002, 0);
	bar_mem(f, 0, 1ull << 30, true, true);
	fn_add(0, 5, 0, 0x1234, 0x0003, 0x80);
	f = fn_add(0, 5, 2, 0x1234, 0x0004, 0);
	bar_mem(f, 2, 0x2000, false, false);
	f = fn_add(1, 0, 0, 0x1234, 0x0010, 0);
	bar_mem(f, 0, 1u << 20, false, false);
	bar_io(f, 1, 256);
	f = fn_add(1, 1, 0, 0x1b36, 0x000c, 1);
	f->child = 2;
	f = fn_add(1, 2, 0, 0x1234, 0x0011, 0);
	bar_mem(f, 0, 1ull << 30, true, true);
	f = fn_add(2, 3, 0, 0x1234, 0x0012, 0);
	bar_mem(f, 0, 0x2000, false, false);
}

static struct fake_fn *F(int b, unsigned d, unsigned f) { return &fbus[b].fn[d][f]; }
static unsigned cmd(int b, unsigned d, unsigned f) { return get(F(b, d, f)->cfg, 4, 2); }

struct placed { uint64_t base, size; bool io; };

static void collect(struct placed *p, unsigned *n, const struct fake_fn *fn)
{
	for (unsigned i = 0; i < 6; i++) {
		if (!fn->bar_size[i])
			continue;
		uint64_t v = bar_value(fn, i);
		if (v == 0)
			continue;   /* unplaced */
		p[*n].base = v;
		p[*n].size = fn->bar_size[i];
		p[*n].io = fn->bar_mask[i] & 1;
		(*n)++;
	}
}

static void test_assign_topology(void **state)
{
	(void)state;
	static struct pci_ecam h;
	host_init(&h);
	topo_build();
	int n = pci_ecam_assign(&h);
	assert_int_equal(n, 11);
	assert_int_equal(h.stats.functions, 11);
	assert_int_equal(h.stats.bridges, 2);
	assert_int_equal(h.stats.bars_failed, 2);    /* 03.0 BAR0, 1:02.0's 1 GiB */
	assert_int_equal(h.stats.bars, 10);
	assert_non_null(strstr(logbuf, "00:03.0 BAR0: memory size"));
	assert_non_null(strstr(logbuf, "malformed"));
	assert_non_null(strstr(logbuf, "01:02.0 BAR0"));
	assert_non_null(strstr(logbuf, "does not fit"));

	/* Bus numbers: A gets 1..2, B gets 2..2. */
	assert_int_equal(F(0, 2, 0)->cfg[0x18], 0);
	assert_int_equal(F(0, 2, 0)->cfg[0x19], 1);
	assert_int_equal(F(0, 2, 0)->cfg[0x1a], 2);
	assert_int_equal(F(1, 1, 0)->cfg[0x18], 1);
	assert_int_equal(F(1, 1, 0)->cfg[0x19], 2);
	assert_int_equal(F(1, 1, 0)->cfg[0x1a], 2);
	assert_int_equal(h.last_bus, 2);

	/* Every placed BAR: natural alignment, inside its window, no overlap. */
	struct placed p[32];
	unsigned np = 0;
	for (int b = 0; b < NBUS; b++)
		for (unsigned d = 0; d < 32; d++)
			for (unsigned f = 0; f < 8; f++)
				if (F(b, d, f)->present)
					collect(p, &np, F(b, d, f));
	assert_int_equal(np, 10);
	for (unsigned i = 0; i < np; i++) {
		assert_int_equal(p[i].base & (p[i].size - 1), 0);
		if (p[i].io) {
			assert_true(p[i].base >= 0x1000 && p[i].base + p[i].size <= 0x10000);
		} else {
			bool in32 = p[i].base >= 0x10000000 && p[i].base + p[i].size <= 0x11000000;
			bool in64 = p[i].base >= 0x8000000000ull;
			assert_true(in32 || in64);
		}
		for (unsigned j = 0; j < i; j++)
			if (p[i].io == p[j].io)
				assert_true(p[i].base + p[i].size <= p[j].base ||
					    p[j].base + p[j].size <= p[i].base);
	}
	/* The 64-bit 1 GiB BAR on the root bus went to the 64-bit window. */
	assert_int_equal(bar_value(F(0, 4, 0), 0), 0x8000000000ull);
	/* Everything that fits stays below 4 GiB. */
	assert_true(bar_value(F(0, 1, 0), 4) < 0x11000000);
	assert_int_equal(bar_value(F(1, 2, 0), 0), 0);   /* behind a bridge: unplaced */

	/* Decoding: on where everything was placed, off for the type that failed. */
	assert_int_equal(cmd(0, 1, 0) & 3, 3);
	assert_int_equal(cmd(0, 3, 0) & 3, 1);           /* I/O on, memory off */
	assert_int_equal(cmd(1, 2, 0) & 2, 0);
	assert_int_equal(cmd(0, 5, 2) & 3, 2);
	assert_int_equal(cmd(0, 5, 0) & 3, 0);           /* no BARs */
	assert_int_equal(cmd(0, 2, 0) & 7, 7);           /* bridge: mem, io, master */

	/* Bridge A's windows cover everything behind it (bus 1 and 2). */
	uint64_t mb = (uint64_t)(get(F(0, 2, 0)->cfg, 0x20, 2) & 0xfff0) << 16;
	uint64_t ml = ((uint64_t)(get(F(0, 2, 0)->cfg, 0x22, 2) & 0xfff0) << 16) | 0xfffff;
	uint64_t ib = (uint64_t)(F(0, 2, 0)->cfg[0x1c] & 0xf0) << 8;
	uint64_t il = ((uint64_t)(F(0, 2, 0)->cfg[0x1d] & 0xf0) << 8) | 0xfff;
	uint64_t e0 = bar_value(F(1, 0, 0), 0), e1 = bar_value(F(2, 3, 0), 0);
	assert_true(e0 >= mb && e0 + (1u << 20) - 1 <= ml);
	assert_true(e1 >= mb && e1 + 0x2000 - 1 <= ml);
	uint64_t io1 = bar_value(F(1, 0, 0), 1);
	assert_true(io1 >= ib && io1 + 255 <= il);
	/* Bridge B: memory window only (nothing behind it uses I/O). */
	uint64_t bb = (uint64_t)(get(F(1, 1, 0)->cfg, 0x20, 2) & 0xfff0) << 16;
	uint64_t bl = ((uint64_t)(get(F(1, 1, 0)->cfg, 0x22, 2) & 0xfff0) << 16) | 0xfffff;
	assert_true(e1 >= bb && e1 + 0x2000 - 1 <= bl);
	assert_true(bb >= mb && bl <= ml);
	assert_true((F(1, 1, 0)->cfg[0x1c] & 0xf0) > (F(1, 1, 0)->cfg[0x1d] & 0xf0));
	/* Nothing on the root bus sits inside bridge A's memory window. */
	uint64_t r = bar_value(F(0, 1, 0), 1);
	assert_true(r + 0x1000 - 1 < mb || r > ml);
	/* Prefetchable windows off (base above limit). */
	assert_true(get(F(0, 2, 0)->cfg, 0x24, 2) > get(F(0, 2, 0)->cfg, 0x26, 2));

	/* A second run places everything the same way. */
	uint64_t before = bar_value(F(2, 3, 0), 0);
	assert_int_equal(pci_ecam_assign(&h), 11);
	assert_int_equal(bar_value(F(2, 3, 0), 0), before);

	uint64_t cpu;
	assert_int_equal(pci_ecam_to_cpu(&h, PCI_ECAM_IO, 0x1000, &cpu), PCI_ECAM_OK);
	assert_int_equal(cpu, 0x3eff1000);
	assert_int_equal(pci_ecam_to_cpu(&h, PCI_ECAM_MEM32, 0x8000000010ull, &cpu), PCI_ECAM_OK);
	assert_int_equal(cpu, 0x8000000010ull);
	assert_int_equal(pci_ecam_to_cpu(&h, PCI_ECAM_MEM32, 0x100, &cpu), PCI_ECAM_ERR_NOTFOUND);
	assert_int_equal(pci_ecam_to_cpu(&h, PCI_ECAM_IO, 0x10000, &cpu), PCI_ECAM_ERR_NOTFOUND);
}

static void test_windows_exhausted(void **state)
{
	(void)state;
	static struct pci_ecam h;
	host_init(&h);
	h.mem64.present = false;
	h.io.size = 0x1010;   /* room for one 16-byte I/O BAR above 0x1000 */
	memset(fbus, 0, sizeof(fbus));
	struct fake_fn *f = fn_add(0, 0, 0, 0x1234, 1, 0);
	bar_io(f, 0, 16);
	bar_io(f, 1, 16);
	bar_mem(f, 2, 8u << 20, false, false);
	bar_mem(f, 3, 8u << 20, false, false);
	bar_mem(f, 4, 8u << 20, true, false);
	assert_int_equal(pci_ecam_assign(&h), 1);
	assert_int_equal(h.stats.bars, 3);
	assert_int_equal(h.stats.bars_failed, 2);
	assert_int_equal(bar_value(f, 1), 0);
	assert_int_equal(bar_value(f, 4), 0);
	assert_int_equal(cmd(0, 0, 0) & 3, 0);   /* both types had a failure */
	/* A 64-bit BAR in slot 5 has no upper half. */
	memset(fbus, 0, sizeof(fbus));
	f = fn_add(0, 0, 0, 0x1234, 1, 0);
	f->bar_mask[5] = 0xfffff004u;
	f->cfg[0x10 + 4 * 5] = 0x04;   /* the read-only type bits, as bar_mem sets them */
	logbuf[0] = '\0';
	assert_int_equal(pci_ecam_assign(&h), 1);
	assert_int_equal(h.stats.bars_failed, 1);
	assert_non_null(strstr(logbuf, "last slot"));
}

/* A memory BAR below the spec's 16-byte minimum, as QEMU's pvpanic-pci has
 * (2 bytes: the probe reads back 0xfffffffe, bits 1..3 writable): it must
 * be placed as a 16-byte 32-bit BAR, with its type bits read from the
 * register before the probe, not from the probe's mask. */
static void test_tiny_bar(void **state)
{
	(void)state;
	static struct pci_ecam h;
	host_init(&h);
	memset(fbus, 0, sizeof(fbus));
	struct fake_fn *f = fn_add(0, 2, 0, 0x1b36, 0x0011, 0);
	f->bar_mask[0] = 0xfffffffeu;
	f->bar_tiny[0] = true;
	f->bar_size[0] = 16;
	logbuf[0] = '\0';
	assert_int_equal(pci_ecam_assign(&h), 1);
	assert_int_equal(h.stats.bars_failed, 0);
	assert_int_equal(h.stats.bars, 1);
	uint32_t v = (uint32_t)get(f->cfg, 0x10, 4);
	assert_int_not_equal(v, 0);
	assert_int_equal(v & 0xf, 0);           /* 32-bit, address 16-aligned */
	assert_true(v >= 0x10000000u && v + 16 <= 0x11000000u);
	assert_int_equal(cmd(0, 2, 0) & 2, 2);  /* memory decoding on */
}

static void test_cfg_bounds(void **state)
{
	(void)state;
	static struct pci_ecam h;
	host_init(&h);
	topo_build();
	unsigned r0 = n_reads;
	assert_int_equal(pci_ecam_read(&h, 16, 0, 0, 0, 4), 0xffffffffu);   /* bus beyond bus_end */
	assert_int_equal(pci_ecam_read(&h, 0, 32, 0, 0, 2), 0xffff);
	assert_int_equal(pci_ecam_read(&h, 0, 0, 8, 0, 1), 0xff);
	assert_int_equal(pci_ecam_read(&h, 0, 0, 0, 2, 4), 0xffffffffu);    /* misaligned */
	assert_int_equal(pci_ecam_read(&h, 0, 0, 0, 4096, 1), 0xff);
	assert_int_equal(pci_ecam_read(&h, 0, 0, 0, 0, 3), 0xffffffu);
	assert_int_equal(n_reads, r0);   /* none reached the bus */
	assert_int_equal(pci_ecam_read(&h, 0, 1, 0, 0, 4), 0x10001af4u);
	unsigned w0 = n_writes;
	pci_ecam_write(&h, 0, 40, 0, 4, 2, 0);
	assert_int_equal(n_writes, w0);
	/* ECAM addresses: bus << 20 | dev << 15 | fn << 12 | off. */
	h.cfg_cpu = 0x4010000000ull;
	assert_int_equal(pci_ecam_cfg_addr(&h, 1, 2, 3, 0x44), 0x4010000000ull + (1 << 20) + (2 << 15) + (3 << 12) + 0x44);
	assert_int_equal(pci_ecam_cfg_addr(&h, 16, 0, 0, 0), 0);
	h.bus_start = 2;
	h.bus_end = 5;
	assert_int_equal(pci_ecam_cfg_addr(&h, 2, 0, 0, 0), 0x4010000000ull);
	assert_int_equal(pci_ecam_cfg_addr(&h, 1, 0, 0, 0), 0);
}

/* ---- Device tree ---- */

/* A virt-like tree; `variant` breaks one thing. */
static uint8_t *host_dtb(int variant, uint32_t *size)
{
	static struct builder b;
	memset(&b, 0, sizeof(b));
	begin(&b, "");
	propc(&b, "#address-cells", 1, 2);
	propc(&b, "#size-cells", 1, 2);
	begin(&b, "intc@8000000");
	propc(&b, "phandle", 1, 0x8002);
	propc(&b, "#address-cells", 1, 2);
	propc(&b, "#interrupt-cells", 1, 3);
	prop(&b, "interrupt-controller", NULL, 0);
	end(&b);
	begin(&b, "pcie@10000000");
	prop(&b, "compatible", "pci-host-ecam-generic", 22);
	props(&b, "device_type", "pci");
	if (variant == 5)
		props(&b, "status", "disabled");
	propc(&b, "#address-cells", 1, 3);
	propc(&b, "#size-cells", 1, 2);
	propc(&b, "#interrupt-cells", 1, 1);
	if (variant != 1)
		propc(&b, "reg", 4, 0x40, 0x10000000, 0, variant == 2 ? 0x80000 : 0x1000000);
	if (variant == 3)
		propc(&b, "bus-range", 2, 5, 2);
	else
		propc(&b, "bus-range", 2, 0, 0xff);
	if (variant == 4)
		propc(&b, "ranges", 7, 0x01000000, 0, 0, 0, 0x3eff0000, 0, 0x10000);
	else
		propc(&b, "ranges", 21,
		      0x01000000, 0, 0, 0, 0x3eff0000, 0, 0x10000,
		      0x02000000, 0, 0x10000000, 0, 0x10000000, 0, 0x2eff0000,
		      0x43000000, 0x80, 0, 0x80, 0, 0x80, 0);
	propc(&b, "interrupt-map-mask", 4, 0x1800, 0, 0, 7);
	uint32_t map[16 * 10];
	unsigned k = 0;
	for (unsigned d = 0; d < 4; d++)
		for (unsigned pin = 1; pin <= 4; pin++) {
			uint32_t e[10] = { d << 11, 0, 0, pin, 0x8002, 0, 0, 0, 3 + (d + pin - 1) % 4, 4 };
			for (unsigned j = 0; j < 10; j++) {
				uint8_t be[4];
				put32(be, e[j]);
				memcpy(&map[k++], be, 4);
			}
		}
	prop(&b, "interrupt-map", map, variant == 6 ? 4 * 9 : (uint32_t)sizeof(map));
	end(&b);
	end(&b);
	return finish(&b, NULL, 0, size);
}

static void test_from_fdt(void **state)
{
	(void)state;
	static struct pci_ecam h;
	uint32_t size;
	uint8_t *blob = host_dtb(0, &size);
	struct fdt f;
	assert_int_equal(fdt_init(&f, blob, size), FDT_OK);
	h.log = test_log;
	assert_int_equal(pci_ecam_from_fdt(&h, &f, 0), PCI_ECAM_OK);
	assert_int_equal(h.cfg_cpu, 0x4010000000ull);
	assert_int_equal(h.cfg_size, 0x1000000);
	assert_int_equal(h.bus_start, 0);
	assert_int_equal(h.bus_end, 15);              /* clipped to the 16 MiB window */
	assert_true(h.io.present);
	assert_int_equal(h.io.pci, 0);
	assert_int_equal(h.io.cpu, 0x3eff0000);
	assert_int_equal(h.mem32.pci, 0x10000000);
	assert_int_equal(h.mem32.size, 0x2eff0000);
	assert_false(h.mem32.prefetchable);
	assert_int_equal(h.mem64.pci, 0x8000000000ull);
	assert_true(h.mem64.prefetchable);
	assert_int_equal(pci_ecam_from_fdt(&h, &f, 1), PCI_ECAM_ERR_NOTFOUND);

	/* INTx: the map itself, then through two bridges (swizzle). */
	struct fdt_irq irq;
	assert_int_equal(pci_ecam_intx(&h, &f, 0, 1, 1, &irq), PCI_ECAM_OK);
	assert_int_equal(irq.ncells, 3);
	assert_int_equal(irq.cells[0], 0);
	assert_int_equal(irq.cells[1], 4);            /* slot 1 INTA -> SPI 4 */
	assert_int_equal(irq.cells[2], 4);            /* level high */
	assert_int_equal(pci_ecam_intx(&h, &f, 0, 7, 2, &irq), PCI_ECAM_OK);
	assert_int_equal(irq.cells[1], 3 + (7 + 1) % 4);   /* mask 0x1800: slot mod 4 */
	h.upstream[1].valid = true;    /* bus 1 behind 00:02.0, bus 2 behind 01:01.0 */
	h.upstream[1].bus = 0;
	h.upstream[1].dev = 2;
	h.upstream[2].valid = true;
	h.upstream[2].bus = 1;
	h.upstream[2].dev = 1;
	/* 02:03.0 INTA -> bus 1 pin (0+3)%4+1 = 4 -> bus 0 pin (3+1)%4+1 = 1 at slot 2 -> SPI 5 */
	assert_int_equal(pci_ecam_intx(&h, &f, 2, 3, 1, &irq), PCI_ECAM_OK);
	assert_int_equal(irq.cells[1], 5);
	assert_int_equal(pci_ecam_intx(&h, &f, 0, 1, 0, &irq), PCI_ECAM_ERR_RANGE);
	assert_int_equal(pci_ecam_intx(&h, &f, 0, 1, 5, &irq), PCI_ECAM_ERR_RANGE);
	free(blob);

	/* Malformed nodes: each refused. */
	static const int bad[] = { 1, 2, 3, 4 };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		blob = host_dtb(bad[i], &size);
		assert_int_equal(fdt_init(&f, blob, size), FDT_OK);
		logbuf[0] = '\0';
		assert_int_equal(pci_ecam_from_fdt(&h, &f, 0), PCI_ECAM_ERR_DTB);
		assert_true(logbuf[0] != '\0');
		free(blob);
	}
	/* A disabled host is not found. */
	blob = host_dtb(5, &size);
	assert_int_equal(fdt_init(&f, blob, size), FDT_OK);
	assert_int_equal(pci_ecam_from_fdt(&h, &f, 0), PCI_ECAM_ERR_NOTFOUND);
	free(blob);
	/* A truncated interrupt-map. */
	blob = host_dtb(6, &size);
	assert_int_equal(fdt_init(&f, blob, size), FDT_OK);
	assert_int_equal(pci_ecam_from_fdt(&h, &f, 0), PCI_ECAM_OK);
	assert_int_equal(pci_ecam_intx(&h, &f, 0, 1, 1, &irq), PCI_ECAM_ERR_DTB);
	free(blob);
}

/* ---- QEMU's own tree (optional) ---- */

static const char *virt_path;

static void test_qemu_virt(void **state)
{
	(void)state;
	FILE *fp = fopen(virt_path, "rb");
	assert_non_null(fp);
	static uint8_t buf[2 << 20];
	size_t n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	uint8_t *blob = malloc(n);
	assert_non_null(blob);
	memcpy(blob, buf, n);
	struct fdt f;
	assert_int_equal(fdt_init(&f, blob, n), FDT_OK);
	static struct pci_ecam h;
	h.log = test_log;
	assert_int_equal(pci_ecam_from_fdt(&h, &f, 0), PCI_ECAM_OK);
	assert_int_equal(h.cfg_cpu, 0x4010000000ull);   /* highmem ECAM */
	assert_int_equal(h.bus_start, 0);
	assert_int_equal(h.bus_end, 255);
	assert_int_equal(h.io.cpu, 0x3eff0000);
	assert_int_equal(h.io.size, 0x10000);
	assert_int_equal(h.mem32.pci, 0x10000000);
	assert_int_equal(h.mem32.cpu, 0x10000000);
	assert_int_equal(h.mem64.cpu, 0x8000000000ull);
	/* QEMU wires slot S pin P to SPI 3 + (S + P - 1) mod 4, level. */
	for (unsigned s = 0; s < 8; s++)
		for (unsigned p = 1; p <= 4; p++) {
			struct fdt_irq irq;
			assert_int_equal(pci_ecam_intx(&h, &f, 0, s, p, &irq), PCI_ECAM_OK);
			assert_int_equal(irq.ncells, 3);
			assert_int_equal(irq.cells[0], 0);
			assert_int_equal(irq.cells[1], 3 + (s + p - 1) % 4);
			assert_int_equal(irq.cells[2], 4);
		}
	free(blob);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_assign_topology),
		cmocka_unit_test(test_windows_exhausted),
		cmocka_unit_test(test_tiny_bar),
		cmocka_unit_test(test_cfg_bounds),
		cmocka_unit_test(test_from_fdt),
	};
	const struct CMUnitTest virt_tests[] = {
		cmocka_unit_test(test_qemu_virt),
	};
	if (argc > 1) {
		virt_path = argv[1];
		return cmocka_run_group_tests(virt_tests, NULL, NULL);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
