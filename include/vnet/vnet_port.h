/*
 * orion-vnet user-space port: a virtio-net device reached over vhost-user
 * (DPDK's vhost PMD, Open vSwitch with DPDK, any vhost-user back-end),
 * driven entirely from the calling process.  Linux only (libvnet).
 *
 *   struct vnet_port_opts o = { .socket_path = "/tmp/vhost.sock" };
 *   struct vnet_port *port;
 *   if (vnet_port_open(&o, &port) != VNET_OK) ... vnet_strerror() ...
 *   struct vnet_net *net = vnet_port_net(port);
 *   n = vnet_net_rx_burst(net, 0, pkts, 32);      // zero-copy, include/vnet/net.h
 *   // or, NAPI style: n = vnet_port_poll(port, 0, 64, on_frame, me, &more);
 *   ...
 *   vnet_port_close(port);
 *
 * The data path is the virtio-net burst API of include/vnet/net.h on the
 * struct vnet_net this port owns: no allocation, lock or system call per
 * packet, except the eventfd write of a kick when the back-end asks for one.
 *
 * Back-end loss: when the back-end closes the socket or dies, the port
 * notices (in vnet_port_service(), or when a kick/config operation fails),
 * takes back every buffer the device held (none leaked, none freed twice;
 * struct vnet_port_stats says how many were in flight), and then:
 *   client mode: reconnects (every reconnect_ms) and resumes when the
 *                back-end returns;
 *   server mode: accepts the next back-end that connects.
 * While the port is down, rx_burst returns 0 and tx_burst accepts nothing;
 * the struct vnet_net pointer and the packet pool stay valid throughout,
 * so packets the application holds remain its own.
 *
 * Concurrency: one thread per port for the data path and service calls
 * (the pool is shared by the port's queue pairs and not locked).
 */
#ifndef VNET_PORT_H
#define VNET_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include "net.h"
#include "vnet_error.h"

struct vnet_port; /* opaque */

struct vnet_port_opts {
	const char *socket_path;   /* required */
	bool server;               /* listen on socket_path; default: connect to it */
	uint16_t queue_pairs;      /* 0 = 1 */
	uint16_t queue_size;       /* 0 = 256 */
	enum vnet_net_ring ring;   /* split, packed, or auto (packed if offered) */
	bool interrupt_mode;       /* ask for call eventfds and sleep on them; default poll mode */
	uint32_t pool_size;        /* 0 = sized from queues */
	uint32_t connect_timeout_ms; /* open(): how long to wait for the back-end; 0 = 5000 */
	uint32_t reconnect_ms;     /* client mode: retry period after loss; 0 = 1000 */
	/* recovery (docs/reliability.md): a back-end that stays connected but
	 * stops processing is detected by the TX watchdog after
	 * stall_timeout_ms (0 = 2000, UINT32_MAX = off) with transmit work
	 * pending and no completion, counted as VNET_RECOVER_BACKEND_STALL
	 * and recovered by a device reset + re-init over the same connection
	 * (vnet/net_recover.h: back-off, and after the limit the back-end is
	 * disconnected as a failed one). */
	uint32_t stall_timeout_ms;
	struct vnet_net_opts net;  /* further virtio-net options (offloads, in-order ...);
	                            * queue_pairs/queue_size/ring above take precedence;
	                            * net.rx_refill_batch 0 means 8 for a port (1 = every burst) */
};

struct vnet_port_stats {
	uint64_t connects;          /* successful bring-ups, including the first */
	uint64_t disconnects;       /* back-end losses noticed */
	uint64_t inflight_reclaimed;/* buffers taken back from the device at losses */
	uint64_t kick_errors;       /* eventfd writes that failed */
	/* Interrupt mode: service() calls that slept in poll() (timeout > 0,
	 * rx armed, nothing pending), and how many of those sleeps a call
	 * eventfd ended (the back-end signalled a used buffer) rather than the
	 * timeout or the socket.  Zero in poll mode. */
	uint64_t intr_sleeps;
	uint64_t intr_wakeups;
	/* recovery: back-end stalls acted on (vnet_net_recover_get_stats on
	 * vnet_port_net() has the details), and back-ends given up on */
	uint64_t stalls;
	uint64_t stall_gave_up;
};

/*
 * Connect (or listen and accept), negotiate, set up memory and rings, start.
 * Returns VNET_OK, VNET_EINVAL (bad options), VNET_ENODEV (socket missing
 * or refused, after connect_timeout_ms), VNET_ENOTSUP (back-end lacks
 * VERSION_1 or something required), VNET_EPROTO (malformed reply; the
 * reason is logged), VNET_ETIMEDOUT (no reply), VNET_ENOMEM.
 */
int vnet_port_open(const struct vnet_port_opts *opts, struct vnet_port **out);

/* The virtio-net device behind the port (valid until vnet_port_close). */
struct vnet_net *vnet_port_net(struct vnet_port *port);

/* True while the back-end is connected and the device is live. */
bool vnet_port_is_up(const struct vnet_port *port);

/*
 * Housekeeping: notice back-end loss, reconnect/accept, handle
 * configuration changes.  Non-blocking when timeout_ms == 0; otherwise
 * waits up to timeout_ms for a socket event, or (interrupt mode) for a
 * used-buffer notification on any queue.  Returns VNET_OK, or the error
 * that took the port down (the port stays usable and keeps trying).
 * Call it from the data-path thread every few milliseconds in poll mode.
 */
int vnet_port_service(struct vnet_port *port, int timeout_ms);

/*
 * vnet_port_service() that also watches up to 8 of the caller's own fds
 * (a TAP, a timer, a control socket): they are polled in the same poll()
 * as the port's socket and call eventfds, so an interrupt-mode
 * application sleeps in one place and wakes for either side.  Each
 * fds[i].revents is set from that poll (0 when the fd was not ready).
 * While the port is down the caller's fds are not polled (revents 0) and
 * the call waits as vnet_port_service() does, at most timeout_ms.
 * VNET_EINVAL for more than 8 fds or fds == NULL with nfds > 0.
 */
struct pollfd; /* <poll.h> */
int vnet_port_service_fds(struct vnet_port *port, int timeout_ms, struct pollfd *fds, unsigned nfds);

/*
 * Data path in the NAPI style: receive at most `budget` frames from queue
 * pair qp, hand each to fn(arg, pkt) (fn owns it: vnet_net_pkt_free() or
 * keep), reclaim completed transmissions, and say in *more (may be NULL)
 * whether to call again before sleeping.  This is vnet_net_poll()
 * (include/vnet/net.h) on the port's device: in interrupt mode a poll that
 * drains the ring re-arms its used-buffer notifications with the
 * lost-wake-up re-check, so vnet_port_service() can then sleep on the call
 * eventfd; in poll mode notifications are left off.  Returns the frames
 * handed to fn; 0 with *more false while the port is down.  An application
 * may use vnet_net_rx_burst() instead (service() then arms the queues
 * itself before it sleeps).  Same thread as the rest of the data path.
 */
unsigned vnet_port_poll(struct vnet_port *port, uint16_t qp, unsigned budget, vnet_net_rx_fn fn, void *arg,
			bool *more);

void vnet_port_get_stats(const struct vnet_port *port, struct vnet_port_stats *st);

/* Stop: reset the device, take every buffer back, close the socket, free. */
void vnet_port_close(struct vnet_port *port);

#endif
