/*
 * Virtqueue reset (VIRTIO_F_RING_RESET) and automatic recovery of a
 * virtio-net device (include/vnet/net_recover.h, docs/reliability.md).
 *
 * What it does: vnet_net_queue_reset() takes one queue away from the
 * device (VirtIO 1.2 §2.6.1.1: "the driver MUST NOT consider queue reset
 * to be complete until it reads back 0"; the core polls the transport,
 * bounded), gives every buffer it held back to the pool, rebuilds the ring
 * (a new one when resized), sets it up and enables it again (§2.6.1.2:
 * re-enable after the fields are set up, which may differ from before) and
 * refills a receive queue.  The watchdog looks for the triggers (device
 * status, broken latches, a transmit queue that stopped completing) and
 * recovers: queue reset for one queue at fault when negotiated, otherwise
 * a device reset (vnet_net_halt) and re-init with the state replayed
 * (vnet_net_restart), with a back-off and a streak limit.
 * What it does not: read the clock (the host passes now_ns), touch any
 * queue but the one being reset, or retry a device whose reset did not
 * complete (net_setup.c latches that dead: nothing it holds may be reused).
 * Trusts: nothing from the device; a queue reset that does not complete
 * leaves the queue broken and its buffers with the device until a device
 * reset takes them back.
 * Context: control path, serialised by the caller with every other call.
 */
#include "core/vnet_log.h"
#include "core/vnet_mem.h"
#include "net_priv.h"
#include "vnet/device.h"
#include "vnet/net_ctrl.h"
#include "vnet/net_recover.h"

#define NET_RECOVER_TX_TIMEOUT_NS 2000000000ull
#define NET_RECOVER_BACKOFF_NS 100000000ull
#define NET_RECOVER_BACKOFF_MAX_NS 10000000000ull
#define NET_RECOVER_STABLE_NS 30000000000ull
#define NET_RECOVER_MAX_ATTEMPTS 5u

static const char *const net_recover_names[VNET_RECOVER_CAUSES] = {
	[VNET_RECOVER_NONE] = "none",
	[VNET_RECOVER_NEEDS_RESET] = "needs-reset",
	[VNET_RECOVER_QUEUE_BROKEN] = "queue-broken",
	[VNET_RECOVER_CTRL_TIMEOUT] = "ctrl-timeout",
	[VNET_RECOVER_TX_WATCHDOG] = "tx-watchdog",
	[VNET_RECOVER_BACKEND_STALL] = "backend-stall",
	[VNET_RECOVER_MANUAL] = "manual",
};

const char *vnet_net_recover_cause_name(enum vnet_net_recover_cause c)
{
	return (unsigned)c < VNET_RECOVER_CAUSES ? net_recover_names[c] : "?";
}

void vnet_net_recover_configure(struct vnet_net *net, const struct vnet_net_recover_opts *opts)
{
	if (!net)
		return;
	struct vnet_net_recover_opts o;
	memset(&o, 0, sizeof(o));
	if (opts)
		o = *opts;
	if (!o.tx_timeout_ns)
		o.tx_timeout_ns = NET_RECOVER_TX_TIMEOUT_NS;
	if (!o.backoff_ns)
		o.backoff_ns = NET_RECOVER_BACKOFF_NS;
	if (!o.backoff_max_ns)
		o.backoff_max_ns = NET_RECOVER_BACKOFF_MAX_NS;
	if (o.backoff_max_ns < o.backoff_ns)
		o.backoff_max_ns = o.backoff_ns;
	if (!o.stable_ns)
		o.stable_ns = NET_RECOVER_STABLE_NS;
	if (!o.max_attempts)
		o.max_attempts = NET_RECOVER_MAX_ATTEMPTS;
	if (o.tx_stall_cause <= VNET_RECOVER_NONE || o.tx_stall_cause >= VNET_RECOVER_CAUSES)
		o.tx_stall_cause = VNET_RECOVER_TX_WATCHDOG;
	net->rs.o = o;
	net->rs.configured = true;
}

