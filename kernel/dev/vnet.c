/*
 * vnet0..vnet7: the Orion kernel's glue between QEMU's virtio-net devices
 * (virtio-net-pci functions and virtio-mmio virtio-net-device windows),
 * the orion-vnet driver (virtio-pci / virtio-mmio transport + net layer)
 * and the test IPv4 stack (kernel/net/).
 *
 * At boot (orion_late_init) every virtio-net PCI function (1af4:1041, or
 * 1af4:1000 with subsystem id 1) in the kernel's PCI table, in table
 * order, becomes the next device vnetN, up to VNET_MAX_DEVS; then every
 * virtio-mmio window the arch registered (orion/virtio_mmio.h) whose
 * DeviceID is 1 (network), in registration order.  A device past
 * VNET_MAX_DEVS is reported by name and left alone.  A virtio-mmio device
 * has no MSI-X: its one interrupt line goes the INTx way below (mode intx,
 * "gsi" = the window's line), or it is polled when the window has none.  Each is probed through
 * the modern transport and brought up with options from the command line:
 * mode=irq|poll, ring=split|packed|auto, qsize=N, pairs=N, pool=N apply to
 * every device unless vnetN.<key>= overrides them for one; ip=A.B.C.D[/M]
 * and gw=A.B.C.D mean vnet0, vnetN.ip= / vnetN.gw= set any device, and a
 * device with neither gets QEMU user networking's 10.0.2.15/24 via
 * 10.0.2.2.  A device the driver cannot use (legacy-only, FEATURES_OK
 * refused, ...) is reported as "vnetN: ... not supported: <reason>" and
 * keeps its name (numbering follows PCI order); the others carry on.
 *
 * Interrupt routing is decided in one place, vd_vector_of(): the driver asks
 * it for the MSI-X entry of each virtqueue (vnet_net_opts.vd_vector_of) and
 * the handler dispatches an entry with the same function.  Entry 0 takes
 * configuration changes; queue index i takes 1 + i % (n - 1); with one
 * entry everything shares entry 0.
 *
 * How packets move (receive work is budgeted everywhere, NAPI-like):
 *   - mode=irq with MSI-X (the default): an rx entry's handler calls
 *     vnet_net_rx_irq() (notifications off) and vnet_net_poll() with
 *     VNET_RX_BUDGET frames.  If the budget is spent, the pair is marked
 *     pending and the rest is left to main context: netdev_service(),
 *     run by the shell's idle loop (serial_getc's idle hook) and by
 *     net_wait_once(), polls pending pairs a budget at a time and lets
 *     vnet_net_poll() re-arm notifications once the ring is empty (with
 *     its lost-wake-up re-check).  So a flood cannot keep the handler
 *     from returning, and the shell keeps answering.  Transmit interrupts
 *     are suppressed (the callback is disabled): completed buffers are
 *     reclaimed by the next transmit or poll, which is all a
 *     request/response stack needs.
 *   - no MSI-X (QEMU vectors=0): the function's INTx line is routed
 *     to the interrupt controller (pci_intx_route() finds the line, the
 *     arch's arch_irq_line_attach() programs it: on x86_64 the IOAPIC GSI of
 *     QEMU's pc and q35 boards; level-triggered, so the handler must deassert it by
 *     reading the ISR status byte, VirtIO 1.2 §4.1.4.5, before the
 *     dispatcher's EOI).  Bit 0 of ISR services every queue pair the
 *     same way an MSI-X rx entry does, bit 1 re-reads the configuration.
 *     The line may be shared (several NICs on one GSI), so an interrupt
 *     with ISR 0 is someone else's: it is counted, and a long unbroken run
 *     of them (a line stuck by a device nobody drives) masks the GSI and
 *     falls back to polling.
 *   - no MSI-X and no routable INTx (unknown chipset, routing disabled):
 *     the 100 Hz tick reads the ISR status byte and polls the queues
 *     ("mode isr-poll"); main context polls too (netdev_service).
 *   - mode=poll: no interrupts are requested; netdev_service() and the
 *     tick poll the queues (VNET_NET_POLL_NO_REARM, VNET_POLL_BUDGET
 *     frames per pair per call) so ARP and echo keep being answered.
 * In every case frames are processed with interrupts off: that is the one
 * lock between the handlers, the tick and main context (single CPU).
 *
 * With several queue pairs every receive queue is serviced, and a frame
 * sent while handling a received one (an echo, an ARP or ping reply)
 * leaves on the device and pair it arrived on: the back-end then sees each
 * flow on one queue pair (a multi-queue tap steers the flow back to the
 * queue it last saw it on).  Frames sent outside a receive pass (main
 * context: ping, TCP; announcements) take the pair tx_steer() picks.
 */
