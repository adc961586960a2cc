/*
 * vnetd main: options, bring-up (TAP first, then the port, then the TAP's
 * header size and offloads from what the port negotiated), the event loop,
 * and the orderly exit.
 *
 * The loop, one thread:
 *   1. port -> TAP: vnet_port_poll() hands up to a budget of frames to
 *      vnetd_port_to_tap() and reclaims completed transmissions;
 *   2. TAP -> port: vnetd_tap_to_port() reads a burst and sends it;
 *   3. housekeeping: vnet_port_service() (back-end loss, reconnect).
 *      Interrupt mode sleeps there when both sides are quiet, on the
 *      port's call eventfd, its socket and the TAP fd together
 *      (vnet_port_service_fds); poll mode calls it every millisecond
 *      without sleeping.
 * While the back-end is gone the TAP's carrier is off and whatever the
 * TAP still hands us is dropped and counted (drop_to_port_down); the port
 * reconnects on its own and vnetd carries on.
 *
 * Exit (SIGTERM, SIGINT): frames held for ring space are sent or dropped
 * (counted), the transmit ring is given up to a second to complete, the
 * stats line is printed with the buffer count: every buffer of the pool
 * must be in the pool or the receive ring (or, if the back-end never
 * completed it, with the back-end until close takes it back).  A buffer
 * missing otherwise is a leak: exit status 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "vnet/features.h"
#include "vnet/virtqueue.h"
#include "vnet_linux.h"
#include "vnetd.h"

static volatile sig_atomic_t g_stop;
static volatile sig_atomic_t g_usr1;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		g_usr1 = 1;
	else
		g_stop = sig;
}

static void install(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a sleep in poll() ends at once with EINTR. */
	sigaction(sig, &sa, NULL);
}

/* libvnet's log lines (the port's reconnects, the core's warnings) on
 * stderr under vnetd's prefix, so every line says which TAP it is about. */
static void on_log(enum vnet_log_level level, const char *line, void *arg)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	const char *tap = arg;
	unsigned l = (unsigned)level < 4u ? (unsigned)level : 3u;
	fprintf(stderr, "vnetd[%s]: libvnet %s: %s\n", tap, names[l], line);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Why vnet_port_open() found nobody, in the user's terms. */
static void explain_no_backend(const struct vnetd_opts *o)
{
	if (o->server) {
		fprintf(stderr, "vnetd: no vhost-user back-end connected to %s within %u ms (server mode: "
				"start the back-end as a client of this socket)\n", o->vhost_path, o->connect_timeout_ms);
		return;
	}
	struct stat st;
	if (stat(o->vhost_path, &st) != 0) {
		fprintf(stderr, "vnetd: vhost-user socket %s: %s (client mode: the back-end creates it; "
				"waited %u ms; use --server to listen instead)\n", o->vhost_path, strerror(errno),
			o->connect_timeout_ms);
	} else if (!S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "vnetd: %s is not a socket\n", o->vhost_path);
	} else {
		fprintf(stderr, "vnetd: nobody accepts connections on %s (waited %u ms; is the back-end running?)\n",
			o->vhost_path, o->connect_timeout_ms);
	}
}

static int open_port(struct vnetd *d)
{
	struct vnet_port_opts po;
	memset(&po, 0, sizeof(po));
	po.socket_path = d->o.vhost_path;
	po.server = d->o.server;
	po.ring = d->o.ring;
	/* 1024 rather than the port's 256: a receive ring holds only ~7
	 * coalesced 64 KiB frames per 256 buffers, and what the back-end
	 * cannot place it drops (against testpmd, TCP retransmissions fell
	 * from ~15000 to ~300 per 200 MB; docs/vnetd.md). */
	po.queue_size = d->o.queue_size ? d->o.queue_size : VNETD_QUEUE_SIZE;
	po.interrupt_mode = !d->o.poll_mode;
	po.pool_size = d->o.pool_size;
	po.connect_timeout_ms = d->o.connect_timeout_ms;
	po.reconnect_ms = d->o.reconnect_ms;
	/* Offloads, both ways.  Transmit (what the TAP may hand us, enabled
	 * on it afterwards from what was negotiated): partial checksums and
	 * super-frames the back-end completes and segments.  Receive (what
	 * the back-end may hand us): the TAP takes partial checksums and
	 * super-frames of every kind; USO only on a kernel whose tun knows it
	 * (Linux 6.2), or it would refuse them. */
	bool on = d->o.offloads;
	po.net.tx_csum = po.net.rx_csum = on;
	po.net.tx_tso4 = po.net.tx_tso6 = po.net.tx_ecn = po.net.tx_ufo = po.net.tx_uso = on;
	po.net.rx_tso4 = po.net.rx_tso6 = po.net.rx_ecn = po.net.rx_ufo = on;
	po.net.rx_uso4 = po.net.rx_uso6 = on && vnetd_tap_has_uso(d->tap_fd);
	/* A super-frame read from the TAP takes up to 34 buffers until the
	 * back-end completes it: room for a ring of them. */
	if (!po.pool_size) {
		uint32_t q = po.queue_size;
		po.pool_size = on ? VNETD_POOL_OFFLOAD : 4u * q;
		if (po.pool_size < 4u * q)
			po.pool_size = 4u * q;
	}
	/* --config: the file's offload, RSS, timeout and pool keys (what
	 * the command line did not override). */
	vnetd_config_port_opts(&d->o, &po);
	/* Always explicit: the exit check counts the pool against it. */
	d->pool_total = po.pool_size;
	int rc = vnet_port_open(&po, &d->port);
	if (rc == VNET_ENODEV) {
		explain_no_backend(&d->o);
		return -1;
	}
	if (rc != VNET_OK) {
		fprintf(stderr, "vnetd: vhost-user port %s: %s\n", d->o.vhost_path, vnet_strerror(rc));
		return -1;
	}
	d->net = vnet_port_net(d->port);
	return 0;
}

