/*
 * vnet0: the Orion kernel's glue between QEMU's virtio-net-pci function,
 * the orion-vnet driver (virtio-pci transport + net layer) and the test
 * IPv4 stack (kernel/net/).
 *
 * At boot (orion_late_init) it finds the first virtio-net PCI function
 * (1af4:1041, or 1af4:1000 with subsystem id 1), probes it through the
 * modern transport and brings the device up with options from the command
 * line (mode=irq|poll, ring=split|packed|auto, qsize=N, pairs=N,
 * ip=A.B.C.D/N, gw=A.B.C.D).  A device the driver cannot use (legacy-only,
 * FEATURES_OK refused, ...) is reported as "vnet0: ... not supported:
 * <reason>" and the kernel carries on without a network.
 *
 * How packets move:
 *   - mode=irq with MSI-X (the default): entry 0 takes configuration
 *     changes, queue entries follow vnet_net_opts.msix_vectors' rule.  The
 *     handler drains the receive queue with its callback disabled, then
 *     re-enables it and drains again if the driver reports that work
 *     arrived in between (lost-wakeup re-check).  Transmit interrupts are
 *     suppressed (the callback is disabled): completed buffers are
 *     reclaimed by the next transmit, which is all a request/response
 *     stack needs.
 *   - no MSI-X (QEMU vectors=0): the function's INTx line is routed
 *     through the IOAPIC (pci_intx_route() finds the GSI on QEMU's pc and
 *     q35 boards; level-triggered, so the handler must deassert it by
 *     reading the ISR status byte, spec 4.1.4.5, before the dispatcher's
 *     EOI).  Bit 0 of ISR drains every queue pair the same way an MSI-X rx
 *     entry does, bit 1 re-reads the configuration.  The line may be
 *     shared, so an interrupt with ISR 0 is someone else's: it is counted,
 *     and a long unbroken run of them (a line stuck by a device nobody
 *     drives) masks the GSI and falls back to polling.
 *   - no MSI-X and no routable INTx (unknown chipset, routing disabled):
 *     the 100 Hz tick reads the ISR status byte and drains the queues
 *     ("mode isr-poll"); waiting code (ping) polls directly.
 *   - mode=poll: no interrupts are requested; waiting code calls
 *     netdev_poll() in a loop, and the tick drains the queues while the
 *     shell sits idle so ARP and echo keep being answered.
 * In every case frames are processed with interrupts off: that is the one
 * lock between the handler, the tick and main context (single CPU).
 *
 * With several queue pairs every receive queue is drained (by its MSI-X
 * entry, the INTx handler or the poll loop), and a frame sent while
 * handling a received one (an echo, an ARP or ping reply) leaves on the
 * pair it arrived on: the back-end then sees each flow on one queue pair
 * (a multi-queue tap steers the flow back to the queue it last saw it
 * on).  Frames sent from main context use pair 0.
 */
#include "orion/cmdline.h"
#include "orion/io.h"
#include "orion/irq.h"
#include "orion/klib.h"
#include "orion/kprintf.h"
#include "orion/net.h"
#include "orion/pci.h"
#include "orion/selftest.h"
#include "orion/shell.h"
#include "orion/timer.h"
#include "orion_hal.h"
#include "vnet/device.h"
#include "vnet/features.h"
#include "vnet/net.h"
#include "vnet/spec/virtio_pci.h"
#include "vnet/virtio_pci.h"
#include "vnet/virtqueue.h"

#define VNET_RX_BURST 32u
#define VNET_POLL_BUDGET 512u  /* frames per netdev_poll call per queue pair */
#define VNET_LINEAR_MAX 9216u  /* largest multi-buffer frame we linearise */
#define MS_NS 1000000ull
/* Consecutive INTx interrupts with ISR 0 after which the line is deemed
 * stuck by another device and vnet0 falls back to polling.  A shared line
 * legitimately produces a few; a stuck level line produces one per EOI,
 * i.e. thousands per second. */
#define VNET_INTX_STORM 10000u

enum vnet_mode { MODE_IRQ, MODE_INTX, MODE_ISR_POLL, MODE_POLL };
static const char *const mode_names[] = {"irq", "intx", "isr-poll", "poll"};

