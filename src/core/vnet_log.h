/*
 * Core logging: printf-style formatting done inside the freestanding core
 * (no libc), one line handed to vnet_hal_log().  Supports %s %c %d %i %u %x
 * %X %p %% with the l, ll and z length modifiers and a zero-pad width
 * (e.g. %08x).  Never called per packet.
 */
#ifndef VNET_CORE_LOG_H
#define VNET_CORE_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "vnet/vnet_hal.h"

/* Format into buf (always NUL-terminated when size > 0); returns chars written. */
size_t vnet_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
size_t vnet_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void vnet_log(enum vnet_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define VNET_ERR(...) vnet_log(VNET_LOG_ERR, __VA_ARGS__)
#define VNET_WARN(...) vnet_log(VNET_LOG_WARN, __VA_ARGS__)
#define VNET_INFO(...) vnet_log(VNET_LOG_INFO, __VA_ARGS__)

#endif
