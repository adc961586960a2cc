/*
 * orion-vnet: one error space for the whole driver.
 *
 * Functions that can fail return VNET_OK (0) or a negative enum vnet_err.
 * Burst calls return counts instead and report trouble through counters and
 * the queue's broken latch.
 */
#ifndef VNET_ERROR_H
#define VNET_ERROR_H

enum vnet_err {
	VNET_OK = 0,
	VNET_EINVAL = -1,     /* bad argument from the caller */
	VNET_ENOMEM = -2,     /* the HAL could not provide memory */
	VNET_ENOSPC = -3,     /* ring (or pool) full: try again after reclaiming */
	VNET_EBROKEN = -4,    /* queue or device latched broken: the device misbehaved */
	VNET_ETIMEDOUT = -5,  /* the device did not answer within the bound */
	VNET_ENOTSUP = -6,    /* feature or operation not offered/negotiated */
	VNET_EIO = -7,        /* device refused (e.g. FEATURES_OK not kept, DEVICE_NEEDS_RESET) */
	VNET_EAGAIN = -8,     /* nothing to do right now */
	VNET_ERANGE = -9,     /* a value from the device is out of its legal range */
	VNET_EPROTO = -10,    /* malformed message or reply (vhost-user, control queue) */
	VNET_ENODEV = -11,    /* no such device / transport gone */
	VNET_EBUSY = -12,     /* object in use (e.g. queue started) */
};

/* Human-readable name for an error code; never NULL. */
const char *vnet_strerror(int err);

#endif