#include "orion/vnet_mgmt.h"
#include "vnet_priv.h"
#include "vnet/net_ctrl.h"

struct vnetdev vnet_devs[VNET_MAX_DEVS];
unsigned vnet_ndevs;
static bool tick_hooked;
static uint8_t linear[VNET_LINEAR_MAX];


bool netdev_up(unsigned ifn)
{
	struct vnetdev *d = vd_get(ifn);
	return d && d->up;
}

struct vnet_net *netdev_net(unsigned ifn)
{
	struct vnetdev *d = vd_get(ifn);
	return d && d->up ? d->net : NULL;
}


bool netdev_needs_poll(void)
{
	for (unsigned i = 0; i < vnet_ndevs; i++)
		if (vd_polled(&vnet_devs[i]))
			return true;
	return false;
}

/* ------------------------------------------------------------ data path */

/* vnet_net_poll's per-frame callback: hand the frame to the stack as
 * received on this device, then give the buffer back. */
static void deliver(void *arg, struct vnet_pkt *p)
{
	struct vnetdev *d = arg;
	unsigned fl = 0;
	d->rx_frames++;
	vd_hashlog_rx(d, p);
	if (p->flags & VNET_PKT_F_CSUM_VALID)
		fl |= NET_RX_CSUM_VALID;
	if (p->flags & VNET_PKT_F_CSUM_PARTIAL)
		fl |= NET_RX_CSUM_PARTIAL;
	if (p->flags & VNET_PKT_F_GSO)
		fl |= NET_RX_GSO;
	if (p->nseg == 1 || !p->next) {
		net_input_meta(d->index, p->data, p->len, fl);
	} else if (p->pkt_len <= sizeof(linear)) {
		/* Mergeable receive buffers: one frame over several buffers. */
		size_t off = 0;
		for (struct vnet_pkt *s = p; s && off + s->len <= sizeof(linear); s = s->next) {
			memcpy(linear + off, s->data, s->len);
			off += s->len;
		}
		d->linearised++;
		net_input_meta(d->index, linear, off, fl);
	} else {
		d->too_long++;
	}
	vnet_net_pkt_free(d->net, p);
}

/*
 * Service pair q with at most `budget` frames: vnet_net_poll() delivers,
 * reclaims transmissions and (without NO_REARM) re-arms notifications
 * once the ring is empty.  A re-arm race (*more with budget left) is
 * served again here, a few times at most.  Returns true if work remains.
 */
bool vd_service_pair(struct vnetdev *d, uint16_t q, unsigned budget, unsigned flags)
{
	unsigned done = 0;
	bool more = true;
	d->tx_pair = q;
	for (unsigned i = 0; i < 4 && more && done < budget; i++)
		done += vnet_net_poll(d->net, q, budget - done, flags, deliver, d, &more);
	d->tx_pair = VD_TX_STEER;
	return more;
}

