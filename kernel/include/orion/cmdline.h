/*
 * Kernel command line (QEMU -append): space-separated key=value or bare
 * key tokens.  The first token is the kernel path the loader prepends and
 * is skipped.  Known keys: selftest=NAME, panic=halt|exit, ping_gw, and
 * the network devices' (kernel/dev/vnet.c): mode=poll|irq, ring=, qsize=,
 * pairs=, pool= for every NIC, ip=A.B.C.D[/N] and gw=A.B.C.D for vnet0,
 * and vnetN.<key>= for one NIC.  Unknown keys are kept for others to read.
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
