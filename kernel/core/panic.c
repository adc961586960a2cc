/*
 * panic(): message, backtrace (arch_backtrace; the kernel is built with
 * -fno-omit-frame-pointer), then exit FAIL when a self-test is running or
 * panic=exit was given, else halt so a person can read the console.
 * A nested panic (panicking while printing a panic) halts at once.
 */
#include <stdint.h>

#include "orion/cmdline.h"
#include "orion/arch.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/power.h"

static int in_panic;

void panic(const char *fmt, ...)
{
	va_list ap;

	irq_disable();
	if (in_panic++)
		orion_halt();
	kprintf("\nPANIC: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\nbacktrace:");
	arch_backtrace();
	kprintf("\n");
	const char *p = cmdline_get("panic");
	if (cmdline_has("selftest") || (p && !strcmp(p, "exit")))
		orion_exit(ORION_EXIT_FAIL);
	kprintf("orion: halted\n");
	orion_halt();
}