/* Interrupt context: the receive interrupt of pair q. */
void vd_rx_intr(struct vnetdev *d, uint16_t q)
{
	if (d->pending & (1ull << q))
		return; /* already waiting for main context, notifications off */
	uint64_t frames = d->rx_frames;
	vnet_net_rx_irq(d->net, q);
	if (vd_service_pair(d, q, VNET_RX_BUDGET, 0)) {
		d->pending |= 1ull << q;
		d->deferred++;
	}
	if (d->rescued_mask & (1ull << q)) {
		/* The first interrupt after a rescue: one that finds nothing was
		 * the rescued work's notification, late rather than lost. */
		d->rescued_mask &= ~(1ull << q);
		if (d->rx_frames == frames)
			d->rx_missed_late++;
	}
}

/* The interrupt cause, read and acknowledged: the PCI ISR status byte
 * (reading clears it and deasserts INTx, VirtIO 1.2 §4.1.4.5) or the
 * virtio-mmio InterruptStatus, written back to InterruptACK (§4.2.3.4).
 * Both use bit 0 = queue, bit 1 = configuration. */
uint32_t vd_read_isr(struct vnetdev *d)
{
	if (d->mmio)
		return vnet_mmio_isr(d->mmio);
	return d->leg ? vnet_pci_legacy_isr(d->leg) : vnet_pci_isr(d->pci);
}

/* Poll-mode service of every pair (tick, main context). */
static bool poll_dev(struct vnetdev *d)
{
	if (d->mode == MODE_ISR_POLL) {
		uint32_t isr = vd_read_isr(d);
		d->isr_reads++;
		if (isr & VIRTIO_PCI_ISR_CONFIG)
			vnet_net_config_changed(d->net);
	}
	bool more = false;
	for (uint16_t q = 0; q < d->pairs; q++)
		more |= vd_service_pair(d, q, VNET_POLL_BUDGET, VNET_NET_POLL_NO_REARM);
	return more;
}

/* Recovery (src/net/net_recover.c): the watchdog, every 100 ms from main
 * context (a reset busy-waits: never from the tick's interrupt). */
static void vd_watchdog(struct vnetdev *d)
{
	static uint64_t next[VNET_MAX_DEVS];
	uint64_t now = timer_ns();
	if (now < next[d->index])
		return;
	next[d->index] = now + 100 * MS_NS;
	unsigned long f = irq_save();
	(void)vnet_net_watchdog(d->net, now);
	irq_restore(f);
}

/*
 * Lost receive notifications, from the 100 Hz tick (interrupt context,
 * like the handlers): a receive queue that had notifications armed and
 * completions waiting at two ticks in a row with no poll in between
 * (vnet_net_rx_missed_check) is serviced as if its interrupt had come, so
 * a lost one costs 10-20 ms instead of the queue.  Measured here: under
 * nested KVM, with two NICs receiving at once, QEMU sent MSI-X messages
 * (its virtio_notify trace) that never reached the IDT, several per
 * second (docs/reliability.md, "Lost MSI-X messages"); under TCG none.
 * Polled devices never owe an interrupt; `vnet lostirq ... norescue`
 * turns the check off (fault injection, to show what it prevents).
 */
static void vd_rx_rescue(struct vnetdev *d)
{
	for (uint16_t q = 0; !d->rescue_off && q < d->pairs; q++) {
		if ((d->pending & (1ull << q)) || !vnet_net_rx_missed_check(d->net, q))
			continue;
		d->rx_missed++;
		if (d->rx_missed <= 3 || d->rx_missed % 1000 == 0) {
			struct vnet_vq_ring_state r;
			vnet_vq_get_ring_state(vnet_net_rxq(d->net, q), &r);
			/* ... and the MSI-X entry's state: masked, or held pending by the function? */
			bool masked = false, held = false;
			uint16_t e = vd_vector_of(d, (uint16_t)(2u * q));
			bool known = d->pd && e != VNET_VECTOR_NONE && pci_msix_entry_state(d->pd, e, &masked, &held);
			kprintf("%s: rx%u: completions waiting with notifications armed and no interrupt for a tick: "
				"serviced from the tick (lost notification %lu; used %#x device_used %#x driver_event "
				"%#x; msix entry %s%s)\n", d->name, q, d->rx_missed, r.used_pos, r.device_used, r.driver_event,
				!known ? "n/a" : masked ? "masked" : "unmasked", held ? " pending" : "");
		}
		vd_rx_intr(d, q);
		d->rescued_mask |= 1ull << q;   /* set after: the rescue's own service is not judged */
	}
}

