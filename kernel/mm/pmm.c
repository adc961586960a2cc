/*
 * Physical page allocator: one bit per 4 KiB page below ORION_PMM_LIMIT
 * (set = used).  Start with everything used, free the multiboot map's
 * type-1 (usable) ranges, then take back the first MiB (BIOS data, EBDA,
 * ACPI tables the firmware may keep there) and the kernel image.  The
 * multiboot info itself is consumed by kmain before the first allocation
 * and may be overwritten afterwards.
 *
 * Allocation is first fit with a moving hint: O(pages) in the worst case,
 * fine for the few dozen allocations a test kernel makes.
 */
#include <stdint.h>

#include "orion/io.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/mm.h"
#include "orion/multiboot.h"

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

void pmm_init(const struct multiboot_info *mbi)
{
	memset(bitmap, 0xff, sizeof(bitmap));
	if (mbi->flags & MB_INFO_MMAP) {
		uint64_t p = mbi->mmap_addr, end = p + mbi->mmap_length;
		kprintf("mem: multiboot memory map:\n");
		while (p + sizeof(struct multiboot_mmap_entry) <= end) {
			const struct multiboot_mmap_entry *e = (const void *)p;
			kprintf("mem:   %#014lx-%#014lx type %u\n", e->addr, e->addr + e->len - 1, e->type);
			if (e->type == 1) {
				uint64_t s = ALIGN_UP(e->addr, PAGE_SIZE);
				uint64_t t = (e->addr + e->len) & ~(PAGE_SIZE - 1);
				if (t > ORION_PMM_LIMIT)
					t = ORION_PMM_LIMIT;
				if (s < t) {
					mark_range(s, t, true);
					if (t / PAGE_SIZE > max_page)
						max_page = t / PAGE_SIZE;
				}
			}
			p += e->size + 4;
		}
	} else if (mbi->flags & MB_INFO_MEMORY) {
		uint64_t t = 0x100000ull + (uint64_t)mbi->mem_upper * 1024;
		if (t > ORION_PMM_LIMIT)
			t = ORION_PMM_LIMIT;
		mark_range(0x100000, t, true);
		max_page = t / PAGE_SIZE;
	} else {
		panic("mem: loader gave no memory information");
	}
	mark_range(0, 0x100000, false);
	mark_range((uint64_t)(uintptr_t)__kernel_start,
		   ALIGN_UP((uint64_t)(uintptr_t)__kernel_end, PAGE_SIZE), false);
	total_pages = free_pages;
	hint = 0x100000 / PAGE_SIZE;
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
	uint64_t f = irq_save();
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
	if (pa % PAGE_SIZE || pg + n > max_page || pg < 0x100000 / PAGE_SIZE)
		panic("pmm_free: bad range %#lx+%lu", pa, n);
	uint64_t f = irq_save();
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
