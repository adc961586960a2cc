/*
 * Linux user-space HAL (include/vnet/vnet_hal.h) for libvnet.
 *
 * What it does:
 *  - DMA memory: one shared arena per process (memfd, MAP_SHARED) that the
 *    vhost-user transport registers with the back-end as a single memory
 *    region; allocations are first-fit over an offset-sorted free list with
 *    coalescing, aligned as asked, zeroed, with iova == virtual address.
 *    Book-keeping (the free list, allocation records) lives in private heap
 *    memory, never in the arena the back-end can write.
 *  - Private memory: calloc/free.
 *  - Time: CLOCK_MONOTONIC.  Relax: the CPU's spin-wait hint.
 *  - Log: stderr with a level filter, or a user callback.
 *
 * What it does not do: grow the arena (the memory table is sent once per
 * connection; see vnet_linux.h), give memory back to the kernel before
 * exit, or make DMA memory visible to any device other than a vhost-user
 * back-end that maps the fd.
 */
#define _GNU_SOURCE
#include "vnet_linux.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vnet/vnet_error.h"
#include "vnet/vnet_hal.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004u
#endif

#define HUGE_2M (2u * 1024u * 1024u)

/* One free extent of the arena, by offset. */
struct arena_ext {
	size_t off;
	size_t len;
	struct arena_ext *next;
};

/* One live allocation: the handle a struct vnet_dma carries. */
struct arena_alloc {
	size_t off; /* start of the carved extent (before alignment padding) */
	size_t len; /* whole carved extent */
	uint32_t magic;
};
#define ARENA_ALLOC_MAGIC 0x766e6574u /* "vnet" */

static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;
static int arena_fd = -1;
static uint8_t *arena_base;
static size_t arena_size;
static size_t arena_used;
static int arena_huge;
static struct arena_ext *arena_free; /* sorted by off, coalesced */

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static long read_nr_hugepages(void)
{
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "r");
	long n = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &n) != 1)
		n = 0;
	fclose(f);
	return n;
}

/* Try a hugetlb memfd of `size` (rounded to 2 MiB).  Hugetlb pages are
 * reserved at mmap time for shared mappings, so a shortage shows up as a
 * failed mmap here rather than a SIGBUS later. */
/* Create the arena from a memfd: hugetlb-backed (huge != 0, 2 MiB pages)
 * or plain shmem.  A shared hugetlb mapping reserves its pages at mmap
 * time, so a system short of huge pages fails here, not later with SIGBUS. */
static int arena_try(size_t size, int huge)
{
	size_t unit = huge ? HUGE_2M : (size_t)sysconf(_SC_PAGESIZE);
	size_t sz = round_up(size, unit);
	int fd = memfd_create("vnet-arena", MFD_CLOEXEC | (huge ? MFD_HUGETLB : 0));
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)sz) != 0) {
		close(fd);
		return -1;
	}
	void *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -1;
	}
	arena_fd = fd;
	arena_base = p;
	arena_size = sz;
	arena_huge = huge;
	return 0;
}

/* Caller holds arena_lock. */
static int arena_create_locked(size_t size)
{
	if (arena_base)
		return VNET_OK;
	if (size == 0)
		return VNET_EINVAL;
	if ((read_nr_hugepages() <= 0 || arena_try(size, 1) != 0) && arena_try(size, 0) != 0)
		return VNET_ENOMEM;
	struct arena_ext *e = calloc(1, sizeof(*e));
	if (!e) {
		munmap(arena_base, arena_size);
		close(arena_fd);
		arena_base = NULL;
		arena_fd = -1;
		return VNET_ENOMEM;
	}
	e->off = 0;
	e->len = arena_size;
	arena_free = e;
	arena_used = 0;
	return VNET_OK;
}

static size_t arena_default_size(void)
{
	const char *s = getenv("VNET_ARENA_MB");
	if (s && *s) {
		char *end;
		unsigned long mb = strtoul(s, &end, 10);
		if (*end == '\0' && mb > 0 && mb < (1ul << 20))
			return (size_t)mb << 20;
	}
	return VNET_LINUX_ARENA_DEFAULT;
}

int vnet_linux_arena_init(size_t size)
{
	if (size == 0)
		return VNET_EINVAL;
	pthread_mutex_lock(&arena_lock);
	int rc;
	if (arena_base) {
		size_t pg = arena_huge ? HUGE_2M : (size_t)sysconf(_SC_PAGESIZE);
		rc = round_up(size, pg) == arena_size ? VNET_OK : VNET_EBUSY;
	} else {
		rc = arena_create_locked(size);
	}
	pthread_mutex_unlock(&arena_lock);
	return rc;
}

int vnet_linux_arena_get(int *fd, void **base, size_t *size)
{
	pthread_mutex_lock(&arena_lock);
	int rc = arena_create_locked(arena_default_size());
	if (rc == VNET_OK) {
		if (fd)
			*fd = arena_fd;
		if (base)
			*base = arena_base;
		if (size)
			*size = arena_size;
	}
	pthread_mutex_unlock(&arena_lock);
	return rc;
}

size_t vnet_linux_arena_used(void)
{
	pthread_mutex_lock(&arena_lock);
	size_t u = arena_used;
	pthread_mutex_unlock(&arena_lock);
	return u;
}

int vnet_linux_arena_is_huge(void)
{
	return arena_huge;
}

