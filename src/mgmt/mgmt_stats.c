/*
 * performance_stats (rates over the interval since the previous call on
 * the same device, from the driver's counters and the host's clock) and
 * virtqueue_stats (per-pair driver counters, per-virtqueue engine
 * counters).  Integer arithmetic only (freestanding, 64-bit).
 */
#include "mgmt_priv.h"

/* delta per second over dt_ns, without overflowing 64 bits. */
static uint64_t ms_per_sec(uint64_t delta, uint64_t dt_ns, uint64_t scale)
{
	if (!dt_ns)
		return 0;
	uint64_t k = 1000000000ull * scale;
	if (delta <= UINT64_MAX / k)
		return delta * k / dt_ns; /* exact */
	uint64_t q = delta / dt_ns, r = delta % dt_ns;
	/* r < dt_ns: r * k fits while dt_ns < 2^64 / k; scale both down
	 * otherwise (loses only low bits of a long interval). */
	while (dt_ns > UINT64_MAX / k) {
		dt_ns >>= 1;
		r >>= 1;
	}
	return q * k + r * k / dt_ns;
}

struct ms_sum {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, drops, errors;
	uint64_t rx_interrupts, tx_interrupts, rx_irq_packets;
};

static void ms_sum(struct vnet_net *net, struct ms_sum *s)
{
	struct vnet_net_info ni;
	vnet_net_get_info(net, &ni);
	memset(s, 0, sizeof(*s));
	for (uint16_t q = 0; q < ni.queue_pairs; q++) {
		struct vnet_net_queue_stats st;
		vnet_net_get_stats(net, q, &st);
		s->rx_packets += st.rx_packets;
		s->rx_bytes += st.rx_bytes;
		s->tx_packets += st.tx_packets;
		s->tx_bytes += st.tx_bytes;
		s->drops += st.rx_drops + st.tx_drops;
		s->errors += st.rx_errors + st.tx_errors;
		s->rx_interrupts += st.rx_interrupts;
		s->tx_interrupts += st.tx_interrupts;
		s->rx_irq_packets += st.rx_irq_packets;
	}
}

/* Counters can go backwards only if the pairs in use shrank (a pair's
 * counters then leave the sum): the delta is then 0, not a wrap. */
static uint64_t ms_delta(uint64_t now, uint64_t before)
{
	return now >= before ? now - before : 0;
}

/* The six interval rates of the device and of each pair, and their
 * EWMA: packets, drops and errors in 1/100 per second, bytes per second. */
static const char *const ms_rate_keys[6] = {"rx_pps", "tx_pps", "rx_bytes_per_s", "tx_bytes_per_s",
                                            "drops_per_s", "errors_per_s"};

static bool ms_rate_is_bytes(unsigned k)
{
	return k == 2 || k == 3;
}

/* The six rates over dt from the counters now and at the base (ms_rate_keys order). */
static void ms_rates(uint64_t x[6], const uint64_t now[6], const uint64_t base[6], uint64_t dt)
{
	for (unsigned k = 0; k < 6; k++)
		x[k] = ms_per_sec(ms_delta(now[k], base[k]), dt, ms_rate_is_bytes(k) ? 1 : 100);
}

/* The six rates, or six nulls when x is NULL. */
static void ms_put_rates(struct mo *o, const uint64_t *x)
{
	for (unsigned k = 0; k < 6; k++) {
		if (!x)
			mo_null(o, ms_rate_keys[k]);
		else if (ms_rate_is_bytes(k))
			mo_u64(o, ms_rate_keys[k], x[k]);
		else
			mo_fix2(o, ms_rate_keys[k], x[k]);
	}
}

/* ---------------------------------------------- performance monitor additions */

/* Open pair q's object, named "pairN". */
static void ms_pair_obj(struct mo *o, uint16_t q)
{
	char l[16] = "pair";
	mo_fmt_u64(l + 4, q);
	mo_obj(o, l);
	mo_str(o, "name", l);
}

/* Latency histogram summary: samples and p50/p99/p99.9 (bucket upper edges). */
static void ms_lat(struct mo *o, const char *key, const uint64_t *h)
{
	uint64_t n;
	uint64_t p50 = vnet_net_lat_quantile(h, 5000, &n);
	mo_obj(o, key);
	mo_u64(o, "samples", n);
	if (n) {
		mo_u64(o, "p50_ns", p50);
		mo_u64(o, "p99_ns", vnet_net_lat_quantile(h, 9900, 0));
		mo_u64(o, "p99_9_ns", vnet_net_lat_quantile(h, 9990, 0));
	} else {
		mo_null(o, "p50_ns");
		mo_null(o, "p99_ns");
		mo_null(o, "p99_9_ns");
	}
	mo_obj_end(o);
}

