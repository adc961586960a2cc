/*
 * A tiny DTB writer for the host unit tests of kernel/lib/fdt.c and
 * kernel/dev/pci_ecam.c: tokens, properties and a header laid out by hand,
 * so a test knows every byte and can break any of them on purpose.
 * Include after <cmocka.h>.
 */
#ifndef TEST_FDT_BUILDER_H
#define TEST_FDT_BUILDER_H

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "orion/fdt.h"

struct builder {
	uint8_t st[8192];
	uint32_t nst;
	char strs[2048];
	uint32_t nstrs;
};

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void tok(struct builder *b, uint32_t t)
{
	assert_true(b->nst + 4 <= sizeof(b->st));
	put32(b->st + b->nst, t);
	b->nst += 4;
}

static inline void raw(struct builder *b, const void *p, uint32_t n)
{
	assert_true(b->nst + n + 3 <= sizeof(b->st));
	if (n)
		memcpy(b->st + b->nst, p, n);
	b->nst += n;
	while (b->nst & 3)
		b->st[b->nst++] = 0;
}

static inline uint32_t str_off(struct builder *b, const char *s)
{
	for (uint32_t o = 0; o < b->nstrs; o += (uint32_t)strlen(b->strs + o) + 1)
		if (strcmp(b->strs + o, s) == 0)
			return o;
	uint32_t o = b->nstrs;
	size_t n = strlen(s) + 1;
	assert_true(o + n <= sizeof(b->strs));
	memcpy(b->strs + o, s, n);
	b->nstrs += (uint32_t)n;
	return o;
}

static inline void begin(struct builder *b, const char *name)
{
	tok(b, 1);
	raw(b, name, (uint32_t)strlen(name) + 1);
}

static inline void end(struct builder *b) { tok(b, 2); }

static inline void prop(struct builder *b, const char *name, const void *v, uint32_t len)
{
	tok(b, 3);
	tok(b, len);
	tok(b, str_off(b, name));
	raw(b, v, len);
}

/* A property of n 32-bit cells given as varargs. */
static inline void propc(struct builder *b, const char *name, int n, ...)
{
	uint8_t v[256];
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		put32(v + 4 * i, va_arg(ap, uint32_t));
	va_end(ap);
	prop(b, name, v, 4u * (uint32_t)n);
}

static inline void props(struct builder *b, const char *name, const char *s)
{
	prop(b, name, s, (uint32_t)strlen(s) + 1);
}

/* Lay out header, reservation map (entries given), structure, strings.
 * Returns a malloc'd blob of exactly *size bytes (ASan catches overreads). */
static inline uint8_t *finish(struct builder *b, const uint64_t *rsv, int nrsv, uint32_t *size)
{
	tok(b, 9);
	uint32_t orsv = 40, ost = orsv + 16u * (uint32_t)(nrsv + 1);
	uint32_t ostr = ost + b->nst, total = ostr + b->nstrs;
	uint8_t *blob = calloc(1, total);
	assert_non_null(blob);
	put32(blob + 0, FDT_MAGIC);
	put32(blob + 4, total);
	put32(blob + 8, ost);
	put32(blob + 12, ostr);
	put32(blob + 16, orsv);
	put32(blob + 20, 17);
	put32(blob + 24, 16);
	put32(blob + 32, b->nstrs);
	put32(blob + 36, b->nst);
	for (int i = 0; i < nrsv; i++) {
		put32(blob + orsv + 16u * (uint32_t)i, (uint32_t)(rsv[2 * i] >> 32));
		put32(blob + orsv + 16u * (uint32_t)i + 4, (uint32_t)rsv[2 * i]);
		put32(blob + orsv + 16u * (uint32_t)i + 8, (uint32_t)(rsv[2 * i + 1] >> 32));
		put32(blob + orsv + 16u * (uint32_t)i + 12, (uint32_t)rsv[2 * i + 1]);
	}
	memcpy(blob + ost, b->st, b->nst);
	memcpy(blob + ostr, b->strs, b->nstrs);
	*size = total;
	return blob;
}

#endif
