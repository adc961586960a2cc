/*
 * orion-vnet vhost-user front-end (src/transport/vhost_user/vhost_user.c):
 * the struct vnet_transport_ops that lets the device core drive a virtio
 * device living in another process (DPDK's vhost PMD, OVS-DPDK, ...) over
 * the vhost-user message protocol (QEMU docs/interop/vhost-user.rst).
 *
 * The protocol logic (handshake, request/reply state machine, memory
 * table, vrings, emulated status, reset) is here and freestanding.  What
 * it needs from an operating system comes through struct
 * vnet_vhost_os_ops below: a stream that carries messages with file
 * descriptors, "event" handles a kick or call is signalled through
 * (eventfds on Linux), hang-up detection and the memory region to share.
 * The Linux implementation over a Unix socket is platform/linux/
 * vhost_user_linux.c.
 *
 * The front-end knows no device type.  What a device layer adds on top
 * (virtio-net over vhost-user: which features the back-end cannot honour
 * without a control queue, a configuration space when the back-end has
 * none) comes through struct vnet_vhost_device_ops; platform/linux/
 * vnet_port.c is that layer for virtio-net.
 *
 * Lifecycle:
 *   vnet_vhost_create()      state, no I/O; takes ownership of os_ctx
 *   vnet_vhost_connect()     bounded: os->connect
 *   vnet_vhost_handshake()   per connection: GET_FEATURES, protocol
 *                            features, GET_QUEUE_NUM, SET_OWNER, config probe
 *   vnet_net_create(&vnet_vhost_ops, vu, ...)   the core drives the ops
 *   vnet_vhost_disconnect()  drop the connection (events closed); ops then
 *                            fail with VNET_ENODEV, reset() succeeds locally
 *   vnet_vhost_destroy()     also os->destroy(os_ctx)
 * See docs/vhost-user.md for the message sequence and the status mapping.
 *
 * Concurrency: every call and op except the transport's notify() is
 * control path, serialised by the caller (one thread per device).
 * notify() only signals a kick event that does not change while the
 * device is live.
 */
#ifndef VNET_VHOST_USER_H
#define VNET_VHOST_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport.h"
#include "vnet_error.h"

struct vnet_vhost;

/* What vnet_vhost_os_ops.peer() saw on an idle connection. */
enum vnet_vhost_peer {
	VNET_VHOST_PEER_QUIET = 0,  /* nothing to read, still connected */
	VNET_VHOST_PEER_HUNGUP,     /* hang-up or error condition on the stream */
	VNET_VHOST_PEER_CLOSED,     /* orderly close (end of stream) or a read error */
	VNET_VHOST_PEER_DATA,       /* bytes waiting: the back-end spoke unasked */
};

/*
 * The operating system under the front-end.  ctx is the os_ctx given to
 * vnet_vhost_create().  "Handles" (fds) are small non-negative ints the
 * stream can carry to the peer (SCM_RIGHTS on Linux); -1 is "none".  Every
 * op that waits is bounded by the timeout or deadline it is given.  All
 * ops are required.  None logs except where it says so; the front-end
 * logs the failure it returns.
 */
struct vnet_vhost_os_ops {
	/* Establish the one connection within timeout_ms (0: a single
	 * non-blocking attempt): connect as client (retrying while nobody
	 * listens) or accept one back-end as server.  VNET_OK, VNET_ENODEV
	 * (nobody there by the deadline), VNET_ENOMEM. */
	int (*connect)(void *ctx, uint32_t timeout_ms);
	/* Close the connection; idempotent. */
	void (*disconnect)(void *ctx);
	/* Send all len bytes; the nfds handles ride with the first byte.
	 * Waits at most timeout_ms while the stream is full.  VNET_OK;
	 * VNET_ETIMEDOUT (still full); VNET_ENODEV (peer gone) with *why set
	 * to a short reason for the log line. */
	int (*send)(void *ctx, const void *msg, size_t len, const int *fds, unsigned nfds,
		    uint32_t timeout_ms, const char **why);
	/* Receive exactly len bytes before deadline_ns (vnet_hal_time_ns()
	 * clock); any handle the peer sends along is closed (no reply the
	 * front-end asks for carries one).  VNET_OK, VNET_ETIMEDOUT,
	 * VNET_ENODEV (end of stream or error). */
	int (*recv)(void *ctx, void *buf, size_t len, uint64_t deadline_ns);
	/* Look at the idle connection without blocking or consuming. */
	enum vnet_vhost_peer (*peer)(void *ctx);
	/* A new event handle (an eventfd: counter, non-blocking).
	 * VNET_OK with *h set, VNET_ENOMEM. */
	int (*event_create)(void *ctx, int *h);
	/* Signal it (kick).  Data path: never sleeps, may run concurrently
	 * for different handles.  A saturated counter is success (a signal
	 * is pending anyway).  VNET_OK or VNET_EIO. */
	int (*event_signal)(void *ctx, int h);
	/* Close a handle from event_create(). */
	void (*event_close)(void *ctx, int h);
	/* The one memory region the back-end must map for DMA: handle to send
	 * with SET_MEM_TABLE, the address the driver uses for it (rings and
	 * buffers are addressed by it) and its size.  The handle stays the
	 * OS layer's.  VNET_OK or its error. */
	int (*mem_region)(void *ctx, int *h, uint64_t *addr, uint64_t *size);
	/* Release ctx (vnet_vhost_destroy, after the connection is closed). */
	void (*destroy)(void *ctx);
};

