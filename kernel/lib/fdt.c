/*
 * Flattened device tree reader (see orion/fdt.h for the contract).
 *
 * The structure block is a token stream (Devicetree Spec v0.4, 5.4):
 * FDT_BEGIN_NODE name\0 (padded to 4), FDT_PROP len nameoff value (padded),
 * FDT_NOP, FDT_END_NODE, and one FDT_END.  fdt_init() walks it once and
 * refuses anything malformed; the accessors below then step through tokens
 * with tok_next(), which still checks every bound, so a blob that changed
 * or a wrong offset from a caller gives an error and never a wild read.
 *
 * Nodes are named by the offset of their FDT_BEGIN_NODE token within the
 * structure block.  Looking up a parent walks from the root (the tree of a
 * QEMU machine has ~100 nodes, and parents are wanted only at probe time).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "orion/fdt.h"

#define TOK_BEGIN_NODE 1u
#define TOK_END_NODE 2u
#define TOK_PROP 3u
#define TOK_NOP 4u
#define TOK_END 9u

/* Header field offsets (Devicetree Spec 5.2). */
#define HDR_MAGIC 0
#define HDR_TOTALSIZE 4
#define HDR_OFF_STRUCT 8
#define HDR_OFF_STRINGS 12
#define HDR_OFF_RSVMAP 16
#define HDR_VERSION 20
#define HDR_LAST_COMP 24
#define HDR_SIZE_STRINGS 32
#define HDR_SIZE_STRUCT 36
#define HDR_LEN 40

/* The largest #address-cells / #size-cells accepted for reg (64 bits)
 * and for ranges' child side (PCI's 3). */
#define MAX_ADDR_CELLS 2
#define MAX_SIZE_CELLS 2
#define MAX_CHILD_CELLS 3
/* fdt_translate() hops at most this many buses. */
#define MAX_TRANSLATE_HOPS FDT_MAX_DEPTH

const char *fdt_strerror(int err)
{
	switch (err) {
	case FDT_OK: return "ok";
	case FDT_ERR_NOTFOUND: return "not found";
	case FDT_ERR_BADMAGIC: return "bad magic (not a device tree blob)";
	case FDT_ERR_BADVERSION: return "unsupported device tree version";
	case FDT_ERR_TRUNCATED: return "truncated device tree (block or item outside the blob)";
	case FDT_ERR_BADSTRUCT: return "malformed structure block";
	case FDT_ERR_BADCELLS: return "bad #address-cells/#size-cells or property length";
	case FDT_ERR_NOTRANSLATE: return "address not translatable to the CPU (ranges)";
	case FDT_ERR_TOODEEP: return "device tree nested too deeply";
	}
	return "unknown device tree error";
}

uint32_t fdt_be32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

uint64_t fdt_cells(const void *p, unsigned n)
{
	const uint8_t *b = p;
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 32 | fdt_be32(b + 4 * i);
	return v;
}

static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* Length of the NUL-terminated string at s within max bytes, or -1. */
static long str_len_within(const char *s, uint32_t max)
{
	for (uint32_t i = 0; i < max; i++)
		if (s[i] == '\0')
			return (long)i;
	return -1;
}

uint32_t fdt_header_size(const void *blob)
{
	if (!blob || fdt_be32(blob) != FDT_MAGIC)
		return 0;
	return fdt_be32((const uint8_t *)blob + HDR_TOTALSIZE);
}

/* ---- Token stepping ---- */

/*
 * The token at structure offset off: its kind in *tok and the offset just
 * past it (name, property header and value included, padded) in *next.
 * For a property also its value offset and length, and its name.
 */
struct tok_info {
	uint32_t tok;
	uint32_t next;
	const char *name;     /* node name or property name */
	uint32_t val_off;     /* property value, structure offset */
	uint32_t val_len;
};