static struct {
	struct vnet_pci *pci;
	struct vnet_net *net;
	enum vnet_mode mode;
	int nvec;            /* MSI-X entries bound, 0 none */
	uint16_t pairs;
	bool up;
	uint64_t up_ms;
	uint64_t linearised, too_long, tx_nobuf, isr_reads, config_irqs;
	uint64_t entry_irqs[PCI_MSIX_MAX]; /* the HAL binds no entry beyond this */
	/* INTx */
	struct pci_intx_route intx;
	int intx_vec;             /* CPU vector, -1 none */
	uint64_t intx_irqs, intx_queue, intx_config, intx_none;
	unsigned intx_none_run;
	uint16_t tx_pair;         /* pair a reply leaves on (see the top comment) */
} vn = {.intx_vec = -1};

static uint8_t linear[VNET_LINEAR_MAX];

bool netdev_up(void) { return vn.up; }
bool netdev_needs_poll(void) { return vn.up && (vn.mode == MODE_ISR_POLL || vn.mode == MODE_POLL); }

/* ------------------------------------------------------------ data path */

static void deliver(struct vnet_pkt *p)
{
	if (p->nseg == 1 || !p->next) {
		net_input(p->data, p->len);
	} else if (p->pkt_len <= sizeof(linear)) {
		/* Mergeable receive buffers: one frame over several buffers. */
		size_t off = 0;
		for (struct vnet_pkt *s = p; s && off + s->len <= sizeof(linear); s = s->next) {
			memcpy(linear + off, s->data, s->len);
			off += s->len;
		}
		vn.linearised++;
		net_input(linear, off);
	} else {
		vn.too_long++;
	}
	vnet_net_pkt_free(vn.net, p);
}

/* Receive until the ring is empty or the budget is spent; returns frames. */
static unsigned rx_drain(uint16_t qp, unsigned budget)
{
	struct vnet_pkt *pk[VNET_RX_BURST];
	unsigned total = 0;
	while (total < budget) {
		unsigned n = vnet_net_rx_burst(vn.net, qp, pk, VNET_RX_BURST);
		vn.tx_pair = qp;
		for (unsigned i = 0; i < n; i++)
			deliver(pk[i]);
		vn.tx_pair = 0;
		total += n;
		if (n < VNET_RX_BURST)
			break;
	}
	return total;
}

void netdev_poll(void)
{
	if (!vn.up)
		return;
	if (vn.mode == MODE_ISR_POLL) {
		/* Reading ISR clears it and deasserts INTx (spec 4.1.4.5). */
		uint8_t isr = vnet_pci_isr(vn.pci);
		vn.isr_reads++;
		if (isr & 2)
			vnet_net_config_changed(vn.net);
	}
	for (uint16_t q = 0; q < vn.pairs; q++) {
		rx_drain(q, VNET_POLL_BUDGET);
		vnet_net_tx_reclaim(vn.net, q);
	}
}

