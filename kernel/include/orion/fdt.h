/*
 * Flattened device tree (DTB) reader, read-only, for every architecture
 * whose boot hands the kernel a device tree (aarch64 and riscv64 `virt`,
 * ppce500).  Format: Devicetree Specification v0.4, chapter 5 ("Flattened
 * Devicetree (DTB) Format"); property meanings: chapter 2 (#address-cells,
 * #size-cells, reg, ranges, interrupts, interrupt-parent, phandle) and 3.6
 * (/chosen).
 *
 * What it does: fdt_init() checks the header and walks the whole structure
 * block once (every token, every name and property inside the blob, nesting
 * balanced and bounded, strings NUL-terminated), so a malformed or truncated
 * blob is refused with a reason before anything uses it.  After that, nodes
 * are named by their offset in the structure block (an int >= 0) and every
 * accessor still bounds-checks what it reads.  Values are big-endian in the
 * blob and read byte by byte, so the reader works on any CPU endianness and
 * at any alignment.
 *
 * What it does not: modify the tree, apply overlays, follow aliases, or
 * decode interrupt specifiers (the cells are returned; the interrupt
 * controller's driver knows what they mean).  Addresses wider than 64 bits
 * are refused (FDT_ERR_BADCELLS), except PCI's 3-cell child addresses in
 * fdt_range(), whose first cell is returned separately.
 *
 * Arch-neutral and freestanding (stdint/stddef/stdbool only), so it also
 * builds on the host for tests/unit/test_fdt.c.  No allocation, no global
 * state: struct fdt is the caller's.  Not thread-safe only in the sense that
 * the blob must not change while it is read.
 */
#ifndef ORION_FDT_H
#define ORION_FDT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

enum fdt_err {
	FDT_OK = 0,
	FDT_ERR_NOTFOUND = -1,    /* no such node, property, index or entry */
	FDT_ERR_BADMAGIC = -2,    /* not a DTB (magic != 0xd00dfeed) */
	FDT_ERR_BADVERSION = -3,  /* not compatible with version 17 */
	FDT_ERR_TRUNCATED = -4,   /* a block or item lies outside the blob */
	FDT_ERR_BADSTRUCT = -5,   /* bad token, unbalanced nesting, bad name */
	FDT_ERR_BADCELLS = -6,    /* #address-cells/#size-cells out of range, or a
	                           * property whose length is no multiple of them */
	FDT_ERR_NOTRANSLATE = -7, /* an address no `ranges` maps to the CPU */
	FDT_ERR_TOODEEP = -8,     /* nesting deeper than FDT_MAX_DEPTH */
};

/* Printable reason for an enum fdt_err value ("ok" for FDT_OK). */
const char *fdt_strerror(int err);

#define FDT_MAGIC 0xd00dfeedu
#define FDT_MAX_DEPTH 32

struct fdt {
	const uint8_t *blob;
	uint32_t totalsize;
	uint32_t off_struct, size_struct;
	uint32_t off_strings, size_strings;
	uint32_t off_rsvmap;
};

/* Big-endian 32-bit value at p (any alignment). */
uint32_t fdt_be32(const void *p);
/* n (0..2) big-endian cells at p as one number; n = 0 gives 0. */
uint64_t fdt_cells(const void *p, unsigned n);

/*
 * The total size claimed by a blob's header, or 0 if the first 8 bytes are
 * not a DTB header.  For boot code that only has a pointer: read the header,
 * then pass the size to fdt_init as max_size.
 */
uint32_t fdt_header_size(const void *blob);

/*
 * Check the blob (at most max_size bytes readable from blob) and fill *fdt.
 * Returns FDT_OK or a negative enum fdt_err; *fdt is unusable on error.
 */
int fdt_init(struct fdt *fdt, const void *blob, size_t max_size);

/* ---- Nodes (offsets >= 0; negative values are enum fdt_err) ---- */

int fdt_root(const struct fdt *fdt);
/* Every node in document order after `node` (-1: start, giving the root);
 * FDT_ERR_NOTFOUND at the end.  *depth (if non-NULL) is the root's 0. */
int fdt_next_node(const struct fdt *fdt, int node, int *depth);
int fdt_first_child(const struct fdt *fdt, int node);
int fdt_next_sibling(const struct fdt *fdt, int node);
int fdt_parent(const struct fdt *fdt, int node);
/* The name with unit address ("pl011@9000000"; "" for the root), or NULL. */
const char *fdt_node_name(const struct fdt *fdt, int node);
/* A child of `node` named `name`; a name without '@' also matches a child
 * whose name is "name@unit".  */
