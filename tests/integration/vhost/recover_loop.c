/*
 * recover_loop: an echo through a vhost-user back-end (dpdk-testpmd,
 * macswap or io forwarding) that keeps running while a driving script
 * injects faults into the back-end (recover_loop.sh: SIGKILL + restart,
 * SIGSTOP longer than the stall watchdog + SIGCONT), and reports, for each
 * fault, whether traffic came back and whether every buffer is accounted
 * for.  Issue 12 (reliability), docs/reliability.md "vhost-user loops".
 *
 *   recover_loop --vhost-user PATH [--server] [--ring split|packed]
 *                [--stall-ms MS] [--reconnect-ms MS] [--window N]
 *                [--resume-echoes N] [--fault-timeout-ms MS]
 *
 * Commands on stdin, one a line (the script writes them to a FIFO):
 *   fault N kill          the script is about to SIGKILL the back-end
 *   fault N stall STOPMS  the script is about to SIGSTOP it for STOPMS ms
 *   quit
 * A "fault" command is answered with {"armed":N} once the counters it
 * compares against are taken; the script injects the fault after that.
 * After a "fault" command the program waits until the fault shows in the
 * port's counters (kill: a disconnect and a new connect; stall: a stall
 * acted on by the watchdog, or a disconnect when recovery gave up) and then
 * until --resume-echoes frames *sent after that* have come back.  It then
 * prints one JSON line: times (ms from the command), frames lost during
 * the fault, counter deltas, and the buffer checks:
 *   per queue (rx, tx), the driver's buffer accounting
 *     (vnet_net_get_vq_acct): posted = completed + reclaimed + leaked +
 *     in flight, nothing leaked;
 *   reclaimed: the buffers the queues reclaimed during the fault, more
 *     than 0 and equal to what the resets reported taking back (the
 *     port's inflight_reclaimed at a disconnect plus recovery's reclaimed
 *     at a device reset or a give-up);
 *   pool: free + rx outstanding + tx outstanding = the pool's buffers
 *     (the program holds none between iterations)
 * max_gap_ms is the longest time between two passes of the program's loop
 * during the fault: a fault that was over before the program ran again
 * (a machine that did not schedule it for the whole stop) cannot be seen,
 * and times out with every delta 0 and a gap of about the stop's length.
 * (In a fault that was seen the gap also holds the recovery's calls that
 * wait for the stopped back-end: 700-1000 ms for a 1000 ms stop.)
 * "ok" is false if any of them fails or the fault never resolved within
 * --fault-timeout-ms.  "quit" prints a summary line and exits 0 (exit 1
 * if any fault was not ok).  The frame carries a sequence number; with one
 * queue pair the back-end returns frames in order, so an echo with seq S
 * means every outstanding seq below S is lost.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vnet/net.h"
#include "vnet/net_recover.h"
#include "vnet/virtqueue.h"
#include "vnet/vnet_port.h"

#define FRAME_LEN 64u
#define MAGIC 0x6f72696f6e6c6f6fULL /* "orionloo" */
#define SEEN_BITS 65536u

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct fault {
	bool active;
	unsigned n;
	bool stall;
	unsigned stop_ms;
	uint64_t t0, t_event, t_up, t_first;
	uint64_t seq_at_event; /* first seq sent after the fault showed */
	unsigned echoes_after;
	uint64_t lost0, late0;
	struct vnet_port_stats ps0;
	struct vnet_net_recover_stats rs0;
	uint64_t acct_reclaimed0;  /* rx + tx reclaimed (buffer accounting) at the fault */
	uint64_t max_gap_ns;       /* longest time between two passes of the main loop */
};

struct loop {
	struct vnet_port *port;
	struct vnet_net *net;
	unsigned window, resume_echoes, fault_timeout_ms;
	uint32_t pool_total;
	uint64_t sent, next_expected, received, lost, late, dup, foreign;
	uint64_t last_rx_ns;
	uint8_t seen[SEEN_BITS / 8];
	struct fault f;
	unsigned faults, faults_ok;
};