int netdev_tx(const void *frame, size_t len)
{
	if (!vn.up)
		return -1;
	uint16_t qp = vn.tx_pair < vn.pairs ? vn.tx_pair : 0;
	struct vnet_pkt *p = vnet_net_pkt_alloc(vn.net);
	if (!p) {
		/* Completions of every pair hold pool buffers. */
		for (uint16_t q = 0; q < vn.pairs; q++)
			vnet_net_tx_reclaim(vn.net, q);
		p = vnet_net_pkt_alloc(vn.net);
	}
	if (!p) {
		vn.tx_nobuf++;
		return -1;
	}
	if (len > p->room) {
		vnet_net_pkt_free(vn.net, p);
		return -1;
	}
	memcpy(p->data, frame, len);
	p->len = (uint32_t)len;
	if (vnet_net_tx_burst(vn.net, qp, &p, 1) != 1) {
		/* Ring full even after reclaim: the frame is dropped. */
		vnet_net_pkt_free(vn.net, p);
		vn.tx_nobuf++;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ interrupts */

/* MSI-X entry of virtqueue index i: the rule documented for
 * vnet_net_opts.msix_vectors (config on 0, queues on 1..n-1). */
static unsigned entry_of(unsigned vq_index)
{
	if (vn.nvec <= 1)
		return 0;
	return 1u + vq_index % (unsigned)(vn.nvec - 1);
}

static void rx_intr(uint16_t qp)
{
	vnet_net_rx_irq(vn.net, qp);
	for (;;) {
		vnet_net_rx_intr_disable(vn.net, qp);
		/* Drain everything: budget bounded only by what the ring holds. */
		while (rx_drain(qp, VNET_POLL_BUDGET) != 0)
			;
		/* Re-arm; false means a buffer was used between our last look
		 * and the re-arm, and no interrupt will come for it. */
		if (vnet_net_rx_intr_enable(vn.net, qp))
			break;
	}
}

static void vnet_irq(void *arg, unsigned entry)
{
	(void)arg;
	if (entry < ARRAY_SIZE(vn.entry_irqs))
		vn.entry_irqs[entry]++;
	if (!vn.net)
		return; /* before bring-up finished (a config interrupt) */
	if (entry == 0) {
		vn.config_irqs++;
		vnet_net_config_changed(vn.net);
		if (vn.nvec > 1)
			return;
	}
	if (!vn.up)
		return;
	for (uint16_t q = 0; q < vn.pairs; q++) {
		if (entry_of(2u * q) == entry)
			rx_intr(q);
		if (entry_of(2u * q + 1u) == entry) {
			vnet_net_tx_irq(vn.net, q);
			vnet_net_tx_reclaim(vn.net, q);
		}
	}
}

/*
 * INTx (level-triggered, possibly shared).  Reading ISR returns and clears
 * the pending causes and deasserts the line (spec 4.1.4.5), so it comes
 * first: the dispatcher's EOI afterwards then finds the line low and the
 * IOAPIC does not re-deliver.  Every queue pair is looked at for bit 0
 * (INTx does not say which queue).
 */
static void vnet_intx(void *arg)
{
	(void)arg;
	uint8_t isr = vnet_pci_isr(vn.pci);
	vn.intx_irqs++;
	if (!(isr & (VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG))) {
		vn.intx_none++;
		if (++vn.intx_none_run >= VNET_INTX_STORM && vn.mode == MODE_INTX) {
			ioapic_mask(vn.intx.gsi, true);
			vn.mode = MODE_ISR_POLL;
			kprintf("vnet0: gsi %u asserted %u times without virtio-net ISR bits: masked, "
				"polling the ISR from the tick\n", vn.intx.gsi, vn.intx_none_run);
		}
		return;
	}
	vn.intx_none_run = 0;
	if (!vn.net)
		return; /* before bring-up finished: the ISR read was the ack */
	if (isr & VIRTIO_PCI_ISR_CONFIG) {
		vn.intx_config++;
		vn.config_irqs++;
		vnet_net_config_changed(vn.net);
	}
	if ((isr & VIRTIO_PCI_ISR_QUEUE) && vn.up) {
		vn.intx_queue++;
		for (uint16_t q = 0; q < vn.pairs; q++) {
			rx_intr(q);
			vnet_net_tx_reclaim(vn.net, q);
		}
	}
}

/* Route the function's INTx to vnet_intx; false (with the reason printed)
 * if the line cannot be routed. */
static bool intx_setup(struct pci_dev *pd)
{
	if (pci_intx_route(pd, &vn.intx) != 0) {
		kprintf("vnet0: no MSI-X and INTx not routable (%s)\n", vn.intx.why);
		return false;
	}
	int vec = irq_alloc_vector();
	if (vec < 0) {
		kprintf("vnet0: no MSI-X and no free CPU vector for INTx\n");
		return false;
	}
	irq_register(vec, vnet_intx, NULL);
	if (ioapic_route(vn.intx.gsi, (uint8_t)vec, vn.intx.level, vn.intx.active_low) != 0) {
		kprintf("vnet0: no MSI-X and INTx gsi %u is not on the IOAPIC\n", vn.intx.gsi);
		irq_unregister(vec);
		irq_free_vector(vec);
		return false;
	}
	vn.intx_vec = vec;
	pci_disable(pd, PCI_CMD_INTX_DISABLE);  /* clearing the bit lets the function assert INTx */
	return true;
}

static void intx_teardown(void)
{
	if (vn.intx_vec < 0)
		return;
	ioapic_mask(vn.intx.gsi, true);
	irq_unregister(vn.intx_vec);
	irq_free_vector(vn.intx_vec);
	vn.intx_vec = -1;
}

static void vnet_tick(void *arg)
{
	(void)arg;
	if (netdev_needs_poll())
		netdev_poll();
}

/* ------------------------------------------------------------ bring-up */

static bool parse_u64(const char *key, uint64_t *v, uint64_t max)
{
	const char *s = cmdline_get(key);
	if (!s)
		return false;
	if (!kstrtou64(s, v) || *v > max) {
		kprintf("vnet0: ignoring bad %s=%s\n", key, s);
		return false;
	}
	return true;
}

static void parse_ipcfg(struct net_if_cfg *c)
{
	c->ip = 0x0a00020f;   /* 10.0.2.15: QEMU user networking's guest address */
	c->prefix = 24;
	c->gw = 0x0a000202;   /* 10.0.2.2 */
	const char *s = cmdline_get("ip");
	uint32_t v;
	if (s) {
		if (net_parse_ip(s, &v)) {
			c->ip = v;
			const char *sl = strchr(s, '/');
			uint64_t len;
			if (sl && kstrtou64(sl + 1, &len) && len >= 1 && len <= 31)
				c->prefix = (uint8_t)len;
		} else {
			kprintf("vnet0: ignoring bad ip=%s\n", s);
		}
	}
	s = cmdline_get("gw");
	if (s && net_parse_ip(s, &v))
		c->gw = v;
	c->mask = c->prefix ? ~0u << (32 - c->prefix) : 0;
}

/* First virtio-net function in the kernel's PCI table: 1af4:1041
 * (modern), or 1af4:1000 with subsystem id 1 (transitional). */
static struct pci_dev *find_nic(void)
{
	for (unsigned n = 0; n < pci_count(); n++) {
		struct pci_dev *d = pci_get(n);
		if (d->vendor != 0x1af4)
			continue;
		if (d->device == 0x1041 || (d->device == 0x1000 && d->subsys_id == 1))
			return d;
	}
	return NULL;
}

static const char *ring_name(enum vnet_vq_layout l) { return l == VNET_VQ_PACKED ? "packed" : "split"; }

static void vnet_bringup(void)
{
	struct pci_dev *pd = find_nic();
	if (!pd) {
		kprintf("vnet0: no virtio-net PCI function found: network disabled\n");
		return;
	}
	int rc = vnet_pci_probe(orion_hal_pci_dev(pd), &vn.pci);
	if (rc != VNET_OK) {
		const char *why = rc == VNET_ENOTSUP ? "legacy-only device (no virtio 1.x PCI capabilities)"
						     : vnet_strerror(rc);
		kprintf("vnet0: virtio-net %s 1af4:%04x not supported: %s\n", pd->name, pd->device, why);
		vn.pci = NULL;
		return;
	}

	struct vnet_net_opts o = {0};
	uint64_t v;
	const char *mode = cmdline_get("mode");
	vn.mode = (mode && !strcmp(mode, "poll")) ? MODE_POLL : MODE_IRQ;
	if (mode && strcmp(mode, "poll") && strcmp(mode, "irq"))
		kprintf("vnet0: unknown mode=%s, using irq\n", mode);
	const char *ring = cmdline_get("ring");
	o.ring = VNET_NET_RING_AUTO;
	if (ring && !strcmp(ring, "split"))
		o.ring = VNET_NET_RING_SPLIT;
	else if (ring && !strcmp(ring, "packed"))
		o.ring = VNET_NET_RING_PACKED;
	if (parse_u64("qsize", &v, 32768))
		o.queue_size = (uint16_t)v;
	o.queue_pairs = 1;
	if (parse_u64("pairs", &v, 64) && v > 0)
		o.queue_pairs = (uint16_t)v;
	/* The stack asks for no checksum offload: it verifies and fills every
	 * checksum itself. */
	o.timeout_ns = 1000 * MS_NS;
	/* Pool: one receive ring's worth plus room for transmits in flight,
	 * rather than the driver's default (three rings' worth): the pool is
	 * zeroed at bring-up, and under slow virtualisation (a nested, PVM
	 * KVM) every zeroed page costs milliseconds of boot time. */
	o.pool_size = (uint32_t)(o.queue_size ? o.queue_size : 256u) * o.queue_pairs + 128u;
	if (parse_u64("pool", &v, 65536) && v >= 64)
		o.pool_size = (uint32_t)v;

	if (vn.mode == MODE_IRQ) {
		unsigned want = 1u + 2u * o.queue_pairs + 1u;  /* config + rx/tx per pair + ctrl */
		rc = vnet_pci_irq_setup(vn.pci, want, vnet_irq, NULL);
		if (rc < 0) {
			kprintf("vnet0: interrupt setup failed: %s\n", vnet_strerror(rc));
			goto fail_pci;
		}
		vn.nvec = rc;
		if (rc == 0) {
			if (intx_setup(pd)) {
				vn.mode = MODE_INTX;
			} else {
				kprintf("vnet0: polling the ISR status from the %u Hz tick\n", TIMER_HZ);
				vn.mode = MODE_ISR_POLL;
			}
		}
	}
	o.msix_vectors = (uint16_t)vn.nvec;

	rc = vnet_net_create(vnet_pci_ops(), vn.pci, &o, &vn.net);
	if (rc != VNET_OK) {
		const char *why = rc == VNET_EIO ? "device refused the feature set (FEATURES_OK not kept) or failed"
						 : vnet_strerror(rc);
		kprintf("vnet0: virtio-net %s not supported: %s (%s)\n", pd->name, why, vnet_strerror(rc));
		vn.net = NULL;
		goto fail_pci;
	}
	struct vnet_net_info ni;
	vnet_net_get_info(vn.net, &ni);
	vn.pairs = ni.queue_pairs;
	/* Transmit completions are reclaimed on the next send; no interrupt. */
	for (uint16_t q = 0; q < vn.pairs; q++)
		vnet_vq_disable_cb(vnet_net_txq(vn.net, q));

	struct net_if_cfg c;
	memset(&c, 0, sizeof(c));
	memcpy(c.mac, ni.mac, 6);
	parse_ipcfg(&c);
	uint64_t f = irq_save();
	net_init(&c);
	vn.up = true;
	/* Queues are created with callbacks off (the engine's choice): arm the
	 * receive interrupt explicitly, draining whatever raced in. */
	if (vn.mode == MODE_IRQ || vn.mode == MODE_INTX)
		for (uint16_t q = 0; q < vn.pairs; q++)
			while (!vnet_net_rx_intr_enable(vn.net, q))
				rx_drain(q, VNET_POLL_BUDGET);
	irq_restore(f);
	if (vn.mode != MODE_IRQ)
		timer_add_tick_hook(vnet_tick, NULL);

	vn.up_ms = timer_since_entry_ns() / MS_NS;
	char ip[16], gw[16], how[16] = "";
	if (vn.mode == MODE_INTX)
		ksnprintf(how, sizeof(how), " gsi %u", vn.intx.gsi);
	kprintf("vnet0: up mac %02x:%02x:%02x:%02x:%02x:%02x ip %s/%u gw %s link %s ring %s qsize %u pairs %u "
		"mode %s%s msix %d mtu %u (%lu ms since kernel entry)\n",
		ni.mac[0], ni.mac[1], ni.mac[2], ni.mac[3], ni.mac[4], ni.mac[5], net_fmt_ip(c.ip, ip), c.prefix,
		net_fmt_ip(c.gw, gw), ni.link_up ? "up" : "down", ring_name(ni.layout), ni.queue_size, vn.pairs,
		mode_names[vn.mode], how, vn.nvec, ni.mtu, vn.up_ms);
	return;

fail_pci:
	intx_teardown();
	vn.mode = MODE_POLL;
	vnet_pci_remove(vn.pci);
	vn.pci = NULL;
	vn.nvec = 0;
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
	vnet_vq_get_stats(vq, &s);
	kprintf("  %-5s size %u added %lu completed %lu kicks %lu suppressed %lu full %lu bad_len %lu faults %lu "
		"broken %s\n",
		label, vnet_vq_size(vq), s.added, s.completed, s.kicks, s.kicks_suppressed, s.full, s.bad_len, s.faults,
		vnet_vq_is_broken(vq) ? "YES" : "no");
}

static int cmd_vnet(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "info") && strcmp(argv[1], "stats"))) {
		kprintf("usage: vnet info|stats\n");
		return 1;
	}
	if (!vn.net) {
		kprintf("vnet0: not up\n");
		return 1;
	}
	uint64_t fl = irq_save();
	struct vnet_net_info ni;
	vnet_net_get_info(vn.net, &ni);
	if (!strcmp(argv[1], "info")) {
		irq_restore(fl);
		kprintf("vnet0: %s, mac %02x:%02x:%02x:%02x:%02x:%02x (%s), mtu %u, link %s\n", vnet_pci_name(vn.pci),
			ni.mac[0], ni.mac[1], ni.mac[2], ni.mac[3], ni.mac[4], ni.mac[5],
			ni.mac_from_device ? "from device" : "generated", ni.mtu, ni.link_up ? "up" : "down");
		print_features("offered   ", ni.offered);
		print_features("negotiated", ni.negotiated);
		kprintf("queues: %u pair(s) in use of %u, control queue %s, ring %s, queue size %u, header %u bytes\n",
			ni.queue_pairs, ni.max_queue_pairs, ni.ctrl_vq ? "yes" : "no", ring_name(ni.layout),
			ni.queue_size, ni.hdr_len);
		kprintf("mode %s, MSI-X vectors %d, transport violations %u, up %lu ms after kernel entry\n",
			mode_names[vn.mode], vn.nvec, vnet_pci_violations(vn.pci), vn.up_ms);
		if (vn.intx_vec >= 0) {
			const struct pci_intx_route *r = &vn.intx;
			kprintf("intx: pin INT%c line %u, bus-0 slot %u INT%c, %s PIRQ%c", 'A' + r->pin - 1, r->line,
				r->root_slot, 'A' + r->root_pin - 1, r->chipset, 'A' + r->pirq);
			if (r->isa_irq)
				kprintf(" -> ISA IRQ %u", r->isa_irq);
			uint32_t lo = ioapic_entry_low(r->gsi);
			kprintf(" -> gsi %u %s active-%s, vector %#x, ioapic %s%s\n", r->gsi, r->level ? "level" : "edge",
				r->active_low ? "low" : "high", vn.intx_vec, (lo & (1u << 16)) ? "masked" : "unmasked",
				(lo & (1u << 14)) ? " remote-irr" : "");
		}
		return 0;
	}
	/* Every pair, each read under the lock on its own: a consistent
	 * snapshot per pair is enough, and printing happens with interrupts on. */
	irq_restore(fl);
	uint16_t np = vn.pairs;
	for (uint16_t q = 0; q < np; q++) {
		struct vnet_net_queue_stats qs;
		fl = irq_save();
		vnet_net_get_stats(vn.net, q, &qs);
		irq_restore(fl);
		struct vnet_net_queue_stats *s = &qs;
		kprintf("pair %u rx: packets %lu bytes %lu drops %lu errors %lu kicks %lu interrupts %lu merged %lu "
			"no_buf %lu\n",
			q, s->rx_packets, s->rx_bytes, s->rx_drops, s->rx_errors, s->rx_kicks, s->rx_interrupts,
			s->rx_merged, s->rx_no_buf);
		kprintf("pair %u tx: packets %lu bytes %lu drops %lu errors %lu kicks %lu interrupts %lu\n", q,
			s->tx_packets, s->tx_bytes, s->tx_drops, s->tx_errors, s->tx_kicks, s->tx_interrupts);
	}
	kprintf("virtqueues:\n");
	for (uint16_t q = 0; q < np; q++) {
		char l[8];
		ksnprintf(l, sizeof(l), "rx%u", q);
		vq_stats_line(l, vnet_net_rxq(vn.net, q));
		ksnprintf(l, sizeof(l), "tx%u", q);
		vq_stats_line(l, vnet_net_txq(vn.net, q));
	}
	vq_stats_line("ctrl", vnet_net_ctrlq(vn.net));
	kprintf("msix entries:");
	for (int i = 0; i < vn.nvec && i < (int)ARRAY_SIZE(vn.entry_irqs); i++) {
		if (i && i % 16 == 0)
			kprintf("\n             ");
		kprintf(" %d:%lu", i, vn.entry_irqs[i]);
	}
	kprintf("\n");
	if (vn.intx_vec >= 0)
		kprintf("intx gsi %u: interrupts %lu queue %lu config %lu none %lu\n", vn.intx.gsi, vn.intx_irqs,
			vn.intx_queue, vn.intx_config, vn.intx_none);
	kprintf("glue: isr_reads %lu linearised %lu too_long %lu tx_nobuf %lu pool_free %u\n", vn.isr_reads,
		vn.linearised, vn.too_long, vn.tx_nobuf, vnet_net_pool_free_count(vn.net));
	return 0;
}

