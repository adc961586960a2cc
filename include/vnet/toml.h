/*
 * toml.h - a freestanding reader for the TOML subset a configuration needs.
 *
 * Used by vnetd (user space) and by the Orion kernel (the file passed as a
 * multiboot module), so it allocates nothing: the caller hands in an array
 * of nodes and a byte buffer for the decoded keys and strings, and the
 * parser fills them.  Nothing is kept pointing into the input text, which
 * the caller may free after vnet_toml_parse() returns.
 *
 * Accepted (TOML 1.0 semantics): comments; bare, quoted and dotted keys;
 * [tables] and [dotted.table.headers]; [[arrays.of.tables]]; basic strings
 * with the escapes \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX; 'literal'
 * strings; integers (decimal with sign, 0x hex, 0o octal, 0b binary, '_'
 * between digits, int64 range); true/false; arrays (mixed, nested,
 * multi-line, trailing comma); { inline = "tables" }.
 * Refused with a clear error (outside the subset): floats, dates and
 * times, multi-line strings.  Refused as malformed: everything TOML 1.0
 * refuses that lies in the subset (duplicate keys, a table defined twice,
 * control characters, invalid UTF-8, bad escapes, leading zeros, ...).
 *
 * Errors carry the 1-based line and column (in characters) where the
 * input went wrong and a sentence saying what was expected there.  The
 * parser reads only input[0 .. len-1]: the text need not be NUL-terminated,
 * and a truncated document is an error, never a read past the buffer.
 * Nesting of arrays and inline tables is bounded (VNET_TOML_MAX_DEPTH) so
 * the recursion fits a kernel stack.
 *
 * Not thread-safe per document; independent documents may be parsed
 * concurrently.
 */
#ifndef VNET_TOML_H
#define VNET_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VNET_TOML_MAX_DEPTH 16
#define VNET_TOML_NONE UINT32_MAX

enum vnet_toml_type {
	VNET_TOML_TABLE = 1,
	VNET_TOML_ARRAY,
	VNET_TOML_STRING,
	VNET_TOML_INT,
	VNET_TOML_BOOL,
};

/* One value.  Children of a table or array are linked in document order. */
struct vnet_toml_node {
	uint8_t type;   /* enum vnet_toml_type */
	uint8_t flags;  /* parser bookkeeping (how a table was defined) */
	uint16_t reserved;
	uint32_t line;  /* where the key (or array element) was written */
	uint32_t col;
	uint32_t parent;        /* index, VNET_TOML_NONE for the root */
	uint32_t next;          /* next sibling, VNET_TOML_NONE at the end */
	uint32_t first, last;   /* children (tables, arrays) */
	uint32_t count;         /* number of children */
	uint32_t key_off, key_len; /* key in strbuf (table members only) */
	union {
		int64_t i;
		bool b;
		struct {
			uint32_t off, len;
		} s;
	} v;
};

struct vnet_toml_doc {
	struct vnet_toml_node *nodes; /* caller's storage, node 0 is the root */
	uint32_t node_cap;
	uint32_t node_count;
	char *strbuf;                 /* caller's storage for decoded text */
	uint32_t str_cap;
	uint32_t str_len;
};

struct vnet_toml_error {
	uint32_t line, col; /* 1-based; col counts characters */
	char msg[160];      /* NUL-terminated */
};

/*
 * Parse text[0..len-1] into doc, whose nodes/node_cap/strbuf/str_cap the
 * caller has set.  Returns 0, or -1 with *err filled (err may be NULL);
 * after an error the document's contents are unspecified and must not be
 * used (the caller applies nothing from a document that failed).
 */
int vnet_toml_parse(struct vnet_toml_doc *doc, const char *text, size_t len,
		    struct vnet_toml_error *err);

const struct vnet_toml_node *vnet_toml_root(const struct vnet_toml_doc *doc);
/* Member `key` (NUL-terminated, one key, not dotted) of a table, or NULL. */
const struct vnet_toml_node *vnet_toml_get(const struct vnet_toml_doc *doc,
					   const struct vnet_toml_node *table,
					   const char *key);
/* First child of a table or array / the next sibling; NULL at the end. */
const struct vnet_toml_node *vnet_toml_first(const struct vnet_toml_doc *doc,
					     const struct vnet_toml_node *n);
const struct vnet_toml_node *vnet_toml_next(const struct vnet_toml_doc *doc,
					    const struct vnet_toml_node *n);
/* Decoded key / string; NUL-terminated, *len (may be NULL) is the length,
 * which is authoritative (a \u0000 escape may embed a NUL). */
const char *vnet_toml_key(const struct vnet_toml_doc *doc,
			  const struct vnet_toml_node *n, size_t *len);
const char *vnet_toml_str(const struct vnet_toml_doc *doc,
			  const struct vnet_toml_node *n, size_t *len);
const char *vnet_toml_type_name(unsigned type);

#endif
