/*
 * Service loop of the virtio-net layer (NAPI-like) and the interrupt-mode
 * helpers the host calls: one budgeted pass over a queue pair, used by
 * the kernel's interrupt path and by the user-space port alike.
 *
 * What it does: vnet_net_poll() receives at most `budget` frames, hands
 * each to the host's callback, reclaims transmissions, and then either
 * leaves used-buffer notifications off (budget spent: the host defers the
 * rest) or re-arms them with the lost-wake-up re-check of
 * vnet_vq_enable_cb (VirtIO 1.2 §2.7.10 / §2.8.10: a completion that lands
 * before the device saw the re-arm raises no notification).
 * Interrupt moderation (opts.rx_moderation), the software fallback for
 * devices without NOTF_COAL (QEMU 7.2 has none), in the spirit of Linux
 * NAPI + DIM, counted in time (vnet_hal_time_ns, read only when the
 * fallback applies): once an interrupt opened an episode, a poll that
 * drained the ring keeps notifications off and asks the host to poll
 * again (*more) while polls find work and for a hold time after the
 * last one that did (net_poll_hold_ns[level]: 0, 16, 32, ... 1024 us,
 * doubling); the first empty poll past the hold re-arms.  The level
 * adapts per episode from the gap between the last re-arm and the
 * interrupt that opens the next episode: an interrupt within
 * NET_POLL_MOD_BUSY_NS (the top hold) of the re-arm (a busy queue: a
 * longer hold would have absorbed it) raises it one step, a gap up to
 * NET_POLL_MOD_IDLE_NS lowers it one step, a longer one (the queue went
 * idle) drops it to 0, so an idle ping (one frame per 8 ms or fewer)
 * re-arms at its first empty poll, as without moderation.  The levels
 * start at 16 us (about one frame time of a 64 kframes/s stream, under
 * the tens of us an exit + interrupt cost under virtualisation) and end
 * at 1 ms: a paced stream of a few kframes/s reaches the host in clumps
 * with gaps of several hundred us (a loaded host, QEMU's main loop), and
 * a 256 us top hold measured only 2.6-4.9x fewer interrupts under TCG
 * (docs/performance.md); 1 ms of polling is the most an idle-again queue
 * costs the host.  When the device coalesces itself (receive parameters
 * programmed through NOTF_COAL / VQ_NOTF_COAL) the fallback stands
 * aside.  rx_irq_packets / rx_interrupts is packets per interrupt (kept
 * with moderation off too); moder_held and moder_level show it work.
 * Lost notifications: vnet_net_rx_missed_check(), called by the host
 * every few tens of ms, reports a receive queue that had notifications
 * armed and completions waiting at two checks with no poll in between (a
 * device or interrupt path that dropped a notification; the spec-side
 * race is closed by the re-arm re-check), so the host services it instead
 * of the queue staying quiet for good.  Counted in rx_missed_notify.
 * What it does not: sleep, schedule, or decide when to poll again (the
 * host's).  No allocation, locking or logging.
 * Serialised by the queue pair's owner (vnet/net.h).
 */
#include "net_priv.h"

#define NET_POLL_MOD_LEVELS 8u
/* Hold after the episode's last work, per level (see above). */
static const uint32_t net_poll_hold_ns[NET_POLL_MOD_LEVELS] = {0,      16000,  32000,  64000,
                                                               128000, 256000, 512000, 1024000};
#define NET_POLL_MOD_BUSY_NS 1024000u /* interrupt this soon after the re-arm: level up */
#define NET_POLL_MOD_IDLE_NS 8000000u /* ... later than this: level 0; in between: level down */

/* Software moderation applies: asked for, and the device does not
 * coalesce receive notifications itself. */
static bool net_poll_mod_on(const struct vnet_net *net, uint16_t qp)
{
	if (!net->opts.rx_moderation)
		return false;
	uint16_t rxi = (uint16_t)(2u * qp);
	bool dev_coal = (net->cs.coal_set[1] && net->cs.coal[1].max_usecs && net->cs.coal[1].max_packets) ||
	                (rxi < VNET_NET_COAL_VQ_MAX && ((net->cs.vq_coal_set >> rxi) & 1u) &&
	                 net->cs.vq_coal[rxi].max_usecs && net->cs.vq_coal[rxi].max_packets);
	return !dev_coal;
}

/* The queue is re-armed: close the interrupt episode. */
static void net_poll_mod_end(struct vnet_net_q *q, bool mod)
{
	struct net_poll_mod *m = &q->mod;
	if (mod && m->in_episode)
		m->last_rearm_ns = vnet_hal_time_ns();
	m->in_episode = false;
	m->episode_pkts = 0;
}

/* An interrupt opens an episode: adapt the level from the gap since the
 * last re-arm (DIM-like, one step per episode). */
static void net_poll_mod_begin(struct vnet_net *net, uint16_t qp)
{
	struct net_poll_mod *m = &net->q[qp].mod;
	m->in_episode = true;
	m->episode_pkts = 0;
	if (!net_poll_mod_on(net, qp))
		return;
	uint64_t now = vnet_hal_time_ns();
	m->last_work_ns = now;
	if (m->last_rearm_ns) {
		uint64_t gap = now - m->last_rearm_ns;
		if (gap < NET_POLL_MOD_BUSY_NS) {
			if (m->level + 1u < NET_POLL_MOD_LEVELS)
				m->level++;
		} else if (gap < NET_POLL_MOD_IDLE_NS) {
			if (m->level)
				m->level--;
		} else {
			m->level = 0;
		}
	}
	net->q[qp].st.moder_level = m->level;
}