static struct net_recover_state *net_recover_rs(struct vnet_net *net)
{
	if (!net->rs.configured)
		vnet_net_recover_configure(net, 0);
	return &net->rs;
}

void vnet_net_recover_get_stats(const struct vnet_net *net, struct vnet_net_recover_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (net)
		*st = net->rs.st;
}

void vnet_net_recover_rearm(struct vnet_net *net)
{
	if (!net)
		return;
	struct net_recover_state *rs = net_recover_rs(net);
	rs->st.dead = false;
	rs->st.streak = 0;
	rs->st.pending = VNET_RECOVER_NONE;
	for (uint16_t i = 0; i < net->created; i++)
		net->q[i].tx_wd_armed = false;
}

/* The ring slot of virtqueue index: a receive or transmit queue of a
 * created pair, or the controlq; NULL if there is no such queue. */
static struct vnet_vq **net_recover_slot(struct vnet_net *net, uint16_t index, struct vnet_net_q **q)
{
	*q = 0;
	if (net->ctrl && index == net->ctrl_index)
		return &net->ctrl;
	uint16_t pair = (uint16_t)(index / 2u);
	if (pair >= net->created || !net->q)
		return 0;
	*q = &net->q[pair];
	return (index & 1u) ? &net->q[pair].tx : &net->q[pair].rx;
}

/* Hand every chain the (reset) queue held back to the pool; returns the
 * buffers taken back (the controlq's command buffer is not a packet). */
static uint32_t net_recover_drain(struct vnet_net *net, struct vnet_vq *vq)
{
	uint32_t n = 0;
	void *c;
	while ((c = vnet_vq_detach_unused(vq)) != 0) {
		if (!net_ctrl_is_buffer(net, c))
			n += net_pool_put_chain(net, c);
	}
	return n;
}

int vnet_net_queue_reset(struct vnet_net *net, uint16_t vq_index, uint16_t new_size)
{
	if (!net)
		return VNET_EINVAL;
	struct net_recover_state *rs = net_recover_rs(net);
	if (net->dead)
		return VNET_EBROKEN;
	if (!(net->features & VNET_BIT(VIRTIO_F_RING_RESET)))
		return VNET_ENOTSUP;
	const char *name = vnet_device_name(net->dev);
	struct vnet_net_q *q;
	struct vnet_vq **slot = net_recover_slot(net, vq_index, &q);
	if (!slot || !*slot || !net->running) {
		VNET_ERR("%s: queue reset of queue %u: no such live queue", name, (unsigned)vq_index);
		return VNET_EINVAL;
	}
	struct vnet_vq *old = *slot, *fresh = 0;
	uint16_t size = vnet_vq_size(old);
	if (new_size && new_size != size) {
		uint16_t max = vnet_device_queue_max_size(net->dev, vq_index);
		bool pow2 = (new_size & (new_size - 1u)) == 0;
		if (new_size > max || (net->layout == VNET_VQ_SPLIT && !pow2)) {
			VNET_ERR("%s: queue %u: size %u refused (device maximum %u%s)", name, (unsigned)vq_index,
			         (unsigned)new_size, (unsigned)max, net->layout == VNET_VQ_SPLIT ? ", power of two" : "");
			return VNET_EINVAL;
		}
		/* Allocate first, so a failure leaves the queue as it was. */
		struct vnet_vq_config c;
		net_setup_vq_config(net, vq_index, new_size, vnet_vq_name(old), &c);
		int rc = vnet_vq_create(&c, &fresh);
		if (rc != VNET_OK) {
			VNET_ERR("%s: queue %u: ring of %u entries: %s", name, (unsigned)vq_index, (unsigned)new_size,
			         vnet_strerror(rc));
			return rc;
		}
	}
	/* §2.6.1.1: until the device reports the reset, it may still use the ring. */
	int rc = vnet_device_reset_queue(net->dev, vq_index);
	if (rc != VNET_OK) {
		if (fresh)
			vnet_vq_destroy(fresh);
		/* Nothing more may be posted: the device may be half-way. */
		vnet_vq_mark_broken(old, VNET_VQ_FAULT_NONE);
		rs->st.queue_reset_fails++;
		VNET_ERR("%s: queue %u (%s): queue reset failed (%s): queue left broken, its buffers with the device",
		         name, (unsigned)vq_index, vnet_vq_name(old), vnet_strerror(rc));
		return rc;
	}
	uint32_t n = net_recover_drain(net, old);
	if (fresh) {
		net_info_acct_retire(net, vq_index, old); /* its counts stay in the queue's accounting */
		vnet_vq_destroy(old);
		*slot = fresh;
	} else {
		vnet_vq_reset(old);
	}
	struct vnet_vq *vq = *slot;
	rc = vnet_device_setup_queue(net->dev, vq, net_setup_vector(net, vq_index));
	rs->st.reclaimed += n;
	if (rc != VNET_OK) {
		vnet_vq_mark_broken(vq, VNET_VQ_FAULT_NONE);
		rs->st.queue_reset_fails++;
		VNET_ERR("%s: queue %u (%s): set-up after queue reset failed (%s): queue left broken", name,
		         (unsigned)vq_index, vnet_vq_name(vq), vnet_strerror(rc));
		return rc;
	}
	if (q && vq == q->rx) {
		uint16_t b = net->opts.rx_refill_batch, cap = (uint16_t)(vnet_vq_size(vq) / 4u);
		if (b > cap)
			b = cap;
		q->rx_batch = b ? b : 1u;
		net_rx_refill(net, q);
		vnet_device_notify(net->dev, vq);
	} else if (q && vq == q->tx) {
		q->mod.tx_stopped = false;
		q->tx_wd_armed = false;
	}
	rs->st.queue_resets++;
	VNET_INFO("%s: queue %u (%s) reset%s: %u buffers reclaimed, size %u", name, (unsigned)vq_index,
	          vnet_vq_name(vq), fresh ? " and resized" : "", (unsigned)n, (unsigned)vnet_vq_size(vq));
	return VNET_OK;
}

