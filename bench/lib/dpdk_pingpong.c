/*
 * dpdk_pingpong: round-trip latency through a DPDK port (here DPDK's own
 * net_virtio_user PMD) with one frame in flight, the DPDK counterpart of
 * `vnet-bench --mode latency`, because dpdk-testpmd 22.11 has no
 * ping-pong forwarding mode.  Used only by bench/compare-dpdk.sh, built on
 * the fly against libdpdk-dev; not part of the driver.
 *
 *   dpdk_pingpong <EAL args, e.g. -l 1 --no-huge -m 1024 --no-pci --vdev ...>
 *                 -- [--seconds S] [--size BYTES]
 *
 * Same method as vnet-bench: a 64-byte Ethernet frame carrying a sequence
 * number, CLOCK_MONOTONIC read before tx and when the matching frame comes
 * back (the back-end is testpmd macswap), samples sorted, nearest-rank
 * percentiles.  A warm-up waits for the first echo before counting.
 * Prints one JSON line: samples, lost, min/mean/p50/p99/p999/max in ns.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#define PP_MAGIC 0x44504b50u /* "DPKP" */
#define PP_OFF 14u

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t pct(const uint64_t *v, uint64_t n, double p)
{
	double r = p * (double)n;
	uint64_t k = (uint64_t)r;
	if ((double)k < r)
		k++;
	return v[(k ? k : 1) - 1];
}

/* Send frame seq; false if the port would not take it. */
static int send_one(uint16_t port, struct rte_mempool *mp, unsigned size, uint64_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	if (!m)
		return 0;
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)size);
	if (!f) {
		rte_pktmbuf_free(m);
		return 0;
	}
	memset(f, 0, size);
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
	memcpy(f, macs, 12);
	f[12] = 0x88;
	f[13] = 0xb5;
	uint32_t magic = PP_MAGIC;
	memcpy(f + PP_OFF, &magic, 4);
	memcpy(f + PP_OFF + 4, &seq, 8);
	if (rte_eth_tx_burst(port, 0, &m, 1) != 1) {
		rte_pktmbuf_free(m);
		return 0;
	}
	return 1;
}

/* Poll until frame seq returns or timeout; returns 1 if it did. */
static int wait_one(uint16_t port, uint64_t seq, uint64_t deadline, uint64_t *t_back)
{
	struct rte_mbuf *rx[32];
	int found = 0;
	while (!found) {
		uint16_t n = rte_eth_rx_burst(port, 0, rx, 32);
		if (n)
			*t_back = now_ns();
		for (uint16_t i = 0; i < n; i++) {
			const uint8_t *f = rte_pktmbuf_mtod(rx[i], const uint8_t *);
			uint32_t magic;
			uint64_t s;
			if (rte_pktmbuf_data_len(rx[i]) >= PP_OFF + 12) {
				memcpy(&magic, f + PP_OFF, 4);
				memcpy(&s, f + PP_OFF + 4, 8);
				if (magic == PP_MAGIC && s == seq)
					found = 1;
			}
			rte_pktmbuf_free(rx[i]);
		}
		if (!n && now_ns() > deadline)
			return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	int eal = rte_eal_init(argc, argv);
	if (eal < 0) {
		fprintf(stderr, "dpdk_pingpong: EAL init failed\n");
		return 1;
	}
	argc -= eal;
	argv += eal;
	double seconds = 5;
	unsigned size = 64;
	static const struct option opts[] = {
		{"seconds", required_argument, 0, 't'}, {"size", required_argument, 0, 's'}, {0, 0, 0, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 't')
			seconds = atof(optarg);
		else if (o == 's')
			size = (unsigned)atoi(optarg);
		else
			return 2;
	}
	if (size < 60 || size > 1514) {
		fprintf(stderr, "dpdk_pingpong: --size 60..1514\n");
		return 2;
	}
	if (rte_eth_dev_count_avail() < 1) {
		fprintf(stderr, "dpdk_pingpong: no port (check --vdev)\n");
		return 1;
	}
	uint16_t port = 0;
	struct rte_mempool *mp = rte_pktmbuf_pool_create("pp", 4096, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	if (!mp || rte_eth_dev_configure(port, 1, 1, &conf) < 0 ||
	    rte_eth_rx_queue_setup(port, 0, 256, rte_eth_dev_socket_id(port), NULL, mp) < 0 ||
	    rte_eth_tx_queue_setup(port, 0, 256, rte_eth_dev_socket_id(port), NULL) < 0 || rte_eth_dev_start(port) < 0) {
		fprintf(stderr, "dpdk_pingpong: port setup failed\n");
		return 1;
	}
	/* warm-up: until the back-end echoes, at most 30 s */
	uint64_t seq = 1u << 31, t_back = 0, wend = now_ns() + 30000000000ull;
	int up = 0;
	while (!up && now_ns() < wend) {
		if (send_one(port, mp, size, seq))
			up = wait_one(port, seq, now_ns() + 10000000ull, &t_back);
		seq++;
	}
	if (!up) {
		fprintf(stderr, "dpdk_pingpong: no echo from the back-end\n");
		return 1;
	}
	uint64_t cap = 1u << 20, n = 0, lost = 0;
	uint64_t *samples = malloc(cap * sizeof(*samples));
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
	seq = 0;
	while (samples && now_ns() < end) {
		uint64_t t0 = now_ns();
		if (!send_one(port, mp, size, seq)) {
			seq++;
			continue;
		}
		if (!wait_one(port, seq, t0 + 100000000ull, &t_back)) {
			lost++;
		} else {
			if (n == cap) {
				cap *= 2;
				uint64_t *m = realloc(samples, cap * sizeof(*samples));
				if (!m)
					break;
				samples = m;
			}
			samples[n++] = t_back - t0;
		}
		seq++;
	}
	if (!samples || !n) {
		fprintf(stderr, "dpdk_pingpong: no samples\n");
		return 1;
	}
	qsort(samples, n, sizeof(*samples), cmp_u64);
	long double sum = 0;
	for (uint64_t i = 0; i < n; i++)
		sum += samples[i];
	printf("{\"samples\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"min_ns\":%" PRIu64 ",\"mean_ns\":%.1f,\"p50_ns\":%" PRIu64
	       ",\"p99_ns\":%" PRIu64 ",\"p999_ns\":%" PRIu64 ",\"max_ns\":%" PRIu64 "}\n",
	       n, lost, samples[0], (double)(sum / n), pct(samples, n, 0.5), pct(samples, n, 0.99),
	       pct(samples, n, 0.999), samples[n - 1]);
	fflush(stdout);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	free(samples);
	rte_eal_cleanup();
	return 0;
}