bool netdev_service(void)
{
	bool more = false;
	more |= pcie_hotplug_service();   /* slot events the tick saw (pcie_hotplug.c) */
	for (unsigned i = 0; i < vnet_ndevs; i++) {
		struct vnetdev *d = &vnet_devs[i];
		if (!d->up)
			continue;
		vd_watchdog(d);
		if (vd_polled(d))
			more |= poll_dev(d);
		/* A pending pair whose poll is in its moderation hold
		 * (src/net/net_poll.c: at most 1 ms after the last frame)
		 * reports more work, so the idle loop (serial_getc) polls
		 * again instead of halting: a short busy poll, acceptable in
		 * a kernel with nothing else to run; the queue is re-armed at
		 * the first empty poll past the hold and the CPU halts again. */
		for (uint16_t q = 0; d->pending && q < d->pairs; q++) {
			if (!(d->pending & (1ull << q)))
				continue;
			d->deferred_polls++;
			if (vd_service_pair(d, q, VNET_RX_BUDGET, 0))
				more = true;
			else
				d->pending &= ~(1ull << q); /* empty and re-armed */
		}
	}
	return more;
}

/* ---- the stack's frame sizes and offloads (kernel/net, issue 9) ---- */

bool netdev_caps(unsigned ifn, struct netdev_caps *c)
{
	struct vnetdev *d = vd_get(ifn);
	if (!d || !d->up)
		return false;
	struct vnet_net_info ni;
	vnet_net_get_info(d->net, &ni);
	memset(c, 0, sizeof(*c));
	c->mtu = ni.mtu;
	c->max_tx = ni.tx_frame_max < NET_FRAME_MAX ? ni.tx_frame_max : NET_FRAME_MAX;
	c->tx_csum = (ni.negotiated & VNET_BIT(VIRTIO_NET_F_CSUM)) != 0;
	c->rx_csum = (ni.negotiated & VNET_BIT(VIRTIO_NET_F_GUEST_CSUM)) != 0;
	c->tx_tso4 = (ni.negotiated & VNET_BIT(VIRTIO_NET_F_HOST_TSO4)) != 0 && ni.tx_frame_max >= NET_FRAME_MAX;
	c->rx_tso4 = (ni.negotiated & VNET_BIT(VIRTIO_NET_F_GUEST_TSO4)) != 0;
	return true;
}

/*
 * The pair for a frame sent outside a receive pass: the one the flow's
 * replies arrive on, so a flow's requests and replies share a pair
 * (vnet_net_tx_pick hashes the reply's tuple with the RSS key and table
 * the driver programmed; a non-IP frame gets pair 0, RSS's unclassified
 * queue).
 */
static uint16_t tx_steer(struct vnetdev *d, const uint8_t *f, size_t len)
{
	if (d->pairs <= 1)
		return 0;
	uint16_t q = vnet_net_tx_pick(d->net, f, (uint32_t)len);
	return q < d->pairs ? q : 0;
}

int netdev_tx(unsigned ifn, const void *frame, size_t len) { return netdev_tx_meta(ifn, frame, len, NULL); }

/* A pool buffer for transmit; completions of every pair hold pool
 * buffers, so reclaim them before giving up. */