static const struct shell_cmd vnet_cmd = {"vnet", "vnet info|stats: virtio-net device state and counters", cmd_vnet};

/* ------------------------------------------------------------ self-tests */

/*
 * One line of counters printed at the end of the network self-tests, for
 * scripts: the interrupt mode and how often each source fired, and the
 * frames each queue pair received and sent (every pair; pairs= caps them at 64).
 */
static void print_counters(void)
{
	if (!vn.net)
		return;
	uint64_t f = irq_save();
	uint64_t irqs = 0, rx[64] = {0}, tx[64] = {0};
	uint16_t np = vn.pairs < 64 ? vn.pairs : 64;
	for (uint16_t q = 0; q < np; q++) {
		struct vnet_net_queue_stats st;
		vnet_net_get_stats(vn.net, q, &st);
		rx[q] = st.rx_packets;
		tx[q] = st.tx_packets;
	}
	if (vn.mode == MODE_IRQ)
		for (unsigned i = 0; i < ARRAY_SIZE(vn.entry_irqs); i++)
			irqs += vn.entry_irqs[i];
	uint64_t intx = vn.intx_irqs, intx_q = vn.intx_queue, none = vn.intx_none, isr = vn.isr_reads;
	irq_restore(f);
	kprintf("vnet0: counters mode %s msix_irqs %lu intx_irqs %lu intx_queue %lu intx_none %lu isr_reads %lu rx",
		mode_names[vn.mode], irqs, intx, intx_q, none, isr);
	for (uint16_t q = 0; q < np; q++)
		kprintf(" %u:%lu", q, rx[q]);
	kprintf(" tx");
	for (uint16_t q = 0; q < np; q++)
		kprintf(" %u:%lu", q, tx[q]);
	kprintf("\n");
}