/* The TAP's header and offloads from what the port negotiated. */
static int setup_tap_offloads(struct vnetd *d)
{
	char err[256];
	struct vnet_net_info info;
	vnet_net_get_info(d->net, &info);
	d->negotiated = info.negotiated;
	d->tap_hdr_len = info.hdr_len;
	if (d->tap_hdr_len < sizeof(struct virtio_net_hdr) || d->tap_hdr_len > VNETD_TAP_HDR_MAX) {
		fprintf(stderr, "vnetd: port header of %u bytes is outside what vnetd handles\n", d->tap_hdr_len);
		return -1;
	}
	if (vnetd_tap_set_hdr_len(d->tap_fd, d->tap_hdr_len, err, sizeof(err)) < 0) {
		fprintf(stderr, "vnetd: TAP %s: %s\n", d->o.tap_name, err);
		return -1;
	}
	unsigned want = d->o.offloads ? vnetd_tun_offloads_for(d->negotiated) : 0;
	int got = vnetd_tap_set_offloads(d->tap_fd, want, err, sizeof(err));
	if (got < 0) {
		fprintf(stderr, "vnetd: TAP %s: %s\n", d->o.tap_name, err);
		return -1;
	}
	d->tun_offloads = (unsigned)got;
	/* Buffers per TAP read: one, or enough for a super-frame when the
	 * TAP may hand us one. */
	struct vnet_pkt *p = vnet_net_pkt_alloc(d->net);
	if (!p) {
		fprintf(stderr, "vnetd: the port's packet pool is empty at start\n");
		return -1;
	}
	uint32_t room = p->room;
	vnet_net_pkt_free(d->net, p);
	d->read_segs = 1;
	if (d->tun_offloads & VNETD_TUN_F_GSO) {
		d->read_segs = (VNETD_FRAME_MAX + room - 1) / room;
		if (d->read_segs > VNETD_MAX_SEGS)
			d->read_segs = VNETD_MAX_SEGS;
	}
	return 0;
}

static void print_start(const struct vnetd *d)
{
	struct vnet_net_info info;
	vnet_net_get_info(d->net, &info);
	char names[128];
	printf("vnetd[%s]: up: vhost-user %s (%s), %s mode, %s ring of %u, header %u bytes, negotiated 0x%" PRIx64
	       ", tap offloads %s, mac %02x:%02x:%02x:%02x:%02x:%02x\n",
	       d->o.tap_name, d->o.vhost_path, d->o.server ? "server" : "client",
	       d->o.poll_mode ? "poll" : "interrupt", info.layout == VNET_VQ_PACKED ? "packed" : "split",
	       info.queue_size, info.hdr_len, info.negotiated,
	       vnetd_tun_offload_names(d->tun_offloads, names, sizeof(names)), info.mac[0], info.mac[1],
	       info.mac[2], info.mac[3], info.mac[4], info.mac[5]);
	fflush(stdout);
}

static void note_state(struct vnetd *d, bool up)
{
	if (up == d->up)
		return;
	d->up = up;
	vnetd_tap_set_carrier(d->tap_fd, up);
	struct vnet_port_stats ps;
	vnet_port_get_stats(d->port, &ps);
	if (up) {
		d->st.backend_returns++;
		fprintf(stderr, "vnetd[%s]: back-end connected again (connects %" PRIu64 ")\n", d->o.tap_name,
			ps.connects);
	} else {
		d->st.backend_losses++;
		fprintf(stderr, "vnetd[%s]: back-end lost (%" PRIu64 " buffers taken back so far); %s\n",
			d->o.tap_name, ps.inflight_reclaimed,
			d->o.server ? "waiting for it to connect again" : "reconnecting");
	}
}

