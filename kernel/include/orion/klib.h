/*
 * The kernel's small C library: memory and string helpers.  The mem*
 * functions are also what the freestanding driver core links against.
 */
#ifndef ORION_KLIB_H
#define ORION_KLIB_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
/* Copies at most size-1 bytes and always NUL-terminates (if size > 0). */
size_t strlcpy(char *dst, const char *src, size_t size);

/*
 * Parse an unsigned number: decimal, or hex with 0x.  Returns true if the
 * whole string was consumed and fits in 64 bits.
 */
bool kstrtou64(const char *s, uint64_t *out);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
