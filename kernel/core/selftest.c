/*
 * Self-test registry and the built-in "boot" test.
 *
 * selftest=boot checks, in the booted kernel, what later layers rely on:
 * heap and page allocator bookkeeping, contiguous aligned DMA pages from
 * the HAL (zeroed), that the clock advances and the LAPIC tick interrupt
 * arrives, that an exception handler can catch #UD and resume, that the
 * command line was parsed, and that a virtio-net PCI function (1af4:1000
 * transitional or 1af4:1041 modern) was enumerated and is reachable through
 * vnet_hal_pci.h: its vendor capabilities walk, the common-config BAR maps,
 * and MSI-X table entries can be bound and released.  The function is
 * found through the kernel's PCI table; the HAL glue (orion_hal.h) gives
 * the handle the HAL checks run on.  Each check prints a
 * line; the first failure fails the test.
 */
#include <stdint.h>

#include "orion/cmdline.h"
#include "orion/arch.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/mm.h"
#include "orion/pci.h"
#include "orion/selftest.h"
#include "orion/timer.h"
#include "orion_hal.h"
#include "vnet/vnet_error.h"
#include "vnet/vnet_hal.h"
#include "vnet/vnet_hal_pci.h"
#include "vnet/vnet_mmio.h"

#define MAX_TESTS 16

static const struct selftest *tests[MAX_TESTS];
static unsigned ntests;

int selftest_register(const struct selftest *t)
{
	if (!t || !t->name || !t->fn || ntests == MAX_TESTS)
		return -1;
	tests[ntests++] = t;
	return 0;
}

int selftest_run(const char *name)
{
	for (unsigned i = 0; i < ntests; i++)
		if (!strcmp(tests[i]->name, name))
			return tests[i]->fn();
	kprintf("selftest: unknown test '%s'\n", name);
	return -1;
}

#define CHECK(cond, ...) do { \
	if (!(cond)) { kprintf("selftest: FAIL %s:%d: ", __FILE__, __LINE__); \
		kprintf(__VA_ARGS__); kprintf("\n"); return -1; } } while (0)

static int heap_round(void)
{
	size_t heap0 = heap_bytes_in_use();
	void *small[32];

	for (unsigned i = 0; i < ARRAY_SIZE(small); i++) {
		small[i] = kmalloc(8 + 97 * i);
		CHECK(small[i] && ((uintptr_t)small[i] & 15) == 0, "kmalloc %u", 8 + 97 * i);
		memset(small[i], 0xa5, 8 + 97 * i);
	}
	void *big = kzalloc(3 * PAGE_SIZE + 5);
	CHECK(big && ((uint8_t *)big)[3 * PAGE_SIZE + 4] == 0, "kzalloc big");
	for (unsigned i = 0; i < ARRAY_SIZE(small); i++)
		kfree(small[i]);
	kfree(big);
	CHECK(heap_bytes_in_use() == heap0, "heap accounting %lu != %lu", heap_bytes_in_use(), heap0);

	uint64_t pa = pmm_alloc(16, 16);
	CHECK(pa && (pa & (16 * PAGE_SIZE - 1)) == 0, "pmm_alloc(16, align 16) = %#lx", pa);
	pmm_free(pa, 16);

	struct vnet_dma dma;
	CHECK(vnet_hal_dma_alloc(3 * 4096 + 1, 4096, &dma) == VNET_OK, "dma alloc");
	CHECK(dma.iova == (uint64_t)(uintptr_t)dma.va && dma.len >= 3 * 4096 + 1 &&
	      (dma.iova & 4095) == 0, "dma va/iova/len");
	for (size_t i = 0; i < dma.len; i++) {
		CHECK(((uint8_t *)dma.va)[i] == 0, "dma memory not zeroed at %lu", i);
		((uint8_t *)dma.va)[i] = 0x5a;   /* the next round must see zeroes again */
	}
	vnet_hal_dma_free(&dma);
	return 0;
}

static int check_memory(void)
{
	/*
	 * The first round may grow the heap's size classes (pages carved into
	 * blocks stay with the heap); the second must take no page for good.
	 */
	if (heap_round())
		return -1;
	size_t free1 = pmm_free_pages();
	if (heap_round())
		return -1;
	CHECK(pmm_free_pages() == free1, "pages leaked: %lu -> %lu", free1, pmm_free_pages());
	kprintf("selftest: memory ok (%lu pages free)\n", pmm_free_pages());
	return 0;
}

static int check_time(void)
{
	uint64_t t0 = timer_ns(), k0 = timer_ticks();
	delay_ms(30);
	uint64_t dt = timer_ns() - t0;
	CHECK(dt >= 30000000ull, "delay_ms(30) took %lu ns", dt);
	/* 30 ms at 100 Hz is 3 ticks; ask for one so a slow TCG host still passes. */
	CHECK(timer_ticks() > k0, "no timer tick in 30 ms (interrupts not delivered)");
	kprintf("selftest: time ok (30 ms delay measured %lu us, %lu ticks)\n", dt / 1000,
		timer_ticks() - k0);
	return 0;
}

static void msix_dummy(void *arg)
{
	(void)arg;
}

