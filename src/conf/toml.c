/*
 * toml.c - the freestanding TOML subset reader (include/vnet/toml.h).
 *
 * One pass over the text with a cursor that never moves past len: every
 * look at a byte goes through peek(), which returns -1 at the end, so a
 * truncated document ends in an "expected ..." error and not in a read
 * past the buffer.  Values are built directly into the caller's node
 * array; strings are decoded into the caller's byte buffer.
 *
 * Table definition rules (TOML 1.0, "Table" and "Keys"), kept in flags:
 *   T_HEADER   defined by a [header]: a second [header] or a dotted key
 *              reaching into it is an error;
 *   T_IMPLICIT created as a prefix of a header ([a.b] creates a): may be
 *              defined later by its own header, once;
 *   T_DOTTED   created or extended by a dotted key (a.b = 1): may not be
 *              defined by a header afterwards, sub-tables may;
 *   T_FROZEN   an inline table or a static array: nothing may extend it;
 *   A_AOT      an array built by [[headers]] (only those may be appended to).
 *
 * Does not: floats, dates/times, multi-line strings (refused with an
 * error that says so), the TOML 1.1 escapes \e and \xHH (refused).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnet/toml.h"

#define T_HEADER 0x01u
#define T_IMPLICIT 0x02u
#define T_DOTTED 0x04u
#define T_FROZEN 0x08u
#define A_AOT 0x10u

#define MAX_KEY_PARTS 16

struct parser {
	const unsigned char *s;
	size_t n, i;
	uint32_t line;
	size_t line_start;
	struct vnet_toml_doc *d;
	struct vnet_toml_error *err;
	bool failed;
	uint32_t cur;   /* the table key/values go to */
	unsigned depth;
};

/* A key part, decoded into strbuf. */
struct key_part {
	uint32_t off, len;
	uint32_t line, col;
};

/* ------------------------------------------------------------------ */
/* small freestanding helpers                                          */