static void run(struct vnetd *d)
{
	uint64_t next_service = 0;
	while (!g_stop) {
		if (g_usr1) {
			g_usr1 = 0;
			vnetd_stats_print(d, "stats");
		}
		bool up = vnet_port_is_up(d->port);
		note_state(d, up);
		if (!up) {
			vnetd_drain_while_down(d);
			vnetd_control_serve(d);
			vnet_port_service(d->port, 20);
			continue;
		}
		bool rx_more = false;
		vnet_port_poll(d->port, 0, VNETD_RX_BUDGET, vnetd_port_to_tap, d, &rx_more);
		uint64_t t = now_ns();
		bool tap_more = vnetd_tap_to_port(d, t);
		bool blocked = d->npending || d->starved;
		if (d->o.poll_mode || rx_more || (tap_more && !blocked)) {
			if (t >= next_service) {
				vnet_port_service(d->port, 0);
				vnetd_control_serve(d);
				next_service = t + 1000000u;
			}
		} else if (blocked) {
			/* Waiting for transmit completions, which do not interrupt:
			 * a short sleep that an arriving frame still ends. */
			vnet_port_service(d->port, 1);
			vnetd_control_serve(d);
			next_service = t + 1000000u;
		} else {
			/* The control socket wakes the sleep too (fd -1 is ignored). */
			struct pollfd pfd[2] = {{.fd = d->tap_fd, .events = POLLIN}, {.fd = d->ctl.fd, .events = POLLIN}};
			vnet_port_service_fds(d->port, 100, pfd, d->ctl.fd >= 0 ? 2 : 1);
			if (pfd[0].revents & POLLIN)
				d->st.tap_wakeups++;
			if (d->ctl.fd >= 0 && (pfd[1].revents & POLLIN))
				vnetd_control_serve(d);
			next_service = t + 1000000u;
		}
	}
}

/*
 * Exit accounting; returns the number of buffers that cannot be found.
 * Frames still on their way out get up to a second to complete; then the
 * device is stopped (vnet_net_stop: reset, every buffer of both rings back
 * into the pool, whatever chains they were in), so the pool must hold all
 * d->pool_total buffers again.  A device whose reset did not complete keeps
 * what it held (info.leaked_bufs): those count as missing too.
 */
static uint32_t finish(struct vnetd *d)
{
	vnetd_flush_pending(d);
	vnetd_stash_release(d);
	uint32_t tx_left = 0;
	if (vnet_port_is_up(d->port)) {
		for (int i = 0; i < 1000; i++) {
			vnet_net_tx_reclaim(d->net, 0);
			tx_left = vnet_vq_outstanding(vnet_net_txq(d->net, 0));
			if (!tx_left)
				break;
			sleep_ms(1);
		}
	}
	uint32_t from_rings = 0;
	if (vnet_net_is_running(d->net))
		from_rings = vnet_net_stop(d->net);
	uint32_t back = vnet_net_pool_free_count(d->net);
	struct vnet_net_info info;
	vnet_net_get_info(d->net, &info);
	uint32_t leaked = back < d->pool_total ? d->pool_total - back : 0;
	char what[192];
	snprintf(what, sizeof(what),
		 "exit signal=%d buffers_total=%u buffers_back=%u taken_from_rings=%u tx_chains_uncompleted=%u "
		 "dead_device_bufs=%u leaked=%u",
		 (int)g_stop, d->pool_total, back, from_rings, tx_left, info.leaked_bufs, leaked);
	vnetd_stats_print(d, what);
	return leaked;
}

int main(int argc, char **argv)
{
	struct vnetd d;
	memset(&d, 0, sizeof(d));
	d.tap_fd = -1;
	d.ctl.fd = -1;
	bool help;
	int rc = vnetd_parse_opts(argc, argv, &d.o, &help);
	if (rc || help)
		return rc;
	/* SIGUSR1's default would kill us: take it before anything else. */
	install(SIGUSR1);
	signal(SIGPIPE, SIG_IGN);
	vnet_linux_set_log_callback(on_log, (void *)d.o.tap_name);

	char err[256];
	d.tap_fd = vnetd_tap_open(d.o.tap_name, err, sizeof(err));
	if (d.tap_fd < 0) {
		fprintf(stderr, "vnetd: %s\n", err);
		return 1;
	}
	/* No link until the back-end is there. */
	vnetd_tap_set_carrier(d.tap_fd, false);
	d.discard = malloc(VNETD_FRAME_MAX);
	if (!d.discard) {
		fprintf(stderr, "vnetd: out of memory\n");
		return 1;
	}
	if (open_port(&d) < 0) {
		close(d.tap_fd);
		free(d.discard);
		return 1;
	}
	if (setup_tap_offloads(&d) < 0) {
		vnet_port_close(d.port);
		close(d.tap_fd);
		free(d.discard);
		return 1;
	}
	d.up = true;
	vnetd_tap_set_carrier(d.tap_fd, true);
	vnetd_config_after_start(&d);
	if (vnetd_control_open(&d) < 0) {
		vnet_port_close(d.port);
		close(d.tap_fd);
		free(d.discard);
		return 1;
	}
	install(SIGTERM);
	install(SIGINT);
	if (!d.o.quiet)
		print_start(&d);

	run(&d);

	vnetd_control_close(&d);
	uint32_t leaked = finish(&d);
	vnet_port_close(d.port);
	close(d.tap_fd);
	free(d.discard);
	if (leaked) {
		fprintf(stderr, "vnetd[%s]: %u buffers unaccounted for at exit\n", d.o.tap_name, leaked);
		return 1;
	}
	return 0;
}
