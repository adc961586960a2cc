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
 * What it does not: sleep, schedule, or decide when to poll again (the
 * host's); interrupt moderation (planned here).  No allocation, locking
 * or logging.
 * Serialised by the queue pair's owner (vnet/net.h).
 */
#include "net_priv.h"

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
	/* The host now owes the queue a vnet_net_poll(); further interrupts
	 * until that poll re-arms would only interrupt the poll itself. */
	vnet_vq_disable_cb(net->q[qp].rx);
}

void vnet_net_tx_irq(struct vnet_net *net, uint16_t qp)
{
	if (net && qp < net->pairs)
		net->q[qp].st.tx_interrupts++;
}
