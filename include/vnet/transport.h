/*
 * orion-vnet transport ops: the small set of primitive register-level
 * operations a virtio transport (PCI modern, MMIO, vhost-user) provides to
 * the device core.
 *
 * What belongs here: single accesses the spec defines per transport
 * (device/driver feature words, device status, config generation and
 * config bytes, per-queue size/addresses/enable/reset, the doorbell and
 * MSI-X vector programming).  What does not: any multi-step sequence.  The
 * spec's init sequence (reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK,
 * queues, DRIVER_OK), the bounded wait for reset completion, the
 * generation-checked config read loop and feature negotiation are written
 * once in src/core/device.c above these ops, so every transport gets them
 * right by construction.
 *
 * One const table per transport kind; the per-device state is the opaque
 * ctx pointer handed to every op.  Ops never log per call and never wait on
 * the device without a bound (the only waits are the core's).
 *
 * Calling context, unless an op says otherwise: setup path, process
 * context, may sleep (vhost-user ops do socket I/O), and the caller
 * serialises all ops on one device (the core holds no lock; src/net calls
 * the device core from one control thread).  notify() is the exception: it
 * is on the data path and may be called concurrently for different queues.
 *
 * Errors: ops returning int return VNET_OK or a negative enum vnet_err
 * (VNET_ENODEV when the transport is gone, e.g. vhost-user socket closed;
 * VNET_EINVAL for an argument the transport cannot represent).
 */
#ifndef VNET_TRANSPORT_H
#define VNET_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "vnet_error.h"

/* "No MSI-X vector": VIRTIO_MSI_NO_VECTOR (spec 4.1.5.1.2 "MSI-X Vector
 * Configuration").  Also what a PCI device reads back from
 * queue_msix_vector/config_msix_vector when it could not map the vector. */
#define VNET_VECTOR_NONE 0xffffu

/* Everything the transport needs to make one virtqueue usable
 * (spec 4.1.5.1.3 "Virtqueue Configuration" for PCI, 4.2.3.2 for MMIO). */
struct vnet_queue_setup {
	uint16_t index;      /* virtqueue index */
	uint16_t size;       /* queue size chosen by the driver, <= queue_max_size */
	uint64_t desc;       /* device address of the descriptor area */
	uint64_t driver;     /* device address of the driver area (avail / driver event) */
	uint64_t device;     /* device address of the device area (used / device event) */
	uint16_t vector;     /* MSI-X vector for this queue, VNET_VECTOR_NONE for none */
};

struct vnet_transport_ops {
	/* Short transport name for logs ("pci", "mmio", "vhost-user"). */
	const char *name;

	/*
	 * Device-independent feature bits (24..43, spec 6 "Reserved Feature
	 * Bits") this transport can carry, as VNET_BIT() mask.  The core
	 * never accepts a bit in that range outside this mask (spec 2.2.1:
	 * the driver MUST NOT accept features "not supported for the
	 * specific transport"), e.g. SR_IOV/ADMIN_VQ/NOTIF_CONFIG_DATA are
	 * PCI-only.  Bits outside 24..43 are unaffected.
	 */
	uint64_t transport_features;
	/*
	 * A legacy (virtio 0.9.5) interface: a device that does not offer
	 * VIRTIO_F_VERSION_1 is then driven the legacy way (feature bits
	 * 0..31, no FEATURES_OK step, §3.1.2; split rings with the used ring
	 * 4096-aligned, §2.7.2 legacy).  false for every modern transport.
	 */
	bool legacy;

	/*
	 * All 64 device feature bits (spec 2.2).  Transports with a selector
	 * window (PCI device_feature_select, MMIO DeviceFeaturesSel) read
	 * both halves.  Required.
	 */
	int (*get_device_features)(void *ctx, uint64_t *features);

	/* Write the accepted 64 driver feature bits (both halves).  Called
	 * once per negotiation, before FEATURES_OK.  The transport may keep
	 * a copy (e.g. to know whether NOTIFICATION_DATA is on for notify).
	 * Required. */
	int (*set_driver_features)(void *ctx, uint64_t features);

	/* Device status byte (0..255) or a negative vnet_err.  Required. */
	int (*get_status)(void *ctx);