static int selftest_ping(void)
{
	if (!vn.up) {
		kprintf("selftest ping: FAIL vnet0 is not up\n");
		return -1;
	}
	struct net_ping_result r;
	uint32_t gw = net_cfg()->gw;
	net_ping(gw, 3, 1000 * MS_NS, &r);
	print_counters();
	if (r.received != 3) {
		kprintf("selftest ping: FAIL %u of %u echo replies from the gateway\n", r.received, r.sent);
		return -1;
	}
	kprintf("selftest ping: PASS rtt min/avg/max = %lu/%lu/%lu us\n", r.min_ns / 1000, r.avg_ns / 1000,
		r.max_ns / 1000);
	return 0;
}

/* Serve (ARP, ICMP echo, UDP echo on port 7) until the stop datagram. */
static int selftest_echo(void)
{
	if (!vn.up) {
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
	net_get_stats(&s);
	print_counters();
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
	vnet_bringup();
	if (vn.up && cmdline_get("ping_gw")) {
		net_ping(net_cfg()->gw, 3, 1000 * MS_NS, NULL);
		kprintf("vnet0: try 'vnet info', 'vnet stats', 'net stats', 'ping 10.0.2.2 5', 'help'; "
			"quit QEMU with Ctrl-A X\n");
	}
}