static bool seen_get(struct loop *l, uint64_t s) { return l->seen[(s % SEEN_BITS) / 8] & (1u << (s % 8)); }
static void seen_set(struct loop *l, uint64_t s, bool v)
{
	uint8_t *b = &l->seen[(s % SEEN_BITS) / 8];
	if (v)
		*b |= (uint8_t)(1u << (s % 8));
	else
		*b &= (uint8_t)~(1u << (s % 8));
}

static void on_echo(struct loop *l, const struct vnet_pkt *p)
{
	uint64_t magic, seq;
	if (p->pkt_len < FRAME_LEN || p->len < 30) {
		l->foreign++;
		return;
	}
	memcpy(&magic, p->data + 14, 8);
	memcpy(&seq, p->data + 22, 8);
	if (magic != MAGIC || seq >= l->sent) {
		l->foreign++;
		return;
	}
	if (seq < l->next_expected) {
		/* declared lost by the timeout, or already seen */
		if (l->sent - seq >= SEEN_BITS || seen_get(l, seq)) {
			l->dup++;
			return;
		}
		seen_set(l, seq, true);
		l->late++;
		l->lost--;
	} else {
		for (uint64_t s = l->next_expected; s < seq; s++)
			seen_set(l, s, false);
		l->lost += seq - l->next_expected;
		seen_set(l, seq, true);
		l->next_expected = seq + 1;
	}
	l->received++;
	l->last_rx_ns = now_ns();
	if (l->f.active && l->f.t_event && seq >= l->f.seq_at_event) {
		if (!l->f.echoes_after++)
			l->f.t_first = now_ns();
	}
}

static void fill(struct vnet_pkt *p, uint64_t seq)
{
	static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x02}, src[6] = {0x02, 0, 0, 0, 0, 0x01};
	memset(p->data, 0, FRAME_LEN);
	memcpy(p->data, dst, 6);
	memcpy(p->data + 6, src, 6);
	p->data[12] = 0x88;
	p->data[13] = 0xb5; /* local experimental ethertype */
	uint64_t m = MAGIC;
	memcpy(p->data + 14, &m, 8);
	memcpy(p->data + 22, &seq, 8);
	p->len = FRAME_LEN;
	p->next = NULL;
	p->flags = 0;
}

static void data_path(struct loop *l)
{
	struct vnet_pkt *pkts[32];
	unsigned n = vnet_net_rx_burst(l->net, 0, pkts, 32);
	for (unsigned i = 0; i < n; i++) {
		on_echo(l, pkts[i]);
		vnet_net_pkt_free(l->net, pkts[i]);
	}
	/* Outstanding frames that will not come back (in flight at a loss, or
	 * dropped by the back-end): after 200 ms without an echo count them
	 * lost and open the window again (a late echo is then counted late). */
	uint64_t now = now_ns();
	if (l->sent > l->next_expected && now - l->last_rx_ns > 200000000ull) {
		for (uint64_t s = l->next_expected; s < l->sent; s++)
			seen_set(l, s, false);
		l->lost += l->sent - l->next_expected;
		l->next_expected = l->sent;
		l->last_rx_ns = now;
	}
	unsigned room = l->window - (unsigned)(l->sent - l->next_expected);
	if (room > 32)
		room = 32;
	unsigned k = 0;
	for (; k < room; k++) {
		pkts[k] = vnet_net_pkt_alloc(l->net);
		if (!pkts[k])
			break;
		fill(pkts[k], l->sent + k);
	}
	if (!k)
		return;
	unsigned took = vnet_net_tx_burst(l->net, 0, pkts, k);
	if (took && l->sent == l->next_expected)
		l->last_rx_ns = now; /* the loss timer runs from the first frame of a window */
	l->sent += took;
	for (unsigned i = took; i < k; i++)
		vnet_net_pkt_free(l->net, pkts[i]);
}

/* Buffer accounting of virtqueue index vq (vnet/net.h): balanced and
 * nothing leaked; its figures as JSON members into buf. */
static bool vq_balanced(struct vnet_net *net, uint16_t vq, char *buf, size_t len, const char *name)
{
	struct vnet_net_vq_acct a;
	bool ok = vnet_net_get_vq_acct(net, vq, &a) == VNET_OK && vnet_net_vq_acct_balanced(&a) && a.leaked == 0;
	snprintf(buf, len,
	         "\"%s_posted\":%" PRIu64 ",\"%s_completed\":%" PRIu64 ",\"%s_reclaimed\":%" PRIu64
	         ",\"%s_leaked\":%" PRIu64 ",\"%s_inflight\":%" PRIu64,
	         name, a.posted, name, a.completed, name, a.reclaimed, name, a.leaked, name, a.in_flight);
	return ok;
}