/* Ratio a/b in 1/100, null when b is 0. */
static void ms_ratio(struct mo *o, const char *key, uint64_t a, uint64_t b)
{
	if (b)
		mo_fix2(o, key, a <= UINT64_MAX / 100u ? a * 100u / b : a / b * 100u);
	else
		mo_null(o, key);
}

/* Per queue pair: interval rates, ring occupancy, frames per poll and per
 * interrupt, latency histograms, feature use (totals). */
static void ms_queue(struct mo *o, struct vnet_net *net, uint16_t q, struct vnet_mgmt_qbase *b, bool have,
                     uint64_t dt)
{
	struct vnet_net_queue_stats st;
	vnet_net_get_stats(net, q, &st);
	struct vnet_net_latency lat;
	vnet_net_get_latency(net, q, &lat);
	struct vnet_mgmt_qbase n = {
		st.rx_packets, st.tx_packets, st.rx_bytes, st.tx_bytes, st.rx_drops + st.tx_drops,
		st.rx_errors + st.tx_errors, st.polls, st.rx_interrupts, st.rx_irq_packets,
	};
	ms_pair_obj(o, q);
	if (have && b) {
		const uint64_t now6[6] = {n.rx_packets, n.tx_packets, n.rx_bytes, n.tx_bytes, n.drops, n.errors};
		const uint64_t base6[6] = {b->rx_packets, b->tx_packets, b->rx_bytes, b->tx_bytes, b->drops, b->errors};
		uint64_t x[6];
		ms_rates(x, now6, base6, dt);
		ms_put_rates(o, x);
		mo_fix2(o, "rx_interrupts_per_s", ms_per_sec(ms_delta(n.rx_interrupts, b->rx_interrupts), dt, 100));
		ms_ratio(o, "rx_frames_per_poll", ms_delta(n.rx_packets, b->rx_packets), ms_delta(n.polls, b->polls));
		ms_ratio(o, "rx_frames_per_interrupt", ms_delta(n.rx_irq_packets, b->rx_irq_packets),
		         ms_delta(n.rx_interrupts, b->rx_interrupts));
	} else {
		ms_put_rates(o, NULL);
		mo_null(o, "rx_interrupts_per_s");
		mo_null(o, "rx_frames_per_poll");
		mo_null(o, "rx_frames_per_interrupt");
	}
	mo_u64(o, "rx_in_flight", vnet_vq_outstanding(vnet_net_rxq(net, q)));
	mo_u64(o, "tx_in_flight", vnet_vq_outstanding(vnet_net_txq(net, q)));
	mo_obj(o, "latency");
	mo_bool(o, "sampling", lat.sampling);
	if (lat.sampling)
		mo_u64(o, "one_in", 1ull << lat.shift);
	ms_lat(o, "tx_completion", lat.tx);
	ms_lat(o, "rx_irq_to_delivery", lat.rx);
	mo_obj_end(o);
	mo_obj(o, "features");
	mo_u64(o, "tx_csum", st.tx_csum);
	mo_u64(o, "tx_gso", st.tx_gso);
	mo_u64(o, "tx_indirect", st.tx_indirect);
	mo_u64(o, "rx_csum_offloaded", st.rx_csum_valid + st.rx_csum_partial);
	mo_u64(o, "rx_gso", st.rx_gso);
	mo_u64(o, "rx_merged", st.rx_merged);
	mo_obj_end(o);
	mo_obj_end(o);
	if (b)
		*b = n;
}

/* EWMA with weight 1/4 (the first interval seeds it). */
static uint64_t ms_ewma(uint64_t old, uint64_t x, bool seeded)
{
	if (!seeded)
		return x;
	return x >= old ? old + (x - old) / 4u : old - (old - x) / 4u;
}

static void ms_smoothed(struct mo *o, struct vnet_mgmt_slot *sl, const uint64_t *x, bool have)
{
	if (have) {
		for (unsigned k = 0; k < 6; k++)
			sl->ewma[k] = ms_ewma(sl->ewma[k], x[k], sl->have_ewma);
		sl->have_ewma = true;
	}
	mo_obj(o, "smoothed");
	ms_put_rates(o, have ? sl->ewma : NULL);
	mo_obj_end(o);
}

