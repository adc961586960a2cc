/*
 * vnet-bench: drive a vhost-user back-end (dpdk-testpmd with the vhost PMD,
 * OVS-DPDK ...) through a libvnet port and measure it, in the spirit of
 * testpmd's forwarding modes.  One queue pair, one thread, poll mode.
 *
 *   tx       send --size byte frames as fast as the ring takes them
 *            (back-end: testpmd rxonly);
 *   rx       receive and count (back-end: testpmd txonly);
 *   echo     send frames stamped with a sequence number and a checksum of
 *            the payload, verify every frame that comes back (back-end:
 *            testpmd macswap): lost, corrupt, duplicate, out-of-order;
 *   latency  one frame in flight at a time, round trip measured with
 *            CLOCK_MONOTONIC, percentiles over every sample.
 *
 * What it measures honestly and what it skips: every transmitted packet is
 * a complete Ethernet frame of exactly --size bytes in a pool buffer.  The
 * frame bytes of a tx-mode packet are written the first time its pool
 * buffer is used and left in place afterwards (the device only reads
 * transmit buffers, spec 2.7.4 / 2.8.x "device-readable"); a buffer that
 * came back through rx_burst is written again before it is sent.  This is
 * the same per-packet work as a forwarding application that builds its
 * headers once; the driver's own per-packet costs (virtio-net header, ring
 * descriptor, reclaim) are all paid.
 *
 * It prints the rates every second (unless --quiet), a summary at the end
 * and, with --json, one JSON object as the LAST line of stdout.  Every
 * error goes to stderr with its cause; the exit status is 0 only when the
 * run completed (and, in echo mode, nothing came back corrupt).
 *
 * --control PATH: a control socket (tools/common/vnet_ctlsrv.h, the one
 * vnetd serves, with the same access control) answering the read-only
 * management commands for the bench's device "vnet0", so that `vnetctl
 * monitor` can watch a run.  It is served between bursts, from the 1 ms
 * port service tick, every 10th tick (~10 ms): no cost per frame.  Each
 * performance_stats sample is logged on stderr with the bench's own
 * counters at that instant ("control: sample at clock_ns T: tx N rx M"),
 * so the monitor's figures can be checked against the bench's.
 *
 * Back-end loss is survived: the port reconnects (client) or accepts again
 * (server); the JSON reports connects/disconnects/inflight_reclaimed and
 * the idle buffers (pool_free_*: in the pool or posted to the receive ring,
 * i.e. neither the application's nor in transmit) after start and after the
 * final drain, which must be equal when every buffer has been accounted
 * for.  The receive ring is counted because the port reposts receive
 * buffers in batches (vnet_net_opts.rx_refill_batch), so at the end it may
 * hold a few fewer than at the start.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vnet/net.h"
#include "vnet/vnet_error.h"
#include "vnet/vnet_port.h"
#include "vnet_ctlsrv.h"

#define BENCH_MAX_BURST 512u
#define BENCH_ETHERTYPE 0x88b5u       /* IEEE 802 local experimental: nobody else parses it */
#define BENCH_MAGIC 0x564e4245u       /* "VNBE" */
#define BENCH_WARMUP_MAGIC 0x564e4257u /* "VNBW": warm-up probes, never counted */
#define BENCH_HDR_OFF 14u             /* stamp follows the Ethernet header */
#define BENCH_PAYLOAD_OFF 34u         /* 14 eth + magic 4 + seq 8 + len 4 + csum 4 */
#define BENCH_MIN_FRAME 60u           /* Ethernet minimum without FCS */
#define BENCH_MAX_FRAME 1514u
#define BENCH_TX_HDR_LEN 42u          /* eth 14 + IPv4 20 + UDP 8, --rewrite-headers */         /* no jumbo: one buffer per frame */

enum bench_mode { MODE_TX, MODE_RX, MODE_ECHO, MODE_LATENCY };
static const char *const mode_names[] = {"tx", "rx", "echo", "latency"};

struct bench_cfg {
	const char *path;
	bool server;
	enum bench_mode mode;
	enum vnet_net_ring ring;
	uint16_t queue_size;
	unsigned burst;
	unsigned size;
	double seconds;
	uint64_t count;
	bool json;
	bool quiet;
	unsigned window;          /* echo: frames in flight */
	unsigned drain_ms;        /* echo/tx: wait for the tail at the end */
	unsigned connect_timeout_ms;
	unsigned reconnect_ms;
	unsigned ping_timeout_ms; /* latency: a ping not back by then is lost */
	bool interrupt_mode;
	bool rewrite_headers;     /* tx: write Ethernet/IPv4/UDP headers into every frame */
	const char *control;      /* --control PATH: control socket, NULL: none */
};

struct bench_state {
	struct vnet_port *port;
	struct vnet_net *net;
	struct bench_cfg cfg;
	/* tx-mode frame cache: data pointer of each pool buffer already holding our frame */
	uint8_t hdr_tmpl[BENCH_TX_HDR_LEN]; /* --rewrite-headers: eth + IPv4 + UDP */
	uint8_t **prepared;
	uint32_t prepared_cap;
	/* counters */
	uint64_t tx_pkts, rx_pkts, rx_bytes;
	uint64_t errors;          /* our own accounting of bad events (see summary) */
	uint64_t corrupt, duplicates, out_of_order, foreign;
	uint64_t rx_after_reconnect;
	/* echo sequence bookkeeping */
	uint8_t *seen;            /* bitmap of received sequence numbers */
	uint64_t seen_cap;        /* bits */
	uint64_t next_expected;
	uint64_t received_unique;
	uint64_t written_off;     /* in flight when the back-end was lost (window accounting) */
	/* latency */
	uint64_t *samples;
	uint64_t nsamples, samples_cap, ping_lost;
	/* port bookkeeping */
	uint64_t last_disconnects;
	uint32_t pool_free_initial;
	struct vnet_ctlsrv ctl;   /* --control (ctl.fd -1: none) */
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

/* Buffers neither held by the application nor in transmit. */
static uint32_t idle_buffers(struct vnet_net *net)
{
	return vnet_net_pool_free_count(net) + vnet_vq_outstanding(vnet_net_rxq(net, 0));
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: vnet-bench --vhost-user PATH [--server] --mode tx|rx|echo|latency\n"
	        "                  [--ring split|packed|auto] [--queue-size N] [--burst N] [--size BYTES]\n"
	        "                  [--seconds S | --count N] [--json] [--quiet]\n"
	        "                  [--window N] [--drain-ms MS] [--connect-timeout-ms MS]\n"
	        "                  [--reconnect-ms MS] [--ping-timeout-ms MS] [--interrupt]\n"
	        "                  [--rewrite-headers]   (tx: write eth/IPv4/UDP headers per frame, like testpmd txonly)\n"
	        "                  [--control PATH]      (read-only management commands for vnetctl, device vnet0)\n"
	        "defaults: --ring split --queue-size 256 --burst 32 --size 64 --seconds 10\n");
}

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* An unsigned option in [lo, hi]; prints "--NAME must be LO..HI" otherwise. */
static bool opt_unsigned(const char *name, const char *arg, uint64_t lo, uint64_t hi, unsigned *dst)
{
	uint64_t v;
	if (!parse_u64(arg, lo, hi, &v)) {
		fprintf(stderr, "vnet-bench: --%s must be %llu..%llu\n", name, (unsigned long long)lo,
		        (unsigned long long)hi);
		return false;
	}
	*dst = (unsigned)v;
	return true;
}