/* Buffers receiveq0 and transmitq0 have reclaimed so far. */
static uint64_t acct_reclaimed(struct vnet_net *net)
{
	struct vnet_net_vq_acct rx, tx;
	vnet_net_get_vq_acct(net, 0, &rx);
	vnet_net_get_vq_acct(net, 1, &tx);
	return rx.reclaimed + tx.reclaimed;
}

static void report(struct loop *l, bool timed_out)
{
	struct fault *f = &l->f;
	struct vnet_port_stats ps;
	struct vnet_net_recover_stats rs;
	vnet_port_get_stats(l->port, &ps);
	vnet_net_recover_get_stats(l->net, &rs);
	char rxb[240] = "", txb[240] = "";
	bool up = vnet_port_is_up(l->port);
	bool rx_ok = false, tx_ok = false, pool_ok = false;
	uint32_t pool_free = vnet_net_pool_free_count(l->net);
	unsigned rx_out = 0, tx_out = 0;
	if (up) {
		rx_ok = vq_balanced(l->net, 0, rxb, sizeof(rxb), "rx");
		tx_ok = vq_balanced(l->net, 1, txb, sizeof(txb), "tx");
		rx_out = vnet_vq_outstanding(vnet_net_rxq(l->net, 0));
		tx_out = vnet_vq_outstanding(vnet_net_txq(l->net, 0));
		pool_ok = pool_free + rx_out + tx_out == l->pool_total;
	}
	/* Every buffer the queues took back was reported by the reset that
	 * took it (a disconnect's stop, recovery's halt: both count chains). */
	uint64_t reclaimed = acct_reclaimed(l->net) - f->acct_reclaimed0;
	uint64_t reported = (ps.inflight_reclaimed - f->ps0.inflight_reclaimed) + (rs.reclaimed - f->rs0.reclaimed);
	bool reclaim_ok = reclaimed > 0 && reclaimed == reported;
	bool ok = !timed_out && up && rx_ok && tx_ok && pool_ok && reclaim_ok && l->dup == 0;
	double ms = 1e-6;
	printf("{\"fault\":%u,\"kind\":\"%s\",\"stop_ms\":%u,\"ok\":%s,\"timed_out\":%s,\"up\":%s,"
	       "\"event_ms\":%.1f,\"up_ms\":%.1f,\"first_echo_ms\":%.1f,\"lost\":%" PRIu64 ",\"late\":%" PRIu64
	       ",\"disconnects\":%" PRIu64 ",\"connects\":%" PRIu64 ",\"inflight_reclaimed\":%" PRIu64
	       ",\"stalls\":%" PRIu64 ",\"stall_gave_up\":%" PRIu64 ",\"device_resets\":%" PRIu64
	       ",\"device_reset_fails\":%" PRIu64 ",\"recover_reclaimed\":%" PRIu64 ",\"deferred\":%" PRIu64
	       ",\"streak\":%u,\"pool_total\":%u,\"pool_free\":%u,\"pool_ok\":%s,\"rx_ok\":%s,\"tx_ok\":%s%s%s%s%s"
	       ",\"reclaimed\":%" PRIu64 ",\"reclaim_ok\":%s,\"dup\":%" PRIu64 ",\"max_gap_ms\":%.1f}\n",
	       f->n, f->stall ? "stall" : "kill", f->stop_ms, ok ? "true" : "false", timed_out ? "true" : "false",
	       up ? "true" : "false", f->t_event ? (double)(f->t_event - f->t0) * ms : -1.0,
	       f->t_up ? (double)(f->t_up - f->t0) * ms : -1.0, f->t_first ? (double)(f->t_first - f->t0) * ms : -1.0,
	       l->lost - f->lost0, l->late - f->late0, ps.disconnects - f->ps0.disconnects,
	       ps.connects - f->ps0.connects, ps.inflight_reclaimed - f->ps0.inflight_reclaimed,
	       ps.stalls - f->ps0.stalls, ps.stall_gave_up - f->ps0.stall_gave_up,
	       rs.device_resets - f->rs0.device_resets, rs.device_reset_fails - f->rs0.device_reset_fails,
	       rs.reclaimed - f->rs0.reclaimed, rs.deferred - f->rs0.deferred, rs.streak, l->pool_total, pool_free,
	       pool_ok ? "true" : "false", rx_ok ? "true" : "false", tx_ok ? "true" : "false", up ? "," : "", rxb,
	       up ? "," : "", txb, reclaimed, reclaim_ok ? "true" : "false", l->dup,
	       (double)f->max_gap_ns * ms);
	fflush(stdout);
	l->faults++;
	if (ok)
		l->faults_ok++;
	f->active = false;
}