unsigned vnet_net_poll(struct vnet_net *net, uint16_t qp, unsigned budget, unsigned flags, vnet_net_rx_fn fn,
                       void *arg, bool *more)
{
	bool again = false;
	unsigned done = 0;
	if (VQ_UNLIKELY_NET(!net || qp >= net->pairs || !net->running || !fn)) {
		if (more)
			*more = false;
		return 0;
	}
	struct vnet_net_q *q = &net->q[qp];
	struct vnet_pkt *pkts[VNET_NET_BURST_MAX];
	bool drained = false;
	q->st.polls++;
	while (done < budget) {
		unsigned want = budget - done < VNET_NET_BURST_MAX ? budget - done : VNET_NET_BURST_MAX;
		unsigned k = vnet_net_rx_burst(net, qp, pkts, want);
		if (VQ_UNLIKELY_NET(q->lat.rx_t0) && k) net_stats_rx_deliver(q); /* performance monitor */
		for (unsigned i = 0; i < k; i++)
			fn(arg, pkts[i]);
		done += k;
		/* rx_burst stops short only when the ring has nothing more
		 * (dropped frames do not count against the burst). */
		if (k < want) {
			drained = true;
			break;
		}
	}
	net_tx_reclaim(net, q);
	net_ctrl_tx_wake_check(q); /* completions make room: wake a stopped queue */
	bool mod = net_poll_mod_on(net, qp);
	if (q->mod.in_episode) {
		q->st.rx_irq_packets += done;
		q->mod.episode_pkts += done;
	}
	if (mod && q->mod.in_episode && !(flags & VNET_NET_POLL_NO_REARM)) {
		/* Moderation: stay off while polls find work, and for the
		 * level's hold time after the last poll that did (a poll cut
		 * short by the budget counts as work too). */
		uint64_t now = vnet_hal_time_ns();
		if (done)
			q->mod.last_work_ns = now;
		if (drained && (done || now - q->mod.last_work_ns < net_poll_hold_ns[q->mod.level])) {
			q->st.moder_held++;
			if (more)
				*more = true;
			return done;
		}
	}
	if (!drained) {
		/* Budget spent: leave notifications off, the host polls again
		 * later (a poll loop, the next service()) instead of staying in
		 * its interrupt handler. */
		q->st.poll_budget_exhausted++;
		again = true;
	} else if (!(flags & VNET_NET_POLL_NO_REARM)) {
		/* Re-arm, then re-check (vnet_vq_enable_cb): a completion that
		 * landed after our last look and before the device saw the
		 * re-arm raises no interrupt, so it must be polled now. */
		if (!vnet_vq_enable_cb(q->rx)) {
			vnet_vq_disable_cb(q->rx);
			q->st.poll_rearm_races++;
			again = true;
		} else {
			net_poll_mod_end(q, mod);
		}
	}
	if (more)
		*more = again;
	return done;
}

bool vnet_net_rx_intr_enable(struct vnet_net *net, uint16_t qp)
{
	if (!net || qp >= net->pairs)
		return true;
	bool armed = vnet_vq_enable_cb(net->q[qp].rx);
	if (armed) /* the host re-armed (vnet_port service()): the episode ends here */
		net_poll_mod_end(&net->q[qp], net_poll_mod_on(net, qp));
	return armed;
}

void vnet_net_rx_intr_disable(struct vnet_net *net, uint16_t qp)
{
	if (net && qp < net->pairs)
		vnet_vq_disable_cb(net->q[qp].rx);
}

void vnet_net_rx_irq(struct vnet_net *net, uint16_t qp)
{
	if (!net || qp >= net->pairs)
		return;
	net->q[qp].st.rx_interrupts++;
	if (VQ_UNLIKELY_NET(net->q[qp].lat.on)) net_stats_rx_irq(&net->q[qp]); /* performance monitor */
	/* An interrupt opens a moderation episode (net_poll_mod_end closes it). */
	if (!net->q[qp].mod.in_episode)
		net_poll_mod_begin(net, qp);
	/* The host now owes the queue a vnet_net_poll(); further interrupts
	 * until that poll re-arms would only interrupt the poll itself. */
	vnet_vq_disable_cb(net->q[qp].rx);
}

bool vnet_net_rx_missed_check(struct vnet_net *net, uint16_t qp)
{
	if (!net || qp >= net->pairs || !net->running)
		return false;
	struct vnet_net_q *q = &net->q[qp];
	struct vnet_vq_ring_state rs;
	vnet_vq_get_ring_state(q->rx, &rs);
	bool waiting = rs.cb_enabled && rs.used_ready && !vnet_vq_is_broken(q->rx);
	bool missed = waiting && q->miss_seen && q->miss_polls == q->st.polls;
	q->miss_seen = waiting && !missed; /* after a miss, start over */
	q->miss_polls = q->st.polls;
	if (missed)
		q->st.rx_missed_notify++;
	return missed;
}

void vnet_net_tx_irq(struct vnet_net *net, uint16_t qp)
{
	if (net && qp < net->pairs)
		net->q[qp].st.tx_interrupts++;
}