static int parse_args(int argc, char **argv, struct bench_cfg *c)
{
	enum { O_WINDOW = 256, O_DRAIN, O_CTO, O_RECON, O_PTO, O_INTR, O_REWRITE, O_CONTROL };
	static const struct option opts[] = {
		{"vhost-user", required_argument, 0, 'p'}, {"server", no_argument, 0, 'S'},
		{"mode", required_argument, 0, 'm'},       {"ring", required_argument, 0, 'r'},
		{"queue-size", required_argument, 0, 'q'}, {"burst", required_argument, 0, 'b'},
		{"size", required_argument, 0, 's'},       {"seconds", required_argument, 0, 't'},
		{"count", required_argument, 0, 'n'},      {"json", no_argument, 0, 'j'},
		{"quiet", no_argument, 0, 'Q'},            {"help", no_argument, 0, 'h'},
		{"window", required_argument, 0, O_WINDOW}, {"drain-ms", required_argument, 0, O_DRAIN},
		{"connect-timeout-ms", required_argument, 0, O_CTO},
		{"reconnect-ms", required_argument, 0, O_RECON},
		{"ping-timeout-ms", required_argument, 0, O_PTO},
		{"interrupt", no_argument, 0, O_INTR},
		{"rewrite-headers", no_argument, 0, O_REWRITE}, {"control", required_argument, 0, O_CONTROL},
		{0, 0, 0, 0},
	};
	memset(c, 0, sizeof(*c));
	c->mode = (enum bench_mode)-1;
	c->ring = VNET_NET_RING_SPLIT;
	c->queue_size = 256;
	c->burst = 32;
	c->size = 64;
	c->drain_ms = 500;
	c->connect_timeout_ms = 5000;
	c->ping_timeout_ms = 100;
	bool have_seconds = false;
	int o;
	uint64_t v;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'p': c->path = optarg; break;
		case 'S': c->server = true; break;
		case 'm':
			for (int i = 0; i < 4; i++)
				if (!strcmp(optarg, mode_names[i]))
					c->mode = (enum bench_mode)i;
			if ((int)c->mode < 0) {
				fprintf(stderr, "vnet-bench: unknown mode '%s' (tx, rx, echo, latency)\n", optarg);
				return -1;
			}
			break;
		case 'r':
			if (!strcmp(optarg, "split"))
				c->ring = VNET_NET_RING_SPLIT;
			else if (!strcmp(optarg, "packed"))
				c->ring = VNET_NET_RING_PACKED;
			else if (!strcmp(optarg, "auto"))
				c->ring = VNET_NET_RING_AUTO;
			else {
				fprintf(stderr, "vnet-bench: unknown ring '%s' (split, packed, auto)\n", optarg);
				return -1;
			}
			break;
		case 'q':
			/* split rings need a power of two (spec 2.7); packed rings
			 * do not, but the back-ends we test are happier with one. */
			if (!parse_u64(optarg, 2, 32768, &v) || (v & (v - 1))) {
				fprintf(stderr, "vnet-bench: --queue-size must be a power of two in 2..32768\n");
				return -1;
			}
			c->queue_size = (uint16_t)v;
			break;
		case 'b':
			if (!parse_u64(optarg, 1, BENCH_MAX_BURST, &v)) {
				fprintf(stderr, "vnet-bench: --burst must be 1..%u\n", BENCH_MAX_BURST);
				return -1;
			}
			c->burst = (unsigned)v;
			break;
		case 's':
			if (!parse_u64(optarg, BENCH_MIN_FRAME, BENCH_MAX_FRAME, &v)) {
				fprintf(stderr, "vnet-bench: --size must be %u..%u bytes (Ethernet frame without FCS)\n",
				        BENCH_MIN_FRAME, BENCH_MAX_FRAME);
				return -1;
			}
			c->size = (unsigned)v;
			break;
		case 't': {
			char *end;
			c->seconds = strtod(optarg, &end);
			if (end == optarg || *end || !(c->seconds > 0) || c->seconds > 86400) {
				fprintf(stderr, "vnet-bench: --seconds must be a positive number\n");
				return -1;
			}
			have_seconds = true;
			break;
		}
		case 'n':
			if (!parse_u64(optarg, 1, UINT64_MAX / 2, &c->count)) {
				fprintf(stderr, "vnet-bench: --count must be a positive integer\n");
				return -1;
			}
			break;
		case 'j': c->json = true; break;
		case 'Q': c->quiet = true; break;
		case 'h': usage(stdout); exit(0);
		case O_WINDOW:
			if (!opt_unsigned("window", optarg, 1, 32768, &c->window))
				return -1;
			break;
		case O_DRAIN:
			if (!opt_unsigned("drain-ms", optarg, 0, 600000, &c->drain_ms))
				return -1;
			break;
		case O_CTO:
			if (!opt_unsigned("connect-timeout-ms", optarg, 1, 3600000, &c->connect_timeout_ms))
				return -1;
			break;
		case O_RECON:
			if (!opt_unsigned("reconnect-ms", optarg, 1, 3600000, &c->reconnect_ms))
				return -1;
			break;
		case O_PTO:
			if (!opt_unsigned("ping-timeout-ms", optarg, 1, 60000, &c->ping_timeout_ms))
				return -1;
			break;
		case O_INTR: c->interrupt_mode = true; break;
		case O_REWRITE: c->rewrite_headers = true; break;
		case O_CONTROL: c->control = optarg; break;
		default:
			fprintf(stderr, "vnet-bench: bad option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vnet-bench: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!c->path || !*c->path) {
		fprintf(stderr, "vnet-bench: --vhost-user PATH is required\n");
		usage(stderr);
		return -1;
	}
	if ((int)c->mode < 0) {
		fprintf(stderr, "vnet-bench: --mode is required (tx, rx, echo, latency)\n");
		return -1;
	}
	if (have_seconds && c->count) {
		fprintf(stderr, "vnet-bench: give --seconds or --count, not both\n");
		return -1;
	}
	if (!have_seconds && !c->count)
		c->seconds = 10;
	if (!c->window)
		c->window = c->queue_size / 2;
	return 0;
}

