/*
 * Command-line parsing (see cmdline.h).  The raw string is copied into a
 * kernel buffer at boot because the multiboot data lives in memory the
 * page allocator hands out later.  Tokens are split in place.
 */
#include "orion/cmdline.h"
#include "orion/klib.h"

#define MAX_OPTS 64   /* room for per-device vnetN.* keys of 8 NICs */
#define MAX_DEFAULTS 128  /* file values (kernel/core/config.c) under them */

static char raw[1024];
static char work[1024];
static struct {
	const char *key, *value;
} opts[MAX_OPTS];
static unsigned nopts;

void cmdline_init(const char *src)
{
	strlcpy(raw, src ? src : "", sizeof(raw));
	strlcpy(work, raw, sizeof(work));
	nopts = 0;

	char *p = work;
	bool first = true;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			*p++ = 0;
		if (!*p)
			break;
		char *tok = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = 0;
		if (first) {   /* the loader's kernel path */
			first = false;
			if (!strchr(tok, '='))
				continue;
		}
		if (nopts == MAX_OPTS)
			break;
		char *eq = strchr(tok, '=');
		if (eq) {
			*eq = 0;
			opts[nopts].value = eq + 1;
		} else {
			opts[nopts].value = "";
		}
		opts[nopts++].key = tok;
	}
}

const char *cmdline_raw(void) { return raw; }

const char *cmdline_get(const char *key)
{
	for (unsigned i = nopts; i-- > 0;)
		if (!strcmp(opts[i].key, key))
			return opts[i].value;
	return cmdline_get_default(key);
}

const char *cmdline_get_own(const char *key)
{
	for (unsigned i = nopts; i-- > 0;)
		if (!strcmp(opts[i].key, key))
			return opts[i].value;
	return NULL;
}

bool cmdline_has(const char *key) { return cmdline_get(key) != NULL; }
unsigned cmdline_count(void) { return nopts; }

bool cmdline_option(unsigned i, const char **key, const char **value)
{
	if (i >= nopts)
		return false;
	*key = opts[i].key;
	*value = opts[i].value;
	return true;
}

/* Lower-priority values (the configuration file, kernel/core/config.c):
 * cmdline_get() returns one only when the command line does not name
 * the key.  key and value must outlive the kernel. */
static struct {
	const char *key, *value;
} defaults[MAX_DEFAULTS];
static unsigned ndefaults;

bool cmdline_add_default(const char *key, const char *value)
{
	if (ndefaults == MAX_DEFAULTS)
		return false;
	defaults[ndefaults].key = key;
	defaults[ndefaults++].value = value;
	return true;
}

const char *cmdline_get_default(const char *key)
{
	for (unsigned i = ndefaults; i-- > 0;)
		if (!strcmp(defaults[i].key, key))
			return defaults[i].value;
	return NULL;
}
