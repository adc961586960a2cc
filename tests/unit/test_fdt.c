/*
 * kernel/lib/fdt.c on the host: a tree built here token by token (so every
 * field is known and every malformation can be made on purpose), and, when
 * a path is given on the command line, a real QEMU aarch64 `virt` DTB
 * (test_fdt_qemu_virt dumps one with -M virt,dumpdtb=FILE).
 *
 * What a kernel relies on: a bad blob is refused with a reason before use,
 * never read out of bounds (ASan watches the buffer, which is exactly the
 * blob's size), and good blobs give the right reg/ranges/interrupts/chosen
 * values through the #address-cells/#size-cells of the right node.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orion/fdt.h"

#include "fdt_builder.h"

/*
 * The sample tree: an aarch64-virt-like root (2/2 cells), a ppce500-like
 * /soc bus at CPU 0xf_e000_0000 with 1/1 cells, a PCI host with 3 child
 * address cells, interrupt controllers with 3 and 1 cells.
 */
static uint8_t *sample(uint32_t *size)
{
	static struct builder b;
	memset(&b, 0, sizeof(b));
	begin(&b, "");
	propc(&b, "#address-cells", 1, 2);
	propc(&b, "#size-cells", 1, 2);
	propc(&b, "interrupt-parent", 1, 0x10);
	props(&b, "compatible", "linux,dummy-virt");

	begin(&b, "chosen");
	props(&b, "bootargs", "selftest=echo ring=packed");
	propc(&b, "linux,initrd-start", 1, 0x48000000);
	propc(&b, "linux,initrd-end", 2, 0, 0x48100000);
	end(&b);

	begin(&b, "memory@40000000");
	props(&b, "device_type", "memory");
	propc(&b, "reg", 8, 0, 0x40000000, 0, 0x10000000, 0x1, 0, 0, 0x20000000);
	end(&b);
	begin(&b, "memory@80000000");
	props(&b, "device_type", "memory");
	props(&b, "status", "disabled");
	propc(&b, "reg", 4, 0, 0x80000000, 0, 0x1000);
	end(&b);

	begin(&b, "intc@8000000");
	propc(&b, "phandle", 1, 0x10);
	prop(&b, "interrupt-controller", NULL, 0);
	propc(&b, "#interrupt-cells", 1, 3);
	propc(&b, "reg", 8, 0, 0x8000000, 0, 0x10000, 0, 0x80a0000, 0, 0xf60000);
	props(&b, "compatible", "arm,gic-v3");
	end(&b);

	begin(&b, "pl011@9000000");
	prop(&b, "compatible", "arm,pl011\0arm,primecell", 24);
	propc(&b, "reg", 4, 0, 0x9000000, 0, 0x1000);
	propc(&b, "interrupts", 3, 0, 1, 4);
	end(&b);

	begin(&b, "virtio_mmio@a000000");
	props(&b, "compatible", "virtio,mmio");
	propc(&b, "reg", 4, 0, 0xa000000, 0, 0x200);
	propc(&b, "interrupts", 3, 0, 0x10, 1);
	end(&b);
	begin(&b, "virtio_mmio@a000200");
	props(&b, "compatible", "virtio,mmio");
	propc(&b, "reg", 4, 0, 0xa000200, 0, 0x200);
	propc(&b, "interrupts", 3, 0, 0x11, 1);
	end(&b);

	begin(&b, "soc");
	propc(&b, "#address-cells", 1, 1);
	propc(&b, "#size-cells", 1, 1);
	propc(&b, "ranges", 4, 0, 0xf, 0xe0000000, 0x100000);
	props(&b, "compatible", "simple-bus");
	begin(&b, "pic@40000");
	propc(&b, "phandle", 1, 0x20);
	propc(&b, "#interrupt-cells", 1, 1);
	propc(&b, "reg", 2, 0x40000, 0x40000);
	end(&b);
	begin(&b, "serial@4500");
	props(&b, "compatible", "ns16550");
	propc(&b, "reg", 2, 0x4500, 0x100);
	propc(&b, "interrupt-parent", 1, 0x20);
	propc(&b, "interrupts", 2, 42, 43);
	end(&b);
	begin(&b, "outside@200000");
	propc(&b, "reg", 2, 0x200000, 0x100);   /* beyond the soc's ranges */
	end(&b);
	begin(&b, "both");
	propc(&b, "interrupts-extended", 6, 0x20, 7, 0x10, 0, 5, 4);
	end(&b);
	end(&b);

	begin(&b, "pcie@10000000");
	props(&b, "device_type", "pci");
	prop(&b, "compatible", "pci-host-ecam-generic", 22);
	propc(&b, "#address-cells", 1, 3);
	propc(&b, "#size-cells", 1, 2);
	propc(&b, "bus-range", 2, 0, 0xff);
	propc(&b, "reg", 4, 0x40, 0x10000000, 0, 0x10000000);
	propc(&b, "ranges", 21,
	      0x01000000, 0, 0, 0, 0x3eff0000, 0, 0x10000,
	      0x02000000, 0, 0x10000000, 0, 0x10000000, 0, 0x2eff0000,
	      0x43000000, 0x80, 0, 0x80, 0, 0x80, 0);
	end(&b);

	begin(&b, "badcells");
	propc(&b, "#address-cells", 1, 3);
	begin(&b, "child");
	propc(&b, "reg", 4, 1, 2, 3, 4);
	end(&b);
	end(&b);
	begin(&b, "oddreg");
	propc(&b, "reg", 3, 0, 0x1000, 0);
	end(&b);

	end(&b);
	static const uint64_t rsv[] = { 0x40000000, 0x100000 };
	return finish(&b, rsv, 1, size);
}

