/*
 * Physical pages and the kernel heap.
 *
 * Memory is identity mapped (virtual == physical) for the first 64 GiB, so
 * a page's physical address is also a pointer to it.  The page allocator
 * manages usable RAM below 4 GiB (ORION_PMM_LIMIT) from the multiboot
 * memory map, one bit per 4 KiB page; it hands out physically contiguous
 * runs, which is what DMA rings need.  Not thread-safe beyond disabling
 * interrupts: the kernel runs on one CPU.
 */
#ifndef ORION_MM_H
#define ORION_MM_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE ((uint64_t)4096)
#define ORION_PMM_LIMIT ((uint64_t)4 << 30)

struct orion_boot_info;

void pmm_init(const struct orion_boot_info *bi);
/*
 * Allocate npages contiguous pages whose physical address is a multiple of
 * align_pages pages (a power of two, 0 or 1 = any page).  Not zeroed.
 * Returns the physical (== virtual) address, or 0 when out of memory.
 */
uint64_t pmm_alloc(size_t npages, size_t align_pages);
/* Free a run from pmm_alloc; npages must match.  Double frees panic. */
void pmm_free(uint64_t pa, size_t npages);
size_t pmm_free_pages(void);
size_t pmm_total_pages(void);

/*
 * Heap for private kernel/driver state: 16-byte aligned blocks.  Small
 * blocks come from power-of-two size classes carved out of pages, large
 * ones (> 2 KiB) are whole page runs.  kfree(NULL) is a no-op.
 */
void *kmalloc(size_t n);
void *kzalloc(size_t n);
void kfree(void *p);
size_t heap_bytes_in_use(void);

#endif
