/*
 * orion-vnet device core: the spec's device lifecycle, written once above
 * the transport ops (include/vnet/transport.h).
 *
 * Sequence (spec 3.1.1 "Driver Requirements: Device Initialization"):
 *
 *   vnet_device_create()          allocate, bind ops + ctx, no device access
 *   vnet_device_probe()           1 reset (bounded wait for status 0)
 *                                 2 ACKNOWLEDGE  3 DRIVER
 *                                 4a read device features
 *   [vnet_device_offered(), vnet_device_read_config(): the driver may look
 *    at features and config before deciding what it wants]
 *   vnet_device_negotiate()       4b write accepted features
 *                                 5 FEATURES_OK  6 re-read: still set?
 *   vnet_device_setup_queue() ... 7 device-specific setup (queues)
 *   vnet_device_driver_ok()       8 DRIVER_OK: the device is live
 *
 * negotiate() probes first if probe() was not called.  Any failure along
 * the way sets FAILED in device status (spec 3.1.1: "the driver SHOULD set
 * the FAILED status bit ... MUST NOT continue"); recovery is
 * vnet_device_reset() and starting over.
 *
 * Every wait on the device is bounded by vnet_hal_time_ns() with the
 * timeouts in struct vnet_device_opts, polling with vnet_hal_relax().
 *
 * Storage: struct vnet_device is opaque; device layers (src/net) allocate
 * one with vnet_device_create() and use only the functions below.  Its
 * definition (src/core/device_priv.h) is for src/core and for unit tests
 * that embed one with vnet_device_init().
 * Concurrency: the caller serialises every call on one device (one control
 * thread); only vnet_device_notify() may run concurrently, per queue.
 */
#ifndef VNET_DEVICE_H
#define VNET_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport.h"
#include "virtqueue.h"
#include "vnet_error.h"

struct vnet_device;
struct vnet_feature_rule;

struct vnet_device_opts {
	/* Bound for a device reset to read back status 0; 0 = default (1 s). */
	uint64_t reset_timeout_ns;
	/* Bound for a single-queue reset (RING_RESET); 0 = default (1 s). */
	uint64_t queue_reset_timeout_ns;
	/* Generation-checked config read attempts; 0 = default (100). */
	unsigned config_retries;
	/* Name for log lines (copied, 15 chars kept); NULL = transport name. */
	const char *name;
	/* The device type's feature knowledge, handed to negotiation
	 * (vnet/features.h): its dependency table (rules[0..nrules), static,
	 * not copied; NULL = none), the device-type bits it knows (outside
	 * 24..43; 0 = not given: every such bit the caller wants), and a name
	 * function for log lines (NULL: device-independent names, other bits
	 * as bit<N>).  virtio-net passes vnet_net_feature_rules(),
	 * VNET_FEATURES_NET_KNOWN and vnet_feature_name. */
	const struct vnet_feature_rule *rules;
	size_t nrules;
	uint64_t known;
	const char *(*feature_name)(unsigned bit);
};

#define VNET_DEVICE_RESET_TIMEOUT_NS_DEFAULT 1000000000ull
#define VNET_DEVICE_CONFIG_RETRIES_DEFAULT 100u

/*
 * Allocate a device (vnet_hal_zalloc) and bind it to its transport.  No
 * device access.  opts may be NULL (defaults).  Returns VNET_OK with *out
 * set; VNET_EINVAL if a required op is missing; VNET_ENOMEM.  Context:
 * control path.
 */
int vnet_device_create(const struct vnet_transport_ops *ops, void *ctx, const struct vnet_device_opts *opts,
		       struct vnet_device **out);
/* Free a device from vnet_device_create().  No device access: reset it
 * first (vnet_device_reset) if it may still use memory.  NULL-safe. */
void vnet_device_destroy(struct vnet_device *dev);

/*
 * The same as create for storage the caller provides (code that sees
 * src/core/device_priv.h: the core itself and unit tests).  Returns VNET_OK,
 * or VNET_EINVAL if a required op is missing.
 */
int vnet_device_init(struct vnet_device *dev, const struct vnet_transport_ops *ops, void *ctx,
		     const struct vnet_device_opts *opts);

/*
 * Steps 1-4a: reset (bounded), ACKNOWLEDGE, DRIVER, read device features.
 * Returns VNET_OK, VNET_ETIMEDOUT (reset never completed; logged), or a
 * transport error.  May sleep.
 */
int vnet_device_probe(struct vnet_device *dev);

/*
 * Steps 4b-6: accept offered & wanted & known closed under the device
 * type's dependency rules (opts.rules, vnet_features_negotiate), write them, set FEATURES_OK and check it
 * stuck.  Probes first if needed.
 * Returns VNET_OK; VNET_ENOTSUP if the device does not offer VERSION_1;
 * VNET_EIO if the device refused FEATURES_OK (the features are logged);
 * VNET_ETIMEDOUT from the reset; transport errors.  On any failure FAILED
 * is set.  May sleep.
 */