/* Full recovery: reset, take everything back, re-init with the state
 * replayed.  VNET_OK when the device is live again. */
static int net_recover_device(struct vnet_net *net, struct net_recover_state *rs)
{
	const char *name = vnet_device_name(net->dev);
	uint32_t n = 0;
	int rc = vnet_net_halt(net, &n);
	rs->st.reclaimed += n;
	if (rc != VNET_OK)
		return rc; /* latched dead by net_setup.c (logged there) */
	struct vnet_net_ctrl_stats before, after;
	vnet_net_ctrl_get_stats(net, &before);
	rc = vnet_net_restart(net);
	if (rc != VNET_OK)
		return rc;
	vnet_net_ctrl_get_stats(net, &after);
	if (after.failed + after.refused != before.failed + before.refused) {
		rs->st.replay_errors++;
		VNET_WARN("%s: recovery: control state replay had %llu failures (data path is up)", name,
		          (unsigned long long)(after.failed + after.refused - before.failed - before.refused));
	}
	for (uint16_t i = 0; i < net->created; i++)
		net->q[i].tx_wd_armed = false;
	VNET_INFO("%s: device reset and re-initialised, state replayed, %u buffers reclaimed", name, (unsigned)n);
	return VNET_OK;
}

static uint64_t net_recover_delay(const struct net_recover_state *rs)
{
	if (rs->st.streak == 0)
		return 0;
	unsigned sh = rs->st.streak - 1u;
	if (sh > 40)
		sh = 40;
	uint64_t d = rs->o.backoff_ns << sh;
	return d > rs->o.backoff_max_ns || (d >> sh) != rs->o.backoff_ns ? rs->o.backoff_max_ns : d;
}

