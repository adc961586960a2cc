/*
 * orion-vnet virtio-mmio transport (version 2, VirtIO 1.2 §4.2): what a
 * host (the Orion kernel, a test) calls to turn a mapped virtio-mmio
 * register window into a struct vnet_transport_ops + ctx pair for the
 * device core (include/vnet/device.h).
 *
 * Typical use, for each window the platform describes (device tree
 * "virtio,mmio" node, ACPI LNRO0005, the kernel command line's
 * virtio_mmio.device=<size>@<addr>:<irq>):
 *
 *   struct vnet_mmio *m;
 *   // the host maps the window uncached first
 *   if (vnet_mmio_probe(va, size, "mmio@feb00000", &m) == VNET_OK &&
 *       vnet_mmio_device_type(m) == MY_TYPE) {
 *           // route the window's one interrupt line to a handler that
 *           // calls vnet_mmio_isr(m) first
 *           vnet_device_init(&dev, vnet_mmio_ops(), m, NULL);
 *           ... setup queues with VNET_VECTOR_NONE ...
 *           vnet_device_reset(&dev); vnet_mmio_remove(m);
 *   }
 *
 * Discovery and mapping are the host's: the transport needs no platform
 * service beyond vnet_hal.h (allocation, time, log).  There is no MSI-X:
 * one interrupt line per device, whose cause is InterruptStatus
 * (§4.2.3.4), so queues are set up with VNET_VECTOR_NONE.  Version 1
 * (legacy, §4.2.4) devices are refused, shared-memory regions are not
 * supported; VIRTIO_F_RING_RESET is (QueueReset, the reset_queue op).
 *
 * Concurrency: like every transport, the caller serialises all calls on one
 * device except the ops' notify() (data path, concurrent per queue) and
 * vnet_mmio_isr() (any context, including the interrupt handler).
 */
#ifndef VNET_VIRTIO_MMIO_H
#define VNET_VIRTIO_MMIO_H

#include <stdint.h>

#include "spec/virtio_mmio.h"
#include "transport.h"
#include "vnet_error.h"

/* One probed virtio-mmio device (opaque; owned by the transport). */
struct vnet_mmio;

/* Smallest window the transport accepts: the control registers (0x100
 * bytes); the configuration space is whatever lies beyond 0x100, up to
 * VNET_MMIO_WINDOW_MAX. */
#define VNET_MMIO_WINDOW_MIN 0x100u
#define VNET_MMIO_WINDOW_MAX 0x10000u

/*
 * Recognise the device behind a mapped register window: base is the
 * window's first byte (4-byte aligned, mapped uncached by the host), len
 * its size (>= VNET_MMIO_WINDOW_MIN; larger than VNET_MMIO_WINDOW_MAX is
 * used as that), name a short label for log lines (copied, 23 chars kept;
 * NULL = "mmio").  Checks MagicValue, Version and DeviceID in that order,
 * as VirtIO 1.2 §4.2.3.1.1 asks, and reads VendorID.  The device is not
 * reset here: the core does that in vnet_device_probe().  Any virtio device
 * type is accepted; the host picks the driver with vnet_mmio_device_type().
 *
 * Returns VNET_OK with *out set; VNET_ENODEV: DeviceID 0 (a placeholder
 * window: no device, and no log, since the spec says a driver MUST NOT
 * report an error for it), MagicValue not "virt" (logged), or every
 * register reading all-ones (nothing mapped there, logged);
 * VNET_ENOTSUP: Version 1, a legacy virtio-mmio device (logged, naming it);
 * VNET_EPROTO: any other Version (logged); VNET_EINVAL (NULL, misaligned
 * base, len below the minimum); VNET_ENOMEM.  *out is NULL on failure.
 * May sleep (allocation); probe context.
 */
int vnet_mmio_probe(volatile void *base, uint64_t len, const char *name, struct vnet_mmio **out);

/*
 * Undo probe: write Status 0 and wait (bounded, 1 s) for it to read back 0
 * (logged if it does not), then free m.  The caller has stopped using the
 * queues.  NULL-safe.  May sleep.
 */
void vnet_mmio_remove(struct vnet_mmio *m);

/* The ops table; ctx is the struct vnet_mmio * from vnet_mmio_probe(). */
const struct vnet_transport_ops *vnet_mmio_ops(void);

/*
 * The interrupt handler's first call: read InterruptStatus and acknowledge
 * the events it names by writing them to InterruptACK (§4.2.3.4), which
 * lets the device deassert the line.  Returns the acknowledged bits:
 * VIRTIO_MMIO_INT_VRING (look at every queue), VIRTIO_MMIO_INT_CONFIG
 * (re-read the configuration); 0 if the interrupt was not this device's.
 * Undefined bits are ignored and never acknowledged (§4.2.2.2), but count
 * a violation; an all-ones read (the device vanished) returns 0 and counts
 * one.  Any context, including an interrupt handler; no log.
 */
uint32_t vnet_mmio_isr(struct vnet_mmio *m);

/* Values read from the device that failed a check since probe (queue sizes
 * above the spec maximum, QueueReady not latching, undefined interrupt
 * bits, all-ones reads, a status with bits outside the byte...). */
unsigned vnet_mmio_violations(const struct vnet_mmio *m);

/* The virtio device type (DeviceID: 1 network, 2 block, ...; VirtIO 1.2
 * §5); 0 for NULL. */
uint32_t vnet_mmio_device_type(const struct vnet_mmio *m);

/* VendorID as the device reports it (0 for NULL). */
uint32_t vnet_mmio_vendor_id(const struct vnet_mmio *m);

/* The name given to probe, for log lines. */
const char *vnet_mmio_name(const struct vnet_mmio *m);

#endif