int vnet_device_negotiate(struct vnet_device *dev, uint64_t wanted);

/* Feature words: offered by the device (valid after probe) and accepted
 * (valid after a successful negotiate; 0 before). */
uint64_t vnet_device_offered(const struct vnet_device *dev);
uint64_t vnet_device_features(const struct vnet_device *dev);
bool vnet_device_has_feature(const struct vnet_device *dev, unsigned bit);

/*
 * Read len bytes of device-specific configuration at offset into buf,
 * retrying until config_generation reads the same before and after the
 * copy (spec 2.5.1 "Driver Requirements: Device Configuration Space"), so
 * multi-field reads are consistent.  Allowed after probe (spec 3.1.1 step
 * 4: the driver MAY read config before accepting features).
 * Returns VNET_OK; VNET_ETIMEDOUT if the generation did not settle within
 * opts.config_retries attempts (logged); VNET_ERANGE from the transport.
 */
int vnet_device_read_config(struct vnet_device *dev, uint32_t offset, void *buf, uint32_t len);

/* Number of queues the transport reports (0 = unknown) and the maximum size
 * of one queue (0 = not available). */
uint16_t vnet_device_num_queues(struct vnet_device *dev);
uint16_t vnet_device_queue_max_size(struct vnet_device *dev, uint16_t index);

/*
 * Step 7 for one queue: check index and size against the device
 * (0 < size <= queue_max_size; index < num_queues when known), check the
 * layout matches the negotiated RING_PACKED, hand the ring addresses of vq
 * and the MSI-X vector (VNET_VECTOR_NONE for none) to the transport, then
 * enable the queue.  Allowed after FEATURES_OK and before DRIVER_OK, or
 * after DRIVER_OK for a queue reset with vnet_device_reset_queue().
 * Returns VNET_OK; VNET_EINVAL (size too big, layout mismatch, wrong
 * state); VNET_ENODEV (queue not available); transport errors (e.g. VNET_EIO
 * for a vector the device could not map).  The device is not marked FAILED:
 * the caller may retry with a smaller size or no vector.  May sleep.
 */
int vnet_device_setup_queue(struct vnet_device *dev, struct vnet_vq *vq, uint16_t vector);

/* The same with explicit parameters (for transports and tests that have
 * ring addresses without a struct vnet_vq).  layout_packed: the ring is
 * packed. */
int vnet_device_setup_queue_raw(struct vnet_device *dev, const struct vnet_queue_setup *q,
				bool layout_packed);

/*
 * Reset one queue (spec 2.6.1 "Virtqueue Reset"), bounded by
 * opts.queue_reset_timeout_ns.  VNET_ENOTSUP unless VIRTIO_F_RING_RESET
 * was negotiated and the transport implements it; VNET_ETIMEDOUT.  After
 * success the caller detaches buffers, vnet_vq_reset()s the ring and may
 * set it up again with vnet_device_setup_queue().  May sleep.
 */
int vnet_device_reset_queue(struct vnet_device *dev, uint16_t index);

/* Route configuration-change notifications to an MSI-X vector (PCI).
 * VNET_ENOTSUP if the transport has no such register. */
int vnet_device_set_config_vector(struct vnet_device *dev, uint16_t vector);

/*
 * Step 8: set DRIVER_OK.  Returns VNET_OK, VNET_EINVAL if negotiation did
 * not complete, VNET_EIO if the device reports DEVICE_NEEDS_RESET or
 * dropped FEATURES_OK right after.  May sleep.
 */
int vnet_device_driver_ok(struct vnet_device *dev);

/*
 * Doorbell for vq (transport notify with vnet_vq_notify_data()), to be
 * called after vnet_vq_kick_prepare() returned true.  Context: data path,
 * no sleep; concurrent calls for different queues are fine.  Does nothing
 * before DRIVER_OK (spec 3.1.1: no notifications before DRIVER_OK).
 */
void vnet_device_notify(struct vnet_device *dev, struct vnet_vq *vq);

/* Set FAILED (spec 2.1: the driver has given up on the device); the
 * device must be reset before it is used again.  Never fails. */
void vnet_device_fail(struct vnet_device *dev);

/*
 * Reset the device and wait (bounded) for status to read 0; forgets the
 * negotiated features.  Queues must be torn down or re-set-up afterwards.
 * Returns VNET_OK or VNET_ETIMEDOUT (logged).  May sleep.
 */
int vnet_device_reset(struct vnet_device *dev);

/* Current device status byte, or a negative vnet_err from the transport. */
int vnet_device_status(struct vnet_device *dev);

/* True if the device set DEVICE_NEEDS_RESET (spec 2.1.2), or its status
 * cannot be read (a gone device needs a reset just as much). */
bool vnet_device_needs_reset(struct vnet_device *dev);

/* True after a successful vnet_device_driver_ok() and before reset/fail. */
bool vnet_device_is_live(const struct vnet_device *dev);

/* Name used in log lines. */
const char *vnet_device_name(const struct vnet_device *dev);

#endif
