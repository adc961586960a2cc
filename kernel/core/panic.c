/*
 * panic(): message, frame-pointer backtrace (the kernel is built with
 * -fno-omit-frame-pointer), then exit FAIL when a self-test is running or
 * panic=exit was given, else halt so a person can read the console.
 * A nested panic (panicking while printing a panic) halts at once.
 */
#include <stdint.h>

#include "orion/cmdline.h"
#include "orion/io.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/multiboot.h"
#include "orion/power.h"

static int in_panic;

void panic(const char *fmt, ...)
{
	va_list ap;

	cpu_cli();
	if (in_panic++)
		orion_halt();
	kprintf("\nPANIC: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\nbacktrace:");
	const uint64_t *fp = __builtin_frame_address(0);
	for (int i = 0; i < 16 && fp; i++) {
		uint64_t a = (uint64_t)(uintptr_t)fp;
		if (a & 7 || a < 0x100000 || a >= (4ull << 30))
			break;
		kprintf(" %#lx", fp[1]);
		fp = (const uint64_t *)(uintptr_t)fp[0];
	}
	kprintf("\n");
	const char *p = cmdline_get("panic");
	if (cmdline_has("selftest") || (p && !strcmp(p, "exit")))
		orion_exit(ORION_EXIT_FAIL);
	kprintf("orion: halted\n");
	orion_halt();
}
