/*
 * test_toml.c - the freestanding TOML reader (src/conf/toml.c).
 *
 * What a configuration relies on: every construct of the subset decodes to
 * the value written; every malformed document is refused with the line and
 * column where it went wrong and a message saying what was expected; a
 * document cut anywhere or with any byte changed is either parsed or
 * refused, never read past its end (each input is copied to a heap block
 * of exactly its length, so ASan sees a read one byte too far).
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vnet/toml.h"

#define NODES 256
#define STRS 4096

static struct vnet_toml_node nodes[NODES];
static char strbuf[STRS];
static struct vnet_toml_doc doc;
static struct vnet_toml_error err;

/* Parse from an exact-size heap copy (no terminator, no slack). */
static int parse_n(const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, text, len);
	doc.nodes = nodes;
	doc.node_cap = NODES;
	doc.strbuf = strbuf;
	doc.str_cap = STRS;
	int rc = vnet_toml_parse(&doc, copy, len, &err);
	free(copy);
	return rc;
}

static int parse(const char *text)
{
	return parse_n(text, strlen(text));
}

/* Walk a dotted path of plain keys ("a.b.c"), NULL if absent. */
static const struct vnet_toml_node *path(const char *dotted)
{
	const struct vnet_toml_node *n = vnet_toml_root(&doc);
	char buf[128];
	snprintf(buf, sizeof buf, "%s", dotted);
	for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && n; k = strtok_r(NULL, ".", &save))
		n = vnet_toml_get(&doc, n, k);
	return n;
}

static int64_t int_at(const char *p)
{
	const struct vnet_toml_node *n = path(p);
	assert_non_null(n);
	assert_int_equal(n->type, VNET_TOML_INT);
	return n->v.i;
}

static const char *str_at(const char *p)
{
	const struct vnet_toml_node *n = path(p);
	assert_non_null(n);
	assert_int_equal(n->type, VNET_TOML_STRING);
	return vnet_toml_str(&doc, n, NULL);
}

static const char valid_doc[] =
	"# a configuration\n"
	"title = \"vnet\" # trailing comment\n"
	"lit = 'C:\\path\\no\\escapes'\n"
	"esc = \"tab\\tq\\\"bs\\\\nl\\n\\u00e9\\U0001F600\"\n"
	"utf = \"\xc3\xa9t\xc3\xa9\"\n"
	"\"quoted key\" = 1\n"
	"'lit key' = 2\n"
	"dec = +1_000\n"
	"neg = -42\n"
	"zero = 0\n"
	"hex = 0xDEAD_beef\n"
	"oct = 0o755\n"
	"bin = 0b1010\n"
	"max = 9223372036854775807\n"
	"min = -9223372036854775808\n"
	"yes = true\n"
	"no = false\n"
	"arr = [ 1, 2,\n  3, # comment inside\n ]\n"
	"mixed = [\"a\", 1, [true], {x = 1}]\n"
	"empty = []\n"
	"inl = { a = 1, b.c = \"d\" }\n"
	"dot.ted.key = 5\n"
	"\r\n"
	"[virtio_net]\n"
	"transmit_tso_enabled = true\n"
	"[ a . \"b\" . c ]\n"
	"x = 1\n"
	"[a]\n"
	"y = 2\n"
	"[[device]]\n"
	"name = \"d0\"\n"
	"[device.ring]\n"
	"size = 256\n"
	"[[device]]\n"
	"name = \"d1\"\n"
	"[[device.vlan]]\n"
	"id = 10\n";