/* ------------------------------------------------------------ frame helpers */

static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static void fill_eth(uint8_t *f)
{
	static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x02}; /* locally administered */
	static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x01};
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = BENCH_ETHERTYPE >> 8;
	f[13] = BENCH_ETHERTYPE & 0xff;
}

/* FNV-1a over the sequence number and the payload: a flipped, shifted or
 * swapped byte anywhere after the MAC addresses changes it.  The MACs are
 * left out because testpmd's macswap rewrites them on purpose. */
static uint32_t frame_sum(uint64_t seq, const uint8_t *payload, unsigned n)
{
	uint32_t h = 2166136261u;
	for (unsigned i = 0; i < 8; i++)
		h = (h ^ (uint8_t)(seq >> (8 * i))) * 16777619u;
	for (unsigned i = 0; i < n; i++)
		h = (h ^ payload[i]) * 16777619u;
	return h;
}

/* Echo/latency frame: eth | magic | seq | len | csum | pattern derived from seq. */
static void stamp_frame(uint8_t *f, unsigned size, uint64_t seq)
{
	fill_eth(f);
	put_u32(f + BENCH_HDR_OFF, BENCH_MAGIC);
	put_u64(f + BENCH_HDR_OFF + 4, seq);
	put_u32(f + BENCH_HDR_OFF + 12, size);
	uint8_t *pl = f + BENCH_PAYLOAD_OFF;
	unsigned n = size - BENCH_PAYLOAD_OFF;
	for (unsigned i = 0; i < n; i++)
		pl[i] = (uint8_t)(seq * 7u + i);
	put_u32(f + BENCH_HDR_OFF + 16, frame_sum(seq, pl, n));
}

enum verdict { V_OK, V_CORRUPT, V_FOREIGN, V_WARMUP };

/* Check a returned frame; *seq is valid on V_OK. */
static enum verdict check_frame(const struct vnet_pkt *p, unsigned size, uint64_t *seq)
{
	if (p->next || p->pkt_len != p->len)
		return V_CORRUPT; /* our frames always fit one buffer */
	if (p->len < BENCH_PAYLOAD_OFF)
		return V_FOREIGN;
	const uint8_t *f = p->data;
	if (get_u32(f + BENCH_HDR_OFF) == BENCH_WARMUP_MAGIC)
		return V_WARMUP;
	if (f[12] != (BENCH_ETHERTYPE >> 8) || f[13] != (BENCH_ETHERTYPE & 0xff) ||
	    get_u32(f + BENCH_HDR_OFF) != BENCH_MAGIC)
		return p->len == size ? V_CORRUPT : V_FOREIGN;
	if (p->len != size || get_u32(f + BENCH_HDR_OFF + 12) != size)
		return V_CORRUPT;
	*seq = get_u64(f + BENCH_HDR_OFF + 4);
	if (frame_sum(*seq, f + BENCH_PAYLOAD_OFF, size - BENCH_PAYLOAD_OFF) != get_u32(f + BENCH_HDR_OFF + 16))
		return V_CORRUPT;
	return V_OK;
}

/* The 42 header bytes as two 16-byte, one 8-byte and one 2-byte move (each
 * memcpy of a constant size is one load and one store).  A plain 42-byte memcpy
 * became `rep movsb` (GCC 12, -O2), whose start-up cost was a quarter of
 * the whole TX loop in a profile (docs/performance.md); testpmd's txonly
 * copies its headers with rte_memcpy's vector moves, so this is the same
 * work done the usual way. */
static inline void hdr_copy(uint8_t *d, const uint8_t *t)
{
	_Static_assert(BENCH_TX_HDR_LEN == 42, "hdr_copy moves 42 bytes");
	/* Written out: GCC 12 -O2 kept a loop of 8-byte moves here (15 loop
	 * instructions per frame, callgrind). */
	memcpy(d, t, 16);
	memcpy(d + 16, t + 16, 16);
	memcpy(d + 32, t + 32, 8);
	memcpy(d + 40, t + 40, 2);
}

/* tx mode: make sure pool buffer p holds our frame (see the file comment). */
static bool tx_prepare(struct bench_state *s, struct vnet_pkt *p)
{
	uint32_t idx = p->idx;
	if (idx >= s->prepared_cap) {
		uint32_t cap = s->prepared_cap ? s->prepared_cap : 1024;
		while (cap <= idx)
			cap *= 2;
		uint8_t **n = realloc(s->prepared, cap * sizeof(*n));
		if (!n)
			return false;
		memset(n + s->prepared_cap, 0, (cap - s->prepared_cap) * sizeof(*n));
		s->prepared = n;
		s->prepared_cap = cap;
	}
	if (s->prepared[idx] != p->data) {
		fill_eth(p->data);
		memset(p->data + 14, 0, s->cfg.size - 14);
		s->prepared[idx] = p->data;
	}
	/* Equal work per frame with testpmd txonly, which copies its
	 * Ethernet/IPv4/UDP headers into every mbuf it sends. */
	if (s->cfg.rewrite_headers)
		hdr_copy(p->data, s->hdr_tmpl);
	p->len = s->cfg.size;
	p->pkt_len = s->cfg.size;
	return true;
}

/* The --rewrite-headers template: 02:..:01 -> 02:..:02, IPv4 198.18.0.1 ->
 * 198.18.0.2 (benchmarking range, RFC 2544), UDP 9 -> 9, lengths for size. */
static void build_hdr_tmpl(uint8_t *h, unsigned size)
{
	fill_eth(h);
	h[12] = 0x08;
	h[13] = 0x00;
	uint8_t *ip = h + 14;
	unsigned ip_len = size - 14, udp_len = size - 34;
	memset(ip, 0, 28);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ip_len >> 8);
	ip[3] = (uint8_t)ip_len;
	ip[8] = 64;
	ip[9] = 17;
	const uint8_t addrs[8] = {198, 18, 0, 1, 198, 18, 0, 2};
	memcpy(ip + 12, addrs, 8);
	uint32_t sum = 0;
	for (unsigned i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	uint8_t *udp = ip + 20;
	udp[1] = 9;
	udp[3] = 9;
	udp[4] = (uint8_t)(udp_len >> 8);
	udp[5] = (uint8_t)udp_len;
}

