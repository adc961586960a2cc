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
#include "orion/net.h"
#include "orion/shell.h"
#include "orion/timer.h"
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

static int ms_run(int argc, char **argv)
{
	struct vnet_mgmt_sink sink = {ms_write, NULL};
	unsigned long f = irq_save();
	int rc = vnet_mgmt_run(&mgmt, argc, (const char *const *)argv, &sink);
	irq_restore(f);
	return rc;
}

/* performance_stats --watch SECONDS (performance monitor): the baseline,
 * then the table every second for SECONDS seconds; the network keeps being
 * serviced meanwhile (netdev_service, as the shell's idle wait does), and
 * a key press ends it early. */
static int ms_watch(int argc, char **argv, uint64_t secs)
{
	int rc = ms_run(argc, argv);
	for (uint64_t k = 1; rc == 0 && k <= secs; k++) {
		uint64_t t0 = timer_ns();
		while (timer_ns() - t0 < 1000000000ull) {
			unsigned long f = irq_save();
			netdev_service();
			irq_restore(f);
			timer_poll_tick();
			if (serial_getc_nonblock() >= 0) {
				kprintf("watch: stopped by a key\n");
				return 0;
			}
			cpu_relax();
		}
		kprintf("--- watch %u/%u ---\n", (unsigned)k, (unsigned)secs);
		rc = ms_run(argc, argv);
	}
	return rc;
}

static int ms_cmd(int argc, char **argv)
{
	if (!mgmt_ready) {
		vnet_mgmt_init(&mgmt, vd_mgmt_host_ops(), NULL);
		mgmt_ready = true;
	}
	if (!strcmp(argv[0], "virtio_net_performance_stats") || !strcmp(argv[0], "perf")) {
		for (int i = 1; i < argc; i++) {
			if (strcmp(argv[i], "--watch"))
				continue;
			uint64_t secs;
			if (i + 1 >= argc || !kstrtou64(argv[i + 1], &secs) || secs < 1 || secs > 3600) {
				kprintf("%s: --watch takes SECONDS, 1 to 3600\n", argv[0]);
				return 1;
			}
			for (int j = i; j + 2 < argc; j++)
				argv[j] = argv[j + 2];
			return ms_watch(argc - 2, argv, secs) == 0 ? 0 : 1;
		}
	}
	return ms_run(argc, argv) == 0 ? 0 : 1;
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