static int check_virtio_net(void)
{
	/* The kernel's own PCI table finds the function; the HAL glue gives
	 * its transport handle, through which the rest is exercised. */
	struct pci_dev *d = NULL;
	for (unsigned i = 0; i < pci_count() && !d; i++) {
		struct pci_dev *c = pci_get(i);
		if (c->vendor == 0x1af4 && (c->device == 0x1000 || c->device == 0x1041))
			d = c;
	}
	CHECK(d, "no virtio-net PCI function (1af4:1000 or 1af4:1041)");
	struct vnet_pci_dev *dev = orion_hal_pci_dev(d);
	struct vnet_pci_info info;
	vnet_hal_pci_dev_info(dev, &info);
	CHECK(info.vendor_id == d->vendor && info.device_id == d->device && !strcmp(info.name, d->name),
	      "HAL info %04x:%04x %s for %s", info.vendor_id, info.device_id, info.name, d->name);
	CHECK(vnet_hal_pci_cfg_read16(dev, 0) == 0x1af4, "config read through the HAL");

	/* virtio 1.x 4.1.4: vendor caps; cfg_type 1 = common config. */
	unsigned off = 0, nvendor = 0, common_bar = 6;
	uint32_t common_off = 0;
	while ((off = pci_cap_find(d, PCI_CAP_VENDOR, off)) != 0) {
		nvendor++;
		if (vnet_hal_pci_cfg_read8(dev, off + 3) == 1 && common_bar == 6) {
			common_bar = vnet_hal_pci_cfg_read8(dev, off + 4);
			common_off = vnet_hal_pci_cfg_read32(dev, off + 8);
		}
	}
	CHECK(nvendor >= 4 && common_bar < 6, "virtio vendor caps %u, common cfg bar %u", nvendor,
	      common_bar);
	volatile void *va;
	uint64_t len;
	int r = vnet_hal_pci_bar_map(dev, common_bar, &va, &len);
	CHECK(r == VNET_OK && va && len >= 4096, "bar_map(%u) = %d", common_bar, r);
	/* MMIO through the map: common cfg num_queues (offset 0x12) is >= 2 for a NIC. */
	CHECK(common_off + 0x38 <= len, "common cfg at %#x beyond BAR", common_off);
	uint16_t nq = vnet_mmio_read16((const volatile uint8_t *)va + common_off + 0x12);
	CHECK(nq >= 2 && nq <= 1024, "num_queues %u", nq);

	int n = vnet_hal_pci_msix_enable(dev, 2);
	if (!arch_msi_supported()) {
		/* No message target on this arch (e.g. riscv64 virt's PLIC): the
		 * HAL must refuse MSI-X, so the transport falls back to INTx. */
		CHECK(n == VNET_ENOTSUP, "msix_enable = %d without arch MSI support", n);
		kprintf("selftest: virtio-net %s %04x:%04x ok: %u vendor caps, common cfg bar %u, %u queues "
			"before feature negotiation, MSI-X refused (the arch has no MSI)\n", info.name,
			info.vendor_id, info.device_id, nvendor, common_bar, nq);
		return 0;
	}
	CHECK(n == 2, "msix_enable = %d", n);
	CHECK(vnet_hal_pci_msix_bind(dev, 0, msix_dummy, NULL) == VNET_OK &&
	      vnet_hal_pci_msix_bind(dev, 1, msix_dummy, NULL) == VNET_OK, "msix_bind");
	int vec0 = d->msix_vec[0], vec1 = d->msix_vec[1];
	CHECK(vec0 >= 0 && vec1 >= 0 && vec0 != vec1, "msix irqs %d %d", vec0, vec1);
	uint64_t want_addr;
	uint32_t want_data;
	CHECK(arch_msi_compose(d->msix_vec[0], &want_addr, &want_data) == 0, "arch_msi_compose(%d)", d->msix_vec[0]);
	uint32_t data = vnet_mmio_read32(&d->msix_table[4 * 0 + 2]);
	uint32_t alo = vnet_mmio_read32(&d->msix_table[4 * 0 + 0]);
	CHECK(data == want_data && alo == (uint32_t)want_addr, "MSI-X entry 0 data %#x addr %#x, want %#x %#x", data,
	      alo, want_data, (uint32_t)want_addr);
	vnet_hal_pci_msix_disable(dev);
	CHECK(!(pci_cfg_read16(d, d->msix_cap + 2) & (1u << 15)), "MSI-X still enabled");
	/* Both irqs were released: the allocator hands them out again. */
	int got[16], ngot = 0;
	bool seen0 = false, seen1 = false;
	while (ngot < 16 && !(seen0 && seen1) && (got[ngot] = arch_msi_alloc()) >= 0) {
		seen0 |= got[ngot] == vec0;
		seen1 |= got[ngot] == vec1;
		ngot++;
	}
	while (ngot > 0)
		arch_msi_free(got[--ngot]);
	CHECK(seen0 && seen1, "MSI irqs %#x %#x not released", vec0, vec1);

	kprintf("selftest: virtio-net %s %04x:%04x (%s) ok: %u vendor caps, common cfg bar %u "
		"(%#lx bytes at %p), %u queues before feature negotiation, msix %u entries\n", info.name, info.vendor_id,
		info.device_id, info.device_id == 0x1041 ? "modern" : "transitional", nvendor,
		common_bar, len, (const void *)va, nq, d->msix_size);
	return 0;
}

static int test_boot(void)
{
	CHECK(cmdline_has("selftest"), "command line not parsed");
	if (check_memory() || check_time() || arch_selftest_exception() || check_virtio_net())
		return -1;
	return 0;
}

/*
 * selftest=fault: an unhandled exception (arch_raise_fault; x86_64: #UD)
 * must produce the register dump and a panic that leaves QEMU with the
 * FAIL code; boot_test.sh --selftest fault checks exactly that.
 * Returning at all is the failure.
 */
static int test_fault(void)
{
	arch_raise_fault();
	kprintf("selftest: unhandled exception returned\n");
	return -1;
}

static const struct selftest boot_test = { "boot", test_boot };
static const struct selftest fault_test = { "fault", test_fault };

void selftest_builtins_init(void)
{
	selftest_register(&boot_test);
	selftest_register(&fault_test);
	selftest_ctrl_register();
	selftest_recover_register();
}