/* A buffer that went through rx holds someone else's bytes now. */
static void forget_prepared(struct bench_state *s, const struct vnet_pkt *p)
{
	for (; p; p = p->next)
		if (p->idx < s->prepared_cap)
			s->prepared[p->idx] = NULL;
}

static bool seen_test_and_set(struct bench_state *s, uint64_t seq)
{
	if (seq >= s->seen_cap) {
		uint64_t cap = s->seen_cap ? s->seen_cap : (1u << 20);
		while (cap <= seq)
			cap *= 2;
		uint8_t *n = realloc(s->seen, cap / 8);
		if (!n) {
			fprintf(stderr, "vnet-bench: out of memory for the sequence bitmap\n");
			exit(2);
		}
		memset(n + s->seen_cap / 8, 0, (cap - s->seen_cap) / 8);
		s->seen = n;
		s->seen_cap = cap;
	}
	uint8_t bit = (uint8_t)(1u << (seq & 7));
	bool was = s->seen[seq >> 3] & bit;
	s->seen[seq >> 3] |= bit;
	return was;
}

/* ------------------------------------------------------------ port upkeep */

struct ticker {
	uint64_t t_start, t_next_service, t_next_report, t_last_report;
	uint64_t last_tx, last_rx;
	unsigned services;        /* port service ticks: the control socket every 10th */
};

/* Service the port (every ms) and print the per-second line.  Also notices
 * back-end loss for the echo window accounting. */
static void upkeep(struct bench_state *s, struct ticker *tk, uint64_t now)
{
	if (now >= tk->t_next_service) {
		int rc = vnet_port_service(s->port, 0);
		(void)rc; /* the port logs and keeps trying; we report its stats */
		tk->t_next_service = now + 1000000;
		if (s->ctl.fd >= 0 && ++tk->services % 10 == 0)
			vnet_ctlsrv_serve(&s->ctl);
		struct vnet_port_stats ps;
		vnet_port_get_stats(s->port, &ps);
		if (ps.disconnects != s->last_disconnects) {
			s->last_disconnects = ps.disconnects;
			s->rx_after_reconnect = 0;
			/* Whatever was in flight is gone with the back-end: stop
			 * waiting for it (it still counts as lost at the end). */
			uint64_t back = s->received_unique + s->written_off;
			if (s->tx_pkts > back)
				s->written_off += s->tx_pkts - back;
		}
	}
	if (now >= tk->t_next_report) {
		double dt = (double)(now - tk->t_last_report) / 1e9;
		if (!s->cfg.quiet) {
			struct vnet_port_stats ps;
			vnet_port_get_stats(s->port, &ps);
			printf("[%7.1fs] tx %8.3f Mpps  rx %8.3f Mpps  %s  connects %" PRIu64 " disconnects %" PRIu64 "\n",
			       (double)(now - tk->t_start) / 1e9, (double)(s->tx_pkts - tk->last_tx) / dt / 1e6,
			       (double)(s->rx_pkts - tk->last_rx) / dt / 1e6, vnet_port_is_up(s->port) ? "up" : "DOWN",
			       ps.connects, ps.disconnects);
			fflush(stdout);
		}
		tk->last_tx = s->tx_pkts;
		tk->last_rx = s->rx_pkts;
		tk->t_last_report = now;
		tk->t_next_report += 1000000000ull;
	}
}

static void ticker_init(struct ticker *tk)
{
	memset(tk, 0, sizeof(*tk));
	tk->t_start = now_ns();
	tk->t_last_report = tk->t_start;
	tk->t_next_report = tk->t_start + 1000000000ull;
	tk->t_next_service = tk->t_start;
}

/* Receive and hand every frame to the mode's handler; returns frames. */
static unsigned rx_poll(struct bench_state *s, struct vnet_pkt **pkts, unsigned n);

static void handle_echo_frame(struct bench_state *s, struct vnet_pkt *p)
{
	uint64_t seq = 0;
	switch (check_frame(p, s->cfg.size, &seq)) {
	case V_FOREIGN:
		s->foreign++;
		return;
	case V_WARMUP:
		return;
	case V_CORRUPT:
		s->corrupt++;
		return;
	case V_OK:
		break;
	}
	if (seq >= s->tx_pkts) {
		s->corrupt++; /* a sequence number we never sent: checksum collision or forgery */
		return;
	}
	if (seen_test_and_set(s, seq)) {
		s->duplicates++;
		return;
	}
	s->received_unique++;
	if (seq != s->next_expected)
		s->out_of_order++;
	s->next_expected = seq + 1;
}

static void rx_one(void *arg, struct vnet_pkt *p)
{
	struct bench_state *s = arg;
	s->rx_bytes += p->pkt_len;
	if (s->cfg.mode == MODE_ECHO)
		handle_echo_frame(s, p);
	else if (s->cfg.mode == MODE_TX)
		forget_prepared(s, p);
	vnet_net_pkt_free(s->net, p);
}

static unsigned rx_poll(struct bench_state *s, struct vnet_pkt **pkts, unsigned n)
{
	unsigned got;
	/* Interrupt mode runs the port's service loop (vnet_port_poll: a
	 * draining poll re-arms the rx notifications); poll mode the burst API. */
	if (s->cfg.interrupt_mode) {
		got = vnet_port_poll(s->port, 0, n, rx_one, s, NULL);
	} else {
		got = vnet_net_rx_burst(s->net, 0, pkts, n);
		for (unsigned i = 0; i < got; i++)
			rx_one(s, pkts[i]);
	}
	s->rx_pkts += got;
	s->rx_after_reconnect += got;
	return got;
}

/*
 * Interrupt mode (--interrupt): nothing to receive and nothing sent, so
 * sleep on the rx call eventfd (vnet_port_service() arms the queue,
 * re-checks it and poll()s) instead of spinning.  Bounded, so that upkeep,
 * the echo window's loss timer and the end of the run still get their turn.
 */
#define BENCH_INTR_SLEEP_MS 10

static void idle_wait(struct bench_state *s, int max_ms)
{
	/* Completed transmit buffers go back first: an idle port holds none. */
	vnet_net_tx_reclaim(s->net, 0);
	vnet_port_service(s->port, max_ms < BENCH_INTR_SLEEP_MS ? max_ms : BENCH_INTR_SLEEP_MS);
}

static bool done_sending(const struct bench_state *s, const struct ticker *tk, uint64_t now)
{
	if (g_stop)
		return true;
	if (s->cfg.count)
		return s->tx_pkts >= s->cfg.count;
	return now - tk->t_start >= (uint64_t)(s->cfg.seconds * 1e9);
}

/* ------------------------------------------------------------ modes */

