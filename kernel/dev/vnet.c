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
 * Interrupt routing is decided in one place, vector_of(): the driver asks
 * it for the MSI-X entry of each virtqueue (vnet_net_opts.vector_of) and
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
 * queue it last saw it on).  Frames sent from main context use pair 0.
 */
#include "orion/cmdline.h"
#include "orion/arch.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/net.h"
#include "orion/pci.h"
#include "orion/selftest.h"
#include "orion/serial.h"
#include "orion/shell.h"
#include "orion/timer.h"
#include "orion/virtio_mmio.h"
#include "orion_hal.h"
#include "vnet/device.h"
#include "vnet/features.h"
#include "vnet/net.h"
#include "vnet/spec/virtio_pci.h"
#include "vnet/transport.h"
#include "vnet/virtio_mmio.h"
#include "vnet/virtio_pci.h"
#include "vnet/virtqueue.h"

#define VNET_MAX_DEVS NET_MAX_IF  /* vnet0..vnet7 */
#define VNET_MAX_PAIRS 64u        /* pairs= bound; pending is a 64-bit mask */
#define VNET_RX_BUDGET 64u        /* frames per pair per interrupt or deferred poll */
#define VNET_POLL_BUDGET 512u     /* frames per pair per poll-mode call */
#define VNET_LINEAR_MAX NET_FRAME_MAX /* largest multi-buffer frame we linearise (a 64 KiB IPv4 packet) */
#define MS_NS 1000000ull
/* Consecutive INTx interrupts with ISR 0 after which the line is deemed
 * stuck by another device and the NIC falls back to polling.  A shared
 * line legitimately produces a few; a stuck level line produces one per
 * EOI, i.e. thousands per second. */
#define VNET_INTX_STORM 10000u

enum vnet_mode { MODE_IRQ, MODE_INTX, MODE_ISR_POLL, MODE_POLL };
static const char *const mode_names[] = {"irq", "intx", "isr-poll", "poll"};

struct vnetdev {
	unsigned index;
	char name[8];             /* "vnetN" */
	struct pci_dev *pd;       /* PCI function, or NULL for virtio-mmio */
	struct vnet_pci *pci;
	struct vnet_pci_legacy *leg;  /* legacy-only PCI function (0.9.5 I/O BAR header) */
	const struct orion_virtio_mmio_window *mw;  /* virtio-mmio window, or NULL */
	struct vnet_mmio *mmio;
	struct vnet_net *net;
	enum vnet_mode mode;
	int nvec;                 /* MSI-X entries bound, 0 none */
	uint16_t pairs;
	bool up;
	uint64_t up_ms;
	uint64_t linearised, too_long, tx_nobuf, tx_too_big, isr_reads, config_irqs;
	uint32_t tx_room;         /* frame bytes one pool buffer holds (netdev_caps.max_tx) */
	uint64_t entry_irqs[PCI_MSIX_MAX]; /* the HAL binds no entry beyond this */
	/* Receive work left over by an interrupt handler's budget: bit q =
	 * pair q waits for netdev_service(); deferrals counted, and the
	 * main-context polls that served them. */
	uint64_t pending;
	uint64_t deferred, deferred_polls;
	/* INTx */
	struct pci_intx_route intx;
	int intx_vec;             /* the arch irq of the line, -1 none */
	uint64_t intx_irqs, intx_queue, intx_config, intx_none;
	unsigned intx_none_run;
	uint16_t tx_pair;         /* pair a reply leaves on (see the top comment) */
};

static struct vnetdev devs[VNET_MAX_DEVS];
static unsigned ndevs;
static bool tick_hooked;
static uint8_t linear[VNET_LINEAR_MAX];

static struct vnetdev *dev_get(unsigned ifn)
{
	return ifn < ndevs ? &devs[ifn] : NULL;
}

bool netdev_up(unsigned ifn)
{
	struct vnetdev *d = dev_get(ifn);
	return d && d->up;
}

struct vnet_net *netdev_net(unsigned ifn)
{
	struct vnetdev *d = dev_get(ifn);
	return d && d->up ? d->net : NULL;
}

static bool dev_polled(const struct vnetdev *d)
{
	return d->up && (d->mode == MODE_ISR_POLL || d->mode == MODE_POLL);
}