static int tok_next(const struct fdt *fdt, uint32_t off, struct tok_info *t)
{
	const uint8_t *s = fdt->blob + fdt->off_struct;
	uint32_t size = fdt->size_struct;
	if ((off & 3) || off > size || size - off < 4)
		return FDT_ERR_TRUNCATED;
	t->tok = fdt_be32(s + off);
	off += 4;
	t->name = NULL;
	t->val_off = t->val_len = 0;
	switch (t->tok) {
	case TOK_BEGIN_NODE: {
		long n = str_len_within((const char *)s + off, size - off);
		if (n < 0)
			return FDT_ERR_TRUNCATED;
		t->name = (const char *)s + off;
		off += (uint32_t)n + 1;
		off = (off + 3) & ~3u;
		if (off > size)
			return FDT_ERR_TRUNCATED;
		break;
	}
	case TOK_PROP: {
		if (size - off < 8)
			return FDT_ERR_TRUNCATED;
		uint32_t len = fdt_be32(s + off);
		uint32_t nameoff = fdt_be32(s + off + 4);
		off += 8;
		if (len > size - off)
			return FDT_ERR_TRUNCATED;
		if (nameoff >= fdt->size_strings)
			return FDT_ERR_TRUNCATED;
		const char *nm = (const char *)fdt->blob + fdt->off_strings + nameoff;
		if (str_len_within(nm, fdt->size_strings - nameoff) < 0)
			return FDT_ERR_TRUNCATED;
		t->name = nm;
		t->val_off = off;
		t->val_len = len;
		off += len;
		off = (off + 3) & ~3u;
		if (off > size)
			return FDT_ERR_TRUNCATED;
		break;
	}
	case TOK_END_NODE:
	case TOK_NOP:
	case TOK_END:
		break;
	default:
		return FDT_ERR_BADSTRUCT;
	}
	t->next = off;
	return FDT_OK;
}

/* The offset of the first token after node's name that is not a property
 * or NOP: a child's BEGIN_NODE or the node's END_NODE. */
static int skip_props(const struct fdt *fdt, int node, struct tok_info *t)
{
	int rc = tok_next(fdt, (uint32_t)node, t);
	if (rc)
		return rc;
	if (t->tok != TOK_BEGIN_NODE)
		return FDT_ERR_BADSTRUCT;
	uint32_t off = t->next;
	for (;;) {
		rc = tok_next(fdt, off, t);
		if (rc)
			return rc;
		if (t->tok != TOK_PROP && t->tok != TOK_NOP)
			return (int)off;
		off = t->next;
	}
}

/* The offset just past node's END_NODE. */
static int skip_subtree(const struct fdt *fdt, int node)
{
	struct tok_info t;
	int depth = 0;
	uint32_t off = (uint32_t)node;
	for (;;) {
		int rc = tok_next(fdt, off, &t);
		if (rc)
			return rc;
		off = t.next;
		if (t.tok == TOK_BEGIN_NODE) {
			if (++depth > FDT_MAX_DEPTH)
				return FDT_ERR_TOODEEP;
		} else if (t.tok == TOK_END_NODE) {
			if (--depth == 0)
				return (int)off;
		} else if (t.tok == TOK_END) {
			return FDT_ERR_BADSTRUCT;
		}
	}
}

/* ---- Validation ---- */

