/*
 * The user-space port (include/vnet/vnet_port.h): a virtio-net device
 * (src/net) driven over the vhost-user front-end (src/transport/vhost_user,
 * over the Linux socket ops of vhost_user_linux.c), plus the connection
 * life cycle around it.
 *
 * The port is the virtio-net-over-vhost-user layer, so what is net-specific
 * about vhost-user lives here (vnet_port_vhost_net): a vhost-user back-end
 * does not serve the control queue, so the port serves it itself, as
 * DPDK's virtio-user does (port_mq_*): when the back-end offers MQ with
 * more than one pair and protocol features, the driver sees CTRL_VQ and
 * MQ, its VQ_PAIRS_SET becomes SET_VRING_ENABLE per ring, and every other
 * control class is refused with a message naming it (their features are
 * not offered); the back-end never hears of CTRL_VQ.  And when the back-end has no configuration space (no
 * working GET_CONFIG), the port presents a local virtio-net config and
 * offers only the features that config can honestly answer.
 *
 * States:
 *   UP    connected, handshake done, vnet_net live.  vnet_port_service()
 *         watches the socket; a hang-up, an unsolicited message or any
 *         transport op failing (the transport drops the connection itself)
 *         takes the port DOWN.
 *   DOWN  vnet_net_stop() has taken every buffer back from the rings
 *         (counted in inflight_reclaimed) and the connection and its fds are
 *         closed.  The struct vnet_net and its pool stay; rx_burst returns 0,
 *         tx_burst accepts nothing.  service() reconnects (client: one
 *         attempt every reconnect_ms; server: accepts the next back-end),
 *         re-runs the handshake and vnet_net_restart(), which renegotiates
 *         the same features and sets the rings up again.
 *
 * Order at a loss: the connection is closed BEFORE vnet_net_stop(), so the
 * device reset inside stop is purely local (nobody to answer) and cannot
 * block for the reply timeout.  Closing the socket is what makes a
 * vhost-user back-end stop using the rings and unmap our memory.
 *
 * Interrupt mode: the back-end gets a call eventfd per ring.  The data
 * path is vnet_port_poll(), i.e. the host-neutral service loop
 * vnet_net_poll(): at most a budget of frames per call, and a call that
 * drains the ring re-arms the rx queue's used-buffer notifications with
 * the lost-wake-up re-check (or says "call again").  service() then takes
 * any stale count off the eventfds and re-checks every rx queue with
 * vnet_net_rx_intr_enable() (arm-then-recheck: a queue armed by the poll
 * stays armed, one an rx_burst application left off is armed here), and
 * sleeps in poll() on those eventfds and the socket only if all of them
 * are quiet; on wake-up it drains the eventfds, counts the interrupts
 * (vnet_net_rx_irq) and disarms, leaving the application to poll until
 * empty before the next service().
 *
 * Threads: one thread per port (data path and service); the library takes
 * no lock on the data path.
 */
#define _GNU_SOURCE
#include "vnet/vnet_port.h"

#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vhost_user_linux.h"
#include "vnet/features.h"
#include "vnet/net_ctrl.h"
#include "vnet/net_recover.h"
#include "vnet/vhost_user.h"
#include "vnet/spec/vhost_user.h"
#include "vnet/spec/virtio_net.h"
#include "vnet/vnet_hal.h"
#include "vnet_linux.h"

#define PORT_CONNECT_TIMEOUT_MS_DEFAULT 5000u
#define PORT_RECONNECT_MS_DEFAULT 1000u
#define PORT_MAX_POLLFDS 66u
#define PORT_MAX_CALLER_FDS 8u /* vnet_port_service_fds(): the caller's own fds */

struct vnet_port {
	struct vnet_port_opts opts;
	char *path;
	struct vnet_port_vhost_net_cfg netcfg;
	struct vnet_vhost *vu;
	struct vnet_net *net;
	bool up;
	uint64_t next_attempt_ns;
	struct vnet_port_stats st;
	uint64_t rec_connects;      /* recovery: st.connects when recovery was last armed */
};


/* ---------------------------------------- virtio-net over vhost-user */

/* ------------------------------------ multiqueue: the local control queue */