	/* Write the device status byte.  The core only ever writes a superset
	 * of what it wrote before (spec 2.1.1: the driver MUST NOT clear a
	 * status bit); a 0 is never written through here, see reset.
	 * Required. */
	int (*set_status)(void *ctx, uint8_t status);

	/*
	 * Start a device reset (write 0 to device status; vhost-user: its
	 * reset/ownership messages).  Must not wait for completion: the core
	 * polls get_status() for 0 with a bound (spec 2.4.2: reset is
	 * complete when device status reads 0).  A transport whose reset is
	 * synchronous simply returns with status already 0.  Required.
	 */
	int (*reset)(void *ctx);

	/*
	 * Configuration generation (spec 2.5: changes whenever two config
	 * reads could see different versions).  Transports without one
	 * (vhost-user) return a constant.  Required.
	 */
	uint32_t (*config_generation)(void *ctx);

	/*
	 * Copy len raw bytes of the device-specific configuration space from
	 * offset into buf (little-endian, as the device presents it).  No
	 * generation handling here: the core wraps this in the retry loop.
	 * VNET_ERANGE if [offset, offset+len) is outside the config space the
	 * transport can reach.  Required.
	 */
	int (*read_config)(void *ctx, uint32_t offset, void *buf, uint32_t len);

	/* Number of virtqueues the device supports (PCI num_queues);
	 * 0 if the transport cannot tell (MMIO): then queue_max_size() of an
	 * index is the only test.  Required. */
	uint16_t (*num_queues)(void *ctx);

	/* Maximum size of queue index (PCI queue_size as reset, MMIO
	 * QueueNumMax); 0 means the queue is not available.  Required. */
	uint16_t (*queue_max_size)(void *ctx, uint16_t index);

	/*
	 * Program one queue: select, size, the three area addresses and (PCI)
	 * the MSI-X vector, checked by read-back: if the device reads back
	 * VNET_VECTOR_NONE for a requested vector, return VNET_EIO (spec
	 * 4.1.5.1.2 "MSI-X Vector Configuration": a mapping failure reads
	 * back as NO_VECTOR).
	 * Must not enable the queue.  Only between FEATURES_OK and DRIVER_OK,
	 * or after reset_queue when VIRTIO_F_RING_RESET was negotiated.
	 * Required.
	 */
	int (*setup_queue)(void *ctx, const struct vnet_queue_setup *q);

	/* Make a programmed queue live (PCI queue_enable = 1, MMIO QueueReady
	 * = 1, vhost-user kick/call fds + SET_VRING_ENABLE).  NULL if the
	 * transport has no separate enable step. */
	int (*enable_queue)(void *ctx, uint16_t index);

	/*
	 * Reset one queue (spec 2.6.1 "Virtqueue Reset", needs
	 * VIRTIO_F_RING_RESET).  Polled by the core: the first call starts
	 * the reset; each call returns VNET_OK once the device reports the
	 * queue reset (PCI, spec 4.1.4.3: queue_reset reads back 0 after 1 was written), VNET_EAGAIN while it is
	 * still in progress.  Calling again while in progress is harmless.
	 * NULL if the transport cannot reset single queues.
	 */
	int (*reset_queue)(void *ctx, uint16_t index);

	/*
	 * Available-buffer notification (doorbell) for queue index.  data is
	 * vnet_vq_notify_data() of the queue; the transport sends it when
	 * VIRTIO_F_NOTIFICATION_DATA was negotiated and the plain index (or
	 * its NOTIF_CONFIG_DATA value) otherwise.
	 * Context: data path; must not sleep; may run concurrently for
	 * different queues; the caller serialises per queue.  Required.
	 */
	void (*notify)(void *ctx, uint16_t index, uint32_t data);

	/*
	 * Route configuration-change notifications to MSI-X vector (PCI
	 * config_msix_vector, checked by read-back: VNET_EIO if it reads back
	 * VNET_VECTOR_NONE for a real vector).  NULL where there is no such
	 * register (MMIO, vhost-user).
	 */
	int (*set_config_vector)(void *ctx, uint16_t vector);
};

#endif