int fdt_init(struct fdt *fdt, const void *blob, size_t max_size)
{
	const uint8_t *b = blob;
	if (!fdt || !blob)
		return FDT_ERR_BADMAGIC;
	if (max_size < 8)
		return FDT_ERR_TRUNCATED;
	if (fdt_be32(b + HDR_MAGIC) != FDT_MAGIC)
		return FDT_ERR_BADMAGIC;
	uint32_t total = fdt_be32(b + HDR_TOTALSIZE);
	if (total < HDR_LEN || max_size < HDR_LEN || total > max_size)
		return FDT_ERR_TRUNCATED;
	/* Version 17 layout (size_dt_struct exists from 17); a blob newer
	 * than 17 must declare itself backwards compatible with it. */
	if (fdt_be32(b + HDR_VERSION) < 17 || fdt_be32(b + HDR_LAST_COMP) > 17)
		return FDT_ERR_BADVERSION;
	uint32_t os = fdt_be32(b + HDR_OFF_STRUCT), ss = fdt_be32(b + HDR_SIZE_STRUCT);
	uint32_t ostr = fdt_be32(b + HDR_OFF_STRINGS), sstr = fdt_be32(b + HDR_SIZE_STRINGS);
	uint32_t orsv = fdt_be32(b + HDR_OFF_RSVMAP);
	if (os > total || ss > total - os || ostr > total || sstr > total - ostr ||
	    orsv > total || total - orsv < 16)
		return FDT_ERR_TRUNCATED;
	if ((os & 3) || (ss & 3) || (orsv & 7) || os < HDR_LEN || orsv < HDR_LEN)
		return FDT_ERR_BADSTRUCT;

	struct fdt f = {
		.blob = b, .totalsize = total,
		.off_struct = os, .size_struct = ss,
		.off_strings = ostr, .size_strings = sstr,
		.off_rsvmap = orsv,
	};
	/* The reservation map ends with an all-zero entry, before the
	 * structure block when it precedes it (5.3), else inside the blob. */
	uint32_t rsv_end = os > orsv ? os : total;
	for (uint32_t o = orsv;; o += 16) {
		if (rsv_end - o < 16)
			return FDT_ERR_TRUNCATED;
		if (fdt_cells(b + o, 2) == 0 && fdt_cells(b + o + 8, 2) == 0)
			break;
	}

	/* One walk over every token: exactly one root, balanced nesting,
	 * properties only directly after a node's name or its other
	 * properties (5.4.2), then FDT_END. */
	struct tok_info t;
	uint32_t off = 0;
	int depth = 0, roots = 0;
	bool props_allowed = false;
	for (;;) {
		int rc = tok_next(&f, off, &t);
		if (rc)
			return rc;
		off = t.next;
		switch (t.tok) {
		case TOK_BEGIN_NODE:
			if (depth == 0) {
				if (roots++ || t.name[0] != '\0')
					return FDT_ERR_BADSTRUCT;
			}
			if (++depth > FDT_MAX_DEPTH)
				return FDT_ERR_TOODEEP;
			props_allowed = true;
			break;
		case TOK_PROP:
			if (!props_allowed)
				return FDT_ERR_BADSTRUCT;
			break;
		case TOK_END_NODE:
			if (depth == 0)
				return FDT_ERR_BADSTRUCT;
			depth--;
			props_allowed = false;
			break;
		case TOK_NOP:
			break;
		case TOK_END:
			if (depth != 0 || roots != 1)
				return FDT_ERR_BADSTRUCT;
			*fdt = f;
			return FDT_OK;
		}
	}
}

/* ---- Nodes ---- */

int fdt_root(const struct fdt *fdt)
{
	struct tok_info t;
	uint32_t off = 0;
	for (;;) {
		int rc = tok_next(fdt, off, &t);
		if (rc)
			return rc;
		if (t.tok == TOK_BEGIN_NODE)
			return (int)off;
		if (t.tok != TOK_NOP)
			return FDT_ERR_BADSTRUCT;
		off = t.next;
	}
}

int fdt_next_node(const struct fdt *fdt, int node, int *depth)
{
	if (node < 0) {
		if (depth)
			*depth = 0;
		return fdt_root(fdt);
	}
	struct tok_info t;
	int rc = tok_next(fdt, (uint32_t)node, &t);
	if (rc)
		return rc;
	if (t.tok != TOK_BEGIN_NODE)
		return FDT_ERR_BADSTRUCT;
	int d = depth ? *depth : 0;
	uint32_t off = t.next;
	for (;;) {
		rc = tok_next(fdt, off, &t);
		if (rc)
			return rc;
		switch (t.tok) {
		case TOK_BEGIN_NODE:
			if (depth)
				*depth = d + 1;
			return (int)off;
		case TOK_END_NODE:
			d--;
			break;
		case TOK_END:
			return FDT_ERR_NOTFOUND;
		}
		off = t.next;
	}
}

int fdt_first_child(const struct fdt *fdt, int node)
{
	struct tok_info t;
	int off = skip_props(fdt, node, &t);
	if (off < 0)
		return off;
	return t.tok == TOK_BEGIN_NODE ? off : FDT_ERR_NOTFOUND;
}

