/*
 * toml_dump FILE | --each FILE... - print each document as one JSON value (tables as objects,
 * in document order) or "ERROR line:col: message" and exit 1.  Used by
 * toml_diff.py to compare src/conf/toml.c with Python's tomllib.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnet/toml.h"

static struct vnet_toml_node nodes[1 << 16];
static char strbuf[1 << 20];

static void json_str(const char *s, size_t n)
{
	putchar('"');
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)s[k];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void dump(const struct vnet_toml_doc *d, const struct vnet_toml_node *n)
{
	size_t len;
	const char *s;
	switch (n->type) {
	case VNET_TOML_TABLE:
	case VNET_TOML_ARRAY: {
		putchar(n->type == VNET_TOML_TABLE ? '{' : '[');
		for (const struct vnet_toml_node *c = vnet_toml_first(d, n); c; c = vnet_toml_next(d, c)) {
			if (c != vnet_toml_first(d, n))
				putchar(',');
			if (n->type == VNET_TOML_TABLE) {
				s = vnet_toml_key(d, c, &len);
				json_str(s, len);
				putchar(':');
			}
			dump(d, c);
		}
		putchar(n->type == VNET_TOML_TABLE ? '}' : ']');
		break;
	}
	case VNET_TOML_STRING:
		s = vnet_toml_str(d, n, &len);
		json_str(s, len);
		break;
	case VNET_TOML_INT:
		printf("%lld", (long long)n->v.i);
		break;
	case VNET_TOML_BOOL:
		printf(n->v.b ? "true" : "false");
		break;
	}
}

/* One file: its JSON (exit code 0) or "ERROR line:col: message" (1). */
static int dump_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 2;
	}
	static char buf[1 << 20];
	size_t len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	/* An exact-size copy: a read past the end is an ASan error. */
	char *text = malloc(len ? len : 1);
	if (!text)
		return 2;
	for (size_t k = 0; k < len; k++)
		text[k] = buf[k];
	struct vnet_toml_doc d = { .nodes = nodes, .node_cap = sizeof nodes / sizeof nodes[0],
				   .strbuf = strbuf, .str_cap = sizeof strbuf };
	struct vnet_toml_error e;
	int rc = vnet_toml_parse(&d, text, len, &e);
	free(text);
	if (rc) {
		printf("ERROR %u:%u: %s\n", e.line, e.col, e.msg);
		return 1;
	}
	dump(&d, vnet_toml_root(&d));
	putchar('\n');
	return 0;
}

/* toml_dump FILE: as above.  toml_dump --each FILE...: one line per file. */
int main(int argc, char **argv)
{
	if (argc == 2)
		return dump_file(argv[1]);
	if (argc >= 2 && !strcmp(argv[1], "--each")) {
		for (int i = 2; i < argc; i++)
			if (dump_file(argv[i]) == 2)
				return 2;
		return 0;
	}
	fprintf(stderr, "usage: toml_dump FILE | toml_dump --each FILE...\n");
	return 2;
}
