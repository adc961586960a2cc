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
/* The configuration file's values (kernel/core/config.c) as options of
 * lower priority: cmdline_get() falls back to them; cmdline_get_own()
 * looks at the command line only. */
bool cmdline_add_default(const char *key, const char *value);
const char *cmdline_get_default(const char *key);
const char *cmdline_get_own(const char *key);

/* The configuration file passed as the initrd / multiboot module 0
 * (docs/configuration.md, "Orion kernel"); after pmm_init. */
struct orion_boot_info;
void kconfig_init(const struct orion_boot_info *bi);
/* Device dev's i-th option (qsize, pairs, ring, mode, offload, rss,
 * timeout, mac, vlan): its effective value and source ("cmdline",
 * "file", "default"); false past the end. */
bool kconfig_at(const char *dev, unsigned i, const char **key, const char **value, const char **source);

#endif