int fdt_next_sibling(const struct fdt *fdt, int node)
{
	int off = skip_subtree(fdt, node);
	if (off < 0)
		return off;
	struct tok_info t;
	for (;;) {
		int rc = tok_next(fdt, (uint32_t)off, &t);
		if (rc)
			return rc;
		if (t.tok == TOK_BEGIN_NODE)
			return off;
		if (t.tok != TOK_NOP)
			return FDT_ERR_NOTFOUND;
		off = (int)t.next;
	}
}

int fdt_parent(const struct fdt *fdt, int node)
{
	int stack[FDT_MAX_DEPTH + 1];
	int depth = 0;
	for (int n = fdt_next_node(fdt, -1, &depth); n >= 0; n = fdt_next_node(fdt, n, &depth)) {
		if (depth < 0 || depth > FDT_MAX_DEPTH)
			return FDT_ERR_TOODEEP;
		stack[depth] = n;
		if (n == node)
			return depth == 0 ? FDT_ERR_NOTFOUND : stack[depth - 1];
		if (n > node)
			break;
	}
	return FDT_ERR_NOTFOUND;
}

const char *fdt_node_name(const struct fdt *fdt, int node)
{
	struct tok_info t;
	if (node < 0 || tok_next(fdt, (uint32_t)node, &t) || t.tok != TOK_BEGIN_NODE)
		return NULL;
	return t.name;
}

/* Whether a node name matches `name` (len bytes): exactly, or as the part
 * before '@' when `name` has no unit address. */
static bool name_matches(const char *node_name, const char *name, size_t len)
{
	size_t i;
	bool has_at = false;
	for (i = 0; i < len; i++) {
		if (node_name[i] != name[i])
			return false;
		if (name[i] == '@')
			has_at = true;
	}
	return node_name[len] == '\0' || (!has_at && node_name[len] == '@');
}

static int subnode_n(const struct fdt *fdt, int node, const char *name, size_t len)
{
	for (int c = fdt_first_child(fdt, node); c >= 0; c = fdt_next_sibling(fdt, c)) {
		const char *nm = fdt_node_name(fdt, c);
		if (nm && name_matches(nm, name, len))
			return c;
	}
	return FDT_ERR_NOTFOUND;
}

int fdt_subnode(const struct fdt *fdt, int node, const char *name)
{
	size_t len = 0;
	while (name[len])
		len++;
	return subnode_n(fdt, node, name, len);
}

int fdt_path(const struct fdt *fdt, const char *path)
{
	if (!path || path[0] != '/')
		return FDT_ERR_NOTFOUND;
	int node = fdt_root(fdt);
	const char *p = path;
	while (node >= 0) {
		while (*p == '/')
			p++;
		if (!*p)
			return node;
		size_t len = 0;
		while (p[len] && p[len] != '/')
			len++;
		node = subnode_n(fdt, node, p, len);
		p += len;
	}
	return node;
}

int fdt_node_by_phandle(const struct fdt *fdt, uint32_t ph)
{
	if (ph == 0 || ph == 0xffffffffu)
		return FDT_ERR_NOTFOUND;
	for (int n = fdt_next_node(fdt, -1, NULL); n >= 0; n = fdt_next_node(fdt, n, NULL)) {
		uint32_t v = fdt_prop_u32(fdt, n, "phandle", 0);
		if (!v)
			v = fdt_prop_u32(fdt, n, "linux,phandle", 0);
		if (v == ph)
			return n;
	}
	return FDT_ERR_NOTFOUND;
}

/* ---- Properties ---- */

const void *fdt_prop(const struct fdt *fdt, int node, const char *name, uint32_t *len)
{
	struct tok_info t;
	if (node < 0 || tok_next(fdt, (uint32_t)node, &t) || t.tok != TOK_BEGIN_NODE)
		return NULL;
	uint32_t off = t.next;
	for (;;) {
		if (tok_next(fdt, off, &t))
			return NULL;
		if (t.tok == TOK_PROP) {
			if (str_eq(t.name, name)) {
				if (len)
					*len = t.val_len;
				return fdt->blob + fdt->off_struct + t.val_off;
			}
		} else if (t.tok != TOK_NOP) {
			return NULL;
		}
		off = t.next;
	}
}