static int node(const struct fdt *f, const char *path)
{
	int n = fdt_path(f, path);
	assert_true(n >= 0);
	return n;
}

static void test_walk_and_names(void **state)
{
	(void)state;
	uint32_t size;
	uint8_t *blob = sample(&size);
	struct fdt f;
	assert_int_equal(fdt_header_size(blob), size);
	assert_int_equal(fdt_init(&f, blob, size), FDT_OK);

	int root = fdt_root(&f);
	assert_int_equal(root, 0);
	assert_string_equal(fdt_node_name(&f, root), "");
	int depth = -1, count = 0, maxdepth = 0;
	for (int n = fdt_next_node(&f, -1, &depth); n >= 0; n = fdt_next_node(&f, n, &depth)) {
		count++;
		if (depth > maxdepth)
			maxdepth = depth;
	}
	assert_int_equal(count, 17);
	assert_int_equal(maxdepth, 2);

	int c = fdt_first_child(&f, root);
	assert_string_equal(fdt_node_name(&f, c), "chosen");
	c = fdt_next_sibling(&f, c);
	assert_string_equal(fdt_node_name(&f, c), "memory@40000000");
	int soc = node(&f, "/soc");
	assert_string_equal(fdt_node_name(&f, fdt_first_child(&f, soc)), "pic@40000");
	assert_int_equal(fdt_parent(&f, node(&f, "/soc/serial@4500")), soc);
	assert_int_equal(fdt_parent(&f, soc), root);
	assert_int_equal(fdt_parent(&f, root), FDT_ERR_NOTFOUND);
	assert_int_equal(fdt_path(&f, "/soc/serial"), node(&f, "/soc/serial@4500"));
	assert_int_equal(fdt_path(&f, "/"), root);
	assert_int_equal(fdt_path(&f, "/nope"), FDT_ERR_NOTFOUND);
	assert_int_equal(fdt_path(&f, "/soc/serial@45"), FDT_ERR_NOTFOUND);
	assert_int_equal(fdt_path(&f, "chosen"), FDT_ERR_NOTFOUND);
	/* The last child has no sibling. */
	assert_int_equal(fdt_next_sibling(&f, node(&f, "/oddreg")), FDT_ERR_NOTFOUND);
	assert_int_equal(fdt_first_child(&f, node(&f, "/chosen")), FDT_ERR_NOTFOUND);
	/* An offset that is no node is refused, not followed. */
	assert_null(fdt_node_name(&f, 4));
	assert_null(fdt_node_name(&f, 1 << 20));
	assert_null(fdt_prop(&f, 3, "reg", NULL));
	free(blob);
}