static void test_valid_document(void **state)
{
	(void)state;
	int rc = parse(valid_doc);
	if (rc)
		fail_msg("%u:%u: %s", err.line, err.col, err.msg);
	assert_string_equal(str_at("title"), "vnet");
	assert_string_equal(str_at("lit"), "C:\\path\\no\\escapes");
	assert_string_equal(str_at("esc"), "tab\tq\"bs\\nl\n\xc3\xa9\xf0\x9f\x98\x80");
	assert_string_equal(str_at("utf"), "\xc3\xa9t\xc3\xa9");
	assert_int_equal(int_at("quoted key"), 1);
	assert_int_equal(int_at("lit key"), 2);
	assert_int_equal(int_at("dec"), 1000);
	assert_int_equal(int_at("neg"), -42);
	assert_int_equal(int_at("zero"), 0);
	assert_int_equal(int_at("hex"), 0xDEADBEEF);
	assert_int_equal(int_at("oct"), 0755);
	assert_int_equal(int_at("bin"), 10);
	assert_true(int_at("max") == INT64_MAX);
	assert_true(int_at("min") == INT64_MIN);
	assert_true(path("yes")->type == VNET_TOML_BOOL && path("yes")->v.b);
	assert_true(path("no")->type == VNET_TOML_BOOL && !path("no")->v.b);
	const struct vnet_toml_node *arr = path("arr");
	assert_int_equal(arr->type, VNET_TOML_ARRAY);
	assert_int_equal(arr->count, 3);
	int64_t want = 1;
	for (const struct vnet_toml_node *e = vnet_toml_first(&doc, arr); e; e = vnet_toml_next(&doc, e))
		assert_true(e->type == VNET_TOML_INT && e->v.i == want++);
	assert_int_equal(path("mixed")->count, 4);
	assert_int_equal(path("empty")->count, 0);
	assert_int_equal(int_at("inl.a"), 1);
	assert_string_equal(str_at("inl.b.c"), "d");
	assert_int_equal(int_at("dot.ted.key"), 5);
	assert_true(path("virtio_net.transmit_tso_enabled")->v.b);
	assert_int_equal(int_at("a.b.c.x"), 1);
	assert_int_equal(int_at("a.y"), 2);
	const struct vnet_toml_node *dev = path("device");
	assert_int_equal(dev->type, VNET_TOML_ARRAY);
	assert_int_equal(dev->count, 2);
	const struct vnet_toml_node *d0 = vnet_toml_first(&doc, dev);
	const struct vnet_toml_node *d1 = vnet_toml_next(&doc, d0);
	assert_string_equal(vnet_toml_str(&doc, vnet_toml_get(&doc, d0, "name"), NULL), "d0");
	assert_int_equal(vnet_toml_get(&doc, vnet_toml_get(&doc, d0, "ring"), "size")->v.i, 256);
	assert_string_equal(vnet_toml_str(&doc, vnet_toml_get(&doc, d1, "name"), NULL), "d1");
	const struct vnet_toml_node *vl = vnet_toml_get(&doc, d1, "vlan");
	assert_int_equal(vl->count, 1);
	assert_int_equal(vnet_toml_get(&doc, vnet_toml_first(&doc, vl), "id")->v.i, 10);
	/* keys keep their positions for the schema's error messages */
	assert_int_equal(path("virtio_net.transmit_tso_enabled")->line, 27);
	assert_int_equal(path("hex")->line, 11);
	assert_int_equal(path("hex")->col, 1);
}

static void test_empty_documents(void **state)
{
	(void)state;
	assert_int_equal(parse(""), 0);
	assert_int_equal(vnet_toml_root(&doc)->count, 0);
	assert_int_equal(parse("\n\n# only a comment"), 0);
	assert_int_equal(parse("   \t\n"), 0);
}

struct bad {
	const char *text;
	uint32_t line, col;
	const char *says; /* substring of the message */
};

