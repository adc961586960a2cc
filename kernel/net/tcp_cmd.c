/*
 * The `tcp` shell command: bulk transfers over tcp.c with a checked
 * pattern, for tests against a Linux peer (tests/integration/tcp_peer.py).
 *
 *   tcp send A.B.C.D PORT BYTES [vnetN]   connect, send BYTES, close
 *   tcp recv PORT [SECONDS]               accept one connection (waiting up
 *                                         to SECONDS, default 60), receive
 *                                         until FIN, close
 *   tcp stats                             counters since boot, last connection
 *
 * Byte i of every stream is i mod 251 (a prime, so the pattern does not
 * line up with segment, page or buffer sizes and a misplaced segment is
 * seen).  The receiver checks every byte and prints the byte count, the
 * time from ESTABLISHED to the peer's FIN, the throughput and the first
 * mismatch (offset, byte received, byte expected) with the number of
 * wrong bytes.  The sender prints the time from ESTABLISHED until its
 * data and FIN were acknowledged.  Either fails (status 1, "FAIL" in the
 * line) on an abort, a stall (no progress for TCP_CMD_STALL_NS), or a
 * mismatch.
 *
 * Context: main context; tcp.c takes the stack's lock.  The fill and
 * check callbacks run with the lock held.
 */
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/net.h"
#include "orion/shell.h"
#include "orion/timer.h"
#include "net_priv.h"
#include "tcp.h"

#define MS_NS ((uint64_t)1000000)
#define TCP_CMD_PATTERN 251u
#define TCP_CMD_STALL_NS (15000 * MS_NS)   /* no byte acknowledged or received for this long */
#define TCP_CMD_LISTEN_S 60u

static struct {
	uint64_t bytes, wrong, first_off;
	uint8_t got, want;
} chk;

static void pattern_fill(void *arg, uint64_t off, uint8_t *buf, size_t len)
{
	(void)arg;
	unsigned v = (unsigned)(off % TCP_CMD_PATTERN);
	for (size_t i = 0; i < len; i++) {
		buf[i] = (uint8_t)v;
		if (++v == TCP_CMD_PATTERN)
			v = 0;
	}
}

static void pattern_check(void *arg, uint64_t off, const uint8_t *data, size_t len)
{
	(void)arg;
	unsigned v = (unsigned)(off % TCP_CMD_PATTERN);
	for (size_t i = 0; i < len; i++) {
		if (data[i] != v) {
			if (!chk.wrong) {
				chk.first_off = off + i;
				chk.got = data[i];
				chk.want = (uint8_t)v;
			}
			chk.wrong++;
		}
		if (++v == TCP_CMD_PATTERN)
			v = 0;
	}
	chk.bytes += len;
}

/* "N.NN Mbit/s" of bytes over ns, in integers (no FPU in the kernel). */
static void fmt_rate(char *buf, size_t n, uint64_t bytes, uint64_t ns)
{
	if (!ns)
		ns = 1;
	/* bytes * 8 bits * 100 (two decimals) * 1000 (ns -> us) / ns = centi-Mbit/s */
	uint64_t c = bytes * 800000ull / ns;
	ksnprintf(buf, n, "%lu.%02lu Mbit/s", c / 100, c % 100);
}

/* Run the connection until it is over; false if it stalled (aborted). */
static bool run(uint64_t listen_deadline)
{
	struct tcp_info ti;
	uint64_t last = ~0ull, t_prog = timer_ns();
	while (!tcp_done()) {
		net_wait_once();
		tcp_poll();
		tcp_get_info(&ti);
		uint64_t now = timer_ns();
		if (ti.state == TCP_LISTEN) {
			if (now > listen_deadline) {
				tcp_abort("no connection");
				return false;
			}
			t_prog = now;
			continue;
		}
		uint64_t prog = ti.acked + ti.received + ti.state;
		if (prog != last) {
			last = prog;
			t_prog = now;
		} else if (now - t_prog > TCP_CMD_STALL_NS) {
			tcp_abort("stalled: no progress for 15 s");
			return false;
		}
	}
	return true;
}

static void print_conn(const char *what, const struct tcp_info *ti)
{
	struct tcp_stats s;
	tcp_get_stats(&s);
	kprintf("%s: mss %u (peer %u), csum offload %s, tso %s, retransmits %lu, timeouts %lu, fast %lu\n", what,
		ti->mss, ti->peer_mss, ti->csum ? "yes" : "no", ti->tso ? "yes" : "no", s.retransmits, s.timeouts,
		s.fast_retransmits);
}