static void run_tx(struct bench_state *s, struct ticker *tk)
{
	struct vnet_pkt *pkts[BENCH_MAX_BURST];
	struct vnet_pkt *rx[BENCH_MAX_BURST];
	unsigned held = 0; /* packets built but not yet accepted, carried to the next round */
	unsigned loops = 0;
	for (;;) {
		uint64_t now = now_ns();
		upkeep(s, tk, now);
		if (done_sending(s, tk, now))
			break;
		unsigned want = s->cfg.burst;
		if (s->cfg.count && s->cfg.count - s->tx_pkts < want)
			want = (unsigned)(s->cfg.count - s->tx_pkts);
		/* The burst's buffers in one call (as testpmd txonly takes its
		 * mbufs with rte_pktmbuf_alloc_bulk), one by one when the pool
		 * cannot fill it whole. */
		unsigned got = held < want ? vnet_net_pkt_alloc_bulk(s->net, pkts + held, want - held) : 0;
		if (!got) {
			struct vnet_pkt *p;
			while (held + got < want && (p = vnet_net_pkt_alloc(s->net)) != NULL)
				pkts[held + got++] = p;
		}
		for (unsigned i = 0; i < got; i++) {
			if (!tx_prepare(s, pkts[held + i])) {
				for (unsigned j = i; j < got; j++)
					vnet_net_pkt_free(s->net, pkts[held + j]);
				got = i;
				break;
			}
		}
		held += got;
		if (held) {
			unsigned sent = vnet_net_tx_burst(s->net, 0, pkts, held);
			s->tx_pkts += sent;
			if (sent && sent < held)
				memmove(pkts, pkts + sent, (held - sent) * sizeof(pkts[0]));
			held -= sent;
		} else {
			vnet_net_tx_reclaim(s->net, 0);
		}
		/* Nothing should come back from an rxonly back-end, but a
		 * received frame must not sit in the ring forever. */
		if ((++loops & 63) == 0)
			rx_poll(s, rx, BENCH_MAX_BURST);
	}
	for (unsigned i = 0; i < held; i++)
		vnet_net_pkt_free(s->net, pkts[i]);
}

static void run_rx(struct bench_state *s, struct ticker *tk)
{
	struct vnet_pkt *pkts[BENCH_MAX_BURST];
	for (;;) {
		uint64_t now = now_ns();
		upkeep(s, tk, now);
		if (g_stop)
			break;
		if (s->cfg.count ? s->rx_pkts >= s->cfg.count : now - tk->t_start >= (uint64_t)(s->cfg.seconds * 1e9))
			break;
		if (!rx_poll(s, pkts, s->cfg.burst) && s->cfg.interrupt_mode)
			idle_wait(s, BENCH_INTR_SLEEP_MS);
	}
}

/*
 * Echo and latency count every frame, so they start only once the back-end
 * forwards: a vhost-user back-end acknowledges the last setup message
 * before its data path has noticed the queues are ready (DPDK's vhost PMD
 * drops what it cannot yet transmit), and frames sent in that window would
 * be reported as lost although the driver did nothing wrong.  Probes carry
 * their own magic and are never counted.  Returns false on timeout.
 */
static bool warmup(struct bench_state *s, struct ticker *tk)
{
	struct vnet_pkt *rx[BENCH_MAX_BURST];
	uint64_t start = now_ns(), next_probe = start;
	uint64_t deadline = start + (uint64_t)s->cfg.connect_timeout_ms * 1000000ull;
	for (;;) {
		uint64_t now = now_ns();
		if (now >= tk->t_next_service) {
			vnet_port_service(s->port, 0);
			tk->t_next_service = now + 1000000;
		}
		if (g_stop || now > deadline)
			return false;
		if (now >= next_probe) {
			next_probe = now + 10000000ull; /* one probe per 10 ms */
			struct vnet_pkt *p = vnet_net_pkt_alloc(s->net);
			if (p) {
				stamp_frame(p->data, s->cfg.size, 0);
				put_u32(p->data + BENCH_HDR_OFF, BENCH_WARMUP_MAGIC);
				p->len = p->pkt_len = s->cfg.size;
				if (vnet_net_tx_burst(s->net, 0, &p, 1) != 1)
					vnet_net_pkt_free(s->net, p);
			}
		}
		unsigned got = vnet_net_rx_burst(s->net, 0, rx, BENCH_MAX_BURST);
		bool seen = false;
		for (unsigned i = 0; i < got; i++) {
			if (rx[i]->len >= BENCH_PAYLOAD_OFF && get_u32(rx[i]->data + BENCH_HDR_OFF) == BENCH_WARMUP_MAGIC)
				seen = true;
			vnet_net_pkt_free(s->net, rx[i]);
		}
		if (seen) {
			/* let stragglers of the warm-up come back before counting */
			uint64_t quiet_end = now_ns() + 20000000ull;
			while (now_ns() < quiet_end) {
				got = vnet_net_rx_burst(s->net, 0, rx, BENCH_MAX_BURST);
				for (unsigned i = 0; i < got; i++)
					vnet_net_pkt_free(s->net, rx[i]);
			}
			return true;
		}
	}
}