static void test_props_and_compatible(void **state)
{
	(void)state;
	uint32_t size;
	uint8_t *blob = sample(&size);
	struct fdt f;
	assert_int_equal(fdt_init(&f, blob, size), FDT_OK);

	int uart = fdt_find_compatible(&f, -1, "arm,primecell");
	assert_int_equal(uart, node(&f, "/pl011@9000000"));
	assert_true(fdt_is_compatible(&f, uart, "arm,pl011"));
	assert_false(fdt_is_compatible(&f, uart, "arm,pl01"));
	assert_false(fdt_is_compatible(&f, uart, "arm"));
	int m0 = fdt_find_compatible(&f, -1, "virtio,mmio");
	int m1 = fdt_find_compatible(&f, m0, "virtio,mmio");
	assert_true(m0 >= 0 && m1 > m0);
	assert_int_equal(fdt_find_compatible(&f, m1, "virtio,mmio"), FDT_ERR_NOTFOUND);
	assert_int_equal(fdt_prop_u32(&f, node(&f, "/soc"), "#address-cells", 9), 1);
	assert_int_equal(fdt_prop_u32(&f, uart, "#address-cells", 9), 9);
	assert_int_equal(fdt_prop_u32(&f, uart, "reg", 9), 9); /* 16 bytes, not one cell */
	assert_null(fdt_prop_str(&f, uart, "interrupts"));   /* no NUL at its end */
	assert_true(fdt_is_enabled(&f, uart));
	assert_false(fdt_is_enabled(&f, node(&f, "/memory@80000000")));
	uint32_t len = 99;
	assert_non_null(fdt_prop(&f, node(&f, "/intc@8000000"), "interrupt-controller", &len));
	assert_int_equal(len, 0);
	assert_int_equal(fdt_node_by_phandle(&f, 0x20), node(&f, "/soc/pic@40000"));
	assert_int_equal(fdt_node_by_phandle(&f, 0x99), FDT_ERR_NOTFOUND);
	assert_int_equal(fdt_node_by_phandle(&f, 0), FDT_ERR_NOTFOUND);
	free(blob);
}