/*
 * What a device type adds to the front-end.  NULL function members mean
 * "nothing": the offer passes unchanged and a back-end without a
 * configuration space has an empty one.
 */
struct vnet_vhost_device_ops {
	/* Bytes read from offset 0 by the GET_CONFIG probe at handshake (a
	 * back-end may offer CONFIG yet fail every read): the head of the
	 * device's configuration that always exists.  0 = 4; at most
	 * VHOST_USER_MAX_CONFIG_SIZE. */
	uint32_t config_probe_len;
	/* Adjust the feature offer the core sees (vhost-user's own bits
	 * 30 and LOG_ALL already removed).  config_real: the back-end answers
	 * GET_CONFIG, else read_config below serves the configuration. */
	uint64_t (*offer)(void *arg, const struct vnet_vhost *vu, uint64_t features, bool config_real);
	/* Configuration bytes when the back-end has none: copy len bytes at
	 * offset, VNET_ERANGE outside the space. */
	int (*read_config)(void *arg, const struct vnet_vhost *vu, uint32_t offset, void *buf,
			   uint32_t len);
	/* Multiqueue with a control queue the front-end serves itself: the
	 * features as sent to the back-end (SET_FEATURES), from those the
	 * driver accepted — without the ones the device layer emulates
	 * (CTRL_VQ: the back-end never sees the control queue).  NULL: as
	 * accepted. */
	uint64_t (*wire)(void *arg, const struct vnet_vhost *vu, uint64_t features);
};

struct vnet_vhost_opts {
	const char *name;           /* for log lines (the socket path); copied */
	bool call_fds;              /* give the back-end call events (interrupt mode) */
	uint32_t reply_timeout_ms;  /* bound for every reply; 0 = 2000 */
	const struct vnet_vhost_os_ops *os;  /* required */
	void *os_ctx;
	const struct vnet_vhost_device_ops *device;  /* NULL: none */
	void *device_arg;
};

/* The ops table; ctx is the struct vnet_vhost *. */
extern const struct vnet_transport_ops vnet_vhost_ops;

/* VNET_OK with *out; VNET_EINVAL (no os ops or name), VNET_ENOMEM.  On
 * success vu owns os_ctx (released by vnet_vhost_destroy); on failure the
 * caller still does. */
int vnet_vhost_create(const struct vnet_vhost_opts *opts, struct vnet_vhost **out);
void vnet_vhost_destroy(struct vnet_vhost *vu);

/* Establish a connection within timeout_ms (0: one non-blocking attempt).
 * VNET_OK, VNET_ENODEV (nobody there / refused: timed out), VNET_EBUSY
 * (already connected), VNET_EINVAL. */
int vnet_vhost_connect(struct vnet_vhost *vu, uint32_t timeout_ms);
/* The per-connection prologue (before the core's probe).  On failure the
 * connection is dropped and the error returned (VNET_EPROTO, VNET_ETIMEDOUT,
 * VNET_ENODEV, VNET_ENOTSUP, VNET_EIO). */
int vnet_vhost_handshake(struct vnet_vhost *vu);
void vnet_vhost_disconnect(struct vnet_vhost *vu);

bool vnet_vhost_is_connected(const struct vnet_vhost *vu);
/* Look at the connection without blocking: a hang-up, reset or an
 * unsolicited message (the back-end has no business talking first on this
 * channel) drops the connection.  VNET_OK while alive, VNET_ENODEV once
 * down, VNET_EPROTO for an unsolicited message. */
int vnet_vhost_check(struct vnet_vhost *vu);
/* Call event of vring index (interrupt mode), -1 if none. */
int vnet_vhost_call_fd(const struct vnet_vhost *vu, uint16_t index);
/* The os_ctx given at create (for the OS layer's own accessors). */
void *vnet_vhost_os_ctx(const struct vnet_vhost *vu);
/* Queue pairs the back-end reported (GET_QUEUE_NUM, capped; 1 without
 * MQ), 0 before the handshake. */
uint16_t vnet_vhost_queue_pairs(const struct vnet_vhost *vu);
/* Features the back-end offered (raw, with bit 30) and the protocol
 * features negotiated, for diagnostics. */
uint64_t vnet_vhost_backend_features(const struct vnet_vhost *vu);
uint64_t vnet_vhost_protocol_features(const struct vnet_vhost *vu);
uint64_t vnet_vhost_kick_errors(const struct vnet_vhost *vu);

/*
 * Multiqueue: use the first `pairs` queue pairs (rings 0 .. 2 * pairs - 1)
 * and stop the rest, with SET_VRING_ENABLE on every programmed ring whose
 * state changes (rst "Ring states"; the front-end's answer to the
 * driver's VQ_PAIRS_SET).  Needs protocol features (VNET_ENOTSUP
 * without: rings are then all enabled by their kick fds).  VNET_EINVAL
 * for 0 or more pairs than rings programmed; the transport's errors
 * otherwise (the connection is dropped on a bad reply).  Control path.
 */
int vnet_vhost_enable_pairs(struct vnet_vhost *vu, uint16_t pairs);
/* Rings enabled now (for diagnostics and tests). */
uint16_t vnet_vhost_enabled_rings(const struct vnet_vhost *vu);

#endif