uint32_t fdt_prop_u32(const struct fdt *fdt, int node, const char *name, uint32_t dflt)
{
	uint32_t len;
	const void *v = fdt_prop(fdt, node, name, &len);
	return v && len == 4 ? fdt_be32(v) : dflt;
}

const char *fdt_prop_str(const struct fdt *fdt, int node, const char *name)
{
	uint32_t len;
	const char *v = fdt_prop(fdt, node, name, &len);
	if (!v || len == 0 || v[len - 1] != '\0')
		return NULL;
	return v;
}

bool fdt_prop_has_str(const struct fdt *fdt, int node, const char *name, const char *str)
{
	uint32_t len;
	const char *v = fdt_prop(fdt, node, name, &len);
	if (!v)
		return false;
	uint32_t i = 0;
	while (i < len) {
		long n = str_len_within(v + i, len - i);
		if (n < 0)
			return false;
		if (str_eq(v + i, str))
			return true;
		i += (uint32_t)n + 1;
	}
	return false;
}

bool fdt_is_compatible(const struct fdt *fdt, int node, const char *compat)
{
	return fdt_prop_has_str(fdt, node, "compatible", compat);
}

int fdt_find_compatible(const struct fdt *fdt, int node, const char *compat)
{
	for (int n = fdt_next_node(fdt, node, NULL); n >= 0; n = fdt_next_node(fdt, n, NULL))
		if (fdt_is_compatible(fdt, n, compat))
			return n;
	return FDT_ERR_NOTFOUND;
}

bool fdt_is_enabled(const struct fdt *fdt, int node)
{
	uint32_t len;
	if (!fdt_prop(fdt, node, "status", &len))
		return true;
	const char *s = fdt_prop_str(fdt, node, "status");
	return s && (str_eq(s, "okay") || str_eq(s, "ok"));
}

/* ---- Addresses ---- */

uint32_t fdt_address_cells(const struct fdt *fdt, int node)
{
	return fdt_prop_u32(fdt, node, "#address-cells", 2);
}

uint32_t fdt_size_cells(const struct fdt *fdt, int node)
{
	return fdt_prop_u32(fdt, node, "#size-cells", 1);
}

int fdt_reg(const struct fdt *fdt, int node, unsigned index, uint64_t *addr, uint64_t *size)
{
	int parent = fdt_parent(fdt, node);
	if (parent < 0)
		return parent;
	uint32_t ac = fdt_address_cells(fdt, parent), sc = fdt_size_cells(fdt, parent);
	if (ac < 1 || ac > MAX_ADDR_CELLS || sc > MAX_SIZE_CELLS)
		return FDT_ERR_BADCELLS;
	uint32_t len;
	const uint8_t *v = fdt_prop(fdt, node, "reg", &len);
	if (!v)
		return FDT_ERR_NOTFOUND;
	uint32_t entry = 4 * (ac + sc);
	if (len % entry)
		return FDT_ERR_BADCELLS;
	if (index >= len / entry)
		return FDT_ERR_NOTFOUND;
	v += (size_t)index * entry;
	if (addr)
		*addr = fdt_cells(v, ac);
	if (size)
		*size = fdt_cells(v + 4 * ac, sc);
	return FDT_OK;
}

int fdt_reg_cpu(const struct fdt *fdt, int node, unsigned index, uint64_t *addr, uint64_t *size)
{
	uint64_t a, s;
	int rc = fdt_reg(fdt, node, index, &a, &s);
	if (rc)
		return rc;
	rc = fdt_translate(fdt, fdt_parent(fdt, node), a, &a);
	if (rc)
		return rc;
	if (addr)
		*addr = a;
	if (size)
		*size = s;
	return FDT_OK;
}

