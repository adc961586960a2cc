/*
 * Kernel command line (QEMU -append): space-separated key=value or bare
 * key tokens.  The first token is the kernel path the loader prepends and
 * is skipped.  Known keys: selftest=NAME, mode=poll|irq, ip=A.B.C.D[/N],
 * gw=A.B.C.D, panic=halt|exit.  Unknown keys are kept for others to read.
 */
#ifndef ORION_CMDLINE_H
#define ORION_CMDLINE_H

#include <stdbool.h>

void cmdline_init(const char *raw);
const char *cmdline_raw(void);
/* Value of key, "" for a bare key, NULL if absent.  The last one wins. */
const char *cmdline_get(const char *key);
bool cmdline_has(const char *key);
unsigned cmdline_count(void);
/* i-th option (0-based) or false past the end. */
bool cmdline_option(unsigned i, const char **key, const char **value);

#endif
