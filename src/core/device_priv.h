/*
 * Private state of a device core instance (see include/vnet/device.h).
 * For src/core and for unit tests that embed one (vnet_device_init);
 * device layers see struct vnet_device as opaque.  Nothing outside
 * src/core/device.c writes these fields.
 */
#ifndef VNET_CORE_DEVICE_PRIV_H
#define VNET_CORE_DEVICE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnet/device.h"
#include "vnet/transport.h"

/* Where the device is in the spec 3.1.1 sequence. */
enum vnet_device_state {
	VNET_DEV_UNBOUND = 0,   /* vnet_device_init not called */
	VNET_DEV_BOUND,         /* ops bound, device not touched (or reset) */
	VNET_DEV_PROBED,        /* ACKNOWLEDGE|DRIVER set, offered features read */
	VNET_DEV_FEATURES_OK,   /* FEATURES_OK set and kept: queue setup allowed */
	VNET_DEV_LIVE,          /* DRIVER_OK set */
	VNET_DEV_FAILED,        /* FAILED set: only reset helps */
};

struct vnet_device {
	const struct vnet_transport_ops *ops;
	void *ctx;
	enum vnet_device_state state;
	uint8_t status;            /* shadow of every status bit we have set: we
	                            * only ever write supersets (spec 2.1.1) */
	uint64_t offered;          /* device features, read at probe */
	uint64_t features;         /* accepted features, after FEATURES_OK */
	uint64_t reset_timeout_ns;
	uint64_t queue_reset_timeout_ns;
	unsigned config_retries;
	uint32_t config_retries_seen;  /* generation changes absorbed (stats) */
	/* The device type's feature knowledge (vnet_device_opts). */
	const struct vnet_feature_rule *rules;
	size_t nrules;
	uint64_t known;
	const char *(*feature_name)(unsigned bit);
	char name[16];
};

#endif
