/*
 * Performance monitor, data-path side: sampled latency histograms
 * (include/vnet/net.h, "Performance monitor"; net_stats.h).  Everything
 * here runs only while sampling is on; the hooks in net_tx.c, net_poll.c
 * cost one predicted-not-taken branch each when it is off (figures in
 * docs/performance.md).  No allocation, no logging: the queue pair's
 * owner context.
 */
#include "core/vnet_mem.h"
#include "net_priv.h"

unsigned vnet_net_lat_bucket(uint64_t ns)
{
	if (ns < 2u)
		return 0;
	/* no __builtin_clzll: on riscv64 without Zbb it needs libgcc */
	unsigned b = 0;
	while (b < VNET_NET_LAT_BUCKETS - 1u && (ns >> (b + 1u)))
		b++;
	return b;
}

uint64_t vnet_net_lat_quantile(const uint64_t *hist, unsigned p10000, uint64_t *samples)
{
	uint64_t n = 0;
	for (unsigned b = 0; b < VNET_NET_LAT_BUCKETS; b++)
		n += hist[b];
	if (samples)
		*samples = n;
	if (!n)
		return 0;
	if (p10000 > 10000u)
		p10000 = 10000u;
	/* rank: the smallest count c with c >= n * p (rounded up), at least 1 */
	uint64_t rank = n <= UINT64_MAX / 10000u ? (n * p10000 + 9999u) / 10000u : n / 10000u * p10000;
	if (rank == 0)
		rank = 1;
	uint64_t c = 0;
	for (unsigned b = 0; b < VNET_NET_LAT_BUCKETS; b++) {
		c += hist[b];
		if (c >= rank)
			return 2ull << b;
	}
	return 2ull << (VNET_NET_LAT_BUCKETS - 1u);
}

static void net_stats_add(uint64_t *hist, uint64_t t0, uint64_t t1)
{
	hist[vnet_net_lat_bucket(t1 >= t0 ? t1 - t0 : 0)]++;
}

/* A sample older than the histogram's range was lost (its frame freed
 * by a reset, never completed): drop it and take a new one. */
#define NET_STATS_STALE_NS (1ull << VNET_NET_LAT_BUCKETS)

void net_stats_tx_post(struct vnet_net_q *q, struct vnet_pkt **pkts, unsigned done)
{
	struct net_stats_q *s = &q->lat;
	uint64_t now = vnet_hal_time_ns();
	if (s->tx_pkt && now - s->tx_t0 < NET_STATS_STALE_NS)
		return;
	s->tx_pkt = 0;
	if (s->tx_bursts++ & s->mask)
		return;
	/* the last frame of the burst handed to the device (dropped ones were
	 * freed back to the pool; a refused one stays the caller's) */
	for (unsigned i = done; i-- > 0;) {
		uint32_t o = pkts[i]->owner;
		if (o == VNET_OWN_DEV_TX || o == VNET_OWN_DEV_TXC) {
			s->tx_pkt = pkts[i];
			s->tx_t0 = now;
			return;
		}
	}
}

void net_stats_tx_done(struct vnet_net_q *q, const struct vnet_vq_used *u, unsigned k)
{
	struct net_stats_q *s = &q->lat;
	for (unsigned i = 0; i < k; i++) {
		if (u[i].cookie == s->tx_pkt) {
			net_stats_add(s->tx_hist, s->tx_t0, vnet_hal_time_ns());
			s->tx_pkt = 0;
			return;
		}
	}
}

void net_stats_rx_irq(struct vnet_net_q *q)
{
	struct net_stats_q *s = &q->lat;
	if (s->rx_t0 || (s->rx_irqs++ & s->mask))
		return;
	uint64_t now = vnet_hal_time_ns();
	s->rx_t0 = now ? now : 1u;
}

void net_stats_rx_deliver(struct vnet_net_q *q)
{
	struct net_stats_q *s = &q->lat;
	net_stats_add(s->rx_hist, s->rx_t0, vnet_hal_time_ns());
	s->rx_t0 = 0;
}

int vnet_net_set_latency_sampling(struct vnet_net *net, int shift)
{
	if (!net)
		return VNET_EINVAL;
	if (shift > 16)
		return VNET_EINVAL;
	for (uint16_t i = 0; i < net->created; i++) {
		struct net_stats_q *s = &net->q[i].lat;
		s->on = shift >= 0;
		s->mask = shift >= 0 ? (1u << shift) - 1u : 0;
		s->tx_pkt = 0;
		s->rx_t0 = 0;
		s->tx_bursts = s->rx_irqs = 0;
	}
	return VNET_OK;
}

void vnet_net_get_latency(const struct vnet_net *net, uint16_t qp, struct vnet_net_latency *lat)
{
	if (!lat)
		return;
	memset(lat, 0, sizeof(*lat));
	if (!net || qp >= net->created)
		return;
	const struct net_stats_q *s = &net->q[qp].lat;
	memcpy(lat->tx, s->tx_hist, sizeof(lat->tx));
	memcpy(lat->rx, s->rx_hist, sizeof(lat->rx));
	lat->sampling = s->on;
	uint8_t sh = 0;
	while (sh < 16u && (s->mask >> sh))
		sh++;
	lat->shift = sh;
}