static void test_reg_ranges_translate(void **state)
{
	(void)state;
	uint32_t size;
	uint8_t *blob = sample(&size);
	struct fdt f;
	assert_int_equal(fdt_init(&f, blob, size), FDT_OK);
	uint64_t a, s;

	int gic = node(&f, "/intc@8000000");
	assert_int_equal(fdt_reg(&f, gic, 1, &a, &s), FDT_OK);
	assert_int_equal(a, 0x80a0000);
	assert_int_equal(s, 0xf60000);
	assert_int_equal(fdt_reg(&f, gic, 2, &a, &s), FDT_ERR_NOTFOUND);

	/* The soc bus: 1/1 cells, child 0 -> CPU 0xf_e000_0000. */
	int ser = node(&f, "/soc/serial@4500");
	assert_int_equal(fdt_reg(&f, ser, 0, &a, &s), FDT_OK);
	assert_int_equal(a, 0x4500);
	assert_int_equal(s, 0x100);
	assert_int_equal(fdt_reg_cpu(&f, ser, 0, &a, &s), FDT_OK);
	assert_int_equal(a, 0xfe0004500ull);
	assert_int_equal(fdt_reg_cpu(&f, node(&f, "/soc/outside@200000"), 0, &a, &s),
			 FDT_ERR_NOTRANSLATE);
	/* Three address cells do not fit a 64-bit reg; a reg that is no
	 * multiple of (address + size) cells is refused. */
	assert_int_equal(fdt_reg(&f, node(&f, "/badcells/child"), 0, &a, &s), FDT_ERR_BADCELLS);
	assert_int_equal(fdt_reg(&f, node(&f, "/oddreg"), 0, &a, &s), FDT_ERR_BADCELLS);
	assert_int_equal(fdt_reg(&f, node(&f, "/chosen"), 0, &a, &s), FDT_ERR_NOTFOUND);

	int pci = node(&f, "/pcie@10000000");
	assert_int_equal(fdt_reg_cpu(&f, pci, 0, &a, &s), FDT_OK);
	assert_int_equal(a, 0x4010000000ull);
	assert_int_equal(s, 0x10000000);
	struct fdt_range r;
	assert_int_equal(fdt_range(&f, pci, 0, &r), FDT_OK);
	assert_int_equal(r.child_hi, 0x01000000);
	assert_int_equal(r.child, 0);
	assert_int_equal(r.cpu, 0x3eff0000);
	assert_int_equal(r.size, 0x10000);
	assert_int_equal(fdt_range(&f, pci, 1, &r), FDT_OK);
	assert_int_equal(r.child_hi >> 24 & 3, 2);
	assert_int_equal(r.child, 0x10000000);
	assert_int_equal(r.size, 0x2eff0000);
	assert_int_equal(fdt_range(&f, pci, 2, &r), FDT_OK);
	assert_int_equal(r.child_hi, 0x43000000);
	assert_int_equal(r.child, 0x8000000000ull);
	assert_int_equal(r.cpu, 0x8000000000ull);
	assert_int_equal(r.size, 0x8000000000ull);
	assert_int_equal(fdt_range(&f, pci, 3, &r), FDT_ERR_NOTFOUND);
	int soc = node(&f, "/soc");
	assert_int_equal(fdt_range(&f, soc, 0, &r), FDT_OK);
	assert_int_equal(r.child, 0);
	assert_int_equal(r.parent, 0xfe0000000ull);
	assert_int_equal(r.size, 0x100000);
	free(blob);
}

static void test_interrupts(void **state)
{
	(void)state;
	uint32_t size;
	uint8_t *blob = sample(&size);
	struct fdt f;
	assert_int_equal(fdt_init(&f, blob, size), FDT_OK);
	struct fdt_irq irq;
	int gic = node(&f, "/intc@8000000"), pic = node(&f, "/soc/pic@40000");

	/* interrupt-parent inherited from the root. */
	assert_int_equal(fdt_irq(&f, node(&f, "/virtio_mmio@a000200"), 0, &irq), FDT_OK);
	assert_int_equal(irq.ctrl, gic);
	assert_int_equal(irq.ncells, 3);
	assert_int_equal(irq.cells[0], 0);
	assert_int_equal(irq.cells[1], 0x11);
	assert_int_equal(irq.cells[2], 1);
	assert_int_equal(fdt_irq(&f, node(&f, "/virtio_mmio@a000200"), 1, &irq), FDT_ERR_NOTFOUND);
	/* The node's own interrupt-parent, one cell each. */
	int ser = node(&f, "/soc/serial@4500");
	assert_int_equal(fdt_irq(&f, ser, 1, &irq), FDT_OK);
	assert_int_equal(irq.ctrl, pic);
	assert_int_equal(irq.ncells, 1);
	assert_int_equal(irq.cells[0], 43);
	/* interrupts-extended: a different controller per entry. */
	int both = node(&f, "/soc/both");
	assert_int_equal(fdt_irq(&f, both, 0, &irq), FDT_OK);
	assert_int_equal(irq.ctrl, pic);
	assert_int_equal(irq.cells[0], 7);
	assert_int_equal(fdt_irq(&f, both, 1, &irq), FDT_OK);
	assert_int_equal(irq.ctrl, gic);
	assert_int_equal(irq.cells[1], 5);
	assert_int_equal(fdt_irq(&f, both, 2, &irq), FDT_ERR_NOTFOUND);
	/* No interrupts property. */
	assert_int_equal(fdt_irq(&f, node(&f, "/chosen"), 0, &irq), FDT_ERR_NOTFOUND);
	free(blob);
}

