/*
 * Kernel formatted output and panic.
 *
 * kprintf() writes to the serial console (COM1).  Supported conversions:
 * %d %i %u %x %X %o %c %s %p %%, flags '-' '0', a width (or '*'), a
 * precision for %s, and the length modifiers hh h l ll z.  No floating point.
 * Safe from interrupt context (output is polled, one line is not atomic
 * with respect to an interrupt that also prints).
 */
#ifndef ORION_KPRINTF_H
#define ORION_KPRINTF_H

#include <stdarg.h>
#include <stddef.h>

#define ORION_PRINTF(f, a) __attribute__((format(printf, f, a)))

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) ORION_PRINTF(3, 4);
int kvprintf(const char *fmt, va_list ap);
int kprintf(const char *fmt, ...) ORION_PRINTF(1, 2);

/*
 * Print "PANIC: <msg>" and a frame-pointer backtrace, then stop: with
 * isa-debug-exit FAIL when the kernel runs a self-test (or panic=exit),
 * otherwise halt forever so the console can be read.
 */
__attribute__((noreturn)) void panic(const char *fmt, ...) ORION_PRINTF(1, 2);

#define KASSERT(c) do { if (!(c)) panic("assertion failed: %s at %s:%d", #c, __FILE__, __LINE__); } while (0)

#endif
