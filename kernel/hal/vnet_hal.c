/*
 * orion-vnet HAL for the Orion kernel (include/vnet/vnet_hal.h).
 *
 * Orion identity-maps physical memory and has no IOMMU, so DMA memory is
 * simply whole pages from the page allocator: va == iova == physical
 * address.  The handle field remembers the page count for the free.
 * Private driver state comes from the kernel heap, which the device never
 * gets an address of.  Time is the TSC-based monotonic clock.
 */
#include <stddef.h>
#include <stdint.h>

#include "orion/arch.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/mm.h"
#include "orion/timer.h"
#include "vnet/vnet_error.h"
#include "vnet/vnet_hal.h"

int vnet_hal_dma_alloc(size_t len, size_t align, struct vnet_dma *out)
{
	if (!out || !len || (align & (align - 1)) || align > PAGE_SIZE)
		return VNET_EINVAL;
	size_t pages = ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE;
	uint64_t pa = pmm_alloc(pages, 1);   /* page alignment covers align <= 4096 */
	if (!pa)
		return VNET_ENOMEM;
	memset((void *)(uintptr_t)pa, 0, pages * PAGE_SIZE);
	out->va = (void *)(uintptr_t)pa;
	out->iova = pa;
	out->len = pages * PAGE_SIZE;
	out->handle = pages;
	return VNET_OK;
}

void vnet_hal_dma_free(struct vnet_dma *dma)
{
	if (!dma || !dma->va)
		return;
	pmm_free((uint64_t)(uintptr_t)dma->va, dma->handle);
	dma->va = NULL;
	dma->iova = 0;
	dma->len = 0;
	dma->handle = 0;
}

void *vnet_hal_zalloc(size_t len)
{
	return kzalloc(len);
}

void vnet_hal_free(void *p)
{
	kfree(p);
}

uint64_t vnet_hal_time_ns(void)
{
	return timer_ns();
}

void vnet_hal_relax(void)
{
	cpu_relax();
}

void vnet_hal_log(enum vnet_log_level level, const char *line)
{
	static const char *const tag[] = { "error: ", "warning: ", "", "debug: " };
	kprintf("vnet: %s%s\n", (unsigned)level < 4 ? tag[level] : "", line);
}