static const struct bad bad_docs[] = {
	{ "a = ", 1, 5, "expected a value" },
	{ "a", 1, 2, "expected '='" },
	{ "a = 1\nb = 2 3", 2, 7, "end of the line" },
	{ "= 1", 1, 1, "expected a key" },
	{ "a = 1\na = 2", 2, 1, "duplicate key 'a'" },
	{ "[t]\n[t]", 2, 2, "table 't' is defined twice" },
	{ "[t", 1, 3, "expected ']'" },
	{ "[[t]", 1, 4, "expected ']]'" },
	{ "[]", 1, 2, "expected a key" },
	{ "a = \"abc", 1, 5, "unterminated string" },
	{ "a = 'abc\nb = 1", 1, 5, "unterminated string" },
	{ "a = \"\\q\"", 1, 6, "bad escape" },
	{ "a = \"\\e\"", 1, 6, "bad escape" },
	{ "a = \"\\u12\"", 1, 6, "4 hex digits" },
	{ "a = \"\\uD800\"", 1, 6, "not a Unicode scalar" },
	{ "a = \"\\U00110000\"", 1, 6, "not a Unicode scalar" },
	{ "a = \"x\x01y\"", 1, 7, "control character" },
	{ "a = \"\xff\"", 1, 6, "invalid UTF-8" },
	{ "a = \"\xc0\xaf\"", 1, 6, "invalid UTF-8" },
	{ "a = \"\xed\xa0\x80\"", 1, 6, "invalid UTF-8" },
	{ "# bad \x7f comment", 1, 7, "control character in a comment" },
	{ "a = 1\r", 1, 6, "end of the line" },
	{ "a = 01", 1, 5, "leading zeros" },
	{ "a = 1__0", 1, 6, "'_' must stand between" },
	{ "a = 1_", 1, 6, "'_' must stand between" },
	{ "a = _1", 1, 5, "expected a value" },
	{ "a = 0x", 1, 7, "expected a digit" },
	{ "a = +0x10", 1, 5, "no sign" },
	{ "a = 0o8", 1, 7, "expected a digit" },
	{ "a = 9223372036854775808", 1, 5, "out of range" },
	{ "a = -9223372036854775809", 1, 5, "out of range" },
	{ "a = 1.5", 1, 5, "floats are not supported" },
	{ "a = 1e3", 1, 5, "floats are not supported" },
	{ "a = inf", 1, 5, "floats are not supported" },
	{ "a = 1979-05-27", 1, 5, "dates and times" },
	{ "a = 07:32:00", 1, 5, "dates and times" },
	{ "a = \"\"\"x\"\"\"", 1, 5, "multi-line strings" },
	{ "a = True", 1, 5, "expected a value" },
	{ "a = truex", 1, 5, "expected a value" },
	{ "a = [1 2]", 1, 8, "expected ',' or ']'" },
	{ "a = [1,,2]", 1, 8, "expected a value" },
	{ "a = [1,\n2", 2, 2, "expected ',' or ']'" },
	{ "a = {x = 1,}", 1, 12, "trailing comma" },
	{ "a = {x = 1\n}", 1, 11, "expected ',' or '}'" },
	{ "a = {x = 1, x = 2}", 1, 13, "duplicate key 'x'" },
	{ "a = {x = 1}\n[a]", 2, 2, "table 'a' is defined twice" },
	{ "a = {x = 1}\n[a.b]", 2, 2, "inline table" },
	{ "a = {x = 1}\na.y = 2", 2, 1, "inline table" },
	{ "a = 1\n[a]", 2, 2, "key 'a' is already defined as a value" },
	{ "a = 1\na.b = 2", 2, 1, "key 'a' is already defined as a value" },
	{ "a = []\n[[a]]", 2, 3, "static array" },
	{ "[[a]]\n[a]", 2, 2, "is an array" },
	{ "[a]\n[[a]]", 2, 3, "not an array of tables" },
	{ "a.b = 1\n[a]", 2, 2, "defined twice" },
	{ "[a.b]\nc = 1\n[a]\nb.d = 2", 4, 1, "defined by a [header]" },
	{ "[a]\nb = 1\n[a]", 3, 2, "defined twice" },
	{ "a.b = 1\na.b = 2", 2, 3, "duplicate key 'b'" },
	{ "a = 1 # ok\nb = \"x\"y", 2, 8, "end of the line" },
	{ "[a] b = 1", 1, 5, "end of the line after the table header" },
	{ "k\x01 = 1", 1, 2, "expected '='" },
	{ "a.\n= 1", 1, 3, "expected a key" },
	{ "\xc3\xa9 = 1", 1, 1, "expected a key" },
	{ "a = [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]", 1, 21, "nested too deeply" },
	{ "\"k\x0a\" = 1", 1, 1, "unterminated string" },
};

static void test_malformed_documents(void **state)
{
	(void)state;
	unsigned wrong = 0;
	for (size_t k = 0; k < sizeof bad_docs / sizeof bad_docs[0]; k++) {
		const struct bad *b = &bad_docs[k];
		int rc = parse(b->text);
		if (rc == 0) {
			print_error("accepted bad document #%zu: %s\n", k, b->text);
			wrong++;
		} else if (err.line != b->line || err.col != b->col || !strstr(err.msg, b->says)) {
			print_error("bad document #%zu (%s): got %u:%u '%s', want %u:%u '...%s...'\n", k, b->text,
				    err.line, err.col, err.msg, b->line, b->col, b->says);
			wrong++;
		}
	}
	assert_int_equal(wrong, 0);
}