int fdt_subnode(const struct fdt *fdt, int node, const char *name);
/* Absolute path lookup: "/", "/chosen", "/soc/serial@10000000". */
int fdt_path(const struct fdt *fdt, const char *path);
/* The node whose phandle (or linux,phandle) is ph. */
int fdt_node_by_phandle(const struct fdt *fdt, uint32_t ph);

/* ---- Properties ---- */

/* The value of property `name` of `node` and its length, or NULL. */
const void *fdt_prop(const struct fdt *fdt, int node, const char *name, uint32_t *len);
/* A one-cell property, or dflt if absent or not 4 bytes long. */
uint32_t fdt_prop_u32(const struct fdt *fdt, int node, const char *name, uint32_t dflt);
/* A NUL-terminated string property, or NULL (absent or not terminated). */
const char *fdt_prop_str(const struct fdt *fdt, int node, const char *name);
/* Whether the string list property contains exactly str. */
bool fdt_prop_has_str(const struct fdt *fdt, int node, const char *name, const char *str);
bool fdt_is_compatible(const struct fdt *fdt, int node, const char *compat);
/* Next node after `node` (-1: from the start) compatible with compat. */
int fdt_find_compatible(const struct fdt *fdt, int node, const char *compat);
/* Status "okay"/"ok" or absent (Devicetree Spec 2.3.4). */
bool fdt_is_enabled(const struct fdt *fdt, int node);

/* ---- Addresses ---- */

/* The #address-cells / #size-cells a node gives its children (defaults 2
 * and 1, Devicetree Spec 2.3.5). */
uint32_t fdt_address_cells(const struct fdt *fdt, int node);
uint32_t fdt_size_cells(const struct fdt *fdt, int node);

/*
 * The index-th (address, size) pair of node's `reg`, in its parent bus's
 * address space (fdt_reg) or translated to a CPU physical address through
 * every ancestor's `ranges` (fdt_reg_cpu).  NOTFOUND past the last entry.
 */
int fdt_reg(const struct fdt *fdt, int node, unsigned index, uint64_t *addr, uint64_t *size);
int fdt_reg_cpu(const struct fdt *fdt, int node, unsigned index, uint64_t *addr, uint64_t *size);

/*
 * Translate addr, an address in the child address space of `bus` (as a reg
 * of one of its children states it), to a CPU physical address.  An empty
 * `ranges` is the identity; a bus without `ranges` is not translatable.
 */
int fdt_translate(const struct fdt *fdt, int bus, uint64_t addr, uint64_t *cpu);

/*
 * One entry of a bus node's `ranges`.  For a PCI host bridge (3 child
 * address cells) child_hi is the phys.hi cell (space code in bits 25:24:
 * 1 = I/O, 2 = 32-bit memory, 3 = 64-bit memory; bit 30 prefetchable) and
 * child the 64-bit phys.mid/phys.lo; otherwise child_hi is 0.  parent is
 * in the parent bus's space, cpu the same address translated to the CPU
 * (FDT_ERR_NOTRANSLATE if the parent chain does not map it).
 */
struct fdt_range {
	uint32_t child_hi;
	uint64_t child;
	uint64_t parent;
	uint64_t cpu;
	uint64_t size;
};
int fdt_range(const struct fdt *fdt, int node, unsigned index, struct fdt_range *r);

/* ---- Interrupts ---- */

/*
 * The index-th interrupt of node: from `interrupts-extended`, or from
 * `interrupts` with the interrupt parent found through `interrupt-parent`
 * on the node or its nearest ancestor.  ctrl is the controller node, cells
 * its #interrupt-cells values (at most FDT_IRQ_MAX_CELLS).
 */
#define FDT_IRQ_MAX_CELLS 4
struct fdt_irq {
	int ctrl;
	uint32_t ncells;
	uint32_t cells[FDT_IRQ_MAX_CELLS];
};
int fdt_irq(const struct fdt *fdt, int node, unsigned index, struct fdt_irq *irq);
/* The controller a node's `interrupts` refer to (interrupt-parent walk). */
int fdt_irq_parent(const struct fdt *fdt, int node);

/* ---- Boot information ---- */

/* /chosen bootargs, or NULL. */
const char *fdt_bootargs(const struct fdt *fdt);
/* /chosen linux,initrd-start / linux,initrd-end (32- or 64-bit values). */
int fdt_initrd(const struct fdt *fdt, uint64_t *start, uint64_t *end);
/* The index-th RAM range over every device_type = "memory" node's reg. */
int fdt_memory(const struct fdt *fdt, unsigned index, uint64_t *base, uint64_t *size);
/* The index-th memory reservation block entry (Devicetree Spec 5.3). */
int fdt_reserved(const struct fdt *fdt, unsigned index, uint64_t *base, uint64_t *size);

#endif