/* Has the fault shown in the counters?  kill: disconnected and connected
 * again; stall: the watchdog acted (a reset over the connection) or gave
 * up (disconnect), and the port is up again. */
static void fault_progress(struct loop *l)
{
	struct fault *f = &l->f;
	if (!f->active)
		return;
	struct vnet_port_stats ps;
	vnet_port_get_stats(l->port, &ps);
	uint64_t now = now_ns();
	bool seen = f->stall ? (ps.stalls > f->ps0.stalls || ps.disconnects > f->ps0.disconnects)
	                     : ps.disconnects > f->ps0.disconnects;
	if (seen && !f->t_event) {
		f->t_event = now;
		f->seq_at_event = l->sent; /* frames from here on were sent after it */
	}
	bool back = f->stall ? true : ps.connects > f->ps0.connects;
	if (f->t_event && back && vnet_port_is_up(l->port) && !f->t_up)
		f->t_up = now;
	if (f->t_up && f->echoes_after >= l->resume_echoes) {
		report(l, false);
		return;
	}
	if (now - f->t0 > (uint64_t)l->fault_timeout_ms * 1000000ull)
		report(l, true);
}

static bool command(struct loop *l, char *line)
{
	unsigned n, stop = 0;
	char kind[16];
	if (!strncmp(line, "quit", 4))
		return false;
	int k = sscanf(line, "fault %u %15s %u", &n, kind, &stop);
	if (k < 2 || (strcmp(kind, "kill") && strcmp(kind, "stall"))) {
		fprintf(stderr, "recover_loop: bad command: %s\n", line);
		return true;
	}
	if (l->f.active)
		report(l, true);
	memset(&l->f, 0, sizeof(l->f));
	l->f.active = true;
	l->f.n = n;
	l->f.stall = !strcmp(kind, "stall");
	l->f.stop_ms = stop;
	l->f.t0 = now_ns();
	l->f.lost0 = l->lost;
	l->f.late0 = l->late;
	vnet_port_get_stats(l->port, &l->f.ps0);
	vnet_net_recover_get_stats(l->net, &l->f.rs0);
	l->f.acct_reclaimed0 = acct_reclaimed(l->net);
	/* The script injects the fault only after this line: the counters
	 * above are then surely from before it (a command read late, on a
	 * loaded machine, would otherwise take a fault already under way as
	 * its baseline and wait in vain for it to show). */
	printf("{\"armed\":%u}\n", n);
	fflush(stdout);
	return true;
}