bool netdev_needs_poll(void)
{
	for (unsigned i = 0; i < ndevs; i++)
		if (dev_polled(&devs[i]))
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
static bool service_pair(struct vnetdev *d, uint16_t q, unsigned budget, unsigned flags)
{
	unsigned done = 0;
	bool more = true;
	d->tx_pair = q;
	for (unsigned i = 0; i < 4 && more && done < budget; i++)
		done += vnet_net_poll(d->net, q, budget - done, flags, deliver, d, &more);
	d->tx_pair = 0;
	return more;
}

/* Interrupt context: the receive interrupt of pair q. */
static void rx_intr(struct vnetdev *d, uint16_t q)
{
	if (d->pending & (1ull << q))
		return; /* already waiting for main context, notifications off */
	vnet_net_rx_irq(d->net, q);
	if (service_pair(d, q, VNET_RX_BUDGET, 0)) {
		d->pending |= 1ull << q;
		d->deferred++;
	}
}

/* The interrupt cause, read and acknowledged: the PCI ISR status byte
 * (reading clears it and deasserts INTx, VirtIO 1.2 §4.1.4.5) or the
 * virtio-mmio InterruptStatus, written back to InterruptACK (§4.2.3.4).
 * Both use bit 0 = queue, bit 1 = configuration. */
static uint32_t read_isr(struct vnetdev *d)
{
	if (d->mmio)
		return vnet_mmio_isr(d->mmio);
	return d->leg ? vnet_pci_legacy_isr(d->leg) : vnet_pci_isr(d->pci);
}

/* Poll-mode service of every pair (tick, main context). */
static bool poll_dev(struct vnetdev *d)
{
	if (d->mode == MODE_ISR_POLL) {
		uint32_t isr = read_isr(d);
		d->isr_reads++;
		if (isr & VIRTIO_PCI_ISR_CONFIG)
			vnet_net_config_changed(d->net);
	}
	bool more = false;
	for (uint16_t q = 0; q < d->pairs; q++)
		more |= service_pair(d, q, VNET_POLL_BUDGET, VNET_NET_POLL_NO_REARM);
	return more;
}

bool netdev_service(void)
{
	bool more = false;
	for (unsigned i = 0; i < ndevs; i++) {
		struct vnetdev *d = &devs[i];
		if (!d->up)
			continue;
		if (dev_polled(d))
			more |= poll_dev(d);
		for (uint16_t q = 0; d->pending && q < d->pairs; q++) {
			if (!(d->pending & (1ull << q)))
				continue;
			d->deferred_polls++;
			if (service_pair(d, q, VNET_RX_BUDGET, 0))
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
	struct vnetdev *d = dev_get(ifn);
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
	struct vnetdev *d = dev_get(ifn);
	if (!d || !d->up)
		return -1;
	/* A frame larger than one buffer goes as a chain of pool buffers
	 * (at most VNET_NET_TX_SEGS_MAX); the driver checks the offloads. */
	if (!len || !d->tx_room || len > (size_t)d->tx_room * VNET_NET_TX_SEGS_MAX || len > VNET_NET_FRAME_MAX) {
		d->tx_too_big++;
		return -1;
	}
	uint16_t qp = d->tx_pair < d->pairs ? d->tx_pair : 0;
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
		/* Ring full even after reclaim: the frame is dropped. */
		vnet_net_pkt_free(d->net, p);
		d->tx_nobuf++;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ interrupts */

/*
 * The routing policy (see the top comment), used by the driver at queue
 * setup (vnet_net_opts.vector_of) and by vnet_irq() to dispatch: one rule,
 * so an entry can never fire for a queue the handler does not look at.
 */
static uint16_t vector_of(void *arg, uint16_t vq_index)
{
	const struct vnetdev *d = arg;
	if (d->nvec <= 0)
		return VNET_VECTOR_NONE;
	if (vq_index == VNET_NET_VQ_CONFIG || d->nvec == 1)
		return 0;
	return (uint16_t)(1u + vq_index % (unsigned)(d->nvec - 1));
}

static void vnet_irq(void *arg, unsigned entry)
{
	struct vnetdev *d = arg;
	if (entry < ARRAY_SIZE(d->entry_irqs))
		d->entry_irqs[entry]++;
	if (!d->net)
		return; /* before bring-up finished (a config interrupt) */
	if (entry == vector_of(d, VNET_NET_VQ_CONFIG)) {
		d->config_irqs++;
		vnet_net_config_changed(d->net);
	}
	if (!d->up)
		return;
	for (uint16_t q = 0; q < d->pairs; q++) {
		if (vector_of(d, (uint16_t)(2u * q)) == entry)
			rx_intr(d, q);
		if (vector_of(d, (uint16_t)(2u * q + 1u)) == entry) {
			vnet_net_tx_irq(d->net, q);
			vnet_net_tx_reclaim(d->net, q);
		}
	}
}

/*
 * INTx (level-triggered, possibly shared, also between our own NICs: on
 * q35 eight PIRQs serve every slot).  Reading ISR returns and clears the
 * pending causes and deasserts the device's line (VirtIO 1.2 §4.1.4.5),
 * so it comes first: the dispatcher's EOI afterwards then finds the line
 * low and the controller (x86: IOAPIC) does not re-deliver.  Every queue pair is looked at
 * for bit 0 (INTx does not say which queue).  Returns whether d had cause.
 */
static bool intx_dev(struct vnetdev *d)
{
	uint32_t isr = read_isr(d);
	d->intx_irqs++;
	if (!(isr & (VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG))) {
		d->intx_none++;
		return false;
	}
	if (!d->net)
		return true; /* before bring-up finished: the ISR read was the ack */
	if (isr & VIRTIO_PCI_ISR_CONFIG) {
		d->intx_config++;
		d->config_irqs++;
		vnet_net_config_changed(d->net);
	}
	if ((isr & VIRTIO_PCI_ISR_QUEUE) && d->up) {
		d->intx_queue++;
		for (uint16_t q = 0; q < d->pairs; q++)
			rx_intr(d, q);
	}
	return true;
}

/* The irq of one line (GSI): every NIC routed to it is asked.  A run of
 * interrupts none of them caused (a line stuck by a device nobody drives)
 * masks the GSI, and those NICs fall back to polling. */
static void vnet_intx(void *arg)
{
	unsigned gsi = (unsigned)(uintptr_t)arg;
	bool any = false;
	for (unsigned i = 0; i < ndevs; i++) {
		struct vnetdev *d = &devs[i];
		if (d->intx_vec >= 0 && d->intx.gsi == gsi && d->mode == MODE_INTX)
			any |= intx_dev(d);
	}
	for (unsigned i = 0; i < ndevs; i++) {
		struct vnetdev *d = &devs[i];
		if (d->intx_vec < 0 || d->intx.gsi != gsi || d->mode != MODE_INTX)
			continue;
		d->intx_none_run = any ? 0 : d->intx_none_run + 1;
		if (d->intx_none_run >= VNET_INTX_STORM) {
			arch_irq_line_mask(gsi, true);
			d->mode = MODE_ISR_POLL;
			kprintf("%s: gsi %u asserted %u times without virtio-net ISR bits: masked, "
				"polling the ISR from the tick\n", d->name, gsi, d->intx_none_run);
		}
	}
}

/* The NIC (other than d) already routed to gsi, or NULL. */
static struct vnetdev *gsi_owner(const struct vnetdev *d, unsigned gsi)
{
	for (unsigned i = 0; i < ndevs; i++)
		if (&devs[i] != d && devs[i].intx_vec >= 0 && devs[i].intx.gsi == gsi)
			return &devs[i];
	return NULL;
}

/* Route the function's INTx to vnet_intx; false (with the reason printed)
 * if the line cannot be routed.  A GSI another NIC already uses keeps its
 * irq and controller entry; the handler asks both. */
static bool intx_setup(struct vnetdev *d)
{
	if (d->mw) {
		/* A virtio-mmio window's one line: level-triggered, active high
		 * (QEMU raises it while InterruptStatus is non-zero). */
		memset(&d->intx, 0, sizeof(d->intx));
		d->intx.gsi = (unsigned)d->mw->irq;
		d->intx.level = true;
		ksnprintf(d->intx.path, sizeof(d->intx.path), "virtio-mmio %#lx", d->mw->base);
	} else if (pci_intx_route(d->pd, &d->intx) != 0) {
		kprintf("%s: no MSI-X and INTx not routable (%s)\n", d->name, d->intx.why);
		return false;
	}
	struct vnetdev *o = gsi_owner(d, d->intx.gsi);
	if (o) {
		d->intx_vec = o->intx_vec;
		d->mode = MODE_INTX;   /* the handler asks d from now on */
		if (d->pd)
			pci_disable(d->pd, PCI_CMD_INTX_DISABLE);
		return true;
	}
	int vec = arch_irq_line_attach(d->intx.gsi, d->intx.level, d->intx.active_low, vnet_intx,
				       (void *)(uintptr_t)d->intx.gsi);
	if (vec < 0) {
		kprintf("%s: no MSI-X and INTx gsi %u cannot be attached (not on the interrupt controller, "
			"or no free irq)\n", d->name, d->intx.gsi);
		return false;
	}
	d->intx_vec = vec;
	d->mode = MODE_INTX;   /* the handler asks d from now on */
	if (d->pd)
		pci_disable(d->pd, PCI_CMD_INTX_DISABLE);  /* clearing the bit lets the function assert INTx */
	return true;
}

static void intx_teardown(struct vnetdev *d)
{
	if (d->intx_vec < 0)
		return;
	if (d->pd)
		pci_enable(d->pd, PCI_CMD_INTX_DISABLE);
	if (!gsi_owner(d, d->intx.gsi))
		arch_irq_line_detach(d->intx.gsi, d->intx_vec);
	d->intx_vec = -1;
}

static void vnet_tick(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < ndevs; i++)
		if (dev_polled(&devs[i]))
			poll_dev(&devs[i]);
}

/* ------------------------------------------------------------ bring-up */

/*
 * Command-line value of key for device d: "vnetN.key" first; then the
 * plain key, which for ip and gw means vnet0 only and for every other key
 * applies to all devices.
 */
static const char *dev_opt(const struct vnetdev *d, const char *key)
{
	char k[32];
	ksnprintf(k, sizeof(k), "%s.%s", d->name, key);
	const char *v = cmdline_get(k);
	if (v)
		return v;
	if ((!strcmp(key, "ip") || !strcmp(key, "gw")) && d->index != 0)
		return NULL;
	return cmdline_get(key);
}

static bool parse_u64(const struct vnetdev *d, const char *key, uint64_t *v, uint64_t max)
{
	const char *s = dev_opt(d, key);
	if (!s)
		return false;
	if (!kstrtou64(s, v) || *v > max) {
		kprintf("%s: ignoring bad %s=%s\n", d->name, key, s);
		return false;
	}
	return true;
}

static void parse_ipcfg(const struct vnetdev *d, struct net_if_cfg *c)
{
	c->ip = 0x0a00020f;   /* 10.0.2.15: QEMU user networking's guest address */
	c->prefix = 24;
	c->gw = 0x0a000202;   /* 10.0.2.2 */
	const char *s = dev_opt(d, "ip");
	uint32_t v;
	if (s) {
		if (net_parse_ip(s, &v)) {
			c->ip = v;
			const char *sl = strchr(s, '/');
			uint64_t len;
			if (sl && kstrtou64(sl + 1, &len) && len >= 1 && len <= 31)
				c->prefix = (uint8_t)len;
		} else {
			kprintf("%s: ignoring bad ip=%s\n", d->name, s);
		}
	}
	s = dev_opt(d, "gw");
	if (s) {
		if (net_parse_ip(s, &v))
			c->gw = v;
		else
			kprintf("%s: ignoring bad gw=%s\n", d->name, s);
	}
	c->mask = c->prefix ? ~0u << (32 - c->prefix) : 0;
}

static bool is_virtio_net(const struct pci_dev *p)
{
	return p->vendor == 0x1af4 && (p->device == 0x1041 || (p->device == 0x1000 && p->subsys_id == 1));
}

static const char *ring_name(enum vnet_vq_layout l) { return l == VNET_VQ_PACKED ? "packed" : "split"; }

/* "00:02.0" for a PCI function, "mmio@feb00000" for a virtio-mmio window. */
static const char *dev_label(const struct vnetdev *d)
{
	return d->pd ? d->pd->name : vnet_mmio_name(d->mmio);
}

static void dev_remove_transport(struct vnetdev *d)
{
	if (d->pci)
		vnet_pci_remove(d->pci);
	if (d->leg)
		vnet_pci_legacy_remove(d->leg);
	if (d->mmio)
		vnet_mmio_remove(d->mmio);
	d->pci = NULL;
	d->leg = NULL;
	d->mmio = NULL;
}

/* PCI: probe the function through the modern transport.  virtio-mmio
 * windows were probed already (vnet_bringup_all needs the device type
 * before it names a device). */
static void dev_bringup(struct vnetdev *d)
{
	int rc;
	if (d->pd) {
		rc = vnet_pci_probe(orion_hal_pci_dev(d->pd), &d->pci);
		if (rc == VNET_ENOTSUP) {
			/* No virtio 1.x capabilities: a legacy-only function.  The
			 * 0.9.5 header in I/O BAR 0 (VirtIO 1.2 §4.1.4.10): INTx
			 * only, split rings, the legacy net header. */
			d->pci = NULL;
			rc = vnet_pci_legacy_probe(orion_hal_pci_dev(d->pd), &d->leg);
			if (rc != VNET_OK) {
				kprintf("%s: virtio-net %s 1af4:%04x not supported: legacy-only device, and its I/O BAR "
					"interface is unusable: %s\n", d->name, d->pd->name, d->pd->device,
					vnet_strerror(rc));
				d->leg = NULL;
				return;
			}
			kprintf("%s: virtio-net %s 1af4:%04x is legacy-only: using the virtio 0.9.5 I/O BAR interface "
				"(INTx, split rings)\n", d->name, d->pd->name, d->pd->device);
		} else if (rc != VNET_OK) {
			const char *why = rc == VNET_ENOTSUP ? "legacy-only device (no virtio 1.x PCI capabilities)"
							     : vnet_strerror(rc);
			kprintf("%s: virtio-net %s 1af4:%04x not supported: %s\n", d->name, d->pd->name, d->pd->device,
				why);
			d->pci = NULL;
			return;
		}
	}

	struct vnet_net_opts o = {0};
	uint64_t v;
	const char *mode = dev_opt(d, "mode");
	d->mode = (mode && !strcmp(mode, "poll")) ? MODE_POLL : MODE_IRQ;
	if (mode && strcmp(mode, "poll") && strcmp(mode, "irq"))
		kprintf("%s: unknown mode=%s, using irq\n", d->name, mode);
	const char *ring = dev_opt(d, "ring");
	o.ring = VNET_NET_RING_AUTO;
	if (ring && !strcmp(ring, "split"))
		o.ring = VNET_NET_RING_SPLIT;
	else if (ring && !strcmp(ring, "packed") && d->leg)
		kprintf("%s: ring=packed ignored: a legacy device has split rings only\n", d->name);
	else if (ring && !strcmp(ring, "packed"))
		o.ring = VNET_NET_RING_PACKED;
	if (parse_u64(d, "qsize", &v, 32768))
		o.queue_size = (uint16_t)v;
	o.queue_pairs = 1;
	if (parse_u64(d, "pairs", &v, VNET_MAX_PAIRS) && v > 0)
		o.queue_pairs = (uint16_t)v;
	/* Checksum offload both ways unless offload=off: the stack fills
	 * CSUM_PARTIAL headers for TCP and skips its own check of frames
	 * the device marks DATA_VALID or NEEDS_CSUM (kernel/net/stack.c).
	 * buf=N: bytes per packet buffer (a frame larger than one is sent
	 * as a chain and received over mergeable buffers). */
	const char *offl = dev_opt(d, "offload");
	o.tx_csum = o.rx_csum = !(offl && !strcmp(offl, "off"));
	/* TSO both ways with it: the stack sends TCP super-frames and takes
	 * coalesced ones (linearised in deliver(), up to NET_FRAME_MAX). */
	o.tx_tso4 = o.rx_tso4 = o.tx_csum;
	if (parse_u64(d, "buf", &v, 65536 + 4096) && v >= 2048)
		o.buf_size = (uint32_t)v;
	o.timeout_ns = 1000 * MS_NS;
	/* Pool: one receive ring's worth plus room for transmits in flight,
	 * rather than the driver's default (three rings' worth): the pool is
	 * zeroed at bring-up, and under slow virtualisation (a nested, PVM
	 * KVM) every zeroed page costs milliseconds of boot time. */
	o.pool_size = (uint32_t)(o.queue_size ? o.queue_size : 256u) * o.queue_pairs + 128u;
	if (parse_u64(d, "pool", &v, 65536) && v >= 64)
		o.pool_size = (uint32_t)v;

	if (d->mode == MODE_IRQ) {
		unsigned want = 1u + 2u * o.queue_pairs + 1u;  /* config + rx/tx per pair + ctrl */
		/* virtio-mmio has no MSI-X: its one line is the INTx path. */
		rc = d->pci ? vnet_pci_irq_setup(d->pci, want, vnet_irq, d) : 0;
		if (rc < 0) {
			kprintf("%s: interrupt setup failed: %s\n", d->name, vnet_strerror(rc));
			goto fail_pci;
		}
		d->nvec = rc;
		if (rc == 0 && d->mw && d->mw->irq < 0) {
			kprintf("%s: virtio-mmio window without an interrupt: polling InterruptStatus from the "
				"%u Hz tick\n", d->name, TIMER_HZ);
			d->mode = MODE_ISR_POLL;
		} else if (rc == 0) {
			if (intx_setup(d)) {
				d->mode = MODE_INTX;
			} else {
				kprintf("%s: polling the ISR status from the %u Hz tick\n", d->name, TIMER_HZ);
				d->mode = MODE_ISR_POLL;
			}
		}
	}
	o.vector_of = vector_of;
	o.vector_arg = d;

	if (d->pci)
		rc = vnet_net_create(vnet_pci_ops(), d->pci, &o, &d->net);
	else if (d->leg)
		rc = vnet_net_create(vnet_pci_legacy_ops(), d->leg, &o, &d->net);
	else
		rc = vnet_net_create(vnet_mmio_ops(), d->mmio, &o, &d->net);
	if (rc != VNET_OK) {
		const char *why = rc == VNET_EIO ? "device refused the feature set (FEATURES_OK not kept) or failed"
						 : vnet_strerror(rc);
		kprintf("%s: virtio-net %s not supported: %s (%s)\n", d->name, dev_label(d), why, vnet_strerror(rc));
		d->net = NULL;
		goto fail_pci;
	}
	struct vnet_net_info ni;
	vnet_net_get_info(d->net, &ni);
	d->pairs = ni.queue_pairs <= VNET_MAX_PAIRS ? ni.queue_pairs : VNET_MAX_PAIRS;
	/* Frame bytes one pool buffer holds: netdev_tx_meta's chain unit. */
	struct vnet_pkt *probe = vnet_net_pkt_alloc(d->net);
	d->tx_room = probe ? probe->room : 0;
	if (probe)
		vnet_net_pkt_free(d->net, probe);
	/* Transmit completions are reclaimed on the next send; no interrupt. */
	for (uint16_t q = 0; q < d->pairs; q++)
		vnet_vq_disable_cb(vnet_net_txq(d->net, q));

	struct net_if_cfg c;
	memset(&c, 0, sizeof(c));
	memcpy(c.mac, ni.mac, 6);
	c.mtu = ni.mtu;
	parse_ipcfg(d, &c);
	unsigned long f = irq_save();
	net_init(d->index, &c);
	d->up = true;
	/* Queues are created with callbacks off (the engine's choice): one
	 * service pass per pair arms the receive interrupt (vnet_net_poll
	 * re-arms an empty ring); what raced in is left to main context. */
	if (d->mode == MODE_IRQ || d->mode == MODE_INTX)
		for (uint16_t q = 0; q < d->pairs; q++)
			if (service_pair(d, q, VNET_RX_BUDGET, 0))
				d->pending |= 1ull << q;
	irq_restore(f);
	if (d->mode != MODE_IRQ && !tick_hooked)
		tick_hooked = timer_add_tick_hook(vnet_tick, NULL) == 0;

	d->up_ms = timer_since_entry_ns() / MS_NS;
	char ip[16], gw[16], how[16] = "";
	if (d->mode == MODE_INTX)
		ksnprintf(how, sizeof(how), " gsi %u", d->intx.gsi);
	kprintf("%s: up mac %02x:%02x:%02x:%02x:%02x:%02x ip %s/%u gw %s link %s ring %s qsize %u pairs %u "
		"mode %s%s msix %d mtu %u (%lu ms since kernel entry)\n",
		d->name, ni.mac[0], ni.mac[1], ni.mac[2], ni.mac[3], ni.mac[4], ni.mac[5], net_fmt_ip(c.ip, ip),
		c.prefix, net_fmt_ip(c.gw, gw), ni.link_up ? "up" : "down", ring_name(ni.layout), ni.queue_size,
		d->pairs, mode_names[d->mode], how, d->nvec, ni.mtu, d->up_ms);
	return;

fail_pci:
	intx_teardown(d);
	d->mode = MODE_POLL;
	dev_remove_transport(d);
	d->nvec = 0;
}

static struct vnetdev *new_dev(const char *what)
{
	if (ndevs == VNET_MAX_DEVS) {
		kprintf("vnet: virtio-net %s ignored: at most %u devices (vnet0..vnet%u)\n", what, VNET_MAX_DEVS,
			VNET_MAX_DEVS - 1);
		return NULL;
	}
	struct vnetdev *d = &devs[ndevs];
	memset(d, 0, sizeof(*d));
	d->index = ndevs++;
	ksnprintf(d->name, sizeof(d->name), "vnet%u", d->index);
	d->intx_vec = -1;
	return d;
}

/* Every registered virtio-mmio window (orion/virtio_mmio.h) after the PCI
 * functions: probe it, keep it if it is a network device (DeviceID 1). */
static void mmio_bringup_all(void)
{
	for (unsigned i = 0; i < orion_virtio_mmio_count(); i++) {
		const struct orion_virtio_mmio_window *w = orion_virtio_mmio_get(i);
		char label[24];
		ksnprintf(label, sizeof(label), "mmio@%lx", w->base);
		struct vnet_mmio *m;
		int rc = vnet_mmio_probe(phys_to_virt(w->base), w->size, label, &m);
		if (rc == VNET_ENODEV)
			continue;   /* an empty slot (DeviceID 0) or nothing there: logged by the transport if odd */
		if (rc != VNET_OK) {
			kprintf("vnet: virtio-mmio %s not usable: %s\n", label, rc == VNET_ENOTSUP ?
				"legacy (version 1) device; QEMU needs -global virtio-mmio.force-legacy=false" :
				vnet_strerror(rc));
			continue;
		}
		if (vnet_mmio_device_type(m) != 1) {
			vnet_mmio_remove(m);
			continue;
		}
		char what[48];
		ksnprintf(what, sizeof(what), "%s (irq %d)", label, w->irq);
		struct vnetdev *d = new_dev(what);
		if (!d) {
			vnet_mmio_remove(m);
			continue;
		}
		d->mw = w;
		d->mmio = m;
		kprintf("%s: virtio-net %s irq %d\n", d->name, label, w->irq);
		dev_bringup(d);
	}
}

static void vnet_bringup_all(void)
{
	for (unsigned n = 0; n < pci_count(); n++) {
		struct pci_dev *p = pci_get(n);
		if (!is_virtio_net(p))
			continue;
		char what[32];
		ksnprintf(what, sizeof(what), "%s 1af4:%04x", p->name, p->device);
		struct vnetdev *d = new_dev(what);
		if (!d)
			continue;
		d->pd = p;
		dev_bringup(d);
	}
	mmio_bringup_all();
	if (!ndevs)
		kprintf("vnet0: no virtio-net PCI function or virtio-mmio device found: network disabled\n");
}

/* ------------------------------------------------------------ shell */

/*
 * "what 0x...: NAME NAME ..." wrapped at word boundaries into lines of at
 * most ~100 columns, continuation lines indented: a TAP back-end offers
 * more names than one kprintf (256-byte buffer) holds, and a cut list
 * would hide exactly the features at the end (RSS, SPEED_DUPLEX...).
 */
static void print_features(const char *what, uint64_t feat)
{
	static char buf[1024];
	char head[64], word[40];
	vnet_features_format(buf, sizeof(buf), feat);
	int col = ksnprintf(head, sizeof(head), "%s %#lx:", what, feat);
	kprintf("%s", head);
	for (const char *p = buf; *p;) {
		while (*p == ' ')
			p++;
		size_t n = 0;
		while (p[n] && p[n] != ' ')
			n++;
		if (!n)
			break;
		size_t c = n < sizeof(word) - 1 ? n : sizeof(word) - 1;
		memcpy(word, p, c);
		word[c] = 0;
		if (col + 1 + (int)c > 100) {
			kprintf("\n   ");
			col = 3;
		}
		kprintf(" %s", word);
		col += 1 + (int)c;
		p += n;
	}
	kprintf("\n");
}

static void vq_stats_line(const char *label, struct vnet_vq *vq)
{
	if (!vq)
		return;
	struct vnet_vq_stats s;
	unsigned long f = irq_save();
	vnet_vq_get_stats(vq, &s);
	irq_restore(f);
	kprintf("  %-5s size %u added %lu completed %lu kicks %lu suppressed %lu full %lu bad_len %lu faults %lu "
		"broken %s\n",
		label, vnet_vq_size(vq), s.added, s.completed, s.kicks, s.kicks_suppressed, s.full, s.bad_len, s.faults,
		vnet_vq_is_broken(vq) ? "YES" : "no");
}

static void cmd_info(struct vnetdev *d)
{
	struct vnet_net_info ni;
	unsigned long fl = irq_save();
	vnet_net_get_info(d->net, &ni);
	irq_restore(fl);
	kprintf("%s: %s, mac %02x:%02x:%02x:%02x:%02x:%02x (%s), mtu %u, link %s\n", d->name,
		d->pci ? vnet_pci_name(d->pci) : d->leg ? d->pd->name : vnet_mmio_name(d->mmio),
		ni.mac[0], ni.mac[1], ni.mac[2], ni.mac[3], ni.mac[4], ni.mac[5],
		ni.mac_from_device ? "from device" : "generated", ni.mtu, ni.link_up ? "up" : "down");
	print_features("offered   ", ni.offered);
	print_features("negotiated", ni.negotiated);
	kprintf("queues: %u pair(s) in use of %u, control queue %s, ring %s, queue size %u, header %u bytes\n",
		ni.queue_pairs, ni.max_queue_pairs, ni.ctrl_vq ? "yes" : "no", ring_name(ni.layout), ni.queue_size,
		ni.hdr_len);
	kprintf("mode %s, MSI-X vectors %d, transport violations %u, up %lu ms after kernel entry\n",
		mode_names[d->mode], d->nvec,
		d->pci ? vnet_pci_violations(d->pci) : d->leg ? vnet_pci_legacy_violations(d->leg)
						     : vnet_mmio_violations(d->mmio),
		d->up_ms);
	if (d->intx_vec >= 0) {
		const struct pci_intx_route *r = &d->intx;
		if (d->pd)
			kprintf("intx: pin INT%c line %u, bus-0 slot %u INT%c, %s", 'A' + r->pin - 1, r->line,
				r->root_slot, 'A' + r->root_pin - 1, r->path);
		else
			kprintf("intx: %s", r->path);
		bool masked = false, pending = false;
		bool known = arch_irq_line_state(r->gsi, &masked, &pending);
		kprintf(" -> gsi %u %s active-%s, irq %#x, line %s%s\n", r->gsi, r->level ? "level" : "edge",
			r->active_low ? "low" : "high", d->intx_vec,
			!known ? "state unknown" : masked ? "masked" : "unmasked", pending ? " pending" : "");
	}
}

static void cmd_stats(struct vnetdev *d)
{
	/* Every pair, each read under the lock on its own: a consistent
	 * snapshot per pair is enough, and printing happens with interrupts on. */
	for (uint16_t q = 0; q < d->pairs; q++) {
		struct vnet_net_queue_stats s;
		unsigned long fl = irq_save();
		vnet_net_get_stats(d->net, q, &s);
		irq_restore(fl);
		kprintf("pair %u rx: packets %lu bytes %lu drops %lu errors %lu kicks %lu interrupts %lu merged %lu "
			"no_buf %lu\n",
			q, s.rx_packets, s.rx_bytes, s.rx_drops, s.rx_errors, s.rx_kicks, s.rx_interrupts, s.rx_merged,
			s.rx_no_buf);
		kprintf("pair %u tx: packets %lu bytes %lu drops %lu errors %lu kicks %lu interrupts %lu\n", q,
			s.tx_packets, s.tx_bytes, s.tx_drops, s.tx_errors, s.tx_kicks, s.tx_interrupts);
		kprintf("pair %u poll: polls %lu budget_exhausted %lu rearm_races %lu\n", q, s.polls,
			s.poll_budget_exhausted, s.poll_rearm_races);
	}
	kprintf("virtqueues:\n");
	for (uint16_t q = 0; q < d->pairs; q++) {
		char l[8];
		ksnprintf(l, sizeof(l), "rx%u", q);
		vq_stats_line(l, vnet_net_rxq(d->net, q));
		ksnprintf(l, sizeof(l), "tx%u", q);
		vq_stats_line(l, vnet_net_txq(d->net, q));
	}
	vq_stats_line("ctrl", vnet_net_ctrlq(d->net));
	kprintf("msix entries:");
	for (int i = 0; i < d->nvec && i < (int)ARRAY_SIZE(d->entry_irqs); i++) {
		if (i && i % 16 == 0)
			kprintf("\n             ");
		kprintf(" %d:%lu", i, d->entry_irqs[i]);
	}
	kprintf("\n");
	if (d->intx_vec >= 0)
		kprintf("intx gsi %u: interrupts %lu queue %lu config %lu none %lu\n", d->intx.gsi, d->intx_irqs,
			d->intx_queue, d->intx_config, d->intx_none);
	unsigned long fl = irq_save();
	uint64_t deferred = d->deferred, dpolls = d->deferred_polls, pending = d->pending;
	irq_restore(fl);
	kprintf("rx budget %u: deferred %lu deferred_polls %lu pending %#lx\n", VNET_RX_BUDGET, deferred, dpolls,
		pending);
	kprintf("glue: isr_reads %lu linearised %lu too_long %lu tx_nobuf %lu tx_too_big %lu pool_free %u\n",
		d->isr_reads, d->linearised, d->too_long, d->tx_nobuf, d->tx_too_big, vnet_net_pool_free_count(d->net));
}

static int cmd_vnet(int argc, char **argv)
{
	int ifn = argc == 3 ? net_if_parse(argv[2]) : 0;
	if (argc < 2 || argc > 3 || (strcmp(argv[1], "info") && strcmp(argv[1], "stats")) || ifn < 0) {
		kprintf("usage: vnet info|stats [vnetN]\n");
		return 1;
	}
	struct vnetdev *d = dev_get((unsigned)ifn);
	if (!d || !d->net) {
		kprintf("vnet%d: not up\n", ifn);
		return 1;
	}
	if (!strcmp(argv[1], "info"))
		cmd_info(d);
	else
		cmd_stats(d);
	return 0;
}

static const struct shell_cmd vnet_cmd = {"vnet", "vnet info|stats [vnetN]: virtio-net device state and counters "
						  "(default vnet0)", cmd_vnet};

/* ------------------------------------------------------------ self-tests */

/*
 * One line of counters printed at the end of the network self-tests, for
 * scripts: vnet0's interrupt mode and how often each source fired, and the
 * frames each queue pair received and sent.
 */
static void print_counters(struct vnetdev *d)
{
	if (!d || !d->net)
		return;
	unsigned long f = irq_save();
	uint64_t irqs = 0;
	if (d->mode == MODE_IRQ)
		for (unsigned i = 0; i < ARRAY_SIZE(d->entry_irqs); i++)
			irqs += d->entry_irqs[i];
	uint64_t intx = d->intx_irqs, intx_q = d->intx_queue, none = d->intx_none, isr = d->isr_reads;
	irq_restore(f);
	kprintf("%s: counters mode %s msix_irqs %lu intx_irqs %lu intx_queue %lu intx_none %lu isr_reads %lu rx",
		d->name, mode_names[d->mode], irqs, intx, intx_q, none, isr);
	struct vnet_net_queue_stats st;
	for (uint16_t q = 0; q < d->pairs; q++) {
		f = irq_save();
		vnet_net_get_stats(d->net, q, &st);
		irq_restore(f);
		kprintf(" %u:%lu", q, st.rx_packets);
	}
	kprintf(" tx");
	for (uint16_t q = 0; q < d->pairs; q++) {
		f = irq_save();
		vnet_net_get_stats(d->net, q, &st);
		irq_restore(f);
		kprintf(" %u:%lu", q, st.tx_packets);
	}
	kprintf("\n");
}

static int selftest_ping(void)
{
	if (!netdev_up(0)) {
		kprintf("selftest ping: FAIL vnet0 is not up\n");
		return -1;
	}
	struct net_ping_result r;
	uint32_t gw = net_cfg(0)->gw;
	net_ping(0, gw, 3, 1000 * MS_NS, &r);
	print_counters(dev_get(0));
	if (r.received != 3) {
		kprintf("selftest ping: FAIL %u of %u echo replies from the gateway\n", r.received, r.sent);
		return -1;
	}
	kprintf("selftest ping: PASS rtt min/avg/max = %lu/%lu/%lu us\n", r.min_ns / 1000, r.avg_ns / 1000,
		r.max_ns / 1000);
	return 0;
}

/* Serve (ARP, ICMP echo, UDP echo on port 7, on every interface) until the
 * stop datagram arrives on any of them. */
static int selftest_echo(void)
{
	if (!netdev_up(0)) {
		kprintf("selftest echo: FAIL vnet0 is not up\n");
		return -1;
	}
	kprintf("vnet0: echo service on udp port %u; stop with the datagram \"%s\"\n", NET_UDP_ECHO_PORT,
		NET_ECHO_STOP_MAGIC);
	while (!net_echo_stop_requested())
		net_wait_once();
	/* Let the echo of the stop datagram leave before powering off. */
	uint64_t end = timer_ns() + 50 * MS_NS;
	while (timer_ns() < end)
		net_wait_once();
	struct net_stats s;
	for (unsigned i = 1; i < ndevs; i++)
		if (net_get_stats(i, &s))
			kprintf("vnet%u: udp echoed %lu, udp bad %lu, ip bad csum %lu\n", i, s.udp_echo_tx, s.udp_bad,
				s.ip_bad_csum);
	net_get_stats(0, &s);
	print_counters(dev_get(0));
	kprintf("selftest echo: PASS udp echoed %lu, udp bad %lu, ip bad csum %lu\n", s.udp_echo_tx, s.udp_bad,
		s.ip_bad_csum);
	return 0;
}

static const struct selftest ping_test = {"ping", selftest_ping};
static const struct selftest echo_test = {"echo", selftest_echo};

void orion_late_init(void)
{
	shell_register(&vnet_cmd);
	net_shell_init();
	selftest_register(&ping_test);
	selftest_register(&echo_test);
	vnet_bringup_all();
	/* The shell's input wait serves deferred receive work. */
	serial_set_idle_hook(netdev_service);
	if (netdev_up(0) && cmdline_get("ping_gw")) {
		net_ping(0, net_cfg(0)->gw, 3, 1000 * MS_NS, NULL);
		kprintf("vnet0: try 'vnet info', 'vnet stats', 'net stats', 'ping 10.0.2.2 5', 'help'; "
			"quit QEMU with Ctrl-A X\n");
	}
}