static void run_echo(struct bench_state *s, struct ticker *tk)
{
	struct vnet_pkt *pkts[BENCH_MAX_BURST];
	struct vnet_pkt *rx[BENCH_MAX_BURST];
	unsigned held = 0;
	uint64_t last_progress = now_ns(), last_back = 0;
	for (;;) {
		uint64_t now = now_ns();
		upkeep(s, tk, now);
		if (done_sending(s, tk, now))
			break;
		uint64_t back = s->received_unique + s->written_off;
		uint64_t inflight = s->tx_pkts > back ? s->tx_pkts - back : 0;
		if (back != last_back) {
			last_back = back;
			last_progress = now;
		} else if (inflight && now - last_progress > 200000000ull) {
			/* Nothing back for 200 ms: the back-end dropped them. Give
			 * the window back; they remain counted as lost. */
			s->written_off += inflight;
			inflight = 0;
			last_progress = now;
		}
		unsigned room = inflight < s->cfg.window ? (unsigned)(s->cfg.window - inflight) : 0;
		unsigned want = s->cfg.burst < room ? s->cfg.burst : room;
		if (s->cfg.count && s->cfg.count - s->tx_pkts < want)
			want = (unsigned)(s->cfg.count - s->tx_pkts);
		/* Held packets were stamped with the next sequence numbers
		 * already; build only the missing ones. */
		while (held < want) {
			struct vnet_pkt *p = vnet_net_pkt_alloc(s->net);
			if (!p)
				break;
			stamp_frame(p->data, s->cfg.size, s->tx_pkts + held);
			p->len = p->pkt_len = s->cfg.size;
			pkts[held++] = p;
		}
		unsigned sent = 0;
		if (held && want) {
			unsigned n = held < want ? held : want;
			sent = vnet_net_tx_burst(s->net, 0, pkts, n);
			s->tx_pkts += sent;
			if (sent && sent < held)
				memmove(pkts, pkts + sent, (held - sent) * sizeof(pkts[0]));
			held -= sent;
		}
		if (!rx_poll(s, rx, s->cfg.burst) && !sent && s->cfg.interrupt_mode)
			idle_wait(s, BENCH_INTR_SLEEP_MS);
	}
	/* Unsent frames carry sequence numbers past tx_pkts: just free them. */
	for (unsigned i = 0; i < held; i++)
		vnet_net_pkt_free(s->net, pkts[i]);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void run_latency(struct bench_state *s, struct ticker *tk)
{
	struct vnet_pkt *rx[BENCH_MAX_BURST];
	const uint64_t ping_timeout = (uint64_t)s->cfg.ping_timeout_ms * 1000000ull;
	for (;;) {
		uint64_t now = now_ns();
		upkeep(s, tk, now);
		if (done_sending(s, tk, now))
			break;
		if (!vnet_port_is_up(s->port)) {
			rx_poll(s, rx, BENCH_MAX_BURST);
			continue;
		}
		struct vnet_pkt *p = vnet_net_pkt_alloc(s->net);
		if (!p) {
			vnet_net_tx_reclaim(s->net, 0);
			rx_poll(s, rx, BENCH_MAX_BURST);
			continue;
		}
		uint64_t seq = s->tx_pkts;
		stamp_frame(p->data, s->cfg.size, seq);
		p->len = p->pkt_len = s->cfg.size;
		uint64_t t0 = now_ns();
		bool sent = false;
		while (!sent && !g_stop) {
			if (vnet_net_tx_burst(s->net, 0, &p, 1) == 1) {
				sent = true;
				break;
			}
			if (now_ns() - t0 > ping_timeout || !vnet_port_is_up(s->port))
				break;
		}
		if (!sent) {
			vnet_net_pkt_free(s->net, p);
			continue;
		}
		s->tx_pkts++;
		bool back = false;
		uint64_t t1 = t0;
		while (!back && !g_stop) {
			unsigned got = vnet_net_rx_burst(s->net, 0, rx, BENCH_MAX_BURST);
			if (got)
				t1 = now_ns();
			for (unsigned i = 0; i < got; i++) {
				uint64_t rseq = 0;
				enum verdict v = check_frame(rx[i], s->cfg.size, &rseq);
				if (v == V_OK && rseq == seq)
					back = true;
				else if (v == V_OK)
					s->out_of_order++; /* a late reply to an earlier, timed-out ping */
				else if (v == V_CORRUPT)
					s->corrupt++;
				else if (v == V_FOREIGN)
					s->foreign++;
				s->rx_bytes += rx[i]->pkt_len;
				vnet_net_pkt_free(s->net, rx[i]);
			}
			s->rx_pkts += got;
			if (!got) {
				uint64_t t = now_ns();
				if (t - t0 > ping_timeout)
					break;
				if (s->cfg.interrupt_mode)
					idle_wait(s, (int)((ping_timeout - (t - t0)) / 1000000u) + 1);
				else if (t >= tk->t_next_service)
					upkeep(s, tk, t);
			}
		}
		if (!back) {
			s->ping_lost++;
			continue;
		}
		if (s->nsamples == s->samples_cap) {
			uint64_t cap = s->samples_cap ? s->samples_cap * 2 : 65536;
			uint64_t *n = realloc(s->samples, cap * sizeof(*n));
			if (!n) {
				fprintf(stderr, "vnet-bench: out of memory for latency samples\n");
				break;
			}
			s->samples = n;
			s->samples_cap = cap;
		}
		s->samples[s->nsamples++] = t1 - t0;
	}
}

/* Let the tail come back (echo) or complete (tx), then return every
 * completed transmit buffer so the pool count can be compared. */
static void drain(struct bench_state *s, struct ticker *tk)
{
	struct vnet_pkt *rx[BENCH_MAX_BURST];
	uint64_t end = now_ns() + (uint64_t)s->cfg.drain_ms * 1000000ull;
	uint64_t now;
	while ((now = now_ns()) < end) {
		if (s->cfg.mode == MODE_ECHO && s->received_unique >= s->tx_pkts)
			break;
		rx_poll(s, rx, BENCH_MAX_BURST);
		vnet_net_tx_reclaim(s->net, 0);
		if (now >= tk->t_next_service) {
			vnet_port_service(s->port, 0);
			tk->t_next_service = now + 1000000;
		}
	}
	/* Completed tx buffers come back in reclaim; give the back-end a few
	 * more moments for the last ones and refill rx via rx_burst. */
	for (int i = 0; i < 100 && idle_buffers(s->net) != s->pool_free_initial; i++) {
		rx_poll(s, rx, BENCH_MAX_BURST);
		vnet_net_tx_reclaim(s->net, 0);
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
}

static uint64_t pct(const uint64_t *v, uint64_t n, double p)
{
	if (!n)
		return 0;
	/* nearest-rank: the smallest sample with at least p of them <= it */
	double r = p * (double)n;
	uint64_t k = (uint64_t)r;
	if ((double)k < r)
		k++;
	if (k == 0)
		k = 1;
	return v[k - 1];
}

static const char *ring_name(enum vnet_vq_layout l)
{
	return l == VNET_VQ_PACKED ? "packed" : "split";
}

/* What the socket path looked like before open: the back-end may remove or
 * create it meanwhile, so it is looked at once, up front. */
enum path_state { PATH_SOCKET, PATH_MISSING, PATH_NOT_SOCKET };

static enum path_state path_probe(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return PATH_MISSING;
	return S_ISSOCK(st.st_mode) ? PATH_SOCKET : PATH_NOT_SOCKET;
}

static const char *port_error_hint(int rc, const struct bench_cfg *c, enum path_state ps)
{
	if (!c->server && ps == PATH_MISSING)
		return "the socket path does not exist (is the back-end running, in server mode?)";
	if (!c->server && ps == PATH_NOT_SOCKET)
		return "the path exists but is not a UNIX socket";
	switch (rc) {
	case VNET_ENODEV:
		return c->server ? "no back-end connected in time, or it hung up"
		                 : "connection refused, or the back-end hung up during the handshake";
	case VNET_ENOTSUP: return "the back-end lacks a required feature (e.g. VIRTIO_F_VERSION_1, or the ring layout asked for)";
	case VNET_EPROTO: return "the back-end sent a malformed or unexpected reply (the log line above names it)";
	case VNET_ETIMEDOUT: return "the back-end did not answer in time";
	case VNET_ENOMEM: return "out of memory";
	case VNET_EINVAL: return "invalid options";
	default: return "see the log above";
	}
}

/* ------------------------------------------------------------ --control */

#define BENCH_DEV_NAME "vnet0"

static struct vnet_net *ctl_find(void *arg, const char *name)
{
	struct bench_state *s = arg;
	return strcmp(name, BENCH_DEV_NAME) || !vnet_port_is_up(s->port) ? NULL : s->net;
}

static const char *ctl_name_at(void *arg, unsigned i)
{
	(void)arg;
	return i == 0 ? BENCH_DEV_NAME : NULL;
}

/* performance_stats reads the clock once per sample: log the bench's own
 * counters at that instant, by the same clock. */
static uint64_t ctl_now_ns(void *arg)
{
	struct bench_state *s = arg;
	uint64_t t = vnet_ctlsrv_now_ns(NULL);
	fprintf(stderr, "vnet-bench: control: sample at clock_ns %" PRIu64 ": tx %" PRIu64 " rx %" PRIu64 "\n", t,
	        s->tx_pkts, s->rx_pkts);
	return t;
}

static bool ctl_counters(void *arg, const char *name, struct vnet_mgmt_host_counters *c)
{
	struct bench_state *s = arg;
	if (strcmp(name, BENCH_DEV_NAME))
		return false;
	struct vnet_port_stats ps;
	vnet_port_get_stats(s->port, &ps);
	memset(c, 0, sizeof(*c));
	c->interrupts = ps.intr_wakeups;
	return true;
}

static const struct vnet_mgmt_host_ops ctl_ops = {
	.find = ctl_find, .name_at = ctl_name_at, .now_ns = ctl_now_ns, .host_counters = ctl_counters,
};

static int ctl_open(struct bench_state *s)
{
	s->ctl.fd = -1;
	if (!s->cfg.control)
		return 0;
	struct vnet_ctlsrv_cfg cc = {.path = s->cfg.control, .log_tag = "vnet-bench", .ops = &ctl_ops, .ops_arg = s,
	                             .allow_changes = false};
	return vnet_ctlsrv_open(&s->ctl, &cc);
}

int main(int argc, char **argv)
{
	struct bench_state s;
	memset(&s, 0, sizeof(s));
	if (parse_args(argc, argv, &s.cfg) != 0)
		return 2;
	struct bench_cfg *c = &s.cfg;
	build_hdr_tmpl(s.hdr_tmpl, c->size);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A back-end dying mid-write must surface as an error from the
	 * library, not kill us. */
	signal(SIGPIPE, SIG_IGN);

	struct vnet_port_opts po;
	memset(&po, 0, sizeof(po));
	po.socket_path = c->path;
	po.server = c->server;
	po.queue_pairs = 1;
	po.queue_size = c->queue_size;
	po.ring = c->ring;
	po.interrupt_mode = c->interrupt_mode;
	po.connect_timeout_ms = c->connect_timeout_ms;
	po.reconnect_ms = c->reconnect_ms;
	enum path_state pstate = path_probe(c->path);
	int rc = vnet_port_open(&po, &s.port);
	if (rc != VNET_OK) {
		fprintf(stderr, "vnet-bench: cannot open vhost-user port %s (%s mode): %s: %s\n", c->path,
		        c->server ? "server" : "client", vnet_strerror(rc), port_error_hint(rc, c, pstate));
		return 1;
	}
	s.net = vnet_port_net(s.port);
	struct vnet_net_info info;
	vnet_net_get_info(s.net, &info);
	if (c->ring != VNET_NET_RING_AUTO &&
	    (c->ring == VNET_NET_RING_PACKED) != (info.layout == VNET_VQ_PACKED)) {
		fprintf(stderr, "vnet-bench: asked for a %s ring but the port runs a %s ring\n",
		        c->ring == VNET_NET_RING_PACKED ? "packed" : "split", ring_name(info.layout));
		vnet_port_close(s.port);
		return 1;
	}
	if (ctl_open(&s) < 0) {
		vnet_port_close(s.port);
		return 1;
	}
	/* Let the rx ring fill, then take the pool's reference count. */
	{
		struct vnet_pkt *rx[BENCH_MAX_BURST];
		rx_poll(&s, rx, BENCH_MAX_BURST);
		s.pool_free_initial = idle_buffers(s.net);
	}
	if (!c->quiet) {
		printf("vnet-bench: %s mode, %s ring, queue size %u, burst %u, %u-byte frames, features 0x%016" PRIx64
		       ", %s, idle buffers %u\n",
		       mode_names[c->mode], ring_name(info.layout), info.queue_size, c->burst, c->size, info.negotiated,
		       c->server ? "server" : "client", s.pool_free_initial);
		fflush(stdout);
	}

	struct ticker tk;
	ticker_init(&tk);
	if (c->mode == MODE_ECHO || c->mode == MODE_LATENCY) {
		if (!warmup(&s, &tk)) {
			fprintf(stderr, "vnet-bench: the back-end echoed no warm-up frame within %u ms "
			        "(is it forwarding, e.g. testpmd --forward-mode=macswap?)\n", c->connect_timeout_ms);
			vnet_ctlsrv_close(&s.ctl);
			vnet_port_close(s.port);
			return 1;
		}
		ticker_init(&tk);
	}
	switch (c->mode) {
	case MODE_TX: run_tx(&s, &tk); break;
	case MODE_RX: run_rx(&s, &tk); break;
	case MODE_ECHO: run_echo(&s, &tk); break;
	case MODE_LATENCY: run_latency(&s, &tk); break;
	}
	uint64_t t_end = now_ns();
	double elapsed = (double)(t_end - tk.t_start) / 1e9;
	drain(&s, &tk);

	struct vnet_port_stats ps;
	vnet_port_get_stats(s.port, &ps);
	struct vnet_net_queue_stats qs;
	vnet_net_get_stats(s.net, 0, &qs);
	uint32_t pool_free_final = idle_buffers(s.net);

	uint64_t packets, lost = 0;
	switch (c->mode) {
	case MODE_TX: packets = s.tx_pkts; break;
	case MODE_RX: packets = s.rx_pkts; break;
	case MODE_ECHO:
		packets = s.received_unique;
		lost = s.tx_pkts - s.received_unique;
		break;
	default:
		packets = s.nsamples;
		lost = s.ping_lost;
		break;
	}
	double pps = elapsed > 0 ? (double)packets / elapsed : 0;
	uint64_t bytes = c->mode == MODE_RX ? s.rx_bytes : packets * c->size;
	double bps = elapsed > 0 ? (double)bytes * 8.0 / elapsed : 0;
	/* errors: everything that should not happen on a healthy path */
	s.errors = s.corrupt + s.duplicates + qs.rx_errors + qs.tx_errors + ps.kick_errors;

	uint64_t lmin = 0, lmax = 0, p50 = 0, p99 = 0, p999 = 0;
	double lmean = 0;
	if (c->mode == MODE_LATENCY && s.nsamples) {
		qsort(s.samples, s.nsamples, sizeof(uint64_t), cmp_u64);
		long double sum = 0;
		for (uint64_t i = 0; i < s.nsamples; i++)
			sum += s.samples[i];
		lmean = (double)(sum / s.nsamples);
		lmin = s.samples[0];
		lmax = s.samples[s.nsamples - 1];
		p50 = pct(s.samples, s.nsamples, 0.50);
		p99 = pct(s.samples, s.nsamples, 0.99);
		p999 = pct(s.samples, s.nsamples, 0.999);
	}

	if (!c->quiet) {
		printf("---- summary: %s, %s ring, %u-byte frames, %.3f s\n", mode_names[c->mode], ring_name(info.layout),
		       c->size, elapsed);
		printf("tx %" PRIu64 "  rx %" PRIu64 "  -> %.3f Mpps, %.3f Gbit/s\n", s.tx_pkts, s.rx_pkts, pps / 1e6,
		       bps / 1e9);
		if (c->mode == MODE_ECHO)
			printf("echo: received %" PRIu64 " lost %" PRIu64 " corrupt %" PRIu64 " duplicate %" PRIu64
			       " out-of-order %" PRIu64 " foreign %" PRIu64 "\n",
			       s.received_unique, lost, s.corrupt, s.duplicates, s.out_of_order, s.foreign);
		if (c->mode == MODE_LATENCY)
			printf("latency (ns, %" PRIu64 " samples, %" PRIu64 " lost): min %" PRIu64 " mean %.0f p50 %" PRIu64
			       " p99 %" PRIu64 " p99.9 %" PRIu64 " max %" PRIu64 "\n",
			       s.nsamples, s.ping_lost, lmin, lmean, p50, p99, p999, lmax);
		printf("port: connects %" PRIu64 " disconnects %" PRIu64 " inflight reclaimed %" PRIu64
		       " kick errors %" PRIu64 "; idle buffers (pool + rx ring) %u at start, %u at end\n",
		       ps.connects, ps.disconnects, ps.inflight_reclaimed, ps.kick_errors, s.pool_free_initial,
		       pool_free_final);
		printf("queue: tx_drops %" PRIu64 " tx_errors %" PRIu64 " rx_drops %" PRIu64 " rx_errors %" PRIu64
		       " rx_no_buf %" PRIu64 " tx_kicks %" PRIu64 " rx_kicks %" PRIu64 "\n",
		       qs.tx_drops, qs.tx_errors, qs.rx_drops, qs.rx_errors, qs.rx_no_buf, qs.tx_kicks, qs.rx_kicks);
		if (c->interrupt_mode)
			printf("interrupt mode: %" PRIu64 " sleeps, %" PRIu64 " ended by a call eventfd, %" PRIu64
			       " rx interrupts counted\n",
			       ps.intr_sleeps, ps.intr_wakeups, qs.rx_interrupts);
	}
	if (c->json) {
		printf("{\"mode\":\"%s\",\"ring\":\"%s\",\"server\":%s,\"queue_size\":%u,\"burst\":%u,\"size\":%u,"
		       "\"seconds\":%.6f,\"packets\":%" PRIu64 ",\"tx_packets\":%" PRIu64 ",\"rx_packets\":%" PRIu64
		       ",\"pps\":%.1f,\"mpps\":%.6f,\"bps\":%.1f,\"errors\":%" PRIu64 ",\"lost\":%" PRIu64
		       ",\"corrupt\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"out_of_order\":%" PRIu64
		       ",\"foreign\":%" PRIu64 ",\"rx_after_reconnect\":%" PRIu64,
		       mode_names[c->mode], ring_name(info.layout), c->server ? "true" : "false", info.queue_size, c->burst,
		       c->size, elapsed, packets, s.tx_pkts, s.rx_pkts, pps, pps / 1e6, bps, s.errors, lost, s.corrupt,
		       s.duplicates, s.out_of_order, s.foreign, s.rx_after_reconnect);
		if (c->mode == MODE_LATENCY)
			printf(",\"samples\":%" PRIu64 ",\"min_ns\":%" PRIu64 ",\"mean_ns\":%.1f,\"p50_ns\":%" PRIu64
			       ",\"p99_ns\":%" PRIu64 ",\"p999_ns\":%" PRIu64 ",\"max_ns\":%" PRIu64,
			       s.nsamples, lmin, lmean, p50, p99, p999, lmax);
		printf(",\"connects\":%" PRIu64 ",\"disconnects\":%" PRIu64 ",\"inflight_reclaimed\":%" PRIu64
		       ",\"kick_errors\":%" PRIu64 ",\"interrupt_mode\":%s,\"intr_sleeps\":%" PRIu64
		       ",\"intr_wakeups\":%" PRIu64 ",\"rx_interrupts\":%" PRIu64 ",\"tx_kicks\":%" PRIu64
		       ",\"rx_kicks\":%" PRIu64 ",\"pool_free_initial\":%u,\"pool_free_final\":%u"
		       ",\"tx_drops\":%" PRIu64 ",\"tx_errors\":%" PRIu64 ",\"rx_drops\":%" PRIu64 ",\"rx_errors\":%" PRIu64
		       ",\"features\":\"0x%016" PRIx64 "\"}\n",
		       ps.connects, ps.disconnects, ps.inflight_reclaimed, ps.kick_errors,
		       c->interrupt_mode ? "true" : "false", ps.intr_sleeps, ps.intr_wakeups, qs.rx_interrupts,
		       qs.tx_kicks, qs.rx_kicks, s.pool_free_initial, pool_free_final, qs.tx_drops, qs.tx_errors, qs.rx_drops, qs.rx_errors, info.negotiated);
	}
	fflush(stdout);
	vnet_ctlsrv_close(&s.ctl);
	vnet_port_close(s.port);
	free(s.prepared);
	free(s.seen);
	free(s.samples);
	if (c->mode == MODE_ECHO && (s.corrupt || s.duplicates))
		return 3;
	return 0;
}