static void test_boot_info(void **state)
{
	(void)state;
	uint32_t size;
	uint8_t *blob = sample(&size);
	struct fdt f;
	assert_int_equal(fdt_init(&f, blob, size), FDT_OK);
	assert_string_equal(fdt_bootargs(&f), "selftest=echo ring=packed");
	uint64_t s, e;
	assert_int_equal(fdt_initrd(&f, &s, &e), FDT_OK);
	assert_int_equal(s, 0x48000000);   /* one cell */
	assert_int_equal(e, 0x48100000);   /* two cells */
	assert_int_equal(fdt_memory(&f, 0, &s, &e), FDT_OK);
	assert_int_equal(s, 0x40000000);
	assert_int_equal(e, 0x10000000);
	assert_int_equal(fdt_memory(&f, 1, &s, &e), FDT_OK);
	assert_int_equal(s, 0x100000000ull);
	assert_int_equal(e, 0x20000000);
	/* The disabled memory node is not RAM. */
	assert_int_equal(fdt_memory(&f, 2, &s, &e), FDT_ERR_NOTFOUND);
	assert_int_equal(fdt_reserved(&f, 0, &s, &e), FDT_OK);
	assert_int_equal(s, 0x40000000);
	assert_int_equal(e, 0x100000);
	assert_int_equal(fdt_reserved(&f, 1, &s, &e), FDT_ERR_NOTFOUND);
	free(blob);
}

/* ---- Malformed blobs: each refused with its reason ---- */

static uint8_t *copy(const uint8_t *b, uint32_t n)
{
	uint8_t *c = malloc(n);
	assert_non_null(c);
	memcpy(c, b, n);
	return c;
}

static int init_mut(const uint8_t *good, uint32_t size, uint32_t off, uint32_t val)
{
	uint8_t *b = copy(good, size);
	put32(b + off, val);
	struct fdt f;
	int rc = fdt_init(&f, b, size);
	free(b);
	return rc;
}

static void test_bad_header(void **state)
{
	(void)state;
	uint32_t size;
	uint8_t *g = sample(&size);
	struct fdt f;
	uint32_t ost = 40 + 32;

	assert_int_equal(init_mut(g, size, 0, 0xfeedd00d), FDT_ERR_BADMAGIC);
	assert_int_equal(fdt_header_size(g + 4), 0);
	assert_int_equal(fdt_init(&f, g, size - 1), FDT_ERR_TRUNCATED);   /* totalsize > what we have */
	assert_int_equal(fdt_init(&f, g, 4), FDT_ERR_TRUNCATED);
	assert_int_equal(init_mut(g, size, 4, 20), FDT_ERR_TRUNCATED);    /* smaller than a header */
	assert_int_equal(init_mut(g, size, 20, 16), FDT_ERR_BADVERSION);
	assert_int_equal(init_mut(g, size, 24, 18), FDT_ERR_BADVERSION);
	assert_int_equal(init_mut(g, size, 8, size), FDT_ERR_TRUNCATED);  /* struct starts at the end */
	assert_int_equal(init_mut(g, size, 36, size), FDT_ERR_TRUNCATED); /* struct too long */
	assert_int_equal(init_mut(g, size, 32, size), FDT_ERR_TRUNCATED); /* strings too long */
	assert_int_equal(init_mut(g, size, 8, ost + 2), FDT_ERR_BADSTRUCT);
	assert_int_equal(init_mut(g, size, 16, 44), FDT_ERR_BADSTRUCT);   /* rsvmap misaligned */
	/* Reservation map without its terminating entry. */
	uint8_t *b = copy(g, size);
	memset(b + 56, 0xff, 16);
	assert_int_equal(fdt_init(&f, b, size), FDT_ERR_TRUNCATED);
	free(b);
	assert_int_equal(fdt_init(&f, NULL, size), FDT_ERR_BADMAGIC);
	free(g);
}

static int init_tree(struct builder *b)
{
	uint32_t size;
	uint8_t *blob = finish(b, NULL, 0, &size);
	struct fdt f;
	int rc = fdt_init(&f, blob, size);
	free(blob);
	return rc;
}

