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
 * NAPI + DIM but counted in polls, not time: once an interrupt opened an
 * episode, a poll that drained the ring but found work keeps
 * notifications off and asks the host to poll again; only after more
 * than (1 << level) - 1 consecutive empty polls is the queue re-armed.
 * At the re-arm the episode's frames per interrupt move the level: a busy
 * episode (>= NET_POLL_MOD_HI frames) raises it, a quiet one
 * (<= NET_POLL_MOD_LO) lowers it, so an idle queue re-arms at its first
 * empty poll (latency as without moderation) and a flooded one takes far
 * fewer interrupts.  When the device coalesces itself (receive
 * parameters programmed through NOTF_COAL / VQ_NOTF_COAL) the fallback
 * stands aside.  rx_irq_packets / rx_interrupts is packets per interrupt
 * (kept with moderation off too); moder_held and moder_level show it work.
 * What it does not: sleep, schedule, or decide when to poll again (the
 * host's).  No allocation, locking or logging.
 * Serialised by the queue pair's owner (vnet/net.h).
 */
#include "net_priv.h"

#define NET_POLL_MOD_LEVELS 5u  /* level 4: up to 15 empty polls before re-arming */
#define NET_POLL_MOD_HI 32u     /* frames per interrupt that raise the level */
#define NET_POLL_MOD_LO 2u      /* ... and that lower it */

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

/* The queue is re-armed: close the interrupt episode and adapt. */
static void net_poll_mod_end(struct vnet_net_q *q, bool mod)
{
	struct net_poll_mod *m = &q->mod;
	if (mod && m->in_episode) {
		if (m->episode_pkts >= NET_POLL_MOD_HI && m->level + 1u < NET_POLL_MOD_LEVELS)
			m->level++;
		else if (m->episode_pkts <= NET_POLL_MOD_LO && m->level > 0)
			m->level--;
		q->st.moder_level = m->level;
	}
	m->in_episode = false;
	m->episode_pkts = 0;
	m->idle_polls = 0;
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
	if (drained && mod && q->mod.in_episode && !(flags & VNET_NET_POLL_NO_REARM)) {
		/* Moderation: stay off while polls find work, and for a few
		 * empty polls more at a higher level. */
		if (done)
			q->mod.idle_polls = 0;
		else if (q->mod.idle_polls < 255u)
			q->mod.idle_polls++;
		if (done || q->mod.idle_polls < (1u << q->mod.level)) {
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
	return vnet_vq_enable_cb(net->q[qp].rx);
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
	if (!net->q[qp].mod.in_episode) {
		net->q[qp].mod.in_episode = true;
		net->q[qp].mod.episode_pkts = 0;
		net->q[qp].mod.idle_polls = 0;
	}
	/* The host now owes the queue a vnet_net_poll(); further interrupts
	 * until that poll re-arms would only interrupt the poll itself. */
	vnet_vq_disable_cb(net->q[qp].rx);
}

void vnet_net_tx_irq(struct vnet_net *net, uint16_t qp)
{
	if (net && qp < net->pairs)
		net->q[qp].st.tx_interrupts++;
}