/* Features that exist only through the control queue (spec 5.1.3.1). */
#define PORT_CTRL_ONLY                                                                                          \
	(VNET_BIT(VIRTIO_NET_F_CTRL_RX) | VNET_BIT(VIRTIO_NET_F_CTRL_VLAN) | VNET_BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) |   \
	 VNET_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) | VNET_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |                              \
	 VNET_BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) | VNET_BIT(VIRTIO_NET_F_NOTF_COAL) |                             \
	 VNET_BIT(VIRTIO_NET_F_VQ_NOTF_COAL) | VNET_BIT(VIRTIO_NET_F_RSS) | VNET_BIT(VIRTIO_NET_F_HASH_REPORT) |     \
	 VNET_BIT(VIRTIO_NET_F_DEVICE_STATS) | VNET_BIT(VIRTIO_NET_F_HASH_TUNNEL))

/* The offer with the port's control queue: CTRL_VQ + MQ when the back-end
 * can run several pairs and rings can be enabled one by one (protocol
 * features: SET_VRING_ENABLE); none of the classes the port does not
 * emulate. */
static uint64_t port_mq_offer(const struct vnet_vhost *vu, uint64_t f)
{
	bool mq = (f & VNET_BIT(VIRTIO_NET_F_MQ)) && vnet_vhost_queue_pairs(vu) > 1 &&
	          (vnet_vhost_backend_features(vu) & VNET_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	f &= ~(PORT_CTRL_ONLY | VNET_BIT(VIRTIO_NET_F_CTRL_VQ) | VNET_BIT(VIRTIO_NET_F_MQ));
	if (mq)
		f |= VNET_BIT(VIRTIO_NET_F_CTRL_VQ) | VNET_BIT(VIRTIO_NET_F_MQ);
	return f;
}

/* SET_FEATURES: the back-end never sees the control queue (it is ours). */
static uint64_t port_mq_wire(void *arg, const struct vnet_vhost *vu, uint64_t features)
{
	(void)arg;
	(void)vu;
	return features & ~(VNET_BIT(VIRTIO_NET_F_CTRL_VQ) | PORT_CTRL_ONLY);
}

/* The control queue, served here (vnet_net_opts.ctrl_local). */
static uint8_t port_mq_ctrl(void *arg, uint8_t class_, uint8_t cmd, const void *data, uint32_t len, void *result,
			    uint32_t rlen)
{
	struct vnet_port *p = arg;
	(void)result;
	(void)rlen;
	if (class_ == VIRTIO_NET_CTRL_MQ && cmd == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET && len == 2) {
		const uint8_t *d = data;
		uint16_t pairs = (uint16_t)(d[0] | d[1] << 8);
		int rc = vnet_vhost_enable_pairs(p->vu, pairs);
		if (rc == VNET_OK) {
			vnet_linux_logf(VNET_LOG_INFO, "vnet port %s: %u queue pairs (%u rings enabled)", p->path,
					(unsigned)pairs, (unsigned)vnet_vhost_enabled_rings(p->vu));
			return VIRTIO_NET_OK;
		}
		vnet_linux_logf(VNET_LOG_ERR, "vnet port %s: VQ_PAIRS_SET %u: %s", p->path, (unsigned)pairs,
				vnet_strerror(rc));
		return VIRTIO_NET_ERR;
	}
	vnet_linux_logf(VNET_LOG_ERR,
			"vnet port %s: control %s.%s refused: a vhost-user back-end has no control queue and the "
			"port emulates only MQ.VQ_PAIRS_SET",
			p->path, vnet_net_ctrl_class_name(class_), vnet_net_ctrl_cmd_name(class_, cmd));
	return VIRTIO_NET_ERR;
}

/* Fewer pairs than asked: say why, once, at open. */
static void port_mq_report(const struct vnet_port *p)
{
	struct vnet_net_info info;
	vnet_net_get_info(p->net, &info);
	uint16_t asked = p->opts.queue_pairs ? p->opts.queue_pairs : 1;
	if (info.queue_pairs < asked)
		vnet_linux_logf(VNET_LOG_WARN,
				"vnet port %s: %u queue pairs asked, %u in use (back-end offers %u pairs%s)", p->path,
				(unsigned)asked, (unsigned)info.queue_pairs, (unsigned)vnet_vhost_queue_pairs(p->vu),
				(info.negotiated & VNET_BIT(VIRTIO_NET_F_MQ)) ? "" : ", no MQ with protocol features");
}

/* What the core may see of the back-end's offer, for virtio-net. */
static uint64_t port_net_offer(void *arg, const struct vnet_vhost *vu, uint64_t f, bool config_real)
{
	const struct vnet_port_vhost_net_cfg *c = arg;
	(void)vu;
	/* The back-end does not process the control queue (a VMM front-end
	 * like QEMU emulates it), so nothing that needs it; MQ is among
	 * those (spec 5.1.3.1: MQ requires CTRL_VQ). */
	f = port_mq_offer(vu, f);
	if (!config_real) {
		/* Only what our synthesized config can honestly answer. */
		f &= ~(VNET_BIT(VIRTIO_NET_F_STATUS) | VNET_BIT(VIRTIO_NET_F_MTU) | VNET_BIT(VIRTIO_NET_F_MAC) |
		       VNET_BIT(VIRTIO_NET_F_SPEED_DUPLEX) | VNET_BIT(VIRTIO_NET_F_RSS) |
		       VNET_BIT(VIRTIO_NET_F_HASH_REPORT));
		if (c && c->have_mac)
			f |= VNET_BIT(VIRTIO_NET_F_MAC);
	}
	return f;
}

/*
 * The configuration we present when the back-end has none.  Status and
 * MTU are not offered in that case (port_net_offer), so only the MAC (when
 * the application gave one) and max_virtqueue_pairs matter.
 */
static int port_net_read_config(void *arg, const struct vnet_vhost *vu, uint32_t offset, void *buf, uint32_t len)
{
	const struct vnet_port_vhost_net_cfg *c = arg;
	struct virtio_net_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	if (c && c->have_mac)
		memcpy(cfg.mac, c->mac, 6);
	cfg.status = vnet_cpu_to_le16(VIRTIO_NET_S_LINK_UP);
	cfg.max_virtqueue_pairs = vnet_cpu_to_le16(vnet_vhost_queue_pairs(vu));
	if ((uint64_t)offset + len > sizeof(cfg))
		return VNET_ERANGE;
	memcpy(buf, (const uint8_t *)&cfg + offset, len);
	return VNET_OK;
}

const struct vnet_vhost_device_ops vnet_port_vhost_net = {
	/* mac, status, max_virtqueue_pairs and mtu: the part of the
	 * virtio-net config every back-end with a config space has. */
	.config_probe_len = 12,
	.offer = port_net_offer,
	.read_config = port_net_read_config,
	.wire = port_mq_wire,
};

/* ---------------------------------------------------------------- port */

/*
 * Offloads (docs/offloads.md): the port passes the application's
 * opts.net offload options to the net layer untouched (nothing here
 * removes a checksum or segmentation feature), so a vhost-user port
 * negotiates what the user asks for and the back-end offers.  Say which
 * asked-for offloads the back-end declined: DPDK's vhost PMD, for one,
 * offers TSO only with its tso=1 devarg.
 */
static void port_net_offload_report(const struct vnet_port *p)
{
	const struct vnet_net_opts *o = &p->opts.net;
	static const struct {
		unsigned bit;
		size_t opt; /* offset of the bool in vnet_net_opts */
	} map[] = {
		{VIRTIO_NET_F_CSUM, offsetof(struct vnet_net_opts, tx_csum)},
		{VIRTIO_NET_F_GUEST_CSUM, offsetof(struct vnet_net_opts, rx_csum)},
		{VIRTIO_NET_F_HOST_TSO4, offsetof(struct vnet_net_opts, tx_tso4)},
		{VIRTIO_NET_F_HOST_TSO6, offsetof(struct vnet_net_opts, tx_tso6)},
		{VIRTIO_NET_F_HOST_ECN, offsetof(struct vnet_net_opts, tx_ecn)},
		{VIRTIO_NET_F_HOST_UFO, offsetof(struct vnet_net_opts, tx_ufo)},
		{VIRTIO_NET_F_HOST_USO, offsetof(struct vnet_net_opts, tx_uso)},
		{VIRTIO_NET_F_GUEST_TSO4, offsetof(struct vnet_net_opts, rx_tso4)},
		{VIRTIO_NET_F_GUEST_TSO6, offsetof(struct vnet_net_opts, rx_tso6)},
		{VIRTIO_NET_F_GUEST_ECN, offsetof(struct vnet_net_opts, rx_ecn)},
		{VIRTIO_NET_F_GUEST_UFO, offsetof(struct vnet_net_opts, rx_ufo)},
		{VIRTIO_NET_F_GUEST_USO4, offsetof(struct vnet_net_opts, rx_uso4)},
		{VIRTIO_NET_F_GUEST_USO6, offsetof(struct vnet_net_opts, rx_uso6)},
	};
	struct vnet_net_info info;
	vnet_net_get_info(p->net, &info);
	uint64_t asked = 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (*(const bool *)((const char *)o + map[i].opt))
			asked |= VNET_BIT(map[i].bit);
	uint64_t missing = asked & ~info.negotiated;
	if (!missing)
		return;
	char names[256];
	vnet_features_format(names, sizeof(names), missing);
	vnet_linux_logf(VNET_LOG_WARN, "vnet port %s: offloads asked for but not negotiated (back-end offer or "
				"their requirements missing): %s", p->path, names);
}

static struct vnet_net_opts port_net_opts(const struct vnet_port_opts *o)
{
	struct vnet_net_opts n = o->net;
	if (o->queue_pairs)
		n.queue_pairs = o->queue_pairs;
	if (o->queue_size)
		n.queue_size = o->queue_size;
	if (o->ring != VNET_NET_RING_AUTO)
		n.ring = o->ring;
	if (o->pool_size)
		n.pool_size = o->pool_size;
	/* A polling back-end on another core reads the rx ring's next slots
	 * while we repost the one it just used: reposting in batches of 8
	 * keeps us off those cache lines 7 times out of 8 (round-trip p50
	 * 0.47 -> 0.34 us against testpmd, docs/performance.md).  1 restores
	 * refill-on-every-burst. */
	if (!n.rx_refill_batch)
		n.rx_refill_batch = 8;
	/* vhost-user back-ends do not serve the control queue: the port does
	 * (port_mq_ctrl, set by the caller with the port as its argument). */
	n.no_ctrl_vq = false;
	return n;
}

/* ------------------------------------ recovery: a back-end that stalls */

static void port_down(struct vnet_port *p, int why);

/* The TX watchdog (vnet/net_recover.h) with the port's stall timeout; a
 * stall counts as a back-end stall (a lost back-end is a disconnect). */
static void port_recover_init(struct vnet_port *p)
{
	struct vnet_net_recover_opts ro;
	memset(&ro, 0, sizeof(ro));
	uint32_t ms = p->opts.stall_timeout_ms ? p->opts.stall_timeout_ms : 2000u;
	ro.tx_timeout_ns = ms == UINT32_MAX ? UINT64_MAX : (uint64_t)ms * 1000000u;
	ro.tx_stall_cause = VNET_RECOVER_BACKEND_STALL;
	vnet_net_recover_configure(p->net, &ro);
	p->rec_connects = p->st.connects;
}

/* From service() while up: run the watchdog; a back-end recovery gave up
 * on is disconnected like a failed one (the port then waits for, or
 * reconnects to, a new back-end, and recovery starts afresh with it).
 * Returns VNET_OK, or VNET_ETIMEDOUT when the back-end was dropped. */
static int port_recover_tick(struct vnet_port *p)
{
	if (p->rec_connects != p->st.connects) {
		vnet_net_recover_rearm(p->net);
		p->rec_connects = p->st.connects;
	}
	enum vnet_net_recover_cause c = vnet_net_watchdog(p->net, vnet_hal_time_ns());
	if (c == VNET_RECOVER_NONE)
		return VNET_OK;
	struct vnet_net_recover_stats rs;
	vnet_net_recover_get_stats(p->net, &rs);
	if (c == VNET_RECOVER_BACKEND_STALL)
		p->st.stalls++;
	if (!rs.dead) {
		vnet_linux_logf(VNET_LOG_WARN, "vnet port %s: %s: recovery %s", p->path, vnet_net_recover_cause_name(c),
		                rs.last_error == VNET_OK ? "done" : vnet_strerror(rs.last_error));
		return VNET_OK;
	}
	vnet_linux_logf(VNET_LOG_ERR, "vnet port %s: %s: recovery gave up on this back-end: disconnecting", p->path,
	                vnet_net_recover_cause_name(c));
	p->st.stall_gave_up++;
	port_down(p, VNET_ETIMEDOUT);
	return VNET_ETIMEDOUT;
}

int vnet_port_open(const struct vnet_port_opts *opts, struct vnet_port **out)
{
	if (!opts || !out || !opts->socket_path || !opts->socket_path[0])
		return VNET_EINVAL;
	*out = NULL;
	if (opts->queue_size && (opts->queue_size > 32768u))
		return VNET_EINVAL;
	struct vnet_port *p = calloc(1, sizeof(*p));
	if (!p)
		return VNET_ENOMEM;
	p->opts = *opts;
	p->path = strdup(opts->socket_path);
	if (!p->path) {
		free(p);
		return VNET_ENOMEM;
	}
	p->opts.socket_path = p->path;
	if (!p->opts.connect_timeout_ms)
		p->opts.connect_timeout_ms = PORT_CONNECT_TIMEOUT_MS_DEFAULT;
	if (!p->opts.reconnect_ms)
		p->opts.reconnect_ms = PORT_RECONNECT_MS_DEFAULT;

	/* Create the DMA arena first: the memory table names it. */
	int rc = vnet_linux_arena_get(NULL, NULL, NULL);
	if (rc != VNET_OK)
		goto err_free;

	/* No MAC of our own: the back-end's config gives one, or the net
	 * layer makes one up when MAC is not offered (src/net). */
	p->netcfg.have_mac = false;
	struct vnet_vhost_linux_opts vo = {
		.path = p->path,
		.server = opts->server,
		.call_fds = opts->interrupt_mode,
		.reply_timeout_ms = 0,
		.device = &vnet_port_vhost_net,
		.device_arg = &p->netcfg,
	};
	rc = vnet_vhost_linux_open(&vo, &p->vu);
	if (rc != VNET_OK)
		goto err_free;
	/* A back-end that connects while still starting up (DPDK in client
	 * mode does) may drop or stall the first session: within
	 * connect_timeout_ms, transport-level failures are retried on a new
	 * connection; protocol and capability errors are final. */
	uint64_t deadline = vnet_hal_time_ns() + (uint64_t)p->opts.connect_timeout_ms * 1000000u;
	for (;;) {
		uint64_t now = vnet_hal_time_ns();
		uint32_t left = now < deadline ? (uint32_t)((deadline - now) / 1000000u) : 0;
		rc = vnet_vhost_connect(p->vu, left);
		if (rc != VNET_OK) {
			vnet_linux_logf(VNET_LOG_ERR, "vnet port %s: no back-end within %u ms", p->path,
				 p->opts.connect_timeout_ms);
			goto err_vu;
		}
		rc = vnet_vhost_handshake(p->vu);
		if (rc == VNET_OK) {
			struct vnet_net_opts no = port_net_opts(&p->opts);
			no.ctrl_local = port_mq_ctrl;
			no.ctrl_local_arg = p;
			if (!no.name) {   /* the core's log lines: the socket's file name */
				const char *slash = strrchr(p->path, '/');
				no.name = slash ? slash + 1 : p->path;
			}
			rc = vnet_net_create(&vnet_vhost_ops, p->vu, &no, &p->net);
		}
		if (rc == VNET_OK)
			break;
		bool transient = rc == VNET_ETIMEDOUT || rc == VNET_ENODEV;
		vnet_vhost_disconnect(p->vu);
		if (!transient || vnet_hal_time_ns() >= deadline)
			goto err_vu;
		vnet_linux_logf(VNET_LOG_WARN, "vnet port %s: bring-up failed (%s), retrying", p->path, vnet_strerror(rc));
	}
	port_mq_report(p);
	p->up = true;
	p->st.connects = 1;
	port_recover_init(p);
	port_net_offload_report(p);
	*out = p;
	return VNET_OK;

err_vu:
	vnet_vhost_destroy(p->vu);
err_free:
	free(p->path);
	free(p);
	return rc;
}

struct vnet_net *vnet_port_net(struct vnet_port *port)
{
	return port ? port->net : NULL;
}

bool vnet_port_is_up(const struct vnet_port *port)
{
	return port && port->up && vnet_vhost_is_connected(port->vu) && vnet_net_is_running(port->net);
}

unsigned vnet_port_poll(struct vnet_port *port, uint16_t qp, unsigned budget, vnet_net_rx_fn fn, void *arg,
			bool *more)
{
	if (!port || !port->up) {
		if (more)
			*more = false;
		return 0;
	}
	/* Poll mode never sleeps on used buffers: leave notifications off
	 * (the back-end has no call fd anyway). */
	unsigned flags = port->opts.interrupt_mode ? 0u : VNET_NET_POLL_NO_REARM;
	return vnet_net_poll(port->net, qp, budget, flags, fn, arg, more);
}

void vnet_port_get_stats(const struct vnet_port *port, struct vnet_port_stats *st)
{
	if (!port || !st)
		return;
	*st = port->st;
	st->kick_errors = vnet_vhost_kick_errors(port->vu);
}

/* The back-end is gone (or out of sync): close first, then take the rings back. */
static void port_down(struct vnet_port *p, int why)
{
	vnet_vhost_disconnect(p->vu);
	uint32_t inflight = vnet_net_stop(p->net);
	p->st.inflight_reclaimed += inflight;
	p->st.disconnects++;
	p->up = false;
	p->next_attempt_ns = vnet_hal_time_ns();
	vnet_linux_logf(VNET_LOG_WARN, "vnet port %s: back-end lost (%s), %u buffers were in flight; %s", p->path,
		 vnet_strerror(why), (unsigned)inflight, p->opts.server ? "waiting for a new back-end" : "reconnecting");
}

/* One attempt to bring a DOWN port back; VNET_EAGAIN when nobody is there. */
static int port_try_up(struct vnet_port *p)
{
	int rc = vnet_vhost_connect(p->vu, 0);
	if (rc != VNET_OK)
		return rc == VNET_ENODEV ? VNET_EAGAIN : rc;
	rc = vnet_vhost_handshake(p->vu);
	if (rc == VNET_OK)
		rc = vnet_net_restart(p->net);
	if (rc != VNET_OK) {
		vnet_linux_logf(VNET_LOG_WARN, "vnet port %s: bring-up after reconnect failed: %s", p->path, vnet_strerror(rc));
		vnet_vhost_disconnect(p->vu);
		/* restart may have left rings half set up: stop is idempotent
		 * and leaves everything in the pool again. */
		p->st.inflight_reclaimed += vnet_net_stop(p->net);
		return rc;
	}
	p->up = true;
	p->st.connects++;
	vnet_linux_logf(VNET_LOG_INFO, "vnet port %s: back-end connected again", p->path);
	return VNET_OK;
}

static void sleep_ms(int ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Read an eventfd's counter (non-blocking); true if it was signalled. */
static bool port_drain_eventfd(int fd)
{
	uint64_t v;
	return read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v);
}

static int port_service_down(struct vnet_port *p, int timeout_ms)
{
	uint64_t now = vnet_hal_time_ns();
	if (p->opts.server) {
		/* Wait on the listening socket: a back-end connecting wakes us. */
		struct pollfd pf = {.fd = vnet_vhost_listen_fd(p->vu), .events = POLLIN};
		if (poll(&pf, 1, timeout_ms < 0 ? 0 : timeout_ms) <= 0)
			return VNET_ENODEV;
	} else if (now < p->next_attempt_ns) {
		uint64_t wait_ms = (p->next_attempt_ns - now) / 1000000u;
		if (timeout_ms <= 0)
			return VNET_ENODEV;
		sleep_ms(wait_ms < (uint64_t)timeout_ms ? (int)wait_ms + 1 : timeout_ms);
		if (vnet_hal_time_ns() < p->next_attempt_ns)
			return VNET_ENODEV;
	}
	int rc = port_try_up(p);
	if (rc != VNET_OK) {
		p->next_attempt_ns = vnet_hal_time_ns() + (uint64_t)p->opts.reconnect_ms * 1000000u;
		return rc == VNET_EAGAIN ? VNET_ENODEV : rc;
	}
	return VNET_OK;
}

/* vnet_port_service_fds(): the caller's fds (at most PORT_MAX_CALLER_FDS,
 * checked by the caller) ride in the same poll() as the port's socket and
 * call eventfds, after them. */
static unsigned port_add_caller_fds(struct pollfd *pf, unsigned n, const struct pollfd *fds, unsigned nfds)
{
	for (unsigned i = 0; i < nfds; i++) {
		pf[n].fd = fds[i].fd;
		pf[n].events = fds[i].events;
		pf[n].revents = 0;
		n++;
	}
	return n;
}

static void port_caller_revents(const struct pollfd *pf, unsigned n_port, struct pollfd *fds, unsigned nfds)
{
	for (unsigned i = 0; i < nfds; i++)
		fds[i].revents = pf[n_port + i].revents;
}

int vnet_port_service(struct vnet_port *port, int timeout_ms)
{
	return vnet_port_service_fds(port, timeout_ms, NULL, 0);
}

int vnet_port_service_fds(struct vnet_port *port, int timeout_ms, struct pollfd *fds, unsigned nfds)
{
	if (!port || (nfds && !fds) || nfds > PORT_MAX_CALLER_FDS)
		return VNET_EINVAL;
	for (unsigned i = 0; i < nfds; i++)
		fds[i].revents = 0;
	struct vnet_port *p = port;
	if (!p->up)
		return port_service_down(p, timeout_ms);

	/* A transport op may have dropped the connection (failed message). */
	if (!vnet_vhost_is_connected(p->vu)) {
		port_down(p, VNET_ENODEV);
		return VNET_ENODEV;
	}

	struct pollfd pf[PORT_MAX_POLLFDS + PORT_MAX_CALLER_FDS];
	uint16_t qps[PORT_MAX_POLLFDS];
	unsigned n = 0;
	pf[n].fd = vnet_vhost_socket_fd(p->vu);
	pf[n].events = POLLIN | POLLRDHUP;
	n++;
	int wait = timeout_ms < 0 ? 0 : timeout_ms;
	struct vnet_net_info info;
	vnet_net_get_info(p->net, &info);
	if (p->opts.interrupt_mode) {
		for (uint16_t qp = 0; qp < info.queue_pairs && n < PORT_MAX_POLLFDS; qp++) {
			int fd = vnet_vhost_call_fd(p->vu, (uint16_t)(2u * qp));
			if (fd < 0)
				continue;
			/* A count left from before (a signal the back-end sent
			 * while we were polling, or one that suppression let
			 * through) would end the sleep at once: take it now.  The
			 * ring is re-checked below, so nothing it announced is
			 * missed. */
			if (wait > 0)
				port_drain_eventfd(fd);
			/* Arm, then re-check: work that raced in means no sleep
			 * (spec 2.7.7 / 2.8.10: the device may have used buffers
			 * before it saw the armed event suppression). */
			if (!vnet_net_rx_intr_enable(p->net, qp))
				wait = 0;
			pf[n].fd = fd;
			pf[n].events = POLLIN;
			qps[n] = qp;
			n++;
		}
	}
	unsigned n_port = n;
	n = port_add_caller_fds(pf, n, fds, nfds);
	bool slept = p->opts.interrupt_mode && n_port > 1 && wait > 0;
	int pr = poll(pf, n, wait);
	if (pr < 0 && errno != EINTR)
		pr = 0;
	port_caller_revents(pf, n_port, fds, nfds);
	if (p->opts.interrupt_mode) {
		bool woke = false;
		for (unsigned i = 1; i < n_port; i++) {
			if (pf[i].revents & POLLIN) {
				if (port_drain_eventfd(pf[i].fd)) {
					vnet_net_rx_irq(p->net, qps[i]);
					woke = true;
				}
			}
			vnet_net_rx_intr_disable(p->net, qps[i]);
		}
		if (slept) {
			p->st.intr_sleeps++;
			if (woke)
				p->st.intr_wakeups++;
		}
	}
	if (pf[0].revents) {
		int rc = vnet_vhost_check(p->vu);
		if (rc != VNET_OK) {
			port_down(p, rc);
			return rc;
		}
	}
	if (!vnet_vhost_is_connected(p->vu)) {
		port_down(p, VNET_ENODEV);
		return VNET_ENODEV;
	}
	return port_recover_tick(p);
}

void vnet_port_close(struct vnet_port *port)
{
	if (!port)
		return;
	/* destroy resets the device (GET_VRING_BASE stops the rings while the
	 * back-end is still there), takes the buffers back and frees. */
	vnet_net_destroy(port->net);
	vnet_vhost_destroy(port->vu);
	free(port->path);
	free(port);
}
