/*
 * The table of virtio-mmio windows (see orion/virtio_mmio.h).
 */
#include <stdint.h>

#include "orion/kprintf.h"
#include "orion/virtio_mmio.h"

static struct orion_virtio_mmio_window windows[ORION_VIRTIO_MMIO_MAX];
static unsigned nwindows;

int orion_virtio_mmio_add(uint64_t base, uint64_t size, int irq)
{
	if (!base || (base & 3) || size < 0x100) {
		kprintf("virtio-mmio: ignoring window %#lx size %#lx (base 0 or unaligned, or smaller than 0x100)\n",
			base, size);
		return -1;
	}
	for (unsigned i = 0; i < nwindows; i++) {
		if (windows[i].base == base) {
			kprintf("virtio-mmio: window %#lx registered twice, keeping the first\n", base);
			return -1;
		}
	}
	if (nwindows == ORION_VIRTIO_MMIO_MAX) {
		kprintf("virtio-mmio: ignoring window %#lx: at most %u windows\n", base, ORION_VIRTIO_MMIO_MAX);
		return -1;
	}
	windows[nwindows++] = (struct orion_virtio_mmio_window){ base, size, irq < 0 ? -1 : irq };
	return 0;
}

unsigned orion_virtio_mmio_count(void)
{
	return nwindows;
}

const struct orion_virtio_mmio_window *orion_virtio_mmio_get(unsigned i)
{
	return i < nwindows ? &windows[i] : NULL;
}