/* Every prefix of a valid document is parsed or refused; no over-read. */
static void test_truncated_inputs(void **state)
{
	(void)state;
	size_t len = strlen(valid_doc);
	unsigned refused = 0;
	for (size_t cut = 0; cut < len; cut++) {
		if (parse_n(valid_doc, cut) != 0) {
			refused++;
			assert_true(err.line >= 1 && err.msg[0] != 0);
		}
	}
	/* Cuts inside strings, arrays, headers and escapes must be refused. */
	assert_true(refused > len / 4);
	assert_int_equal(parse_n(valid_doc, len), 0);
}

/* Deterministic byte mutations: each result parsed or refused cleanly. */
static void test_mutations(void **state)
{
	(void)state;
	size_t len = strlen(valid_doc);
	char *m = malloc(len);
	assert_non_null(m);
	static const unsigned char subst[] = { 0, '\n', '"', '\'', '[', ']', '{', '}', '=', ',',
					       '.', '\\', '#', 0x80, 0xff, '_', 'x', '0', ' ' };
	unsigned refused = 0, total = 0;
	for (size_t pos = 0; pos < len; pos++) {
		for (size_t s = 0; s < sizeof subst; s++) {
			memcpy(m, valid_doc, len);
			m[pos] = (char)subst[s];
			if (parse_n(m, len) != 0) {
				refused++;
				assert_true(err.msg[0] != 0);
			}
			total++;
		}
	}
	free(m);
	assert_true(refused > 0 && refused < total);
}

static void test_storage_limits(void **state)
{
	(void)state;
	struct vnet_toml_node few[3];
	char small[64];
	struct vnet_toml_doc d = { .nodes = few, .node_cap = 3, .strbuf = small, .str_cap = sizeof small };
	assert_int_equal(vnet_toml_parse(&d, "a = 1\nb = 2", 11, &err), 0);
	assert_int_equal(vnet_toml_parse(&d, "a = 1\nb = 2\nc = 3", 17, &err), -1);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.msg, "too many values"));
	d.node_cap = 3;
	d.str_cap = 8;
	assert_int_equal(vnet_toml_parse(&d, "a = \"0123456789\"", 16, &err), -1);
	assert_non_null(strstr(err.msg, "too much text"));
	/* No error structure: still refused. */
	assert_int_equal(vnet_toml_parse(&d, "a = ", 4, NULL), -1);
	/* NULL text with length 0 is the empty document. */
	d.str_cap = sizeof small;
	assert_int_equal(vnet_toml_parse(&d, NULL, 0, &err), 0);
}

static void test_lookups(void **state)
{
	(void)state;
	assert_int_equal(parse("a = 1\n[t]\nk = 'v'"), 0);
	const struct vnet_toml_node *root = vnet_toml_root(&doc);
	assert_null(vnet_toml_get(&doc, root, "missing"));
	assert_null(vnet_toml_get(&doc, vnet_toml_get(&doc, root, "a"), "x")); /* not a table */
	assert_null(vnet_toml_first(&doc, vnet_toml_get(&doc, root, "a")));
	size_t klen;
	assert_string_equal(vnet_toml_key(&doc, vnet_toml_get(&doc, root, "t"), &klen), "t");
	assert_int_equal(klen, 1);
	assert_string_equal(vnet_toml_type_name(VNET_TOML_BOOL), "boolean");
	assert_string_equal(vnet_toml_str(&doc, vnet_toml_get(&doc, root, "a"), NULL), "");
	/* \u0000 is kept with its length. */
	assert_int_equal(parse("a = \"x\\u0000y\""), 0);
	size_t slen;
	vnet_toml_str(&doc, path("a"), &slen);
	assert_int_equal(slen, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_document),
		cmocka_unit_test(test_empty_documents),
		cmocka_unit_test(test_malformed_documents),
		cmocka_unit_test(test_truncated_inputs),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_storage_limits),
		cmocka_unit_test(test_lookups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
