/*
 * kmalloc/kfree.  Every block carries a 16-byte header in front of it:
 * a magic (catches kfree of a foreign or corrupted pointer), the size
 * class or page count, and the requested size for accounting.
 *
 * Requests up to 2032 bytes use power-of-two classes 32..2048 (header
 * included); each class keeps a free list of blocks carved from whole
 * pages, never returned to the page allocator.  Larger requests get their
 * own page run, freed back on kfree.  Interrupts are disabled around the
 * list manipulation so handlers may allocate (they should not need to).
 */
#include <stdint.h>

#include "orion/arch.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/mm.h"

#define HDR_MAGIC 0x4f52494f4e484550ull   /* "ORIONHEP" */
#define HDR_FREE 0x4f52494f4e465245ull    /* "ORIONFRE" */
#define NCLASS 7                          /* 32 .. 2048 */
#define CLASS_BIG 0xff

struct hdr {
	uint64_t magic;
	uint32_t cls_or_pages;   /* class index, or page count for big blocks */
	uint8_t big;
	uint8_t pad[3];
};
_Static_assert(sizeof(struct hdr) == 16, "heap header keeps 16-byte alignment");

struct free_blk {
	struct hdr h;
	struct free_blk *next;
};

static struct free_blk *freelist[NCLASS];
static size_t in_use;

static size_t class_size(unsigned c) { return (size_t)32 << c; }

static bool refill(unsigned c)
{
	uint64_t pa = pmm_alloc(1, 1);
	if (!pa)
		return false;
	for (size_t off = 0; off + class_size(c) <= PAGE_SIZE; off += class_size(c)) {
		struct free_blk *b = (struct free_blk *)(uintptr_t)(pa + off);
		b->h.magic = HDR_FREE;
		b->next = freelist[c];
		freelist[c] = b;
	}
	return true;
}

void *kmalloc(size_t n)
{
	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - sizeof(struct hdr) - PAGE_SIZE)
		return NULL;
	size_t need = n + sizeof(struct hdr);
	struct hdr *h;
	unsigned long f = irq_save();

	if (need > class_size(NCLASS - 1)) {
		size_t pages = ALIGN_UP(need, PAGE_SIZE) / PAGE_SIZE;
		uint64_t pa = pmm_alloc(pages, 1);
		if (!pa) {
			irq_restore(f);
			return NULL;
		}
		h = (struct hdr *)(uintptr_t)pa;
		h->big = 1;
		h->cls_or_pages = (uint32_t)pages;
		in_use += pages * PAGE_SIZE;
	} else {
		unsigned c = 0;
		while (class_size(c) < need)
			c++;
		if (!freelist[c] && !refill(c)) {
			irq_restore(f);
			return NULL;
		}
		struct free_blk *b = freelist[c];
		freelist[c] = b->next;
		h = &b->h;
		h->big = 0;
		h->cls_or_pages = c;
		in_use += class_size(c);
	}
	h->magic = HDR_MAGIC;
	irq_restore(f);
	return h + 1;
}

void *kzalloc(size_t n)
{
	void *p = kmalloc(n);
	if (p)
		memset(p, 0, n);
	return p;
}

void kfree(void *p)
{
	if (!p)
		return;
	struct hdr *h = (struct hdr *)p - 1;
	if (h->magic != HDR_MAGIC)
		panic("kfree: bad pointer %p (magic %#lx)", p, h->magic);
	unsigned long f = irq_save();
	h->magic = HDR_FREE;
	if (h->big) {
		in_use -= h->cls_or_pages * PAGE_SIZE;
		pmm_free((uint64_t)(uintptr_t)h, h->cls_or_pages);
	} else {
		unsigned c = h->cls_or_pages;
		struct free_blk *b = (struct free_blk *)h;
		in_use -= class_size(c);
		b->next = freelist[c];
		freelist[c] = b;
	}
	irq_restore(f);
}

size_t heap_bytes_in_use(void)
{
	return in_use;
}