static size_t str_len(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static bool mem_eq(const char *a, const char *b, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (a[k] != b[k])
			return false;
	return true;
}

static int peek_at(const struct parser *p, size_t off)
{
	if (p->i + off >= p->n)
		return -1;
	return p->s[p->i + off];
}

static int peek(const struct parser *p)
{
	return peek_at(p, 0);
}

static uint32_t col_of(const struct parser *p, size_t pos)
{
	uint32_t c = 1;
	for (size_t k = p->line_start; k < pos && k < p->n; k++)
		if ((p->s[k] & 0xC0) != 0x80)
			c++;
	return c;
}

struct msgbuf {
	char *b;
	size_t n, cap;
};

static void msg_add(struct msgbuf *m, const char *s, size_t len)
{
	for (size_t k = 0; k < len && m->n + 1 < m->cap; k++) {
		unsigned char c = (unsigned char)s[k];
		m->b[m->n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	m->b[m->n] = 0;
}

/* Record the first error: "what" [ 'key' ] [ rest ] at the cursor. */
static void fail_at(struct parser *p, size_t pos, const char *what,
		    const char *key, size_t klen, const char *rest)
{
	if (p->failed)
		return;
	p->failed = true;
	if (!p->err)
		return;
	p->err->line = p->line;
	p->err->col = col_of(p, pos);
	struct msgbuf m = { p->err->msg, 0, sizeof p->err->msg };
	m.b[0] = 0;
	msg_add(&m, what, str_len(what));
	if (key) {
		if (klen > 40)
			klen = 40;
		msg_add(&m, " '", 2);
		msg_add(&m, key, klen);
		msg_add(&m, "'", 1);
	}
	if (rest)
		msg_add(&m, rest, str_len(rest));
}

static void fail(struct parser *p, const char *what)
{
	fail_at(p, p->i, what, NULL, 0, NULL);
}

/* Error naming a key part, positioned where the key was written. */
static void fail_key(struct parser *p, const struct key_part *k, const char *what, const char *rest)
{
	if (p->failed)
		return;
	uint32_t saved_line = p->line;
	p->line = k->line;
	fail_at(p, p->i, what, p->d->strbuf + k->off, k->len, rest);
	p->line = saved_line;
	if (p->err)
		p->err->col = k->col;
}

/* ------------------------------------------------------------------ */
/* storage                                                             */

static uint32_t node_new(struct parser *p, unsigned type, uint32_t line, uint32_t col)
{
	struct vnet_toml_doc *d = p->d;
	if (d->node_count >= d->node_cap) {
		fail(p, "too many values for the node storage");
		return VNET_TOML_NONE;
	}
	uint32_t idx = d->node_count++;
	struct vnet_toml_node *n = &d->nodes[idx];
	n->type = (uint8_t)type;
	n->flags = 0;
	n->reserved = 0;
	n->line = line;
	n->col = col;
	n->parent = VNET_TOML_NONE;
	n->next = VNET_TOML_NONE;
	n->first = VNET_TOML_NONE;
	n->last = VNET_TOML_NONE;
	n->count = 0;
	n->key_off = 0;
	n->key_len = 0;
	n->v.i = 0;
	return idx;
}

static void node_append(struct parser *p, uint32_t parent, uint32_t child)
{
	struct vnet_toml_node *pa = &p->d->nodes[parent];
	struct vnet_toml_node *c = &p->d->nodes[child];
	c->parent = parent;
	if (pa->last == VNET_TOML_NONE)
		pa->first = child;
	else
		p->d->nodes[pa->last].next = child;
	pa->last = child;
	pa->count++;
}

static bool str_put(struct parser *p, unsigned char c)
{
	struct vnet_toml_doc *d = p->d;
	/* keep one byte for the terminating NUL */
	if (d->str_len + 1 >= d->str_cap) {
		fail(p, "too much text for the string storage");
		return false;
	}
	d->strbuf[d->str_len++] = (char)c;
	return true;
}

static bool str_end(struct parser *p)
{
	struct vnet_toml_doc *d = p->d;
	if (d->str_len >= d->str_cap) {
		fail(p, "too much text for the string storage");
		return false;
	}
	d->strbuf[d->str_len++] = 0;
	return true;
}

static uint32_t member_find(const struct parser *p, uint32_t table, const char *key, uint32_t len)
{
	const struct vnet_toml_doc *d = p->d;
	for (uint32_t c = d->nodes[table].first; c != VNET_TOML_NONE; c = d->nodes[c].next)
		if (d->nodes[c].key_len == len && mem_eq(d->strbuf + d->nodes[c].key_off, key, len))
			return c;
	return VNET_TOML_NONE;
}

/* ------------------------------------------------------------------ */
/* lexical level                                                       */

static void newline_advance(struct parser *p)
{
	/* the cursor is on '\n' */
	p->i++;
	p->line++;
	p->line_start = p->i;
}

static void skip_ws(struct parser *p)
{
	int c;
	while ((c = peek(p)) == ' ' || c == '\t')
		p->i++;
}

static bool is_ctrl(int c)
{
	return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

/*
 * Length of the UTF-8 sequence at the cursor (1..4), 0 if invalid
 * (overlong, surrogate, above U+10FFFF, truncated).  Only called for
 * bytes >= 0x80.
 */
static size_t utf8_len(const struct parser *p)
{
	int c0 = peek(p);
	size_t len;
	uint32_t cp;
	if (c0 >= 0xC2 && c0 <= 0xDF) {
		len = 2;
		cp = (uint32_t)c0 & 0x1F;
	} else if (c0 >= 0xE0 && c0 <= 0xEF) {
		len = 3;
		cp = (uint32_t)c0 & 0x0F;
	} else if (c0 >= 0xF0 && c0 <= 0xF4) {
		len = 4;
		cp = (uint32_t)c0 & 0x07;
	} else {
		return 0;
	}
	for (size_t k = 1; k < len; k++) {
		int c = peek_at(p, k);
		if (c < 0 || (c & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | ((uint32_t)c & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

/* After a comment start '#': to the end of the line (not consuming it). */
static bool skip_comment(struct parser *p)
{
	p->i++; /* '#' */
	for (;;) {
		int c = peek(p);
		if (c < 0 || c == '\n')
			return true;
		if (c == '\r' && peek_at(p, 1) == '\n')
			return true;
		if (is_ctrl(c)) {
			fail(p, "control character in a comment");
			return false;
		}
		if (c >= 0x80) {
			size_t l = utf8_len(p);
			if (!l) {
				fail(p, "invalid UTF-8 in a comment");
				return false;
			}
			p->i += l;
		} else {
			p->i++;
		}
	}
}

/* At the end of a line: optional whitespace and comment, then a newline
 * or the end of input. */
static bool expect_eol(struct parser *p, const char *after)
{
	skip_ws(p);
	int c = peek(p);
	if (c == '#') {
		if (!skip_comment(p))
			return false;
		c = peek(p);
	}
	if (c < 0)
		return true;
	if (c == '\r' && peek_at(p, 1) == '\n')
		p->i++, c = '\n';
	if (c == '\n') {
		newline_advance(p);
		return true;
	}
	fail_at(p, p->i, "expected the end of the line after ", NULL, 0, after);
	return false;
}

/* Whitespace, comments and newlines (inside arrays). */
static bool skip_ws_nl(struct parser *p)
{
	for (;;) {
		skip_ws(p);
		int c = peek(p);
		if (c == '#') {
			if (!skip_comment(p))
				return false;
			continue;
		}
		if (c == '\r' && peek_at(p, 1) == '\n') {
			p->i++;
			newline_advance(p);
			continue;
		}
		if (c == '\n') {
			newline_advance(p);
			continue;
		}
		return true;
	}
}

static bool is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static bool put_utf8(struct parser *p, uint32_t cp)
{
	if (cp < 0x80)
		return str_put(p, (unsigned char)cp);
	if (cp < 0x800)
		return str_put(p, (unsigned char)(0xC0 | (cp >> 6))) &&
		       str_put(p, (unsigned char)(0x80 | (cp & 0x3F)));
	if (cp < 0x10000)
		return str_put(p, (unsigned char)(0xE0 | (cp >> 12))) &&
		       str_put(p, (unsigned char)(0x80 | ((cp >> 6) & 0x3F))) &&
		       str_put(p, (unsigned char)(0x80 | (cp & 0x3F)));
	return str_put(p, (unsigned char)(0xF0 | (cp >> 18))) &&
	       str_put(p, (unsigned char)(0x80 | ((cp >> 12) & 0x3F))) &&
	       str_put(p, (unsigned char)(0x80 | ((cp >> 6) & 0x3F))) &&
	       str_put(p, (unsigned char)(0x80 | (cp & 0x3F)));
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * A basic ("...") or literal ('...') string at the cursor, decoded into
 * strbuf at off/len.  Single-line only.
 */
static bool parse_string(struct parser *p, uint32_t *off, uint32_t *len)
{
	int q = peek(p);
	if (peek_at(p, 1) == q && peek_at(p, 2) == q) {
		fail(p, "multi-line strings are not supported");
		return false;
	}
	size_t open = p->i;
	p->i++;
	*off = p->d->str_len;
	for (;;) {
		int c = peek(p);
		if (c < 0 || c == '\n' || (c == '\r' && peek_at(p, 1) == '\n')) {
			fail_at(p, open, q == '"' ? "unterminated string: expected a closing '\"' on the same line"
						  : "unterminated string: expected a closing \"'\" on the same line",
				NULL, 0, NULL);
			return false;
		}
		if (c == q) {
			p->i++;
			break;
		}
		if (is_ctrl(c)) {
			fail(p, "control character in a string (write it as an escape)");
			return false;
		}
		if (c >= 0x80) {
			size_t l = utf8_len(p);
			if (!l) {
				fail(p, "invalid UTF-8 in a string");
				return false;
			}
			for (size_t k = 0; k < l; k++)
				if (!str_put(p, p->s[p->i + k]))
					return false;
			p->i += l;
			continue;
		}
		if (c == '\\' && q == '"') {
			int e = peek_at(p, 1);
			unsigned char out;
			switch (e) {
			case 'b': out = '\b'; break;
			case 't': out = '\t'; break;
			case 'n': out = '\n'; break;
			case 'f': out = '\f'; break;
			case 'r': out = '\r'; break;
			case '"': out = '"'; break;
			case '\\': out = '\\'; break;
			case 'u':
			case 'U': {
				size_t digits = e == 'u' ? 4 : 8;
				uint32_t cp = 0;
				for (size_t k = 0; k < digits; k++) {
					int h = hexval(peek_at(p, 2 + k));
					if (h < 0) {
						fail(p, e == 'u' ? "bad escape: expected 4 hex digits after \\u"
								 : "bad escape: expected 8 hex digits after \\U");
						return false;
					}
					cp = (cp << 4) | (uint32_t)h;
				}
				if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
					fail(p, "bad escape: not a Unicode scalar value");
					return false;
				}
				if (!put_utf8(p, cp))
					return false;
				p->i += 2 + digits;
				continue;
			}
			default:
				fail(p, "bad escape: expected one of \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX");
				return false;
			}
			if (!str_put(p, out))
				return false;
			p->i += 2;
			continue;
		}
		if (!str_put(p, (unsigned char)c))
			return false;
		p->i++;
	}
	*len = p->d->str_len - *off;
	return str_end(p);
}

/* One key part: bare or quoted. */
static bool parse_key_part(struct parser *p, struct key_part *k)
{
	int c = peek(p);
	k->line = p->line;
	k->col = col_of(p, p->i);
	if (c == '"' || c == '\'')
		return parse_string(p, &k->off, &k->len);
	if (!is_bare(c)) {
		fail(p, "expected a key (letters, digits, '_', '-' or a quoted string)");
		return false;
	}
	k->off = p->d->str_len;
	while (is_bare(peek(p))) {
		if (!str_put(p, p->s[p->i]))
			return false;
		p->i++;
	}
	k->len = p->d->str_len - k->off;
	return str_end(p);
}

/* A dotted key: part ( ws '.' ws part )*.  Stops before what follows. */
static bool parse_key(struct parser *p, struct key_part *parts, unsigned *nparts)
{
	*nparts = 0;
	for (;;) {
		if (*nparts == MAX_KEY_PARTS) {
			fail(p, "dotted key has too many parts");
			return false;
		}
		if (!parse_key_part(p, &parts[*nparts]))
			return false;
		(*nparts)++;
		skip_ws(p);
		if (peek(p) != '.')
			return true;
		p->i++;
		skip_ws(p);
	}
}

/* ------------------------------------------------------------------ */
/* values                                                              */

static bool parse_value(struct parser *p, uint32_t node);
static bool parse_inline_table(struct parser *p, uint32_t node);

static bool digit_in_base(int c, unsigned base)
{
	int v = hexval(c);
	return v >= 0 && (unsigned)v < base && !(base <= 10 && c > '9');
}

static bool parse_number(struct parser *p, uint32_t node)
{
	size_t start = p->i;
	/* The token: everything a number, float or date could contain. */
	size_t end = start;
	while (end < p->n) {
		int c = p->s[end];
		if (is_bare(c) || c == '+' || c == '.' || c == ':')
			end++;
		else
			break;
	}
	bool neg = false;
	size_t k = start;
	if (p->s[k] == '+' || p->s[k] == '-') {
		neg = p->s[k] == '-';
		k++;
	}
	if (end - k >= 3 && (mem_eq((const char *)p->s + k, "inf", 3) || mem_eq((const char *)p->s + k, "nan", 3))) {
		fail(p, "floats are not supported");
		return false;
	}
	for (size_t m = k; m < end; m++) {
		int c = p->s[m];
		if (c == ':' || (c == '-' && m > k)) {
			fail(p, "dates and times are not supported");
			return false;
		}
	}
	unsigned base = 10;
	if (end - k >= 2 && p->s[k] == '0' && (p->s[k + 1] == 'x' || p->s[k + 1] == 'o' || p->s[k + 1] == 'b')) {
		base = p->s[k + 1] == 'x' ? 16 : p->s[k + 1] == 'o' ? 8 : 2;
		if (k != start) {
			fail(p, "bad integer: no sign allowed on hex, octal or binary");
			return false;
		}
		k += 2;
	} else {
		for (size_t m = k; m < end; m++)
			if (p->s[m] == '.' || p->s[m] == 'e' || p->s[m] == 'E') {
				fail(p, "floats are not supported");
				return false;
			}
	}
	if (k >= end || !digit_in_base(p->s[k], base)) {
		fail_at(p, k, "bad integer: expected a digit", NULL, 0, NULL);
		return false;
	}
	if (base == 10 && p->s[k] == '0' && k + 1 < end) {
		fail_at(p, k, "bad integer: leading zeros are not allowed", NULL, 0, NULL);
		return false;
	}
	/* Accumulate as a negative number so INT64_MIN fits. */
	int64_t v = 0;
	bool prev_digit = false;
	for (size_t m = k; m < end; m++) {
		int c = p->s[m];
		if (c == '_') {
			if (!prev_digit || m + 1 >= end || !digit_in_base(p->s[m + 1], base)) {
				fail_at(p, m, "bad integer: '_' must stand between two digits", NULL, 0, NULL);
				return false;
			}
			prev_digit = false;
			continue;
		}
		if (!digit_in_base(c, base)) {
			fail_at(p, m, "bad integer: unexpected character", NULL, 0, NULL);
			return false;
		}
		int d = hexval(c);
		if (v < (INT64_MIN + d) / (int64_t)base) {
			fail_at(p, start, "integer out of range (64-bit signed)", NULL, 0, NULL);
			return false;
		}
		v = v * (int64_t)base - d;
		prev_digit = true;
	}
	if (!neg) {
		if (v == INT64_MIN) {
			fail_at(p, start, "integer out of range (64-bit signed)", NULL, 0, NULL);
			return false;
		}
		v = -v;
	}
	p->d->nodes[node].type = VNET_TOML_INT;
	p->d->nodes[node].v.i = v;
	p->i = end;
	return true;
}

static bool parse_array(struct parser *p, uint32_t node)
{
	p->d->nodes[node].type = VNET_TOML_ARRAY;
	p->d->nodes[node].flags = T_FROZEN;
	p->i++; /* '[' */
	for (;;) {
		if (!skip_ws_nl(p))
			return false;
		if (peek(p) == ']') {
			p->i++;
			return true;
		}
		uint32_t el = node_new(p, 0, p->line, col_of(p, p->i));
		if (el == VNET_TOML_NONE)
			return false;
		node_append(p, node, el);
		if (!parse_value(p, el))
			return false;
		if (!skip_ws_nl(p))
			return false;
		int c = peek(p);
		if (c == ',') {
			p->i++;
			continue;
		}
		if (c == ']') {
			p->i++;
			return true;
		}
		fail(p, "expected ',' or ']' in an array");
		return false;
	}
}

static bool parse_value(struct parser *p, uint32_t node)
{
	if (p->depth >= VNET_TOML_MAX_DEPTH) {
		fail(p, "arrays or inline tables nested too deeply");
		return false;
	}
	int c = peek(p);
	bool ok;
	p->depth++;
	if (c == '"' || c == '\'') {
		uint32_t off, len;
		ok = parse_string(p, &off, &len);
		if (ok) {
			p->d->nodes[node].type = VNET_TOML_STRING;
			p->d->nodes[node].v.s.off = off;
			p->d->nodes[node].v.s.len = len;
		}
	} else if (c == '[') {
		ok = parse_array(p, node);
	} else if (c == '{') {
		ok = parse_inline_table(p, node);
	} else if (c == 't' && p->n - p->i >= 4 && mem_eq((const char *)p->s + p->i, "true", 4) &&
		   !is_bare(peek_at(p, 4))) {
		p->d->nodes[node].type = VNET_TOML_BOOL;
		p->d->nodes[node].v.b = true;
		p->i += 4;
		ok = true;
	} else if (c == 'f' && p->n - p->i >= 5 && mem_eq((const char *)p->s + p->i, "false", 5) &&
		   !is_bare(peek_at(p, 5))) {
		p->d->nodes[node].type = VNET_TOML_BOOL;
		p->d->nodes[node].v.b = false;
		p->i += 5;
		ok = true;
	} else if ((c >= '0' && c <= '9') || c == '+' || c == '-' ||
		   (p->n - p->i >= 3 && (mem_eq((const char *)p->s + p->i, "inf", 3) ||
					 mem_eq((const char *)p->s + p->i, "nan", 3)))) {
		ok = parse_number(p, node);
	} else {
		fail(p, c < 0 ? "expected a value, found the end of the input"
			      : "expected a value (string, integer, true/false, array or inline table)");
		ok = false;
	}
	p->depth--;
	return ok;
}

/*
 * Key/value into table `into`: walk the dotted prefix (creating T_DOTTED
 * tables), then the value.  The cursor is at the key.
 */
static bool parse_keyval(struct parser *p, uint32_t into)
{
	struct key_part parts[MAX_KEY_PARTS];
	unsigned np;
	if (!parse_key(p, parts, &np))
		return false;
	if (peek(p) != '=') {
		fail(p, "expected '=' after the key");
		return false;
	}
	p->i++;
	skip_ws(p);
	uint32_t t = into;
	for (unsigned k = 0; k + 1 < np; k++) {
		uint32_t m = member_find(p, t, p->d->strbuf + parts[k].off, parts[k].len);
		if (m == VNET_TOML_NONE) {
			m = node_new(p, VNET_TOML_TABLE, parts[k].line, parts[k].col);
			if (m == VNET_TOML_NONE)
				return false;
			p->d->nodes[m].key_off = parts[k].off;
			p->d->nodes[m].key_len = parts[k].len;
			node_append(p, t, m);
		} else if (p->d->nodes[m].type != VNET_TOML_TABLE) {
			fail_key(p, &parts[k], "key", " is already defined as a value, not a table");
			return false;
		} else if (p->d->nodes[m].flags & (T_HEADER | T_FROZEN)) {
			fail_key(p, &parts[k], "table",
				 (p->d->nodes[m].flags & T_FROZEN) ? " is an inline table and cannot be extended"
								   : " was defined by a [header]; a dotted key cannot extend it");
			return false;
		}
		p->d->nodes[m].flags |= T_DOTTED;
		t = m;
	}
	const struct key_part *last = &parts[np - 1];
	if (member_find(p, t, p->d->strbuf + last->off, last->len) != VNET_TOML_NONE) {
		fail_key(p, last, "duplicate key", NULL);
		return false;
	}
	uint32_t v = node_new(p, 0, last->line, last->col);
	if (v == VNET_TOML_NONE)
		return false;
	p->d->nodes[v].key_off = last->off;
	p->d->nodes[v].key_len = last->len;
	if (!parse_value(p, v))
		return false;
	/* Appended after the value so a key cannot refer to itself. */
	node_append(p, t, v);
	return true;
}

static bool parse_inline_table(struct parser *p, uint32_t node)
{
	p->d->nodes[node].type = VNET_TOML_TABLE;
	p->i++; /* '{' */
	skip_ws(p);
	if (peek(p) == '}') {
		p->i++;
		p->d->nodes[node].flags = T_FROZEN;
		return true;
	}
	for (;;) {
		skip_ws(p);
		if (!parse_keyval(p, node))
			return false;
		skip_ws(p);
		int c = peek(p);
		if (c == ',') {
			p->i++;
			skip_ws(p);
			if (peek(p) == '}') {
				fail(p, "trailing comma in an inline table: expected a key");
				return false;
			}
			continue;
		}
		if (c == '}') {
			p->i++;
			p->d->nodes[node].flags = T_FROZEN;
			return true;
		}
		fail(p, "expected ',' or '}' in an inline table (on one line)");
		return false;
	}
}

/* [header] or [[header]]; the cursor is at the first '['. */
static bool parse_header(struct parser *p)
{
	bool aot = peek_at(p, 1) == '[';
	p->i += aot ? 2 : 1;
	skip_ws(p);
	struct key_part parts[MAX_KEY_PARTS];
	unsigned np;
	if (!parse_key(p, parts, &np))
		return false;
	if (peek(p) != ']' || (aot && peek_at(p, 1) != ']')) {
		fail(p, aot ? "expected ']]' to close the array-of-tables header"
			    : "expected ']' to close the table header");
		return false;
	}
	p->i += aot ? 2 : 1;
	uint32_t t = 0;
	for (unsigned k = 0; k + 1 < np; k++) {
		uint32_t m = member_find(p, t, p->d->strbuf + parts[k].off, parts[k].len);
		if (m == VNET_TOML_NONE) {
			m = node_new(p, VNET_TOML_TABLE, parts[k].line, parts[k].col);
			if (m == VNET_TOML_NONE)
				return false;
			p->d->nodes[m].flags = T_IMPLICIT;
			p->d->nodes[m].key_off = parts[k].off;
			p->d->nodes[m].key_len = parts[k].len;
			node_append(p, t, m);
		} else {
			struct vnet_toml_node *mn = &p->d->nodes[m];
			if (mn->type == VNET_TOML_ARRAY && (mn->flags & A_AOT)) {
				m = mn->last; /* the latest [[element]] */
			} else if (mn->type != VNET_TOML_TABLE) {
				fail_key(p, &parts[k], "key", " is already defined as a value, not a table");
				return false;
			} else if (mn->flags & T_FROZEN) {
				fail_key(p, &parts[k], "table", " is an inline table and cannot be extended");
				return false;
			}
		}
		t = m;
	}
	const struct key_part *last = &parts[np - 1];
	uint32_t m = member_find(p, t, p->d->strbuf + last->off, last->len);
	if (aot) {
		if (m == VNET_TOML_NONE) {
			m = node_new(p, VNET_TOML_ARRAY, last->line, last->col);
			if (m == VNET_TOML_NONE)
				return false;
			p->d->nodes[m].flags = A_AOT;
			p->d->nodes[m].key_off = last->off;
			p->d->nodes[m].key_len = last->len;
			node_append(p, t, m);
		} else if (p->d->nodes[m].type != VNET_TOML_ARRAY || !(p->d->nodes[m].flags & A_AOT)) {
			fail_key(p, last, "key",
				 p->d->nodes[m].type == VNET_TOML_ARRAY
					 ? " is a static array; [[header]] cannot append to it"
					 : " is already defined and is not an array of tables");
			return false;
		}
		uint32_t el = node_new(p, VNET_TOML_TABLE, last->line, last->col);
		if (el == VNET_TOML_NONE)
			return false;
		p->d->nodes[el].flags = T_HEADER;
		node_append(p, m, el);
		p->cur = el;
	} else {
		if (m == VNET_TOML_NONE) {
			m = node_new(p, VNET_TOML_TABLE, last->line, last->col);
			if (m == VNET_TOML_NONE)
				return false;
			p->d->nodes[m].key_off = last->off;
			p->d->nodes[m].key_len = last->len;
			node_append(p, t, m);
		} else {
			struct vnet_toml_node *mn = &p->d->nodes[m];
			if (mn->type != VNET_TOML_TABLE) {
				fail_key(p, last, "key",
					 mn->type == VNET_TOML_ARRAY ? " is an array, not a table"
								     : " is already defined as a value, not a table");
				return false;
			}
			if (!(mn->flags & T_IMPLICIT) || (mn->flags & (T_HEADER | T_DOTTED | T_FROZEN))) {
				fail_key(p, last, "table", " is defined twice");
				return false;
			}
		}
		p->d->nodes[m].flags = T_HEADER;
		p->cur = m;
	}
	return expect_eol(p, "the table header");
}

int vnet_toml_parse(struct vnet_toml_doc *doc, const char *text, size_t len,
		    struct vnet_toml_error *err)
{
	struct parser p = {
		.s = (const unsigned char *)text, .n = text ? len : 0, .i = 0,
		.line = 1, .line_start = 0, .d = doc, .err = err,
	};
	if (err) {
		err->line = 0;
		err->col = 0;
		err->msg[0] = 0;
	}
	doc->node_count = 0;
	doc->str_len = 0;
	if (!doc->nodes || !doc->strbuf || doc->str_cap == 0) {
		fail(&p, "no storage for the document");
		return -1;
	}
	if (node_new(&p, VNET_TOML_TABLE, 1, 1) == VNET_TOML_NONE)
		return -1;
	doc->nodes[0].flags = T_HEADER;
	if (!str_end(&p)) /* offset 0: the empty string, the root's key */
		return -1;
	p.cur = 0;
	while (!p.failed) {
		skip_ws(&p);
		int c = peek(&p);
		if (c < 0)
			break;
		if (c == '#' || c == '\n' || c == '\r') {
			if (!expect_eol(&p, "a comment"))
				break;
			continue;
		}
		if (c == '[') {
			if (!parse_header(&p))
				break;
			continue;
		}
		if (!parse_keyval(&p, p.cur))
			break;
		if (!expect_eol(&p, "the value"))
			break;
	}
	return p.failed ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* access                                                              */

const struct vnet_toml_node *vnet_toml_root(const struct vnet_toml_doc *doc)
{
	return doc->node_count ? &doc->nodes[0] : NULL;
}

const struct vnet_toml_node *vnet_toml_get(const struct vnet_toml_doc *doc,
					   const struct vnet_toml_node *table, const char *key)
{
	if (!table || table->type != VNET_TOML_TABLE)
		return NULL;
	size_t len = str_len(key);
	for (uint32_t c = table->first; c != VNET_TOML_NONE; c = doc->nodes[c].next)
		if (doc->nodes[c].key_len == len && mem_eq(doc->strbuf + doc->nodes[c].key_off, key, len))
			return &doc->nodes[c];
	return NULL;
}

const struct vnet_toml_node *vnet_toml_first(const struct vnet_toml_doc *doc,
					     const struct vnet_toml_node *n)
{
	if (!n || (n->type != VNET_TOML_TABLE && n->type != VNET_TOML_ARRAY) || n->first == VNET_TOML_NONE)
		return NULL;
	return &doc->nodes[n->first];
}

const struct vnet_toml_node *vnet_toml_next(const struct vnet_toml_doc *doc,
					    const struct vnet_toml_node *n)
{
	if (!n || n->next == VNET_TOML_NONE)
		return NULL;
	return &doc->nodes[n->next];
}

const char *vnet_toml_key(const struct vnet_toml_doc *doc, const struct vnet_toml_node *n, size_t *len)
{
	if (len)
		*len = n->key_len;
	return doc->strbuf + n->key_off;
}

const char *vnet_toml_str(const struct vnet_toml_doc *doc, const struct vnet_toml_node *n, size_t *len)
{
	if (n->type != VNET_TOML_STRING) {
		if (len)
			*len = 0;
		return "";
	}
	if (len)
		*len = n->v.s.len;
	return doc->strbuf + n->v.s.off;
}

const char *vnet_toml_type_name(unsigned type)
{
	switch (type) {
	case VNET_TOML_TABLE: return "table";
	case VNET_TOML_ARRAY: return "array";
	case VNET_TOML_STRING: return "string";
	case VNET_TOML_INT: return "integer";
	case VNET_TOML_BOOL: return "boolean";
	default: return "value";
	}
}