static void usage(void)
{
	fprintf(stderr, "usage: recover_loop --vhost-user PATH [--server] [--ring split|packed] [--stall-ms MS]\n"
	                "                    [--reconnect-ms MS] [--window N] [--resume-echoes N] [--fault-timeout-ms MS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct loop l;
	struct vnet_port_opts o;
	memset(&o, 0, sizeof(o));
	o.ring = VNET_NET_RING_SPLIT;
	o.stall_timeout_ms = 300;
	o.reconnect_ms = 100;
	o.connect_timeout_ms = 30000;
	o.pool_size = 1024;
	l.window = 64;
	l.resume_echoes = 64;
	l.fault_timeout_ms = 30000;
	static const struct option lo[] = {
		{"vhost-user", required_argument, 0, 'u'},   {"server", no_argument, 0, 's'},
		{"ring", required_argument, 0, 'r'},         {"stall-ms", required_argument, 0, 't'},
		{"reconnect-ms", required_argument, 0, 'c'}, {"window", required_argument, 0, 'w'},
		{"resume-echoes", required_argument, 0, 'e'}, {"fault-timeout-ms", required_argument, 0, 'f'},
		{0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'u': o.socket_path = optarg; break;
		case 's': o.server = true; break;
		case 'r':
			if (!strcmp(optarg, "split"))
				o.ring = VNET_NET_RING_SPLIT;
			else if (!strcmp(optarg, "packed"))
				o.ring = VNET_NET_RING_PACKED;
			else
				usage();
			break;
		case 't': o.stall_timeout_ms = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'c': o.reconnect_ms = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'w': l.window = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'e': l.resume_echoes = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'f': l.fault_timeout_ms = (unsigned)strtoul(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (!o.socket_path || !l.window || l.window > 256)
		usage();
	int rc = vnet_port_open(&o, &l.port);
	if (rc != VNET_OK) {
		fprintf(stderr, "recover_loop: open %s: %s\n", o.socket_path, vnet_strerror(rc));
		return 1;
	}
	l.net = vnet_port_net(l.port);
	l.pool_total = vnet_net_pool_free_count(l.net) + vnet_vq_outstanding(vnet_net_rxq(l.net, 0)) +
	               vnet_vq_outstanding(vnet_net_txq(l.net, 0));
	l.last_rx_ns = now_ns();
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	char line[256];
	size_t have = 0;
	bool run = true, eof = false;
	printf("{\"ready\":true,\"pool_total\":%u}\n", l.pool_total);
	fflush(stdout);
	uint64_t prev_pass = now_ns();
	while (run) {
		/* A pass that started long after the previous one: this process
		 * was not running (a loaded or paused machine).  A fault that the
		 * loop could not see at all shows as a gap of about its length. */
		uint64_t pass = now_ns();
		if (l.f.active && pass - prev_pass > l.f.max_gap_ns)
			l.f.max_gap_ns = pass - prev_pass;
		prev_pass = pass;
		struct pollfd pf = {.fd = eof ? -1 : 0, .events = POLLIN};
		vnet_port_service_fds(l.port, 0, &pf, 1);
		if (!vnet_port_is_up(l.port)) {
			/* down: wait for the back-end, still reading commands */
			struct pollfd in = {.fd = eof ? -1 : 0, .events = POLLIN};
			poll(&in, 1, 5);
			pf.revents = in.revents;
		} else {
			data_path(&l);
		}
		if (pf.revents & (POLLIN | POLLHUP)) {
			ssize_t r = read(0, line + have, sizeof(line) - 1 - have);
			if (r == 0)
				eof = true;
			if (r > 0) {
				have += (size_t)r;
				line[have] = 0;
				char *nl;
				while (run && (nl = strchr(line, '\n'))) {
					*nl = 0;
					run = command(&l, line);
					size_t used = (size_t)(nl + 1 - line);
					memmove(line, nl + 1, have - used);
					have -= used;
					line[have] = 0;
				}
				if (have == sizeof(line) - 1)
					have = 0;
			}
		}
		fault_progress(&l);
		if (eof && !l.f.active)
			run = false;
	}
	if (l.f.active)
		report(&l, true);
	struct vnet_port_stats ps;
	vnet_port_get_stats(l.port, &ps);
	printf("{\"summary\":true,\"faults\":%u,\"faults_ok\":%u,\"sent\":%" PRIu64 ",\"received\":%" PRIu64
	       ",\"lost\":%" PRIu64 ",\"late\":%" PRIu64 ",\"dup\":%" PRIu64 ",\"foreign\":%" PRIu64
	       ",\"connects\":%" PRIu64 ",\"disconnects\":%" PRIu64 ",\"stalls\":%" PRIu64 ",\"stall_gave_up\":%" PRIu64
	       "}\n",
	       l.faults, l.faults_ok, l.sent, l.received, l.lost, l.late, l.dup, l.foreign, ps.connects, ps.disconnects,
	       ps.stalls, ps.stall_gave_up);
	fflush(stdout);
	vnet_port_close(l.port);
	return l.faults_ok == l.faults ? 0 : 1;
}