static void test_bad_structure(void **state)
{
	(void)state;
	static struct builder b;
	uint32_t size;

	/* Properties name a string outside the strings block. */
	uint8_t *g = sample(&size);
	uint32_t ost = 40 + 32;
	uint8_t *m = copy(g, size);
	/* first token after the root's (empty, padded) name is a PROP */
	assert_int_equal(fdt_be32(m + ost + 8), 3);
	put32(m + ost + 16, 0x7fffffff);
	struct fdt f;
	assert_int_equal(fdt_init(&f, m, size), FDT_ERR_TRUNCATED);
	/* A property longer than the structure block. */
	memcpy(m, g, size);
	put32(m + ost + 12, 0x100000);
	assert_int_equal(fdt_init(&f, m, size), FDT_ERR_TRUNCATED);
	/* An unknown token. */
	memcpy(m, g, size);
	put32(m + ost + 8, 7);
	assert_int_equal(fdt_init(&f, m, size), FDT_ERR_BADSTRUCT);
	free(m);
	free(g);

	memset(&b, 0, sizeof(b));                 /* END_NODE without a node */
	begin(&b, "");
	end(&b);
	end(&b);
	assert_int_equal(init_tree(&b), FDT_ERR_BADSTRUCT);

	memset(&b, 0, sizeof(b));                 /* root never closed */
	begin(&b, "");
	begin(&b, "a");
	end(&b);
	assert_int_equal(init_tree(&b), FDT_ERR_BADSTRUCT);

	memset(&b, 0, sizeof(b));                 /* two roots */
	begin(&b, "");
	end(&b);
	begin(&b, "");
	end(&b);
	assert_int_equal(init_tree(&b), FDT_ERR_BADSTRUCT);

	memset(&b, 0, sizeof(b));                 /* a root with a name */
	begin(&b, "root");
	end(&b);
	assert_int_equal(init_tree(&b), FDT_ERR_BADSTRUCT);

	memset(&b, 0, sizeof(b));                 /* property after a child node */
	begin(&b, "");
	begin(&b, "a");
	end(&b);
	propc(&b, "x", 1, 1);
	end(&b);
	assert_int_equal(init_tree(&b), FDT_ERR_BADSTRUCT);

	memset(&b, 0, sizeof(b));                 /* nesting beyond FDT_MAX_DEPTH */
	begin(&b, "");
	for (int i = 0; i < FDT_MAX_DEPTH; i++)
		begin(&b, "n");
	for (int i = 0; i <= FDT_MAX_DEPTH; i++)
		end(&b);
	assert_int_equal(init_tree(&b), FDT_ERR_TOODEEP);

	memset(&b, 0, sizeof(b));                 /* exactly FDT_MAX_DEPTH is fine */
	begin(&b, "");
	for (int i = 0; i < FDT_MAX_DEPTH - 1; i++)
		begin(&b, "n");
	for (int i = 0; i < FDT_MAX_DEPTH; i++)
		end(&b);
	assert_int_equal(init_tree(&b), FDT_OK);

	/* A node name running off the end of the structure block. */
	memset(&b, 0, sizeof(b));
	begin(&b, "");
	end(&b);
	uint32_t size2;
	uint8_t *blob = finish(&b, NULL, 0, &size2);
	put32(blob + 36, 6);                       /* struct block: token + 2 name bytes */
	put32(blob + 40 + 16 + 4, 0x41414141);
	assert_true(fdt_init(&f, blob, size2) < 0);
	free(blob);
}

/* Every truncation of a good blob is refused (never read past the end). */
static void test_every_truncation(void **state)
{
	(void)state;
	uint32_t size;
	uint8_t *g = sample(&size);
	for (uint32_t n = 0; n < size; n++) {
		uint8_t *b = copy(g, n ? n : 1);
		struct fdt f;
		assert_true(fdt_init(&f, b, n) < 0);
		free(b);
	}
	free(g);
}

