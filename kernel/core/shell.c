/*
 * The serial shell (see shell.h): line editor, command table, built-ins.
 *
 * The editor understands a VT100 terminal's keys as QEMU's -serial stdio
 * or -nographic deliver them: CR or LF ends a line, ESC [ A / ESC [ B walk
 * the history.  Commands run in the shell's own context (not from an
 * interrupt) and may block.
 */
#include <stdint.h>

#include "orion/cmdline.h"
#include "orion/arch.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/mm.h"
#include "orion/pci.h"
#include "orion/power.h"
#include "orion/serial.h"
#include "orion/shell.h"
#include "orion/timer.h"

#define LINE_MAX 160
#define HIST 8

static const struct shell_cmd *cmds[SHELL_MAX_CMDS];
static unsigned ncmds;
static char history[HIST][LINE_MAX];
static unsigned hist_count;

int shell_register(const struct shell_cmd *c)
{
	if (!c || !c->name || !c->fn || ncmds == SHELL_MAX_CMDS)
		return -1;
	for (unsigned i = 0; i < ncmds; i++)
		if (!strcmp(cmds[i]->name, c->name))
			return -1;
	cmds[ncmds++] = c;
	return 0;
}

int shell_exec(char *line)
{
	char *argv[SHELL_MAX_ARGS + 1];
	int argc = 0;
	char *p = line;

	while (*p && argc < SHELL_MAX_ARGS) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = 0;
	}
	argv[argc] = NULL;
	if (!argc)
		return 0;
	for (unsigned i = 0; i < ncmds; i++)
		if (!strcmp(cmds[i]->name, argv[0]))
			return cmds[i]->fn(argc, argv);
	kprintf("%s: unknown command (try 'help')\n", argv[0]);
	return 127;
}

static void redraw(const char *buf, unsigned len, unsigned old_len)
{
	kprintf("\r> %s", buf);
	for (unsigned i = len; i < old_len; i++)
		serial_putc(' ');
	for (unsigned i = len; i < old_len; i++)
		serial_putc('\b');
}

static unsigned read_line(char *buf)
{
	unsigned len = 0, hist_pos = 0;
	int esc = 0;

	buf[0] = 0;
	kprintf("> ");
	for (;;) {
		int c = serial_getc();
		if (esc == 1) {
			esc = c == '[' ? 2 : 0;
			continue;
		}
		if (esc == 2) {
			esc = 0;
			unsigned old = len;
			if (c == 'A' && hist_pos < MIN(hist_count, (unsigned)HIST))
				hist_pos++;
			else if (c == 'B' && hist_pos > 0)
				hist_pos--;
			else
				continue;
			if (hist_pos)
				strlcpy(buf, history[(hist_count - hist_pos) % HIST], LINE_MAX);
			else
				buf[0] = 0;
			len = strlen(buf);
			redraw(buf, len, old);
			continue;
		}
		switch (c) {
		case 0x1b:
			esc = 1;
			break;
		case '\r':
		case '\n':
			kprintf("\n");
			return len;
		case 0x7f:
		case '\b':
			if (len) {
				buf[--len] = 0;
				kprintf("\b \b");
			}
			break;
		case 0x15:   /* Ctrl-U */
			buf[0] = 0;
			redraw(buf, 0, len);
			len = 0;
			break;
		case 0x03:   /* Ctrl-C */
			kprintf("^C\n");
			buf[0] = 0;
			return 0;
		default:
			if (c >= 0x20 && c < 0x7f && len + 1 < LINE_MAX) {
				buf[len++] = (char)c;
				buf[len] = 0;
				serial_putc((char)c);
			}
			break;
		}
	}
}

void shell_run(void)
{
	char line[LINE_MAX];

	kprintf("\nOrion shell. Type 'help' for commands. "
		"To quit QEMU: Ctrl-A then X (with -nographic or -serial mon:stdio).\n");
	for (;;) {
		unsigned len = read_line(line);
		if (!len)
			continue;
		if (!hist_count || strcmp(history[(hist_count - 1) % HIST], line))
			strlcpy(history[hist_count++ % HIST], line, LINE_MAX);
		int r = shell_exec(line);
		if (r && r != 127)
			kprintf("(status %d)\n", r);
	}
}

/* ---- built-ins ---- */

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (unsigned i = 0; i < ncmds; i++)
		kprintf("  %-10s %s\n", cmds[i]->name, cmds[i]->usage ? cmds[i]->usage : "");
	kprintf("Quit QEMU: Ctrl-A X.\n");
	return 0;
}

static int cmd_pci(int argc, char **argv)
{
	pci_print(argc > 1 && !strcmp(argv[1], "-v"));
	return 0;
}

static int cmd_mem(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	kprintf("pages: %lu free of %lu (%lu KiB free), heap in use %lu bytes\n",
		pmm_free_pages(), pmm_total_pages(), pmm_free_pages() * PAGE_SIZE / 1024,
		heap_bytes_in_use());
	return 0;
}

static int cmd_uptime(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	uint64_t ms = timer_since_entry_ns() / 1000000;
	kprintf("up %lu.%03lu s, %lu ticks, counter %lu kHz\n", ms / 1000, ms % 1000, timer_ticks(),
		timer_counter_hz() / 1000);
	return 0;
}

static int cmd_reboot(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	orion_reboot();
}

static int cmd_poweroff(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	orion_poweroff();
}

static int cmd_exit(int argc, char **argv)
{
	uint64_t code = ORION_EXIT_PASS;
	if (argc > 1 && !kstrtou64(argv[1], &code)) {
		kprintf("usage: exit [code]\n");
		return 1;
	}
	orion_exit((unsigned)code);
}

static int cmd_cmdline(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const char *k, *v;
	kprintf("raw: '%s'\n", cmdline_raw());
	for (unsigned i = 0; cmdline_option(i, &k, &v); i++)
		kprintf("  %s = '%s'\n", k, v);
	return 0;
}

static int cmd_irq(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (int v = 0; v < (int)arch_irq_limit(); v++)
		if (irq_count(v))
			kprintf("  irq %#04x: %lu\n", v, irq_count(v));
	return 0;
}

static const struct shell_cmd builtins[] = {
	{ "help", "list commands", cmd_help },
	{ "pci", "pci [-v]: list PCI functions (-v: BARs, INTx)", cmd_pci },
	{ "mem", "page allocator and heap usage", cmd_mem },
	{ "uptime", "time since boot", cmd_uptime },
	{ "irq", "interrupt counts per irq (x86_64: IDT vector)", cmd_irq },
	{ "cmdline", "show the parsed kernel command line", cmd_cmdline },
	{ "reboot", "reset the machine", cmd_reboot },
	{ "poweroff", "ACPI power-off (QEMU exits 0)", cmd_poweroff },
	{ "exit", "exit [code]: leave QEMU with code (default 0x10 = PASS)", cmd_exit },
};

void shell_builtins_init(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(builtins); i++)
		shell_register(&builtins[i]);
}
