/*
 * vhost-user front-end transport (Linux), internal to libvnet: the
 * struct vnet_transport_ops that lets the device core drive a virtio-net
 * device living in another process (DPDK vhost PMD, OVS-DPDK, ...) over a
 * Unix stream socket.  The port (vnet_port.c) owns one of these per port;
 * applications use include/vnet/vnet_port.h and never see this header.
 *
 * Lifecycle:
 *   vnet_vhost_create()      state, no I/O (server mode: bind + listen)
 *   vnet_vhost_connect()     client: connect, retrying until the timeout;
 *                            server: accept one back-end, bounded
 *   vnet_vhost_handshake()   per connection: GET_FEATURES, protocol
 *                            features, GET_QUEUE_NUM, SET_OWNER, config probe
 *   vnet_net_create(&vnet_vhost_ops, vu, ...)   the core drives the ops
 *   vnet_vhost_disconnect()  drop the connection (fds closed); ops then
 *                            fail with VNET_ENODEV, reset() succeeds locally
 *   vnet_vhost_destroy()
 * See docs/vhost-user.md for the message sequence and the status mapping.
 */
#ifndef VNET_PLATFORM_LINUX_VHOST_USER_H
#define VNET_PLATFORM_LINUX_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "vnet/transport.h"

struct vnet_vhost;

struct vnet_vhost_opts {
	const char *path;          /* Unix socket path (< 108 bytes) */
	bool server;               /* listen on path instead of connecting */
	bool call_fds;             /* give the back-end call eventfds (interrupt mode) */
	uint32_t reply_timeout_ms; /* bound for every reply; 0 = 2000 */
	const uint8_t *mac;        /* MAC to present when the back-end has no config space; NULL = none */
};

/* The ops table; ctx is the struct vnet_vhost *. */
extern const struct vnet_transport_ops vnet_vhost_ops;

int vnet_vhost_create(const struct vnet_vhost_opts *opts, struct vnet_vhost **out);
void vnet_vhost_destroy(struct vnet_vhost *vu);

/* Establish a connection within timeout_ms (0: one non-blocking attempt).
 * VNET_OK, VNET_ENODEV (nobody there / refused: timed out), VNET_EBUSY
 * (already connected). */
int vnet_vhost_connect(struct vnet_vhost *vu, uint32_t timeout_ms);
/* The per-connection prologue (before the core's probe).  On failure the
 * connection is dropped and the error returned (VNET_EPROTO, VNET_ETIMEDOUT,
 * VNET_ENODEV, VNET_ENOTSUP). */
int vnet_vhost_handshake(struct vnet_vhost *vu);
void vnet_vhost_disconnect(struct vnet_vhost *vu);

bool vnet_vhost_is_connected(const struct vnet_vhost *vu);
/* Socket fd while connected (poll it for POLLIN/POLLHUP), else -1. */
int vnet_vhost_socket_fd(const struct vnet_vhost *vu);
/* Listening fd in server mode, else -1. */
int vnet_vhost_listen_fd(const struct vnet_vhost *vu);
/* Look at the socket without blocking: a hang-up, reset or an unsolicited
 * message (the back-end has no business talking first on this channel)
 * drops the connection.  VNET_OK while alive, VNET_ENODEV once down. */
int vnet_vhost_check(struct vnet_vhost *vu);
/* Call eventfd of vring index (interrupt mode), -1 if none. */
int vnet_vhost_call_fd(const struct vnet_vhost *vu, uint16_t index);
/* Features the back-end offered (raw, with bit 30) and the protocol
 * features negotiated, for diagnostics. */
uint64_t vnet_vhost_backend_features(const struct vnet_vhost *vu);
uint64_t vnet_vhost_protocol_features(const struct vnet_vhost *vu);
uint64_t vnet_vhost_kick_errors(const struct vnet_vhost *vu);

#endif
