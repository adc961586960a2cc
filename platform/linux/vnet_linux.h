/*
 * orion-vnet on Linux user space: the extras of the Linux platform that are
 * not part of the freestanding HAL contract (include/vnet/vnet_hal.h).
 *
 * DMA arena.  Every vnet_hal_dma_alloc() in the process is carved out of ONE
 * shared-memory arena: a memfd (hugetlbfs-backed when the system has huge
 * pages reserved and the allocation succeeds, plain shmem otherwise) mapped
 * MAP_SHARED.  The vhost-user transport hands that fd to the back-end in a
 * single SET_MEM_TABLE region whose guest_phys_addr and userspace_addr are
 * both the mapping address, so a buffer's iova is simply its virtual
 * address.  The arena is created on first use with the size from
 * vnet_linux_arena_init(), else from the environment variable
 * VNET_ARENA_MB, else VNET_LINUX_ARENA_DEFAULT; it never grows (the memory
 * table is sent once per connection) and lives until process exit.
 *
 * Private memory (vnet_hal_zalloc) is plain calloc: never in the arena, so
 * the back-end cannot see or corrupt the driver's shadow state.
 *
 * Logging: lines go to stderr with a level filter (VNET_LOG=err|warn|info|
 * debug, default warn) unless a callback is installed.
 *
 * Thread safety: the allocator and the log-level/callback setters are
 * mutex-protected; they are control-path calls.
 */
#ifndef VNET_LINUX_H
#define VNET_LINUX_H

#include <stddef.h>
#include <stdint.h>

#include "vnet/vnet_hal.h"

/* 64 MiB: 32k packet buffers of 2 KiB plus rings.  Bigger arenas cost
 * the back-end time at SET_MEM_TABLE (it maps and indexes every page). */
#define VNET_LINUX_ARENA_DEFAULT (64u * 1024u * 1024u)

/*
 * Create the arena now with `size` bytes (rounded up to the page or huge
 * page size).  Returns VNET_OK, VNET_EBUSY if it already exists with a
 * different size, VNET_EINVAL for size 0, VNET_ENOMEM if memfd/mmap fail.
 * Optional: the first DMA allocation creates it otherwise.
 */
int vnet_linux_arena_init(size_t size);

/* The arena as the back-end must see it (creates it if needed).
 * Returns VNET_OK or the creation error. fd stays owned by the HAL. */
int vnet_linux_arena_get(int *fd, void **base, size_t *size);

/* Bytes currently allocated from the arena (for tests and diagnostics). */
size_t vnet_linux_arena_used(void);

/* True if the arena is backed by huge pages. */
int vnet_linux_arena_is_huge(void);

/* Log filter: lines above `level` are dropped. */
void vnet_linux_set_log_level(enum vnet_log_level level);

/* printf-style line to the log sink (vnet_hal_log), for the Linux layer. */
void vnet_linux_logf(enum vnet_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
enum vnet_log_level vnet_linux_get_log_level(void);

/* Send log lines to cb instead of stderr (NULL restores stderr).  cb runs
 * in the thread that logs, must not call back into the driver. */
typedef void (*vnet_linux_log_fn)(enum vnet_log_level level, const char *line, void *arg);
void vnet_linux_set_log_callback(vnet_linux_log_fn cb, void *arg);

#endif
