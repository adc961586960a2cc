/*
 * The management commands in the serial shell: every virtio_net_* name
 * and its alias (vnet/mgmt.h's table) is a shell command that hands its
 * argv to vnet_mgmt_run() with the kernel's host ops
 * (kernel/dev/vnet_mgmt_host.c).  A command runs with interrupts off (the
 * stack's one lock, orion/net.h): control commands busy-wait, bounded by
 * the device timeout, and the output is polled serial.  `--json` prints
 * one JSON object.  docs/management.md is the reference.
 */
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/arch.h"
#include "orion/serial.h"
#include "orion/shell.h"
#include "orion/vnet_mgmt.h"

static struct vnet_mgmt mgmt;
static bool mgmt_ready;

/* Straight to the console (kprintf's 256-byte line buffer would cut a
 * full 256-byte piece by one character). */
static void ms_write(void *arg, const char *s, size_t n)
{
	(void)arg;
	serial_write(s, (unsigned long)n);
}

static int ms_cmd(int argc, char **argv)
{
	if (!mgmt_ready) {
		vnet_mgmt_init(&mgmt, vd_mgmt_host_ops(), NULL);
		mgmt_ready = true;
	}
	struct vnet_mgmt_sink sink = {ms_write, NULL};
	unsigned long f = irq_save();
	int rc = vnet_mgmt_run(&mgmt, argc, (const char *const *)argv, &sink);
	irq_restore(f);
	return rc == 0 ? 0 : 1;
}

/* Two shell entries per command (full name, alias); static storage. */
#define MS_MAX 32u
static struct shell_cmd ms_cmds[MS_MAX];
static char ms_usage[MS_MAX][96];

void mgmt_shell_init(void)
{
	size_t n;
	const struct vnet_mgmt_cmd_info *t = vnet_mgmt_commands(&n);
	unsigned k = 0;
	for (size_t i = 0; i < n && k + 2 <= MS_MAX; i++) {
		if (!strcmp(t[i].name, "help"))
			continue; /* the shell's own help lists the usage lines */
		ksnprintf(ms_usage[k], sizeof(ms_usage[k]), "%s %s [--json] (alias %s)", t[i].name, t[i].usage,
			  t[i].alias);
		ms_cmds[k] = (struct shell_cmd){t[i].name, ms_usage[k], ms_cmd};
		if (shell_register(&ms_cmds[k]) == 0)
			k++;
		ksnprintf(ms_usage[k], sizeof(ms_usage[k]), "%s: %s", t[i].alias, t[i].name);
		ms_cmds[k] = (struct shell_cmd){t[i].alias, ms_usage[k], ms_cmd};
		if (shell_register(&ms_cmds[k]) == 0)
			k++;
	}
	if (k < 26)
		kprintf("mgmt: only %u of 26 management shell commands registered (shell table full)\n", k);
}
