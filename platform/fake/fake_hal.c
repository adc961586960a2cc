/*
 * Fake HAL for unit tests: see fake_hal.h.  Thread-safe (the device model
 * runs in its own thread and translates addresses concurrently).
 */
#define _GNU_SOURCE
#include "fake_hal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vnet/vnet_error.h"
#include "vnet/vnet_hal.h"

/* iova = va + this offset: far from any user-space pointer, still 64-bit clean. */
#define FAKE_IOVA_OFFSET 0x0000100000000000ULL
#define FAKE_MAX_DMA 4096

struct fake_region {
	uintptr_t va;
	size_t len;
};

static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fake_region fake_regions[FAKE_MAX_DMA];
static size_t fake_live_dma_n;
static size_t fake_live_priv_n;
static long fake_fail_after = -1;
static uint64_t fake_relax_step;
static uint64_t fake_time_offset;
static bool fake_clock_manual;    /* fake_hal_clock_manual(): time moves only when told */
static uint64_t fake_clock_base;
static char fake_last[512];
static unsigned long fake_log_n;
static unsigned long fake_log_level_n[4];
static int fake_echo = -1;

static int fake_alloc_allowed(void)
{
	if (fake_fail_after < 0)
		return 1;
	if (fake_fail_after == 0)
		return 0;
	fake_fail_after--;
	return 1;
}

int vnet_hal_dma_alloc(size_t len, size_t align, struct vnet_dma *out)
{
	if (!out || len == 0 || align == 0 || (align & (align - 1)) != 0)
		return VNET_EINVAL;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&fake_lock);
	if (!fake_alloc_allowed()) {
		pthread_mutex_unlock(&fake_lock);
		return VNET_ENOMEM;
	}
	size_t slot;
	for (slot = 0; slot < FAKE_MAX_DMA; slot++)
		if (fake_regions[slot].va == 0)
			break;
	if (slot == FAKE_MAX_DMA) {
		pthread_mutex_unlock(&fake_lock);
		return VNET_ENOMEM;
	}
	size_t a = align < 64 ? 64 : align;
	size_t rounded = (len + a - 1) & ~(a - 1);
	void *p = aligned_alloc(a, rounded);
	if (!p) {
		pthread_mutex_unlock(&fake_lock);
		return VNET_ENOMEM;
	}
	memset(p, 0, rounded);
	fake_regions[slot].va = (uintptr_t)p;
	fake_regions[slot].len = len;
	fake_live_dma_n++;
	pthread_mutex_unlock(&fake_lock);
	out->va = p;
	out->iova = (uint64_t)(uintptr_t)p + FAKE_IOVA_OFFSET;
	out->len = len;
	out->handle = slot + 1;
	return VNET_OK;
}

void vnet_hal_dma_free(struct vnet_dma *dma)
{
	if (!dma || !dma->va)
		return;
	pthread_mutex_lock(&fake_lock);
	size_t slot = dma->handle - 1;
	if (dma->handle == 0 || slot >= FAKE_MAX_DMA || fake_regions[slot].va != (uintptr_t)dma->va) {
		pthread_mutex_unlock(&fake_lock);
		fprintf(stderr, "fake_hal: vnet_hal_dma_free of unknown region %p\n", dma->va);
		abort();
	}
	fake_regions[slot].va = 0;
	fake_regions[slot].len = 0;
	fake_live_dma_n--;
	pthread_mutex_unlock(&fake_lock);
	free(dma->va);
	memset(dma, 0, sizeof(*dma));
}

void *fake_hal_iova_to_va(uint64_t iova, size_t len)
{
	if (iova < FAKE_IOVA_OFFSET)
		return NULL;
	uintptr_t va = (uintptr_t)(iova - FAKE_IOVA_OFFSET);
	void *res = NULL;
	pthread_mutex_lock(&fake_lock);
	for (size_t i = 0; i < FAKE_MAX_DMA; i++) {
		const struct fake_region *r = &fake_regions[i];
		if (r->va && va >= r->va && va - r->va <= r->len && len <= r->len - (va - r->va)) {
			res = (void *)va;
			break;
		}
	}
	pthread_mutex_unlock(&fake_lock);
	return res;
}