static struct vnet_pkt *tx_alloc(struct vnetdev *d)
{
	struct vnet_pkt *p = vnet_net_pkt_alloc(d->net);
	if (!p) {
		for (uint16_t q = 0; q < d->pairs; q++)
			vnet_net_tx_reclaim(d->net, q);
		p = vnet_net_pkt_alloc(d->net);
	}
	if (p)
		p->next = NULL;
	return p;
}

int netdev_tx_meta(unsigned ifn, const void *frame, size_t len, const struct netdev_txmeta *m)
{
	struct vnetdev *d = vd_get(ifn);
	if (!d || !d->up)
		return -1;
	/* A frame larger than one buffer goes as a chain of pool buffers
	 * (at most VNET_NET_TX_SEGS_MAX); the driver checks the offloads. */
	if (!len || !d->tx_room || len > (size_t)d->tx_room * VNET_NET_TX_SEGS_MAX || len > VNET_NET_FRAME_MAX) {
		d->tx_too_big++;
		return -1;
	}
	uint16_t qp = d->tx_pair < d->pairs ? d->tx_pair : tx_steer(d, frame, len);
	struct vnet_pkt *p = tx_alloc(d);
	if (!p) {
		d->tx_nobuf++;
		return -1;
	}
	size_t first = len < p->room ? len : p->room;
	memcpy(p->data, frame, first);
	p->len = (uint32_t)first;
	p->next = NULL;
	struct vnet_pkt *tail = p;
	for (size_t off = first; off < len;) {
		struct vnet_pkt *s = tx_alloc(d);
		if (!s) {
			vnet_net_pkt_free(d->net, p); /* the whole chain */
			d->tx_nobuf++;
			return -1;
		}
		size_t n = len - off < s->room ? len - off : s->room;
		memcpy(s->data, (const uint8_t *)frame + off, n);
		s->len = (uint32_t)n;
		s->next = NULL;
		tail->next = s;
		tail = s;
		off += n;
	}
	p->flags = 0;
	if (m && m->csum) {
		p->flags |= VNET_PKT_F_CSUM_PARTIAL;
		p->csum_start = m->csum_start;
		p->csum_offset = m->csum_offset;
	}
	if (m && m->gso_size) {
		p->flags |= VNET_PKT_F_GSO;
		p->gso_type = VNET_PKT_GSO_TCPV4;
		p->gso_size = m->gso_size;
		p->hdr_len = m->hdr_len;
	}
	if (vnet_net_tx_burst(d->net, qp, &p, 1) != 1) {
		/* Refused: the link is down (STATUS; the driver counted it in
		 * tx_link_down), or the ring is full even after reclaim.  The
		 * frame is dropped either way; count it as what it was. */
		vnet_net_pkt_free(d->net, p);
		struct vnet_net_link link;
		vnet_net_get_link(d->net, &link);
		if (!link.up)
			d->tx_link_down++;
		else
			d->tx_nobuf++;
		return -1;
	}
	return 0;
}

static void vnet_tick(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < vnet_ndevs; i++) {
		struct vnetdev *d = &vnet_devs[i];
		if (vd_polled(d))
			poll_dev(d);
		else if (d->up)
			vd_rx_rescue(d);
	}
}

void vd_tick_start(void)
{
	if (!tick_hooked)
		tick_hooked = timer_add_tick_hook(vnet_tick, NULL) == 0;
}

void orion_late_init(void)
{
	vd_cmd_init();
	mgmt_shell_init();   /* kernel/core/mgmt_shell.c: the virtio_net_* commands */
	net_shell_init();
	vd_selftest_init();
	vd_bringup_all();
	/* The shell's input wait serves deferred receive work. */
	serial_set_idle_hook(netdev_service);
	if (netdev_up(0) && cmdline_get("ping_gw")) {
		net_ping(0, net_cfg(0)->gw, 3, 1000 * MS_NS, NULL);
		kprintf("vnet0: try 'vnet info', 'vnet stats', 'net stats', 'ping 10.0.2.2 5', 'help'; "
			"quit QEMU with Ctrl-A X\n");
	}
}
