/*
 * orion-vnet platform HAL: the whole contract between the freestanding core
 * and the platform it runs on.
 *
 * One platform is linked per binary (kernel/hal for the Orion kernel, platform/linux,
 * platform/fake), so these are plain functions resolved by the linker, not a
 * pointer table.  The core calls nothing else (besides memcpy, memset,
 * memmove and memcmp).  See docs/hal.md for the porting guide.
 *
 * Context: unless stated, every function may be called from any thread and
 * must not sleep for long; the core never calls them on the per-packet path
 * except vnet_hal_time_ns() when a timeout is armed.
 */
#ifndef VNET_HAL_H
#define VNET_HAL_H

#include <stddef.h>
#include <stdint.h>

/*
 * A region of memory the device can access.
 *   va:  where the driver reads and writes it;
 *   iova: the address the device uses (guest-physical under QEMU, the
 *        vhost-user "user address" or guest-physical of the memory table,
 *        an IOMMU address under VIRTIO_F_ACCESS_PLATFORM);
 *   len: bytes, at least what was asked for;
 *   handle: platform-private cookie, untouched by the core.
 */
struct vnet_dma {
	void *va;
	uint64_t iova;
	size_t len;
	uintptr_t handle;
};

/*
 * Allocate zeroed, physically contiguous (from the device's point of view)
 * memory of at least len bytes aligned to align (a power of two, <= 4096).
 * Returns 0 and fills *out, or a negative vnet_err (VNET_ENOMEM).
 * May sleep; never called on the data path.
 */
int vnet_hal_dma_alloc(size_t len, size_t align, struct vnet_dma *out);

/* Release memory from vnet_hal_dma_alloc. NULL-safe on a zeroed struct. */
void vnet_hal_dma_free(struct vnet_dma *dma);

/*
 * Allocate zeroed memory private to the driver: the device must not be able
 * to see it (it holds the shadow state that protects against a lying
 * device).  Returns NULL on failure.  May sleep; never on the data path.
 */
void *vnet_hal_zalloc(size_t len);
void vnet_hal_free(void *p);

/* Monotonic time in nanoseconds; used to bound every wait on the device. */
uint64_t vnet_hal_time_ns(void);

/* Hint that the caller is busy-waiting (PAUSE/YIELD); may be empty. */
void vnet_hal_relax(void);

enum vnet_log_level {
	VNET_LOG_ERR = 0,
	VNET_LOG_WARN = 1,
	VNET_LOG_INFO = 2,
	VNET_LOG_DEBUG = 3,
};

/* Log sink: one formatted, NUL-terminated line without trailing newline. */
void vnet_hal_log(enum vnet_log_level level, const char *line);

#endif