void *vnet_hal_zalloc(size_t len)
{
	pthread_mutex_lock(&fake_lock);
	int ok = fake_alloc_allowed();
	pthread_mutex_unlock(&fake_lock);
	if (!ok || len == 0)
		return NULL;
	void *p = calloc(1, len);
	if (p) {
		pthread_mutex_lock(&fake_lock);
		fake_live_priv_n++;
		pthread_mutex_unlock(&fake_lock);
	}
	return p;
}

void vnet_hal_free(void *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&fake_lock);
	fake_live_priv_n--;
	pthread_mutex_unlock(&fake_lock);
	free(p);
}

uint64_t vnet_hal_time_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&fake_lock);
	uint64_t off = fake_time_offset;
	bool manual = fake_clock_manual;
	uint64_t base = fake_clock_base;
	pthread_mutex_unlock(&fake_lock);
	if (manual)
		return base + off;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec + off;
}

void vnet_hal_relax(void)
{
	pthread_mutex_lock(&fake_lock);
	fake_time_offset += fake_relax_step;
	pthread_mutex_unlock(&fake_lock);
	sched_yield();
}

void vnet_hal_log(enum vnet_log_level level, const char *line)
{
	static const char *names[] = {"err", "warn", "info", "debug"};
	pthread_mutex_lock(&fake_lock);
	if (fake_echo < 0) {
		const char *v = getenv("ORION_VNET_TEST_VERBOSE");
		fake_echo = v && *v == '1';
	}
	snprintf(fake_last, sizeof(fake_last), "%s", line ? line : "(null)");
	fake_log_n++;
	if ((unsigned)level < 4)
		fake_log_level_n[level]++;
	int echo = fake_echo;
	pthread_mutex_unlock(&fake_lock);
	if (echo)
		fprintf(stderr, "[vnet %s] %s\n", (unsigned)level < 4 ? names[level] : "?", line ? line : "");
}

size_t fake_hal_live_dma(void)
{
	pthread_mutex_lock(&fake_lock);
	size_t n = fake_live_dma_n;
	pthread_mutex_unlock(&fake_lock);
	return n;
}

size_t fake_hal_live_private(void)
{
	pthread_mutex_lock(&fake_lock);
	size_t n = fake_live_priv_n;
	pthread_mutex_unlock(&fake_lock);
	return n;
}

void fake_hal_fail_alloc_after(long n)
{
	pthread_mutex_lock(&fake_lock);
	fake_fail_after = n;
	pthread_mutex_unlock(&fake_lock);
}

void fake_hal_set_relax_step_ns(uint64_t step_ns)
{
	pthread_mutex_lock(&fake_lock);
	fake_relax_step = step_ns;
	pthread_mutex_unlock(&fake_lock);
}

void fake_hal_clock_manual(bool on)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&fake_lock);
	fake_clock_manual = on;
	fake_clock_base = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	pthread_mutex_unlock(&fake_lock);
}

void fake_hal_advance_ns(uint64_t ns)
{
	pthread_mutex_lock(&fake_lock);
	fake_time_offset += ns;
	pthread_mutex_unlock(&fake_lock);
}

const char *fake_hal_last_log(void)
{
	return fake_last;
}

unsigned long fake_hal_log_count(void)
{
	return fake_log_n;
}

unsigned long fake_hal_log_count_level(int level)
{
	if (level < 0 || level > 3)
		return 0;
	pthread_mutex_lock(&fake_lock);
	unsigned long n = fake_log_level_n[level];
	pthread_mutex_unlock(&fake_lock);
	return n;
}

void fake_hal_set_echo(int on)
{
	pthread_mutex_lock(&fake_lock);
	fake_echo = on;
	pthread_mutex_unlock(&fake_lock);
}