int fdt_translate(const struct fdt *fdt, int bus, uint64_t addr, uint64_t *cpu)
{
	int root = fdt_root(fdt);
	for (unsigned hop = 0; hop < MAX_TRANSLATE_HOPS; hop++) {
		if (bus < 0)
			return bus;
		if (bus == root) {
			*cpu = addr;
			return FDT_OK;
		}
		int parent = fdt_parent(fdt, bus);
		if (parent < 0)
			return parent;
		uint32_t len;
		const uint8_t *v = fdt_prop(fdt, bus, "ranges", &len);
		if (!v)
			return FDT_ERR_NOTRANSLATE;
		if (len != 0) {
			uint32_t cac = fdt_address_cells(fdt, bus), csc = fdt_size_cells(fdt, bus);
			uint32_t pac = fdt_address_cells(fdt, parent);
			if (cac < 1 || cac > MAX_ADDR_CELLS || csc < 1 || csc > MAX_SIZE_CELLS ||
			    pac < 1 || pac > MAX_ADDR_CELLS)
				return FDT_ERR_BADCELLS;
			uint32_t entry = 4 * (cac + pac + csc);
			if (len % entry)
				return FDT_ERR_BADCELLS;
			bool hit = false;
			for (uint32_t o = 0; o < len; o += entry) {
				uint64_t c = fdt_cells(v + o, cac);
				uint64_t p = fdt_cells(v + o + 4 * cac, pac);
				uint64_t s = fdt_cells(v + o + 4 * (cac + pac), csc);
				if (addr >= c && addr - c < s) {
					addr = p + (addr - c);
					hit = true;
					break;
				}
			}
			if (!hit)
				return FDT_ERR_NOTRANSLATE;
		}
		bus = parent;
	}
	return FDT_ERR_TOODEEP;
}

int fdt_range(const struct fdt *fdt, int node, unsigned index, struct fdt_range *r)
{
	int parent = fdt_parent(fdt, node);
	if (parent < 0)
		return parent;
	uint32_t cac = fdt_address_cells(fdt, node), csc = fdt_size_cells(fdt, node);
	uint32_t pac = fdt_address_cells(fdt, parent);
	if (cac < 1 || cac > MAX_CHILD_CELLS || csc < 1 || csc > MAX_SIZE_CELLS ||
	    pac < 1 || pac > MAX_ADDR_CELLS)
		return FDT_ERR_BADCELLS;
	uint32_t len;
	const uint8_t *v = fdt_prop(fdt, node, "ranges", &len);
	if (!v)
		return FDT_ERR_NOTFOUND;
	uint32_t entry = 4 * (cac + pac + csc);
	if (len % entry)
		return FDT_ERR_BADCELLS;
	if (index >= len / entry)
		return FDT_ERR_NOTFOUND;
	v += (size_t)index * entry;
	if (cac == 3) {
		r->child_hi = fdt_be32(v);
		r->child = fdt_cells(v + 4, 2);
	} else {
		r->child_hi = 0;
		r->child = fdt_cells(v, cac);
	}
	r->parent = fdt_cells(v + 4 * cac, pac);
	r->size = fdt_cells(v + 4 * (cac + pac), csc);
	return fdt_translate(fdt, parent, r->parent, &r->cpu);
}

/* ---- Interrupts ---- */

int fdt_irq_parent(const struct fdt *fdt, int node)
{
	for (unsigned hop = 0; node >= 0 && hop <= FDT_MAX_DEPTH; hop++) {
		uint32_t len;
		const void *v = fdt_prop(fdt, node, "interrupt-parent", &len);
		if (v) {
			if (len != 4)
				return FDT_ERR_BADCELLS;
			return fdt_node_by_phandle(fdt, fdt_be32(v));
		}
		node = fdt_parent(fdt, node);
	}
	return FDT_ERR_NOTFOUND;
}

static int irq_cells_of(const struct fdt *fdt, int ctrl, uint32_t *n)
{
	uint32_t len;
	const void *v = fdt_prop(fdt, ctrl, "#interrupt-cells", &len);
	if (!v || len != 4)
		return FDT_ERR_BADCELLS;
	*n = fdt_be32(v);
	if (*n < 1 || *n > FDT_IRQ_MAX_CELLS)
		return FDT_ERR_BADCELLS;
	return FDT_OK;
}

