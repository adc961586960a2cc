/*
 * Physical page allocator: one bit per 4 KiB page below ORION_PMM_LIMIT
 * (set = used).  Start with everything used, free the usable RAM ranges
 * of the boot information (orion/arch.h), then take back its reserved
 * ranges (x86: the first MiB, where BIOS data, EBDA and ACPI tables may
 * be), the initrd and the kernel image.  The loader's own data is consumed
 * by orion_main before the first allocation and may be overwritten
 * afterwards.
 *
 * Allocation is first fit with a moving hint: O(pages) in the worst case,
 * fine for the few dozen allocations a test kernel makes.
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/mm.h"

#define NPAGES (ORION_PMM_LIMIT / PAGE_SIZE)

static uint64_t bitmap[NPAGES / 64];
static size_t total_pages, free_pages, max_page, hint;

static bool used(size_t pg) { return (bitmap[pg / 64] >> (pg % 64)) & 1; }
static void set_used(size_t pg) { bitmap[pg / 64] |= 1ull << (pg % 64); }
static void set_free(size_t pg) { bitmap[pg / 64] &= ~(1ull << (pg % 64)); }

static void mark_range(uint64_t start, uint64_t end, bool free)
{
	for (uint64_t pg = start / PAGE_SIZE; pg < end / PAGE_SIZE && pg < NPAGES; pg++) {
		if (free && used(pg)) {
			set_free(pg);
			free_pages++;
		} else if (!free && !used(pg)) {
			set_used(pg);
			free_pages--;
		}
	}
}

static uint64_t low_limit;   /* lowest usable page address: pmm_free below it is a bug */

void pmm_init(const struct orion_boot_info *bi)
{
	memset(bitmap, 0xff, sizeof(bitmap));
	if (!bi->nram)
		panic("mem: loader gave no memory information");
	low_limit = ~0ull;
	kprintf("mem: RAM from the loader:\n");
	for (unsigned i = 0; i < bi->nram; i++) {
		const struct orion_mem_range *e = &bi->ram[i];
		kprintf("mem:   %#014lx-%#014lx\n", e->base, e->base + e->len - 1);
		uint64_t s = ALIGN_UP(e->base, PAGE_SIZE);
		uint64_t t = (e->base + e->len) & ~(PAGE_SIZE - 1);
		if (t > ORION_PMM_LIMIT)
			t = ORION_PMM_LIMIT;
		if (s < t) {
			mark_range(s, t, true);
			if (t / PAGE_SIZE > max_page)
				max_page = t / PAGE_SIZE;
		}
	}
	for (unsigned i = 0; i < bi->nreserved; i++)
		mark_range(bi->reserved[i].base & ~(PAGE_SIZE - 1),
			   ALIGN_UP(bi->reserved[i].base + bi->reserved[i].len, PAGE_SIZE), false);
	if (bi->initrd_len)
		mark_range(bi->initrd_base & ~(PAGE_SIZE - 1), ALIGN_UP(bi->initrd_base + bi->initrd_len, PAGE_SIZE),
			   false);
	mark_range(0, PAGE_SIZE, false);   /* page 0 stays unused: 0 is pmm_alloc's failure value */
	mark_range((uint64_t)(uintptr_t)__kernel_start & ~(PAGE_SIZE - 1),
		   ALIGN_UP((uint64_t)(uintptr_t)__kernel_end, PAGE_SIZE), false);
	for (size_t pg = 1; pg < max_page; pg++)
		if (!used(pg)) {
			low_limit = pg * PAGE_SIZE;
			break;
		}
	total_pages = free_pages;
	hint = low_limit / PAGE_SIZE;
	kprintf("mem: %lu MiB usable, kernel %p-%p\n", free_pages * PAGE_SIZE >> 20,
		(void *)__kernel_start, (void *)__kernel_end);
}

static uint64_t scan(size_t from, size_t to, size_t n, size_t align)
{
	size_t pg = (from + align - 1) & ~(align - 1);
	while (pg + n <= to) {
		size_t i;
		for (i = 0; i < n && !used(pg + i); i++)
			;
		if (i == n)
			return pg;
		pg = (pg + i + 1 + align - 1) & ~(align - 1);
	}
	return 0;
}

uint64_t pmm_alloc(size_t n, size_t align)
{
	if (!align)
		align = 1;
	if (!n || (align & (align - 1)))
		return 0;
	unsigned long f = irq_save();
	uint64_t pg = scan(hint, max_page, n, align);
	if (!pg)
		pg = scan(1, max_page, n, align);
	if (pg) {
		for (size_t i = 0; i < n; i++)
			set_used(pg + i);
		free_pages -= n;
		hint = pg + n;
	}
	irq_restore(f);
	return pg * PAGE_SIZE;
}

void pmm_free(uint64_t pa, size_t n)
{
	size_t pg = pa / PAGE_SIZE;
	if (pa % PAGE_SIZE || pg + n > max_page || pa < low_limit)
		panic("pmm_free: bad range %#lx+%lu", pa, n);
	unsigned long f = irq_save();
	for (size_t i = 0; i < n; i++) {
		if (!used(pg + i))
			panic("pmm_free: double free of page %#lx", (pg + i) * PAGE_SIZE);
		set_free(pg + i);
	}
	free_pages += n;
	if (pg < hint)
		hint = pg;
	irq_restore(f);
}

size_t pmm_free_pages(void) { return free_pages; }
size_t pmm_total_pages(void) { return total_pages; }