/* ---- A real QEMU aarch64 virt DTB (optional) ---- */

static const char *virt_path;

static void test_qemu_virt(void **state)
{
	(void)state;
	FILE *fp = fopen(virt_path, "rb");
	assert_non_null(fp);
	static uint8_t buf[2 << 20];
	size_t n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	uint8_t *blob = copy(buf, (uint32_t)n);
	struct fdt f;
	assert_int_equal(fdt_init(&f, blob, n), FDT_OK);
	uint64_t a, s;

	int uart = fdt_find_compatible(&f, -1, "arm,pl011");
	assert_true(uart >= 0);
	assert_int_equal(fdt_reg_cpu(&f, uart, 0, &a, &s), FDT_OK);
	assert_int_equal(a, 0x9000000);
	assert_int_equal(fdt_memory(&f, 0, &a, &s), FDT_OK);
	assert_int_equal(a, 0x40000000);
	assert_int_equal(s, 256u << 20);   /* the fixture is dumped with -m 256 */

	/* 32 virtio-mmio windows of 0x200 at 0xa000000, SPI 16 + i, edge. */
	unsigned count = 0;
	for (int n2 = fdt_find_compatible(&f, -1, "virtio,mmio"); n2 >= 0;
	     n2 = fdt_find_compatible(&f, n2, "virtio,mmio")) {
		struct fdt_irq irq;
		assert_int_equal(fdt_reg_cpu(&f, n2, 0, &a, &s), FDT_OK);
		assert_int_equal(s, 0x200);
		assert_true(a >= 0xa000000 && a < 0xa000000 + 32 * 0x200);
		assert_int_equal(fdt_irq(&f, n2, 0, &irq), FDT_OK);
		assert_int_equal(irq.ncells, 3);
		assert_int_equal(irq.cells[0], 0);                       /* SPI */
		assert_int_equal(irq.cells[1], 16 + (a - 0xa000000) / 0x200);
		assert_true(fdt_is_compatible(&f, irq.ctrl, "arm,cortex-a15-gic") ||
			    fdt_is_compatible(&f, irq.ctrl, "arm,gic-v3"));
		count++;
	}
	assert_int_equal(count, 32);

	int pci = fdt_find_compatible(&f, -1, "pci-host-ecam-generic");
	assert_true(pci >= 0);
	assert_int_equal(fdt_reg_cpu(&f, pci, 0, &a, &s), FDT_OK);
	assert_true(a == 0x4010000000ull || a == 0x3f000000);
	struct fdt_range r;
	unsigned spaces = 0;
	for (unsigned i = 0; fdt_range(&f, pci, i, &r) == FDT_OK; i++)
		spaces |= 1u << (r.child_hi >> 24 & 3);
	assert_true(spaces & (1u << 1));   /* I/O */
	assert_true(spaces & (1u << 2));   /* 32-bit memory */
	assert_non_null(fdt_prop(&f, pci, "interrupt-map", NULL));
	int chosen = fdt_path(&f, "/chosen");
	assert_true(chosen >= 0);
	assert_non_null(fdt_prop_str(&f, chosen, "stdout-path"));
	int psci = fdt_find_compatible(&f, -1, "arm,psci-0.2");
	assert_true(psci >= 0);
	assert_non_null(fdt_prop_str(&f, psci, "method"));
	free(blob);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		virt_path = argv[1];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_and_names),
		cmocka_unit_test(test_props_and_compatible),
		cmocka_unit_test(test_reg_ranges_translate),
		cmocka_unit_test(test_interrupts),
		cmocka_unit_test(test_boot_info),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_bad_structure),
		cmocka_unit_test(test_every_truncation),
	};
	/* With a DTB argument (test_fdt_qemu_virt) only the real tree is
	 * checked; without one it is not listed at all, so no skip is
	 * reported as a pass. */
	const struct CMUnitTest virt_tests[] = {
		cmocka_unit_test(test_qemu_virt),
	};
	if (virt_path)
		return cmocka_run_group_tests(virt_tests, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