int fdt_irq(const struct fdt *fdt, int node, unsigned index, struct fdt_irq *irq)
{
	uint32_t len, n;
	int rc;
	const uint8_t *v = fdt_prop(fdt, node, "interrupts-extended", &len);
	if (v) {
		/* <phandle cells...> repeated, each with its controller's count. */
		if (len % 4)
			return FDT_ERR_BADCELLS;
		uint32_t o = 0;
		for (unsigned i = 0;; i++) {
			if (o >= len)
				return FDT_ERR_NOTFOUND;
			int ctrl = fdt_node_by_phandle(fdt, fdt_be32(v + o));
			if (ctrl < 0)
				return ctrl;
			rc = irq_cells_of(fdt, ctrl, &n);
			if (rc)
				return rc;
			if ((len - o) / 4 < 1 + n)
				return FDT_ERR_BADCELLS;
			if (i == index) {
				irq->ctrl = ctrl;
				irq->ncells = n;
				for (uint32_t k = 0; k < n; k++)
					irq->cells[k] = fdt_be32(v + o + 4 + 4 * k);
				return FDT_OK;
			}
			o += 4 * (1 + n);
		}
	}
	v = fdt_prop(fdt, node, "interrupts", &len);
	if (!v)
		return FDT_ERR_NOTFOUND;
	int ctrl = fdt_irq_parent(fdt, node);
	if (ctrl < 0)
		return ctrl;
	rc = irq_cells_of(fdt, ctrl, &n);
	if (rc)
		return rc;
	if (len % (4 * n))
		return FDT_ERR_BADCELLS;
	if (index >= len / (4 * n))
		return FDT_ERR_NOTFOUND;
	irq->ctrl = ctrl;
	irq->ncells = n;
	for (uint32_t k = 0; k < n; k++)
		irq->cells[k] = fdt_be32(v + 4 * (index * n + k));
	return FDT_OK;
}

/* ---- Boot information ---- */

const char *fdt_bootargs(const struct fdt *fdt)
{
	int chosen = fdt_path(fdt, "/chosen");
	return chosen < 0 ? NULL : fdt_prop_str(fdt, chosen, "bootargs");
}

static int prop_number(const struct fdt *fdt, int node, const char *name, uint64_t *out)
{
	uint32_t len;
	const void *v = fdt_prop(fdt, node, name, &len);
	if (!v)
		return FDT_ERR_NOTFOUND;
	if (len != 4 && len != 8)
		return FDT_ERR_BADCELLS;
	*out = fdt_cells(v, len / 4);
	return FDT_OK;
}

int fdt_initrd(const struct fdt *fdt, uint64_t *start, uint64_t *end)
{
	int chosen = fdt_path(fdt, "/chosen");
	if (chosen < 0)
		return chosen;
	uint64_t s, e;
	int rc = prop_number(fdt, chosen, "linux,initrd-start", &s);
	if (rc)
		return rc;
	rc = prop_number(fdt, chosen, "linux,initrd-end", &e);
	if (rc)
		return rc;
	if (e < s)
		return FDT_ERR_BADCELLS;
	*start = s;
	*end = e;
	return FDT_OK;
}

int fdt_memory(const struct fdt *fdt, unsigned index, uint64_t *base, uint64_t *size)
{
	for (int n = fdt_next_node(fdt, -1, NULL); n >= 0; n = fdt_next_node(fdt, n, NULL)) {
		const char *type = fdt_prop_str(fdt, n, "device_type");
		if (!type || !str_eq(type, "memory") || !fdt_is_enabled(fdt, n))
			continue;
		for (unsigned i = 0;; i++) {
			uint64_t b, s;
			int rc = fdt_reg_cpu(fdt, n, i, &b, &s);
			if (rc == FDT_ERR_NOTFOUND)
				break;
			if (rc)
				return rc;
			if (s == 0)
				continue;
			if (index-- == 0) {
				*base = b;
				*size = s;
				return FDT_OK;
			}
		}
	}
	return FDT_ERR_NOTFOUND;
}

int fdt_reserved(const struct fdt *fdt, unsigned index, uint64_t *base, uint64_t *size)
{
	for (uint32_t o = fdt->off_rsvmap; fdt->totalsize - o >= 16; o += 16) {
		uint64_t b = fdt_cells(fdt->blob + o, 2), s = fdt_cells(fdt->blob + o + 8, 2);
		if (b == 0 && s == 0)
			break;
		if (index-- == 0) {
			*base = b;
			*size = s;
			return FDT_OK;
		}
	}
	return FDT_ERR_NOTFOUND;
}