int ms_perf(struct mctx *c)
{
	const char *name;
	int rc;
	struct vnet_net *net = mgmt_device_only(c, true, &name, &rc);
	if (!net)
		return rc;
	const struct vnet_mgmt_host_ops *ops = c->m->ops;
	if (!ops->now_ns)
		return mgmt_fail(c, VNET_ENOTSUP, "this host has no clock for rates");
	struct ms_sum s;
	ms_sum(net, &s);
	uint64_t now = ops->now_ns(c->m->arg);
	struct vnet_mgmt_host_counters hc;
	bool have_hc = ops->host_counters && ops->host_counters(c->m->arg, name, &hc);
	uint64_t hirq = have_hc ? hc.interrupts : s.rx_interrupts + s.tx_interrupts;
	struct vnet_mgmt_slot *sl = mgmt_slot(c->m, name);
	struct mo *o = c->o;
	mo_begin(o, c->cmd->name, name);
	mo_obj(o, "totals");
	mo_u64(o, "rx_packets", s.rx_packets);
	mo_u64(o, "rx_bytes", s.rx_bytes);
	mo_u64(o, "tx_packets", s.tx_packets);
	mo_u64(o, "tx_bytes", s.tx_bytes);
	mo_u64(o, "drops", s.drops);
	mo_u64(o, "errors", s.errors);
	mo_u64(o, "rx_interrupts", s.rx_interrupts);
	mo_u64(o, "interrupts", hirq);
	mo_obj_end(o);
	bool have = sl->have_base && now > sl->base_ns;
	uint64_t dt = have ? now - sl->base_ns : 0;
	mo_u64(o, "interval_ms", dt / 1000000u);
	/* the six rates: printed here, smoothed below */
	uint64_t x[6] = {0};
	if (have) {
		const uint64_t now6[6] = {s.rx_packets, s.tx_packets, s.rx_bytes, s.tx_bytes, s.drops, s.errors};
		const uint64_t base6[6] = {sl->rx_packets, sl->tx_packets, sl->rx_bytes,
		                           sl->tx_bytes,   sl->drops,      sl->errors};
		ms_rates(x, now6, base6, dt);
	}
	mo_obj(o, "rates");
	if (!have) {
		mo_text(o, "(first sample: rates from the next call on)");
		ms_put_rates(o, NULL);
		mo_null(o, "interrupts_per_s");
		mo_null(o, "rx_packets_per_interrupt");
	} else {
		ms_put_rates(o, x);
		mo_fix2(o, "interrupts_per_s", ms_per_sec(ms_delta(hirq, sl->host_interrupts), dt, 100));
		uint64_t di = ms_delta(s.rx_interrupts, sl->rx_interrupts);
		uint64_t dp = ms_delta(s.rx_irq_packets, sl->rx_irq_packets);
		if (di)
			mo_fix2(o, "rx_packets_per_interrupt", dp * 100u / di);
		else
			mo_null(o, "rx_packets_per_interrupt");
	}
	mo_obj_end(o);
	/* performance monitor: smoothed device rates, per queue pair detail */
	if (!have) {
		/* the first call starts latency sampling (one in 16) if the host
		 * left it off: only a monitored device pays for it */
		struct vnet_net_latency l0;
		vnet_net_get_latency(net, 0, &l0);
		if (!l0.sampling)
			vnet_net_set_latency_sampling(net, 4);
	}
	ms_smoothed(o, sl, x, have);
	struct vnet_net_info ni;
	vnet_net_get_info(net, &ni);
	mo_arr(o, "queues");
	for (uint16_t q = 0; q < ni.queue_pairs; q++)
		ms_queue(o, net, q, q < VNET_MGMT_PERF_QMAX ? &sl->qbase[q] : 0, have, dt);
	mo_arr_end(o);
	mo_end(o);
	sl->have_base = true;
	sl->base_ns = now;
	sl->rx_packets = s.rx_packets;
	sl->rx_bytes = s.rx_bytes;
	sl->tx_packets = s.tx_packets;
	sl->tx_bytes = s.tx_bytes;
	sl->drops = s.drops;
	sl->errors = s.errors;
	sl->rx_interrupts = s.rx_interrupts;
	sl->tx_interrupts = s.tx_interrupts;
	sl->rx_irq_packets = s.rx_irq_packets;
	sl->host_interrupts = hirq;
	return VNET_OK;
}

/* Buffer accounting of a virtqueue over the device's life (vnet/net.h,
 * struct vnet_net_vq_acct), with the invariant checked. */
static void ms_acct(struct mo *o, struct vnet_net *net, uint16_t index)
{
	struct vnet_net_vq_acct a;
	if (vnet_net_get_vq_acct(net, index, &a) != VNET_OK)
		return;
	mo_obj(o, "buffers");
	mo_u64(o, "posted", a.posted);
	mo_u64(o, "completed", a.completed);
	mo_u64(o, "reclaimed", a.reclaimed);
	mo_u64(o, "leaked", a.leaked);
	mo_u64(o, "in_flight", a.in_flight);
	mo_bool(o, "balanced", vnet_net_vq_acct_balanced(&a));
	mo_obj_end(o);
}