int vnet_hal_dma_alloc(size_t len, size_t align, struct vnet_dma *out)
{
	if (!out || len == 0 || align == 0 || (align & (align - 1)) || align > 4096)
		return VNET_EINVAL;
	memset(out, 0, sizeof(*out));
	/* Cache-line granularity keeps unrelated allocations (a ring and the
	 * next buffer) off each other's lines. */
	if (align < 64)
		align = 64;
	size_t want = round_up(len, 64);
	if (want < len)
		return VNET_ENOMEM;
	struct arena_alloc *rec = calloc(1, sizeof(*rec));
	if (!rec)
		return VNET_ENOMEM;

	pthread_mutex_lock(&arena_lock);
	int rc = arena_create_locked(arena_default_size());
	if (rc != VNET_OK)
		goto out_unlock;
	rc = VNET_ENOMEM;
	for (struct arena_ext **pp = &arena_free; *pp; pp = &(*pp)->next) {
		struct arena_ext *e = *pp;
		size_t start = round_up(e->off, align);
		size_t pad = start - e->off;
		if (pad > e->len || e->len - pad < want)
			continue;
		/* Carve [e->off, start + want) out of e: the padding goes with
		 * the allocation so it comes back whole on free. */
		rec->off = e->off;
		rec->len = pad + want;
		rec->magic = ARENA_ALLOC_MAGIC;
		e->off += rec->len;
		e->len -= rec->len;
		if (e->len == 0) {
			*pp = e->next;
			free(e);
		}
		arena_used += rec->len;
		out->va = arena_base + start;
		out->iova = (uint64_t)(uintptr_t)out->va;
		out->len = want;
		out->handle = (uintptr_t)rec;
		rc = VNET_OK;
		break;
	}
out_unlock:
	pthread_mutex_unlock(&arena_lock);
	if (rc != VNET_OK) {
		free(rec);
		return rc;
	}
	/* Zero outside the lock: the range is ours now.  Freed memory may hold
	 * old packet data; the contract is zeroed memory. */
	memset(out->va, 0, out->len);
	return VNET_OK;
}

void vnet_hal_dma_free(struct vnet_dma *dma)
{
	if (!dma || !dma->handle)
		return;
	struct arena_alloc *rec = (struct arena_alloc *)dma->handle;
	if (rec->magic != ARENA_ALLOC_MAGIC) {
		fprintf(stderr, "vnet: dma_free of a region not from the arena (ignored)\n");
		return;
	}
	rec->magic = 0;
	pthread_mutex_lock(&arena_lock);
	struct arena_ext **pp = &arena_free;
	while (*pp && (*pp)->off < rec->off)
		pp = &(*pp)->next;
	struct arena_ext *next = *pp;
	/* Find the predecessor to merge with: walk again (control path, short lists). */
	struct arena_ext *prev = NULL;
	for (struct arena_ext *e = arena_free; e && e != next; e = e->next)
		prev = e;
	arena_used -= rec->len;
	if (prev && prev->off + prev->len == rec->off) {
		prev->len += rec->len;
		if (next && prev->off + prev->len == next->off) {
			prev->len += next->len;
			prev->next = next->next;
			free(next);
		}
	} else if (next && rec->off + rec->len == next->off) {
		next->off = rec->off;
		next->len += rec->len;
	} else {
		struct arena_ext *e = calloc(1, sizeof(*e));
		if (e) {
			e->off = rec->off;
			e->len = rec->len;
			e->next = next;
			*pp = e;
		}
		/* calloc failure: the extent is leaked from the arena, not corrupted. */
	}
	pthread_mutex_unlock(&arena_lock);
	free(rec);
	memset(dma, 0, sizeof(*dma));
}

void *vnet_hal_zalloc(size_t len)
{
	return calloc(1, len ? len : 1);
}

void vnet_hal_free(void *p)
{
	free(p);
}

uint64_t vnet_hal_time_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vnet_hal_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	sched_yield();
#endif
}

/* ------------------------------------------------------------------ log */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_level = -1; /* -1: not read from the environment yet */
static vnet_linux_log_fn log_cb;
static void *log_cb_arg;

static int log_level_from_env(void)
{
	const char *s = getenv("VNET_LOG");
	if (!s)
		return VNET_LOG_WARN;
	if (!strcasecmp(s, "err") || !strcasecmp(s, "error"))
		return VNET_LOG_ERR;
	if (!strcasecmp(s, "info"))
		return VNET_LOG_INFO;
	if (!strcasecmp(s, "debug"))
		return VNET_LOG_DEBUG;
	return VNET_LOG_WARN;
}

void vnet_linux_set_log_level(enum vnet_log_level level)
{
	pthread_mutex_lock(&log_lock);
	log_level = (int)level;
	pthread_mutex_unlock(&log_lock);
}

enum vnet_log_level vnet_linux_get_log_level(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_level < 0)
		log_level = log_level_from_env();
	int l = log_level;
	pthread_mutex_unlock(&log_lock);
	return (enum vnet_log_level)l;
}

void vnet_linux_set_log_callback(vnet_linux_log_fn cb, void *arg)
{
	pthread_mutex_lock(&log_lock);
	log_cb = cb;
	log_cb_arg = arg;
	pthread_mutex_unlock(&log_lock);
}

void vnet_hal_log(enum vnet_log_level level, const char *line)
{
	if ((int)level > (int)vnet_linux_get_log_level())
		return;
	pthread_mutex_lock(&log_lock);
	vnet_linux_log_fn cb = log_cb;
	void *arg = log_cb_arg;
	pthread_mutex_unlock(&log_lock);
	if (cb) {
		cb(level, line, arg);
		return;
	}
	static const char *const names[] = {"err", "warn", "info", "debug"};
	fprintf(stderr, "vnet %s: %s\n", (unsigned)level < 4 ? names[level] : "?", line);
}

void vnet_linux_logf(enum vnet_log_level level, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	vnet_hal_log(level, line);
}