/* Give up on the device: halt it (buffers back, counted) and stop trying. */
static void net_recover_give_up(struct vnet_net *net, struct net_recover_state *rs, int rc)
{
	rs->st.dead = true;
	rs->st.pending = VNET_RECOVER_NONE;
	if (!net->dead) {
		uint32_t n = 0;
		(void)vnet_net_halt(net, &n);
		rs->st.reclaimed += n;
	}
	VNET_ERR("%s: recovery gave up after %u attempts (last cause %s, %s%s): device latched dead",
	         vnet_device_name(net->dev), rs->st.streak, vnet_net_recover_cause_name(rs->st.last_cause),
	         rc == VNET_OK ? "it broke again within the stable time after each recovery" : "last error ",
	         rc == VNET_OK ? "" : vnet_strerror(rc));
}

/* One attempt: queue reset first for a single queue, else the device. */
static int net_recover_attempt(struct vnet_net *net, struct net_recover_state *rs, enum vnet_net_recover_cause cause,
                               uint16_t vq_index, uint64_t now_ns)
{
	const char *name = vnet_device_name(net->dev);
	if (rs->st.dead || net->dead)
		return VNET_EBROKEN;
	/* A healthy stretch since the last (successful) attempt ends the streak. */
	if (rs->st.streak && rs->st.last_error == VNET_OK && now_ns - rs->st.last_ns >= rs->o.stable_ns)
		rs->st.streak = 0;
	/* A reset the operator asked for is not a device failure: unless it
	 * fails, it neither counts toward the streak nor meets its limit. */
	bool manual = cause == VNET_RECOVER_MANUAL;
	if (!manual && rs->st.streak >= rs->o.max_attempts) {
		/* The limit: this trigger is acted on by giving up. */
		rs->st.by_cause[cause]++;
		rs->st.last_cause = cause;
		net_recover_give_up(net, rs, rs->st.last_error);
		return VNET_EBROKEN;
	}
	if (!manual) {
		rs->st.streak++;
		rs->st.last_ns = now_ns;
	}
	rs->st.by_cause[cause]++;
	rs->st.last_cause = cause;
	rs->st.pending = VNET_RECOVER_NONE;
	VNET_WARN("%s: recovery (%s, queue %s%u), attempt %u of %u", name, vnet_net_recover_cause_name(cause),
	          vq_index == VNET_NET_VQ_ALL ? "all/" : "", vq_index == VNET_NET_VQ_ALL ? 0u : (unsigned)vq_index,
	          manual ? 0u : rs->st.streak, rs->o.max_attempts);
	int rc = VNET_ENOTSUP;
	if (vq_index != VNET_NET_VQ_ALL && !rs->o.no_queue_reset && net->running &&
	    (net->features & VNET_BIT(VIRTIO_F_RING_RESET)) && !vnet_device_needs_reset(net->dev))
		rc = vnet_net_queue_reset(net, vq_index, 0);
	if (rc != VNET_OK) {
		rc = net_recover_device(net, rs);
		if (rc == VNET_OK)
			rs->st.device_resets++;
		else
			rs->st.device_reset_fails++;
	}
	rs->st.last_error = rc;
	if (rc == VNET_OK)
		return VNET_OK;
	if (manual) {
		/* The device failed a reset: that is a failure like any other. */
		rs->st.streak++;
		rs->st.last_ns = now_ns;
	}
	if (net->dead) {
		net_recover_give_up(net, rs, rc);
		return rc;
	}
	if (rs->st.streak >= rs->o.max_attempts) {
		net_recover_give_up(net, rs, rc);
		return rc;
	}
	/* Retried from the watchdog after the back-off. */
	rs->st.pending = cause;
	rs->pending_vq = VNET_NET_VQ_ALL;
	VNET_WARN("%s: recovery attempt %u failed (%s): retry in %llu ms", name, rs->st.streak, vnet_strerror(rc),
	          (unsigned long long)(net_recover_delay(rs) / 1000000u));
	return rc;
}

int vnet_net_recover(struct vnet_net *net, enum vnet_net_recover_cause cause, uint16_t vq_index, uint64_t now_ns)
{
	if (!net || cause <= VNET_RECOVER_NONE || cause >= VNET_RECOVER_CAUSES)
		return VNET_EINVAL;
	return net_recover_attempt(net, net_recover_rs(net), cause, vq_index, now_ns);
}

