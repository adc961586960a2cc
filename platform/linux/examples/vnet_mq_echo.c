/*
 * vnet_mq_echo: multiqueue over vhost-user, end to end.  Opens a port with
 * --pairs N against a back-end that echoes every frame on the queue it
 * came from with the MAC addresses swapped (dpdk-testpmd macswap with
 * --rxq=N --txq=N), and on every pair sends --count frames carrying the
 * pair number, a sequence number and a seq-derived pattern (at most
 * --window in flight per pair).  Every echo is checked: it came back on
 * the pair it was sent on, addresses swapped, length and pattern intact,
 * each sequence number at most once.  The port's control queue is local
 * (platform/linux/vnet_port.c): the pairs exist only if its VQ_PAIRS_SET
 * enabled the back-end's rings.
 *
 *   vnet_mq_echo --socket PATH --pairs N [--count N] [--window W] [--timeout-s S]
 *
 * Prints one JSON line (pairs in use, per pair sent/echoed/lost/corrupt);
 * exit 0 when every pair echoed --count frames intact, 1 otherwise.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vnet/vnet_port.h"

#define MAGIC 0x4d51454cu /* "MQEL" */
#define ETH_TYPE 0x88b5u
#define FRAME 128u
#define MAXQ 16u
#define BURST 32u

static const uint8_t mac_a[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
static const uint8_t mac_b[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0b};

struct pairstat {
	uint64_t sent, echoed, corrupt, wrong_queue, dup;
	uint8_t *seen; /* [count] */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void fill(uint8_t *f, uint16_t q, uint32_t seq)
{
	memcpy(f, mac_b, 6);
	memcpy(f + 6, mac_a, 6);
	f[12] = ETH_TYPE >> 8;
	f[13] = ETH_TYPE & 0xff;
	put32(f + 14, MAGIC);
	put32(f + 18, q);
	put32(f + 22, seq);
	for (uint32_t i = 26; i < FRAME; i++)
		f[i] = (uint8_t)(seq * 7u + i + q);
}

struct ctx {
	struct pairstat *ps;
	uint16_t q;
	uint64_t count;
	struct vnet_net *net;
};

static void on_rx(void *arg, struct vnet_pkt *p)
{
	struct ctx *c = arg;
	const uint8_t *f = p->data;
	struct pairstat *s = &c->ps[c->q];
	uint8_t want[FRAME];
	if (p->pkt_len != FRAME || p->nseg != 1 || get32(f + 14) != MAGIC) {
		s->corrupt++;
		goto out;
	}
	uint32_t q = get32(f + 18), seq = get32(f + 22);
	if (q != c->q) {
		s->wrong_queue++;
		goto out;
	}
	fill(want, (uint16_t)q, seq);
	/* macswap: addresses swapped, everything else as sent. */
	if (memcmp(f, mac_a, 6) || memcmp(f + 6, mac_b, 6) || memcmp(f + 12, want + 12, FRAME - 12) || seq >= c->count) {
		s->corrupt++;
		goto out;
	}
	if (s->seen[seq]) {
		s->dup++;
		goto out;
	}
	s->seen[seq] = 1;
	s->echoed++;
out:
	vnet_net_pkt_free(c->net, p);
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	unsigned pairs = 2, window = 64, timeout_s = 60;
	uint64_t count = 1000000;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--socket"))
			sock = argv[i + 1];
		else if (!strcmp(argv[i], "--pairs"))
			pairs = (unsigned)strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--count"))
			count = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--window"))
			window = (unsigned)strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--timeout-s"))
			timeout_s = (unsigned)strtoul(argv[i + 1], NULL, 0);
		else {
			fprintf(stderr, "vnet_mq_echo: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (!sock || pairs == 0 || pairs > MAXQ || window == 0 || count == 0 || count > 100000000ull) {
		fprintf(stderr, "usage: vnet_mq_echo --socket PATH --pairs 1..%u [--count N] [--window W] [--timeout-s S]\n",
			MAXQ);
		return 2;
	}
	struct vnet_port_opts o = {0};
	o.socket_path = sock;
	o.queue_pairs = (uint16_t)pairs;
	o.pool_size = 1024u * pairs;
	o.connect_timeout_ms = 30000;
	struct vnet_port *port;
	int rc = vnet_port_open(&o, &port);
	if (rc != VNET_OK) {
		fprintf(stderr, "vnet_port_open: %s\n", vnet_strerror(rc));
		return 1;
	}
	struct vnet_net *net = vnet_port_net(port);
	struct vnet_net_info info;
	vnet_net_get_info(net, &info);
	struct pairstat ps[MAXQ];
	memset(ps, 0, sizeof(ps));
	for (unsigned q = 0; q < pairs; q++)
		ps[q].seen = calloc(count, 1);
	unsigned inuse = info.queue_pairs;
	uint64_t deadline = now_ns() + (uint64_t)timeout_s * 1000000000ull, last_service = 0;
	bool done = inuse < pairs; /* fewer pairs than asked: fail below */
	while (!done && now_ns() < deadline) {
		done = true;
		for (uint16_t q = 0; q < pairs; q++) {
			struct pairstat *s = &ps[q];
			struct ctx c = {ps, q, count, net};
			bool more;
			vnet_port_poll(port, q, 256, on_rx, &c, &more);
			uint64_t out = s->sent - s->echoed - s->corrupt - s->wrong_queue - s->dup;
			struct vnet_pkt *pk[BURST];
			unsigned n = 0;
			while (n < BURST && s->sent + n < count && out + n < window) {
				struct vnet_pkt *p = vnet_net_pkt_alloc(net);
				if (!p)
					break;
				fill(p->data, q, (uint32_t)(s->sent + n));
				p->len = FRAME;
				pk[n++] = p;
			}
			unsigned k = n ? vnet_net_tx_burst(net, q, pk, n) : 0;
			for (unsigned i = k; i < n; i++)
				vnet_net_pkt_free(net, pk[i]);
			s->sent += k;
			if (s->echoed < count)
				done = false;
		}
		uint64_t t = now_ns();
		if (t - last_service > 1000000ull) {
			vnet_port_service(port, 0);
			last_service = t;
		}
	}
	bool ok = inuse == pairs;
	printf("{\"pairs_asked\":%u,\"pairs\":%u,\"count\":%llu,\"per_pair\":[", pairs, inuse, (unsigned long long)count);
	for (unsigned q = 0; q < pairs; q++) {
		struct vnet_net_queue_stats st;
		vnet_net_get_stats(net, (uint16_t)q, &st);
		uint64_t lost = ps[q].sent - ps[q].echoed - ps[q].corrupt - ps[q].wrong_queue - ps[q].dup;
		printf("%s{\"q\":%u,\"sent\":%llu,\"echoed\":%llu,\"lost\":%llu,\"corrupt\":%llu,\"wrong_queue\":%llu,"
		       "\"dup\":%llu,\"rx_packets\":%llu,\"tx_packets\":%llu}",
		       q ? "," : "", q, (unsigned long long)ps[q].sent, (unsigned long long)ps[q].echoed,
		       (unsigned long long)lost, (unsigned long long)ps[q].corrupt, (unsigned long long)ps[q].wrong_queue,
		       (unsigned long long)ps[q].dup, (unsigned long long)st.rx_packets,
		       (unsigned long long)st.tx_packets);
		ok = ok && ps[q].echoed == count && lost == 0 && !ps[q].corrupt && !ps[q].wrong_queue && !ps[q].dup;
		free(ps[q].seen);
	}
	printf("],\"ok\":%s}\n", ok ? "true" : "false");
	vnet_port_close(port);
	return ok ? 0 : 1;
}
