/*
 * toml_dump FILE - print a document as one JSON value (tables as objects,
 * in document order) or "ERROR line:col: message" and exit 1.  Used by
 * toml_diff.py to compare src/conf/toml.c with Python's tomllib.
 */
#include <stdio.h>
#include <stdlib.h>

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

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: toml_dump FILE\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	static char buf[1 << 20];
	size_t len = fread(buf, 1, sizeof buf, f);
	fclose(f);
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