/* TX watchdog for one pair: true if the transmit queue holds buffers and
 * neither completed one nor has a completion waiting since tx_timeout_ns. */
static bool net_recover_tx_stalled(struct vnet_net *net, struct vnet_net_q *q, uint64_t now_ns, uint64_t timeout)
{
	struct vnet_vq_stats st;
	vnet_vq_get_stats(q->tx, &st);
	if (vnet_vq_outstanding(q->tx) == 0) {
		q->tx_wd_armed = false; /* no work pending: nothing to wait for */
		return false;
	}
	/* The clock runs from the first tick that saw work pending and
	 * restarts at every sign of progress. */
	if (!q->tx_wd_armed || vnet_vq_has_used(q->tx) || st.completed != q->tx_wd_completed) {
		q->tx_wd_armed = true;
		q->tx_wd_completed = st.completed;
		q->tx_wd_ns = now_ns;
		return false;
	}
	(void)net;
	return now_ns - q->tx_wd_ns >= timeout;
}

/* The first trigger found, and the queue at fault (VNET_NET_VQ_ALL: device). */
static enum vnet_net_recover_cause net_recover_detect(struct vnet_net *net, struct net_recover_state *rs,
                                                      uint64_t now_ns, uint16_t *vq_index)
{
	*vq_index = VNET_NET_VQ_ALL;
	if (rs->st.pending) {
		*vq_index = rs->pending_vq;
		return rs->st.pending;
	}
	if (!net->running)
		return VNET_RECOVER_NONE; /* halted by the host: not ours to restart */
	if (vnet_device_needs_reset(net->dev))
		return VNET_RECOVER_NEEDS_RESET;
	for (uint16_t i = 0; i < net->created; i++) {
		if (vnet_vq_is_broken(net->q[i].rx)) {
			*vq_index = (uint16_t)(2u * i);
			return VNET_RECOVER_QUEUE_BROKEN;
		}
		if (vnet_vq_is_broken(net->q[i].tx)) {
			*vq_index = (uint16_t)(2u * i + 1u);
			return VNET_RECOVER_QUEUE_BROKEN;
		}
	}
	if (net->ctrl && vnet_vq_is_broken(net->ctrl)) {
		*vq_index = net->ctrl_index;
		return VNET_RECOVER_CTRL_TIMEOUT;
	}
	if (rs->o.tx_timeout_ns != UINT64_MAX) {
		for (uint16_t i = 0; i < net->pairs; i++) {
			if (net_recover_tx_stalled(net, &net->q[i], now_ns, rs->o.tx_timeout_ns)) {
				*vq_index = (uint16_t)(2u * i + 1u);
				return rs->o.tx_stall_cause;
			}
		}
	}
	return VNET_RECOVER_NONE;
}

enum vnet_net_recover_cause vnet_net_watchdog(struct vnet_net *net, uint64_t now_ns)
{
	if (!net)
		return VNET_RECOVER_NONE;
	struct net_recover_state *rs = net_recover_rs(net);
	if (rs->st.dead || net->dead)
		return VNET_RECOVER_NONE;
	uint16_t vq;
	enum vnet_net_recover_cause c = net_recover_detect(net, rs, now_ns, &vq);
	if (c == VNET_RECOVER_NONE)
		return c;
	bool held = rs->o.manual ||
	            (rs->st.streak && rs->st.last_ns + net_recover_delay(rs) > now_ns &&
	             !(rs->st.last_error == VNET_OK && now_ns - rs->st.last_ns >= rs->o.stable_ns));
	if (held) {
		if (rs->st.pending != c)
			rs->pending_vq = vq;
		rs->st.pending = c;
		rs->st.deferred++;
		return VNET_RECOVER_NONE;
	}
	(void)net_recover_attempt(net, rs, c, vq, now_ns);
	return c;
}
