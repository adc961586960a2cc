/*
 * vnet_echo_check: end-to-end check of libvnet against a vhost-user
 * back-end that sends every frame back with the MAC addresses swapped
 * (dpdk-testpmd --forward-mode=macswap).
 *
 * It sends --count frames carrying a sequence number and a seq-derived byte
 * pattern, keeps at most --window in flight, and checks every frame that
 * comes back: addresses swapped, length, pattern intact, each sequence
 * number seen at most once.  With --allow-loss, frames outstanding when the
 * echo stalls (back-end killed) are written off as lost and sending goes on
 * until --count frames came back; --expect-reconnect then requires at least
 * one back-end loss and a successful reconnect with traffic after it.
 *
 * Exit status 0 when every check passed, 1 otherwise; one summary line.
 *
 *   vnet_echo_check --socket /tmp/x.sock [--server] [--ring split|packed|auto]
 *                   [--count N] [--window W] [--size BYTES] [--interrupt]
 *                   [--timeout-s S] [--duration-s S] [--allow-loss] [--expect-reconnect]
 *
 * --duration-s: run for that long instead of stopping after --count echoes.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vnet/vnet_port.h"

#define MAGIC 0x564e4554u /* "VNET" */
#define ETH_TYPE 0x88b5u  /* IEEE local experimental */
#define HDR 14u
#define BURST 32u

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

static void fill_frame(uint8_t *f, uint32_t len, const uint8_t *my_mac, uint64_t seq)
{
	memcpy(f, peer_mac, 6);
	memcpy(f + 6, my_mac, 6);
	f[12] = (uint8_t)(ETH_TYPE >> 8);
	f[13] = (uint8_t)ETH_TYPE;
	uint32_t m = MAGIC;
	memcpy(f + HDR, &m, 4);
	memcpy(f + HDR + 4, &seq, 8);
	for (uint32_t i = HDR + 12; i < len; i++)
		f[i] = (uint8_t)(seq * 31u + i);
}

/* 0: good; otherwise a reason. */
static const char *check_frame(const uint8_t *f, uint32_t len, uint32_t want_len, const uint8_t *my_mac,
                               uint64_t *seq)
{
	if (len != want_len)
		return "length";
	if (memcmp(f, my_mac, 6) || memcmp(f + 6, peer_mac, 6))
		return "addresses not swapped";
	if (f[12] != (uint8_t)(ETH_TYPE >> 8) || f[13] != (uint8_t)ETH_TYPE)
		return "ethertype";
	uint32_t m;
	memcpy(&m, f + HDR, 4);
	if (m != MAGIC)
		return "magic";
	memcpy(seq, f + HDR + 4, 8);
	for (uint32_t i = HDR + 12; i < len; i++)
		if (f[i] != (uint8_t)(*seq * 31u + i))
			return "payload";
	return NULL;
}

