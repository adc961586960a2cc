/*
 * vhost-user on Linux, internal to libvnet: the Unix-socket implementation
 * of the front-end's OS ops (include/vnet/vhost_user.h, struct
 * vnet_vhost_os_ops) and the virtio-net device layer the port adds on top.
 * The port (vnet_port.c) owns one front-end per port; applications use
 * include/vnet/vnet_port.h and never see this header.
 *
 * Lifecycle:
 *   vnet_vhost_linux_open()  socket state (server mode: bind + listen) and
 *                            the front-end over it, no I/O yet
 *   vnet_vhost_connect() / vnet_vhost_handshake() / vnet_net_create(
 *       &vnet_vhost_ops, vu, ...) / vnet_vhost_disconnect()   (the core's)
 *   vnet_vhost_destroy()     closes everything, unlinks a server socket
 */
#ifndef VNET_PLATFORM_LINUX_VHOST_USER_LINUX_H
#define VNET_PLATFORM_LINUX_VHOST_USER_LINUX_H

#include <stdbool.h>
#include <stdint.h>

#include "vnet/vhost_user.h"

struct vnet_vhost_linux_opts {
	const char *path;          /* Unix socket path (< 108 bytes) */
	bool server;               /* listen on path instead of connecting */
	bool call_fds;             /* give the back-end call eventfds (interrupt mode) */
	uint32_t reply_timeout_ms; /* bound for every reply; 0 = 2000 */
	/* The device type's layer (NULL: none).  For virtio-net:
	 * &vnet_port_vhost_net with a struct vnet_port_vhost_net_cfg. */
	const struct vnet_vhost_device_ops *device;
	void *device_arg;
};

/* The socket OS ops; their ctx comes from vnet_vhost_linux_open(). */
extern const struct vnet_vhost_os_ops vnet_vhost_linux_ops;

/*
 * Create the socket state (server: remove a stale socket at path, bind,
 * listen) and a front-end over it.  VNET_OK with *out, VNET_EINVAL (no or
 * too long a path), VNET_ENODEV (cannot listen; logged), VNET_ENOMEM.
 */
int vnet_vhost_linux_open(const struct vnet_vhost_linux_opts *opts, struct vnet_vhost **out);

/* Socket fd while connected (poll it for POLLIN/POLLHUP), else -1. */
int vnet_vhost_socket_fd(const struct vnet_vhost *vu);
/* Listening fd in server mode, else -1. */
int vnet_vhost_listen_fd(const struct vnet_vhost *vu);

/*
 * virtio-net over vhost-user (vnet_port.c): what the port tells the
 * front-end about its device type.  offer() removes what a vhost-user
 * back-end cannot do for virtio-net (the control queue and MQ, which
 * needs it) and, when the back-end has no configuration space, what a
 * local one cannot honestly answer; read_config() serves that local
 * config (MAC when given, link up, the back-end's queue pairs).
 */
struct vnet_port_vhost_net_cfg {
	bool have_mac;
	uint8_t mac[6];            /* presented when the back-end has no config space */
};
extern const struct vnet_vhost_device_ops vnet_port_vhost_net;

#endif