static void ms_vq(struct mo *o, struct vnet_net *net, const char *label, struct vnet_vq *vq)
{
	struct vnet_vq_stats st;
	vnet_vq_get_stats(vq, &st);
	mo_obj(o, label);
	mo_str(o, "name", label);
	mo_u64(o, "index", vnet_vq_index(vq));
	mo_u64(o, "size", vnet_vq_size(vq));
	mo_u64(o, "added", st.added);
	mo_u64(o, "completed", st.completed);
	mo_u64(o, "detached", st.detached);
	mo_u64(o, "in_flight", vnet_vq_outstanding(vq));
	mo_u64(o, "kicks", st.kicks);
	mo_u64(o, "kicks_suppressed", st.kicks_suppressed);
	mo_u64(o, "full", st.full);
	mo_u64(o, "bad_len", st.bad_len);
	mo_u64(o, "faults", st.faults);
	mo_bool(o, "broken", vnet_vq_is_broken(vq));
	ms_acct(o, net, vnet_vq_index(vq));
	mo_obj_end(o);
}

static void ms_pair(struct mo *o, struct vnet_net *net, uint16_t q)
{
	struct vnet_net_queue_stats s;
	vnet_net_get_stats(net, q, &s);
	ms_pair_obj(o, q);
	mo_u64(o, "rx_packets", s.rx_packets);
	mo_u64(o, "rx_bytes", s.rx_bytes);
	mo_u64(o, "rx_drops", s.rx_drops);
	mo_u64(o, "rx_errors", s.rx_errors);
	mo_u64(o, "rx_interrupts", s.rx_interrupts);
	mo_u64(o, "rx_merged", s.rx_merged);
	mo_u64(o, "rx_no_buf", s.rx_no_buf);
	mo_u64(o, "rx_csum_valid", s.rx_csum_valid);
	mo_u64(o, "rx_csum_partial", s.rx_csum_partial);
	mo_u64(o, "rx_gso", s.rx_gso);
	mo_u64(o, "tx_packets", s.tx_packets);
	mo_u64(o, "tx_bytes", s.tx_bytes);
	mo_u64(o, "tx_drops", s.tx_drops);
	mo_u64(o, "tx_errors", s.tx_errors);
	mo_u64(o, "tx_csum", s.tx_csum);
	mo_u64(o, "tx_gso", s.tx_gso);
	mo_u64(o, "tx_link_down", s.tx_link_down);
	mo_u64(o, "tx_stops", s.tx_stops);
	mo_u64(o, "polls", s.polls);
	mo_u64(o, "poll_budget_exhausted", s.poll_budget_exhausted);
	mo_u64(o, "rx_missed_notify", s.rx_missed_notify);
	mo_obj_end(o);
}

int ms_vq_stats(struct mctx *c)
{
	unsigned i = 0;
	const char *name;
	int rc;
	struct vnet_net *net = mgmt_device(c, &i, true, mgmt_is_queue, &name, &rc);
	if (!net)
		return rc;
	struct vnet_net_info ni;
	vnet_net_get_info(net, &ni);
	struct mp_queue q = {MP_Q_PAIR, 0};
	bool one = false;
	if (c->npos > i) {
		const char *arg = c->pos[i++];
		char np[24];
		mo_fmt_u64(np, ni.queue_pairs);
		if (!mp_queue(arg, ni.max_queue_pairs, &q))
			return mgmt_fail(c, VNET_EINVAL, "%s: unknown queue '%s' (rxN, txN, pairN, ctrl or a virtqueue index)",
			                 name, arg);
		if (q.kind == MP_Q_CTRL ? !vnet_net_ctrlq(net) : q.pair >= ni.queue_pairs)
			return mgmt_fail(c, VNET_EINVAL, "%s: unknown queue '%s': %s queue pair(s) in use", name, arg, np);
		one = true;
	}
	if (mgmt_extra(c, i, &rc))
		return rc;
	struct mo *o = c->o;
	mo_begin(o, c->cmd->name, name);
	mo_arr(o, "pairs");
	for (uint16_t p = 0; p < ni.queue_pairs; p++)
		if (!one || (q.kind != MP_Q_CTRL && q.pair == p))
			ms_pair(o, net, p);
	mo_arr_end(o);
	mo_arr(o, "virtqueues");
	md_vq_each(o, net, one ? &q : NULL, ms_vq);
	mo_arr_end(o);
	mo_end(o);
	return VNET_OK;
}