int main(int argc, char **argv)
{
	struct vnet_port_opts o = {0};
	uint64_t count = 10000, window = 128;
	uint32_t size = 64, timeout_s = 30;
	int allow_loss = 0, expect_reconnect = 0;
	uint32_t duration_s = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--socket") && v) {
			o.socket_path = v;
			i++;
		} else if (!strcmp(a, "--server")) {
			o.server = true;
		} else if (!strcmp(a, "--ring") && v) {
			o.ring = !strcmp(v, "split") ? VNET_NET_RING_SPLIT
			         : !strcmp(v, "packed") ? VNET_NET_RING_PACKED : VNET_NET_RING_AUTO;
			i++;
		} else if (!strcmp(a, "--count") && v) {
			count = strtoull(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--window") && v) {
			window = strtoull(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--size") && v) {
			size = (uint32_t)strtoul(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--timeout-s") && v) {
			timeout_s = (uint32_t)strtoul(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--duration-s") && v) {
			duration_s = (uint32_t)strtoul(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--interrupt")) {
			o.interrupt_mode = true;
		} else if (!strcmp(a, "--allow-loss")) {
			allow_loss = 1;
		} else if (!strcmp(a, "--expect-reconnect")) {
			expect_reconnect = 1;
			allow_loss = 1;
		} else {
			fprintf(stderr, "usage: %s --socket PATH [--server] [--ring split|packed|auto] [--count N]\n"
			                "       [--window W] [--size B] [--interrupt] [--timeout-s S] [--allow-loss]\n"
			                "       [--expect-reconnect]\n", argv[0]);
			return 2;
		}
	}
	if (!o.socket_path || size < HDR + 12 || size > 1514 || window == 0)
		return 2;
	o.connect_timeout_ms = 10000;
	o.reconnect_ms = 200;

	struct vnet_port *port;
	int rc = vnet_port_open(&o, &port);
	if (rc != VNET_OK) {
		fprintf(stderr, "vnet_port_open: %s\n", vnet_strerror(rc));
		return 1;
	}
	struct vnet_net *net = vnet_port_net(port);
	struct vnet_net_info info;
	vnet_net_get_info(net, &info);
	fprintf(stderr, "port up: %s ring, queue size %u, offered 0x%016llx negotiated 0x%016llx\n",
	        info.layout == VNET_VQ_PACKED ? "packed" : "split", info.queue_size,
	        (unsigned long long)info.offered, (unsigned long long)info.negotiated);

	/* One bit per sequence number sent, grown as we go. */
	size_t seen_bytes = 1u << 16;
	uint8_t *seen = calloc(seen_bytes, 1);
	uint64_t next_seq = 0, received = 0, dup = 0, bad = 0, lost = 0, outstanding = 0;
	uint64_t rx_after_reconnect = 0, last_connects = 1;
	uint64_t start = now_ns(), last_progress = start, last_service = start;
	uint64_t deadline = start + (uint64_t)timeout_s * 1000000000ull;
	uint64_t end = duration_s ? start + (uint64_t)duration_s * 1000000000ull : 0;
	if (duration_s)
		count = UINT64_MAX;
	const char *fail = NULL;
	struct vnet_pkt *pkts[BURST];

	while (received < count) {
		uint64_t t = now_ns();
		if (end && t > end)
			break;
		if (!end && t > deadline) {
			fail = "timeout";
			break;
		}
		if (t - last_service > 1000000ull || !vnet_port_is_up(port)) {
			int to = vnet_port_is_up(port) ? (o.interrupt_mode && outstanding ? 1 : 0) : 10;
			vnet_port_service(port, to);
			last_service = now_ns();
			struct vnet_port_stats ps;
			vnet_port_get_stats(port, &ps);
			if (ps.connects != last_connects) {
				last_connects = ps.connects;
				last_progress = now_ns();
			}
			if (!vnet_port_is_up(port))
				continue;
		}
		/* Transmit while the window allows. */
		unsigned want = 0;
		if ((next_seq + BURST) / 8 >= seen_bytes) {
			uint8_t *ns = realloc(seen, seen_bytes * 2);
			if (!ns) {
				fail = "out of memory";
				break;
			}
			memset(ns + seen_bytes, 0, seen_bytes);
			seen = ns;
			seen_bytes *= 2;
		}
		while (want < BURST && outstanding + want < window) {
			struct vnet_pkt *p = vnet_net_pkt_alloc(net);
			if (!p)
				break;
			fill_frame(p->data, size, info.mac, next_seq + want);
			p->len = size;
			pkts[want++] = p;
		}
		if (want) {
			unsigned sent = vnet_net_tx_burst(net, 0, pkts, want);
			for (unsigned i = sent; i < want; i++)
				vnet_net_pkt_free(net, pkts[i]);
			next_seq += sent;
			outstanding += sent;
		}
		unsigned n = vnet_net_rx_burst(net, 0, pkts, BURST);
		for (unsigned i = 0; i < n; i++) {
			uint64_t seq = 0;
			const char *why = pkts[i]->next ? "multi-segment" :
			                  check_frame(pkts[i]->data, pkts[i]->len, size, info.mac, &seq);
			if (!why && seq >= next_seq)
				why = "sequence never sent";
			if (why) {
				if (bad++ < 5)
					fprintf(stderr, "bad frame (%s), len %u\n", why, pkts[i]->len);
			} else if (seen[seq / 8] & (1u << (seq % 8))) {
				dup++;
			} else {
				seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
				received++;
				if (last_connects > 1)
					rx_after_reconnect++;
			}
			if (outstanding)
				outstanding--;
			vnet_net_pkt_free(net, pkts[i]);
		}
		if (n)
			last_progress = now_ns();
		else if (outstanding && now_ns() - last_progress > 1000000000ull) {
			if (!allow_loss) {
				fail = "echo stalled";
				break;
			}
			lost += outstanding;
			outstanding = 0;
			last_progress = now_ns();
		}
	}
	double secs = (double)(now_ns() - start) / 1e9;
	struct vnet_port_stats ps;
	vnet_port_get_stats(port, &ps);
	struct vnet_net_queue_stats qs;
	vnet_net_get_stats(net, 0, &qs);
	if (!fail && (bad || dup))
		fail = "corrupt or duplicate frames";
	if (!fail && expect_reconnect && (ps.disconnects == 0 || ps.connects < 2 || rx_after_reconnect == 0))
		fail = "no back-end loss and recovery seen";
	printf("%s: sent %llu received %llu lost %llu bad %llu dup %llu in %.2f s (%.0f frames/s echoed); "
	       "connects %llu disconnects %llu inflight_reclaimed %llu kick_errors %llu; "
	       "tx_kicks %llu rx_kicks %llu\n",
	       fail ? fail : "PASS", (unsigned long long)next_seq, (unsigned long long)received,
	       (unsigned long long)lost, (unsigned long long)bad, (unsigned long long)dup, secs,
	       secs > 0 ? (double)received / secs : 0.0, (unsigned long long)ps.connects,
	       (unsigned long long)ps.disconnects, (unsigned long long)ps.inflight_reclaimed,
	       (unsigned long long)ps.kick_errors, (unsigned long long)qs.tx_kicks, (unsigned long long)qs.rx_kicks);
	free(seen);
	vnet_port_close(port);
	return fail ? 1 : 0;
}
