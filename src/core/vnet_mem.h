/*
 * The four memory functions the freestanding core may call.  <string.h> is
 * not a freestanding header, so they are declared here; every platform
 * provides them (libc, or the kernel's own implementation).
 */
#ifndef VNET_CORE_MEM_H
#define VNET_CORE_MEM_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