static int cmd_send(int argc, char **argv)
{
	uint32_t ip;
	uint64_t port, bytes;
	int ifn = -1;
	if (argc == 6 && (ifn = net_if_parse(argv[5])) >= 0)
		argc--;
	if (argc != 5 || !net_parse_ip(argv[2], &ip) || !kstrtou64(argv[3], &port) || port == 0 || port > 65535 ||
	    !kstrtou64(argv[4], &bytes)) {
		kprintf("usage: tcp send A.B.C.D PORT BYTES [vnetN]\n");
		return 1;
	}
	if (ifn < 0)
		ifn = (int)net_if_for(ip);
	if (!netdev_up(net_if_dev((unsigned)ifn)) || !net_cfg((unsigned)ifn)) {
		kprintf("tcp send: FAIL vnet%d is not up\n", ifn);
		return 1;
	}
	uint8_t mac[6];
	char ipb[16];
	net_fmt_ip(ip, ipb);
	if (!net_arp_resolve((unsigned)ifn, net_next_hop((unsigned)ifn, ip), mac, 1000 * MS_NS, 3)) {
		kprintf("tcp send: FAIL no ARP reply for the next hop to %s\n", ipb);
		return 1;
	}
	if (tcp_connect((unsigned)ifn, mac, ip, (uint16_t)port, bytes, pattern_fill, NULL) != 0) {
		kprintf("tcp send: FAIL a connection is in progress\n");
		return 1;
	}
	run(0);
	struct tcp_info ti;
	tcp_get_info(&ti);
	print_conn("tcp send", &ti);
	if (ti.error || ti.acked != bytes || !ti.t_established_ns) {
		kprintf("tcp send: FAIL %s after %lu of %lu bytes acknowledged (state %s)\n",
			ti.error ? ti.error : "connection ended early", ti.acked, bytes, tcp_state_name(ti.state));
		return 1;
	}
	uint64_t ns = ti.t_done_ns - ti.t_established_ns;
	char rate[32];
	fmt_rate(rate, sizeof(rate), bytes, ns);
	kprintf("tcp send: %lu bytes to %s:%lu in %lu ms, %s\n", bytes, ipb, port, ns / MS_NS, rate);
	return 0;
}

static int cmd_recv(int argc, char **argv)
{
	uint64_t port, secs = TCP_CMD_LISTEN_S;
	if (argc < 3 || argc > 4 || !kstrtou64(argv[2], &port) || port == 0 || port > 65535 ||
	    (argc == 4 && (!kstrtou64(argv[3], &secs) || secs == 0 || secs > 3600))) {
		kprintf("usage: tcp recv PORT [SECONDS]\n");
		return 1;
	}
	memset(&chk, 0, sizeof(chk));
	if (tcp_listen((uint16_t)port, pattern_check, NULL) != 0) {
		kprintf("tcp recv: FAIL a connection is in progress\n");
		return 1;
	}
	kprintf("tcp recv: listening on port %lu\n", port);
	run(timer_ns() + secs * 1000 * MS_NS);
	struct tcp_info ti;
	tcp_get_info(&ti);
	print_conn("tcp recv", &ti);
	char ipb[16], rate[32];
	net_fmt_ip(ti.remote_ip, ipb);
	uint64_t ns = ti.t_done_ns > ti.t_established_ns ? ti.t_done_ns - ti.t_established_ns : 0;
	fmt_rate(rate, sizeof(rate), chk.bytes, ns);
	if (chk.wrong)
		kprintf("tcp recv: first mismatch at byte %lu: got %u expected %u (%lu bytes wrong)\n", chk.first_off,
			chk.got, chk.want, chk.wrong);
	else
		kprintf("tcp recv: first mismatch: none\n");
	bool ok = !ti.error && ti.t_established_ns && !chk.wrong;
	kprintf("tcp recv: %s%s%s%lu bytes from %s:%u in %lu ms, %s\n", ok ? "" : "FAIL ", ti.error ? ti.error : "",
		ti.error ? ", " : "", chk.bytes, ipb, ti.remote_port, ns / MS_NS, rate);
	return ok ? 0 : 1;
}

static int cmd_stats(void)
{
	struct tcp_stats s;
	struct tcp_info ti;
	tcp_get_stats(&s);
	tcp_get_info(&ti);
	kprintf("tcp: rx segs %lu bad_csum %lu bad_hdr %lu csum_offloaded %lu coalesced %lu no_conn %lu "
		"unacceptable %lu out_of_order %lu dup %lu rst_rx %lu\n",
		s.rx_segs, s.rx_bad_csum, s.rx_bad_hdr, s.rx_csum_offloaded, s.rx_coalesced, s.rx_no_conn,
		s.rx_unacceptable, s.rx_out_of_order, s.rx_dup, s.rst_rx);
	kprintf("tcp: tx segs %lu csum_offloaded %lu tso %lu tso_bytes %lu fail %lu rst_tx %lu retransmits %lu "
		"timeouts %lu fast %lu\n",
		s.tx_segs, s.tx_csum_offloaded, s.tx_tso, s.tx_tso_bytes, s.tx_fail, s.rst_tx, s.retransmits,
		s.timeouts, s.fast_retransmits);
	char l[16], r[16];
	kprintf("tcp: last connection %s %s:%u -> %s:%u state %s acked %lu received %lu%s%s\n",
		ti.sender ? "send" : "recv", net_fmt_ip(ti.local_ip, l), ti.local_port, net_fmt_ip(ti.remote_ip, r),
		ti.remote_port, tcp_state_name(ti.state), ti.acked, ti.received, ti.error ? " error: " : "",
		ti.error ? ti.error : "");
	return 0;
}

static int cmd_tcp(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "send"))
		return cmd_send(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "recv"))
		return cmd_recv(argc, argv);
	if (argc == 2 && !strcmp(argv[1], "stats"))
		return cmd_stats();
	kprintf("usage: tcp send A.B.C.D PORT BYTES [vnetN] | tcp recv PORT [SECONDS] | tcp stats\n");
	return 1;
}

static const struct shell_cmd tcp_cmd = {
	"tcp", "tcp send A.B.C.D PORT BYTES [vnetN] | recv PORT [SECONDS] | stats: bulk TCP, byte i = i mod 251",
	cmd_tcp};

void net_tcp_shell_init(void) { shell_register(&tcp_cmd); }
